"""Low-level SQLite plumbing for the store: schema migrations, connection settings,
transactions as jobs on the connection's thread with full-disk handling, timestamps and
private files."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import stat
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from storage.interface import N_, StorageFull, StoreError, StoreInUse, StoreOutdated
from storage.memory import utc

log = logging.getLogger("storage")
T = TypeVar("T")

SCHEMAS = ("main", "keys", "ledger")
"""feedback.db, keys.db and erasures.db, as the store's connection names them."""

# Ordered migrations per schema: each inner list runs in one transaction.
DATA_MIGRATIONS: list[list[str]] = [
    [
        "CREATE TABLE main.drafts (pseudonym TEXT PRIMARY KEY, key_version INTEGER NOT NULL,"
        " updated_at TEXT NOT NULL, expires_at TEXT NOT NULL, ciphertext BLOB NOT NULL)",
        "CREATE INDEX main.drafts_expires ON drafts (expires_at)",
        "CREATE TABLE main.consents (id TEXT PRIMARY KEY, pseudonym TEXT NOT NULL,"
        " purpose TEXT NOT NULL, key_version INTEGER NOT NULL, granted_at TEXT NOT NULL,"
        " withdrawn_at TEXT, ciphertext BLOB NOT NULL)",
        "CREATE INDEX main.consents_person ON consents (pseudonym, granted_at)",
        "CREATE TABLE main.feedback (id TEXT PRIMARY KEY, pseudonym TEXT NOT NULL,"
        " flow_id TEXT NOT NULL, key_version INTEGER NOT NULL, created_at TEXT NOT NULL,"
        " expires_at TEXT NOT NULL, ciphertext BLOB NOT NULL)",
        "CREATE INDEX main.feedback_person ON feedback (pseudonym, created_at)",
        "CREATE INDEX main.feedback_expires ON feedback (expires_at)",
        "CREATE TABLE main.contacts (pseudonym TEXT PRIMARY KEY, key_version INTEGER NOT NULL,"
        " ciphertext BLOB NOT NULL)",
        "CREATE TABLE main.processed_updates (update_id INTEGER PRIMARY KEY,"
        " seen_at TEXT NOT NULL)",
        "CREATE INDEX main.processed_updates_seen ON processed_updates (seen_at)",
        "CREATE TABLE main.audit (id INTEGER PRIMARY KEY, event TEXT NOT NULL, at TEXT NOT NULL)",
    ],
    [
        # Anonymous counts per day and flow, encrypted as one blob each (see statistics()).
        "CREATE TABLE main.statistics (day TEXT NOT NULL, flow_id TEXT NOT NULL,"
        " ciphertext BLOB NOT NULL, PRIMARY KEY (day, flow_id)) WITHOUT ROWID",
    ],
    [
        # Staff access is audited: who (a staff id, never a customer), what, how many.
        "ALTER TABLE main.audit ADD COLUMN actor TEXT",
        "ALTER TABLE main.audit ADD COLUMN detail TEXT",
        "ALTER TABLE main.audit ADD COLUMN records INTEGER",
        "CREATE INDEX main.audit_at ON audit (at)",
        "CREATE INDEX main.feedback_created ON feedback (created_at)",
        "CREATE INDEX main.consents_in_force ON consents (pseudonym) WHERE withdrawn_at IS NULL",
    ],
    [
        # Which recipient got which feedback, so that erasure can notify them (Art. 19).
        "CREATE TABLE main.deliveries (id INTEGER PRIMARY KEY, pseudonym TEXT NOT NULL,"
        " key_version INTEGER NOT NULL, recipient TEXT NOT NULL, feedback_id TEXT NOT NULL,"
        " delivered_at TEXT NOT NULL)",
        "CREATE INDEX main.deliveries_person ON deliveries (pseudonym)",
    ],
    [
        # Summary figures per UTC day ("2026-11-29") or hour ("2026-11-29T09"), encrypted;
        # `epoch` moves on (and the figures go) whenever what they count changes.
        "CREATE TABLE main.summary_cache (bucket TEXT PRIMARY KEY, epoch INTEGER NOT NULL,"
        " changed_at TEXT NOT NULL, version TEXT, expires_at TEXT, ciphertext BLOB)"
        " WITHOUT ROWID",
    ],
    [
        # The purge finds expired figures and long-dropped rows without a scan. (IF NOT
        # EXISTS: stores created for a while had these in the migration before.)
        "CREATE INDEX IF NOT EXISTS main.summary_cache_expires ON summary_cache (expires_at)"
        " WHERE ciphertext IS NOT NULL",
        "CREATE INDEX IF NOT EXISTS main.summary_cache_dropped ON summary_cache (changed_at)"
        " WHERE ciphertext IS NULL",
    ],
    [
        # Who accessed what, no longer in clear: the staff member's id encrypted, and a
        # keyed hash of it to find their last confirmation of the rules. The store moves
        # older rows' `actor` over when it opens (SQLiteStore._seal_audit_actors).
        "ALTER TABLE main.audit ADD COLUMN actor_ref TEXT",
        "ALTER TABLE main.audit ADD COLUMN actor_sealed BLOB",
        "CREATE INDEX main.audit_actor ON audit (actor_ref, event) WHERE actor_ref IS NOT NULL",
    ],
    [
        # A delivery is recorded before its first attempt (pending), so that an erasure
        # during the attempt tells that recipient too, and a restart sends it again.
        "ALTER TABLE main.deliveries ADD COLUMN pending INTEGER NOT NULL DEFAULT 0",
        "CREATE INDEX main.deliveries_pending ON deliveries (delivered_at) WHERE pending = 1",
        # Deletion notices (Art. 19) until sent: the erasure removes the deliveries they
        # are made from. Random feedback ids and a recipient id, nothing else.
        "CREATE TABLE main.notices (id INTEGER PRIMARY KEY, recipient TEXT NOT NULL,"
        " reason TEXT NOT NULL, feedback_ids TEXT NOT NULL, queued_at TEXT NOT NULL)",
    ],
    [
        # Release points of staff summaries (flows.staff): UTC midnights and how many
        # feedbacks and people the group of days each closes counted. Nothing personal.
        "CREATE TABLE main.releases (at TEXT PRIMARY KEY, feedbacks INTEGER NOT NULL,"
        " people INTEGER NOT NULL, digest TEXT NOT NULL) WITHOUT ROWID",
    ],
    [
        # The language a person chose with /sprache: encrypted like a draft, one row per
        # person, with its own deletion date.
        "CREATE TABLE main.languages (pseudonym TEXT PRIMARY KEY, key_version INTEGER NOT NULL,"
        " chosen_at TEXT NOT NULL, expires_at TEXT NOT NULL, ciphertext BLOB NOT NULL)",
        "CREATE INDEX main.languages_expiry ON languages (expires_at)",
    ],
    [
        # A delivery given up on after an attempt that may have arrived (a timeout after
        # sending) is kept, so that an erasure still tells its recipient.
        "ALTER TABLE main.deliveries ADD COLUMN unconfirmed INTEGER NOT NULL DEFAULT 0",
    ],
    [
        # What a feedback added to the anonymous statistics, sealed under the person's
        # key, so that an erasure or a withdrawal takes it out again; NULL once taken out
        # (and for feedback stored before this column: its counts stay).
        "ALTER TABLE main.feedback ADD COLUMN tallies BLOB",
    ],
    [
        # The archive of consent texts: the wording each SHA-256 and notice version in the
        # consent records stands for, kept for good. In clear: built from the settings and
        # flow definitions, nothing about anyone; in the data store, so that every backup
        # of the consent records carries the texts they refer to.
        "CREATE TABLE main.consent_texts (sha256 TEXT NOT NULL, flow_id TEXT NOT NULL,"
        " notice_version TEXT NOT NULL, language TEXT NOT NULL, kind TEXT NOT NULL,"
        " purposes TEXT NOT NULL, first_seen TEXT NOT NULL, text TEXT NOT NULL,"
        " UNIQUE (notice_version, flow_id, language, kind, purposes, sha256))",
        "CREATE INDEX main.consent_texts_sha256 ON consent_texts (sha256)",
    ],
    [
        # Release points per survey: a survey's group of days closes when k people gave
        # feedback to it, not k to all surveys together (where a second survey left most
        # groups without k answers to any one). The points so far close groups of all
        # surveys (flow ''): every survey's points start after the newest of them.
        "CREATE TABLE main.release_points (flow TEXT NOT NULL, at TEXT NOT NULL,"
        " feedbacks INTEGER NOT NULL, people INTEGER NOT NULL, digest TEXT NOT NULL,"
        " PRIMARY KEY (flow, at)) WITHOUT ROWID",
        "INSERT INTO main.release_points (flow, at, feedbacks, people, digest)"
        " SELECT '', at, feedbacks, people, digest FROM main.releases",
        "DROP TABLE main.releases",
        "CREATE INDEX main.release_points_at ON release_points (at)",
        # A delivery whose feedback's deletion date was brought forward after the
        # recipient was told the old one: the purge asks it to delete at the new date.
        "ALTER TABLE main.deliveries ADD COLUMN cut_short INTEGER NOT NULL DEFAULT 0",
        "CREATE INDEX main.deliveries_cut_short ON deliveries (feedback_id) WHERE cut_short = 1",
        # Found by review: marking them looked a feedback's deliveries up by its id in the
        # whole table, once per feedback (20,000 feedbacks: 40 s at start).
        "CREATE INDEX main.deliveries_feedback ON deliveries (feedback_id)",
    ],
    [
        # Alerts to the staff chat on their way, written with the feedback: one that a
        # stop, a crash or Telegram's flood control kept from being posted is posted at
        # the next start or purge (found by review: it was lost, and with it the only
        # reference staff could answer by). The feedback's id and person, nothing else.
        "CREATE TABLE main.alerts_due (feedback_id TEXT PRIMARY KEY, pseudonym TEXT NOT NULL,"
        " key_version INTEGER NOT NULL, queued_at TEXT NOT NULL)",
        "CREATE INDEX main.alerts_due_person ON alerts_due (pseudonym)",
    ],
    [
        # Whether a contact chat id was given with the feedback: the id goes with the last
        # feedback it was given with (found by a time review: it stayed while the person
        # had any feedback, up to a retention longer than its own). NULL for feedback
        # stored before: it may have been, so the id stays with it as before.
        "ALTER TABLE main.feedback ADD COLUMN with_contact INTEGER",
    ],
    [
        # The consent each feedback was passed on under (the recipient's own purpose then;
        # '' for an internal one): a withdrawal tells the recipient that got it under the
        # consent withdrawn, also after its purpose or id was changed in the file (found
        # by review: a recipient given another purpose kept what it had got under the old
        # one). NULL for deliveries made before: its purpose now is taken, as before.
        "ALTER TABLE main.deliveries ADD COLUMN purpose TEXT",
    ],
    [
        # Each survey's answers have a key of their own (storage.sqlite_core.KEY_VERSION):
        # whether any feedback is still sealed under one is looked up for every key of a
        # person at each drop (found by review: with thousands of feedbacks from one
        # person, a scan of all of them per key held everyone up for seconds).
        "CREATE INDEX IF NOT EXISTS main.feedback_key ON feedback (pseudonym, key_version)",
    ],
    [
        # When a consent ended with the feedback it was given for rather than being
        # withdrawn by the person (a consent to be contacted, with the last feedback it
        # served): /meinedaten said "withdrawn on", which the person never did (found by
        # review). `withdrawn_at` is set too, as before: every check of a consent in force
        # goes by it. NULL for rows from before: they read as withdrawn, as they did.
        "ALTER TABLE main.consents ADD COLUMN ended_at TEXT",
    ],
    [
        # One-off work at the first start of the version that adds it (bot.app), removed
        # once done: feedback whose consent was withdrawn under a version before 30 Nov
        # 2026 was kept, no longer evaluated; now a withdrawal erases it (Art. 17(1)(b)),
        # and so does this, once (found by an upgrade review: it stayed up to 180 days).
        # A new store gets the row too: its pass finds nothing. (IF NOT EXISTS, OR IGNORE:
        # a store taken back to an older version by hand, and upgraded again, keeps the
        # table; that version may have kept such feedback again.)
        "CREATE TABLE IF NOT EXISTS main.upkeep (task TEXT PRIMARY KEY) WITHOUT ROWID",
        "INSERT OR IGNORE INTO main.upkeep (task) VALUES ('withdrawn_leftovers')",
    ],
    [
        # The feedback limit (FEEDBACKBOT_FEEDBACK_LIMIT) counts a person's feedback to one
        # survey over the last day at every begin and submission: from this index alone,
        # its columns in clear, nothing decrypted and no row read. (IF NOT EXISTS: a store
        # taken back by hand to an older version and upgraded again keeps the index.)
        "CREATE INDEX IF NOT EXISTS main.feedback_limit"
        " ON feedback (pseudonym, flow_id, created_at, expires_at)",
    ],
    [
        # Times in clear cut to the minute, as the store now writes them (storage.memory.
        # to_the_minute): when each person chose a language, and when each update came
        # in, read from a copied data file to the microsecond (found by a review of what
        # the files show without the master key). The text keeps its fixed width, so
        # comparing the strings still compares the instants.
        "UPDATE main.processed_updates"
        " SET seen_at = substr(seen_at, 1, 16) || ':00.000000' || substr(seen_at, 27)",
        # (A deletion date rounded up: kept no shorter than it was.)
        "UPDATE main.languages"
        " SET chosen_at = substr(chosen_at, 1, 16) || ':00.000000' || substr(chosen_at, 27),"
        " expires_at = CASE WHEN substr(expires_at, 18, 9) = '00.000000' THEN expires_at"
        " ELSE strftime('%Y-%m-%dT%H:%M', expires_at, '+1 minute') || ':00.000000+00:00' END",
    ],
    [
        # No summary cache per minute (storage.interface.BUCKET_LENGTHS): a row dropped
        # at an erasure was kept under its name for an hour, so a copy of feedback.db
        # showed the minute of each feedback of the person erased (found by a review of
        # what the files show without the master key). The rows there are go; ten
        # minutes, hours and days cover the periods as before.
        "DELETE FROM main.summary_cache WHERE length(bucket) = 16",
    ],
    [
        # When each summary cache row last changed, to the minute (sqlite_core.
        # cache_clock): the rows an erasure dropped shared one time to the microsecond,
        # which told them from the others as one person's and dated the erasure in a copy
        # of feedback.db (found by a review of what the files show without the master
        # key). Only the purge reads it, an hour on; the text keeps its fixed width.
        "UPDATE main.summary_cache"
        " SET changed_at = substr(changed_at, 1, 16) || ':00.000000' || substr(changed_at, 27)",
    ],
]
LEDGER_MIGRATIONS: list[list[str]] = [
    [
        # Erasures and withdrawals to apply again should a backup from before them be
        # restored (see storage.sqlite_ledger): whom and what sealed under a key derived
        # from the pseudonym key, when and until when in clear. A file of its own, left
        # out of backups and in place when feedback.db and keys.db are restored.
        "CREATE TABLE ledger.erasures (seq INTEGER PRIMARY KEY, at TEXT NOT NULL,"
        " keep_until TEXT NOT NULL, sealed BLOB NOT NULL)",
        "CREATE INDEX ledger.erasures_keep ON erasures (keep_until)",
    ],
    [
        # Messages the bot posted to the staff chat about one feedback (alerts), so that
        # erasure, withdrawal and expiry reach the copy there. Beside the ledger, so that
        # a restored backup does not lose them: an alert whose feedback the restore took
        # away is retracted too. Once the feedback goes, the row keeps only where the
        # message is (pseudonym, feedback and purpose NULL) until its text is replaced;
        # `redraw`: to be shown again as the consents now in force allow.
        "CREATE TABLE ledger.staff_posts (id INTEGER PRIMARY KEY, chat_id INTEGER NOT NULL,"
        " message_id INTEGER NOT NULL, posted_at TEXT NOT NULL, pseudonym TEXT,"
        " feedback_id TEXT, purpose TEXT, redraw INTEGER NOT NULL DEFAULT 0,"
        " UNIQUE (chat_id, message_id))",
        "CREATE INDEX ledger.staff_posts_person ON staff_posts (pseudonym)"
        " WHERE pseudonym IS NOT NULL",
        "CREATE INDEX ledger.staff_posts_retract ON staff_posts (chat_id, message_id)"
        " WHERE pseudonym IS NULL",
        "CREATE INDEX ledger.staff_posts_redraw ON staff_posts (chat_id, message_id)"
        " WHERE redraw = 1",
    ],
    [
        # Proof of consent kept after the person's data went (FEEDBACKBOT_CONSENT_PROOF_
        # RETENTION): one row per person, all their proofs sealed in it under a key derived
        # from the pseudonym key, padded; `person` a keyed hash of the pseudonym of its own
        # (found by an index, not by reading every entry as the erasures are); in clear
        # only when its first proof is due to go (the first of a month) and the longest
        # period any was kept for, in days. Beside the ledger: a restore must not lose it.
        "CREATE TABLE ledger.consent_proofs (person TEXT PRIMARY KEY, due TEXT NOT NULL,"
        " kept_for INTEGER NOT NULL, sealed BLOB NOT NULL) WITHOUT ROWID",
        "CREATE INDEX ledger.consent_proofs_due ON consent_proofs (due)",
    ],
]
KEY_MIGRATIONS: list[list[str]] = [
    [
        "CREATE TABLE keys.meta (id INTEGER PRIMARY KEY CHECK (id = 1),"
        " wrapped_pseudonym_key BLOB NOT NULL, created_at TEXT NOT NULL)",
        "CREATE TABLE keys.data_keys (pseudonym TEXT NOT NULL, key_version INTEGER NOT NULL,"
        " wrapped_dek BLOB NOT NULL, created_at TEXT NOT NULL,"
        " PRIMARY KEY (pseudonym, key_version)) WITHOUT ROWID",
    ],
    [
        # Master key rotation wraps every key a second time before switching over.
        "ALTER TABLE keys.data_keys ADD COLUMN wrapped_next BLOB",
        "ALTER TABLE keys.meta ADD COLUMN wrapped_pseudonym_key_next BLOB",
    ],
    [
        # The summary cache's key: random, replaced at every erasure, so that figures
        # cached before (words of comments, people's hashes) cannot be read from any
        # copy of the data store afterwards. Wrapped by a key derived from the pseudonym
        # key, so a master-key rotation needs no step of its own.
        "CREATE TABLE keys.cache_key (id INTEGER PRIMARY KEY CHECK (id = 1),"
        " wrapped BLOB NOT NULL)",
    ],
    [
        # When the cache key was last replaced: a purge that removes expired feedback
        # replaces it once a day, so old data backups' figures of it become unreadable.
        "ALTER TABLE keys.cache_key ADD COLUMN renewed_at TEXT",
    ],
    [
        # Since when a renewal is owed (feedback expired while the key was less than a
        # day old): kept, so that a later purge renews it even if nothing expires then.
        "ALTER TABLE keys.cache_key ADD COLUMN renewal_owed TEXT",
    ],
    [
        # A check value of the master key a rotation retired (HMAC of a constant under
        # it: it tells that key again, and nothing of it), so that an operator who
        # starts with it is told it was rotated away, not that it is some wrong key.
        "ALTER TABLE keys.meta ADD COLUMN retired_key_check BLOB",
    ],
]


