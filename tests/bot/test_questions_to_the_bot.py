"""Questions asked of the bot and wishes told to it, not to staff (found by a customer
walk-through): "Is this anonymous?" typed at the comment was stored as the comment, and
right after it added to it; "Doch, Sie dürfen mich kontaktieren" typed after the survey was
told "no question is open", and the customer believed someone would get in touch."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flows.engine import about_privacy, asks_about_privacy_within, asks_to_be_contacted
from flows.stopwords import written_in
from tests.bot.test_customer_messages import stored_comment
from tests.bot.test_typed_requests import _at, _finished
from tests.harness import Harness, files_contain, texts

PRIVACY_EN = (
    "I did not store this message. /privacy explains what is stored, for what and for how "
    "long; /mydata shows what is stored about you, and /delete erases it."
)
PRIVACY_DE = (
    "Diese Nachricht habe ich nicht gespeichert. /datenschutz erklärt, was wozu und wie lange "
    "gespeichert wird; /meinedaten zeigt, was über Sie gespeichert ist, und /loeschen löscht "
    "es."
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
        # found by the walk-through of the first version: stored as the comment
        "Kann der Filialleiter sehen, wer das geschrieben hat?",
        "will my boss see this",
        "What do you do with my answers",
        "Is my data safe?",
        "Who gets this?",
        "is this anonymous lol",
        "Does anyone actually read these?",
        # found by the walk-through of session 48: stored as the comment
        "Wer bekommt das zu sehen?",
        "Kann ich das später wieder löschen?",
        "Wird das an das Hotel weitergegeben?",
        "Sieht der Rezeptionist meinen Namen?",
        "Will the manager see my name?",
        # found by the walk-through of session 49: stored as the comment
        "Bekommt das die Hotelleitung?",
        "Is this going to the manager?",
        "Geht das an den Chef?",
        "Wird das an die Geschäftsführung weitergeleitet?",
        # found by the walk-through of session 55: stored as the comment
        "Guten Tag, was passiert denn mit meinen Daten wenn ich hier mitmache?",
        "Hallo! Ist das anonym?",
        "Hi, who can read this?",
        "Kann die Bedienung sehen, wer das geschrieben hat?",
        "Weiß die Bedienung, dass ich das war?",
        "Erfährt mein Chef davon?",
        "How long do you hold on to my data?",
        # found by the review of those: greetings, "take part", who wrote after more verbs
        "Hallo liebes Team, ist das anonym?",
        "Hallo nochmal, wer liest das?",
        "Grüezi, wer liest das?",
        "Good day, is this anonymous?",
        "Am I anonymous if I take part?",
        "Bleibe ich anonym, wenn ich teilnehme?",
        "Sieht die Bedienung, wer das geschrieben hat?",
        "Wissen die Kellner, wer das geschrieben hat?",
        "How long do you hang on to my data?",
        # whether one must name oneself (found by the walk-through of session 56)
        "Muss ich meinen Namen angeben?",
        "Muss ich da meinen Namen angeben?",
        "Do I have to give my name?",
        # found by the walk-through of session 57: a clause after it, the one who serves
        # after the verb, or asked after it
        "Was passiert denn mit meinen Daten, wenn ich hier was schreibe?",
        "Guten Tag. Was passiert denn mit meinen Daten wenn ich hier was schreibe?",
        "Sieht das mein Apotheker?",
        "Und wer liest das? Der Apotheker?",
        "Wer kann meinen Kommentar lesen? Sieht das mein Apotheker?",
        "Who reads this? The manager?",
        # a data-rights command named (found by a hostile customer's walk-through)
        "Ich will /loeschen",
        "Was macht /meinedaten?",
        "I want to /delete",
        "How does /delete work?",
        "What does /mydata do?",
        "Hallo, geht /widerruf auch später noch?",
        "Hallo! Was macht /meinedaten?",
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
        "Ist das sicher?",  # of the product as often
        "Is the app secure?",
        "Who reads the reviews on your website?",
        "Wer bekommt das Trinkgeld?",
        "Warum wird das Hotel nicht renoviert?",
        "Is my name on the booking?",
        "Hat das Hotel einen Parkplatz?",
        "Wie geht es?",
        "Geht das?",
        "",
        # a greeting before a complaint, or alone
        "Hallo, das Essen war kalt?",
        "Hallo!",
        "Hi there, can the waiter read?",
        "Weiß der Koch, dass die Suppe kalt war?",
        # "on", "davon", "weiß" of a complaint (found by review: read as privacy questions)
        "What is going on?",
        "Does the manager know what is going on?",
        "How long will you keep me on hold?",
        "Weiß der Chef, was hier passiert?",
        "Weiß jemand, wo das Personal ist?",
        "Weiß der Chef davon?",
        # a question after another that is no privacy question (session 57's review)
        "Wo war das Personal? Der Kellner?",
        "Wer hat das Essen gekocht? Der Koch?",
        "Sieht das Essen immer so aus?",
        "Warum war das Essen kalt? Der Chef?",
        "Was ist davon passiert?",
        "Muss ich das angeben?",
        "Do I have to give a tip?",
        # a command's word without its slash, or in a long comment
        "Ich will loeschen, was ich im Warenkorb hatte",
        "Delete the onions next time please",
        "Der Kellner war sehr freundlich und hat uns alles erklärt, auch wie man im Laden "
        "mit /datenschutz nachlesen kann, was gespeichert wird, super Service",
        "see https://example.org/delete for the form",
        # comments on a command, to store (found by review)
        "Die Verkäuferin sagte, ich soll /widerruf senden, das war unfreundlich",
        "Super, dass man mit /loeschen alles selbst löschen kann!",
        "The /privacy text is far too long, nobody reads that.",
        "I like that /delete works instantly.",
        # a comment before it: stored, the question answered beside it (a second review)
        "Der Kellner war unfreundlich. Was macht /meinedaten?",
    ],
)
def test_comments_are_no_questions_about_ones_answers(typed: str) -> None:
    assert not about_privacy(typed)


@pytest.mark.parametrize(
    ("language", "typed"),
    [("en", "Is this anonymous?"), ("de", "Wer liest das?"), ("de", "Ich will /loeschen")],
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


@pytest.mark.parametrize(
    ("typed", "asks"),
    [
        ("Is this anonymous? The manager was rude to me.", True),
        ("Das Essen war kalt. Wer liest das eigentlich?", True),
        ("Der Kellner war super.\nIst das anonym?", True),
        ("Is this anonymous?", False),  # alone: a question, not stored (above)
        ("Why was the food cold? Nobody could tell me.", False),
        ("Warum werden meine Daten nicht gelöscht? Ich habe zweimal gefragt.", False),
        ("The staff were kind. The room was clean.", False),
        ("Der Kellner war unfreundlich. Was macht /meinedaten?", True),  # (a second review)
    ],
)
def test_a_question_about_privacy_within_a_comment_is_told_apart(typed: str, asks: bool) -> None:
    assert asks_about_privacy_within(typed) is asks


@pytest.mark.parametrize(
    ("language", "typed", "answer"),
    [
        (
            "en",
            "Is this anonymous? The manager was rude to me.",
            "About your question: /privacy explains what is stored, for what and for how "
            "long; /mydata shows what is stored about you, and /delete erases it.",
        ),
        (
            "de",
            "Das Essen war kalt. Wer liest das eigentlich?",
            "Zu Ihrer Frage: /datenschutz erklärt, was wozu und wie lange gespeichert wird; "
            "/meinedaten zeigt, was über Sie gespeichert ist, und /loeschen löscht es.",
        ),
    ],
)
async def test_a_comment_with_a_question_about_privacy_is_stored_and_the_question_answered(
    harness: Harness, language: str, typed: str, answer: str
) -> None:
    """Found by a customer walk-through: the comment stored, rightly, and the question in it
    left as if staff would answer it."""
    customer = await _at(harness, "comment", 8811 if language == "en" else 8812, language)
    said = texts(await customer.send(typed))
    assert answer in said, said
    assert "May we contact you" in said or "Dürfen wir Sie" in said, "the next question"
    await customer.press("No" if language == "en" else "Nein")
    assert await stored_comment(harness, customer) == typed


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
    assert "erreichen niemanden" in said, "and where to write instead"
    assert "Unser Team kann Ihnen hier schreiben" not in said, "it cannot: declined"
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


async def test_a_question_about_privacy_under_the_consent_request_is_answered(
    harness: Harness,
) -> None:
    """Found by a customer walk-through: "Ist das anonym?" under the consent request, where
    it is asked most, was told that feedback needs consent first."""
    person = harness.customer(8810, language_code="de")
    await person.send("/start")
    assert texts(await person.send("Ist das anonym?")) == PRIVACY_DE


async def test_asking_to_be_called_after_the_survey_says_staff_write_only_here(
    harness: Harness,
) -> None:
    """Found by a customer walk-through: "Can you email me?" was told to agree, which allows
    no e-mail; and the agreed were told nothing of calls."""
    declined = await _finished(harness, 8811)
    said = texts(await declined.send("Can you email me?"))
    assert "the feedback stored now stays as it is" in said, "giving it again adds one"
    assert "Our staff cannot call you or send you an e-mail through this bot" in said, said
    agreed = await _at(harness, "contact", 8812)
    await agreed.press("Yes, I agree")
    said = texts(await agreed.send("Can someone call me back?"))
    assert said.startswith("I did not store this message. You have already agreed"), said
    assert "cannot call you or send you an e-mail" in said


@pytest.mark.parametrize(
    "typed",
    ["Bitte kontaktieren Sie mich nicht", "Ich möchte nicht kontaktiert werden"],
)
async def test_asking_not_to_be_contacted_after_the_survey_points_to_withdraw(
    harness: Harness, typed: str
) -> None:
    """Found by a customer walk-through: after agreeing, "no question is open", no word of
    /widerruf; whoever declined is told nobody will write."""
    agreed = await _at(harness, "contact", 8813, "de")
    await agreed.press("Ja, einverstanden")
    harness.clock.advance(timedelta(hours=1))
    said = texts(await agreed.send(typed))
    assert said.startswith(
        "Diese Nachricht habe ich nicht gespeichert. Um Ihre Einwilligung in die "
        "Kontaktaufnahme zu widerrufen, senden Sie bitte /widerruf."
    ), said
    declined = await _finished(harness, 8814, "de")
    said = texts(await declined.send(typed))
    assert "Sie haben nicht in eine Kontaktaufnahme eingewilligt" in said, said
    # withdrawn: not "you have not agreed" (found by a customer walk-through)
    await agreed.send("/widerruf")
    await agreed.press("Kontaktaufnahme")
    said = texts(await agreed.send(typed))
    assert said.startswith(
        "Diese Nachricht habe ich nicht gespeichert. Ihre Einwilligung in eine "
        "Kontaktaufnahme gilt nicht mehr"
    ), said


@pytest.mark.parametrize(
    "typed",
    [
        "Please don't contact me",
        "I do not want to be contacted",
        "No contact please",
        "Bitte nicht mehr kontaktieren",
        "Bitte keine Kontaktaufnahme",
    ],
)
async def test_not_to_be_contacted_in_other_words_is_told_whether_anyone_may(
    harness: Harness, typed: str
) -> None:
    """Found by the customer walk-through of session 48: after declining, "Please don't
    contact me" got every command, /withdraw among them, which offered only the consent
    whose withdrawal erases the feedback."""
    declined = await _finished(harness, 8815)
    said = texts(await declined.send(typed))
    assert "/delete" not in said and "/loeschen" not in said, said
    assert (
        "not agreed to be contacted" in said or "nicht in eine Kontaktaufnahme eingewilligt" in said
    ), said


@pytest.mark.parametrize(
    ("typed", "language"),
    [
        ("what do you do with my data?", "en"),
        ("Who can see my answers?", "en"),
        ("Kann ich das löschen?", "de"),
        ("Was passiert mit meinen Daten?", "de"),
        ("ok", None),
        ("Essen kalt", None),
        ("The food was cold", None),  # "was" is German too: one English word is not enough
        ("Das Essen was very good", None),  # a mix
    ],
)
def test_the_language_a_short_message_is_written_in_is_told_apart(
    typed: str, language: str | None
) -> None:
    assert written_in(typed) == language


async def test_a_message_not_kept_in_the_other_language_names_the_way_to_it(
    harness: Harness,
) -> None:
    """Found by a customer walk-through: "what do you do with my data?" to the German bot
    was answered in German alone, nothing readable naming /language."""
    tourist = harness.customer(8821, language_code="de")
    await tourist.send("/start")
    said = texts(await tourist.send("what do you do with my data?"))
    assert said == PRIVACY_DE + "\n\nIn English: send /language.", said
    assert texts(await tourist.send("Was passiert mit meinen Daten?")) == PRIVACY_DE
    # the other way round, and after the survey as before it
    visitor = await _finished(harness, 8822, "en")
    said = texts(await visitor.send("Kann ich meine Antworten sehen?"))
    assert said.endswith("\n\nAuf Deutsch: Senden Sie /sprache."), said
    assert said.startswith("I did not store this message."), said
    await tourist.send("/sprache english")
    said = texts(await tourist.send("what do you do with my data?"))
    assert said == PRIVACY_EN, "chosen: no way to it"


async def test_ok_next_to_the_consent_request_points_to_its_button(harness: Harness) -> None:
    """Found by a customer walk-through: "ok" was told that /start shows the request again,
    its buttons just above unnamed. Not taken for a yes: after a no it acknowledges."""
    erika = harness.customer(8823)
    await erika.send("/start")
    said = texts(await erika.send("ok"))
    assert said == (
        "Diese Nachricht habe ich nicht gespeichert. Um teilzunehmen, tippen Sie bitte unter "
        "der Frage nach Ihrer Einwilligung auf „Ja, ich willige ein“ (/start zeigt sie "
        "erneut); sonst wird nichts von Ihnen gespeichert."
    ), said
    assert harness.store is not None
    pseudonym = harness.store.pseudonym(f"tg-user:{erika.user_id}")
    assert await harness.store.consents(pseudonym) == [], "typed: no consent"
    asked = await erika.press("Ja, ich willige ein")
    assert "Wie zufrieden sind Sie" in texts(asked), "the buttons above still work"


@pytest.mark.parametrize(
    ("language", "typed"),
    [
        ("de", "Hallo?"),
        ("de", "Guten Tag"),
        ("de", "?"),
        ("en", "hello"),
        ("en", "Huh?"),
        # found by the walk-through of session 50: told that feedback needs consent
        ("de", "Guten Tag, ich bin 78 Jahre alt und weiß nicht wie das geht"),
        ("de", "Was muss ich jetzt drücken?"),
        ("en", "Sorry, what do I press?"),
    ],
)
async def test_someone_unsure_next_to_the_consent_request_is_told_what_to_tap(
    harness: Harness, language: str, typed: str
) -> None:
    """Found by a customer walk-through: "Hallo?" next to the request was told that
    feedback needs consent first, the button that gives it unnamed. Nothing is stored."""
    guest = harness.customer(8830 + len(typed), language_code=language)
    await guest.send("/start")
    said = texts(await guest.send(typed))
    expected = {
        "de": "Hallo! Hier können Sie uns Feedback geben; es dauert weniger als eine Minute. Um "
        "teilzunehmen, tippen Sie bitte unter der Frage nach Ihrer Einwilligung auf „Ja, ich "
        "willige ein“ (/start zeigt sie erneut); /datenschutz erklärt, wie wir mit Ihren Daten "
        "umgehen.",
        "en": "Hello! Here you can give us feedback; it takes less than a minute. To take part, "
        "please tap “Yes, I agree” under the consent request (/start shows it again); /privacy "
        "explains how your data is handled.",
    }[language]
    assert said == expected, said
    assert harness.store is not None
    pseudonym = harness.store.pseudonym(f"tg-user:{guest.user_id}")
    assert await harness.store.consents(pseudonym) == [], "nothing stored"
    # a comment before consent is still told it cannot be taken yet
    said = texts(await guest.send("Das Frühstück war kalt"))
    assert "Hallo!" not in said and "Hello!" not in said, said


async def test_asking_what_to_do_before_consent_gets_the_overview(harness: Harness) -> None:
    guest = harness.customer(8840)
    await guest.send("/start")
    said = texts(await guest.send("Was soll ich hier machen?"))
    assert said.startswith("Ich sammle Feedback für"), said
    assert "/start – Feedback geben" in said, said


@pytest.mark.parametrize(
    ("language", "typed"),
    [
        ("de", "In Zimmer 214 ist die Heizung kaputt, bitte schicken Sie jemanden"),
        ("de", "Kann ich mit einem Mitarbeiter sprechen?"),
        ("en", "can I talk to a human please?"),
    ],
)
async def test_a_request_after_the_survey_is_told_nobody_reads_it_and_where_to_write(
    harness: Harness, language: str, typed: str
) -> None:
    """Found by a customer walk-through: whoever had declined to be contacted got "no
    question is open" alone, and a guest with a broken heater may have waited for help."""
    guest = harness.customer(8850 + len(typed), language_code=language)
    await guest.send("/start")
    await guest.press("Ja, ich willige ein" if language == "de" else "Yes, I agree")
    await guest.press("5")
    await guest.send("Super Hotel")
    await guest.press("Nein" if language == "de" else "No")
    said = texts(await guest.send(typed))
    where = {
        "de": "Nachrichten, die Sie hier außerhalb einer Umfrage schreiben, erreichen niemanden: "
        "Schreiben Sie uns bitte an",
        "en": "Messages written here outside a survey reach nobody: to write to us, please use",
    }[language]
    assert where in said, said
    thanks = texts(await guest.send("Danke!" if language == "de" else "Thanks!"))
    assert where not in thanks, "a thanks is no message to anyone"


