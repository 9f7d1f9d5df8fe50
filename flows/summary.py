"""Staff summaries: what customers think over a period, without revealing who said what.

Only feedback whose consent is still in force counts; expired feedback never reaches
here (the store filters it). Any breakdown over fewer than k people is suppressed.
The counting is in `flows.figures`; this module turns counts into the staff's text.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from flows.catalog import FlowCatalog
from flows.figures import ANSWERED, NOTHING, Comment, Tally
from flows.i18n import Translator, tenths
from flows.models import (
    ChoiceStep,
    MultipleChoiceStep,
    RatingStep,
    TextStep,
    render_text,
)
from flows.redaction import redact
from storage.interface import PeriodFeedback

LATEST_COMMENTS = 10
COMMENT_SHOWN = 300
"""Characters of a comment a summary shows; the export has them whole."""
TOP_WORDS = 8
BAR_WIDTH = 12
_DAYS_NAMED = 4
"""Groups of days left out that a summary names; more are counted and ended with "…"."""


@dataclass
class RatingFigures:
    """One rating question: distribution and average (1–5), or NPS (0–10)."""

    question: str
    scale_max: int
    counts: Counter[int] = field(default_factory=Counter)

    @property
    def answers(self) -> int:
        return sum(self.counts.values())

    @property
    def average(self) -> float:
        return sum(v * n for v, n in self.counts.items()) / self.answers

    @property
    def distribution(self) -> dict[int, int]:
        low = 0 if self.scale_max == 10 else 1
        return {v: self.counts.get(v, 0) for v in range(self.scale_max, low - 1, -1)}

    @property
    def nps(self) -> int:
        """Net Promoter Score: % of 9–10 minus % of 0–6, rounded."""
        promoters = sum(n for v, n in self.counts.items() if v >= 9)
        detractors = sum(n for v, n in self.counts.items() if v <= 6)
        return round(100 * (promoters - detractors) / self.answers)


@dataclass
class ChoiceFigures:
    """One choice question: how often each option was chosen, most chosen first."""

    question: str
    multiple: bool
    answers: int
    options: list[tuple[str, int]]
    """Each option's label and count, the question's order among equal counts."""


@dataclass
class Figures:
    feedbacks: int = 0
    people: int = 0
    ratings: dict[tuple[str, str], RatingFigures] = field(default_factory=dict)
    choices: dict[tuple[str, str], ChoiceFigures] = field(default_factory=dict)
    commented: int = 0
    words: Counter[str] = field(default_factory=Counter)
    comments: list[tuple[datetime, Comment]] = field(default_factory=list)
    """The latest comments, redacted, newest first."""
    headings: dict[tuple[str, str], str] = field(default_factory=dict)
    """The question a comment to each free-text question of the flows (in their order)
    is shown under where comments answer several; none where that could tell an answer
    (see `comment_headings`)."""
    per_day: dict[date, Counter[int]] = field(default_factory=dict)
    """Ratings on the 1–5 scale per (UTC) day, for the chart."""
    unshown: list[str] = field(default_factory=list)
    """The titles of the surveys with rating or choice questions none of which has a
    figure: staff would otherwise take them for lost."""
    questions_unshown: dict[str, list[str]] = field(default_factory=dict)
    """Per survey (flow id) with figures, its rating and choice questions without one:
    left out silently, "What went wrong?" read as lost (found by a staff walk-through)."""
    surveys: dict[str, int] = field(default_factory=dict)
    """The feedbacks its questions count, per survey (flow id) with figures: each survey's
    groups of days are its own (see flows.staff.StaffDesk._figures)."""
    titles: dict[str, str] = field(default_factory=dict)
    """The title of each survey (flow id), in the flows' order."""
    comments_only: set[str] = field(default_factory=set)
    """The surveys (flow ids) without rating or choice questions: they never have figures,
    only their count of feedbacks."""
    chart_survey: str | None = None
    """The survey whose ratings the chart shows."""


@dataclass(frozen=True)
class Deleted:
    """Feedback deleted under the retention from the days a summary counts or compares
    with: some of their groups of days in which people gave feedback began before `since`."""

    retention: timedelta
    """The shortest retention of the surveys."""
    since: datetime
    """The moment from which feedback is still kept: now less `retention`."""
    counted: bool
    """Of the days counted."""
    compared: bool
    """Of the previous period's days."""
    uneven: bool = False
    """Some surveys keep theirs longer."""


