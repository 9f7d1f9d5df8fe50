"""The audit trail, release points, and records of feedback passed on."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
from collections import Counter
from collections.abc import Collection
from datetime import datetime
from pathlib import Path
from typing import Any

from storage import crypto
from storage.interface import (
    AuditEntry,
    DecryptionFailed,
    DeletionNotice,
    Delivery,
    Noted,
    Release,
    StaffPost,
    StorageFull,
)
from storage.memory import to_the_minute
from storage.sqlite_core import (
    KEY_VERSION,
    StoreCore,
)
from storage.sqlite_db import (
    dt,
    fetch_all,
    fetch_one,
    on_thread,
    run,
    run_many,
    ts,
)

log = logging.getLogger("storage")

_PENDING_DELIVERY = "pseudonym = ? AND recipient = ? AND feedback_id = ? AND pending = 1"
_DROP_PENDING_SQL = (
    "DELETE FROM main.deliveries WHERE unconfirmed = 0 AND " + _PENDING_DELIVERY  # noqa: S608
)
_KEEP_UNCONFIRMED_SQL = (
    "UPDATE main.deliveries SET pending = 0 WHERE unconfirmed = 1 AND "  # noqa: S608
    + _PENDING_DELIVERY
)
_SETTLE_PENDING_SQL = (
    "UPDATE main.deliveries SET pending = 0, delivered_at = ?, unconfirmed = 0 WHERE "  # noqa: S608
    + _PENDING_DELIVERY
)
_MAY_HAVE_ARRIVED_SQL = (
    "UPDATE main.deliveries SET delivered_at = CASE WHEN unconfirmed = 1 THEN delivered_at"  # noqa: S608
    " ELSE ? END, unconfirmed = 1 WHERE " + _PENDING_DELIVERY
)


_POST_KEPT_SQL = (
    "SELECT EXISTS (SELECT 1 FROM main.feedback WHERE id = ? AND pseudonym = ?) AND EXISTS"
    " (SELECT 1 FROM main.consents WHERE pseudonym = ? AND purpose = ? AND withdrawn_at IS NULL)"
)
_INSERT_POST_SQL = (  # a message is noted once: a note waiting to be retracted stays so
    "INSERT INTO ledger.staff_posts (chat_id, message_id, posted_at, pseudonym, feedback_id,"
    " purpose, redraw) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (chat_id, message_id) DO NOTHING"
)


def _post(chat: int, message: int, feedback: str, at: str, purpose: str) -> StaffPost:
    """A row of staff_posts (chat_id, message_id, feedback_id, posted_at, purpose)."""
    return StaffPost(
        chat_id=chat, message_id=message, feedback_id=feedback, posted_at=dt(at), purpose=purpose
    )


_NEWEST_RELEASE_SQL = "SELECT max(at) FROM main.release_points WHERE flow IN (?, '') AND at <= ?"


_STAFF_POST_ROWS_SQL = (
    "SELECT chat_id, message_id, posted_at, pseudonym, feedback_id, purpose, redraw"
    " FROM staff_posts"
)
_INSERT_STAFF_POST_SQL = (
    "INSERT OR IGNORE INTO ledger.staff_posts (chat_id, message_id, posted_at, pseudonym,"
    " feedback_id, purpose, redraw) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_AUDIT_ROWS_SQL = (
    "SELECT event, at, actor_ref, actor_sealed, detail, records FROM main.audit ORDER BY id"
)
_INSERT_AUDIT_SQL = (
    "INSERT INTO main.audit (event, at, actor_ref, actor_sealed, detail, records)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)


_FINER_AUDIT_SQL = (
    "SELECT id, event, at, actor_ref, actor_sealed FROM main.audit"
    " WHERE substr(at, 18, 9) != '00.000000'"
)
"""Entries noted finer than to the minute (before 5 Dec 2026)."""


def _same(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """What tells an audit entry from another (not the actor's ciphertext: the same
    entry in two copies of a store has the same one anyway)."""
    event, at, ref, _, detail, records = row
    return event, at, ref, detail, records


def _audit_aad(event: str, at: str) -> bytes:
    return crypto.associated_data("audit-actor", f"{event}|{at}", "", 0)


class StaffRecords(StoreCore):
    """What the bot keeps about its own work: audit entries, release points of the
    summaries, feedback passed on to recipients and deletion notices owed to them."""

    # ---- audit trail -----------------------------------------------------------------
    # The actor (a staff member's Telegram id, "cli") is personal data of staff: stored
    # encrypted, with a keyed hash to look it up; event, time, detail and count in clear.

    def _actor_ref(self, actor: str) -> str:
        key = self._derived_key(b"feedbackbot/audit-actor-ref/v1")
        return crypto.derive_key(key, actor.encode()).hex()

    def _seal_actor(self, event: str, at: str, actor: str) -> bytes:
        key = self._derived_key(b"feedbackbot/audit-actor-key/v1")
        return crypto.encrypt(key, actor.encode(), _audit_aad(event, at))

    def _open_actor(self, event: str, at: str, sealed: bytes | None) -> str | None:
        if sealed is None:
            return None
        key = self._derived_key(b"feedbackbot/audit-actor-key/v1")
        return crypto.decrypt(key, sealed, _audit_aad(event, at)).decode()

    # A survey's points are its own and those closing all surveys' groups (ALL_FLOWS).
    async def last_release(
        self, flow: str, at_or_before: datetime | None = None
    ) -> datetime | None:
        limit = "9999" if at_or_before is None else ts(at_or_before)
        return await self._release_at(_NEWEST_RELEASE_SQL, flow, limit)

    async def first_release(
        self, flow: str, at_or_after: datetime | None = None
    ) -> datetime | None:
        limit = "" if at_or_after is None else ts(at_or_after)
        return await self._release_at(
            "SELECT min(at) FROM main.release_points WHERE flow IN (?, '') AND at >= ?",
            flow,
            limit,
        )

    async def _release_at(self, sql: str, flow: str, limit: str) -> datetime | None:
        async with self._lock:
            row = await fetch_one(self._conn(), sql, (flow, limit))
        return None if row is None or row[0] is None else dt(row[0])

    async def releases(self, flow: str, since: datetime, until: datetime) -> list[Release]:
        async with self._lock:
            rows = await fetch_all(
                self._conn(),
                "SELECT flow, at, feedbacks, people, digest FROM main.release_points"
                " WHERE flow IN (?, '') AND at >= ? AND at <= ?"
                " ORDER BY at",
                (flow, ts(since), ts(until)),
            )
        return [
            Release(flow=flow, at=dt(at), feedbacks=feedbacks, people=people, digest=digest)
            for flow, at, feedbacks, people, digest in rows
        ]

    async def add_releases(self, flow: str, points: list[Release], after: datetime | None) -> bool:
        rows = sorted((flow, ts(p.at), p.feedbacks, p.people, p.digest) for p in points)
        expected = None if after is None else ts(after)
        if rows and expected is not None and rows[0][1] <= expected:
            raise ValueError("release points must be later than the newest one")

        def add(conn: sqlite3.Connection) -> bool:
            newest = conn.execute(_NEWEST_RELEASE_SQL, (flow, "9999")).fetchone()[0]
            if newest != expected:
                return False
            conn.executemany(
                "INSERT INTO main.release_points (flow, at, feedbacks, people, digest)"
                " VALUES (?, ?, ?, ?, ?)",
                rows,
            )
            return True

        async with self._lock:
            return await on_thread(self._conn(), add, atomic=True)

    async def record_audit(self, entry: AuditEntry) -> None:
        # To the minute, as every time in clear beside the pseudonyms (found by a DPO
        # check: an alert noted to the microsecond matched its feedback's created_at, and
        # told of a pseudonym "rated low" or "agreed to be contacted" to whoever has the
        # data file without the key)
        at = ts(to_the_minute(entry.at))
        ref, sealed = (
            (None, None)
            if entry.actor is None
            else (self._actor_ref(entry.actor), self._seal_actor(entry.event, at, entry.actor))
        )
        async with self._lock:
            await run(
                self._conn(),
                _INSERT_AUDIT_SQL,
                (entry.event, at, ref, sealed, entry.detail, entry.records),
            )

    async def carry_audit_over(self, replaced: Path) -> tuple[int, int] | None:
        """Add the audit entries of `replaced` (the data store a restore put aside) that
        this one lacks: how many, and how many of them without who did it. A restore
        must not take the trail of what was done since the backup with it: exports,
        summaries, erasures (found by review: gone, or an erasure carried out again dated
        to the restore). Entries count as many times as each store has them (two
        erasures in one second are two); an actor that does not open with this store's
        key (a store begun afresh after the data folder was lost) is left out, the
        entry kept (review: it broke `feedbackbot audit`). None when they could not be
        read or added (a damaged file, a full disk): the caller keeps the files replaced
        (found by review: the restore deleted them all the same, and the trail with them)."""

        def entries() -> list[tuple[Any, ...]]:
            uri = f"{replaced.resolve().as_uri()}?mode=ro"
            with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
                return db.execute(_AUDIT_ROWS_SQL).fetchall()

        try:
            found = await asyncio.to_thread(entries)
        except sqlite3.Error as error:  # damaged, or no store of this version there
            log.warning("audit not carried over: %s", type(error).__name__)
            return None

        def add(conn: sqlite3.Connection) -> tuple[int, int]:
            have = Counter(_same(row) for row in conn.execute(_AUDIT_ROWS_SQL))
            added = unknown = 0
            for row in found:
                event, at, ref, sealed, detail, records = row
                try:
                    self._open_actor(event, at, sealed)
                except DecryptionFailed:
                    ref, sealed = None, None
                # (the store put aside may be of a version that noted finer times)
                at, ref, sealed = self._cut(event, at, ref, sealed)
                same = _same((event, at, row[2], sealed, detail, records))
                if have[same] > 0:  # there already (as often as here)
                    have[same] -= 1
                    continue
                unknown += ref is None and row[2] is not None
                conn.execute(_INSERT_AUDIT_SQL, (event, at, ref, sealed, detail, records))
                added += 1
            return added, unknown

        async with self._lock:
            try:
                done: tuple[int, int] = await on_thread(self._conn(), add, atomic=True)
                return done
            except StorageFull:  # the restore stands; the entries stay in the files replaced
                log.warning("audit not carried over: no space")
                return None

    async def carry_staff_posts_over(self, replaced: Path) -> int | None:
        """Add the notes of staff-chat alerts that the erasure ledger `replaced` (the one
        a restore put aside: a store begun afresh after the data folder was lost) holds
        and this one lacks; how many. Their feedback is not in the restored store, so the
        bot retracts those alerts as it does any whose feedback went (found by review: a
        ledger holding only such notes was kept, and the erasures since the backup came
        back). None when they could not be read or added: the caller keeps the files."""

        def notes() -> list[tuple[Any, ...]]:
            uri = f"{replaced.resolve().as_uri()}?mode=ro"
            with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
                there = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'staff_posts'"
                if db.execute(there).fetchone() is None:  # (empty, as `touch` leaves it)
                    return []
                return db.execute(_STAFF_POST_ROWS_SQL).fetchall()

        try:
            found = await asyncio.to_thread(notes)
        except sqlite3.Error as error:  # damaged, or a ledger from before the notes
            log.warning("alert notes not carried over: %s", type(error).__name__)
            return None

        def add(conn: sqlite3.Connection) -> int:
            before = conn.total_changes
            conn.executemany(_INSERT_STAFF_POST_SQL, found)
            return conn.total_changes - before

        async with self._lock:
            try:
                added: int = await on_thread(self._conn(), add, atomic=True)
                return added
            except StorageFull:
                log.warning("alert notes not carried over: no space")
                return None

    async def _seal_audit_actors(self) -> None:
        """Encrypt the actors that stores before migration 7 kept in clear (once)."""
        db = self._conn()
        rows = await fetch_all(
            db, "SELECT id, event, at, actor FROM main.audit WHERE actor IS NOT NULL"
        )
        if not rows:
            return
        sealed = [
            (self._actor_ref(actor), self._seal_actor(event, at, actor), row_id)
            for row_id, event, at, actor in rows
        ]

        await run_many(
            db,
            "UPDATE main.audit SET actor = NULL, actor_ref = ?, actor_sealed = ? WHERE id = ?",
            sealed,
        )
        log.info("audit_actors_sealed", extra={"rows": len(rows)})

    async def _time_audit_to_the_minute(self) -> None:
        """Cut the times of entries made before they were noted to the minute (see
        `record_audit`), once; an actor sealed under the old time is sealed again under the
        new, which binds it, and one that does not open is dropped (as `carry_audit_over`
        drops it), the entry kept."""
        db = self._conn()
        rows = await fetch_all(db, _FINER_AUDIT_SQL)
        if not rows:
            return  # (no write transaction: a command beside the bot waits for none)
        cut = [(*self._cut(event, at, ref, sealed), row) for row, event, at, ref, sealed in rows]
        await run_many(
            db, "UPDATE main.audit SET at = ?, actor_ref = ?, actor_sealed = ? WHERE id = ?", cut
        )
        log.info("audit_timed_to_the_minute", extra={"rows": len(rows)})

    def _cut(
        self, event: str, at: str, ref: str | None, sealed: bytes | None
    ) -> tuple[str, str | None, bytes | None]:
        """An entry's time, actor reference and sealed actor, its time cut to the minute."""
        minute = ts(to_the_minute(dt(at)))
        if minute == at or sealed is None:
            return minute, ref, sealed
        try:
            actor = self._open_actor(event, at, sealed)
        except DecryptionFailed:
            return minute, None, None
        assert actor is not None
        return minute, ref, self._seal_actor(event, minute, actor)

    async def last_audit(self, event: str, actor: str) -> AuditEntry | None:
        async with self._lock:
            row = await fetch_one(
                self._conn(),
                "SELECT event, at, actor_sealed, detail, records FROM main.audit"
                " WHERE actor_ref = ? AND event = ? ORDER BY at DESC, id DESC LIMIT 1",
                (self._actor_ref(actor), event),
            )
        if row is None:
            return None
        return self._audit_entry(*row)

    def _audit_entry(
        self, event: str, at: str, sealed: bytes | None, detail: str | None, records: int | None
    ) -> AuditEntry:
        return AuditEntry(
            event=event,
            at=dt(at),
            actor=self._open_actor(event, at, sealed),
            detail=detail,
            records=records,
        )

    async def audit_entries_of(self, actor: str) -> list[AuditEntry]:
        async with self._lock:
            rows = await fetch_all(
                self._conn(),
                "SELECT event, at, actor_sealed, detail, records FROM main.audit"
                " WHERE actor_ref = ? ORDER BY at, id",
                (self._actor_ref(actor),),
            )
        entries = []
        for row in rows:
            try:
                entry = self._audit_entry(*row)
            except DecryptionFailed:  # one damaged row keeps the others back no more
                log.warning("audit_entry_unreadable")
                continue
            if entry.actor == actor:
                entries.append(entry)
        return entries

    async def audit_entries(self, since: datetime) -> list[AuditEntry]:
        async with self._lock:
            rows = await fetch_all(
                self._conn(),
                "SELECT event, at, actor_sealed, detail, records FROM main.audit WHERE at >= ?"
                " ORDER BY at, id",
                (ts(since),),
            )
        return [self._audit_entry(*row) for row in rows]

    async def record_delivery(self, pseudonym: str, delivery: Delivery) -> None:
        async with self._lock:
            await run(
                self._conn(),
                "INSERT INTO main.deliveries (pseudonym, key_version, recipient, purpose,"
                " feedback_id, delivered_at, pending, unconfirmed) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    pseudonym,
                    KEY_VERSION,
                    delivery.recipient,
                    delivery.purpose,
                    delivery.feedback_id,
                    ts(delivery.delivered_at),
                    int(delivery.pending),
                    int(delivery.unconfirmed),
                ),
            )

    async def delivery_may_have_arrived(
        self, pseudonym: str, recipient: str, feedback_id: str, at: datetime
    ) -> bool:
        key = (pseudonym, recipient, feedback_id)
        async with self._lock:
            return await run(self._conn(), _MAY_HAVE_ARRIVED_SQL, (ts(at), *key)) > 0

    async def settle_delivery(
        self, pseudonym: str, recipient: str, feedback_id: str, delivered_at: datetime | None
    ) -> bool:
        key = (pseudonym, recipient, feedback_id)
        if delivered_at is not None:
            async with self._lock:
                return await run(self._conn(), _SETTLE_PENDING_SQL, (ts(delivered_at), *key)) > 0

        def give_up(conn: sqlite3.Connection) -> bool:
            kept = conn.execute(_KEEP_UNCONFIRMED_SQL, key).rowcount
            return kept + conn.execute(_DROP_PENDING_SQL, key).rowcount > 0

        async with self._lock:
            return await on_thread(self._conn(), give_up, atomic=True)

    async def record_staff_post(self, pseudonym: str, post: StaffPost) -> Noted:
        others = sorted(set(post.given_with) - {post.purpose})

        def record(conn: sqlite3.Connection) -> Noted:
            check = (post.feedback_id, pseudonym, pseudonym, post.purpose)
            kept = bool(conn.execute(_POST_KEPT_SQL, check).fetchone()[0])
            person = (pseudonym, post.feedback_id, post.purpose) if kept else (None,) * 3
            redraw = False
            if kept and others:
                marks = ", ".join("?" * len(others))
                in_force = conn.execute(
                    "SELECT count(DISTINCT purpose) FROM main.consents WHERE pseudonym = ?"  # noqa: S608
                    f" AND withdrawn_at IS NULL AND purpose IN ({marks})",
                    (pseudonym, *others),
                ).fetchone()[0]
                redraw = in_force < len(others)
            where = (post.chat_id, post.message_id, ts(post.posted_at))
            conn.execute(_INSERT_POST_SQL, (*where, *person, int(redraw)))
            if not kept:
                return Noted.RETRACT
            return Noted.REDRAW if redraw else Noted.NOTED

        async with self._lock:
            return await on_thread(self._conn(), record, atomic=True)

    async def staff_posts_of(self, pseudonym: str) -> list[StaffPost]:
        async with self._lock:
            rows = await fetch_all(
                self._conn(),
                "SELECT chat_id, message_id, feedback_id, posted_at, purpose"
                " FROM ledger.staff_posts WHERE pseudonym = ? ORDER BY posted_at, id",
                (pseudonym,),
            )
        return [_post(*row) for row in rows]

    async def posts_to_retract(
        self,
        limit: int = 100,
        skip: Collection[int] = (),
        after: tuple[int, int] | None = None,
    ) -> list[tuple[int, int]]:
        chats = sorted(set(skip))
        others = f" AND chat_id NOT IN ({', '.join('?' * len(chats))})" if chats else ""
        later = " AND (chat_id, message_id) > (?, ?)" if after is not None else ""
        async with self._lock:
            rows = await fetch_all(
                self._conn(),
                "SELECT chat_id, message_id FROM ledger.staff_posts WHERE pseudonym IS NULL"  # noqa: S608
                + others
                + later
                + " ORDER BY chat_id, message_id LIMIT ?",
                (*chats, *(after or ()), limit),
            )
        return [(int(chat), int(message)) for chat, message in rows]

    async def posts_to_redraw(
        self, limit: int = 100, after: tuple[int, int] | None = None
    ) -> list[tuple[str, StaffPost]]:
        later = " AND (chat_id, message_id) > (?, ?)" if after is not None else ""
        async with self._lock:
            rows = await fetch_all(
                self._conn(),
                "SELECT pseudonym, chat_id, message_id, feedback_id, posted_at, purpose"  # noqa: S608
                " FROM ledger.staff_posts WHERE redraw = 1"
                + later
                + " ORDER BY chat_id, message_id LIMIT ?",
                (*(after or ()), limit),
            )
        return [(pseudonym, _post(*post)) for pseudonym, *post in rows]

    async def post_redrawn(self, chat_id: int, message_id: int) -> None:
        async with self._lock:
            await run(
                self._conn(),
                "UPDATE ledger.staff_posts SET redraw = 0 WHERE chat_id = ? AND message_id = ?",
                (chat_id, message_id),
            )

    async def alerts_due(self, limit: int = 100) -> list[tuple[str, str]]:
        async with self._lock:
            rows = await fetch_all(
                self._conn(),
                "SELECT pseudonym, feedback_id FROM main.alerts_due"
                " ORDER BY queued_at, feedback_id LIMIT ?",
                (limit,),
            )
        return [(str(pseudonym), str(feedback)) for pseudonym, feedback in rows]

    async def alert_is_due(self, feedback_id: str) -> bool:
        async with self._lock:
            row = await fetch_one(
                self._conn(),
                "SELECT EXISTS (SELECT 1 FROM main.alerts_due a JOIN main.feedback f"
                " ON f.id = a.feedback_id WHERE a.feedback_id = ?)",
                (feedback_id,),
            )
        return bool(row and row[0])

    async def alert_done(self, feedback_id: str) -> None:
        async with self._lock:
            await run(
                self._conn(), "DELETE FROM main.alerts_due WHERE feedback_id = ?", (feedback_id,)
            )

    async def posted_at(self, chat_id: int, message_id: int) -> datetime | None:
        async with self._lock:
            row = await fetch_one(
                self._conn(),
                "SELECT posted_at FROM ledger.staff_posts WHERE chat_id = ? AND message_id = ?",
                (chat_id, message_id),
            )
        return None if row is None else dt(row[0])

    async def post_retracted(self, chat_id: int, message_id: int) -> None:
        async with self._lock:
            await run(
                self._conn(),
                "DELETE FROM ledger.staff_posts WHERE chat_id = ? AND message_id = ?",
                (chat_id, message_id),
            )

    async def deliveries_of(self, pseudonym: str) -> list[Delivery]:
        async with self._lock:
            rows = await fetch_all(
                self._conn(),
                "SELECT recipient, feedback_id, delivered_at, pending, unconfirmed, cut_short,"
                " purpose FROM main.deliveries WHERE pseudonym = ? ORDER BY delivered_at, id",
                (pseudonym,),
            )
        return [
            Delivery(
                recipient=r,
                feedback_id=f,
                delivered_at=dt(at),
                pending=bool(p),
                unconfirmed=bool(u),
                cut_short=bool(c),
                purpose=under,
            )
            for r, f, at, p, u, c, under in rows
        ]

    async def recipients_holding(self) -> set[str]:
        async with self._lock:
            rows = await fetch_all(self._conn(), "SELECT DISTINCT recipient FROM main.deliveries")
        return {recipient for (recipient,) in rows}

    async def pending_deliveries(self) -> list[tuple[str, Delivery]]:
        async with self._lock:
            rows = await fetch_all(
                self._conn(),
                "SELECT pseudonym, recipient, feedback_id, delivered_at, unconfirmed, purpose"
                " FROM main.deliveries WHERE pending = 1 ORDER BY delivered_at, id",
            )
        return [
            (
                p,
                Delivery(
                    recipient=r,
                    feedback_id=f,
                    delivered_at=dt(at),
                    pending=True,
                    unconfirmed=bool(u),
                    purpose=under,
                ),
            )
            for p, r, f, at, u, under in rows
        ]

    async def queue_notice(self, notice: DeletionNotice) -> int:
        ids = json.dumps(notice.feedback_ids)
        at = ts(notice.queued_at)

        def queue(conn: sqlite3.Connection) -> int:
            cursor = conn.execute(
                "INSERT INTO main.notices (recipient, reason, feedback_ids, queued_at)"
                " VALUES (?, ?, ?, ?)",
                (notice.recipient, notice.reason, ids, at),
            )
            return int(cursor.lastrowid or 0)

        async with self._lock:
            return await on_thread(self._conn(), queue)

    async def pending_notices(self) -> list[tuple[int, DeletionNotice]]:
        async with self._lock:
            rows = await fetch_all(
                self._conn(),
                "SELECT id, recipient, reason, feedback_ids, queued_at FROM main.notices"
                " ORDER BY id",
            )
        return [
            (
                int(number),
                DeletionNotice(
                    recipient=recipient,
                    reason=reason,
                    feedback_ids=json.loads(ids),
                    queued_at=dt(at),
                ),
            )
            for number, recipient, reason, ids, at in rows
        ]

    async def notice_done(self, number: int) -> None:
        async with self._lock:
            await run(self._conn(), "DELETE FROM main.notices WHERE id = ?", (number,))
