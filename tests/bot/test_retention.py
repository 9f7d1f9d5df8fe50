"""Expiry as a person sees it, the purge at start, and the anonymous statistics."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import purge_expired
from storage import Draft, SQLiteStore, StorageFull
from tests.fakes.botapi import FakeBotApi
from tests.harness import Clock, Harness, files_contain, make_settings, texts


async def give(
    harness: Harness, user_id: int, rating: str, comment: str, contact: bool = False
) -> None:
    customer = harness.customer(user_id)
    await customer.send("/start")
    await customer.press("Ja, ich willige ein")
    await customer.press(rating)
    await customer.send(comment)
    await customer.press("Ja, einverstanden" if contact else "Nein")


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


async def test_the_pass_for_feedback_withdrawn_under_an_old_version_is_tried_until_done(
    api: FakeBotApi,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A start that cannot make it (a full disk) leaves it for the next start, and says
    so in the log, with no more than the error's kind."""

    async def full(*args: object) -> int:
        raise StorageFull("no space left for the store; nothing was written")

    harness = Harness(api, make_settings(tmp_path / "data"), Clock())
    monkeypatch.setattr(SQLiteStore, "end_withdrawn_leftovers", full)
    await harness.start()
    try:
        assert harness.store is not None
        assert await harness.store.upkeep_due() == {"withdrawn_leftovers"}
        assert "not erased (StorageFull): tried again at the next start" in caplog.text
        monkeypatch.undo()
        await harness.restart()
        assert harness.store is not None
        assert await harness.store.upkeep_due() == set()
    finally:
        await harness.stop()


