"""Putting backups back (`feedbackbot restore`): the steps the README asked of the
operator by hand, where one forgotten step did harm (found by an operator review: a
`keys.db-wal` left beside a restored `keys.db` was folded into it at the next start,
and a backup of the wrong kind, or damaged, was only found out then).

The backups are checked first, read-only; nothing in the data folder changes when one
is refused. The files they replace are moved aside into a folder of their own, moved
back should the restored store then not open, and deleted once it has opened and the
audit trail made since the backup has been carried over from them (see bot.cli).
"""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import NamedTuple, TypeVar

from storage.interface import N_, StoreError
from storage.sqlite import DATA_FILE, KEY_STORE_FILE, LEDGER_SINCE
from storage.sqlite_db import durable_rename, folder_owner, read_only_uri, schema_version
from storage.sqlite_ledger import LEDGER_FILE

_T = TypeVar("_T")

SIDECARS = ("", "-wal", "-shm", "-journal")

KINDS = {
    "main": (DATA_FILE, ("feedback", "consents")),
    "keys": (KEY_STORE_FILE, ("meta", "data_keys")),
    "ledger": (LEDGER_FILE, ("erasures",)),
}
"""What a backup of each kind is put back as, and the tables that tell it apart."""


@dataclass(frozen=True)
class Backups:
    """The copies to put back: the data store's; the key store's, or None to keep the one
    in the data folder (whose keys erasure and expiry have shredded since stay gone, so
    what the data copy holds of those people stays unreadable); the erasure ledger's
    only for a data folder lost as a whole."""

    data: Path
    keys: Path | None = None
    ledger: Path | None = None

    def files(self) -> list[tuple[str, Path]]:
        given = (("main", self.data), ("keys", self.keys), ("ledger", self.ledger))
        return [(kind, path) for kind, path in given if path is not None]


class Keyless(NamedTuple):
    """How many feedbacks of a data backup have no key in the key store (`missing`), of
    how many it holds (`of`); and of its other records under a person's key (consents,
    unfinished answers, contact chat ids, language choices), the same."""

    missing: int
    of: int
    records_missing: int = 0
    records: int = 0

    @property
    def none_readable(self) -> bool:
        """Not one readable: a data backup of another store (or keys of another), more
        likely than every feedback erased since. Without feedback, not one of its other
        records (found by an operator walk-through: another store's backup of consents
        and unfinished answers alone replaced this one's, and its feedback was deleted
        with the files replaced)."""
        if self.of:
            return self.missing == self.of
        return self.records > 0 and self.records_missing == self.records


def check_backups(data_dir: Path, backups: Backups) -> Keyless:
    """Raise StoreError, changing nothing, for a backup that is missing, not a store file
    of its kind (the data and key store swapped, say), damaged, or has a write-ahead log
    beside it (a plain copy of a running store: the log holds part of it); and for an
    erasure ledger given while the data folder still has its own, which is newer than any
    copy (unless it holds nothing: see holds_nothing). Return how many feedbacks of the
    data backup have no key in the key store backup (a key store copy older than the data
    copy: those stay unreadable)."""
    paths = [path.resolve() for _, path in backups.files()]
    if len(set(paths)) != len(paths):
        raise StoreError(N_("the backups given must be different files"))
    for kind, _ in backups.files():
        here = data_dir / KINDS[kind][0]
        if here.is_symlink():  # moved aside, the link would go and the data stay (review)
            raise StoreError(
                N_(
                    "{path} is a link to {target}: restore into that folder "
                    "(FEEDBACKBOT_DATA_DIR), not over the link"
                ),
                path=here,
                target=here.resolve(),
            )
    own = {(data_dir / name).resolve() for name, _ in KINDS.values()}
    for path in paths:
        if path in own:  # it would be moved aside before it is copied
            raise StoreError(
                N_("{path} is the data folder's own file, not a backup of it"), path=path
            )
    for kind, path in backups.files():
        _check(kind, path)
    ledger = data_dir / LEDGER_FILE
    if (
        backups.ledger is not None
        and ledger.exists()
        and not holds_nothing(ledger)
        and not of_another_store(data_dir, backups)
    ):
        raise StoreError(
            N_(
                "{path} still has its erasure ledger {file}, which is newer than any copy: "
                "keep it and leave out --ledger"
            ),
            path=data_dir,
            file=LEDGER_FILE,
        )
    if (
        backups.ledger is None
        and ledger.exists()
        and not holds_nothing(ledger)
        and of_another_store(data_dir, backups)
    ):
        # Kept, its notes would reach nothing of the restored store's, and those since the
        # backup would be back unsaid (see of_another_store).
        raise StoreError(
            N_(
                "the erasure ledger {file} in {path} is that of a store begun afresh since the "
                "backup (its key store is a different one from the key store backup), so none "
                "of its notes reach the restored data: give with --ledger the newest copy of "
                "the ledger made before the data folder was lost; only if there is none, move "
                "{file} out of {path} and restore again"
            ),
            path=data_dir,
            file=LEDGER_FILE,
        )
    if backups.ledger is None and not (data_dir / LEDGER_FILE).exists():
        # Refused by the store's opening too, but only once the backups were put in place
        # and "did not open" said first (found by an operator's walk-through).
        version = schema_version(backups.data)
        if version is not None and version >= LEDGER_SINCE:
            raise StoreError(
                N_(
                    "{path} has no erasure ledger {file}: give its newest copy with --ledger "
                    "(`feedbackbot backup --ledger`); only if there is none, create an empty one "
                    "(`touch {file}` there) and restore again, knowing that erasures and "
                    "withdrawals since the data backup are then not carried out again"
                ),
                path=data_dir,
                file=LEDGER_FILE,
            )
    keys = backups.keys
    if keys is None:
        keys = data_dir / KEY_STORE_FILE
        if not keys.is_file():
            raise StoreError(
                N_("{path} has no key store {file}: give its backup with --keys"),
                path=data_dir,
                file=KEY_STORE_FILE,
            )
    return _without_keys(backups.data, keys, immutable=backups.keys is not None)


