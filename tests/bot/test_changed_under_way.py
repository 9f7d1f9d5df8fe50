"""The operator changes a survey's consent request (a longer retention, a purpose added,
alerts turned on) and restarts while someone is in the middle of it: they are asked
again before their answers go on, and nothing is kept under terms they never saw
(found by review: the answers went on under the old consent)."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from flows.consent import sha256_hex
from storage import SQLiteStore
from tests.bot.test_optional_answers import copy_of_the_data
from tests.bot.test_retractions import STAFF, STAFF_CHAT, settled
from tests.fakes.botapi import FakeBotApi
from tests.harness import MASTER_KEY, Clock, Harness, make_settings, texts

SURVEY = """
id = "survey"
title = { de = "Umfrage", en = "Survey" }
intro = { de = "Kurze Umfrage.", en = "Short survey." }

[[purposes]]
id = "survey"
required = true
label = { de = "Speicherung", en = "Storing" }
description = { de = "Feedback speichern und auswerten", en = "Storing and evaluating feedback" }
retention = "30d"
EXTRA_PURPOSE

[[steps]]
id = "rating"
type = "rating"
min = 1
max = 5
prompt = { de = "Wie zufrieden?", en = "How satisfied?" }

[[steps]]
id = "comment"
type = "text"
prompt = { de = "Ihr Kommentar?", en = "Your comment?" }

