"""Alerts checked against the store before every try (bot/alerts.py): an alert in two
messages whose second part is refused, a stop in flood control, a consent withdrawn while
an alert waits, the hourly limit (found by a review of that check)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import bot.alerts
from storage.interface import StoreError
from tests.bot import test_answers, test_retraction_edges, test_retractions
from tests.bot.test_alert_outbox import purge_job
from tests.bot.test_retraction_edges import _alert_on_its_way_then_withdraw, staff_texts
from tests.bot.test_retractions import STAFF_CHAT, YES, hold_alerts, posts, settled
from tests.bot.test_staff import low
from tests.harness import Harness, texts

desk = test_retractions.desk  # the staff desk of the retraction tests, a fixture
long_desk = test_retraction_edges.long_desk  # one whose alerts may take two messages

COMMENT = ("Essen kalt " * 354).strip()  # with the reference: an alert in two messages


def hold_second_check(monkeypatch: pytest.MonkeyPatch) -> tuple[asyncio.Event, asyncio.Event]:
    """Hold the alert before the check of its second part (as flood control on part 2)."""
    between, gate = asyncio.Event(), asyncio.Event()
    real = bot.alerts.Alerts._verdict
    calls = [0]

    async def held(self: Any, pseudonym: str, record: Any) -> Any:
        calls[0] += 1
        if calls[0] == 2:
            between.set()
            await gate.wait()
        return await real(self, pseudonym, record)

    monkeypatch.setattr(bot.alerts.Alerts, "_verdict", held)
    return between, gate


async def start_two_part_alert(desk: Harness, user_id: int) -> None:
    customer = desk.customer(user_id)
    await customer.send("/start")
    await customer.press("Ja, ich willige ein")
    await customer.press("1")
    await customer.send(COMMENT)
    await customer.press(YES)


def copies(desk: Harness) -> int:
    return sum(1 for m in desk.api.messages(STAFF_CHAT) if "Essen kalt" in (m["text"] or ""))


async def test_a_part_posted_before_the_contact_consent_went_is_noted_not_posted_again(
    long_desk: Harness,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The second part refused (the consent to be contacted went meanwhile): the first,
    which went out, is noted, shown again without the reference, and not posted twice."""
    desk = long_desk
    between, gate = hold_second_check(monkeypatch)
    await start_two_part_alert(desk, 4901)
    await asyncio.wait_for(between.wait(), 5)
    assert copies(desk) == 1, "part one (the comment) is in the staff chat"
    customer = desk.customer(4901)
    await customer.send("/widerruf")
    await customer.press("Kontaktaufnahme")
    gate.set()
    await settled(desk)
    assert desk.store is not None
    noted, due = posts(desk), await desk.store.alerts_due()
    await purge_job(desk)  # resume: the alert is still due
    assert (len(noted), due, copies(desk)) == (1, [], 1), (
        f"part one noted: {len(noted)} rows; still due: {due}; copies after a purge: {copies(desk)}"
    )


