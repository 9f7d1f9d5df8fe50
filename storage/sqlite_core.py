"""What every part of the SQLite store shares: the connection, its lock, the data keys."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import secrets
import sqlite3
from collections import OrderedDict
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import partial
from typing import Any

import aiosqlite
import pydantic_core

from storage import crypto
from storage.interface import (
    DecryptionFailed,
    StorageFull,
    StoreError,
    StoreNotOpen,
)
from storage.memory import to_the_minute
from storage.sqlite_db import (
    fetch_all,
    fetch_in,
    fetch_one,
    on_thread,
    run_many,
    truncate_wals,
    ts,
)

KEY_VERSION = 1
"""The person's own key: consent records, language choice, and (as every row did before
1 Dec 2026) what they gave before. Each survey answered has a key of its own (see
`_new_deks`), so that feedback that goes, by expiry or a withdrawal, takes its key with
it while the person's other data stays: copies of the data made before cannot be read
for it once the key store's own backups from before have rotated out."""
RECORD_VERSIONS = 2**31
"""Versions of the keys of one survey's answers are drawn at random below this (from 2;
they are packed as 32 bits into each ciphertext's associated data): a version is never
counted up again to one a destroyed key had, whose rows an old backup still holds."""
DEK_CACHE_SIZE = 1024
SPARE_KEYS = 1024
"""At most this many people's spare record keys are kept in memory (see `_write_dek`)."""
RETRACT_POSTS = (
    "UPDATE ledger.staff_posts SET pseudonym = NULL, feedback_id = NULL, purpose = NULL, redraw = 0"
)
"""Followed by a WHERE: staff-chat posts to be retracted, tied to nobody any more."""
REDRAW_POSTS = "UPDATE ledger.staff_posts SET redraw = 1 WHERE pseudonym = ?"
"""The person's posts still tied to them: to be shown again as their consents now allow."""

log = logging.getLogger("storage")

CHECKPOINT_RETRY = 1.0
"""Seconds between attempts at a checkpoint a reader in another process held up."""
CHECKPOINT_PATIENCE = 60
"""Attempts after which the log says the WAL is still not truncated (they go on)."""


def seal(
    dek: bytes, table: str, record_id: str, pseudonym: str, value: Any, version: int = KEY_VERSION
) -> bytes:
    aad = crypto.associated_data(table, record_id, pseudonym, version)
    return crypto.encrypt(dek, pydantic_core.to_json(value), aad)


def unsealed(
    dek: bytes, table: str, record_id: str, pseudonym: str, version: int, blob: bytes
) -> Any:
    """The JSON value `seal` encrypted; DecryptionFailed if tampered or moved."""
    aad = crypto.associated_data(table, record_id, pseudonym, version)
    return json.loads(crypto.decrypt(dek, blob, aad))


SEALED_TABLES = ("feedback", "drafts", "contacts", "languages", "consents")
"""The tables whose rows are sealed under a person's data key."""
_RECORD_TABLES = ("feedback", "drafts")
"""The tables with rows under a survey's own key (the others are under KEY_VERSION)."""
_UNUSED_IN = " AND ".join(  # table names from the constants above, never from input
    f"NOT EXISTS (SELECT 1 FROM main.{table} t WHERE t.pseudonym = k.pseudonym"  # noqa: S608
    " AND t.key_version = k.key_version)"
    for table in _RECORD_TABLES
)
_VERSIONS_SQL = " UNION ".join(
    [
        "SELECT key_version FROM keys.data_keys WHERE pseudonym = ?",
        *(
            f"SELECT key_version FROM main.{table} WHERE pseudonym = ?"  # noqa: S608
            for table in SEALED_TABLES
        ),
    ]
)
_VERSIONS_PARAMS = 1 + len(SEALED_TABLES)  # the pseudonym, once for each SELECT
_UNUSED_RECORD_KEYS_SQL = (
    "SELECT k.pseudonym, k.key_version FROM keys.data_keys AS k"  # noqa: S608
    " WHERE {people} AND k.key_version != 1"
    f" AND k.created_at <= ? AND {_UNUSED_IN}"
)
_UNUSED_OF_PERSON = _UNUSED_RECORD_KEYS_SQL.format(people="k.pseudonym = ?")
_UNUSED_IN_WINDOW = _UNUSED_RECORD_KEYS_SQL.format(people="k.pseudonym > ? AND k.pseudonym <= ?")


