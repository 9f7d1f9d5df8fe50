"""The whole conversation through the real Application and the Bot API double."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest

from bot.fakeapi import BotMessage, FakeBotApi
from tests.bot.test_rights import give_feedback
from tests.harness import (
    TOKEN,
    Clock,
    Customer,
    Harness,
    files_contain,
    labels,
    make_settings,
    stored_rows,
    texts,
)

CANARY = "Kanarienvogel-7f3a comment"


async def test_start_asks_for_consent_with_two_equal_buttons(harness: Harness) -> None:
    erika = harness.customer()
    [notice] = await erika.send("/start")
    assert "Beispiel GmbH" in notice["text"] and "180 Tage" in notice["text"]
    assert labels(notice) == [["Ja, ich willige ein", "Nein, danke"]]


async def test_german_conversation_end_to_end(harness: Harness) -> None:
    erika = harness.customer()
    await erika.send("/start")
    [question] = await erika.press("Ja, ich willige ein")  # one message, one notification
    assert question["text"].startswith("Danke, Ihre Einwilligung wurde festgehalten.\n\n")
    assert "Wie zufrieden" in question["text"]
    assert labels(question) == [["1", "2", "3", "4", "5"]]
    assert harness.api.messages(erika.chat_id)[0]["buttons"] == [], "the consent buttons are gone"
    answer = await erika.press("4")
    assert "Kommentar" in texts(answer)
    assert "bitte ohne Namen, Kontaktdaten und Angaben zu Ihrer Gesundheit" in texts(answer)
    answer = await erika.send(CANARY)
    assert "kontaktieren" in texts(answer)
    answer = await erika.press("Nein")
    assert "Vielen Dank" in texts(answer) and "/meinedaten" in texts(answer)
    assert "2027" in texts(answer)
    assert not files_contain(harness.settings.data_dir, CANARY.encode())
    assert not files_contain(harness.settings.data_dir, str(erika.user_id).encode())


async def test_a_typed_answer_takes_the_buttons_of_its_question_away(harness: Harness) -> None:
    erika = harness.customer()
    await erika.send("/start")
    [*_, rating_question] = await erika.press("Ja, ich willige ein")
    [comment_question] = await erika.send("4")  # typed instead of pressed
    assert "Kommentar" in comment_question["text"] and labels(comment_question) != []
    [contact_question] = await erika.send("Alles bestens")
    shown = {m["message_id"]: m["buttons"] for m in harness.api.messages(erika.chat_id)}
    assert shown[rating_question["message_id"]] == [], "no rating buttons after typing 4"
    assert shown[comment_question["message_id"]] == [], "no Skip button after the comment"
    assert labels(contact_question) != [], "the open question keeps its buttons"

    await erika.press("Nein")

    await erika.send("/start")  # again: consent is given, the rating comes first
    [comment_question] = await erika.press("5")
    assert "Bitte kürzen" in texts(await erika.send("x" * 5000))
    shown = {m["message_id"]: m["buttons"] for m in harness.api.messages(erika.chat_id)}
    assert shown[comment_question["message_id"]] != [], "still open: Skip stays"


async def test_english_speaker_gets_english(harness: Harness) -> None:
    john = harness.customer(1001, language_code="en-GB")
    [notice] = await john.send("/start")
    assert "180 days" in notice["text"]
    answer = await john.press("Yes, I agree")
    assert "How satisfied" in texts(answer)


async def test_unsupported_language_falls_back_to_german(harness: Harness) -> None:
    """With the way to English, in English (found by an English customer's review: a
    French app got German alone, and nothing the person could read named /language)."""
    [hint, notice] = await harness.customer(1002, language_code="fr").send("/start")
    assert hint["text"] == "In English: send /language."
    assert "Einwilligung" in notice["text"]
    [only] = await harness.customer(1003, language_code="de").send("/start")
    assert "Einwilligung" in only["text"], "no hint where the app's language is spoken"
    [notice] = await harness.customer(1004, language_code="en").send("/start")
    assert "consent" in (notice["text"] or "")


@pytest.mark.parametrize("command", ["/stop", "/stopp", "/abbrechen"])
async def test_stop_discards_the_unfinished_answers_as_cancel_does(
    harness: Harness, command: str
) -> None:
    """ "/stop" is how one leaves a bot (found by an English customer's review: unknown)."""
    erika = harness.customer(1005)
    await erika.send("/start")
    await erika.press("Ja, ich willige ein")
    await erika.press("2")
    said = texts(await erika.send(command))
    assert "verworfen" in said and "kenne ich nicht" not in said, said
    assert "Unvollständige Antworten" not in texts(await erika.send("/meinedaten"))


@pytest.mark.parametrize("kind", ["sticker", "photo", "voice", "location"])
async def test_non_text_where_an_answer_is_expected_reasks(harness: Harness, kind: str) -> None:
    erika = harness.customer()
    await erika.send("/start")
    await erika.press("Ja, ich willige ein")
    update = getattr(harness.api, f"user_{kind}")(erika.user_id, **erika.sender)
    answer = await harness.deliver(update)
    if kind == "voice":  # said why (found by an English customer's review)
        assert "Sprach- und Videonachrichten kann ich nicht anhören" in texts(answer)
    else:
        assert "nur Text und Schaltflächen" in texts(answer)
    assert labels(answer[-1]) == [["1", "2", "3", "4", "5"]]


async def test_group_command_is_refused_once_and_stores_nothing(harness: Harness) -> None:
    before = stored_rows(harness.settings.data_dir)
    group = {"chat_id": -100777, "chat_type": "group"}
    first = await harness.deliver(harness.api.user_message(55, "/start", **group))
    assert "privaten Chat" in texts(first)
    assert "Bitte schreiben Sie mir direkt: @feedback_test_bot" in texts(first), "where to"
    second = await harness.deliver(harness.api.user_message(56, "/hilfe", **group))
    assert second == []
    assert await harness.deliver(harness.api.user_message(55, "hallo Gruppe", **group)) == []
    assert stored_rows(harness.settings.data_dir) == before
    assert not files_contain(harness.settings.data_dir, b"hallo Gruppe")


async def test_nothing_typed_before_consent_or_after_declining_is_stored(
    harness: Harness,
) -> None:
    before = stored_rows(harness.settings.data_dir)
    erika = harness.customer()
    await erika.send("/start")
    typed = await erika.send(f"ok {CANARY}")
    assert "zugestimmt" in texts(typed) and "/start" in texts(typed), "told how, not taken"
    assert "Nein, danke" not in str([labels(m) for m in typed]), "the notice is not repeated"
    declined = await erika.press("Nein, danke")
    assert texts(declined), "declining is answered"
    await erika.send(f"trotzdem {CANARY}")
    await erika.sticker()
    assert stored_rows(harness.settings.data_dir) == before, "no consent, no draft, no answer"
    assert harness.store is not None
    pseudonym = harness.store.pseudonym(f"tg-user:{erika.user_id}")
    for needle in (CANARY.encode(), pseudonym.encode(), str(erika.user_id).encode()):
        assert not files_contain(harness.settings.data_dir, needle)
    assert "keine Daten" in texts(await erika.send("/meinedaten"))


async def test_unknown_command_gets_short_help(harness: Harness) -> None:
    answer = await harness.customer().send("/gibtsnicht")
    assert "kenne ich nicht" in texts(answer) and "/hilfe" in texts(answer)


@pytest.mark.parametrize(
    "typed, entities",
    [
        # Telegram's commands are ASCII: "/löschen" comes as plain text, or (some apps)
        # with a command entity that ends before the "ö"
        ("/löschen", []),
        ("/löschen", [{"type": "bot_command", "offset": 0, "length": 2}]),
        ("/Löschen bitte", []),
        ("/loschen", None),
    ],
)
async def test_a_command_typed_with_an_umlaut_is_pointed_to_its_name(
    harness: Harness, typed: str, entities: list[dict[str, object]] | None
) -> None:
    """Found by a German customer's review: "/löschen" was an unknown command, answered
    with the whole help; before consent, as plain text, with the consent pointer."""
    erika = harness.customer()
    before = stored_rows(harness.settings.data_dir)
    update = harness.api.user_message(erika.user_id, typed, entities=entities, **erika.sender)
    answer = await harness.deliver(update)
    assert texts(answer) == "Diesen Befehl kenne ich nicht. Meinten Sie /loeschen?"
    assert stored_rows(harness.settings.data_dir) == before, "nothing kept of it"


async def test_a_mistyped_command_at_the_comment_is_not_the_comment(harness: Harness) -> None:
    """A text that begins like a command ("/Meine Daten", no command for Telegram) was
    stored as the comment; now it is pointed to the command and the question stays."""
    erika = harness.customer()
    await erika.send("/start")
    await erika.press("Ja, ich willige ein")
    await erika.press("3")
    mistyped = harness.api.user_message(erika.user_id, "/Meine Daten", entities=[], **erika.sender)
    answer = texts(await harness.deliver(mistyped))
    assert answer.startswith("Diesen Befehl kenne ich nicht. Meinten Sie /meinedaten?")
    assert "kontaktieren" not in answer, "not taken as the comment"
    assert "kontaktieren" in texts(await erika.send("Die Suppe war kalt."))
    await erika.press("Nein")
    mine = texts(await erika.send("/meinedaten"))
    assert "Die Suppe war kalt." in mine and "/Meine Daten" not in mine


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("/ende", "/abbrechen"),
        ("/quit", "/cancel"),
        ("/widerrufen", "/widerruf"),
        # a slip of such a word, or a command's beginning (found by a customer walk-through:
        # the whole help)
        ("/widerufen", "/widerruf"),
        ("/lösch", "/loeschen"),
        ("/meine", "/meinedaten"),
        ("/priv", "/privacy"),
    ],
)
async def test_a_word_for_a_command_is_pointed_to_its_name(
    harness: Harness, typed: str, meant: str
) -> None:
    """Found by a customer's review: "/ende", "/quit" got the whole help."""
    answer = texts(await harness.customer().send(typed))
    assert answer == f"Diesen Befehl kenne ich nicht. Meinten Sie {meant}?"