_SQLITE_SAYS = {
    sqlite3.SQLITE_NOTADB: N_(
        "{path} cannot be read as a backup of {file}: it is no database (another kind of file)"
    ),
    sqlite3.SQLITE_CORRUPT: N_("{path} is damaged: take an older backup"),
    sqlite3.SQLITE_CANTOPEN: N_("{path} cannot be opened as a backup of {file}"),
}
"""Why a file does not open as a backup, for SQLite's commonest result codes."""


def holds_nothing(ledger: Path) -> bool:
    """Whether the data folder's erasure ledger holds no erasure note and no proof: one
    made by a start after the data folder was lost (found by an operator's walk-through:
    the bot restarted by systemd made one, and the restore then refused the ledger's
    copy as older, so that erasures since the data backup came back). The copy given
    replaces it; the notes of alerts it may hold (the bot ran a while) are carried over
    (see SQLiteStore.carry_staff_posts_over). False where it cannot be read so."""
    if ledger.stat().st_size == 0:
        return True
    return _ledger_counts(ledger) == (0, 0)


def _read_from(path: Path, read: Callable[[sqlite3.Connection], _T]) -> _T | None:
    """What `read` finds in the SQLite file `path`, opened read-only; None where it cannot
    be read."""
    try:
        con = sqlite3.connect(read_only_uri(path), uri=True)
    except sqlite3.Error:
        return None
    try:
        return read(con)
    except sqlite3.Error:
        return None
    finally:
        con.close()


