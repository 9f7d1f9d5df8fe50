"""Withdrawal in flows of an operator's own, through the real bot: answers collected for
an optional purpose, a flow with two required purposes, and consents to purposes no flow
declares any more."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import timedelta
from pathlib import Path

from bot.app import purge_expired
from tests.bot.test_retention import give
from tests.fakes.botapi import FakeBotApi
from tests.harness import Clock, Harness, data_of, labels, make_settings, texts

CALLBACK_FLOW = """
id = "callback"
title = { de = "Rückruf", en = "Callback" }
intro = { de = "Kurze Umfrage.", en = "Short survey." }

[[purposes]]
id = "callback_feedback"
required = true
label = { de = "Speicherung", en = "Storing" }
description = { de = "Feedback speichern und auswerten", en = "Storing and evaluating feedback" }

[[purposes]]
id = "followup"
required = false
label = { de = "Rückfrage", en = "Follow-up" }
description = { de = "Rückfrage zu Ihrem Anliegen", en = "Following up your issue" }

[[steps]]
id = "rating"
type = "rating"
prompt = { de = "Wie zufrieden?", en = "How satisfied?" }

[[steps]]
id = "followup_ok"
type = "consent"
purpose = "followup"
prompt = { de = "Dürfen wir nachfragen?", en = "May we follow up?" }

[[steps]]
id = "issue"
type = "text"
purpose = "followup"
prompt = { de = "Worum geht es?", en = "What is it about?" }

[[steps]]
id = "thanks"
type = "thanks"
prompt = { de = "Danke!", en = "Thanks!" }
"""
ISSUE = "Techniker kam nicht, Auftrag 4711"


def flows_dir(tmp_path: Path) -> Path:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "callback.toml").write_text(CALLBACK_FLOW, encoding="utf-8")
    return flows


async def started(api: FakeBotApi, clock: Clock, data: Path, flows: Path | None) -> Harness:
    settings = make_settings(data, flows_dir=flows) if flows else make_settings(data)
    harness = Harness(api, settings, clock)
    await harness.start()
    return harness


async def answer_the_callback_survey(harness: Harness) -> None:
    erika = harness.customer()
    await erika.send("/start callback")
    await erika.press("Ja, ich willige ein")
    await erika.press("2")
    await erika.press("Ja, einverstanden")
    await erika.send(ISSUE)


def copy_of_the_data(messages: list) -> dict:  # type: ignore[type-arg]
    [document] = [m["document"] for m in messages if m["document"]]
    return json.loads(document["bytes"].decode("utf-8"))


async def test_withdrawing_an_optional_consent_erases_the_answers_given_for_it(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    harness = await started(api, clock, tmp_path / "data", flows_dir(tmp_path))
    try:
        await answer_the_callback_survey(harness)
        erika = harness.customer()
        assert ISSUE in texts(await erika.send("/meinedaten"))
        [menu] = await erika.send("/widerruf")
        assert ["Rückfrage"] in labels(menu)
        answer = texts(await erika.press("Rückfrage"))
        assert "die Antworten, die Sie dafür gegeben haben, wurden gelöscht" in answer
        copy = await erika.send("/meinedaten")
        assert ISSUE not in texts(copy)
        [feedback] = copy_of_the_data(copy)["feedback"]
        assert [a["step"] for a in feedback["answers"]] == ["rating"]
    finally:
        await harness.stop()


async def test_a_consent_to_a_flow_removed_since_can_still_be_withdrawn(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """The operator took the flow away (or renamed a purpose): the consents given to it
    are still in force and must be as easy to withdraw as they were to give."""
    data = tmp_path / "data"
    harness = await started(api, clock, data, flows_dir(tmp_path))
    try:
        await answer_the_callback_survey(harness)
    finally:
        await harness.stop()
    harness = await started(api, clock, data, None)  # the shipped flows only
    try:
        erika = harness.customer()
        [menu] = await erika.send("/widerruf")
        assert labels(menu) == [
            ["callback_feedback (wird nicht mehr erfragt)"],
            ["followup (wird nicht mehr erfragt)"],
            ["Einwilligungen behalten"],
        ]
        answer = texts(await erika.press("followup (wird nicht mehr erfragt)"))
        assert "Ihre Einwilligung „followup (wird nicht mehr erfragt)“ wurde widerrufen" in answer
        assert "nicht (mehr)" not in answer
        answer = texts(
            await erika.press_data(
                menu["message_id"], data_of(menu, "callback_feedback (wird nicht mehr erfragt)")
            )
        )
        assert "damit gegeben haben, gelöscht" in answer, "feedback was given under it: erased"
        consents = copy_of_the_data(await erika.send("/meinedaten"))["consents"]
        assert {c["purpose"]: c["status"] for c in consents} == {
            "callback_feedback": "withdrawn",
            "followup": "withdrawn",
        }
    finally:
        await harness.stop()


TWO_PURPOSES_FLOW = """
id = "study"
title = { de = "Studie", en = "Study" }
intro = { de = "Kurze Umfrage.", en = "Short survey." }

