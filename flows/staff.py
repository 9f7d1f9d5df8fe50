"""The staff desk: summaries, digests, low-rating alerts and exports, every access audited.

Who counts as staff is decided by the transport (it knows Telegram ids and chats);
this module only ever sees the staff member's reference for the audit trail.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flows.catalog import FlowCatalog
from flows.chart import ratings_chart
from flows.durations import InvalidDuration, parse_duration
from flows.i18n import translator
from flows.models import ChoiceStep, RatingStep, TextStep, render_text
from flows.redaction import redact
from flows.replies import Document, Outcome, Reply
from flows.summary import compute, in_force, render
from storage.interface import AuditEntry, FeedbackRecord, Store

log = logging.getLogger("flows.staff")

DEFAULT_PERIOD = timedelta(days=7)
MAX_PERIOD = timedelta(days=3660)
_TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class StaffSettings:
    min_group_size: int = 5
    alert_threshold: int | None = None


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
        until = self.clock()
        since = until - length
        # Up to and including this moment: what was just given belongs in the summary.
        records = await self.store.feedback_in_period(since - length, until + _TICK, until)
        current = compute([r for r in records if r.created_at >= since], self.catalog, t)
        previous = compute([r for r in records if r.created_at < since], self.catalog, t)
        k = self.settings.min_group_size
        text = render(t, since, until, current, previous, k)
        await self._audit(event, actor, period or "7d", current.feedbacks)
        replies = [Reply(text)]
        if current.people >= k and current.per_day:
            png = ratings_chart(t, current.per_day, since.date(), until.date(), k)
            replies.append(
                Reply("", image=Document("ratings.png", png, t.gettext("Ratings per day")))
            )
        return Outcome(replies=tuple(replies))

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
            row: dict[str, Any] = {"date": record.created_at.date().isoformat(), "flow": flow.id}
            for step in flow.steps:
                value = record.answers.get(step.id)
                if not isinstance(step, RatingStep | ChoiceStep | TextStep):
                    continue
                text = isinstance(step, TextStep) and isinstance(value, str)
                row[step.id] = redact(value, t) if text and isinstance(value, str) else value
            rows.append(row)
        await self._audit("export", actor, f"{round(since / timedelta(days=1))}d", len(rows))
        return rows

    async def _audit(self, event: str, actor: str, detail: str, records: int) -> None:
        await self.store.record_audit(
            AuditEntry(event=event, at=self.clock(), actor=actor, detail=detail, records=records)
        )
        log.info("staff access: %s", event)
