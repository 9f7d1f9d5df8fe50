"""Comparing two staff summaries reveals no one: summaries count whole UTC days, in
groups in which at least k people gave feedback, and leave out a group whole once
feedback has left it.

Without that, a summary asked for just before and one just after a customer finishes
differ by exactly that customer's feedback; so do "7d" and a period a minute shorter,
the chart's bar of a day, and two summaries around the moment a known feedback expires.
Over a real SQLite store and the in-memory one.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from itertools import combinations
from pathlib import Path

import pytest

from flows.catalog import FlowCatalog
from flows.figures import FlowTallies, Tally, in_force
from flows.i18n import translator
from flows.staff import (
    RULES_EVENT,
    StaffDesk,
    StaffSettings,
    _midnight,
    release_points,
    whole_groups,
)
from storage import MemoryStore, SQLiteStore
from storage.crypto import generate_key
from storage.interface import (
    ALL_FLOWS,
    AuditEntry,
    ConsentGrant,
    NewFeedback,
    PeriodFeedback,
    Release,
    Store,
    SummarySegment,
)

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

    async def give(
        self,
        person: int,
        rating: int,
        comment: str = "",
        keep: timedelta = timedelta(days=400),
        flow: str = "feedback",
        more: dict[str, object] | None = None,
    ) -> None:
        self.now += timedelta(minutes=7)
        purpose, answers = (
            ("feedback", {"rating": rating, "comment": comment})
            if flow == "feedback"
            else ("product_feedback", {"satisfaction": rating, "improve": comment})
        )
        answers.update(more or {})
        grant = ConsentGrant(
            purpose=purpose,
            notice_version="v1",
            text_sha256="0" * 64,
            method="t",
            granted_at=self.now,
        )
        feedback = NewFeedback(
            flow_id=flow,
            answers=answers,
            purposes=[purpose],
            created_at=self.now,
            expires_at=self.now + keep,
        )
        await self.store.submit_feedback(self.pseudonym(person), feedback, [grant])

    def pseudonym(self, person: int) -> str:
        return self.store.pseudonym(f"tg-user:{person}")

    async def summary(self, period: str = "7d", locale: str = "en") -> str:
        return (await self.desk.summary(STAFF, locale, period)).replies[0].text

    def next_day(self, hours: float = 1) -> None:
        """On to `hours` past the next UTC midnight."""
        midnight = self.now.replace(hour=0, minute=0, second=0, microsecond=0)
        self.now = midnight + timedelta(days=1, hours=hours)

    async def counted(self, length: timedelta) -> list[PeriodFeedback]:
        """The feedback in the current part of a summary over `length` (all of it counts
        while no feedback leaves a group)."""
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


def figures(text: str) -> str:
    """A summary's text but for its heading (the period asked for, which moves on)."""
    return text.split("\n", 1)[1]


def feedbacks(text: str) -> int:
    found = re.search(r"(?:Feedbacks|Responses): (\d+)", text)
    assert found, text
    return int(found.group(1))


async def test_a_summary_on_the_day_someone_finishes_shows_what_the_one_before_did(
    desk: Desk,
) -> None:
    nothing_yet = await desk.summary()
    assert "No feedback to show yet" in nothing_yet and "at least 3 people" in nothing_yet
    for person, rating in ((1, 5), (2, 4), (1, 3)):
        await desk.give(person, rating)
    desk.next_day()
    assert "No feedback to show yet" in await desk.summary(), "two people on the first day"
    await desk.give(3, 5, "schnelle Lieferung")
    today = await desk.summary()
    assert "No feedback to show yet" in today, "the day is not over yet"
    assert "whole days (UTC) once they are over" in today, "the people are enough: say why"

    desk.next_day()
    before = figures(await desk.summary())
    assert feedbacks(before) == 4 and "People: 3" in before
    assert "Counted: the days from 29 November 2026 to 30 November 2026 (UTC)" in before

    await desk.give(4, 1, "Zitronenfalter kaputt")  # someone a colleague knows just finished
    assert figures(await desk.summary()) == before, "today is not counted"
    desk.next_day()
    assert figures(await desk.summary()) == before, "a day with one person waits for two more"
    await desk.give(5, 2)
    await desk.give(4, 2)  # the same person again does not complete a group
    desk.next_day()
    assert figures(await desk.summary()) == before
    await desk.give(6, 5)
    desk.next_day()
    released = await desk.summary()
    assert feedbacks(released) == 8 and "People: 6" in released
    assert "Zitronenfalter" in released


