"""An in-memory Store: the reference semantics, and a fast double for tests.

Records pass through JSON on the way in, as they do in the SQLite store, so a
payload that SQLite could not store fails here too.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from storage import crypto
from storage.interface import (
    ALL_FLOWS,
    RELEASE_MEMORY,
    UPKEEP_WITHDRAWN_LEFTOVERS,
    ArchivedConsentText,
    AuditEntry,
    CacheEntry,
    ConsentGrant,
    ConsentMissing,
    ConsentProof,
    ConsentRecord,
    ConsentsOf,
    ConsentText,
    DeletionNotice,
    Delivery,
    Draft,
    ErasureReport,
    FeedbackLimit,
    FeedbackRecord,
    LanguageChoice,
    LedgerNote,
    NewFeedback,
    Noted,
    PeriodFeedback,
    PurgeReport,
    Release,
    SegmentRead,
    StaffPost,
    StatisticsCutoff,
    StatisticsRow,
    StorageFull,
    Store,
    StoreNotOpen,
    SummarySegment,
    Tallies,
    answers_for,
    bucket_keys,
    notice_parts,
    proof_kept_until,
)

# A person whose only data is a consent granted this recently keeps it and their key:
# the conversation that follows the consent has not had time to write anything yet.
KEY_GRACE = timedelta(days=1)
# Telegram redelivers an update for at most a day, so ids older than that can go.
UPDATE_MEMORY = timedelta(days=1)


def utc(moment: datetime) -> datetime:
    """The same instant in UTC; raises ValueError for a naive datetime."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime: the store needs timezone-aware UTC times")
    return moment.astimezone(UTC)


def to_the_minute(moment: datetime) -> datetime:
    """`utc(moment)` with the seconds cut off: a time kept in clear beside a pseudonym, or
    of everyone's updates, no finer than what reads it needs (a copy of the data files
    without the master key shows no more; see PRIVACY.md M1)."""
    return utc(moment).replace(second=0, microsecond=0)


def up_to_the_minute(moment: datetime) -> datetime:
    """`to_the_minute`, rounded up: for a deletion date, kept no shorter than promised."""
    cut = to_the_minute(moment)
    return cut if cut == utc(moment) else cut + timedelta(minutes=1)


def new_record_id() -> str:
    return secrets.token_hex(16)


def add_tallies(
    row: tuple[int, dict[str, dict[str, int]]] | None, tallies: Tallies
) -> tuple[int, dict[str, dict[str, int]]]:
    """One more feedback counted into a day's (feedbacks, {question: {value: count}})."""
    feedbacks, counts = row or (0, {})
    counts = {question: dict(values) for question, values in counts.items()}
    for question, values in tallies.items():
        for value in values:
            question_counts = counts.setdefault(question, {})
            question_counts[value] = question_counts.get(value, 0) + 1
    return feedbacks + 1, counts


def subtract_tallies(
    row: tuple[int, dict[str, dict[str, int]]] | None, tallies: Tallies
) -> tuple[int, dict[str, dict[str, int]]] | None:
    """One feedback taken out of a day's counts again (`add_tallies` undone); None when
    no feedback is left in them."""
    feedbacks, counts = row or (0, {})
    if feedbacks <= 1:
        return None
    counts = {question: dict(values) for question, values in counts.items()}
    for question, values in tallies.items():
        question_counts = counts.get(question, {})
        for value in values:
            left = question_counts.get(value, 0) - 1
            if left > 0:
                question_counts[value] = left
            else:
                question_counts.pop(value, None)
        if not question_counts:
            counts.pop(question, None)
    return feedbacks - 1, counts