async def test_the_pass_for_feedback_withdrawn_under_an_old_version_waits_for_every_survey(
    api: FakeBotApi, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by a DPO review: a first start without a survey loaded marked the pass done,
    and that survey's feedback kept under a withdrawn consent stayed for good. It is made
    again at each start while such feedback is stored, and done once every survey is."""
    data = tmp_path / "data"
    harness = Harness(api, make_settings(data), Clock())
    await harness.start()
    try:
        await give(harness, 1, "4", "bleibt")
    finally:
        await harness.stop()

    def as_of(flow_id: str, upkeep: bool = False) -> None:
        with sqlite3.connect(data / "feedback.db") as db:
            db.execute("UPDATE feedback SET flow_id = ?", (flow_id,))
            if upkeep:  # as a store upgraded to v20 would have it
                db.execute("INSERT INTO upkeep (task) VALUES ('withdrawn_leftovers')")

    as_of("retired", upkeep=True)  # a survey no flow loaded declares now
    for _ in range(2):
        await harness.start()
        try:
            assert harness.store is not None
            assert await harness.store.upkeep_due() == {"withdrawn_leftovers"}, "not done"
            assert "feedback of a survey no loaded flow declares is stored" in caplog.text
        finally:
            await harness.stop()
    as_of("feedback")  # the survey loaded again
    await harness.start()
    try:
        assert harness.store is not None
        assert await harness.store.upkeep_due() == set(), "every survey loaded: done"
    finally:
        await harness.stop()


async def test_statistics_count_ratings_only_and_outlive_the_feedback(harness: Harness) -> None:
    for user, rating in enumerate(["5", "5", "2", "4", "5"], start=1):
        await give(harness, user, rating, f"Freitext-{user}")
    harness.clock.advance(timedelta(days=181))
    await harness.restart()
    assert harness.store is not None
    [row] = await harness.store.statistics(date(2026, 11, 1), date(2026, 12, 31))
    assert row.feedbacks == 5 and row.flow_id == "feedback"
    assert row.counts == {"rating": {"5": 3, "2": 1, "4": 1}}, "no comments, no people"


async def test_erasure_and_withdrawal_in_the_chat_leave_the_statistics(harness: Harness) -> None:
    for user, rating in enumerate(["5", "5", "2", "4", "1"], start=1):
        await give(harness, user, rating, f"Freitext-{user}", contact=user in (4, 5))
    erasing, withdrawing = harness.customer(3), harness.customer(5)
    await erasing.send("/loeschen")
    assert "Feedback: 1" in texts(await erasing.press("Alles löschen"))
    await withdrawing.send("/widerruf")
    assert "widerrufen" in texts(await withdrawing.press("Speicherung Ihres Feedbacks"))
    only_contact = harness.customer(4)  # the feedback itself may still be evaluated
    await only_contact.send("/widerruf")
    assert "widerrufen" in texts(await only_contact.press("Kontaktaufnahme"))
    harness.clock.advance(timedelta(days=181))
    await harness.restart()
    assert harness.store is not None
    [row] = await harness.store.statistics(date(2026, 11, 1), date(2026, 12, 31))
    assert row.feedbacks == 3
    assert row.counts == {"rating": {"5": 2, "4": 1}}, "neither the 2 erased nor the 1 withdrawn"


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
    assert "Umfrage ist nicht mehr offen" in answer
    person = store.pseudonym(f"tg-user:{customer.user_id}")
    assert await store.feedback_of(person, harness.clock()) == []
    assert "zweites" not in texts(await customer.send("/meinedaten"))


@pytest.mark.parametrize(
    ("zone", "given_at", "locale", "deleted_on"),
    [
        # 23:30 UTC is 00:30 on 30 November in Berlin; 180 days on is 29 May, 01:30 CEST.
        ("Europe/Berlin", datetime(2026, 11, 29, 23, 30, tzinfo=UTC), "de", "29. Mai 2027"),
        # 02:00 UTC is 21:00 the evening before in New York; deleted on 28 May, 22:00 EDT.
        ("America/New_York", datetime(2026, 11, 30, 2, 0, tzinfo=UTC), "en", "28 May 2027"),
    ],
)
async def test_the_deletion_date_is_the_day_it_happens_where_the_person_is_told(
    api: FakeBotApi, tmp_path: Path, zone: str, given_at: datetime, locale: str, deleted_on: str
) -> None:
    harness = Harness(api, make_settings(tmp_path / "data", timezone=zone), Clock(given_at))
    await harness.start()
    try:
        person = harness.customer(1, language_code=locale)
        await person.send("/start")
        await person.press("Ja, ich willige ein" if locale == "de" else "Yes, I agree")
        await person.press("4")
        await person.send("Zeitzonen" if locale == "de" else "time zones")
        thanks = texts(await person.press("Nein" if locale == "de" else "No"))
        assert deleted_on in thanks, thanks
        shown = texts(await person.send("/meinedaten"))
        assert deleted_on in shown, shown
    finally:
        await harness.stop()


async def test_a_shortened_retention_holds_for_the_feedback_already_stored(
    api: FakeBotApi, tmp_path: Path
) -> None:
    """Found by a DPO audit: after 180d became 90d, stored feedback kept its 180 days
    while /datenschutz said 90 for all of it."""
    data, clock = tmp_path / "data", Clock()
    harness = Harness(api, make_settings(data), clock)
    await harness.start()
    try:
        await give(harness, 1, "4", "vor der Änderung")
        await give(harness, 2, "5", "auch davor")
        assert "28. Mai 2027" in texts(await harness.customer(1).send("/meinedaten"))
    finally:
        await harness.stop()
    harness = Harness(api, make_settings(data, retention="90d"), clock)
    await harness.start()
    try:
        shown = texts(await harness.customer(1).send("/meinedaten"))
        assert "27. Februar 2027" in shown and "28. Mai 2027" not in shown
        assert "90 Tage" in texts(await harness.customer(1).send("/datenschutz"))
    finally:
        await harness.stop()
    clock.advance(timedelta(days=90, seconds=1))
    harness = Harness(api, make_settings(data, retention="120d"), clock)  # longer again
    await harness.start()
    try:
        with sqlite3.connect(data / "feedback.db") as db:
            assert db.execute("SELECT count(*) FROM feedback").fetchone() == (0,)
    finally:
        await harness.stop()


async def test_a_shortened_retention_holds_for_a_language_choice_already_stored(
    api: FakeBotApi, tmp_path: Path
) -> None:
    """Found by a DPO's walk-through: after 180d became 30d, /privacy said a chosen
    language goes 30 days after the last use, while /mydata showed its 180 days' date,
    which stayed there at every use after."""
    data, clock = tmp_path / "data", Clock()
    harness = Harness(api, make_settings(data), clock)
    await harness.start()
    try:
        await harness.customer(1).send("/sprache english")
        assert "28 May 2027" in texts(await harness.customer(1).send("/mydata"))
    finally:
        await harness.stop()
    clock.advance(timedelta(days=2))
    harness = Harness(api, make_settings(data, retention="30d"), clock)
    await harness.start()
    try:
        shown = texts(await harness.customer(1).send("/mydata"))
        assert "31 December 2026" in shown and "28 May 2027" not in shown, shown
        clock.advance(timedelta(days=4))  # used again: 30 days from then
        await harness.customer(1).send("/help")
        shown = texts(await harness.customer(1).send("/mydata"))
        assert "4 January 2027" in shown, shown
    finally:
        await harness.stop()


async def test_the_pass_for_feedback_withdrawn_under_an_old_version_keeps_it_for_contact(
    harness: Harness,
) -> None:
    """Mutation audit: the pass taking every purpose of a flow, not only the required ones,
    went unnoticed; feedback whose optional contact consent alone was withdrawn under an
    old version would have been erased at the first start, and its recipients asked to
    delete it, though the person only no longer wanted to be contacted."""
    await give(harness, 1, "4", "bleibt, nur kein Rückruf", contact=True)
    assert harness.store is not None
    person = harness.store.pseudonym("tg-user:1")
    # As an old version withdrew: the consent marked, the feedback kept; the pass due.
    assert await harness.store.withdraw_consent(person, "contact", harness.clock()) == 1
    with sqlite3.connect(harness.settings.data_dir / "feedback.db") as db:
        db.execute("INSERT OR IGNORE INTO upkeep (task) VALUES ('withdrawn_leftovers')")
    await harness.restart()
    assert harness.store is not None
    assert await harness.store.upkeep_due() == set(), "the pass was made"
    kept = await harness.store.feedback_of(person, harness.clock())
    assert len(kept) == 1, "the feedback stays"
