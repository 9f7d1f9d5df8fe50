"""The SQLite store: one aiosqlite connection, data in feedback.db, keys in keys.db.

The key store is a separate file (ATTACHed as schema ``keys``) so that a backup of
the data never carries the keys that open it. Every personal value is encrypted
under its person's data key (DEK); DEKs are wrapped by the master key. Erasure
deletes the DEK first, so every copy of the data taken before becomes unreadable.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import json
import logging
import os
import sqlite3
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import aiosqlite
import pydantic_core

from storage import crypto, sqlite_db
from storage.interface import (
    BUCKET_LENGTHS,
    N_,
    RELEASE_MEMORY,
    AuditEntry,
    CacheEntry,
    ConsentGrant,
    ConsentMissing,
    ConsentRecord,
    ConsentsOf,
    DataStoreMissing,
    DecryptionFailed,
    DeletionNotice,
    Delivery,
    Draft,
    ErasureReport,
    FeedbackRecord,
    KeyStoreMissing,
    LanguageChoice,
    MasterKeyMismatch,
    NewFeedback,
    PeriodFeedback,
    PurgeReport,
    Release,
    SegmentRead,
    StatisticsRow,
    StorageFull,
    Store,
    StoreError,
    StoreNotOpen,
    SummarySegment,
    Tallies,
    bucket_keys,
)
from storage.memory import (
    KEY_GRACE,
    UPDATE_MEMORY,
    add_tallies,
    new_record_id,
    subtract_tallies,
    utc,
)
from storage.sqlite_db import (
    DATA_MIGRATIONS,
    KEY_MIGRATIONS,
    configure,
    create_private_file,
    dt,
    durable_rename,
    fetch_all,
    fetch_in,
    fetch_one,
    fresh_private_file,
    migrate,
    on_thread,
    run,
    run_many,
    ts,
)

DATA_FILE = "feedback.db"
KEY_STORE_FILE = "keys.db"
KEY_VERSION = 1  # the version new data keys get; kept per row so keys can be rotated later
PURGE_BATCH = 200
# Rows the purge looks at per statement when it searches (orphans, unused keys): each
# statement holds the connection, so it must stay short however large the store is.
SCAN_WINDOW = 2000
DEK_CACHE_SIZE = 1024
_UNLIMITED_PAGES = 4294967294
_PSEUDONYM_KEY_AAD = b"feedbackbot/pseudonym-key/v1"
_DRAFT_ID = "draft"  # drafts and contacts are one row per person, keyed by the pseudonym
_CONTACT_ID = "contact"
_LANGUAGE_ID = "language"
_TALLIES = "feedback.tallies"  # what a feedback added to the statistics (see _untally)

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
_PERSON_TABLES = ("feedback", "drafts", "consents", "contacts", "deliveries", "languages")
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
_WITHDRAW_SQL = (
    "UPDATE main.consents AS t SET withdrawn_at = ?"
    " WHERE pseudonym = ? AND purpose = ? AND withdrawn_at IS NULL"
    " AND EXISTS (SELECT 1 FROM keys.data_keys k"
    "  WHERE k.pseudonym = t.pseudonym AND k.key_version = t.key_version)"
)
# A contact chat id is only kept for the feedback it was given with.
_DETACHED_CONTACTS_SQL = (
    "DELETE FROM main.contacts WHERE rowid IN (SELECT c.rowid FROM main.contacts c"
    " WHERE NOT EXISTS (SELECT 1 FROM main.feedback f WHERE f.pseudonym = c.pseudonym)"
    " AND NOT EXISTS (SELECT 1 FROM main.drafts d WHERE d.pseudonym = c.pseudonym) LIMIT ?)"
)
# Consent records are proof for what they cover: they go once no feedback, unfinished
# answers or contact chat id is left, unless one is newer than the grace period (given
# just before the first draft is saved). Usually the key goes then too, and they with it
# (_drop_unused_keys); a language choice keeps the key, not them: this is for its holders,
# walked through the (small) table of choices.
_CHOOSERS_CONSENTS_SQL = (
    "DELETE FROM main.consents WHERE pseudonym IN (SELECT l.pseudonym FROM main.languages l"
    " WHERE l.rowid > ? AND l.rowid <= ?"
    " AND NOT EXISTS (SELECT 1 FROM main.feedback f WHERE f.pseudonym = l.pseudonym)"
    " AND NOT EXISTS (SELECT 1 FROM main.drafts d WHERE d.pseudonym = l.pseudonym)"
    " AND NOT EXISTS (SELECT 1 FROM main.contacts c WHERE c.pseudonym = l.pseudonym)"
    " AND NOT EXISTS (SELECT 1 FROM main.consents h"
    "  WHERE h.pseudonym = l.pseudonym AND h.granted_at > ?))"
)
# A record of passing a feedback on goes with the feedback (its retention is the
# feedback's: the recipient deletes its copy by then), not with the person's other data.
_DETACHED_DELIVERIES_SQL = (
    "DELETE FROM main.deliveries WHERE rowid IN (SELECT d.rowid FROM main.deliveries d"
    " WHERE d.rowid > ? AND d.rowid <= ?"
    " AND NOT EXISTS (SELECT 1 FROM main.feedback f WHERE f.id = d.feedback_id))"
)
_DROP_ALL_FIGURES_SQL = (
    "UPDATE main.summary_cache SET epoch = epoch + 1, changed_at = ?, version = NULL,"
    " expires_at = NULL, ciphertext = NULL WHERE ciphertext IS NOT NULL"
)
_CACHE_KEY_AAD = crypto.associated_data("cache_key", "1", "", 0)
_OLD_AUDIT_SQL = (  # FEEDBACKBOT_AUDIT_RETENTION; the index audit_at finds them
    "DELETE FROM main.audit WHERE id IN (SELECT id FROM main.audit WHERE at < ? LIMIT ?)"
)
_OLD_UPDATES_SQL = (
    "DELETE FROM main.processed_updates WHERE update_id IN"
    " (SELECT update_id FROM main.processed_updates WHERE seen_at < ? LIMIT ?)"
)
# The summary cache: a bucket whose figures may have changed gets a new epoch and loses
# them. An invalidated row is kept for a while so that a summary that read the old epoch
# cannot store stale figures in a row re-created meanwhile (see save_summary_cache).
_DROP_FIGURES = (
    " ON CONFLICT (bucket) DO UPDATE SET epoch = epoch + 1, changed_at = excluded.changed_at,"
    " version = NULL, expires_at = NULL, ciphertext = NULL"
)
_INVALIDATE_BUCKET_SQL = (
    "INSERT INTO main.summary_cache (bucket, epoch, changed_at) VALUES (?, 1, ?)"  # noqa: S608
    + _DROP_FIGURES
)
# A full disk's fallback for erasure: the days' counts holding the person's feedback go.
_PERSON_STATISTICS_DAYS_SQL = (
    "SELECT DISTINCT substr(created_at, 1, 10), flow_id FROM main.feedback"
    " WHERE pseudonym = ? AND tallies IS NOT NULL"
)
_INVALIDATE_PERSON_SQL = (
    "INSERT INTO main.summary_cache (bucket, epoch, changed_at) SELECT bucket, 1, ?2 FROM ("  # noqa: S608
    + " UNION ".join(
        f"SELECT substr(created_at, 1, {length}) AS bucket"  # noqa: S608 (integers)
        " FROM main.feedback WHERE pseudonym = ?1"
        for length in BUCKET_LENGTHS
    )
    + ") WHERE true"
    + _DROP_FIGURES
)
_DROP_PERSON_FIGURES_SQL = (
    "UPDATE main.summary_cache SET epoch = epoch + 1, changed_at = ?2, version = NULL,"  # noqa: S608
    " expires_at = NULL, ciphertext = NULL WHERE bucket IN ("
    + " UNION ".join(
        f"SELECT substr(created_at, 1, {length})"  # noqa: S608 (integers)
        " FROM main.feedback WHERE pseudonym = ?1"
        for length in BUCKET_LENGTHS
    )
    + ")"
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
_OLD_RELEASES_SQL = (  # but the newest of them: where the oldest period may start
    "DELETE FROM main.releases WHERE at IN (SELECT at FROM main.releases WHERE at < ?"
    " AND at < (SELECT max(at) FROM main.releases WHERE at < ?) LIMIT ?)"
)
CACHE_ROW_MEMORY = timedelta(hours=1)
CACHE_KEY_LIFE = timedelta(days=1)
"""How long after feedback expired a data backup's cached figures of it may stay readable."""
_PERIOD_COLUMNS = "id, pseudonym, flow_id, key_version, created_at, expires_at, ciphertext"
_UNUSED_KEYS_SQL = (
    "SELECT k.pseudonym FROM keys.data_keys k"
    " WHERE k.pseudonym > ? AND k.pseudonym <= ?"
    " AND NOT EXISTS (SELECT 1 FROM main.feedback f WHERE f.pseudonym = k.pseudonym)"
    " AND NOT EXISTS (SELECT 1 FROM main.drafts d WHERE d.pseudonym = k.pseudonym)"
    " AND NOT EXISTS (SELECT 1 FROM main.contacts c WHERE c.pseudonym = k.pseudonym)"
    " AND NOT EXISTS (SELECT 1 FROM main.languages l WHERE l.pseudonym = k.pseudonym)"
    " AND NOT EXISTS (SELECT 1 FROM main.consents g"
    "  WHERE g.pseudonym = k.pseudonym AND g.granted_at > ?)"
)