async def test_periods_a_minute_apart_count_the_same_feedback(desk: Desk) -> None:
    for day in range(12):  # one person a day: groups of three days
        desk.now = START + timedelta(days=day)
        await desk.give(day, 1 + day % 5)
    desk.now = START + timedelta(days=12, hours=8)
    # "7d" starts on the sixth day, inside the group of days 4 to 6; "10070m" ten
    # minutes later. Both start where that group starts.
    week = await desk.counted(timedelta(days=7))
    shorter = await desk.counted(timedelta(minutes=10070))
    assert {r.id for r in week} == {r.id for r in shorter}
    assert min(r.created_at for r in week).date() == (START + timedelta(days=3)).date()
    assert len(week) == 9
    assert feedbacks(await desk.summary("7d")) == feedbacks(await desk.summary("10070m")) == 9


async def test_feedback_leaving_a_group_takes_the_whole_group_out(desk: Desk) -> None:
    """Expiry is at a time anyone can work out: a summary just before and one just after
    a known customer's feedback expires must not differ by that feedback."""
    for person in range(3):
        await desk.give(person, 4)
    await desk.give(3, 1, keep=timedelta(days=3))  # expires first
    desk.next_day()
    for person in (4, 5, 6):
        await desk.give(person, 5)
    desk.next_day()
    both = await desk.summary("30d")
    assert feedbacks(both) == 7 and "left out" not in both
    desk.now = START + timedelta(days=3, hours=1)  # the short-lived feedback has expired
    after = await desk.summary("30d")
    assert feedbacks(after) == 3 and "People: 3" in after, "its whole group is out"
    assert "(one group of days). What those days count has changed" in after, "how much"
    assert "1 ★ ░░░░░░░░░░░░ 0" in after

    person = desk.pseudonym(4)
    await desk.store.erase_subject(person)
    erased = await desk.summary("30d")
    assert "No feedback was given" in erased or feedbacks(erased) == 0
    assert "(2 groups of days). What those days count" in erased


async def test_days_left_out_of_the_previous_period_are_said_too(desk: Desk) -> None:
    """Found by a staff-side audit: the previous period's figure was silently too low,
    its change in per cent silently dropped."""
    for person in range(3):
        await desk.give(person, 4)
    desk.next_day()
    for person in range(3, 6):
        await desk.give(person, 5)
    desk.now += timedelta(days=1)
    for person in range(6, 9):
        await desk.give(person, 3)
    desk.now += timedelta(days=1)
    before = await desk.summary("1d")
    assert "left out" not in before
    await desk.store.erase_subject(desk.pseudonym(4))  # in the day before the last
    after = await desk.summary("1d")
    assert (
        "Of the previous period, 30 Nov 2026 is left out (one group of days): what it counts "
        "has changed since it was first shown. So this period is not compared with it."
    ) in after, after
    assert "Left out:" not in after, "the current period is whole"
    # Not "previous period: 0", nor its averages compared (found by a staff walk-through:
    # "Responses: 32 (previous period: 0)" over "Average 2.5 (previous period: 3.6, -1.1)")
    assert "previous period:" not in after and "Responses: 3\n" in after, after


async def test_a_surveys_figures_leave_out_the_days_the_totals_leave_out(desk: Desk) -> None:
    """Found by a staff walk-through: after one customer's erasure, "Feedbacks: 10" over
    "Product feedback: 10" and "Customer feedback: 5", and the chart's bar on a day the
    text said was not counted."""
    for day in range(2):
        for person in range(3):
            await desk.give(day * 10 + person, 4)
            await desk.give(day * 10 + person + 5, 2, flow="product")
        desk.next_day()
    before = await desk.summary("2d")
    assert feedbacks(before) == 12 and "Survey “Product feedback”: 6 responses" in before, before
    await desk.store.erase_subject(desk.pseudonym(1))  # of the first day's customer feedback
    after = await desk.summary("2d")
    assert "Left out: 29 Nov 2026 (one group of days)." in after, after
    assert feedbacks(after) == 6
    assert "Survey “Product feedback”: 3 responses" in after, "its first day is left out too"
    assert "Survey “Customer feedback”: 3 responses" in after