[[steps]]
id = "thanks"
type = "thanks"
prompt = { de = "Danke!", en = "Thanks!" }
"""

NEW_REQUIRED = """
[[purposes]]
id = "survey_analysis"
required = true
label = { de = "Auswertung durch Dritte", en = "Analysis by a third party" }
description = { de = "Weitergabe an ein Analyseinstitut", en = "Passing to an analysis institute" }
"""

CHANGED = "Die Einwilligungsanfrage zu dieser Umfrage hat sich geändert"


def survey(folder: Path, extra: str = "", retention: str = "30d") -> Path:
    folder.mkdir(exist_ok=True)
    text = SURVEY.replace("EXTRA_PURPOSE", extra).replace('"30d"', f'"{retention}"')
    (folder / "survey.toml").write_text(text, encoding="utf-8")
    return folder


async def started(api: FakeBotApi, clock: Clock, data: Path, **settings: Any) -> Harness:
    harness = Harness(api, make_settings(data, shipped_flows="feedback", **settings), clock)
    await harness.start()
    return harness


async def rated(api: FakeBotApi, clock: Clock, data: Path, flows: Path) -> None:
    """Erika agrees to the survey as it was (kept 30 days) and gives her rating."""
    harness = await started(api, clock, data, flows_dir=survey(flows))
    erika = harness.customer()
    assert "30 Tage" in texts(await erika.send("/start survey"))
    await erika.press("Ja, ich willige ein")
    await erika.press("4")
    await harness.stop()


async def test_a_longer_retention_set_mid_survey_is_asked_for_before_the_answers_go_on(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    data, flows = tmp_path / "data", tmp_path / "flows"
    await rated(api, clock, data, flows)
    harness = await started(api, clock, data, flows_dir=survey(flows, retention="365d"))
    try:
        erika = harness.customer()
        said = texts(await erika.send("Alles gut, danke"))
        assert CHANGED in said and "365 Tage" in said and "Ihre bisherigen Antworten" in said
        # The message itself was not taken, and said so (found by review: nothing said it).
        assert "Die eben gesendete Nachricht wurde nicht gespeichert" in said, said
        shown = await erika.send("/meinedaten")
        assert copy_of_the_data(shown)["feedback"] == []
        # Below the copy, the request to agree to, not the question whose answer it would
        # refuse (found by a DPO check).
        below = texts(shown[-2:])
        assert CHANGED in below and "365 Tage" in below and "Ihr Kommentar?" not in below, below
        again = texts(await erika.press("Ja, ich willige ein"))
        assert "Ihre Einwilligung wurde festgehalten" in again and "Ihr Kommentar?" in again
        assert "Danke!" in texts(await erika.send("Alles gut, danke"))
        copy = copy_of_the_data(await erika.send("/meinedaten"))
        [feedback] = copy["feedback"]
        answers = {a["step"]: a["answer"] for a in feedback["answers"]}
        assert answers == {"rating": 4, "comment": "Alles gut, danke"}, "the rating was kept"
        kept = datetime.fromisoformat(feedback["deleted_automatically_on"])
        assert kept - datetime.fromisoformat(feedback["given_at"]) >= timedelta(days=364)
        assert len({c["notice_version"] for c in copy["consents"]}) == 2, "both proofs kept"
    finally:
        await harness.stop()


@pytest.mark.parametrize("language", ["de", "en"])
async def test_more_text_under_the_changed_request_is_told_in_a_line_not_shown_it_all_again(
    api: FakeBotApi, clock: Clock, tmp_path: Path, language: str
) -> None:
    """Found by a flow author's walk-through: every message typed under the changed
    request brought its reason and the whole request again. Within ten minutes a line
    says where to agree; after that, the request is shown again."""
    data, flows = tmp_path / "data", tmp_path / "flows"
    await rated(api, clock, data, flows)
    harness = await started(api, clock, data, flows_dir=survey(flows, retention="365d"))
    try:
        erika = harness.customer()
        # (the language chosen first shows the request, in English)
        first = texts(
            await erika.send("/sprache englisch" if language == "en" else "Alles gut, danke")
        )
        assert "365" in first, first
        line = {
            "de": "Diese Nachricht habe ich nicht gespeichert. Ihre Antworten gehen weiter, "
            "sobald Sie einwilligen: Bitte tippen Sie unter der Einwilligungsanfrage oben auf "
            "„Ja, ich willige ein“; /start zeigt sie erneut.",
            "en": "I did not store this message. Your answers go on once you agree: please "
            "tap “Yes, I agree” under the consent request above; /start shows it again.",
        }[language]
        clock.advance(timedelta(minutes=9))
        assert texts(await erika.send("Hallo?")) == line
        assert texts(await erika.sticker()) == line
        clock.advance(timedelta(minutes=2))
        again = texts(await erika.send("Hallo?"))
        assert "365" in again and again != line, "the request once more, ten minutes on"
        yes = {"de": "Ja, ich willige ein", "en": "Yes, I agree"}[language]
        asked = {"de": "Ihr Kommentar?", "en": "Your comment?"}[language]
        assert asked in texts(await erika.press(yes)), "the survey goes on"
    finally:
        await harness.stop()


async def drafted_before_versions(data: Path, clock: Clock, user_id: int = 4242424242) -> None:
    """The person's unfinished answers as a version before 1 Dec 2026 stored them: without
    the version of the consent request they were begun under."""
    store = SQLiteStore(data, base64.urlsafe_b64decode(MASTER_KEY))
    await store.open()
    try:
        pseudonym = store.pseudonym(f"tg-user:{user_id}")
        draft = await store.load_draft(pseudonym, clock())
        assert draft is not None and draft.payload.pop("notice_version")
        await store.save_draft(pseudonym, draft)
    finally:
        await store.close()


@pytest.mark.parametrize("retention", ["30d", "365d"])
async def test_answers_under_way_from_before_an_upgrade_are_asked_again_if_the_request_changed(
    api: FakeBotApi, clock: Clock, tmp_path: Path, retention: str
) -> None:
    """Unfinished answers kept by a version that did not note the request's version (an
    upgrade review: a survey begun under the 30 Nov consent notice, which said nothing of
    alerts, went on after the upgrade unasked, and its feedback was kept and alerted under
    the new terms); with the request unchanged they go on."""
    data, flows = tmp_path / "data", tmp_path / "flows"
    await rated(api, clock, data, flows)
    await drafted_before_versions(data, clock)
    harness = await started(api, clock, data, flows_dir=survey(flows, retention=retention))
    try:
        erika = harness.customer()
        said = texts(await erika.send("Alles gut, danke"))
        if retention == "30d":
            assert CHANGED not in said and "Danke!" in said, said
            return
        assert CHANGED in said and "365 Tage" in said, said
        assert copy_of_the_data(await erika.send("/meinedaten"))["feedback"] == []
        again = texts(await erika.press("Ja, ich willige ein"))
        assert "Ihr Kommentar?" in again, "the rating was kept"
        assert "Danke!" in texts(await erika.send("Alles gut, danke"))
    finally:
        await harness.stop()


async def test_a_required_purpose_added_mid_survey_is_asked_for_and_the_answers_kept(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """(It was refused by the store at the last answer, the answers deleted, and the
    person told the survey had expired without activity.)"""
    data, flows = tmp_path / "data", tmp_path / "flows"
    await rated(api, clock, data, flows)
    clock.advance(timedelta(minutes=2))
    harness = await started(api, clock, data, flows_dir=survey(flows, NEW_REQUIRED))
    try:
        erika = harness.customer()
        said = texts(await erika.send("Die Lieferung kam zu spät"))
        assert CHANGED in said and "Analyseinstitut" in said and "ohne Aktivität" not in said
        await erika.press("Ja, ich willige ein")
        assert "Danke!" in texts(await erika.send("Die Lieferung kam zu spät"))
        [feedback] = copy_of_the_data(await erika.send("/meinedaten"))["feedback"]
        answers = {a["step"]: a["answer"] for a in feedback["answers"]}
        assert answers == {"rating": 4, "comment": "Die Lieferung kam zu spät"}
    finally:
        await harness.stop()


async def test_declining_the_changed_request_discards_the_answers_under_way(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    data, flows = tmp_path / "data", tmp_path / "flows"
    await rated(api, clock, data, flows)
    harness = await started(api, clock, data, flows_dir=survey(flows, retention="365d"))
    try:
        erika = harness.customer()
        await erika.send("/start")
        said = texts(await erika.press("Nein, danke"))
        assert "Ihre unvollständigen Antworten wurden verworfen" in said
        assert harness.store is not None
        pseudonym = harness.store.pseudonym(f"tg-user:{erika.user_id}")
        assert await harness.store.load_draft(pseudonym, clock()) is None
        assert await harness.store.feedback_of(pseudonym, clock()) == []
    finally:
        await harness.stop()


async def test_alerts_turned_on_at_the_contact_question_ask_again_before_anything_is_posted(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """Erika agreed to a request that said nothing of feedback shown to staff, and has the
    contact question in its old wording in front of her; the operator turns alerts on.
    Her Yes to the question she read posted her feedback to the staff chat, the proof
    hashing the new wording she never saw."""
    data = tmp_path / "data"
    harness = Harness(api, make_settings(data, staff_ids=str(STAFF)), clock)
    await harness.start()
    erika = harness.customer()
    await erika.send("/start")
    await erika.press("Ja, ich willige ein")
    await erika.press("2")
    [question] = await erika.send("Der Techniker kam zu spät")
    await harness.stop()
    settings = make_settings(
        data, staff_ids=str(STAFF), staff_chat_id=STAFF_CHAT, alert_threshold=2
    )
    harness = Harness(api, settings, clock)
    await harness.start()
    try:
        erika = harness.customer()
        said = texts(await erika.press("Ja, einverstanden"))
        assert CHANGED in said
        again = await erika.press("Ja, ich willige ein")
        [asked] = [m for m in again if m["buttons"]]
        assert asked["text"] != question["text"], "the contact question in its new wording"
        await erika.press("Ja, einverstanden")
        await settled(harness)
        copy = copy_of_the_data(await erika.send("/meinedaten"))
        [contact] = [c for c in copy["consents"] if c["purpose"] == "contact"]
        assert contact["text_sha256"] == sha256_hex(asked["text"]), "the wording she answered"
        assert [m for m in api.messages(STAFF_CHAT) if "zu spät" in (m["text"] or "")]
    finally:
        await harness.stop()


TOPIC = """
id = "survey"
title = { de = "Umfrage", en = "Survey" }
intro = { de = "Kurze Umfrage.", en = "Short survey." }

