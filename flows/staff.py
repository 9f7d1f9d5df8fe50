"""The staff desk: summaries, digests, low-rating alerts and exports, every access audited.

Who counts as staff is decided by the transport (it knows Telegram ids and chats);
this module only ever sees the staff member's reference for the audit trail.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
import re
from bisect import bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_CEILING, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flows.answers import MAY_HAVE_ARRIVED, AnswerDesk, AnswerSettings, alert_line, answerable
from flows.catalog import FlowCatalog
from flows.chart import ratings_chart
from flows.durations import InvalidDuration, NotPositive, compact_duration, parse_duration
from flows.figures import (
    Comment,
    FlowTallies,
    Tally,
    cache_version,
    comments_of,
    count_by_flow,
    expiry,
    in_force,
    segments,
    tallies_from_bytes,
    tallies_to_bytes,
)
from flows.i18n import N_, SUPPORTED_LOCALES, Translator, translator
from flows.models import (
    MAX_TEXT_STEP_LENGTH,
    ChoiceStep,
    FlowDefinition,
    MultipleChoiceStep,
    RatingStep,
    Step,
    TextStep,
    render_text,
)
from flows.redaction import redact
from flows.replies import Button, Document, Outcome, Reply, headed
from flows.summary import (
    LATEST_COMMENTS,
    Deleted,
    Figures,
    figures_of,
    one_line,
    render,
    scale_five,
    shortened,
)
from storage.interface import (
    ALL_FLOWS,
    RELEASE_MEMORY,
    AuditEntry,
    CacheEntry,
    FeedbackRecord,
    NewFeedback,
    Release,
    SegmentRead,
    StorageFull,
    Store,
    SummarySegment,
)

_shuffle = random.SystemRandom().shuffle

log = logging.getLogger("flows.staff")

DEFAULT_PERIOD = timedelta(days=7)
MAX_PERIOD = timedelta(days=3660)
SHORTEST_PERIOD = timedelta(days=1)
"""Summaries count whole days: a shorter period shows nothing of its own (found by
review: "3m", three months meant, was three minutes and said "No newer days")."""
_TICK = timedelta(microseconds=1)
# Telegram's 64 bytes of button data less "sr:", the rules' version and ":".
_BUTTON_PERIOD_BYTES = 64 - 3 - 12 - 1


RULES_EVENT = "staff-rules-confirmed"
ANSWER_AGAIN = "!"
"""What the rules' confirm button carries instead of a period when a member of staff
was answering a customer."""
RULES_ASKED_FOR = timedelta(minutes=10)
"""How long after the rules were shown a text typed is pointed to their button (and after
they were confirmed, a confirmation typed is told it is done)."""

_CONFIRMATIONS = frozenset(
    {
        "1", "i confirm", "confirm", "confirmed", "yes i confirm", "ok i confirm",
        "ich bestätige", "bestätige", "bestätigt", "bestätigen", "ja ich bestätige",
        "ok ich bestätige", "ich bestätige die regeln", "i confirm the rules",
    }
)  # fmt: skip
"""A confirmation of the rules typed rather than pressed (see `_confirms`)."""


def _confirms(text: str) -> bool:
    """Whether `text` confirms the rules as their button does ("1", "Ich bestätige!")."""
    return " ".join(re.findall(r"\w+", text.casefold())) in _CONFIRMATIONS


@dataclass
class _Counted:
    """What a summary read adds up to, day by day, and what it leaves to do."""

    days: list[tuple[SummarySegment, FlowTallies]] = field(default_factory=list)
    """The figures of each day per survey (people included), oldest first."""
    comments: dict[datetime, list[tuple[datetime, Comment]]] = field(default_factory=dict)
    """Per day counted just now (by its start): its comments, not redacted yet."""
    fresh: list[CacheEntry] = field(default_factory=list)
    """Figures counted from the feedback of whole days, to be cached."""


EVERY_SURVEY = "*"
"""The release points of groups of days in which k people gave feedback to any survey:
a summary's days, and what it counts of all surveys together (no flow id has a "*")."""


@dataclass(frozen=True)
class Windows:
    """What a summary counts: the groups of days in [start, end), and before them in
    [previous, start); each bound is a release point of EVERY_SURVEY (see
    `StaffDesk.windows`)."""

    previous: datetime
    start: datetime
    end: datetime
    points: tuple[Release, ...]
    """The release points from `previous` to `end`: each closes the group of days since
    the one before it, and says what that group counted when it closed."""


def release_points(
    days: list[tuple[SummarySegment, Tally]],
    k: int,
    seal: Callable[[str], str],
    opening: datetime | None = None,
    flow: str = ALL_FLOWS,
) -> list[Release]:
    """Release points of a survey that cut whole UTC days (oldest first, all after its
    newest point so far; `days` its figures of each) into groups in which at least `k`
    people gave feedback to it whose consents are in force; the days left over wait for
    more. Each point keeps what its group counted: feedbacks, people and the `seal`ed
    (keyed) fingerprint of all its figures.

    Per survey, not all together: with two surveys, a group of k people would mostly
    hold fewer than k answers to either, and each survey's questions would be left out
    of it (see `_answered_by_k`).

    With `opening` (there is no point yet), the first point opens the first group: at the
    first day with such feedback, or at `opening` (where the days end) if none has any,
    so that the next release starts there and not twenty years back."""
    points: list[Release] = []
    group = Tally()
    opened: datetime | None = None
    for day, tally in days:
        if opened is None and tally.feedbacks:
            opened = day.start
        group.merge(tally)
        if len(group.people) >= k:
            points.append(_closing(flow, day.end, group, seal))
            group = Tally()
    if opening is not None:
        points.insert(0, Release(flow=flow, at=opened or opening))
    return points


def _closing(flow: str, at: datetime, group: Tally, seal: Callable[[str], str]) -> Release:
    digest = seal(f"summary-group:{group.fingerprint()}")
    return Release(
        flow=flow, at=at, feedbacks=group.feedbacks, people=len(group.people), digest=digest
    )


@dataclass(frozen=True)
class Group:
    """A released group of days of a survey as a summary counts it."""

    closing: Release
    tally: Tally
    days: list[SummarySegment]


def whole_groups(
    flow: str,
    days: list[tuple[SummarySegment, FlowTallies]],
    points: tuple[Release, ...] | list[Release],
    k: int,
    seal: Callable[[str], str],
    within: tuple[datetime, datetime] | None = None,
) -> tuple[list[Group], list[tuple[date, date]]]:
    """The groups of `days` of a survey (EVERY_SURVEY: of all together) that still count
    exactly what they counted when they were released, with at least `k` people (each
    without the questions fewer than `k` answered in it); and the first and last day of
    each other group that still counts something (so that staff can tell which days a
    summary leaves out: found by a staff walk-through). With `within`, only the groups from
    its start to its end, whole; the rest are no concern.

    Feedback leaves a group after its release (erasure, a withdrawn consent, expiry at a
    time anyone can work out), joins one late (a clock set back), or a question of it
    leaves the catalog. Two summaries before and after would then differ by that one
    feedback or answer; leaving the whole group out keeps the difference a whole group.
    A group released under a smaller minimum group size is left out too.

    A group closed by a point of all surveys together (ALL_FLOWS, before schema 14) is
    checked against all of their feedback, and a survey's part of it counts without the
    questions fewer than `k` answered, as it did before."""
    bounds = [point.at for point in points]
    members: dict[int, list[tuple[SummarySegment, FlowTallies]]] = {}
    for day, tallies in days:
        members.setdefault(bisect_right(bounds, day.start), []).append((day, tallies))
    kept: list[Group] = []
    left_out: list[tuple[date, date]] = []
    for index, group in sorted(members.items()):
        closing = points[index] if index < len(points) else None
        if within is not None and (
            index == 0 or closing is None or bounds[index - 1] < within[0] or closing.at > within[1]
        ):
            continue  # reaches beyond `within`
        every = [tally for _, tallies in group for tally in tallies.values()]
        own = _added(
            every
            if flow == EVERY_SURVEY
            else [tallies[flow] for _, tallies in group if flow in tallies]
        )
        total = own
        if closing is not None and closing.flow == ALL_FLOWS and flow != EVERY_SURVEY:
            total = _added(every)
        if (
            closing is not None
            and closing.people >= k
            and _closing(closing.flow, closing.at, total, seal) == closing
        ):
            kept.append(Group(closing, _answered_by_k(own, k), [day for day, _ in group]))
        elif own.feedbacks:
            starts = [day.start for day, _ in group]
            ends = [day.end for day, _ in group]
            left_out.append((min(starts).date(), (max(ends) - _TICK).date()))
    return kept, left_out


def _within(group: Group, spans: list[tuple[date, date]]) -> bool:
    """Whether any day of `group` lies in one of `spans` (first and last days)."""
    return any(first <= day.start.date() <= last for day in group.days for first, last in spans)


def _added(tallies: list[Tally]) -> Tally:
    """The tallies added up, in a copy (`_answered_by_k` changes what it keeps)."""
    if len(tallies) == 1:  # the usual case once feedback is steady: no merging
        only = tallies[0]  # (and the digest of its people as read is kept)
        return replace(
            only,
            ratings=dict(only.ratings),
            raters=dict(only.raters),
            choices=dict(only.choices),
            choosers=dict(only.choosers),
        )
    total = Tally()
    for tally in tallies:
        total.merge(tally)
    return total


def _answered_by_k(group: Tally, k: int) -> Tally:
    """`group` without the questions fewer than `k` of its people answered: a group has
    k people, but one flow or an optional question may have had a single person's
    answers (also several of them), which the totals, the chart or a comparison with a
    summary without the group would show."""
    group.ratings = {
        key: c for key, c in group.ratings.items() if len(group.raters.get(key, ())) >= k
    }
    group.raters = {key: r for key, r in group.raters.items() if key in group.ratings}
    group.choosers = {key: c for key, c in group.choosers.items() if len(c) >= k}
    group.choices = {key: c for key, c in group.choices.items() if key in group.choosers}
    return group


def _chart_caption(t: Translator, figures: Figures, together: int) -> str:
    """The chart's title: of which survey where several have figures, and that it
    averages its 1–5 questions where it has several."""
    several = len({key[0] for key in (*figures.ratings, *figures.choices)}) > 1
    title = figures.titles.get(figures.chart_survey or "", "")
    if several and together > 1:
        return t.gettext(
            "Ratings per group of days of the survey “{title}”, all its 1–5 questions together"
        ).format(title=title)
    if several:
        return t.gettext("Ratings per group of days of the survey “{title}”").format(title=title)
    if together > 1:
        return t.gettext("Ratings per group of days, all 1–5 questions together")
    return t.gettext("Ratings per group of days")