async def test_days_left_out_of_the_current_period_are_named_and_make_no_fall(desk: Desk) -> None:
    """Found by a staff walk-through: after one customer erased their data, a day's group
    dropped out of the week and the summary read "-50 %" against the previous one, the
    note naming no days."""
    for day in range(4):  # one group of three people a day
        for person in range(3):
            await desk.give(day * 3 + person, 4)
        desk.next_day()
    before = await desk.summary("2d")
    assert "Responses: 6 (previous period: 6, ±0%)" in before, before
    assert "Left out:" not in before
    await desk.store.erase_subject(desk.pseudonym(9))  # in the last day
    after = await desk.summary("2d")
    last = (START + timedelta(days=3)).strftime("%-d %b %Y")
    assert f"Left out: {last} (one group of days). What those days count" in after, after
    assert "So no change in per cent is given." in after
    assert "Responses: 3 (previous period: 6)" in after, "no fall nobody caused"
    german = await desk.summary("2d", locale="de")
    assert "Nicht gezählt: 2. Dez. 2026 (eine Gruppe von Tagen)." in german, german
    assert "Daher wird keine Veränderung in Prozent angegeben." in german


async def test_each_survey_shows_its_figures_when_feedback_is_split_between_two(
    desk: Desk,
) -> None:
    """A staff-side audit: 3 people a day answered the service survey and 2 the product
    survey; with k = 5 people in total closing a group, neither survey had 5 answers in
    any group, and ten days of 50 feedbacks showed no figure at all. Each survey's groups
    close on their own now: every answer counts."""
    desk.desk.settings = StaffSettings(min_group_size=5)
    ratings: dict[str, list[int]] = {"feedback": [], "product": []}
    person = 0
    for day in range(10):
        for flow, count in (("feedback", 3), ("product", 2)):
            for n in range(count):
                rating = 1 + (day + n + len(flow)) % 5
                person += 1
                await desk.give(person, rating, flow=flow)
                ratings[flow].append(rating)
        desk.next_day()
    text = await desk.summary("10d")
    assert "No figures for the survey" not in text, text
    # The product survey's groups are of three days (2 people a day), the service's of
    # two: day 9 of the product survey waits for more; each survey says its days.
    service = sum(ratings["feedback"]) / 30
    product = sum(ratings["product"][:18]) / 18
    assert f"Average {service:.1f} out of 5 (30 answers)" in text, text
    assert f"Average {product:.1f} out of 5 (18 answers)" in text, text
    assert "Responses: 50" in text and "People: 50" in text, "all of them, together"
    assert "Survey “Customer feedback”: 30 responses\n" in text
    assert "Survey “Product feedback”: 18 responses\n" in text
    assert "of each survey's questions the groups of days within them" in text
    # 30 and 18 of 50: where the product survey's last day went is said (found by an
    # English-speaking staff review: nothing did, and staff took them for lost).
    assert (
        "\n\nNot counted under a survey above: 2 of the 50 responses. A survey's figures "
        "count only whole groups of days within the days counted in which at least 5 people "
        "answered it, so that no one can be recognised.\n\nAll surveys:\n"
        "Comments: 0% of responses"
    ) in text, text
    german = await desk.summary("10d", "de")
    assert "Durchschnitt" in german and "Umfrage „Produktfeedback“: 18 Feedbacks" in german
    assert (
        "Bei keiner Umfrage oben mitgezählt: 2 der 50 Feedbacks. Die Zahlen einer Umfrage "
        "zählen nur ganze Gruppen von Tagen innerhalb der gezählten Tage, in denen mindestens "
        "5 Personen sie beantwortet haben, damit niemand erkannt werden kann."
    ) in german, german
    # A week starts within a group of the service survey's two days: its first day is
    # left out of that survey's figures, and counted in what is not under one.
    week = await desk.summary("7d")
    assert "Responses: 35 " in week and "Survey “Customer feedback”: 18 responses\n" in week
    assert "Survey “Product feedback”: 12 responses\n" in week, week
    assert "Not counted under a survey above: 5 of the 35 responses." in week