def figures_of(
    tally: Tally,
    catalog: FlowCatalog,
    t: Translator,
    per_day: dict[date, Counter[int]] | None = None,
    comments: list[tuple[datetime, Comment]] | None = None,
    surveys: dict[str, int] | None = None,
) -> Figures:
    """The figures to show from a tally; questions in the order of the flows."""
    ratings = {}
    choices = {}
    headings = comment_headings(catalog, t)
    for flow in catalog.flows.values():
        for step in flow.steps:
            counts = tally.ratings.get((flow.id, step.id))
            if isinstance(step, RatingStep) and counts:
                question = render_text(step.prompt, t)
                ratings[(flow.id, step.id)] = RatingFigures(question, step.max, Counter(counts))
            chosen = tally.choices.get((flow.id, step.id))
            if isinstance(step, ChoiceStep | MultipleChoiceStep) and chosen:
                options = [(render_text(o.label, t), chosen[o.id]) for o in step.options]
                if chosen[NOTHING]:  # "nothing to improve" is an answer too
                    options.append((t.gettext("(none of them)"), chosen[NOTHING]))
                choices[(flow.id, step.id)] = ChoiceFigures(
                    question=render_text(step.prompt, t),
                    multiple=isinstance(step, MultipleChoiceStep),
                    answers=chosen[ANSWERED],
                    options=sorted(options, key=lambda option: -option[1]),
                )
    comments_only = {
        flow.id
        for flow in catalog.flows.values()
        if not any(
            isinstance(s, RatingStep | ChoiceStep | MultipleChoiceStep)
            for s in flow.evaluated_steps
        )
    }
    unshown = [
        render_text(flow.title, t)
        for flow in catalog.flows.values()
        if flow.id not in comments_only
        and not any(key[0] == flow.id for key in (*ratings, *choices))
    ]
    questions_unshown = {
        flow.id: [
            render_text(step.prompt, t)
            for step in flow.evaluated_steps
            if isinstance(step, RatingStep | ChoiceStep | MultipleChoiceStep)
            and (flow.id, step.id) not in ratings
            and (flow.id, step.id) not in choices
        ]
        for flow in catalog.flows.values()
        if any(key[0] == flow.id for key in (*ratings, *choices))
    }
    return Figures(
        feedbacks=tally.feedbacks,
        people=len(tally.people),
        ratings=ratings,
        choices=choices,
        unshown=unshown,
        questions_unshown={flow: shown for flow, shown in questions_unshown.items() if shown},
        commented=tally.commented,
        words=tally.words,
        comments=comments or [],
        headings=headings,
        per_day=per_day or {},
        surveys=surveys or {},
        titles={flow.id: render_text(flow.title, t) for flow in catalog.flows.values()},
        comments_only=comments_only,
    )


def comment_headings(catalog: FlowCatalog, t: Translator) -> dict[tuple[str, str], str]:
    """The question each comment is shown under, where comments answer several: only if
    every way through every flow asks each of their text questions. Under "What went
    wrong?" (asked after a low rating) a comment would tell its author's rating, also
    where the rating itself is hidden for too few answers; so would a survey's title
    over comments that only some of its ways ask for, or a heading that only such
    comments lack. Where any is asked after some answers only, there are none."""
    texts = [
        (flow, step)
        for flow in catalog.flows.values()
        for step in flow.evaluated_steps
        if isinstance(step, TextStep)
    ]
    if not all(flow.asked_of_everyone(step) for flow, step in texts):
        return {}
    return {(flow.id, step.id): render_text(step.prompt, t) for flow, step in texts}


def scale_five(
    tally: Tally, catalog: FlowCatalog, only: set[tuple[str, str]] | None = None
) -> Counter[int]:
    """All answers to 1–5 rating questions in the tally (what the chart shows per bar),
    or to those of them named in `only` (flow id, question id)."""
    total: Counter[int] = Counter()
    for (flow_id, step_id), counts in tally.ratings.items():
        if only is not None and (flow_id, step_id) not in only:
            continue
        flow = catalog.flows.get(flow_id)
        step = flow.step(step_id) if flow else None
        if isinstance(step, RatingStep) and step.max == 5:
            total.update(counts)
    return total


