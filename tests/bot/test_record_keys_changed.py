"""Answers discarded or taken out while a survey goes on after the flow was edited
(found by review: they stayed under the key their feedback took over, readable in a
data backup made before for as long as that feedback was kept)."""

from __future__ import annotations

import base64
from pathlib import Path

from tests.bot.test_changed_under_way import CHANGED, edited
from tests.bot.test_changed_under_way_more import (
    BRANCHED,
    COMPLAINT,
    FLOW,
    rated_low_in_branched,
)
from tests.bot.test_record_keys_chat import nightly
from tests.bot.test_retractions import STAFF, STAFF_CHAT
from tests.fakes.botapi import FakeBotApi
from tests.harness import MASTER_KEY, Clock, Harness, make_settings, texts
from tests.storage.test_record_keys import holds, opened

KEY = base64.urlsafe_b64decode(MASTER_KEY)
PHONE = "CANARY-0171-5551234"
WITH_PHONE = FLOW.replace(
    '[[steps]]\nid = "comment"',
    '[[steps]]\nid = "phone"\ntype = "text"\npurpose = "callback"\n'
    'prompt = { de = "Telefon?", en = "Phone?" }\n\n[[steps]]\nid = "comment"',
)


async def test_answers_discarded_when_the_survey_starts_again_no_longer_open_in_a_backup(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    harness, erika, data, flows = await rated_low_in_branched(api, clock, tmp_path)
    await erika.send(COMPLAINT)
    assert harness.store is not None
    backup = await nightly(harness, tmp_path)
    await harness.stop()
    harness = await edited(
        api, clock, data, flows, BRANCHED.replace('id = "topic"', 'id = "subject"')
    )
    try:
        erika = harness.customer()
        said = texts(await erika.press("Lieferung"))
        assert "ersten Frage" in said
        await erika.press("5")
        assert "Danke!" in texts(await erika.press("Lieferung"))
    finally:
        await harness.stop()
    keys = data / "keys.db"
    live = opened(data / "feedback.db", keys, KEY)
    assert not holds(live, COMPLAINT), "not in the stored feedback"
    # The promise: answers discarded unfinished take their key with them.
    assert not holds(opened(backup, keys, KEY), COMPLAINT), (
        "the discarded complaint still opens in the backup made before"
    )


async def test_answers_for_a_consent_asked_again_no_longer_open_in_a_backup(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    assert 'id = "phone"' in WITH_PHONE
    data, flows = tmp_path / "data", tmp_path / "flows"
    flows.mkdir()
    (flows / "survey.toml").write_text(WITH_PHONE, encoding="utf-8")
    before = make_settings(data, staff_ids=str(STAFF), flows_dir=flows, shipped_flows="feedback")
    harness = Harness(api, before, clock)
    await harness.start()
    erika = harness.customer()
    await erika.send("/start survey")
    await erika.press("Ja, ich willige ein")
    await erika.press("5")
    await erika.press("Ja, einverstanden")
    await erika.send(PHONE)
    assert harness.store is not None
    backup = await nightly(harness, tmp_path)
    await harness.stop()
    after = make_settings(
        data,
        staff_ids=str(STAFF),
        staff_chat_id=STAFF_CHAT,
        alert_threshold=2,
        flows_dir=flows,
        shipped_flows="feedback",
    )
    harness = Harness(api, after, clock)
    await harness.start()
    try:
        erika = harness.customer()
        assert CHANGED in texts(await erika.send("Der Techniker war sehr nett"))
        await erika.press("Ja, ich willige ein")
        await erika.press("Nein")  # the contact question asked again: no this time
        assert "Danke!" in texts(await erika.send("Der Techniker war sehr nett"))
    finally:
        await harness.stop()
    keys = data / "keys.db"
    assert not holds(opened(data / "feedback.db", keys, KEY), PHONE), "not stored"
    assert not holds(opened(backup, keys, KEY), PHONE), (
        "the dropped phone number opens in the backup"
    )
