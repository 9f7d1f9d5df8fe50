"""Expiry as a person sees it, the purge at start, and the anonymous statistics."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta

import pytest

from bot.app import purge_expired
from storage import Draft
from tests.harness import Harness, files_contain, texts


async def give(harness: Harness, user_id: int, rating: str, comment: str) -> None:
    customer = harness.customer(user_id)
    await customer.send("/start")
    await customer.press("Ja, ich willige ein")
    await customer.press(rating)
    await customer.send(comment)
    await customer.press("Nein")


async def test_expired_feedback_is_never_shown_even_before_the_purge(harness: Harness) -> None:
    await give(harness, 1, "4", "läuft ab")
    harness.clock.advance(timedelta(days=180, seconds=1))
    summary = texts(await harness.customer(1).send("/meinedaten"))
    assert "läuft ab" not in summary and "Feedback 1 von" not in summary


async def test_the_purge_runs_at_start(harness: Harness) -> None:
    await give(harness, 1, "4", "weg damit")
    harness.clock.advance(timedelta(days=181))
    await harness.restart()  # post_init purges before the bot answers anyone
    with sqlite3.connect(harness.settings.data_dir / "feedback.db") as db:
        assert db.execute("SELECT count(*) FROM feedback").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM consents").fetchone() == (0,)
    assert harness.store is not None
    pseudonym = harness.store.pseudonym("tg-user:1")
    assert not files_contain(harness.settings.data_dir, pseudonym.encode())


async def test_statistics_count_ratings_only_and_outlive_the_feedback(harness: Harness) -> None:
    for user, rating in enumerate(["5", "5", "2", "4", "5"], start=1):
        await give(harness, user, rating, f"Freitext-{user}")
    harness.clock.advance(timedelta(days=181))
    await harness.restart()
    assert harness.store is not None
    [row] = await harness.store.statistics(date(2026, 11, 1), date(2026, 12, 31))
    assert row.feedbacks == 5 and row.flow_id == "feedback"
    assert row.counts == {"rating": {"5": 3, "2": 1, "4": 1}}, "no comments, no people"


async def test_a_consent_purged_while_the_person_answers_stores_no_feedback(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The purge runs outside the person's turn. Here it runs just as the person's
    earlier feedback and the consent kept for it expire, between reading the draft and
    writing it back: the conversation ends instead of storing feedback without consent."""
    customer = harness.customer()
    await give(harness, customer.user_id, "4", "erstes")
    harness.clock.advance(timedelta(days=180) - timedelta(minutes=10))
    await customer.send("/start")  # "welcome back": the consent still holds
    await customer.press("5")
    harness.clock.advance(timedelta(minutes=30) - timedelta(milliseconds=1))
    store, app = harness.store, harness.app
    assert store is not None and app is not None and app.bot_data.service is not None
    service, read = app.bot_data.service, store.load_draft

    async def read_then_purge(pseudonym: str, now: datetime) -> Draft | None:
        draft = await read(pseudonym, now)
        harness.clock.advance(timedelta(milliseconds=2))
        await purge_expired(service)
        return draft

    monkeypatch.setattr(store, "load_draft", read_then_purge)
    await customer.send("zweites")
    monkeypatch.setattr(store, "load_draft", read)
    answer = texts(await customer.press("Nein"))
    assert "Gespräch ist beendet" in answer
    person = store.pseudonym(f"tg-user:{customer.user_id}")
    assert await store.feedback_of(person, harness.clock()) == []
    assert "zweites" not in texts(await customer.send("/meinedaten"))
