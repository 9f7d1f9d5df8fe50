"""/sprache (/language) through the real bot: the choice, where it counts, how it ends."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest

from bot.app import purge_expired
from bot.fakeapi import BotMessage, FakeBotApi
from flows.consent import optional_consent_text, sha256_hex
from flows.export import SCHEMA_PATH
from flows.i18n import translator
from flows.language import wished_for
from storage.interface import LanguageChoice, StorageFull, Store
from tests.bot.test_customer_messages import stored_comment
from tests.bot.test_rights import REPO, export_of
from tests.harness import Clock, Harness, files_contain, labels, make_settings, stored_rows, texts

RETENTION = timedelta(days=180)  # FEEDBACKBOT_RETENTION's default
GERMAN_HELP = "/sprache – die Sprache wählen, in der ich Ihnen schreibe"
ENGLISH_HELP = "/language – choose the language I write in"


def english_date(harness: Harness, after: timedelta) -> str:
    return translator("en").date(harness.clock() + after, harness.settings.timezone)


def now_shown(harness: Harness, message: BotMessage) -> BotMessage:
    """`message` as the chat shows it now (its buttons may have gone since)."""
    chat = harness.api.messages(message["chat_id"])
    return next(m for m in chat if m["message_id"] == message["message_id"])


def saves_of_choices(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[LanguageChoice]:
    """Every choice `store` is asked to save from now on (and saves), in order."""
    saved: list[LanguageChoice] = []
    save = store.save_language

    async def counting(pseudonym: str, choice: LanguageChoice) -> None:
        saved.append(choice)
        await save(pseudonym, choice)

    monkeypatch.setattr(store, "save_language", counting)
    return saved


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
        "From now on I'll write to you in English. The choice is stored, encrypted, and "
        "deleted 180 days after you last use this chat; /language changes it, and /delete "
        "erases it with everything else.\n\nSend /start to read the request for your consent "
        "in English and to give feedback."
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
    assert "Now: English, as you chose." in str(again["text"])
    assert "deleted 180 days after you last use this chat" in str(again["text"])


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
    assert str(said["text"]).startswith("From now on I'll write to you in English.")
    assert str(said["text"]).endswith(
        "Let's continue where you left off.\n\nWhat should we know? Write a short comment, or "
        "skip this question.\n(up to 2,000 characters; please leave out names, contact "
        "details and health information)"
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
        "Ich richte mich nach der Sprache Ihrer Telegram-App (Deutsch). Die Sprache, die Sie "
        "gewählt hatten, ist nicht mehr gespeichert.\n\nSenden Sie /start, um die Bitte um Ihre "
        "Einwilligung auf Deutsch zu lesen und Feedback zu geben."
    )
    assert languages_stored(harness) == []
    assert GERMAN_HELP in texts(await erika.send("/hilfe"))
    [again] = await erika.send("/sprache app")
    assert "Über Sie ist keine Sprachwahl gespeichert." in str(again["text"])


async def test_erasure_takes_the_choice_and_the_bot_follows_the_app_again(harness: Harness) -> None:
    erika = harness.customer()
    await erika.send("/sprache english")
    assert harness.store is not None
    pseudonym = harness.store.pseudonym(f"tg-user:{erika.user_id}")
    await erika.send("/start")
    await erika.press("Yes, I agree")  # a consent and a draft besides the choice
    question, _ = await erika.send("/delete")  # then the survey's question again
    assert "The language you chose with /language is erased too" in str(question["text"])
    [done] = await erika.press("Erase everything")
    assert "• chosen language: 1" in str(done["text"])
    assert GERMAN_HELP in texts(await erika.send("/hilfe")), "no stale choice from memory"
    assert languages_stored(harness) == []
    await harness.stop()
    assert files_contain(harness.settings.data_dir, pseudonym.encode()) == []


async def test_the_choice_ends_its_retention_after_the_last_message(harness: Harness) -> None:
    erika = harness.customer()
    await erika.send("/sprache english")
    harness.clock.advance(RETENTION - timedelta(seconds=1))
    assert ENGLISH_HELP in texts(await erika.send("/hilfe"))  # in use: kept on from here
    harness.clock.advance(RETENTION - timedelta(seconds=1))
    assert ENGLISH_HELP in texts(await erika.send("/hilfe")), "it used to lapse silently"
    # (its date is kept to the minute, rounded up: a copy of the file shows no finer time)
    harness.clock.advance(RETENTION + timedelta(minutes=1))
    assert GERMAN_HELP in texts(await erika.send("/hilfe")), "not kept past its date in memory"
    assert harness.app is not None and harness.app.bot_data.service is not None
    await purge_expired(harness.app.bot_data.service)
    assert languages_stored(harness) == []
    assert stored_rows(harness.settings.data_dir)["keys.db/data_keys"] == []


async def test_a_choice_in_use_gets_its_new_date_once_a_day_and_keeps_it_on_restart(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    erika = harness.customer()
    await erika.send("/sprache english")
    assert harness.store is not None
    saved = saves_of_choices(harness.store, monkeypatch)
    for _ in range(3):
        await erika.send("/hilfe")
    assert saved == [], "a choice made today needs no new date"
    harness.clock.advance(timedelta(days=30))
    for _ in range(3):
        harness.clock.advance(timedelta(hours=2))
        await erika.send("/hilfe")
    assert len(saved) == 1, "one write a day at most"
    assert saved[0].expires_at == harness.clock() - timedelta(hours=4) + RETENTION
    harness.clock.advance(timedelta(days=1, hours=1))
    await erika.send("/hilfe")
    assert len(saved) == 2, "and again the next day"
    assert saved[1].expires_at == harness.clock() + RETENTION
    await harness.restart()
    assert harness.store is not None
    pseudonym = harness.store.pseudonym(f"tg-user:{erika.user_id}")
    stored = await harness.store.language_of(pseudonym, harness.clock())
    assert stored is not None and stored.expires_at == saved[1].expires_at
    moved = translator("en").date(saved[1].expires_at, harness.settings.timezone)
    assert f"deleted automatically on {moved}." in texts(await erika.send("/mydata"))


async def test_with_a_short_retention_a_choice_in_use_is_kept_too(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """FEEDBACKBOT_RETENTION of hours: a renewal once a day would come too late; the
    date moves on after a tenth of the retention instead."""
    harness = Harness(api, make_settings(tmp_path / "data", retention="12h"), clock)
    await harness.start()
    try:
        erika = harness.customer()
        await erika.send("/sprache english")
        for _ in range(3):
            clock.advance(timedelta(hours=11))
            assert "/mydata" in texts(await erika.send("/hilfe")), "still in English"
    finally:
        await harness.stop()


@pytest.mark.parametrize(
    ("argument", "chosen"),
    [
        ("englisch bitte", "From now on I'll write to you in English."),
        ("Englisch.", "From now on I'll write to you in English."),
        ("auf Englisch", "From now on I'll write to you in English."),
        ("can you speak English?", "From now on I'll write to you in English."),
        ("Deutsch!", "Ab jetzt schreibe ich Ihnen auf Deutsch."),
    ],
)
async def test_a_language_named_with_a_word_around_it_is_chosen(
    harness: Harness, argument: str, chosen: str
) -> None:
    """Found by a hostile customer's walk-through: "/sprache englisch bitte" and
    "/sprache Englisch." were "I cannot write in that language"."""
    erika = harness.customer()
    said = texts(await erika.send(f"/sprache {argument}"))
    assert said.startswith(chosen), said
    assert len(languages_stored(harness)) == 1


async def test_unknown_languages_and_forged_buttons_store_nothing(harness: Harness) -> None:
    erika = harness.customer()
    [answer] = await erika.send("/sprache klingonisch")
    assert str(answer["text"]).startswith(
        "In dieser Sprache kann ich nicht schreiben.\n\nIn welcher Sprache"
    )
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


async def test_old_language_buttons_of_an_optional_consent_do_not_count_after_a_switch(
    harness: Harness,
) -> None:
    """After a restart the German copy keeps its buttons (which message shows them is kept
    in memory only). Pressed after switching to English, its "Ja" was recorded with the
    hash of the English text, which the person never saw."""
    erika = harness.customer()
    await erika.send("/start")
    await erika.press("Ja, ich willige ein")
    await erika.press("4")
    german = (await erika.send("Sehr nett"))[-1]
    assert "Dürfen wir Sie" in str(german["text"]) and german["buttons"]
    await harness.restart()
    assert "May we contact you" in texts(await erika.send("/sprache en"))
    await erika.press_data(
        german["message_id"], harness.api.button_data(erika.chat_id, "Ja, einverstanden", german)
    )
    assert erika.last_toast() == "This button belongs to an earlier survey."
    assert harness.store is not None and harness.app is not None
    pseudonym = harness.store.pseudonym(f"tg-user:{erika.user_id}")
    assert [c.purpose for c in await harness.store.consents(pseudonym)] == ["feedback"]

    assert "Thank you for your feedback!" in texts(await erika.press("Yes, I agree"))
    service = harness.app.bot_data.service
    assert service is not None
    flow = service.catalog.flows["feedback"]
    [step] = [s for s in flow.steps if s.id == "contact"]
    processing = service.processing
    shown = optional_consent_text(
        flow,
        step,  # type: ignore[arg-type]
        translator("en"),
        processing.retention_of(flow.id),
        processing.recipients,
    )
    [contact] = [c for c in await harness.store.consents(pseudonym) if c.purpose == "contact"]
    assert contact.text_sha256 == sha256_hex(shown)


async def test_a_broken_store_still_gets_an_apology(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lookup of the language on every update must not silence the bot when the store
    fails with SQLite's own errors: the apology comes, in the app's language."""
    erika = harness.customer()
    assert harness.store is not None

    async def broken(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(harness.store, "language_of", broken)
    answer = texts(await erika.send("/hilfe"))
    assert "Ich sammle Feedback" in answer and "schiefgelaufen" not in answer
    monkeypatch.setattr(harness.store, "load_draft", broken)
    assert "etwas schiefgelaufen" in texts(await erika.send("/start"))


async def test_an_unreadable_choice_does_not_block_access_or_erasure(harness: Harness) -> None:
    erika = harness.customer()
    await erika.send("/sprache english")
    with closing(sqlite3.connect(harness.settings.data_dir / "feedback.db")) as db, db:
        db.execute("UPDATE languages SET ciphertext = zeroblob(60)")
    await harness.restart()  # nothing of it left in memory
    assert "Über Sie gespeicherte Daten" not in texts(await erika.send("/meinedaten"))
    [question] = await erika.send("/loeschen")
    assert "Sprache" in str(question["text"]), "offered, and says the language goes too"
    [done] = await erika.press("Alles löschen")
    assert "• gewählte Sprache: 1" in str(done["text"])
    # Only what there was (review: four lines of zeros, and "your encrypted answers")
    assert ": 0" not in str(done["text"]) and "Antworten kann niemand" not in str(done["text"])
    assert languages_stored(harness) == []


async def test_an_erasure_cut_short_leaves_no_choice_in_memory(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    erika = harness.customer()
    await erika.send("/sprache english")
    assert harness.store is not None

    async def cut_short(*args: object, **kwargs: object) -> None:
        raise StorageFull("no space")

    monkeypatch.setattr(harness.store, "_delete_rows", cut_short)
    await erika.send("/delete")
    await erika.press("Erase everything")  # the key is gone; the rows are left to the purge
    assert GERMAN_HELP in texts(await erika.send("/hilfe"))


async def test_forged_presses_in_a_group_change_nothing_and_say_nothing_there(
    harness: Harness,
) -> None:
    """The bot shows no language or erasure buttons in groups: a press forged there must
    not store a choice, erase anyone, or post the answer into the group."""
    erika = harness.customer()
    await erika.send("/sprache english")
    member = harness.customer(erika.user_id, chat_id=-100555, chat_type="supergroup")
    [pointer] = await member.send("/start")  # the one message the bot writes there
    minute = int(harness.clock().timestamp() // 60)
    for data in ("l:de", f"d:y:{minute}", "c:feedback:x:de:y"):
        assert await member.press_data(pointer["message_id"], data) == []
        assert erika.last_toast() == "Diese Schaltfläche ist nicht gültig."
    assert len(languages_stored(harness)) == 1, "still English, not erased"
    assert ENGLISH_HELP in texts(await erika.send("/hilfe"))


async def test_an_app_language_the_bot_does_not_speak_is_not_called_the_apps(
    harness: Harness,
) -> None:
    pierre = harness.customer(77, language_code="fr")
    [question] = await pierre.send("/sprache")
    assert (
        "Jetzt: Deutsch, meine Standardsprache (die Sprache Ihrer Telegram-App spreche ich "
        "nicht)." in str(question["text"])
    )
    await pierre.send("/sprache english")
    [said] = await pierre.send("/language app")
    # "reset", "default" as well (found by an English customer's review: "I cannot
    # write in that language")
    for back in ("/language reset", "/sprache zurücksetzen", "/language default"):
        await pierre.send("/sprache english")
        assert (await pierre.send(back))[0]["text"] == said["text"], back
    assert said["text"] == (
        "Die Sprache Ihrer Telegram-App spreche ich nicht; ich schreibe Ihnen daher auf "
        "Deutsch, meiner Standardsprache. Die Sprache, die Sie gewählt hatten, ist nicht mehr "
        "gespeichert.\n\nSenden Sie /start, um die Bitte um Ihre Einwilligung auf Deutsch zu "
        "lesen und Feedback zu geben."
    )


@pytest.mark.parametrize("argument", ["en-GB", "EN", " english ", "en_US", "Englisch"])
async def test_a_language_may_be_named_in_several_ways(harness: Harness, argument: str) -> None:
    [said] = await harness.customer().send(f"/sprache {argument}")
    assert str(said["text"]).startswith("From now on I'll write to you in English.")


async def test_a_draft_of_a_removed_survey_is_answered_in_the_chosen_language(
    harness: Harness,
) -> None:
    erika = harness.customer()
    await erika.send("/start")
    await erika.press("Ja, ich willige ein")
    assert harness.app is not None and harness.app.bot_data.service is not None
    catalog = harness.app.bot_data.service.catalog
    monkeypatched = dict(catalog.flows)
    del monkeypatched["feedback"]
    catalog.flows.clear()
    catalog.flows.update(monkeypatched)
    await erika.send("/sprache english")
    assert texts(await erika.send("4")) == (
        "The survey you had started is no longer offered, so your answers to it were "
        "discarded. Send /start to give feedback."
    )


async def test_start_over_a_removed_survey_says_its_answers_went(harness: Harness) -> None:
    """Found by a flow author's walk-through: /start showed another survey's request, and
    a text typed under it was told "this survey is no longer available"."""
    erika = harness.customer()
    started = await erika.send("/start product")
    await erika.press(labels(started[-1])[0][0])
    await erika.press("4")
    assert harness.app is not None and harness.app.bot_data.service is not None
    del harness.app.bot_data.service.catalog.flows["product"]
    said = texts(await erika.send("/start"))
    assert said.startswith(
        "Die Umfrage, die Sie begonnen hatten, wird nicht mehr angeboten; Ihre Antworten dazu "
        "wurden daher verworfen."
    ), said
    assert "Sind Sie einverstanden?" in said, "the general survey's request"
    typed = texts(await erika.send("Alles gut"))
    assert typed.startswith(
        "Diese Nachricht habe ich nicht gespeichert: Antworten kann ich erst annehmen, wenn Sie "
        "der Einwilligungsanfrage oben zugestimmt haben. Um teilzunehmen, tippen Sie darunter "
        "auf „Ja, ich willige ein“."
    ), typed
    assert "/start" not in typed, "a plain /start would begin another survey for some"
    assert texts(await erika.send("Nein danke")) == (
        "In Ordnung: Von dieser Umfrage wird nichts gespeichert."
    )


async def test_staff_get_their_choice_in_the_staff_chat_too(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    staff_id, staff_chat = 7001, -1007002
    settings = make_settings(tmp_path / "data", staff_ids=str(staff_id), staff_chat_id=staff_chat)
    desk = Harness(api=api, settings=settings, clock=clock)
    await desk.start()
    try:
        await desk.customer(staff_id).send("/sprache english")
        in_chat = desk.customer(staff_id, chat_id=staff_chat, chat_type="supergroup")
        rules = texts(await in_chat.send("/zusammenfassung"))
        assert "confidential" in rules and "vertraulich" not in rules
    finally:
        await desk.stop()


async def test_an_app_that_reports_no_language_is_not_said_to_speak_another(
    harness: Harness,
) -> None:
    [question] = await harness.customer(78, language_code=None).send("/sprache")
    assert (
        "Jetzt: Deutsch, meine Standardsprache (Ihre Telegram-App gibt nicht an, welche "
        "Sprache sie verwendet)." in str(question["text"])
    )


async def test_switching_at_the_consent_request_points_to_it_in_the_new_language(
    harness: Harness,
) -> None:
    """The request on the screen stays in the language it was shown in (its proof is of
    that text); whoever switched because they cannot read it is told how to get it anew."""
    erika = harness.customer()
    await erika.send("/start")
    [said] = await erika.send("/sprache en")
    assert str(said["text"]).endswith(
        "\n\nSend /start to read the request for your consent in English and to give feedback."
    )
    [request] = await erika.send("/start")
    assert "Do you agree?" in str(request["text"])


async def test_switching_after_agreeing_points_to_feedback_not_to_a_request(
    harness: Harness,
) -> None:
    """Whoever agreed already is asked nothing again by /start: told only where feedback
    is given, not promised a request they will not see."""
    erika = harness.customer()
    await erika.send("/start")
    await erika.press("Ja, ich willige ein")
    await erika.press("4")
    await erika.press("Überspringen")
    await erika.press("Nein")
    [said] = await erika.send("/sprache en")
    assert str(said["text"]).endswith("\n\nSend /start to give feedback."), said["text"]
    started = texts(await erika.send("/start"))
    assert "Do you agree?" not in started and "How satisfied" in started


async def test_erasing_only_a_language_choice_says_so(harness: Harness) -> None:
    erika = harness.customer()
    await erika.send("/start")
    await erika.press("Nein, danke")
    await erika.send("/sprache english")
    summary = texts(await erika.send("/mydata"))
    assert "The language you chose with /language: English" in summary
    assert "Retention: each response" not in summary, "there is none"
    [question] = await erika.send("/delete")
    assert question["text"] == (
        "Do you want to erase all data stored about you? This covers the language you chose with "
        "/language; I then follow your Telegram app's language again.\n\n"
        "Only an encrypted note that the erasure took place (none of your answers) is kept, so "
        "that it is carried out again should our data be restored from a backup."
    )
    done = texts(await erika.press("Erase everything"))
    assert "• chosen language: 1" in done
    # nobody who never gave feedback is told to give it "again" (a customer walk-through)
    assert "again at any time" not in done and "Send /start to give feedback." in done


async def test_a_switch_the_survey_cannot_take_is_said(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    erika = harness.customer()
    await erika.send("/start")
    await erika.press("Ja, ich willige ein")
    assert harness.store is not None

    async def full(*args: object, **kwargs: object) -> None:
        raise StorageFull("no space")

    monkeypatch.setattr(harness.store, "save_draft", full)
    [said] = await erika.send("/sprache en")
    assert str(said["text"]).endswith(
        "The feedback you are giving goes on in German for now: its answers could not be "
        "saved in the new language right now."
    )


async def test_a_new_date_that_cannot_be_saved_keeps_the_choice_until_its_old_one(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    erika = harness.customer()
    await erika.send("/sprache english")
    assert harness.store is not None

    async def full(pseudonym: str, choice: LanguageChoice) -> None:
        raise StorageFull("database or disk is full")

    monkeypatch.setattr(harness.store, "save_language", full)
    harness.clock.advance(timedelta(days=30))
    answer = texts(await erika.send("/hilfe"))
    assert ENGLISH_HELP in answer and "Sorry" not in answer
    harness.clock.advance(RETENTION - timedelta(days=30))
    assert GERMAN_HELP in texts(await erika.send("/hilfe")), "it lapses at the date it had"


async def test_a_staff_members_word_in_another_group_does_not_keep_their_choice(
    api: FakeBotApi, clock: Clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """'deleted after you last use this chat': staff in some other group used to move
    the choice's date on too."""
    staff_id, staff_chat = 7001, -1007002
    settings = make_settings(tmp_path / "data", staff_ids=str(staff_id), staff_chat_id=staff_chat)
    desk = Harness(api=api, settings=settings, clock=clock)
    await desk.start()
    try:
        await desk.customer(staff_id).send("/sprache english")
        assert desk.store is not None
        saved = saves_of_choices(desk.store, monkeypatch)
        desk.clock.advance(timedelta(days=30))
        elsewhere = desk.customer(staff_id, chat_id=-1009999, chat_type="supergroup")
        await elsewhere.send("/zusammenfassung")
        assert saved == [], "another group is not the person's chat with the bot"
        in_chat = desk.customer(staff_id, chat_id=staff_chat, chat_type="supergroup")
        await in_chat.send("/zusammenfassung")
        assert len(saved) == 1, "the staff chat is"
    finally:
        await desk.stop()


async def test_choosing_the_language_already_in_use_mid_survey_goes_on_there(
    harness: Harness,
) -> None:
    """A choice that changes nothing must not send the person to /start: the survey
    under way goes on, its open question asked again."""
    erika = harness.customer()
    await erika.send("/start")
    await erika.press("Ja, ich willige ein")
    await erika.press("2")
    for command in ("/sprache deutsch", "/language de"):
        [said] = await erika.send(command)
        assert "Mit /start können Sie Feedback geben" not in str(said["text"]), command
        assert "Machen wir dort weiter, wo Sie aufgehört haben." in str(said["text"]), command
        assert labels(said) == [["Überspringen"]], command


async def test_a_language_typed_under_the_question_chooses_it(harness: Harness) -> None:
    """Found by a customer walk-through: "Englisch bitte" typed under the question which
    language was kept as the comment of the survey asked again below it, and the bot
    went on in German; "reset" was told that no question was open."""
    erika = harness.customer()
    await erika.send("/start")
    await erika.press("Ja, ich willige ein")
    await erika.press("4")
    asked = await erika.send("/sprache")
    assert "In welcher Sprache soll ich Ihnen schreiben?" in texts(asked)
    said = texts(await erika.send("Englisch bitte"))
    assert said.startswith("From now on I'll write to you in English.")
    assert "What should we know?" in said
    await erika.send("Sehr nett")
    await erika.press("No")
    assert harness.store is not None
    pseudonym = harness.store.pseudonym(f"tg-user:{erika.user_id}")
    [record] = await harness.store.feedback_of(pseudonym, harness.clock())
    assert record.answers["comment"] == "Sehr nett"
    # Back to the app's, typed
    await erika.send("/language")
    assert texts(await erika.send("reset")).startswith("Ich richte mich nach der Sprache")
    assert languages_stored(harness) == []


@pytest.mark.parametrize(
    ("typed", "wanted"),
    [
        ("English please", "en"),
        ("Can you speak English?", "en"),
        ("I don't speak German", "en"),
        ("Ich spreche kein Englisch", "de"),
        ("auf Deutsch bitte", "de"),
        # found by a customer walk-through: stored as comments
        ("Spreche kein Englisch", "de"),
        ("Bitte auf Englisch, mein Mann versteht kein Deutsch", "en"),
        ("Mein Mann versteht kein Deutsch, bitte Englisch", "en"),
        ("English please, my husband doesn't understand German", "en"),
        ("Meine Mutter spricht kaum Englisch", "de"),
        # after a greeting (found by a customer walk-through: told in German that feedback
        # needs consent first)
        ("Hello, do you speak English?", "en"),
        ("Hallo, auf Deutsch bitte", "de"),
        ("Hi there", None),
        ("Mein Mann spricht kein Deutsch und wurde trotzdem gut bedient", None),
        ("Der Kellner versteht kein Deutsch", None),
        ("My husband doesn't speak German but the staff were patient", None),
        ("The English menu was wrong", None),
        ("Deutsche Bahn", None),
        ("German food was great", None),
    ],
)
def test_a_language_asked_for_in_words_is_told_apart(typed: str, wanted: str | None) -> None:
    assert wished_for(typed) == wanted


async def test_a_language_asked_for_without_the_question_points_to_it(harness: Harness) -> None:
    """Found by customer walk-throughs: "English please" under a German question was stored
    as the comment; before consent, it was told in German that feedback needs consent."""
    tourist = harness.customer(5150, language_code="de")
    await tourist.send("/start")
    said = texts(await tourist.send("English please"))
    assert said.startswith(
        "I did not store this message. To have me write in English, send /language and tap "
        "“English”."
    ), said
    assert languages_stored(harness) == [], "pointed to, not chosen"
    await tourist.press("Ja, ich willige ein")
    await tourist.press("4")
    said = texts(await tourist.send("Can you speak English?"))
    assert said.startswith("I did not store this message. To have me write in English"), said
    assert "Was sollten wir wissen?" in said, "the open question again"
    await tourist.send("Sehr nett")
    await tourist.press("Nein")
    assert await stored_comment(harness, tourist) == "Sehr nett"
    erika = harness.customer(5151, language_code="en")
    await erika.send("/start")
    said = texts(await erika.send("Deutsch bitte"))
    assert said.startswith(
        "Diese Nachricht habe ich nicht gespeichert. Damit ich Ihnen auf Deutsch schreibe, "
        "senden Sie /sprache und tippen Sie auf „Deutsch“."
    ), said
    already = texts(await erika.send("English please"))
    assert "To have me write in" not in already, "written in English already"


@pytest.mark.parametrize("typed", ["de", "auf Deutsch", "German please", "deutsch!"])
async def test_languages_typed_in_several_ways_are_taken(harness: Harness, typed: str) -> None:
    john = harness.customer(language_code="en")
    await john.send("/language")
    said = texts(await john.send(typed))
    assert said.startswith("Ab jetzt schreibe ich Ihnen auf Deutsch."), said


async def test_a_language_typed_long_after_the_question_is_text_again(harness: Harness) -> None:
    john = harness.customer(language_code="en")
    await john.send("/language")
    harness.clock.advance(timedelta(minutes=11))
    said = texts(await john.send("German"))
    assert not said.startswith("Ab jetzt"), said
    assert languages_stored(harness) == []
