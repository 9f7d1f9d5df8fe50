"""Key rotation, backups and anonymous statistics of the SQLite store."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from storage import (
    ConsentGrant,
    MasterKeyMismatch,
    NewFeedback,
    SQLiteStore,
    StorageFull,
    StoreError,
)
from storage import sqlite as storage_sqlite
from storage.crypto import generate_key

T0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
GRANT = ConsentGrant(
    purpose="feedback", notice_version="v1", text_sha256="0" * 64, method="test", granted_at=T0
)


def feedback(comment: str, at: datetime = T0) -> NewFeedback:
    return NewFeedback(
        flow_id="feedback",
        answers={"rating": 4, "comment": comment},
        purposes=["feedback"],
        created_at=at,
        expires_at=at + timedelta(days=180),
    )


async def fill(store: SQLiteStore, people: int) -> None:
    for n in range(people):
        await store.submit_feedback(store.pseudonym(f"tg-user:{n}"), feedback(f"c{n}"), [GRANT])


async def readable(directory: Path, key: bytes, people: int) -> int:
    """How many of `people` read back from a restored data and key store copy (without a
    ledger copy, an empty erasure ledger is put beside them, as the refusal says)."""
    (directory / "erasures.db").touch()
    store = SQLiteStore(directory, key)
    await store.open()
    try:
        found = 0
        for n in range(people):
            [record] = await store.feedback_of(store.pseudonym(f"tg-user:{n}"), T0)
            found += record.answers["comment"] == f"c{n}"
        return found
    finally:
        await store.close()


async def test_rotation_switches_every_key_to_the_new_master_key(tmp_path: Path) -> None:
    old, new = generate_key(), generate_key()
    store = SQLiteStore(tmp_path, old)
    await store.open()
    await fill(store, 30)
    seen: list[tuple[int, int]] = []
    # Each person's own key and their feedback's
    assert (
        await store.rotate_master_key(new, batch=7, progress=lambda d, t: seen.append((d, t))) == 60
    )
    assert seen[-1] == (60, 60) and len(seen) == 9
    await store.close()
    assert await readable(tmp_path, new, 30) == 30
    assert not (tmp_path / "keys.db-wal").exists(), "a rotation that ran to its end"
    # The operator who forgot to switch keys is told so (the README promised it, and it
    # held only for a rotation cut short); any other key gets the general answer.
    with pytest.raises(MasterKeyMismatch, match="from before a key rotation, which was completed"):
        await SQLiteStore(tmp_path, old).open()
    with pytest.raises(MasterKeyMismatch) as other:
        await SQLiteStore(tmp_path, generate_key()).open()
    assert "from before a key rotation" not in str(other.value)


async def test_interrupted_rotation_keeps_the_old_key_working_and_can_be_finished(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = generate_key(), generate_key()
    store = SQLiteStore(tmp_path, old)
    await store.open()
    await fill(store, 20)

    def crash(done: int, total: int) -> None:
        if done >= 10:
            raise KeyboardInterrupt  # stands in for the process dying mid-way

    with pytest.raises(KeyboardInterrupt):
        await store.rotate_master_key(new, batch=5, progress=crash)
    await store.close()
    assert await readable(tmp_path, old, 20) == 20, "the old key still opens everything"
    with pytest.raises(MasterKeyMismatch, match="interrupted"):
        await SQLiteStore(tmp_path, new).open()

    store = SQLiteStore(tmp_path, old)
    await store.open()
    await store.submit_feedback(store.pseudonym("tg-user:late"), feedback("late"), [GRANT])
    assert await store.rotate_master_key(new, batch=5) == 42, "two keys a person"
    await store.close()
    assert await readable(tmp_path, new, 20) == 20


CUT_SHORT_AFTER_THE_SWITCH = """
import asyncio, os, sys
from pathlib import Path
from storage import SQLiteStore

async def rotate() -> None:
    store = SQLiteStore(Path(sys.argv[1]), bytes.fromhex(sys.argv[2]))
    await store.open()

    async def die() -> None:
        os._exit(9)  # the switch has committed; its checkpoint never happens

    store._checkpoint = die
    await store.rotate_master_key(bytes.fromhex(sys.argv[3]))

