"""Staff answering a customer who agreed to be contacted, through the real bot: what the
customer gets, what staff see and are told, what is audited, and what is refused."""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import logging
import re
import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bot.app import warn_if_contact_unused
from bot.cli.staff import shown_detail
from bot.fakeapi.model import BotMessage
from flows.answers import from_staff
from flows.catalog import FlowCatalog
from flows.i18n import translator
from flows.replies import Outcome
from storage import StorageFull
from storage.interface import AuditEntry, LanguageChoice, StoreError
from tests.bot.test_retractions import hold_alerts
from tests.fakes.botapi import FakeBotApi
from tests.harness import (
    Clock,
    Harness,
    files_contain,
    leaked_into_log,
    make_settings,
    stored_rows,
    texts,
)

STAFF, STAFF_CHAT, OUTSIDER, COLLEAGUE = 7001, -1007002, 7003, 7004
CUSTOMER = 4444
YES = "Ja, einverstanden"
ANSWER = "Das tut uns leid! Wir haben die Bestellung erstattet.\nIhr Team Kundenservice"


@pytest.fixture
async def desk(
    api: FakeBotApi,
    clock: Clock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    request: pytest.FixtureRequest,
) -> AsyncIterator[Harness]:
    contact = getattr(request, "param", "service@beispiel.de")
    settings = make_settings(
        tmp_path / "data",
        staff_ids=f"{STAFF},{COLLEAGUE}",
        staff_chat_id=STAFF_CHAT,
        alert_threshold=2,
        controller_name="Beispiel GmbH",
        controller_contact=contact,
    )
    harness = Harness(api=api, settings=settings, clock=clock)
    # Commands are no needles of the log check (their names are logged): the answers are.
    harness.personal.update(ANSWER.splitlines())
    await harness.start()
    yield harness
    await harness.stop()
    # Nobody's words, names, nor the answers staff wrote, are in the log.
    records = [*caplog.get_records("setup"), *caplog.get_records("call"), *caplog.records]
    assert not leaked_into_log(records, harness.personal)


async def low_rating(
    desk: Harness, user_id: int = CUSTOMER, contact: str = YES, rating: str = "1"
) -> BotMessage:
    """A customer rates with a comment and answers the contact question; the alert."""
    customer = desk.customer(user_id, first_name="Mechthild-Kontakt")
    await customer.send("/start")
    await customer.press("Ja, ich willige ein")
    await customer.press(rating)
    await customer.send("Lieferung kam nie an")
    await customer.press(contact)
    assert desk.app is not None
    await asyncio.gather(*desk.app.bot_data.background)  # the alert's own task
    return desk.api.messages(STAFF_CHAT)[-1]


def reference(alert: BotMessage) -> str:
    found = re.search(r"/antworten ([0-9a-f]{10}) ", alert["text"] or "")
    assert found, alert["text"]
    return found.group(1)


async def in_staff_chat(
    desk: Harness, text: str, user_id: int = STAFF, reply_to: int | None = None, **more: Any
) -> list[BotMessage]:
    return await desk.deliver(
        desk.api.user_message(
            user_id,
            text,
            chat_id=STAFF_CHAT,
            chat_type="supergroup",
            reply_to_message_id=reply_to,
            **more,
        )
    )


async def confirmed(desk: Harness, user_id: int = STAFF) -> None:
    staff = desk.customer(user_id)
    await staff.send("/zusammenfassung")
    await staff.press("Ich bestätige")


async def audit(desk: Harness) -> list[tuple[str, str | None, str | None]]:
    assert desk.store is not None
    entries = await desk.store.audit_entries(desk.clock() - timedelta(days=1000))
    return [(e.event, e.actor, e.detail) for e in entries if e.event == "answer"]


def to(messages: list[BotMessage], chat_id: int) -> str:
    return texts([m for m in messages if m["chat_id"] == chat_id])


async def test_an_answer_to_the_alert_reaches_the_customer_and_nobody_learns_who(
    desk: Harness,
) -> None:
    alert = await low_rating(desk)
    text = alert["text"] or ""
    assert "Mechthild" not in text and str(CUSTOMER) not in text
    assert "zugestimmt, zu diesem Feedback kontaktiert zu werden" in text
    await confirmed(desk)
    assert desk.settings.data_dir is not None
    before = stored_rows(desk.settings.data_dir)
    sent = await in_staff_chat(desk, f"/antworten {ANSWER}", reply_to=alert["message_id"])
    customer = to(sent, CUSTOMER)
    assert customer.startswith("Nachricht von Beispiel GmbH zu Ihrem Feedback vom ")
    assert "(„Kundenfeedback“):" in customer.splitlines()[0]
    assert ANSWER in customer, "line breaks kept"
    assert customer.endswith(
        "Sie haben zugestimmt, in diesem Chat zu Ihrem Feedback kontaktiert zu werden. Auf "
        "diese Nachricht können Sie hier nicht antworten: Bitte schreiben Sie an "
        "service@beispiel.de. Mit /widerruf widerrufen Sie die Einwilligung."
    )
    assert to(sent, STAFF_CHAT) == (
        f"Ihre Antwort zu {reference(alert)} wurde an die Kundin oder den Kunden gesendet."
    )
    assert "Mechthild" not in to(sent, STAFF_CHAT) and str(CUSTOMER) not in to(sent, STAFF_CHAT)
    assert await audit(desk) == [("answer", f"staff:{STAFF}", "feedback")]
    # Nothing of the answer is kept, not even encrypted: the audit entry is all that is new.
    after = stored_rows(desk.settings.data_dir)
    assert [table for table in after if after[table] != before.get(table)] == ["feedback.db/audit"]
    assert not files_contain(desk.settings.data_dir, b"Bestellung erstattet")


async def test_a_second_answer_in_reply_to_the_word_that_the_first_was_sent_reaches_them(
    desk: Harness,
) -> None:
    """Found by a staff review: "/antworten Nachtrag …" in reply to "Ihre Antwort zu …
    wurde gesendet" was refused, saying the reference is taken off once the customer
    withdraws, as if they had; after a withdrawal it is refused as for the alert."""
    alert = await low_rating(desk)
    await confirmed(desk)
    sent = await in_staff_chat(desk, f"/antworten {ANSWER}", reply_to=alert["message_id"])
    [word] = [m for m in sent if m["chat_id"] == STAFF_CHAT]
    assert "gesendet" in (word["text"] or "") and to(sent, CUSTOMER)
    more = await in_staff_chat(
        desk, "/antworten Nachtrag: Gutschein folgt", reply_to=word["message_id"]
    )
    assert "Nachtrag: Gutschein folgt" in to(more, CUSTOMER)
    assert "bereits einmal beantwortet" in to(more, STAFF_CHAT), to(more, STAFF_CHAT)
    [again] = [m for m in more if m["chat_id"] == STAFF_CHAT]
    third = await in_staff_chat(desk, "/antworten Und noch", reply_to=again["message_id"])
    assert to(third, STAFF_CHAT).endswith("Dieses Feedback wurde bereits zweimal beantwortet.")
    await desk.customer(CUSTOMER).send("/widerruf")
    await desk.customer(CUSTOMER).press("Kontaktaufnahme")
    late = await in_staff_chat(desk, "/antworten Noch etwas", reply_to=again["message_id"])
    assert "kann nicht beantwortet werden" in to(late, STAFF_CHAT) and not to(late, CUSTOMER)
    assert [a[0] for a in await audit(desk)] == ["answer", "answer", "answer"]


async def test_the_command_works_in_private_and_the_customer_reads_their_language(
    desk: Harness,
) -> None:
    alert = await low_rating(desk)
    customer = desk.customer(CUSTOMER)
    await customer.send("/sprache")
    await customer.press("English")
    ref = reference(alert)
    await confirmed(desk)
    staff = desk.customer(STAFF, language_code="en")
    sent = await staff.send(f"/antworten {ref} {ANSWER}")
    message = to(sent, CUSTOMER)
    assert message.startswith("Message from Beispiel GmbH about your feedback from ")
    assert ANSWER in message and "write to service@beispiel.de" in message
    assert to(sent, STAFF) == f"Your answer to {ref} was sent to the customer."
    # The English command and a reference typed in capitals work as well; staff are told
    # that the feedback was answered before (found by a staff review: four answers to one
    # customer, and nothing showed it).
    again = await staff.send(f"/reply {ref.upper()}\nSecond line\nthird")
    assert "Second line\nthird" in to(again, CUSTOMER)
    assert to(again, STAFF) == (
        f"Your answer to {ref} was sent to the customer. "
        "This feedback had been answered once before."
    )
    third = await staff.send(f"/reply {ref} Third")
    assert to(third, STAFF).endswith("This feedback had been answered twice before.")
    fourth = await staff.send(f"/reply {ref} Fourth")
    assert to(fourth, STAFF).endswith("This feedback had been answered 3 times before.")
    assert len(await audit(desk)) == 4