def compute(records: list[PeriodFeedback], catalog: FlowCatalog, t: Translator) -> Figures:
    """The figures of some records counted directly, comments redacted (newest first)."""
    tally = Tally()
    per_day: dict[date, Counter[int]] = {}
    comments = []
    for record in records:
        single = Tally()
        for comment in single.add(record, catalog):
            comments.append((record.created_at, comment._replace(text=redact(comment.text, t))))
        per_day.setdefault(record.created_at.date(), Counter()).update(scale_five(single, catalog))
        tally.merge(single)
    comments.sort(key=lambda c: c[0], reverse=True)
    return figures_of(tally, catalog, t, {d: c for d, c in per_day.items() if c}, comments)


def frequent_words(words: Counter[str], limit: int = TOP_WORDS) -> list[tuple[str, int]]:
    """The most frequent meaningful words of word counts (see flows.figures.count_words),
    words of one count in alphabetical order (not in whatever order they were counted)."""
    ranked = heapq.nsmallest(limit, words.items(), key=lambda word: (-word[1], word[0]))
    return [(w, n) for w, n in ranked if n >= 2]


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
    counted: tuple[datetime, datetime] | None = None,
    released: bool = True,
    left_out: Sequence[tuple[date, date]] = (),
    previous_left_out: Sequence[tuple[date, date]] = (),
    compared: tuple[datetime, datetime] | None = None,
    comparable: bool = True,
    deleted: Deleted | None = None,
) -> str:
    """The summary text in the staff member's language, numbers formatted with Babel.

    `counted` is the stretch of whole UTC days the figures are of (see
    flows.staff.StaffDesk.windows), `released` False while there is none yet, and
    `left_out` the first and last days of each group of days in it left out (see
    flows.staff.whole_groups), `previous_left_out` those of the previous period;
    `compared` the days of the previous period (none where it starts where `counted`
    does: there are no earlier days), and `comparable` whether it is as long and whole:
    if not, no change in the number of feedbacks is given (three days against one would
    read as growth). `deleted`: what of those days has lost feedback to the retention.
    """
    # The length as asked: between two times of one zone Python counts wall-clock time,
    # and 30 days across a change to summer time would read "719 hours".
    length = until.astimezone(UTC) - since.astimezone(UTC)
    # The length asked for, no dates: the days counted follow (found by a staff review:
    # a digest's "6 December – 7 December (1 day)" over the 5th counted, a "7 days" over
    # eight dates of which the last was not counted).
    heading = t.gettext("Feedback summary ({length})").format(length=_length(t, length))
    lines = [heading]
    if not released:
        note = t.gettext(
            "No feedback to show yet: it is shown by whole days (UTC) once they are over, "
            "and once at least {k} people have given feedback in them, so that no one can "
            "be recognised."
        )
        return "\n".join([*lines, "", note.format(k=k)])
    if counted is not None and counted[0] == counted[1]:
        note = t.gettext(
            "No newer days to show: the newest group of days ended on {date}. Newer days "
            "follow once at least {k} people have given feedback in them."
        )
        ended = (counted[1] - timedelta(microseconds=1)).date()
        return "\n".join([*lines, "", note.format(date=t.date(ended), k=k)])
    with_figures = {key[0] for key in (*current.ratings, *current.choices)}
    if counted is not None:
        first, last = counted[0].date(), (counted[1] - timedelta(microseconds=1)).date()
        if len(with_figures) > 1 and first == last:  # (review: "from 29 Nov to 29 Nov")
            text = t.gettext(
                "Counted: {date} (UTC), and of each survey's questions only those to which "
                "at least {k} people gave feedback that day. Newer days are added once at "
                "least {k} people have given feedback in them, so that comparing summaries "
                "reveals no one."
            )
        elif len(with_figures) > 1:
            text = t.gettext(
                "Counted: the days from {start} to {end} (UTC), and of each survey's "
                "questions the groups of days within them in which at least {k} people gave "
                "feedback to it. Newer days are added once at least {k} people have given "
                "feedback in them, so that comparing summaries reveals no one."
            )
        elif first == last:
            text = t.gettext(
                "Counted: {date} (UTC). Newer days are added once at least {k} people have "
                "given feedback in them, so that comparing summaries reveals no one."
            )
        else:
            text = t.gettext(
                "Counted: the days from {start} to {end} (UTC). Newer days are added once at "
                "least {k} people have given feedback in them, so that comparing summaries "
                "reveals no one."
            )
        lines.append(text.format(start=t.date(first), end=t.date(last), date=t.date(first), k=k))
    if compared is not None and compared[0] < compared[1]:
        first, last = compared[0].date(), (compared[1] - timedelta(microseconds=1)).date()
        if first == last:
            text = t.gettext("Previous period: {date}.")
        else:
            text = t.gettext("Previous period: the days from {start} to {end}.")
        lines.append(text.format(start=t.date(first), end=t.date(last), date=t.date(first)))
    # No days before those counted (the bot has counted for less than the period): "previous
    # period: 0" would read as nobody gave feedback before (found by a staff review).
    earlier = compared is None or compared[0] < compared[1]
    # Days past the retention have lost their feedback (a group of days of which some has
    # gone is left out whole): "previous period: 0" would read as nobody gave feedback then
    # (found by a staff review), and what a comparison counted of them as all there was.
    previous_deleted = earlier and deleted is not None and deleted.compared
    # Nor with a previous period of which days are left out: "previous period: 0" read as
    # nobody, and its averages were compared still (found by a staff walk-through).
    compare = earlier and not previous_deleted and not previous_left_out
    if not earlier and counted is not None:
        lines.append(
            t.gettext(
                "No previous period to compare with: summaries count feedback from {date} on."
            ).format(date=t.date(counted[0].date()))
        )
    elif previous_deleted:
        lines.append(
            t.gettext(
                "No comparison with the previous period: it reaches back further than "
                "feedback is kept."
            )
        )
    if deleted is not None and (deleted.counted or previous_deleted):
        if deleted.uneven:
            text = t.gettext(
                "Feedback is deleted {retention} after it was given, that of some surveys "
                "later: what was given before {date} is no longer counted in full."
            )
        else:
            text = t.gettext(
                "Feedback is deleted {retention} after it was given: what was given before "
                "{date} is no longer counted."
            )
        lines.append(
            text.format(
                retention=t.duration(deleted.retention),
                # The moment, not its day: feedback of that day given before it is gone,
                # and "before 3 December" read as if the 3rd still counted (found by an
                # operator walk-through). In UTC, as the days counted are.
                date=t.datetime(deleted.since, "UTC"),
            )
        )
    if left_out:
        # Which days, not only how many (found by a staff walk-through: after an erasure a
        # week read as a fall, the note naming no days); the oldest few where there are many.
        lines.append(
            t.ngettext(
                "Left out: {days} (one group of days). What those days count has changed "
                "since they were first shown (feedback deleted, withdrawn or expired, the "
                "questions or the minimum group size changed), and showing them now could "
                "single someone out.",
                "Left out: {days} ({count} groups of days). What those days count has changed "
                "since they were first shown (feedback deleted, withdrawn or expired, the "
                "questions or the minimum group size changed), and showing them now could "
                "single someone out.",
                len(left_out),
            ).format(days=_days_named(t, left_out), count=t.number(len(left_out)))
        )
        if compare:
            lines.append(t.gettext("So no change in per cent is given."))
    if previous_left_out and compared is not None and earlier and not previous_deleted:
        lines.append(
            t.ngettext(
                "Of the previous period, {days} is left out (one group of days): what it "
                "counts has changed since it was first shown. So this period is not compared "
                "with it.",
                "Of the previous period, {days} are left out ({count} groups of days): what "
                "they count has changed since they were first shown. So this period is not "
                "compared with it.",
                len(previous_left_out),
            ).format(days=_days_named(t, previous_left_out), count=t.number(len(previous_left_out)))
        )
    if compare:
        lines += [
            "",
            t.gettext("Feedbacks: {count} (previous period: {previous}{change})").format(
                count=t.number(current.feedbacks),
                previous=t.number(previous.feedbacks),
                change=(
                    _percent_change(t, current.feedbacks, previous.feedbacks)
                    if comparable and not left_out
                    else ""
                ),
            ),
            t.gettext("People: {count} (previous period: {previous})").format(
                count=t.number(current.people), previous=t.number(previous.people)
            ),
        ]
    else:
        lines += [
            "",
            t.gettext("Feedbacks: {count}").format(count=t.number(current.feedbacks)),
            t.gettext("People: {count}").format(count=t.number(current.people)),
        ]
    if not current.feedbacks:
        if left_out:  # said above why: not "no feedback was given"
            return "\n".join(lines)
        return "\n".join([*lines, "", t.gettext("No feedback was given in this period.")])
    if current.people < k:
        lines += [
            "",
            t.gettext(
                "Details are hidden: fewer than {k} people gave feedback in this period, "
                "so they could be recognised."
            ).format(k=k),
        ]
        return "\n".join(lines)
    # Said where a question shows fewer answers than its survey has feedbacks (what
    # anyone can read off the summary anyway: the note tells nothing about who answered
    # what).
    answers = [(key, r.answers) for key, r in current.ratings.items()]
    answers += [(key, c.answers) for key, c in current.choices.items()]
    if any(key[0] in current.surveys and count < current.surveys[key[0]] for key, count in answers):
        lines += [
            "",
            t.gettext(
                "A question counts only the groups of days in which at least {k} people "
                "answered it: one that not everyone is asked has fewer answers than its "
                "survey has feedbacks."
            ).format(k=k),
        ]
    # The surveys shown one by one, and the feedbacks counted in none of them: of a
    # survey's days outside its whole groups of k people (found by an English-speaking
    # staff review: "Responses: 18" above surveys of 5 and 6, and nothing said where the
    # other 7 went). The number tells nothing new: it is the total less those shown.
    # Without the surveys' counts (figures counted directly, see `compute`), none.
    listed = with_figures | (current.surveys.keys() & current.comments_only)
    elsewhere = current.feedbacks - sum(current.surveys.get(flow, 0) for flow in listed)
    if not current.surveys:
        elsewhere = 0
    for flow, title in current.titles.items():
        if flow not in listed:
            continue
        if (len(listed) > 1 or elsewhere > 0) and flow in current.surveys:
            count = current.surveys[flow]
            lines += [
                "",
                t.ngettext(
                    "Survey “{title}”: {count} feedback",
                    "Survey “{title}”: {count} feedbacks",
                    count,
                ).format(title=title, count=t.number(count)),
            ]
        for key, rating in current.ratings.items():
            if key[0] == flow:
                compared_with = previous.ratings.get(key) if compare else None
                lines += ["", _rating_block(t, rating, compared_with, k)]
        for key, choice in current.choices.items():
            if key[0] == flow:
                lines += ["", _choice_block(t, choice, k)]
        if flow in current.questions_unshown:
            lines += ["", _questions_unshown(t, current.questions_unshown[flow], k, bool(left_out))]
    if listed and elsewhere > 0:
        lines += [
            "",
            t.gettext(
                "Not counted under a survey above: {count} of the {total} feedbacks. A "
                "survey's figures count only whole groups of days within the days counted in "
                "which at least {k} people answered it, so that no one can be recognised."
            ).format(count=t.number(elsewhere), total=t.number(current.feedbacks), k=k),
        ]
    if current.unshown:
        surveys = ", ".join(t.gettext("“{title}”").format(title=x) for x in current.unshown)
        # One line (found by a staff review: three, every morning, about a survey nobody
        # used). "Perhaps none": without it a team lead read "a few answered" every day of
        # a week nobody did (staff review); said alike for none and a few, it tells no one
        # apart.
        note = t.ngettext(
            "No figures for the survey {surveys}: fewer than {k} people, perhaps none, "
            "answered it in each group of days.",
            "No figures for the surveys {surveys}: fewer than {k} people, perhaps none, "
            "answered them in each group of days.",
            len(current.unshown),
        )
        if left_out:  # a third reason, named above (found by review)
            note = t.ngettext(
                "No figures for the survey {surveys}: fewer than {k} people, perhaps none, "
                "answered it in each group of days, or the days it was answered on are left "
                "out (see above).",
                "No figures for the surveys {surveys}: fewer than {k} people, perhaps none, "
                "answered them in each group of days, or the days they were answered on are "
                "left out (see above).",
                len(current.unshown),
            )
        lines += ["", note.format(surveys=surveys, k=k)]
    lines.append("")
    if len(listed) > 1 or elsewhere > 0:  # what follows is of every survey, not of the last
        lines.append(t.gettext("All surveys:"))
    lines += [
        t.gettext("Comments: {share} of feedbacks").format(
            share=t.percent(current.commented / current.feedbacks if current.feedbacks else 0)
        ),
    ]
    words = frequent_words(current.words)
    if words:
        shown = ", ".join(f"{w} ({t.number(n)})" for w, n in words)
        lines.append(
            t.gettext("Frequent words (in how many feedbacks): {words}").format(words=shown)
        )
    if current.comments:
        # Their day is the UTC day, as the days counted are (see `_latest_comments`), not
        # the local one of alerts and exports: said, or a comment from 00:30 local time
        # is read as the day before (found by a staff review reconciling the two).
        lines += [
            "",
            t.ngettext(
                "Latest comments, with their day in UTC (of {count} feedback with a "
                "comment; e-mail addresses, phone numbers and the like removed, long ones "
                "shortened):",
                "Latest comments, with their day in UTC (of {count} feedbacks with a "
                "comment; e-mail addresses, phone numbers and the like removed, long ones "
                "shortened):",
                current.commented,
            ).format(count=t.number(current.commented)),
        ]
        lines += _latest_comments(t, current)
    return "\n".join(lines)