@pytest.mark.parametrize("typed", ["produkt", "prodcut", "produckt"])
async def test_a_slip_in_a_surveys_name_is_asked_about_not_given_the_general_survey(
    harness: Harness, typed: str
) -> None:
    """Found by a customer walk-through: "/start produkt" got the general survey's consent
    request, and someone from a product link rated the hotel's service."""
    guest = harness.customer(8870 + len(typed) + ord(typed[-1]))
    [said] = await guest.send(f"/start {typed}")
    assert said["text"] == (
        "Diese Umfrage kenne ich nicht. Meinten Sie /start product? /start allein führt zu "
        "unserer allgemeinen Umfrage."
    ), said["text"]
    assert harness.store is not None
    pseudonym = harness.store.pseudonym(f"tg-user:{guest.user_id}")
    assert await harness.store.consents(pseudonym) == []
    # nothing like any survey: the general one, as before
    unknown = texts(await guest.send("/start xyz"))
    assert "Diese Umfrage kenne ich nicht; hier ist stattdessen" in unknown, unknown


async def test_a_thumbs_up_next_to_the_consent_request_points_to_its_button(
    harness: Harness,
) -> None:
    guest = harness.customer(8890)
    await guest.send("/start")
    said = texts(await guest.send("👍"))
    assert "Um teilzunehmen, tippen Sie bitte unter der Frage nach Ihrer Einwilligung" in said
    assert harness.store is not None
    pseudonym = harness.store.pseudonym(f"tg-user:{guest.user_id}")
    assert await harness.store.consents(pseudonym) == [], "an emoji gives no consent"


