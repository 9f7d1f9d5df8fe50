"""Staff answering a customer who agreed to be contacted, through the real bot: what the
customer gets, what staff see and are told, what is audited, and what is refused."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.cli.staff import shown_detail
from bot.fakeapi.model import BotMessage
from flows.i18n import translator
from storage import StorageFull
from storage.interface import AuditEntry
from tests.fakes.botapi import FakeBotApi
from tests.harness import Clock, Harness, files_contain, make_settings, texts

STAFF, STAFF_CHAT, OUTSIDER, COLLEAGUE = 7001, -1007002, 7003, 7004
CUSTOMER = 4444
YES = "Ja, einverstanden"
ANSWER = "Das tut uns leid! Wir haben die Bestellung erstattet.\nIhr Team Kundenservice"


@pytest.fixture
async def desk(api: FakeBotApi, clock: Clock, tmp_path: Path) -> AsyncIterator[Harness]:
    settings = make_settings(
        tmp_path / "data",
        staff_ids=f"{STAFF},{COLLEAGUE}",
        staff_chat_id=STAFF_CHAT,
        alert_threshold=2,
        controller_name="Beispiel GmbH",
        controller_contact="service@beispiel.de",
    )
    harness = Harness(api=api, settings=settings, clock=clock)
    await harness.start()
    yield harness
    await harness.stop()


async def low_rating(
    desk: Harness, user_id: int = CUSTOMER, contact: str = "Ja, einverstanden"
) -> BotMessage:
    """A customer rates 1 with a comment and answers the contact question; the alert."""
    customer = desk.customer(user_id, first_name="Mechthild-Kontakt")
    await customer.send("/start")
    await customer.press("Ja, ich willige ein")
    await customer.press("1")
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
    entries = await desk.store.audit_entries(desk.clock() - timedelta(days=1))
    return [(e.event, e.actor, e.detail) for e in entries if e.event == "answer"]


def to(messages: list[BotMessage], chat_id: int) -> str:
    return texts([m for m in messages if m["chat_id"] == chat_id])


async def test_a_reply_to_the_alert_reaches_the_customer_and_nobody_learns_who(
    desk: Harness,
) -> None:
    alert = await low_rating(desk)
    text = alert["text"] or ""
    assert "Mechthild" not in text and str(CUSTOMER) not in text
    assert "zugestimmt, zu diesem Feedback kontaktiert zu werden" in text
    await confirmed(desk)
    sent = await in_staff_chat(desk, ANSWER, reply_to=alert["message_id"])
    customer = to(sent, CUSTOMER)
    assert customer.startswith("Nachricht von Beispiel GmbH zu Ihrem Feedback vom ")
    assert "(„Kundenfeedback“)" in customer or "Kundenfeedback" in customer
    assert ANSWER in customer, "line breaks kept"
    assert "service@beispiel.de" in customer and "/widerruf" in customer
    assert to(sent, STAFF_CHAT) == "Ihre Antwort wurde an die Kundin oder den Kunden gesendet."
    assert "Mechthild" not in to(sent, STAFF_CHAT) and str(CUSTOMER) not in to(sent, STAFF_CHAT)
    assert await audit(desk) == [("answer", f"staff:{STAFF}", "feedback")]
    # Nothing of the answer is kept: it was sent, and the audit says that and when.
    assert desk.settings.data_dir is not None
    assert not files_contain(desk.settings.data_dir, b"Bestellung erstattet")


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
    assert message.startswith("Message from Beispiel GmbH about your feedback of ")
    assert ANSWER in message and "write to service@beispiel.de" in message
    assert to(sent, STAFF) == "Your answer was sent to the customer."
    # The English command and a reference typed in capitals work as well.
    again = await staff.send(f"/reply {ref.upper()}\nSecond line\nthird")
    assert "Second line\nthird" in to(again, CUSTOMER)
    assert len(await audit(desk)) == 2


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
    assert "kann nicht beantwortet werden" in to(sent, STAFF)
    assert await audit(desk) == []


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
    before = len(desk.api.messages(CUSTOMER))
    sent = await in_staff_chat(desk, ANSWER, reply_to=alert["message_id"])
    assert len(desk.api.messages(CUSTOMER)) == before, "nothing reached the customer"
    assert "kann nicht beantwortet werden" in to(sent, STAFF_CHAT)
    assert await audit(desk) == []


async def test_rules_first_then_the_answer_is_asked_for_again(desk: Harness) -> None:
    alert = await low_rating(desk)
    rules = await in_staff_chat(desk, ANSWER, reply_to=alert["message_id"])
    assert "vertraulich" in texts(rules)
    assert desk.api.messages(CUSTOMER)[-1]["text"] != ANSWER
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
    sent = await in_staff_chat(desk, ANSWER, reply_to=alert["message_id"])
    assert ANSWER in to(sent, CUSTOMER)


async def test_bad_input_is_explained_and_sends_nothing(desk: Harness) -> None:
    alert = await low_rating(desk)
    ref = reference(alert)
    await confirmed(desk)
    staff = desk.customer(STAFF)
    count = len(desk.api.messages(CUSTOMER))
    usage = "Schreiben Sie /antworten, die Kennung aus der Warnmeldung und Ihre Antwort"
    for typed in ("/antworten", f"/antworten {ref}", "/antworten Hallo Welt", "/antworten 12 x"):
        assert usage in texts(await staff.send(typed)), typed
    long = await staff.send(f"/antworten {ref} " + "x" * 3501)
    assert "höchstens 3.500 Zeichen (sie hat 3.501)" in texts(long)
    sticker = desk.api.user_sticker(STAFF, chat_id=STAFF_CHAT, chat_type="supergroup")
    sticker["message"]["reply_to_message"] = alert_payload(desk, alert)
    only_text = await desk.deliver(sticker)
    assert texts(only_text).startswith("Nur Text kann an die Kundin oder den Kunden weitergegeben")
    assert len(desk.api.messages(CUSTOMER)) == count
    assert await audit(desk) == []


def alert_payload(desk: Harness, alert: BotMessage) -> dict[str, Any]:
    """The alert as Telegram quotes it in a reply (the fake does so for text messages)."""
    assert desk.app is not None
    return {
        "message_id": alert["message_id"],
        "date": 1,
        "chat": {"id": STAFF_CHAT, "type": "supergroup", "title": "Team"},
        "from": {"id": desk.app.bot.id, "is_bot": True, "first_name": "Bot"},
        "text": alert["text"],
    }


async def test_replies_to_other_messages_and_by_others_are_left_alone(desk: Harness) -> None:
    alert = await low_rating(desk)
    await confirmed(desk)
    count = len(desk.api.messages(CUSTOMER))
    # Staff talking among themselves: a reply to a colleague's message is no answer.
    colleague = desk.api.user_message(
        COLLEAGUE, "Wer kümmert sich?", chat_id=STAFF_CHAT, chat_type="supergroup"
    )
    await desk.deliver(colleague)
    chatter = await in_staff_chat(desk, "Ich", reply_to=colleague["message"]["message_id"])
    assert chatter == []
    # Someone in the staff chat who is not staff replies to the alert: ignored.
    stranger = await in_staff_chat(desk, ANSWER, user_id=OUTSIDER, reply_to=alert["message_id"])
    assert stranger == []
    # An outsider's /antworten in private is an unknown command, like any other.
    outsider = desk.customer(OUTSIDER)
    unknown = texts(await outsider.send("/gibtsnicht"))
    assert texts(await outsider.send(f"/antworten {reference(alert)} {ANSWER}")) == unknown
    assert len(desk.api.messages(CUSTOMER)) == count
    assert await audit(desk) == []


async def test_a_customer_who_blocked_the_bot_is_reported_and_audited(desk: Harness) -> None:
    alert = await low_rating(desk)
    await confirmed(desk)
    desk.api.block_user(CUSTOMER)
    sent = await in_staff_chat(desk, ANSWER, reply_to=alert["message_id"])
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
    sent = await in_staff_chat(desk, ANSWER, reply_to=alert["message_id"])
    assert "nicht gesendet" in texts(sent) and "Speicher" in texts(sent)
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