asyncio.run(rotate())
"""


def files_of(folder: Path) -> dict[str, bytes]:
    """The store's files (not SQLite's shared-memory index, -shm, which holds no data)."""
    return {
        path.name: path.read_bytes()
        for path in sorted(folder.iterdir())
        if path.is_file() and not path.name.endswith("-shm")
    }


async def cut_short_after_the_switch(folder: Path, people: int) -> tuple[bytes, bytes]:
    """A store of `people` whose rotation died right after its switch committed; the old
    and the new master key."""
    old, new = generate_key(), generate_key()
    store = SQLiteStore(folder, old)
    await store.open()
    await fill(store, people)
    await store.close()
    died = subprocess.run(
        [sys.executable, "-c", CUT_SHORT_AFTER_THE_SWITCH, str(folder), old.hex(), new.hex()],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
        capture_output=True,
        timeout=60,
    )
    assert died.returncode == 9, died.stderr
    return old, new


async def test_a_rotation_cut_short_after_its_switch_opens_with_the_new_key(
    tmp_path: Path,
) -> None:
    """The switch to the new key was only in keys.db's WAL: the new key was refused as
    "not the one this store was made with", the old one sent the operator to run the
    rotation again, which could never succeed; an operator believing the first message
    would throw away the only key that still opens the data."""
    old, new = await cut_short_after_the_switch(tmp_path, people=4)
    assert (tmp_path / "keys.db-wal").stat().st_size > 0, "the switch is in the WAL only"
    as_left = tmp_path.parent / "as-left"
    shutil.copytree(tmp_path, as_left)

    assert await readable(tmp_path, new, 4) == 4, "the key it rotated to opens everything"

    before = files_of(as_left)
    with pytest.raises(MasterKeyMismatch) as refused:
        await SQLiteStore(as_left, old).open()
    assert "start with the new master key" in str(refused.value)
    assert "rotate-key` again" not in str(refused.value), "which could never succeed"
    assert files_of(as_left) == before, "a refused key changes nothing"
    assert await readable(as_left, new, 4) == 4


async def test_a_wal_that_cannot_be_read_is_said_so_not_blamed_on_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a read-only folder without keys.db-shm, SQLite cannot read the WAL: the key a
    rotation switched to must not be told it is the wrong one."""
    _, new = await cut_short_after_the_switch(tmp_path, people=2)
    read = storage_sqlite._key_meta

    def no_wal(path: Path, mode: str) -> object:
        if "immutable" not in mode:
            raise sqlite3.OperationalError("unable to open database file")
        return read(path, mode)

    monkeypatch.setattr(storage_sqlite, "_key_meta", no_wal)
    with pytest.raises(MasterKeyMismatch, match=r"write-ahead log, .* could not be read"):
        await SQLiteStore(tmp_path, new).open()


async def test_a_wrong_key_leaves_a_store_with_a_wal_as_it_was(tmp_path: Path) -> None:
    """Looking into the WAL for a rotation's switch writes nothing."""
    key = generate_key()
    store = SQLiteStore(tmp_path, key)  # open, as a running bot: keys.db has a WAL
    await store.open()
    await fill(store, 3)
    before = files_of(tmp_path)
    assert before.get("keys.db-wal"), "a WAL to look into"
    with pytest.raises(MasterKeyMismatch, match="does not open the key store"):
        await SQLiteStore(tmp_path, generate_key()).open()
    assert files_of(tmp_path) == before
    await store.close()


async def test_a_damaged_key_store_is_not_taken_for_a_wrong_key(tmp_path: Path) -> None:
    """Found by a key review: one byte of keys.db's own key record changed, the right
    master key was told it does not open the store, and the operator sent looking for
    another; a wrong key is still told so, and neither changes a file."""
    key = generate_key()
    store = SQLiteStore(tmp_path, key)
    await store.open()
    await fill(store, 3)
    await store.close()
    with closing(sqlite3.connect(tmp_path / "keys.db")) as db, db:
        [(wrapped,)] = db.execute("SELECT wrapped_pseudonym_key FROM meta").fetchall()
        damaged = wrapped[:-1] + bytes([wrapped[-1] ^ 1])
        db.execute("UPDATE meta SET wrapped_pseudonym_key = ?", (damaged,))
    before = files_of(tmp_path)
    with pytest.raises(StoreError, match="is damaged: the master key opens") as raised:
        await SQLiteStore(tmp_path, key).open()
    assert not isinstance(raised.value, MasterKeyMismatch)
    assert "backup --keys" in str(raised.value)
    with pytest.raises(MasterKeyMismatch, match="does not open the key store"):
        await SQLiteStore(tmp_path, generate_key()).open()
    assert files_of(tmp_path) == before


