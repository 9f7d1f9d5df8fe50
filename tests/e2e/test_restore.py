"""`feedbackbot restore` through the real command line: the backups checked before
anything changes, the files they replace kept aside, stale write-ahead logs out of the
way, the erasures made since carried out again, and everything as it was when the
restored store does not open."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import errno
import hashlib
import logging
import os
import shutil
import signal
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main, maintenance
from bot.logs import RedactingFormatter
from storage import NewFeedback, SQLiteStore, StoreInUse
from storage.crypto import decode_master_key, encode_master_key, generate_key
from storage.interface import AuditEntry
from storage.sqlite_db import hold_lock, release_lock
from storage.sqlite_restore import Backups, put_back
from tests.e2e.botprocess import cli
from tests.e2e.test_lifecycle import (
    GRANT,
    NOW,
    cli_env,
    count_readable,
    in_process,
    intact,
    interrupted_when,
    make_store,
)
from tests.harness import MASTER_KEY

KEY = base64.urlsafe_b64decode(MASTER_KEY)


def state(folder: Path) -> dict[str, str]:
    """Every file under `folder` and a hash of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "feedbackbot.lock"  # made by the lock
    }


async def give(data: Path, person: int, comment: str) -> None:
    store = SQLiteStore(data, KEY)
    await store.open()
    try:
        await store.submit_feedback(
            store.pseudonym(f"tg-user:{person}"),
            NewFeedback(
                flow_id="feedback",
                answers={"rating": 3, "comment": comment},
                purposes=["feedback"],
                created_at=NOW,
                expires_at=NOW + timedelta(days=1),
            ),
            [GRANT],
        )
    finally:
        await store.close()


async def erase(data: Path, person: int) -> None:
    store = SQLiteStore(data, KEY)
    await store.open()
    try:
        await store.erase_subject(store.pseudonym(f"tg-user:{person}"))
    finally:
        await store.close()


async def pseudonym_of(data: Path, person: int) -> str:
    store = SQLiteStore(data, KEY)
    await store.open()
    try:
        return store.pseudonym(f"tg-user:{person}")
    finally:
        await store.close()