def drop_unused_record_keys(
    conn: sqlite3.Connection, people: tuple[str] | tuple[str, str], made_before: str
) -> list[tuple[str, int]]:
    """Destroy the record keys (not KEY_VERSION) made before `made_before` that no row
    is sealed under any more, of one person (`people`: their pseudonym) or of a window of
    pseudonyms (after the first, up to the second), inside the caller's transaction;
    which they were."""
    sql = _UNUSED_OF_PERSON if len(people) == 1 else _UNUSED_IN_WINDOW
    rows = [
        (str(pseudonym), int(version))
        for pseudonym, version in conn.execute(sql, (*people, made_before))
    ]
    conn.executemany("DELETE FROM keys.data_keys WHERE pseudonym = ? AND key_version = ?", rows)
    return rows


def wall_clock() -> str:
    return ts(datetime.now(UTC))


def cache_clock() -> str:
    """The wall clock to the minute, for a summary cache row's `changed_at`: the rows an
    erasure drops shared one time to the microsecond, which told them from all others as
    one person's and dated the erasure in a copy of feedback.db. Only the purge reads it,
    an hour (CACHE_ROW_MEMORY) on; cut down, a row is kept 59 minutes at the least."""
    return ts(to_the_minute(datetime.now(UTC)))


def dek_aad(pseudonym: str, version: int) -> bytes:
    return crypto.associated_data("data_keys", "dek", pseudonym, version)


