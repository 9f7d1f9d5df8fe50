"""Flows and settings changed while people answer, as the review of that change found
them: what each person is asked again, what is stored, and in which language."""

from __future__ import annotations

from pathlib import Path

from flows.consent import sha256_hex
from tests.bot.test_changed_under_way import (
    CHANGED,
    TOPIC,
    copy_of_the_data,
    edited,
    rated,
    started,
    survey,
    topic_survey,
)
from tests.bot.test_optional_answers import CALLBACK_FLOW, answer_the_callback_survey
from tests.bot.test_retractions import STAFF, STAFF_CHAT, settled
from tests.fakes.botapi import FakeBotApi
from tests.harness import Clock, Customer, Harness, make_settings, texts

# --- an optional consent given to an older wording ---
FLOW = """
id = "survey"
title = { de = "Umfrage", en = "Survey" }
intro = { de = "Kurze Umfrage.", en = "Short survey." }

[[purposes]]
id = "survey"
required = true
label = { de = "Speicherung", en = "Storing" }
description = { de = "Feedback speichern und auswerten", en = "Storing and evaluating feedback" }

[[purposes]]
id = "callback"
required = false
stores_contact = true
label = { de = "Kontakt", en = "Contact" }
description = { de = "Sie in diesem Chat kontaktieren", en = "Contacting you in this chat" }

[[steps]]
id = "rating"
type = "rating"
min = 1
max = 5
prompt = { de = "Wie zufrieden?", en = "How satisfied?" }

[[steps]]
id = "callback"
type = "consent"
purpose = "callback"
prompt = { de = "Dürfen wir Sie kontaktieren?", en = "May we contact you?" }

[[steps]]
id = "comment"
type = "text"
prompt = { de = "Ihr Kommentar?", en = "Your comment?" }

[[steps]]
id = "thanks"
type = "thanks"
prompt = { de = "Danke!", en = "Thanks!" }
"""

STAFF_SEE = "Unser Team sieht dieses Feedback dann"