def _midnight(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


# What a member of staff may type after the number: /zusammenfassung 7 Tage, /summary 2 weeks.
_UNIT_WORDS = {
    "m": ("min", "mins", "minute", "minuten", "minutes"),
    "h": ("h", "hr", "hrs", "std", "stunde", "stunden", "hour", "hours"),
    "d": ("", "d", "t", "tg", "tag", "tage", "tagen", "day", "days"),
    "w": ("w", "wo", "wk", "wks", "woche", "wochen", "week", "weeks"),
}
# Spelled in days: 30 a month, 365 a year.
_DAY_WORDS = {
    **dict.fromkeys(("mo", "mon", "monat", "monate", "monaten", "month", "months"), 30),
    **dict.fromkeys(("j", "jahr", "jahre", "jahren", "y", "yr", "year", "years"), 365),
}
# "letzte Woche", "the last 14 days", "eine Woche", "a month": what staff type around
# a period, meaning no more than the period itself.
_LEAD_WORDS = frozenset(
    "letzte letzten letzter letztem letztes vergangene vergangenen vergangenem vergangenes "
    "vorige vorigen voriger vorigem voriges die der den das the last past previous".split()
)
# "ca. 30 Tage", "rund 4 Wochen", "about 30 days": a length said roughly is that length
# (found by a staff walk-through: not understood, though "30 Tage ca." was)
_ROUGHLY = frozenset(
    "ca circa zirka etwa rund ungefähr ungefaehr knapp about around roughly approx "
    "approximately nearly almost".split()
)
_LAST = frozenset(
    "letzte letzten letzter letztem letztes vergangene vergangenen vergangenem vergangenes "
    "vorige vorigen voriger vorigem voriges last past previous".split()
)
# "Vorwoche", "Vormonat": the last week or month, as "letzte Woche" (found by a staff
# walk-through: not understood)
_BEFORE_THIS = {"vorwoche": "woche", "vormonat": "monat", "vorjahr": "jahr"}
# "seit 3 Tagen", "in den letzten 3 Tagen", "for the last 3 days", "over the past week"
# (found by a staff walk-through: not understood); only before a number of a unit, or a
# unit after "letzten"/"last": "seit 15. November", "seit 2020" are dates, no length (found
# by a review of the change: read as 15 days and 2,020 days), and "in 3 Tagen" is to come.
_SPAN = frozenset("seit für fuer for over during since".split())
_SPAN_AFTER_LAST = frozenset("in im".split())
_ONE = frozenset("ein eine einen einem einer a an one".split())
_COUNTED = {
    word: str(n)
    for n, words in enumerate(
        (
            "zwei two",
            "drei three",
            "vier four",
            "fünf fuenf five",
            "sechs six",
            "sieben seven",
            "acht eight",
            "neun nine",
            "zehn ten",
            "elf eleven",
            "zwölf zwoelf twelve",
        ),
        start=2,
    )
    for word in words.split()
}
"""How many of a unit, in words ("zwei Wochen", "two weeks": found by a staff
walk-through, not understood)."""
# A unit on its own is one of it ("Woche"), but only in the singular: "Tage" alone says
# how many no more than "eine" alone says of what.
_SINGULAR = frozenset("stunde hour tag day woche week monat month jahr year".split())
# A part of a unit, "1,5 Wochen" as German writes it and "1.5 weeks" as English does, is
# taken in hours.
_UNIT_HOURS = {"m": Decimal(1) / 60, "h": Decimal(1), "d": Decimal(24), "w": Decimal(168)}
# "anderthalb Wochen", "one and a half weeks", "a week and a half".
_ONE_AND_A_HALF = frozenset("anderthalb eineinhalb".split())
_AND_A_HALF = ["and", "a", "half"]
_HALF = frozenset("halbe halben halber halbes half".split())
_HALF_SIGN = re.compile(r"(\d*)\s*½")
# Summaries count whole days that are over: "heute" has no figures of its own (told so),
# "gestern" is the last whole day, which "1d" counts.
_TODAY = frozenset("heute today".split())
_YESTERDAY = frozenset("gestern yesterday".split())
# The day before yesterday alone is no period up to yesterday (told what counts it); this
# week or month so far is its whole days (UTC, as summaries count them): "diese Woche" on
# a Thursday is 3d, Monday to Wednesday.
_DAY_BEFORE = frozenset(("vorgestern", "day before yesterday", "the day before yesterday"))
_THIS = frozenset("diese dieser diesen dieses this".split())
_WEEK = frozenset("woche week".split())
_MONTH = frozenset("monat monats month".split())
_YEAR = frozenset("jahr jahres year".split())
# This year so far, as staff say it (found by a staff walk-through: not understood).
_YEAR_TO_DATE = frozenset(("ytd", "year to date", "year-to-date"))
# Since a day of the week, or the week's or month's start: its whole days up to yesterday
# ("seit Montag" on a Thursday is 3d, Monday to Wednesday; on a Monday, last Monday's
# week, 7d: found by a staff walk-through, "not understood").
_SINCE = frozenset("seit since ab from vom von".split())
_SINCE_FILLER = frozenset(
    "dem letztem letzten vergangenem vorigem vorigen last the bitte please".split()
)
_WEEKDAYS = {
    # (abbreviated too, "seit Mo": found by a staff walk-through)
    **dict.fromkeys(("montag", "monday", "mo", "mon"), 0),
    **dict.fromkeys(("dienstag", "tuesday", "di", "tue", "tues"), 1),
    **dict.fromkeys(("mittwoch", "wednesday", "mi", "wed"), 2),
    **dict.fromkeys(("donnerstag", "thursday", "do", "thu", "thurs"), 3),
    **dict.fromkeys(("freitag", "friday", "fr", "fri"), 4),
    **dict.fromkeys(("samstag", "sonnabend", "saturday", "sa", "sat"), 5),
    **dict.fromkeys(("sonntag", "sunday", "so", "sun"), 6),
}
_WEEK_START = frozenset(
    ("wochenbeginn", "wochenanfang", "anfang der woche", "beginn der woche",
     "start of the week", "beginning of the week", "start of week")
)  # fmt: skip
_MONTH_START = frozenset(
    ("monatsbeginn", "monatsanfang", "anfang des monats", "beginn des monats",
     "start of the month", "beginning of the month", "start of month")
)  # fmt: skip
_YEAR_START = frozenset(
    ("jahresbeginn", "jahresanfang", "anfang des jahres", "beginn des jahres",
     "start of the year", "beginning of the year", "start of year")
)  # fmt: skip
# A day by its date, alone or after "seit"/"since" (see date_named): "1.12.", "seit dem
# 30.11.2026", "ab 1. Dezember", "since December 1st", "since 1 Dec" (found by a staff
# walk-through: "1.12." was read as 1.12 days, "27 Stunden", and a summary of nothing).
# Without its last dot, "30.5" stays a number of days, as the README gives it; "1.12", with
# a month's two digits, is a date (no one asks for 1.12 days).
_NUMBERED_DATE = re.compile(r"(\d{1,2})\.[ ]?(\d{1,2})\.(\d{4}|\d{2})?|(\d{1,2})\.(0[1-9]|1[0-2])")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
"""2026-11-30, as scripts write it (found by a staff walk-through: `stats --since
2026-11-30` was "no period", "30.11." was one)."""
_MONTH_NAMES = {
    **dict.fromkeys(("januar", "jänner", "january", "jan"), 1),
    **dict.fromkeys(("februar", "feber", "february", "feb"), 2),
    **dict.fromkeys(("märz", "maerz", "march", "mär", "mrz", "mar"), 3),
    **dict.fromkeys(("april", "apr"), 4),
    **dict.fromkeys(("mai", "may"), 5),
    **dict.fromkeys(("juni", "june", "jun"), 6),
    **dict.fromkeys(("juli", "july", "jul"), 7),
    **dict.fromkeys(("august", "aug"), 8),
    **dict.fromkeys(("september", "sept", "sep"), 9),
    **dict.fromkeys(("oktober", "october", "okt", "oct"), 10),
    **dict.fromkeys(("november", "nov"), 11),
    **dict.fromkeys(("dezember", "december", "dez", "dec"), 12),
}
_WORDED_DATE = re.compile(
    r"(?P<day>\d{1,2})(?:\.|st|nd|rd|th)?(?:[ ]of)?[ ](?P<month>[a-zä]+)\.?"
    r"(?:,?[ ](?P<year>\d{4}))?"
    r"|(?P<month2>[a-zä]+)\.?[ ](?P<day2>\d{1,2})(?:st|nd|rd|th)?(?:,?[ ](?P<year2>\d{4}))?"
)
# A date written so that it is no number ("30.11.", "30.11.2026"; not "30.11", which may
# be a length, "1.5 Wochen"), and words after it: "30.11. product" was read as 30.11
# days, "2026-11-30 product" as no period (found by a session's own reading of the notes).
# Its year may follow after a space ("1.12. 2025": a review of the change, read as this
# year's 1 December once words after a date were let go).
_DOTTED_DATE = re.compile(r"(\d{1,2})\.[ ]?(\d{1,2})\.(?:[ ]?(\d{4}|\d{2}))?")
_UNTIL = frozenset("bis to until till through thru - – —".split())
# "1.12. bis heute", "seit Montag bis jetzt", "Dec 1 to now": up to now, as every period
# counts (found by a staff walk-through: "1.12. bis heute" not understood).
_UP_TO = frozenset("heute today jetzt now".split())
_UP_TO_NOW = re.compile(
    r"(?<=\S)\s+(?:bis|to|until|till|through|thru|-|–|—)\s+(?:heute|today|jetzt|now)\s*$",
    re.IGNORECASE,
)
# "7 Tage!", "30 Tage, bitte", "gestern?": marks around a period (found by a staff
# walk-through: not understood, though "7 Tage." was); not a decimal comma ("1,5 Wochen").
_MARKS = re.compile(r"[!?¡¿]+|(?<!\d),|,(?!\d)")
# Words that restate a look-back or ask politely, let go after a period at the command
# line too ("7 days ago", as `date -d` spells it; "30 Tage insgesamt", "30d danke"; found
# by a review of refusing the words let go there, see bot.cli.common).
_SAYING_NO_MORE = frozenset(
    "ago back zurück zurueck her lang rückwirkend rueckwirkend rückblickend rueckblickend "
    "total insgesamt genau exactly nur only komplett complete danke thanks thank you pls "
    "utc ungefähr ungefaehr ca approx approximately about etwa alle all umfragen surveys "
    "up now jetzt til".split()
)
# Thanks and hedges said whole, let go beside a period (found by review once words let go
# were said in the chat: "30 Tage vielen Dank" was told "vielen Dank" is no part of a
# period, "7 days so far" that "far" is none); words of a survey's title still, by which
# it is named ("7d Gerne" of "Gerne wieder": the review of the change)
_SAID_WHOLE = frozenset(
    "vielen dank schön schoen sehr dankeschön dankeschoen bitteschön bitteschoen gerne gern "
    "thx plz ok okay lot much far or oder circa zirka rund umfrage survey".split()
)
# Words of periods as staff type them, besides numbers and units (see _another_period):
# none names a survey whose title it begins (see period_and_survey).
_PERIOD_WORDS = frozenset(
    {
        *_SINGULAR, *_LEAD_WORDS, *_SPAN, *_SPAN_AFTER_LAST, *_ONE, *_COUNTED, *_HALF,
        *_ONE_AND_A_HALF, *_TODAY, *_YESTERDAY, *_THIS, *_WEEK, *_MONTH, *_YEAR, *_SINCE,
        *_SINCE_FILLER, *_WEEKDAYS, *_UNTIL, *_SAYING_NO_MORE, *_UP_TO, "vorgestern",
        *_ROUGHLY, *_BEFORE_THIS, "kw", "cw", "wk", "kalenderwoche", "zum", "einschließlich",
        *(
            word
            for phrase in _WEEK_START | _MONTH_START | _YEAR_START | _YEAR_TO_DATE
            for word in phrase.split()
        ),
    }
)  # fmt: skip


def _before_words(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    """`pattern` at the start of `text` and words after it, which are let go as they are
    after a length ("30d bitte"): "30.11. bitte", "1. Dezember product". Not where they
    may be more of the period, which would go unread (a review of the change): an end
    ("1.12. bis 5.12.", "Dec 1 to Dec 3"), a length ("30.11. 7d", "may 2 weeks"), a
    number or a month."""
    match = pattern.match(text)
    if match is None or text[match.end() : match.end() + 1] not in (" ", ""):
        return None
    rest = [word.strip(".,;:!?") for word in text[match.end() :].split()]
    if any(_another_period(word) or word in _MONTH_NAMES or word in _UNTIL for word in rest):
        return None
    return match


def date_named(typed: str, today: date) -> date | None:
    """The day a period typed by its date begins on ("1.12.", "seit dem 30.11.2026", "ab 1.
    Dezember", "since December 1st"): the latest such day up to `today` where no year is
    given. None for words that name no date; NoSuchDay for a date that is no day, or one
    still to come ("31.2.", "1.12.2030")."""
    words = [word for word in plain_period(typed).casefold().split() if word not in _SINCE_FILLER]
    if words[:1] and words[0] in _SINCE:
        words = [word for word in words[1:] if word not in _SINCE_FILLER]
    text = " ".join(words)
    numbered = _NUMBERED_DATE.fullmatch(text) or _before_words(_DOTTED_DATE, text)
    iso = None if numbered else _ISO_DATE.fullmatch(text) or _before_words(_ISO_DATE, text)
    worded = None
    if not (numbered or iso):
        worded = _WORDED_DATE.fullmatch(text) or _before_words(_WORDED_DATE, text)
    if iso:
        year, month, day = iso.group(1, 2, 3)
    elif numbered:
        day, month, year = numbered.group(1, 2, 3)
        if day is None:  # "1.12"
            day, month = numbered.group(4, 5)
    elif worded and (worded["month"] or worded["month2"]) in _MONTH_NAMES:
        day = worded["day"] or worded["day2"]
        month = str(_MONTH_NAMES[worded["month"] or worded["month2"]])
        year = worded["year"] or worded["year2"]
    else:
        return None
    if year is not None:
        try:
            first = date(int(year) + (2000 if len(year) == 2 else 0), int(month), int(day))
        except ValueError:
            raise NoSuchDay(f"{typed[:40]!r}: no day") from None
        if first > today:
            raise DayToCome(f"{typed[:40]!r}: a day to come")
        return first
    # Without a year, the latest such day: this year's, unless still to come; but a day
    # a week ahead at most is a slip or a day of another zone, not a year back ("7.12."
    # typed on 6 December: found by review, 364 days); "29.2." the last that was.
    for back in range(0, 9 if (int(month), int(day)) == (2, 29) else 2):
        try:
            first = date(today.year - back, int(month), int(day))
        except ValueError:
            continue
        if first <= today:
            return first
        if first - today <= timedelta(days=7):
            raise DayToCome(f"{typed[:40]!r}: a day to come")
    raise NoSuchDay(f"{typed[:40]!r}: no day")


# (Up to nine digits: "1000000" is a period too long, not 1,000,000 seconds.)
_NUMBER = re.compile(r"\d{1,9}(?:[.,]\d{1,2})?")
# "1.000 Tage" is a thousand days in German, "1,000 days" in English: neither is read.
_DIGIT_GROUPS = re.compile(r"\d+[.,]\d{3}")
_NUMBER_AND_WORD = re.compile(rf"\s*({_NUMBER.pattern})\s*([^\d\s]*)\s*")


class NoWholeDay(InvalidDuration):
    """ "heute", "today": a day not over, which no summary counts."""


class NoSuchDay(InvalidDuration):
    """A date that is no day ("31.2."), or one still to come: no period back from now."""


class DayToCome(NoSuchDay):
    """A day, week or month still to come ("24.12.2030"), not one that is none: told apart
    (found by a staff walk-through: "32.1.", "KW 54" were "no day before today")."""


class BegunToday(NoWholeDay):
    """ "diese Woche" on a Monday, "seit heute", "this month" on the first: a period whose
    first day is today, not over either."""


class DayBefore(InvalidDuration):
    """ "vorgestern": one day before the last, which no summary counts alone."""


class EndsBeforeItBegins(InvalidDuration):
    """ "6.-1.12.", "Dec 6 to 1": days from one date to an earlier one, told so (found by
    review: "I do not understand that period", and the CLI's "no day before today")."""


class EndedPeriod(InvalidDuration):
    """A month, year, calendar week, quarter or days from one date to another named that
    ended before yesterday ("November" in December, "2025", "KW 47", "1.12.-3.12."):
    summaries count up to yesterday, so not it alone; from its `first` day on they do
    (found by a staff walk-through: "not understood", and "2025" was 2,025 days)."""

    def __init__(self, typed: str, first: date) -> None:
        super().__init__(f"{typed[:40]!r}: ended before yesterday")
        self.first = first


def date_typed(day: date, today: date, locale: str = "de") -> str:
    """`day` as staff type it to count from (see example_date), with its year where it is
    not this year's: "1.11.", "1.1.2025"; in English "1 Nov", "1 Jan 2025"."""
    year = "" if day.year == today.year else str(day.year)
    if locale == "en":
        return f"{day.day} {_MONTHS_SHORT[day.month - 1]} {year}".strip()
    return f"{day.day}.{day.month}.{year}"


def example_date(today: date, locale: str = "de") -> str:
    """A date as staff may type it to count from, for the examples of a reply: a week
    before `today` ("29.11." on 6 December), which is never refused as a day to come (a
    fixed "1.12." was, from 24 November to 1 December: found by review). In English with
    its month named ("29 Nov"): "29.11." may be read month first (found by a walk-through)."""
    return date_typed(today - timedelta(days=7), today, locale)


_MONTHS_SHORT = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


DAY_BEFORE_NOTE = N_(
    "Summaries count the last whole days up to yesterday, not one day before it alone: "
    "/summary 2d counts yesterday and the day before, 1d yesterday."
)
"""What answers "vorgestern" (see DayBefore), in the chat and from `feedbackbot summary`."""


_INVISIBLE_IN_A_PERIOD = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))