class MemoryStore(Store):
    """Same contract as SQLiteStore; the data lives as long as the object.

    Set `full = True` to make every write that needs space raise StorageFull (and
    write nothing), as SQLite does on a full disk.
    """

    def __init__(self, pseudonym_key: bytes | None = None) -> None:
        self._pseudonym_key = pseudonym_key or crypto.generate_key()
        self._open = False
        self._drafts: dict[str, Draft] = {}
        self._languages: dict[str, LanguageChoice] = {}
        self._consents: dict[str, list[ConsentRecord]] = {}
        self._feedback: dict[str, list[FeedbackRecord]] = {}
        self._contacts: dict[str, int] = {}
        self._with_contact: set[str] = set()  # the feedback a contact chat id was given with
        self._contact_languages: dict[str, str | None] = {}
        self._keys: set[str] = set()  # pseudonyms that hold a data key
        # Proof of consent kept after the person's data went: (purpose, granted) -> proof
        self._proofs: dict[str, dict[tuple[str, datetime], ConsentProof]] = {}
        self._updates: dict[int, datetime] = {}
        self._stats: dict[tuple[date, str], tuple[int, dict[str, dict[str, int]]]] = {}
        # What each stored feedback added to the statistics, until it is taken out again.
        self._tallied: dict[str, dict[str, tuple[Tallies, list[str]]]] = {}
        self._audit: list[AuditEntry] = []
        self._releases: list[Release] = []  # oldest first
        self._deliveries: dict[str, list[Delivery]] = {}
        self._notices: dict[int, DeletionNotice] = {}
        self._notice_count = 0
        # (chat id, message id) -> whose post about what; None once it is to be retracted
        self._posts: dict[tuple[int, int], tuple[str, StaffPost] | None] = {}
        self._posted_at: dict[tuple[int, int], datetime] = {}
        self._alerts_due: dict[str, str] = {}  # feedback id → pseudonym, oldest first
        self._redraw: set[tuple[int, int]] = set()
        self._consent_texts: dict[
            tuple[str, str, str, str, tuple[str, ...], str], ArchivedConsentText
        ] = {}
        # bucket -> (epoch, version, expires_at, payload); see summary_segments()
        self._cache: dict[str, tuple[int, str | None, datetime | None, bytes | None]] = {}
        self.full = False
        # As a new SQLite store (its data migration adds the task): nothing to find.
        self._upkeep = {UPKEEP_WITHDRAWN_LEFTOVERS}

    async def open(self) -> None:
        self._open = True

    async def close(self) -> None:
        self._open = False

    def _check(self) -> None:
        if not self._open:
            raise StoreNotOpen("store is not open")

    def _check_space(self) -> None:
        self._check()
        if self.full:
            raise StorageFull("no space left for the store; nothing was written")

    def pseudonym(self, subject: str) -> str:
        self._check()
        return crypto.pseudonym(self._pseudonym_key, subject)

    async def save_draft(self, pseudonym: str, draft: Draft, fresh: bool = False) -> None:
        self._check_space()
        stored = Draft.model_validate_json(draft.model_dump_json())
        self._drafts[pseudonym] = stored.model_copy(
            update={"updated_at": utc(draft.updated_at), "expires_at": utc(draft.expires_at)}
        )
        self._keys.add(pseudonym)

    async def load_draft(self, pseudonym: str, now: datetime) -> Draft | None:
        self._check()
        draft = self._drafts.get(pseudonym)
        return draft if draft is not None and draft.expires_at > utc(now) else None

    async def extend_draft(self, pseudonym: str, seen: datetime, until: datetime) -> bool:
        self._check_space()
        draft = self._drafts.get(pseudonym)
        if draft is None or draft.updated_at != utc(seen):
            return False
        self._drafts[pseudonym] = draft.model_copy(update={"expires_at": utc(until)})
        return True

    async def delete_draft(self, pseudonym: str) -> bool:
        self._check()
        return self._drafts.pop(pseudonym, None) is not None

    async def save_language(self, pseudonym: str, choice: LanguageChoice) -> None:
        self._check_space()
        self._languages[pseudonym] = choice.model_copy(
            update={
                "chosen_at": to_the_minute(choice.chosen_at),
                "expires_at": up_to_the_minute(choice.expires_at),
            }
        )
        self._keys.add(pseudonym)

    async def language_of(self, pseudonym: str, now: datetime) -> LanguageChoice | None:
        self._check()
        choice = self._languages.get(pseudonym)
        return choice if choice is not None and choice.expires_at > utc(now) else None

    async def delete_language(self, pseudonym: str) -> bool:
        self._check()
        return self._languages.pop(pseudonym, None) is not None

    async def record_delivery(self, pseudonym: str, delivery: Delivery) -> None:
        self._check_space()
        self._deliveries.setdefault(pseudonym, []).append(delivery)

    def _pending(self, pseudonym: str, recipient: str, feedback_id: str) -> int | None:
        """Where the pending delivery is in the person's list, if there is one."""
        for index, delivery in enumerate(self._deliveries.get(pseudonym, [])):
            if delivery.pending and (delivery.recipient, delivery.feedback_id) == (
                recipient,
                feedback_id,
            ):
                return index
        return None

    async def delivery_may_have_arrived(
        self, pseudonym: str, recipient: str, feedback_id: str, at: datetime
    ) -> bool:
        self._check()
        index = self._pending(pseudonym, recipient, feedback_id)
        if index is None:
            return False
        deliveries = self._deliveries[pseudonym]
        if not deliveries[index].unconfirmed:  # the first such time is kept
            update = {"unconfirmed": True, "delivered_at": utc(at)}
            deliveries[index] = deliveries[index].model_copy(update=update)
        return True

    async def settle_delivery(
        self, pseudonym: str, recipient: str, feedback_id: str, delivered_at: datetime | None
    ) -> bool:
        self._check()
        index = self._pending(pseudonym, recipient, feedback_id)
        if index is None:
            return False
        deliveries = self._deliveries[pseudonym]
        if delivered_at is not None:
            confirmed = {"delivered_at": utc(delivered_at), "unconfirmed": False}
            deliveries[index] = deliveries[index].model_copy(update={"pending": False, **confirmed})
        elif deliveries[index].unconfirmed:  # may have arrived: kept
            deliveries[index] = deliveries[index].model_copy(update={"pending": False})
        else:
            del deliveries[index]
        return True

    async def deliveries_of(self, pseudonym: str) -> list[Delivery]:
        self._check()
        return sorted(self._deliveries.get(pseudonym, []), key=lambda d: d.delivered_at)

    async def recipients_holding(self) -> set[str]:
        return {d.recipient for ds in self._deliveries.values() for d in ds}

    async def pending_deliveries(self) -> list[tuple[str, Delivery]]:
        self._check()
        pending = [(p, d) for p, ds in self._deliveries.items() for d in ds if d.pending]
        return sorted(pending, key=lambda pd: pd[1].delivered_at)

    async def queue_notice(self, notice: DeletionNotice) -> int:
        self._check_space()
        self._notice_count += 1
        self._notices[self._notice_count] = notice
        return self._notice_count

    async def pending_notices(self) -> list[tuple[int, DeletionNotice]]:
        self._check()
        return sorted(self._notices.items())

    async def notice_done(self, number: int) -> None:
        self._check()
        self._notices.pop(number, None)

    async def record_staff_post(self, pseudonym: str, post: StaffPost) -> Noted:
        self._check_space()
        stored = any(r.id == post.feedback_id for r in self._feedback.get(pseudonym, []))
        in_force = any(
            c.purpose == post.purpose and c.in_force for c in self._consents.get(pseudonym, [])
        )
        kept = stored and in_force
        consents = self._consents.get(pseudonym, [])
        in_force_now = {c.purpose for c in consents if c.in_force}
        redraw = kept and not set(post.given_with) - {post.purpose} <= in_force_now
        where = (post.chat_id, post.message_id)
        if where not in self._posts:  # a message is noted once
            self._posted_at[where] = post.posted_at
            self._posts[where] = (
                (pseudonym, post.model_copy(update={"given_with": ()})) if kept else None
            )
            if redraw:
                self._redraw.add(where)
        if not kept:
            return Noted.RETRACT
        return Noted.REDRAW if redraw else Noted.NOTED

    async def staff_posts_of(self, pseudonym: str) -> list[StaffPost]:
        self._check()
        mine = [post for post in self._posts.values() if post is not None and post[0] == pseudonym]
        return sorted((post for _, post in mine), key=lambda post: post.posted_at)

    async def posts_to_retract(
        self,
        limit: int = 100,
        skip: Collection[int] = (),
        after: tuple[int, int] | None = None,
    ) -> list[tuple[int, int]]:
        self._check()
        marked = sorted(where for where, post in self._posts.items() if post is None)
        later = [where for where in marked if after is None or where > after]
        return [where for where in later if where[0] not in skip][:limit]

    async def posts_to_redraw(
        self, limit: int = 100, after: tuple[int, int] | None = None
    ) -> list[tuple[str, StaffPost]]:
        self._check()
        flagged = sorted(where for where in self._redraw if self._posts.get(where) is not None)
        later = [where for where in flagged if after is None or where > after][:limit]
        return [post for where in later if (post := self._posts[where]) is not None]

    async def post_redrawn(self, chat_id: int, message_id: int) -> None:
        self._check()
        self._redraw.discard((chat_id, message_id))

    async def alerts_due(self, limit: int = 100) -> list[tuple[str, str]]:
        self._check()
        return [(p, f) for f, p in self._alerts_due.items()][:limit]

    async def alert_is_due(self, feedback_id: str) -> bool:
        self._check()
        pseudonym = self._alerts_due.get(feedback_id)
        return pseudonym is not None and any(
            r.id == feedback_id for r in self._feedback.get(pseudonym, [])
        )

    async def alert_done(self, feedback_id: str) -> None:
        self._check()
        self._alerts_due.pop(feedback_id, None)

    async def posted_at(self, chat_id: int, message_id: int) -> datetime | None:
        self._check()
        return self._posted_at.get((chat_id, message_id))

    async def post_retracted(self, chat_id: int, message_id: int) -> None:
        self._check()
        self._posts.pop((chat_id, message_id), None)
        self._posted_at.pop((chat_id, message_id), None)
        self._redraw.discard((chat_id, message_id))

    def _forget_alerts(self, pseudonym: str) -> int:
        mine = [f for f, p in self._alerts_due.items() if p == pseudonym]
        for feedback_id in mine:
            del self._alerts_due[feedback_id]
        return len(mine)

    def _redraw_posts(self, pseudonym: str) -> None:
        for where, post in self._posts.items():
            if post is not None and post[0] == pseudonym:
                self._redraw.add(where)

    def _retract_posts(
        self, pseudonym: str, purpose: str | None = None, every: bool = False
    ) -> int:
        """Mark the person's posts about feedback no longer stored or resting on a consent
        no longer in force, those resting on `purpose`, or `every` one, to be retracted;
        about how many feedbacks."""
        stored = {r.id for r in self._feedback.get(pseudonym, [])}
        in_force = {c.purpose for c in self._consents.get(pseudonym, []) if c.in_force}
        about: set[str] = set()
        for where, post in self._posts.items():
            if post is None or post[0] != pseudonym:
                continue
            _, noted = post
            gone = noted.feedback_id not in stored or noted.purpose not in in_force
            if every or noted.purpose == purpose or gone:
                self._posts[where] = None
                self._redraw.discard(where)
                about.add(noted.feedback_id)
        return len(about)

    async def delete_contact(self, pseudonym: str) -> bool:
        self._check()
        self._contact_languages.pop(pseudonym, None)
        return self._contacts.pop(pseudonym, None) is not None

    async def archive_consent_texts(self, texts: Sequence[ConsentText], now: datetime) -> int:
        self._check()
        new = {
            key: ArchivedConsentText(**text.model_dump(), first_seen=utc(now))
            for text in texts
            if (key := _archive_key(text)) not in self._consent_texts
        }
        if new:
            self._check_space()
        self._consent_texts.update(new)
        return len(new)

    async def consent_texts(
        self, notice_version: str | None = None, sha256: str | None = None
    ) -> list[ArchivedConsentText]:
        self._check()
        found = [
            text
            for text in self._consent_texts.values()
            if notice_version in (None, text.notice_version) and sha256 in (None, text.sha256)
        ]
        return sorted(
            found,
            key=lambda text: (
                text.first_seen,
                text.flow_id,
                text.notice_version,
                text.kind == "optional",
                ",".join(text.purposes),
                text.language,
            ),
        )

    async def grant_consents(
        self,
        pseudonym: str,
        grants: list[ConsentGrant],
        limit: FeedbackLimit | None = None,
        flow_id: str | None = None,
    ) -> None:
        self._check_space()
        if limit is not None and flow_id is not None and grants:
            self._check_limit(pseudonym, flow_id, limit, grants[0].granted_at)
        self._add_consents(pseudonym, _consent_records(grants))
        if grants:
            self._invalidate_person(pseudonym)

    def _add_consents(self, pseudonym: str, records: list[ConsentRecord]) -> None:
        if not records:
            return
        self._consents.setdefault(pseudonym, []).extend(records)
        self._consents[pseudonym].sort(key=lambda r: r.granted_at)  # stable: ties keep order
        self._keys.add(pseudonym)

    async def consents(self, pseudonym: str) -> list[ConsentRecord]:
        self._check()
        return list(self._consents.get(pseudonym, []))

    async def consent_ledger(self, pseudonym: str) -> ConsentsOf:
        self._check()
        return ConsentsOf((r.purpose, r.stopped_at) for r in self._consents.get(pseudonym, []))

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
        self._check()
        records = self._consents.get(pseudonym, [])
        count = 0
        stopped = "ended_at" if ended else "withdrawn_at"
        for i, record in enumerate(records):
            if record.purpose == purpose and record.in_force:
                records[i] = record.model_copy(update={stopped: utc(now)})
                count += 1
        if count:
            self._invalidate_person(pseudonym)
            self._untally(pseudonym, purpose)
            self._erase_answers(pseudonym, collected or {}, purpose)
            gone = set(erased)
            if gone:
                items = self._feedback.get(pseudonym, [])
                kept = [record for record in items if record.id not in gone]
                if len(kept) < len(items):  # as an erasure is, without saying whose
                    self._audit.append(
                        AuditEntry(
                            event="withdrawal",
                            at=to_the_minute(now),
                            records=len(items) - len(kept),
                        )
                    )
                items[:] = kept
                deliveries = self._deliveries.get(pseudonym, [])
                deliveries[:] = [d for d in deliveries if d.feedback_id not in gone]
        self._retract_posts(pseudonym, purpose)
        if redraw_alerts:
            self._redraw_posts(pseudonym)
        return count

    def _erase_answers(
        self, pseudonym: str, collected: Mapping[str, Collection[str]], purpose: str
    ) -> None:
        items = self._feedback.get(pseudonym, [])
        for i, record in enumerate(items):
            gone = set(answers_for(purpose, record, collected))
            if gone & set(record.answers):
                answers = {k: v for k, v in record.answers.items() if k not in gone}
                items[i] = record.model_copy(update={"answers": answers})

    def _untally(self, pseudonym: str, purpose: str | None = None) -> None:
        """Take the person's feedback (given under `purpose`, or all) out of the
        statistics, each once."""
        tallied = self._tallied.get(pseudonym, {})
        records = {r.id: r for r in self._feedback.get(pseudonym, [])}
        for record_id, (tallies, purposes) in list(tallied.items()):
            if purpose is not None and purpose not in purposes:
                continue
            del tallied[record_id]
            record = records.get(record_id)
            if record is None:
                continue
            key = (record.created_at.date(), record.flow_id)
            left = subtract_tallies(self._stats.get(key), tallies)
            if left is None:
                self._stats.pop(key, None)
            else:
                self._stats[key] = left

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
        self._check_space()
        if limit is not None:
            self._check_limit(pseudonym, feedback.flow_id, limit, feedback.created_at)
        # Build everything first so that a failure leaves nothing half-written.
        record = FeedbackRecord.model_validate_json(
            FeedbackRecord(id=new_record_id(), **feedback.model_dump()).model_dump_json()
        ).model_copy(
            update={"created_at": utc(feedback.created_at), "expires_at": utc(feedback.expires_at)}
        )
        consents = _consent_records(grants)
        in_force = {
            c.purpose for c in [*self._consents.get(pseudonym, []), *consents] if c.in_force
        }
        if not set(feedback.purposes) <= in_force:
            raise ConsentMissing("a consent of this feedback is not in force")
        items = self._feedback.setdefault(pseudonym, [])
        items.append(record)
        items.sort(key=lambda r: r.created_at)
        self._add_consents(pseudonym, consents)
        if consents:
            self._invalidate_person(pseudonym)
        else:
            self._invalidate(set(bucket_keys(record.created_at)))
        if contact_chat_id is not None:
            self._contacts[pseudonym] = int(contact_chat_id)
            self._contact_languages[pseudonym] = contact_language
            self._with_contact.add(record.id)
        self._drafts.pop(pseudonym, None)
        self._keys.add(pseudonym)
        if alert:
            self._alerts_due[record.id] = pseudonym
        self._deliveries.setdefault(pseudonym, []).extend(
            Delivery(
                recipient=r,
                feedback_id=record.id,
                delivered_at=record.created_at,
                pending=True,
                purpose=serves,
            )
            for r, serves in recipients
        )
        key = (record.created_at.date(), record.flow_id)
        self._stats[key] = add_tallies(self._stats.get(key), tallies or {})
        counted = {q: list(v) for q, v in (tallies or {}).items()}
        under = feedback.purposes[:1] if counted_under is None else counted_under
        self._tallied.setdefault(pseudonym, {})[record.id] = (counted, list(under))
        return record

    async def feedback_in_period(
        self, since: datetime, until: datetime, now: datetime, newest: int | None = None
    ) -> list[PeriodFeedback]:
        self._check()
        start, end, moment = utc(since), utc(until), utc(now)
        result = []
        for pseudonym, records in self._feedback.items():
            consents = ConsentsOf(
                (c.purpose, c.stopped_at) for c in self._consents.get(pseudonym, [])
            )
            for record in records:
                if start <= record.created_at < end and record.expires_at > moment:
                    result.append(
                        PeriodFeedback(
                            **record.model_dump(),
                            pseudonym=pseudonym,
                            consents_in_force=consents.for_feedback(record.created_at),
                        )
                    )
        result.sort(key=lambda r: r.created_at)
        return result if newest is None else result[max(0, len(result) - newest) :]

    async def feedback_by_reference(
        self, reference: str, now: datetime, limit: int = 2
    ) -> list[PeriodFeedback]:
        self._check()
        if not re.fullmatch(r"[0-9a-f]+", reference):
            return []
        moment = utc(now)
        found = [
            PeriodFeedback(
                **record.model_dump(),
                pseudonym=pseudonym,
                consents_in_force=ConsentsOf(
                    (c.purpose, c.stopped_at) for c in self._consents.get(pseudonym, [])
                ).for_feedback(record.created_at),
            )
            for pseudonym, records in self._feedback.items()
            for record in records
            if record.id.startswith(reference) and record.expires_at > moment
        ]
        return sorted(found, key=lambda r: r.id)[:limit]

    def _series(self, flow: str) -> list[Release]:
        return [p for p in self._releases if p.flow in (flow, ALL_FLOWS)]

    async def last_release(
        self, flow: str, at_or_before: datetime | None = None
    ) -> datetime | None:
        self._check()
        limit = None if at_or_before is None else utc(at_or_before)
        found = [p.at for p in self._series(flow) if limit is None or p.at <= limit]
        return found[-1] if found else None

    async def first_release(
        self, flow: str, at_or_after: datetime | None = None
    ) -> datetime | None:
        self._check()
        limit = None if at_or_after is None else utc(at_or_after)
        found = [p.at for p in self._series(flow) if limit is None or p.at >= limit]
        return found[0] if found else None

    async def releases(self, flow: str, since: datetime, until: datetime) -> list[Release]:
        self._check()
        return [p for p in self._series(flow) if utc(since) <= p.at <= utc(until)]

    async def add_releases(self, flow: str, points: list[Release], after: datetime | None) -> bool:
        self._check()
        series = self._series(flow)
        newest = series[-1].at if series else None
        ordered = sorted(
            (p.model_copy(update={"at": utc(p.at), "flow": flow}) for p in points),
            key=lambda p: p.at,
        )
        if ordered and after is not None and ordered[0].at <= utc(after):
            raise ValueError("release points must be later than the newest one")
        if newest != (None if after is None else utc(after)):
            return False
        self._check_space()
        self._releases = sorted([*self._releases, *ordered], key=lambda p: p.at)
        return True

    async def record_audit(self, entry: AuditEntry) -> None:
        self._check_space()
        self._audit.append(entry.model_copy(update={"at": to_the_minute(entry.at)}))

    async def last_audit(self, event: str, actor: str) -> AuditEntry | None:
        self._check()
        found = [e for e in self._audit if e.event == event and e.actor == actor]
        # the newest: of two in one minute, the one noted last (as SQLite's id)
        return max(reversed(found), key=lambda e: e.at) if found else None

    async def audit_entries_of(self, actor: str) -> list[AuditEntry]:
        self._check()
        return sorted((e for e in self._audit if e.actor == actor), key=lambda e: e.at)

    async def audit_entries(self, since: datetime) -> list[AuditEntry]:
        self._check()
        return [e for e in self._audit if e.at >= utc(since)]

    async def statistics(self, since: date, until: date) -> list[StatisticsRow]:
        self._check()
        return [
            StatisticsRow(day=day, flow_id=flow, feedbacks=row[0], counts=row[1])
            for (day, flow), row in sorted(self._stats.items())
            if since <= day <= until
        ]

    async def count_feedback(
        self, pseudonym: str, flow_id: str, since: datetime, now: datetime
    ) -> int:
        self._check()
        return len(self._recent(pseudonym, flow_id, utc(since), utc(now)))

    async def check_feedback_limit(
        self, pseudonym: str, flow_id: str, limit: FeedbackLimit, now: datetime
    ) -> None:
        self._check()
        self._check_limit(pseudonym, flow_id, limit, now)

    def _check_limit(
        self, pseudonym: str, flow_id: str, limit: FeedbackLimit, now: datetime
    ) -> None:
        moment = utc(now)
        refusal = limit.reached(self._recent(pseudonym, flow_id, moment - limit.window, moment))
        if refusal is not None:
            raise refusal

    def _recent(
        self, pseudonym: str, flow_id: str, since: datetime, now: datetime
    ) -> list[tuple[datetime, datetime]]:
        return [
            (r.created_at, r.expires_at)
            for r in self._feedback.get(pseudonym, [])
            if r.flow_id == flow_id and r.created_at > since and r.expires_at > now
        ]

    async def feedback_of(self, pseudonym: str, now: datetime) -> list[FeedbackRecord]:
        self._check()
        moment = utc(now)
        return [r for r in self._feedback.get(pseudonym, []) if r.expires_at > moment]

    async def readable_feedback_of(
        self, pseudonym: str, now: datetime
    ) -> tuple[list[FeedbackRecord], int]:
        return await self.feedback_of(pseudonym, now), 0  # nothing here can be damaged

    async def contact_of(self, pseudonym: str) -> int | None:
        self._check()
        return self._contacts.get(pseudonym)

    async def contact_language_of(self, pseudonym: str) -> str | None:
        self._check()
        return self._contact_languages.get(pseudonym) if pseudonym in self._contacts else None

    async def flush_deletions(self) -> None:
        self._check()  # nothing is in any file

    async def ledger_note(self, pseudonym: str) -> LedgerNote | None:
        # No notes of erasures: nothing is restored from a backup here; proof of consent
        # is kept as on SQLite.
        proofs = await self.consent_proofs(pseudonym)
        return LedgerNote(until=None, about=(), proofs=proofs) if proofs else None

    async def consent_proofs(self, pseudonym: str) -> tuple[ConsentProof, ...]:
        self._check()
        held = {(c.purpose, c.granted_at) for c in self._consents.get(pseudonym, [])}
        kept = self._proofs.get(pseudonym, {})
        proofs = sorted((p for k, p in kept.items() if k not in held), key=lambda p: p.granted_at)
        return tuple(proofs)

    async def cap_languages(self, latest: datetime) -> int:
        self._check()
        latest = up_to_the_minute(latest)
        capped = 0
        for pseudonym, choice in self._languages.items():
            if choice.expires_at > latest:
                self._languages[pseudonym] = choice.model_copy(update={"expires_at": latest})
                capped += 1
        return capped

    async def cap_consent_proofs(self, period: timedelta | None) -> int:
        self._check()
        changed = set()  # whose (as SQLite counts rows)
        for pseudonym, kept in list(self._proofs.items()):
            for key, proof in list(kept.items()):
                if period is None:
                    del kept[key]
                    changed.add(pseudonym)
                elif (until := proof_kept_until(proof.kept_since, period)) < proof.kept_until:
                    kept[key] = proof.model_copy(update={"kept_until": until})
                    changed.add(pseudonym)
            if not kept:
                del self._proofs[pseudonym]
        return len(changed)

    def _keep_proof(
        self,
        pseudonym: str,
        now: datetime,
        period: timedelta,
        reason: Literal["erasure", "expiry"],
    ) -> datetime | None:
        """Keep proof of the person's consents, as SQLite's ledger keeps it; until when."""
        records = self._consents.get(pseudonym, [])
        if not records:
            return None
        until = proof_kept_until(now, period)
        kept = self._proofs.setdefault(pseudonym, {})
        new = [r for r in records if (r.purpose, r.granted_at) not in kept]
        for record in new:  # one proven already keeps its date (as on SQLite)
            grant = record.model_dump(exclude={"id"})
            at = to_the_minute(now)
            proof = ConsentProof(**grant, kept_since=at, reason=reason, kept_until=until)
            kept[(record.purpose, record.granted_at)] = proof
        return until if new else None

    async def erase_subject(
        self, pseudonym: str, now: datetime | None = None, keep_proof: timedelta | None = None
    ) -> ErasureReport:
        self._check()
        proof_until = None
        if keep_proof is not None:
            at = utc(now) if now is not None else datetime.now(UTC)
            proof_until = self._keep_proof(pseudonym, at, keep_proof, "erasure")
        self._invalidate_person(pseudonym)
        self._untally(pseudonym)
        self._tallied.pop(pseudonym, None)
        had_key = pseudonym in self._keys
        self._keys.discard(pseudonym)
        posts = self._retract_posts(pseudonym, every=True)
        self._contact_languages.pop(pseudonym, None)
        # What had expired by `now` goes too, uncounted (as the SQLite store).
        moment = utc(now) if now is not None else None

        def live(expires_at: datetime) -> bool:
            return moment is None or expires_at > moment

        feedback = self._feedback.pop(pseudonym, [])
        draft, choice = self._drafts.pop(pseudonym, None), self._languages.pop(pseudonym, None)
        report = ErasureReport(
            feedback=sum(live(record.expires_at) for record in feedback),
            consents=len(self._consents.pop(pseudonym, [])),
            drafts=int(draft is not None and live(draft.expires_at)),
            contacts=int(self._contacts.pop(pseudonym, None) is not None),
            deliveries=len(self._deliveries.pop(pseudonym, [])),
            languages=int(choice is not None and live(choice.expires_at)),
            alerts_due=self._forget_alerts(pseudonym),
            staff_posts=posts,
            proof_kept_until=proof_until,
        )
        if had_key or feedback or draft or choice or report.anything:  # not of nothing
            at = to_the_minute(moment or datetime.now(UTC))
            self._audit.append(AuditEntry(event="erasure", at=at))
        return report

    async def cap_retention(
        self, retentions: Mapping[str, timedelta], *, apply: bool = True
    ) -> int:
        self._check()
        count = 0
        for pseudonym, items in self._feedback.items():
            for i, record in enumerate(items):
                retention = retentions.get(record.flow_id)
                if retention is not None and record.expires_at > record.created_at + retention:
                    count += 1
                    if apply:
                        self._bring_forward(pseudonym, i, record.created_at + retention)
        return count

    def _bring_forward(
        self, pseudonym: str, index: int, expires_at: datetime, cut_short: bool = True
    ) -> list[str]:
        """A new deletion date for the person's feedback at `index`; recipients told the
        old one are asked to delete at the next purge (cut short), or, without
        `cut_short`, returned to be asked now (see `end_withdrawn_leftovers`)."""
        items = self._feedback[pseudonym]
        record = items[index]
        items[index] = record.model_copy(update={"expires_at": expires_at})
        self._invalidate(set(bucket_keys(record.created_at)))
        sent = [
            d
            for d in self._deliveries.get(pseudonym, [])
            if d.feedback_id == record.id and not d.pending
        ]
        self._deliveries[pseudonym] = [
            d.model_copy(update={"cut_short": cut_short}) if d in sent else d
            for d in self._deliveries.get(pseudonym, [])
        ]
        return [d.recipient for d in sent]

    async def end_withdrawn_leftovers(
        self, required: Mapping[str, Collection[str]], now: datetime
    ) -> int:
        self._check()
        moment = utc(now)

        def withdrawn(consents: list[ConsentRecord], purpose: str, created: datetime) -> bool:
            # The latest consent to it given by then (oldest first, as kept): withdrawn by
            # the person since, not ended with other feedback. None: the feedback stays.
            given = [c for c in consents if c.purpose == purpose and c.granted_at <= created]
            last = given[-1] if given else None
            return (
                last is not None
                and last.withdrawn_at is not None
                and last.withdrawn_at >= created
                and last.ended_at is None
            )

        self._check_space()  # (the deletion notices are written with the new dates)
        count = 0
        owed: dict[str, list[str]] = {}
        for pseudonym, items in self._feedback.items():
            consents = self._consents.get(pseudonym, [])
            for i, record in enumerate(items):
                purposes = required.get(record.flow_id, ())
                if record.expires_at > moment and any(
                    withdrawn(consents, purpose, record.created_at) for purpose in purposes
                ):
                    for recipient in self._bring_forward(pseudonym, i, moment, cut_short=False):
                        owed.setdefault(recipient, []).append(record.id)
                    count += 1
        for recipient, ids in sorted(owed.items()):
            for part in notice_parts(ids):
                notice = DeletionNotice(
                    recipient=recipient, reason="withdrawal", feedback_ids=part, queued_at=now
                )
                await self.queue_notice(notice)
        return count

    async def holds_feedback_beyond(self, flows: Collection[str]) -> bool:
        self._check()
        known = set(flows)
        return any(r.flow_id not in known for items in self._feedback.values() for r in items)

    async def upkeep_due(self) -> set[str]:
        self._check()
        return set(self._upkeep)

    async def upkeep_done(self, task: str) -> None:
        self._check_space()  # (a delete needs room in SQLite's write-ahead log too)
        self._upkeep.discard(task)

    async def purge_expired(
        self,
        now: datetime,
        audit_before: datetime | None = None,
        statistics_before: StatisticsCutoff | None = None,
        keep_proof: timedelta | None = None,
    ) -> PurgeReport:
        self._check()
        moment = utc(now)
        for pseudonym, kept_proofs in list(self._proofs.items()):
            for over in [k for k, proof in kept_proofs.items() if proof.kept_until < moment]:
                del kept_proofs[over]
            if not kept_proofs:
                del self._proofs[pseudonym]
        proofs = 0

        def prove(pseudonym: str) -> int:
            if keep_proof is None:
                return 0
            return int(self._keep_proof(pseudonym, moment, keep_proof, "expiry") is not None)

        audit = 0
        if audit_before is not None:
            kept_audit = [e for e in self._audit if e.at >= utc(audit_before)]
            audit, self._audit = len(self._audit) - len(kept_audit), kept_audit
        cut = statistics_before
        outdated = [k for k in self._stats if cut is not None and k[0] < cut.of(k[1])]
        for key in outdated:
            del self._stats[key]
        owed: dict[str, list[str]] = {}
        for pseudonym, deliveries in self._deliveries.items():
            expiring = {r.id for r in self._feedback.get(pseudonym, []) if r.expires_at <= moment}
            for n, delivery in enumerate(deliveries):
                if delivery.cut_short and delivery.feedback_id in expiring:
                    owed.setdefault(delivery.recipient, []).append(delivery.feedback_id)
                    deliveries[n] = delivery.model_copy(update={"cut_short": False})
        notices = [
            DeletionNotice(
                recipient=recipient, reason="retention", feedback_ids=part, queued_at=now
            )
            for recipient, ids in sorted(owed.items())
            for part in notice_parts(ids)
        ]
        try:
            for notice in notices:
                await self.queue_notice(notice)
        except StorageFull:  # as on SQLite: lost, the recipient deletes by the date told
            notices = []
        feedback = drafts = 0
        for pseudonym, items in list(self._feedback.items()):
            kept = [r for r in items if r.expires_at > moment]
            feedback += len(items) - len(kept)
            self._feedback[pseudonym] = kept
            if not kept:
                del self._feedback[pseudonym]
            # Expired feedback stays counted: the statistics outlive retention.
            kept_ids = {r.id for r in kept}
            tallied = self._tallied.get(pseudonym, {})
            for record_id in [i for i in tallied if i not in kept_ids]:
                del tallied[record_id]
            if not tallied:
                self._tallied.pop(pseudonym, None)
        for pseudonym, draft in list(self._drafts.items()):
            if draft.expires_at <= moment:
                del self._drafts[pseudonym]
                drafts += 1
        languages = 0
        for pseudonym, choice in list(self._languages.items()):
            if choice.expires_at <= moment:
                del self._languages[pseudonym]
                languages += 1
        for pseudonym, deliveries in list(self._deliveries.items()):
            kept_ids = {r.id for r in self._feedback.get(pseudonym, [])}
            self._deliveries[pseudonym] = [d for d in deliveries if d.feedback_id in kept_ids]
            if not self._deliveries[pseudonym]:
                del self._deliveries[pseudonym]
        stored = {r.id for items in self._feedback.values() for r in items}
        for feedback_id in [f for f in self._alerts_due if f not in stored]:
            del self._alerts_due[feedback_id]
        for pseudonym in {post[0] for post in self._posts.values() if post is not None}:
            self._retract_posts(pseudonym)  # those whose feedback is gone
        self._with_contact &= stored
        given_with = {
            p
            for p, items in self._feedback.items()
            if any(r.id in self._with_contact for r in items)
        }
        for pseudonym in [p for p in self._contacts if p not in given_with]:
            if pseudonym not in self._drafts:
                del self._contacts[pseudonym]
                self._contact_languages.pop(pseudonym, None)
        consents = 0
        for pseudonym in list(self._consents):
            if not self._covers_something(pseudonym, moment):
                # a language choice keeps the key, not them
                proofs += prove(pseudonym)
                consents += len(self._consents.pop(pseudonym))
        unused = [p for p in self._keys if self._unused(p, moment)]
        for pseudonym in unused:
            self._keys.discard(pseudonym)
            proofs += prove(pseudonym)
            consents += len(self._consents.pop(pseudonym, []))
            self._deliveries.pop(pseudonym, None)
        for bucket, (epoch, _, expires, _) in list(self._cache.items()):
            if expires is not None and expires <= moment:
                self._cache[bucket] = (epoch + 1, None, None, None)
        for update_id, seen in list(self._updates.items()):
            if seen < moment - UPDATE_MEMORY:
                del self._updates[update_id]
        old = moment - RELEASE_MEMORY  # but each survey's newest of them
        self._releases = [
            p
            for p in self._releases
            if p.at >= old or not any(p.at < q.at < old for q in self._series(p.flow))
        ]
        return PurgeReport(
            notices=len(notices),
            feedback=feedback,
            drafts=drafts,
            languages=languages,
            consents=consents,
            keys=len(unused),
            audit=audit,
            statistics=len(outdated),
            proofs=proofs,
        )

    def _covers_something(self, pseudonym: str, now: datetime) -> bool:
        """Whether the person's consent records are still proof of anything stored (or so
        recent that the first draft may follow)."""
        recent = any(c.granted_at > now - KEY_GRACE for c in self._consents.get(pseudonym, []))
        return (
            recent
            or pseudonym in self._feedback
            or pseudonym in self._drafts
            or pseudonym in self._contacts
        )

    def _unused(self, pseudonym: str, now: datetime) -> bool:
        return not (self._covers_something(pseudonym, now) or pseudonym in self._languages)

    def _invalidate(self, buckets: set[str]) -> None:
        for bucket in buckets:
            epoch = self._cache.get(bucket, (0, None, None, None))[0]
            self._cache[bucket] = (epoch + 1, None, None, None)

    def _invalidate_person(self, pseudonym: str) -> None:
        self._invalidate(
            {key for r in self._feedback.get(pseudonym, []) for key in bucket_keys(r.created_at)}
        )

    async def summary_segments(
        self, segments: list[SummarySegment], version: str, now: datetime
    ) -> list[SegmentRead]:
        self._check()
        moment = utc(now)
        reads = []
        for segment in segments:
            epoch, saved_for, expires, payload = self._cache.get(
                segment.bucket or "", (0, None, None, None)
            )
            if (
                segment.bucket is not None
                and payload is not None
                and saved_for == version
                and expires is not None
                and expires > moment
            ):
                reads.append(SegmentRead(segment=segment, cached=payload, epoch=epoch))
                continue
            records = await self.feedback_in_period(segment.start, segment.end, moment)
            reads.append(SegmentRead(segment=segment, epoch=epoch, records=records))
        return reads

    async def save_summary_cache(
        self, entries: list[CacheEntry], version: str, now: datetime | None = None
    ) -> int:
        self._check_space()
        kept = 0
        for entry in entries:
            if now is not None and entry.expires_at <= utc(now):
                continue
            if self._cache.get(entry.bucket, (0, None, None, None))[0] == entry.epoch:
                expires = utc(entry.expires_at)
                self._cache[entry.bucket] = (entry.epoch, version, expires, bytes(entry.payload))
                kept += 1
        return kept

    async def claim_update(self, update_id: int, now: datetime) -> bool:
        self._check_space()
        if update_id in self._updates:
            return False
        self._updates[update_id] = to_the_minute(now)
        return True


def _consent_records(grants: list[ConsentGrant]) -> list[ConsentRecord]:
    return [
        ConsentRecord.model_validate_json(
            ConsentRecord(id=new_record_id(), **g.model_dump()).model_dump_json()
        ).model_copy(update={"granted_at": utc(g.granted_at)})
        for g in grants
    ]


def _archive_key(text: ConsentText) -> tuple[str, str, str, str, tuple[str, ...], str]:
    """What makes an archived consent text one of its own (see `archive_consent_texts`)."""
    return (text.notice_version, text.flow_id, text.language, text.kind, text.purposes, text.sha256)