async def test_contact_consent_given_under_the_old_wording_is_asked_for_again(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """Erika said yes to be contacted under a wording that said nothing of staff seeing
    her feedback; alerts are turned on. Asked again, she agrees to the new request: the
    contact question comes again as it reads now (her old yes was kept, and the feedback
    posted to the staff chat to be answered)."""
    data, flows = tmp_path / "data", tmp_path / "flows"
    flows.mkdir()
    (flows / "survey.toml").write_text(FLOW, encoding="utf-8")
    before = make_settings(data, staff_ids=str(STAFF), flows_dir=flows, shipped_flows="feedback")
    harness = Harness(api, before, clock)
    await harness.start()
    erika = harness.customer()
    await erika.send("/start survey")
    await erika.press("Ja, ich willige ein")
    [asked] = [m for m in await erika.press("5") if m["buttons"]]
    assert STAFF_SEE not in asked["text"], "the wording she agrees to says nothing of staff"
    await erika.press("Ja, einverstanden")
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
        again = await erika.press("Ja, ich willige ein")
        [asked_again] = [m for m in again if m["buttons"]]
        assert STAFF_SEE in asked_again["text"], "the contact question as it reads now"
        await erika.send("Der Techniker war sehr nett")
        assert not [m for m in api.messages(STAFF_CHAT) if "Techniker" in (m["text"] or "")]
        await erika.press("Ja, einverstanden")
        assert "Danke!" in texts(await erika.send("Der Techniker war sehr nett"))
        await settled(harness)
        copy = copy_of_the_data(await erika.send("/meinedaten"))
        [contact] = [c for c in copy["consents"] if c["purpose"] == "callback"]
        assert contact["text_sha256"] == sha256_hex(asked_again["text"]), "what she read"
        assert [m for m in api.messages(STAFF_CHAT) if "Techniker" in (m["text"] or "")]
    finally:
        await harness.stop()


# --- a question asked again by other paths; starting again afresh ---
CHANGED_QUESTION = "Diese Frage wurde geändert, seit sie gestellt wurde"
TEN = TOPIC.replace("min = 1\nmax = 5", "min = 0\nmax = 10")


async def test_a_question_asked_again_after_help_is_taken_on_its_new_keyboard(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """The scale became 0-10 while Erika is at the rating. /hilfe shows "here is its
    question again" with the new 0-10 keyboard; her press on it is refused with "This
    question has been changed since it was asked" and the question asked a third time."""
    data, flows = tmp_path / "data", tmp_path / "flows"
    await topic_survey(api, clock, data, flows, answers=0)
    harness = await edited(api, clock, data, flows, TEN)
    try:
        erika = harness.customer()
        shown = await erika.send("/hilfe")
        [asked] = [m for m in shown if m["buttons"]]
        assert "10" in str(asked["buttons"]), "the question as it is now"
        said = texts(await erika.press("9"))
        assert CHANGED_QUESTION not in said, said
        assert "Telefonnummer" in said
    finally:
        await harness.stop()


async def test_a_question_asked_again_after_agreeing_to_a_changed_request_is_taken(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """Both the request and the scale changed: after "Ja, ich willige ein" the 0-10
    question is asked, and the press on it is refused as changed since it was asked."""
    data, flows = tmp_path / "data", tmp_path / "flows"
    await topic_survey(api, clock, data, flows, answers=0)
    ten = TEN.replace(
        'description = { de = "Feedback speichern und auswerten"',
        'description = { de = "Feedback speichern und gründlich auswerten"',
    )
    assert ten != TEN
    harness = await edited(api, clock, data, flows, ten)
    try:
        erika = harness.customer()
        assert CHANGED in texts(await erika.press("5"))
        again = await erika.press("Ja, ich willige ein")
        [asked] = [m for m in again if m["buttons"]]
        assert "10" in str(asked["buttons"])
        said = texts(await erika.press("9"))
        assert CHANGED_QUESTION not in said, said
        assert "Telefonnummer" in said
    finally:
        await harness.stop()


# TOPIC with the phone question replaced by one asked only after a low rating.
BRANCHED = TOPIC.replace(
    """id = "phone"
type = "text"
prompt = { de = "Ihre Telefonnummer für Rückfragen?", en = "Your phone number?" }""",
    """id = "why"
type = "text"
skip_if = "rating >= 4"
prompt = { de = "Was lief schief?", en = "What went wrong?" }""",
)
COMPLAINT = "Der Fahrer Max Mustermann war unhoeflich"


async def rated_low_in_branched(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> tuple[Harness, Customer, Path, Path]:
    """Erika, who agreed and rated 2 in BRANCHED (data and flows folders in `tmp_path`):
    at "what went wrong"."""
    data, flows = tmp_path / "data", tmp_path / "flows"
    flows.mkdir()
    (flows / "survey.toml").write_text(BRANCHED, encoding="utf-8")
    harness = await started(api, clock, data, flows_dir=flows)
    erika = harness.customer()
    await erika.send("/start survey")
    await erika.press("Ja, ich willige ein")
    await erika.press("2")
    return harness, erika, data, flows


async def test_starting_again_from_the_first_question_keeps_no_answer_of_the_first_go(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """Erika rated 2 and wrote what went wrong; the question she is at is renamed; she is
    told the survey "starts again from its first question", rates 5 this time (so "what
    went wrong" is not asked) — and her complaint of the first go is stored all the same."""
    assert 'id = "why"' in BRANCHED
    harness, erika, data, flows = await rated_low_in_branched(api, clock, tmp_path)
    await erika.send(COMPLAINT)
    await harness.stop()
    harness = await edited(
        api, clock, data, flows, BRANCHED.replace('id = "topic"', 'id = "subject"')
    )
    try:
        erika = harness.customer()
        said = texts(await erika.press("Lieferung"))
        assert "beginnt deshalb wieder mit ihrer ersten Frage" in said or "ersten Frage" in said
        await erika.press("5")
        assert "Danke!" in texts(await erika.press("Lieferung"))
        [feedback] = copy_of_the_data(await erika.send("/meinedaten"))["feedback"]
        answers = {a["step"]: a["answer"] for a in feedback["answers"]}
        assert COMPLAINT not in answers.values(), answers
    finally:
        await harness.stop()


async def test_a_survey_starting_again_is_not_said_to_continue_where_it_left_off(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """Found by a flow author's review: /start after the question under way was renamed
    answered "Let's continue where you left off." and, in the same message, that the
    survey starts again from its first question."""
    harness, _, data, flows = await rated_low_in_branched(api, clock, tmp_path)
    await harness.stop()
    harness = await edited(
        api, clock, data, flows, BRANCHED.replace('id = "why"', 'id = "what_went_wrong"')
    )
    try:
        said = texts(await harness.customer().send("/start survey"))
        assert "beginnt sie wieder mit der ersten Frage" in said, said
        assert "Machen wir dort weiter" not in said, said
    finally:
        await harness.stop()


# --- a rating given before its scale changed ---
async def test_a_rating_given_before_its_scale_changed_is_not_stored_on_the_new_scale(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    data, flows = tmp_path / "data", tmp_path / "flows"
    await topic_survey(api, clock, data, flows, answers=2)  # rated 4 of 5, phone given
    ten = TOPIC.replace("min = 1\nmax = 5", "min = 0\nmax = 10")
    harness = await edited(api, clock, data, flows, ten)
    try:
        erika = harness.customer()
        said = texts(await erika.press("Lieferung"))
        if "Danke!" not in said:  # asked the rating again: fine, answer it
            return
        [feedback] = copy_of_the_data(await erika.send("/meinedaten"))["feedback"]
        [rating] = [a for a in feedback["answers"] if a["step"] == "rating"]
        assert rating["answer_label"] != "4 / 10", "4 of 5 stored as 4 of 10"
        assert harness.store is not None
        pseudonym = harness.store.pseudonym(f"tg-user:{erika.user_id}")
        [record] = await harness.store.feedback_of(pseudonym, clock())
        assert record.scales.get("rating") != [0, 10], record.scales
    finally:
        await harness.stop()


# --- declining the changed request leaves nothing in the files ---
async def _wal_after(api: FakeBotApi, clock: Clock, tmp_path: Path, how: str) -> int:
    data, flows = tmp_path / "data", tmp_path / "flows"
    await rated(api, clock, data, flows)
    harness = await started(api, clock, data, flows_dir=survey(flows, retention="365d"))
    try:
        erika = harness.customer()
        await erika.send("/start")
        if how == "decline":
            said = texts(await erika.press("Nein, danke"))
            assert "Ihre unvollständigen Antworten wurden verworfen" in said
        else:
            assert "verworfen" in texts(await erika.send("/abbrechen"))
        return (data / "feedback.db-wal").stat().st_size
    finally:
        await harness.stop()


async def test_cancel_leaves_no_page_of_the_answers_in_the_wal(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """(The control: what /abbrechen does.)"""
    assert await _wal_after(api, clock, tmp_path, "cancel") == 0


async def test_declining_the_changed_request_leaves_no_page_of_the_answers_in_the_wal(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    assert await _wal_after(api, clock, tmp_path, "decline") == 0


# --- the language of the survey ---
async def test_agreeing_again_answers_in_the_language_of_the_survey(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    data, flows = tmp_path / "data", tmp_path / "flows"
    await rated(api, clock, data, flows)  # in German
    harness = await started(api, clock, data, flows_dir=survey(flows, retention="365d"))
    try:
        desktop = harness.customer(language_code="en")  # the same person, another device
        shown = texts(await desktop.send("Alles gut"))
        assert "Die Einwilligungsanfrage" in shown, "asked again in the survey's language"
        said = texts(await desktop.press("Ja, ich willige ein"))
        assert "Ihr Kommentar?" in said
        assert "Thank you" not in said and "Let's continue" not in said, said
    finally:
        await harness.stop()


# --- withdrawing erases what each feedback gave for the purpose ---
V2 = CALLBACK_FLOW.replace(
    """[[steps]]
id = "issue"
type = "text"
purpose = "followup"
""",
    """[[steps]]
id = "when"
type = "text"
purpose = "followup"
prompt = { de = "Wann erreichen wir Sie?", en = "When can we reach you?" }

[[steps]]
id = "issue"
type = "text"
""",
)
SECOND = "Zweites Anliegen: Rechnung doppelt"


async def test_withdrawing_erases_only_what_each_feedback_gave_for_the_purpose(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    assert V2 != CALLBACK_FLOW
    data, flows = tmp_path / "data", tmp_path / "flows"
    flows.mkdir()
    (flows / "callback.toml").write_text(CALLBACK_FLOW, encoding="utf-8")
    harness = Harness(api, make_settings(data, flows_dir=flows), clock)
    await harness.start()
    await answer_the_callback_survey(harness)  # "issue" answered for "followup"
    await harness.stop()

    (flows / "callback.toml").write_text(V2, encoding="utf-8")
    harness = Harness(api, make_settings(data, flows_dir=flows), clock)
    await harness.start()
    try:
        erika = harness.customer()
        await erika.send("/start callback")
        await erika.press("3")
        await erika.press("Ja, einverstanden")
        await erika.send("morgens")
        assert "Danke!" in texts(await erika.send(SECOND))
        assert harness.store is not None
        pseudonym = harness.store.pseudonym(f"tg-user:{erika.user_id}")
        [_, newer] = await harness.store.feedback_of(pseudonym, clock())
        assert newer.answers.get("issue") == SECOND and newer.collected == {"followup": ["when"]}

        await erika.send("/widerruf")
        await erika.press("Rückfrage")
        [older, newer] = await harness.store.feedback_of(pseudonym, clock())
        assert "issue" not in older.answers, "given for the purpose then, it goes too"
        assert "when" not in newer.answers, "its answer for the purpose withdrawn goes"
        assert newer.answers.get("issue") == SECOND, (
            "an answer given under the survey's required consent, still in force, was erased"
        )
    finally:
        await harness.stop()
