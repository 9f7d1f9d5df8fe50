"""Feedback of a period for summaries, and the cache of their figures."""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import re
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from storage import crypto
from storage.interface import (
    BUCKET_LENGTHS,
    CacheEntry,
    ConsentsOf,
    DecryptionFailed,
    PeriodFeedback,
    SegmentRead,
    StorageFull,
    StoreNotOpen,
    SummarySegment,
    bucket_keys,
)
from storage.memory import (
    utc,
)
from storage.sqlite_core import (
    StoreCore,
    cache_clock,
    unsealed,
    wall_clock,
)
from storage.sqlite_db import (
    dt,
    fetch_all,
    fetch_in,
    fetch_one,
    on_thread,
    run,
    ts,
)

log = logging.getLogger("storage")

CACHE_KEY_LIFE = timedelta(days=1)
"""How long after feedback expired a data backup's cached figures of it may stay readable."""
_CACHE_KEY_AAD = crypto.associated_data("cache_key", "1", "", 0)
_PERIOD_COLUMNS = "id, pseudonym, flow_id, key_version, created_at, expires_at, ciphertext"
# The summary cache: a bucket whose figures may have changed gets a new epoch and loses
# them. An invalidated row is kept for a while so that a summary that read the old epoch
# cannot store stale figures in a row re-created meanwhile (see save_summary_cache).
_DROP_FIGURES = (
    " ON CONFLICT (bucket) DO UPDATE SET epoch = epoch + 1, changed_at = excluded.changed_at,"
    " version = NULL, expires_at = NULL, ciphertext = NULL"
)
INVALIDATE_BUCKET_SQL = (
    "INSERT INTO main.summary_cache (bucket, epoch, changed_at) VALUES (?, 1, ?)"  # noqa: S608
    + _DROP_FIGURES
)
INVALIDATE_PERSON_SQL = (
    "INSERT INTO main.summary_cache (bucket, epoch, changed_at) SELECT bucket, 1, ?2 FROM ("  # noqa: S608
    + " UNION ".join(
        f"SELECT substr(created_at, 1, {length}) AS bucket"  # noqa: S608 (integers)
        " FROM main.feedback WHERE pseudonym = ?1"
        for length in BUCKET_LENGTHS
    )
    + ") WHERE true"
    + _DROP_FIGURES
)
# Drops the figures of the rows there are, making none (so it needs no room).
_DROPPING = (
    "UPDATE main.summary_cache SET epoch = epoch + 1, changed_at = {changed}, version = NULL,"
    " expires_at = NULL, ciphertext = NULL WHERE "
)


def _parts_of_a_day() -> str:
    """What follows the date in the name of every bucket a day holds ("", "T00", "T00:0",
    …), as the rows of a VALUES clause."""
    midnight = datetime(2000, 1, 1, tzinfo=UTC)
    parts = {
        bucket[len("2000-01-01") :]
        for step in range(24 * 6)
        for bucket in bucket_keys(midnight + timedelta(minutes=10 * step))
    }
    return ", ".join(f"('{part}')" for part in sorted(parts))


# When a person's feedback goes (an erasure, a withdrawal), every bucket of the days it
# was given on is dropped, not only its own, and all of them take one new epoch, the
# store's highest yet: the rows a drop leaves for a while, with when to the minute,
# named the person's hour and ten minutes in a copy of feedback.db beside the audit
# trail's entry of the erasure, and an epoch one higher than the day's others told them
# too, for as long as figures were cached there again (found by a metadata review).
THEIR_DAYS_SQL = "SELECT DISTINCT substr(created_at, 1, 10) FROM main.feedback WHERE pseudonym = ?"
_NEXT_EPOCH_SQL = "SELECT coalesce(max(epoch), 0) + 1 FROM main.summary_cache"
INVALIDATE_DAY_SQL = (  # (day, epoch, changed_at)
    "INSERT INTO main.summary_cache (bucket, epoch, changed_at)"  # noqa: S608 (constants)
    f" SELECT ?1 || column1, ?2, ?3 FROM (VALUES {_parts_of_a_day()}) WHERE true"
    " ON CONFLICT (bucket) DO UPDATE SET epoch = excluded.epoch,"
    " changed_at = excluded.changed_at, version = NULL, expires_at = NULL, ciphertext = NULL"
)
DROP_DAY_FIGURES_SQL = (  # the same in the rows there are (no room needed)
    "UPDATE main.summary_cache SET epoch = ?2, changed_at = ?3, version = NULL,"
    " expires_at = NULL, ciphertext = NULL WHERE substr(bucket, 1, 10) = ?1"
)