[[purposes]]
id = "survey"
required = true
label = { de = "Speicherung", en = "Storing" }
description = { de = "Feedback speichern und auswerten", en = "Storing and evaluating feedback" }

[[steps]]
id = "rating"
type = "rating"
min = 1
max = 5
prompt = { de = "Wie zufrieden?", en = "How satisfied?" }

[[steps]]
id = "phone"
type = "text"
prompt = { de = "Ihre Telefonnummer für Rückfragen?", en = "Your phone number?" }

[[steps]]
id = "topic"
type = "choice"
prompt = { de = "Worum geht es?", en = "What is it about?" }
options = [
  { id = "billing", label = { de = "Rechnung", en = "Billing" } },
  { id = "delivery", label = { de = "Lieferung", en = "Delivery" } },
]

[[steps]]
id = "thanks"
type = "thanks"
prompt = { de = "Danke!", en = "Thanks!" }
"""
PHONE = "0171 5551234"


async def topic_survey(
    api: FakeBotApi, clock: Clock, data: Path, flows: Path, answers: int
) -> None:
    """Erika agrees and answers the first `answers` questions of TOPIC as it was."""
    flows.mkdir(exist_ok=True)
    (flows / "survey.toml").write_text(TOPIC, encoding="utf-8")
    harness = await started(api, clock, data, flows_dir=flows)
    erika = harness.customer()
    await erika.send("/start survey")
    await erika.press("Ja, ich willige ein")
    if answers > 0:
        await erika.press("4")
    if answers > 1:
        await erika.send(PHONE)
    await harness.stop()


async def edited(api: FakeBotApi, clock: Clock, data: Path, flows: Path, text: str) -> Harness:
    (flows / "survey.toml").write_text(text, encoding="utf-8")
    return await started(api, clock, data, flows_dir=flows)


async def test_a_press_on_a_rating_keyboard_whose_scale_changed_asks_it_again(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """Erika has the 1-5 buttons in front of her when the scale becomes 0-10: her 5 (the
    top of what she saw) is not taken as 5 of 10; the question comes again as it is."""
    data, flows = tmp_path / "data", tmp_path / "flows"
    await topic_survey(api, clock, data, flows, answers=0)
    ten = TOPIC.replace("min = 1\nmax = 5", "min = 0\nmax = 10")
    harness = await edited(api, clock, data, flows, ten)
    try:
        erika = harness.customer()
        said = await erika.press("5")
        assert "Diese Frage wurde geändert, seit sie gestellt wurde" in texts(said)
        [asked] = [m for m in said if m["buttons"]]
        assert "10" in str(asked["buttons"]) and "Telefonnummer" not in texts(said)
        assert "Telefonnummer" in texts(await erika.press("9"))
        await erika.send(PHONE)
        await erika.press("Lieferung")
        [feedback] = copy_of_the_data(await erika.send("/meinedaten"))["feedback"]
        assert {a["step"]: a["answer"] for a in feedback["answers"]}["rating"] == 9
    finally:
        await harness.stop()


async def test_a_press_on_an_option_replaced_since_shows_the_options_there_are(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """(It got the pop-up "This button is not valid." only, the new option never shown.)"""
    data, flows = tmp_path / "data", tmp_path / "flows"
    await topic_survey(api, clock, data, flows, answers=2)
    replaced = TOPIC.replace(
        '{ id = "delivery", label = { de = "Lieferung", en = "Delivery" } }',
        '{ id = "shipping", label = { de = "Versand", en = "Shipping" } }',
    )
    harness = await edited(api, clock, data, flows, replaced)
    try:
        erika = harness.customer()
        said = await erika.press("Lieferung")
        assert "Diese Frage wurde geändert" in texts(said)
        assert any("Versand" in str(m["buttons"]) for m in said)
        assert "Danke!" in texts(await erika.press("Versand"))
    finally:
        await harness.stop()


TOPIC_FIRST = TOPIC.replace(
    TOPIC[TOPIC.index('[[steps]]\nid = "topic"') : TOPIC.index('[[steps]]\nid = "thanks"')], ""
).replace(
    '[[steps]]\nid = "rating"',
    TOPIC[TOPIC.index('[[steps]]\nid = "topic"') : TOPIC.index('[[steps]]\nid = "thanks"')]
    + '[[steps]]\nid = "rating"',
)


async def test_an_option_answered_earlier_and_replaced_since_is_asked_for_again(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """Found by a flow author's walk-through: an option chosen, then renamed in the flow
    before the survey ended, was stored as the old id ("salat") and shown so."""
    data, flows = tmp_path / "data", tmp_path / "flows"
    flows.mkdir()
    (flows / "survey.toml").write_text(TOPIC_FIRST, encoding="utf-8")
    harness = await started(api, clock, data, flows_dir=flows)
    erika = harness.customer()
    await erika.send("/start survey")
    await erika.press("Ja, ich willige ein")
    await erika.press("Lieferung")
    assert "Telefonnummer" in texts(await erika.press("4"))
    await harness.stop()
    replaced = TOPIC_FIRST.replace(
        '{ id = "delivery", label = { de = "Lieferung", en = "Delivery" } }',
        '{ id = "shipping", label = { de = "Versand", en = "Shipping" } }',
    )
    harness = await edited(api, clock, data, flows, replaced)
    try:
        erika = harness.customer()
        said = await erika.send("nicht nötig")
        assert "Eine Frage, die Sie schon beantwortet haben, wurde inzwischen geändert" in texts(
            said
        )
        assert any("Versand" in str(m["buttons"]) for m in said), texts(said)
        assert "Wie zufrieden?" in texts(await erika.press("Versand")), "the way on, again"
        await erika.press("5")
        assert "Danke!" in texts(await erika.send("nicht nötig"))
        [feedback] = copy_of_the_data(await erika.send("/meinedaten"))["feedback"]
        assert {a["step"]: a["answer"] for a in feedback["answers"]} == {
            "topic": "shipping",
            "rating": 5,
            "phone": "nicht nötig",
        }
    finally:
        await harness.stop()


BRANCHED = (
    TOPIC[: TOPIC.index("[[steps]]")]
    + """
