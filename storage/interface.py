"""The store API every storage backend implements, and the records it takes and returns.

Everything personal that crosses this interface in clear (answers, draft payloads,
consent details, chat ids) is encrypted by the backend before it is written. The
callers only ever see pseudonyms, never raw Telegram ids.
"""

from __future__ import annotations

import abc
import enum
import hashlib
import sqlite3
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

RELEASE_MEMORY = timedelta(days=2 * 3660)
"""How far back staff summaries reach at most (a period and the one before it): release
points older than that are forgotten but for the newest of them."""


ALL_FLOWS = ""
"""The flow of release points that close groups of every survey's feedback together."""

UPKEEP_WITHDRAWN_LEFTOVERS = "withdrawn_leftovers"
"""The one-off task (`Store.upkeep_due`) of erasing feedback whose consent was withdrawn
under a version that kept it (`Store.end_withdrawn_leftovers`)."""


def N_(message: str) -> str:
    """Marks a message for the catalogs: the store speaks no language itself, but what it
    tells an operator (a wrong key, a locked folder) the command line says in theirs."""
    return message


class StoreError(Exception):
    """Base class of everything the store raises on purpose.

    The message is `template` formatted with `params`; a template marked with N_ is also a
    catalog id, for the layers above to translate.
    """

    def __init__(self, template: str = "", **params: object) -> None:
        self.template = template
        self.params = params
        super().__init__(self.said(template))

    def said(
        self,
        template: str,
        reason: Callable[[BaseException], str] = lambda e: getattr(e, "strerror", None) or str(e),
    ) -> str:
        """`template` (the message, or its translation) with the values; one without
        values is used as it is, since a plain message may hold braces (a file name). A
        value that is an OSError says its reason (`reason`, the system's words unless
        the caller translates them)."""
        if not self.params:
            return template
        values = {
            name: reason(value) if isinstance(value, OSError | sqlite3.Error) else value
            for name, value in self.params.items()
        }
        return template.format(**values)


class MasterKeyMismatch(StoreError):
    """The master key does not open the existing key store (wrong or changed key)."""


class StoreOutdated(StoreError):
    """The store was written by an older version, and this opening may not upgrade it."""


class KeyStoreMissing(StoreError):
    """A data store exists but its key store does not: the data cannot be read."""


class DataStoreMissing(StoreError):
    """The key store holds people's keys but the data store is gone or empty: starting
    would purge those keys as unused and make a restored data store unreadable."""


class StorageFull(StoreError):
    """The disk (or the configured size limit) is full; nothing was written."""


class DecryptionFailed(StoreError):
    """A ciphertext failed authentication: tampered, moved to another row, or its key is gone."""


class ConsentMissing(StoreError):
    """A feedback whose consents are not in force (they expired with the person's earlier
    feedback while the conversation ran): nothing of it was written."""


class FeedbackLimitReached(StoreError):
    """The person gave as many feedbacks to the flow within the window of a `FeedbackLimit`
    as it allows: nothing of the new one was written. `given` is how many, `next_at` when
    the next becomes possible (one of them has left the window by then)."""

    def __init__(self, given: int, next_at: datetime) -> None:
        super().__init__("the feedback limit of this flow is reached for now")
        self.given = given
        self.next_at = next_at


class StoreInUse(StoreError):
    """Another process holds the store for writing (a running bot, a key rotation)."""


class StoreNotOpen(StoreError):
    """A method was called before `open()` or after `close()`."""


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ConsentGrant(_Record):
    """Proof of one consent as it was given (Art. 7(1) GDPR)."""

    purpose: str
    notice_version: str
    text_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    method: str
    granted_at: datetime
    required: bool | None = None
    """Whether taking part needed it (a flow's required purpose) or it was asked on its own:
    a withdrawal restricts the feedback or erases what was collected for it. None in
    records from before it was kept."""


class ConsentRecord(ConsentGrant):
    """A consent in the ledger; `withdrawn_at` is set once the person withdrew it,
    `ended_at` once it ended with the feedback it was given for (erased with another
    consent): the person never withdrew that one, and is not told so."""

    id: str
    withdrawn_at: datetime | None = None
    ended_at: datetime | None = None

    @property
    def stopped_at(self) -> datetime | None:
        """When it stopped being in force, withdrawn or ended."""
        return self.withdrawn_at or self.ended_at

    @property
    def in_force(self) -> bool:
        return self.stopped_at is None


class ConsentText(_Record):
    """A consent text a person can be shown, for the archive of consent texts: a consent
    record carries the SHA-256 and notice version of the text it was given to (Art. 7(1)
    GDPR), the archive keeps the wording they stand for. Built from the settings and the
    flow definitions alone; nothing in it is about the people who read it."""

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    flow_id: str
    notice_version: str
    language: str
    kind: Literal["notice", "optional"]
    """The consent notice before a flow's first question, or the question of an optional
    purpose asked during it."""
    purposes: tuple[str, ...]
    """What a consent to this text is for: the flow's required purposes (the notice), or
    the one optional purpose its question asks for."""
    text: str

    @model_validator(mode="after")
    def _hash_of_the_text(self) -> ConsentText:
        if hashlib.sha256(self.text.encode("utf-8")).hexdigest() != self.sha256:
            raise ValueError("sha256 is not the SHA-256 of the text")
        return self


