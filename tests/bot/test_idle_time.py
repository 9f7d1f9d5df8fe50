"""The idle time of unfinished answers starts again wherever the open question is asked
again (found by a time review: the 30 minutes counted from the last answer taken, so an
answer to a question the bot had just asked again after /hilfe, a rating out of the
scale or /loeschen was refused minutes later as "no survey under way")."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from tests.bot.test_customer_messages import _at_comment
from tests.bot.test_retention import give
from tests.harness import Harness, texts


async def _at_the_comment_question(harness: Harness, user_id: int) -> None:
    customer = harness.customer(user_id)
    await customer.send("/start")
    await customer.press("Ja, ich willige ein")
    await customer.press("4")  # the comment question is open now


async def test_a_question_asked_again_after_help_does_not_expire_minutes_later(
    harness: Harness,
) -> None:
    customer = harness.customer(1)
    await _at_the_comment_question(harness, 1)
    harness.clock.advance(timedelta(minutes=25))
    reminded = texts(await customer.send("/hilfe"))
    assert "hier ist die offene Frage noch einmal" in reminded  # the comment question, asked again
    harness.clock.advance(timedelta(minutes=6))  # 6 minutes after the bot asked it again
    answer = texts(await customer.send("Der Kundendienst war sehr freundlich und schnell."))
    assert "Gerade läuft keine Umfrage" not in answer, answer
    assert "nicht gespeichert" not in answer, answer


async def test_an_answer_out_of_the_scale_restarts_the_idle_time(harness: Harness) -> None:
    customer = harness.customer(2)
    await customer.send("/start")
    await customer.press("Ja, ich willige ein")
    harness.clock.advance(timedelta(minutes=28))
    refused = texts(await customer.send("9"))  # out of the scale: asked again
    assert "1" in refused and "5" in refused
    harness.clock.advance(timedelta(minutes=3))
    answer = texts(await customer.send("4"))
    assert "Gerade läuft keine Umfrage" not in answer, answer


async def test_erasure_goes_through_when_only_unfinished_answers_lapsed_meanwhile(
    harness: Harness,
) -> None:
    erika = harness.customer(1)
    await give(harness, 1, "4", "erstes Feedback")  # something stored to erase
    await erika.send("/start")
    await erika.press("5")  # a second survey under way: unfinished answers
    harness.clock.advance(timedelta(minutes=25))
    question = texts(await erika.send("/loeschen"))
    assert "Alles löschen" in question or "löschen" in question
    harness.clock.advance(timedelta(minutes=6))  # within the button's 15 minutes
    answer = texts(await erika.press("Alles löschen"))
    assert "nichts gelöscht" not in answer, answer
    assert "erstes Feedback" not in texts(await erika.send("/meinedaten"))


async def test_start_going_on_with_the_survey_restarts_the_idle_time(harness: Harness) -> None:
    customer = harness.customer(3)
    await _at_the_comment_question(harness, 3)
    harness.clock.advance(timedelta(minutes=25))
    await customer.send("/start")  # "let's go on where we were"
    harness.clock.advance(timedelta(minutes=6))
    answer = texts(await customer.send("Alles bestens"))
    assert "kontaktieren" in answer, answer


async def test_mydata_tells_the_true_time_unfinished_answers_are_discarded(
    harness: Harness,
) -> None:
    """/meinedaten lists unfinished answers with the time they are discarded automatically
    (Art. 15); right after, `reminded` renews their idle time: the copy the person just got
    names a time up to 30 minutes before the one the store keeps them to."""
    erika = await _at_comment(harness)
    harness.clock.advance(timedelta(minutes=20))
    sent = await erika.send("/meinedaten")
    [document] = [m["document"] for m in sent if m["document"]]
    export = json.loads(document["bytes"].decode("utf-8"))
    (draft_said,) = export["unfinished_feedback"]
    assert harness.store is not None
    person = harness.store.pseudonym(f"tg-user:{erika.user_id}")
    draft = await harness.store.load_draft(person, harness.clock())
    assert draft is not None
    told = datetime.fromisoformat(draft_said["discarded_automatically_at"])
    assert abs(told - draft.expires_at) < timedelta(minutes=1), (told, draft.expires_at)