async def test_one_day_of_two_surveys_is_named_as_one_day(desk: Desk) -> None:
    """Found by review: "the days from 29 November 2026 to 29 November 2026"."""
    desk.desk.settings = StaffSettings(min_group_size=5)
    for person in range(10):
        await desk.give(person, 1 + person % 5, flow=("feedback", "product")[person % 2])
    desk.next_day()
    text = await desk.summary("1d")
    assert "Survey “Product feedback”: 5 responses\n" in text, text
    assert "Not counted under a survey above" not in text, "five and five of ten"
    day = translator("en").date(desk.now - timedelta(days=1))
    assert f"Counted: {day} (UTC), and of each survey's questions only those to which" in text
    assert "the days from" not in text


async def legacy_points(desk: Desk) -> None:
    """Release points as versions before schema 14 made them: groups of all surveys
    together (ALL_FLOWS), closed once k people gave feedback to any (from a review)."""
    until = _midnight(desk.now)
    counted = await desk.desk._read(until - timedelta(days=60), until, desk.now)
    days = []
    for day, tallies in counted.days:
        total = Tally()
        for tally in tallies.values():
            total.merge(tally)
        days.append((day, total))
    points = release_points(days, K, desk.store.pseudonym, opening=until, flow=ALL_FLOWS)
    assert await desk.store.add_releases(ALL_FLOWS, points, after=None)


async def test_groups_released_before_the_upgrade_count_what_they_counted(desk: Desk) -> None:
    """A review: the upgrade counted a survey's part of an old group only where k people
    gave it, so a summary before and one after differed by one customer's feedback and
    comment. The old groups count whole in everything they showed before."""
    for person in (1, 2, 3):
        await desk.give(person, 4)
    await desk.give(4, 3, "Preis viel zu hoch", flow="product")
    desk.next_day()
    await legacy_points(desk)
    text = await desk.summary("7d")
    assert "Responses: 4" in text and "People: 4" in text and "Comments: 25%" in text, text
    assert "Average 4.0 out of 5 (3 answers)" in text
    assert "our product" not in text, "one answer: hidden, as before"
    await desk.store.erase_subject(desk.pseudonym(4))
    after = await desk.summary("7d")
    assert "(one group of days). What those days count has changed" in after, "once, not per survey"


async def test_a_survey_with_no_new_days_does_not_stretch_the_summary(desk: Desk) -> None:
    """A review: the days counted, the previous period and the chart ran from the newest
    group of a survey answered two months ago."""
    for person in range(3):
        await desk.give(100 + person, 2, flow="product")
    desk.next_day()
    for day in range(60):
        for person in range(3):
            await desk.give(day * 10 + person, 4)
        desk.next_day()
    text = await desk.summary("7d")
    first = (desk.now - timedelta(days=7)).date()
    assert f"Counted: the days from {translator('en').date(first)}" in text, text
    assert "our product" not in text
    # a survey nobody answers moves on with the days: no summary reads back to its start
    assert await desk.store.last_release("product") == _midnight(desk.now)


async def test_the_chart_of_several_surveys_shows_one_and_says_which(desk: Desk) -> None:
    """A review: bars of one survey's ratings labelled as the average of both read as a
    daily swing between a survey rated 5 and one rated 1."""
    for day in range(2):
        for person in range(3):
            await desk.give(10 * day + person, 5)
            await desk.give(100 + 10 * day + person, 1, flow="product")
        desk.next_day()
    outcome = await desk.desk.summary(STAFF, "en", "7d")
    [chart] = [reply.image for reply in outcome.replies if reply.image is not None]
    assert chart.caption in (
        "Ratings per group of days of the survey “Customer feedback”",
        "Ratings per group of days of the survey “Product feedback”",
    )
    windows = await desk.desk.windows(timedelta(days=7))
    assert windows is not None
    figures, _ = await desk.desk._figures(
        windows, windows.start, windows.end, translator("en"), latest=True
    )
    bars = {tuple(sorted(counts)) for counts in figures.per_day.values()}
    assert bars in ({(5,)}, {(1,)}), "each bar of one survey"