def plain_period(typed: str) -> str:
    """`typed` without what is no part of the period: characters pasted with it that do not
    show (a zero-width space, found by a staff walk-through), marks ("7 Tage!", "30 Tage,
    bitte"), and "bis heute" after it (see _UP_TO_NOW)."""
    return _UP_TO_NOW.sub("", _unmarked(typed))


def _unmarked(typed: str) -> str:
    return _MARKS.sub(" ", typed.translate(_INVISIBLE_IN_A_PERIOD)).strip()


def _up_to_now(typed: str) -> bool:
    """Whether `typed` ends in "bis heute" (see _UP_TO_NOW): "November bis heute" is since
    November (found by review: told that November is over)."""
    return _UP_TO_NOW.search(_unmarked(typed)) is not None


# A year as a period's: "2026" is this year so far, not 2,026 days.
_YEAR_NUMBER = re.compile(r"(?:19|20)\d\d")
_IN = frozenset("im in of the der den des anfang beginn start beginning".split())
# A calendar week ("KW 48", "KW48/2025", "Kalenderwoche 48", "week 48") and a quarter ("Q3",
# "Q3 2025", "Quartal 3", "3. Quartal", "3rd quarter"), as staff name them (found by a
# staff walk-through: not understood). "3 Quartal" without its dot is no quarter: "1
# Quartal" is a length, not understood (see staff_period).
_WEEK_NUMBER = re.compile(
    r"(?:kw|cw|wk|kalenderwoche|calendar week|woche|week)[ ]?(\d{1,2})(?:[ ]?[/,]?[ ]?(\d{4}))?"
)
_QUARTER = re.compile(
    r"(?:q[ ]?|(?:quartal|quarter)[ ]|(?=\d\.[ ]?quartal|\d(?:st|nd|rd|th)[ ]quarter))([1-4])"
    r"(?:\.[ ]?quartal|(?:st|nd|rd|th)[ ]quarter)?(?:[ ]?[/,]?[ ]?(\d{4}))?"
)
# A dash that joins two dates or days without spaces ("1.12.-6.12.", "1.-6.12.", "1.12-6.12",
# "Dec 1-6", "Dec 1–Dec 6"), not the hyphens of a date written as scripts do ("2026-12-01").
_JOINING_DASH = re.compile(
    r"(?<=[.a-zäöü])-(?=\w)|(?<=\d)-(?=[a-zäöü])|(?<=[\w.])[–—](?=\w)"
    r"|(?<=\.\d)-(?=\d)|(?<=\.\d\d)-(?=\d)|(?<=\.\d{4})-(?=\d)"
    r"|(?<=[a-zäöü] \d)-(?=\d)|(?<=[a-zäöü] \d\d)-(?=\d)"
)
_DAY_OF_THE_MONTH = re.compile(r"(\d{1,2})\.?")
# Words said after a period that say no more of it ("November bitte", "KW 48 please").
_ASKING = frozenset({"bitte", "please", *_SAYING_NO_MORE, *_SAID_WHOLE})
_KEPT_TO_THE_END = frozenset("zum bis to the einschließlich einschliesslich".split())
# How far ahead a week or a day may be typed and be a slip, or a day of another zone,
# rather than last year's ("KW 51" on 7 December; see date_named).
_AHEAD = timedelta(days=28)


def _calendar_period(typed: list[str], today: date) -> tuple[date, bool] | None:
    """The first day of the month, year, calendar week, quarter or days from one date to
    another that the words `typed` (in lower case) name alone ("November", "im Dezember",
    "Nov 2025", "2026", "KW 48", "Q3", "1.12.-6.12.", "vom 1.12. bis 6.12."), and whether
    it is still going, up to yesterday at least (on 1 December, November is: all of it
    counts); None for other words. NoSuchDay for one still to come, or a date that is
    no day."""
    dotted = [word for word in typed if word.strip(".") not in _IN]
    while len(dotted) > 1 and dotted[-1].strip(".") in _ASKING:
        dotted = dotted[:-1]
    words = [word.strip(".") for word in dotted]
    text = " ".join(words)
    span = _week_or_quarter(text, " ".join(dotted), today) or _from_to(" ".join(dotted), today)
    if span is not None:
        first, last = span
    elif len(words) == 1 and _YEAR_NUMBER.fullmatch(words[0]):
        first = date(int(words[0]), 1, 1)
        last = date(first.year, 12, 31)
    elif 1 <= len(words) <= 2 and words[0] in _MONTH_NAMES:
        month = _MONTH_NAMES[words[0]]
        if len(words) == 2 and not _YEAR_NUMBER.fullmatch(words[1]):
            return None
        year = int(words[1]) if len(words) == 2 else today.year - (month > today.month)
        first = date(year, month, 1)
        last = _next_month(first) - timedelta(days=1)
    else:
        return None
    if first > today:
        raise DayToCome(f"{' '.join(typed)[:40]!r}: to come")
    return first, last >= today - timedelta(days=1)


