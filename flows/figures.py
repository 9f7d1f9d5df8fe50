"""Summary figures of a stretch of time, in a form that adds up and can be cached.

A summary over 30 days should not decrypt and count every feedback of the 30 days each
time. So a period is cut into whole UTC days, and towards its ragged ends into whole
hours and ten minutes (`segments`). The figures of such a bucket are kept
in the store's summary cache, encrypted, until anything they count changes (new
feedback in it, consent granted or withdrawn, erasure) or the first feedback they count
expires; only the edges and changed buckets are read from the feedback itself.

What a `Tally` keeps is what the summary shows, no more: counts of feedbacks, ratings,
options chosen and comments, the words of comments with personal data blanked out, and 64-bit hashes
of pseudonyms so that people can be counted across buckets. No text is kept: the
latest comments are read from the feedback when a summary shows them.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from array import array
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from flows.catalog import FlowCatalog
from flows.models import ChoiceStep, MultipleChoiceStep, RatingStep, TextStep
from flows.redaction import PATTERNS, strip_personal
from flows.stopwords import STOP_WORDS
from storage.interface import FeedbackRecord, PeriodFeedback, SummarySegment, bucket_keys

ANSWERED = ""
"""The key in `Tally.choices` counting the answers to a question, not an option."""
NOTHING = "-"
"""The key in `Tally.choices` counting the answers to a multiple choice that ticked none
(no option id: ids are letters, digits and underscores)."""
RATERS_KEPT = 100
"""Raters kept per question and tally; FEEDBACKBOT_MIN_GROUP_SIZE is at most this."""
FORMAT = 7
"""Bumped when what a Tally counts changes (4: options chosen; 5: words once per feedback;
6: multiple choices that ticked none; 7: a tally per survey): cached figures of older
versions go."""
_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
_TEN_MINUTES = timedelta(minutes=10)
_TIERS = (timedelta(days=1), timedelta(hours=1), _TEN_MINUTES)
"""The lengths of the buckets named by storage.interface.bucket_keys, longest first."""


def needed_consents(record: FeedbackRecord, catalog: FlowCatalog) -> set[str]:
    """The required purposes a feedback was given under: those of its flow's that it
    names. A purpose made required since is not one it was given under, and where it
    names none of them (its flow gone, or the purpose renamed), the first it names,
    which was its flow's first required one then (found by review: a required purpose
    renamed or added left every feedback given before "no longer evaluated", out of
    the summaries, its consent in force)."""
    flow = catalog.flows.get(record.flow_id)
    given = set(record.purposes)
    needed = {p.id for p in flow.required_purposes if p.id in given} if flow else set()
    return needed or set(record.purposes[:1])


def on_scale(record: FeedbackRecord, step: RatingStep) -> bool:
    """Whether the record's rating for `step` was given on the scale it has now (or is
    from before scales were kept): a 5 of 5 is no 5 of 10 (found by review: six people
    who all gave 5 of 5 became an NPS of -100 once the scale was changed)."""
    scale = record.scales.get(step.id)
    return scale is None or scale == [step.min, step.max]


def in_force(record: PeriodFeedback, catalog: FlowCatalog) -> bool:
    """Whether the consents the record's flow requires are all still in force."""
    return needed_consents(record, catalog) <= record.consents_in_force


class Comment(NamedTuple):
    """A free-text answer and the question it answers."""

    question: tuple[str, str]
    """(flow id, step id)"""
    text: str


def comments_of(record: PeriodFeedback, catalog: FlowCatalog) -> list[Comment]:
    """The free-text answers the record gave (not empty) for its flow's required purposes,
    in the order of the flow."""
    flow = catalog.flows.get(record.flow_id)
    if flow is None:
        return []
    return [
        Comment((flow.id, step.id), value)
        for step in flow.evaluated_steps
        if isinstance(step, TextStep)
        and isinstance(value := record.answers.get(step.id), str)
        and value.strip()
    ]