class ArchivedConsentText(ConsentText):
    """A consent text as the archive keeps it."""

    first_seen: datetime
    """When a bot first started showing it (not when anyone consented to it)."""


class NewFeedback(_Record):
    """One completed conversation, ready to be stored."""

    flow_id: str
    answers: dict[str, Any]
    purposes: list[str]
    created_at: datetime
    expires_at: datetime
    collected: dict[str, list[str]] = {}
    """The questions answered for each optional purpose alone (purpose -> question ids):
    withdrawing that consent erases them also when the purpose was renamed or its survey
    retired since. Empty in feedback stored before this was kept."""
    scales: dict[str, list[int]] = {}
    """The scale each rating was given on (question id -> [lowest, highest]): read on it,
    not on the question's scale now, should that have changed. Empty in feedback stored
    before this was kept."""


class FeedbackRecord(NewFeedback):
    id: str


class FeedbackLimit(_Record):
    """At most `most` feedbacks per person and flow in any `window` (rolling): a security
    review found one person, or a script driving one account, submitting a survey without
    end, skewing the averages staff read, flooding alerts and filling the disk. What
    counts is the unexpired feedback the store holds (an erased one no longer does)."""

    most: int = Field(ge=1)
    window: timedelta = timedelta(hours=24)

    def reached(self, given: Collection[tuple[datetime, datetime]]) -> FeedbackLimitReached | None:
        """The refusal for a person who gave `given` (created_at, expires_at of each of
        their unexpired feedbacks to the flow within the window), or None while they may
        give another. Each leaves the count at the end of the window or at its deletion
        date, whichever is first; the next becomes possible once one fewer than `most`
        are left."""
        if len(given) < self.most:
            return None
        leaving = sorted(min(created + self.window, expires) for created, expires in given)
        return FeedbackLimitReached(len(given), leaving[len(given) - self.most])


def answers_for(
    purpose: str,
    record: NewFeedback | Mapping[str, Any],
    collected: Mapping[str, Collection[str]],
) -> Collection[str]:
    """The answers of `record` (or its stored content with its flow id) given for the
    optional `purpose` alone, which withdrawing it erases: none unless the feedback was
    given under it; as the feedback recorded them where it did, else `collected` (flow id
    -> question ids: the flow as loaded now). Found by review: the flow's list now missed
    a question moved out of the purpose since, or named one moved into it, and knew
    nothing of a purpose renamed or a survey retired."""
    if isinstance(record, NewFeedback):
        flow_id, purposes, recorded = record.flow_id, record.purposes, record.collected
    else:
        flow_id, purposes = record["flow_id"], record.get("purposes", ())
        recorded = record.get("collected") or {}
    if purpose not in purposes:
        return ()
    if recorded:
        return tuple(recorded.get(purpose, ()))
    return tuple(collected.get(flow_id, ()))


class Draft(_Record):
    """The engine's conversation state for one person; opaque to the store."""

    payload: dict[str, Any]
    updated_at: datetime
    expires_at: datetime


class LanguageChoice(_Record):
    """The language a person chose with /sprache, kept (encrypted) until `expires_at`."""

    locale: str
    chosen_at: datetime
    expires_at: datetime


class PeriodFeedback(FeedbackRecord):
    """A feedback as staff statistics see it: with the purposes whose consent is in force
    for it (see `ConsentsOf`), and the pseudonym only so that people can be counted
    (never shown)."""

    pseudonym: str
    consents_in_force: frozenset[str]


class ConsentsOf:
    """One person's consents as they bear on their feedback: a purpose is in force for a
    feedback while a consent to it is in force and none was withdrawn since the feedback
    was written. Feedback given before a withdrawal stays out of use when the person
    agrees again later: that consent is for new feedback, and the withdrawal told them
    their stored feedback would no longer be used."""

    __slots__ = ("_in_force", "_withdrawn")

    def __init__(self, consents: Iterable[tuple[str, datetime | None]]) -> None:
        in_force: set[str] = set()
        self._withdrawn: dict[str, datetime] = {}
        for purpose, withdrawn_at in consents:
            if withdrawn_at is None:
                in_force.add(purpose)
            elif purpose not in self._withdrawn or withdrawn_at > self._withdrawn[purpose]:
                self._withdrawn[purpose] = withdrawn_at
        self._in_force = frozenset(in_force)

    def for_feedback(self, created_at: datetime) -> frozenset[str]:
        """The purposes in force for a feedback written at `created_at`."""
        if not self._withdrawn:
            return self._in_force
        return frozenset(
            p for p in self._in_force if p not in self._withdrawn or self._withdrawn[p] < created_at
        )


class AuditEntry(_Record):
    """Who accessed what and when. `actor` is staff data (a staff id or "cli"), never a
    customer; erasures are recorded without any actor or pseudonym."""

    event: str
    at: datetime
    actor: str | None = None
    detail: str | None = None
    records: int | None = None


class StatisticsRow(_Record):
    """Anonymous counts for one day and flow: how many feedbacks, and per question how
    often each rating or choice was given. No pseudonym, no free text, no time of day."""

    day: date
    flow_id: str
    feedbacks: int
    counts: dict[str, dict[str, int]]


class SummarySegment(_Record):
    """A stretch [start, end) of a staff summary. `bucket` names it when it is exactly one
    UTC day, hour or ten minutes (see `bucket_keys`): then its figures may come from the
    summary cache."""

    start: datetime
    end: datetime
    bucket: str | None = None