async def test_a_comment_beginning_with_a_slash_and_no_command_word_is_a_comment(
    harness: Harness,
) -> None:
    """Found by a customer's review: "/r/germany empfahl euch" could not be given."""
    erika = harness.customer()
    await erika.send("/start")
    await erika.press("Ja, ich willige ein")
    await erika.press("4")
    typed = harness.api.user_message(
        erika.user_id, "/r/germany empfahl euch", entities=[], **erika.sender
    )
    assert "kontaktieren" in texts(await harness.deliver(typed))
    await erika.press("Nein")
    assert "/r/germany empfahl euch" in texts(await erika.send("/meinedaten"))


async def test_edited_message_is_not_a_new_answer(harness: Harness) -> None:
    erika = harness.customer()
    await erika.send("/start")
    await erika.press("Ja, ich willige ein")
    await erika.press("3")
    edited = harness.api.edited_message(erika.user_id, 1, "geändert", **erika.sender)
    [note] = await harness.deliver(edited)
    assert "Änderungen an einer bereits gesendeten Nachricht kann ich nicht übernehmen" in (
        note["text"] or ""
    )
    assert not note["buttons"], "a note, not a question"
    answer = await erika.send("echter Kommentar")
    assert "kontaktieren" in texts(answer), "the edit was not taken as the comment"


async def test_redelivered_update_is_processed_once(harness: Harness) -> None:
    erika = harness.customer()
    await erika.send("/start")
    await erika.press("Ja, ich willige ein")
    update = harness.api.press_button(erika.user_id, "5", **erika.sender)
    assert await harness.deliver(update)
    assert await harness.deliver(harness.api.redeliver(update)) == []