def ts(moment: datetime) -> str:
    """Fixed-width ISO UTC text, so that comparing the strings compares the instants."""
    return utc(moment).isoformat(timespec="microseconds")


def dt(text: str) -> datetime:
    """Inverse of `ts`: a timezone-aware UTC datetime."""
    return datetime.fromisoformat(text).astimezone(UTC)


# ---- connection helpers ------------------------------------------------------------


def is_full(exc: BaseException) -> bool:
    if not isinstance(exc, sqlite3.Error):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == sqlite3.SQLITE_FULL


def check_driver() -> None:
    """Raises StoreError, with what to do, when the installed aiosqlite lacks what
    `on_thread` uses (a version newer than pyproject allows, installed by hand)."""
    if not callable(getattr(aiosqlite.Connection, "_execute", None)):
        version = getattr(aiosqlite, "__version__", "?")
        raise StoreError(
            N_(
                "aiosqlite {version} lacks Connection._execute, which the store runs its "
                "transactions with; install the version pyproject.toml asks for "
                "(aiosqlite<0.23)"
            ),
            version=version,
        )


def _full() -> StorageFull:
    log.warning("storage_full")
    return StorageFull(N_("no space left for the store; nothing was written"))


async def on_thread(
    db: aiosqlite.Connection, work: Callable[[sqlite3.Connection], T], *, atomic: bool = False
) -> T:
    """Run `work(connection)` on the connection's own thread, all its statements in one
    hand-off; with `atomic`, inside BEGIN IMMEDIATE ... COMMIT, rolled back on any error.

    Every transaction of the store is one such job (or one statement, which SQLite
    commits by itself). The thread runs one job at a time, so a job never lands inside
    another's transaction, whoever awaits what meanwhile.

    Every awaited aiosqlite call is a round trip between two threads (0.1 ms on the
    benchmark machine, more under load) while a statement of the conversation's hot path
    takes a few microseconds, so the hot path does each store call in one trip. aiosqlite
    has no public call for this: `_execute` and `_conn` are what its own
    `execute_fetchall` is built on (pyproject caps the aiosqlite version; every store test
    goes through here). Raises StorageFull instead of SQLite's "database or disk is full".
    """
    job = partial(_atomically, work) if atomic else work
    try:
        result: T = await db._execute(job, db._conn)  # type: ignore[no-untyped-call]
    except sqlite3.Error as exc:
        if is_full(exc):
            raise _full() from exc
        unusable = _unusable(exc)
        if unusable is not None:
            raise unusable from exc
        raise
    return result