async def test_a_question_not_everyone_is_asked_is_said_to_have_fewer_answers(
    desk: Desk,
) -> None:
    for person in range(6):  # those unhappy are asked what went wrong
        problems: dict[str, object] = {"problems": ["bugs"]} if person < 3 else {}
        await desk.give(person, 2 if person < 3 else 5, flow="product", more=problems)
    desk.next_day()
    text = await desk.summary("7d")
    assert "3 answers (several options could be chosen)" in text, text
    assert "has fewer answers than its survey has responses" in text
    assert "Survey “" not in text, "one survey: no headings"


async def test_a_withdrawn_consent_takes_the_whole_group_out(desk: Desk) -> None:
    for person in range(6):
        await desk.give(person, 2 + person % 4)
    desk.next_day()
    assert feedbacks(await desk.summary()) == 6
    await desk.store.withdraw_consent(desk.pseudonym(0), "feedback", desk.now)
    after = await desk.summary()
    assert "Left out:" in after and "People:" in after
    assert feedbacks(after) == 0


def _day(n: int) -> SummarySegment:
    start = START.replace(hour=0) + timedelta(days=n)
    return SummarySegment(start=start, end=start + timedelta(days=1), bucket=f"d{n}")


def _flows(days: list[tuple[SummarySegment, Tally]]) -> list[tuple[SummarySegment, FlowTallies]]:
    """Days of the feedback survey's tallies as the summary reads them: per survey."""
    return [(day, {"feedback": tally}) for day, tally in days]


def _tally(*people: int, rating: int = 4) -> Tally:
    tally = Tally(feedbacks=len(people), people=set(people))
    if people:
        tally.ratings[("feedback", "rating")] = Counter({rating: len(people)})
        tally.raters[("feedback", "rating")] = set(people)
    return tally


def seal(text: str) -> str:
    return f"sealed({text})"


def test_release_points_close_a_group_of_days_once_k_people_gave_feedback() -> None:
    days = [
        (_day(0), _tally()),
        (_day(1), _tally(1, 1)),  # one person twice
        (_day(2), _tally(2)),
        (_day(3), _tally(3, 4)),  # the third person: the group closes with this day
        (_day(4), _tally(5, 6)),
    ]
    group = Tally()
    for _, tally in days[:4]:
        group.merge(tally)
    closing = Release(
        flow="feedback",
        at=_day(3).end,
        feedbacks=5,
        people=4,
        digest=seal(f"summary-group:{group.fingerprint()}"),
    )
    assert release_points(days, 3, seal, flow="feedback") == [closing]
    opening = Release(flow="feedback", at=_day(1).start)
    points = release_points(days, 3, seal, opening=_day(4).end, flow="feedback")
    assert points == [opening, closing]
    points = release_points(days, 7, seal, opening=_day(4).end, flow="feedback")
    assert points == [opening], "none closes yet"
    nobody = [(day, _tally()) for day, _ in days]
    points = release_points(nobody, 3, seal, opening=_day(4).end, flow="feedback")
    assert points == [Release(flow="feedback", at=_day(4).end)]


