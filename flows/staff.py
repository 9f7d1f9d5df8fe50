"""The staff desk: summaries, digests, low-rating alerts and exports, every access audited.

Who counts as staff is decided by the transport (it knows Telegram ids and chats);
this module only ever sees the staff member's reference for the audit trail.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

from flows.catalog import FlowCatalog
from flows.chart import ratings_chart
from flows.durations import InvalidDuration, compact_duration, parse_duration
from flows.figures import Tally, cache_version, comments_of, in_force, segments
from flows.i18n import SUPPORTED_LOCALES, Translator, translator
from flows.models import ChoiceStep, MultipleChoiceStep, RatingStep, TextStep, render_text
from flows.redaction import redact
from flows.replies import Button, Document, Outcome, Reply, headed
from flows.summary import LATEST_COMMENTS, Figures, figures_of, render, scale_five
from storage.interface import (
    RELEASE_MEMORY,
    AuditEntry,
    CacheEntry,
    FeedbackRecord,
    PeriodFeedback,
    SegmentRead,
    StorageFull,
    Store,
    SummarySegment,
)

_shuffle = random.SystemRandom().shuffle

log = logging.getLogger("flows.staff")

DEFAULT_PERIOD = timedelta(days=7)
MAX_PERIOD = timedelta(days=3660)
_TICK = timedelta(microseconds=1)
# Telegram's 64 bytes of button data less "sr:", the rules' version and ":".
_BUTTON_PERIOD_BYTES = 64 - 3 - 12 - 1


RULES_EVENT = "staff-rules-confirmed"


@dataclass
class _Counted:
    """What a summary read adds up to, and what it leaves to do."""

    total: Tally = field(default_factory=Tally)
    per_day: dict[date, Counter[int]] = field(default_factory=dict)
    comments: list[tuple[datetime, str]] = field(default_factory=list)
    """Comments of the feedback read (not redacted yet)."""
    commented_buckets: list[SummarySegment] = field(default_factory=list)
    """Cached buckets (days, hours, ...) that have comments, oldest first."""
    fresh: list[CacheEntry] = field(default_factory=list)
    """Figures counted from the feedback of whole buckets, to be cached."""


@dataclass(frozen=True)
class Windows:
    """What a summary counts: feedback given in [start, end), and before it in
    [previous, start). Each bound is a release point (see `StaffDesk.windows`)."""

    previous: datetime
    start: datetime
    end: datetime


def release_points(
    records: list[PeriodFeedback], k: int, catalog: FlowCatalog, first: bool
) -> list[datetime]:
    """Release points that cut `records` (oldest first, all after the newest point so far)
    into groups of at least `k` people each, counting feedback whose consents are in
    force; what is left over waits for more. With `first` (no point yet), the first
    point is where the first group starts."""
    points: list[datetime] = []
    people: set[str] = set()
    for moment, group in groupby(records, key=lambda record: record.created_at):
        people.update(record.pseudonym for record in group if in_force(record, catalog))
        if len(people) >= k:
            points.append(moment + _TICK)
            people = set()
    if first and points:
        points.insert(0, records[0].created_at)
    return points


def _button_period(period: str | None) -> str:
    """`period` as the confirm button carries it: Telegram allows 64 bytes of button data,
    so a long spelling ("0000030d") travels as its seconds."""
    if not period:
        return ""
    if len(period.encode()) <= _BUTTON_PERIOD_BYTES:
        return period
    return str(max(1, int(parse_duration(period).total_seconds())))


def _newest(comments: list[tuple[datetime, str]]) -> list[tuple[datetime, str]]:
    return sorted(comments, key=lambda c: c[0], reverse=True)[:LATEST_COMMENTS]


@dataclass(frozen=True)
class StaffSettings:
    min_group_size: int = 5
    alert_threshold: int | None = None
    contact: str = ""
    """Who staff ask about data protection: the DPO if appointed, else the controller."""
    rules: Mapping[str, str] | None = None
    """The data-handling rules per language, replacing the shipped text."""
    timezone: str = "Europe/Berlin"
    """Whose calendar dates are shown in (FEEDBACKBOT_TIMEZONE)."""


class StaffDesk:
    def __init__(
        self,
        store: Store,
        catalog: FlowCatalog,
        settings: StaffSettings,
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.settings = settings
        self.clock = clock
        self._version = cache_version(catalog)
        self._releasing = asyncio.Lock()

    # --- the rules every staff member confirms before seeing anything ---------------------
    def rules_text(self, locale: str) -> str:
        t = translator(locale)
        custom = self.settings.rules or {}
        text = custom.get(locale) or next(iter(custom.values()), None)
        if text is None:
            text = t.gettext(
                "Rules for handling customer feedback\n"
                "• Feedback is confidential. Use it only to improve our products and service.\n"
                "• Do not try to find out who wrote a comment, and do not copy personal data "
                "out of the bot.\n"
                "• Do not pass feedback on outside the team. Keep exports only as long as the "
                "analysis needs them, stored securely.\n"
                "• Every access is logged: who, when, what and how many records.\n"
                "• Questions about data protection: {contact}"
            ).format(contact=self.settings.contact)
        return text

    def rules_version(self) -> str:
        """Changes whenever the rules change in any language; staff then confirm again."""
        joined = "\0".join(self.rules_text(locale) for locale in SUPPORTED_LOCALES)
        return hashlib.sha256(joined.encode()).hexdigest()[:12]

    async def rules_gate(self, actor: str, locale: str, period: str | None) -> Outcome | None:
        """The rules and a confirm button, unless `actor` confirmed the current version.

        The button carries the `period` asked for (already checked), so confirming shows
        the summary that was asked for.
        """
        last = await self.store.last_audit(RULES_EVENT, actor)
        version = self.rules_version()
        if last is not None and last.detail == version:
            return None
        t = translator(locale)
        text = "\n\n".join(
            [self.rules_text(locale), t.gettext("Please confirm these rules once to continue.")]
        )
        button = Button(t.gettext("I confirm"), f"sr:{version}:{_button_period(period)}")
        return Outcome(replies=(Reply(text, ((button,),)),))

    async def confirm_rules(self, actor: str, locale: str, data: str) -> Outcome:
        """The "I confirm" button: audited with the rules' version, then the summary asked
        for. A button of older rules (or a forged one) asks to read the rules again."""
        t = translator(locale)
        version, _, period = data.removeprefix("sr:").partition(":")
        if version != self.rules_version():
            return Outcome(
                toast=t.gettext("The rules have changed. Please read them again."),
                close_keyboard=True,
            )
        await self.store.record_audit(
            AuditEntry(event=RULES_EVENT, at=self.clock(), actor=actor, detail=version)
        )
        log.info("staff rules confirmed")
        summary = await self.summary(actor, locale, period or None)
        notes = (t.gettext("Thank you, the rules are confirmed."),)
        return replace(summary, replies=headed(notes, summary.replies), close_keyboard=True)

    async def summary(
        self, actor: str, locale: str, period: str | None, event: str = "summary"
    ) -> Outcome:
        """/zusammenfassung [period]: figures of the period against the one before, and a chart."""
        t = translator(locale)
        try:
            length = parse_duration(period) if period else DEFAULT_PERIOD
        except InvalidDuration:
            length = None
        if length is None or length > MAX_PERIOD:
            return Outcome.say(
                t.gettext(
                    "I do not understand that period. Try for example /summary 24h, 7d or 30d."
                )
            )
        if event == "summary":
            gate = await self.rules_gate(actor, locale, period)
            if gate is not None:
                return gate
        now = self.clock()
        since = now - length
        windows = await self.windows(length)
        if windows is None:
            current = previous = figures_of(Tally(), self.catalog, t)
        else:
            current = await self._figures(windows.start, windows.end, now, t, latest=True)
            previous = await self._figures(windows.previous, windows.start, now, t, latest=False)
        k = self.settings.min_group_size
        text = render(
            t,
            since,
            now,
            current,
            previous,
            k,
            self.settings.timezone,
            counted=None if windows is None else (windows.start, windows.end),
            released=windows is not None,
        )
        await self._audit(event, actor, period or "7d", current.feedbacks)
        replies = [Reply(text)]
        if windows is not None and current.people >= k and current.per_day:
            png = await asyncio.to_thread(
                ratings_chart,
                t,
                current.per_day,
                min(since, windows.start).date(),
                windows.end.date(),
                k,
            )
            replies.append(
                Reply("", image=Document("ratings.png", png, t.gettext("Ratings per day")))
            )
        return Outcome(replies=tuple(replies))

    async def windows(self, length: timedelta) -> Windows | None:
        """What a summary over `length` up to now counts; None while nothing is released.

        A summary that counted feedback up to the moment it was asked for would give away
        one person's answers: asked for just before and just after someone finishes, the
        two differ by exactly that feedback (the same at the start: "7d" against a period
        a minute shorter). So summaries start and end only at release points, which cut
        the feedback, as it comes in, into groups of at least k people
        (`release_points`): any two summaries differ by whole groups or not at all. A
        period starts at the point before its first moment, so it covers at least what was
        asked for; it ends at the newest point, and newer feedback waits until k people
        have given some.
        """
        now = self.clock()
        end = await self._release(now)
        if end is None:
            return None
        start = await self._point_before(now - length)
        previous = await self._point_before(start - length)
        return Windows(previous=previous, start=start, end=end)

    async def _point_before(self, moment: datetime) -> datetime:
        """The release point at or before `moment`, or the first one if none is."""
        point = await self.store.last_release(moment) or await self.store.first_release()
        if point is None:  # only ever asked once a point exists
            raise RuntimeError("no release point")
        return point

    async def _release(self, now: datetime) -> datetime | None:
        """Add the release points that feedback given since the newest allows; the newest
        point afterwards."""
        async with self._releasing:
            last = await self.store.last_release()
            since = now - RELEASE_MEMORY if last is None else last
            records = await self.store.feedback_in_period(since, now + _TICK, now)
            points = release_points(
                records, self.settings.min_group_size, self.catalog, first=last is None
            )
            if not points:
                return last
            try:
                if await self.store.add_releases(points, after=last):
                    return points[-1]
            except StorageFull:
                log.warning("release_points_not_saved")
                return last
            return await self.store.last_release()  # another process added them first

    async def _figures(
        self, since: datetime, until: datetime, now: datetime, t: Translator, latest: bool
    ) -> Figures:
        """The figures of [since, until): whole days, hours, ten minutes and minutes from the
        summary cache where it has them, the rest counted from the feedback (and cached)."""
        reads = await self.store.summary_segments(segments(since, until, now), self._version, now)
        # Counting words of many comments is CPU work: in a thread, so customers are
        # answered meanwhile.
        counted = await asyncio.to_thread(self._count, reads)
        if counted.fresh:
            try:
                await self.store.save_summary_cache(counted.fresh, self._version)
            except StorageFull:
                log.warning("summary_cache_not_saved")
        comments = await self._latest_comments(counted, now, t) if latest else []
        return figures_of(counted.total, self.catalog, t, counted.per_day, comments)

    def _count(self, reads: list[SegmentRead]) -> _Counted:
        counted = _Counted()
        for read in reads:
            if read.cached is not None:
                tally = Tally.from_bytes(read.cached, people=counted.total.people)
                if tally.commented:
                    counted.commented_buckets.append(read.segment)
            else:
                tally = Tally()
                for record in read.records:
                    counted.comments += [
                        (record.created_at, c) for c in tally.add(record, self.catalog)
                    ]
                if read.segment.bucket is not None and tally.expires_at is not None:
                    counted.fresh.append(
                        CacheEntry(
                            bucket=read.segment.bucket,
                            epoch=read.epoch,
                            expires_at=tally.expires_at,
                            payload=tally.to_bytes(),
                        )
                    )
            five = scale_five(tally, self.catalog)
            if five:
                counted.per_day.setdefault(read.segment.start.date(), Counter()).update(five)
            counted.total.merge(tally)
        return counted

    async def _latest_comments(
        self, counted: _Counted, now: datetime, t: Translator
    ) -> list[tuple[datetime, str]]:
        """The newest comments of the period, redacted: those counted just now, and from
        cached buckets (newest first) only as many as can still be among them."""
        found = _newest(counted.comments)
        for segment in reversed(counted.commented_buckets):
            if sum(when >= segment.end for when, _ in found) >= LATEST_COMMENTS:
                break
            found = _newest(found + await self._comments_in(segment, now))
        return await asyncio.to_thread(lambda: [(when, redact(c, t)) for when, c in found])

    async def _comments_in(
        self, segment: SummarySegment, now: datetime
    ) -> list[tuple[datetime, str]]:
        limit = 4 * LATEST_COMMENTS
        while True:
            records = await self.store.feedback_in_period(
                segment.start, segment.end, now, newest=limit
            )
            comments = [
                (record.created_at, comment)
                for record in records
                if in_force(record, self.catalog)
                for comment in comments_of(record, self.catalog)
            ]
            if len(comments) >= LATEST_COMMENTS or len(records) < limit:
                return comments
            limit *= 4

    async def digest(self, locale: str, period: timedelta) -> Outcome:
        """The scheduled digest for the staff chat: a summary over the digest's period."""
        days = max(1, round(period / timedelta(days=1)))
        return await self.summary("digest", locale, f"{days}d", event="digest")

    def alert(self, locale: str, record: FeedbackRecord) -> Outcome | None:
        """A low rating just came in: the rating and the redacted comment, no identity."""
        threshold = self.settings.alert_threshold
        flow = self.catalog.flows.get(record.flow_id)
        if threshold is None or flow is None:
            return None
        t = translator(locale)
        lows = [
            (step, record.answers[step.id])
            for step in flow.steps
            if isinstance(step, RatingStep)
            and isinstance(record.answers.get(step.id), int)
            and record.answers[step.id] <= threshold
        ]
        if not lows:
            return None
        lines = [t.gettext("Low rating in “{flow}”").format(flow=render_text(flow.title, t))]
        for step, value in lows:
            lines.append(f"{render_text(step.prompt, t)} → {value} / {step.max}")
        for text_step in flow.steps:
            comment = record.answers.get(text_step.id)
            if isinstance(text_step, TextStep) and isinstance(comment, str) and comment:
                lines.append(t.gettext("Comment: {comment}").format(comment=redact(comment, t)))
        return Outcome.say("\n".join(lines))

    async def export_rows(self, actor: str, since: timedelta, locale: str) -> list[dict[str, Any]]:
        """Redacted, consented feedback as flat rows for a spreadsheet; audited."""
        t = translator(locale)
        now = self.clock()
        rows: list[dict[str, Any]] = []
        for record in await self.store.feedback_in_period(now - since, now + _TICK, now):
            flow = self.catalog.flows.get(record.flow_id)
            if flow is None or not in_force(record, self.catalog):
                continue
            given = record.created_at.astimezone(ZoneInfo(self.settings.timezone))
            row: dict[str, Any] = {"date": given.date().isoformat(), "flow": flow.id}
            for step in flow.steps:
                value = record.answers.get(step.id)
                if isinstance(step, TextStep) and isinstance(value, str):
                    row[step.id] = redact(value, t)
                elif isinstance(step, RatingStep | ChoiceStep | MultipleChoiceStep):
                    row[step.id] = value  # a multiple choice: the list of option ids
            rows.append(row)
        # By day only, in no particular order within it: the order of submission would
        # tie a row to the person who was, say, on the phone with support at the time.
        _shuffle(rows)
        rows.sort(key=lambda row: str(row["date"]))
        await self._audit("export", actor, compact_duration(since), len(rows))
        return rows

    async def _audit(self, event: str, actor: str, detail: str, records: int) -> None:
        await self.store.record_audit(
            AuditEntry(event=event, at=self.clock(), actor=actor, detail=detail, records=records)
        )
        log.info("staff access: %s", event)