[[steps]]
id = "rating"
type = "rating"
prompt = { de = "Wie zufrieden?", en = "How satisfied?" }
next = [{ goto = "topic" }]

[[steps]]
id = "detail"
type = "text"
prompt = { de = "Was war mit der Lieferung?", en = "What about the delivery?" }
next = [{ goto = "more" }]

[[steps]]
id = "topic"
type = "choice"
prompt = { de = "Worum geht es?", en = "What is it about?" }
options = [
  { id = "billing", label = { de = "Rechnung", en = "Billing" } },
  { id = "delivery", label = { de = "Lieferung", en = "Delivery" } },
]
next = [{ if = "topic == delivery", goto = "detail" }, { goto = "more" }]

[[steps]]
id = "more"
type = "text"
prompt = { de = "Noch etwas?", en = "Anything else?" }

[[steps]]
id = "thanks"
type = "thanks"
prompt = { de = "Danke!", en = "Thanks!" }
"""
)


@pytest.mark.parametrize("edit", ["renamed", "made a rating"])
async def test_an_answer_replaced_since_on_a_branch_keeps_only_the_way_taken_again(
    api: FakeBotApi, clock: Clock, tmp_path: Path, edit: str
) -> None:
    """Found by review: back at a question whose option was renamed, the answers kept
    were those before it in the file, so the delivery complaint (a branch no longer
    taken) was stored; and a choice made a rating since kept "delivery" as a rating."""
    data, flows = tmp_path / "data", tmp_path / "flows"
    flows.mkdir()
    (flows / "survey.toml").write_text(BRANCHED, encoding="utf-8")
    harness = await started(api, clock, data, flows_dir=flows)
    erika = harness.customer()
    await erika.send("/start survey")
    await erika.press("Ja, ich willige ein")
    await erika.press("4")
    await erika.press("Lieferung")
    assert "Noch etwas?" in texts(await erika.send("kam kaputt an"))
    await harness.stop()
    if edit == "renamed":
        changed = BRANCHED.replace('id = "delivery"', 'id = "shipping"').replace(
            "topic == delivery", "topic == shipping"
        )
    else:
        choice = BRANCHED[BRANCHED.index('type = "choice"') : BRANCHED.index("next = [{ if")]
        changed = BRANCHED.replace(
            choice, 'type = "rating"\nprompt = { de = "Wie war es?", en = "How was it?" }\n'
        ).replace("topic == delivery", "topic <= 2")
    harness = await edited(api, clock, data, flows, changed)
    try:
        erika = harness.customer()
        said = texts(await erika.send("nein"))
        assert "Eine Frage, die Sie schon beantwortet haben, wurde inzwischen geändert" in said
        if edit == "renamed":
            assert "Noch etwas?" in texts(await erika.press("Rechnung")), "no longer detail"
            topic: object = "billing"
        else:
            assert "Noch etwas?" in texts(await erika.press("5"))
            topic = 5
        assert "Danke!" in texts(await erika.send("nein"))
        [feedback] = copy_of_the_data(await erika.send("/meinedaten"))["feedback"]
        assert {a["step"]: a["answer"] for a in feedback["answers"]} == {
            "rating": 4,
            "topic": topic,
            "more": "nein",
        }
    finally:
        await harness.stop()


async def test_a_question_renamed_since_starts_the_survey_again_saying_so(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    data, flows = tmp_path / "data", tmp_path / "flows"
    await topic_survey(api, clock, data, flows, answers=2)
    harness = await edited(api, clock, data, flows, TOPIC.replace('id = "topic"', 'id = "subject"'))
    try:
        erika = harness.customer()
        said = texts(await erika.press("Lieferung"))
        assert "Diese Umfrage wurde geändert, seit Sie begonnen haben" in said
        assert "Wie zufrieden?" in said
        assert "Telefonnummer" in texts(await erika.press("4")), "and goes on from there"
    finally:
        await harness.stop()


async def test_an_answer_to_a_question_removed_since_is_not_kept(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """The operator removes the question asking for a phone number (which the survey
    should not collect) while Erika is past it: her number is not stored (it was)."""
    data, flows = tmp_path / "data", tmp_path / "flows"
    await topic_survey(api, clock, data, flows, answers=2)
    phone = TOPIC[TOPIC.index('[[steps]]\nid = "phone"') : TOPIC.index('[[steps]]\nid = "topic"')]
    harness = await edited(api, clock, data, flows, TOPIC.replace(phone, ""))
    try:
        erika = harness.customer()
        assert "Danke!" in texts(await erika.press("Lieferung"))
        [feedback] = copy_of_the_data(await erika.send("/meinedaten"))["feedback"]
        assert {a["step"]: a["answer"] for a in feedback["answers"]} == {
            "rating": 4,
            "topic": "delivery",
        }
    finally:
        await harness.stop()


async def test_an_answer_to_a_question_made_optional_since_is_not_kept_unasked(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """The operator makes the phone question one for an optional consent to be called
    back, asked before it, while Erika is past both: she was never asked that consent,
    so her number is not stored."""
    data, flows = tmp_path / "data", tmp_path / "flows"
    await topic_survey(api, clock, data, flows, answers=2)
    callback = (
        '[[purposes]]\nid = "callback"\nrequired = false\n'
        'label = { de = "Rückruf", en = "Callback" }\n'
        'description = { de = "Rückruf zu Ihrem Anliegen", en = "Calling you back" }\n\n'
        '[[steps]]\nid = "rating"'
    )
    ask = (
        '[[steps]]\nid = "callback_ok"\ntype = "consent"\npurpose = "callback"\n'
        'prompt = { de = "Dürfen wir Sie anrufen?", en = "May we call you?" }\n\n'
        '[[steps]]\nid = "phone"\ntype = "text"\npurpose = "callback"'
    )
    changed = TOPIC.replace('[[steps]]\nid = "rating"', callback, 1).replace(
        '[[steps]]\nid = "phone"\ntype = "text"', ask, 1
    )
    harness = await edited(api, clock, data, flows, changed)
    try:
        erika = harness.customer()
        # The request changed with the new purpose: agreed to again, the answers kept.
        assert CHANGED in texts(await erika.press("Lieferung"))
        await erika.press("Ja, ich willige ein")
        assert "Danke!" in texts(await erika.press("Lieferung"))
        copy = copy_of_the_data(await erika.send("/meinedaten"))
        [feedback] = copy["feedback"]
        assert {a["step"]: a["answer"] for a in feedback["answers"]} == {
            "rating": 4,
            "topic": "delivery",
        }
        assert PHONE not in json.dumps(copy)
    finally:
        await harness.stop()


async def test_a_new_controller_mid_survey_is_asked_for_with_a_reason_that_fits(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """Found by a DPO check: with only the controller changed, the request asked again
    said it was what is done with the answers or how long they are kept. The reason is
    given as examples, the controller among them, and the new name is in the request;
    after a language chosen meanwhile, the request is shown again, not the question."""
    data, flows = tmp_path / "data", tmp_path / "flows"
    await rated(api, clock, data, flows)
    harness = await started(
        api, clock, data, flows_dir=survey(flows), controller_name="Neue Muster AG"
    )
    try:
        erika = harness.customer()
        said = texts(await erika.send("Alles gut"))
        assert CHANGED in said and "wer für sie verantwortlich ist" in said, said
        assert "Neue Muster AG" in said
        # a yes typed: pointed to the button, not told to send it again after agreeing
        # (in a line: the request is just above)
        said = texts(await erika.send("Ja"))
        assert "unter der Einwilligungsanfrage oben auf „Ja, ich willige ein“" in said, said
        assert "nach der Einwilligung noch einmal" not in said
        # below /sprache's buttons, which stay, named (a review: two sets, no word)
        asked = texts(await erika.send("/sprache"))
        assert CHANGED in asked and "weiterhin auf „Deutsch“, „English“" in asked, asked
        switched = texts(await erika.press("English"))
        assert "Survey" in switched or "Short survey." in switched, switched
        assert "who is responsible for them" in switched and "Your comment?" not in switched
    finally:
        await harness.stop()