async def test_the_answer_is_in_the_language_the_customer_agreed_to_be_contacted_in(
    desk: Harness,
) -> None:
    """Without /language, an English speaker's answer came framed in German (the default),
    down to how to withdraw (language review): the conversation's language is kept with
    the chat id, and shown in /mydata."""
    customer = desk.customer(4461, language_code="en", first_name="Emily-Kontakt")
    await customer.send("/start")
    await customer.press("Yes, I agree")
    await customer.press("1")
    await customer.send("Parcel never arrived")
    await customer.press("Yes, I agree")  # to be contacted
    assert desk.app is not None
    await asyncio.gather(*desk.app.bot_data.background)
    alert = desk.api.messages(STAFF_CHAT)[-1]
    # the alert says in which (found by a staff walk-through: answered in German)
    assert (
        "Die Kundin oder der Kunde liest Englisch: Bitte antworten Sie in dieser Sprache."
        in (alert["text"] or "").splitlines()
    ), alert["text"]
    await confirmed(desk)
    sent = await in_staff_chat(desk, f"/antworten {ANSWER}", reply_to=alert["message_id"])
    message = to(sent, 4461)
    assert message.startswith("Message from Beispiel GmbH about your feedback from "), message
    assert "/withdraw withdraws the consent." in message
    mydata = texts(await customer.send("/mydata"))
    assert "the chat's ID and the language to write to you in (English) are stored" in mydata
    # Their app's language changing later does not matter; /language does.
    later = desk.customer(4461, language_code="de")
    await later.send("/sprache")
    await later.press("Deutsch")
    again = to(await in_staff_chat(desk, f"/antworten {reference(alert)} Nachtrag"), 4461)
    assert again.startswith("Nachricht von Beispiel GmbH zu Ihrem Feedback vom ")


async def test_mydata_does_not_call_the_app_language_the_one_written_in_beside_a_choice(
    desk: Harness,
) -> None:
    """A German app, English chosen with /language: /mydata said "the language to write to
    you in (German)" while staff's answer comes in English (returning-customer review)."""
    customer = desk.customer(4481, language_code="de")
    await customer.send("/sprache")
    await customer.press("English")
    await customer.send("/start")
    await customer.press("Yes, I agree")
    await customer.press("1")
    await customer.send("Bread rolls were stale")
    await customer.press("Yes, I agree")  # to be contacted
    mydata = texts(await customer.send("/mydata"))
    assert "the language to write to you in (German)" not in mydata
    assert "your Telegram app's language (German) are stored encrypted. While the language" in (
        mydata
    )
    assert desk.app is not None
    await asyncio.gather(*desk.app.bot_data.background)
    alert = desk.api.messages(STAFF_CHAT)[-1]
    # staff are told the language the answer reaches them in, the chosen one (found by a
    # customer walk-through: "liest Deutsch", the app's)
    assert (
        "Die Kundin oder der Kunde liest Englisch: Bitte antworten Sie in dieser Sprache."
        in (alert["text"] or "").splitlines()
    ), alert["text"]
    await confirmed(desk)
    sent = await in_staff_chat(desk, f"/antworten {ANSWER}", reply_to=alert["message_id"])
    assert to(sent, 4481).startswith("Message from Beispiel GmbH"), "in the chosen language"


@pytest.mark.parametrize("stored", ["fr", "xx"])
async def test_a_stored_choice_the_bot_does_not_speak_is_not_named_in_the_alert(
    desk: Harness, stored: str
) -> None:
    """Found by review of the alert's language: a choice row holding a language the bot
    does not speak (an old or restored row) was named to staff ("liest Französisch"), or,
    no language at all, broke the alert and the end of the survey."""
    customer = desk.customer(4491, language_code="en")
    await customer.send("/start")
    await customer.press("Yes, I agree")
    await customer.press("1")
    await customer.send("Parcel never arrived")
    assert desk.store is not None
    pseudonym = desk.store.pseudonym(f"tg-user:{customer.user_id}")
    now = desk.clock()
    odd = LanguageChoice(locale=stored, chosen_at=now, expires_at=now + timedelta(days=30))
    await desk.store.save_language(pseudonym, odd)
    said = texts(await customer.press("Yes, I agree"))  # to be contacted
    assert "Thank you" in said, said
    assert desk.app is not None
    await asyncio.gather(*desk.app.bot_data.background)
    alert = desk.api.messages(STAFF_CHAT)[-1]
    said = alert["text"] or ""
    assert "liest Englisch: Bitte antworten Sie in dieser Sprache." in said, said
    # and the answer comes in the language the alert names (review: in the default one)
    await confirmed(desk)
    sent = await in_staff_chat(desk, f"/antworten {ANSWER}", reply_to=alert["message_id"])
    assert to(sent, 4491).startswith("Message from Beispiel GmbH"), to(sent, 4491)


async def test_a_language_chosen_and_given_up_is_not_kept_with_the_contact(
    desk: Harness,
) -> None:
    """An English-app customer who chose German with /sprache, agreed to be contacted and
    then pressed "Like my Telegram app": a copy of the choice stayed with the chat id (in
    /meinedaten, and staff's answer came in it), and where none was kept, the answer came
    in the default language rather than the app's (reviews). The app's language is kept."""
    customer = desk.customer(4471, language_code="en")
    await customer.send("/language")
    await customer.press("Deutsch")
    await customer.send("/start")
    await customer.press("Ja, ich willige ein")
    await customer.press("1")
    await customer.send("Paket kam nie an")
    await customer.press(YES)  # to be contacted
    assert desk.app is not None
    await asyncio.gather(*desk.app.bot_data.background)
    alert = desk.api.messages(STAFF_CHAT)[-1]
    before = texts(await customer.send("/meinedaten"))
    assert "(Englisch)" in before, "the app's"
    await confirmed(desk)
    chosen = to(await in_staff_chat(desk, f"/antworten {reference(alert)} Sorry!"), 4471)
    assert chosen.startswith("Nachricht von Beispiel GmbH"), "the choice, while it holds"
    await customer.send("/sprache")
    assert "no longer stored" in texts(await customer.press("Wie meine Telegram-App"))
    given_up = to(await in_staff_chat(desk, f"/antworten {reference(alert)} Nachtrag"), 4471)
    assert given_up.startswith("Message from Beispiel GmbH"), "the app's (default: de)"


async def test_feedback_without_the_consent_cannot_be_answered(desk: Harness) -> None:
    alert = await low_rating(desk, contact="Nein")
    assert "/antworten" not in (alert["text"] or "")
    assert desk.store is not None
    [record] = await desk.store.feedback_of(
        desk.store.pseudonym(f"tg-user:{CUSTOMER}"), desk.clock()
    )
    await confirmed(desk)
    sent = await desk.customer(STAFF).send(f"/antworten {record.id[:10]} {ANSWER}")
    assert to(sent, CUSTOMER) == ""
    refused = to(sent, STAFF)
    assert "kann nicht beantwortet werden" in refused
    assert await audit(desk) == []
    # A reference that names nothing reads the same: it may just be mistyped (review).
    mistyped = await desk.customer(STAFF).send(f"/antworten 0123456789 {ANSWER}")
    assert to(mistyped, STAFF) == refused
    assert "oder die Kennung ist falsch geschrieben" in refused