def count_words(texts: list[str]) -> Counter[str]:
    """Meaningful words (German and English stop words removed, lower case) of one
    feedback's texts, each counted once, after e-mail addresses, phone numbers and the
    like are blanked out: "lieferung (12)" is twelve feedbacks that speak of delivery,
    not one long comment that says it twelve times."""
    return Counter(
        {
            word
            for text in texts
            for word in (w.lower() for w in _WORD.findall(strip_personal(text)))
            if word not in STOP_WORDS
        }
    )


def person_id(pseudonym: str) -> int:
    """A 64-bit hash of a pseudonym: enough to count people, useless to look anyone up."""
    return int.from_bytes(hashlib.blake2b(pseudonym.encode(), digest_size=8).digest(), "little")


@dataclass
class Tally:
    """The figures of some feedbacks: add records one by one, or merge tallies."""

    feedbacks: int = 0
    people: set[int] = field(default_factory=set)
    ratings: dict[tuple[str, str], Counter[int]] = field(default_factory=dict)
    raters: dict[tuple[str, str], set[int]] = field(default_factory=dict)
    """Who answered each rating question (person hashes, as `people`): a question is
    shown only when k people answered it, not k answers of one person. A tally keeps at
    most RATERS_KEPT of them per question: enough to tell "at least k" for any allowed
    k (FEEDBACKBOT_MIN_GROUP_SIZE), also over the union of tallies, at a fraction of
    the cost of all."""
    choices: dict[tuple[str, str], Counter[str]] = field(default_factory=dict)
    """How often each option of a choice question was chosen (a multiple choice counts
    every option ticked); ANSWERED counts the answers themselves, NOTHING those that
    ticked none."""
    choosers: dict[tuple[str, str], set[int]] = field(default_factory=dict)
    """Who answered each choice question, kept as `raters` are."""
    commented: int = 0
    words: Counter[str] = field(default_factory=Counter)
    expires_at: datetime | None = None
    """When the first of the counted feedbacks expires: the figures are stale from then."""
    people_digest: bytes | None = field(default=None, compare=False, repr=False)
    """The digest of `people` as `to_bytes` wrote them (sorted), kept by `from_bytes` so
    that `fingerprint` need not sort them again; None once anything was added."""

    def add(self, record: PeriodFeedback, catalog: FlowCatalog) -> list[Comment]:
        """Count one record (only if its consents are in force); returns its comments."""
        if self.expires_at is None or record.expires_at < self.expires_at:
            self.expires_at = record.expires_at
        if not in_force(record, catalog):
            return []
        self.feedbacks += 1
        self.people.add(person_id(record.pseudonym))
        self.people_digest = None
        flow = catalog.flows.get(record.flow_id)
        if flow is not None:
            for step in flow.evaluated_steps:
                value = record.answers.get(step.id)
                if isinstance(step, RatingStep) and isinstance(value, int):
                    if not on_scale(record, step):
                        continue  # given on another scale (the question changed since)
                    self.ratings.setdefault((flow.id, step.id), Counter())[value] += 1
                    raters = self.raters.setdefault((flow.id, step.id), set())
                    if len(raters) < RATERS_KEPT:
                        raters.add(person_id(record.pseudonym))
                elif (
                    isinstance(step, ChoiceStep | MultipleChoiceStep)
                    and (chosen := _chosen(step, value)) is not None
                ):
                    nothing = [NOTHING] if value == [] else []  # not: only options gone
                    self.choices.setdefault((flow.id, step.id), Counter()).update(
                        [ANSWERED, *chosen, *nothing]
                    )
                    choosers = self.choosers.setdefault((flow.id, step.id), set())
                    if len(choosers) < RATERS_KEPT:
                        choosers.add(person_id(record.pseudonym))
        comments = comments_of(record, catalog)
        if comments:
            self.commented += 1
            self.words.update(count_words([comment.text for comment in comments]))
        return comments

    def merge(self, other: Tally) -> None:
        self.feedbacks += other.feedbacks
        self.people |= other.people
        self.people_digest = None
        for key, counts in other.ratings.items():
            self.ratings.setdefault(key, Counter()).update(counts)
        for key, raters in other.raters.items():
            self.raters.setdefault(key, set()).update(raters)
        for key, chosen in other.choices.items():
            self.choices.setdefault(key, Counter()).update(chosen)
        for key, choosers in other.choosers.items():
            self.choosers.setdefault(key, set()).update(choosers)
        self.commented += other.commented
        self.words.update(other.words)
        if other.expires_at is not None and (
            self.expires_at is None or other.expires_at < self.expires_at
        ):
            self.expires_at = other.expires_at

    def fingerprint(self) -> str:
        """A digest of whom and what the tally counts, the same however it was added up.

        Not of the words: they follow the stop words and redaction of the version that
        counted them, and an upgrade changing those must not make every released group
        look changed (flows.staff.whole_groups would hide them all for good). Nor of the
        options chosen, counted since version 4 of the figures, for the same reason: a
        feedback's answers never change while it is counted, so the feedbacks and people
        counted tell a change of them as well."""
        canonical = json.dumps(
            [
                self.feedbacks,
                len(self.people),
                (self.people_digest or _people_digest(self.people)).hex(),
                sorted(
                    [flow, step, sorted(counts.items())]
                    for (flow, step), counts in self.ratings.items()
                ),
                self.commented,
            ],
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode()).hexdigest()

    def to_bytes(self) -> bytes:
        ordered = sorted(self.people)
        position = {person: i for i, person in enumerate(ordered)}
        head = json.dumps(
            {
                "feedbacks": self.feedbacks,
                "ratings": [
                    [flow, step, {str(v): n for v, n in counts.items()}]
                    for (flow, step), counts in self.ratings.items()
                ],
                # Raters as positions in the people that follow the head.
                "raters": [
                    [flow, step, sorted(position[r] for r in raters)[:RATERS_KEPT]]
                    for (flow, step), raters in self.raters.items()
                ],
                "choices": [
                    [flow, step, dict(counts)] for (flow, step), counts in self.choices.items()
                ],
                "choosers": [
                    [flow, step, sorted(position[c] for c in choosers)[:RATERS_KEPT]]
                    for (flow, step), choosers in self.choosers.items()
                ],
                "commented": self.commented,
                "words": dict(self.words),
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        people = array("Q", ordered)
        if sys.byteorder == "big":
            people.byteswap()
        return len(head).to_bytes(4, "little") + head + people.tobytes()

    @classmethod
    def from_bytes(cls, payload: bytes, people: set[int] | None = None) -> Tally:
        """The tally saved by `to_bytes`; its people are added to `people` when given (the
        cheap way to count people over many tallies) and then left out of the result."""
        size = int.from_bytes(payload[:4], "little")
        tally = cls._from_bytes(payload, people)
        if people is None:  # the people as saved, sorted: their digest for `fingerprint`
            tally.people_digest = hashlib.sha256(payload[4 + size :]).digest()
        return tally

    @classmethod
    def _from_bytes(cls, payload: bytes, people: set[int] | None) -> Tally:
        size = int.from_bytes(payload[:4], "little")
        head = json.loads(payload[4 : 4 + size])
        hashes = array("Q")
        hashes.frombytes(payload[4 + size :])
        if sys.byteorder == "big":
            hashes.byteswap()
        if people is not None:
            people.update(hashes)
        return cls(
            feedbacks=head["feedbacks"],
            people=set(hashes) if people is None else set(),
            ratings={
                (flow, step): Counter({int(v): n for v, n in counts.items()})
                for flow, step, counts in head["ratings"]
            },
            raters={
                (flow, step): {hashes[i] for i in positions}
                for flow, step, positions in head["raters"]
            },
            choices={(flow, step): Counter(counts) for flow, step, counts in head["choices"]},
            choosers={
                (flow, step): {hashes[i] for i in positions}
                for flow, step, positions in head["choosers"]
            },
            commented=head["commented"],
            words=Counter(head["words"]),
        )


FlowTallies = dict[str, Tally]
"""The figures of some feedbacks per survey (flow id): each survey's groups of days are
released on their own (see flows.staff.release_points)."""


def count_by_flow(
    tallies: FlowTallies, record: PeriodFeedback, catalog: FlowCatalog
) -> list[Comment]:
    """Count one record in its survey's tally (see `Tally.add`); returns its comments."""
    return tallies.setdefault(record.flow_id, Tally()).add(record, catalog)


def tallies_to_bytes(tallies: FlowTallies) -> bytes:
    """Tallies per survey as one payload of the summary cache (see `tallies_from_bytes`)."""
    parts = [(flow, tally.to_bytes()) for flow, tally in sorted(tallies.items())]
    head = json.dumps([[flow, len(part)] for flow, part in parts]).encode()
    return len(head).to_bytes(4, "little") + head + b"".join(part for _, part in parts)


def tallies_from_bytes(payload: bytes) -> FlowTallies:
    size = int.from_bytes(payload[:4], "little")
    tallies = {}
    offset = 4 + size
    for flow, length in json.loads(payload[4:offset]):
        tallies[flow] = Tally.from_bytes(payload[offset : offset + length])
        offset += length
    return tallies


def expiry(tallies: FlowTallies) -> datetime | None:
    """When the first feedback any of the tallies counts expires."""
    found = [tally.expires_at for tally in tallies.values() if tally.expires_at is not None]
    return min(found, default=None)


def _chosen(step: ChoiceStep | MultipleChoiceStep, value: object) -> list[str] | None:
    """The options of the question an answer chose (each once), or None if it is no
    answer to it. Options the question no longer offers are not counted."""
    offered = {option.id for option in step.options}
    if isinstance(step, ChoiceStep):
        return [value] if isinstance(value, str) and value in offered else None
    if not isinstance(value, list):
        return None
    return [option for option in dict.fromkeys(value) if option in offered]


def _people_digest(people: set[int]) -> bytes:
    """The digest of person hashes as `Tally.to_bytes` writes them."""
    ordered = array("Q", sorted(people))
    if sys.byteorder == "big":
        ordered.byteswap()
    return hashlib.sha256(ordered.tobytes()).digest()


def segments(since: datetime, until: datetime, now: datetime) -> list[SummarySegment]:
    """[since, until) cut into whole UTC days, then whole hours and ten minutes towards its
    edges, and the partial ten minutes at either end (read from the feedback each time).

    Only stretches that are over by `now` become buckets (cacheable); every segment lies
    within one UTC day, so figures per day can be told from the segments.
    """
    start, end, cut = since.astimezone(UTC), until.astimezone(UTC), min(until, now)
    result: list[SummarySegment] = []
    moment = start
    while moment < end:
        names = bucket_keys(moment)
        for length, name in zip(_TIERS, names, strict=True):
            if _floor(moment, length) == moment and moment + length <= cut:
                result.append(SummarySegment(start=moment, end=moment + length, bucket=name))
                break
        else:
            next_edge = _floor(moment, _TEN_MINUTES) + _TEN_MINUTES
            result.append(SummarySegment(start=moment, end=min(next_edge, end)))
        moment = result[-1].end
    return result


def _floor(moment: datetime, length: timedelta) -> datetime:
    """The start of the UTC day, hour or ten minutes `moment` is in."""
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight + ((moment - midnight) // length) * length


def cache_version(catalog: FlowCatalog) -> str:
    """A fingerprint of everything cached figures depend on besides the feedback: the
    flows' required purposes, rating, choice and text questions, the stop words, the redaction
    patterns and FORMAT. Figures saved under another fingerprint are not used."""
    flows = {
        flow.id: {
            "required": sorted(p.id for p in flow.required_purposes),
            "ratings": [
                [s.id, s.min, s.max] for s in flow.evaluated_steps if isinstance(s, RatingStep)
            ],
            "choices": [
                [s.id, [o.id for o in s.options]]
                for s in flow.evaluated_steps
                if isinstance(s, ChoiceStep | MultipleChoiceStep)
            ],
            "texts": [s.id for s in flow.evaluated_steps if isinstance(s, TextStep)],
        }
        for flow in catalog.flows.values()
    }
    material = json.dumps(
        [FORMAT, flows, sorted(STOP_WORDS), [p.pattern for p in PATTERNS]], sort_keys=True
    )
    return hashlib.sha256(material.encode()).hexdigest()[:16]