async def test_old_button_is_answered_and_ignored(harness: Harness) -> None:
    erika = harness.customer()
    await erika.send("/start")
    [*_, rating] = await erika.press("Ja, ich willige ein")
    old_four = harness.api.button_data(erika.chat_id, "4", rating["message_id"])
    await erika.press("2")
    current = next(
        m for m in harness.api.messages(erika.chat_id) if m["message_id"] == rating["message_id"]
    )
    assert current["buttons"] == [], "the rating buttons were removed after the press"
    harness.clock.advance(timedelta(seconds=20))  # not a double tap: the reply may be lost
    [reasked] = await erika.press_data(rating["message_id"], old_four)
    assert "früheren Frage" in (erika.last_toast() or "")
    assert "Kommentar" in (reasked["text"] or ""), "the current question is shown again"
    answer = await erika.send("Kommentar nach altem Knopf")
    assert "kontaktieren" in texts(answer), "the stale press changed nothing"


async def test_an_old_button_at_the_contact_question_does_not_send_its_long_text_again(
    harness: Harness,
) -> None:
    """Found by a customer walk-through: an old rating pressed at the contact question sent
    all of its long text again. Where it is known shown (the newest question), the toast
    alone says so, as a text typed at it is pointed to it."""
    erika = harness.customer()
    await erika.send("/start")
    [*_, rating] = await erika.press("Ja, ich willige ein")
    old_four = harness.api.button_data(erika.chat_id, "4", rating["message_id"])
    await erika.press("2")
    asked = await erika.send("Kalt")
    assert "kontaktieren" in texts(asked)
    harness.clock.advance(timedelta(seconds=20))
    assert await erika.press_data(rating["message_id"], old_four) == []
    assert "früheren Frage" in (erika.last_toast() or "")
    answer = await erika.press("Nein")
    assert "Vielen Dank" in texts(answer), "the stale press changed nothing"


async def _four_then_at_once(harness: Harness, second: str) -> tuple[Customer, list[BotMessage]]:
    """ "4" pressed on the rating, then `second` on the same buttons a second later."""
    erika = harness.customer()
    await erika.send("/start")
    [*_, rating] = await erika.press("Ja, ich willige ein")
    second_tap = harness.api.button_data(erika.chat_id, second, rating["message_id"])
    await erika.press("4")
    harness.clock.advance(timedelta(seconds=1))
    return erika, await erika.press_data(rating["message_id"], second_tap)


async def test_a_double_tap_on_an_answer_is_taken_once_and_asks_nothing_twice(
    harness: Harness,
) -> None:
    erika, sent = await _four_then_at_once(harness, "4")
    assert sent == []
    assert "bereits übernommen" in (erika.last_toast() or "")
    questions = [m for m in harness.api.messages(erika.chat_id) if "Kommentar" in (m["text"] or "")]
    assert len(questions) == 1, "the comment question is asked once"
    await erika.send("Kommentar nach doppeltem Tippen")
    await erika.press("Nein")
    [feedback] = await _feedback_of(harness, erika)
    assert feedback.answers["rating"] == 4


async def test_another_answer_tapped_at_once_is_told_the_first_was_taken(
    harness: Harness,
) -> None:
    """Found by review: a quick change of mind (2 right after 4) was told "already taken"
    as if it were the same answer; then (a later review) "belongs to an earlier question",
    with the next question sent a second time. It is told which tap counted and how to
    change it, and the next question comes once."""
    erika, sent = await _four_then_at_once(harness, "2")
    assert sent == []
    assert "erstes Tippen" in (erika.last_toast() or ""), erika.last_toast()
    assert "/abbrechen" in (erika.last_toast() or ""), erika.last_toast()
    questions = [m for m in harness.api.messages(erika.chat_id) if "Kommentar" in (m["text"] or "")]
    assert len(questions) == 1, "the comment question is asked once"
    await erika.send("Kommentar nach schnellem Umentscheiden")
    await erika.press("Nein")
    [feedback] = await _feedback_of(harness, erika)
    assert feedback.answers["rating"] == 4


async def test_forged_callback_data_is_answered_and_ignored(harness: Harness) -> None:
    erika = harness.customer()
    await erika.send("/start")
    [notice] = await erika.send("/start")
    assert await erika.press_data(notice["message_id"], "c:feedback:forged:y") != []
    assert await erika.press_data(notice["message_id"], "zz:\x00garbage") == []
    assert harness.api.callback_answers[-1].get("text")


async def test_an_older_request_scrolled_back_to_asks_before_it_discards_a_survey(
    harness: Harness,
) -> None:
    """Found by review: the general request, sent before the product survey began, was
    pressed mid-way through it; it began the general survey and discarded the product
    answers, told only after."""
    erika = harness.customer()
    [older] = await erika.send("/start")
    await erika.send("/start product")
    await erika.press("Ja, ich willige ein")
    await erika.press("2")
    [yes, _] = older["buttons"][0]
    assert yes[0] == "Ja, ich willige ein" and yes[1] is not None
    [asked] = await erika.press_data(older["message_id"], yes[1])
    assert "Wenn Sie „Kundenfeedback“ beginnen, werden sie verworfen" in (asked["text"] or "")
    [resumed] = await erika.send("/start")
    assert (resumed["text"] or "").startswith("Machen wir dort weiter"), "the product answers"
    assert "☐ Zu langsam" in [label for row in resumed["buttons"] for label, _ in row]
    said = texts(await erika.press("„Kundenfeedback“ beginnen"))
    assert "Ihre unvollständigen Antworten zur anderen Umfrage wurden verworfen." in said
    assert "Wie zufrieden" in said