def _next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def _week_or_quarter(text: str, dotted: str, today: date) -> tuple[date, date] | None:
    """The first and last day of the calendar week or quarter `text` names (see
    _WEEK_NUMBER, _QUARTER; `dotted`: the same with its dots, "3. quartal"): the latest one
    begun by `today` where no year is given (ISO weeks, which begin on a Monday), but a
    week up to four ahead is one to come, a slip ("KW 51" on 7 December). NoSuchDay for a
    week that is none ("KW 54"), or to come."""
    week = _WEEK_NUMBER.fullmatch(text)
    if week is not None:
        number = int(week[1])
        this = today.isocalendar().year
        ahead = False  # (a week of this year to come, "KW 53" in March: not "no week")
        for year in (int(week[2]),) if week[2] else (this, this - 1):
            try:
                monday = date.fromisocalendar(year, number, 1)
            except ValueError:
                continue
            # "KW 52" on 4 January is last year's; "KW 51" on 7 December to come
            if week[2] or monday - today <= _AHEAD:
                return monday, monday + timedelta(days=6)
            ahead = True
        if ahead:
            raise DayToCome(f"{text[:40]!r}: a week to come")
        raise NoSuchDay(f"{text[:40]!r}: no week")
    quarter = _QUARTER.fullmatch(text) or _QUARTER.fullmatch(dotted)
    if quarter is None:
        return None
    number = int(quarter[1])
    first = date(int(quarter[2]) if quarter[2] else today.year, 3 * number - 2, 1)
    if quarter[2] is None and first > today:
        first = first.replace(year=first.year - 1)
    return first, _next_month(first.replace(month=first.month + 2)) - timedelta(days=1)


def _from_to(text: str, today: date) -> tuple[date, date] | None:
    """The first and last day of days typed from one date to another, `text` in lower case
    with its dots ("1.12.-6.12.", "1. bis 6.12.", "vom 30.11. bis zum 6.12.", "Dec 1 to Dec
    6", "Dec 1 to 6": found by a staff walk-through, not understood), or None. The end is
    the first such day from the start on, also one to come ("1.12.-20.12." on 7 December,
    as "Dezember" is). InvalidDuration for an end before the start; NoSuchDay for a date
    that is none, or a start to come."""
    words = _JOINING_DASH.sub(" - ", text).split()
    until = [i for i, word in enumerate(words) if word in _UNTIL and 0 < i < len(words) - 1]
    if len(until) != 1:
        return None
    start = words[: until[0]]
    end = [word for word in words[until[0] + 1 :] if word not in _KEPT_TO_THE_END]
    while start and start[0] in _SINCE | _SINCE_FILLER:
        start = start[1:]
    start_day = _DAY_OF_THE_MONTH.fullmatch(" ".join(start))
    end_day = _DAY_OF_THE_MONTH.fullmatch(" ".join(end))
    first = None if start_day else date_named(" ".join(start), today)
    last = None
    if first is not None and end_day:  # "Dec 1 to 6"
        last = _day_of(first, end_day[1])
    elif first is not None and end:
        last = _end_named(" ".join(end), first)
    elif start_day and end and not end_day:  # "1.-6.12.", "1. bis 6.12."
        first, last = _month_of_the_end(" ".join(end), start_day[1], today)
    if first is None or last is None:
        return None
    if first > last:
        raise EndsBeforeItBegins(f"{text[:40]!r}: ends before it begins")
    return first, last


_NO_YEAR = date(9996, 12, 31)  # (a leap year's end: "29.2." is a day in it)


def _month_of_the_end(text: str, day: str, today: date) -> tuple[date | None, date | None]:
    """The days from `day` to the date `text` names, in that date's month: the latest
    such days begun by `today` where no year is given ("1.-20.12." on 7 December is this
    December's). NoSuchDay for days to come, or a day that is none."""
    end = date_named(text, _NO_YEAR)
    if end is None:
        return None, None
    years = (end.year,) if end.year != _NO_YEAR.year else (today.year, today.year - 1)
    to_come = False  # (or no such day in any year: "31.-30.11.", found by review)
    for year in years:
        try:
            last = end.replace(year=year)
            first = _day_of(last, day)
        except ValueError:
            continue
        if first <= today:
            return first, last
        to_come = True
        if first - today <= timedelta(days=7):  # a slip, as a date (see date_named)
            break
    if to_come:
        raise DayToCome(f"{text[:40]!r}: to come")
    raise NoSuchDay(f"{text[:40]!r}: no day")


_TURN_OF_THE_YEAR = timedelta(days=300)
"""The longest days from one date to another over the turn of the year: longer ones,
"1.12.-30.11.", are a year's days less a few, typed the wrong way round."""


def _end_named(text: str, first: date) -> date | None:
    """The last day of days from `first` on that `text` names: as typed where it gives a
    year, else the first such day from `first` on ("3.1." after "28.12." is next year's)."""
    day = date_named(text, _NO_YEAR)
    if day is None or day.year != _NO_YEAR.year:
        return day
    with contextlib.suppress(ValueError):
        if (end := day.replace(year=first.year)) >= first:
            return end
    with contextlib.suppress(ValueError):
        # over the turn of the year, to a month earlier in the year ("28.12.-3.1.",
        # "1.10.-5.1.": found by review, a cap of 92 days said the latter ended before it
        # began), not a year's days less a few ("6.12.-1.12.", "1.12.-30.11.", refused as
        # ending before they begin)
        end = day.replace(year=first.year + 1)
        if end.month < first.month and end - first <= _TURN_OF_THE_YEAR:
            return end
    with contextlib.suppress(ValueError):
        return day.replace(year=first.year)
    raise NoSuchDay(f"{text[:40]!r}: no day")


def _day_of(month: date, day: str) -> date:
    """The day numbered `day` of `month`'s month; NoSuchDay where there is none."""
    try:
        return month.replace(day=int(day))
    except ValueError:
        raise NoSuchDay(f"{day!r}: no day") from None


def staff_period(typed: str, today: date | None = None) -> str:
    """A period as typed in the chat, in the spelling durations use: a bare number and
    "7 Tage" / "7 days" are days (a member of staff does not mean seconds), "2 Wochen"
    is 2w, "3 Monate" 90d. Words after a period ("30d bitte", "2 weeks please") are let go, as
    before they were read, but not after a bare number: "1 Quartal" is no day. Anything else is left
    for parse_duration to refuse. A number with a decimal comma or point ("1,5 Wochen",
    "1.5w", "30.5") is as many of its unit, in whole hours rounded up ("252h"): "1.5w" was
    read as 252 hours and "1,5 Wochen" not understood; so are "1½ Wochen" and "eine halbe
    Woche". "gestern" is "1d", the last whole day; "heute" raises NoWholeDay, "vorgestern"
    DayBefore. Given `today` (UTC), "diese Woche" and "this month" are their whole days so
    far (NoWholeDay on a Monday, or on the first), and so are "seit Montag", "since the
    start of the month" (see _SINCE)."""
    original, typed = typed, plain_period(typed)
    lowered = [word.casefold().strip(".") for word in typed.split()]
    if " ".join(lowered) in _DAY_BEFORE or lowered[:1] == ["vorgestern"]:
        raise DayBefore(f"{typed[:40]!r}: one day before the last")
    dated = date_named(typed, today or date.max)  # (without `today` refused below)
    if dated is not None:
        if today is None:  # (see bot.cli.common.lookback, which asks first_day_named first)
            raise InvalidDuration(f"{typed[:40]!r}: a date")
        if dated == today:
            raise BegunToday(f"{typed[:40]!r}: no whole day of it is over")
        return f"{(today - dated).days}d"
    since = _days_since(lowered, today) if today is not None else None
    if since == 0:
        raise BegunToday(f"{typed[:40]!r}: no whole day of it is over")
    if since is not None:
        return f"{since}d"
    if today is not None and (days := _days_this(lowered, today)) is not None:
        if days == 0:
            raise BegunToday(f"{typed[:40]!r}: no whole day of it is over")
        return f"{days}d"
    if today is not None and (named := _calendar_period(typed.casefold().split(), today)):
        month_or_year, going = named
        if not (going or _up_to_now(original)):
            raise EndedPeriod(typed, month_or_year)
        if month_or_year == today:
            raise BegunToday(f"{typed[:40]!r}: no whole day of it is over")
        return f"{(today - month_or_year).days}d"
    if lowered and lowered[0] in _SPAN | _SPAN_AFTER_LAST:
        if not _a_length_after([word.casefold() for word in typed.split()]):
            return typed.strip()  # refused by parse_duration, as before
        typed = " ".join(typed.split()[1:])
    words = _halves(_HALF_SIGN.sub(_half_sign, typed).split())
    while len(words) > 1 and (
        words[0].casefold() in _LEAD_WORDS
        # (not before a year alone: "etwa 2026" was 2,026 days, found by review)
        or (words[0].casefold().rstrip(".") in _ROUGHLY and not _YEAR_NUMBER.fullmatch(words[1]))
    ):
        words = _halves(words[1:])  # "letzte 14 Tage", "last week", "ca. 30 Tage"
    day = words[0].casefold().removesuffix(".") if words else ""
    if words and day in _BEFORE_THIS:  # ("Vorwoche bitte": its review)
        words, day = ["1", _BEFORE_THIS[day], *words[1:]], "1"
    if day in _TODAY:
        raise NoWholeDay(f"{typed[:40]!r}: a day not over")
    if day in _YESTERDAY:
        words = ["1d", *words[1:]]  # the last whole day, as "1d" counts it
    if len(words) > 1 and words[0].casefold() in _ONE:
        words = ["1", *words[1:]]  # "eine Woche", "a month"
    elif len(words) > 1 and words[0].casefold() in _COUNTED:
        words = [_COUNTED[words[0].casefold()], *words[1:]]  # "zwei Wochen"
    elif words and words[0].casefold().removesuffix(".") in _SINGULAR:
        words = ["1", *words]  # "Woche", "Monat", "(letzte) Woche bitte" (found by review)
    text = " ".join(words)
    if _DIGIT_GROUPS.match(text):
        raise InvalidDuration(f"{text[:40]!r}: a thousand, or one?")
    first = words[:1] if words and not _NUMBER.fullmatch(words[0]) else []
    for candidate, rest in dict.fromkeys(
        (
            (text, ()),
            (" ".join(words[:2]), tuple(words[2:])),
            *((w, tuple(words[1:])) for w in first),
        )
    ):
        spelled = _spelled(candidate)
        try:
            parse_duration(spelled)
        except InvalidDuration:
            continue
        if any(_more_of_a_period(word) for word in rest):
            # "1 Tag 12 Stunden", "7d 30d", "1 Woche und einen Tag", "7 Tage im Mai": not
            # let go unread (the last found by review once "im Mai" was understood alone)
            break
        return spelled
    return typed.strip()