class SQLiteStore(Store):
    """Store on SQLite. `max_page_count` caps the data file (tests use it to fill the disk)."""

    def __init__(
        self,
        data_dir: Path,
        master_key: bytes,
        *,
        max_page_count: int | None = None,
        exclusive: bool = False,
    ) -> None:
        """`exclusive`: hold the data dir's lock while open (see `sqlite_db.hold_lock`)."""
        if len(master_key) != crypto.KEY_BYTES:
            raise crypto.InvalidMasterKey(f"master key must be {crypto.KEY_BYTES} bytes")
        self._dir = Path(data_dir)
        self._data_path = self._dir / DATA_FILE
        self._keys_path = self._dir / KEY_STORE_FILE
        self._master_key = master_key
        self._max_page_count = max_page_count
        self._exclusive = exclusive
        self._lock_file: int | None = None
        self._db: aiosqlite.Connection | None = None
        self._pseudonym_key: bytes | None = None
        self._cache_key: bytes | None = None
        self._deks: OrderedDict[tuple[str, int], bytes] = OrderedDict()
        # One connection serves every coroutine. Each transaction is one job on its thread
        # (sqlite_db.on_thread), so transactions cannot mix; the lock orders the work that
        # takes several jobs or touches the data keys: a key read from the key store and
        # cached, written, or shredded (with the rows encrypted under it), erasure, the
        # purge's windows. A single job that needs no key but a cached one goes without
        # it (claim_update, load_draft): those run on every update.
        self._lock = asyncio.Lock()

    # ---- opening -----------------------------------------------------------------

    async def open(self) -> None:
        """Open or create the store.

        Raises MasterKeyMismatch (key does not open keys.db) or KeyStoreMissing (data
        without keys.db) before anything is opened for writing, so the files stay
        byte-for-byte unchanged; StoreError if secure_delete or WAL cannot be enabled
        or the files were written by a newer version.
        """
        if self._db is not None:
            raise StoreError("store is already open")
        sqlite_db.check_driver()
        if self._exclusive:
            self._lock_file = sqlite_db.hold_lock(self._dir)
        try:
            await self._open()
        except sqlite3.DatabaseError as error:
            self._release_lock()
            if "readonly" in str(error):  # permissions, a read-only mount: nothing damaged
                raise StoreError(
                    N_(
                        "cannot write to the store in {path}: {reason}; the bot needs to "
                        "write there (check the owner and permissions of the folder and files)"
                    ),
                    path=self._dir,
                    reason=error,
                ) from None
            raise StoreError(
                N_(
                    "cannot open the store in {path}: {reason}; if a file is damaged, "
                    "restore it from a backup"
                ),
                path=self._dir,
                reason=error,
            ) from None
        except OSError as error:
            self._release_lock()
            if error.filename:
                raise StoreError(
                    N_("cannot open the store in {path}: {reason}: {file}"),
                    path=self._dir,
                    reason=error,
                    file=error.filename,
                ) from None
            raise StoreError(
                N_("cannot open the store in {path}: {reason}"), path=self._dir, reason=error
            ) from None
        except BaseException:
            self._release_lock()
            raise

    def _release_lock(self) -> None:
        if self._lock_file is not None:
            os.close(self._lock_file)  # closing releases the lock
            self._lock_file = None

    async def _open(self) -> None:
        pseudonym_key = await asyncio.to_thread(self._existing_pseudonym_key)
        if pseudonym_key is None:
            pseudonym_key = await self._create_key_store()
        await asyncio.to_thread(create_private_file, self._data_path)
        db = await aiosqlite.connect(self._data_path, isolation_level=None)
        try:
            await configure(db, self._keys_path)
            await migrate(db, "main", DATA_MIGRATIONS)
            await migrate(db, "keys", KEY_MIGRATIONS)
            if self._max_page_count is not None:
                await sqlite_db.set_max_page_count(db, self._max_page_count)
            # The check above read the main file only; a rotation cut short before its
            # checkpoint could have left a newer key in the WAL.
            live = await fetch_one(db, "SELECT wrapped_pseudonym_key FROM keys.meta")
            if live is None or not _opens(self._master_key, live[0], _PSEUDONYM_KEY_AAD):
                raise MasterKeyMismatch(
                    N_(
                        "the master key does not open the key store; if a key rotation was "
                        "interrupted, run `feedbackbot rotate-key` again to finish it"
                    )
                )
            self._db, self._pseudonym_key = db, pseudonym_key
            await self._seal_audit_actors()
            await self._load_cache_key()
        except BaseException:
            self._db = self._pseudonym_key = self._cache_key = None
            await db.close()
            raise
        log.info("store_opened")

    def _existing_pseudonym_key(self) -> bytes | None:
        """The unwrapped pseudonym key of an existing key store, or None on a first run.

        Reads keys.db through an immutable read-only URI, which writes nothing (not
        even -wal/-shm). The meta row it reads is written before keys.db gets its
        name (see `_create_key_store`), so it is always in the main file.
        """
        if not self._keys_path.exists():
            sidecars = [DATA_FILE, f"{DATA_FILE}-wal", f"{KEY_STORE_FILE}-wal"]
            if any((self._dir / name).exists() for name in sidecars):
                raise KeyStoreMissing(
                    N_(
                        "{path} holds data but no key store {file}: restore it, the data "
                        "cannot be read without it"
                    ),
                    path=self._dir,
                    file=KEY_STORE_FILE,
                )
            return None
        uri = self._keys_path.resolve().as_uri() + "?mode=ro&immutable=1"
        try:
            con = sqlite3.connect(uri, uri=True)
            try:
                row = con.execute("SELECT * FROM meta WHERE id = 1").fetchone()
                names = [d[0] for d in con.execute("SELECT * FROM meta").description]
                holds_keys = con.execute("SELECT EXISTS (SELECT 1 FROM data_keys)").fetchone()
            finally:
                con.close()
        except sqlite3.Error as exc:
            raise StoreError(
                N_("cannot read key store {path}: {reason}"), path=self._keys_path, reason=exc
            ) from None
        self._refuse_keys_without_data(bool(holds_keys and holds_keys[0]))
        if row is None:
            raise StoreError(N_("key store {path} has no key metadata"), path=self._keys_path)
        meta = dict(zip(names, row, strict=True))
        try:
            return crypto.unwrap_key(
                self._master_key, meta["wrapped_pseudonym_key"], _PSEUDONYM_KEY_AAD
            )
        except DecryptionFailed:
            if _opens(self._master_key, meta.get("wrapped_pseudonym_key_next"), _PSEUDONYM_KEY_AAD):
                raise MasterKeyMismatch(
                    N_(
                        "a rotation to this master key was interrupted; run `feedbackbot "
                        "rotate-key` again with the old key to finish it"
                    )
                ) from None
            raise MasterKeyMismatch(
                N_(
                    "the master key does not open the key store {path}; nothing was changed "
                    "(is the key from FEEDBACKBOT_MASTER_KEY, FEEDBACKBOT_MASTER_KEY_FILE or "
                    "master.key in the data folder the one this store was made with, or "
                    "rotated to?)"
                ),
                path=self._keys_path,
            ) from None

    def _refuse_keys_without_data(self, holds_keys: bool) -> None:
        """Raise DataStoreMissing when keys.db holds people's keys (or may, in its WAL)
        but feedback.db is missing or empty: a moved, deleted or mistyped data store.
        Opening would create an empty one and the next purge would shred every key as
        unused, so restoring the data later would find it unreadable."""
        data = self._dir / DATA_FILE
        if data.exists() and data.stat().st_size > 0:
            return
        wal = self._dir / f"{KEY_STORE_FILE}-wal"
        if holds_keys or (wal.exists() and wal.stat().st_size > 0):
            raise DataStoreMissing(
                N_(
                    "{path} holds a key store with people's keys but no data store {file}: "
                    "restore it (e.g. from a backup); starting without it would delete those "
                    "keys"
                ),
                path=self._dir,
                file=DATA_FILE,
            )

    async def _create_key_store(self) -> bytes:
        """Build keys.db under a temporary name and rename it into place.

        So keys.db either exists complete, with its meta row in the main file, or not at
        all: a crash here can never leave a key store that fails verification.
        """
        temp = self._dir / f"{KEY_STORE_FILE}.new"
        await asyncio.to_thread(fresh_private_file, temp)
        pseudonym_key = crypto.generate_key()
        wrapped = crypto.wrap_key(self._master_key, pseudonym_key, _PSEUDONYM_KEY_AAD)
        async with aiosqlite.connect(":memory:", isolation_level=None) as db:
            await db.execute("ATTACH DATABASE ? AS keys", (str(temp),))
            await migrate(db, "keys", KEY_MIGRATIONS)
            await db.execute(
                "INSERT INTO keys.meta (id, wrapped_pseudonym_key, created_at) VALUES (1, ?, ?)",
                (wrapped, ts(datetime.now(UTC))),
            )
        await asyncio.to_thread(durable_rename, temp, self._keys_path)
        log.info("key_store_created")
        return pseudonym_key

    async def close(self) -> None:
        if self._db is None:
            return
        async with self._lock:
            db, self._db = self._db, None
            self._pseudonym_key = self._cache_key = None
            self._deks.clear()
            await db.close()  # the last connection checkpoints and removes the WAL
        self._release_lock()
        log.info("store_closed")

    def abandon(self) -> None:
        """Stop the store's thread and release the data dir's lock when its event loop is
        gone without a `close()`: a stop signal in the middle of python-telegram-bot's
        start-up can cut its shutdown short, and the thread would keep the process alive.
        SQLite closes the connection on that thread as in `close()`."""
        db, self._db = self._db, None
        self._pseudonym_key = self._cache_key = None
        self._deks.clear()
        if db is not None:
            db.stop()
            log.warning("store_abandoned")
        self._release_lock()

    # ---- master key rotation and backups ------------------------------------------

    async def rotate_master_key(
        self,
        new_key: bytes,
        *,
        batch: int = 500,
        progress: Callable[[int, int], None] | None = None,
    ) -> int:
        """Re-wrap every data key and the pseudonym key under `new_key`; returns how many.

        Phase one adds a second wrapping under the new key to every row, in committed
        batches; phase two switches all rows in one transaction. Until that commits the
        old key opens everything, afterwards only the new one; interrupted anywhere,
        running it again finishes the job. Stop the bot first: a running bot keeps
        wrapping new keys with the old master key.
        """
        if len(new_key) != crypto.KEY_BYTES or self._pseudonym_key is None:
            raise StoreError("rotation needs an open store and a 32-byte new key")
        db = self._conn()
        async with self._lock:
            row = await fetch_one(db, "SELECT wrapped_pseudonym_key_next FROM keys.meta")
            if row is None or not _opens(new_key, row[0], _PSEUDONYM_KEY_AAD):
                # A first attempt, or one towards another key: start phase one over.
                wrapped = crypto.wrap_key(new_key, self._pseudonym_key, _PSEUDONYM_KEY_AAD)

                def start_over(conn: sqlite3.Connection) -> None:
                    conn.execute("UPDATE keys.data_keys SET wrapped_next = NULL")
                    conn.execute("UPDATE keys.meta SET wrapped_pseudonym_key_next = ?", (wrapped,))

                await on_thread(db, start_over, atomic=True)
            counted = await fetch_one(
                db, "SELECT count(*), count(wrapped_next) FROM keys.data_keys"
            )
        total, done = (int(counted[0]), int(counted[1])) if counted else (0, 0)
        old_key = self._master_key
        while True:
            async with self._lock:
                wrap = partial(_wrap_next, old_key=old_key, new_key=new_key, limit=batch)
                rewrapped = await on_thread(db, wrap, atomic=True)
            done += rewrapped
            if progress is not None and rewrapped:
                progress(done, total)
            if rewrapped < batch:
                break
            await asyncio.sleep(0)

        def switch(conn: sqlite3.Connection) -> None:
            _wrap_next(conn, old_key=old_key, new_key=new_key, limit=None)  # written meanwhile
            conn.execute(
                "UPDATE keys.data_keys SET wrapped_dek = wrapped_next, wrapped_next = NULL"
            )
            conn.execute(
                "UPDATE keys.meta SET wrapped_pseudonym_key = wrapped_pseudonym_key_next,"
                " wrapped_pseudonym_key_next = NULL"
            )

        async with self._lock:
            await on_thread(db, switch, atomic=True)
            self._master_key = new_key
            await self._checkpoint()  # the start-up key check reads the main file only
        log.info("master_key_rotated")
        return total

    async def backup(self, destination: Path, keys: Path | None = None) -> None:
        """A consistent copy of the data store via VACUUM INTO; with `keys`, of the key
        store as well (also of keys still in its write-ahead log, which a plain file copy
        of keys.db while the bot runs misses; such copies are to be kept only briefly:
        an erasure destroys a key in keys.db, not in its copies).

        Both destinations are checked before anything is written: StoreError if one
        exists, its folder does not, or they are the same file. All or nothing: should
        the key store's copy fail, the data copy is removed again. VACUUM INTO writes live
        pages only, unlike the backup API, which would copy freed pages of erased people
        verbatim."""
        targets = [("main", Path(destination))]
        if keys is not None:
            targets.append(("keys", Path(keys)))
        await asyncio.to_thread(_check_backup_destinations, [path for _, path in targets])
        written: list[Path] = []
        try:
            for schema, path in targets:
                await self._copy(schema, path)
                written.append(path)
        except BaseException:
            for path in written:
                await asyncio.to_thread(path.unlink, missing_ok=True)
            raise
        log.info("backup_written")

    async def _copy(self, schema: str, destination: Path) -> None:
        """VACUUM `schema` INTO a private file beside `destination`, renamed into place
        once complete; nothing is left behind when it fails."""
        partial = destination.with_name(destination.name + ".partial")
        await asyncio.to_thread(fresh_private_file, partial)
        partial.unlink()  # VACUUM INTO wants a new file; its mode follows the umask below
        try:
            async with self._lock:
                old_umask = os.umask(0o077)
                try:  # the schema is one of two constants, never input
                    await self._conn().execute(f"VACUUM {schema} INTO ?", (str(partial),))
                finally:
                    os.umask(old_umask)
            await asyncio.to_thread(durable_rename, partial, destination)
        except sqlite3.Error as error:
            await asyncio.to_thread(partial.unlink, missing_ok=True)
            if sqlite_db.is_full(error):
                raise StoreError(
                    N_("no space left for the backup in {path}; nothing was kept"),
                    path=destination.parent,
                ) from None
            raise StoreError(
                N_("the backup {path} could not be written: {reason}"),
                path=destination,
                reason=str(error),
            ) from None
        except BaseException:
            await asyncio.to_thread(partial.unlink, missing_ok=True)
            raise

    async def set_max_page_count(self, pages: int | None) -> None:
        """Change the size cap of the data file (None: SQLite's maximum)."""
        async with self._lock:
            await sqlite_db.set_max_page_count(
                self._conn(), _UNLIMITED_PAGES if pages is None else pages
            )

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
        dek = crypto.unwrap_key(self._master_key, row[0], _dek_aad(pseudonym, version))
        self._remember(pseudonym, version, dek)
        return dek

    async def _read_deks(self, people: list[str]) -> dict[tuple[str, int], bytes]:
        """Many people's data keys in a few queries (for staff views over everyone);
        kept out of the LRU so one summary does not evict the people now chatting."""
        keys: dict[tuple[str, int], bytes] = {}
        sql = "SELECT pseudonym, key_version, wrapped_dek FROM keys.data_keys WHERE pseudonym IN"
        for pseudonym, version, wrapped in await fetch_in(self._conn(), sql, people):
            aad = _dek_aad(pseudonym, version)
            keys[(pseudonym, version)] = crypto.unwrap_key(self._master_key, wrapped, aad)
        return keys

    async def _write_dek(self, pseudonym: str) -> bytes:
        """The key new rows of this person are encrypted with, created on first use.

        Committed on its own before the data that uses it, so data never exists without
        its key (only the reverse, which the purge cleans up).
        """
        dek = await self._read_dek(pseudonym, KEY_VERSION)
        if dek is not None:
            return dek
        dek = crypto.generate_key()
        wrapped = crypto.wrap_key(self._master_key, dek, _dek_aad(pseudonym, KEY_VERSION))
        await run(  # one statement: atomic and durable (keys.db is synchronous=FULL)
            self._conn(),
            "INSERT INTO keys.data_keys (pseudonym, key_version, wrapped_dek, created_at)"
            " VALUES (?, ?, ?, ?)",
            (pseudonym, KEY_VERSION, wrapped, ts(datetime.now(UTC))),
        )
        self._remember(pseudonym, KEY_VERSION, dek)
        return dek

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

    def _forget(self, pseudonyms: Iterable[str]) -> None:
        gone = set(pseudonyms)
        for cache_key in [k for k in self._deks if k[0] in gone]:
            del self._deks[cache_key]

    async def _unseal(
        self, table: str, record_id: str, pseudonym: str, version: int, blob: bytes
    ) -> Any | None:
        """The decrypted JSON value, or None when the person's key is gone."""
        dek = await self._read_dek(pseudonym, version)
        if dek is None:
            return None
        return _unsealed(dek, table, record_id, pseudonym, version, blob)

    # ---- one sealed row per person: drafts, language choices -------------------------
    # Table and column names below come from the callers' constants, never from input.

    async def _save_own_row(
        self,
        table: str,
        record_id: str,
        pseudonym: str,
        at: tuple[str, datetime],
        expires_at: datetime,
        value: dict[str, Any],
    ) -> None:
        """Create or replace the person's row of `table`, `value` sealed under their key;
        `at` is its time column and value. Raises StorageFull (nothing written)."""
        column, moment = at
        async with self._lock:
            dek = await self._write_dek(pseudonym)
            blob = _seal(dek, table, record_id, pseudonym, value)
            await run(
                self._conn(),
                f"INSERT INTO main.{table} (pseudonym, key_version, {column}, expires_at,"  # noqa: S608
                f" ciphertext) VALUES (?, ?, ?, ?, ?) ON CONFLICT (pseudonym) DO UPDATE SET"
                f" key_version = excluded.key_version, {column} = excluded.{column},"
                " expires_at = excluded.expires_at, ciphertext = excluded.ciphertext",
                (pseudonym, KEY_VERSION, ts(moment), ts(expires_at), blob),
            )

    async def _own_row(
        self, table: str, record_id: str, column: str, pseudonym: str, now: datetime
    ) -> tuple[datetime, datetime, Any] | None:
        """The person's unexpired row of `table`: its time, deletion date and opened value;
        None when there is none or their key is gone. Raises DecryptionFailed for a
        tampered row."""
        # Runs on every update (drafts): one job, and the lock only when the key must be
        # read from the key store (see _lock).
        row = await fetch_one(
            self._conn(),
            f"SELECT key_version, {column}, expires_at, ciphertext FROM main.{table}"  # noqa: S608
            " WHERE pseudonym = ? AND expires_at > ?",
            (pseudonym, ts(now)),
        )
        if row is None:
            return None
        version = int(row[0])
        dek = self._cached_dek(pseudonym, version)
        if dek is None:
            async with self._lock:
                dek = await self._read_dek(pseudonym, version)
        if dek is None:
            return None
        value = _unsealed(dek, table, record_id, pseudonym, version, row[3])
        return dt(row[1]), dt(row[2]), value

    async def _delete_own_row(self, table: str, pseudonym: str) -> bool:
        async with self._lock:
            sql = f"DELETE FROM main.{table} WHERE pseudonym = ?"  # noqa: S608
            return await run(self._conn(), sql, (pseudonym,)) > 0

    async def save_draft(self, pseudonym: str, draft: Draft) -> None:
        """Raises StorageFull (nothing written) when there is no space."""
        at = ("updated_at", draft.updated_at)
        value = {"payload": draft.payload}
        await self._save_own_row("drafts", _DRAFT_ID, pseudonym, at, draft.expires_at, value)

    async def load_draft(self, pseudonym: str, now: datetime) -> Draft | None:
        """Raises DecryptionFailed for a tampered draft."""
        found = await self._own_row("drafts", _DRAFT_ID, "updated_at", pseudonym, now)
        if found is None:
            return None
        updated_at, expires_at, value = found
        return Draft(payload=value["payload"], updated_at=updated_at, expires_at=expires_at)

    async def delete_draft(self, pseudonym: str) -> bool:
        return await self._delete_own_row("drafts", pseudonym)

    async def save_language(self, pseudonym: str, choice: LanguageChoice) -> None:
        """Raises StorageFull (nothing written) when there is no space."""
        at = ("chosen_at", choice.chosen_at)
        value = {"locale": choice.locale}
        await self._save_own_row("languages", _LANGUAGE_ID, pseudonym, at, choice.expires_at, value)

    async def language_of(self, pseudonym: str, now: datetime) -> LanguageChoice | None:
        """Raises DecryptionFailed for a tampered row."""
        found = await self._own_row("languages", _LANGUAGE_ID, "chosen_at", pseudonym, now)
        if found is None:
            return None
        chosen_at, expires_at, value = found
        return LanguageChoice(locale=value["locale"], chosen_at=chosen_at, expires_at=expires_at)

    async def delete_language(self, pseudonym: str) -> bool:
        return await self._delete_own_row("languages", pseudonym)

    # ---- consents ------------------------------------------------------------------

    async def grant_consents(self, pseudonym: str, grants: list[ConsentGrant]) -> None:
        """Raises StorageFull (nothing written) when there is no space."""
        if not grants:
            return
        async with self._lock:
            rows = _consent_rows(pseudonym, await self._write_dek(pseudonym), grants)
            changed = _wall_clock()

            def grant(conn: sqlite3.Connection) -> None:
                conn.executemany(_INSERT_CONSENT, rows)
                conn.execute(_INVALIDATE_PERSON_SQL, (pseudonym, changed))

            await on_thread(self._conn(), grant, atomic=True)

    async def consents(self, pseudonym: str) -> list[ConsentRecord]:
        """Raises DecryptionFailed for a tampered record."""
        records = []
        async with self._lock:
            rows = await fetch_all(
                self._conn(),
                "SELECT id, purpose, key_version, granted_at, withdrawn_at, ciphertext"
                " FROM main.consents WHERE pseudonym = ? ORDER BY granted_at, rowid",
                (pseudonym,),
            )
            for record_id, purpose, version, granted, withdrawn, blob in rows:
                data = await self._unseal("consents", record_id, pseudonym, version, blob)
                if data is not None:
                    records.append(
                        ConsentRecord(
                            id=record_id,
                            purpose=purpose,
                            granted_at=dt(granted),
                            withdrawn_at=dt(withdrawn) if withdrawn else None,
                            **data,
                        )
                    )
        return records

    async def withdraw_consent(self, pseudonym: str, purpose: str, now: datetime) -> int:
        moment, changed = ts(now), _wall_clock()

        async with self._lock:
            deks = await self._tallying_deks(pseudonym)

            def withdraw(conn: sqlite3.Connection) -> int:
                count: int = conn.execute(_WITHDRAW_SQL, (moment, pseudonym, purpose)).rowcount
                if count:
                    conn.execute(_INVALIDATE_PERSON_SQL, (pseudonym, changed))
                    self._untally(conn, pseudonym, deks, purpose)
                return count

            return await on_thread(self._conn(), withdraw, atomic=True)

    # ---- feedback and contact -------------------------------------------------------

    async def submit_feedback(
        self,
        pseudonym: str,
        feedback: NewFeedback,
        grants: list[ConsentGrant],
        contact_chat_id: int | None = None,
        tallies: Tallies | None = None,
        recipients: Sequence[str] = (),
        counted_under: Sequence[str] | None = None,
    ) -> FeedbackRecord:
        """Raises StorageFull, with nothing of it written (draft kept), when there is no
        space; ConsentMissing, likewise, when a consent in `feedback.purposes` is not in
        force (the purge took it with the person's expired feedback meanwhile)."""
        record_id = new_record_id()
        created, expires = ts(feedback.created_at), ts(feedback.expires_at)
        content = {"answers": feedback.answers, "purposes": feedback.purposes}
        plaintext = pydantic_core.to_json(content)
        day = feedback.created_at.astimezone(UTC).date()
        changed = _wall_clock()
        async with self._lock:
            dek = await self._write_dek(pseudonym)
            aad = crypto.associated_data("feedback", record_id, pseudonym, KEY_VERSION)
            blob = crypto.encrypt(dek, plaintext, aad)
            consent_rows = _consent_rows(pseudonym, dek, grants)
            # Kept so that an erasure or withdrawal can take exactly this out again.
            under = feedback.purposes[:1] if counted_under is None else list(counted_under)
            counted = {"tallies": tallies or {}, "purposes": under}
            sealed_tallies = _seal(dek, _TALLIES, record_id, pseudonym, counted)
            contact = (
                None
                if contact_chat_id is None
                else _seal(dek, "contacts", _CONTACT_ID, pseudonym, int(contact_chat_id))
            )

            def submit(conn: sqlite3.Connection) -> None:
                conn.execute(
                    "INSERT INTO main.feedback (id, pseudonym, flow_id, key_version, created_at,"
                    " expires_at, ciphertext, tallies) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        record_id,
                        pseudonym,
                        feedback.flow_id,
                        KEY_VERSION,
                        created,
                        expires,
                        blob,
                        sealed_tallies,
                    ),
                )
                conn.executemany(_INSERT_CONSENT, consent_rows)
                in_force = {
                    purpose
                    for (purpose,) in conn.execute(
                        "SELECT purpose FROM main.consents"
                        " WHERE pseudonym = ? AND withdrawn_at IS NULL",
                        (pseudonym,),
                    )
                }
                if not set(feedback.purposes) <= in_force:  # rolls the transaction back
                    raise ConsentMissing("a consent of this feedback is not in force")
                if contact is not None:
                    conn.execute(
                        "INSERT INTO main.contacts (pseudonym, key_version, ciphertext)"
                        " VALUES (?, ?, ?) ON CONFLICT (pseudonym) DO UPDATE SET"
                        " key_version = excluded.key_version, ciphertext = excluded.ciphertext",
                        (pseudonym, KEY_VERSION, contact),
                    )
                conn.execute("DELETE FROM main.drafts WHERE pseudonym = ?", (pseudonym,))
                conn.executemany(
                    "INSERT INTO main.deliveries (pseudonym, key_version, recipient,"
                    " feedback_id, delivered_at, pending) VALUES (?, ?, ?, ?, ?, 1)",
                    [(pseudonym, KEY_VERSION, r, record_id, created) for r in recipients],
                )
                if consent_rows:  # counts the person's earlier feedback again, if any
                    conn.execute(_INVALIDATE_PERSON_SQL, (pseudonym, changed))
                else:
                    buckets = [(b, changed) for b in bucket_keys(feedback.created_at)]
                    conn.executemany(_INVALIDATE_BUCKET_SQL, buckets)
                self._count(conn, day, feedback.flow_id, tallies or {})

            await on_thread(self._conn(), submit, atomic=True)
        stored = json.loads(plaintext)  # return what a later read returns
        return FeedbackRecord(
            id=record_id,
            flow_id=feedback.flow_id,
            created_at=dt(created),
            expires_at=dt(expires),
            **stored,
        )

    def _count(self, conn: sqlite3.Connection, day: date, flow_id: str, tallies: Tallies) -> None:
        """Add one feedback to the day's anonymous statistics, inside the caller's
        transaction (on the connection's thread)."""
        row = conn.execute(
            "SELECT ciphertext FROM main.statistics WHERE day = ? AND flow_id = ?",
            (day.isoformat(), flow_id),
        ).fetchone()
        current = self._open_statistics(day, flow_id, row[0]) if row else None
        feedbacks, counts = add_tallies(current, tallies)
        blob = crypto.encrypt(
            self._statistics_key(),
            pydantic_core.to_json({"feedbacks": feedbacks, "counts": counts}),
            _statistics_aad(day, flow_id),
        )
        conn.execute(
            "INSERT INTO main.statistics (day, flow_id, ciphertext) VALUES (?, ?, ?)"
            " ON CONFLICT (day, flow_id) DO UPDATE SET ciphertext = excluded.ciphertext",
            (day.isoformat(), flow_id, blob),
        )

    async def _tallying_deks(self, pseudonym: str) -> dict[int, bytes]:
        """The person's data keys that open what their feedback added to the statistics
        (under the store's lock); a key that is gone or damaged is left out."""
        rows = await fetch_all(
            self._conn(),
            "SELECT DISTINCT key_version FROM main.feedback"
            " WHERE pseudonym = ? AND tallies IS NOT NULL",
            (pseudonym,),
        )
        deks = {}
        for (version,) in rows:
            with contextlib.suppress(DecryptionFailed):
                deks[version] = await self._read_dek(pseudonym, version)
        return {version: dek for version, dek in deks.items() if dek is not None}

    def _untally(
        self,
        conn: sqlite3.Connection,
        pseudonym: str,
        deks: dict[int, bytes],
        purpose: str | None = None,
    ) -> None:
        """Take the person's feedback (given under `purpose`, or all) out of the
        statistics, each once: inside the caller's transaction, on the connection's
        thread. What cannot be read (a key gone or damaged, a tampered row) cannot be
        subtracted: the whole day's counts for that flow go instead (`_drop_days`)."""
        rows = conn.execute(
            "SELECT id, flow_id, key_version, created_at, tallies FROM main.feedback"
            " WHERE pseudonym = ? AND tallies IS NOT NULL",
            (pseudonym,),
        ).fetchall()
        taken: dict[tuple[date, str], list[Tallies]] = defaultdict(list)
        unreadable: set[tuple[date, str]] = set()
        for record_id, flow_id, version, created, blob in rows:
            day = dt(created).date()
            dek = deks.get(version)
            try:
                if dek is None:
                    raise DecryptionFailed("the person's key is gone")
                counted = _unsealed(dek, _TALLIES, record_id, pseudonym, version, blob)
            except DecryptionFailed:
                unreadable.add((day, flow_id))
                continue
            if purpose is not None and purpose not in counted["purposes"]:
                continue
            taken[(day, flow_id)].append(counted["tallies"])
            conn.execute("UPDATE main.feedback SET tallies = NULL WHERE id = ?", (record_id,))
        for (day, flow_id), tallies in taken.items():
            if (day, flow_id) not in unreadable and not self._uncount(conn, day, flow_id, tallies):
                unreadable.add((day, flow_id))
        self._drop_days(conn, unreadable)

    def _uncount(
        self, conn: sqlite3.Connection, day: date, flow_id: str, feedbacks: list[Tallies]
    ) -> bool:
        """`_count` undone for these feedbacks of one day and flow, in one write; the
        row goes with its last feedback. False if the day's row cannot be read."""
        key = (day.isoformat(), flow_id)
        row = conn.execute(
            "SELECT ciphertext FROM main.statistics WHERE day = ? AND flow_id = ?", key
        ).fetchone()
        try:
            left = self._open_statistics(day, flow_id, row[0]) if row else None
        except DecryptionFailed:
            return False
        for tallies in feedbacks:
            left = subtract_tallies(left, tallies)
        if left is None:
            conn.execute("DELETE FROM main.statistics WHERE day = ? AND flow_id = ?", key)
            return True
        count, counts = left
        blob = crypto.encrypt(
            self._statistics_key(),
            pydantic_core.to_json({"feedbacks": count, "counts": counts}),
            _statistics_aad(day, flow_id),
        )
        conn.execute(
            "UPDATE main.statistics SET ciphertext = ? WHERE day = ? AND flow_id = ?",
            (blob, *key),
        )
        return True

    def _drop_days(self, conn: sqlite3.Connection, days: Iterable[tuple[date, str]]) -> None:
        """Delete these days' counts of these flows, and forget what any stored feedback
        of them added (so that no later erasure subtracts it from a row made anew).
        Both only shrink the file: this works on a full disk too."""
        for day, flow_id in days:
            conn.execute(
                "DELETE FROM main.statistics WHERE day = ? AND flow_id = ?",
                (day.isoformat(), flow_id),
            )
            conn.execute(
                "UPDATE main.feedback SET tallies = NULL WHERE flow_id = ? AND created_at >= ?"
                " AND created_at < ? AND tallies IS NOT NULL",
                (flow_id, day.isoformat(), (day + timedelta(days=1)).isoformat()),
            )

    def _derived_key(self, label: bytes) -> bytes:
        # Derived from the pseudonym key, so it needs no storage of its own and follows
        # the master key through rotation; without the master key the data is unreadable.
        if self._pseudonym_key is None:
            raise StoreNotOpen("the store is not open")
        return crypto.derive_key(self._pseudonym_key, label)

    def _statistics_key(self) -> bytes:
        return self._derived_key(b"feedbackbot/statistics-key/v1")

    def _open_statistics(
        self, day: date, flow_id: str, blob: bytes
    ) -> tuple[int, dict[str, dict[str, int]]]:
        data = json.loads(
            crypto.decrypt(self._statistics_key(), blob, _statistics_aad(day, flow_id))
        )
        return int(data["feedbacks"]), data["counts"]

    async def statistics(self, since: date, until: date) -> list[StatisticsRow]:
        """Raises DecryptionFailed for a tampered row."""
        async with self._lock:
            rows = await fetch_all(
                self._conn(),
                "SELECT day, flow_id, ciphertext FROM main.statistics"
                " WHERE day >= ? AND day <= ? ORDER BY day, flow_id",
                (since.isoformat(), until.isoformat()),
            )
        result = []
        for day_text, flow_id, blob in rows:
            day = date.fromisoformat(day_text)
            feedbacks, counts = self._open_statistics(day, flow_id, blob)
            result.append(
                StatisticsRow(day=day, flow_id=flow_id, feedbacks=feedbacks, counts=counts)
            )
        return result

    async def feedback_of(self, pseudonym: str, now: datetime) -> list[FeedbackRecord]:
        """Raises DecryptionFailed for a tampered record."""
        records = []
        async with self._lock:
            rows = await fetch_all(
                self._conn(),
                "SELECT id, flow_id, key_version, created_at, expires_at, ciphertext"
                " FROM main.feedback WHERE pseudonym = ? AND expires_at > ?"
                " ORDER BY created_at, rowid",
                (pseudonym, ts(now)),
            )
            for record_id, flow_id, version, created, expires, blob in rows:
                data = await self._unseal("feedback", record_id, pseudonym, version, blob)
                if data is not None:
                    records.append(
                        FeedbackRecord(
                            id=record_id,
                            flow_id=flow_id,
                            created_at=dt(created),
                            expires_at=dt(expires),
                            **data,
                        )
                    )
        return records

    async def feedback_in_period(
        self, since: datetime, until: datetime, now: datetime, newest: int | None = None
    ) -> list[PeriodFeedback]:
        """Raises DecryptionFailed for a tampered record; rows whose key is gone are skipped."""
        async with self._lock:
            rows = await self._period_rows(since, until, ts(now), newest)
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
        result = []
        for index, (record_id, pseudonym, flow_id, version, created, expires, blob) in enumerate(
            rows
        ):
            if index % 500 == 499:
                await asyncio.sleep(0)
            dek = deks.get((pseudonym, version))
            if dek is None:  # the key is gone: an erasure cut short, the purge cleans up
                continue
            data = _unsealed(dek, "feedback", record_id, pseudonym, version, blob)
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
        return result

    # ---- summary cache -------------------------------------------------------------

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
        """A fresh summary-cache key, and every cached figure dropped (they were sealed
        with the old one, which no longer exists anywhere). `at`: when, by the caller's
        clock (else the wall clock)."""
        key = crypto.generate_key()
        wrapped = crypto.wrap_key(self._cache_key_kek(), key, _CACHE_KEY_AAD)
        changed = _wall_clock()
        renewed = changed if at is None else ts(at)

        def renew(conn: sqlite3.Connection) -> None:
            # A renewal makes every older copy's figures unreadable: nothing is owed then.
            conn.execute(
                "INSERT INTO keys.cache_key (id, wrapped, renewed_at) VALUES (1, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET wrapped = excluded.wrapped,"
                " renewed_at = excluded.renewed_at, renewal_owed = NULL",
                (wrapped, renewed),
            )
            conn.execute(_DROP_ALL_FIGURES_SQL, (changed,))

        await on_thread(self._conn(), renew, atomic=True)
        self._cache_key = key

    async def summary_segments(
        self, segments: list[SummarySegment], version: str, now: datetime
    ) -> list[SegmentRead]:
        """Raises DecryptionFailed for a tampered feedback record; a cached entry that does
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
        changed = _wall_clock()

        def sealed(key: bytes) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
            inserts, updates = [], []
            for entry in entries:
                blob = crypto.encrypt(key, entry.payload, _summary_aad(entry.bucket, version))
                expires = ts(entry.expires_at)
                if entry.epoch == 0:  # no row when it was read: only if none was made since
                    inserts.append((entry.bucket, changed, version, expires, blob))
                else:
                    updates.append((version, expires, blob, entry.bucket, entry.epoch))
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
                    "UPDATE main.summary_cache SET version = ?, expires_at = ?, ciphertext = ?"
                    " WHERE bucket = ? AND epoch = ?",
                    updates,
                ).rowcount
            )

        async with self._lock:
            key = self._summary_key()
            return await on_thread(self._conn(), save, atomic=True)

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

    async def last_release(self, at_or_before: datetime | None = None) -> datetime | None:
        limit = "9999" if at_or_before is None else ts(at_or_before)
        return await self._release_at("SELECT max(at) FROM main.releases WHERE at <= ?", limit)

    async def first_release(self, at_or_after: datetime | None = None) -> datetime | None:
        limit = "" if at_or_after is None else ts(at_or_after)
        return await self._release_at("SELECT min(at) FROM main.releases WHERE at >= ?", limit)

    async def _release_at(self, sql: str, limit: str) -> datetime | None:
        async with self._lock:
            row = await fetch_one(self._conn(), sql, (limit,))
        return None if row is None or row[0] is None else dt(row[0])

    async def releases(self, since: datetime, until: datetime) -> list[Release]:
        async with self._lock:
            rows = await fetch_all(
                self._conn(),
                "SELECT at, feedbacks, people, digest FROM main.releases"
                " WHERE at >= ? AND at <= ?"
                " ORDER BY at",
                (ts(since), ts(until)),
            )
        return [
            Release(at=dt(at), feedbacks=feedbacks, people=people, digest=digest)
            for at, feedbacks, people, digest in rows
        ]

    async def add_releases(self, points: list[Release], after: datetime | None) -> bool:
        rows = sorted((ts(p.at), p.feedbacks, p.people, p.digest) for p in points)
        expected = None if after is None else ts(after)
        if rows and expected is not None and rows[0][0] <= expected:
            raise ValueError("release points must be later than the newest one")

        def add(conn: sqlite3.Connection) -> bool:
            newest = conn.execute("SELECT max(at) FROM main.releases").fetchone()[0]
            if newest != expected:
                return False
            conn.executemany(
                "INSERT INTO main.releases (at, feedbacks, people, digest) VALUES (?, ?, ?, ?)",
                rows,
            )
            return True

        async with self._lock:
            return await on_thread(self._conn(), add, atomic=True)

    async def record_audit(self, entry: AuditEntry) -> None:
        at = ts(entry.at)
        ref, sealed = (
            (None, None)
            if entry.actor is None
            else (self._actor_ref(entry.actor), self._seal_actor(entry.event, at, entry.actor))
        )
        async with self._lock:
            await run(
                self._conn(),
                "INSERT INTO main.audit (event, at, actor_ref, actor_sealed, detail, records)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (entry.event, at, ref, sealed, entry.detail, entry.records),
            )

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

    async def audit_entries(self, since: datetime) -> list[AuditEntry]:
        async with self._lock:
            rows = await fetch_all(
                self._conn(),
                "SELECT event, at, actor_sealed, detail, records FROM main.audit WHERE at >= ?"
                " ORDER BY at, id",
                (ts(since),),
            )
        return [self._audit_entry(*row) for row in rows]

    async def contact_of(self, pseudonym: str) -> int | None:
        """Raises DecryptionFailed for a tampered record."""
        async with self._lock:
            row = await fetch_one(
                self._conn(),
                "SELECT key_version, ciphertext FROM main.contacts WHERE pseudonym = ?",
                (pseudonym,),
            )
            if row is None:
                return None
            chat_id = await self._unseal("contacts", _CONTACT_ID, pseudonym, row[0], row[1])
        return None if chat_id is None else int(chat_id)

    async def record_delivery(self, pseudonym: str, delivery: Delivery) -> None:
        async with self._lock:
            await run(
                self._conn(),
                "INSERT INTO main.deliveries (pseudonym, key_version, recipient, feedback_id,"
                " delivered_at, pending, unconfirmed) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    pseudonym,
                    KEY_VERSION,
                    delivery.recipient,
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

    async def deliveries_of(self, pseudonym: str) -> list[Delivery]:
        async with self._lock:
            rows = await fetch_all(
                self._conn(),
                "SELECT recipient, feedback_id, delivered_at, pending, unconfirmed"
                " FROM main.deliveries WHERE pseudonym = ? ORDER BY delivered_at, id",
                (pseudonym,),
            )
        return [
            Delivery(
                recipient=r,
                feedback_id=f,
                delivered_at=dt(at),
                pending=bool(p),
                unconfirmed=bool(u),
            )
            for r, f, at, p, u in rows
        ]

    async def pending_deliveries(self) -> list[tuple[str, Delivery]]:
        async with self._lock:
            rows = await fetch_all(
                self._conn(),
                "SELECT pseudonym, recipient, feedback_id, delivered_at, unconfirmed"
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
                ),
            )
            for p, r, f, at, u in rows
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

    async def delete_contact(self, pseudonym: str) -> bool:
        async with self._lock:
            sql = "DELETE FROM main.contacts WHERE pseudonym = ?"
            return await run(self._conn(), sql, (pseudonym,)) > 0

    # ---- lifecycle -----------------------------------------------------------------

    async def erase_subject(self, pseudonym: str) -> ErasureReport:
        """Destroy the person's key (committed), then their rows; then checkpoint the WAL.

        A crash between the two steps leaves only rows nobody can decrypt; reads treat
        them as absent and the purge deletes them.
        """
        async with self._lock:
            # Summaries stop counting the person before anything else: should the erasure
            # be cut short, cached figures must not outlive the key.
            try:
                await run(self._conn(), _INVALIDATE_PERSON_SQL, (pseudonym, _wall_clock()))
            except StorageFull:
                # No room for new rows: drop the figures in the rows there are (that only
                # shrinks them). A full store cannot take new figures either.
                await run(self._conn(), _DROP_PERSON_FIGURES_SQL, (pseudonym, _wall_clock()))
            # What their feedback added to the statistics goes too, while the key that
            # opens it is still there.
            await self._untally_for_erasure(pseudonym)
            shredded = await self._shred(pseudonym)
            report = await self._delete_rows(pseudonym, shredded)
            if shredded or report.anything:
                # The person's words and hash may be in any cached figure, also in copies
                # of the data store made before: their key goes as the person's did.
                await self._renew_cache_key()
            await self._checkpoint()
        log.info("erasure")
        return report

    async def _untally_for_erasure(self, pseudonym: str) -> None:
        """Take all the person's feedback out of the statistics (under the lock). On a
        full disk, the days' counts that hold it are deleted instead; should even that
        fail, the erasure goes on without (logged): it must not wait for space."""
        deks = await self._tallying_deks(pseudonym)

        def untally(conn: sqlite3.Connection) -> None:
            self._untally(conn, pseudonym, deks)

        def drop_their_days(conn: sqlite3.Connection) -> None:
            found = conn.execute(_PERSON_STATISTICS_DAYS_SQL, (pseudonym,)).fetchall()
            self._drop_days(conn, [(date.fromisoformat(day), flow) for day, flow in found])

        try:
            await on_thread(self._conn(), untally, atomic=True)
        except StorageFull:
            try:
                await on_thread(self._conn(), drop_their_days, atomic=True)
            except StorageFull:
                log.warning("statistics_not_reduced")

    async def _shred(self, pseudonym: str) -> int:
        """Delete the person's keys; how many there were."""
        # One statement commits by itself, durably: keys.db is synchronous=FULL.
        sql = "DELETE FROM keys.data_keys WHERE pseudonym = ?"
        shredded = await run(self._conn(), sql, (pseudonym,))
        self._forget([pseudonym])
        return shredded

    async def _delete_rows(self, pseudonym: str, shredded: int) -> ErasureReport:
        at = ts(datetime.now(UTC).replace(microsecond=0))

        def delete(conn: sqlite3.Connection) -> dict[str, int]:
            counts = {}
            for table in _PERSON_TABLES:
                sql = f"DELETE FROM main.{table} WHERE pseudonym = ?"  # noqa: S608
                counts[table] = conn.execute(sql, (pseudonym,)).rowcount
            # The audit row proves an erasure happened without saying whose (a second
            # erasure of nothing is not one).
            if shredded or any(counts.values()):
                conn.execute("INSERT INTO main.audit (event, at) VALUES ('erasure', ?)", (at,))
            return counts

        return ErasureReport(**await on_thread(self._conn(), delete, atomic=True))

    async def purge_expired(
        self, now: datetime, audit_before: datetime | None = None
    ) -> PurgeReport:
        """Purge in batches of PURGE_BATCH rows, each its own transaction, so that the bot
        keeps answering in between. Raises StorageFull if even a delete finds no space."""
        moment = utc(now)
        feedback = await self._batches(_EXPIRED_SQL["feedback"], (ts(moment),))
        try:
            await self._renew_cache_key_daily(moment, owed=feedback > 0)
        except StorageFull:  # the renewal stays owed: the next purge tries again
            log.warning("cache_key_not_renewed")
        drafts = await self._batches(_EXPIRED_SQL["drafts"], (ts(moment),))
        languages = await self._batches(_EXPIRED_SQL["languages"], (ts(moment),))
        await self._batches(_EXPIRED_FIGURES_SQL, (_wall_clock(), ts(moment)))
        await self._batches(_OLD_BUCKETS_SQL, (ts(datetime.now(UTC) - CACHE_ROW_MEMORY),))
        orphans = 0
        for table in _PERSON_TABLES:
            orphans += await self._windows(table, _ORPHANS_SQL[table])
        await self._batches(_DETACHED_CONTACTS_SQL, ())
        # Before the keys: a person whose last feedback expired has nothing left to keep one.
        await self._windows("deliveries", _DETACHED_DELIVERIES_SQL)
        grace_cutoff = ts(moment - KEY_GRACE)
        # Each chooser may take several consent rows: windows of a purge batch of people.
        await self._windows(
            "languages", _CHOOSERS_CONSENTS_SQL, (grace_cutoff,), window=PURGE_BATCH
        )
        keys = await self._drop_unused_keys(grace_cutoff)
        await self._batches(_OLD_UPDATES_SQL, (ts(moment - UPDATE_MEMORY),))
        await self._batches(_OLD_RELEASES_SQL, (ts(moment - RELEASE_MEMORY),) * 2)
        # Last: what is about people goes first, should this fail.
        audit = 0
        if audit_before is not None:
            audit = await self._batches(_OLD_AUDIT_SQL, (ts(audit_before),))
        async with self._lock:
            await self._checkpoint()
        log.info("purge")
        return PurgeReport(
            feedback=feedback,
            drafts=drafts,
            languages=languages,
            keys=keys,
            orphans=orphans,
            audit=audit,
        )

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
        self, table: str, sql: str, extra: tuple[Any, ...] = (), window: int = SCAN_WINDOW
    ) -> int:
        """Run `sql` (with a rowid window as parameters, then `extra`) over the whole table,
        a window at a time, so that no statement scans more than `window` rows."""
        async with self._lock:
            row = await fetch_one(self._conn(), f"SELECT max(rowid) FROM main.{table}")  # noqa: S608
        highest = int(row[0]) if row and row[0] is not None else 0
        total = 0
        for start in range(0, highest, window):
            async with self._lock:
                total += await run(self._conn(), sql, (start, start + window, *extra))
            await asyncio.sleep(0)
        return total

    async def _drop_unused_keys(self, grace_cutoff: str) -> int:
        """Destroy the keys of people with nothing left, then their consent records.

        Walks the key store in pseudonym order, a window of keys at a time.
        """
        total, after = 0, ""
        while True:
            async with self._lock:
                window = await fetch_all(
                    self._conn(),
                    "SELECT pseudonym FROM keys.data_keys WHERE pseudonym > ?"
                    " ORDER BY pseudonym LIMIT ?",
                    (after, PURGE_BATCH),
                )
                if not window:
                    return total
                last = str(window[-1][0])
                shred = partial(_shred_unused_keys, window=(after, last, grace_cutoff))
                people = await on_thread(self._conn(), shred, atomic=True)
                total += len(people)
                self._forget(p for (p,) in people)
                if people:
                    sql = "DELETE FROM main.consents WHERE pseudonym = ?"
                    await run_many(self._conn(), sql, people)
            after = last
            await asyncio.sleep(0)

    async def flush_deletions(self) -> None:
        """Fold the WAL into the main files and truncate it: secure_delete zeroes the
        freed space there, and the old page images in the WAL go with it."""
        async with self._lock:
            await self._checkpoint()

    async def _checkpoint(self) -> None:
        """Fold the WAL into the main files and truncate it, so deleted rows' old page
        images do not linger in the -wal file."""
        for schema in ("main", "keys"):
            row = await fetch_one(self._conn(), f"PRAGMA {schema}.wal_checkpoint(TRUNCATE)")
            if row is not None and row[0]:
                log.warning("checkpoint_incomplete")

    async def claim_update(self, update_id: int, now: datetime) -> bool:
        # One statement on a table of its own, on every update: no lock (see _lock).
        count = await run(
            self._conn(),
            "INSERT OR IGNORE INTO main.processed_updates (update_id, seen_at) VALUES (?, ?)",
            (update_id, ts(now)),
        )
        return count == 1