async def test_rotation_towards_another_key_starts_over(tmp_path: Path) -> None:
    old, abandoned, final = generate_key(), generate_key(), generate_key()
    store = SQLiteStore(tmp_path, old)
    await store.open()
    await fill(store, 6)

    def crash(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        await store.rotate_master_key(abandoned, batch=2, progress=crash)
    await store.rotate_master_key(final, batch=2)
    await store.close()
    assert await readable(tmp_path, final, 6) == 6


async def test_backup_taken_while_writing_opens_and_decrypts(tmp_path: Path) -> None:
    key = generate_key()
    data = tmp_path / "data"
    store = SQLiteStore(data, key)
    await store.open()
    await fill(store, 10)
    backup = tmp_path / "backups" / "feedback-2026-11-29.db"
    backup.parent.mkdir()
    writer = SQLiteStore(data, key)  # a second process-like connection keeps writing
    await writer.open()
    try:
        await writer.submit_feedback(
            writer.pseudonym("tg-user:during"), feedback("during"), [GRANT]
        )
        await store.backup(backup)
        await writer.submit_feedback(writer.pseudonym("tg-user:after"), feedback("after"), [GRANT])
    finally:
        await writer.close()
    with pytest.raises(StoreError, match="exists"):
        await store.backup(backup)
    await store.close()
    assert oct(backup.stat().st_mode & 0o777) == oct(0o600)
    restored = tmp_path / "restored"
    restored.mkdir()
    shutil.copy(backup, restored / "feedback.db")
    shutil.copy(data / "keys.db", restored / "keys.db")
    assert await readable(restored, key, 10) == 10
    check = SQLiteStore(restored, key)
    await check.open()
    try:
        assert await check.feedback_of(check.pseudonym("tg-user:during"), T0)
        assert not await check.feedback_of(check.pseudonym("tg-user:after"), T0)
    finally:
        await check.close()


async def test_statistics_count_without_people_and_survive_expiry(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path, generate_key())
    await store.open()
    for n, rating in enumerate(["5", "4", "5"]):
        pseudonym = store.pseudonym(f"tg-user:{n}")
        await store.submit_feedback(
            pseudonym, feedback(f"Statistik-Kanarie-{n}"), [GRANT], tallies={"rating": [rating]}
        )
    await store.purge_expired(T0 + timedelta(days=200))
    assert not await store.feedback_of(store.pseudonym("tg-user:0"), T0 + timedelta(days=200))
    [row] = await store.statistics(date(2026, 11, 1), date(2026, 11, 30))
    assert row.day == date(2026, 11, 29) and row.feedbacks == 3
    assert row.counts == {"rating": {"5": 2, "4": 1}}
    await store.close()
    for path in tmp_path.iterdir():
        content = path.read_bytes()
        assert b"Statistik-Kanarie" not in content
        assert b'"rating"' not in content, "the counts are encrypted at rest"


async def test_a_backup_into_a_folder_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    """A typo, or a backup disk that is not mounted: the copy must not land elsewhere."""
    store = SQLiteStore(tmp_path / "data", generate_key())
    await store.open()
    try:
        await fill(store, 2)
        missing = tmp_path / "backups" / "nightly" / "feedback.db"
        with pytest.raises(StoreError, match="does not exist") as refused:
            await store.backup(missing)
        assert refused.value.params["path"] == missing.parent
        assert not (tmp_path / "backups").exists(), "no folder made up for it"
    finally:
        await store.close()


async def test_a_backup_refused_by_the_file_system_names_the_file_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not the temporary file beside it, whose name the operator never gave (review)."""

    def refuse(prefix: str, dir: Path) -> str:
        raise PermissionError(13, "Permission denied", str(dir / prefix))

    store = SQLiteStore(tmp_path / "data", generate_key())
    await store.open()
    monkeypatch.setattr("storage.sqlite.tempfile.mkdtemp", refuse)
    try:
        target = tmp_path / "b.db"
        with pytest.raises(PermissionError) as refused:
            await store.backup(target)
        assert refused.value.filename == str(target)
    finally:
        await store.close()


async def test_an_erasure_cut_short_and_repeated_takes_the_counts_out_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SQLiteStore(tmp_path, generate_key())
    await store.open()
    try:
        for n, rating in enumerate(["5", "2"]):
            await store.submit_feedback(
                store.pseudonym(f"tg-user:{n}"), feedback(f"c{n}"), [GRANT], tallies={"r": [rating]}
            )
        shred = store._shred

        async def crash(pseudonym: str) -> int:
            raise OSError("the power went")

        monkeypatch.setattr(store, "_shred", crash)
        with pytest.raises(OSError):
            await store.erase_subject(store.pseudonym("tg-user:0"))
        monkeypatch.setattr(store, "_shred", shred)
        [row] = await store.statistics(T0.date(), T0.date())
        assert (row.feedbacks, row.counts) == (1, {"r": {"2": 1}})
        await store.erase_subject(store.pseudonym("tg-user:0"))
        [row] = await store.statistics(T0.date(), T0.date())
        assert (row.feedbacks, row.counts) == (1, {"r": {"2": 1}})
        await store.erase_subject(store.pseudonym("tg-user:1"))
        assert await store.statistics(T0.date(), T0.date()) == []
    finally:
        await store.close()
    with sqlite3.connect(tmp_path / "feedback.db") as db:
        assert db.execute("SELECT count(*) FROM statistics").fetchone() == (0,)


async def test_an_erasure_on_a_full_disk_drops_the_days_counts_instead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rewriting the counts needs room a full disk may not have; the erasure must not
    wait for it, nor leave the person's rating counted. The others of that day are
    counted no more either, so a later erasure of one of them must not subtract their
    answers from the counts made anew (it took a later person's out)."""
    store = SQLiteStore(tmp_path, generate_key())
    await store.open()
    try:
        ana, ben, cem, dan = (store.pseudonym(f"tg-user:{n}") for n in range(4))
        await store.submit_feedback(ana, feedback("a"), [GRANT], tallies={"r": ["5"]})
        await store.submit_feedback(ben, feedback("b"), [GRANT], tallies={"r": ["1"]})
        later = T0 + timedelta(days=1)
        await store.submit_feedback(dan, feedback("d", at=later), [GRANT], tallies={"r": ["4"]})
        untally = store._untally

        def no_room(*args: object) -> None:
            raise StorageFull("database or disk is full")

        monkeypatch.setattr(store, "_untally", no_room)
        report = await store.erase_subject(ana)
        assert report.feedback == 1 and await store.feedback_of(ana, T0) == []
        [row] = await store.statistics(T0.date(), later.date())
        assert row.day == later.date(), "the other day's counts stay"
        monkeypatch.setattr(store, "_untally", untally)

        await store.submit_feedback(cem, feedback("c"), [GRANT], tallies={"r": ["3"]})
        await store.erase_subject(ben)
        first, second = await store.statistics(T0.date(), later.date())
        assert (first.feedbacks, first.counts) == (1, {"r": {"3": 1}}), "Cem's stays"
        assert (second.feedbacks, second.counts) == (1, {"r": {"4": 1}})
    finally:
        await store.close()


@pytest.mark.parametrize("damaged", ["statistics", "tallies", "key"])
async def test_an_erasure_goes_on_when_the_counts_cannot_be_read(
    tmp_path: Path, damaged: str
) -> None:
    """A damaged row in the new path stopped the erasure before the key was destroyed:
    what cannot be read is dropped (that day's counts), and the person is erased."""
    key = generate_key()
    store = SQLiteStore(tmp_path, key)
    await store.open()
    ana, ben = store.pseudonym("tg-user:0"), store.pseudonym("tg-user:1")
    later = T0 + timedelta(days=1)
    await store.submit_feedback(ana, feedback("a"), [GRANT], tallies={"r": ["5"]})
    await store.submit_feedback(ben, feedback("b"), [GRANT], tallies={"r": ["2"]})
    await store.submit_feedback(ben, feedback("b2", at=later), [], tallies={"r": ["4"]})
    await store.close()
    with sqlite3.connect(tmp_path / "feedback.db") as db:
        db.execute("ATTACH DATABASE ? AS keys", (str(tmp_path / "keys.db"),))
        statement, value = {
            "statistics": (
                "UPDATE statistics SET ciphertext = zeroblob(60) WHERE day = ?",
                T0.date().isoformat(),
            ),
            "tallies": ("UPDATE feedback SET tallies = zeroblob(60) WHERE pseudonym = ?", ana),
            "key": (
                "UPDATE keys.data_keys SET wrapped_dek = zeroblob(60) WHERE pseudonym = ?",
                ana,
            ),
        }[damaged]
        db.execute(statement, (value,))
    db.close()
    store = SQLiteStore(tmp_path, key)
    await store.open()
    try:
        assert (await store.erase_subject(ana)).feedback == 1
        [row] = await store.statistics(T0.date(), later.date())
        assert (row.day, row.counts) == (later.date(), {"r": {"4": 1}}), "only that day went"
        with sqlite3.connect(tmp_path / "keys.db") as keys:
            assert keys.execute(
                "SELECT count(*) FROM data_keys WHERE pseudonym = ?", (ana,)
            ).fetchone() == (0,)
        keys.close()
        await store.erase_subject(ben)
        assert await store.statistics(T0.date(), later.date()) == []
    finally:
        await store.close()


async def test_feedback_stored_before_its_counts_were_kept_is_erased_all_the_same(
    tmp_path: Path,
) -> None:
    """Stores from before data migration 12 hold no sealed counts per feedback: those
    cannot be taken out (they stay), and the erasure must work as before."""
    store = SQLiteStore(tmp_path, generate_key())
    await store.open()
    try:
        pseudonym = store.pseudonym("tg-user:0")
        await store.submit_feedback(pseudonym, feedback("alt"), [GRANT], tallies={"r": ["5"]})
        with sqlite3.connect(tmp_path / "feedback.db") as db:
            db.execute("UPDATE feedback SET tallies = NULL")
        assert (await store.erase_subject(pseudonym)).feedback == 1
        [row] = await store.statistics(T0.date(), T0.date())
        assert row.feedbacks == 1
    finally:
        await store.close()


async def test_a_key_store_copy_taken_while_keys_are_in_the_log_holds_them(
    tmp_path: Path,
) -> None:
    """A plain copy of keys.db while the store is open missed keys still in its
    write-ahead log: the data backup then had nothing to open it with."""
    key = generate_key()
    store = SQLiteStore(tmp_path / "data", key)
    await store.open()
    try:
        await fill(store, 3)
        plain = tmp_path / "plain-keys.db"
        shutil.copy(tmp_path / "data" / "keys.db", plain)
        copies = tmp_path / "copies"
        copies.mkdir()
        await store.backup(copies / "feedback.db", copies / "keys.db")
        with pytest.raises(StoreError, match="exists"):
            await store.backup(tmp_path / "new.db", copies / "keys.db")
        assert not (tmp_path / "new.db").exists(), "checked before anything is written"
    finally:
        await store.close()
    with sqlite3.connect(plain) as db:
        in_plain = db.execute("SELECT count(*) FROM data_keys").fetchone()[0]
    db.close()
    assert await readable(copies, key, 3) == 3
    assert in_plain < 3, "sanity: the plain copy misses keys (they are in the log)"


async def test_a_backup_with_keys_is_all_or_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The data copy was written before the key store's destination was looked at: a
    failing --keys left DEST behind, and the same command then failed on 'DEST exists'."""
    store = SQLiteStore(tmp_path / "data", generate_key())
    await store.open()
    try:
        await fill(store, 1)
        data, keys = tmp_path / "feedback.db", tmp_path / "keys.db"
        with pytest.raises(StoreError, match="given twice"):
            await store.backup(data, data)
        with pytest.raises(StoreError, match="does not exist"):
            await store.backup(data, tmp_path / "unmounted" / "keys.db")
        assert not data.exists()
        copy = store._copy

        async def keys_fail(schema: str, destination: Path) -> None:
            if schema == "keys":
                raise StoreError("no space left for the backup in {path}", path=tmp_path)
            await copy(schema, destination)

        monkeypatch.setattr(store, "_copy", keys_fail)
        with pytest.raises(StoreError, match="no space"):
            await store.backup(data, keys)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["data"], "nothing left behind"
        monkeypatch.setattr(store, "_copy", copy)
        await store.backup(data, keys)
        assert data.is_file() and keys.is_file()
        # Written in a private folder of its own, gone once the copy is in place.
        assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "feedback.db", "keys.db"]
        assert data.stat().st_mode & 0o777 == 0o600
    finally:
        await store.close()


async def test_an_erasure_goes_on_when_not_even_the_days_counts_can_be_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """On a disk so full that dropping the day's counts fails too, the erasure must
    still destroy the key and the feedback (it must not wait for space); only the
    counts keep the rating, and the log says so."""
    caplog.set_level(logging.WARNING, logger="storage")
    store = SQLiteStore(tmp_path, generate_key())
    await store.open()
    try:
        ana, ben = store.pseudonym("tg-user:0"), store.pseudonym("tg-user:1")
        await store.submit_feedback(ana, feedback("a"), [GRANT], tallies={"r": ["5"]})
        await store.submit_feedback(ben, feedback("b"), [GRANT], tallies={"r": ["1"]})

        def no_room(*args: object) -> None:
            raise StorageFull("database or disk is full")

        monkeypatch.setattr(store, "_untally", no_room)
        monkeypatch.setattr(store, "_drop_days", no_room)
        report = await store.erase_subject(ana)
        assert report.feedback == 1 and await store.feedback_of(ana, T0) == []
        assert len(await store.feedback_of(ben, T0)) == 1, "the others' feedback stays"
        assert "statistics_not_reduced" in [r.getMessage() for r in caplog.records]
    finally:
        await store.close()
    with sqlite3.connect(tmp_path / "keys.db") as keys:
        assert keys.execute(
            "SELECT count(*) FROM data_keys WHERE pseudonym = ?", (ana,)
        ).fetchone() == (0,), "the key is destroyed all the same"
    keys.close()
    with sqlite3.connect(tmp_path / "feedback.db") as db:
        assert db.execute(
            "SELECT count(*) FROM feedback WHERE pseudonym = ?", (ana,)
        ).fetchone() == (0,)
    db.close()


async def test_a_backup_with_keys_holds_the_key_of_every_feedback_in_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The two copies take the lock one after the other. Someone writing their first
    feedback in between must not end up in the data copy without their key in the key
    store's copy: that backup could never be read back. So the data is copied first."""
    key = generate_key()
    store = SQLiteStore(tmp_path / "data", key)
    await store.open()
    try:
        await fill(store, 2)
        copy = store._copy
        copied: list[str] = []

        async def someone_writes_in_between(schema: str, destination: Path) -> None:
            await copy(schema, destination)
            copied.append(schema)
            if len(copied) == 1:  # a person's first feedback, between the two copies
                late = store.pseudonym("tg-user:late")
                await store.submit_feedback(late, feedback("late"), [GRANT])

        monkeypatch.setattr(store, "_copy", someone_writes_in_between)
        copies = tmp_path / "copies"
        copies.mkdir()
        await store.backup(copies / "feedback.db", copies / "keys.db")
    finally:
        await store.close()
    with sqlite3.connect(copies / "feedback.db") as db:
        with_feedback = {row[0] for row in db.execute("SELECT DISTINCT pseudonym FROM feedback")}
    db.close()
    with sqlite3.connect(copies / "keys.db") as db:
        with_key = {row[0] for row in db.execute("SELECT pseudonym FROM data_keys")}
    db.close()
    assert len(with_feedback) >= 2
    assert with_feedback <= with_key, "feedback in the backup whose key is not in it"
    assert await readable(copies, key, 2) == 2


async def test_one_file_named_two_ways_is_given_twice(tmp_path: Path) -> None:
    """`backup b.db --keys sub/../b.db` passed the check: the key store's copy then
    replaced the data copy, and the command still said it wrote both."""
    store = SQLiteStore(tmp_path / "data", generate_key())
    await store.open()
    try:
        await fill(store, 1)
        (tmp_path / "sub").mkdir()
        with pytest.raises(StoreError, match="given twice"):
            await store.backup(tmp_path / "b.db", tmp_path / "sub" / ".." / "b.db")
    finally:
        await store.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "sub"], "nothing written"
    assert list((tmp_path / "sub").iterdir()) == []
