"""The SQLite store: one aiosqlite connection, data in feedback.db, keys in keys.db.

The key store is a separate file (ATTACHed as schema ``keys``) so that a backup of
the data never carries the keys that open it. Every personal value is encrypted
under its person's data key (DEK); DEKs are wrapped by the master key. Erasure
deletes the DEK first, so every copy of the data taken before becomes unreadable.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import os
import sqlite3
import stat
import tempfile
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from storage import crypto, sqlite_db
from storage.interface import (
    N_,
    DataStoreMissing,
    DecryptionFailed,
    ErasureReport,
    KeyStoreMissing,
    MasterKeyMismatch,
    PurgeReport,
    StatisticsCutoff,
    StorageFull,
    Store,
    StoreError,
)
from storage.memory import to_the_minute
from storage.sqlite_consent_texts import ConsentTexts
from storage.sqlite_core import dek_aad, wall_clock
from storage.sqlite_db import (
    DATA_MIGRATIONS,
    KEY_MIGRATIONS,
    LEDGER_MIGRATIONS,
    configure,
    create_private_file,
    dt,
    durable_rename,
    fetch_one,
    fresh_private_file,
    migrate,
    on_thread,
    run,
    ts,
)
from storage.sqlite_ledger import LEDGER_FILE
from storage.sqlite_people import PersonalData
from storage.sqlite_purge import Lifecycle
from storage.sqlite_records import StaffRecords

log = logging.getLogger("storage")

DATA_FILE = "feedback.db"
KEY_STORE_FILE = "keys.db"
LEDGER_SINCE = 14
"""The data schema version whose stores have had an erasure ledger from their first start."""
IN_FLIGHT_CHECKS = 25
"""Looks at an erasure the running bot is carrying out, before a command beside it refuses."""
IN_FLIGHT_PAUSE = 0.2  # seconds between them
_UNLIMITED_PAGES = 4294967294
_PSEUDONYM_KEY_AAD = b"feedbackbot/pseudonym-key/v1"


T = TypeVar("T")


class SQLiteStore(PersonalData, Lifecycle, StaffRecords, ConsentTexts, Store):
    """Store on SQLite. `max_page_count` caps the data file (tests use it to fill the disk)."""

    def __init__(
        self,
        data_dir: Path,
        master_key: bytes,
        *,
        max_page_count: int | None = None,
        exclusive: bool = False,
        upgrade: bool = True,
        lock_held: bool = False,
    ) -> None:
        """`exclusive`: hold the data dir's lock while open (see `sqlite_db.hold_lock`);
        `upgrade`: apply the migrations a store of an older version needs (else opening
        it raises StoreOutdated, and nothing is written); `lock_held`: the caller holds
        the lock (`restore`, which must leave no moment for a bot to start on what it put
        back): the store opens as exclusive and neither takes nor releases it."""
        super().__init__(master_key)
        self._dir = Path(data_dir)
        self._data_path = self._dir / DATA_FILE
        self._keys_path = self._dir / KEY_STORE_FILE
        self._ledger_path = self._dir / LEDGER_FILE
        self._max_page_count = max_page_count
        self._exclusive = exclusive or lock_held
        self._lock_held = lock_held
        self._upgrade = upgrade
        self._lock_file: int | None = None
        self.applied_again = 0
        """How many erasures and withdrawals opening carried out again (a restored backup
        still held what they had removed)."""
        self.rotated: int | None = None
        """How many data keys a master key rotation switched to the new key, once it has:
        also when Ctrl-C came as it switched (see rotate_master_key)."""

    # ---- opening -----------------------------------------------------------------

    async def open(self) -> None:
        """Open or create the store.

        Raises MasterKeyMismatch (key does not open keys.db) or KeyStoreMissing (data
        without keys.db) before anything is opened for writing, so the store's files stay
        byte-for-byte unchanged (SQLite may refresh keys.db-shm, its shared-memory index,
        to read the WAL); StoreError if secure_delete or WAL cannot be enabled
        or the files were written by a newer version.
        """
        if self._db is not None:
            raise StoreError("store is already open")
        sqlite_db.check_driver()
        if self._exclusive and not self._lock_held:
            self._lock_file = sqlite_db.hold_lock(self._dir)
        try:
            self._opened_at = wall_clock()  # before any key of this run is made
            try:
                await self._open()
            except sqlite3.DatabaseError:
                # The space kept in reserve is for this too: a bot that cannot start on a
                # full disk answers no erasure either, and `backup` could not copy the
                # store before space was made (found by an operator walk-through: the
                # 4 MB were there, and nothing said so).
                if not await asyncio.to_thread(_out_of_space, self._dir):
                    raise
                if not await asyncio.to_thread(self._give_up_reserve):
                    raise
                log.error(
                    "disk full: the space kept in reserve (%s) was given up to open the "
                    "store; free space on the disk of the data folder",
                    RESERVE_FILE,
                )
                await self._open()
            if self._upgrade:  # a store that writes (not a look at it from the CLI)
                await asyncio.to_thread(self._keep_reserve)
                await asyncio.to_thread(self._keep_private)
        except sqlite3.DatabaseError as error:
            self._release_lock()
            # permissions, a read-only mount: nothing damaged (there SQLite may say "unable
            # to open database file", and the advice to restore a backup could have good
            # files replaced by older ones: found by an operator walk-through)
            if "readonly" in str(error) or _read_only_folder(self._dir):
                raise StoreError(
                    N_(
                        "cannot write to the store in {path}: {reason}; the bot needs to "
                        "write there (check the owner and permissions of the folder and files)"
                    ),
                    path=self._dir,
                    reason=error,
                ) from None
            if _out_of_space(self._dir):  # SQLite says "disk I/O error" (found by review)
                raise StorageFull(
                    N_(
                        "cannot open the store in {path}: no space left on its disk; free "
                        "space and start again (nothing is damaged)"
                    ),
                    path=self._dir,
                ) from None
            if says_damaged(error):
                # SQLite's English "database disk image is malformed" in German output,
                # no file named (found by an operator walk-through)
                raise StoreError(
                    N_(
                        "cannot open the store in {path}: one of its files is damaged or no "
                        "database; restore the store from a backup (`feedbackbot restore`)"
                    ),
                    path=self._dir,
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

    async def _wait_for_the_bot(self, held: list[Any]) -> list[Any]:
        """Beside a running bot, an entry is held for the moment between an erasure's note
        and the key's shredding (longer while the bot's store is busy): waited for a
        while, and a refusal then says what is going on, not to start the bot, which
        runs (found by review: a nightly backup failed so now and then)."""
        for _ in range(IN_FLIGHT_CHECKS):
            if not held or not await self._bot_runs():
                return held
            await asyncio.sleep(IN_FLIGHT_PAUSE)
            held = await self._held_entries()
        if held and await self._bot_runs():
            raise StoreError(
                N_(
                    "the bot (or another feedbackbot command) holding {path} is carrying out "
                    "an erasure or withdrawal right now: run this command again in a moment; "
                    "should this persist, restart the bot, which completes it"
                ),
                path=self._dir,
            )
        return held

    async def _bot_runs(self) -> bool:
        return await asyncio.to_thread(sqlite_db.lock_held_elsewhere, self._dir)

    async def _apply_ledger(self) -> None:
        """Erasures and withdrawals noted in the ledger that the store's files do not
        reflect (a backup from before them was restored) are carried out again, before
        anyone is served or anything exported (see storage.sqlite_ledger).

        Only by the one holding the data dir's lock (the bot, `purge`, `chat`): a command
        opened beside the running bot in the middle of an erasure would otherwise carry
        it out itself (found by review). Any other opening is refused while there is
        something to apply again.

        The entries are looked up together (see `_held_entries`); those found are
        looked up again each on its own, oldest first, just before it is carried out: one
        carried out before may have carried it out too (an erasure takes the person's
        consents and chat id with it). Carrying out only deletes and withdraws, so an
        entry not found at first cannot come to hold anything."""
        held = await self._held_entries()
        if held and not self._exclusive:
            held = await self._wait_for_the_bot(held)
        if held and not self._exclusive:
            raise StoreError(
                N_(
                    "the store in {path} still holds data erased or withdrawn since it was "
                    "backed up: start the bot (`feedbackbot run`) once, which erases it "
                    "again, then run this command"
                ),
                path=self._dir,
            )
        again = 0
        for entry in held:
            if await self._still_held([entry]):
                await self._apply_again(entry)
                again += 1
        self.applied_again = again
        if again:
            log.warning(  # the count in the line itself (operator audit: it was not shown)
                "erasures_applied_again: %d erasure(s) or withdrawal(s) that a restored "
                "backup still held carried out again",
                again,
                extra={"count": again},
            )

    async def _apply_again(self, entry: dict[str, Any]) -> None:
        """Carry out a ledger entry again, as it was carried out at first."""
        if "erase" in entry:
            await self._erase(entry["erase"], again=True)
        elif "withdraw" in entry:
            await self._withdraw(
                entry["withdraw"],
                entry["purpose"],
                dt(entry["at"]),
                entry["collected"],
                entry["erased"],
                ended=entry.get("ended", False),
                again=True,
            )
        elif "contact" in entry:
            sql = "DELETE FROM main.contacts WHERE pseudonym = ?"
            await run(self._conn(), sql, (entry["contact"],))
        elif "language" in entry:
            sql = "DELETE FROM main.languages WHERE pseudonym = ?"
            await run(self._conn(), sql, (entry["language"],))

    def _refuse_read_only_files(self) -> None:
        """StoreError where a file of the store cannot be written by this user (found by an
        operator walk-through: with `chmod 400 feedback.db` the bot said "ready", then every
        answer failed, and the purge with it, in the log only). A read-only folder is
        refused where SQLite fails (see `open`)."""
        unwritable = unwritable_files(self._dir)
        if unwritable and not _mounted_read_only(self._dir):  # the mount is said where it fails
            raise StoreError(
                N_(
                    "cannot write to the store in {path}: {file} is read-only for this user; "
                    "the bot needs to write there (check the owner and permissions of the "
                    "folder and files)"
                ),
                path=self._dir,
                file=unwritable[0].name,
            )

    def _release_lock(self) -> None:
        if self._lock_file is not None:
            sqlite_db.release_lock(self._lock_file)
            self._lock_file = None

    async def _open(self) -> None:
        if self._upgrade or self._exclusive:
            # Where the store is written (the bot, `purge`, `rotate-key`, which switched the
            # key and then failed, found by review); a shared look from the CLI, a backup
            # say, needs only to read (found by the review before)
            await asyncio.to_thread(self._refuse_read_only_files)
        pseudonym_key = await asyncio.to_thread(self._existing_pseudonym_key)
        created = pseudonym_key is None
        if pseudonym_key is None:
            pseudonym_key = await self._create_key_store()
        else:
            await asyncio.to_thread(self._refuse_a_lost_ledger)
        if not created and not self._upgrade:
            for path, schema, migrations in (
                (self._data_path, "main", DATA_MIGRATIONS),
                (self._keys_path, "keys", KEY_MIGRATIONS),
                (self._ledger_path, "ledger", LEDGER_MIGRATIONS),  # (found by review)
            ):
                if path.exists():
                    await asyncio.to_thread(sqlite_db.refuse_outdated, path, schema, migrations)
        await asyncio.to_thread(create_private_file, self._data_path)
        await asyncio.to_thread(create_private_file, self._ledger_path)
        db = await aiosqlite.connect(self._data_path, isolation_level=None)
        try:
            await configure(db, self._keys_path, self._ledger_path)
            versions = {
                schema: (
                    await migrate(db, schema, migrations, upgrade=self._upgrade),
                    len(migrations),
                )
                for schema, migrations in (
                    ("main", DATA_MIGRATIONS),
                    ("keys", KEY_MIGRATIONS),
                    ("ledger", LEDGER_MIGRATIONS),
                )
            }
            if created:  # (made whole above, in a file of its own)
                versions["keys"] = (0, len(KEY_MIGRATIONS))
            sqlite_db.log_schemas_changed(versions)
            if self._max_page_count is not None:
                await sqlite_db.set_max_page_count(db, self._max_page_count)
            # Checked again as the store now reads: should a rotation by another process
            # have switched keys since the check above, this key no longer opens it.
            live = await fetch_one(db, "SELECT wrapped_pseudonym_key FROM keys.meta")
            if live is None or not _opens(self._master_key, live[0], _PSEUDONYM_KEY_AAD):
                raise MasterKeyMismatch(
                    N_(
                        "this is the master key from before a key rotation, which was "
                        "completed: start with the new master key (the one given to "
                        "`feedbackbot rotate-key`)"
                    )
                )
            self._db, self._pseudonym_key = db, pseudonym_key
            await self._seal_audit_actors()
            await self._time_audit_to_the_minute()
            await self._time_ledger_to_the_minute()
            await self._load_cache_key()
            await self._apply_ledger()
        except BaseException:
            self._db = self._pseudonym_key = self._cache_key = None
            await db.close()
            raise
        log.info("store_opened")

    def _refuse_a_lost_ledger(self) -> None:
        """A store that has had its ledger (data schema v14 on) must not get a new, empty
        one without a word: after a restore, people erased since the backup would be back
        (found by an operator audit: any command created one)."""
        lost = lost_ledger(self._dir)
        if lost is not None:
            raise lost

    def check_master_key(self) -> None:
        """Raises MasterKeyMismatch (or StoreError) where the master key does not open the
        existing key store, saying why, as opening would; reads keys.db without writing
        any file, and nothing where there is none yet (`feedbackbot check`)."""
        self._existing_pseudonym_key()

    def _existing_pseudonym_key(self) -> bytes | None:
        """The unwrapped pseudonym key of an existing key store, or None on a first run.

        Reads keys.db read-only, never writing its files (see below). The meta row is
        written before keys.db gets its name (see `_create_key_store`), so a first read
        finds it; where keys.db has a WAL, the row as the WAL has it decides: a key
        rotation cut short before its checkpoint left its switch there.
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
        # With a WAL (a bot running beside, or a rotation cut short before its checkpoint
        # left its switch there) through a read-only connection, which reads the WAL and
        # writes none of the store's files (SQLite may create or refresh only its
        # shared-memory index, keys.db-shm, which holds no data); else the main file as
        # it is, which writes nothing at all. (Read as immutable beside a running bot, the
        # main file may be caught mid-checkpoint and look damaged.)
        wal = self._dir / f"{KEY_STORE_FILE}-wal"
        unread_wal: sqlite3.Error | None = None
        read = None
        if wal.exists():
            try:
                read = _key_meta(self._keys_path, "mode=ro")
            except sqlite3.Error as exc:  # e.g. no keys.db-shm in a read-only folder
                unread_wal = exc
        if read is None:
            try:
                read = _key_meta(self._keys_path, "mode=ro&immutable=1")
            except sqlite3.Error as exc:
                raise StoreError(
                    N_("cannot read key store {path}: {reason}"), path=self._keys_path, reason=exc
                ) from None
        meta, holds_keys = read
        self._refuse_keys_without_data(holds_keys)
        if meta is None:
            raise StoreError(N_("key store {path} has no key metadata"), path=self._keys_path)
        try:
            return crypto.unwrap_key(
                self._master_key, meta["wrapped_pseudonym_key"], _PSEUDONYM_KEY_AAD
            )
        except DecryptionFailed:
            pass
        if unread_wal is not None and wal.stat().st_size > 0:
            raise MasterKeyMismatch(
                N_(
                    "the master key does not open the key store {path}, and its "
                    "write-ahead log, where a key rotation cut short keeps its last step, "
                    "could not be read ({reason}): let the bot write to the data folder "
                    "and start it again"
                ),
                path=self._keys_path,
                reason=unread_wal,
            )
        if _opens(self._master_key, meta.get("wrapped_pseudonym_key_next"), _PSEUDONYM_KEY_AAD):
            raise MasterKeyMismatch(
                N_(
                    "a rotation to this master key was interrupted; run `feedbackbot "
                    "rotate-key` again with the old key to finish it"
                )
            )
        if _is_retired(self._master_key, meta.get("retired_key_check")) or (
            wal.exists() and self._opened_before_rotation()
        ):
            raise MasterKeyMismatch(
                N_(
                    "this is the master key from before a key rotation, which was "
                    "completed: start with the new master key (the one given to "
                    "`feedbackbot rotate-key`)"
                )
            )
        if self._opens_a_data_key():
            # The key is right, the store's own record of its pseudonym key damaged (found
            # by a key review: the operator was sent looking for another master key).
            raise StoreError(
                N_(
                    "the key store {path} is damaged: the master key opens the people's "
                    "keys in it, but not its own pseudonym key; nothing was changed. "
                    "Restore {file} from the key store backup made with your latest data "
                    "backup (`feedbackbot backup --keys`)"
                ),
                path=self._keys_path,
                file=KEY_STORE_FILE,
            )
        raise MasterKeyMismatch(
            N_(
                "the master key does not open the key store {path}; nothing was changed "
                "(is the key from FEEDBACKBOT_MASTER_KEY, FEEDBACKBOT_MASTER_KEY_FILE or "
                "master.key in the data folder the one this store was made with, or "
                "rotated to?)"
            ),
            path=self._keys_path,
        )

    def refuse_key_store_backup(self, path: Path) -> None:
        """Raise MasterKeyMismatch, naming `path`, for a key store backup the master key
        does not open: one made before a `rotate-key`, or another store's. Opened in the
        data folder, it was named there as keys.db and the operator told to check the key
        configured (found walking the README: the file that did not open was the backup
        given on the command line). What else keeps it from opening (a rotation it caught
        half done, a retired key, a damaged meta row) is left to the opening to say. Reads
        the file as it is, writing nothing."""
        try:
            meta, _ = _key_meta(path, "mode=ro&immutable=1")
        except sqlite3.Error:
            return
        if meta is None or self._opens_a_data_key(path):
            return
        opened = (
            meta.get(name) for name in ("wrapped_pseudonym_key", "wrapped_pseudonym_key_next")
        )
        if any(_opens(self._master_key, wrapped, _PSEUDONYM_KEY_AAD) for wrapped in opened):
            return
        if _is_retired(self._master_key, meta.get("retired_key_check")):
            return
        raise MasterKeyMismatch(
            N_(
                "the master key does not open the key store backup {path}: it was made "
                "with another master key (before a `feedbackbot rotate-key`, say). Restore "
                "it with that key (in FEEDBACKBOT_MASTER_KEY_FILE), then rotate to the "
                "current one again, or give the key store backup made with this key"
            ),
            path=path,
        )

    def _opens_a_data_key(self, path: Path | None = None) -> bool:
        """Whether the master key opens one of the first people's keys in keys.db, or the
        key store `path` (read as it is, writing nothing)."""
        uri = f"{(path or self._keys_path).resolve().as_uri()}?mode=ro&immutable=1"
        try:
            con = sqlite3.connect(uri, uri=True)
            try:
                sql = "SELECT pseudonym, key_version, wrapped_dek FROM data_keys LIMIT 20"
                rows = con.execute(sql).fetchall()
            finally:
                con.close()
        except sqlite3.Error:
            return False
        return any(_opens(self._master_key, w, dek_aad(p, v)) for p, v, w in rows)

    def _opened_before_rotation(self) -> bool:
        """Whether the key opens keys.db's main file, whose WAL it does not open: the key
        from before a rotation whose switch is in the WAL only."""
        try:
            main, _ = _key_meta(self._keys_path, "mode=ro&immutable=1")
        except sqlite3.Error:
            return False
        return main is not None and _opens(
            self._master_key, main["wrapped_pseudonym_key"], _PSEUDONYM_KEY_AAD
        )

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
        log.debug("key_store_created")
        return pseudonym_key

    # ---- the space kept in reserve for erasure ----------------------------------------

    async def erase_subject(
        self, pseudonym: str, now: datetime | None = None, keep_proof: timedelta | None = None
    ) -> ErasureReport:
        erase = partial(super().erase_subject, pseudonym, now, keep_proof)
        return await self._with_reserve(erase, "erasure")

    async def withdraw_consent(self, *args: Any, **kwargs: Any) -> int:
        withdraw = partial(super().withdraw_consent, *args, **kwargs)
        return await self._with_reserve(withdraw, "withdrawal")

    async def purge_expired(
        self,
        now: datetime,
        audit_before: datetime | None = None,
        statistics_before: StatisticsCutoff | None = None,
        keep_proof: timedelta | None = None,
    ) -> PurgeReport:
        purge = partial(super().purge_expired, now, audit_before, statistics_before, keep_proof)
        report = await self._with_reserve(purge, "purge")
        if self._upgrade:  # made again once there is room (not by a look from the CLI)
            await asyncio.to_thread(self._keep_reserve)
        return report

    async def out_of_room(self) -> bool:
        def spent() -> bool:
            if _regular(self._dir / RESERVE_FILE):
                return False
            try:
                disk = os.statvfs(self._dir)
            except OSError:
                return False
            return disk.f_bavail * disk.f_frsize < ERASURE_ROOM

        return await asyncio.to_thread(spent)

    async def _with_reserve(self, work: Callable[[], Awaitable[T]], what: str) -> T:
        """`work` (an erasure, a withdrawal, the purge), with the space kept in reserve given
        up first where the disk is (all but) full: even a DELETE needs room in the
        write-ahead log, which is truncated to nothing after each erasure (found by review:
        on a full disk nobody could erase or withdraw, and nothing expired went). Given up
        before, not on failure: an erasure cut short and run again from its start would
        find its rows gone and report nothing erased (review of the change)."""
        if await asyncio.to_thread(_out_of_space, self._dir, RESERVE_BYTES):
            if await asyncio.to_thread(self._give_up_reserve):
                log.error(
                    "disk full: the space kept in reserve (%s) was given up for the %s; free "
                    "space on the disk of the data folder",
                    RESERVE_FILE,
                    what,
                )
        return await work()

    def _keep_private(self) -> None:
        """The store's files readable by their owner alone, also one the operator made (the
        README's `touch erasures.db` gave the ledger, with pseudonyms in clear, the umask's
        0644: found by review)."""
        with contextlib.suppress(OSError):
            folder = self._dir.stat()
            # Left as it is (it may be the operator's own folder), but said: others can
            # list it and see from the files' sizes and times how much feedback comes when,
            # or enter it and open the files by their names, or change what is in it.
            if folder.st_uid == os.geteuid() and _who_else(folder.st_mode):
                log.warning(
                    "data_folder_open: %s (mode %o); chmod 700 it",
                    _who_else(folder.st_mode),
                    stat.S_IMODE(folder.st_mode),
                )
        for name in (DATA_FILE, KEY_STORE_FILE, LEDGER_FILE):
            for path in (self._dir / name, self._dir / f"{name}-wal", self._dir / f"{name}-shm"):
                with contextlib.suppress(OSError):  # not there, or not the bot's to change
                    found = path.lstat()
                    # Not another user's files made group-readable on purpose (a bot run
                    # as root: review): the operator's own arrangement.
                    if _regular(path) and found.st_uid == os.geteuid() and found.st_mode & 0o077:
                        os.chmod(path, 0o600)
                        log.warning("permissions_tightened: %s is now 0600", path.name)

    def _keep_reserve(self) -> None:
        """Keep RESERVE_BYTES of the disk in a file of the data folder, where there is room."""
        path = self._dir / RESERVE_FILE
        with contextlib.suppress(OSError):
            if _regular(path) and path.lstat().st_size >= RESERVE_BYTES:
                return
        try:
            disk = os.statvfs(self._dir)
            if disk.f_bavail * disk.f_frsize < RESERVE_BYTES + FULL_BELOW:
                # not now: the disk is nearly full as it is (an operator review found this
                # silent on a small volume, where the reserve was never made)
                log.warning(
                    "no space kept in reserve (%s): less than %d MB free on the disk of the "
                    "data folder; on a full disk, erasures may then fail",
                    RESERVE_FILE,
                    (RESERVE_BYTES + FULL_BELOW) // 2**20,
                )
                return
            # Never through a link planted under its name (review): it would grow the file
            # linked to, and giving it up would free nothing.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            try:
                os.posix_fallocate(fd, 0, RESERVE_BYTES)
            finally:
                os.close(fd)
        except OSError as error:  # no room after all, or a file system without fallocate
            log.warning(
                "no space kept in reserve (%s): %s; on a full disk, erasures may then fail",
                RESERVE_FILE,
                type(error).__name__,
            )
            with contextlib.suppress(OSError):
                path.unlink()

    def _give_up_reserve(self) -> bool:
        path = self._dir / RESERVE_FILE
        try:
            if not _regular(path):
                return False
            path.unlink()
        except OSError:
            return False
        return True

    async def close(self) -> None:
        if self._db is None:
            return
        if self._checkpoint_retry is not None:  # closing checkpoints
            self._checkpoint_retry.cancel()
        async with self._lock:
            db, self._db = self._db, None
            self._pseudonym_key = self._cache_key = None
            self._deks.clear()
            self._spares.clear()
            self._keys_swept = False
            await db.close()  # the last connection checkpoints and removes the WAL
        # run as root, what it made is the bot's account's (see give_to_folder_owner)
        await asyncio.to_thread(sqlite_db.give_to_folder_owner, self._dir)
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
        self._spares.clear()
        if self._checkpoint_retry is not None:  # its loop may be gone already
            with contextlib.suppress(RuntimeError):
                self._checkpoint_retry.cancel()
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
                " wrapped_pseudonym_key_next = NULL, retired_key_check = ?",
                (_retired_check(old_key),),
            )

        async with self._lock:
            # Ctrl-C here does not stop the job on the store's thread: waited for, so that
            # the caller knows it committed (found by an interrupt audit: "interrupted",
            # with the old key refused from then on, which an operator believed working).
            job = asyncio.ensure_future(on_thread(db, switch, atomic=True))
            cancelled = False
            while not job.done():
                try:
                    await asyncio.shield(job)
                except asyncio.CancelledError:
                    cancelled = True
            job.result()
            self._master_key = new_key
            self.rotated = total
            if cancelled:
                raise asyncio.CancelledError
            await self._checkpoint()  # so that the start-up check need not copy the WAL
        log.info("master_key_rotated")
        return total

    async def backup(
        self, destination: Path, keys: Path | None = None, ledger: Path | None = None
    ) -> None:
        """A consistent copy of the data store via VACUUM INTO; with `keys`, of the key
        store as well (also of keys still in its write-ahead log, which a plain file copy
        of keys.db while the bot runs misses; such copies are to be kept only briefly:
        an erasure destroys a key in keys.db, not in its copies); with `ledger`, of the
        erasure ledger erasures.db (for a data folder lost as a whole; it holds the notes
        of staff-chat alerts, so it is kept no longer than data backups).

        All destinations are checked before anything is written: StoreError if one
        exists, its folder does not, or two are the same file. All or nothing: should
        a later copy fail, the earlier ones are removed again. The data is copied first
        (the key store's copy then holds the key of every feedback in the data copy; the
        ledger's copy every erasure made while the data was copied or after, and notes of
        alerts whose feedback the data copy lacks, which are retracted once restored).
        VACUUM INTO writes live pages only, unlike the backup API, which would copy freed
        pages of erased people verbatim."""
        targets = [("main", Path(destination))]
        if keys is not None:
            targets.append(("keys", Path(keys)))
        if ledger is not None:
            targets.append(("ledger", Path(ledger)))
        await asyncio.to_thread(_check_backup_destinations, targets)
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
        """VACUUM `schema` INTO `destination` (see _vacuum_into). The copy is one job on
        the connection's thread, from its private folder to its rename and the folder's
        removal: cancelled (Ctrl-C), the job is interrupted and waited for, and a copy it
        finished meanwhile removed, before this returns, so that nothing it makes is left
        behind. Found by an operator audit: the folder was made, the copy renamed and the
        folder removed in other threads than the VACUUM, each cut off by Ctrl-C while it
        went on, which left an empty folder, or a finished copy nobody knew of, behind."""
        async with self._lock:
            db = self._conn()
            job = asyncio.ensure_future(
                on_thread(db, partial(_vacuum_into, schema=schema, destination=destination))
            )
            try:
                await asyncio.shield(job)
            except asyncio.CancelledError:
                await db.interrupt()  # SQLite's own, callable from any thread
                await asyncio.wait([job])
                if not job.cancelled() and job.exception() is None:  # in place already
                    await asyncio.to_thread(destination.unlink, missing_ok=True)
                raise

    async def set_max_page_count(self, pages: int | None) -> None:
        """Change the size cap of the data file (None: SQLite's maximum)."""
        async with self._lock:
            await sqlite_db.set_max_page_count(
                self._conn(), _UNLIMITED_PAGES if pages is None else pages
            )

    async def claim_update(self, update_id: int, now: datetime) -> bool:
        # One statement on a table of its own, on every update: no lock (see _lock).
        count = await run(
            self._conn(),
            "INSERT OR IGNORE INTO main.processed_updates (update_id, seen_at) VALUES (?, ?)",
            # To the minute: the purge forgets them after a day; finer, the file keeps a
            # timeline of every message anyone sent (erased people's too) for that day.
            (update_id, ts(to_the_minute(now))),
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
        aad = dek_aad(pseudonym, version)
        dek = crypto.unwrap_key(old_key, wrapped, aad)
        updates.append((crypto.wrap_key(new_key, dek, aad), pseudonym, version))
    conn.executemany(
        "UPDATE keys.data_keys SET wrapped_next = ? WHERE pseudonym = ? AND key_version = ?",
        updates,
    )
    return len(updates)


def _vacuum_into(conn: sqlite3.Connection, *, schema: str, destination: Path) -> None:
    """VACUUM `schema` INTO a file in a private folder beside `destination` (0700, of a
    name nobody can foresee: a link planted where the copy is written is not written
    through, found by review), renamed into place once complete; nothing is left behind
    when it fails. Runs on the connection's thread."""
    try:
        folder = Path(tempfile.mkdtemp(prefix=".feedbackbot-backup-", dir=destination.parent))
    except OSError as error:  # named as the operator wrote it, not as the folder beside it
        raise OSError(error.errno, error.strerror, str(destination)) from None
    copy = folder / "copy.db"
    try:
        old_umask = os.umask(0o077)
        try:  # the schema is one of three constants, never input
            conn.execute(f"VACUUM {schema} INTO ?", (str(copy),))
        finally:
            os.umask(old_umask)
        durable_rename(copy, destination)
    except sqlite3.Error as error:
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
    finally:
        _remove_folder(folder)


def _remove_folder(folder: Path) -> None:
    """The private folder a copy was written in, with what is left in it."""
    for leftover in folder.iterdir():
        leftover.unlink(missing_ok=True)
    folder.rmdir()


_COPY_NAMES = {"main": "feedbackbot", "keys": "feedbackbot-keys", "ledger": "feedbackbot-ledger"}
"""The start of the file name a folder given as a copy's destination is shown with."""


def _check_backup_destinations(targets: list[tuple[str, Path]]) -> None:
    """Raises StoreError unless each destination (of the database `targets` names with
    it) is a new file in an existing folder, and no two are the same."""
    destinations = [path for _, path in targets]
    if len({path.resolve() for path in destinations}) < len(destinations):
        raise StoreError(
            N_("each copy needs a file of its own; {path} is given twice"),
            path=destinations[-1],
        )
    for database, destination in targets:
        if destination.is_dir():
            # Said as what it is (found by an operator's walk-through: "exists", and the
            # operator who meant "into this folder" did not see what to give instead).
            name = f"{_COPY_NAMES[database]}-{datetime.now(UTC):%Y-%m-%d}.db"
            example = destination / name
            raise StoreError(
                N_("{path} is a folder; give the copy a file name in it, such as {example}"),
                path=destination,
                example=example,
            )
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


def _key_meta(path: Path, mode: str) -> tuple[dict[str, Any] | None, bool]:
    """keys.db's meta row and whether it holds any person's key, through a read-only
    connection opened with URI parameters `mode`."""
    con = sqlite3.connect(f"{path.resolve().as_uri()}?{mode}", uri=True)
    try:
        cursor = con.execute("SELECT * FROM meta WHERE id = 1")
        row = cursor.fetchone()
        names = [d[0] for d in cursor.description]
        holds = con.execute("SELECT EXISTS (SELECT 1 FROM data_keys)").fetchone()
    finally:
        con.close()
    meta = None if row is None else dict(zip(names, row, strict=True))
    return meta, bool(holds and holds[0])


_RETIRED = b"feedbackbot/retired-master-key/v1"


def _retired_check(key: bytes) -> bytes:
    """What keys.meta keeps of a master key a rotation retired: an HMAC of a constant
    under it (a one-way check value; the key is 256 random bits)."""
    return hmac.new(key, _RETIRED, hashlib.sha256).digest()


def _is_retired(key: bytes, check: bytes | None) -> bool:
    return check is not None and hmac.compare_digest(_retired_check(key), check)


def _opens(key: bytes, wrapped: bytes | None, aad: bytes) -> bool:
    if wrapped is None:
        return False
    try:
        crypto.unwrap_key(key, wrapped, aad)
    except DecryptionFailed:
        return False
    return True


def _regular(path: Path) -> bool:
    """Whether `path` is a regular file itself, not a link to one."""
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except OSError:
        return False


def _mounted_read_only(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _read_only_folder(folder: Path) -> bool:
    """Whether `folder` cannot be written: a read-only mount, or permissions."""
    try:
        mounted_read_only = bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False
    return mounted_read_only or not os.access(folder, os.W_OK)


def _out_of_space(folder: Path, below: int = 0) -> bool:
    """Whether the disk holding `folder` has (all but) no room left, or less than `below`
    bytes: a full disk is no damaged file, and restoring a backup, as that advice says,
    loses what came since."""
    try:
        disk = os.statvfs(folder)
    except OSError:
        return False
    return disk.f_bavail * disk.f_frsize < max(below, FULL_BELOW)


RESERVE_FILE = "space.reserve"


SQLITE_HEADER = b"SQLite format 3\x00"
"""The first 16 bytes of every SQLite database file."""


def stray_databases(data_dir: Path) -> list[Path]:
    """SQLite files in the data folder that are none of the store's: a backup written
    there, say (found by an operator walk-through: `backup data/nightly.db --keys
    data/nightly-keys.db` went unsaid by `run` and `check`), beyond erasure and the purge,
    a key store copy keeping the keys of people erased since."""
    own = {DATA_FILE, KEY_STORE_FILE, LEDGER_FILE}
    own |= {f"{name}{end}" for name in tuple(own) for end in ("-wal", "-shm", "-journal", ".new")}
    found = []
    with contextlib.suppress(OSError):
        for path in sorted(data_dir.iterdir()):
            if path.name in own or not _regular(path):
                continue
            with contextlib.suppress(OSError), path.open("rb") as file:
                if file.read(16) == SQLITE_HEADER:
                    found.append(path)
    return found


def unwritable_files(data_dir: Path) -> list[Path]:
    """The store's files (and their write-ahead logs and indexes) in `data_dir` that this
    user cannot write."""
    found = []
    for name in (DATA_FILE, KEY_STORE_FILE, LEDGER_FILE):
        for end in ("", "-wal", "-shm"):
            path = data_dir / f"{name}{end}"
            if path.exists() and not os.access(path, os.W_OK):
                found.append(path)
    return found


def says_damaged(error: BaseException | None) -> bool:
    """Whether `error` is SQLite's finding a store file damaged ("database disk image is
    malformed") or no database."""
    return isinstance(error, sqlite3.DatabaseError) and getattr(
        error, "sqlite_errorcode", None
    ) in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


def lost_ledger(data_dir: Path) -> StoreError | None:
    """The refusal of a store that has had its erasure ledger (data schema v14 on) but
    finds none (see SQLiteStore._refuse_a_lost_ledger; also said by `feedbackbot check`,
    which said "0 errors" while every other command refused: an operator's walk-through)."""
    data_dir = Path(data_dir)
    data = data_dir / DATA_FILE
    if (data_dir / LEDGER_FILE).exists() or not data.exists():
        return None
    version = sqlite_db.schema_version(data)
    if version is None or version < LEDGER_SINCE:
        return None
    return StoreError(
        N_(
            "the erasure ledger {file} is missing in {path}: put back its newest copy "
            "(`feedbackbot backup --ledger`); only if there is none, create an empty "
            "one (`touch {file}` there) and start again, knowing that erasures and "
            "withdrawals since the data backup are then not carried out again"
        ),
        path=data_dir,
        file=LEDGER_FILE,
    )


def damaged_files(data_dir: Path) -> list[tuple[Path, str]]:
    """The store's files that SQLite's quick check finds damaged, each with the first
    thing it says (found by testing with pages overwritten: `check` said "0 errors", and
    the bot's purge then failed on a damaged index in the log, unexplained). Read-only,
    beside a running bot too; a file that cannot be opened for another reason (a
    read-only folder without the log's index, say) is left to the store's opening."""
    found = []
    for name in (DATA_FILE, KEY_STORE_FILE, LEDGER_FILE):
        path = data_dir / name
        if not _regular(path):
            continue
        try:
            con = sqlite3.connect(sqlite_db.read_only_uri(path), uri=True)
            try:
                rows = con.execute("PRAGMA quick_check(3)").fetchall()
            finally:
                con.close()
        except sqlite3.Error as error:
            if says_damaged(error):
                found.append((path, str(error)))
            continue
        if rows and rows[0][0] != "ok":
            said = [
                line
                for row in rows
                for line in str(row[0]).splitlines()
                if line and not line.startswith("***")  # "*** in database main ***"
            ]
            found.append((path, "; ".join(said)[:200]))
    return found


RESERVE_BYTES = 4 << 20
"""Room for the write-ahead log of an erasure (a few hundred pages) on a full disk."""
ERASURE_ROOM = 256 << 10
"""Below this, with no reserve, an erasure or a withdrawal that erases feedback is not
begun (see out_of_room): on a tmpfs an erasure went through with 128 KB free and a
withdrawal with 256 KB, neither with 64 KB (found by review: a threshold of 1 MB refused
ones that would have gone through)."""
FULL_BELOW = 1 << 20
"""Bytes free under which a disk counts as full for SQLite (a page, a WAL frame, -shm)."""


def _who_else(mode: int) -> str:
    """What besides the owner the group and others may do in a folder of `mode`, said as
    it is: "the group can list the data folder", "others can enter the data folder". It
    said "others" of a folder only the group could list (found by review), and "list" of
    one others could only enter, by a file's name (0711: found by a README audit); one
    they can write to (and enter) lets them remove and replace the bot's files."""
    said = {}
    for who, shift in (("the group", 3), ("others", 0)):
        r, w, x = (bool(mode & (bit << shift)) for bit in (4, 2, 1))
        can = [verb for verb, given in (("list", r), ("change", w and x)) if given]
        said[who] = " and ".join(can or (["enter"] if x else []))  # "w" alone: no way in
    ways = {can for can in said.values() if can}
    if len(ways) == 1 and all(said.values()):
        return f"the group and others can {ways.pop()} the data folder"
    return ", ".join(f"{who} can {can} the data folder" for who, can in said.items() if can)
    # "" when neither can do a thing there (0720: write permission without a way in)