@pytest.mark.parametrize("then", ["withdraw", "erase", "expire"])
async def test_a_withdrawal_an_erasure_or_expiry_ends_it(desk: Harness, then: str) -> None:
    alert = await low_rating(desk)
    await confirmed(desk)
    customer = desk.customer(CUSTOMER)
    if then == "withdraw":
        await customer.send("/widerruf")
        await customer.press("Kontaktaufnahme")
        assert "widerrufen" in texts([customer.last()])
    elif then == "erase":
        await customer.send("/loeschen")
        await customer.press("Alles löschen")
    else:
        desk.clock.advance(timedelta(days=400))
    assert desk.app is not None and desk.app.bot_data.retractor is not None
    await desk.app.bot_data.retractor.wait()  # the alert taken back, or its reference out
    before = len(desk.api.messages(CUSTOMER))
    # With the reference noted down beforehand:
    sent = await in_staff_chat(desk, f"/antworten {reference(alert)} {ANSWER}")
    assert len(desk.api.messages(CUSTOMER)) == before, "nothing reached the customer"
    assert "kann nicht beantwortet werden" in to(sent, STAFF_CHAT)
    # In reply to the alert: expired, it still shows the reference until the next purge;
    # otherwise it no longer does (bot.retractions).
    sent = await in_staff_chat(desk, f"/antworten {ANSWER}", reply_to=alert["message_id"])
    assert len(desk.api.messages(CUSTOMER)) == before
    said = "kann nicht beantwortet werden" if then == "expire" else "nennt kein Feedback"
    assert said in to(sent, STAFF_CHAT)
    if then != "expire":  # why the reference is gone (found by a staff review: not said)
        assert "sobald die Einwilligung widerrufen" in to(sent, STAFF_CHAT)
    assert await audit(desk) == []


async def test_rules_first_then_the_answer_is_asked_for_again(desk: Harness) -> None:
    alert = await low_rating(desk)
    count = len(desk.api.messages(CUSTOMER))
    rules = await in_staff_chat(desk, f"/antworten {ANSWER}", reply_to=alert["message_id"])
    assert "vertraulich" in texts(rules)
    assert len(desk.api.messages(CUSTOMER)) == count and await audit(desk) == []
    button = rules[-1]
    [[(_label, data)]] = button["buttons"]
    assert data is not None and data.endswith(":!")
    pressed = await desk.deliver(
        desk.api.callback_press(STAFF, button["message_id"], data, chat_id=STAFF_CHAT)
    )
    assert "Bitte senden Sie Ihre Antwort an die Kundin oder den Kunden noch einmal." in texts(
        pressed
    )
    assert "Zusammenfassung" not in texts(pressed) and to(pressed, CUSTOMER) == ""
    sent = await in_staff_chat(desk, f"/antworten {ANSWER}", reply_to=alert["message_id"])
    assert ANSWER in to(sent, CUSTOMER)


async def test_bad_input_is_explained_and_sends_nothing(desk: Harness) -> None:
    alert = await low_rating(desk)
    ref = reference(alert)
    await confirmed(desk)
    staff = desk.customer(STAFF)
    count = len(desk.api.messages(CUSTOMER))
    usage = "Schreiben Sie /antworten und Ihre Antwort als Antwort auf die Warnmeldung"
    for typed in (
        "/antworten",
        "/antworten Hallo Welt",
        "/antworten 12 x",
        "/antworten 12345678 x",
    ):
        assert usage in texts(await staff.send(typed)), typed
    # A reference and no answer, or a reference a character short or long, is told so.
    missing = texts(await staff.send(f"/antworten {ref}"))
    assert "Ihre Antwort fehlt, daher wurde nichts gesendet" in missing
    assert f"/antworten {ref} Danke" in missing and usage not in missing
    # (each with a letter: a reference's first digits alone are a number, an order's,
    # which gets the usage; found by review, a flaky run)
    for mistyped in ("a" + ref[:8], ref + "a", ("a" + ref[:7]).upper()):
        told = texts(await staff.send(f"/antworten {mistyped} Danke für Ihr Feedback"))
        assert f"{mistyped.lower()} ist keine Kennung: Eine Kennung hat 10 Zeichen" in told
    long = await staff.send(f"/antworten {ref} " + "x" * 3501)
    assert "höchstens 3.500 Zeichen (sie hat 3.501)" in texts(long)
    # In reply to the alert, the reference typed as well is not part of the answer.
    for typed in (f"/antworten {ref}", "/antworten"):
        quoted = texts(await in_staff_chat(desk, typed, reply_to=alert["message_id"]))
        assert "Ihre Antwort fehlt" in quoted and "als Antwort auf die Warnmeldung" in quoted
    assert len(desk.api.messages(CUSTOMER)) == count
    assert await audit(desk) == []


async def test_only_the_command_answers_and_only_from_staff(desk: Harness) -> None:
    alert = await low_rating(desk)
    await confirmed(desk)
    count = len(desk.api.messages(CUSTOMER))
    # Staff coordinating in a plain reply to the alert: never passed on to the customer.
    assert await in_staff_chat(desk, "Ich kümmere mich darum", reply_to=alert["message_id"]) == []
    # Staff talking among themselves: a reply to a colleague's message is no answer.
    colleague = desk.api.user_message(
        COLLEAGUE, "Wer kümmert sich?", chat_id=STAFF_CHAT, chat_type="supergroup"
    )
    await desk.deliver(colleague)
    chatter = await in_staff_chat(desk, "Ich", reply_to=colleague["message"]["message_id"])
    assert chatter == []
    # Someone in the staff chat who is not staff replies to the alert: ignored.
    stranger = await in_staff_chat(
        desk, f"/antworten {ANSWER}", user_id=OUTSIDER, reply_to=alert["message_id"]
    )
    assert to(stranger, CUSTOMER) == ""
    # An outsider's /antworten in private is an unknown command, like any other.
    outsider = desk.customer(OUTSIDER)
    unknown = texts(await outsider.send("/gibtsnicht"))
    assert texts(await outsider.send(f"/antworten {reference(alert)} {ANSWER}")) == unknown
    assert len(desk.api.messages(CUSTOMER)) == count
    assert await audit(desk) == []


async def test_an_edited_answer_is_said_not_to_reach_the_customer(desk: Harness) -> None:
    """Staff fixing a typo in an /antworten already sent got no word in the staff chat, as
    if the correction had reached the customer; it did not, and cannot."""
    alert = await low_rating(desk)
    await confirmed(desk)
    update = desk.api.user_message(
        STAFF,
        f"/antworten {ANSWER}",
        chat_id=STAFF_CHAT,
        chat_type="supergroup",
        reply_to_message_id=alert["message_id"],
    )
    assert ANSWER in to(await desk.deliver(update), CUSTOMER)
    command = update["message"]
    said = "Änderungen werden nicht weitergegeben"
    for chat in (STAFF_CHAT, STAFF):  # where it was sent, or in private
        where = {"chat_id": chat, "chat_type": "private" if chat > 0 else "supergroup"}
        edit = desk.api.edited_message(
            STAFF, command["message_id"], "/antworten Korrigiert: erstattet", **where
        )
        [note] = await desk.deliver(edit)
        assert note["chat_id"] == chat and said in (note["text"] or ""), note
        assert "ein neues /antworten" in (note["text"] or "")
    # Other edits in the staff chat stay unanswered: staff talking among themselves.
    chatter = desk.api.edited_message(
        STAFF, command["message_id"], "Ich kümmere mich", chat_id=STAFF_CHAT, chat_type="supergroup"
    )
    assert await desk.deliver(chatter) == []
    # Nor does anyone who is not staff get told about answers.
    stranger = desk.api.edited_message(
        OUTSIDER, 1, "/antworten hallo", chat_id=STAFF_CHAT, chat_type="supergroup"
    )
    assert await desk.deliver(stranger) == []
    english = desk.api.edited_message(STAFF, 2, "/reply fixed", chat_id=STAFF, language_code="en")
    [note] = await desk.deliver(english)
    assert (note["text"] or "").startswith("Edits are not passed on")
    assert "send a new /reply" in (note["text"] or "")
    assert ANSWER in texts(desk.api.messages(CUSTOMER))
    assert "Korrigiert" not in texts(desk.api.messages(CUSTOMER)), "never passed on"