def words_let_go(typed: str, today: date) -> list[str]:
    """The words that reading `typed` as a period let go and that are no part of one: "30
    Tage irgendwas" is 30 days and "irgendwas" (found by an operator's walk-through: let go
    without a word, a survey not loaded among them), "30d bitte" 30 days and none; none
    where `typed` is no period. Its words as the period is read ("30 Tage,bitte": found by
    review, "Tage,bitte" refused)."""
    words = plain_period(typed).split()

    def read(text: str) -> object:
        try:
            return first_day_named(text, today) or parse_duration(staff_period(text, today))
        except InvalidDuration:
            return None

    whole = read(" ".join(words))
    if whole is None or len(words) < 2:
        return []
    for count in range(1, len(words)):
        if read(" ".join(words[:count])) == whole:
            return [word for word in words[count:] if not a_period_word(word.casefold())]
    return []


def _period_typed(typed: str | None, today: date) -> tuple[str | None, timedelta]:
    """A summary's period as typed (see `staff_period`), and its length; none typed is the
    default. Raises InvalidDuration."""
    period = staff_period(typed, today) if typed else None
    return period, parse_duration(period) if period else DEFAULT_PERIOD


def _title_words(flow: FlowDefinition) -> set[str]:
    """The words of the survey's title in every language, in lower case."""
    return {
        word.strip(".,;:!?()")
        for locale in SUPPORTED_LOCALES
        for word in render_text(flow.title, translator(locale)).casefold().split()
    }


def _of_the_title(word: str, flow: FlowDefinition) -> bool:
    """Whether `word` is a word of the survey's title, in any language."""
    return word.casefold().strip(".,;:!?\"'“”„()") in _title_words(flow)


def survey_named(typed: str, catalog: FlowCatalog) -> FlowDefinition | None:
    """The one survey the words typed beside a summary's period name ("30d product", "7 Tage
    Produkt", "30d Product feedback"), by its id or the start of a word of its title in any
    language; a word of several surveys' ("feedback") names none. None where the words name
    no survey, or several."""
    return period_and_survey(typed, catalog)[1]


def period_and_survey(typed: str, catalog: FlowCatalog) -> tuple[str, FlowDefinition | None]:
    """The words of a period typed with the survey they name (see `survey_named`) left out,
    and that survey: "30.11. product" is "30.11." (read as 30.11 days, and "seit Montag
    product" as no period: found by a session's own reading of the notes)."""
    titles = {flow.id: _title_words(flow) for flow in catalog.flows.values()}
    naming: list[set[str]] = []
    for typed_word in typed.casefold().split():
        word = typed_word.strip(".,;:!?\"'“”„()")
        # A word of the period names no survey whose title it begins ("2 Wochen" beside a
        # "Wochenmarkt": read as 2 days once such words were left out; a review)
        of = {
            flow
            for flow, words in titles.items()
            if word == flow
            or (
                len(word) >= 4
                and not (a_period_word(word) and word not in _SAID_WHOLE)
                and any(w.startswith(word) for w in words)
            )
        }
        naming.append(of if len(of) == 1 else set())
    named = set().union(*naming)
    if len(named) != 1:
        return typed, None
    rest = [word for word, of in zip(typed.split(), naming, strict=True) if not of]
    return " ".join(rest), catalog.flows[named.pop()]


def first_day_named(typed: str, today: date) -> date | None:
    """The first day of the days `typed` names by the calendar ("heute", "gestern",
    "vorgestern", "seit Montag", "diese Woche", "this month", "seit 1.12."), for what
    counts from a day on rather than back from now (see bot.cli.common.lookback); None for
    any other period ("7d", "letzte Woche"). NoSuchDay for a date that is none."""
    day = date_named(typed, today)  # (NoSuchDay for a date to come)
    if day is not None:
        return day
    lowered = [word.casefold().strip(".") for word in plain_period(typed).split()]
    named = " ".join(lowered)
    if named in _TODAY:
        return today
    if named in _YESTERDAY:
        return today - timedelta(days=1)
    if named in _DAY_BEFORE:
        return today - timedelta(days=2)
    since = _days_since(lowered, today)
    if since is None and (len(lowered) == 2 or named in _YEAR_TO_DATE):
        since = _days_this(lowered, today)
    in_words = plain_period(typed).casefold().split()
    if since is None and (month_or_year := _calendar_period(in_words, today)) is not None:
        first, going = month_or_year
        if not (going or _up_to_now(typed)):
            raise EndedPeriod(typed, first)
        return first
    return None if since is None else today - timedelta(days=since)


def _days_this(lowered: list[str], today: date) -> int | None:
    """The whole days of this week, month or year so far that `lowered` names ("diese
    Woche", "this month", "YTD"), or None."""
    if " ".join(lowered) in _YEAR_TO_DATE:
        return (today - date(today.year, 1, 1)).days
    if len(lowered) < 2 or lowered[0] not in _THIS:
        return None
    if any(_more_of_a_period(word) or word in _UNTIL for word in lowered[2:]):
        return None  # "dieses Jahr bis 30.11.", "this year 2025" (found by review)
    if lowered[1] in _WEEK:
        return today.weekday()
    if lowered[1] in _YEAR:
        return (today - date(today.year, 1, 1)).days
    return today.day - 1 if lowered[1] in _MONTH else None


def _a_length_after(lowered: list[str]) -> bool:
    """Whether the words after "seit", "for", "in" (see _SPAN), in lower case with their
    dots, give a length: a whole number and a word ("3 Tagen", "2 weeks"; not "15.
    November"), or a unit after "letzten"/"last" ("the past week"); "in" only after "den
    letzten" ("in 3 Tagen" is to come)."""
    rest = lowered[1:]
    last = False
    while len(rest) > 1 and rest[0] in _LEAD_WORDS:
        last = last or rest[0] in _LAST
        rest = rest[1:]
    if lowered[0] in _SPAN_AFTER_LAST and not last:
        return False
    # ("seit einer Woche", "seit zwei Wochen": found by a staff walk-through)
    counted = rest[:1] and (rest[0] in _ONE or rest[0] in _COUNTED)
    if len(rest) >= 2 and rest[1].rstrip(".").isalpha():
        if counted or (rest[0].isdigit() and len(rest[0]) <= 3):
            return True
    return last and len(rest) >= 1 and rest[0].removesuffix(".") in _SINGULAR


def _days_since(lowered: list[str], today: date) -> int | None:
    """The whole days up to yesterday since the day `lowered` names after "seit" or
    "since" (see _SINCE), or None when it names none."""
    if len(lowered) < 2 or lowered[0] not in _SINCE:
        return None
    named = " ".join(word for word in lowered[1:] if word not in _SINCE_FILLER)
    if named in _WEEKDAYS:
        return (today.weekday() - _WEEKDAYS[named]) % 7 or 7
    if named in _TODAY:
        return 0
    if named in _YESTERDAY:
        return 1
    if named in _DAY_BEFORE:
        return 2
    if named in _WEEK_START:
        return today.weekday()
    if named in _MONTH_START:
        return today.day - 1
    if named in _YEAR_START:
        return (today - date(today.year, 1, 1)).days
    if _JOINING_DASH.search(named) or any(word in _UNTIL for word in named.split()):
        return None  # "vom 1.11. bis 6.11.": since a day, up to another (_calendar_period)
    if (month_or_year := _calendar_period(named.split(), today)) is not None:
        return (today - month_or_year[0]).days  # "seit November", "seit 2025"
    return None


def _half_sign(match: re.Match[str]) -> str:
    return f"{match.group(1) or 0}.5"  # "1½" and "1 ½" as "1.5", "½" as "0.5"


def _halves(words: list[str]) -> list[str]:
    """ "anderthalb Wochen", "one and a half weeks", "a week and a half" as "1.5 Wochen";
    "eine halbe Woche", "half a week" as "0.5 Woche"."""
    lowered = [word.casefold() for word in words]
    if len(words) > 1 and lowered[0] in _ONE_AND_A_HALF:
        return ["1.5", *words[1:]]
    if len(words) > 2 and lowered[0] in _ONE and lowered[1] in _HALF:  # "eine halbe Woche"
        return ["0.5", *words[2:]]
    if len(words) > 2 and lowered[0] == "half" and lowered[1] in ("a", "an"):  # "half a week"
        return ["0.5", *words[2:]]
    if len(words) > 1 and lowered[0] in _HALF:  # "halbe Woche", "half week"
        return ["0.5", *words[1:]]
    whole = "1" if lowered[:1] and lowered[0] in _ONE else words[0] if words else ""
    if not whole.isdigit():
        return words
    if lowered[1:4] == _AND_A_HALF and len(words) > 4:  # "one and a half weeks"
        return [f"{whole}.5", *words[4:]]
    if lowered[2:5] == _AND_A_HALF:  # "a week and a half"
        return [f"{whole}.5", words[1], *words[5:]]
    return words


def a_period_word(word: str) -> bool:
    """Whether `word` (in lower case) may be part of a period as staff type it ("Tage!"
    too)."""
    bare = word.strip(".,;:!?()")
    return (
        _another_period(bare)
        or bare in _PERIOD_WORDS
        or bare in _MONTH_NAMES
        or bare in _SAID_WHOLE
    )


def _more_of_a_period(word: str) -> bool:
    """Whether `word`, after a period, may say more of it: another length, or a month."""
    return _another_period(word) or word.casefold().strip(".,;:!?") in _MONTH_NAMES


def _another_period(word: str) -> bool:
    bare = word.casefold().removesuffix(".")
    return (
        any(character.isdigit() for character in word)
        or bare in _DAY_WORDS
        or any(bare in words for words in _UNIT_WORDS.values() if bare)
    )


def _spelled(text: str) -> str:
    match = _NUMBER_AND_WORD.fullmatch(text)
    if match is None:
        return text.strip()
    typed_number, word = match.groups()
    if word.startswith(".") and not typed_number.isdigit():
        return text.strip()  # "30.11.", "1.5. Wochen": a date, or a slip, no decimal length
    number = Decimal(typed_number.replace(",", "."))
    if word == "M":  # "3M", "6M": months, as in business (and ISO 8601), not minutes
        return _in_whole_units(number * 30, "d")
    word = word.casefold().removesuffix(".")  # "12 Std."
    if word in _DAY_WORDS:
        return _in_whole_units(number * _DAY_WORDS[word], "d")
    for unit, words in _UNIT_WORDS.items():
        if word in words:
            return _in_whole_units(number, unit)
    return text.strip()


def _in_whole_units(number: Decimal, unit: str) -> str:
    """`number` of `unit` as durations spell it: "7d", and a part of one in whole hours,
    rounded up (a summary covers at least what was asked for): 1.5 weeks are "252h"."""
    if number == number.to_integral_value():
        return f"{int(number)}{unit}"
    hours = (number * _UNIT_HOURS[unit]).to_integral_value(rounding=ROUND_CEILING)
    return f"{hours}h"


def _button_period(period: str | None) -> str:
    """`period` as the confirm button carries it: Telegram allows 64 bytes of button data,
    so a long spelling ("0000030d") travels as its seconds."""
    if not period:
        return ""
    if len(period.encode()) <= _BUTTON_PERIOD_BYTES:
        return period
    return f"{max(1, int(parse_duration(period).total_seconds()))}s"  # "604800" would be days


