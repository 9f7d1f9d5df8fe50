"""Alerts due in the store (bot/alerts.py), through the real bot: made up for after a
failure or a stop, never twice, never about feedback gone (found by a review of it)."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest

import bot.alerts
from bot.app import _purge_job
from flows.i18n import translator
from tests.bot import test_staff
from tests.bot.test_staff import STAFF_CHAT, alerts, low
from tests.harness import Harness

desk = test_staff.desk  # the staff desk of the staff tests, a fixture


async def settled(desk: Harness) -> None:
    assert desk.app is not None
    while desk.app.bot_data.background:
        await asyncio.gather(*desk.app.bot_data.background)
    if desk.app.bot_data.retractor is not None:
        await desk.app.bot_data.retractor.wait()


async def purge_job(desk: Harness) -> None:
    assert desk.app is not None
    data = desk.app.bot_data
    job = SimpleNamespace(bot_data=data, service=data.service, application=desk.app)
    await _purge_job(job)  # type: ignore[arg-type]
    await settled(desk)


def staff_sends_with(desk: Harness, needle: str) -> int:
    return sum(
        1
        for call in desk.api.calls("sendMessage")
        if call.ok and call.params.get("chat_id") == STAFF_CHAT and needle in str(call.params)
    )


async def test_alerts_telegram_failed_are_not_dropped_by_the_rate_limit_when_made_up_for(
    desk: Harness,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """README: one Telegram kept back 'is posted at the next start or after the next purge'.
    Three feedbacks while the staff chat fails: the failed tries used the person's three
    slots of the hour, so the purge job drops all three for good."""
    monkeypatch.setattr(bot.alerts, "ALERT_ATTEMPTS", 1)
    desk.api.fail_next("sendMessage", 500, count=3, chat_id=STAFF_CHAT)
    for n in range(3):
        await low(desk, 4801, f"Ausfall Nummer {n}")
    assert alerts(desk) == ""
    assert desk.store is not None and len(await desk.store.alerts_due()) == 3
    desk.clock.advance(timedelta(minutes=20))  # the next purge, Telegram back
    await purge_job(desk)
    desk.clock.advance(timedelta(hours=2))
    await purge_job(desk)
    posted = [f"Ausfall Nummer {n}" in alerts(desk) for n in range(3)]
    assert posted == [True] * 3, f"posted: {posted}; still due: {await desk.store.alerts_due()}"


async def test_one_alert_survives_an_outage_of_three_purges(
    desk: Harness,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A single alert; the staff chat fails at its first try and at two purges (a purge
    interval of 15 min, a 40-minute outage): the fourth try is refused by the rate limit
    and the alert is marked done without being posted."""
    monkeypatch.setattr(bot.alerts, "ALERT_ATTEMPTS", 1)
    desk.api.fail_next("sendMessage", 500, count=3, chat_id=STAFF_CHAT)
    await low(desk, 4802, "Einziger Alarm")
    for _ in range(3):
        desk.clock.advance(timedelta(minutes=15))
        await purge_job(desk)
    desk.clock.advance(timedelta(hours=2))
    await purge_job(desk)
    assert desk.store is not None
    assert "Einziger Alarm" in alerts(desk), f"still due: {await desk.store.alerts_due()}"