async def test_a_part_posted_before_an_erasure_is_taken_back(
    long_desk: Harness,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The person erased everything between the two parts: the first part, which holds
    the comment, was left in the staff chat, noted nowhere (review)."""
    desk = long_desk
    between, gate = hold_second_check(monkeypatch)
    await start_two_part_alert(desk, 4902)
    await asyncio.wait_for(between.wait(), 5)
    customer = desk.customer(4902)
    await customer.send("/loeschen")
    await customer.press("Alles löschen")
    gate.set()
    await settled(desk)
    await purge_job(desk)
    assert "Essen kalt" not in staff_texts(desk), (
        f"the erased comment stays in the staff chat; staff_posts rows: {len(posts(desk))}"
    )


async def test_a_store_failing_before_the_second_part_posts_the_first_once(
    long_desk: Harness,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The check before the second part fails: what went out is noted, not posted again
    by the next purge."""
    desk = long_desk
    assert desk.store is not None
    real = desk.store.alert_is_due
    calls = [0]

    async def flaky(feedback_id: str) -> bool:
        calls[0] += 1
        if calls[0] == 2:
            raise StoreError("busy")
        return await real(feedback_id)

    monkeypatch.setattr(desk.store, "alert_is_due", flaky)
    await start_two_part_alert(desk, 4903)
    await settled(desk)
    await purge_job(desk)
    assert copies(desk) == 1, f"the comment posted {copies(desk)} times; rows: {len(posts(desk))}"


async def test_a_stop_during_flood_control_is_not_noted_as_possibly_arrived(
    long_desk: Harness,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Cancelled while sleeping out a 429: still due, not noted as possibly arrived."""
    desk = long_desk
    monkeypatch.setattr("bot.app.ALERTS_AT_STOP", 0.2)
    desk.api.fail_next("sendMessage", 429, retry_after=5, count=1, chat_id=STAFF_CHAT)
    customer = desk.customer(4904)
    await customer.send("/start")
    await customer.press("Ja, ich willige ein")
    await customer.press("1")
    await customer.send("Kurz")
    await customer.press(YES)
    await asyncio.sleep(0.1)
    await desk.stop()
    await desk.start()
    assert posts(desk) == []
    await settled(desk)
    assert desk.store is not None and await desk.store.alerts_due() == []
    assert [r for r in posts(desk) if r[2] < 0] == [], "noted as possibly arrived"
    assert sum(1 for m in desk.api.messages(STAFF_CHAT) if "Kurz" in (m["text"] or "")) == 1


async def test_an_alert_shown_as_the_consents_now_allow_is_noted_so(
    desk: Harness,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Re-rendered without the reference, noted without a redraw flag, resting on the
    survey's consent, no longer due."""
    gate = await _alert_on_its_way_then_withdraw(desk, monkeypatch, 4905, "Neu gezeichnet")
    gate.set()
    await settled(desk)
    rows = posts(desk)
    assert len(rows) == 1 and rows[0][7] == 0, rows
    assert rows[0][6] != "contact", rows
    assert "/antworten" not in staff_texts(desk)
    assert desk.store is not None and await desk.store.alerts_due() == []


async def test_an_alert_only_for_the_contact_is_not_posted_once_that_consent_went(
    desk: Harness,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 4 of 5 (above the threshold) alerted only for the consent to be contacted; that
    consent went while it waited: nothing posted, no longer due."""
    gate = hold_alerts(monkeypatch)
    customer = desk.customer(4906)
    await customer.send("/start")
    await customer.press("Ja, ich willige ein")
    await customer.press("4")
    await customer.send("Bitte melden")
    await customer.press(YES)
    await customer.send("/widerruf")
    await customer.press("Kontaktaufnahme")
    gate.set()
    await settled(desk)
    assert "Bitte melden" not in staff_texts(desk)
    assert posts(desk) == []
    assert desk.store is not None and await desk.store.alerts_due() == []


def test_an_alert_not_posted_gives_back_its_own_place_in_the_hourly_limit() -> None:
    """X (t=0) fails after Y (t=50 min) was let through: X's place is given back, not
    Y's, so at t=61 min only two more fit (Y was posted 11 minutes before)."""
    alerts = bot.alerts.Alerts(None)  # type: ignore[arg-type]
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    assert alerts._allowed("p", t0)  # X, held by flood control
    assert alerts._allowed("p", t0 + timedelta(minutes=50))  # Y, waits its turn
    alerts._untried("p", t0)  # X fails: not counted
    # Y posted. At t=61 min, three more new alerts are let through:
    later = t0 + timedelta(minutes=61)
    let_through = sum(alerts._allowed("p", later) for _ in range(3))
    assert let_through == 2, f"{let_through} + Y within the hour"


async def test_alerts_made_up_for_are_not_held_back_by_the_hourly_limit(
    desk: Harness,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """README: the limit of three an hour holds back new alerts only. Four alerts fail
    (Telegram down); the next purge posts all four."""
    monkeypatch.setattr(bot.alerts, "ALERT_ATTEMPTS", 1)
    desk.api.fail_next("sendMessage", 500, count=4, chat_id=STAFF_CHAT)
    for n in range(4):
        await low(desk, 4907, f"Ausfall {n}")
    desk.clock.advance(timedelta(minutes=15))
    await purge_job(desk)
    shown = [f"Ausfall {n}" in staff_texts(desk) for n in range(4)]
    assert shown == [True] * 4, shown


async def test_an_answer_to_the_first_part_of_an_alert_is_pointed_to_the_second(
    long_desk: Harness,
) -> None:
    """Found by review: /antworten in reply to the first of two messages, the one staff
    answer, was told the feedback's author had not agreed to be contacted."""
    desk = long_desk
    await start_two_part_alert(desk, 4905)
    await settled(desk)
    first, second = [m for m in desk.api.messages(STAFF_CHAT) if m["text"]][:2]
    await test_answers.confirmed(desk)
    pointed = await test_answers.in_staff_chat(
        desk, "/antworten Danke!", reply_to=first["message_id"]
    )
    assert "kommt in zwei Nachrichten: Antworten Sie auf die zweite" in texts(pointed)
    answered = await test_answers.in_staff_chat(
        desk, "/antworten Danke!", reply_to=second["message_id"]
    )
    assert "nennt kein Feedback" not in texts(answered)
    assert any("Danke!" in (m["text"] or "") for m in desk.api.messages(4905)), "answered"