def _wrap_next(
    conn: sqlite3.Connection, *, old_key: bytes, new_key: bytes, limit: int | None
) -> int:
    """Add the wrapping under `new_key` to up to `limit` data keys that lack it (all when
    None); how many. Runs on the connection's thread, inside the caller's transaction."""
    rows = conn.execute(
        "SELECT pseudonym, key_version, wrapped_dek FROM keys.data_keys"
        " WHERE wrapped_next IS NULL LIMIT ?",
        (-1 if limit is None else limit,),
    ).fetchall()
    updates = []
    for pseudonym, version, wrapped in rows:
        aad = _dek_aad(pseudonym, version)
        dek = crypto.unwrap_key(old_key, wrapped, aad)
        updates.append((crypto.wrap_key(new_key, dek, aad), pseudonym, version))
    conn.executemany(
        "UPDATE keys.data_keys SET wrapped_next = ? WHERE pseudonym = ? AND key_version = ?",
        updates,
    )
    return len(updates)


def _shred_unused_keys(conn: sqlite3.Connection, window: tuple[str, str, str]) -> list[tuple[str]]:
    """Delete the keys of people with nothing left in a window of pseudonyms; who they were."""
    rows = conn.execute(_UNUSED_KEYS_SQL, window).fetchall()
    people = [(str(row[0]),) for row in rows]
    conn.executemany("DELETE FROM keys.data_keys WHERE pseudonym = ?", people)
    return people