def _unusable(exc: sqlite3.Error) -> StoreError | None:
    """The operator's problems among SQLite's errors, said so (a read-only mount, a lock
    held by another process past the busy timeout); None for the others."""
    if not isinstance(exc, sqlite3.OperationalError):
        return None
    if "readonly" in str(exc):
        return StoreError(
            N_(
                "cannot write to the store: {reason}; check the owner and permissions of its "
                "folder and files, and that the disk is not mounted read-only"
            ),
            reason=exc,
        )
    if "locked" in str(exc):
        return StoreError(
            N_("the store is busy: another process has held it too long ({reason}); try again"),
            reason=exc,
        )
    return None


def _atomically(work: Callable[[sqlite3.Connection], T], conn: sqlite3.Connection) -> T:
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = work(conn)
        conn.execute("COMMIT")
    except BaseException:
        # SQLite may already have rolled back by itself (it does on SQLITE_FULL).
        if conn.in_transaction:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                log.error("rollback_failed")
        raise
    return result


async def fetch_one(
    db: aiosqlite.Connection, sql: str, params: Sequence[Any] = ()
) -> sqlite3.Row | None:
    rows = await fetch_all(db, sql, params)
    return rows[0] if rows else None


async def fetch_all(
    db: aiosqlite.Connection, sql: str, params: Sequence[Any] = ()
) -> list[sqlite3.Row]:
    # Always fetch everything: a half-read cursor keeps a read transaction open,
    # which would block the WAL checkpoint.
    return list(await db.execute_fetchall(sql, params))