async def test_an_alert_in_flight_is_not_posted_again_by_a_purge_job_resume(
    desk: Harness,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """resume() reads the due list once, then reads each person's data (store busy: slow).
    An alert in flight when the list was read finishes meanwhile (done, no longer 'on its
    way'); resume then reaches its entry and posts it a second time."""
    monkeypatch.setattr(bot.alerts, "ALERT_ATTEMPTS", 1)
    # An alert Telegram failed earlier: still due, first in the list.
    desk.api.fail_next("sendMessage", 500, count=1, chat_id=STAFF_CHAT)
    await low(desk, 4803, "Frueher gescheitert")
    # A new alert, held by flood control (1 s) when the purge job starts.
    monkeypatch.setattr(bot.alerts, "ALERT_ATTEMPTS", 6)
    desk.api.fail_next("sendMessage", 429, retry_after=1, count=1, chat_id=STAFF_CHAT)
    customer = desk.customer(4804)
    await customer.send("/start")
    await customer.press("Ja, ich willige ein")
    await customer.press("1")
    await customer.send("Nur einmal bitte")
    await customer.press("Nein")  # the alert is on its way, waiting out flood control
    assert desk.store is not None
    real = desk.store.readable_feedback_of

    async def busy(*args: Any, **kwargs: Any) -> Any:  # a store busy with other work
        await asyncio.sleep(1.5)
        return await real(*args, **kwargs)

    monkeypatch.setattr(desk.store, "readable_feedback_of", busy)
    await purge_job(desk)
    assert staff_sends_with(desk, "Nur einmal bitte") == 1, "posted twice"


async def test_an_alert_waiting_out_flood_control_is_not_posted_after_erasure(
    desk: Harness,
) -> None:
    """The person erases everything while the alert waits for flood control: the alert
    (comment included) is posted to the staff chat afterwards, then replaced."""
    desk.api.fail_next("sendMessage", 429, retry_after=2, count=1, chat_id=STAFF_CHAT)
    customer = desk.customer(4805)
    await customer.send("/start")
    await customer.press("Ja, ich willige ein")
    await customer.press("1")
    await customer.send("Bitte sofort vergessen")
    await customer.press("Nein")
    await customer.send("/loeschen")
    await customer.press("Alles löschen")
    assert desk.store is not None and await desk.store.alerts_due() == []
    await settled(desk)
    assert staff_sends_with(desk, "Bitte sofort vergessen") == 0, (
        "the erased comment was sent to the staff chat after the erasure"
    )


async def test_an_alert_sent_while_the_stop_cancels_it_is_not_left_unnoted(
    desk: Harness,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Stop cancels an alert whose sendMessage Telegram has carried out but not answered
    yet: no message id, counted as 'not posted', still due, posted again at the next
    start. The first copy is noted nowhere: erasure never reaches it."""
    monkeypatch.setattr("bot.app.ALERTS_AT_STOP", 0.2)
    gate = asyncio.Event()
    real = bot.alerts.send_to

    async def slow(bot_: Any, chat_id: int, *args: Any, **kwargs: Any) -> bool:
        if chat_id == STAFF_CHAT:
            await gate.wait()
            desk.api.delay_next("sendMessage", 2.0)  # carried out at once, answered late
        return await real(bot_, chat_id, *args, **kwargs)

    monkeypatch.setattr(bot.alerts, "send_to", slow)
    customer = desk.customer(4806)
    await customer.send("/start")
    await customer.press("Ja, ich willige ein")
    await customer.press("1")
    await customer.send("Beim Halt unterwegs")
    await customer.press("Nein")
    gate.set()
    await desk.api.wait_until_async(
        lambda: "Beim Halt unterwegs" in alerts(desk), what="the alert arrived"
    )
    await desk.stop()
    monkeypatch.setattr(bot.alerts, "send_to", real)
    await desk.start()
    await settled(desk)
    copies = [
        m for m in desk.api.messages(STAFF_CHAT) if "Beim Halt unterwegs" in (m["text"] or "")
    ]
    ledger = desk.settings.data_dir / "erasures.db"
    with closing(sqlite3.connect(ledger)) as db:
        noted = db.execute("SELECT message_id FROM staff_posts").fetchall()
    await customer.send("/loeschen")
    await customer.press("Alles löschen")
    await settled(desk)
    left = [m for m in desk.api.messages(STAFF_CHAT) if "Beim Halt unterwegs" in (m["text"] or "")]
    # Posted once, noted as possibly arrived (no id to replace it by), so that erasure asks
    # staff to delete it by hand rather than leaving it unknown.
    assert (len(copies), len(noted)) == (1, 1) and noted[0][0] < 0
    notes = [m for m in desk.api.messages(STAFF_CHAT) if "von Hand" in (m["text"] or "")]
    assert len(left) == 1 and len(notes) == 1


async def test_a_chat_demo_on_the_bots_data_folder_leaves_the_alerts_due_to_the_bot(
    desk: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by review: `feedbackbot chat --data-dir <the bot's folder>` posted an alert the
    bot had left due to its stand-in staff chat and cleared it; the real bot then posted
    nothing, and the reference staff answer by was lost. A low rating in the demo itself
    is shown in its stand-in, but left to nobody."""
    from tests.bot.test_retractions import hold_alerts

    hold_alerts(monkeypatch)
    customer = desk.customer(4711)
    await customer.send("/start")
    await customer.press("Ja, ich willige ein")
    await customer.press("1")
    await customer.send("Lieferung kam nie an")
    await customer.press("Nein")
    await desk.stop()  # during flood control: the alert stays due
    monkeypatch.undo()
    # (The stand-in and Telegram share the fake here: ids of updates go on.)
    demo = Harness(api=desk.api, settings=desk.settings, clock=desk.clock, real_staff_chat=False)
    await demo.start()
    await low(demo, 4712, "Nur ausprobiert")
    await settled(demo)
    assert "Lieferung" not in alerts(demo) and "Nur ausprobiert" in alerts(demo)
    await demo.stop()
    await desk.start()
    await settled(desk)
    assert "Lieferung kam nie an" in alerts(desk)
    assert alerts(desk).count("Nur ausprobiert") == 1, "the demo's own is not the bot's"


async def test_an_alert_posted_late_says_when_its_feedback_was_given(
    desk: Harness,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Found by a staff review: held back overnight, an alert read as this morning's."""
    monkeypatch.setattr(bot.alerts, "ALERT_ATTEMPTS", 1)
    desk.api.fail_next("sendMessage", 500, count=1, chat_id=STAFF_CHAT)
    given = desk.clock()
    await low(desk, 4803, "Essen kalt, Kellner unfreundlich")
    assert alerts(desk) == ""
    desk.clock.advance(timedelta(hours=10))
    await purge_job(desk)
    await low(desk, 4804, "Gleich gemeldet")
    when = translator("de").datetime(given, desk.settings.timezone)
    [late, at_once] = alerts(desk).split("Niedrige Bewertung")[1:]
    assert f"Feedback vom {when}; diese Warnmeldung kommt verspätet." in late
    assert "Essen kalt" in late and "verspätet" not in at_once


async def test_a_late_alert_shown_again_still_says_when_its_feedback_was_given(
    desk: Harness,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Redrawn without the reference to answer by (the consent to be contacted
    withdrawn), a late alert lost its line and read as fresh (noted in an earlier review)."""
    monkeypatch.setattr(bot.alerts, "ALERT_ATTEMPTS", 1)
    desk.api.fail_next("sendMessage", 500, count=1, chat_id=STAFF_CHAT)
    given = desk.clock()
    customer = desk.customer(4805)
    await customer.send("/start")
    await customer.press("Ja, ich willige ein")
    await customer.press("1")
    await customer.send("Essen kalt, Kellner unfreundlich")
    await customer.press("Ja, einverstanden")
    await settled(desk)
    assert alerts(desk) == ""
    desk.clock.advance(timedelta(hours=10))
    await purge_job(desk)
    [alert] = desk.api.messages(STAFF_CHAT)
    assert "/antworten" in alert["text"] and "verspätet" in alert["text"]
    await customer.send("/widerruf")
    await customer.press("Kontaktaufnahme")
    await settled(desk)
    [shown] = desk.api.messages(STAFF_CHAT)
    when = translator("de").datetime(given, desk.settings.timezone)
    assert "/antworten" not in shown["text"] and "Essen kalt" in shown["text"], shown["text"]
    assert f"Feedback vom {when}; diese Warnmeldung kommt verspätet." in shown["text"]
