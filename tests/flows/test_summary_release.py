"""Comparing two staff summaries reveals no one: summaries start and end at release
points, which cut the feedback into groups of at least k people.

Without them, a summary asked for just before and one just after a customer finishes
differ by exactly that customer's feedback, and so do "7d" and a period a minute
shorter. Over a real SQLite store and the in-memory one.
"""

from __future__ import annotations

import random
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path

import pytest

from flows.catalog import FlowCatalog
from flows.figures import in_force
from flows.staff import RULES_EVENT, StaffDesk, StaffSettings, release_points
from storage import MemoryStore, SQLiteStore
from storage.crypto import generate_key
from storage.interface import AuditEntry, ConsentGrant, NewFeedback, PeriodFeedback, Store

K = 3
START = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
CATALOG = FlowCatalog.load()
STAFF = "staff:1"


class Desk:
    """A staff desk over a store, and customers who give feedback at the desk's time."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.now = START
        self.desk = StaffDesk(store, CATALOG, StaffSettings(min_group_size=K), lambda: self.now)

    async def open(self) -> None:
        await self.store.open()
        await self.store.record_audit(
            AuditEntry(event=RULES_EVENT, at=START, actor=STAFF, detail=self.desk.rules_version())
        )

    async def give(self, person: int, rating: int, comment: str = "") -> None:
        self.now += timedelta(minutes=7)
        grant = ConsentGrant(
            purpose="feedback",
            notice_version="v1",
            text_sha256="0" * 64,
            method="t",
            granted_at=self.now,
        )
        feedback = NewFeedback(
            flow_id="feedback",
            answers={"rating": rating, "comment": comment},
            purposes=["feedback"],
            created_at=self.now,
            expires_at=self.now + timedelta(days=400),
        )
        await self.store.submit_feedback(self.pseudonym(person), feedback, [grant])

    def pseudonym(self, person: int) -> str:
        return self.store.pseudonym(f"tg-user:{person}")

    async def summary(self, period: str = "7d", locale: str = "en") -> str:
        return (await self.desk.summary(STAFF, locale, period)).replies[0].text

    async def counted(self, length: timedelta) -> list[PeriodFeedback]:
        """The feedback the current part of a summary over `length` counts."""
        windows = await self.desk.windows(length)
        if windows is None:
            return []
        records = await self.store.feedback_in_period(windows.start, windows.end, self.now)
        return [r for r in records if in_force(r, CATALOG)]


@pytest.fixture(params=["sqlite", "memory"])
async def desk(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Desk]:
    store: Store = (
        SQLiteStore(tmp_path / "data", generate_key())
        if request.param == "sqlite"
        else MemoryStore()
    )
    world = Desk(store)
    await world.open()
    yield world
    await store.close()


def feedbacks(text: str) -> int:
    found = re.search(r"(?:Feedbacks|Responses): (\d+)", text)
    assert found, text
    return int(found.group(1))


async def test_a_summary_just_after_someone_finishes_shows_what_the_one_before_did(
    desk: Desk,
) -> None:
    nothing_yet = await desk.summary()
    assert "No feedback to show yet" in nothing_yet and "at least 3 people" in nothing_yet
    for person, rating in ((1, 5), (2, 4), (1, 3)):
        await desk.give(person, rating)
    assert "No feedback to show yet" in await desk.summary(), "three feedbacks of two people"

    await desk.give(3, 5, "schnelle Lieferung")
    before = await desk.summary()
    assert feedbacks(before) == 4 and "People: 3" in before
    assert "Counted: feedback given from" in before and "groups of at least 3 people" in before

    await desk.give(4, 1, "Zitronenfalter kaputt")  # someone a colleague knows just finished
    after = await desk.summary()
    assert after == before, "the newest feedback waits for two more people"
    assert "Zitronenfalter" not in after

    await desk.give(5, 2)
    await desk.give(4, 2)  # the same person again does not complete a group
    assert await desk.summary() == before
    await desk.give(6, 5)
    released = await desk.summary()
    assert feedbacks(released) == 8 and "People: 6" in released
    assert "Zitronenfalter" in released


async def test_periods_a_minute_apart_count_the_same_feedback(desk: Desk) -> None:
    for person in range(12):  # 7 minutes apart: groups of three end at 21, 42, 63, 84 min
        await desk.give(person, 1 + person % 5)
    desk.now = START + timedelta(days=7, minutes=31)
    # "7d" starts at minute 31, in the middle of the second group; "10070m" ten minutes
    # later. Both start where that group starts: the feedback at minute 28 is in both.
    week = await desk.counted(timedelta(days=7))
    shorter = await desk.counted(timedelta(minutes=10070))
    assert {r.id for r in week} == {r.id for r in shorter}
    assert min(r.created_at for r in week) == START + timedelta(minutes=28)
    assert len(week) == 9
    assert feedbacks(await desk.summary("7d")) == feedbacks(await desk.summary("10070m")) == 9


def _record(n: int, person: str, minute: int, consents: frozenset[str]) -> PeriodFeedback:
    at = START + timedelta(minutes=minute)
    return PeriodFeedback(
        id=f"r{n}",
        flow_id="feedback",
        answers={"rating": 3},
        purposes=["feedback"],
        created_at=at,
        expires_at=at + timedelta(days=30),
        pseudonym=person,
        consents_in_force=consents,
    )


def test_release_points_close_a_group_once_k_people_gave_feedback() -> None:
    given = frozenset({"feedback"})
    records = [
        _record(1, "a", 0, given),
        _record(2, "a", 1, given),
        _record(3, "b", 2, frozenset()),  # consent withdrawn: not counted
        _record(4, "c", 3, given),
        _record(5, "d", 4, given),  # the third person: the group closes after them
        _record(6, "e", 4, given),  # same moment: cannot be told apart, same group
        _record(7, "f", 5, given),
        _record(8, "g", 6, given),
    ]
    first_group_end = START + timedelta(minutes=4, microseconds=1)
    assert release_points(records, 3, CATALOG, first=False) == [first_group_end]
    assert release_points(records, 3, CATALOG, first=True) == [START, first_group_end]
    assert release_points(records[:5], 4, CATALOG, first=True) == []


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
async def test_no_two_summaries_differ_by_fewer_than_k_people(desk: Desk, seed: int) -> None:
    """People come and go at random; summaries over random periods at random moments.
    Any two of them count the same feedback or feedback of at least k more people."""
    rng = random.Random(seed)
    shown: list[tuple[str, frozenset[str], dict[str, str]]] = []
    for _ in range(60):
        if rng.random() < 0.6:
            await desk.give(rng.randrange(15), rng.randint(1, 5))
        else:
            desk.now += timedelta(minutes=rng.randint(1, 600))
        length = timedelta(minutes=rng.choice([30, 90, 600, 1440, 1441, 2880, 10080, 10079]))
        text = await desk.summary(f"{int(length.total_seconds() // 60)}m")
        counted = await desk.counted(length)
        if counted:
            assert feedbacks(text) == len(counted), "the text shows what the window holds"
        owners = {r.id: r.pseudonym for r in counted}
        shown.append((text, frozenset(owners), owners))
    assert sum(1 for _, ids, _ in shown if ids) > 10, "summaries did show feedback"
    for (_, one, owners_one), (_, other, owners_other) in combinations(shown, 2):
        owners = owners_one | owners_other
        differing = {owners[i] for i in one ^ other}
        assert not differing or len(differing) >= K, (sorted(one), sorted(other))


async def test_the_purge_forgets_release_points_no_summary_can_reach(desk: Desk) -> None:
    for person in range(7):
        await desk.give(person, 4)
    await desk.summary()
    points = await desk.store.first_release(), await desk.store.last_release()
    assert points[0] is not None and points[1] is not None and points[0] < points[1]
    desk.now += timedelta(days=2 * 3660 + 30)
    await desk.store.purge_expired(desk.now)
    assert await desk.store.first_release() == await desk.store.last_release() == points[1]


async def test_release_points_survive_a_restart(tmp_path: Path) -> None:
    key = generate_key()
    first = Desk(SQLiteStore(tmp_path / "data", key))
    await first.open()
    try:
        for person in range(4):
            await first.give(person, 4)
        before = await first.summary()
    finally:
        await first.store.close()

    again = Desk(SQLiteStore(tmp_path / "data", key))
    again.now = first.now
    await again.store.open()
    try:
        await again.give(9, 1)
        assert await again.summary() == before, "the points are kept: the newest still waits"
    finally:
        await again.store.close()
