"""Through the chat: a feedback that expires, or loses answers at /widerruf, no longer
opens in a data backup made before, while the person's later feedback and consent do
(found by a forensic review: one key per person kept them readable there)."""

from __future__ import annotations

import base64
from datetime import timedelta
from pathlib import Path

from bot.app import purge_expired
from tests.bot.test_customer_messages import _at_comment
from tests.bot.test_optional_answers import ISSUE, answer_the_callback_survey, flows_dir, started
from tests.bot.test_retention import give
from tests.fakes.botapi import FakeBotApi
from tests.harness import MASTER_KEY, Clock, Harness, texts
from tests.storage.test_record_keys import holds, opened

KEY = base64.urlsafe_b64decode(MASTER_KEY)


async def nightly(harness: Harness, tmp_path: Path) -> Path:
    """A data backup made now, as `feedbackbot backup` makes it."""
    assert harness.store is not None
    backup = tmp_path / "nightly.db"
    await harness.store.backup(backup)
    return backup


async def test_an_expired_feedback_no_longer_opens_in_an_earlier_backup(
    harness: Harness, tmp_path: Path
) -> None:
    erika = harness.customer(1)
    await give(harness, 1, "2", "Kanarie-erstes-Feedback")
    assert harness.store is not None and harness.app is not None
    backup = await nightly(harness, tmp_path)
    harness.clock.advance(timedelta(days=100))
    await erika.send("/start")
    await erika.press("4")
    await erika.send("Kanarie-zweites-Feedback")
    await erika.press("Nein")
    keys = harness.settings.data_dir / "keys.db"
    assert holds(opened(backup, keys, KEY), "Kanarie-erstes-Feedback"), "the reader works"

    harness.clock.advance(timedelta(days=80, hours=1))  # the first one expires
    assert harness.app.bot_data.service is not None
    await purge_expired(harness.app.bot_data.service)

    shown = texts(await erika.send("/meinedaten"))
    assert "Kanarie-zweites-Feedback" in shown and "Kanarie-erstes-Feedback" not in shown
    in_backup = opened(backup, keys, KEY)
    assert not holds(in_backup, "Kanarie-erstes-Feedback")
    assert holds(in_backup, "notice_version"), "the consent record, under Erika's own key"


async def test_withdrawn_answers_no_longer_open_in_an_earlier_backup(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    harness = await started(api, clock, tmp_path / "data", flows_dir(tmp_path))
    try:
        await answer_the_callback_survey(harness)
        assert harness.store is not None
        backup = await nightly(harness, tmp_path)
        keys = harness.settings.data_dir / "keys.db"
        assert holds(opened(backup, keys, KEY), ISSUE), "the reader works"
        erika = harness.customer()
        await erika.send("/widerruf")
        answer = texts(await erika.press("Rückfrage"))
        assert "die Antworten, die Sie dafür gegeben haben, wurden gelöscht" in answer

        in_backup = opened(backup, keys, KEY)
        assert not holds(in_backup, ISSUE), "the copy from before no longer opens"
        assert holds(in_backup, "notice_version"), "the consent records do"
        assert "2 / 5" in texts(await erika.send("/meinedaten")), "the rating stays"
    finally:
        await harness.stop()


async def test_answers_discarded_for_another_survey_no_longer_open_in_an_earlier_backup(
    harness: Harness, tmp_path: Path
) -> None:
    erika = harness.customer(1)
    await erika.send("/start")
    await erika.press("Ja, ich willige ein")
    await erika.press("3")
    await erika.send("Kanarie-verworfene-Antwort")
    assert harness.store is not None
    backup = await nightly(harness, tmp_path)
    keys = harness.settings.data_dir / "keys.db"
    assert holds(opened(backup, keys, KEY), "Kanarie-verworfene-Antwort"), "the reader works"

    await erika.send("/start product")
    said = texts(await erika.press("Ja, ich willige ein"))

    assert "Ihre unvollständigen Antworten zur anderen Umfrage wurden verworfen." in said
    assert not holds(opened(backup, keys, KEY), "Kanarie-verworfene-Antwort")


async def test_a_message_taken_out_with_undo_no_longer_opens_in_an_earlier_backup(
    harness: Harness, tmp_path: Path
) -> None:
    erika = await _at_comment(harness)
    await erika.send("Ehrlich gesagt,")
    await erika.send("der Fahrer Kanarie-bereut hat das Paket vor die Tür geworfen.")
    assert harness.store is not None
    backup = await nightly(harness, tmp_path)
    keys = harness.settings.data_dir / "keys.db"
    assert holds(
        opened(backup, keys, KEY), "der Fahrer Kanarie-bereut hat das Paket vor die Tür geworfen."
    ), "the reader works"

    await erika.press("Rückgängig")
    await erika.press("Nein")

    assert not holds(
        opened(backup, keys, KEY), "der Fahrer Kanarie-bereut hat das Paket vor die Tür geworfen."
    )
    assert holds(opened(harness.settings.data_dir / "feedback.db", keys, KEY), "Ehrlich gesagt,")