def _length(t: Translator, length: timedelta) -> str:
    """A summary's length as staff asked for it: "10,5 Tage" for "1,5 Wochen", not "252
    Stunden"; under two days in hours ("36 Stunden")."""
    half_days = length / timedelta(hours=12)
    if length >= timedelta(days=2) and half_days == int(half_days) and half_days % 2:
        return t.days(Decimal(int(half_days)) / 2)
    return t.duration(length)


def _days_named(t: Translator, spans: Sequence[tuple[date, date]]) -> str:
    """The groups of days `spans` as a summary names them: the oldest few, then "…"."""
    named = [t.days_from(first, last) for first, last in spans[:_DAYS_NAMED]]
    return "; ".join([*named, "…"] if len(spans) > _DAYS_NAMED else named)


def _questions_unshown(t: Translator, questions: list[str], k: int, left_out: bool) -> str:
    """One line on a survey's questions without figures, worded as for a survey without
    any ("perhaps none": said alike for none and for a few, it tells no one apart; what
    the missing question tells anyway, now in words)."""
    named = ", ".join(t.gettext("“{title}”").format(title=q) for q in questions)
    if left_out:
        note = t.ngettext(
            "No figures for the question {questions}: fewer than {k} people, perhaps none, "
            "answered it in each group of days, or the days it was answered on are left "
            "out (see above).",
            "No figures for the questions {questions}: fewer than {k} people, perhaps none, "
            "answered them in each group of days, or the days they were answered on are "
            "left out (see above).",
            len(questions),
        )
    else:
        note = t.ngettext(
            "No figures for the question {questions}: fewer than {k} people, perhaps none, "
            "answered it in each group of days.",
            "No figures for the questions {questions}: fewer than {k} people, perhaps none, "
            "answered them in each group of days.",
            len(questions),
        )
    return note.format(questions=named, k=k)


