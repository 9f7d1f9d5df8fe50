"""A question how much of the survey is left, typed within it (found by customer
walk-throughs): "Wie viele Fragen kommen noch?" at the comment was stored as the comment
staff read, and "Wie lange dauert das noch?" at the contact question was added to it. The
answer says how many questions may follow, by the branches the answers so far decide."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flows.engine import asks_how_long
from tests.bot.test_customer_messages import stored_comment
from tests.bot.test_typed_requests import _at
from tests.harness import Harness, files_contain, texts


@pytest.mark.parametrize(
    "typed",
    [
        "Wie viele Fragen kommen noch?",
        "wieviele fragen noch",
        "Wie viele Fragen sind es denn noch?",
        "Wie lange dauert das noch?",
        "Wie lange noch?",
        "Dauert das noch lange?",
        "Ist das die letzte Frage?",
        "Kommt noch was?",
        "Sind wir bald fertig?",
        "How many more questions?",
        "how many questions are left",
        "How long does this take?",
        "how much longer?",
        "Is this the last question?",
        "Are we almost done?",
        "Is this going to take long?",
        "um, how many more questions please?",
    ],
)
def test_questions_how_much_is_left_are_told_apart(typed: str) -> None:
    assert asks_how_long(typed)


@pytest.mark.parametrize(
    "typed",
    [
        "Wie lange dauert das Frühstück?",
        "Wie viele Fragen hat der Kellner vergessen",
        "How long is breakfast served?",
        "The check-in took far too long, how many more questions does a guest have to ask?",
        "Die letzte Frage war unklar",
        "is this the last room available",
        "",
    ],
)
def test_comments_are_no_questions_how_much_is_left(typed: str) -> None:
    assert not asks_how_long(typed)


async def test_asked_at_the_comment_it_is_answered_and_not_stored(harness: Harness) -> None:
    customer = await _at(harness, "comment", 8901, "de")
    said = texts(await customer.send("Wie viele Fragen kommen noch?"))
    assert said.startswith(
        "Diese Nachricht habe ich nicht gespeichert. Nach dieser Frage folgt noch eine weitere."
    ), said
    assert "Schreiben Sie einen kurzen Kommentar" in said, "the question again"
    harness.clock.advance(timedelta(minutes=1))
    await customer.send("Das Frühstück war kalt.")
    await customer.press("Nein")
    assert await stored_comment(harness, customer) == "Das Frühstück war kalt."
    assert not files_contain(harness.settings.data_dir, b"Fragen kommen")


async def test_asked_right_after_the_comment_it_is_not_added_to_it(harness: Harness) -> None:
    customer = await _at(harness, "contact", 8902)  # 30 s after the comment
    said = texts(await customer.send("How long does this take?"))
    assert "Added to your previous answer" not in said
    assert said == (
        "I did not store this message. This is the last question. Please tap “Yes, I agree” or "
        "“No” under the question above."
    ), said
    await customer.press("No")
    assert await stored_comment(harness, customer) == "The app keeps crashing on login."


async def test_the_answer_follows_the_branches_of_the_answers_given(harness: Harness) -> None:
    """The product survey branches on its first answer: before it, the answer gives the
    range; after it, the number on the branch taken (a low rating's contact question
    included, a high rating's skipped)."""
    low = harness.customer(8903, language_code="en")
    await low.send("/start product")
    await low.press("Yes, I agree")
    said = texts(await low.send("how many more questions?"))
    assert said.startswith(
        "I did not store this message. After this question, 2 to 4 more follow, depending on "
        "your answers."
    ), said
    await low.press("1")
    said = texts(await low.send("how many more questions?"))
    assert said.startswith("I did not store this message. After this question, 3 more follow.")
    assert "What went wrong?" in said, "the question again"

    high = harness.customer(8904, language_code="en")
    await high.send("/start product")
    await high.press("Yes, I agree")
    await high.press("5")
    said = texts(await high.send("Is this the last question?"))
    assert said.startswith("I did not store this message. After this question, one more follows.")
    await high.press("☐ Fast")
    await high.press("Done")
    said = texts(await high.send("Is this the last question?"))
    assert said.startswith("I did not store this message. This is the last question."), said
    said = texts(await high.press("9"))
    assert "Thank you for your product feedback!" in said, said


async def test_asked_next_to_the_consent_request_it_points_to_the_requests_opening(
    harness: Harness,
) -> None:
    guest = harness.customer(8905)
    await guest.send("/start")
    said = texts(await guest.send("Wie lange dauert das?"))
    assert said == (
        "Diese Nachricht habe ich nicht gespeichert. Wie lange die Umfrage dauert, steht am "
        "Anfang der Frage nach Ihrer Einwilligung. Um teilzunehmen, tippen Sie bitte darunter "
        "auf „Ja, ich willige ein“ (/start zeigt sie noch einmal)."
    ), said
    assert harness.store is not None
    pseudonym = harness.store.pseudonym(f"tg-user:{guest.user_id}")
    assert await harness.store.consents(pseudonym) == [], "nothing stored"
