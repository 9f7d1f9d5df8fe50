"""Questions asked of the bot and wishes told to it, not to staff (found by a customer
walk-through): "Is this anonymous?" typed at the comment was stored as the comment, and
right after it added to it; "Doch, Sie dürfen mich kontaktieren" typed after the survey was
told "no question is open", and the customer believed someone would get in touch."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flows.engine import about_privacy, asks_to_be_contacted
from tests.bot.test_customer_messages import stored_comment
from tests.bot.test_typed_requests import _at, _finished
from tests.harness import Harness, files_contain, texts

PRIVACY_EN = (
    "I did not store this message. /privacy explains who reads feedback, what is stored and "
    "for how long; /mydata shows what is stored about you."
)
PRIVACY_DE = (
    "Diese Nachricht habe ich nicht gespeichert. /datenschutz erklärt, wer Feedback liest, "
    "was gespeichert wird und wie lange; /meinedaten zeigt, was über Sie gespeichert ist."
)


@pytest.mark.parametrize(
    "typed",
    [
        "Ist das anonym?",
        "Wer liest das eigentlich?",
        "Wer sieht meine Antworten?",
        "Werden meine Daten weitergegeben?",
        "Was passiert mit meiner Telegram-ID?",
        "Is this anonymous?",
        "Who reads this?",
        "What happens to my data?",
        "Are my answers anonymous?",
        "Where is my data stored?",
        "Can I delete just my comment?",
    ],
)
def test_questions_about_ones_answers_are_told_apart(typed: str) -> None:
    assert about_privacy(typed)


@pytest.mark.parametrize(
    "typed",
    [
        "Warum werden meine Daten nicht gelöscht?",  # a complaint
        "Wer hat das Essen gekocht?",
        "Why was the food cold?",
        "Das Personal war unfreundlich.",
        "The staff could not see my booking",
        "Der Datenschutz-Hinweis im Laden ist zu klein gedruckt, man kann ihn kaum lesen",
        "",
    ],
)
def test_comments_are_no_questions_about_ones_answers(typed: str) -> None:
    assert not about_privacy(typed)


@pytest.mark.parametrize(
    ("language", "typed"), [("en", "Is this anonymous?"), ("de", "Wer liest das?")]
)
async def test_a_question_about_privacy_at_the_comment_is_answered_not_stored(
    harness: Harness, language: str, typed: str
) -> None:
    customer = await _at(harness, "comment", 8801 if language == "en" else 8802, language)
    said = texts(await customer.send(typed))
    assert said.startswith(PRIVACY_EN if language == "en" else PRIVACY_DE), said
    assert "Write a short comment" in said or "Schreiben Sie einen kurzen Kommentar" in said
    harness.clock.advance(timedelta(minutes=1))
    await customer.send("The queue was far too long.")
    await customer.press("No" if language == "en" else "Nein")
    assert await stored_comment(harness, customer) == "The queue was far too long."
    assert not files_contain(harness.settings.data_dir, typed.encode())


async def test_a_question_right_after_the_comment_is_not_added_to_it(harness: Harness) -> None:
    """The walk-through's case: "Added to your previous answer." and the question stored."""
    customer = await _at(harness, "contact", 8803)  # 30 s after the comment
    said = texts(await customer.send("Is this anonymous?"))
    assert "Added to your previous answer" not in said
    assert "The question above says what you would agree to" in said, said
    said = texts(await customer.send("Can I delete just my comment?"))
    assert "Added to your previous answer" not in said
    await customer.press("No")
    assert await stored_comment(harness, customer) == "The app keeps crashing on login."


async def test_a_question_about_privacy_at_the_rating_is_pointed_to_privacy(
    harness: Harness,
) -> None:
    customer = await _at(harness, "rating", 8804, "de")
    said = texts(await customer.send("Ist das anonym?"))
    assert said.startswith(PRIVACY_DE), said
    assert "Wie zufrieden sind Sie" in said, "the question again"


async def test_a_question_about_privacy_after_the_survey_is_answered(harness: Harness) -> None:
    customer = await _finished(harness, 8805)
    assert texts(await customer.send("Who reads this?")).startswith(PRIVACY_EN)
    german = await _finished(harness, 8806, "de")
    assert texts(await german.send("Ist das anonym?")).startswith(PRIVACY_DE)


@pytest.mark.parametrize(
    "typed",
    [
        "Doch, Sie dürfen mich kontaktieren",
        "Kontaktieren Sie mich bitte",
        "Ich möchte doch kontaktiert werden",
        "Melden Sie sich bei mir",
        "Actually yes, please contact me",
        "I would like to be contacted",
        "please get back to me",
        "Rufen Sie mich an",
    ],
)
def test_asking_to_be_contacted_is_told_apart(typed: str) -> None:
    assert asks_to_be_contacted(typed)


@pytest.mark.parametrize(
    "typed",
    [
        "Kontaktieren Sie mich nicht",
        "Stop contacting me",
        "Contact me about the refund policy",
        "Ja",
    ],
)
def test_other_messages_do_not_ask_to_be_contacted(typed: str) -> None:
    assert not asks_to_be_contacted(typed)


async def test_asking_to_be_contacted_after_declining_says_how(harness: Harness) -> None:
    customer = await _finished(harness, 8807, "de")  # said no to being contacted
    said = texts(await customer.send("Doch, Sie dürfen mich kontaktieren"))
    assert said.startswith(
        "Diese Nachricht habe ich nicht gespeichert. Ihr Feedback ist ohne Ihre Einwilligung "
        "in eine Kontaktaufnahme gespeichert, deshalb kann unser Team Ihnen dazu nicht "
        "schreiben. Wenn Sie das möchten, senden Sie /start"
    ), said
    assert "liest niemand" in said, "and where to write instead"
    english = await _finished(harness, 8808)
    said = texts(await english.send("Actually yes, please contact me"))
    assert "stored without your consent to be contacted" in said, said
    assert "no question is open" not in said


async def test_asking_to_be_contacted_after_agreeing_says_so(harness: Harness) -> None:
    customer = await _at(harness, "contact", 8809)
    await customer.press("Yes, I agree")
    harness.clock.advance(timedelta(hours=1))
    said = texts(await customer.send("Please get back to me"))
    assert said.startswith(
        "I did not store this message. You have already agreed that our staff may contact "
        "you in this chat about your feedback."
    ), said