class Release(_Record):
    """A release point of staff summaries: a UTC midnight that closes a group of whole days
    in which at least k people gave feedback to a survey (see flows.staff). `feedbacks`,
    `people` and `digest` are what the group it closes counted when it closed; the first
    point opens the first group and counts nothing."""

    flow: str = ALL_FLOWS
    """The survey (flow id) whose feedback the group counts; ALL_FLOWS for points of
    schema versions before 14, which closed groups of all surveys' feedback together and
    are the start of every survey's points since."""
    at: datetime
    feedbacks: int = 0
    people: int = 0
    digest: str = ""
    """A keyed digest of everything the group counted (see flows.staff.release_points)."""


class SegmentRead(_Record):
    """One segment as read for a summary: its cached figures (`cached`, as they were saved),
    or else everyone's unexpired feedback in it and the epoch its bucket was at."""

    segment: SummarySegment
    cached: bytes | None = None
    epoch: int = 0
    records: list[PeriodFeedback] = Field(default_factory=list)


class CacheEntry(_Record):
    """Summary figures computed for one bucket from a `SegmentRead` at `epoch`; they stop
    being valid at `expires_at`, when the first of the feedbacks they count expires."""

    bucket: str
    epoch: int
    expires_at: datetime
    payload: bytes


BUCKET_LENGTHS = (10, 13, 15)
"""Bucket names are prefixes of a UTC ISO time: day, hour, ten minutes. (No minute: a
dropped bucket's row is kept a while under its name, and after an erasure the minutes
of the person's feedback stayed readable in a copy of the data folder; a summary's
edges are new minutes each time anyway, so their figures were seldom read again.)"""


def bucket_keys(moment: datetime) -> tuple[str, ...]:
    """The UTC day, hour and ten minutes a moment falls in, as bucket names:
    "2026-11-29", "2026-11-29T09", "2026-11-29T09:2".

    Every write that changes what a summary would count in a bucket invalidates it.
    """
    minute = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")
    return tuple(minute[:length] for length in BUCKET_LENGTHS)


Tallies = dict[str, list[str]]
"""Per question id, the countable values a feedback gave (ratings and choices only)."""


class Delivery(_Record):
    """A feedback passed to a recipient (Art. 19: they are told when it is erased).

    A pending delivery is on its way (recorded before the first attempt, `delivered_at`
    is then when it was queued): the recipient may have it already, so an erasure tells
    them too, and a restart sends it again.
    """

    recipient: str
    feedback_id: str
    delivered_at: datetime
    pending: bool = False
    unconfirmed: bool = False
    """An attempt may have arrived without the recipient confirming it (a timeout waiting
    for the answer, a dropped connection, a server error): `delivered_at` is that attempt's
    time. Such a delivery is kept if it is given up on, and told at an erasure or
    withdrawal, as one that arrived."""
    purpose: str | None = None
    """The consent it was passed on under: the recipient's own purpose then, '' for an
    internal recipient (the survey's required consents); None for one passed on before
    this was recorded (data schema v17), whose recipient's purpose now is taken."""
    cut_short: bool = False
    """The feedback's deletion date was brought forward after the recipient was told the
    old one (a shortened retention, see `Store.cap_retention`): the purge asks the
    recipient to delete it when it expires here."""


NOTICE_IDS = 500
"""Feedback ids a retention notice names at most (20,000 in one were 0.7 MB, more than
many receivers take): more go in several."""


def notice_parts(ids: list[str]) -> list[list[str]]:
    """`ids` sorted, in parts of at most NOTICE_IDS."""
    ordered = sorted(ids)
    return [ordered[n : n + NOTICE_IDS] for n in range(0, len(ordered), NOTICE_IDS)]


class DeletionNotice(_Record):
    """A recipient to be asked to delete feedback (Art. 19), kept until it was sent:
    neither a restart nor a recipient that is down for a while loses it."""

    recipient: str
    reason: Literal["erasure", "withdrawal", "retention"]
    """"retention": the feedback expired here before the date the recipient was told."""
    feedback_ids: list[str]
    queued_at: datetime


class Noted(enum.IntEnum):
    """What `Store.record_staff_post` made of a post (false only when it is to go)."""

    RETRACT = 0
    """Its feedback is gone, or the consent it rests on: to be retracted at once."""
    NOTED = 1
    REDRAW = 2
    """A consent the feedback was given with was withdrawn while it was on its way: to be
    shown again as the consents now allow."""


class StaffPost(_Record):
    """A message the bot posted to the staff chat about one feedback (an alert). The copy
    in the chat goes with the feedback: when the feedback is erased, the consent the post
    rests on withdrawn, or the feedback expires, the post is to be retracted (its text
    replaced, see `Store.posts_to_retract`)."""

    chat_id: int
    message_id: int
    """Negative for an alert Telegram did not confirm (it may have arrived, its id is not
    known, see `unconfirmed_message_id`): it cannot be replaced, so its retraction asks
    staff to delete it by hand."""
    feedback_id: str
    posted_at: datetime
    purpose: str
    """The consent the post rests on: the survey's own (a low rating) or the consent to
    be contacted (posted so that staff can answer): withdrawing it retracts the post."""
    given_with: tuple[str, ...] = ()
    """When it is noted: the purposes the feedback was given with (not stored)."""

    @property
    def confirmed(self) -> bool:
        """Telegram confirmed the message (its id is known)."""
        return self.message_id > 0


