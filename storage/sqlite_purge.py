"""Erasure and the purge of what expired."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from storage.interface import (
    RELEASE_MEMORY,
    ErasureReport,
    PurgeReport,
    StatisticsCutoff,
    StorageFull,
    bucket_keys,
    notice_parts,
)
from storage.memory import (
    KEY_GRACE,
    UPDATE_MEMORY,
    to_the_minute,
    utc,
)
from storage.sqlite_core import (
    RETRACT_POSTS,
    cache_clock,
    drop_unused_record_keys,
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
from storage.sqlite_ledger import ErasureLedger
from storage.sqlite_statistics import Statistics
from storage.sqlite_summary import (
    DROP_BUCKET_FIGURES_SQL,
    SummaryCache,
)

log = logging.getLogger("storage")

PURGE_BATCH = 200
# Rows the purge looks at per statement when it searches (orphans, unused keys): each
# statement holds the connection, so it must stay short however large the store is.
SCAN_WINDOW = 2000
_PERSON_TABLES = (
    "feedback",
    "drafts",
    "consents",
    "contacts",
    "deliveries",
    "languages",
    "alerts_due",
)
_KEY_EXISTS = (
    "EXISTS (SELECT 1 FROM keys.data_keys k"
    " WHERE k.pseudonym = t.pseudonym AND k.key_version = t.key_version)"
)
# Table names below come from the constant tuple above, never from input.
_ORPHANS_SQL = {
    table: f"DELETE FROM main.{table} WHERE rowid IN (SELECT t.rowid FROM main.{table} t"  # noqa: S608
    f" WHERE t.rowid > ? AND t.rowid <= ? AND NOT {_KEY_EXISTS})"
    for table in _PERSON_TABLES
}
_EXPIRED_SQL = {
    table: f"DELETE FROM main.{table} WHERE rowid IN"  # noqa: S608
    f" (SELECT rowid FROM main.{table} WHERE expires_at <= ? LIMIT ?)"
    for table in ("feedback", "drafts", "languages")
}
# A contact chat id is only kept for the feedback it was given with (with_contact; NULL:
# stored before that was noted, and may have been).
_DETACHED_CONTACTS_SQL = (
    "DELETE FROM main.contacts WHERE rowid IN (SELECT c.rowid FROM main.contacts c"
    " WHERE NOT EXISTS (SELECT 1 FROM main.feedback f WHERE f.pseudonym = c.pseudonym"
    " AND coalesce(f.with_contact, 1) = 1)"
    " AND NOT EXISTS (SELECT 1 FROM main.drafts d WHERE d.pseudonym = c.pseudonym) LIMIT ?)"
)
# Consent records are proof for what they cover: they go once no feedback, unfinished
# answers or contact chat id is left, unless one is newer than the grace period (given
# just before the first draft is saved). Usually the key goes then too, and they with it
# (_drop_unused_keys); a language choice keeps the key, not them: this is for its holders,
# walked through the (small) table of choices.
_CHOOSERS_SQL = (
    "SELECT l.pseudonym FROM main.languages l"
    " WHERE l.rowid > ? AND l.rowid <= ?"
    " AND NOT EXISTS (SELECT 1 FROM main.feedback f WHERE f.pseudonym = l.pseudonym)"
    " AND NOT EXISTS (SELECT 1 FROM main.drafts d WHERE d.pseudonym = l.pseudonym)"
    " AND NOT EXISTS (SELECT 1 FROM main.contacts c WHERE c.pseudonym = l.pseudonym)"
    " AND EXISTS (SELECT 1 FROM main.consents g WHERE g.pseudonym = l.pseudonym)"
    " AND NOT EXISTS (SELECT 1 FROM main.consents h"
    "  WHERE h.pseudonym = l.pseudonym AND h.granted_at > ?)"
)
_CHOOSERS_CONSENTS_SQL = f"DELETE FROM main.consents WHERE pseudonym IN ({_CHOOSERS_SQL})"  # noqa: S608
_Proof = Callable[[Collection[str]], Awaitable[tuple[int, datetime | None]]]
"""Keeps proof of the consents of the people given (ErasureLedger._keep_proof, bound to
the purge's time and FEEDBACKBOT_CONSENT_PROOF_RETENTION)."""
# A record of passing a feedback on goes with the feedback (its retention is the
# feedback's: the recipient deletes its copy by then), not with the person's other data.
_DETACHED_DELIVERIES_SQL = (
    "DELETE FROM main.deliveries WHERE rowid IN (SELECT d.rowid FROM main.deliveries d"
    " WHERE d.rowid > ? AND d.rowid <= ?"
    " AND NOT EXISTS (SELECT 1 FROM main.feedback f WHERE f.id = d.feedback_id))"
)
_ALERTS_OF_SQL = "SELECT count(DISTINCT feedback_id) FROM ledger.staff_posts WHERE pseudonym = ?"
# A post in the staff chat goes with its feedback (expired, or dropped with its key), and
# with the consent it rests on (should a withdrawal have been cut short between the files).
_DETACHED_POSTS_SQL = (
    RETRACT_POSTS + " WHERE id IN (SELECT p.id FROM ledger.staff_posts p"  # noqa: S608
    " WHERE p.id > ? AND p.id <= ? AND p.pseudonym IS NOT NULL"
    " AND (NOT EXISTS (SELECT 1 FROM main.feedback f WHERE f.id = p.feedback_id)"
    " OR NOT EXISTS (SELECT 1 FROM main.consents c WHERE c.pseudonym = p.pseudonym"
    " AND c.purpose = p.purpose AND c.withdrawn_at IS NULL)))"
)
_OLD_AUDIT_SQL = (  # FEEDBACKBOT_AUDIT_RETENTION; the index audit_at finds them
    "DELETE FROM main.audit WHERE id IN (SELECT id FROM main.audit WHERE at < ? LIMIT ?)"
)
_OLD_STATISTICS_SQL = (  # FEEDBACKBOT_STATISTICS_RETENTION; by the primary key (day, flow)
    "DELETE FROM main.statistics WHERE (day, flow_id) IN"
    " (SELECT day, flow_id FROM main.statistics WHERE flow_id = ? AND day < ? LIMIT ?)"
)
_OTHER_OLD_STATISTICS_SQL = (  # of surveys no longer loaded; {named}: the loaded ones'
    "DELETE FROM main.statistics WHERE (day, flow_id) IN"
    " (SELECT day, flow_id FROM main.statistics WHERE flow_id NOT IN ({named}) AND day < ?"
    " LIMIT ?)"
)
_ALERTS_GONE_SQL = (  # due alerts whose feedback expired or went with a withdrawal
    "DELETE FROM main.alerts_due WHERE rowid IN (SELECT a.rowid FROM main.alerts_due a"
    " WHERE NOT EXISTS (SELECT 1 FROM main.feedback f WHERE f.id = a.feedback_id) LIMIT ?)"
)
_OLD_UPDATES_SQL = (
    "DELETE FROM main.processed_updates WHERE update_id IN"
    " (SELECT update_id FROM main.processed_updates WHERE seen_at < ? LIMIT ?)"
)
_EXPIRED_FIGURES_SQL = (
    "UPDATE main.summary_cache SET epoch = epoch + 1, changed_at = ?, version = NULL,"
    " expires_at = NULL, ciphertext = NULL WHERE bucket IN (SELECT bucket FROM"
    " main.summary_cache WHERE ciphertext IS NOT NULL AND expires_at <= ? LIMIT ?)"
)
_OLD_BUCKETS_SQL = (
    "DELETE FROM main.summary_cache WHERE bucket IN (SELECT bucket FROM main.summary_cache"
    " WHERE ciphertext IS NULL AND changed_at < ? LIMIT ?)"
)
_OLD_RELEASES_SQL = (  # but each survey's newest of them: where its oldest period may start
    "DELETE FROM main.release_points WHERE (flow, at) IN (SELECT flow, at FROM"
    " main.release_points r WHERE at < ? AND at < (SELECT max(at) FROM main.release_points"
    " n WHERE n.flow IN (r.flow, '') AND n.at < ?) LIMIT ?)"
)
_CUT_SHORT_SQL = (
    "SELECT d.rowid, d.recipient, d.feedback_id FROM main.deliveries d"
    " JOIN main.feedback f ON f.id = d.feedback_id"
    " WHERE d.cut_short = 1 AND f.expires_at <= ?"
)
_OLD_LEDGER_SQL = (  # entries about data that has expired by now anyway
    "DELETE FROM ledger.erasures WHERE seq IN (SELECT seq FROM ledger.erasures"
    " WHERE keep_until < ? LIMIT ?)"
)
CACHE_ROW_MEMORY = timedelta(hours=1)
_UNUSED_KEYS_SQL = (
    "SELECT DISTINCT k.pseudonym FROM keys.data_keys k"
    " WHERE k.pseudonym > ? AND k.pseudonym <= ?"
    " AND NOT EXISTS (SELECT 1 FROM main.feedback f WHERE f.pseudonym = k.pseudonym)"
    " AND NOT EXISTS (SELECT 1 FROM main.drafts d WHERE d.pseudonym = k.pseudonym)"
    " AND NOT EXISTS (SELECT 1 FROM main.contacts c WHERE c.pseudonym = k.pseudonym)"
    " AND NOT EXISTS (SELECT 1 FROM main.languages l WHERE l.pseudonym = k.pseudonym)"
    " AND NOT EXISTS (SELECT 1 FROM main.consents g"
    "  WHERE g.pseudonym = k.pseudonym AND g.granted_at > ?)"
)


def _cap(
    conn: sqlite3.Connection,
    capped: list[tuple[int, datetime, datetime]],
    withdrawn_at: datetime | None = None,
) -> None:
    """New deletion dates (rowid, created, new date), and the cached summary figures
    counting those feedbacks dropped with them (their expiry was the old date), in the
    caller's transaction. With `withdrawn_at`, the feedback goes for a withdrawn consent:
    the recipients that got it are asked to delete it for that reason now (see
    `end_withdrawn_leftovers`), not for a retention cut short."""
    changed = cache_clock()
    conn.executemany(
        "UPDATE main.feedback SET expires_at = ? WHERE rowid = ?",
        [(ts(expires), rowid) for rowid, _, expires in capped],
    )
    if withdrawn_at is not None:
        _notify_withdrawn(conn, [rowid for rowid, _, _ in capped], withdrawn_at)
    # Recipients were told the old date (delete_by): asked to delete at the new one.
    # (One still pending goes with the new date when it is sent.)
    conn.executemany(
        "UPDATE main.deliveries SET cut_short = 1 WHERE pending = 0 AND feedback_id ="
        " (SELECT id FROM main.feedback WHERE rowid = ?)",
        [] if withdrawn_at is not None else [(rowid,) for rowid, _, _ in capped],
    )
    buckets = {key for _, created, _ in capped for key in bucket_keys(created)}
    # At start no summary is under way: dropping the figures of the rows there are is
    # enough, and needs no room (no new row per bucket).
    conn.executemany(DROP_BUCKET_FIGURES_SQL, [(bucket, changed) for bucket in sorted(buckets)])


def _notify_withdrawn(conn: sqlite3.Connection, rowids: list[int], moment: datetime) -> None:
    """Deletion notices (reason "withdrawal") to the recipients the feedback at `rowids`
    was sent to, queued before it goes; a notice of a retention cut short is not owed
    any more (one would say the wrong reason, and twice)."""
    owed: dict[str, list[str]] = {}
    for rowid in rowids:
        rows = conn.execute(
            "SELECT d.rowid, d.recipient, d.feedback_id FROM main.deliveries d"
            " JOIN main.feedback f ON f.id = d.feedback_id WHERE f.rowid = ? AND d.pending = 0",
            (rowid,),
        ).fetchall()
        for delivery, recipient, feedback_id in rows:
            owed.setdefault(str(recipient), []).append(str(feedback_id))
            conn.execute("UPDATE main.deliveries SET cut_short = 0 WHERE rowid = ?", (delivery,))
    conn.executemany(
        "INSERT INTO main.notices (recipient, reason, feedback_ids, queued_at)"
        " VALUES (?, 'withdrawal', ?, ?)",
        [
            (recipient, json.dumps(part), ts(moment))
            for recipient, ids in sorted(owed.items())
            for part in notice_parts(ids)
        ],
    )


def _shred_unused_keys(
    conn: sqlite3.Connection, window: tuple[str, str, str], records_before: str
) -> tuple[list[tuple[str]], list[tuple[str, int]]]:
    """Delete the keys of people with nothing left in a window of pseudonyms, then those
    of records gone (expired, discarded) of the others, made before `records_before`;
    who they were, and which."""
    rows = conn.execute(_UNUSED_KEYS_SQL, window).fetchall()
    people = [(str(row[0]),) for row in rows]
    conn.executemany("DELETE FROM keys.data_keys WHERE pseudonym = ?", people)
    return people, drop_unused_record_keys(conn, window[:2], records_before)


ERASED_AGAIN = "carried out again"
"""The detail of the audit entry of an erasure the ledger carried out again."""


class Lifecycle(Statistics, SummaryCache, ErasureLedger):
    """Erasure of one person, and the purge of what expired, in short batches."""

    async def erase_subject(
        self, pseudonym: str, now: datetime | None = None, keep_proof: timedelta | None = None
    ) -> ErasureReport:
        """Note the erasure in the ledger (committed, to be applied again should a backup
        from before be restored), and with `keep_proof` the proof of the person's consents
        (see ErasureLedger._keep_proof); destroy the person's key (committed), then their
        rows; then checkpoint the WAL.

        A crash between the two steps leaves only rows nobody can decrypt; reads treat
        them as absent and the purge deletes them.
        """
        moment = now or datetime.now(UTC)
        proof_until = None
        async with self._lock:
            keys = await self._key_rows(pseudonym)
            if keys:
                entry = {"erase": pseudonym, "keys": sorted(keys)}
                await self._note(pseudonym, entry, moment)
            if keep_proof is not None:
                _, proof_until = await self._keep_proof([pseudonym], moment, keep_proof, "erasure")
        report = await self._erase(pseudonym, now)
        return report.model_copy(update={"proof_kept_until": proof_until})

    async def _erase(
        self, pseudonym: str, now: datetime | None = None, again: bool = False
    ) -> ErasureReport:
        """The erasure itself (see `erase_subject`), also as applied again. `now`: the
        caller's clock, which tells the cached figures still valid (found by review: the
        wall clock here against the caller's elsewhere dropped figures the caller still
        counts, and a test went red once the real date passed its figures')."""
        async with self._lock:
            # Summaries stop counting the person before anything else: should the erasure
            # be cut short, cached figures must not outlive the key.
            days = await self._their_days(pseudonym)
            made = await self._drop_cached_days(days)
            # What their feedback added to the statistics goes too, while the key that
            # opens it is still there.
            await self._untally_for_erasure(pseudonym)
            # The person's words and hash may be in any cached figure, also in copies of
            # the data store made before: their key goes as the person's does. Before the
            # person's keys: a crash after those went left the old cache key for good (the
            # ledger entry no longer held, nothing carried out again), while one before
            # leaves the entry to be carried out again at the next start (found by a
            # crash review).
            held = await fetch_one(
                self._conn(), "SELECT 1 FROM keys.data_keys WHERE pseudonym = ?", (pseudonym,)
            )
            renewed = False
            if held is not None:
                with contextlib.suppress(StorageFull):  # then after the rows, as before
                    await self._renew_cache_key(now)
                    renewed = True
            shredded = await self._shred(pseudonym)
            report = await self._delete_rows(pseudonym, shredded, again, now)
            if not made:
                await self._drop_cached_days_again(days)
            if not renewed and (shredded or report.anything):
                await self._renew_cache_key(now)
            await self._checkpoint()
        log.info("erasure")
        return report

    async def _shred(self, pseudonym: str) -> int:
        """Delete the person's keys; how many there were."""
        # One statement commits by itself, durably: keys.db is synchronous=FULL.
        sql = "DELETE FROM keys.data_keys WHERE pseudonym = ?"
        shredded = await run(self._conn(), sql, (pseudonym,))
        self._forget([pseudonym])
        return shredded

    async def _delete_rows(
        self, pseudonym: str, shredded: int, again: bool, now: datetime | None = None
    ) -> ErasureReport:
        # By the caller's clock, as every other entry of the trail (found by review: the
        # wall clock; one carried out again at opening has no caller's clock). To the
        # minute, as every entry of the trail (see StaffRecords.record_audit).
        at = ts(to_the_minute(now or datetime.now(UTC)))

        def delete(conn: sqlite3.Connection) -> dict[str, int]:
            # What had expired by `now` goes too, but is not counted: the person was told
            # it was gone (found by a customer's review: asked to erase "1 response", told
            # "responses: 2" erased, the other expired within the hour before the purge).
            past = {
                table: 0
                if now is None
                else conn.execute(
                    f"SELECT count(*) FROM main.{table}"  # noqa: S608
                    " WHERE pseudonym = ? AND expires_at <= ?",
                    (pseudonym, ts(now)),
                ).fetchone()[0]
                for table in _EXPIRED_SQL
            }
            counts = {}
            for table in _PERSON_TABLES:
                sql = f"DELETE FROM main.{table} WHERE pseudonym = ?"  # noqa: S608
                counts[table] = conn.execute(sql, (pseudonym,)).rowcount
            deleted = any(counts.values())
            for table, expired in past.items():
                counts[table] -= expired
            # The audit row proves an erasure happened without saying whose (a second
            # erasure of nothing is not one); one carried out again (a restored backup,
            # or one cut short) says so, or every restore would count the request once
            # more (review).
            if shredded or deleted:
                conn.execute(
                    "INSERT INTO main.audit (event, at, detail) VALUES ('erasure', ?, ?)",
                    (at, ERASED_AGAIN if again else None),
                )
            return counts

        def retract(conn: sqlite3.Connection) -> int:
            alerts: int = conn.execute(_ALERTS_OF_SQL, (pseudonym,)).fetchone()[0]
            conn.execute(RETRACT_POSTS + " WHERE pseudonym = ?", (pseudonym,))
            return alerts

        # The posts first, in erasures.db of their own (see sqlite_people._withdraw).
        alerts = await on_thread(self._conn(), retract, atomic=True)
        counts = await on_thread(self._conn(), delete, atomic=True)
        return ErasureReport(**counts, staff_posts=alerts)

    async def purge_expired(
        self,
        now: datetime,
        audit_before: datetime | None = None,
        statistics_before: StatisticsCutoff | None = None,
        keep_proof: timedelta | None = None,
    ) -> PurgeReport:
        """Purge in batches of PURGE_BATCH rows, each its own transaction, so that the bot
        keeps answering in between. Raises StorageFull if even a delete finds no space."""
        proof = (
            None
            if keep_proof is None
            else partial(self._keep_proof, now=utc(now), period=keep_proof, reason="expiry")
        )
        moment = utc(now)
        notices = await self._notify_cut_short(moment)
        feedback = await self._batches(_EXPIRED_SQL["feedback"], (ts(moment),))
        try:
            await self._renew_cache_key_daily(moment, owed=feedback > 0)
        except StorageFull:  # the renewal stays owed: the next purge tries again
            log.warning("cache_key_not_renewed")
        drafts = await self._batches(_EXPIRED_SQL["drafts"], (ts(moment),))
        languages = await self._batches(_EXPIRED_SQL["languages"], (ts(moment),))
        await self._batches(_EXPIRED_FIGURES_SQL, (cache_clock(), ts(moment)))
        await self._batches(_OLD_BUCKETS_SQL, (ts(datetime.now(UTC) - CACHE_ROW_MEMORY),))
        orphans = 0
        for table in _PERSON_TABLES:
            orphans += await self._windows(table, _ORPHANS_SQL[table])
        await self._batches(_DETACHED_CONTACTS_SQL, ())
        # Before the keys: a person whose last feedback expired has nothing left to keep one.
        await self._windows("deliveries", _DETACHED_DELIVERIES_SQL)
        await self._windows("staff_posts", _DETACHED_POSTS_SQL, schema="ledger")
        grace_cutoff = ts(moment - KEY_GRACE)
        # Each chooser may take several consent rows: windows of a purge batch of people.
        consents, proofs = await self._choosers_consents(grace_cutoff, proof)
        # The first purge of a run takes every record key no row is sealed under that
        # an earlier run made, however new: a withdrawal cut short (a crash) between
        # erasing feedback and destroying its key left the key for a day, and with it the
        # feedback in older copies of the data store (found by a crash review). Keys of
        # this run, and later purges, keep the grace: a key may be made just before what
        # is sealed under it (a spare one at a consent).
        records_before = grace_cutoff
        if not self._keys_swept:
            records_before = max(grace_cutoff, self._opened_at)
        keys, dropped, proven = await self._drop_unused_keys(grace_cutoff, records_before, proof)
        consents += dropped
        proofs += proven
        self._keys_swept = True
        await self._batches(_ALERTS_GONE_SQL, ())
        await self._batches(_OLD_UPDATES_SQL, (ts(moment - UPDATE_MEMORY),))
        await self._batches(_OLD_RELEASES_SQL, (ts(moment - RELEASE_MEMORY),) * 2)
        await self._batches(_OLD_LEDGER_SQL, (ts(moment),))
        await self._drop_proofs_due(moment)
        # Last: what is about people goes first, should this fail.
        audit = statistics = 0
        if audit_before is not None:
            audit = await self._batches(_OLD_AUDIT_SQL, (ts(audit_before),))
        if statistics_before is not None:
            cut = statistics_before
            for flow_id, first in cut.flows.items():
                old = (flow_id, first.isoformat())
                statistics += await self._batches(_OLD_STATISTICS_SQL, old)
            named = ", ".join("?" * len(cut.flows))
            others = _OTHER_OLD_STATISTICS_SQL.format(named=named)
            statistics += await self._batches(others, (*cut.flows, cut.other.isoformat()))
        async with self._lock:
            await self._checkpoint()
        log.debug("purge")  # what it deleted: in the caller's line
        return PurgeReport(
            notices=notices,
            feedback=feedback,
            drafts=drafts,
            languages=languages,
            consents=consents,
            keys=keys,
            orphans=orphans,
            audit=audit,
            statistics=statistics,
            proofs=proofs,
        )

    async def _choosers_consents(self, grace_cutoff: str, proof: _Proof | None) -> tuple[int, int]:
        """Delete the consent records of people with nothing left but a language choice
        (see _CHOOSERS_CONSENTS_SQL), with `proof` keeping proof of them first; how many
        records went, and of how many people proof was kept."""
        if proof is None:
            sql = _CHOOSERS_CONSENTS_SQL
            gone = await self._windows("languages", sql, (grace_cutoff,), window=PURGE_BATCH)
            return gone, 0
        async with self._lock:
            row = await fetch_one(self._conn(), "SELECT max(rowid) FROM main.languages")
        highest = int(row[0]) if row and row[0] is not None else 0
        gone = kept = 0
        for start in range(0, highest, PURGE_BATCH):
            window = (start, start + PURGE_BATCH, grace_cutoff)
            async with self._lock:
                people = [p for (p,) in await fetch_all(self._conn(), _CHOOSERS_SQL, window)]
                if people:
                    kept += (await proof(people))[0]
                    sql = "DELETE FROM main.consents WHERE pseudonym = ?"
                    gone += await run_many(self._conn(), sql, [(p,) for p in people])
            await asyncio.sleep(0)
        return gone, kept

    async def cap_retention(
        self, retentions: Mapping[str, timedelta], *, apply: bool = True
    ) -> int:
        if not retentions:
            return 0
        # Each flow's test in SQL, with a second's slack for julianday's rounding (a date
        # a second later than the new retention stays): a store whose retention did not
        # change passes nothing on to Python.
        tests = [
            (flow_id, retention.total_seconds() / 86400 + 1 / 86400)
            for flow_id, retention in retentions.items()
        ]
        where = " OR ".join(
            "(flow_id = ? AND julianday(expires_at) - julianday(created_at) > ?)" for _ in tests
        )
        params = [value for test in tests for value in test]

        def dated(row: tuple[Any, ...]) -> tuple[int, datetime, datetime]:
            rowid, flow_id, created = row[0], str(row[1]), dt(str(row[2]))
            return rowid, created, created + retentions[flow_id]

        return await self._bring_forward(
            "SELECT rowid, flow_id, created_at FROM main.feedback"  # noqa: S608
            f" WHERE rowid > ? AND rowid <= ? AND ({where})",
            params,
            dated,
            apply=apply,
        )

    async def end_withdrawn_leftovers(
        self, required: Mapping[str, Collection[str]], now: datetime
    ) -> int:
        # One test per flow and required purpose: the person's latest consent to it given
        # at or before the feedback (consents_person finds it from the feedback's time
        # backwards) was withdrawn since, not ended with other feedback. None given by then
        # (a feedback older than the consent records), or one withdrawn before it (a purpose
        # the survey did not require then): no test holds, the feedback stays.
        tests = [
            (flow, purpose)
            for flow, purposes in sorted(required.items())
            for purpose in sorted(purposes)
        ]
        if not tests:
            return 0
        where = " OR ".join(
            "(f.flow_id = ? AND coalesce((SELECT c.withdrawn_at >= f.created_at AND c.ended_at"
            " IS NULL FROM main.consents c WHERE c.pseudonym = f.pseudonym AND c.purpose = ?"
            " AND c.granted_at <= f.created_at ORDER BY c.granted_at DESC, c.rowid DESC"
            " LIMIT 1), 0))"
            for _ in tests
        )
        moment = utc(now)
        return await self._bring_forward(
            "SELECT f.rowid, f.created_at FROM main.feedback f"  # noqa: S608
            f" WHERE f.rowid > ? AND f.rowid <= ? AND f.expires_at > ? AND ({where})",
            [ts(moment), *(value for test in tests for value in test)],
            lambda row: (row[0], dt(str(row[1])), moment),
            withdrawn_at=moment,
        )

    async def _bring_forward(
        self,
        select: str,
        params: Sequence[object],
        dated: Callable[[tuple[Any, ...]], tuple[int, datetime, datetime]],
        *,
        apply: bool = True,
        withdrawn_at: datetime | None = None,
    ) -> int:
        """New deletion dates (see `_cap`; `withdrawn_at`: for a withdrawal) for the
        feedback `select` finds, whose WHERE begins with a window of rowids (two
        parameters, then `params`): `dated` gives each row's (rowid, created, new date).
        A window at a time, so that no statement holds the connection for long; how many
        (with `apply` False, only counted)."""
        async with self._lock:
            row = await fetch_one(self._conn(), "SELECT max(rowid) FROM main.feedback")
        highest = int(row[0]) if row and row[0] is not None else 0
        total = 0
        for start in range(0, highest, SCAN_WINDOW):
            async with self._lock:
                rows = await fetch_all(self._conn(), select, (start, start + SCAN_WINDOW, *params))
                capped = [dated(tuple(found)) for found in rows]
                if capped and apply:
                    cap = partial(_cap, capped=capped, withdrawn_at=withdrawn_at)
                    await on_thread(self._conn(), cap, atomic=True)
            total += len(capped)
            await asyncio.sleep(0)
        return total

    async def holds_feedback_beyond(self, flows: Collection[str]) -> bool:
        known = sorted(set(flows))
        marks = ", ".join("?" for _ in known)
        where = f" WHERE flow_id NOT IN ({marks})" if known else ""
        async with self._lock:
            row = await fetch_one(
                self._conn(),
                f"SELECT 1 FROM main.feedback{where} LIMIT 1",  # noqa: S608 (marks only)
                tuple(known),
            )
        return row is not None

    async def upkeep_due(self) -> set[str]:
        async with self._lock:
            rows = await fetch_all(self._conn(), "SELECT task FROM main.upkeep")
        return {str(task) for (task,) in rows}

    async def upkeep_done(self, task: str) -> None:
        async with self._lock:
            await run(self._conn(), "DELETE FROM main.upkeep WHERE task = ?", (task,))

    async def _notify_cut_short(self, moment: datetime) -> int:
        """Queue deletion notices per recipient (NOTICE_IDS feedback ids at most each) for
        the feedback expiring now before the date it was told (before the feedback and
        the records of passing it on go); how many were queued. A full disk loses them
        (logged): the recipient still deletes by the date it was told."""

        def notify(conn: sqlite3.Connection) -> int:
            rows = conn.execute(_CUT_SHORT_SQL, (ts(moment),)).fetchall()
            owed: dict[str, list[str]] = {}
            for _, recipient, feedback_id in rows:
                owed.setdefault(str(recipient), []).append(str(feedback_id))
            notices = [
                (recipient, json.dumps(part), ts(moment))
                for recipient, ids in sorted(owed.items())
                for part in notice_parts(ids)
            ]
            conn.executemany(
                "INSERT INTO main.notices (recipient, reason, feedback_ids, queued_at)"
                " VALUES (?, 'retention', ?, ?)",
                notices,
            )
            conn.executemany(
                "UPDATE main.deliveries SET cut_short = 0 WHERE rowid = ?",
                [(row[0],) for row in rows],
            )
            return len(notices)

        try:
            async with self._lock:
                return await on_thread(self._conn(), notify, atomic=True)
        except StorageFull:
            log.warning("retention_notices_not_queued")
            return 0

    async def _batches(self, sql: str, params: tuple[Any, ...]) -> int:
        total = 0
        while True:
            async with self._lock:  # one statement: a transaction by itself
                count = await run(self._conn(), sql, (*params, PURGE_BATCH))
            total += count
            if count < PURGE_BATCH:
                return total
            await asyncio.sleep(0)  # let waiting handlers have the connection

    async def _windows(
        self,
        table: str,
        sql: str,
        extra: tuple[Any, ...] = (),
        window: int = SCAN_WINDOW,
        schema: str = "main",
    ) -> int:
        """Run `sql` (with a rowid window as parameters, then `extra`) over the whole table,
        a window at a time, so that no statement scans more than `window` rows."""
        async with self._lock:
            row = await fetch_one(self._conn(), f"SELECT max(rowid) FROM {schema}.{table}")  # noqa: S608
        highest = int(row[0]) if row and row[0] is not None else 0
        total = 0
        for start in range(0, highest, window):
            async with self._lock:
                total += await run(self._conn(), sql, (start, start + window, *extra))
            await asyncio.sleep(0)
        return total

    async def _drop_unused_keys(
        self, grace_cutoff: str, records_before: str, proof: _Proof | None = None
    ) -> tuple[int, int, int]:
        """Destroy the keys of people with nothing left, then their consent records, and
        the keys of surveys of others whose rows all went; how many people and keys, how
        many consent records went with them, and of how many people `proof` kept proof
        (before their keys went: a person who gives something in between keeps key and
        records, and the proof kept of them is not shown beside them, see
        sqlite_ledger._live_proofs).

        Walks the key store in pseudonym order, a window of keys at a time.
        """
        total, consents, kept, after = 0, 0, 0, ""
        while True:
            async with self._lock:
                window = await fetch_all(
                    self._conn(),
                    "SELECT pseudonym FROM keys.data_keys WHERE pseudonym > ?"
                    " ORDER BY pseudonym LIMIT ?",
                    (after, PURGE_BATCH),
                )
                if not window:
                    return total, consents, kept
                last = str(window[-1][0])
                if proof is not None:
                    unused = (after, last, grace_cutoff)
                    unneeded = await fetch_all(self._conn(), _UNUSED_KEYS_SQL, unused)
                    kept += (await proof([str(p) for (p,) in unneeded]))[0]
                shred = partial(
                    _shred_unused_keys,
                    window=(after, last, grace_cutoff),
                    records_before=records_before,
                )
                people, records = await on_thread(self._conn(), shred, atomic=True)
                total += len(people) + len(records)
                self._forget(p for (p,) in people)
                self._forget_keys(records)
                if people:
                    sql = "DELETE FROM main.consents WHERE pseudonym = ?"
                    consents += await run_many(self._conn(), sql, people)
            after = last
            await asyncio.sleep(0)

    async def flush_deletions(self) -> None:
        """Fold the WAL into the main files and truncate it: secure_delete zeroes the
        freed space there, and the old page images in the WAL go with it."""
        async with self._lock:
            await self._checkpoint()