async def fetch_in(
    db: aiosqlite.Connection, sql: str, values: Sequence[Any], chunk: int = 500
) -> list[sqlite3.Row]:
    """Rows of `sql` + " (?, ?, ...)" for all `values`, a chunk of them per query
    (SQLite limits the number of parameters of one statement)."""
    rows: list[sqlite3.Row] = []
    for start in range(0, len(values), chunk):
        part = values[start : start + chunk]
        rows += await fetch_all(db, f"{sql} ({','.join('?' * len(part))})", part)
    return rows


def select_in(
    conn: sqlite3.Connection, sql: str, values: Sequence[Any], chunk: int = 500
) -> list[Any]:
    """`fetch_in` inside a job on the connection's thread (`on_thread`): every chunk in
    the one round trip."""
    rows: list[Any] = []
    for start in range(0, len(values), chunk):
        part = values[start : start + chunk]
        rows += conn.execute(f"{sql} ({','.join('?' * len(part))})", part).fetchall()
    return rows


async def run(db: aiosqlite.Connection, sql: str, params: Sequence[Any] = ()) -> int:
    """One statement, in one hand-off; how many rows it changed. Outside a transaction it
    commits by itself (autocommit). Raises StorageFull like `on_thread`."""
    return await on_thread(db, lambda conn: conn.execute(sql, params).rowcount)