def _latest_comments(t: Translator, figures: Figures) -> list[str]:
    """The latest comments, one line each; where they answer more than one question,
    under the question they answer (see `comment_headings`), in the order of the flows.

    Newest day first, and within a day in alphabetical order: the order in which they
    came would point at the person someone knows gave feedback last that day. Dated by
    the UTC day, as the days counted are (found by review: dated on the local calendar,
    a comment from just after local midnight stood alone on a day outside those counted,
    which gave away its hour)."""
    latest = [
        (
            when.astimezone(UTC).date(),
            shortened(one_line(c.text), COMMENT_SHOWN),
            figures.headings.get(c.question, ""),
        )
        for when, c in figures.comments[:LATEST_COMMENTS]
    ]
    latest.sort(key=lambda shown: shown[1].casefold())
    latest.sort(key=lambda shown: shown[0], reverse=True)
    shown_under = {under for _, _, under in latest}
    if len(shown_under) < 2:
        return [f"• {t.medium_date(day)}: {comment}" for day, comment, _ in latest]
    lines = []
    for under in dict.fromkeys([*figures.headings.values(), *sorted(shown_under)]):
        if under in shown_under:
            lines.append(shortened(one_line(under), COMMENT_SHOWN))
            lines += [f"• {t.medium_date(d)}: {c}" for d, c, u in latest if u == under]
    return lines


