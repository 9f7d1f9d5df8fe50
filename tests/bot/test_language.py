"""/sprache (/language) through the real bot: the choice, where it counts, how it ends."""

from __future__ import annotations

import json
from datetime import timedelta

import jsonschema
import pytest

from bot.app import purge_expired
from bot.fakeapi import BotMessage
from flows.export import SCHEMA_PATH
from flows.i18n import translator
from storage.interface import LanguageChoice, StorageFull
from tests.bot.test_rights import REPO, export_of
from tests.harness import Harness, files_contain, labels, stored_rows, texts

RETENTION = timedelta(days=180)  # FEEDBACKBOT_RETENTION's default
GERMAN_HELP = "/sprache – meine Sprache wählen"
ENGLISH_HELP = "/language – choose my language"


def english_date(harness: Harness, after: timedelta) -> str:
    return translator("en").date(harness.clock() + after, harness.settings.timezone)


def now_shown(harness: Harness, message: BotMessage) -> BotMessage:
    """`message` as the chat shows it now (its buttons may have gone since)."""
    chat = harness.api.messages(message["chat_id"])
    return next(m for m in chat if m["message_id"] == message["message_id"])


def languages_stored(harness: Harness) -> list[tuple[object, ...]]:
    return stored_rows(harness.settings.data_dir)["feedback.db/languages"]


async def test_the_choice_is_offered_made_and_kept_for_everything_after(harness: Harness) -> None:
    erika = harness.customer()  # her app says German
    [question] = await erika.send("/sprache")
    assert question["text"] is not None
    assert question["text"].startswith("In welcher Sprache soll ich Ihnen schreiben?")
    assert "Jetzt: Deutsch, die Sprache Ihrer Telegram-App." in question["text"]
    assert labels(question) == [["Deutsch", "English"], ["Wie meine Telegram-App"]]
    assert languages_stored(harness) == [], "asking stores nothing"

    [said] = await erika.press("English")
    assert said["text"] == (
        "From now on I write to you in English. The choice is stored, encrypted, until "
        f"{english_date(harness, RETENTION)}; /language changes it, and /delete erases it "
        "with everything else."
    )
    assert now_shown(harness, question)["buttons"] == [], "the question's buttons go once answered"
    assert len(languages_stored(harness)) == 1

    assert ENGLISH_HELP in texts(await erika.send("/hilfe"))
    consent = await erika.send("/start")
    assert labels(consent[-1])[0][0] == "Yes, I agree"
    assert "How satisfied" in texts(await erika.press("Yes, I agree"))
    assert "What should we know?" in texts(await erika.press("4"))
    await erika.send("Sehr nett")
    thanks = await erika.press("No")
    assert "Thank you for your feedback!" in texts(thanks)

    # Kept in the store, not only in memory: a restart answers in English too.
    await harness.restart()
    assert ENGLISH_HELP in texts(await erika.send("/help"))
    [again] = await erika.send("/language")
    until = english_date(harness, RETENTION)
    assert f"Now: English, as you chose; the choice is stored (encrypted) until {until}." in str(
        again["text"]
    )


async def test_the_copy_of_ones_data_shows_the_choice(harness: Harness) -> None:
    erika = harness.customer()
    await erika.send("/sprache englisch")
    answer = await erika.send("/meinedaten")
    assert "The language you chose with /language: English (on " in texts(answer)
    assert f"deleted automatically on {english_date(harness, RETENTION)}." in texts(answer)
    export = export_of(answer)
    jsonschema.validate(export, json.loads((REPO / SCHEMA_PATH).read_text()))
    chosen = export["chosen_language"]
    assert (chosen["language"], chosen["language_name"]) == ("en", "English")
    assert export["consents"] == [] and export["feedback"] == []


async def test_switching_mid_survey_asks_the_open_question_again_in_the_new_language(
    harness: Harness,
) -> None:
    erika = harness.customer()
    await erika.send("/start")
    await erika.press("Ja, ich willige ein")
    comment_question = (await erika.press("4"))[-1]
    assert "Was sollten wir wissen?" in str(comment_question["text"])

    [said] = await erika.send("/sprache en")  # one message, one notification
    assert str(said["text"]).startswith("From now on I write to you in English.")
    assert str(said["text"]).endswith(
        "Let's continue where you left off.\n\nWhat should we know? Write a short comment, or "
        "skip this question.\n(up to 2,000 characters)"
    )
    assert labels(said) == [["Skip"]]
    assert now_shown(harness, comment_question)["buttons"] == [], (
        "the German copy's Skip button goes"
    )
    contact = await erika.send("Sehr nett")
    assert "May we contact you in this chat" in texts(contact)
    assert "Thank you for your feedback!" in texts(await erika.press("No"))
    assert harness.store is not None
    pseudonym = harness.store.pseudonym(f"tg-user:{erika.user_id}")
    [record] = await harness.store.feedback_of(pseudonym, harness.clock())
    assert record.answers["rating"] == 4 and record.answers["comment"] == "Sehr nett"