def drop_days(
    conn: sqlite3.Connection, days: Sequence[str], changed: str, make_rows: bool = True
) -> None:
    """Every bucket of `days` loses its figures and takes one new epoch, the store's
    highest yet (see above); `make_rows`: also the buckets that had no row, else only
    the rows there are change (which needs no room). In the caller's transaction."""
    epoch = conn.execute(_NEXT_EPOCH_SQL).fetchone()[0]
    sql = INVALIDATE_DAY_SQL if make_rows else DROP_DAY_FIGURES_SQL
    conn.executemany(sql, [(day, epoch, changed) for day in days])


DROP_BUCKET_FIGURES_SQL = (  # (bucket, changed_at)
    _DROPPING.format(changed="?2") + "bucket = ?1 AND ciphertext IS NOT NULL"
)
_DROP_UNSEALED_FIGURES_SQL = (  # the figures not sealed again under a renewed key
    _DROPPING.format(changed="?")  # noqa: S608 (constants)
    + "ciphertext IS NOT NULL AND bucket NOT IN (SELECT bucket FROM temp.resealed)"
)


def _summary_aad(bucket: str, version: str) -> bytes:
    return crypto.associated_data("summary_cache", f"{bucket}|{version}", "", 0)


def _contiguous(segments: list[SummarySegment]) -> list[tuple[datetime, datetime]]:
    """The segments' time ranges, with adjoining ones merged: one query per run."""
    ranges: list[tuple[datetime, datetime]] = []
    for segment in sorted(segments, key=lambda s: s.start):
        if ranges and segment.start <= ranges[-1][1]:
            ranges[-1] = (ranges[-1][0], max(ranges[-1][1], segment.end))
        else:
            ranges.append((segment.start, segment.end))
    return ranges