class Seconds:
    """The clock Telegram dates messages by, moved by the test."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def dated(tmp_path: Path) -> AsyncIterator[tuple[Harness, Seconds]]:
    seconds = Seconds()
    harness = Harness(FakeBotApi(TOKEN, clock=seconds), make_settings(tmp_path / "data"), Clock())
    await harness.start()
    yield harness, seconds
    await harness.stop()


async def at_the_comment(harness: Harness) -> Customer:
    erika = harness.customer()
    await erika.send("/start")
    await erika.press("Ja, ich willige ein")
    await erika.press("1")
    return erika


async def test_overlong_comment_is_refused(dated: tuple[Harness, Seconds]) -> None:
    harness, seconds = dated
    erika = await at_the_comment(harness)
    answer = await erika.send("x" * 2500)
    assert "2500" in texts(answer).replace(".", "") and "kürzen" in texts(answer)
    seconds.now += 30  # time to shorten it
    answer = await erika.send("kurz")
    assert "kontaktieren" in texts(answer)


async def test_the_rest_of_a_text_telegram_split_is_not_taken_as_the_comment(
    dated: tuple[Harness, Seconds],
) -> None:
    """A paste over 4,096 characters arrives as several messages, a second apart at most."""
    harness, seconds = dated
    erika = await at_the_comment(harness)
    first = texts(await erika.send(("Erster Teil meines langen Berichts. " * 120)[:4096]))
    assert "länger als die 2.000 Zeichen" in first and "4.096" not in first
    seconds.now += 1
    rest = texts(await erika.send("und deshalb bin ich unzufrieden (Ende des Textes)."))
    assert "Rest Ihres langen Textes" in rest and "kontaktieren" not in rest
    seconds.now += 1
    rest = texts(await erika.send("Noch ein dritter Teil."))
    assert "Rest Ihres langen Textes" in rest
    seconds.now += 45
    answer = texts(await erika.send("Kurz gefasst: zu langsam."))
    assert "kontaktieren" in answer, "a text sent later is an answer again"
    await erika.press("Nein")
    shown = texts(await erika.send("/meinedaten"))
    assert "Kurz gefasst: zu langsam." in shown
    assert "Ende des Textes" not in shown and "dritter Teil" not in shown


async def test_restart_mid_conversation_continues(harness: Harness) -> None:
    erika = harness.customer()
    await erika.send("/start")
    await erika.press("Ja, ich willige ein")
    await erika.press("5")
    await harness.restart()
    answer = await erika.send("nach dem Neustart")
    assert "kontaktieren" in texts(answer)
    answer = await erika.press("Ja, einverstanden")
    assert "Vielen Dank" in texts(answer)


async def test_cancel_discards(harness: Harness) -> None:
    erika = harness.customer()
    await erika.send("/start")
    await erika.press("Ja, ich willige ein")
    await erika.press("2")
    assert "verworfen" in texts(await erika.send("/abbrechen"))
    assert "nichts abzubrechen" in texts(await erika.send("/cancel"))


@pytest.mark.parametrize(("language", "command"), [("en", "/cancel"), ("de", "/abbrechen")])
async def test_cancel_says_how_to_begin_again(
    harness: Harness, language: str, command: str
) -> None:
    """The question's buttons go with the answers: the reply says what to do next, as the
    one with nothing to cancel does (found by an English customer's review)."""
    tourist = harness.customer(1077, language_code=language)
    await tourist.send("/start")
    await tourist.press({"en": "Yes, I agree", "de": "Ja, ich willige ein"}[language])
    await tourist.press("4")
    said = texts(await tourist.send(command))
    assert {"en": "discarded", "de": "verworfen"}[language] in said, said
    assert "/start" in said, said


@pytest.mark.parametrize(("language", "command"), [("en", "/cancel"), ("de", "/abbrechen")])
async def test_cancel_says_the_consent_stays(harness: Harness, language: str, command: str) -> None:
    """Found by a customer walk-through: after /abbrechen, /meinedaten showed a consent in
    force and the next /start said "you have already agreed", nothing said before."""
    tourist = harness.customer(1078, language_code=language)
    await tourist.send("/start")
    await tourist.press({"en": "Yes, I agree", "de": "Ja, ich willige ein"}[language])
    said = texts(await tourist.send(command))
    stays = {
        "en": "Your consent stays recorded; to withdraw it, send /withdraw.",
        "de": "Ihre Einwilligung bleibt gespeichert; um sie zu widerrufen, senden Sie /widerruf.",
    }[language]
    assert stays in said, said
    # nothing answered yet: no answers to discard (found by a customer walk-through)
    ended = {
        "en": "Cancelled. The survey you had started has ended.",
        "de": "Abgebrochen. Die begonnene Umfrage wurde beendet.",
    }[language]
    assert said.startswith(ended), said
    last = {"en": "Send /start to give feedback.", "de": "Mit /start können Sie Feedback geben."}
    assert said.endswith(last[language]), "what next, last"


@pytest.mark.parametrize("interruption", ["sticker", "/start"])
async def test_a_consent_question_asked_again_is_the_text_its_proof_hashes(
    harness: Harness, interruption: str
) -> None:
    """Asked again after a sticker or /start, the contact question had a note put in front
    of it in the same message: the proof hashed a text other than the one pressed. (After
    a sticker it is not asked again: its buttons above are pressed.)"""
    erika = harness.customer()
    await erika.send("/start")
    await erika.press("Ja, ich willige ein")
    await erika.press("4")
    [question] = await erika.send("Alles gut")
    again = await (erika.sticker() if interruption == "sticker" else erika.send("/start"))
    if interruption == "/start":
        [question] = [m for m in again if m["buttons"]]
        assert len(again) == 2, "the note in a message of its own"
    else:
        assert [m["buttons"] for m in again] == [[]], "the note alone"
    await erika.press("Ja, einverstanden")
    store = harness.store
    assert store is not None
    consents = await store.consents(store.pseudonym(f"tg-user:{erika.user_id}"))
    [contact] = [c for c in consents if c.purpose == "contact"]
    shown = (question["text"] or "").encode()
    assert contact.text_sha256 == hashlib.sha256(shown).hexdigest()


async def test_messages_typed_at_a_consent_question_do_not_send_it_again(
    harness: Harness,
) -> None:
    """Its 900 characters came again after every message typed at it, some 29 lines on a
    phone (found by an older customer's review): a note points to its buttons above, which
    stay, and a press there is the consent to the text shown."""
    erika = harness.customer()
    await erika.send("/start")
    await erika.press("Ja, ich willige ein")
    await erika.press("2")
    [question] = await erika.send("Das Brot war alt.")
    asked = question["text"] or ""
    assert asked.startswith("Dürfen wir Sie in diesem Chat") and question["buttons"]
    added = await erika.send("Und zu teuer, rufen Sie mich an: 0171 2345678")
    harness.clock.advance(timedelta(minutes=2))
    notes = [added, await erika.sticker(), await erika.send("hallo"), await erika.send("ja")]
    said = [texts(note) for note in notes]
    assert said[0].startswith("Zu Ihrer vorigen Antwort hinzugefügt.\n\n"), said[0]
    assert said[0].endswith("stimmen Sie dem bitte mit der Frage oben zu."), said[0]
    assert said[0].count("oben") == 1, "one pointer to the buttons above"
    assert "unter der Frage oben" in said[1] and "unter der Frage oben" in said[2]
    assert "auf die Schaltfläche „Ja, einverstanden“ unter der Frage oben" in said[3]
    assert all(len(note) == 1 and asked not in texts(note) for note in notes), said
    live = [m for m in harness.api.messages(erika.chat_id) if m["buttons"]]
    assert [m["message_id"] for m in live[:1]] == [question["message_id"]]
    assert [labels(m) for m in live[1:]] == [[["Rückgängig"]]], "and Undo under the addition"
    await erika.press("Ja, einverstanden")
    store = harness.store
    assert store is not None
    pseudonym = store.pseudonym(f"tg-user:{erika.user_id}")
    [contact] = [c for c in await store.consents(pseudonym) if c.purpose == "contact"]
    assert contact.in_force and contact.text_sha256 == hashlib.sha256(asked.encode()).hexdigest()
    [feedback] = await store.feedback_of(pseudonym, harness.clock())
    said_all = "Das Brot war alt.\nUnd zu teuer, rufen Sie mich an: 0171 2345678"
    assert feedback.answers["comment"] == said_all


async def test_a_consent_question_whose_send_failed_is_asked_when_a_message_is_typed_at_it(
    harness: Harness,
) -> None:
    """Its send failed (Telegram refused it), and what was typed next was pointed to "the
    buttons under the question above", which never came (review of the change): asked."""
    erika = harness.customer()
    await erika.send("/start")
    await erika.press("Ja, ich willige ein")
    await erika.press("2")
    harness.api.fail_next("sendMessage", 400, "Bad Request: odd", chat_id=erika.chat_id)
    assert await erika.send("Das Brot war alt.") == [], "the question did not arrive"
    got = await erika.sticker()
    assert [bool(m["buttons"]) for m in got] == [False, True], texts(got)
    assert (got[1]["text"] or "").startswith("Dürfen wir Sie in diesem Chat")
    again = await erika.sticker()
    assert [m["buttons"] for m in again] == [[]], "known shown now: pointed to, not asked"
    await erika.press("Ja, einverstanden")
    store = harness.store
    assert store is not None
    pseudonym = store.pseudonym(f"tg-user:{erika.user_id}")
    [contact] = [c for c in await store.consents(pseudonym) if c.purpose == "contact"]
    assert contact.in_force


@pytest.mark.parametrize(
    ("language", "agree", "told"),
    [
        (
            "de",
            "Ja, ich willige ein",
            "Wenn Sie zustimmen, speichern wir die ID dieses Chats (im privaten Chat Ihre "
            "Telegram-Nutzer-ID) und die Sprache Ihrer Telegram-App, damit wir Ihnen hier in "
            "Ihrer Sprache schreiben können. Beides wird gelöscht, wenn Sie diese Einwilligung "
            "widerrufen, spätestens mit diesem Feedback, das 180 Tage lang aufbewahrt wird.",
        ),
        (
            "en",
            "Yes, I agree",
            "If you agree, we store the ID of this chat (in a private chat, your Telegram user "
            "ID) and your Telegram app's language, so that we can write to you here in your "
            "language. Both are deleted when you withdraw this consent, and at the latest with "
            "this feedback, which is kept for 180 days.",
        ),
    ],
)
async def test_the_question_to_be_contacted_says_what_is_then_stored_and_until_when(
    harness: Harness, language: str, agree: str, told: str
) -> None:
    """DPO review: it said neither that the chat id (the user id, in a private chat) and
    the app's language are stored with it, nor for how long."""
    erika = harness.customer(language_code=language)
    await erika.send("/start")
    await erika.press(agree)
    await erika.press("2")
    [question] = await erika.send("Alles gut")
    assert told in question["text"], question["text"]


async def test_the_consent_proof_is_of_the_text_shown_whatever_device_presses(
    harness: Harness,
) -> None:
    """The notice is read on a phone set to German and agreed to on a desktop set to
    English: the proof must hash the German text the person read."""
    phone = harness.customer(language_code="de")
    [notice] = await phone.send("/start")
    desktop = harness.customer(language_code="en")
    data = harness.api.button_data(desktop.chat_id, "Ja, ich willige ein", notice["message_id"])
    assert data.endswith(":de:y")
    await desktop.press_data(notice["message_id"], data)
    store = harness.store
    assert store is not None
    (consent,) = await store.consents(store.pseudonym(f"tg-user:{desktop.user_id}"))
    shown = (notice["text"] or "").encode()
    assert consent.text_sha256 == hashlib.sha256(shown).hexdigest()
    for forged in (data.replace(":de:", ":xx:"), data.replace(":de:y", ":de:q")):
        await desktop.press_data(notice["message_id"], forged)
        assert "nicht gültig" in (desktop.last_toast() or "") or "not valid" in (
            desktop.last_toast() or ""
        )


async def test_a_conversation_keeps_the_language_it_began_in(harness: Harness) -> None:
    """Begun on a phone set to German, answered from a desktop set to English: the
    questions and buttons in the chat stay German."""
    phone = harness.customer(language_code="de")
    await phone.send("/start")
    await phone.press("Ja, ich willige ein")
    desktop = harness.customer(language_code="en")
    [comment_question] = await desktop.press("4")
    assert "Kommentar" in (comment_question["text"] or "")
    assert labels(comment_question) == [["Überspringen"]]
    [contact] = await desktop.send("Alles gut")
    assert "kontaktieren" in (contact["text"] or "")
    # A consent question keeps the note in a message of its own (its proof hashes it).
    [resumed, asked] = await desktop.send("/start")
    assert "Machen wir dort weiter" in (resumed["text"] or "")
    assert "kontaktieren" in (asked["text"] or "")
    assert "continue" not in texts([resumed, asked])


async def test_a_forwarded_message_is_not_taken_as_the_comment(harness: Harness) -> None:
    """Forwarding someone's message as one's comment would store their words (and the
    bot cannot tell): the person is asked to write the answer themselves."""
    erika = harness.customer()
    await erika.send("/start")
    await erika.press("Ja, ich willige ein")
    await erika.press("2")
    update = harness.api.user_message(erika.user_id, "Nachricht von Hannelore Canary-77")
    update["message"]["forward_origin"] = {
        "type": "hidden_user",
        "sender_user_name": "Hannelore",
        "date": update["message"]["date"],
    }
    answer = texts(await harness.deliver(update))
    assert "weitergeleitete Nachricht nehme ich nicht als Antwort" in answer
    assert "Kommentar" in answer, "the comment question is asked again"
    await erika.send("Mein eigener Kommentar")
    await erika.press("Nein")
    assert harness.store is not None
    person = harness.store.pseudonym(f"tg-user:{erika.user_id}")
    (feedback,) = await harness.store.feedback_of(person, harness.clock())
    assert feedback.answers["comment"] == "Mein eigener Kommentar"
    assert not files_contain(harness.settings.data_dir, b"Canary-77")


def _feedback_of(harness: Harness, customer: Customer) -> object:
    assert harness.store is not None
    return harness.store.feedback_of(
        harness.store.pseudonym(f"tg-user:{customer.user_id}"), harness.clock()
    )


@pytest.mark.parametrize(
    ("command", "answered"),
    [
        ("/hilfe", "/meinedaten – Ihre gespeicherten Daten einsehen"),
        ("/datenschutz", "Beispiel GmbH"),
        ("/meinedaten", "automatisch verworfen, wenn Sie nicht weitermachen"),
        ("/gibtsnicht", "kenne ich nicht"),
        # found by review: a "no, rather not" typed to these was stored as the comment
        ("/loeschen", "Möchten Sie alle über Sie gespeicherten Daten löschen?"),
        ("/widerruf", "Welche Einwilligung möchten Sie widerrufen?"),
        ("/sprache", "In welcher Sprache soll ich Ihnen schreiben?"),
    ],
)
async def test_a_command_mid_survey_is_answered_then_the_open_question_asked_again(
    harness: Harness, command: str, answered: str
) -> None:
    """After the answer to a command, the question is far up the chat: it is asked
    again, so that what the person types next is not taken as an answer unawares."""
    erika = harness.customer()
    await erika.send("/start")
    await erika.press("Ja, ich willige ein")
    await erika.press("2")
    answer = await erika.send(command)
    assert answered in texts(answer[:-1])
    note, question = answer[-1]["text"].split("\n\n", 1)
    assert note.startswith("Ihre Umfrage läuft noch; hier ist die offene Frage noch einmal.")
    assert question.startswith("Was sollten wir")
    assert labels(answer[-1]) == [["Überspringen"]]


@pytest.mark.parametrize(
    ("command", "named"),
    [
        ("/loeschen", "„Alles löschen“ oder „Daten behalten“"),
        ("/widerruf", "„Speicherung Ihres Feedbacks“ oder „Einwilligungen behalten“"),
        ("/sprache", "„Deutsch“, „English“ oder „Wie meine Telegram-App“"),
    ],
)
async def test_a_command_asking_its_own_question_mid_survey_names_its_buttons(
    harness: Harness, command: str, named: str
) -> None:
    """The survey's buttons are the last in the chat now: whoever asked to erase heard
    its "Überspringen" or "Ja, einverstanden" last (found by an accessibility review), so
    the note says which buttons the question before keeps."""
    erika = harness.customer()
    await erika.send("/start")
    await erika.press("Ja, ich willige ein")
    await erika.press("2")
    answer = await erika.send(command)
    note = answer[-1]["text"].split("\n\n", 1)[0]
    assert named in note, note
    helped = await erika.send("/hilfe")
    assert "Schaltflächen" not in helped[-1]["text"].split("\n\n", 1)[0]


async def test_declining_a_survey_names_the_command_that_asks_it_again(
    harness: Harness,
) -> None:
    """Found by a customer walk-through: declining the product survey was told "If you
    change your mind, send /start", which asks the other survey's consent."""
    john = harness.customer(language_code="en")
    await john.send("/start product")
    declined = texts(await john.press("No, thanks"))
    assert "If you change your mind, send /start product." in declined, declined
    asked = await john.send("/start product")
    assert labels(asked[-1]) == [["Yes, I agree", "No, thanks"]]
    assert "product" in texts(asked).lower()
    erika = harness.customer()
    await erika.send("/start")
    declined = texts(await erika.press("Nein, danke"))
    assert "Wenn Sie es sich anders überlegen, senden Sie /start. " in declined, declined


async def test_declining_another_survey_mid_survey_asks_the_open_question_again(
    harness: Harness,
) -> None:
    """Found by review: "No, thanks" to `/start product` mid-survey said nothing of the
    survey under way, and its question stayed far up the chat."""
    erika = harness.customer(language_code="en")
    await erika.send("/start")
    await erika.press("Yes, I agree")
    await erika.press("2")
    await erika.send("/start product")
    declined = await erika.press("No, thanks")
    assert texts(declined[:1]).startswith("No problem."), texts(declined)
    assert declined[-1]["text"].startswith(
        "Your survey is still open; here is its question again."
    ), texts(declined)
    await erika.send("slow delivery")
    await erika.press("No")
    [feedback] = await _feedback_of(harness, erika)
    assert (feedback.answers["rating"], feedback.answers["comment"]) == (2, "slow delivery")


async def test_keeping_data_mid_survey_asks_the_open_question_again(harness: Harness) -> None:
    erika = harness.customer(language_code="en")
    await erika.send("/start")
    await erika.press("Yes, I agree")
    await erika.press("2")
    await erika.send("/delete")
    kept = await erika.press("Keep my data")
    assert texts(kept[:1]) == "Nothing was erased."
    assert "Your survey is still open; here is its question again." in texts(kept[1:])
    await erika.send("slow delivery")
    await erika.press("No")
    [feedback] = await _feedback_of(harness, erika)
    assert feedback.answers["comment"] == "slow delivery"


async def test_commands_without_a_survey_under_way_ask_nothing_again(harness: Harness) -> None:
    erika = harness.customer()
    for command in ("/hilfe", "/datenschutz", "/gibtsnicht"):
        assert "läuft noch" not in texts(await erika.send(command)), command


@pytest.mark.parametrize(
    "typed",
    [
        "Überspringen",
        "überspringen.",
        " Skip! ",
        "skip?",
        "(skip)",
        "skip…",
        "skip\u200b",
        "U\u0308berspringen",
        "ｓｋｉｐ",
    ],
)
async def test_typing_the_skip_label_skips(harness: Harness, typed: str) -> None:
    """The question says "or skip this question": the word typed is no comment."""
    erika = harness.customer()
    await erika.send("/start")
    await erika.press("Ja, ich willige ein")
    await erika.send("4")
    answer = await erika.send(typed)
    assert "kontaktieren" in texts(answer)
    await erika.press("Nein")
    [feedback] = await _feedback_of(harness, erika)
    assert feedback.answers["comment"] is None
    assert "(übersprungen)" in texts(await erika.send("/meinedaten"))


@pytest.mark.parametrize(
    ("typed", "rating"),
    [
        ("4.", 4),
        ("4/5", 4),
        ("４", 4),
        (" 5 ", 5),
        # found by a German customer's review: words and stars were refused
        ("5 Sterne", 5),
        ("fünf", 5),
        ("Fuenf Sterne!", 5),
        ("ein Stern", 1),
        ("vier von fünf", 4),
        ("four stars", 4),
        ("3 out of 5", 3),
        ("★★★★", 4),
        ("⭐️⭐️", 2),
        ("★★★☆☆", 3),
        # the dative, and the scale's own labels (found by a German customer's review)
        ("4 von 5 Sternen", 4),
        ("4 Sternen", 4),
        ("sehr zufrieden", 5),
        ("Sehr unzufrieden!", 1),
        ("5 Sterne 👍", 5),
        # a keycap emoji (found by a customer walk-through: refused)
        ("4️⃣", 4),
        ("2\u20e3", 2),
        # said as a sentence (found by a customer walk-through: joined to the comment); in
        # German only from 7 on (see test_a_school_grade_said_as_a_sentence_is_no_rating)
        ("I'd give it a 5", 5),
        ("I would give it a 4", 4),
        # with decimals that are none (found by a customer walk-through: "only whole numbers")
        ("3.0", 3),
        ("4,0 von 5", 4),
        ("5.00!", 5),
    ],
)
async def test_a_typed_rating_counts_in_the_ways_people_write_it(
    harness: Harness, typed: str, rating: int
) -> None:
    erika = harness.customer()
    await erika.send("/start")
    await erika.press("Ja, ich willige ein")
    assert "Was sollten wir wissen?" in texts(await erika.send(typed))
    await erika.press("Überspringen")
    await erika.press("Nein")
    [feedback] = await _feedback_of(harness, erika)
    assert feedback.answers["rating"] == rating


@pytest.mark.parametrize(
    "typed",
    [
        *("6", "0", "4/10", "45", "sechs", "6 Sterne", "4 von 10", "★★★☆", "ein", "Super"),
        # signs around a number (found by review: the school grade "1+", very good, was
        # stored as the worst rating, "+1" too, and "<3", a heart, as a 3)
        *("+1", "1+", "1-", "<3", "5%", "(2)", "4?"),
    ],
)
async def test_a_typed_rating_out_of_the_scale_is_told_the_scale(
    harness: Harness, typed: str
) -> None:
    _, asked = await _typed_at_the_rating(harness, typed)
    assert asked["text"].startswith(
        "Bitte tippen Sie auf eine Schaltfläche oder schreiben Sie eine Zahl von 1 bis 5."
    )
    assert labels(asked) == [["1", "2", "3", "4", "5"]], "the question again, nothing taken"


@pytest.mark.parametrize(
    "typed",
    [
        *("3.5", "3,5", "4½", "1.5 Sterne", "3,5 von 5 Sternen", "4.5/5", "2,25", "3,05"),
        # a German school grade, very good, not the worst rating (a review of taking "3.0")
        *("1,0", "2,0"),
    ],
)
async def test_a_rating_between_two_numbers_is_told_only_whole_ones_count(
    harness: Harness, typed: str
) -> None:
    """Found by a customer walk-through: "3.5" was told to type a number from 1 to 5,
    which it is. Nothing is taken, the question asked again; a whole number then is."""
    erika, asked = await _typed_at_the_rating(harness, typed)
    assert asked["text"].startswith(
        "Diese Nachricht habe ich nicht gespeichert: Hier sind nur ganze Zahlen möglich. Bitte "
        "tippen Sie auf eine Schaltfläche oder schreiben Sie eine Zahl von 1 bis 5."
    )
    assert labels(asked) == [["1", "2", "3", "4", "5"]], "the question again, nothing taken"
    assert "Was sollten wir wissen?" in texts(await erika.send("4"))


@pytest.mark.parametrize("typed", ["5.5", "0,5", "4.5/10", "3.5 Euro"])
async def test_a_number_between_that_is_no_rating_of_this_scale_gets_the_scale(
    harness: Harness, typed: str
) -> None:
    _, asked = await _typed_at_the_rating(harness, typed)
    assert "nur ganze Zahlen" not in str(asked["text"])
    assert labels(asked) == [["1", "2", "3", "4", "5"]], "the question again, nothing taken"


async def _typed_at_the_rating(harness: Harness, typed: str) -> tuple[Customer, BotMessage]:
    """Erika, agreed, `typed` at the rating question; and the one reply to it."""
    erika = harness.customer()
    await erika.send("/start")
    await erika.press("Ja, ich willige ein")
    [asked] = await erika.send(typed)
    return erika, asked


async def test_a_button_of_the_survey_just_finished_says_so_briefly(harness: Harness) -> None:
    erika = harness.customer()
    await erika.send("/start")
    [*_, rating] = await erika.press("Ja, ich willige ein")
    five = harness.api.button_data(erika.chat_id, "5", rating["message_id"])
    await erika.press("3")
    await erika.press("Überspringen")
    await erika.press("Nein")
    assert await erika.press_data(rating["message_id"], five) == [], "a toast, no message"
    assert erika.last_toast() == "Diese Umfrage ist bereits abgeschlossen. Vielen Dank!"
    assert len(await _feedback_of(harness, erika)) == 1


async def _a_survey_after_one_finished_cancelled(
    harness: Harness, erika: Customer
) -> tuple[BotMessage, str]:
    """A feedback given, a second survey begun and cancelled: its rating question and
    the data of its "3" button."""
    await give_feedback(erika, "erstes", rating="3")
    [again] = await erika.send("/start")
    three = harness.api.button_data(erika.chat_id, "3", again["message_id"])
    await erika.send("/abbrechen")
    return again, three


async def test_a_button_of_a_cancelled_survey_is_not_called_finished(harness: Harness) -> None:
    """Found by a review: any feedback in the last half hour made a cancelled (or
    discarded, or replaced) survey's buttons say it was finished."""
    erika = harness.customer()
    again, three = await _a_survey_after_one_finished_cancelled(harness, erika)
    answer = texts(await erika.press_data(again["message_id"], three))
    assert "Diese Umfrage ist nicht mehr offen" in answer
    assert erika.last_toast() != "Diese Umfrage ist bereits abgeschlossen. Vielen Dank!"


@pytest.mark.parametrize(
    "discard",
    [("/abbrechen",), ("/loeschen", "Alles löschen"), ("/widerruf", "Speicherung Ihres Feedbacks")],
    ids=["cancel", "erase", "withdraw"],
)
async def test_answers_discarded_take_the_open_questions_buttons_with_them(
    harness: Harness, discard: tuple[str, ...]
) -> None:
    """Found by review: the rating buttons stayed, and a press said the survey had ended or
    expired after 30 minutes."""
    erika = harness.customer()
    await erika.send("/start")
    await erika.press("Ja, ich willige ein")
    command, *press = discard
    await erika.send(command)
    for label in press:
        await erika.press(label)
    ratings = [
        m["text"]
        for m in harness.api.messages(erika.chat_id)
        if any(label == "3" for row in m["buttons"] for label, _ in row)
    ]
    assert ratings == [], ratings


async def test_a_damaged_feedback_record_does_not_turn_answers_into_apologies(
    harness: Harness,
) -> None:
    """Found by a review: with a damaged record and no survey open, a press on an old
    button (and text) was answered "something went wrong"."""
    erika = harness.customer()
    again, three = await _a_survey_after_one_finished_cancelled(harness, erika)
    with closing(sqlite3.connect(harness.settings.data_dir / "feedback.db")) as db, db:
        db.execute("UPDATE feedback SET ciphertext = zeroblob(60)")
    for answer in (
        await erika.press_data(again["message_id"], three),
        await erika.send("noch etwas"),
    ):
        assert texts(answer) and "schiefgelaufen" not in texts(answer)


async def test_unfinished_answers_damaged_on_disk_do_not_fail_every_message(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by a key review: with the stored draft damaged, every message and /start was
    answered "something went wrong, try again in a moment" until it expired, logged at
    ERROR each time; it cannot be read again, so it is discarded and said so in the log."""
    erika = harness.customer()
    await erika.send("/start")
    await erika.press("Ja, ich willige ein")
    await erika.press("4")
    await harness.stop()
    with closing(sqlite3.connect(harness.settings.data_dir / "feedback.db")) as db:
        [(blob,)] = db.execute("SELECT ciphertext FROM drafts").fetchall()
        db.execute("UPDATE drafts SET ciphertext = ?", (blob[:-1] + bytes([blob[-1] ^ 1]),))
        db.commit()
    await harness.start()
    answer = await erika.send("Ein Kommentar")
    assert "schiefgelaufen" not in texts(answer)
    assert "Wie zufrieden" in texts(await erika.send("/start"))
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    assert "unfinished answers unreadable, discarded" in caplog.text


def test_a_school_grade_said_as_a_sentence_is_no_rating() -> None:
    """Found by review: "Ich gebe euch eine 1!", the school grade (very good), was stored as
    the worst rating. A German sentence counts from 7 on, where no grade is meant."""
    from flows.engine import typed_rating
    from flows.models import RatingStep

    to_ten = RatingStep.model_validate(
        {"id": "nps", "type": "rating", "prompt": {"de": "?", "en": "?"}, "min": 0, "max": 10}
    )
    assert typed_rating("Ich gebe eine 7", to_ten) == 7
    assert typed_rating("würde ich 8 geben", to_ten) == 8
    assert typed_rating("I'd give it a 1", to_ten) == 1
    for grade in ("Ich gebe euch eine 1!", "Ich gebe eine 1", "Ich würde eine 2 geben"):
        assert typed_rating(grade, to_ten) is None, grade
    assert typed_rating("Ich gebe 2 Sterne", to_ten) == 2, "with its unit, no grade"