[[purposes]]
id = "study_feedback"
required = true
label = { de = "Auswertung", en = "Evaluation" }
description = { de = "Feedback speichern und auswerten", en = "Storing and evaluating feedback" }

[[purposes]]
id = "research"
required = true
label = { de = "Forschung", en = "Research" }
description = { de = "Anonyme Zählungen für eine Studie", en = "Anonymous counts for a study" }

[[steps]]
id = "rating"
type = "rating"
prompt = { de = "Wie zufrieden?", en = "How satisfied?" }

[[steps]]
id = "thanks"
type = "thanks"
prompt = { de = "Danke!", en = "Thanks!" }
"""


async def test_withdrawing_either_of_two_required_purposes_takes_the_feedback_out_of_the_counts(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """The feedback was counted under both: withdrawing the second one counts as much as
    withdrawing the first (only the first used to be remembered)."""
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "study.toml").write_text(TWO_PURPOSES_FLOW, encoding="utf-8")
    harness = await started(api, clock, tmp_path / "data", flows)
    try:
        erika, max_ = harness.customer(), harness.customer(78)
        for person, rating in ((erika, "2"), (max_, "5")):
            await person.send("/start study")
            await person.press("Ja, ich willige ein")
            assert "Danke!" in texts(await person.press(rating))
        assert harness.store is not None
        today = clock().date()
        [row] = await harness.store.statistics(today, today)
        assert row.counts == {"rating": {"2": 1, "5": 1}}
        await erika.send("/widerruf")
        assert "damit gegeben haben, gelöscht" in texts(await erika.press("Forschung"))
        [row] = await harness.store.statistics(today, today)
        assert (row.feedbacks, row.counts) == (1, {"rating": {"5": 1}})
    finally:
        await harness.stop()


def callback_flow_with_remark(tmp_path: Path) -> Path:
    """The callback survey with a free text question after the callback's consent: the
    folder of flows it is in."""
    flows = flows_dir(tmp_path)
    remark = (
        '[[steps]]\nid = "remark"\ntype = "text"\nprompt = { de = "Sonst noch?", en = "More?" }'
    )
    with_remark = CALLBACK_FLOW.replace(
        '[[steps]]\nid = "thanks"', remark + '\n\n[[steps]]\nid = "thanks"'
    )
    (flows / "callback.toml").write_text(with_remark, encoding="utf-8")
    return flows


async def test_a_consent_given_in_the_survey_under_way_can_be_withdrawn_at_once(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """The consent question says it can be withdrawn at any time with /widerruf; until
    the feedback is sent it lives with the unfinished answers, and /widerruf did not
    offer it. Withdrawn there, what is answered for it afterwards is not kept either."""
    flows = callback_flow_with_remark(tmp_path)
    harness = await started(api, clock, tmp_path / "data", flows)
    try:
        erika = harness.customer()
        await erika.send("/start callback")
        await erika.press("Ja, ich willige ein")
        await erika.press("2")
        asked = texts(await erika.press("Ja, einverstanden"))
        assert "Worum geht es?" in asked
        menu, _ = await erika.send("/widerruf")  # then the open question again
        assert labels(menu) == [["Speicherung"], ["Rückfrage"], ["Einwilligungen behalten"]]
        assert texts(await erika.press("Rückfrage")) == (
            "Ihre Einwilligung „Rückfrage“ wurde widerrufen.\n\nDie noch offene Frage dazu "
            "ist nicht mehr nötig: Was Sie dort antworten, wird nicht gespeichert."
        )
        assert "Sonst noch?" in texts(await erika.send(ISSUE))
        assert ISSUE not in texts(await erika.send("/meinedaten")), "not kept in the draft"
        assert "Danke!" in texts(await erika.send("Nein"))
        copy = await erika.send("/meinedaten")
        assert ISSUE not in texts(copy)
        data = copy_of_the_data(copy)
        [feedback] = data["feedback"]
        assert [a["step"] for a in feedback["answers"]] == ["rating", "remark"]
        assert [c["purpose"] for c in data["consents"]] == ["callback_feedback"]
    finally:
        await harness.stop()


async def test_answers_given_for_a_consent_withdrawn_mid_survey_go_at_once(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """Withdrawn after its question was answered, but before the feedback is sent: the
    answer given for it goes from the unfinished answers there and then, as the reply
    says (not only when the feedback is stored at the end)."""
    flows = callback_flow_with_remark(tmp_path)
    harness = await started(api, clock, tmp_path / "data", flows)
    try:
        await answer_the_callback_survey(harness)  # at "Sonst noch?" now
        erika = harness.customer()
        assert ISSUE in texts(await erika.send("/meinedaten")), "among the unfinished answers"
        await erika.send("/widerruf")
        answer = texts(await erika.press("Rückfrage"))
        assert "die Antworten, die Sie dafür gegeben haben, wurden gelöscht" in answer, answer
        assert ISSUE not in texts(await erika.send("/meinedaten"))
        assert "Danke!" in texts(await erika.send("Nein"))
        [feedback] = copy_of_the_data(await erika.send("/meinedaten"))["feedback"]
        assert [a["step"] for a in feedback["answers"]] == ["rating", "remark"]
    finally:
        await harness.stop()


async def test_withdrawal_goes_through_when_a_feedback_or_the_draft_cannot_be_read(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """A damaged row kept every withdrawal back (the feedback was read first, and the
    read failed): the consent must go all the same."""
    data, flows = tmp_path / "data", flows_dir(tmp_path)
    harness = await started(api, clock, data, flows)
    try:
        await answer_the_callback_survey(harness)
        erika = harness.customer()
        await erika.send("/start callback")  # a second survey under way: a draft
        await erika.press("4")
    finally:
        await harness.stop()
    with closing(sqlite3.connect(data / "feedback.db")) as db, db:
        db.execute("UPDATE feedback SET ciphertext = zeroblob(60)")
        db.execute("UPDATE drafts SET ciphertext = zeroblob(60)")
    harness = await started(api, clock, data, flows)
    try:
        erika = harness.customer()
        [menu] = await erika.send("/widerruf")
        assert labels(menu) == [["Speicherung"], ["Rückfrage"], ["Einwilligungen behalten"]]
        assert "wurde widerrufen" in texts(await erika.press("Rückfrage"))
        pressed = texts(await erika.press_data(menu["message_id"], data_of(menu, "Speicherung")))
        assert "wurde widerrufen" in pressed
        assert "kein Feedback gespeichert" not in pressed, "one is, though unreadable"
        assert "Das sind Ihr Feedback, Ihre Einwilligungen" in pressed
        assert harness.store is not None
        pseudonym = harness.store.pseudonym(f"tg-user:{erika.user_id}")
        assert [c.in_force for c in await harness.store.consents(pseudonym)] == [False, False]
    finally:
        await harness.stop()


async def test_a_purpose_of_a_removed_flow_that_was_optional_is_withdrawn_as_optional(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """Optional consents are recorded with the feedback they came with, so "feedback was
    given under it" does not make a purpose required: the feedback's first purpose
    does. Withdrawn as optional, the contact chat id it kept goes."""
    harness = await after_a_contact_flow_was_removed(api, clock, tmp_path)
    try:
        erika = harness.customer()
        assert harness.store is not None
        pseudonym = harness.store.pseudonym(f"tg-user:{erika.user_id}")
        assert await harness.store.contact_of(pseudonym) is not None
        await erika.send("/widerruf")
        answer = texts(await erika.press("followup (wird nicht mehr erfragt)"))
        # ... and the answer given for it, which the feedback recorded (review s25)
        assert (
            "die für die Kontaktaufnahme gespeicherte Chat-ID und Sprache sowie die "
            "Antworten, die Sie dafür gegeben haben, wurden gelöscht" in answer
        )
        assert "nicht mehr ausgewertet" not in answer, "the feedback's own consent stands"
        assert await harness.store.contact_of(pseudonym) is None
    finally:
        await harness.stop()


async def test_a_required_purpose_renamed_since_is_withdrawn_as_required(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """The operator renamed the flow's required purpose: a consent under the old id was
    still what the feedback needed, so withdrawing it erases the feedback and offers
    erasure of the rest (the consent record says it was required)."""
    data, flows = tmp_path / "data", flows_dir(tmp_path)
    harness = await started(api, clock, data, flows)
    try:
        await answer_the_callback_survey(harness)
    finally:
        await harness.stop()
    renamed = CALLBACK_FLOW.replace('id = "callback_feedback"', 'id = "callback_storage"')
    (flows / "callback.toml").write_text(renamed, encoding="utf-8")
    harness = await started(api, clock, data, flows)
    try:
        erika = harness.customer()
        await erika.send("/widerruf")
        answer = await erika.press("callback_feedback (wird nicht mehr erfragt)")
        assert "damit gegeben haben, gelöscht" in texts(answer)
        assert labels(answer[-1]) == [["Alles löschen", "Daten behalten"]], "erasure is offered"
    finally:
        await harness.stop()


async def test_a_withdrawal_cut_short_leaves_no_contact_chat_id_after_a_second_press(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """The consent to being contacted went, the deletion of the chat id did not (a full
    disk, a crash): pressing the button again finds the consent withdrawn already, and
    the chat id that nothing keeps any more goes then."""
    data, flows = tmp_path / "data", flows_dir(tmp_path)
    contact_flow = CALLBACK_FLOW.replace(
        "required = false", "required = false\nstores_contact = true"
    )
    (flows / "callback.toml").write_text(contact_flow, encoding="utf-8")
    harness = await started(api, clock, data, flows)
    try:
        await answer_the_callback_survey(harness)
        erika = harness.customer()
        [menu] = await erika.send("/widerruf")
        assert harness.store is not None
        pseudonym = harness.store.pseudonym(f"tg-user:{erika.user_id}")
        assert await harness.store.withdraw_consent(pseudonym, "followup", clock()) == 1
        assert await harness.store.contact_of(pseudonym) is not None, "cut short here"
        await erika.press_data(menu["message_id"], data_of(menu, "Rückfrage"))
        assert erika.last_toast() == "Diese Einwilligung besteht nicht (mehr)."
        assert await harness.store.contact_of(pseudonym) is None
    finally:
        await harness.stop()


async def test_ticks_of_an_open_question_for_a_withdrawn_purpose_go_too(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    data, flows = tmp_path / "data", flows_dir(tmp_path)
    ticks = CALLBACK_FLOW.replace(
        'type = "text"\npurpose = "followup"',
        'type = "multiple_choice"\npurpose = "followup"\noptions = [\n'
        '  { id = "billing", label = { de = "Rechnung", en = "Billing" } },\n'
        '  { id = "visit", label = { de = "Termin", en = "Visit" } },\n]',
    )
    assert ticks != CALLBACK_FLOW
    (flows / "callback.toml").write_text(ticks, encoding="utf-8")
    harness = await started(api, clock, data, flows)
    try:
        erika = harness.customer()
        await erika.send("/start callback")
        await erika.press("Ja, ich willige ein")
        await erika.press("2")
        await erika.press("Ja, einverstanden")
        await erika.press("☐ Rechnung")
        assert "Rechnung" in texts(await erika.send("/meinedaten"))
        await erika.send("/widerruf")
        await erika.press("Rückfrage")
        assert "Rechnung" not in texts(await erika.send("/meinedaten"))
    finally:
        await harness.stop()


async def test_an_optional_consent_ends_with_its_feedback_while_another_keeps_a_chat_id(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """A chat id stored for another feedback keeps a consent to be contacted in force,
    not one that stores no chat id: that ends with the feedback it was given with
    (mutation audit)."""
    harness = await started(api, clock, tmp_path / "data", flows_dir(tmp_path))
    try:
        await answer_the_callback_survey(harness)
        erika = harness.customer()
        clock.advance(timedelta(days=100))
        await give(harness, erika.user_id, "4", "Bitte rufen Sie an", contact=True)
        clock.advance(timedelta(days=80, hours=1))
        assert harness.app is not None and harness.app.bot_data.service is not None
        await purge_expired(harness.app.bot_data.service)
        copy = copy_of_the_data(await erika.send("/meinedaten"))
        assert copy["contact_chat_id"] is not None and len(copy["feedback"]) == 1
        statuses = {c["purpose"]: c["status"] for c in copy["consents"]}
        assert statuses["followup"] == "ended", statuses
        assert statuses["contact"] == "in_force", statuses
    finally:
        await harness.stop()


async def test_an_optional_consent_of_a_removed_flow_ends_with_its_feedback(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """Whether a consent was optional is what its record says, also where no loaded flow
    declares its purpose any more (mutation audit)."""
    data = tmp_path / "data"
    harness = await started(api, clock, data, flows_dir(tmp_path))
    try:
        await answer_the_callback_survey(harness)
    finally:
        await harness.stop()
    harness = await started(api, clock, data, None)
    try:
        erika = harness.customer()
        clock.advance(timedelta(days=100))
        await give(harness, erika.user_id, "4", "später ohne Rückfrage")
        clock.advance(timedelta(days=80, hours=1))
        assert harness.app is not None and harness.app.bot_data.service is not None
        await purge_expired(harness.app.bot_data.service)
        copy = copy_of_the_data(await erika.send("/meinedaten"))
        assert len(copy["feedback"]) == 1
        statuses = {c["purpose"]: c["status"] for c in copy["consents"]}
        assert statuses["followup"] == "ended", statuses
    finally:
        await harness.stop()


async def after_a_contact_flow_was_removed(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> Harness:
    """The bot started with the shipped flows only, after the callback survey, its
    optional purpose one to be contacted, was answered and then removed."""
    data, flows = tmp_path / "data", flows_dir(tmp_path)
    (flows / "callback.toml").write_text(
        CALLBACK_FLOW.replace(
            'id = "followup"\nrequired = false',
            'id = "followup"\nrequired = false\nstores_contact = true',
        ),
        encoding="utf-8",
    )
    harness = await started(api, clock, data, flows)
    try:
        await answer_the_callback_survey(harness)
    finally:
        await harness.stop()
    return await started(api, clock, data, None)


async def test_a_removed_flows_consent_to_be_contacted_stays_while_its_chat_id_is_kept(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """A consent to a purpose no flow declares any more may be what a stored chat id
    rests on: not shown ended while the id is kept (here for unfinished answers), and
    offered for withdrawal (mutation audit)."""
    harness = await after_a_contact_flow_was_removed(api, clock, tmp_path)
    try:
        erika = harness.customer()
        clock.advance(timedelta(days=181))
        await erika.send("/start")
        await erika.press("Ja, ich willige ein")  # unfinished answers as the purge runs
        assert harness.app is not None and harness.app.bot_data.service is not None
        await purge_expired(harness.app.bot_data.service)
        assert harness.store is not None
        pseudonym = harness.store.pseudonym(f"tg-user:{erika.user_id}")
        assert await harness.store.contact_of(pseudonym) is not None, "kept for the draft"
        copy = copy_of_the_data(await erika.send("/meinedaten"))
        assert copy["feedback"] == []
        statuses = {c["purpose"]: c["status"] for c in copy["consents"]}
        assert statuses["followup"] == "in_force", statuses
        offered = await erika.send("/widerruf")
        buttons = [label for message in offered for row in labels(message) for label in row]
        assert "followup (wird nicht mehr erfragt)" in buttons, buttons
    finally:
        await harness.stop()


async def test_a_withdrawal_keeps_the_chat_id_a_removed_flows_feedback_may_rest_on(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """Withdrawing the consent one feedback was stored under erases it, and leaves the
    chat id where another feedback, of a flow removed since, may have been given with it
    (mutation audit: better kept until the purge than erased too soon)."""
    harness = await after_a_contact_flow_was_removed(api, clock, tmp_path)
    try:
        erika = harness.customer()
        await give(harness, erika.user_id, "2", "Bitte melden Sie sich", contact=True)
        await erika.send("/widerruf")
        answer = texts(await erika.press("Speicherung Ihres Feedbacks"))
        assert "damit gegeben haben, gelöscht" in answer, answer
        assert harness.store is not None
        pseudonym = harness.store.pseudonym(f"tg-user:{erika.user_id}")
        assert await harness.store.contact_of(pseudonym) is not None
    finally:
        await harness.stop()