def _alert_steps(record: NewFeedback, flow: FlowDefinition) -> list[Step]:
    """The questions an alert about the feedback shows. Answers collected for another
    optional purpose (a quote for a case study, say) serve that purpose alone, as in
    summaries and exports; those collected for being contacted, with that consent, are
    what staff answer (found by review)."""
    given = set(record.purposes)
    shown = {s.id for s in flow.evaluated_steps} | {
        step
        for purpose in flow.purposes
        if purpose.stores_contact and purpose.id in given
        for step in flow.collected_for(purpose.id)
    }
    return [step for step in flow.steps if step.id in shown]


def _exported(
    flow: FlowDefinition,
) -> list[TextStep | RatingStep | ChoiceStep | MultipleChoiceStep]:
    """The questions an export has a column for: those whose answers serve the flow's
    required purposes, as in summaries. An answer collected for an optional purpose (the
    issue to follow up on) is used for that purpose alone, not analysed."""
    return [
        step
        for step in flow.evaluated_steps
        if isinstance(step, TextStep | RatingStep | ChoiceStep | MultipleChoiceStep)
    ]


def _newest(comments: list[tuple[datetime, Comment]]) -> list[tuple[datetime, Comment]]:
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
    controller: str = ""
    write_to: str = ""
    """Whom a customer answered by staff writes to (see flows.answers): the customer
    service's contact where one is set, else the controller's."""
    default_locale: str = "de"
    retention: timedelta | None = None
    """FEEDBACKBOT_RETENTION, which a survey's purposes may shorten: a summary whose days
    reach back past it says that feedback is deleted then (None: it does not)."""
    audit_retention: timedelta | None = None
    """FEEDBACKBOT_AUDIT_RETENTION: how long the audit trail keeps each entry, told with
    the rules (None: not told, where no staff member is asked to confirm them)."""