@pytest.fixture
def backed_up(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A data folder of three people, backed up (data and keys) with the real command."""
    data = tmp_path / "data"
    asyncio.run(make_store(data, 3))
    copies = tmp_path / "copies"
    copies.mkdir()
    backup, keys = copies / "feedback.db", tmp_path / "keys.db"
    done = cli("backup", str(backup), "--keys", str(keys), env=cli_env(data), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return data, backup, keys


def test_a_restore_brings_back_the_backup_and_erases_again_who_was_erased_since(
    backed_up: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    data, backup, keys = backed_up
    asyncio.run(erase(data, 0))
    asyncio.run(give(data, 7, "nach dem Backup"))
    # A write-ahead log left by a store that was not closed: folded into the restored
    # file at the next start, had it stayed beside it.
    stale = data / "keys.db-wal"
    stale.write_bytes(b"stale" * 100)
    done = cli("restore", str(backup), "--keys", str(keys), env=cli_env(data), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"restored {data}" in done.stdout
    assert "1 erasure or withdrawal made since the backup was carried out again" in done.stdout
    # only in the operator's language (found by an operator walk-through: the store's
    # English log line beside it)
    assert "erasures_applied_again" not in done.stdout + done.stderr, done.stderr
    # The files replaced are deleted once the restored store opens, the stale log with
    # the key store it belonged to (see the test of --keep-replaced).
    assert "the files it replaced were deleted" in done.stdout
    assert not [p for p in data.iterdir() if p.name.startswith("replaced-")]
    assert not stale.exists() or b"stale" not in stale.read_bytes()
    for name in ("feedback.db", "keys.db"):
        assert oct((data / name).stat().st_mode & 0o777) == "0o600"
    assert not list(data.glob(".*restoring")), "no partial copies left"
    # Erika (0) erased since the backup stays erased; 1 and 2 are back; 7 came after it.
    assert asyncio.run(count_readable(data, KEY, 3)) == 2
    assert asyncio.run(count_readable(data, KEY, 8)) == 2


@pytest.mark.parametrize("command", ["purge", "rotate-key"])
def test_files_put_back_by_hand_are_erased_again_by_a_command_and_it_says_so(
    backed_up: tuple[Path, Path, Path], tmp_path: Path, command: str
) -> None:
    """Copied back without `restore`, the backup's data of someone erased since is erased
    again by the next command that may (as by the bot); `purge` and `rotate-key` said it
    only with the store's English log line (found by an operator walk-through)."""
    data, backup, keys = backed_up
    asyncio.run(erase(data, 0))
    for name in ("feedback.db-wal", "feedback.db-shm", "keys.db-wal", "keys.db-shm"):
        (data / name).unlink(missing_ok=True)
    shutil.copyfile(backup, data / "feedback.db")
    shutil.copyfile(keys, data / "keys.db")
    args: tuple[str, ...] = (command,)
    if command == "rotate-key":
        new_key = tmp_path / "new.key"
        new_key.write_text(encode_master_key(generate_key()) + "\n")
        new_key.chmod(0o600)
        args = (command, "--new-key-file", str(new_key))
    env = {**cli_env(data), "LANG": "de_DE.UTF-8"}
    done = cli(*args, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (
        "1 Löschung oder Widerruf, die der Datenordner noch enthielt (Daten von davor "
        "zurückgespielt), wurde erneut ausgeführt" in done.stderr
    ), done.stderr
    assert "erasures_applied_again" not in done.stdout + done.stderr
    if command == "purge":
        assert asyncio.run(count_readable(data, KEY, 3)) == 2, "Erika's feedback gone again"


def test_a_lost_folder_without_its_ledgers_copy_is_refused_first_and_left_as_it_was(
    backed_up: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """Found by an operator's walk-through: restoring into a folder that is gone, without
    --ledger, said "the restored store did not open", the missing ledger second, and left
    the folder made with its lock file in it."""
    _, backup, keys = backed_up
    lost = tmp_path / "lost"
    done = cli("restore", str(backup), "--keys", str(keys), env=cli_env(lost), cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith(
        f"feedbackbot: {lost} has no erasure ledger erasures.db: give its newest copy with --ledger"
    ), done.stderr
    assert "did not open" not in done.stderr
    assert not lost.exists()


@pytest.mark.parametrize("ledger_left", ["started afresh", "emptied", "an alert posted"])
def test_a_lost_folder_started_afresh_takes_the_ledgers_copy(
    backed_up: tuple[Path, Path, Path], tmp_path: Path, ledger_left: str
) -> None:
    """Found by an operator's walk-through: the data folder lost, the bot restarted by
    systemd made a new store with an empty ledger; the restore then refused the ledger's
    copy ("newer than any copy: keep it and leave out --ledger"), and restored as told,
    a person erased since the backup was back. A ledger holding nothing is replaced."""
    data, backup, keys = backed_up
    asyncio.run(erase(data, 0))
    copy = tmp_path / "erasures-copy.db"
    backed = ("backup", str(tmp_path / "b2.db"), "--ledger", str(copy))
    done = cli(*backed, env=cli_env(data), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    shutil.rmtree(data)  # the disk is lost
    if ledger_left != "emptied":
        asyncio.run(make_store(data, 0))
    if ledger_left == "an alert posted":  # the bot ran a while: its note stays (review)
        with closing(sqlite3.connect(data / "erasures.db")) as con, con:
            con.execute(
                "INSERT INTO staff_posts (chat_id, message_id, posted_at, pseudonym, "
                "feedback_id, purpose) VALUES (-100, 77, '2026-12-07T10:00:00Z', 'p', 'f', 'x')"
            )
    if ledger_left == "emptied":  # as `touch erasures.db` leaves it
        data.mkdir()
        (data / "erasures.db").touch()
    env = cli_env(data)
    if ledger_left == "started afresh":  # without the copy first: said what it means
        done = cli("restore", str(backup), "--keys", str(keys), env=env, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert "holds no erasure or withdrawal; if the data folder was lost" in done.stderr
        assert asyncio.run(count_readable(data, KEY, 3)) == 3, "the one erased is back"
    restore = ("restore", str(backup), "--keys", str(keys), "--ledger", str(copy))
    done = cli(*restore, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "1 erasure or withdrawal made since the backup was carried out again" in done.stdout
    assert asyncio.run(count_readable(data, KEY, 3)) == 2, "the one erased stays erased"
    with closing(sqlite3.connect(data / "erasures.db")) as con:
        posts = con.execute("SELECT chat_id, message_id FROM staff_posts").fetchall()
    assert posts == ([(-100, 77)] if ledger_left == "an alert posted" else []), "to retract it"
    assert not [p for p in data.iterdir() if p.name.startswith("replaced-")], "all carried"


def test_a_lost_folder_started_afresh_and_used_takes_the_ledgers_copy(
    backed_up: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """Found by reading a session's note again: the data folder lost, the bot begun afresh
    and used, someone erasing there; its ledger then held a note, the copy was refused as
    older ("keep it and leave out --ledger"), and restored as told, the person erased
    since the backup was back. That ledger names only the fresh store's data (another key
    store): without the copy the restore is refused, with it the copy replaces it."""
    data, backup, keys = backed_up
    asyncio.run(erase(data, 0))
    copy = tmp_path / "erasures-copy.db"
    backed = ("backup", str(tmp_path / "b2.db"), "--ledger", str(copy))
    assert cli(*backed, env=cli_env(data), cwd=tmp_path).returncode == 0
    shutil.rmtree(data)  # the disk is lost; the bot begins afresh, and is used
    asyncio.run(make_store(data, 2))
    asyncio.run(erase(data, 1))
    env = cli_env(data)

    def files() -> list[tuple[str, int]]:  # (the lock file a command holds aside)
        return sorted((p.name, p.stat().st_size) for p in data.iterdir() if "lock" not in p.name)

    before = files()
    done = cli("restore", str(backup), "--keys", str(keys), env=env, cwd=tmp_path)
    assert done.returncode == 1
    assert "is that of a store begun afresh since the backup" in done.stderr, done.stderr
    assert "give with --ledger the newest copy of the ledger made before" in done.stderr
    assert files() == before, "unchanged"
    # The fresh store's own nightly copy is refused: none of its notes reach this store's
    # data (found by review: restored with it, the person erased before the loss was back)
    fresh = tmp_path / "erasures-fresh.db"
    nightly = ("backup", str(tmp_path / "b3.db"), "--ledger", str(fresh))
    assert cli(*nightly, env=env, cwd=tmp_path).returncode == 0
    wrong = ("restore", str(backup), "--keys", str(keys), "--ledger", str(fresh))
    done = cli(*wrong, env=env, cwd=tmp_path)
    assert done.returncode == 1, done.stdout
    assert f"the erasure ledger copy {fresh} is another store's: none of its notes (1)" in (
        done.stderr
    ), done.stderr
    assert "The data folder is as it was" in done.stderr and "did not open" not in done.stderr
    assert files() == before, "as it was"
    restore = ("restore", str(backup), "--keys", str(keys), "--ledger", str(copy))
    done = cli(*restore, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "1 erasure or withdrawal made since the backup was carried out again" in done.stdout
    assert (
        "note: the erasure ledger replaced was that of a store begun afresh since the backup; "
        "its 1 erasure or withdrawal named only that store's data"
    ) in done.stderr, done.stderr
    assert asyncio.run(count_readable(data, KEY, 3)) == 2, "the one erased stays erased"
    # The folder's own store, and not another's, is refused as before
    again = cli(*restore, env=env, cwd=tmp_path)
    assert again.returncode == 1 and "newer than any copy" in again.stderr, again.stderr


async def audited(data: Path) -> list[tuple[str, str | None, str | None]]:
    store = SQLiteStore(data, KEY)
    await store.open()
    try:
        entries = await store.audit_entries(NOW - timedelta(days=3650))
    finally:
        await store.close()
    return [(e.event, e.actor, e.detail) for e in entries]


async def export(data: Path) -> None:
    store = SQLiteStore(data, KEY)
    await store.open()
    try:
        entry = AuditEntry(event="export", at=NOW, actor="staff:7001", detail="1d", records=2)
        await store.record_audit(entry)
    finally:
        await store.close()


@pytest.mark.parametrize("with_keys", [True, False])
def test_a_restore_keeps_the_audit_trail_of_what_was_done_since_the_backup(
    backed_up: tuple[Path, Path, Path], tmp_path: Path, with_keys: bool
) -> None:
    """Found by review: the trail lived in the data store, so a restore took every entry
    made since the backup with it (an export, an erasure: re-dated to the restore, or
    gone without --keys), and said nothing of it."""
    data, backup, keys = backed_up
    before = asyncio.run(audited(data))
    asyncio.run(export(data))
    asyncio.run(erase(data, 0))
    since = [entry for entry in asyncio.run(audited(data)) if entry not in before]
    assert ("export", "staff:7001", "1d") in since and ("erasure", None, None) in since
    extra = ["--keys", str(keys)] if with_keys else []
    done = cli("restore", str(backup), *extra, env=cli_env(data), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "2 audit entries made since the backup were carried over" in done.stdout
    after = asyncio.run(audited(data))
    assert after[: len(before)] == before, "the backup's own, in order"
    # Carried out again with the key store of the backup: that is in the trail too, as
    # such, not as another request to erase (found by review: each restore added one).
    # The trail is to the minute: within the restore's minute, that entry may sort
    # before those carried over (a restore minutes later, in life).
    once_more = [("erasure", None, "carried out again")] if with_keys else []
    assert sorted(after[len(before) :], key=repr) == sorted(since + once_more, key=repr)
    again = cli("restore", str(backup), *extra, env=cli_env(data), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    trail = asyncio.run(audited(data))
    assert trail.count(("erasure", None, None)) == before.count(("erasure", None, None)) + 1
    shown = cli("audit", "--since", "3650d", env=cli_env(data), cwd=tmp_path)
    assert ("erasure carried out again (after a restore" in shown.stdout) == with_keys


async def recorded(data: Path, *entries: AuditEntry) -> None:
    store = SQLiteStore(data, KEY)
    await store.open()
    try:
        for entry in entries:
            await store.record_audit(entry)
    finally:
        await store.close()


def test_entries_alike_since_the_backup_are_each_carried_over(
    backed_up: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """Found by review: two erasures in one second (the same row twice: no actor, the
    time to the second) came back as one."""
    data, backup, _ = backed_up
    before = asyncio.run(audited(data))
    twice = AuditEntry(event="erasure", at=NOW + timedelta(days=1))
    asyncio.run(recorded(data, twice, twice))
    done = cli("restore", str(backup), env=cli_env(data), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "2 audit entries made since the backup were carried over" in done.stdout
    assert asyncio.run(audited(data)) == [*before, ("erasure", None, None), ("erasure", None, None)]


def test_a_restore_into_a_folder_that_did_not_exist_says_it_was_made(
    backed_up: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """Found by an operator walk-through: run from another working directory, restore made
    ./data, said "restored data", and the bot's own folder was untouched. The folder made
    is said, by its full path, with how to name the bot's."""
    data, backup, keys = backed_up
    ledger = tmp_path / "erasures-copy.db"
    done = cli(
        "backup", str(tmp_path / "b2.db"), "--ledger", str(ledger), env=cli_env(data), cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**cli_env(data), "FEEDBACKBOT_DATA_DIR": "data"}
    made = cli(
        "restore", str(backup), "--keys", str(keys), "--ledger", str(ledger), env=env, cwd=elsewhere
    )
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("restored data\n"), made.stdout
    assert (
        f"note: {elsewhere / 'data'} did not exist and was made for this restore; if the bot's "
        "data folder is another, set FEEDBACKBOT_DATA_DIR to it and restore again"
    ) in made.stderr, made.stderr
    again = cli("restore", str(backup), "--keys", str(keys), env=env, cwd=elsewhere)
    assert again.returncode == 0, again.stderr
    assert "did not exist" not in again.stderr


def test_entries_of_another_store_keep_the_audit_command_working(
    backed_up: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """Found by review: the data folder lost, the bot started afresh (another pseudonym
    key) and staff used it; after the restore its entries were carried over with their
    actors, which the restored key cannot open: `feedbackbot audit` failed on them."""
    data, backup, keys = backed_up
    shutil.rmtree(data)
    asyncio.run(make_store(data, 1))
    used = AuditEntry(event="export", at=NOW, actor="staff:7001", detail="1d", records=1)
    asyncio.run(recorded(data, used))
    done = cli("restore", str(backup), "--keys", str(keys), env=cli_env(data), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "1 audit entry made since the backup was carried over" in done.stdout
    assert "1 of them came from another store" in done.stderr
    assert ("export", None, "1d") in asyncio.run(audited(data)), "kept, without who"
    audit = cli("audit", "--since", "3650d", env=cli_env(data), cwd=tmp_path)
    assert audit.returncode == 0, audit.stderr
    assert "export 1d" in audit.stdout and "7001" not in audit.stdout


def test_a_backup_of_the_wrong_kind_or_damaged_is_refused_and_nothing_changes(
    backed_up: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    data, backup, keys = backed_up
    before = state(data)
    env = cli_env(data)

    swapped = cli("restore", str(keys), "--keys", str(backup), env=env, cwd=tmp_path)
    assert swapped.returncode == 1
    assert f"{keys} is not a backup of feedback.db" in swapped.stderr

    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(backup.read_bytes()[: len(backup.read_bytes()) // 2])
    cut = cli("restore", str(damaged), "--keys", str(keys), env=env, cwd=tmp_path)
    assert cut.returncode == 1 and str(damaged) in cut.stderr, cut.stderr

    # SQLite's own English words not shown (found by an operator walk-through)
    notes = tmp_path / "notes.md"
    notes.write_text("# not a backup at all\n" * 200)
    other = cli("restore", str(notes), env=env, cwd=tmp_path)
    assert other.returncode == 1
    assert other.stderr.strip() == (
        f"feedbackbot: {notes} cannot be read as a backup of feedback.db: it is not a database "
        "(another kind of file)"
    ), other.stderr

    plain = tmp_path / "plain.db"
    plain.write_bytes(backup.read_bytes())
    plain.with_name("plain.db-wal").write_bytes(b"x" * 4096)
    copied = cli("restore", str(plain), "--keys", str(keys), env=env, cwd=tmp_path)
    assert copied.returncode == 1 and "plain.db-wal" in copied.stderr, copied.stderr
    # with the way on for a snapshot of the disk (found by an operator walk-through: none,
    # and deleting the -wal file would have lost what it held)
    fold = (
        f"python3 -c \"import sqlite3; sqlite3.connect('{plain}').execute('PRAGMA "
        "wal_checkpoint(TRUNCATE)')\""
    )
    assert fold in copied.stderr and "never delete the plain.db-wal file" in copied.stderr

    copy = tmp_path / "erasures.db"
    copy.write_bytes((data / "erasures.db").read_bytes())
    with closing(sqlite3.connect(data / "erasures.db")) as con, con:  # it holds an entry
        con.execute("INSERT INTO erasures (at, keep_until, sealed) VALUES ('x', 'x', x'00')")
    before = state(data)
    ledger = cli("restore", str(backup), "--ledger", str(copy), env=env, cwd=tmp_path)
    assert ledger.returncode == 1
    assert "still has its erasure ledger erasures.db" in ledger.stderr, ledger.stderr
    itself = cli("restore", str(data / "feedback.db"), env=env, cwd=tmp_path)
    assert itself.returncode == 1 and "own file, not a backup" in itself.stderr, itself.stderr

    held = hold_lock(data)  # the bot runs
    try:
        running = cli("restore", str(backup), "--keys", str(keys), env=env, cwd=tmp_path)
    finally:
        assert held is not None
        release_lock(held)
    assert running.returncode == 1 and "stop it first" in running.stderr, running.stderr
    assert state(data) == before


def test_a_restore_with_a_key_that_does_not_open_it_leaves_the_folder_as_it_was(
    backed_up: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    data, backup, _ = backed_up
    other = tmp_path / "other"
    asyncio.run(make_store(other, 1, key=encode_master_key(generate_key())))
    before = state(data)
    foreign = other / "keys.db"
    done = cli("restore", str(backup), "--keys", str(foreign), env=cli_env(data), cwd=tmp_path)
    assert done.returncode == 1
    assert "the data folder is as it was" in done.stderr
    assert f"does not open the key store backup {foreign}:" in done.stderr, done.stderr
    assert state(data) == before
    assert asyncio.run(count_readable(data, KEY, 3)) == 3


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        (
            "en_GB.UTF-8",
            "the master key does not open the key store backup {keys}: it was made with "
            "another master key (before a `feedbackbot rotate-key`, say). Restore it with that "
            "key (in FEEDBACKBOT_MASTER_KEY_FILE), then rotate to the current one again",
        ),
        (
            "de_DE.UTF-8",
            "der Hauptschlüssel öffnet die Sicherung des Schlüsselspeichers {keys} nicht: Sie "
            "wurde mit einem anderen Hauptschlüssel angelegt (etwa vor einem `feedbackbot "
            "rotate-key`). Stellen Sie sie mit jenem Schlüssel wieder her",
        ),
    ],
)
def test_a_key_store_backup_from_before_a_rotation_is_named_and_opens_with_its_key(
    backed_up: tuple[Path, Path, Path], tmp_path: Path, lang: str, said: str
) -> None:
    """Found walking the README: a key store backup made before `rotate-key`, restored
    under the new key, was refused with "the master key does not open the key store
    data/keys.db", and the operator asked whether the key configured was the store's: the
    file that did not open was the backup given, and only the old key opens it."""
    data, backup, keys = backed_up
    new_key = encode_master_key(generate_key())
    key_file = tmp_path / "new.key"
    key_file.write_text(new_key + "\n")
    key_file.chmod(0o600)
    rotated = cli("rotate-key", "--new-key-file", str(key_file), env=cli_env(data), cwd=tmp_path)
    assert rotated.returncode == 0, rotated.stderr
    before = state(data)

    def speaking(env: dict[str, str]) -> dict[str, str]:
        return {k: v for k, v in env.items() if k not in ("LC_ALL", "LC_MESSAGES")} | {"LANG": lang}

    restore = ("restore", str(backup), "--keys", str(keys))
    refused = cli(*restore, env=speaking(cli_env(data, new_key)), cwd=tmp_path)
    assert refused.returncode == 1
    assert said.format(keys=keys) in refused.stderr, refused.stderr
    assert str(data / "keys.db") not in refused.stderr and "Traceback" not in refused.stderr
    assert state(data) == before
    assert asyncio.run(count_readable(data, decode_master_key(new_key), 3)) == 3
    # As it says: restored with the key it was made with, then rotated again.
    restored = cli(*restore, env=speaking(cli_env(data)), cwd=tmp_path)
    assert restored.returncode == 0, restored.stderr
    again = cli("rotate-key", "--new-key-file", str(key_file), env=cli_env(data), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert asyncio.run(count_readable(data, decode_master_key(new_key), 3)) == 3


def test_a_data_backup_alone_keeps_the_key_store_and_names_what_it_cannot_read(
    backed_up: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """The key store copies are kept a few days only: a data backup restored with the
    folder's own key store. Someone erased since stays unreadable, and the restore
    says how many feedbacks have no key."""
    data, backup, _ = backed_up
    asyncio.run(erase(data, 1))
    keys_before = (data / "keys.db").read_bytes()
    done = cli("restore", str(backup), env=cli_env(data), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "1 response in the data backup has no key in the key store" in done.stderr
    # and when its rows go (found by an operator walk-through: the person's pseudonym,
    # dates and purposes stayed in clear, with nothing said)
    assert "the next purge deletes it with what is stored with it" in done.stderr
    assert asyncio.run(count_readable(data, KEY, 3)) == 2
    assert (data / "keys.db").exists()
    assert len(keys_before) > 0
    erased = asyncio.run(pseudonym_of(data, 1))
    purged = cli("purge", env=cli_env(data), cwd=tmp_path)
    assert purged.returncode == 0, purged.stderr
    for name in ("feedback.db", "keys.db"):
        with closing(sqlite3.connect(data / name)) as db:
            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            for table in tables:
                columns = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
                if "pseudonym" in columns:
                    found = db.execute(
                        f"SELECT count(*) FROM {table} WHERE pseudonym = ?", (erased,)
                    ).fetchone()
                    assert found == (0,), (name, table)


def test_a_key_store_of_the_folder_that_cannot_be_read_is_one_line(
    backed_up: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """Found by an operator walk-through: a data backup restored alone into a folder whose
    key store could not be read (a read-only folder: its write-ahead log) was a traceback."""
    data, backup, _ = backed_up
    (data / "keys.db").write_bytes(b"not a database, but a file of the same name " * 100)
    before = state(data)
    done = cli("restore", str(backup), env=cli_env(data), cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("feedbackbot: cannot read key store "), done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert state(data) == before


def test_the_files_replaced_are_deleted_unless_kept_on_purpose(
    backed_up: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """The files moved aside side by side were a readable copy of the store beside it,
    which erasure and expiry never reached (review of the change); with their key store
    deleted, a restore of the data alone left them readable with the key store that
    stays (the contact chat id, a Telegram id, among them), and an erasure left the
    person's pseudonym in them (a DPO's review): they go once the restored store opens."""
    data, backup, keys = backed_up
    canary = 5550007777
    asyncio.run(give(data, canary, "nach dem Backup"))
    pseudonym = asyncio.run(pseudonym_of(data, canary)).encode()
    assert any(pseudonym in p.read_bytes() for p in data.glob("feedback.db*")), "a good probe"
    done = cli("restore", str(backup), env=cli_env(data), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "the files it replaced were deleted (--keep-replaced keeps them)" in done.stdout
    assert not [p for p in data.iterdir() if p.name.startswith("replaced-")]
    # (Their key in the key store that stays is destroyed by the purge, as any unused.)
    for path in data.rglob("feedback.db*"):
        assert pseudonym not in path.read_bytes(), path
    kept = cli(
        "restore",
        str(backup),
        "--keys",
        str(keys),
        "--keep-replaced",
        env=cli_env(data),
        cwd=tmp_path,
    )
    assert kept.returncode == 0, kept.stderr
    assert "erasure no longer reaches" in kept.stdout
    (aside,) = [p for p in data.iterdir() if p.name.startswith("replaced-")]
    assert str(aside) in kept.stdout and (aside / "keys.db").exists()
    assert (aside / "feedback.db").exists() and oct(aside.stat().st_mode & 0o777) == "0o700"
    # Named whole in the warning at every start (found by review: the log's redaction of
    # long numbers took the time out of it).
    record = logging.LogRecord("bot.app", logging.WARNING, "", 0, "%s holds", (aside,), None)
    assert RedactingFormatter(fmt="%(message)s").format(record) == f"{aside} holds"


def test_the_files_replaced_are_kept_when_the_audit_trail_cannot_be_carried_over(
    backed_up: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """Found by review: a damaged store, the usual reason to restore, had its audit
    trail since the backup unreadable, and the restore deleted the files all the same."""
    data, backup, keys = backed_up
    for sidecar in ("-wal", "-shm"):
        (data / f"feedback.db{sidecar}").unlink(missing_ok=True)
    (data / "feedback.db").write_bytes(b"SQLite format 3\x00" + b"\xff" * 8000)
    done = cli("restore", str(backup), "--keys", str(keys), env=cli_env(data), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (aside,) = [p for p in data.iterdir() if p.name.startswith("replaced-")]
    assert "could not be carried over" in done.stderr and str(aside) in done.stderr
    assert (aside / "feedback.db").exists() and "were deleted" not in done.stdout


def test_a_data_file_that_is_a_link_is_not_restored_over(
    backed_up: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """feedback.db kept on another disk through a link: the link was moved aside and a
    file written in its place; deleting the folder aside, as told, left the data where
    the link pointed (review of the change)."""
    data, backup, keys = backed_up
    disk = tmp_path / "big-disk"
    disk.mkdir()
    (data / "feedback.db").rename(disk / "feedback.db")
    (data / "feedback.db").symlink_to(disk / "feedback.db")
    before = state(data)
    done = cli("restore", str(backup), "--keys", str(keys), env=cli_env(data), cwd=tmp_path)
    assert done.returncode == 1 and "is a link to" in done.stderr, done.stderr
    assert str(disk / "feedback.db") in done.stderr
    assert state(data) == before


def test_no_moment_between_putting_back_and_opening_lets_a_bot_start(
    backed_up: tuple[Path, Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The lock is held from the check to the opening of what was put back: a bot
    started in between would run on the backup before the erasures made since are
    carried out again (found by review: the lock was let go for a moment there)."""
    data, backup, keys = backed_up
    in_process(monkeypatch, data, tmp_path)
    tried: list[str] = []
    opening = maintenance.open_store

    def a_bot_starts(*args: Any, **kwargs: Any) -> SQLiteStore:
        """A bot starting just as the restored store is about to be opened."""
        try:
            taken = hold_lock(data)
        except StoreInUse:
            tried.append("refused")
        else:
            tried.append("started")
            if taken is not None:
                release_lock(taken)
        return opening(*args, **kwargs)

    monkeypatch.setattr(maintenance, "open_store", a_bot_starts)
    assert main(["restore", str(backup), "--keys", str(keys)]) == 0, capsys.readouterr().err
    assert tried == ["refused"]
    assert asyncio.run(count_readable(data, KEY, 3)) == 3


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_a_restore_run_as_root_leaves_the_files_to_the_bots_account(
    backed_up: tuple[Path, Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An administrator restores as root into the folder of the bot's own account: the
    copies were root's (mode 0600), and the bot could not read its key store after."""
    data, backup, keys = backed_up
    bots = 65534
    for path in [data, *data.iterdir()]:
        os.chown(path, bots, bots)
    in_process(monkeypatch, data, tmp_path)
    assert main(["restore", str(backup), "--keys", str(keys)]) == 0, capsys.readouterr().err
    # The lock too, made by the restore where the bot never ran (a new server; found by
    # a diff review: the bot then could not take it, "a lock file another user owns").
    for name in ("feedback.db", "keys.db", "feedbackbot.lock"):
        owner = (data / name).stat()
        assert (owner.st_uid, owner.st_gid) == (bots, bots), name
        assert oct(owner.st_mode & 0o777) == "0o600"


def test_ctrl_c_in_the_middle_of_a_restore_leaves_the_folder_as_it_was(
    backed_up: tuple[Path, Path, Path],
) -> None:
    # Found by an operator audit: a traceback, after "the restored store did not open".
    data, backup, keys = backed_up
    asyncio.run(give(data, 7, "after the backup"))
    before = state(data)
    args = ["restore", str(backup), "--keys", str(keys)]
    result = interrupted_when(args, cli_env(data), data.parent, data, "replaced-*")
    assert result.returncode == 130, result.stderr
    assert result.stderr == "feedbackbot: interrupted; the data folder is as it was\n"
    assert state(data) == before
    assert all(intact(data / name) for name in ("feedback.db", "keys.db", "erasures.db"))
    assert asyncio.run(count_readable(data, KEY, 8)) == 4


def test_ctrl_c_at_any_step_of_putting_back_leaves_the_folder_as_it_was(
    backed_up: tuple[Path, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by CI: Ctrl-C between a file's move aside and its note left it in the folder
    aside, and the restore ended in "Directory not empty" with the store gone from the
    data folder; and by an interrupt audit, Ctrl-C as the folder aside was made left it
    there, empty. Here it comes right after each step in turn: the folder made, each
    move and rename, the ledger's too, which puts a file where there was none."""
    data, backup, keys = backed_up
    ledger = tmp_path / "erasures.db"
    shutil.copyfile(data / "erasures.db", ledger)
    for sidecar in ("", "-wal", "-shm"):
        (data / f"erasures.db{sidecar}").unlink(missing_ok=True)
    before = state(data)
    backups = Backups(backup, keys, ledger)
    real_replace, real_mkdir = os.replace, Path.mkdir
    steps = 0
    while True:
        calls = 0

        def then_ctrl_c(stop_at: int = steps + 1) -> None:
            nonlocal calls
            calls += 1
            if calls == stop_at:
                raise KeyboardInterrupt

        def replace(source: Any, target: Any) -> None:
            real_replace(source, target)
            then_ctrl_c()

        def mkdir(path: Path, *args: Any, **kwargs: Any) -> None:
            real_mkdir(path, *args, **kwargs)
            then_ctrl_c()

        monkeypatch.setattr(os, "replace", replace)
        monkeypatch.setattr(Path, "mkdir", mkdir)
        try:
            aside = put_back(data, backups, NOW)
        except KeyboardInterrupt:
            steps += 1
            assert state(data) == before, f"Ctrl-C after step {steps}"
            assert sorted(p.name for p in data.iterdir() if p.is_dir()) == [], steps
            continue
        finally:
            monkeypatch.setattr(os, "replace", real_replace)
            monkeypatch.setattr(Path, "mkdir", real_mkdir)
        break
    # Every step was interrupted once: the folder made, the two files moved aside, the
    # three put back.
    assert steps == 6
    assert aside is not None
    assert sorted(p.name for p in aside.iterdir()) == ["feedback.db", "keys.db"]


def test_ctrl_c_in_the_clean_up_of_a_failed_copy_still_puts_all_back(
    backed_up: tuple[Path, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by an interrupt audit: a copy failing (a full disk), then Ctrl-C as the
    clean-up moved the first file back, left keys.db aside and none in the data folder,
    with "the data folder is as it was"."""
    data, backup, keys = backed_up
    before = state(data)
    real_copy, real_replace = shutil.copyfile, os.replace
    failed: list[bool] = []

    def copy(source: Any, target: Any) -> Any:
        if Path(source) == keys:
            failed.append(True)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))
        return real_copy(source, target)

    def replace(source: Any, target: Any) -> None:
        real_replace(source, target)
        if failed and Path(source).parent.name.startswith("replaced-"):
            failed.clear()
            raise KeyboardInterrupt  # one Ctrl-C, during the clean-up

    monkeypatch.setattr(shutil, "copyfile", copy)
    monkeypatch.setattr(os, "replace", replace)
    try:
        with pytest.raises(OSError, match="No space left"):
            put_back(data, Backups(backup, keys), NOW)
    except KeyboardInterrupt:
        pytest.fail("the Ctrl-C cut the clean-up short")
    monkeypatch.setattr(os, "replace", real_replace)
    assert state(data) == before
    assert sorted(p.name for p in data.iterdir() if p.is_dir()) == []


def test_ctrl_c_once_the_restored_store_opened_changes_nothing(
    backed_up: tuple[Path, Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Found by an interrupt audit: Ctrl-C after the restored store opened, before the
    files it replaced were deleted, left them in replaced-*, readable with the master key
    (a person erased since the backup among them), and said only "interrupted". The
    restore is done by then: it says so, and deletes them all the same."""
    data, backup, keys = backed_up
    asyncio.run(give(data, 7, "given after the backup"))  # in the files replaced
    in_process(monkeypatch, data, tmp_path)
    real = maintenance.not_cut_short
    pressed: list[bool] = []

    @contextlib.contextmanager
    def ctrl_c_first() -> Iterator[None]:
        if not pressed:  # Ctrl-C pending as the steps begin: signal.signal runs it first
            pressed.append(True)
            signal.raise_signal(signal.SIGINT)  # through Python's own handler
        with real():
            yield

    monkeypatch.setattr(maintenance, "not_cut_short", ctrl_c_first)
    assert main(["restore", str(backup), "--keys", str(keys)]) == 0
    out = capsys.readouterr().out
    assert pressed
    assert f"restored {data}\n" in out
    assert "the files it replaced were deleted" in out
    assert [p.name for p in data.iterdir() if p.name.startswith("replaced-")] == []
    assert asyncio.run(count_readable(data, KEY, 8)) == 3  # as backed up


def test_a_data_backup_of_another_store_without_feedback_keeps_the_files_it_replaced(
    backed_up: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """Found by an operator walk-through: another store's backup that held consents and
    unfinished answers but no feedback replaced this store, and its feedback was deleted
    with the files replaced ("the files it replaced were deleted"): only feedback was
    counted. Not one of its records readable, the files are kept and the operator told."""
    data, _, _ = backed_up
    other = tmp_path / "other"
    asyncio.run(make_store(other, 2, encode_master_key(generate_key())))
    with closing(sqlite3.connect(other / "feedback.db")) as db, db:
        db.execute("DELETE FROM feedback")
        (consents,) = db.execute("SELECT count(*) FROM consents").fetchone()
    assert consents > 0
    before = state(data)
    done = cli("restore", str(other / "feedback.db"), env=cli_env(data), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (aside,) = [p for p in data.iterdir() if p.name.startswith("replaced-")]
    assert done.stderr.startswith("note: the data backup holds no feedback, and "), done.stderr
    assert f"The files it replaced are kept in {aside}" in done.stderr, done.stderr
    assert "were deleted" not in done.stdout
    assert (
        hashlib.sha256((aside / "feedback.db").read_bytes()).hexdigest() == (before["feedback.db"])
    )


def test_a_data_backup_of_another_store_keeps_the_files_it_replaced(
    backed_up: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """Found by an operator audit: the feedback.db of another bot's store, restored with
    this folder's key store, was taken with a note that its feedbacks have no key, and
    the files it replaced, this store's feedback, deleted. Not one readable, they are
    kept, and the operator told where and why."""
    data, _, _ = backed_up
    other = tmp_path / "other"
    asyncio.run(make_store(other, 2, encode_master_key(generate_key())))
    before = state(data)
    done = cli("restore", str(other / "feedback.db"), env=cli_env(data), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (aside,) = [p for p in data.iterdir() if p.name.startswith("replaced-")]
    assert done.stderr.startswith(
        "note: not one of the 2 responses in the data backup has a key in the key store: a "
        "backup of another store, or a key store copy of another? The files it replaced are "
        f"kept in {aside}: put them back with `feedbackbot restore` if so, else delete that "
        "folder, which erasure does not reach\n"
    )
    assert "were deleted" not in done.stdout
    # Commands that read the foreign data then say what is wrong, not "ciphertext failed
    # authentication" (found by an operator walk-through: untranslated, no next step)
    read = cli("stats", env=cli_env(data), cwd=tmp_path)
    assert read.returncode == 1, read
    assert "ciphertext" not in read.stderr, read.stderr
    assert read.stderr.startswith("feedbackbot: a record in the store does not open"), read
    assert (
        hashlib.sha256((aside / "feedback.db").read_bytes()).hexdigest() == (before["feedback.db"])
    )
    back = cli("restore", str(aside / "feedback.db"), env=cli_env(data), cwd=tmp_path)
    assert back.returncode == 0, back.stderr
    assert asyncio.run(count_readable(data, KEY, 3)) == 3, "this store's feedback is back"


def test_a_damaged_store_file_is_named_as_such_in_the_operators_words(
    backed_up: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """Found by an operator walk-through: a truncated feedback.db made `stats` and `run`
    say SQLite's English "database disk image is malformed" inside German output, with no
    step named."""
    data, _, _ = backed_up
    damaged = data / "feedback.db"
    damaged.write_bytes(damaged.read_bytes()[: 3 * 4096])
    said = cli("stats", env=cli_env(data), cwd=tmp_path)
    assert said.returncode == 1
    assert said.stderr.strip() == (
        f"feedbackbot: cannot open the store in {data}: one of its files is damaged or not a "
        "database; restore the store from a backup (`feedbackbot restore`)"
    ), said.stderr
    assert "malformed" not in said.stderr


def test_a_backup_of_an_older_version_is_said_to_be_upgraded(
    backed_up: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """Found by an operator walk-through: a backup of an older version was restored and
    upgraded without a word; the version that wrote it cannot open the store any more."""
    from storage import sqlite_db
    from tests.storage.test_sqlite_files import back_to_version_18

    data, backup, keys = backed_up
    with closing(sqlite3.connect(backup)) as con, con:
        back_to_version_18(con)
    done = cli("restore", str(backup), "--keys", str(keys), env=cli_env(data), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    latest = len(sqlite_db.DATA_MIGRATIONS)
    assert (
        f"note: the backup was of an older version (data v18) and was upgraded to v{latest}; "
        "the version that wrote it cannot open the restored store"
    ) in done.stderr.splitlines(), done.stderr
    assert sqlite_db.schema_version(backup) == 18, "the backup itself is left as it was"
    assert sqlite_db.schema_version(data / "feedback.db") == latest
    assert "without an erasure ledger" not in done.stderr


def test_a_ledger_copy_of_an_older_version_is_said_to_be_upgraded(
    backed_up: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """Found by an operator's upgrade walk-through: a ledger copy of v2 was restored and
    upgraded without a word, and the version that made it then refused the folder."""
    data, backup, keys = backed_up
    copy = tmp_path / "erasures-copy.db"
    backed = ("backup", str(tmp_path / "b2.db"), "--ledger", str(copy))
    done = cli(*backed, env=cli_env(data), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with closing(sqlite3.connect(copy)) as con, con:  # as README's way back leaves it
        con.executescript(
            "DROP TABLE consent_proofs; DELETE FROM schema_migrations WHERE version = 3"
        )
    shutil.rmtree(data)  # the disk is lost
    restore = ("restore", str(backup), "--keys", str(keys), "--ledger", str(copy))
    done = cli(*restore, env=cli_env(data), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (
        "note: the copy of the erasure ledger was of an older version (ledger v2) and was "
        "upgraded to v3; the version that wrote it cannot open the restored store"
    ) in done.stderr.splitlines(), done.stderr
    assert "key store was of an older version" not in done.stderr
    assert "data v" not in done.stderr, "the data backup was of this version"


@pytest.mark.parametrize("folder", ["kept", "lost"])
def test_a_backup_of_a_version_without_the_erasure_ledger_is_said_to_miss_its_erasures(
    backed_up: tuple[Path, Path, Path], tmp_path: Path, folder: str
) -> None:
    """Found by an operator's upgrade walk-through: the backup made before upgrading from
    a version of data schema v13, restored, brought back whoever that version erased
    after it (it wrote no ledger to carry out again), with only a note on a data folder
    lost since the backup, which it was not."""
    from tests.storage.test_sqlite_files import back_to_version_13

    data, backup, keys = backed_up
    with closing(sqlite3.connect(backup)) as con, con:
        back_to_version_13(con)
    if folder == "lost":  # no ledger at all: its copy is asked for (found by a second review)
        shutil.rmtree(data)
    done = cli("restore", str(backup), "--keys", str(keys), env=cli_env(data), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (
        "note: the backup was made by a version without an erasure ledger (data v13): "
        "erasures and withdrawals made with that version after the backup cannot be "
        "carried out again, and their data may be back; if there were any, restore a "
        "backup made since the upgrade instead"
    ) in done.stderr.splitlines(), done.stderr
    # and the note on a ledger that holds nothing, should the folder have been lost since
    # (found by review: left out, the erased came back unsaid after such a loss)
    assert "if the data folder was lost since the backup" in done.stderr