@pytest.mark.parametrize(
    ("borrowed", "command"),
    [
        ("forwarded", "/reply"),
        ("via_bot", "/reply"),
        ("forwarded", "/Reply"),
        # as commands are written in groups (mutation audit: passed on without the guard's
        # "@bot" part)
        ("forwarded", "/reply@feedback_test_bot"),
    ],
)
async def test_a_forwarded_answer_is_not_passed_on(
    desk: Harness, borrowed: str, command: str
) -> None:
    """Found by an attack review: an /antworten forwarded by a member of staff (a colleague's
    sent last week, to ask whether it went out; a draft someone else wrote) or sent through
    an inline bot reached the customer again, in the company's name, audited as theirs.
    Also written "/Reply", which the command takes as well (found by a diff review)."""
    alert = await low_rating(desk)
    await confirmed(desk)
    count = len(desk.api.messages(CUSTOMER))
    for chat in (STAFF_CHAT, STAFF):
        where = {"chat_id": chat, "chat_type": "private" if chat > 0 else "supergroup"}
        update = desk.api.user_message(
            STAFF, f"{command} {reference(alert)} {ANSWER}", language_code="en", **where
        )
        if borrowed == "forwarded":
            update["message"]["forward_origin"] = {
                "type": "user",
                "date": 1,
                "sender_user": {"id": COLLEAGUE, "is_bot": False, "first_name": "Kollegin"},
            }
        else:
            update["message"]["via_bot"] = {"id": 999, "is_bot": True, "first_name": "Inline"}
        [said] = await desk.deliver(update)
        assert said["chat_id"] == chat
        assert (said["text"] or "").startswith("Nothing was sent to the customer"), said
    assert len(desk.api.messages(CUSTOMER)) == count
    assert await audit(desk) == []


@pytest.mark.parametrize(
    ("sender", "text"),
    [(CUSTOMER, "/reply 12 hello"), (STAFF, "Please answer with /reply 12 from now on")],
)
async def test_the_note_on_forwarded_answers_is_for_forwarded_answers_of_staff(
    desk: Harness, sender: int, text: str
) -> None:
    """Not said to a customer forwarding a "/reply ..." (an answer shown to them), nor to
    staff forwarding a text that only mentions /reply (mutation audit)."""
    update = desk.api.user_message(sender, text, language_code="en")
    update["message"]["forward_origin"] = {
        "type": "user",
        "date": 1,
        "sender_user": {"id": COLLEAGUE, "is_bot": False, "first_name": "Kollegin"},
    }
    said = texts(await desk.deliver(update))
    assert "Nothing was sent to the customer" not in said, said


async def test_help_or_start_written_back_to_staff_is_told_where_to_write(desk: Harness) -> None:
    """Help or start ("Ich brauche Hilfe", "Start") written back to an answer from staff
    (found by a review of the change: the bot's command list alone, or a new survey, and
    not a word of where a person reads it); typed, not as a reply, the help and where to
    write."""
    alert = await low_rating(desk)
    await confirmed(desk)
    await in_staff_chat(desk, f"/antworten {ANSWER}", reply_to=alert["message_id"])
    answer = desk.api.messages(CUSTOMER)[-1]
    for typed in ("Ich brauche Hilfe", "Start"):
        reply = desk.api.user_message(CUSTOMER, typed, reply_to_message_id=answer["message_id"])
        [said] = await desk.deliver(reply)
        assert (said["text"] or "").endswith(
            "Antworten auf meine Nachrichten erreichen niemanden: Schreiben Sie uns bitte an "
            "service@beispiel.de."
        ), said["text"]
        assert "Willkommen zurück" not in (said["text"] or "")
    [plain] = await desk.deliver(desk.api.user_message(CUSTOMER, "Hilfe"))
    assert (plain["text"] or "").startswith("Ich sammle Feedback für"), plain["text"]
    assert (plain["text"] or "").endswith(
        "Unser Team kann Ihnen hier schreiben, aber was Sie hier schreiben, liest niemand: "
        "Schreiben Sie uns bitte an service@beispiel.de."
    ), plain["text"]


async def test_a_customer_replying_to_an_answer_is_told_where_to_write(desk: Harness) -> None:
    """A reply to the answer ended at "no question is open", the customer's question going
    nowhere without a word of where to ask it (language review)."""
    alert = await low_rating(desk)
    await confirmed(desk)
    await in_staff_chat(desk, f"/antworten {ANSWER}", reply_to=alert["message_id"])
    answer = desk.api.messages(CUSTOMER)[-1]
    assert ANSWER in (answer["text"] or "")
    question = "Und was ist mit meiner Erstattung?"
    desk.personal.add(question)
    reply = desk.api.user_message(CUSTOMER, question, reply_to_message_id=answer["message_id"])
    [said] = await desk.deliver(reply)
    assert (said["text"] or "").endswith(
        "Antworten auf meine Nachrichten erreichen niemanden: Schreiben Sie uns bitte an "
        "service@beispiel.de."
    ), said["text"]
    # Typed under the answer rather than as a reply, as most people write back: told too
    # (found by review: "No survey is under way ... Send /start to give feedback" alone).
    [plain] = await desk.deliver(desk.api.user_message(CUSTOMER, "Hallo?"))
    assert (plain["text"] or "").endswith(
        "Unser Team kann Ihnen hier schreiben, aber was Sie hier schreiben, liest niemand: "
        "Schreiben Sie uns bitte an service@beispiel.de."
    ), plain["text"]
    # Someone staff cannot write to (no consent to be contacted) is not told so, only
    # where to write (a customer walk-through: "no question is open" alone)
    await low_rating(desk, user_id=CUSTOMER + 1, contact="Nein", rating="4")
    [other] = await desk.deliver(desk.api.user_message(CUSTOMER + 1, "Hallo?"))
    assert "Unser Team kann Ihnen hier schreiben" not in (other["text"] or ""), other["text"]
    assert (other["text"] or "").endswith(
        "Nachrichten, die Sie hier außerhalb einer Umfrage schreiben, erreichen niemanden: "
        "Schreiben Sie uns bitte an service@beispiel.de."
    ), other["text"]
    assert desk.settings.data_dir is not None
    assert not files_contain(desk.settings.data_dir, question.encode()), "nothing kept"
    # After an erasure too (it ended at the consent pointer; review).
    customer = desk.customer(CUSTOMER)
    await customer.send("/loeschen")
    await customer.press("Alles löschen")
    again = desk.api.user_message(CUSTOMER, question, reply_to_message_id=answer["message_id"])
    [said] = await desk.deliver(again)
    not_taken = "Diese Nachricht habe ich nicht gespeichert: Feedback darf ich erst"
    assert (said["text"] or "").startswith(not_taken)
    assert (said["text"] or "").endswith("Schreiben Sie uns bitte an service@beispiel.de.")


async def with_customer_service(api: FakeBotApi, clock: Clock, tmp_path: Path) -> Harness:
    """The bot, started, with a customer service's address set beside the controller's."""
    settings = make_settings(
        tmp_path / "data",
        staff_ids=str(STAFF),
        staff_chat_id=STAFF_CHAT,
        alert_threshold=2,
        controller_name="Beispiel GmbH",
        support_contact="kundenservice@beispiel.de",
    )
    desk = Harness(api=api, settings=settings, clock=clock)
    await desk.start()
    return desk