async def run_many(db: aiosqlite.Connection, sql: str, rows: Sequence[Sequence[Any]]) -> int:
    """`sql` for each of `rows`, all in one transaction and one hand-off."""
    if not rows:
        return 0
    return await on_thread(db, lambda conn: conn.executemany(sql, rows).rowcount, atomic=True)


BUSY_TIMEOUT_MS = 5000
"""How long a statement waits for a lock another process holds (a backup, a command beside
the bot) before giving up; checkpoints do not wait (see `truncate_wals`)."""


def truncate_wals(conn: sqlite3.Connection) -> bool:
    """Fold every schema's WAL into its file and truncate it, without waiting for readers
    in other processes; whether one held it up (it is then to be tried again). Waiting
    would stall everyone: the store's one thread waits with it (found by review: five
    seconds at every erasure while `feedbackbot backup` copied)."""
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        held_up = [
            bool(conn.execute(f"PRAGMA {schema}.wal_checkpoint(TRUNCATE)").fetchone()[0])
            for schema in SCHEMAS
        ]
    finally:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return any(held_up)


async def configure(db: aiosqlite.Connection, keys_path: Path, ledger_path: Path) -> None:
    """Attach the key store and the erasure ledger and set WAL, secure_delete and foreign
    keys on all schemas.

    Raises StoreError when WAL or secure_delete does not stick: erasure depends on both.
    """
    await db.execute("PRAGMA foreign_keys = ON")
    await db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    await db.execute("ATTACH DATABASE ? AS keys", (str(keys_path),))
    await db.execute("ATTACH DATABASE ? AS ledger", (str(ledger_path),))
    for schema in SCHEMAS:
        await fetch_all(db, f"PRAGMA {schema}.secure_delete = ON")
        mode = await fetch_one(db, f"PRAGMA {schema}.journal_mode = WAL")
        # Keys: FULL, so a committed key deletion is on disk before the rows go (crypto-
        # shredding must survive a power cut). Data: NORMAL, which in WAL mode is safe
        # against crashes of the process and may lose only the last commits on a power
        # cut; it spares an fsync per answer.
        # The ledger: FULL too, its entry is on disk before the erasure starts.
        level = "NORMAL" if schema == "main" else "FULL"
        await fetch_all(db, f"PRAGMA {schema}.synchronous = {level}")
        secure = await fetch_one(db, f"PRAGMA {schema}.secure_delete")
        if mode is None or str(mode[0]).lower() != "wal":
            raise StoreError(
                N_("cannot enable WAL mode on the {schema} schema"), schema=_named(schema)
            )
        if secure is None or secure[0] != 1:
            raise StoreError(
                N_("cannot enable secure_delete on the {schema} schema"), schema=_named(schema)
            )