ALERT_LATE = timedelta(hours=1)
"""An alert posted this long after its feedback was given says when that was."""
ALERT_COMMENT = MAX_TEXT_STEP_LENGTH
"""The most of a comment an alert quotes, redacted ("…" after): its line then fits in one
message. Placeholders can make a comment longer than it was written ("a@b.de," is
"[E-Mail],"), and such a line was cut where no space was, so that the customer's words
after the cut, the alert's own last line copied, stood alone as a message of the bot's
(found by a hostile customer's review; the export has the comment whole)."""
DELETE_BY = "delete_by"
"""The export's last column: the date its row's feedback is deleted here."""


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
        self._rules_asked: dict[str, datetime] = {}
        """Whom the rules were shown to, and when (see typed_at_rules)."""
        self._rules_confirmed: dict[str, datetime] = {}
        """Who just confirmed the rules, and when (see typed_at_rules)."""
        self.answers = AnswerDesk(
            store,
            catalog,
            AnswerSettings(
                controller=settings.controller,
                write_to=settings.write_to,
                default_locale=settings.default_locale,
                timezone=settings.timezone,
            ),
            clock,
            lambda actor, locale: self.rules_gate(actor, locale, None, then=ANSWER_AGAIN),
        )

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

    async def rules_gate(
        self, actor: str, locale: str, period: str | None, then: str | None = None
    ) -> Outcome | None:
        """The rules and a confirm button, unless `actor` confirmed the current version.

        The button carries the `period` asked for (already checked), so confirming shows
        the summary that was asked for; or `then` (ANSWER_AGAIN: an answer to a customer,
        which is too long for the button, is asked for again).
        """
        last = await self.store.last_audit(RULES_EVENT, actor)
        version = self.rules_version()
        if last is not None and last.detail == version:
            return None
        t = translator(locale)
        parts = [self.rules_text(locale), t.gettext("Please confirm these rules once to continue.")]
        if self.settings.audit_retention is not None:
            # What is kept about the staff member, and how long, said when it starts (Art.
            # 13 GDPR; found by a DPO's review: said only by /mydata, years later). Not part
            # of the rules: an operator's own rules have it too, and nobody confirms again.
            parts[1:1] = [self._trail_note(t, self.settings.audit_retention)]
        if last is not None:  # confirmed before, other rules (found by an upgrade review:
            # asked to confirm "once" again, with no word of why)
            parts[1:1] = [t.gettext("The rules have changed. Please read them again.")]
        text = "\n\n".join(parts)
        now = self.clock()
        for stale in [a for a, at in self._rules_asked.items() if now - at > RULES_ASKED_FOR]:
            del self._rules_asked[stale]
        self._rules_asked[actor] = now
        carried = then if then is not None else _button_period(period)
        button = Button(t.gettext("I confirm"), f"sr:{version}:{carried}")
        return Outcome(replies=(Reply(text, ((button,),)),))

    @staticmethod
    def _trail_note(t: Translator, kept: timedelta) -> str:
        return t.gettext(
            "The audit trail keeps each use of the staff commands (what, when and how many "
            "records) with your Telegram user ID, encrypted, as proof of how feedback was "
            "handled; each entry is deleted {period} after it was made. /mydata shows you "
            "yours."
        ).format(period=t.duration(kept))

    def typed_at_rules(self, actor: str, locale: str, text: str) -> Outcome | None:
        """A text typed within RULES_ASKED_FOR of the rules shown, unconfirmed: pointed to
        their button (found by a customer walk-through: "7d" typed under them was told
        "Your feedback has been received; no question is open"); a confirmation typed
        within that time after confirming ("1", "I confirm": found by a staff walk-through,
        told to agree to the customers' consent request) told it is done. None otherwise."""
        t = translator(locale)
        now = self.clock()
        asked = self._rules_asked.get(actor)
        if asked is None or now - asked > RULES_ASKED_FOR:
            confirmed = self._rules_confirmed.get(actor)
            if confirmed is None or now - confirmed > RULES_ASKED_FOR or not _confirms(text):
                return None
            return Outcome.say(
                t.gettext(
                    "You have confirmed the rules already; nothing more is needed. To see a "
                    "summary, send /summary 7d (or another period)."
                )
            )
        return Outcome.say(
            t.gettext(
                "I did not store this message. To continue, please tap “{confirm}” under the "
                "rules above."
            ).format(confirm=t.gettext("I confirm"))
        )

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
        last = await self.store.last_audit(RULES_EVENT, actor)
        if last is not None and last.detail == version:
            # A second press (a double tap, or the button again after a restart): the
            # summary was sent once, and the trail holds one confirmation, not two of the
            # confirmation and the summary each (found by a staff walk-through).
            # The keyboard stays: pressed under a colleague's rules in the staff chat, it
            # is theirs to confirm (found by a re-check: it was gone for them).
            return Outcome(toast=t.gettext("You have already confirmed the rules."))
        await self.store.record_audit(
            AuditEntry(event=RULES_EVENT, at=self.clock(), actor=actor, detail=version)
        )
        self._rules_asked.pop(actor, None)
        now = self.clock()
        for stale in [a for a, at in self._rules_confirmed.items() if now - at > RULES_ASKED_FOR]:
            del self._rules_confirmed[stale]
        self._rules_confirmed[actor] = now
        log.info("staff rules confirmed")
        notes = (t.gettext("Thank you, the rules are confirmed."),)
        if period == ANSWER_AGAIN:
            again = t.gettext("Please send your answer to the customer again.")
            return Outcome(replies=(Reply("\n\n".join((*notes, again))),), close_keyboard=True)
        # Buttons from before the period carried its unit held bare seconds ("2592000").
        carried = f"{period}s" if period.isdigit() else period
        summary = await self.summary(actor, locale, carried or None)
        return replace(summary, replies=headed(notes, summary.replies), close_keyboard=True)

    def staff_chat_only(self, locale: str) -> Outcome:
        t = translator(locale)
        return Outcome.say(
            t.gettext(
                "In the staff chat I answer /summary and /reply only; everything else works "
                "in a private chat with me."
            )
        )

    def edited_command(self, locale: str) -> Outcome:
        """A command a member of staff edited in the staff chat (see bot.handlers.staff)."""
        t = translator(locale)
        return Outcome.say(t.gettext("An edited command is not carried out: please send it again."))

    def not_the_staff_chat(self, locale: str, chat_id: int) -> Outcome:
        """A member of staff's command in a group that is not the staff chat (perhaps the
        supergroup the staff chat became, with a new id): what makes it the staff chat."""
        t = translator(locale)
        return Outcome.say(
            t.gettext(
                "This group is not the staff chat, so I do not answer staff commands here; "
                "they work in a private chat with me. To make this group the "
                "staff chat, whoever runs me sets FEEDBACKBOT_STAFF_CHAT_ID={chat_id} and "
                "restarts me."
            ).format(chat_id=chat_id)
        )

    def not_on_the_staff_list(self, locale: str) -> Outcome:
        """A staff command in the staff chat from a member not on the staff list: its menu
        shows them the commands, and the customers' "feedback only in private" sent them
        to a private chat that does not know them either (found by a staff walk-through)."""
        t = translator(locale)
        return Outcome.say(
            t.gettext(
                "/summary and /reply are for the members of staff the bot is set up with "
                "(FEEDBACKBOT_STAFF_IDS), and you are not among them: whoever runs me can add "
                "your Telegram user id there and restart me."
            )
        )

    def anonymous_in_staff_chat(self, locale: str) -> Outcome:
        """A command in the staff chat from an admin writing as the group: no one to tell
        staff from anyone else by."""
        t = translator(locale)
        return Outcome.say(
            t.gettext(
                "You are writing anonymously, as the group, so I cannot tell whether you are "
                "staff. Turn off “Remain anonymous” in your admin rights, or write to me in a "
                "private chat."
            )
        )

    async def summary(
        self,
        actor: str,
        locale: str,
        period: str | None,
        event: str = "summary",
        rules: bool = True,
        audited: bool = True,
        at: datetime | None = None,
    ) -> Outcome:
        """/zusammenfassung [period]: figures of the period against the one before, and a
        chart. A member of staff confirms the rules first; the operator at the command line
        (`rules` False), who holds the master key, does not. Not `audited`: made to compare
        with one made before, and not shown; `at`: of the days as they were then, from the
        data as it is now (both for bot.app's kept digest)."""
        t = translator(locale)
        typed = period
        today = (at or self.clock()).date()
        try:
            try:
                period, length = _period_typed(period, today)
            except InvalidDuration as error:
                rest, survey = period_and_survey(period or "", self.catalog)
                if type(error) is not InvalidDuration or survey is None:
                    raise
                period, length = _period_typed(rest, today)  # ("product" alone: the default)
        except NotPositive:
            length = timedelta(0)
        except BegunToday:
            # Not "today" to whoever asked for this week on a Monday (found by a staff
            # walk-through)
            return Outcome.say(
                t.gettext(
                    "Summaries count only whole days that are over, and this period began "
                    "today, so none of its days is over yet. For yesterday type /summary 1d, "
                    "for the last week 7d."
                )
            )
        except NoWholeDay:
            return Outcome.say(
                t.gettext(
                    "Summaries count only whole days that are over, so today has no figures "
                    "of its own yet. For yesterday type /summary 1d, for the last week 7d."
                )
            )
        except DayBefore:
            return Outcome.say(t.gettext(DAY_BEFORE_NOTE))
        except EndedPeriod as ended:  # "November" in December, "2025", "KW 47", "Q3"
            return Outcome.say(
                t.gettext(
                    "Summaries count up to yesterday, so a period that ended before it cannot "
                    "be counted on its own. To count from its first day up to yesterday, type "
                    "/summary {date}."
                ).format(date=date_typed(ended.first, today, t.locale))
            )
        except EndsBeforeItBegins:  # "6.-1.12."
            return Outcome.say(
                t.gettext(
                    "That period ends before it begins: write its first day first, for "
                    "example /summary {first} to {last}."
                ).format(
                    first=example_date(today, t.locale),
                    last=date_typed(today - timedelta(days=1), today, t.locale),
                )
            )
        except DayToCome:  # "24.12.2026" on 6 December
            return Outcome.say(
                t.gettext(
                    "That date is no day before today. A summary counts from a day that is "
                    "over, for example /summary {date} or /summary since Monday."
                ).format(date=example_date(today, t.locale))
            )
        except NoSuchDay:  # "31.2.", "32.1.", "KW 54"
            return Outcome.say(
                t.gettext(
                    "There is no such day in the calendar. A summary counts from a day that "
                    "is over, for example /summary {date} or /summary since Monday."
                ).format(date=example_date(today, t.locale))
            )
        except InvalidDuration:
            length = None
        if length is not None and length < SHORTEST_PERIOD:  # "0d" too (not understood)
            return Outcome.say(
                t.gettext(
                    "Summaries count whole days: give a period of at least one day, for "
                    "example /summary 1d, 7d or 30d (3M is three months)."
                )
            )
        if length is None:
            return Outcome.say(
                t.gettext(
                    "I do not understand that period. Try for example /summary 7d, /summary "
                    "since Monday or /summary {date} (counted from that day on)."
                ).format(date=example_date(today, t.locale))
            )
        if length > MAX_PERIOD:
            return Outcome.say(
                t.gettext("That period is too long: at most {days} days.").format(
                    days=t.number(MAX_PERIOD.days)
                )
            )
        if event == "summary" and rules:
            gate = await self.rules_gate(actor, locale, period)
            if gate is not None:
                return gate
        now = at or self.clock()
        since = now - length
        windows = await self.windows(length, now)
        if windows is None:
            current = previous = figures_of(Tally(), self.catalog, t)
            left_out: list[tuple[date, date]] = []
            previous_left_out: list[tuple[date, date]] = []
        else:
            current, left_out = await self._figures(
                windows, windows.start, windows.end, t, latest=True
            )
            previous, previous_left_out = await self._figures(
                windows, windows.previous, windows.start, t, latest=False
            )
        k = self.settings.min_group_size
        text = render(
            t,
            since,
            now,
            current,
            previous,
            k,
            counted=None if windows is None else (windows.start, windows.end),
            released=windows is not None,
            left_out=left_out,
            previous_left_out=previous_left_out,
            compared=None if windows is None else (windows.previous, windows.start),
            # Days left out of either period would make a change in per cent a fall or a
            # rise nobody caused (found by a staff walk-through: one erasure, "-40 %").
            comparable=windows is None
            or (
                windows.start - windows.previous == windows.end - windows.start
                and not previous_left_out
                and not left_out
            ),
            deleted=None if windows is None else self._deleted(windows, now),
        )
        survey = survey_named(typed, self.catalog) if typed else None
        if survey is not None:
            # Found by a staff walk-through: "/summary 30d product" answered with every
            # survey's figures, the word let go without a word.
            text = "\n\n".join(
                (
                    t.gettext(
                        "A summary counts all surveys together; it cannot be limited to “{title}”."
                    ).format(title=render_text(survey.title, t)),
                    text,
                )
            )
        let_go = words_let_go(period_and_survey(typed, self.catalog)[0], today) if typed else []
        if survey is not None:  # ("30d Product feedback": "feedback" is of its title too)
            let_go = [word for word in let_go if not _of_the_title(word, survey)]
        if let_go:
            # "/summary 7d irgendwas", "7d Service": let go without a word, read as a
            # summary of what was asked (found by a staff walk-through; the command line
            # refuses them)
            said = t.gettext("“{words}” is no part of a period, so I left it out.")
            text = f"{said.format(words=' '.join(let_go)[:40])}\n\n{text}"
        if audited:
            await self._audit(event, actor, period or "7d", current.feedbacks)
        replies = [Reply(text)]
        if windows is not None and current.people >= k and current.per_day:
            chart = current.chart_survey
            # Its bars average every 1–5 question shown of one survey: say so where there
            # are several (a bar of 3.9 from two questions belongs to neither), and which
            # survey where several have figures.
            together = sum(
                r.scale_max == 5 and r.answers >= k
                for key, r in current.ratings.items()
                if key[0] == chart
            )
            png = await asyncio.to_thread(
                ratings_chart,
                t,
                current.per_day,
                min(since, windows.start).date(),
                (windows.end - _TICK).date(),
                k,
                together=together > 1,
            )
            replies.append(
                Reply("", image=Document("ratings.png", png, _chart_caption(t, current, together)))
            )
        return Outcome(replies=tuple(replies))

    def _deleted(self, windows: Windows, now: datetime) -> Deleted | None:
        """What of the days a summary up to `now` counts and compares with may have lost
        feedback to the retention: those of their groups of days in which people gave
        feedback that began before it; None if there are none (or the retention is not
        known). Told from the release points (their times, and whether their group had
        anyone), not from the feedback stored now: it tells no one's day of giving it."""
        default = self.settings.retention
        if default is None or not self.catalog.flows:
            return None
        retentions = {flow.retention(default) for flow in self.catalog.flows.values()}
        shortest = min(retentions)
        since = now - shortest
        reaching = [
            closing.at
            for opening, closing in zip(windows.points, windows.points[1:], strict=False)
            if closing.people and opening.at < since
        ]
        counted = any(windows.start < at for at in reaching)
        compared = any(at <= windows.start for at in reaching)
        if not (counted or compared):
            return None
        return Deleted(shortest, since, counted, compared, uneven=len(retentions) > 1)

    async def windows(self, length: timedelta, at: datetime | None = None) -> Windows | None:
        """What a summary over `length` up to now counts; None while nothing is released.

        A summary that counted feedback up to the moment it was asked for would give away
        one person's answers: asked for just before and just after someone finishes, the
        two differ by exactly that feedback (the same at the start: "7d" against a period
        a minute shorter; and the chart's bar of a day). So summaries count whole UTC
        days, in groups in which at least k people gave feedback, released as they fill
        up (`release_points`): a period starts at the point before its first moment, so
        it covers at least what was asked for, and ends at the newest point. Any two
        summaries differ by whole groups or not at all; a group that has lost or gained
        feedback since is left out whole (`whole_groups`).

        These are the groups of all surveys together (EVERY_SURVEY): what the summary
        counts of everyone, and its days. The figures of a survey's questions count the
        survey's own groups within those days (`_figures`). `at`: up to then, not now.
        """
        now = at or self.clock()
        newest = (await self._release(now)).get(EVERY_SURVEY)
        if newest is None or not await self._released(EVERY_SURVEY, newest):
            return None
        start = await self._point_before(now - length)
        # As many days before as the summary counts (it counts whole groups of days, so
        # often more than asked for): a week against a week, not three days against one.
        previous = await self._point_before(start - (newest.at - start))
        points = await self.store.releases(EVERY_SURVEY, previous, newest.at)
        return Windows(previous=previous, start=start, end=newest.at, points=tuple(points))

    async def _released(self, flow: str, newest: Release) -> bool:
        """Whether any group of days was released (the newest point may be an opening
        one, or mark days without feedback, see `_release`)."""
        if newest.people:
            return True
        first = await self.store.first_release(flow)
        assert first is not None  # there is a newest one
        return any(point.people for point in await self.store.releases(flow, first, newest.at))

    async def _point_before(self, moment: datetime) -> datetime:
        """The release point at or before `moment`, or the first one if none is."""
        point = await self.store.last_release(EVERY_SURVEY, moment)
        point = point or await self.store.first_release(EVERY_SURVEY)
        if point is None:  # only ever asked once a point exists
            raise RuntimeError("no release point")
        return point

    async def _release(self, now: datetime) -> dict[str, Release]:
        """Add the release points that the days over since each series' newest allow (of
        each survey, and of all together: EVERY_SURVEY), counted from the summary cache,
        which keeps them for the summaries; each series' newest point up to today then
        (a clock set back ignores points after it), if it has one.

        Days without any feedback to a survey after its newest point move it on to
        today's midnight (a point of no one): a survey nobody answers must not make every
        summary read every day since its last group (and the days a summary counts do
        not depend on whether it came before or after another that day)."""
        until = _midnight(now)
        series = [*self.catalog.flows, EVERY_SURVEY]
        async with self._releasing:
            last = {flow: await self.store.last_release(flow) for flow in series}
            behind = {flow: at for flow, at in last.items() if at is None or at < until}
            if behind:
                oldest = _midnight(now - RELEASE_MEMORY)
                since = min(oldest if at is None else at for at in behind.values())
                counted = await self._read(since, until, now)
                for flow, after in behind.items():
                    days = [
                        (day, _added(list(tallies.values())))
                        if flow == EVERY_SURVEY
                        else (day, tallies.get(flow) or Tally())
                        for day, tallies in counted.days
                        if after is None or day.start >= after
                    ]
                    points = release_points(
                        days,
                        self.settings.min_group_size,
                        self.store.pseudonym,
                        opening=until if after is None else None,
                        flow=flow,
                    )
                    tail = points[-1].at if points else after
                    if (
                        tail is not None
                        and tail < until
                        and not any(tally.feedbacks for day, tally in days if day.start >= tail)
                    ):
                        points.append(Release(flow=flow, at=until))  # nobody since: move on
                    try:
                        if points:
                            await self.store.add_releases(flow, points, after=after)
                    except StorageFull:
                        log.warning("release_points_not_saved")
            newest = {}
            for flow in series:
                at = await self.store.last_release(flow, until)  # added, or by another
                if at is not None:
                    newest[flow] = (await self.store.releases(flow, at, at))[-1]
            return newest

    async def _read(self, since: datetime, until: datetime, now: datetime) -> _Counted:
        """The figures of each day in [since, until) (midnights): from the summary cache
        where it has them, the rest counted from the feedback (and cached)."""
        reads = await self.store.summary_segments(segments(since, until, now), self._version, now)
        # Counting words of many comments is CPU work: in a thread, so customers are
        # answered meanwhile.
        counted = await asyncio.to_thread(self._count, reads)
        if counted.fresh:
            try:
                await self.store.save_summary_cache(counted.fresh, self._version, self.clock())
            except StorageFull:
                log.warning("summary_cache_not_saved")
        return counted

    async def _figures(
        self, windows: Windows, since: datetime, until: datetime, t: Translator, latest: bool
    ) -> tuple[Figures, list[tuple[date, date]]]:
        """The figures of the groups of days in [since, until) that are still whole, and
        the first and last days of the groups left out: of all surveys together (feedbacks, people,
        comments), and of each survey's questions its own groups within those days.

        Per survey, as a survey's groups close when k people gave feedback to it: with
        two surveys, a group of k people in all would mostly hold fewer than k answers
        to either, and each survey's questions would be left out of it (found by a
        staff-side audit). Within the days of all together, and with no days of its own
        shown: a comment's day outside a survey's days would tell the survey it answers.

        The chart has a bar per group of one survey (on its last day) of the questions
        the text shows: bars per day, or of questions hidden for fewer than k answers,
        would let the totals give away the rest."""
        now = self.clock()
        counted = await self._read(since, until, now)
        k = self.settings.min_group_size
        seal = self.store.pseudonym
        everyone, left_out = whole_groups(EVERY_SURVEY, counted.days, windows.points, k, seal)
        total = Tally()
        for group in everyone:
            total.merge(group.tally)
        own: dict[str, list[Group]] = {}
        for flow in self.catalog.flows:
            points = await self.store.releases(flow, since, until)
            groups, _ = whole_groups(flow, counted.days, points, k, seal, within=(since, until))
            # Not within days the totals leave out (found by a staff walk-through: "Feedbacks:
            # 10" over "Product feedback: 10" and "Customer feedback: 5", the chart's bar on a
            # day said not counted). Only hides more: a survey's group whole on its own.
            own[flow] = [group for group in groups if not _within(group, left_out)]
        answered = Tally()
        for groups in own.values():
            for group in groups:
                answered.merge(group.tally)
        total.ratings, total.raters = answered.ratings, answered.raters
        total.choices, total.choosers = answered.choices, answered.choosers
        shown = {key for key in total.ratings if len(total.raters.get(key, ())) >= k}
        fives = {
            flow: [(group, scale_five(group.tally, self.catalog, shown)) for group in groups]
            for flow, groups in own.items()
        }
        chart = max(
            fives, key=lambda flow: sum(sum(five.values()) for _, five in fives[flow]), default=None
        )
        per_day = {
            (group.closing.at - _TICK).date(): five
            for group, five in (fives[chart] if chart is not None else [])
            if five
        }
        surveys = {
            flow: sum(g.tally.feedbacks for g in groups if len(g.tally.people) >= k)
            for flow, groups in own.items()
            if groups
        }
        days = [day for group in everyone for day in group.days]
        comments = await self._latest_comments(days, counted, now, t) if latest else []
        figures = figures_of(total, self.catalog, t, per_day, comments, surveys)
        figures.chart_survey = chart if per_day else None
        return figures, left_out

    def _count(self, reads: list[SegmentRead]) -> _Counted:
        counted = _Counted()
        for read in reads:
            if read.cached is not None:
                tallies = tallies_from_bytes(read.cached)
            else:
                tallies = {}
                comments = counted.comments.setdefault(read.segment.start, [])
                for record in read.records:
                    comments += [
                        (record.created_at, c) for c in count_by_flow(tallies, record, self.catalog)
                    ]
                expires_at = expiry(tallies)
                if read.segment.bucket is not None and expires_at is not None:
                    counted.fresh.append(
                        CacheEntry(
                            bucket=read.segment.bucket,
                            epoch=read.epoch,
                            expires_at=expires_at,
                            payload=tallies_to_bytes(tallies),
                        )
                    )
            counted.days.append((read.segment, tallies))
        return counted

    async def _latest_comments(
        self, days: list[SummarySegment], counted: _Counted, now: datetime, t: Translator
    ) -> list[tuple[datetime, Comment]]:
        """The newest comments of `days`, redacted: of those counted just now, and of
        cached days (newest first) only as many as can still be among them."""
        found: list[tuple[datetime, Comment]] = []
        for day in days:
            found += counted.comments.get(day.start, [])
        found = _newest(found)
        commented = {
            day.start for day, tallies in counted.days if any(x.commented for x in tallies.values())
        }
        for day in sorted(days, key=lambda day: day.start, reverse=True):
            if day.start in counted.comments or day.start not in commented:
                continue
            if sum(when >= day.end for when, _ in found) >= LATEST_COMMENTS:
                break
            found = _newest(found + await self._comments_in(day, now))
        return await asyncio.to_thread(
            lambda: [(when, c._replace(text=redact(c.text, t))) for when, c in found]
        )

    async def _comments_in(
        self, segment: SummarySegment, now: datetime
    ) -> list[tuple[datetime, Comment]]:
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

    async def digest(
        self,
        locale: str,
        period: timedelta,
        audited: bool = True,
        at: datetime | None = None,
    ) -> Outcome:
        """The scheduled digest for the staff chat: a summary over the digest's period (up
        to `at`, see `summary`)."""
        days = max(1, round(period / timedelta(days=1)))
        return await self.summary(
            "digest", locale, f"{days}d", event="digest", audited=audited, at=at
        )

    def alert(
        self,
        locale: str,
        record: FeedbackRecord,
        posted_at: datetime | None = None,
        reads: str | None = None,
    ) -> Outcome | None:
        """A low rating just came in, or a feedback whose author agreed to be contacted
        about it (so that staff can answer it, see flows.answers): the ratings and the
        redacted comment, no identity. Both only with alerts on (the threshold set).
        `posted_at`: when it is (or was) posted, and so dated if that is late (see
        ALERT_LATE). `reads`: the language the customer is written to in, said where they
        can be answered (found by a staff walk-through: an English customer answered in
        German)."""
        flow = self.catalog.flows.get(record.flow_id)
        if flow is None or not self.raises_alert(record):
            return None
        t = translator(locale)
        steps = _alert_steps(record, flow)
        lows = self._lows(record)
        answer = alert_line(t, record, flow)
        if not lows and answer is None:
            return None
        title = render_text(flow.title, t)
        # Why it is posted, at the top: staff scanning the chat read the heading, not the
        # last line that says the customer may be answered (found by a staff review).
        if lows and answer is not None:
            heading = t.gettext("Agreed to be contacted: low rating in “{flow}”")
        elif lows:
            heading = t.gettext("Low rating in “{flow}”")
        else:
            heading = t.gettext("Agreed to be contacted: feedback in “{flow}”")
        lines = [heading.format(flow=title)]
        if posted_at is not None and posted_at - record.created_at > ALERT_LATE:
            # Held back (Telegram down, the staff chat cut off): when it was given, which
            # the time of the post no longer tells (found by a staff review: last night's
            # complaint read as this morning's).
            when = t.datetime(record.created_at, self.settings.timezone)
            lines.append(t.gettext("Given on {when}; this alert is late.").format(when=when))
        # Every rating and choice, in the survey's order (found by a staff review: a low
        # NPS alert hid the 5 of 5 beside it, and what went wrong, the ticked options
        # staff act on, was left out).
        for step in steps:
            value = record.answers.get(step.id)
            if isinstance(step, RatingStep) and isinstance(value, int):
                lines.append(f"{render_text(step.prompt, t)} → {value} / {step.max}")
            elif isinstance(step, ChoiceStep | MultipleChoiceStep) and value:
                chosen = value if isinstance(value, list) else [value]
                shown = [render_text(o.label, t) for o in step.options if o.id in chosen]
                if shown:
                    lines.append(f"{render_text(step.prompt, t)} → {', '.join(shown)}")
        for text_step in steps:
            comment = record.answers.get(text_step.id)
            if isinstance(text_step, TextStep) and isinstance(comment, str) and comment:
                quoted = shortened(one_line(redact(comment, t)), ALERT_COMMENT)
                lines.append(t.gettext("Comment: {comment}").format(comment=quoted))
        if answer is not None:
            lines.append("")
            if reads is not None:
                language = t.language(reads)
                said = t.gettext("The customer reads {language}: please answer in it.")
                lines.append(said.format(language=language))
            lines.append(answer)
        return Outcome.say("\n".join(lines))

    def raises_alert(self, record: NewFeedback) -> bool:
        """Whether `alert` posts one for the feedback, without writing it (a new feedback
        is noted as due with it, see bot.alerts)."""
        flow = self.catalog.flows.get(record.flow_id)
        if self.settings.alert_threshold is None or flow is None:
            return False
        return bool(self._lows(record)) or answerable(record, flow)

    def _lows(self, record: NewFeedback) -> list[tuple[RatingStep, int]]:
        """The ratings of the feedback at or below the alert threshold (of the questions
        an alert shows)."""
        threshold = self.settings.alert_threshold
        flow = self.catalog.flows.get(record.flow_id)
        if threshold is None or flow is None:
            return []
        return [
            (step, record.answers[step.id])
            for step in _alert_steps(record, flow)
            if isinstance(step, RatingStep)
            and isinstance(record.answers.get(step.id), int)
            and record.answers[step.id] <= threshold
        ]

    async def alerted(self, record: FeedbackRecord, certain: bool = True) -> None:
        """An alert reached the staff chat (or, not `certain`, may have: Telegram did not
        answer in time): one person's feedback shown, so audited. One posted only because
        its author agreed to be contacted is `contact-alert`: it rests on that consent, a
        low rating's on the survey's own purpose, and a DPO asking why a 5 of 5 was posted
        reads which (found by review)."""
        detail = record.flow_id if certain else MAY_HAVE_ARRIVED + record.flow_id
        event = "alert" if self._lows(record) else "contact-alert"
        await self._audit(event, "alert", detail, 1)

    def resting_on(self, record: FeedbackRecord) -> str:
        """The consent an alert about `record` rests on (its withdrawal takes the alert
        back, see bot.retractions): the survey's own for a low rating, else the consent
        to be contacted (see `alerted`)."""
        flow = self.catalog.flows.get(record.flow_id)
        purposes = {p.id: p for p in flow.purposes} if flow is not None else {}
        low = bool(self._lows(record))
        for purpose in record.purposes:
            known = purposes.get(purpose)
            if known is not None and (known.required if low else known.stores_contact):
                return purpose
        return record.purposes[0] if record.purposes else ""

    def export_columns(self) -> list[str]:
        """The columns of an export: the date, the flow, then the answers of every flow in
        its order (one column for a question id that flows share), the same whatever the
        rows hold, so that a spreadsheet built on one export takes the next; last, the
        date the feedback is deleted here (DELETE_BY)."""
        columns = {"date": None, "flow": None}
        for flow in self.catalog.flows.values():
            for step in _exported(flow):
                columns[step.id] = None
        return [*columns, DELETE_BY]

    async def export_rows(self, actor: str, since: timedelta, locale: str) -> list[dict[str, Any]]:
        """Redacted, consented feedback as flat rows for a spreadsheet; audited."""
        t = translator(locale)
        now = self.clock()
        rows: list[dict[str, Any]] = []
        zone = ZoneInfo(self.settings.timezone)
        for record in await self.store.feedback_in_period(now - since, now + _TICK, now):
            flow = self.catalog.flows.get(record.flow_id)
            if flow is None or not in_force(record, self.catalog):
                continue
            given = record.created_at.astimezone(zone)
            row: dict[str, Any] = {"date": given.date().isoformat(), "flow": flow.id}
            for step in _exported(flow):
                # Every question of the flow, null where not asked or skipped; a multiple
                # choice as the list of the option ids ticked.
                value = record.answers.get(step.id)
                if isinstance(step, TextStep):
                    value = redact(value, t) if isinstance(value, str) else None
                row[step.id] = value
            # The day the bot deletes it, by which its copy goes too (found by a DPO's
            # review: nothing in an export said how long its rows may be kept).
            row[DELETE_BY] = record.expires_at.astimezone(zone).date().isoformat()
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