def one_line(comment: str) -> str:
    """A comment on one line: its line breaks would let it pass for lines of the
    summary ("Feedbacks: 999", a bullet of another comment)."""
    return " ".join(comment.split())


def shortened(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, at a space where there is one, with "…"."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", limit // 2, limit)
    return text[: cut if cut > 0 else limit - 1].rstrip() + "…"


def _rating_block(
    t: Translator, rating: RatingFigures, previous: RatingFigures | None, k: int
) -> str:
    # The question on a line of its own: it ends in "?", and "…?: average" reads badly.
    if rating.answers < k:
        return t.gettext("{question}\nHidden (fewer than {k} answers)").format(
            question=rating.question, k=k
        )
    if rating.scale_max == 10:
        line = t.ngettext(
            "{question}\nNPS {nps} ({count} answer)",
            "{question}\nNPS {nps} ({count} answers)",
            rating.answers,
        ).format(
            question=rating.question,
            nps=_signed(rating.nps),
            count=t.number(rating.answers),
        )
        if previous is not None and previous.answers >= k:
            line += " " + t.gettext("(previous period: {nps})").format(nps=_signed(previous.nps))
        return line
    head = t.ngettext(
        "{question}\nAverage {average} of {scale} ({count} answer)",
        "{question}\nAverage {average} of {scale} ({count} answers)",
        rating.answers,
    ).format(
        question=rating.question,
        average=t.decimal(rating.average),
        scale=rating.scale_max,
        count=t.number(rating.answers),
    )
    if previous is not None and previous.answers >= k:
        change = tenths(rating.average) - tenths(previous.average)  # as the two read
        head += " " + t.gettext("(previous period: {average}, {change})").format(
            average=t.decimal(previous.average), change=t.signed_decimal(change)
        )
    largest = max(rating.distribution.values())
    rows = [
        f"{value} ★ {bar(count, largest)} {t.number(count)}"
        for value, count in rating.distribution.items()
    ]
    return "\n".join([head, *rows])


def _choice_block(t: Translator, choice: ChoiceFigures, k: int) -> str:
    if choice.answers < k:
        return t.gettext("{question}\nHidden (fewer than {k} answers)").format(
            question=choice.question, k=k
        )
    if choice.multiple:
        head = t.ngettext(
            "{question}\n{count} answer (several options could be chosen)",
            "{question}\n{count} answers (several options could be chosen)",
            choice.answers,
        )
    else:
        head = t.ngettext(
            "{question}\n{count} answer", "{question}\n{count} answers", choice.answers
        )
    largest = max(count for _, count in choice.options)
    rows = [
        f"{bar(count, largest)} {t.number(count)} ({t.percent(count / choice.answers)}) {label}"
        for label, count in choice.options
        if count
    ]
    # Options nobody chose on one line: a question of twelve options is not twelve lines.
    unchosen = [label for label, count in choice.options if not count]
    if unchosen:
        rows.append(t.gettext("Not chosen: {options}").format(options=", ".join(unchosen)))
    return "\n".join([head.format(question=choice.question, count=t.number(choice.answers)), *rows])


def _signed(score: int) -> str:
    """An NPS as it is written: "+20", "-5", and "0" (not "+0")."""
    return f"{score:+d}" if score else "0"


def _percent_change(t: Translator, current: int, previous: int) -> str:
    if previous == 0:
        return ""
    return ", " + t.signed_percent((current - previous) / previous)
