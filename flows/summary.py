"""Staff summaries: what customers think over a period, without revealing who said what.

Only feedback whose consent is still in force counts; expired feedback never reaches
here (the store filters it). Any breakdown over fewer than k people is suppressed.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flows.catalog import FlowCatalog
from flows.i18n import Translator
from flows.models import RatingStep, TextStep, render_text
from flows.redaction import redact
from flows.stopwords import STOP_WORDS
from storage.interface import PeriodFeedback

LATEST_COMMENTS = 10
TOP_WORDS = 8
BAR_WIDTH = 12
_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)


def in_force(record: PeriodFeedback, catalog: FlowCatalog) -> bool:
    """Whether the consents the record's flow requires are all still in force."""
    flow = catalog.flows.get(record.flow_id)
    required = {p.id for p in flow.required_purposes} if flow else set(record.purposes[:1])
    return required <= record.consents_in_force


@dataclass
class RatingFigures:
    """One rating question: distribution and average (1–5), or NPS (0–10)."""

    question: str
    scale_max: int
    values: list[int] = field(default_factory=list)

    @property
    def average(self) -> float:
        return sum(self.values) / len(self.values)

    @property
    def distribution(self) -> dict[int, int]:
        counts = Counter(self.values)
        low = 0 if self.scale_max == 10 else 1
        return {v: counts.get(v, 0) for v in range(self.scale_max, low - 1, -1)}

    @property
    def nps(self) -> int:
        """Net Promoter Score: % of 9–10 minus % of 0–6, rounded."""
        promoters = sum(v >= 9 for v in self.values)
        detractors = sum(v <= 6 for v in self.values)
        return round(100 * (promoters - detractors) / len(self.values))


@dataclass
class Figures:
    feedbacks: int = 0
    people: int = 0
    ratings: dict[tuple[str, str], RatingFigures] = field(default_factory=dict)
    commented: int = 0
    comments: list[tuple[datetime, str]] = field(default_factory=list)
    per_day: dict[date, list[int]] = field(default_factory=dict)


def compute(
    records: list[PeriodFeedback], catalog: FlowCatalog, t: Translator, comments: bool = True
) -> Figures:
    """The figures of a period over the consented records; comments come out redacted.

    `comments=False` only counts them: the previous period needs no redacted text.
    """
    figures = Figures()
    counted = [r for r in records if in_force(r, catalog)]
    figures.feedbacks = len(counted)
    figures.people = len({r.pseudonym for r in counted})
    for record in counted:
        flow = catalog.flows.get(record.flow_id)
        if flow is None:
            continue
        commented = False
        for step in flow.steps:
            value = record.answers.get(step.id)
            if isinstance(step, RatingStep) and isinstance(value, int):
                key = (flow.id, step.id)
                if key not in figures.ratings:
                    figures.ratings[key] = RatingFigures(render_text(step.prompt, t), step.max)
                figures.ratings[key].values.append(value)
                if step.max == 5:
                    figures.per_day.setdefault(record.created_at.date(), []).append(value)
            elif isinstance(step, TextStep) and isinstance(value, str) and value.strip():
                commented = True
                if comments:
                    figures.comments.append((record.created_at, redact(value, t)))
        figures.commented += commented
    figures.comments.sort(key=lambda c: c[0], reverse=True)
    return figures


def frequent_words(comments: list[str], limit: int = TOP_WORDS) -> list[tuple[str, int]]:
    """The most frequent meaningful words (German and English stop words removed)."""
    counts = Counter(
        word
        for comment in comments
        for word in (w.lower() for w in _WORD.findall(comment))
        if word not in STOP_WORDS
    )
    return [(w, n) for w, n in counts.most_common(limit) if n >= 2]


def bar(count: int, largest: int) -> str:
    if largest == 0:
        return ""
    filled = round(BAR_WIDTH * count / largest)
    return "█" * filled + "░" * (BAR_WIDTH - filled)


def render(
    t: Translator,
    since: datetime,
    until: datetime,
    current: Figures,
    previous: Figures,
    k: int,
) -> str:
    """The summary text in the staff member's language, numbers formatted with Babel."""
    days = max(1, round((until - since) / timedelta(days=1)))
    lines = [
        t.gettext("Feedback summary {start} – {end} ({days} days)").format(
            start=t.date(since), end=t.date(until - timedelta(seconds=1)), days=days
        ),
        "",
        t.gettext("Feedbacks: {count} (previous period: {previous}{change})").format(
            count=t.number(current.feedbacks),
            previous=t.number(previous.feedbacks),
            change=_percent_change(t, current.feedbacks, previous.feedbacks),
        ),
        t.gettext("People: {count}").format(count=t.number(current.people)),
    ]
    if current.people < k:
        lines += [
            "",
            t.gettext(
                "Details are hidden: fewer than {k} people gave feedback in this period, "
                "so they could be recognised."
            ).format(k=k),
        ]
        return "\n".join(lines)
    for key, rating in current.ratings.items():
        lines += ["", _rating_block(t, rating, previous.ratings.get(key), k)]
    lines += [
        "",
        t.gettext("Comments: {share} of feedbacks").format(
            share=t.percent(current.commented / current.feedbacks if current.feedbacks else 0)
        ),
    ]
    words = frequent_words([c for _, c in current.comments])
    if words:
        shown = ", ".join(f"{w} ({t.number(n)})" for w, n in words)
        lines.append(t.gettext("Frequent words: {words}").format(words=shown))
    if current.comments:
        lines += ["", t.gettext("Latest comments (personal data removed):")]
        for when, comment in current.comments[:LATEST_COMMENTS]:
            lines.append(f"• {t.short_date(when)}: {comment}")
    return "\n".join(lines)


def _rating_block(
    t: Translator, rating: RatingFigures, previous: RatingFigures | None, k: int
) -> str:
    if len(rating.values) < k:
        return t.gettext("{question}: hidden (fewer than {k} answers)").format(
            question=rating.question, k=k
        )
    if rating.scale_max == 10:
        line = t.gettext("{question}: NPS {nps} ({count} answers)").format(
            question=rating.question,
            nps=f"{rating.nps:+d}",
            count=t.number(len(rating.values)),
        )
        if previous is not None and len(previous.values) >= k:
            line += " " + t.gettext("(previous period: {nps})").format(nps=f"{previous.nps:+d}")
        return line
    head = t.gettext("{question}: average {average} of {scale}").format(
        question=rating.question,
        average=t.decimal(rating.average),
        scale=rating.scale_max,
    )
    if previous is not None and len(previous.values) >= k:
        change = rating.average - previous.average
        head += " " + t.gettext("(previous period: {average}, {change})").format(
            average=t.decimal(previous.average), change=t.signed_decimal(change)
        )
    largest = max(rating.distribution.values())
    rows = [
        f"{value} ★ {bar(count, largest)} {t.number(count)}"
        for value, count in rating.distribution.items()
    ]
    return "\n".join([head, *rows])


def _percent_change(t: Translator, current: int, previous: int) -> str:
    if previous == 0:
        return ""
    return ", " + t.signed_percent((current - previous) / previous)