def test_greetings_said_again_and_again_are_read_at_once() -> None:
    """Greetings were taken off one at a time, each by a call of its own: "hi hi hi …"
    ran out of stack and the person was told something went wrong (found by review)."""
    assert not about_privacy("hi " * 1365)
    assert about_privacy("Hallo, " * 600 + "ist das anonym?")


async def test_a_refused_answer_in_the_other_language_names_the_way_to_it(
    harness: Harness,
) -> None:
    """Found by a customer walk-through: an English speaker at the German bot's rating was
    refused four times in German, nothing readable naming /language. A comment written in
    English is taken as it is, with no such note."""
    tourist = harness.customer(8831, language_code="de")
    await tourist.send("/start")
    await tourist.press("Ja, ich willige ein")
    said = texts(await tourist.send("I do not understand"))
    assert said.startswith("In English: send /language.\n\n"), said
    assert "Wie zufrieden" in said, said
    said = texts(await tourist.send("Ich verstehe das nicht"))
    assert "In English" not in said and "Wie zufrieden" in said, said
    await tourist.press("4")
    said = texts(await tourist.send("The coffee was lovely and the staff were kind"))
    assert "In English" not in said, said
    # nor when it is sent again, taken already (found by review)
    said = texts(await tourist.send("The coffee was lovely and the staff were kind"))
    assert "In English" not in said, said