def test_a_group_counts_only_while_it_is_whole() -> None:
    released = [
        (_day(0), _tally(1)),
        (_day(1), _tally()),
        (_day(2), _tally(2, 3)),  # group 1: days 0 to 2
        (_day(3), _tally(4, 5, 6)),  # group 2
        (_day(4), _tally(7, 8, 9)),  # group 3
        (_day(5), _tally(10, 11, 12)),  # group 4
        (_day(6), _tally(13, 14, 15)),  # group 5
    ]
    points = tuple(release_points(released, 3, seal, opening=_day(6).end, flow="feedback"))
    now = [
        *released[:3],  # whole
        (_day(3), _tally(4, 5)),  # one feedback gone
        (_day(4), _tally()),  # all gone: nothing to tell
        (_day(5), _tally(10, 11, 12, rating=5)),  # as many, but not the same answers
        released[6],  # whole
    ]
    kept, left_out = whole_groups("feedback", _flows(now), points, 3, seal)
    assert [[day.bucket for day in group.days] for group in kept] == [["d0", "d1", "d2"], ["d6"]]
    assert left_out == [(_day(3).start.date(),) * 2, (_day(5).start.date(),) * 2], "which days"
    assert sum(group.tally.feedbacks for group in kept) == 6
    kept, _ = whole_groups("feedback", _flows(released), points, 4, seal)
    assert kept == [], "groups released under a smaller minimum group size are left out"


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
async def test_no_two_summaries_differ_by_fewer_than_k_people(desk: Desk, seed: int) -> None:
    """People come at random; summaries over random periods at random moments. Any two
    of them count the same feedback or feedback of at least k more people; and a day
    (a bar of the chart) is in a summary whole or not at all."""
    rng = random.Random(seed)
    shown: list[tuple[frozenset[str], dict[str, str], dict[date, frozenset[str]]]] = []
    for _ in range(80):
        if rng.random() < 0.6:
            await desk.give(rng.randrange(15), rng.randint(1, 5))
        else:
            desk.now += timedelta(minutes=rng.randint(1, 900))
        length = timedelta(minutes=rng.choice([1440, 1441, 2000, 2880, 4320, 10080, 10079]))
        text = await desk.summary(f"{int(length.total_seconds() // 60)}m")
        counted = await desk.counted(length)
        if counted:
            assert feedbacks(text) == len(counted), "the text shows what the window holds"
        days: dict[date, set[str]] = {}
        for record in counted:
            days.setdefault(record.created_at.date(), set()).add(record.id)
        shown.append(
            (
                frozenset(r.id for r in counted),
                {r.id: r.pseudonym for r in counted},
                {day: frozenset(ids) for day, ids in days.items()},
            )
        )
    assert sum(1 for ids, _, _ in shown if ids) > 10, "summaries did show feedback"
    for (one, owners_one, days_one), (other, owners_other, days_other) in combinations(shown, 2):
        owners = owners_one | owners_other
        differing = {owners[i] for i in one ^ other}
        assert not differing or len(differing) >= K, (sorted(one), sorted(other))
        for day in days_one.keys() & days_other.keys():
            assert days_one[day] == days_other[day], f"{day} counted in part"


async def test_the_purge_forgets_release_points_no_summary_can_reach(desk: Desk) -> None:
    for day in range(3):
        for person in range(3):
            await desk.give(10 * day + person, 4)
        desk.next_day()
    await desk.summary()
    points = await desk.store.first_release("feedback"), await desk.store.last_release("feedback")
    assert points[0] is not None and points[1] is not None and points[0] < points[1]
    product = await desk.store.last_release("product")
    assert product is not None, "a survey without feedback opens where the days end"
    desk.now += timedelta(days=2 * 3660 + 30)
    await desk.store.purge_expired(desk.now)
    for flow, newest in (("feedback", points[1]), ("product", product)):
        assert await desk.store.first_release(flow) == newest, flow
        assert await desk.store.last_release(flow) == newest, flow


async def test_release_points_survive_a_restart(tmp_path: Path) -> None:
    key = generate_key()
    first = Desk(SQLiteStore(tmp_path / "data", key))
    await first.open()
    try:
        for person in range(4):
            await first.give(person, 4)
        first.next_day()
        before = figures(await first.summary())
    finally:
        await first.store.close()

    again = Desk(SQLiteStore(tmp_path / "data", key))
    again.now = first.now
    await again.store.open()
    try:
        await again.give(9, 1)
        again.next_day()
        assert figures(await again.summary()) == before, "the points are kept: the day waits"
    finally:
        await again.store.close()