async def migrate(
    db: aiosqlite.Connection, schema: str, migrations: list[list[str]], *, upgrade: bool = True
) -> int:
    """Apply the pending migrations, each with its schema_migrations row in one transaction;
    the version the schema had before (0: new). Each step is logged at DEBUG only: the
    caller says in one line what became of the store (29 lines at a first start were
    noise to a new operator).

    Raises StoreError for a store written by a newer version, and StoreOutdated for one
    written by an older version when `upgrade` is False.
    """
    table = f"{schema}.schema_migrations"
    await db.execute(
        f"CREATE TABLE IF NOT EXISTS {table}"
        " (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    row = await fetch_one(db, f"SELECT coalesce(max(version), 0) FROM {table}")  # noqa: S608
    current = int(row[0]) if row is not None else 0
    if current > len(migrations):
        raise StoreError(
            N_(
                "the {schema} schema is newer (v{version}) than this program knows; install "
                "the feedbackbot version that wrote it"
            ),
            schema=_named(schema),
            version=current,
        )
    if 0 < current < len(migrations) and not upgrade:  # (a new store is made whole)
        # An upgrade is one way: a store upgraded by a command run to look at it (or to
        # back it up before the upgrade) no longer opens in the version still running.
        raise _outdated(schema, current, len(migrations))
    for version, statements in enumerate(migrations, start=1):
        if version <= current:
            continue
        apply = partial(_apply_migration, table=table, version=version, statements=statements)
        await on_thread(db, apply, atomic=True)
        log.debug("migration applied: %s schema version %d", _named(schema), version)
    return current


def written_schemas() -> str:
    """The schema versions this program writes, as `feedbackbot --version` shows them:
    "data v22, keys v6, ledger v2"."""
    return ", ".join(
        f"{_named(schema)} v{len(migrations)}"
        for schema, migrations in zip(
            SCHEMAS, (DATA_MIGRATIONS, KEY_MIGRATIONS, LEDGER_MIGRATIONS), strict=True
        )
    )


def log_schemas_changed(versions: dict[str, tuple[int, int]]) -> None:
    """One line for a store upgraded: from which version to which, per schema changed.
    `versions` holds each schema's version before opening and now. A new store is left to
    the command that made it to tell (`run` says where, with `written_schemas`)."""
    if all(before == 0 for before, _ in versions.values()):
        log.debug("new store created (schema: %s)", written_schemas())
        return
    upgraded = ", ".join(
        f"{_named(schema)} v{before} to v{now}" if before else f"{_named(schema)} v{now} (new)"
        for schema, (before, now) in versions.items()
        if before < now
    )
    if upgraded:
        log.info("store upgraded (schema: %s)", upgraded)


def refuse_outdated(path: Path, schema: str, migrations: list[list[str]]) -> None:
    """Raise StoreOutdated for a store file of an older version, read through a read-only
    connection: closing a writing one would fold its write-ahead log into the file, a
    change to a store that is to be left as it is. A file that cannot be read so is left
    to `migrate` to judge."""
    current = schema_version(path)
    if current is not None and 0 < current < len(migrations):
        raise _outdated(schema, current, len(migrations))


def read_only_uri(path: Path) -> str:
    """The URI that reads store file `path` without writing: with a write-ahead log beside
    it (a bot running), as a reader of it; without one, nobody has the file open and all of
    it is in the file, read as immutable, since a read-only connection to a WAL database
    leaves a -wal and a -shm behind (found by review: a refusal "with nothing changed" did)."""
    wal = path.with_name(f"{path.name}-wal")
    return f"{path.resolve().as_uri()}?{'mode=ro' if wal.exists() else 'immutable=1'}"


def schema_version(path: Path) -> int | None:
    """The schema version of a store file (0: none yet), read through a read-only
    connection; None where it cannot be read so."""
    try:
        con = sqlite3.connect(read_only_uri(path), uri=True)
    except sqlite3.Error:
        return None
    try:
        row = con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
    except sqlite3.Error:
        return None
    finally:
        con.close()
    return int(row[0]) if row is not None else 0


def _outdated(schema: str, current: int, latest: int) -> StoreOutdated:
    return StoreOutdated(
        N_(
            "the store was written by an older feedbackbot ({schema} schema v{version}, "
            "this version writes v{latest}) and only `feedbackbot run` upgrades it; "
            "there is no way back, so back it up first with the version that wrote it"
        ),
        schema=_named(schema),
        version=current,
        latest=latest,
    )


def _named(schema: str) -> str:
    """A schema as `feedbackbot --version` names it ("data v18"): feedback.db is SQLite's
    "main" (an operator review found "main schema v12" beside "data v18")."""
    return "data" if schema == "main" else schema


def _apply_migration(
    conn: sqlite3.Connection, *, table: str, version: int, statements: list[str]
) -> None:
    for statement in statements:
        conn.execute(statement)
    conn.execute(
        f"INSERT INTO {table} (version, applied_at) VALUES (?, ?)",  # noqa: S608
        (version, ts(datetime.now(UTC))),
    )


async def set_max_page_count(db: aiosqlite.Connection, pages: int) -> None:
    await fetch_all(db, f"PRAGMA main.max_page_count = {int(pages)}")


# ---- file helpers (run in a worker thread) -------------------------------------------

LOCK_FILE = "feedbackbot.lock"


_FOLDER_LOCKS: dict[int, int] = {}
"""The data folder's own descriptor, locked beside each lock file's (see `hold_lock`)."""


def lock_held_elsewhere(data_dir: Path) -> bool:
    """Whether another process (the bot, a chat, a rotation, a purge) holds the data dir's
    lock now; taken and let go at once, without creating the lock file."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - POSIX systems have it
        return False
    for target, flags in ((data_dir / LOCK_FILE, os.O_RDONLY), (data_dir, _FOLDER)):
        try:
            descriptor = os.open(target, flags)
        except OSError:
            continue
        try:
            fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except OSError:  # no locks there (see `_lock_folder`)
            continue
        finally:
            os.close(descriptor)  # releases a lock taken
    return False


def hold_lock(data_dir: Path) -> int | None:
    """Take the data dir's lock for one writer (the bot, a chat, a key rotation, a purge)
    and return its file descriptor; `release_lock` lets it go, as does the process
    ending in any way. Raises StoreInUse when another process holds it.

    A second bot on the same store would answer from a cache of keys the other one may
    have shredded; a key rotation beside a running bot leaves its new keys under the old
    master key. Reading commands (stats, export, backup) take no lock. Without fcntl
    (Windows) there is no lock. The folder itself is locked too: a lock file deleted as
    a leftover (it stays after every run) let a restore run beside the bot, which then
    thanked for feedback the restore lost (found by an operator walk-through).
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - POSIX systems have it
        return None
    path = data_dir / LOCK_FILE
    if data_dir.exists() and not data_dir.is_dir():  # not "already exists" (review)
        raise StoreError(
            N_("{path} is not a folder: FEEDBACKBOT_DATA_DIR names the bot's data folder"),
            path=data_dir,
        )
    try:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as error:  # a read-only mount, a lock file another user owns
        raise StoreError(
            N_(
                "cannot take the lock {path}: {reason}; the bot needs to write there (check "
                "the owner and permissions of the folder and files)"
            ),
            path=path,
            reason=error,
        ) from None
    try:
        _owned_like_the_folder(data_dir, descriptor)
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        folder = _lock_folder(data_dir)
    except BlockingIOError:
        os.close(descriptor)
        raise _in_use(data_dir) from None
    except OSError as error:  # e.g. no locks on this file system (ENOLCK)
        os.close(descriptor)
        raise StoreError(N_("cannot lock {path}: {reason}"), path=path, reason=error) from None
    if folder is not None:
        _FOLDER_LOCKS[descriptor] = folder
    return descriptor


def folder_owner(data_dir: Path) -> tuple[int, int] | None:
    """The data folder's owner where this process runs as root and the folder is another
    account's (the bot's): the files root makes there must be that account's, or the bot
    cannot open them."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    try:
        folder = os.stat(data_dir)
    except OSError:
        return None
    return None if folder.st_uid == 0 else (folder.st_uid, folder.st_gid)


def _owned_like_the_folder(data_dir: Path, descriptor: int) -> None:
    owner = folder_owner(data_dir)
    if owner is not None and os.fstat(descriptor).st_uid == 0:
        os.fchown(descriptor, *owner)


def give_to_folder_owner(data_dir: Path) -> None:
    """The files root made in the data folder given to the folder's owner (see
    `folder_owner`): a purge or a key rotation run as root, as an administrator does,
    left a lock file and a reserve the bot's account could not open, and the bot did not
    start (found by an operator walk-through)."""
    owner = folder_owner(data_dir)
    if owner is None:
        return
    for entry in os.scandir(data_dir):
        with contextlib.suppress(OSError):
            found = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(found.st_mode) and found.st_uid == 0:
                os.chown(entry.path, *owner, follow_symlinks=False)


def release_lock(descriptor: int) -> None:
    """Let go of the lock `hold_lock` took (closing releases it)."""
    folder = _FOLDER_LOCKS.pop(descriptor, None)
    if folder is not None:
        os.close(folder)
    os.close(descriptor)


_FOLDER = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)


def _lock_folder(data_dir: Path) -> int | None:
    """The data folder opened and locked, or None where its file system locks no folders
    (NFS emulates flock with write locks, which a folder opened to read cannot take): the
    lock file's lock serves alone there. BlockingIOError when another process holds it."""
    import fcntl  # (only called where hold_lock found it)

    try:
        folder = os.open(data_dir, _FOLDER)
    except OSError:
        return None
    try:
        fcntl.flock(folder, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(folder)
        raise
    except OSError:
        os.close(folder)
        return None
    return folder


def _in_use(data_dir: Path) -> StoreInUse:
    return StoreInUse(
        N_(
            "{path} is in use by another feedbackbot process (a running bot, a chat, "
            "a key rotation, a purge or a restore); stop it first"
        ),
        path=data_dir,
    )


def create_private_file(path: Path) -> None:
    """Create an empty file readable by the owner only; SQLite's -wal and -shm files
    copy the mode of their database file. An existing file is left alone."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


def fresh_private_file(path: Path) -> None:
    """Like create_private_file, but first removes a leftover of the same name."""
    for leftover in (path, path.with_name(path.name + "-journal")):
        leftover.unlink(missing_ok=True)  # from a crash during an earlier first run
    create_private_file(path)


def durable_rename(source: Path, target: Path) -> None:
    """Atomically rename `source` to `target`, flushed to disk first."""
    with open(source, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(source, target)
    if os.name != "posix":
        return
    fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(fd)  # make the rename itself survive a power cut
    finally:
        os.close(fd)