_INSERT_CONSENT = (
    "INSERT INTO main.consents (id, pseudonym, purpose, key_version, granted_at, ciphertext)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)


def _consent_rows(pseudonym: str, dek: bytes, grants: list[ConsentGrant]) -> list[tuple[Any, ...]]:
    rows = []
    for grant in grants:
        record_id = new_record_id()
        proof = {
            "notice_version": grant.notice_version,
            "text_sha256": grant.text_sha256,
            "method": grant.method,
        }
        blob = _seal(dek, "consents", record_id, pseudonym, proof)
        granted = ts(grant.granted_at)
        rows.append((record_id, pseudonym, grant.purpose, KEY_VERSION, granted, blob))
    return rows


def _check_backup_destinations(destinations: list[Path]) -> None:
    """Raises StoreError unless each destination is a new file in an existing folder,
    and no two are the same."""
    if len({path.resolve() for path in destinations}) < len(destinations):
        raise StoreError(
            N_("the data and the key store need a file each; {path} is given twice"),
            path=destinations[-1],
        )
    for destination in destinations:
        if destination.exists():
            raise StoreError(
                N_("{path} exists; choose a new file for the backup"), path=destination
            )
        if not destination.parent.is_dir():
            # A typo, or a backup disk that is not mounted: the copy would land elsewhere.
            raise StoreError(
                N_("the folder {path} does not exist; the backup needs an existing folder"),
                path=destination.parent,
            )


def _seal(dek: bytes, table: str, record_id: str, pseudonym: str, value: Any) -> bytes:
    aad = crypto.associated_data(table, record_id, pseudonym, KEY_VERSION)
    return crypto.encrypt(dek, pydantic_core.to_json(value), aad)


def _unsealed(
    dek: bytes, table: str, record_id: str, pseudonym: str, version: int, blob: bytes
) -> Any:
    """The JSON value `_seal` encrypted; DecryptionFailed if tampered or moved."""
    aad = crypto.associated_data(table, record_id, pseudonym, version)
    return json.loads(crypto.decrypt(dek, blob, aad))


def _opens(key: bytes, wrapped: bytes | None, aad: bytes) -> bool:
    if wrapped is None:
        return False
    try:
        crypto.unwrap_key(key, wrapped, aad)
    except DecryptionFailed:
        return False
    return True


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


def _wall_clock() -> str:
    return ts(datetime.now(UTC))


def _audit_aad(event: str, at: str) -> bytes:
    return crypto.associated_data("audit-actor", f"{event}|{at}", "", 0)


def _statistics_aad(day: date, flow_id: str) -> bytes:
    return crypto.associated_data("statistics", f"{day.isoformat()}|{flow_id}", "", 0)


def _dek_aad(pseudonym: str, version: int) -> bytes:
    return crypto.associated_data("data_keys", "dek", pseudonym, version)