async def test_like_my_app_deletes_the_choice(harness: Harness) -> None:
    erika = harness.customer()
    await erika.send("/sprache english")
    assert len(languages_stored(harness)) == 1
    await erika.send("/language")
    [said] = await erika.press("Like my Telegram app")
    assert said["text"] == (
        "Ich richte mich wieder nach der Sprache Ihrer Telegram-App (Deutsch). Die Sprache, "
        "die Sie gewählt hatten, ist nicht mehr gespeichert."
    )
    assert languages_stored(harness) == []
    assert GERMAN_HELP in texts(await erika.send("/hilfe"))
    [again] = await erika.send("/sprache app")
    assert "eine Sprachwahl ist über Sie nicht gespeichert" in str(again["text"])


async def test_erasure_takes_the_choice_and_the_bot_follows_the_app_again(harness: Harness) -> None:
    erika = harness.customer()
    await erika.send("/sprache english")
    assert harness.store is not None
    pseudonym = harness.store.pseudonym(f"tg-user:{erika.user_id}")
    [question] = await erika.send("/delete")  # only the choice is stored: still something
    assert "The language you chose with /language is erased too" in str(question["text"])
    [done] = await erika.press("Erase everything")
    assert "• chosen language: 1" in str(done["text"])
    assert GERMAN_HELP in texts(await erika.send("/hilfe")), "no stale choice from memory"
    assert languages_stored(harness) == []
    await harness.stop()
    assert files_contain(harness.settings.data_dir, pseudonym.encode()) == []


async def test_the_choice_ends_at_its_deletion_date(harness: Harness) -> None:
    erika = harness.customer()
    await erika.send("/sprache english")
    harness.clock.advance(RETENTION - timedelta(seconds=1))
    assert ENGLISH_HELP in texts(await erika.send("/hilfe"))
    harness.clock.advance(timedelta(seconds=1))
    assert GERMAN_HELP in texts(await erika.send("/hilfe")), "not kept past its date in memory"
    assert harness.app is not None and harness.app.bot_data.service is not None
    await purge_expired(harness.app.bot_data.service)
    assert languages_stored(harness) == []
    assert stored_rows(harness.settings.data_dir)["keys.db/data_keys"] == []


async def test_unknown_languages_and_forged_buttons_store_nothing(harness: Harness) -> None:
    erika = harness.customer()
    [answer] = await erika.send("/sprache klingonisch")
    assert str(answer["text"]).startswith("Diese Sprache kenne ich nicht.\n\nIn welcher Sprache")
    assert labels(answer) == [["Deutsch", "English"], ["Wie meine Telegram-App"]]
    await erika.press_data(answer["message_id"], "l:fr")
    assert erika.last_toast() == "Diese Schaltfläche ist nicht gültig."
    await erika.press_data(answer["message_id"], "l:")
    assert erika.last_toast() == "Diese Schaltfläche ist nicht gültig."
    assert languages_stored(harness) == []
    assert stored_rows(harness.settings.data_dir)["keys.db/data_keys"] == []


async def test_in_a_group_the_command_is_refused_and_nothing_stored(harness: Harness) -> None:
    member = harness.customer(chat_id=-100555, chat_type="supergroup")
    answer = await member.send("/sprache english")
    assert "privaten Chat" in texts(answer)
    assert languages_stored(harness) == []


async def test_a_full_store_keeps_the_language_in_use(harness: Harness) -> None:
    erika = harness.customer()
    store = harness.store
    assert store is not None
    await store.set_max_page_count(1)
    now = harness.clock()
    with pytest.raises(StorageFull):
        for n in range(5000):
            choice = LanguageChoice(locale="de", chosen_at=now, expires_at=now + RETENTION)
            await store.save_language(store.pseudonym(f"filler:{n}"), choice)
    [said] = await erika.send("/sprache english")
    assert said["text"] == (
        "Entschuldigung, Ihre Wahl konnte gerade nicht gespeichert werden; ich schreibe Ihnen "
        "daher weiter auf Deutsch. Bitte versuchen Sie es später noch einmal."
    )
    assert GERMAN_HELP in texts(await erika.send("/hilfe"))
    await store.set_max_page_count(None)
    await erika.send("/sprache english")
    assert ENGLISH_HELP in texts(await erika.send("/hilfe"))


async def test_an_apology_comes_in_the_chosen_language(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The error handler gets a context of its own, without the update's lookup."""
    erika = harness.customer()
    await erika.send("/sprache english")
    assert harness.app is not None and harness.app.bot_data.service is not None

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a failure on our side")

    monkeypatch.setattr(harness.app.bot_data.service, "start", broken)
    answer = await erika.send("/start")
    assert texts(answer) == "Sorry, something went wrong on our side. Please try again in a moment."