_last_unconfirmed = 0


def unconfirmed_message_id() -> int:
    """The id to note an alert by that Telegram did not confirm: negative, so never a
    real message's (Telegram's are positive), and unique (from the clock's nanoseconds,
    each one below the last)."""
    global _last_unconfirmed
    _last_unconfirmed = max(time.time_ns(), _last_unconfirmed + 1)
    return -_last_unconfirmed


class ConsentProof(ConsentGrant):
    """Proof of one consent kept after the person's data went, erased or expired
    (FEEDBACKBOT_CONSENT_PROOF_RETENTION): to what, when and how it was given and when it
    stopped; no answer, nothing else of the person. Kept outside the person's key, so
    that it outlives the key (see Store.erase_subject)."""

    withdrawn_at: datetime | None = None
    ended_at: datetime | None = None
    """As in the consent record (`ConsentRecord`)."""
    kept_since: datetime
    """When the person's data went (erased, or the last of it expired)."""
    reason: Literal["erasure", "expiry"]
    kept_until: datetime


def proof_kept_until(now: datetime, period: timedelta) -> datetime:
    """Until when proof of consent kept at `now` is kept: `period` later, rounded up to the
    first of the next month (as the erasure ledger rounds: the day would tell when the
    data went to whoever reads the times in clear)."""
    until = (now + period).astimezone(UTC)
    first = until.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (first + timedelta(days=32)).replace(day=1)


class LedgerNote(_Record):
    """What the erasure ledger keeps about a person (see Store.ledger_note): until when,
    and of what kinds its entries are, so that /mydata names what took place (found by
    customer walk-throughs: "that you had your data erased, withdrew a consent or
    objected" to whoever had only withdrawn); and the proof of consent kept after the
    person's data went."""

    until: datetime | None
    """Until when the entries of `about` are kept; None where there are none (only proof)."""
    about: tuple[Literal["erasure", "withdrawal", "objection"], ...]
    """In this order, each once: an erasure; a consent withdrawn, or the chat id for
    contacting the person deleted with it; the language choice deleted (an objection,
    Art. 21)."""
    proofs: tuple[ConsentProof, ...] = ()
    """Proof of consents kept (FEEDBACKBOT_CONSENT_PROOF_RETENTION), oldest consent first,
    each once."""


class ErasureReport(_Record):
    """What an erasure removed, for the confirmation shown to the person."""

    feedback: int = 0
    consents: int = 0
    drafts: int = 0
    contacts: int = 0
    deliveries: int = 0
    languages: int = 0
    alerts_due: int = 0
    """Alerts about the person's feedback not posted yet: not posted now."""
    staff_posts: int = 0
    """Alerts about the person's feedback in the staff chat (one per feedback, however
    many messages it took), now to be retracted."""
    proof_kept_until: datetime | None = None
    """Until when proof of the person's consents is kept (`keep_proof`), where any was."""

    @property
    def anything(self) -> bool:
        return any((self.feedback, self.consents, self.drafts, self.contacts, self.languages))


class StatisticsCutoff(_Record):
    """The first day whose counts the purge keeps, per survey (`flows`), and for a survey
    not named (`other`: one no longer loaded, whose retention is not known)."""

    flows: dict[str, date] = {}
    other: date

    def of(self, flow_id: str) -> date:
        return self.flows.get(flow_id, self.other)


class PurgeReport(_Record):
    notices: int = 0
    """Deletion notices queued for feedback that expired before the date its recipients
    were told (see `Delivery.cut_short`)."""
    feedback: int = 0
    drafts: int = 0
    languages: int = 0
    consents: int = 0
    """Consent records of people with nothing else left, kept as proof no longer."""
    keys: int = 0
    """People whose keys all went (nothing of theirs left), and keys of single surveys
    whose rows all went (expired, discarded)."""
    orphans: int = 0
    audit: int = 0
    statistics: int = 0
    """Days' counts of one survey older than FEEDBACKBOT_STATISTICS_RETENTION."""
    proofs: int = 0
    """People whose proof of consent was kept as their consent records went (`keep_proof`)."""