async def test_a_reply_is_pointed_to_customer_service_where_one_is_set(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """Not to the data protection address (found by an older customer's review: her reply
    about the bread was pointed to datenschutz@)."""
    desk = await with_customer_service(api, clock, tmp_path)
    try:
        await low_rating(desk)
        [plain] = await desk.deliver(desk.api.user_message(CUSTOMER, "Hallo? Wann kommt Ersatz?"))
    finally:
        await desk.stop()
    assert (plain["text"] or "").endswith(
        "Unser Team kann Ihnen hier schreiben, aber was Sie hier schreiben, liest niemand: "
        "Schreiben Sie uns bitte an kundenservice@beispiel.de."
    ), plain["text"]
    assert "datenschutz@" not in (plain["text"] or "")


async def test_an_answer_names_customer_service_where_one_is_set_and_a_reply_stays_unkept(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """Found by a staff walk-through: the answer's note sent the customer to the data
    protection address, and their reply to it was then pointed to customer service: two
    addresses in a row, the one most likely written to being the DPO's mailbox."""
    desk = await with_customer_service(api, clock, tmp_path)
    try:
        alert = await low_rating(desk)
        await confirmed(desk)
        customer = desk.customer(CUSTOMER)
        await customer.send("/start")
        await customer.press("2")  # a second survey's comment question is open
        await in_staff_chat(desk, f"/antworten {ANSWER}", reply_to=alert["message_id"])
        answer = next(m for m in desk.api.messages(CUSTOMER) if ANSWER in (m["text"] or ""))
        written = "Und wann genau?"
        reply = desk.api.user_message(CUSTOMER, written, reply_to_message_id=answer["message_id"])
        said = texts(await desk.deliver(reply))
        assert desk.store is not None
        me = desk.store.pseudonym(f"tg-user:{CUSTOMER}")
        draft = await desk.store.load_draft(me, desk.clock())
    finally:
        await desk.stop()
    assert (answer["text"] or "").endswith(
        "Auf diese Nachricht können Sie hier nicht antworten: Bitte schreiben Sie an "
        "kundenservice@beispiel.de. Mit /widerruf widerrufen Sie die Einwilligung."
    )
    assert "datenschutz@" not in (answer["text"] or "")
    assert said.startswith("Das habe ich nicht als Antwort auf Ihre Umfrage genommen.")
    assert "kundenservice@beispiel.de" in said and "datenschutz@" not in said
    assert draft is not None and written not in repr(draft.payload)


@pytest.mark.parametrize("contact", ["kundenservice@beispiel.de", "datenschutz@beispiel.de"])
def test_the_last_part_of_an_answer_is_known_by_either_address(contact: str) -> None:
    """A long answer's last message holds only its note: one sent before the note named
    customer service named the controller's contact, and is still the staff's answer."""
    last_part = (
        "… Ihr Team\n\nSie haben zugestimmt, in diesem Chat zu Ihrem Feedback kontaktiert zu"
        " werden. Auf diese Nachricht können Sie hier nicht antworten: Bitte schreiben Sie an"
        f" {contact}. Mit /widerruf widerrufen Sie die Einwilligung."
    )
    both = ["kundenservice@beispiel.de", "datenschutz@beispiel.de"]
    assert from_staff(last_part, "Beispiel GmbH", both)
    assert not from_staff(last_part, "Beispiel GmbH", ["service@example.org"])


@pytest.mark.parametrize("language", ["de", "en"])
async def test_an_answer_reaching_someone_mid_survey_is_followed_by_their_question(
    desk: Harness, language: str
) -> None:
    """Found by review: an answer from staff reaching a customer in the middle of another
    survey was the last message, and what they wrote back to it, even with Telegram's
    reply, became the survey's comment; now the open question follows the answer, and a
    reply to the answer is kept nowhere."""
    alert = await low_rating(desk)
    await confirmed(desk)
    customer = desk.customer(CUSTOMER, language_code=language)
    await customer.send("/sprache " + language)
    await customer.send("/start")
    await customer.press("2")  # the comment question of a second survey is open
    await in_staff_chat(desk, f"/antworten {ANSWER}", reply_to=alert["message_id"])
    answer, question = desk.api.messages(CUSTOMER)[-2:]
    assert ANSWER in (answer["text"] or "")
    opened = {"de": "Ihre Umfrage läuft noch", "en": "Your survey is still open"}[language]
    asked = {"de": "Was sollten wir wissen", "en": "What should we know"}[language]
    assert (question["text"] or "").startswith(opened) and asked in (question["text"] or "")

    written = "Danke, wann denn genau?"
    desk.personal.add(written)
    reply = desk.api.user_message(CUSTOMER, written, reply_to_message_id=answer["message_id"])
    said = texts(await desk.deliver(reply))
    refused = {
        "de": "Das habe ich nicht als Antwort auf Ihre Umfrage genommen.",
        "en": "I did not take that as an answer to your survey.",
    }[language]
    assert said.startswith(refused) and "service@beispiel.de" in said, said
    assert asked in said  # and the question once more
    assert desk.store is not None
    draft = await desk.store.load_draft(desk.store.pseudonym(f"tg-user:{CUSTOMER}"), desk.clock())
    assert draft is not None and written not in repr(draft.payload)
    # The answer to the question itself is still taken.
    await customer.send("Die Verpackung war beschädigt")
    draft = await desk.store.load_draft(desk.store.pseudonym(f"tg-user:{CUSTOMER}"), desk.clock())
    assert draft is not None and "Die Verpackung war beschädigt" in repr(draft.payload)


async def test_the_question_asked_again_under_an_answer_never_undoes_the_customers_answers(
    desk: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by review: asking the open question again ran in staff's update, apart from
    the customer's own, and wrote back the answers it had read: a survey the customer
    finished in between came back, and what they wrote next was stored as a second
    feedback. The customer finishes right after staff's side has read their answers."""
    alert = await low_rating(desk)
    await confirmed(desk)
    customer = desk.customer(CUSTOMER)
    await customer.send("/start")
    await customer.press("2")  # a second survey: its comment question is open
    assert desk.app is not None and desk.store is not None
    service = desk.app.bot_data.service
    person = desk.store.pseudonym(f"tg-user:{CUSTOMER}")
    read, finished = asyncio.Event(), asyncio.Event()
    load, after = desk.store.load_draft, service.after_staff_message
    staff_side = contextvars.ContextVar("staff_side", default=False)

    async def after_staff_message(pseudonym: str, locale: str) -> Outcome:
        staff_side.set(True)
        return await after(pseudonym, locale)

    async def read_then_wait(pseudonym: str, now: Any) -> Any:
        found = await load(pseudonym, now)
        if staff_side.get():  # staff's side has read the answers: the customer goes on
            read.set()
            await finished.wait()
        return found

    monkeypatch.setattr(desk.store, "load_draft", read_then_wait)
    monkeypatch.setattr(service, "after_staff_message", after_staff_message)

    async def customer_finishes() -> None:
        await read.wait()
        await customer.send("Die Verpackung war beschädigt")
        await customer.press(YES)  # thanked: the feedback stored, the answers gone
        finished.set()

    staff = in_staff_chat(desk, f"/antworten {ANSWER}", reply_to=alert["message_id"])
    await asyncio.wait_for(asyncio.gather(staff, customer_finishes()), 30)
    assert await desk.store.load_draft(person, desk.clock()) is None, "not brought back"
    given, _ = await desk.store.readable_feedback_of(person, desk.clock())
    assert len(given) == 2  # the first survey's and the one just finished, once
    thanked = desk.api.messages(CUSTOMER)[-1]["text"] or ""
    assert "Vielen Dank" in thanked, "no question of the finished survey after the thanks"


async def test_the_question_asked_again_under_an_answer_is_kept_open_for_its_answer(
    desk: Harness,
) -> None:
    """Found by review: asked again without its idle time starting again, the survey
    expired before the customer, having read the answer, gave theirs minutes later."""
    alert = await low_rating(desk)
    await confirmed(desk)
    customer = desk.customer(CUSTOMER)
    await customer.send("/start")
    await customer.press("2")  # a second survey: its comment question is open
    desk.clock.advance(timedelta(minutes=25))
    await in_staff_chat(desk, f"/antworten {ANSWER}", reply_to=alert["message_id"])
    assert "Ihre Umfrage läuft noch" in (desk.api.messages(CUSTOMER)[-1]["text"] or "")
    desk.clock.advance(timedelta(minutes=7))
    said = texts(await customer.send("Die Verpackung war beschädigt"))
    assert "kontaktieren" in said, said  # the next question: the answer was taken


async def test_the_erase_question_names_the_chat_id_and_the_alerts_it_reaches(
    desk: Harness,
) -> None:
    """The question named feedback, consents and unfinished answers; the chat id kept to
    answer by and the alert in the staff chat came up only in the result (language and
    DPO reviews)."""
    await low_rating(desk)
    customer = desk.customer(CUSTOMER)
    question = texts(await customer.send("/loeschen"))
    assert (
        "Die für die Kontaktaufnahme gespeicherte Chat-ID wird ebenfalls gelöscht; unser "
        "Team kann Ihnen dann nicht mehr antworten." in question
    )
    assert (
        "Die Meldung zu Ihrem Feedback in unserem Team-Chat wird durch einen Hinweis "
        "ersetzt, dass sie zurückgezogen wurde." in question
    )
    done = texts(await customer.press("Alles löschen"))
    assert "• Chat-ID für die Kontaktaufnahme: 1" in done
    other = desk.customer(4470)
    await other.send("/start")
    await other.press("Ja, ich willige ein")
    await other.press("5")
    plain = texts(await other.send("/loeschen"))
    assert "Chat-ID" not in plain and "Meldung zu Ihrem" not in plain, "only what there is"


async def test_an_alert_posted_after_the_erase_question_makes_it_out_of_date(
    desk: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The alert waited (flood control) while the customer asked to erase: the question
    did not name it, and the press erased and counted it all the same (review)."""
    gate = hold_alerts(monkeypatch)
    customer = desk.customer(CUSTOMER)
    await customer.send("/start")
    await customer.press("Ja, ich willige ein")
    await customer.press("1")
    await customer.send("Lieferung kam nie an")
    await customer.press(YES)
    assert "Meldung zu Ihrem" not in texts(await customer.send("/loeschen")), "not posted yet"
    gate.set()
    assert desk.app is not None
    await asyncio.gather(*desk.app.bot_data.background)
    assert "nicht mehr aktuell" in texts(await customer.press("Alles löschen"))
    assert "Die Meldung zu Ihrem Feedback" in texts(await customer.send("/loeschen"))
    assert "Meldungen zu Ihrem Feedback in unserem Team-Chat: 1" in texts(
        await customer.press("Alles löschen")
    )


async def test_a_damaged_language_choice_does_not_cost_the_feedback(desk: Harness) -> None:
    """Finishing with the consent to be contacted once read the /language choice unguarded:
    a damaged one failed the last press, every time (review)."""
    customer = desk.customer(CUSTOMER)
    await customer.send("/sprache deutsch")
    assert desk.settings.data_dir is not None
    with sqlite3.connect(desk.settings.data_dir / "feedback.db") as db:
        db.execute("UPDATE languages SET ciphertext = zeroblob(60)")
    db.close()
    await desk.restart()  # nothing of it left in memory, as after a restore
    await customer.send("/start")
    await customer.press("Ja, ich willige ein")
    await customer.press("1")
    await customer.send("Lieferung kam nie an")
    assert "schiefgelaufen" not in texts(await customer.press(YES))
    assert desk.store is not None
    given, _ = await desk.store.readable_feedback_of(
        desk.store.pseudonym(f"tg-user:{CUSTOMER}"), desk.clock()
    )
    assert len(given) == 1


async def test_a_customer_who_blocked_the_bot_is_reported_and_audited(desk: Harness) -> None:
    alert = await low_rating(desk)
    await confirmed(desk)
    desk.api.block_user(CUSTOMER)
    sent = await in_staff_chat(desk, f"/antworten {ANSWER}", reply_to=alert["message_id"])
    assert "konnte nicht zugestellt werden" in texts(sent)
    assert await audit(desk) == [
        ("answer", f"staff:{STAFF}", "feedback"),
        ("answer", f"staff:{STAFF}", "not delivered: feedback"),
    ]
    assert shown_detail("not delivered: feedback", translator("de")) == (
        "nicht zugestellt: feedback"
    )


async def test_an_answer_that_cannot_be_audited_is_not_sent(
    desk: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    alert = await low_rating(desk)
    await confirmed(desk)
    assert desk.store is not None

    async def full(entry: AuditEntry) -> None:
        raise StorageFull("database or disk is full")

    monkeypatch.setattr(desk.store, "record_audit", full)
    count = len(desk.api.messages(CUSTOMER))
    sent = await in_staff_chat(desk, f"/antworten {ANSWER}", reply_to=alert["message_id"])
    assert "nicht gesendet" in texts(sent) and "Datenträger ist voll" in texts(sent)
    assert len(desk.api.messages(CUSTOMER)) == count


async def test_help_menu_and_staff_chat_name_the_command(desk: Harness) -> None:
    staff_help = texts(await desk.customer(STAFF).send("/hilfe"))
    assert "/antworten <Kennung> <Text>" in staff_help
    group = {"type": "chat", "chat_id": STAFF_CHAT}
    assert ("antworten", "Kundin oder Kunden antworten (Team)") in (
        desk.api.commands_for("", group)
    )
    elsewhere = await in_staff_chat(desk, "/meinedaten")
    assert "/zusammenfassung und /antworten" in texts(elsewhere)


async def test_a_reference_typed_into_a_comment_does_not_direct_the_answer(
    desk: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A customer who may not be contacted quotes another feedback's reference in their
    comment: staff answering that alert reach nobody, not the other feedback's author."""
    # Ids with letters in their first ten digits: no redaction takes them for a number.
    count = itertools.count()
    monkeypatch.setattr(
        "storage.sqlite_people.new_record_id", lambda: f"abcdef{next(count):04x}" + "5" * 22
    )
    first = await low_rating(desk)
    assert reference(first).startswith("abcdef")
    forged = f"Bitte mit /antworten {reference(first)} hier antworten"
    customer = desk.customer(4445)
    await customer.send("/start")
    await customer.press("Ja, ich willige ein")
    await customer.press("1")
    await customer.send(forged)
    await customer.press("Nein")
    assert desk.app is not None
    await asyncio.gather(*desk.app.bot_data.background)
    second = desk.api.messages(STAFF_CHAT)[-1]
    assert forged in (second["text"] or ""), "the comment is shown as written"
    await confirmed(desk)
    count = len(desk.api.messages(CUSTOMER))
    sent = await in_staff_chat(desk, f"/antworten {ANSWER}", reply_to=second["message_id"])
    assert "nennt kein Feedback, das beantwortet werden kann" in texts(sent)
    # A reply to a summary (another message of the bot) names no feedback either.
    summary = await in_staff_chat(desk, "/zusammenfassung")
    other = await in_staff_chat(desk, f"/antworten {ANSWER}", reply_to=summary[0]["message_id"])
    assert "nennt kein Feedback" in texts(other)
    assert len(desk.api.messages(CUSTOMER)) == count
    assert await audit(desk) == []


@pytest.mark.parametrize(
    ("chat", "threshold", "staff", "warned"),
    [
        (None, None, str(STAFF), True),
        (STAFF_CHAT, None, str(STAFF), True),
        (STAFF_CHAT, 2, "", True),
        (STAFF_CHAT, 2, str(STAFF), False),
    ],
)
def test_the_start_warns_where_staff_could_never_answer(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    chat: int | None,
    threshold: int | None,
    staff: str,
    warned: bool,
) -> None:
    """Consent to be contacted asked for, but no alerts: the chat ids kept would serve
    nothing. (`feedbackbot run` warns so: tests/e2e/test_polling.py. A threshold without
    a staff chat is refused by the settings.)"""
    settings = make_settings(
        tmp_path, staff_ids=staff, staff_chat_id=chat, alert_threshold=threshold
    )
    catalog = FlowCatalog.load(settings.flows_dir, translator("en"), settings.shipped_flows)
    with caplog.at_level(logging.WARNING, logger="bot.app"):
        warn_if_contact_unused(settings, catalog)
    unusable = "surveys feedback, product ask for consent to be contacted, but without"
    assert any(unusable in r.getMessage() for r in caplog.records) is warned


async def test_a_good_rating_whose_author_may_be_contacted_is_posted_and_answerable(
    desk: Harness,
) -> None:
    """Only alerts carry references: a 5 of 5 with the consent is posted too, or its chat
    id would be kept for nothing (found by review)."""
    alert = await low_rating(desk, rating="5")
    text = alert["text"] or ""
    # Why it is posted, at the top (found by a staff review: only the last line said so).
    assert text.startswith("Kontakt erlaubt: Feedback in „Kundenfeedback“\n"), text
    assert "→ 5 / 5" in text and "Niedrige Bewertung" not in text
    # Posted on the strength of that consent, not of a low rating: the audit trail says
    # which (second review), as it does for a low rating with the consent.
    assert desk.store is not None
    since = desk.clock() - timedelta(days=1)
    alerts = [(e.event, e.detail) for e in await desk.store.audit_entries(since)]
    assert ("contact-alert", "feedback") in alerts and ("alert", "feedback") not in alerts
    await low_rating(desk, user_id=4455)
    alerts = [(e.event, e.detail) for e in await desk.store.audit_entries(since)]
    assert alerts.count(("alert", "feedback")) == 1
    await confirmed(desk)
    sent = await in_staff_chat(desk, f"/antworten {ANSWER}", reply_to=alert["message_id"])
    assert ANSWER in to(sent, CUSTOMER)
    # Without the consent a good rating stays out of the staff chat, as before.
    posted = len(desk.api.messages(STAFF_CHAT))
    await low_rating(desk, user_id=4449, rating="5", contact="Nein")
    assert len(desk.api.messages(STAFF_CHAT)) == posted


async def test_another_reference_typed_in_reply_to_an_alert_sends_nothing(
    desk: Harness,
) -> None:
    """In reply to X's alert with Y's reference: meant for X or for Y? Neither gets it (it
    went to X's customer, naming Y's reference, before the review)."""
    first = await low_rating(desk)
    second = await low_rating(desk, user_id=4450)
    await confirmed(desk)
    counts = len(desk.api.messages(CUSTOMER)), len(desk.api.messages(4450))
    typed = f"/antworten {reference(second)} {ANSWER}"
    refused = await in_staff_chat(desk, typed, reply_to=first["message_id"])
    assert texts(refused).startswith(
        f"Sie haben auf die Warnmeldung zum Feedback mit der Kennung {reference(first)} "
        f"geantwortet, aber Ihre Antwort beginnt mit {reference(second)}, das wie eine andere "
        "Kennung aussieht. Es wurde nichts gesendet"
    )
    # Written another way, or the alert's own mistyped: refused as well (second review).
    mistyped = reference(first)[:-1] + ("0" if reference(first)[-1] != "0" else "1")
    for other in (f"{reference(second)}:", f"#{reference(second)}", mistyped):
        again = await in_staff_chat(
            desk, f"/antworten {other} {ANSWER}", reply_to=first["message_id"]
        )
        assert "wie eine andere Kennung aussieht" in texts(again), other
    kennung = f"/antworten Kennung {reference(second)}: {ANSWER}"
    assert "andere Kennung" in texts(
        await in_staff_chat(desk, kennung, reply_to=first["message_id"])
    )
    assert (len(desk.api.messages(CUSTOMER)), len(desk.api.messages(4450))) == counts
    assert await audit(desk) == []


@pytest.mark.parametrize("meanwhile", ["withdraw", "erase", "expire"])
async def test_a_withdrawal_while_the_answer_waits_for_flood_control_stops_it(
    desk: Harness, monkeypatch: pytest.MonkeyPatch, meanwhile: str
) -> None:
    """Telegram's flood control holds the answer (up to a minute); the customer withdraws
    meanwhile: it is not sent after their withdrawal was confirmed (found by review)."""
    alert = await low_rating(desk)
    await confirmed(desk)
    released = asyncio.Event()

    async def held(seconds: float) -> None:  # the flood wait, until the test lets it go
        await released.wait()

    monkeypatch.setattr("bot.render.asyncio", SimpleNamespace(sleep=held))
    desk.api.fail_next("sendMessage", 429, retry_after=30)
    calls = len(desk.api.calls("sendMessage"))
    answering = asyncio.create_task(
        in_staff_chat(desk, f"/antworten {ANSWER}", reply_to=alert["message_id"])
    )
    await desk.api.wait_until_async(
        lambda: len(desk.api.calls("sendMessage")) > calls, what="the answer held back"
    )
    customer = desk.customer(CUSTOMER)
    if meanwhile == "withdraw":
        await customer.send("/widerruf")
        assert "widerrufen" in texts(await customer.press("Kontaktaufnahme"))
    elif meanwhile == "erase":
        await customer.send("/loeschen")
        await customer.press("Alles löschen")
    else:
        desk.clock.advance(timedelta(days=400))
    released.set()
    told = await answering
    assert not any(ANSWER in (m["text"] or "") for m in desk.api.messages(CUSTOMER))
    assert "kann nicht beantwortet werden" in to(told, STAFF_CHAT)
    assert await audit(desk) == [
        ("answer", f"staff:{STAFF}", "feedback"),
        ("answer", f"staff:{STAFF}", "no longer answerable: feedback"),
    ]
    assert shown_detail("no longer answerable: feedback", translator("de")) == (
        "nicht mehr beantwortbar: feedback"
    )


@pytest.mark.parametrize("desk", ["kundenservice@beispiel.de " + "x" * 600], indirect=True)
async def test_an_answer_always_fits_one_message(desk: Harness) -> None:
    """A long controller contact leaves less room: refused rather than split, as a split
    answer could arrive in part and be reported as not sent (found by review)."""
    alert = await low_rating(desk)
    await confirmed(desk)
    refused = await in_staff_chat(desk, "/antworten " + "y" * 3400, reply_to=alert["message_id"])
    found = re.search(r"höchstens ([\d.]+) Zeichen \(sie hat 3\.400\)", texts(refused))
    assert found, texts(refused)
    limit = int(found.group(1).replace(".", ""))
    assert 3000 < limit < 3400
    over = await in_staff_chat(
        desk, "/antworten " + "y" * (limit + 1), reply_to=alert["message_id"]
    )
    assert f"(sie hat {limit + 1:,})".replace(",", ".") in texts(over)
    # A customer who chose English is told of by the same limit: it gives nothing away.
    english = await low_rating(desk, user_id=4451)
    client = desk.customer(4451)
    await client.send("/sprache")
    await client.press("English")
    other = await in_staff_chat(desk, "/antworten " + "y" * 3400, reply_to=english["message_id"])
    assert f"höchstens {limit:,} Zeichen".replace(",", ".") in texts(other)
    fits = await in_staff_chat(desk, "/antworten " + "y" * limit, reply_to=alert["message_id"])
    [message] = [m for m in fits if m["chat_id"] == CUSTOMER]
    assert len(message["text"] or "") <= 4096 and "y" * limit in (message["text"] or "")


async def test_a_store_failing_at_the_check_before_sending_sends_nothing_and_says_so(
    desk: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The consent is checked again before sending; the store fails then (locked, say):
    nothing is sent, staff are told, and the audit trail says so (second review)."""
    alert = await low_rating(desk)
    await confirmed(desk)
    assert desk.store is not None
    answers = desk.app.bot_data.staff.answers  # type: ignore[union-attr]

    async def broken(message: object) -> bool:
        raise StoreError("database is locked")

    monkeypatch.setattr(answers, "still_reachable", broken)
    count = len(desk.api.messages(CUSTOMER))
    told = await in_staff_chat(desk, f"/antworten {ANSWER}", reply_to=alert["message_id"])
    assert len(desk.api.messages(CUSTOMER)) == count
    assert "konnte gerade nicht mit der Einwilligung" in to(told, STAFF_CHAT)
    assert await audit(desk) == [
        ("answer", f"staff:{STAFF}", "feedback"),
        ("answer", f"staff:{STAFF}", "not sent, not checked: feedback"),
    ]
    assert shown_detail("not sent, not checked: feedback", translator("de")) == (
        "nicht gesendet, nicht geprüft: feedback"
    )


async def test_the_consent_to_be_contacted_says_staff_will_see_the_feedback(
    desk: Harness,
) -> None:
    """Agreeing posts the feedback to the staff chat: the question says so where it is
    asked (second review), and the privacy notice names withdrawal as well as erasure."""
    customer = desk.customer(4452)
    notice = texts(await customer.send("/start"))
    # The survey's consent is what a low-rating alert rests on: said where it is given
    # (DPO review: only /datenschutz said so).
    assert (
        "• Bei einer niedrigen Bewertung sieht unser Team dieses Feedback einzeln in seinem "
        "Telegram-Chat: Ihre Bewertungen und Kommentare, ohne E-Mail-Adressen, "
        "Telefonnummern u. Ä.; der Bot fügt keinen Namen und kein Konto hinzu." in notice
    )
    # A survey with options to choose names them: an alert shows them (a later DPO review).
    product = texts(await desk.customer(4453).send("/start product"))
    assert (
        "Telegram-Chat: Ihre Bewertungen, die gewählten Antworten und Ihre Kommentare, ohne "
        "E-Mail-Adressen, Telefonnummern u. Ä.; der Bot fügt keinen Namen und kein Konto "
        "hinzu." in product
    )
    await customer.press("Ja, ich willige ein")
    await customer.press("4")
    question = texts(await customer.press("Überspringen"))
    assert "Unser Team sieht dieses Feedback dann in seinem Telegram-Chat (der Bot fügt" in question
    assert (
        "Widerrufen Sie, kann es Ihnen nicht mehr antworten, und das Feedback wird aus seinem "
        "Chat entfernt, es sei denn, es steht dort wegen einer niedrigen Bewertung." in question
    )
    notice = texts(await customer.send("/datenschutz"))
    assert "wenn Sie die Einwilligung widerrufen, auf der eine solche Nachricht beruht" in notice
    # With alerts as without: digests show comments too (left out here, found by review).
    assert "Übersichten mit Zahlen und den neuesten Kommentaren und, bei einem Feedback" in notice


async def test_without_alerts_neither_question_nor_notice_promises_answers(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """A staff chat for digests only: nothing single is posted, nobody can be answered,
    and nothing the customer reads says otherwise (second review)."""
    settings = make_settings(tmp_path / "data", staff_ids=str(STAFF), staff_chat_id=STAFF_CHAT)
    harness = Harness(api=api, settings=settings, clock=clock)
    await harness.start()
    try:
        customer = harness.customer(4453)
        assert "Bei einer niedrigen Bewertung" not in texts(await customer.send("/start"))
        await customer.press("Ja, ich willige ein")
        await customer.press("1")
        question = texts(await customer.press("Überspringen"))
        assert "Kontakt" in question or "kontaktieren" in question
        assert "Unser Team sieht" not in question
        notice = texts(await customer.send("/datenschutz"))
        assert "Übersichten mit Zahlen und den neuesten Kommentaren" in notice
        assert "antworten" not in notice.split("unsere Mitarbeitenden", 1)[1].split("\n")[0]
    finally:
        await harness.stop()


CASE_STUDY_FLOW = """
id = "feedback"
title = { de = "Service-Umfrage", en = "Service survey" }
intro = { de = "Kurze Umfrage.", en = "Short survey." }

[[purposes]]
id = "service_feedback"
required = true
label = { de = "Speicherung", en = "Storing" }
description = { de = "Feedback speichern und auswerten", en = "Storing and evaluating feedback" }

[[purposes]]
id = "casestudy"
required = false
label = { de = "Zitat", en = "Quote" }
description = { de = "Ihr Zitat auf unserer Website", en = "Your quote on our website" }

[[purposes]]
id = "contact"
required = false
stores_contact = true
label = { de = "Kontakt", en = "Contact" }
description = { de = "Kontaktaufnahme zu Ihrem Feedback", en = "Contacting you" }

[[steps]]
id = "rating"
type = "rating"
prompt = { de = "Wie zufrieden?", en = "How satisfied?" }

[[steps]]
id = "casestudy_ok"
type = "consent"
purpose = "casestudy"
prompt = { de = "Dürfen wir Sie zitieren?", en = "May we quote you?" }

[[steps]]
id = "quote"
type = "text"
purpose = "casestudy"
prompt = { de = "Ihr Zitat, mit Vorname und Firma", en = "Your quote" }

[[steps]]
id = "comment"
type = "text"
prompt = { de = "Was sollten wir wissen?", en = "What should we know?" }

[[steps]]
id = "contact_ok"
type = "consent"
purpose = "contact"
prompt = { de = "Dürfen wir Sie kontaktieren?", en = "May we contact you?" }

[[steps]]
id = "thanks"
type = "thanks"
prompt = { de = "Danke!", en = "Thanks!" }
"""


async def test_an_alert_leaves_out_answers_collected_for_another_purpose(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """A quote given for a case study serves that purpose alone, as in summaries and
    exports: the staff chat gets the rating and the comment, not the quote (second
    review: it was posted, name and company included)."""
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "feedback.toml").write_text(CASE_STUDY_FLOW, encoding="utf-8")
    settings = make_settings(
        tmp_path / "data",
        flows_dir=flows,
        shipped_flows="none",
        staff_ids=str(STAFF),
        staff_chat_id=STAFF_CHAT,
        alert_threshold=2,
    )
    harness = Harness(api=api, settings=settings, clock=clock)
    await harness.start()
    try:
        customer = harness.customer(4454)
        await customer.send("/start")
        await customer.press("Ja, ich willige ein")
        await customer.press("5")
        await customer.press("Ja, einverstanden")
        await customer.send("Bester Service! Mechthild, Bäckerei Sonnenschein")
        await customer.send("Lieferung war pünktlich")
        await customer.press("Ja, einverstanden")
        assert harness.app is not None
        await asyncio.gather(*harness.app.bot_data.background)
        [alert] = harness.api.messages(STAFF_CHAT)
        text = alert["text"] or ""
        assert text.startswith("Kontakt erlaubt: Feedback in „Service-Umfrage“\n"), text
        assert "→ 5 / 5" in text
        assert "Lieferung war pünktlich" in text
        assert "Sonnenschein" not in text and "Bester Service" not in text
    finally:
        await harness.stop()


async def test_an_edited_staff_command_in_the_staff_chat_is_not_met_with_the_customers_notice(
    desk: Harness,
) -> None:
    """A member of staff correcting a typo in /zusammenfassung or /Reply in the staff chat
    was told "Feedback nehme ich nur im privaten Chat an …", the customers' notice (a staff
    review): an edited command is said not to be carried out, an edited answer not to be
    passed on, as in a private chat; nobody else's edit there is answered."""
    alert = await low_rating(desk)
    await confirmed(desk)
    where: dict[str, Any] = {"chat_id": STAFF_CHAT, "chat_type": "supergroup"}
    typo = desk.api.user_message(STAFF, "/zusammenfassung 7 Tagen", **where)
    await desk.deliver(typo)
    edit = desk.api.edited_message(STAFF, typo["message"]["message_id"], "/summary 7d", **where)
    [note] = await desk.deliver(edit)
    said = "Einen bearbeiteten Befehl führe ich nicht aus: Bitte senden Sie ihn neu."
    assert note["text"] == said
    assert await desk.deliver(edit) == [], "said once for each message"
    again = desk.api.edited_message(STAFF, typo["message"]["message_id"], "/summary 30d", **where)
    assert await desk.deliver(again) == [], "a second edit of it: said once (mutation audit)"
    answer = desk.api.user_message(
        STAFF, f"/Reply {ANSWER}", reply_to_message_id=alert["message_id"], **where
    )
    assert ANSWER in to(await desk.deliver(answer), CUSTOMER)
    edit = desk.api.edited_message(STAFF, answer["message"]["message_id"], "/Reply Neu", **where)
    [note] = await desk.deliver(edit)
    assert (note["text"] or "").startswith("Änderungen werden nicht weitergegeben"), note
    stranger = desk.api.edited_message(OUTSIDER, 1, "/zusammenfassung 30d", **where)
    assert await desk.deliver(stranger) == []
    assert "Neu" not in to(desk.api.messages(CUSTOMER), CUSTOMER).split("Bestellung")[-1]


async def test_an_answer_as_the_caption_of_a_photo_is_said_not_to_be_passed_on(
    desk: Harness,
) -> None:
    """A member of staff sent a screenshot of the refund with "/antworten <reference> …" as
    its caption (a staff review): in the staff chat nothing answered, as if it had gone out,
    and in a private chat they were told, as a customer, that nothing is stored before
    consent. Only text is passed on, and they are told so; the customer gets nothing."""
    alert = await low_rating(desk)
    await confirmed(desk)
    count = len(desk.api.messages(CUSTOMER))
    for chat, kind in ((STAFF_CHAT, "supergroup"), (STAFF, "private")):
        photo = desk.api.user_photo(
            STAFF, caption=f"/Antworten {reference(alert)} {ANSWER}", chat_id=chat, chat_type=kind
        )
        [note] = await desk.deliver(photo)
        assert note["chat_id"] == chat
        said = note["text"] or ""
        assert said.startswith("An die Kundin oder den Kunden wurde nichts gesendet: Ich gebe nur")
    assert len(desk.api.messages(CUSTOMER)) == count
    assert await audit(desk) == []
    # Anyone else's photo in the staff chat stays unanswered, whatever its caption.
    other = desk.api.user_photo(
        OUTSIDER, caption="/antworten hallo", chat_id=STAFF_CHAT, chat_type="supergroup"
    )
    assert await desk.deliver(other) == []