async def test_the_chart_has_a_bar_per_group_not_per_day(desk: Desk) -> None:
    """A quiet day's one rating, drawn apart from the busy day in its group, would be the
    group's total less the busy day's bar."""
    await desk.give(1, 1, "nur ich an diesem Tag")
    desk.next_day()
    for person in (2, 3, 4):
        await desk.give(person, 5)
    desk.next_day()
    windows = await desk.desk.windows(timedelta(days=7))
    assert windows is not None
    figures, left_out = await desk.desk._figures(
        windows, windows.start, windows.end, translator("en"), latest=False
    )
    assert left_out == [] and figures.feedbacks == 4
    assert figures.per_day == {(windows.end - timedelta(days=1)).date(): Counter({5: 3, 1: 1})}


async def test_a_clock_set_back_ignores_release_points_after_it(desk: Desk) -> None:
    """Windows ending in the future used to be cut into minutes up to that end (tens of
    thousands of pieces, seconds of the event loop) after a clock jumped back."""
    for day in range(4):
        for person in range(3):
            await desk.give(10 * day + person, 4)
        desk.next_day()
    assert feedbacks(await desk.summary("30d")) == 12
    desk.now -= timedelta(days=2, hours=2)
    windows = await desk.desk.windows(timedelta(days=30))
    assert windows is not None and windows.end <= desk.now
    assert feedbacks(await desk.summary("30d")) == 3, "the one day over before the clock's today"


def test_a_group_shows_no_question_fewer_than_k_of_its_people_answered() -> None:
    """Three people make a group, but only one of them was asked a further question: its
    answer would be the group's total for that question, and a comparison would show it."""
    released = [(_day(0), _tally(1, 2, 3))]
    released[0][1].ratings[("feedback", "further")] = Counter({1: 1})
    released[0][1].raters[("feedback", "further")] = {1}
    points = tuple(release_points(released, 3, seal, opening=_day(0).end, flow="feedback"))
    [group], left_out = whole_groups("feedback", _flows(released), points, 3, seal)
    assert left_out == [] and group.tally.feedbacks == 3
    assert group.tally.ratings == {("feedback", "rating"): Counter({4: 3})}


def test_k_answers_of_one_person_do_not_make_a_question_shown() -> None:
    """k counted answers, not people: one person who answered a further question three
    times had their ratings shown as the group's figures for it."""
    released = [(_day(0), _tally(1, 2, 3))]
    released[0][1].ratings[("feedback", "further")] = Counter({1: 3})
    released[0][1].raters[("feedback", "further")] = {1}
    points = tuple(release_points(released, 3, seal, opening=_day(0).end, flow="feedback"))
    [group], _ = whole_groups("feedback", _flows(released), points, 3, seal)
    assert ("feedback", "further") not in group.tally.ratings


async def test_new_word_lists_after_an_upgrade_hide_no_group(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The groups' digests leave the words out: an upgrade that counts words differently
    used to make every released group look changed, hidden for good."""
    for person in range(4):
        await desk.give(person, 4, "Lieferung schnell")
    desk.next_day()
    before = figures(await desk.summary("30d"))
    assert "lieferung (4)" in before
    monkeypatch.setattr("flows.figures.STOP_WORDS", frozenset({"lieferung"}))
    desk.desk._version = "after-the-upgrade"  # the cached figures are of the old version
    after = figures(await desk.summary("30d"))
    assert "left out" not in after and feedbacks(after) == 4
    assert "lieferung" not in after and "schnell (4)" in after


async def test_a_survey_whose_days_were_left_out_is_not_said_to_be_unanswered(desk: Desk) -> None:
    """Three people answered it, still stored, but another survey's shorter-lived feedback
    took its group of days out: the note named only two reasons, neither true (review)."""
    for person in range(3):
        await desk.give(person, 4)
    await desk.give(3, 1, keep=timedelta(days=3))  # kept shorter than the others
    desk.next_day()
    for person in (10, 11, 12):
        await desk.give(person, 5, flow="product")
    desk.next_day()
    assert "Survey “Customer feedback”: 4" in await desk.summary("30d"), "released"
    desk.now = START + timedelta(days=3, hours=1)  # the short-lived one has expired
    after = await desk.summary("30d")
    assert "(one group of days). What those days count has changed" in after
    assert (
        "No figures for the survey “Customer feedback”: fewer than 3 people, perhaps none, "
        "answered it in each group of days, or the days it was answered on are left out "
        "(see above)." in after
    ), after