class Store(abc.ABC):
    """Async persistence for consents, drafts and feedback, keyed by pseudonym.

    Times are timezone-aware UTC datetimes supplied by the caller (so tests control
    the clock). Expired drafts and feedback are never returned, even before a purge.
    """

    @abc.abstractmethod
    async def open(self) -> None:
        """Open (creating on first run) the store.

        Raises MasterKeyMismatch or KeyStoreMissing and leaves existing files untouched.
        """

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    def pseudonym(self, subject: str) -> str:
        """Keyed hash of a subject reference such as ``"tg-user:123"`` (hex, 64 chars)."""

    # conversation drafts
    @abc.abstractmethod
    async def save_draft(self, pseudonym: str, draft: Draft, fresh: bool = False) -> None:
        """Create or replace the person's draft (encrypted under their data key). `fresh`:
        answers begun afresh (another survey, some taken out), which the answers before
        must not share a key with."""

    @abc.abstractmethod
    async def load_draft(self, pseudonym: str, now: datetime) -> Draft | None:
        """The person's draft, or None when there is none or it has expired."""

    @abc.abstractmethod
    async def extend_draft(self, pseudonym: str, seen: datetime, until: datetime) -> bool:
        """Move the deletion date of the person's draft to `until`, only while it is the
        one saved at `seen` (its `updated_at`): whether it was moved. For whoever read it
        outside the person's own order of updates, so that answers given meanwhile are
        not written over. Raises StorageFull (nothing written)."""

    @abc.abstractmethod
    async def delete_draft(self, pseudonym: str) -> bool: ...

    # the language a person chose (/sprache): one row per person, like a draft
    @abc.abstractmethod
    async def save_language(self, pseudonym: str, choice: LanguageChoice) -> None:
        """Create or replace the person's choice (encrypted under their data key), its
        times kept to the minute (they are in clear beside the pseudonym).

        Raises StorageFull (nothing written) when there is no space."""

    @abc.abstractmethod
    async def language_of(self, pseudonym: str, now: datetime) -> LanguageChoice | None:
        """The person's choice, or None when there is none or it has expired."""

    @abc.abstractmethod
    async def delete_language(self, pseudonym: str) -> bool: ...

    # consent ledger
    @abc.abstractmethod
    async def grant_consents(
        self,
        pseudonym: str,
        grants: list[ConsentGrant],
        limit: FeedbackLimit | None = None,
        flow_id: str | None = None,
    ) -> None:
        """Record `grants`. With `limit` (the consents that begin the survey `flow_id`), first
        as `check_feedback_limit` at the first grant's time, in the same transaction: raises
        FeedbackLimitReached with nothing written (one call where the bot would otherwise
        make two on every Yes to a consent request). Raises StorageFull, nothing written."""

    @abc.abstractmethod
    async def consents(self, pseudonym: str) -> list[ConsentRecord]:
        """Every consent of the person, in force or withdrawn, oldest first."""

    @abc.abstractmethod
    async def consent_ledger(self, pseudonym: str) -> ConsentsOf:
        """The person's consents as they bear on their feedback, from what staff
        statistics, alerts and deliveries go by (the purposes and withdrawals): readable
        also where a consent's sealed details are not."""

    @abc.abstractmethod
    async def withdraw_consent(
        self,
        pseudonym: str,
        purpose: str,
        now: datetime,
        collected: Mapping[str, Collection[str]] | None = None,
        erased: Collection[str] = (),
        redraw_alerts: bool = False,
        ended: bool = False,
    ) -> int:
        """Mark the person's consents for `purpose` withdrawn; returns how many were. In
        the same transaction (Art. 17(1)(b)), the answers `collected` for it (flow id ->
        question ids) are erased from the person's feedback, rows that cannot be read
        left as they are; and the feedback `erased` (record ids: that given under a
        withdrawn required purpose, which nothing else allows to keep) is deleted with
        the records of passing it on: queue the deletion notices first (as at an
        erasure), or a crash in between leaves nothing to tell the recipients from. The
        person's staff-chat posts resting on `purpose`, or about feedback `erased`, are
        to be retracted (`posts_to_retract`); with `redraw_alerts` (the consent to be
        contacted) the others are to be shown again (`posts_to_redraw`). With `ended`,
        the person did not withdraw them: they ended with the feedback they were given
        for (`ConsentRecord.ended_at`), and stop in force all the same."""

    # the archive of consent texts: the wording a consent record's hash stands for
    @abc.abstractmethod
    async def archive_consent_texts(self, texts: Sequence[ConsentText], now: datetime) -> int:
        """Keep each of `texts` that is not archived yet (under its flow, notice version,
        language, kind, purposes and SHA-256), first seen `now`; how many were new. The
        archive is kept for good: neither a purge nor an erasure removes it.

        Raises StorageFull without writing anything when there is no space."""

    @abc.abstractmethod
    async def consent_texts(
        self, notice_version: str | None = None, sha256: str | None = None
    ) -> list[ArchivedConsentText]:
        """The archived consent texts (those of `notice_version` and with `sha256`, when
        given), by first seen, then flow, notice version, kind, purposes and language."""

    # feedback
    @abc.abstractmethod
    async def submit_feedback(
        self,
        pseudonym: str,
        feedback: NewFeedback,
        grants: list[ConsentGrant],
        contact_chat_id: int | None = None,
        tallies: Tallies | None = None,
        recipients: Sequence[tuple[str, str]] = (),
        counted_under: Sequence[str] | None = None,
        contact_language: str | None = None,
        alert: bool = False,
        limit: FeedbackLimit | None = None,
    ) -> FeedbackRecord:
        """Atomically store the feedback, the consents given during it, the contact
        chat id (only with contact consent; with `contact_language`, the language of the
        conversation, to write to the person in), add `tallies` to the anonymous statistics
        of its day and flow, record a pending delivery to each of `recipients` (recipient
        id and the purpose it is passed on under, see `Delivery.purpose`), with
        `alert` an alert to the staff chat due (see `alerts_due`), and drop the person's
        draft.

        What the feedback added to the statistics is taken out again by the person's
        erasure, and by a withdrawal of one of `counted_under` (the purposes its use
        rests on: its flow's required ones; by default the first of its purposes, as
        an optional one such as being contacted does not carry the answers).

        Raises StorageFull without writing anything when there is no space, and
        FeedbackLimitReached, likewise, when the person's feedback to its flow already
        reaches `limit` at its `created_at`: counted in the same transaction as the
        insert, so that two submissions at once cannot both pass.
        """

    @abc.abstractmethod
    async def count_feedback(
        self, pseudonym: str, flow_id: str, since: datetime, now: datetime
    ) -> int:
        """How many of the person's feedbacks to `flow_id` created after `since` are
        unexpired at `now`: from what is kept in clear beside the ciphertext (pseudonym,
        flow, times), nothing decrypted."""

    @abc.abstractmethod
    async def check_feedback_limit(
        self, pseudonym: str, flow_id: str, limit: FeedbackLimit, now: datetime
    ) -> None:
        """Raises FeedbackLimitReached when the person may give no further feedback to
        `flow_id` at `now` (read as `count_feedback` reads): asked before a survey begins,
        so that nobody answers every question only to be refused at the end."""

    @abc.abstractmethod
    async def feedback_of(self, pseudonym: str, now: datetime) -> list[FeedbackRecord]:
        """The person's unexpired feedback, oldest first."""

    @abc.abstractmethod
    async def readable_feedback_of(
        self, pseudonym: str, now: datetime
    ) -> tuple[list[FeedbackRecord], int]:
        """`feedback_of` without the records that cannot be read (damaged or tampered
        with), and how many those are: one damaged row must not keep a person from the
        rest of their data, nor from erasing it."""

    @abc.abstractmethod
    async def contact_of(self, pseudonym: str) -> int | None:
        """The chat id the person allowed us to contact them in, if any."""

    @abc.abstractmethod
    async def contact_language_of(self, pseudonym: str) -> str | None:
        """The language of the conversation in which the person agreed to be contacted
        (kept with the chat id, to write to them in), if any."""

    @abc.abstractmethod
    async def feedback_in_period(
        self, since: datetime, until: datetime, now: datetime, newest: int | None = None
    ) -> list[PeriodFeedback]:
        """Everyone's unexpired feedback created in [since, until), oldest first; with
        `newest`, only that many of the most recent ones. A record that does not open (a
        damaged disk) is left out, with a warning in the log: it stopped every summary."""

    @abc.abstractmethod
    async def feedback_by_reference(
        self, reference: str, now: datetime, limit: int = 2
    ) -> list[PeriodFeedback]:
        """The unexpired feedback whose id starts with `reference` (lowercase hex), at
        most `limit` of them: staff answer a feedback by the start of its id, which an
        alert shows (random, so it tells nothing about who wrote it)."""

    # summary cache: figures per UTC day, hour or ten minutes, so that a summary
    # over a long period reads the feedback of its ragged edges only
    @abc.abstractmethod
    async def summary_segments(
        self, segments: list[SummarySegment], version: str, now: datetime
    ) -> list[SegmentRead]:
        """Per segment (in the same order): the figures cached for its bucket if they were
        saved for `version` and have not expired by `now`; otherwise its feedback as
        `feedback_in_period` returns it, and the bucket's current epoch. One atomic read.
        """

    @abc.abstractmethod
    async def save_summary_cache(
        self, entries: list[CacheEntry], version: str, now: datetime | None = None
    ) -> int:
        """Keep figures for later summaries (encrypted), each only if its bucket is still at
        the epoch it was read at, i.e. nothing it counts has changed since, and (with `now`)
        it has not expired meanwhile (a feedback it counts expired, maybe purged, while it
        was computed); returns how many were kept. Submitting feedback into a bucket,
        granting or withdrawing consent and erasure move the buckets of the person's
        feedback to a new epoch and drop their figures; the purge drops figures that have
        expired.
        """

    # release points of staff summaries (see flows.staff.StaffDesk.windows): a survey's
    # figures start and end at one of its points, so that two summaries differ by whole
    # groups of people. A survey's points are its own and those of ALL_FLOWS.
    @abc.abstractmethod
    async def last_release(
        self, flow: str, at_or_before: datetime | None = None
    ) -> datetime | None:
        """The survey's newest release point (at or before `at_or_before` when given);
        None if there is none."""

    @abc.abstractmethod
    async def first_release(
        self, flow: str, at_or_after: datetime | None = None
    ) -> datetime | None:
        """The survey's oldest release point (at or after `at_or_after` when given); None
        if there is none."""

    @abc.abstractmethod
    async def releases(self, flow: str, since: datetime, until: datetime) -> list[Release]:
        """The survey's release points from `since` to `until` (both included), oldest
        first."""

    @abc.abstractmethod
    async def add_releases(self, flow: str, points: list[Release], after: datetime | None) -> bool:
        """Add release points of a survey, all later than `after`, if its newest one is
        still `after` (None: there is none yet); whether they were added. The purge
        forgets points older than RELEASE_MEMORY but for the newest of those (of each
        survey).
        """

    @abc.abstractmethod
    async def record_audit(self, entry: AuditEntry) -> None: ...

    @abc.abstractmethod
    async def audit_entries_of(self, actor: str) -> list[AuditEntry]:
        """Every entry of the audit trail `actor` made ("staff:<Telegram id>"), oldest
        first: what /mydata gives a member of staff, or a former one (Art. 15 GDPR). Found
        by an index, not by reading the trail."""

    @abc.abstractmethod
    async def audit_entries(self, since: datetime) -> list[AuditEntry]:
        """The audit trail from `since` on, oldest first."""

    @abc.abstractmethod
    async def last_audit(self, event: str, actor: str) -> AuditEntry | None:
        """The newest entry of `event` by `actor`, e.g. a staff member's confirmation."""

    @abc.abstractmethod
    async def statistics(self, since: date, until: date) -> list[StatisticsRow]:
        """The anonymous statistics of the days from `since` to `until` (inclusive).

        They are not tied to anyone and outlive the feedback they were counted from.
        """

    @abc.abstractmethod
    async def record_delivery(self, pseudonym: str, delivery: Delivery) -> None: ...

    @abc.abstractmethod
    async def delivery_may_have_arrived(
        self, pseudonym: str, recipient: str, feedback_id: str, at: datetime
    ) -> bool:
        """An attempt of a pending delivery may have arrived at `at` (the first such time
        is kept): from now on it is kept even if it is given up on. False when it is no
        longer pending."""

    @abc.abstractmethod
    async def settle_delivery(
        self, pseudonym: str, recipient: str, feedback_id: str, delivered_at: datetime | None
    ) -> bool:
        """A pending delivery arrived at `delivered_at`, or (None) will not be made: then it
        is forgotten, unless an attempt may have arrived (it stays, unconfirmed).

        False when it is no longer pending: the person's data was erased meanwhile.
        """

    @abc.abstractmethod
    async def deliveries_of(self, pseudonym: str) -> list[Delivery]:
        """Which recipients received (or are about to receive) which of the person's
        feedback, oldest first."""

    @abc.abstractmethod
    async def recipients_holding(self) -> set[str]:
        """The recipients any delivery is recorded to, pending or made (at start, those
        no longer configured are named: an erasure cannot reach them)."""

    @abc.abstractmethod
    async def pending_deliveries(self) -> list[tuple[str, Delivery]]:
        """Every pending delivery with its pseudonym, oldest first (to resume at start)."""

    @abc.abstractmethod
    async def queue_notice(self, notice: DeletionNotice) -> int:
        """Keep a deletion notice until `notice_done`; returns its number."""

    @abc.abstractmethod
    async def pending_notices(self) -> list[tuple[int, DeletionNotice]]:
        """The deletion notices not yet sent, oldest first (to resume at start)."""

    @abc.abstractmethod
    async def notice_done(self, number: int) -> None:
        """The notice was sent, or given up on (and audited)."""

    @abc.abstractmethod
    async def record_staff_post(self, pseudonym: str, post: StaffPost) -> Noted:
        """Remember a message posted to the staff chat about a feedback of the person.
        RETRACT when the feedback is gone or the consent the post rests on is no longer
        in force (erased or withdrawn while the post was on its way): the post is then to
        be retracted at once; REDRAW (flagged as by `withdraw_consent` with
        `redraw_alerts`) when another of `post.given_with` is no longer in force."""

    @abc.abstractmethod
    async def staff_posts_of(self, pseudonym: str) -> list[StaffPost]:
        """The person's posts in the staff chat not retracted, oldest first (to show them
        in a copy of their data: the staff chat is a recipient, Art. 15(1)(c))."""

    @abc.abstractmethod
    async def posts_to_retract(
        self,
        limit: int = 100,
        skip: Collection[int] = (),
        after: tuple[int, int] | None = None,
    ) -> list[tuple[int, int]]:
        """(chat id, message id) of at most `limit` posts whose feedback was erased,
        withdrawn or expired, in that order, those after `after` only, leaving out the
        chats `skip`: nothing ties them to anyone any more."""

    @abc.abstractmethod
    async def posts_to_redraw(
        self, limit: int = 100, after: tuple[int, int] | None = None
    ) -> list[tuple[str, StaffPost]]:
        """At most `limit` posts (with their pseudonym) to be shown again as the person's
        consents now in force allow (the consent to be contacted withdrawn since), by
        chat and message, those after `after` only."""

    @abc.abstractmethod
    async def post_redrawn(self, chat_id: int, message_id: int) -> None:
        """The post was shown again (or need not be)."""

    @abc.abstractmethod
    async def alerts_due(self, limit: int = 100) -> list[tuple[str, str]]:
        """(pseudonym, feedback id) of at most `limit` alerts to the staff chat not posted
        yet, oldest first; one whose feedback is gone may be among them (to be dropped)."""

    @abc.abstractmethod
    async def alert_is_due(self, feedback_id: str) -> bool:
        """Whether the alert about the feedback is still due, its feedback still stored."""

    @abc.abstractmethod
    async def alert_done(self, feedback_id: str) -> None:
        """The alert about the feedback was posted (or will not be): no longer due."""

    @abc.abstractmethod
    async def posted_at(self, chat_id: int, message_id: int) -> datetime | None:
        """When a post still noted was posted, also once it is marked to be retracted
        (to tell staff which alert that Telegram did not confirm to delete by hand)."""

    @abc.abstractmethod
    async def post_retracted(self, chat_id: int, message_id: int) -> None:
        """The post's text was replaced (or the message is gone): forget it."""

    @abc.abstractmethod
    async def delete_contact(self, pseudonym: str) -> bool:
        """Forget the chat id the person allowed us to write to (contact consent withdrawn)."""

    @abc.abstractmethod
    async def flush_deletions(self) -> None:
        """Make what was just deleted at a person's request (unfinished answers, a contact
        chat id) gone from the files now, not at the next purge."""

    # lifecycle
    async def out_of_room(self) -> bool:
        """Whether the disk is full and the space kept in reserve for erasures already spent:
        an erasure, or a withdrawal that erases feedback, would fail now, so it is not begun
        (half done, its notices would ask recipients to delete data still kept, and the
        person's keys would be gone with their rows left). A store on no disk has room."""
        return False

    @abc.abstractmethod
    async def ledger_note(self, pseudonym: str) -> LedgerNote | None:
        """What the erasure ledger keeps about the person (an erasure, a withdrawal, an
        objection of theirs; until the latest date of any; proof of consent kept after
        their data went, until the purge after its date), or None when it keeps none:
        what /mydata names. Reads through the whole ledger (0.16 s at 50,000 entries in
        SQLite): the entries name nobody in clear, so that they cannot be told apart."""

    @abc.abstractmethod
    async def consent_proofs(self, pseudonym: str) -> tuple[ConsentProof, ...]:
        """The proof of the person's consents kept after their records went (as
        `ledger_note` has it), without reading through the ledger."""

    @abc.abstractmethod
    async def erase_subject(
        self, pseudonym: str, now: datetime | None = None, keep_proof: timedelta | None = None
    ) -> ErasureReport:
        """Crypto-shred: destroy the person's data key (committed), then delete every row;
        the person's staff-chat posts are to be retracted (`posts_to_retract`). `now`: by
        the caller's clock, what is still valid (else the wall clock). With `keep_proof`
        (FEEDBACKBOT_CONSENT_PROOF_RETENTION), proof of each consent is kept first, outside
        the person's key, until `proof_kept_until` (`ledger_note` reads it)."""

    @abc.abstractmethod
    async def cap_retention(
        self, retentions: Mapping[str, timedelta], *, apply: bool = True
    ) -> int:
        """Bring the deletion date of the feedback of each flow (flow id -> retention)
        forward to at most its creation plus that retention: a retention shortened since
        holds for what is stored too (Art. 5(1)(e)), as the notices then say. A longer one
        changes nothing stored (the consent was to the shorter). Returns how many were;
        the next purge deletes those now past their date, and queues a deletion notice
        for the recipients told the old date (`Delivery.cut_short`). With `apply` False,
        changes nothing and returns how many would be brought forward."""

    @abc.abstractmethod
    async def end_withdrawn_leftovers(
        self, required: Mapping[str, Collection[str]], now: datetime
    ) -> int:
        """Bring the deletion date of each feedback whose flow's required purpose (flow id
        -> purposes, `required`) the person withdrew for it forward to `now`, as
        `cap_retention` does; how many. The recipients it was sent to are asked to delete
        it for the withdrawal (Art. 19; a notice of reason "withdrawal" queued with the new
        date, not one of a retention cut short: that would tell them a wrong reason).
        Whether a purpose is withdrawn for a feedback goes by the person's latest consent
        to it granted at or before the feedback: withdrawn, not ended
        (`ConsentRecord.ended_at`). Versions before 30 Nov 2026 kept such feedback,
        no longer evaluated, where a withdrawal now erases it (Art. 17(1)(b)). Feedback
        given before any consent to the purpose was recorded, and that of a flow not in
        `required`, is left as it is."""

    @abc.abstractmethod
    async def cap_languages(self, latest: datetime) -> int:
        """Bring the deletion date of each language choice kept past `latest` forward to
        it: a retention shortened since holds for the choices stored too, as /datenschutz
        and the processing record then say (found by a DPO's walk-through: a choice kept
        its 180 days under a retention of 30). Returns how many were."""

    @abc.abstractmethod
    async def cap_consent_proofs(self, period: timedelta | None) -> int:
        """Bring the date until which each proof of consent is kept forward to what
        `period` (FEEDBACKBOT_CONSENT_PROOF_RETENTION) gives from when it was kept, as
        `proof_kept_until` counts; None (the setting turned off): delete them all. A
        longer period changes nothing kept. Returns whose proofs (how many people's) were
        changed; the next purge deletes those now past their date."""

    @abc.abstractmethod
    async def holds_feedback_beyond(self, flows: Collection[str]) -> bool:
        """Whether feedback of a flow other than `flows` is stored (past its date or not)."""

    @abc.abstractmethod
    async def upkeep_due(self) -> set[str]:
        """The one-off tasks left for this start (`UPKEEP_WITHDRAWN_LEFTOVERS`: a data
        migration adds them, `upkeep_done` removes them)."""

    @abc.abstractmethod
    async def upkeep_done(self, task: str) -> None:
        """A one-off task is done: later starts skip it. Raises StorageFull."""

    @abc.abstractmethod
    async def purge_expired(
        self,
        now: datetime,
        audit_before: datetime | None = None,
        statistics_before: StatisticsCutoff | None = None,
        keep_proof: timedelta | None = None,
    ) -> PurgeReport:
        """Delete expired feedback, drafts and language choices, rows whose key is gone,
        contact chat ids whose feedback is gone, and then the keys (and consent records) of
        people with nothing left; audit entries made before `audit_before`, and each
        survey's counts of days before its day in `statistics_before`. Staff-chat posts
        about feedback no longer stored are to be retracted (`posts_to_retract`). With
        `keep_proof`, proof of the consents whose records go is kept, as `erase_subject`
        keeps it; proof kept before goes once its date has passed, set or not."""

    @abc.abstractmethod
    async def claim_update(self, update_id: int, now: datetime) -> bool:
        """Remember a processed update id (when, to the minute); False if it was already
        claimed (a redelivery)."""