def _ledger_counts(ledger: Path) -> tuple[int, int] | None:
    """How many erasure and withdrawal notes, and how many people's proofs of consent, the
    erasure ledger in `ledger` holds (the notes of alerts aside: see
    carry_staff_posts_over); None where it cannot be read."""

    def count(con: sqlite3.Connection) -> tuple[int, int]:
        tables = {
            name for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        found = [
            con.execute(query).fetchone()[0] if table in tables else 0
            for table, query in (
                ("erasures", "SELECT count(*) FROM erasures"),
                ("consent_proofs", "SELECT count(*) FROM consent_proofs"),
            )
        ]
        return int(found[0]), int(found[1])

    return _read_from(ledger, count)


def _key_store_begun(path: Path) -> str | None:
    """When the key store in `path` was made (its meta row, which nothing changes after:
    a rotation wraps its keys anew), or None where that cannot be read."""

    def begun(con: sqlite3.Connection) -> str | None:
        row = con.execute("SELECT created_at FROM meta WHERE id = 1").fetchone()
        return str(row[0]) if row is not None else None

    return _read_from(path, begun)


def of_another_store(data_dir: Path, backups: Backups) -> bool:
    """Whether the data folder's own store is another than the one the backups restore:
    its key store made at another time than the key store backup's, as by a start after
    the data folder was lost. Its erasure ledger then names that store's keys and data
    only, which the restore replaces, so the ledger's copy given replaces it (found by
    reading a session's note again: refused as newer than any copy, and restoring as
    told brought back the people erased since the backup)."""
    if backups.keys is None or not (data_dir / KEY_STORE_FILE).exists():
        return False
    here, there = _key_store_begun(data_dir / KEY_STORE_FILE), _key_store_begun(backups.keys)
    return here is not None and there is not None and here != there


def ledger_entries(ledger: Path) -> tuple[int, int]:
    """How many erasure and withdrawal notes, and how many people's proofs of consent, the
    erasure ledger in `ledger` holds; (0, 0) where it cannot be read."""
    return _ledger_counts(ledger) or (0, 0)


def _check(kind: str, path: Path) -> None:
    name, tables = KINDS[kind]
    if not path.is_file():
        raise StoreError(N_("{path} is not a file"), path=path)
    for sidecar in ("-wal", "-journal"):
        beside = path.with_name(path.name + sidecar)
        if beside.exists() and beside.stat().st_size > 0:
            raise StoreError(
                N_(
                    "{path} has a {sidecar} file beside it: it is a plain copy of a store in "
                    "use, not one written by `feedbackbot backup`, and may lack what that "
                    "file holds. Where both were copied at one moment (a snapshot of the "
                    'disk), fold the log into the copy first: python3 -c "import sqlite3; '
                    "sqlite3.connect('{path}').execute('PRAGMA wal_checkpoint(TRUNCATE)')\"; "
                    "then restore it; never delete the {sidecar} file instead"
                ),
                path=path,
                sidecar=beside.name,
            )
    try:
        with _read_only(path) as con:
            found = {row[0] for row in con.execute("SELECT name FROM sqlite_master")}
            verdict = con.execute("PRAGMA quick_check").fetchone()
    except sqlite3.Error as error:
        # SQLite's own words are English (found by an operator walk-through: "file is not
        # a database" in German output); the commonest are said in the operator's.
        said = _SQLITE_SAYS.get(getattr(error, "sqlite_errorcode", None) or -1)
        if said is not None:
            raise StoreError(said, path=path, file=name) from None
        raise StoreError(
            N_("{path} cannot be read as a backup of {file}: {reason}"),
            path=path,
            file=name,
            reason=error,
        ) from None
    if not set(tables) <= found:
        raise StoreError(N_("{path} is not a backup of {file}"), path=path, file=name)
    if verdict is None or verdict[0] != "ok":
        raise StoreError(
            N_("{path} is damaged ({reason}): take an older backup"),
            path=path,
            reason=verdict[0] if verdict else "?",
        )


def _without_keys(data: Path, keys: Path, immutable: bool) -> Keyless:
    """`immutable` for a backup; the data folder's own key store is read with its
    write-ahead log."""
    uri = f"{keys.resolve().as_uri()}?mode=ro" + ("&immutable=1" if immutable else "")
    try:
        with _read_only(data) as con:
            con.execute("ATTACH DATABASE ? AS keys", (uri,))
            row = con.execute(
                "SELECT count(*) FROM main.feedback AS f WHERE NOT EXISTS (SELECT 1 FROM "
                "keys.data_keys AS k WHERE k.pseudonym = f.pseudonym AND "
                "k.key_version = f.key_version)"
            ).fetchone()
            (total,) = con.execute("SELECT count(*) FROM main.feedback").fetchone()
            tables = {r[0] for r in con.execute("SELECT name FROM main.sqlite_master")}
            records = records_missing = 0
            for table in ("drafts", "consents", "contacts", "languages"):  # (names of ours)
                if table not in tables:  # (an older schema's backup)
                    continue
                (count, keyless) = con.execute(
                    f"SELECT count(*), coalesce(sum(NOT EXISTS (SELECT 1 FROM keys.data_keys AS k "  # noqa: S608
                    "WHERE k.pseudonym = r.pseudonym AND k.key_version = r.key_version)), 0) "
                    f"FROM main.{table} AS r"
                ).fetchone()
                records, records_missing = records + int(count), records_missing + int(keyless)
    except sqlite3.Error as error:
        # The data folder's own key store, read with its write-ahead log, in a folder
        # that cannot be written (found by an operator walk-through: a traceback)
        raise StoreError(
            N_("cannot read key store {path}: {reason}"), path=keys, reason=error
        ) from None
    return Keyless(int(row[0]) if row else 0, int(total), records_missing, records)


class _read_only:
    """A connection that cannot change `path` nor make files beside it."""

    def __init__(self, path: Path) -> None:
        uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
        self.con = sqlite3.connect(uri, uri=True)

    def __enter__(self) -> sqlite3.Connection:
        return self.con

    def __exit__(self, *_: object) -> None:
        self.con.close()


def put_back(data_dir: Path, backups: Backups, now: datetime) -> Path | None:
    """Move the store files of `data_dir` aside into a new folder `replaced-<time>-<random>`
    there (None when there were none; random: two restores within a second each get
    their own, found by CI), then copy the backups in under their names, each
    written in full and flushed before it gets its name. The caller holds the data
    folder's lock. Should a copy fail, or Ctrl-C come at any step, everything is put
    back as it was: what is in the folder aside, not what was noted as moved (found by
    CI: a Ctrl-C between a file's move and its note left it there, and the restore
    ended in "Directory not empty")."""
    aside: Path | None = None
    present = [
        KINDS[kind][0] + sidecar
        for kind, _ in backups.files()
        for sidecar in SIDECARS
        if (data_dir / (KINDS[kind][0] + sidecar)).exists()
    ]
    copying = False
    try:
        if present:
            aside = _new_aside(data_dir, now)  # named before it is made (Ctrl-C after)
            aside.mkdir(mode=0o700)
            for name in present:
                os.replace(data_dir / name, aside / name)
        copying = True  # from here on, a file under a target's name is a backup's
        for kind, source in backups.files():
            target = data_dir / KINDS[kind][0]
            partial = data_dir / f".{target.name}.restoring"
            old_umask = os.umask(0o077)
            try:
                shutil.copyfile(source, partial)
            finally:
                os.umask(old_umask)
            os.chmod(partial, 0o600)
            owned_like(partial, data_dir)
            durable_rename(partial, target)
    except BaseException:
        # Run to its end though Ctrl-C come (again) meanwhile, taking up where it was
        # (found by an interrupt audit: a copy failing for a full disk, then Ctrl-C here,
        # left keys.db aside, and "the data folder is as it was"). The backups' files go
        # once: run again, it must not delete the originals already moved back.
        cleared = not copying
        while True:
            try:
                for kind, _ in backups.files():
                    (data_dir / f".{KINDS[kind][0]}.restoring").unlink(missing_ok=True)
                    if not cleared:
                        (data_dir / KINDS[kind][0]).unlink(missing_ok=True)
                cleared = True
                take_back(data_dir, aside)
                break
            except KeyboardInterrupt:
                continue
        raise
    return aside


def _new_aside(data_dir: Path, now: datetime) -> Path:
    """A name for a new private folder for the files replaced, not yet taken. Named before
    it is made, so that the clean-up knows it whenever Ctrl-C comes (found by an interrupt
    audit: made inside a call that then returned its name, a Ctrl-C in between left it
    empty in the data folder, and "the data folder is as it was"). The caller holds the
    data folder's lock, so no other restore takes the name meanwhile."""
    while True:
        # (letters only: digits could make a run the log's redaction takes for an id)
        tag = "".join(secrets.choice(string.ascii_lowercase) for _ in range(8))
        aside = data_dir / f"replaced-{now:%Y-%m-%d-%H%M-%S}-{tag}"
        if not aside.exists():
            return aside


def owned_like(path: Path, folder: Path) -> None:
    """Give `path` the owner of the data folder where the process may (root): a restore run
    as root, as an administrator does, left root's files in the folder of the bot's own
    account, and the bot could not open its key store (found by an operator review)."""
    owner = folder_owner(folder)
    if owner is not None:
        os.chown(path, *owner)


def undo(data_dir: Path, backups: Backups, aside: Path | None) -> None:
    """Remove the restored files (and what opening them made beside them) and move back
    those `put_back` moved aside."""
    for kind, _ in backups.files():
        for sidecar in SIDECARS:
            (data_dir / (KINDS[kind][0] + sidecar)).unlink(missing_ok=True)
    take_back(data_dir, aside)


def remove_aside(aside: Path | None) -> None:
    """Delete the files `put_back` moved aside, and their folder, once the restored store
    has opened (found by review: first a key store moved aside kept them readable; then,
    with that deleted, a restore of the data alone left them readable with the key store
    that stays, and an erasure left the person's pseudonym and times in them: beyond
    erasure and retention either way). Run again after a Ctrl-C, it takes up where it was."""
    if aside is None or not aside.is_dir():
        return
    for path in aside.iterdir():
        path.unlink()
    aside.rmdir()


def take_back(data_dir: Path, aside: Path | None) -> None:
    """Move every file in `aside` back into `data_dir`, then remove the folder (gone
    already, or never made: Ctrl-C before its mkdir)."""
    if aside is None or not aside.is_dir():
        return
    for name in sorted(os.listdir(aside)):
        os.replace(aside / name, data_dir / name)
    aside.rmdir()