class StoreCore:
    """The state the parts of `SQLiteStore` share; opened by `SQLiteStore.open`."""

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != crypto.KEY_BYTES:
            raise crypto.InvalidMasterKey(f"master key must be {crypto.KEY_BYTES} bytes")
        self._master_key = master_key
        self._db: aiosqlite.Connection | None = None
        self._pseudonym_key: bytes | None = None
        self._cache_key: bytes | None = None
        self._deks: OrderedDict[tuple[str, int], bytes] = OrderedDict()
        self._spares: OrderedDict[str, tuple[int, bytes]] = OrderedDict()
        self._keys_swept = False
        """Whether a purge of this run has taken the unused record keys made before it
        (see `purge_expired`)."""
        self._opened_at = ""
        """When this run opened the store, by the wall clock (as keys are dated)."""
        # One connection serves every coroutine. Each transaction is one job on its thread
        # (sqlite_db.on_thread), so transactions cannot mix; the lock orders the work that
        # takes several jobs or touches the data keys: a key read from the key store and
        # cached, written, or shredded (with the rows encrypted under it), erasure, the
        # purge's windows. A single job that needs no key but a cached one goes without
        # it (claim_update, load_draft): those run on every update.
        self._lock = asyncio.Lock()
        self._checkpoint_retry: asyncio.Task[None] | None = None

    def is_master_key(self, key: bytes) -> bool:
        """Whether `key` is the master key this store opens with (compared in constant
        time): a rotation to it would change nothing."""
        return hmac.compare_digest(key, self._master_key)

    def _conn(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StoreNotOpen("store is not open")
        return self._db

    def pseudonym(self, subject: str) -> str:
        if self._pseudonym_key is None:
            raise StoreNotOpen("store is not open")
        return crypto.pseudonym(self._pseudonym_key, subject)

    # ---- data keys -----------------------------------------------------------------

    async def _read_dek(self, pseudonym: str, version: int) -> bytes | None:
        """The person's data key, or None once it was destroyed; DecryptionFailed if tampered."""
        cached = self._cached_dek(pseudonym, version)
        if cached is not None:
            return cached
        row = await fetch_one(
            self._conn(),
            "SELECT wrapped_dek FROM keys.data_keys WHERE pseudonym = ? AND key_version = ?",
            (pseudonym, version),
        )
        if row is None:
            return None
        dek = crypto.unwrap_key(self._master_key, row[0], dek_aad(pseudonym, version))
        self._remember(pseudonym, version, dek)
        return dek

    async def _read_deks(self, people: list[str]) -> dict[tuple[str, int], bytes]:
        """Many people's data keys in a few queries (for staff views over everyone);
        kept out of the LRU so one summary does not evict the people now chatting."""
        keys: dict[tuple[str, int], bytes] = {}
        sql = "SELECT pseudonym, key_version, wrapped_dek FROM keys.data_keys WHERE pseudonym IN"
        for pseudonym, version, wrapped in await fetch_in(self._conn(), sql, people):
            aad = dek_aad(pseudonym, version)
            keys[(pseudonym, version)] = crypto.unwrap_key(self._master_key, wrapped, aad)
        return keys

    async def _write_dek(self, pseudonym: str, spare: bool = False) -> bytes:
        """The person's own key (KEY_VERSION), created on first use.

        Committed on its own before the data that uses it, so data never exists without
        its key (only the reverse, which the purge cleans up). `spare`: the person is
        about to answer a survey (they consent), so the key of those answers is made in
        the same write, one synced write to the key store fewer per new person (measured:
        about a tenth of the conversations' throughput); `_new_deks` hands it out.
        """
        dek = await self._read_dek(pseudonym, KEY_VERSION)
        if dek is not None:
            return dek
        deks = {KEY_VERSION: (dek := crypto.generate_key())}
        if spare:
            [version] = await self._free_versions(pseudonym, 1)
            deks[version] = crypto.generate_key()
        await self._insert_deks(pseudonym, deks)
        if spare:
            self._spares[pseudonym] = (version, deks[version])
            while len(self._spares) > SPARE_KEYS:  # unused: the purge destroys it
                self._spares.popitem(last=False)
        return dek

    async def _new_deks(self, pseudonym: str, count: int) -> list[tuple[int, bytes]]:
        """`count` new keys for records of the person, each under a version of its own
        that the person has no key under (committed, as `_write_dek`), the spare one
        made with the person's own key first; unused ones go with `_drop_unused_deks`."""
        if count <= 0:
            return []
        # A spare key still in the key store: every deletion of keys forgets them.
        spare = self._spares.pop(pseudonym, None)
        fresh = [spare] if spare is not None else []
        if len(fresh) < count:
            versions = await self._free_versions(pseudonym, count - len(fresh))
            made = {version: crypto.generate_key() for version in versions}
            await self._insert_deks(pseudonym, made)
            fresh += made.items()
        return fresh

    async def _free_versions(self, pseudonym: str, count: int) -> list[int]:
        """`count` random record key versions the person has no key under, nor a row
        still names whose key is gone (restored without its key store): that row would no
        longer read as absent but as tampered with."""
        taken = {
            int(row[0])
            for row in await fetch_all(self._conn(), _VERSIONS_SQL, (pseudonym,) * _VERSIONS_PARAMS)
        }
        versions: set[int] = set()
        while len(versions) < count:
            version = 2 + secrets.randbelow(RECORD_VERSIONS - 2)
            if version not in taken:
                versions.add(version)
        return list(versions)

    async def _conversation_dek(
        self, pseudonym: str, now: datetime, fresh: bool = False
    ) -> tuple[int, bytes, bool | None]:
        """The key of the answers the person is giving now: their unfinished answers' key
        (which their feedback takes over when it is stored), or a new one: for answers
        begun afresh (`fresh`: another survey, or answers taken out at a withdrawal),
        over unfinished answers that expired by `now`, or over answers from before keys
        of their own (under the person's own key). Last, None for the key the answers
        have; else whether it is new over answers whose key may go (see
        `_drop_unused_deks`), or new with none there."""
        row = await fetch_one(
            self._conn(),
            "SELECT key_version, expires_at > ? FROM main.drafts WHERE pseudonym = ?",
            (ts(now), pseudonym),
        )
        if row is not None and not fresh and row[1] and int(row[0]) != KEY_VERSION:
            version = int(row[0])
            with contextlib.suppress(DecryptionFailed):
                dek = await self._read_dek(pseudonym, version)
                if dek is not None:
                    return version, dek, None
        [(version, dek)] = await self._new_deks(pseudonym, 1)
        return version, dek, row is not None

    async def _insert_deks(self, pseudonym: str, deks: dict[int, bytes]) -> None:
        now = ts(datetime.now(UTC))
        rows = [
            (
                pseudonym,
                version,
                crypto.wrap_key(self._master_key, dek, dek_aad(pseudonym, version)),
                now,
            )
            for version, dek in deks.items()
        ]
        await run_many(  # one transaction: atomic and durable (keys.db is synchronous=FULL)
            self._conn(),
            "INSERT INTO keys.data_keys (pseudonym, key_version, wrapped_dek, created_at)"
            " VALUES (?, ?, ?, ?)",
            rows,
        )
        for version, dek in deks.items():
            self._remember(pseudonym, version, dek)

    async def _drop_unused_deks(self, pseudonym: str) -> int:
        """Destroy the person's record keys no row is sealed under any more (under the
        store's lock, after the rows went); how many. On a full disk, none: the purge
        destroys them later, and what went before stays done."""
        work = partial(drop_unused_record_keys, people=(pseudonym,), made_before="9999")
        try:
            dropped = await on_thread(self._conn(), work, atomic=True)
        except StorageFull:
            log.warning("record_keys_left_to_the_purge")
            return 0
        self._forget_keys(dropped)
        return len(dropped)

    def _cached_dek(self, pseudonym: str, version: int) -> bytes | None:
        cached = self._deks.get((pseudonym, version))
        if cached is not None:
            self._deks.move_to_end((pseudonym, version))
        return cached

    def _remember(self, pseudonym: str, version: int, dek: bytes) -> None:
        self._deks[(pseudonym, version)] = dek
        self._deks.move_to_end((pseudonym, version))
        while len(self._deks) > DEK_CACHE_SIZE:
            self._deks.popitem(last=False)

    def _forget_keys(self, keys: Iterable[tuple[str, int]]) -> None:
        """Keys destroyed: out of the cache, and no longer handed out as spare."""
        for pseudonym, version in keys:
            self._deks.pop((pseudonym, version), None)
            if pseudonym in self._spares and self._spares[pseudonym][0] == version:
                del self._spares[pseudonym]

    def _forget(self, pseudonyms: Iterable[str]) -> None:
        """Every key of these people destroyed (see `_forget_keys`)."""
        gone = set(pseudonyms)
        for cache_key in [k for k in self._deks if k[0] in gone]:
            del self._deks[cache_key]
        for pseudonym in gone:
            self._spares.pop(pseudonym, None)

    async def _feedback_deks(self, pseudonym: str) -> dict[int, bytes]:
        """The person's data keys that open their feedback and what it added to the
        statistics (under the store's lock); a key that is gone or damaged is left out."""
        rows = await fetch_all(
            self._conn(),
            "SELECT DISTINCT key_version FROM main.feedback WHERE pseudonym = ?",
            (pseudonym,),
        )
        deks = {}
        for (version,) in rows:
            with contextlib.suppress(DecryptionFailed):
                deks[version] = await self._read_dek(pseudonym, version)
        return {version: dek for version, dek in deks.items() if dek is not None}

    async def _unseal(
        self, table: str, record_id: str, pseudonym: str, version: int, blob: bytes
    ) -> Any | None:
        """The decrypted JSON value, or None when the person's key is gone."""
        dek = await self._read_dek(pseudonym, version)
        if dek is None:
            return None
        return unsealed(dek, table, record_id, pseudonym, version, blob)

    def _derived_key(self, label: bytes) -> bytes:
        # Derived from the pseudonym key, so it needs no storage of its own and follows
        # the master key through rotation; without the master key the data is unreadable.
        if self._pseudonym_key is None:
            raise StoreNotOpen("the store is not open")
        return crypto.derive_key(self._pseudonym_key, label)

    async def _checkpoint(self) -> None:
        """Fold the WAL into the main files and truncate it, so deleted rows' old page
        images do not linger in the -wal file. Held up by a reader in another process (a
        backup copying), it is tried again in the background until it is done, rather
        than waited for under the lock."""
        if await on_thread(self._conn(), truncate_wals) and not self._checkpoint_pending():
            log.info("checkpoint_deferred")
            self._checkpoint_retry = asyncio.create_task(self._checkpoint_later(), name="wal")

    def _checkpoint_pending(self) -> bool:
        return self._checkpoint_retry is not None and not self._checkpoint_retry.done()

    async def _checkpoint_later(self) -> None:
        attempts = 0
        while True:
            await asyncio.sleep(CHECKPOINT_RETRY)
            attempts += 1
            async with self._lock:
                if self._db is None:  # closed: closing checkpointed
                    return
                try:
                    if not await on_thread(self._db, truncate_wals):
                        log.info("checkpoint_done")
                        return
                except (StoreError, sqlite3.Error) as error:
                    log.warning("checkpoint failed: %s", type(error).__name__)
                    return
            if attempts == CHECKPOINT_PATIENCE:
                log.warning("checkpoint_incomplete: a reader holds the WAL; still trying")