class SummaryCache(StoreCore):
    """Feedback of a period (for summaries and digests) and the cached figures of whole
    buckets, sealed with a cache key that erasure and expiry renew."""

    async def feedback_in_period(
        self, since: datetime, until: datetime, now: datetime, newest: int | None = None
    ) -> list[PeriodFeedback]:
        """Rows that do not open (tampered) and rows whose key is gone are skipped."""
        async with self._lock:
            rows = await self._period_rows(since, until, ts(now), newest)
            consents, deks = await self._consents_and_keys(rows)
        return await self._open_period_rows(rows, consents, deks)

    async def feedback_by_reference(
        self, reference: str, now: datetime, limit: int = 2
    ) -> list[PeriodFeedback]:
        """A row that does not open (tampered) or whose key is gone is skipped."""
        if not re.fullmatch(r"[0-9a-f]+", reference):
            return []
        async with self._lock:
            rows = await fetch_all(
                self._conn(),
                f"SELECT {_PERIOD_COLUMNS} FROM main.feedback"  # noqa: S608 (a constant)
                " WHERE id >= ? AND id < ? AND expires_at > ? ORDER BY id LIMIT ?",
                # Ids are lowercase hex: every id starting with the reference sorts before
                # the reference followed by "g" (the primary key's index finds them).
                (reference, reference + "g", ts(now), limit),
            )
            consents, deks = await self._consents_and_keys(rows)
        return await self._open_period_rows(rows, consents, deks)

    async def _period_rows(
        self, since: datetime, until: datetime, moment: str, newest: int | None = None
    ) -> list[sqlite3.Row]:
        sql = (
            f"SELECT {_PERIOD_COLUMNS} FROM main.feedback"  # noqa: S608 (a constant)
            " WHERE created_at >= ? AND created_at < ? AND expires_at > ?"
        )
        params = (ts(since), ts(until), moment)
        if newest is None:
            return await fetch_all(self._conn(), sql + " ORDER BY created_at, rowid", params)
        sql += " ORDER BY created_at DESC, rowid DESC LIMIT ?"
        return (await fetch_all(self._conn(), sql, (*params, newest)))[::-1]

    async def _consents_and_keys(
        self, rows: list[sqlite3.Row]
    ) -> tuple[dict[str, ConsentsOf], dict[tuple[str, int], bytes]]:
        """The consents and the data keys of everyone who wrote `rows`."""
        people = sorted({row[1] for row in rows})
        ledger: dict[str, list[tuple[str, datetime | None]]] = {p: [] for p in people}
        sql = "SELECT pseudonym, purpose, withdrawn_at FROM main.consents WHERE pseudonym IN"
        for pseudonym, purpose, withdrawn in await fetch_in(self._conn(), sql, people):
            ledger[pseudonym].append((purpose, dt(withdrawn) if withdrawn else None))
        consents = {p: ConsentsOf(entries) for p, entries in ledger.items()}
        return consents, await self._read_deks(people)

    async def _open_period_rows(
        self,
        rows: list[sqlite3.Row],
        consents: dict[str, ConsentsOf],
        deks: dict[tuple[str, int], bytes],
    ) -> list[PeriodFeedback]:
        # Decrypting needs no connection: done outside the lock and in slices, so people
        # chatting meanwhile are not kept waiting for a summary over many feedbacks.
        # A row that does not open (a damaged disk, a backup changed) stays out, as it does
        # from the person's evaluated feedback: it stopped every summary, digest and export
        # (found by an operator walk-through: "ciphertext failed authentication").
        result = []
        damaged = 0
        for index, (record_id, pseudonym, flow_id, version, created, expires, blob) in enumerate(
            rows
        ):
            if index % 500 == 499:
                await asyncio.sleep(0)
            dek = deks.get((pseudonym, version))
            if dek is None:  # the key is gone: an erasure cut short, the purge cleans up
                continue
            try:
                data = unsealed(dek, "feedback", record_id, pseudonym, version, blob)
            except DecryptionFailed:
                damaged += 1
                continue
            created_at = dt(created)
            result.append(
                PeriodFeedback(
                    id=record_id,
                    flow_id=flow_id,
                    created_at=created_at,
                    expires_at=dt(expires),
                    pseudonym=pseudonym,
                    consents_in_force=consents[pseudonym].for_feedback(created_at),
                    **data,
                )
            )
        if damaged:
            log.warning(
                "feedback_unreadable: %d feedback(s) that do not open left out",
                damaged,
                extra={"count": damaged},
            )
        return result

    # ---- the cache -------------------------------------------------------------------

    def _summary_key(self) -> bytes:
        if self._cache_key is None:
            raise StoreNotOpen("the store is not open")
        return self._cache_key

    def _cache_key_kek(self) -> bytes:
        return self._derived_key(b"feedbackbot/summary-cache-wrap/v1")

    async def _load_cache_key(self) -> None:
        row = await fetch_one(self._conn(), "SELECT wrapped FROM keys.cache_key WHERE id = 1")
        if row is None:
            await self._renew_cache_key()
            return
        self._cache_key = crypto.unwrap_key(self._cache_key_kek(), row[0], _CACHE_KEY_AAD)

    async def _renew_cache_key(self, at: datetime | None = None) -> None:
        """A fresh summary-cache key: every older copy of the store (a data backup) loses
        its cached figures, as the old key no longer exists anywhere. The figures still
        valid here (unexpired; an erased person's were dropped before) are sealed again
        under the new key, in the same transaction, so that a summary after an erasure
        does not recount every day (seconds on a large store); the rest are dropped.
        `at`: when, by the caller's clock (else the wall clock)."""
        key = crypto.generate_key()
        wrapped = crypto.wrap_key(self._cache_key_kek(), key, _CACHE_KEY_AAD)
        changed = cache_clock()
        renewed = wall_clock() if at is None else ts(at)
        old = self._cache_key

        def renew(conn: sqlite3.Connection) -> None:
            # A renewal makes every older copy's figures unreadable: nothing is owed then.
            conn.execute(
                "INSERT INTO keys.cache_key (id, wrapped, renewed_at) VALUES (1, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET wrapped = excluded.wrapped,"
                " renewed_at = excluded.renewed_at, renewal_owed = NULL",
                (wrapped, renewed),
            )
            resealed = []
            if old is not None:
                rows = conn.execute(
                    "SELECT bucket, version, ciphertext FROM main.summary_cache"
                    " WHERE ciphertext IS NOT NULL AND expires_at > ?",
                    (renewed,),
                ).fetchall()
                for bucket, version, blob in rows:
                    aad = _summary_aad(str(bucket), str(version))
                    try:
                        payload = crypto.decrypt(old, blob, aad)
                    except DecryptionFailed:
                        continue  # dropped below, recounted when asked for
                    resealed.append((crypto.encrypt(key, payload, aad), bucket))
            conn.execute(
                "CREATE TEMP TABLE IF NOT EXISTS resealed (bucket TEXT PRIMARY KEY, blob BLOB)"
            )
            conn.execute("DELETE FROM temp.resealed")
            conn.executemany("INSERT INTO temp.resealed (blob, bucket) VALUES (?, ?)", resealed)
            conn.execute(_DROP_UNSEALED_FIGURES_SQL, (changed,))
            conn.execute(
                "UPDATE main.summary_cache SET ciphertext ="
                " (SELECT blob FROM temp.resealed r WHERE r.bucket = summary_cache.bucket)"
                " WHERE bucket IN (SELECT bucket FROM temp.resealed)"
            )
            conn.execute("DELETE FROM temp.resealed")

        await on_thread(self._conn(), renew, atomic=True)
        self._cache_key = key

    async def _their_days(self, pseudonym: str) -> list[str]:
        """The UTC days the person's feedback was given on."""
        rows = await fetch_all(self._conn(), THEIR_DAYS_SQL, (pseudonym,))
        return sorted(str(row[0]) for row in rows)

    async def _drop_cached_days(self, days: list[str]) -> bool:
        """Every bucket of `days` loses its figures (see `drop_days`), under the lock.
        Whether rows were made for the buckets that had none; on a full disk only the
        rows there are change, and a summary that read a bucket without a row could
        still store its figures: `_drop_cached_days_again` once there is room."""
        try:
            await on_thread(
                self._conn(), partial(drop_days, days=days, changed=cache_clock()), atomic=True
            )
        except StorageFull:
            await on_thread(
                self._conn(),
                partial(drop_days, days=days, changed=cache_clock(), make_rows=False),
                atomic=True,
            )
            return False
        return True

    async def _drop_cached_days_again(self, days: list[str]) -> None:
        """After `_drop_cached_days` found no room, once the person's rows are gone (they
        made some): the rows of `days` made after all, with a new epoch, so that no
        summary that read the person's feedback can store figures of it."""
        with contextlib.suppress(StorageFull):
            await on_thread(
                self._conn(), partial(drop_days, days=days, changed=cache_clock()), atomic=True
            )

    async def summary_segments(
        self, segments: list[SummarySegment], version: str, now: datetime
    ) -> list[SegmentRead]:
        """A feedback record that does not open (tampered) is left out; a cached entry that does
        not decrypt is logged and read from the feedback instead."""
        moment = ts(now)
        key = self._summary_key()
        buckets = [s.bucket for s in segments if s.bucket is not None]
        epochs: dict[str, int] = {}
        cached: dict[str, bytes] = {}
        async with self._lock:
            sql = (
                "SELECT bucket, epoch, version, expires_at, ciphertext FROM main.summary_cache"
                " WHERE bucket IN"
            )
            for bucket, epoch, saved_for, expires, blob in await fetch_in(
                self._conn(), sql, buckets
            ):
                epochs[bucket] = epoch
                if blob is not None and saved_for == version and expires > moment:
                    try:
                        cached[bucket] = crypto.decrypt(key, blob, _summary_aad(bucket, version))
                    except DecryptionFailed:
                        log.warning("summary_cache_unreadable")
            live = [s for s in segments if s.bucket not in cached]
            rows: list[sqlite3.Row] = []
            for start, end in _contiguous(live):
                rows += await self._period_rows(start, end, moment)
            consents, deks = await self._consents_and_keys(rows)
        records = await self._open_period_rows(rows, consents, deks)
        records.sort(key=lambda r: r.created_at)
        times = [r.created_at for r in records]
        reads = []
        for segment in segments:
            epoch = epochs.get(segment.bucket or "", 0)
            if segment.bucket in cached:
                reads.append(
                    SegmentRead(segment=segment, cached=cached[segment.bucket], epoch=epoch)
                )
                continue
            first = bisect.bisect_left(times, utc(segment.start))
            last = bisect.bisect_left(times, utc(segment.end))
            reads.append(SegmentRead(segment=segment, epoch=epoch, records=records[first:last]))
        return reads

    async def save_summary_cache(
        self, entries: list[CacheEntry], version: str, now: datetime | None = None
    ) -> int:
        """Raises StorageFull (nothing kept) when there is no space."""
        if now is not None:
            entries = [e for e in entries if e.expires_at > now]
        if not entries:
            return 0
        changed = cache_clock()

        def sealed(key: bytes) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
            inserts, updates = [], []
            for entry in entries:
                blob = crypto.encrypt(key, entry.payload, _summary_aad(entry.bucket, version))
                expires = ts(entry.expires_at)
                if entry.epoch == 0:  # no row when it was read: only if none was made since
                    inserts.append((entry.bucket, changed, version, expires, blob))
                else:
                    # when, as the row's time: kept from its drop, it dated an erasure
                    # and told the erased person's days for as long as these figures
                    updates.append((version, expires, blob, changed, entry.bucket, entry.epoch))
            return inserts, updates

        def save(conn: sqlite3.Connection) -> int:
            # Sealed under the lock: with the key in force, never one a renewal replaced
            # while these figures were computed.
            inserts, updates = sealed(key)
            kept: int = conn.executemany(
                "INSERT OR IGNORE INTO main.summary_cache"
                " (bucket, epoch, changed_at, version, expires_at, ciphertext)"
                " VALUES (?, 0, ?, ?, ?, ?)",
                inserts,
            ).rowcount
            return (
                kept
                + conn.executemany(
                    "UPDATE main.summary_cache SET version = ?, expires_at = ?, ciphertext = ?,"
                    " changed_at = ? WHERE bucket = ? AND epoch = ?",
                    updates,
                ).rowcount
            )

        async with self._lock:
            key = self._summary_key()
            return await on_thread(self._conn(), save, atomic=True)

    async def _renew_cache_key_daily(self, now: datetime, owed: bool) -> None:
        """Feedback has expired (`owed`, now or at an earlier purge): cached figures counted
        it (words of comments, hashes of people), and a data backup made before holds them
        sealed with the cache key. A new key leaves those copies unreadable too, as an
        erasure does at once: at most once a day, so that summaries are not recomputed at
        every purge. Owed is kept in the key store until a renewal pays it."""
        async with self._lock:
            if owed:
                await run(
                    self._conn(),
                    "UPDATE keys.cache_key SET renewal_owed = coalesce(renewal_owed, ?)",
                    (ts(now),),
                )
            row = await fetch_one(
                self._conn(), "SELECT renewed_at, renewal_owed FROM keys.cache_key"
            )
            if row is None or row[1] is None:
                return
            renewed = dt(row[0]) if row[0] is not None else None
            # (One in the future: a clock set back since; better renew.)
            if renewed is not None and now - CACHE_KEY_LIFE < renewed <= now:
                return
            await self._renew_cache_key(now)
