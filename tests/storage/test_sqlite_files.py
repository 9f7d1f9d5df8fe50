"""What the SQLite store leaves in its files: no plaintext, nothing after erasure,
untouched files when it refuses to start, and sane behaviour on a full disk."""

import asyncio
import contextlib
import hashlib
import logging
import os
import shutil
import sqlite3
import stat
import threading
from collections.abc import AsyncIterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

import storage.sqlite_db as sqlite_db
import storage.sqlite_ledger as ledger_module
import storage.sqlite_people as people_module
import storage.sqlite_purge as purge_module
import storage.sqlite_summary as summary_module
from storage import SQLiteStore
from storage.crypto import decrypt, generate_key
from storage.interface import (
    ALL_FLOWS,
    AuditEntry,
    CacheEntry,
    ConsentGrant,
    ConsentText,
    DataStoreMissing,
    DecryptionFailed,
    Delivery,
    Draft,
    FeedbackLimit,
    FeedbackLimitReached,
    KeyStoreMissing,
    LanguageChoice,
    LedgerNote,
    MasterKeyMismatch,
    NewFeedback,
    Release,
    StaffPost,
    StorageFull,
    StoreError,
    StoreOutdated,
    SummarySegment,
)
from storage.sqlite_db import dt, fetch_all

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
DAY, HOUR, SECOND = timedelta(days=1), timedelta(hours=1), timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
CANARY_COMMENT = "KANARIENVOGEL-Kommentar-7f3a"
CANARY_DRAFT = "ENTWURF-Kanarie-91bc"
SUBJECT = "tg-user:987654321"
CHAT_ID = 555444333222


def grant(purpose: str = "feedback") -> ConsentGrant:
    return ConsentGrant(
        purpose=purpose, notice_version="v1", text_sha256="cd" * 32, method="button", granted_at=T0
    )


def feedback(comment: str, ttl: timedelta = 30 * DAY, size: int = 0) -> NewFeedback:
    return NewFeedback(
        flow_id="standard",
        answers={"rating": 4, "comment": comment, "padding": "x" * size},
        purposes=["feedback"],
        created_at=T0,
        expires_at=T0 + ttl,
    )


def draft(text: str) -> Draft:
    return Draft(payload={"typed": text}, updated_at=T0, expires_at=T0 + DAY)


def all_bytes(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


def digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def modes(root: Path) -> dict[str, int]:
    found = {str(p.relative_to(root)): stat.S_IMODE(p.stat().st_mode) for p in root.rglob("*")}
    return {".": stat.S_IMODE(root.stat().st_mode), **found}


@pytest.fixture
def key() -> bytes:
    return generate_key()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
async def store(data_dir: Path, key: bytes) -> AsyncIterator[SQLiteStore]:
    store = SQLiteStore(data_dir, key)
    await store.open()
    yield store
    await store.close()


async def reopen(data_dir: Path, key: bytes, **kwargs: int) -> SQLiteStore:
    store = SQLiteStore(data_dir, key, **kwargs)
    await store.open()
    return store


async def pragma(store: SQLiteStore, statement: str) -> object:
    rows = list(await store._conn().execute_fetchall(statement))
    return rows[0][0]


# ---- nothing personal in clear ---------------------------------------------------------


async def test_no_plaintext_in_any_file(store: SQLiteStore, data_dir: Path) -> None:
    p = store.pseudonym(SUBJECT)
    await store.save_draft(p, draft(CANARY_DRAFT))
    await store.submit_feedback(p, feedback(CANARY_COMMENT), [grant(), grant("contact")], CHAT_ID)
    await store.save_draft(p, draft(CANARY_DRAFT + "-second"))

    def check() -> None:
        content = all_bytes(data_dir)
        for canary in (CANARY_COMMENT, CANARY_DRAFT, SUBJECT, "987654321", str(CHAT_ID)):
            assert canary.encode() not in content, canary
        assert b"button" not in content  # consent method is encrypted too

    assert (data_dir / "feedback.db-wal").exists()
    check()  # while open, WAL included
    await store.close()
    check()


async def test_files_are_private(store: SQLiteStore, data_dir: Path) -> None:
    if os.name != "posix":
        pytest.skip("POSIX permissions")
    await store.save_draft(store.pseudonym(SUBJECT), draft("x"))
    assert modes(data_dir) == {".": 0o700} | {name: 0o600 for name in digests(data_dir)}


async def test_store_files_made_readable_to_others_are_made_private_again(
    store: SQLiteStore, data_dir: Path, key: bytes
) -> None:
    """Found by review: the README's `touch erasures.db` (after a lost ledger, with the
    umask's 0644) left the ledger, pseudonyms in clear, readable to every user."""
    if os.name != "posix":
        pytest.skip("POSIX permissions")
    await store.close()
    for name in ("erasures.db", "feedback.db", "keys.db"):
        os.chmod(data_dir / name, 0o644)
    again = await reopen(data_dir, key)
    await again.close()
    assert modes(data_dir) == {".": 0o700} | {name: 0o600 for name in digests(data_dir)}


async def test_a_data_folder_others_can_list_is_named_at_start_and_left_as_it_is(
    store: SQLiteStore, data_dir: Path, key: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by the security review: a folder the operator made with the umask's 0755 let
    every user see from the files' sizes and times how much feedback came when."""
    if os.name != "posix":
        pytest.skip("POSIX permissions")
    await store.close()
    with caplog.at_level(logging.WARNING):
        again = await reopen(data_dir, key)
        await again.close()
    assert not [r for r in caplog.records if "data folder" in r.getMessage()]
    # The group's members are others too (mutation audit), said as such (review); what
    # they can do as it is: a folder others can only enter was said to be listed (README
    # audit), and one they can change, the worst, was not told apart.
    for mode, who in (
        (0o755, "the group and others can list the data folder"),
        (0o750, "the group can list the data folder"),
        (0o701, "others can enter the data folder"),
        (0o711, "the group and others can enter the data folder"),
        (0o751, "the group can list the data folder, others can enter the data folder"),
        (0o770, "the group can list and change the data folder"),
        (0o777, "the group and others can list and change the data folder"),
    ):
        os.chmod(data_dir, mode)
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            again = await reopen(data_dir, key)
            await again.close()
        said = [r.getMessage() for r in caplog.records if "data folder" in r.getMessage()]
        assert said == [f"data_folder_open: {who} (mode {mode:o}); chmod 700 it"]
        assert modes(data_dir)["."] == mode
    os.chmod(data_dir, 0o720)  # write permission without a way in: nobody can do a thing
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        again = await reopen(data_dir, key)
        await again.close()
    assert not [r for r in caplog.records if "data folder" in r.getMessage()]
    os.chmod(data_dir, 0o700)


async def test_another_users_store_files_shared_on_purpose_are_left_as_they_are(
    store: SQLiteStore, data_dir: Path, key: bytes
) -> None:
    """Found by review: a bot run as root took a backup account's group access away."""
    if os.name != "posix" or os.geteuid() != 0:
        pytest.skip("needs root to give the files to another user")
    await store.close()
    for name in ("erasures.db", "feedback.db", "keys.db"):
        os.chown(data_dir / name, 65534, 65534)
        os.chmod(data_dir / name, 0o660)
    again = await reopen(data_dir, key)
    await again.close()
    assert modes(data_dir)["keys.db"] == 0o660 and modes(data_dir)["erasures.db"] == 0o660


async def test_data_survives_reopen(store: SQLiteStore, data_dir: Path, key: bytes) -> None:
    p = store.pseudonym(SUBJECT)
    record = await store.submit_feedback(p, feedback("bleibt"), [grant()], CHAT_ID)
    await store.close()
    again = await reopen(data_dir, key)
    try:
        assert again.pseudonym(SUBJECT) == p
        assert await again.feedback_of(p, T0) == [record]
        assert await again.contact_of(p) == CHAT_ID
    finally:
        await again.close()


async def test_logs_carry_event_names_only(
    data_dir: Path, key: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="storage")
    store = await reopen(data_dir, key)
    p = store.pseudonym(SUBJECT)
    await store.submit_feedback(p, feedback(CANARY_COMMENT, ttl=DAY), [grant()], CHAT_ID)
    await store.erase_subject(p)
    await store.purge_expired(T0 + 2 * DAY)
    await store.close()
    with pytest.raises(MasterKeyMismatch):
        await reopen(data_dir, generate_key())
    events = [r.getMessage() for r in caplog.records if r.name == "storage"]
    assert {"store_opened", "erasure", "purge", "store_closed"} <= set(events)
    for canary in (p, p[:12], CANARY_COMMENT, SUBJECT, str(CHAT_ID)):
        assert canary not in caplog.text


# ---- erasure ---------------------------------------------------------------------------


async def test_erasure_leaves_nothing_of_the_person_in_any_file(
    store: SQLiteStore, data_dir: Path
) -> None:
    # Enough people and rows that pages split and rebalance around the erased person.
    people = [store.pseudonym(f"tg-user:{n}") for n in range(40)]
    target = people[17]
    for n, p in enumerate(people):
        for i in range(4):
            comment = CANARY_COMMENT if p == target else f"comment {n}/{i}"
            await store.submit_feedback(p, feedback(comment, size=300), [grant()], n + 1)
        await store.save_draft(p, draft(CANARY_DRAFT if p == target else "d"))
        await store.save_language(p, LanguageChoice(locale="en", chosen_at=T0, expires_at=T0 + DAY))
    assert target.encode() in all_bytes(data_dir)

    report = await store.erase_subject(target)
    assert (report.feedback, report.consents, report.drafts, report.contacts) == (4, 4, 1, 1)
    assert report.languages == 1
    assert target.encode() not in all_bytes(data_dir)  # while open
    assert len(await store.feedback_of(people[18], T0)) == 4
    await store.close()
    content = all_bytes(data_dir)
    assert target.encode() not in content
    assert CANARY_COMMENT.encode() not in content
    with sqlite3.connect(data_dir / "feedback.db") as con:
        assert con.execute("SELECT event FROM audit").fetchall() == [("erasure",)]


async def test_an_erasure_beside_a_reader_does_not_wait_for_it_and_truncates_later(
    data_dir: Path, key: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader in another connection (`feedbackbot backup` copying) holds the WAL: the
    erasure's checkpoint does not wait for it on the store's one thread, which stalled
    everyone for the busy timeout (found by review); the WAL is truncated, and the erased
    rows' old pages gone, once the reader is done, with no further call."""
    monkeypatch.setattr(sqlite_db, "BUSY_TIMEOUT_MS", 600_000)  # a wait would be plain
    monkeypatch.setattr("storage.sqlite_core.CHECKPOINT_RETRY", 0.05)
    store = await reopen(data_dir, key)
    people = [store.pseudonym(f"tg-user:{n}") for n in range(20)]
    for n, p in enumerate(people):
        comment = CANARY_COMMENT if n == 7 else f"comment {n}"
        await store.submit_feedback(p, feedback(comment, size=300), [grant()], n + 1)
    with contextlib.closing(sqlite3.connect(data_dir / "feedback.db")) as reader:
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM feedback").fetchone() == (20,)
        report = await asyncio.wait_for(store.erase_subject(people[7]), timeout=120)
        assert report.feedback == 1
        assert len(await store.feedback_of(people[8], T0)) == 1, "the store goes on"
        reader.rollback()
    for _ in range(600):  # the retry runs in the background
        if people[7].encode() not in all_bytes(data_dir):
            break
        await asyncio.sleep(0.05)
    assert people[7].encode() not in all_bytes(data_dir)
    assert (data_dir / "feedback.db-wal").stat().st_size == 0
    await store.close()


async def test_backup_taken_before_erasure_cannot_be_read(
    store: SQLiteStore, data_dir: Path, key: bytes, tmp_path: Path
) -> None:
    p = store.pseudonym(SUBJECT)
    await store.submit_feedback(p, feedback(CANARY_COMMENT), [grant()], CHAT_ID)
    await store.close()  # checkpoints, so feedback.db alone holds everything
    backup = tmp_path / "backup-feedback.db"
    shutil.copy2(data_dir / "feedback.db", backup)

    live = await reopen(data_dir, key)
    await live.erase_subject(p)
    await live.close()

    restored = tmp_path / "restored"
    restored.mkdir(mode=0o700)
    shutil.copy2(backup, restored / "feedback.db")
    shutil.copy2(data_dir / "keys.db", restored / "keys.db")
    (restored / "erasures.db").touch()  # no ledger copy: an empty one, as the refusal says
    with sqlite3.connect(restored / "feedback.db") as con:  # the rows are there ...
        count = con.execute("SELECT count(*) FROM feedback WHERE pseudonym = ?", (p,)).fetchone()
    assert count == (1,)
    old = await reopen(restored, key)
    try:  # ... but their key is gone for good
        assert await old.feedback_of(p, T0) == []
        assert await old.contact_of(p) is None
        assert await old.consents(p) == []
        assert (await old.purge_expired(T0)).orphans == 3
    finally:
        await old.close()


async def test_crash_between_shredding_and_row_deletion_leaves_orphans_for_the_purge(
    store: SQLiteStore, data_dir: Path, key: bytes
) -> None:
    p, other = store.pseudonym(SUBJECT), store.pseudonym("tg-user:2")
    await store.submit_feedback(p, feedback(CANARY_COMMENT), [grant()], CHAT_ID)
    await store.save_draft(p, draft(CANARY_DRAFT))
    await store.submit_feedback(other, feedback("other"), [grant()])
    await store.close()
    # Step one of the erasure committed, then the process died.
    with sqlite3.connect(data_dir / "keys.db") as con:
        con.execute("DELETE FROM data_keys WHERE pseudonym = ?", (p,))
    con.close()

    again = await reopen(data_dir, key)
    try:
        assert await again.feedback_of(p, T0) == []
        assert await again.load_draft(p, T0) is None
        report = await again.purge_expired(T0)
        assert report.orphans == 4  # feedback, draft, consent, contact
        assert len(await again.feedback_of(other, T0)) == 1
    finally:
        await again.close()
    assert p.encode() not in all_bytes(data_dir)


# ---- tampering -------------------------------------------------------------------------


async def test_tampered_row_raises(store: SQLiteStore, data_dir: Path, key: bytes) -> None:
    p = store.pseudonym(SUBJECT)
    await store.submit_feedback(p, feedback("x"), [grant()])
    await store.close()
    with sqlite3.connect(data_dir / "feedback.db") as con:
        (blob,) = con.execute("SELECT ciphertext FROM feedback").fetchone()
        flipped = blob[:-1] + bytes([blob[-1] ^ 1])
        con.execute("UPDATE feedback SET ciphertext = ?", (flipped,))
    con.close()
    again = await reopen(data_dir, key)
    try:
        with pytest.raises(DecryptionFailed):
            await again.feedback_of(p, T0)
        assert await again.readable_feedback_of(p, T0) == ([], 1)
    finally:
        await again.close()


async def with_the_first_feedback_damaged(
    store: SQLiteStore, data_dir: Path, key: bytes
) -> SQLiteStore:
    """`store` closed, its first feedback's stored copy overwritten, and opened again."""
    await store.close()
    with sqlite3.connect(data_dir / "feedback.db") as con:
        con.execute(
            "UPDATE feedback SET ciphertext = zeroblob(60)"
            " WHERE rowid = (SELECT min(rowid) FROM feedback)"
        )
    con.close()
    return await reopen(data_dir, key)


async def test_the_readable_feedback_of_a_person_is_read_past_a_damaged_row(
    store: SQLiteStore, data_dir: Path, key: bytes
) -> None:
    p = store.pseudonym(SUBJECT)
    for comment in ("damaged", "whole", "also whole"):
        await store.submit_feedback(p, feedback(comment), [grant()])
    again = await with_the_first_feedback_damaged(store, data_dir, key)
    try:
        records, unreadable = await again.readable_feedback_of(p, T0)
        assert [r.answers["comment"] for r in records] == ["whole", "also whole"]
        assert unreadable == 1
    finally:
        await again.close()


async def test_a_damaged_row_stays_out_of_summaries_and_exports_and_keeps_nothing_back(
    store: SQLiteStore, data_dir: Path, key: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by an operator walk-through: one feedback whose stored copy no longer opened
    stopped every summary, digest and export ("ciphertext failed authentication")."""
    damaged, other = store.pseudonym(SUBJECT), store.pseudonym("tg-user:1")
    await store.submit_feedback(damaged, feedback("Quastenflosser"), [grant()])
    await store.submit_feedback(other, feedback("bleibt"), [grant()])
    await store.submit_feedback(damaged, feedback("auch lesbar"), [grant()])
    again = await with_the_first_feedback_damaged(store, data_dir, key)
    try:
        with caplog.at_level(logging.WARNING, logger="storage"):
            period = await again.feedback_in_period(T0 - DAY, T0 + DAY, T0 + HOUR)
            day = SummarySegment(start=T0 - DAY, end=T0 + DAY, bucket=None)
            (read,) = await again.summary_segments([day], "v1", T0 + HOUR)
        assert [r.answers["comment"] for r in period] == ["bleibt", "auch lesbar"]
        assert [r.answers["comment"] for r in read.records] == ["bleibt", "auch lesbar"]
        said = [r.getMessage() for r in caplog.records if r.name == "storage"]
        assert "feedback_unreadable: 1 feedback(s) that do not open left out" in said, said
        assert damaged not in caplog.text and "tg-user" not in caplog.text
        records, unreadable = await again.readable_feedback_of(damaged, T0 + HOUR)
        assert [r.answers["comment"] for r in records] == ["auch lesbar"], "told to the person"
        assert unreadable == 1
    finally:
        await again.close()


async def test_a_submission_failing_midway_leaves_nothing_and_the_store_works(
    store: SQLiteStore, data_dir: Path, key: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole submission is one transaction on the connection's thread: when its last
    step (adding to the day's statistics) fails, the steps before it are undone too. (A
    day's counts damaged on disk no longer fail it: they are dropped, see
    tests/bot/test_rights.py; the step is made to fail here.)"""
    p = store.pseudonym(SUBJECT)
    await store.submit_feedback(p, feedback("first"), [grant()])
    await store.close()
    again = await reopen(data_dir, key)

    def failing(*args: object) -> None:
        raise DecryptionFailed("the day's counts")

    monkeypatch.setattr(again, "_count", failing)
    try:
        await again.save_draft(p, draft("second"))
        with pytest.raises(DecryptionFailed):
            await again.submit_feedback(p, feedback("second"), [grant("contact")], CHAT_ID)
        assert [r.answers["comment"] for r in await again.feedback_of(p, T0)] == ["first"]
        assert await again.load_draft(p, T0) == draft("second")
        assert await again.contact_of(p) is None
        assert [c.purpose for c in await again.consents(p)] == ["feedback"]
        assert await again.claim_update(1, T0)  # not left inside the failed transaction
        assert await again.delete_draft(p)
    finally:
        await again.close()


async def test_ciphertext_moved_to_another_person_fails(
    store: SQLiteStore, data_dir: Path, key: bytes
) -> None:
    alice, bob = store.pseudonym("tg-user:1"), store.pseudonym("tg-user:2")
    await store.save_draft(alice, draft("alice"))
    await store.save_draft(bob, draft("bob"))
    await store.close()
    with sqlite3.connect(data_dir / "feedback.db") as con:
        (blob,) = con.execute(
            "SELECT ciphertext FROM drafts WHERE pseudonym = ?", (alice,)
        ).fetchone()
        con.execute("UPDATE drafts SET ciphertext = ? WHERE pseudonym = ?", (blob, bob))
    con.close()
    again = await reopen(data_dir, key)
    try:
        with pytest.raises(DecryptionFailed):
            await again.load_draft(bob, T0)
    finally:
        await again.close()


async def test_a_language_choice_is_sealed_to_its_person(
    store: SQLiteStore, data_dir: Path, key: bytes
) -> None:
    """The column holds no language code in clear, and a choice copied onto another
    person's row does not open there."""
    alice, bob = store.pseudonym("tg-user:1"), store.pseudonym("tg-user:2")
    choice = LanguageChoice(locale="en", chosen_at=T0, expires_at=T0 + DAY)
    await store.save_language(alice, choice)
    await store.save_language(bob, choice.model_copy(update={"locale": "de"}))
    await store.close()
    with sqlite3.connect(data_dir / "feedback.db") as con:
        rows = dict(con.execute("SELECT pseudonym, ciphertext FROM languages").fetchall())
        assert all(b'"en"' not in blob and b'"de"' not in blob for blob in rows.values())
        con.execute("UPDATE languages SET ciphertext = ? WHERE pseudonym = ?", (rows[alice], bob))
    con.close()
    again = await reopen(data_dir, key)
    try:
        assert await again.language_of(alice, T0) == choice
        with pytest.raises(DecryptionFailed):
            await again.language_of(bob, T0)
    finally:
        await again.close()


# ---- refusing to start -------------------------------------------------------------------


async def test_wrong_master_key_refuses_and_touches_nothing(
    store: SQLiteStore, data_dir: Path, key: bytes
) -> None:
    await store.submit_feedback(store.pseudonym(SUBJECT), feedback("x"), [grant()])
    # With the first store still open the -wal/-shm files exist, as after a crash.
    before = digests(data_dir)
    assert "feedback.db-wal" in before and "keys.db-wal" in before
    with pytest.raises(MasterKeyMismatch) as caught:
        await reopen(data_dir, generate_key())
    assert "\n" not in str(caught.value)
    assert digests(data_dir) == before

    await store.close()
    before = digests(data_dir)
    with pytest.raises(MasterKeyMismatch):
        await reopen(data_dir, generate_key())
    assert digests(data_dir) == before
    await (await reopen(data_dir, key)).close()  # the right key still opens it


async def test_missing_key_store_refuses_and_touches_nothing(
    store: SQLiteStore, data_dir: Path, key: bytes
) -> None:
    await store.submit_feedback(store.pseudonym(SUBJECT), feedback("x"), [grant()])
    await store.close()
    (data_dir / "keys.db").unlink()
    before = digests(data_dir)
    with pytest.raises(KeyStoreMissing):
        await reopen(data_dir, key)
    assert digests(data_dir) == before


@pytest.mark.parametrize("how", ["deleted", "emptied"])
async def test_a_missing_data_store_refuses_instead_of_purging_every_key(
    store: SQLiteStore, data_dir: Path, key: bytes, how: str
) -> None:
    await store.submit_feedback(store.pseudonym(SUBJECT), feedback("x"), [grant()])
    await store.close()
    data = data_dir / "feedback.db"
    kept = data.read_bytes()
    if how == "deleted":
        data.unlink()
    else:
        data.write_bytes(b"")
    before = digests(data_dir)
    with pytest.raises(DataStoreMissing, match="restore it") as caught:
        await reopen(data_dir, key)
    assert "\n" not in str(caught.value)
    assert digests(data_dir) == before, "no new data store, no key touched"
    data.write_bytes(kept)  # restored: everything is readable again
    restored = await reopen(data_dir, key)
    try:
        [record] = await restored.feedback_of(restored.pseudonym(SUBJECT), T0)
        assert record.answers["comment"] == "x"
    finally:
        await restored.close()


async def test_a_damaged_data_store_is_one_line_naming_the_remedy(
    store: SQLiteStore, data_dir: Path, key: bytes
) -> None:
    await store.submit_feedback(store.pseudonym(SUBJECT), feedback("x"), [grant()])
    await store.close()
    (data_dir / "feedback.db").write_bytes(b"not a database at all" * 300)
    with pytest.raises(StoreError, match="restore the store from a backup") as caught:
        await reopen(data_dir, key)
    assert "\n" not in str(caught.value)


async def test_a_key_store_without_any_person_key_may_get_its_data_store(
    store: SQLiteStore, data_dir: Path, key: bytes
) -> None:
    """A first run that stopped between the two files: nothing to lose, so it goes on."""
    await store.close()
    (data_dir / "feedback.db").unlink()
    await (await reopen(data_dir, key)).close()
    assert (data_dir / "feedback.db").stat().st_size > 0


async def test_an_aiosqlite_without_what_the_store_needs_is_named_at_start(
    tmp_path: Path, key: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(aiosqlite.Connection, "_execute")
    with pytest.raises(StoreError, match=r"aiosqlite<0\.23"):
        await SQLiteStore(tmp_path / "data", key).open()
    assert not (tmp_path / "data").exists()


async def test_newer_schema_refuses(store: SQLiteStore, data_dir: Path, key: bytes) -> None:
    await store.close()
    with sqlite3.connect(data_dir / "feedback.db") as con:
        con.execute("INSERT INTO schema_migrations VALUES (99, 'later')")
    con.close()
    with pytest.raises(StoreError, match="newer"):
        await reopen(data_dir, key)


# ---- configuration -----------------------------------------------------------------------


async def test_secure_delete_wal_and_foreign_keys_are_on(store: SQLiteStore) -> None:
    for schema in ("main", "keys"):
        assert await pragma(store, f"PRAGMA {schema}.secure_delete") == 1
        assert await pragma(store, f"PRAGMA {schema}.journal_mode") == "wal"
    assert await pragma(store, "PRAGMA foreign_keys") == 1


async def test_migrations_are_recorded_once(store: SQLiteStore, data_dir: Path, key: bytes) -> None:
    await store.close()
    await (await reopen(data_dir, key)).close()
    for name, expected in (
        ("feedback.db", len(sqlite_db.DATA_MIGRATIONS)),
        ("keys.db", len(sqlite_db.KEY_MIGRATIONS)),
    ):
        with sqlite3.connect(data_dir / name) as con:
            rows = con.execute("SELECT version, applied_at FROM schema_migrations").fetchall()
        con.close()
        assert [v for v, _ in rows] == list(range(1, expected + 1))
        assert all(applied for _, applied in rows)


async def test_a_store_from_before_the_purge_indexes_gets_them(
    store: SQLiteStore, data_dir: Path, key: bytes
) -> None:
    """Migration 5 once created the summary cache without its indexes: stores made then
    get them from the next migration, and the purge still works on them."""
    await store.close()
    indexes = "SELECT name FROM sqlite_master WHERE name LIKE 'summary_cache_%'"
    with sqlite3.connect(data_dir / "feedback.db") as con:
        con.execute("DROP INDEX summary_cache_expires")
        con.execute("DROP INDEX summary_cache_dropped")
        back_to_version_6(con)
        con.execute("DELETE FROM schema_migrations WHERE version > 5")
        assert con.execute(indexes).fetchall() == []
    con.close()
    again = await reopen(data_dir, key)
    try:
        await again.purge_expired(datetime.now(UTC))
    finally:
        await again.close()
    with sqlite3.connect(data_dir / "feedback.db") as con:
        names = {name for (name,) in con.execute(indexes)}
    con.close()
    assert names == {"summary_cache_expires", "summary_cache_dropped"}


async def test_a_store_from_before_language_choices_gets_their_table(
    store: SQLiteStore, data_dir: Path, key: bytes
) -> None:
    p = store.pseudonym(SUBJECT)
    record = await store.submit_feedback(p, feedback("vorher"), [grant()], CHAT_ID)
    await store.close()
    with sqlite3.connect(data_dir / "feedback.db") as con:
        back_to_version_9(con)
    con.close()
    again = await reopen(data_dir, key)
    try:
        assert await again.feedback_of(p, T0) == [record]
        choice = LanguageChoice(locale="de", chosen_at=T0, expires_at=T0 + DAY)
        await again.save_language(p, choice)
        assert await again.language_of(p, T0) == choice
    finally:
        await again.close()


async def test_feedback_from_before_migration_12_is_kept_and_erased_as_before(
    store: SQLiteStore, data_dir: Path, key: bytes
) -> None:
    p = store.pseudonym(SUBJECT)
    await store.submit_feedback(p, feedback("vorher"), [grant()], tallies={"rating": ["4"]})
    await store.close()
    with sqlite3.connect(data_dir / "feedback.db") as con:
        back_to_version_11(con)
    con.close()
    again = await reopen(data_dir, key)
    try:
        [record] = await again.feedback_of(p, T0)
        assert record.answers["comment"] == "vorher"
        after = await again.submit_feedback(p, feedback("nachher"), [], tallies={"rating": ["2"]})
        assert after.answers["comment"] == "nachher"
        [row] = await again.statistics(T0.date(), T0.date())
        assert row.feedbacks == 2
        assert (await again.erase_subject(p)).feedback == 2
        [row] = await again.statistics(T0.date(), T0.date())
        assert (row.feedbacks, row.counts) == (1, {"rating": {"4": 1}}), "only the new one out"
    finally:
        await again.close()


async def test_a_store_from_before_the_consent_archive_gets_it_from_an_upgrade_only(
    store: SQLiteStore, data_dir: Path, key: bytes
) -> None:
    """Only an opening that may upgrade (`feedbackbot run`) adds the archive; one that may
    not is refused and leaves the files as they were. Consents recorded before keep their
    hashes, with no text archived for them."""
    p = store.pseudonym(SUBJECT)
    await store.submit_feedback(p, feedback("vorher"), [grant()])
    await store.close()
    with sqlite3.connect(data_dir / "feedback.db") as con:
        back_to_version_12(con)
    con.close()
    files = ("feedback.db", "keys.db")  # (SQLite may add an empty -wal and its index)
    before = {name: (data_dir / name).read_bytes() for name in files}
    latest = len(sqlite_db.DATA_MIGRATIONS)
    with pytest.raises(StoreOutdated, match=rf"data schema v12, this version writes v{latest}"):
        await SQLiteStore(data_dir, key, upgrade=False).open()
    assert {name: (data_dir / name).read_bytes() for name in files} == before
    again = await reopen(data_dir, key)
    try:
        [consent] = await again.consents(p)
        assert consent.text_sha256 == "cd" * 32
        assert await again.consent_texts(sha256=consent.text_sha256) == []
        shown = ConsentText(
            sha256=hashlib.sha256(b"Einverstanden?").hexdigest(),
            flow_id="standard",
            notice_version="v2",
            language="de",
            kind="notice",
            purposes=("feedback",),
            text="Einverstanden?",
        )
        assert await again.archive_consent_texts([shown], T0) == 1
        assert [text.text for text in await again.consent_texts("v2")] == ["Einverstanden?"]
    finally:
        await again.close()


async def test_an_archived_consent_text_changed_in_the_file_is_refused(
    store: SQLiteStore, data_dir: Path, key: bytes
) -> None:
    """A text is shown as proof only while it is the text its SHA-256 is of."""
    text = "Stimmen Sie zu?"
    shown = ConsentText(
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        flow_id="standard",
        notice_version="v1",
        language="de",
        kind="notice",
        purposes=("feedback",),
        text=text,
    )
    await store.archive_consent_texts([shown], T0)
    await store.close()
    with sqlite3.connect(data_dir / "feedback.db") as con:
        con.execute("UPDATE consent_texts SET text = 'Stimmen Sie nicht zu?'")
    con.close()
    again = await reopen(data_dir, key)
    try:
        with pytest.raises(StoreError, match=f"{shown.sha256} is not the text with that SHA-256"):
            await again.consent_texts()
    finally:
        await again.close()


async def test_a_retracted_post_keeps_nothing_that_ties_it_to_anyone(
    store: SQLiteStore, data_dir: Path
) -> None:
    """After an erasure, the row left to find the message by holds only where the message
    is: no pseudonym, feedback id or purpose in any file."""
    p = store.pseudonym(SUBJECT)
    record = await store.submit_feedback(p, feedback("x"), [grant(), grant("contact")])
    post = StaffPost(
        chat_id=-100, message_id=7, feedback_id=record.id, posted_at=T0, purpose="contact"
    )
    assert await store.record_staff_post(p, post)
    assert record.id.encode() in all_bytes(data_dir)
    await store.erase_subject(p)
    assert record.id.encode() not in all_bytes(data_dir)
    assert p.encode() not in all_bytes(data_dir)
    assert await store.posts_to_retract() == [(-100, 7)]


async def test_a_store_from_before_staff_posts_gets_their_table(
    store: SQLiteStore, data_dir: Path, key: bytes
) -> None:
    p = store.pseudonym(SUBJECT)
    record = await store.submit_feedback(p, feedback("vorher"), [grant()], CHAT_ID)
    await store.close()
    with sqlite3.connect(data_dir / "erasures.db") as con:  # ledger migrations 2 and 3 undone
        con.execute("DROP TABLE staff_posts")
        con.execute("DROP TABLE consent_proofs")  # (as the README's way back does)
        con.execute("DELETE FROM schema_migrations WHERE version > 1")
    con.close()
    again = await reopen(data_dir, key)
    try:
        post = StaffPost(
            chat_id=-100, message_id=7, feedback_id=record.id, posted_at=T0, purpose="feedback"
        )
        assert await again.record_staff_post(p, post)
        assert (await again.erase_subject(p)).staff_posts == 1
        assert await again.posts_to_retract() == [(-100, 7)]
    finally:
        await again.close()


def back_to_version_20(con: sqlite3.Connection) -> None:
    """Undo migration 21 (the index the feedback limit counts from)."""
    con.execute("DROP INDEX feedback_limit")
    con.execute("DELETE FROM schema_migrations WHERE version > 20")


async def test_a_store_from_before_the_feedback_limit_gets_its_index_and_counts_what_it_holds(
    store: SQLiteStore, data_dir: Path, key: bytes
) -> None:
    """The upgrade adds the index; the feedback given before it counts towards the limit
    at once, read from the index alone (no row, nothing decrypted)."""
    p = store.pseudonym(SUBJECT)
    await store.submit_feedback(p, feedback("vorher"), [grant()])
    await store.close()
    with contextlib.closing(sqlite3.connect(data_dir / "feedback.db")) as con, con:
        back_to_version_20(con)
    indexed = "SELECT name FROM sqlite_master WHERE name = 'feedback_limit'"
    with contextlib.closing(sqlite3.connect(data_dir / "feedback.db")) as con:
        assert con.execute(indexed).fetchall() == []
    again = await reopen(data_dir, key)
    try:
        await again.submit_feedback(p, feedback("nachher"), [], limit=FeedbackLimit(most=2))
        with pytest.raises(FeedbackLimitReached) as refused:
            await again.check_feedback_limit(p, "standard", FeedbackLimit(most=2), T0)
        assert refused.value.given == 2
        plan = await fetch_all(
            again._conn(),
            "EXPLAIN QUERY PLAN " + people_module._RECENT_FEEDBACK_SQL,
            (p, "standard", "", ""),
        )
        assert any("COVERING INDEX feedback_limit" in str(row[-1]) for row in plan), plan
    finally:
        await again.close()
    with contextlib.closing(sqlite3.connect(data_dir / "feedback.db")) as con:
        assert con.execute(indexed).fetchall() == [("feedback_limit",)]
        latest = len(sqlite_db.DATA_MIGRATIONS)
        assert con.execute("SELECT max(version) FROM schema_migrations").fetchone() == (latest,)


def back_to_version_21(con: sqlite3.Connection, moment: datetime) -> None:
    """Undo migration 22: the language choices and update ids timed to the microsecond at
    `moment` (the choice kept for a day), as older versions wrote them."""
    exact, later = sqlite_db.ts(moment), sqlite_db.ts(moment + DAY)
    con.execute("UPDATE languages SET chosen_at = ?, expires_at = ?", (exact, later))
    con.execute("UPDATE processed_updates SET seen_at = ?", (exact,))
    con.execute("DELETE FROM schema_migrations WHERE version > 21")


async def test_times_an_older_store_kept_to_the_microsecond_are_cut_to_the_minute(
    store: SQLiteStore, data_dir: Path, key: bytes
) -> None:
    """What a copy of the upgraded file shows of when a person chose a language, and of
    when updates came in, is the minute (a deletion date rounded up: kept no shorter);
    the choice still reads, and the update is still known as processed."""
    p = store.pseudonym(SUBJECT)
    exact = T0 + timedelta(seconds=27, microseconds=123456)
    await store.save_language(p, LanguageChoice(locale="en", chosen_at=T0, expires_at=T0 + DAY))
    assert await store.claim_update(4711, T0)
    await store.close()
    with contextlib.closing(sqlite3.connect(data_dir / "feedback.db")) as con, con:
        back_to_version_21(con, exact)
    again = await reopen(data_dir, key)
    minute = timedelta(minutes=1)
    try:
        assert await again.language_of(p, exact + DAY) == LanguageChoice(
            locale="en", chosen_at=T0, expires_at=T0 + DAY + minute
        )
        assert await again.language_of(p, T0 + DAY + minute) is None
        assert not await again.claim_update(4711, exact), "still known as processed"
    finally:
        await again.close()
    with contextlib.closing(sqlite3.connect(data_dir / "feedback.db")) as con:
        kept = con.execute("SELECT chosen_at, expires_at FROM languages").fetchall()
        kept += con.execute("SELECT seen_at, NULL FROM processed_updates").fetchall()
    assert kept == [(sqlite_db.ts(T0), sqlite_db.ts(T0 + DAY + minute)), (sqlite_db.ts(T0), None)]


async def test_a_language_choice_and_an_update_are_timed_to_the_minute_in_the_file(
    store: SQLiteStore, data_dir: Path
) -> None:
    """As written now: the choice reads back with the times the file holds, its deletion
    date rounded up."""
    p = store.pseudonym(SUBJECT)
    exact = T0 + timedelta(seconds=27, microseconds=123456)
    choice = LanguageChoice(locale="en", chosen_at=exact, expires_at=exact + DAY)
    await store.save_language(p, choice)
    assert await store.claim_update(4711, exact)
    later = T0 + DAY + timedelta(minutes=1)
    assert await store.language_of(p, exact) == LanguageChoice(
        locale="en", chosen_at=T0, expires_at=later
    )
    await store.close()
    with contextlib.closing(sqlite3.connect(data_dir / "feedback.db")) as con:
        kept = con.execute("SELECT chosen_at, expires_at FROM languages").fetchall()
        kept += con.execute("SELECT seen_at, NULL FROM processed_updates").fetchall()
    assert kept == [(sqlite_db.ts(T0), sqlite_db.ts(later)), (sqlite_db.ts(T0), None)]


TEN_MINUTES = SummarySegment(start=T0, end=T0 + timedelta(minutes=10), bucket="2025-03-01T12:0")


async def cache_ten_minutes(store: SQLiteStore) -> None:
    """Figures of `TEN_MINUTES` cached ("zehn"), and the store closed."""
    entry = CacheEntry(bucket=TEN_MINUTES.bucket, epoch=0, payload=b"zehn", expires_at=T0 + DAY)
    assert await store.save_summary_cache([entry], "v1", T0) == 1
    await store.close()


async def ten_minutes_still_read(data_dir: Path, key: bytes) -> None:
    """The store reopened (migrating), and the figures `cache_ten_minutes` cached read."""
    again = await reopen(data_dir, key)
    try:
        (read,) = await again.summary_segments([TEN_MINUTES], "v1", T0 + HOUR)
        assert read.cached == b"zehn"
    finally:
        await again.close()


async def test_an_older_stores_summary_cache_per_minute_goes_at_the_upgrade(
    store: SQLiteStore, data_dir: Path, key: bytes
) -> None:
    """Data schema v23: the rows of minutes, cached figures or kept after an erasure under
    the minute's name, are gone from the file; those of ten minutes and longer stay and
    still read."""
    await cache_ten_minutes(store)
    with contextlib.closing(sqlite3.connect(data_dir / "feedback.db")) as con, con:
        for bucket, figures in (("2025-03-01T12:03", b"x"), ("2025-03-01T12:04", None)):
            con.execute(
                "INSERT INTO summary_cache (bucket, epoch, changed_at, ciphertext)"
                " VALUES (?, 2, ?, ?)",
                (bucket, sqlite_db.ts(T0), figures),
            )
        con.execute("DELETE FROM schema_migrations WHERE version > 22")
    await ten_minutes_still_read(data_dir, key)
    with contextlib.closing(sqlite3.connect(data_dir / "feedback.db")) as con:
        buckets = [row[0] for row in con.execute("SELECT bucket FROM summary_cache")]
    assert buckets == ["2025-03-01T12:0"]


async def test_an_older_stores_summary_cache_times_are_cut_to_the_minute_at_the_upgrade(
    store: SQLiteStore, data_dir: Path, key: bytes
) -> None:
    """Data schema v24: when a cache row last changed, written to the microsecond before,
    is cut to the minute; the figures still read."""
    await cache_ten_minutes(store)
    exact = T0 + timedelta(seconds=41, microseconds=123456)
    with contextlib.closing(sqlite3.connect(data_dir / "feedback.db")) as con, con:
        con.execute("UPDATE summary_cache SET changed_at = ?", (sqlite_db.ts(exact),))
        con.execute(
            "INSERT INTO summary_cache (bucket, epoch, changed_at) VALUES ('2025-03-01T13', 2, ?)",
            (sqlite_db.ts(exact),),
        )
        con.execute("DELETE FROM schema_migrations WHERE version > 23")
    await ten_minutes_still_read(data_dir, key)
    with contextlib.closing(sqlite3.connect(data_dir / "feedback.db")) as con:
        times = [row[0] for row in con.execute("SELECT changed_at FROM summary_cache")]
    assert times == [sqlite_db.ts(T0)] * 2


def back_to_version_18(con: sqlite3.Connection) -> None:
    """Undo migration 19 (consents that ended rather than being withdrawn)."""
    con.execute("ALTER TABLE consents DROP COLUMN ended_at")
    con.execute("DELETE FROM schema_migrations WHERE version > 18")


async def test_consents_withdrawn_before_ended_ones_were_recorded_stay_withdrawn(
    store: SQLiteStore, data_dir: Path, key: bytes
) -> None:
    """The upgrade leaves every consent as it was: one withdrawn before is still withdrawn
    then (all that was recorded), one in force still in force; ends are recorded from
    then on."""
    p = store.pseudonym(SUBJECT)
    await store.submit_feedback(p, feedback("vorher"), [grant(), grant("contact")], CHAT_ID)
    await store.withdraw_consent(p, "contact", T0 + HOUR)
    await store.close()
    with contextlib.closing(sqlite3.connect(data_dir / "feedback.db")) as con, con:
        back_to_version_18(con)
    latest = len(sqlite_db.DATA_MIGRATIONS)
    with pytest.raises(StoreOutdated, match=rf"data schema v18, this version writes v{latest}"):
        await SQLiteStore(data_dir, key, upgrade=False).open()
    again = await reopen(data_dir, key)
    try:
        by_purpose = {c.purpose: c for c in await again.consents(p)}
        assert by_purpose["contact"].withdrawn_at == T0 + HOUR
        assert by_purpose["contact"].ended_at is None and not by_purpose["contact"].in_force
        assert by_purpose["feedback"].in_force
        assert (await again.consent_ledger(p)).for_feedback(T0) == {"feedback"}
        await again.grant_consents(p, [grant("contact")])
        assert await again.withdraw_consent(p, "contact", T0 + 2 * HOUR, ended=True) == 1
        [withdrawn, ended] = [c for c in await again.consents(p) if c.purpose == "contact"]
        assert withdrawn.withdrawn_at == T0 + HOUR and withdrawn.ended_at is None
        assert ended.ended_at == T0 + 2 * HOUR and ended.withdrawn_at is None
    finally:
        await again.close()


async def test_a_restored_backup_ends_a_consent_again_as_ended(
    store: SQLiteStore, data_dir: Path, key: bytes, tmp_path: Path
) -> None:
    """The ledger applies an end again as an end, not as the person's withdrawal."""
    p = store.pseudonym(SUBJECT)
    await store.submit_feedback(p, feedback("x"), [grant(), grant("contact")], CHAT_ID)
    await store.backup(tmp_path / "data.db", keys=tmp_path / "keys.db")
    await store.withdraw_consent(p, "contact", T0 + HOUR, ended=True)
    await store.close()
    restore(data_dir, tmp_path / "data.db", tmp_path / "keys.db")
    again = SQLiteStore(data_dir, key, exclusive=True)
    await again.open()
    try:
        [ended] = [c for c in await again.consents(p) if c.purpose == "contact"]
        assert ended.ended_at == T0 + HOUR and ended.withdrawn_at is None
    finally:
        await again.close()


def back_to_version_16(con: sqlite3.Connection) -> None:
    """Undo migration 17 (the consent each delivery went under)."""
    back_to_version_18(con)
    con.execute("ALTER TABLE deliveries DROP COLUMN purpose")
    con.execute("DELETE FROM schema_migrations WHERE version > 16")


async def test_a_delivery_made_before_its_purpose_was_recorded_reads_as_unknown(
    store: SQLiteStore, data_dir: Path, key: bytes
) -> None:
    """Which consent an older store's delivery went under is not known (None: the
    recipient's purpose now is taken); new deliveries record it."""
    p = store.pseudonym(SUBJECT)
    await store.submit_feedback(p, feedback("vorher"), [grant()], recipients=[("crm", "crm")])
    await store.close()
    with contextlib.closing(sqlite3.connect(data_dir / "feedback.db")) as con, con:
        back_to_version_16(con)
    again = await reopen(data_dir, key)
    try:
        await again.submit_feedback(p, feedback("nachher"), [], recipients=[("crm", "crm")])
        assert [d.purpose for d in await again.deliveries_of(p)] == [None, "crm"]
        assert [d.purpose for _, d in await again.pending_deliveries()] == [None, "crm"]
    finally:
        await again.close()


def back_to_version_15(con: sqlite3.Connection) -> None:
    """Undo migration 16 (the feedback a contact chat id was given with)."""
    back_to_version_16(con)
    con.execute("ALTER TABLE feedback DROP COLUMN with_contact")
    con.execute("DELETE FROM schema_migrations WHERE version > 15")


async def test_a_contact_given_before_with_contact_was_noted_stays_with_any_feedback(
    store: SQLiteStore, data_dir: Path, key: bytes
) -> None:
    """Which feedback an older store's contact chat id came with is not known: it stays
    as it did, while the person has feedback; new feedback notes it."""
    p = store.pseudonym(SUBJECT)
    await store.submit_feedback(p, feedback("mit Kontakt"), [grant()], CHAT_ID)
    await store.close()
    with contextlib.closing(sqlite3.connect(data_dir / "feedback.db")) as con, con:
        back_to_version_15(con)
    again = await reopen(data_dir, key)
    try:
        await again.submit_feedback(p, feedback("ohne Kontakt"), [])
        await again.purge_expired(T0)
        assert await again.contact_of(p) == CHAT_ID
    finally:
        await again.close()
    with contextlib.closing(sqlite3.connect(data_dir / "feedback.db")) as con:
        noted = con.execute("SELECT with_contact FROM feedback ORDER BY rowid").fetchall()
    assert noted == [(None,), (0,)]


def back_to_version_14(con: sqlite3.Connection) -> None:
    """Undo migration 15 (alerts due), as in a store made before it."""
    back_to_version_15(con)
    con.execute("DROP TABLE alerts_due")
    con.execute("DELETE FROM schema_migrations WHERE version > 14")


async def test_a_store_from_before_alerts_due_gets_their_table(
    store: SQLiteStore, data_dir: Path, key: bytes
) -> None:
    p = store.pseudonym(SUBJECT)
    await store.submit_feedback(p, feedback("vorher"), [grant()], 1)
    await store.close()
    with contextlib.closing(sqlite3.connect(data_dir / "feedback.db")) as con, con:
        back_to_version_14(con)
    again = await reopen(data_dir, key)
    try:
        later = await again.submit_feedback(p, feedback("nachher"), [], alert=True)
        assert await again.alerts_due() == [(p, later.id)]
        assert len(await again.feedback_of(p, T0)) == 2
    finally:
        await again.close()


def back_to_version_13(con: sqlite3.Connection) -> None:
    """Undo migration 14 (release points per survey), as in a store made before it."""
    back_to_version_14(con)
    con.execute(
        "CREATE TABLE releases (at TEXT PRIMARY KEY, feedbacks INTEGER NOT NULL,"
        " people INTEGER NOT NULL, digest TEXT NOT NULL) WITHOUT ROWID"
    )
    con.execute(
        "INSERT INTO releases SELECT at, feedbacks, people, digest FROM release_points"
        " WHERE flow = ''"
    )
    con.execute("DROP TABLE release_points")
    con.execute("DROP INDEX deliveries_cut_short")
    con.execute("DROP INDEX deliveries_feedback")
    con.execute("ALTER TABLE deliveries DROP COLUMN cut_short")
    con.execute("DELETE FROM schema_migrations WHERE version > 13")


async def test_release_points_of_all_surveys_together_are_kept_by_the_upgrade(
    store: SQLiteStore, data_dir: Path, key: bytes
) -> None:
    """Every survey's points continue from those of an older store, which closed groups
    of all surveys' feedback together: none of the days shown before moves."""
    opening = Release(flow=ALL_FLOWS, at=T0)
    closing = Release(flow=ALL_FLOWS, at=T0 + DAY, feedbacks=7, people=5, digest="d1")
    assert await store.add_releases(ALL_FLOWS, [opening, closing], after=None)
    await store.close()
    with sqlite3.connect(data_dir / "feedback.db") as con:
        back_to_version_13(con)
        assert con.execute("SELECT count(*) FROM releases").fetchone() == (2,)
    con.close()
    again = await reopen(data_dir, key)
    try:
        for flow in ("feedback", "product"):
            assert await again.releases(flow, T0, T0 + DAY) == [opening, closing]
            assert await again.last_release(flow) == T0 + DAY
        own = Release(flow="product", at=T0 + 3 * DAY, feedbacks=5, people=5, digest="d2")
        assert await again.add_releases("product", [own], after=T0 + DAY)
        assert await again.last_release("feedback") == T0 + DAY, "the other survey's own"
        assert await again.releases("product", T0, T0 + 9 * DAY) == [opening, closing, own]
    finally:
        await again.close()


def back_to_version_12(con: sqlite3.Connection) -> None:
    """Undo migration 13 (the archive of consent texts), as in a store made before it."""
    back_to_version_13(con)
    con.execute("DROP TABLE consent_texts")
    con.execute("DELETE FROM schema_migrations WHERE version > 12")


def back_to_version_11(con: sqlite3.Connection) -> None:
    """Undo migration 12 (what each feedback added to the statistics)."""
    back_to_version_12(con)
    con.execute("ALTER TABLE feedback DROP COLUMN tallies")
    con.execute("DELETE FROM schema_migrations WHERE version > 11")


def back_to_version_10(con: sqlite3.Connection) -> None:
    """Undo migration 11 (unconfirmed deliveries), as in a store made before it."""
    back_to_version_11(con)
    con.execute("ALTER TABLE deliveries DROP COLUMN unconfirmed")
    con.execute("DELETE FROM schema_migrations WHERE version > 10")


def back_to_version_9(con: sqlite3.Connection) -> None:
    """Undo migration 10 (language choices), as in a store made before it."""
    back_to_version_10(con)
    con.execute("DROP TABLE languages")
    con.execute("DELETE FROM schema_migrations WHERE version > 9")


def back_to_version_8(con: sqlite3.Connection) -> None:
    """Undo migration 9 (release points of summaries), as in a store made before it."""
    back_to_version_9(con)
    con.execute("DROP TABLE releases")
    con.execute("DELETE FROM schema_migrations WHERE version > 8")


def back_to_version_7(con: sqlite3.Connection) -> None:
    """Undo migration 8 (pending deliveries, kept notices), as in a store made before it."""
    back_to_version_8(con)
    con.execute("DROP TABLE notices")
    con.execute("DROP INDEX deliveries_pending")
    con.execute("ALTER TABLE deliveries DROP COLUMN pending")
    con.execute("DELETE FROM schema_migrations WHERE version > 7")


def back_to_version_6(con: sqlite3.Connection) -> None:
    """Undo migration 7 (sealed audit actors), as in a store made before it."""
    back_to_version_7(con)
    con.execute("DROP INDEX audit_actor")
    con.execute("ALTER TABLE audit DROP COLUMN actor_ref")
    con.execute("ALTER TABLE audit DROP COLUMN actor_sealed")
    con.execute("DELETE FROM schema_migrations WHERE version > 6")


async def test_audit_actors_kept_in_clear_by_older_stores_are_sealed_on_opening(
    store: SQLiteStore, data_dir: Path, key: bytes
) -> None:
    await store.close()
    with sqlite3.connect(data_dir / "feedback.db") as con:
        back_to_version_6(con)
        con.executemany(
            "INSERT INTO audit (event, at, actor, detail, records) VALUES (?, ?, ?, ?, ?)",
            [
                (
                    "staff-rules-confirmed",
                    "2025-03-01T12:00:00.000000+00:00",
                    "staff:70017001",
                    "v1",
                    None,
                ),
                ("summary", "2025-03-01T12:01:00.000000+00:00", "staff:70017001", "7d", 12),
                ("erasure", "2025-03-01T12:02:00.000000+00:00", None, None, None),
            ],
        )
    con.close()
    again = await reopen(data_dir, key)
    try:
        entries = await again.audit_entries(T0 - DAY)
        assert [(e.event, e.actor, e.records) for e in entries] == [
            ("staff-rules-confirmed", "staff:70017001", None),
            ("summary", "staff:70017001", 12),
            ("erasure", None, None),
        ]
        last = await again.last_audit("staff-rules-confirmed", "staff:70017001")
        assert last is not None and last.detail == "v1"
        await again.record_audit(AuditEntry(event="summary", at=T0 + DAY, actor="staff:70017001"))
    finally:
        await again.close()
    assert b"70017001" not in all_bytes(data_dir), "no staff id in clear in any file"


async def test_audit_entries_noted_to_the_microsecond_before_are_cut_and_still_name_who(
    store: SQLiteStore, data_dir: Path, key: bytes
) -> None:
    """Found by a DPO check: audit entries (an alert, a contact-alert) kept their time to
    the microsecond in clear for years, beside the feedback's. New ones are noted to the
    minute; those noted so before are cut at the next opening, their actor sealed again
    under the new time (it binds it), so that `feedbackbot audit` still names who."""
    exact = T0 + timedelta(minutes=5, seconds=27, microseconds=123456)
    await store.record_audit(AuditEntry(event="contact-alert", at=exact, actor="alert"))
    old = sqlite_db.ts(exact)  # as versions before 5 Dec 2026 noted it
    sealed = store._seal_actor("summary", old, "staff:70017001")
    await store._conn().execute(
        "INSERT INTO main.audit (event, at, actor_ref, actor_sealed, records)"
        " VALUES ('summary', ?, ?, ?, 4)",
        (old, store._actor_ref("staff:70017001"), sealed),
    )
    await store._conn().commit()
    await store.close()
    with contextlib.closing(sqlite3.connect(data_dir / "feedback.db")) as con:
        times = [row[0] for row in con.execute("SELECT at FROM audit ORDER BY id")]
    assert times == [sqlite_db.ts(T0 + 5 * MINUTE), old], "the new one to the minute"
    again = await reopen(data_dir, key)
    try:
        entries = await again.audit_entries(T0)
        assert [(e.event, e.at, e.actor, e.records) for e in entries] == [
            ("contact-alert", T0 + 5 * MINUTE, "alert", None),
            ("summary", T0 + 5 * MINUTE, "staff:70017001", 4),
        ]
    finally:
        await again.close()
    with contextlib.closing(sqlite3.connect(data_dir / "feedback.db")) as con:
        times = [row[0] for row in con.execute("SELECT at FROM audit ORDER BY id")]
    assert times == [sqlite_db.ts(T0 + 5 * MINUTE)] * 2, "cut on the disk too"


async def test_deliveries_recorded_by_older_stores_stay_delivered(
    store: SQLiteStore, data_dir: Path, key: bytes
) -> None:
    p = store.pseudonym(SUBJECT)
    await store.close()
    with sqlite3.connect(data_dir / "feedback.db") as con:
        back_to_version_7(con)
        con.execute(
            "INSERT INTO deliveries (pseudonym, key_version, recipient, feedback_id,"
            " delivered_at) VALUES (?, 1, 'crm', 'fb-1', '2025-03-01T12:00:00.000000+00:00')",
            (p,),
        )
    con.close()
    again = await reopen(data_dir, key)
    try:
        assert await again.deliveries_of(p) == [
            Delivery(recipient="crm", feedback_id="fb-1", delivered_at=T0)
        ]
        assert await again.pending_deliveries() == []
    finally:
        await again.close()


async def test_cancelled_answers_and_a_withdrawn_contact_leave_the_files_at_once(
    store: SQLiteStore, data_dir: Path
) -> None:
    """The person's key lives on (they keep their feedback), so anything of theirs left in
    a file could still be read: the old page images in the WAL, a freed page not yet
    zeroed. flush_deletions folds the WAL in (secure_delete zeroes) and truncates it."""
    p = store.pseudonym(SUBJECT)
    await store.submit_feedback(p, feedback("bleibt"), [grant()], contact_chat_id=CHAT_ID)
    await store.save_draft(p, draft(CANARY_DRAFT))
    await store.flush_deletions()  # the rows are in the main file now
    with sqlite3.connect(data_dir / "feedback.db") as con:
        [(sealed_draft,)] = con.execute("SELECT ciphertext FROM drafts").fetchall()
        [(sealed_contact,)] = con.execute("SELECT ciphertext FROM contacts").fetchall()
    con.close()
    assert await store.delete_draft(p) and await store.delete_contact(p)
    await store.flush_deletions()
    everything = all_bytes(data_dir)
    assert sealed_draft not in everything and sealed_contact not in everything
    assert (data_dir / "feedback.db-wal").stat().st_size == 0


async def with_todays_keys(before: Path, data_dir: Path, key: bytes, tmp_path: Path) -> SQLiteStore:
    """The data backup `before` opened with today's key store, and no erasure ledger: what
    whoever holds an old backup and the keys of today can read."""
    restored = tmp_path / "restored"
    restored.mkdir()
    shutil.copy(before, restored / "feedback.db")
    shutil.copy(data_dir / "keys.db", restored / "keys.db")
    (restored / "erasures.db").touch()
    return await reopen(restored, key)


async def backed_up_with_figures(
    store: SQLiteStore, tmp_path: Path
) -> tuple[SummarySegment, str, Path]:
    """Two people's feedback, one day's figures cached with the first one's words, and a
    data backup of it all: the day, the first person, the backup."""
    bucket = SummarySegment(start=T0 - DAY / 2, end=T0 + DAY / 2, bucket="2025-03-01")
    erased, stays = store.pseudonym(SUBJECT), store.pseudonym("tg-user:1")
    await store.submit_feedback(erased, feedback("Quastenflosser"), [grant()])
    await store.submit_feedback(stays, feedback("bleibt"), [grant()])
    (read,) = await store.summary_segments([bucket], "v1", T0 + DAY)
    entry = CacheEntry(
        bucket="2025-03-01", epoch=read.epoch, expires_at=T0 + 3 * DAY, payload=b"quastenflosser:1"
    )
    assert await store.save_summary_cache([entry], "v1") == 1
    before = tmp_path / "before.db"
    await store.backup(before)
    return bucket, erased, before


async def test_cached_figures_in_a_backup_from_before_an_erasure_cannot_be_read(
    store: SQLiteStore, data_dir: Path, key: bytes, tmp_path: Path
) -> None:
    """The summary cache holds words of comments and hashes of people under one key for
    everyone; an erasure replaces that key, so a copy of the data store made before it
    gives nothing of the erased person's away, even with today's key store."""
    bucket, erased, before = await backed_up_with_figures(store, tmp_path)
    (cached,) = await store.summary_segments([bucket], "v1", T0 + DAY)
    assert cached.cached == b"quastenflosser:1"
    await store.erase_subject(erased)
    (now,) = await store.summary_segments([bucket], "v1", T0 + DAY)
    assert now.cached is None and [r.answers["comment"] for r in now.records] == ["bleibt"]
    await store.close()

    old = await with_todays_keys(before, data_dir, key, tmp_path)
    try:
        (from_backup,) = await old.summary_segments([bucket], "v1", T0 + DAY)
    finally:
        await old.close()
    assert from_backup.cached is None, "the figures sealed before the erasure stay sealed"
    assert [r.answers["comment"] for r in from_backup.records] == ["bleibt"]


class _Died(BaseException):
    """The process dying in the middle of a step (nothing after it runs)."""


async def test_cached_figures_in_a_backup_stay_sealed_after_an_erasure_cut_short(
    store: SQLiteStore, data_dir: Path, key: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash review: the process died once the person's keys were gone, before their
    rows (the purge at the next start deletes those); the cache key was renewed only
    after the rows, so it never was (the ledger entry no longer held, nothing carried
    out again), and a data backup from before the erasure still showed the erased
    person's words in its cached figures with today's key store."""
    bucket, erased, before = await backed_up_with_figures(store, tmp_path)

    async def die(*args: object, **kwargs: object) -> None:
        raise _Died

    monkeypatch.setattr(purge_module.Lifecycle, "_delete_rows", die)
    with pytest.raises(_Died):
        await store.erase_subject(erased)
    monkeypatch.undo()
    store.abandon()
    started = SQLiteStore(data_dir, key, exclusive=True)  # the bot's next start
    await started.open()
    try:
        assert (await started.purge_expired(T0 + DAY)).orphans > 0
    finally:
        await started.close()

    old = await with_todays_keys(before, data_dir, key, tmp_path)
    try:
        (from_backup,) = await old.summary_segments([bucket], "v1", T0 + DAY)
    finally:
        await old.close()
    assert from_backup.cached is None, "the figures sealed before the erasure stay sealed"


async def test_a_withdrawal_cut_short_leaves_no_key_to_its_feedback_after_the_next_start(
    store: SQLiteStore, data_dir: Path, key: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash review: the process died after the withdrawal erased the feedback, before
    its key was destroyed and the cache key renewed; the purge at the next start spared
    the key (younger than a day), so a data backup from before the withdrawal, with
    today's key store, showed the withdrawn feedback and its cached figures."""
    bucket, erased, before = await backed_up_with_figures(store, tmp_path)
    ids = [r.id for r in await store.feedback_of(erased, T0)]

    async def die(*args: object, **kwargs: object) -> None:
        raise _Died

    monkeypatch.setattr(people_module.PersonalData, "_drop_unused_deks", die)
    with pytest.raises(_Died):
        await store.withdraw_consent(erased, "feedback", T0 + DAY / 4, {}, ids)
    monkeypatch.undo()
    store.abandon()
    started = SQLiteStore(data_dir, key, exclusive=True)  # the bot's next start
    await started.open()
    try:
        await started.purge_expired(T0 + DAY / 2)
    finally:
        await started.close()

    old = await with_todays_keys(before, data_dir, key, tmp_path)
    try:
        (from_backup,) = await old.summary_segments([bucket], "v1", T0 + DAY)
        readable, _ = await old.readable_feedback_of(erased, T0)
    finally:
        await old.close()
    assert readable == [], "the withdrawn feedback's key is gone"
    assert from_backup.cached is None, "the figures sealed before the withdrawal stay sealed"


def restore(data_dir: Path, data: Path, keys: Path) -> None:
    """Put a data backup and a key store backup in place, as the README says; the erasure
    ledger stays."""
    for name in ("feedback.db", "keys.db"):
        for sidecar in ("-wal", "-shm"):
            (data_dir / f"{name}{sidecar}").unlink(missing_ok=True)
    shutil.copy(data, data_dir / "feedback.db")
    shutil.copy(keys, data_dir / "keys.db")


async def test_a_restored_backup_does_not_bring_a_language_choice_objected_to_back(
    store: SQLiteStore, data_dir: Path, key: bytes, tmp_path: Path
) -> None:
    """A DPO's review: "/sprache app" (an objection to storing the choice, Art. 21) was
    undone by a restore, and the bot wrote in the language again. A choice made after
    the objection is another, which the restore leaves alone."""
    objected, chose_again = store.pseudonym("tg-user:1"), store.pseudonym("tg-user:2")
    for person in (objected, chose_again):
        await store.save_language(
            person, LanguageChoice(locale="en", chosen_at=T0, expires_at=T0 + 30 * DAY)
        )
    # Used since: its date moved on, the same choice.
    renewed = LanguageChoice(locale="en", chosen_at=T0, expires_at=T0 + 31 * DAY)
    await store.save_language(objected, renewed)
    await store.backup(tmp_path / "data.db", keys=tmp_path / "keys.db")
    await store.save_language(objected, renewed.model_copy(update={"expires_at": T0 + 32 * DAY}))
    assert await store.delete_language(objected) and await store.delete_language(chose_again)
    again = LanguageChoice(locale="de", chosen_at=T0 + HOUR, expires_at=T0 + 30 * DAY)
    await store.save_language(chose_again, again)
    await store.close()
    restore(data_dir, tmp_path / "data.db", tmp_path / "keys.db")
    reopened = SQLiteStore(data_dir, key, exclusive=True)
    await reopened.open()
    try:
        assert reopened.applied_again == 2, "both objections carried out again"
        assert await reopened.language_of(objected, T0 + DAY) is None
        # The backup held chose_again's first choice, objected to too: gone as well.
        assert await reopened.language_of(chose_again, T0 + DAY) is None
        await reopened.save_language(chose_again, again)
    finally:
        await reopened.close()
    later = SQLiteStore(data_dir, key, exclusive=True)
    await later.open()
    try:
        assert later.applied_again == 0, "the choice made after the objection stays"
        choice = await later.language_of(chose_again, T0 + DAY)
        assert choice is not None and choice.locale == "de"
    finally:
        await later.close()


async def test_a_restored_backup_does_not_bring_erased_people_or_withdrawn_consents_back(
    store: SQLiteStore, data_dir: Path, key: bytes, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A DPO audit: a backup restored with its key store backup brought an erased person
    back, readable, with no way to apply the erasure again; the same for a withdrawal
    and the feedback it erased. The ledger beside the store applies them again."""
    erased, withdrew, stays = (store.pseudonym(f"tg-user:{n}") for n in (1, 2, 3))
    for person, comment in (
        (erased, "Quastenflosser"),
        (withdrew, "Pfeilschwanz"),
        (stays, "bleibt"),
    ):
        await store.submit_feedback(person, feedback(comment), [grant(), grant("contact")], CHAT_ID)
    [theirs] = await store.feedback_of(withdrew, T0 + DAY)
    await store.backup(tmp_path / "data.db", keys=tmp_path / "keys.db")
    await store.erase_subject(erased)
    await store.withdraw_consent(withdrew, "feedback", T0 + HOUR, erased=[theirs.id])
    await store.withdraw_consent(stays, "contact", T0 + HOUR)
    assert await store.delete_contact(stays), "as /widerruf does for the contact consent"
    await store.close()
    ledger = (data_dir / "erasures.db").read_bytes()
    assert erased.encode() not in ledger and withdrew.encode() not in ledger, "sealed"

    restore(data_dir, tmp_path / "data.db", tmp_path / "keys.db")
    caplog.set_level(logging.WARNING, logger="storage")
    # A command beside the bot (no lock) neither shows them nor erases them itself.
    with pytest.raises(StoreError, match="still holds data erased or withdrawn since"):
        await reopen(data_dir, key)
    again = SQLiteStore(data_dir, key, exclusive=True)
    await again.open()
    try:
        assert await again.feedback_of(erased, T0 + DAY) == []
        assert await again.consents(erased) == []
        [consent] = [c for c in await again.consents(withdrew) if c.purpose == "feedback"]
        assert consent.withdrawn_at == T0 + HOUR, "withdrawn when the person withdrew"
        assert await again.feedback_of(withdrew, T0 + DAY) == []
        assert [r.answers["comment"] for r in await again.feedback_of(stays, T0 + DAY)] == [
            "bleibt"
        ]
        assert await again.contact_of(stays) is None, "the chat id went with its consent"
        assert [e.event for e in await again.audit_entries(T0)].count("erasure") == 1
        # The erased person comes back: what they give now is theirs to keep.
        await again.submit_feedback(erased, feedback("wieder da"), [grant()])
        await again.grant_consents(withdrew, [grant()])
        await again.submit_feedback(stays, feedback("neu"), [grant("contact")], CHAT_ID + 1)
    finally:
        await again.close()
    assert [r.msg.startswith("erasures_applied_again") for r in caplog.records].count(True) == 1
    assert "erasures_applied_again: 4 erasure(s) or withdrawal(s)" in caplog.text, "how many"
    assert [r.count for r in caplog.records if r.msg.startswith("erasures_applied_again")] == [4]
    caplog.clear()
    later = await reopen(data_dir, key)
    try:
        assert [r.answers["comment"] for r in await later.feedback_of(erased, T0 + DAY)] == [
            "wieder da"
        ]
        assert any(
            c.withdrawn_at is None and c.purpose == "feedback"
            for c in await later.consents(withdrew)
        )
        assert await later.contact_of(stays) == CHAT_ID + 1, "given again: another row"
    finally:
        await later.close()
    assert "erasures_applied_again" not in caplog.text, "nothing to apply again"


FINER_THAN_A_MINUTE = "substr(at, 18, 9) <> '00.000000'"


async def two_erased_and_one_withdrawn_since_a_backup(
    store: SQLiteStore, tmp_path: Path, moment: datetime
) -> tuple[str, str, str, str]:
    """Two people erased within one minute, and a withdrawal that erased a feedback, at
    `moment` by the bot's clock, all after a backup; the three people and that feedback."""
    first, second, withdrew = (store.pseudonym(f"tg-user:{n}") for n in (1, 2, 3))
    for person in (first, second, withdrew):
        await store.submit_feedback(person, feedback("Quastenflosser"), [grant()])
    [theirs] = await store.feedback_of(withdrew, T0 + DAY)
    await store.backup(tmp_path / "data.db", keys=tmp_path / "keys.db")
    await store.erase_subject(first, moment)
    await store.erase_subject(second, moment + timedelta(seconds=1))
    await store.withdraw_consent(withdrew, "feedback", moment, erased=[theirs.id])
    return first, second, withdrew, theirs.id


@contextlib.asynccontextmanager
async def restored_with_all_applied_again(
    data_dir: Path, key: bytes, tmp_path: Path, people: tuple[str, str, str], exact: datetime
) -> AsyncIterator[SQLiteStore]:
    """The backup of `two_erased_and_one_withdrawn_since_a_backup` restored and opened:
    both erasures and the withdrawal applied again, the withdrawal at its exact time."""
    first, second, withdrew = people
    restore(data_dir, tmp_path / "data.db", tmp_path / "keys.db")
    again = SQLiteStore(data_dir, key, exclusive=True)
    await again.open()
    try:
        assert again.applied_again == 3
        assert await again.feedback_of(first, T0 + DAY) == []
        assert await again.feedback_of(second, T0 + DAY) == []
        [consent] = await again.consents(withdrew)
        assert consent.withdrawn_at == exact, "withdrawn when the person withdrew"
        yield again
    finally:
        await again.close()


async def test_proof_of_consent_kept_at_an_erasure_is_sealed_and_outlives_a_restore(
    store: SQLiteStore, data_dir: Path, key: bytes, tmp_path: Path
) -> None:
    """FEEDBACKBOT_CONSENT_PROOF_RETENTION: the proof sits in erasures.db sealed under the
    ledger's key, not the person's: nothing of it in clear in any file (the text's SHA-256,
    the version, the pseudonym), readable after the erasure destroyed the person's key, and
    after a backup from before it is restored and the erasure carried out again, still
    there, once."""
    person = store.pseudonym("tg-user:1")
    await store.submit_feedback(person, feedback("Quastenflosser"), [grant()], CHAT_ID)
    await store.backup(tmp_path / "data.db", keys=tmp_path / "keys.db")
    report = await store.erase_subject(person, T0 + HOUR, timedelta(days=1096))
    assert report.proof_kept_until == datetime(2028, 4, 1, tzinfo=UTC)
    await store.close()
    content = all_bytes(data_dir)
    for clear in (b"cd" * 32, person.encode(), b"Quastenflosser", b"button"):
        assert clear not in content, clear

    restore(data_dir, tmp_path / "data.db", tmp_path / "keys.db")
    again = SQLiteStore(data_dir, key, exclusive=True)
    await again.open()
    try:
        assert await again.consents(person) == [], "the erasure carried out again"
        noted = await again.ledger_note(person)
        assert noted is not None and noted.about == ("erasure",)
        [kept] = noted.proofs
        assert (kept.purpose, kept.granted_at, kept.text_sha256) == ("feedback", T0, "cd" * 32)
        assert (kept.reason, kept.kept_since) == ("erasure", T0 + HOUR)
    finally:
        await again.close()


async def test_a_purge_cut_short_after_keeping_proof_shows_the_consent_once(
    store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Proof is kept before the key and records go, in erasures.db; should the purge stop
    in between (a full disk, a crash), the consent stays a record and is not also shown as
    proof "after your data went"; the purge run again keeps no second proof of it (found
    by review: the later one, with a later date, replaced the first)."""
    person = store.pseudonym("tg-user:1")
    await store.submit_feedback(person, feedback("läuft ab", ttl=DAY), [grant()])
    period = timedelta(days=1096)

    def full(*_: Any, **__: Any) -> Any:
        raise StorageFull("no room")

    monkeypatch.setattr(purge_module, "_shred_unused_keys", full)
    with pytest.raises(StorageFull):
        await store.purge_expired(T0 + 3 * DAY, keep_proof=period)
    monkeypatch.undo()
    assert len(await store.consents(person)) == 1
    noted = await store.ledger_note(person)
    assert noted is None or noted.proofs == (), "a record, not proof too"
    report = await store.purge_expired(T0 + 40 * DAY, keep_proof=period)
    assert (report.consents, report.proofs) == (1, 0), "proven already"
    noted = await store.ledger_note(person)
    assert noted is not None
    [kept] = noted.proofs
    assert kept.kept_since == T0 + 3 * DAY and kept.kept_until == datetime(2028, 4, 1, tzinfo=UTC)


async def test_the_ledger_file_shows_neither_whose_nor_how_many_consents_a_proof_is_of(
    store: SQLiteStore, data_dir: Path
) -> None:
    """A row per person, the same size for one consent or three, named by a keyed hash of
    its own (not the pseudonym of feedback.db); no time but the first of a month in clear,
    and one person's data going twice adds no row of its own (found by review: a row per
    consent, timed to the minute, told how many consents each gave, which ledger entry was
    an erasure, and that two erasures were one person's)."""
    one, two = store.pseudonym("tg-user:1"), store.pseudonym("tg-user:2")
    await store.submit_feedback(one, feedback("a"), [grant()])
    await store.submit_feedback(two, feedback("b"), [grant(), grant("contact")], CHAT_ID)
    await store.withdraw_consent(two, "contact", T0 + HOUR)
    for person in (one, two):
        await store.erase_subject(person, T0 + DAY, timedelta(days=1096))
    later = T0 + 40 * DAY
    await store.submit_feedback(one, feedback("wieder"), [grant()])  # (granted at T0 again)
    await store.grant_consents(one, [grant("contact").model_copy(update={"granted_at": later})])
    await store.erase_subject(one, later + HOUR, timedelta(days=1096))
    assert len((await store.ledger_note(one) or LedgerNote(until=None, about=())).proofs) == 2
    await store.close()
    with closing(sqlite3.connect(data_dir / "erasures.db")) as db:
        rows = db.execute("SELECT * FROM consent_proofs").fetchall()
        columns = [c[1] for c in db.execute("PRAGMA table_info(consent_proofs)")]
    assert columns == ["person", "due", "kept_for", "sealed"]
    assert len(rows) == 2 and len({len(sealed) for *_, sealed in rows}) == 1, rows
    assert {person for person, *_ in rows}.isdisjoint({one, two})
    assert {due for _, due, *_ in rows} == {"2028-04-01T00:00:00.000000+00:00"}, "a month's first"
    # the period as set, not one told from the dates (found by review: due less it gave
    # the day of each erasure)
    assert {kept_for for _, _, kept_for, _ in rows} == {1096}


async def test_a_proof_row_that_does_not_open_goes_at_its_date(
    store: SQLiteStore, data_dir: Path, key: bytes
) -> None:
    person = store.pseudonym("tg-user:1")
    await store.submit_feedback(person, feedback("a"), [grant()])
    await store.erase_subject(person, T0 + DAY, timedelta(days=30))
    await store.close()
    with closing(sqlite3.connect(data_dir / "erasures.db")) as db, db:
        [(sealed,)] = db.execute("SELECT sealed FROM consent_proofs").fetchall()
        damaged = bytes([sealed[0] ^ 1]) + bytes(sealed[1:])
        db.execute("UPDATE consent_proofs SET sealed = ?", (damaged,))
    again = await reopen(data_dir, key)
    try:
        assert await again.consent_proofs(person) == ()
        await again.purge_expired(datetime(2025, 4, 15, tzinfo=UTC))
        assert await on_rows(data_dir, again) == 1, "not yet due"
        await again.purge_expired(datetime(2025, 5, 2, tzinfo=UTC))
        assert await on_rows(data_dir, again) == 0, "due, and proving nothing"
    finally:
        await again.close()


async def on_rows(data_dir: Path, store: SQLiteStore) -> int:
    await store.flush_deletions()
    with closing(sqlite3.connect(f"file:{data_dir / 'erasures.db'}?mode=ro", uri=True)) as db:
        return int(db.execute("SELECT count(*) FROM consent_proofs").fetchone()[0])


async def test_one_damaged_audit_row_keeps_a_staff_members_other_entries_back_no_more(
    store: SQLiteStore, data_dir: Path, key: bytes
) -> None:
    for hour in range(3):
        entry = AuditEntry(event="summary", at=T0 + hour * HOUR, actor="staff:7", records=1)
        await store.record_audit(entry)
    await store.close()
    with closing(sqlite3.connect(data_dir / "feedback.db")) as db, db:
        [(sealed,)] = db.execute("SELECT actor_sealed FROM audit WHERE id = 2").fetchall()
        damaged = bytes([sealed[0] ^ 1]) + bytes(sealed[1:])
        db.execute("UPDATE audit SET actor_sealed = ? WHERE id = 2", (damaged,))
    again = await reopen(data_dir, key)
    try:
        found = await again.audit_entries_of("staff:7")
        assert [e.at for e in found] == [T0, T0 + 2 * HOUR]
    finally:
        await again.close()


async def test_the_ledger_keeps_when_in_clear_to_the_minute_and_a_restore_applies_all_again(
    store: SQLiteStore, data_dir: Path, key: bytes, tmp_path: Path
) -> None:
    """A review of what a copied data folder shows without the master key: erasures.db
    timed each erasure and withdrawal to the microsecond. Kept to the minute, two
    erasures of the same minute are both applied again after a restore, and the
    withdrawal at its exact time (sealed in the entry); the audit trail dates the
    erasure by the bot's clock, not the machine's, to the minute as every entry."""
    exact = T0 + HOUR + timedelta(seconds=27, microseconds=123456)
    first, second, withdrew, gone = await two_erased_and_one_withdrawn_since_a_backup(
        store, tmp_path, exact
    )
    erasures = [e.at for e in await store.audit_entries(T0 - DAY) if e.event == "erasure"]
    assert erasures == [T0 + HOUR] * 2, "by the bot's clock, to the minute"
    await store.close()
    with contextlib.closing(sqlite3.connect(data_dir / "erasures.db")) as con:
        times = [row[0] for row in con.execute("SELECT at FROM erasures ORDER BY seq")]
    assert times == [sqlite_db.ts(T0 + HOUR)] * 3, "each to the minute it was made in"

    people = (first, second, withdrew)
    async with restored_with_all_applied_again(data_dir, key, tmp_path, people, exact) as again:
        assert gone not in {r.id for r in await again.feedback_of(withdrew, T0 + DAY)}
    later = await reopen(data_dir, key)  # nothing held any more, nothing applied again
    await later.close()
    assert later.applied_again == 0


async def test_ledger_entries_timed_to_the_microsecond_before_are_cut_and_still_apply(
    store: SQLiteStore, data_dir: Path, key: bytes, tmp_path: Path
) -> None:
    """Entries as versions before wrote them (the exact time in clear only) are timed to
    the minute at the next opening, sealed again under it, and a restore still applies
    them, the withdrawal at the time it was made."""
    exact = T0 + HOUR + timedelta(seconds=27, microseconds=123456)
    first, second, withdrew, _ = await two_erased_and_one_withdrawn_since_a_backup(
        store, tmp_path, exact
    )
    name = store._derived_key(ledger_module._LABEL)
    rows = await fetch_all(store._conn(), "SELECT seq, at, sealed FROM ledger.erasures")
    for seq, at, sealed in rows:  # back to how older versions noted them
        entry = ledger_module._entry(decrypt(name, sealed, ledger_module._aad(at)))
        old = sqlite_db.ts(dt(entry.pop("at", at)))
        resealed = ledger_module._seal(name, entry, old)
        sql = "UPDATE ledger.erasures SET at = ?, sealed = ? WHERE seq = ?"
        await store._conn().execute(sql, (old, resealed, seq))
    await store.close()
    with contextlib.closing(sqlite3.connect(data_dir / "erasures.db")) as con:
        finer = con.execute(f"SELECT count(*) FROM erasures WHERE {FINER_THAN_A_MINUTE}")
        assert finer.fetchone() == (3,)

    people = (first, second, withdrew)
    async with restored_with_all_applied_again(data_dir, key, tmp_path, people, exact) as again:
        assert len(await again._ledger()) == 3, "every entry still opens"
    with contextlib.closing(sqlite3.connect(data_dir / "erasures.db")) as con:
        times = [row[0] for row in con.execute("SELECT at FROM erasures ORDER BY seq")]
    assert times == [sqlite_db.ts(T0 + HOUR)] * 3


async def test_a_ledger_copy_brings_erasures_and_alert_notes_back_to_a_lost_data_folder(
    store: SQLiteStore, data_dir: Path, key: bytes, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Only a copy of erasures.db taken while the bot was stopped was safe: with the whole
    data folder lost, an older data backup came back with the people erased since, and
    the alerts in the staff chat were out of the bot's reach for good. `backup --ledger`
    copies the ledger beside the data, also while the store is open."""
    erased, stays = store.pseudonym("tg-user:1"), store.pseudonym("tg-user:2")
    await store.submit_feedback(erased, feedback("Quastenflosser"), [grant()])
    kept = await store.submit_feedback(stays, feedback("bleibt"), [grant(), grant("contact")])
    old = tmp_path / "old"
    old.mkdir()
    await store.backup(old / "feedback.db", keys=old / "keys.db")
    await store.erase_subject(erased)
    post = StaffPost(
        chat_id=-100, message_id=7, feedback_id=kept.id, posted_at=T0, purpose="contact"
    )
    assert await store.record_staff_post(stays, post)
    new = tmp_path / "new"
    new.mkdir()
    with pytest.raises(StoreError, match="given twice"):
        await store.backup(new / "feedback.db", new / "keys.db", ledger=new / "keys.db")
    assert list(new.iterdir()) == [], "checked before anything is written"
    await store.backup(new / "feedback.db", new / "keys.db", ledger=new / "erasures.db")
    await store.close()
    assert (new / "erasures.db").stat().st_mode & 0o777 == 0o600
    shutil.rmtree(data_dir)  # the disk is gone, and with it the ledger beside the store

    caplog.set_level(logging.INFO, logger="storage")
    for backup in (old, new):  # the newest data backup, or one from before the erasure
        shutil.rmtree(data_dir, ignore_errors=True)
        data_dir.mkdir()
        for name in ("feedback.db", "keys.db"):
            shutil.copy(backup / name, data_dir / name)
        shutil.copy(new / "erasures.db", data_dir / "erasures.db")
        restored = SQLiteStore(data_dir, key, exclusive=True)
        await restored.open()
        try:
            assert await restored.feedback_of(erased, T0 + DAY) == []
            assert [r.answers["comment"] for r in await restored.feedback_of(stays, T0 + DAY)] == [
                "bleibt"
            ]
            assert await restored.staff_posts_of(stays) == [post]
            assert (await restored.erase_subject(stays)).staff_posts == 1
            assert await restored.posts_to_retract() == [(-100, 7)], "still within reach"
        finally:
            await restored.close()
    applied = [r.count for r in caplog.records if r.msg.startswith("erasures_applied_again")]
    assert applied == [1], "the old backup's erased person, erased again"


async def test_a_lost_ledger_is_refused_rather_than_replaced_by_an_empty_one(
    store: SQLiteStore, data_dir: Path, key: bytes, tmp_path: Path
) -> None:
    """Any command made a new, empty erasures.db where it was missing: after a restore of
    data and keys alone, people erased since were back, without a word (operator audit)."""
    erased = store.pseudonym("tg-user:1")
    await store.submit_feedback(erased, feedback("Quastenflosser"), [grant()])
    await store.backup(tmp_path / "data.db", keys=tmp_path / "keys.db")
    await store.erase_subject(erased)
    await store.close()
    (data_dir / "erasures.db").unlink()  # lost with the disk, say
    restore(data_dir, tmp_path / "data.db", tmp_path / "keys.db")
    before = digests(data_dir)
    for exclusive in (False, True):  # a command beside the bot, and the bot itself
        with pytest.raises(StoreError, match=r"the erasure ledger erasures\.db is missing in"):
            await reopen(data_dir, key, exclusive=exclusive)
        after = {k: v for k, v in digests(data_dir).items() if k != "feedbackbot.lock"}
        assert after == before, "nothing created or changed"
    (data_dir / "erasures.db").touch()  # no copy anywhere: knowingly without
    again = await reopen(data_dir, key, exclusive=True)
    try:
        assert len(await again.feedback_of(erased, T0 + DAY)) == 1, "what it costs"
    finally:
        await again.close()


async def test_a_ledger_of_many_pages_applies_again_exactly_what_the_restored_files_hold(
    store: SQLiteStore,
    data_dir: Path,
    key: bytes,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The entries are read a page at a time and looked up a chunk of people or
    consents per query; with pages of ten and chunks of two, each kind of entry spans
    several chunks on every page. Held by the restored files: erasures, withdrawals (of
    two consents each) and contact deletions since the backup. Not held: a person
    erased before it who came back, consents and a chat id given again after a
    withdrawal and a deletion before it."""
    monkeypatch.setattr(ledger_module, "LEDGER_PAGE", 10)
    monkeypatch.setattr(ledger_module, "LOOKUP_CHUNK", 2)
    erased = [store.pseudonym(f"tg-user:1{n}") for n in range(6)]
    withdrew = [store.pseudonym(f"tg-user:2{n}") for n in range(6)]
    deleted = [store.pseudonym(f"tg-user:3{n}") for n in range(6)]
    came_back, granted_again, gave_again = (store.pseudonym(f"tg-user:4{n}") for n in range(3))
    for person in (*erased, *deleted, came_back, granted_again, gave_again):
        await store.submit_feedback(person, feedback("alt"), [grant(), grant("contact")], CHAT_ID)
    for person in withdrew:
        await store.submit_feedback(person, feedback("eins"), [grant()])
        await store.submit_feedback(person, feedback("zwei"), [grant()])
    # Before the backup: erased and back, withdrawn and granted again, deleted and given.
    await store.erase_subject(came_back)
    await store.submit_feedback(came_back, feedback("wieder da"), [grant()])
    await store.withdraw_consent(granted_again, "feedback", T0 + HOUR)
    await store.grant_consents(granted_again, [grant()])
    assert await store.delete_contact(gave_again)
    await store.submit_feedback(gave_again, feedback("neu"), [grant("contact")], CHAT_ID + 1)
    await store.backup(tmp_path / "data.db", keys=tmp_path / "keys.db")
    # Since the backup, the kinds interleaved: 21 entries, pages of 10, 10 and 1.
    for n in range(6):
        await store.erase_subject(erased[n])
        await store.withdraw_consent(withdrew[n], "feedback", T0 + HOUR)
        assert await store.delete_contact(deleted[n])
    assert len(await store._ledger()) == 21
    await store.close()
    restore(data_dir, tmp_path / "data.db", tmp_path / "keys.db")

    with pytest.raises(StoreError, match="still holds data erased or withdrawn since"):
        await reopen(data_dir, key)
    caplog.set_level(logging.WARNING, logger="storage")
    again = SQLiteStore(data_dir, key, exclusive=True)
    await again.open()
    try:
        assert [r.count for r in caplog.records if r.msg.startswith("erasures_applied_again")] == [
            6 + 6 + 6
        ]
        for person in erased:
            assert await again.feedback_of(person, T0 + DAY) == []
            assert await again.consents(person) == []
        for person in withdrew:
            feedback_consents = [c for c in await again.consents(person) if c.purpose == "feedback"]
            assert len(feedback_consents) == 2
            assert all(c.withdrawn_at == T0 + HOUR for c in feedback_consents)
        for person in deleted:
            assert await again.contact_of(person) is None
            assert len(await again.feedback_of(person, T0 + DAY)) == 1, "only the chat id goes"
        assert [r.answers["comment"] for r in await again.feedback_of(came_back, T0 + DAY)] == [
            "wieder da"
        ]
        assert any(
            c.withdrawn_at is None and c.purpose == "feedback"
            for c in await again.consents(granted_again)
        )
        assert await again.contact_of(gave_again) == CHAT_ID + 1, "given again: another row"
    finally:
        await again.close()
    caplog.clear()
    later = await reopen(data_dir, key)
    await later.close()
    assert "erasures_applied_again" not in caplog.text, "nothing left to apply again"


async def test_an_erasure_entry_names_the_key_by_a_fingerprint_not_by_its_time(
    store: SQLiteStore, data_dir: Path, key: bytes, tmp_path: Path
) -> None:
    """The key's creation time, to the microsecond, matched the time of the person's first
    feedback in the audit trail: with the master key it told what an erased person had
    done (found by a forensic review). Entries made before, naming keys by that time,
    still erase a restored backup's person again."""
    person, earlier = store.pseudonym(SUBJECT), store.pseudonym("tg-user:31")
    for who in (person, earlier):
        await store.submit_feedback(who, feedback("vorher"), [grant()])
    [(_, made)] = await fetch_all(  # the person's own key, which old entries named
        store._conn(),
        "SELECT key_version, created_at FROM keys.data_keys WHERE pseudonym = ?"
        " AND key_version = 1",
        (earlier,),
    )
    backup = tmp_path / "backup"
    backup.mkdir()
    await store.backup(backup / "feedback.db", backup / "keys.db")
    await store.erase_subject(person)
    # as a version before 1 Dec 2026 noted it
    await store._note(earlier, {"erase": earlier, "keys": [[1, made]]}, datetime.now(UTC))
    await store._erase(earlier)
    [entry, _] = [e for e in await store._ledger() if "erase" in e]
    assert [name for _, name in entry["keys"]] != [] and all(
        name.startswith("hmac:") and made[:10] not in name for _, name in entry["keys"]
    )
    await store.close()
    for name in ("feedback.db", "keys.db"):
        shutil.copy(backup / name, data_dir / name)
        for leftover in (data_dir / f"{name}-wal", data_dir / f"{name}-shm"):
            leftover.unlink(missing_ok=True)
    restored = SQLiteStore(data_dir, key, exclusive=True)
    await restored.open()
    try:
        assert restored.applied_again == 2
        assert await restored.feedback_of(person, T0 + DAY) == []
        assert await restored.feedback_of(earlier, T0 + DAY) == []
    finally:
        await restored.close()


async def test_an_erasure_after_a_key_rotation_reaches_a_backup_from_before_it(
    tmp_path: Path,
) -> None:
    """A rotation wraps every data key anew: an entry naming keys by their wrapped bytes
    no longer matched a key store backup from before it, which the README says to restore
    with the old master key, and the erased person came back readable (found by review)."""
    data_dir, old_key, new_key = tmp_path / "data", generate_key(), generate_key()
    store = SQLiteStore(data_dir, old_key)
    await store.open()
    person = store.pseudonym(SUBJECT)
    await store.submit_feedback(person, feedback("Geheimer Kommentar"), [grant()])
    backup = tmp_path / "backup"
    backup.mkdir()
    await store.backup(backup / "feedback.db", backup / "keys.db")
    await store.rotate_master_key(new_key)
    await store.close()
    store = SQLiteStore(data_dir, new_key)
    await store.open()
    await store.erase_subject(person, datetime.now(UTC))
    await store.close()
    for name in ("feedback.db", "keys.db"):
        shutil.copy(backup / name, data_dir / name)
        for leftover in (data_dir / f"{name}-wal", data_dir / f"{name}-shm"):
            leftover.unlink(missing_ok=True)
    restored = SQLiteStore(data_dir, old_key, exclusive=True)
    await restored.open()
    try:
        assert restored.applied_again == 1
        assert await restored.feedback_of(person, T0 + DAY) == []
    finally:
        await restored.close()


async def test_an_erasure_noted_twice_is_applied_again_once(
    store: SQLiteStore, data_dir: Path, key: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    """An erasure cut short after its note and asked for again is noted twice, naming
    the same key: both entries are found at first, but the first one applied again
    carries the second out too, which is looked up again before it is applied."""
    person = store.pseudonym(SUBJECT)
    await store.submit_feedback(person, feedback("doppelt"), [grant()])
    entry = {"erase": person, "keys": sorted(await store._key_rows(person))}
    for _ in range(2):
        await store._note(person, entry, datetime.now(UTC))
    assert len(await store._held_entries()) == 2
    await store.close()
    caplog.set_level(logging.WARNING, logger="storage")
    again = SQLiteStore(data_dir, key, exclusive=True)
    await again.open()
    try:
        assert await again.feedback_of(person, T0 + DAY) == []
        assert [e.event for e in await again.audit_entries(T0)].count("erasure") == 1
    finally:
        await again.close()
    assert [r.count for r in caplog.records if r.msg.startswith("erasures_applied_again")] == [1]


async def test_the_ledger_forgets_an_erasure_once_the_data_would_have_expired(
    store: SQLiteStore, data_dir: Path, key: bytes
) -> None:
    now = datetime.now(UTC)
    person = store.pseudonym(SUBJECT)
    await store.submit_feedback(
        person, feedback("x").model_copy(update={"expires_at": now + 10 * DAY}), [grant()]
    )
    await store.erase_subject(person)
    # A year at least (a backup from before a shorter retention holds later dates), to
    # the first of a month (the day would match a deletion date in a data backup).
    [keep_until] = await fetch_all(store._conn(), "SELECT keep_until FROM ledger.erasures")
    assert keep_until[0][8:] == "01T00:00:00.000000+00:00", keep_until
    await store.purge_expired(now + 364 * DAY)
    assert len(await store._ledger()) == 1
    await store.purge_expired(now + 400 * DAY)
    assert await store._ledger() == []


def fresh(comment: str, at: datetime, ttl: timedelta) -> NewFeedback:
    """A feedback given at `at` (by the wall clock's day: the cache key's renewals are
    dated by it)."""
    return feedback(comment).model_copy(update={"created_at": at, "expires_at": at + ttl})


def day_of(moment: datetime) -> SummarySegment:
    start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return SummarySegment(start=start, end=start + DAY, bucket=start.strftime("%Y-%m-%d"))


async def test_cached_figures_of_expired_feedback_in_an_old_backup_cannot_be_read(
    store: SQLiteStore, data_dir: Path, key: bytes, tmp_path: Path
) -> None:
    """Feedback expired: a data backup from before keeps cached figures that counted it.
    The key they are sealed with is replaced within a day, also when the key was new at
    the expiry and nothing expires later (the renewal is owed, and kept so)."""
    now = datetime.now(UTC)  # the key was made at opening, by the wall clock
    p = store.pseudonym(SUBJECT)
    await store.submit_feedback(p, fresh("Quastenflosser", now, HOUR), [grant()])
    await store.submit_feedback(p, fresh("bleibt", now, 30 * DAY), [])
    day = day_of(now)
    (read,) = await store.summary_segments([day], "v1", now)
    entry = CacheEntry(
        bucket=str(day.bucket), epoch=read.epoch, expires_at=now + HOUR, payload=b"q:1"
    )
    assert await store.save_summary_cache([entry], "v1", now) == 1
    before = tmp_path / "before-expiry.db"
    await store.backup(before)
    assert (await store.purge_expired(now + 2 * HOUR)).feedback == 1  # the key is an hour old
    first = store._cache_key
    await store.close()
    store = await reopen(data_dir, key)  # the owed renewal outlives a restart
    try:
        assert store._cache_key == first
        await store.purge_expired(now + DAY + 3 * HOUR)  # nothing expires now
        assert store._cache_key != first
    finally:
        await store.close()

    restored = tmp_path / "restored"
    restored.mkdir()
    shutil.copy(before, restored / "feedback.db")
    shutil.copy(data_dir / "keys.db", restored / "keys.db")
    (restored / "erasures.db").touch()  # no ledger copy: an empty one, as the refusal says
    old = await reopen(restored, key)
    try:
        (from_backup,) = await old.summary_segments([day], "v1", now)
    finally:
        await old.close()
    assert from_backup.cached is None, "the figures sealed before the expiry stay sealed"


async def test_a_withdrawal_that_erases_feedback_replaces_the_cache_key(
    store: SQLiteStore, data_dir: Path, key: bytes, tmp_path: Path
) -> None:
    """The words of a feedback a withdrawal erased may be in cached figures, also in a
    data backup made before: their key goes, as at an erasure (found by a forensic
    review: an old backup's cache still opened with the live key store)."""
    now = datetime.now(UTC)
    p, other = store.pseudonym(SUBJECT), store.pseudonym("tg-user:77")
    await store.submit_feedback(p, fresh("Zebrafinkenkanarie", now, 30 * DAY), [grant()])
    await store.submit_feedback(other, fresh("bleibt", now, 30 * DAY), [grant()])
    day = day_of(now)
    (read,) = await store.summary_segments([day], "v1", now)
    entry = CacheEntry(
        bucket=str(day.bucket), epoch=read.epoch, expires_at=now + DAY, payload=b"w:1"
    )
    assert await store.save_summary_cache([entry], "v1", now) == 1
    before = tmp_path / "before-withdrawal.db"
    await store.backup(before)
    opened = store._cache_key
    assert await store.withdraw_consent(other, "feedback", now, {}, []) == 1
    assert store._cache_key == opened, "nothing erased: the figures are still good"
    [record] = await store.feedback_of(p, now)
    assert await store.withdraw_consent(p, "feedback", now, {}, [record.id]) == 1
    assert store._cache_key != opened
    await store.close()
    old = await with_todays_keys(before, data_dir, key, tmp_path)
    try:
        (from_backup,) = await old.summary_segments([day], "v1", now)
    finally:
        await old.close()
    assert from_backup.cached is None, "the figures sealed before the withdrawal stay sealed"


def cache_rows_by_day(data_dir: Path) -> dict[str, set[tuple[str, int, str, bool]]]:
    """The summary cache's rows as a copy of feedback.db shows them, by day: bucket,
    epoch, when it changed and whether it holds figures."""
    with contextlib.closing(sqlite3.connect(data_dir / "feedback.db")) as db:
        rows = db.execute(
            "SELECT bucket, epoch, changed_at, ciphertext IS NOT NULL FROM summary_cache"
        )
        days: dict[str, set[tuple[str, int, str, bool]]] = {}
        for bucket, epoch, changed, held in rows:
            days.setdefault(bucket[:10], set()).add((bucket, epoch, changed, bool(held)))
        return days


HOURS_AROUND = [  # 09 of the erased person's first day (theirs: 15:25), 12 of another
    SummarySegment(start=start, end=start + HOUR, bucket=start.strftime("%Y-%m-%dT%H"))
    for start in (T0 - 3 * HOUR, T0 + 3 * DAY)
]
DAY_BUCKETS = {
    f"T{hour:02}{part}" for hour in range(24) for part in ("", *(f":{ten}" for ten in range(6)))
} | {""}


WAYS_FEEDBACK_GOES = [
    "erasure",
    "withdrawal",
    "erasure on a full disk",
    "withdrawal on a full disk",
    "erasure on a disk full for good",
]


@pytest.mark.parametrize("how", WAYS_FEEDBACK_GOES)
async def test_when_feedback_goes_the_summary_cache_tells_its_days_only(
    store: SQLiteStore, data_dir: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """The rows whose figures an erasure drops are kept a while, with when they changed:
    they named the erased person's hour and ten minutes (15:2 here) in a copy of the
    file beside the audit trail's erasure, and so did their epochs, one higher than the
    day's others, for as long as figures were cached there again. Now every bucket of
    each of their days goes, all with one new epoch and one time; figures of other days
    stay, and a summary that read before cannot store what it counted."""
    minute = iter(f"2025-03-05T0{n}:00:00.000000+00:00" for n in range(10))
    monkeypatch.setattr(summary_module, "cache_clock", lambda: next(minute))
    monkeypatch.setattr(people_module, "cache_clock", lambda: next(minute))
    p, other = store.pseudonym(SUBJECT), store.pseudonym("tg-user:1")
    for at in (T0 + timedelta(hours=3, minutes=25), T0 + DAY + timedelta(hours=7, minutes=41)):
        theirs = feedback("weg").model_copy(update={"created_at": at})
        await store.submit_feedback(p, theirs, [grant()])
    kept = feedback("bleibt").model_copy(update={"created_at": T0 + 3 * DAY})
    await store.submit_feedback(other, kept, [grant()])
    monkeypatch.setattr(purge_module, "CACHE_ROW_MEMORY", timedelta(0))
    await store.purge_expired(T0)  # forgets the rows nothing was cached in
    reads = await store.summary_segments(HOURS_AROUND, "v1", T0 + 4 * DAY)
    entries = [
        CacheEntry(
            bucket=str(r.segment.bucket), epoch=r.epoch, expires_at=T0 + 9 * DAY, payload=b"1"
        )
        for r in reads
    ]
    assert await store.save_summary_cache(entries, "v1") == 2
    # Their third feedback makes rows for its buckets, with an epoch: 15:5 and 15 (1).
    late = feedback("auch weg").model_copy(
        update={"created_at": T0 + timedelta(hours=3, minutes=55)}
    )
    await store.submit_feedback(p, late, [grant()])
    # Summaries counting meanwhile: their 15:00 (a row at epoch 1), 16:00 (no row yet).
    theirs_read = await store.summary_segments(
        [
            SummarySegment(start=start, end=start + HOUR, bucket=start.strftime("%Y-%m-%dT%H"))
            for start in (T0 + 3 * HOUR, T0 + 4 * HOUR)
        ],
        "v1",
        T0 + 4 * DAY,
    )
    assert [(r.epoch, bool(r.records)) for r in theirs_read] == [(1, True), (0, False)]

    there = {day: {row[0] for row in rows} for day, rows in cache_rows_by_day(data_dir).items()}
    full = how.endswith("full disk") or how.endswith("for good")
    if full:  # no room for new rows; "for good": not after the person's rows went either
        calls, real = [], summary_module.drop_days

        def no_room_for_rows(
            conn: sqlite3.Connection, days: Any, changed: str, make_rows: bool = True
        ) -> None:
            if make_rows:
                calls.append(days)
                if len(calls) == 1 or how.endswith("for good"):
                    raise StorageFull("no room")
            real(conn, days, changed, make_rows)

        monkeypatch.setattr(summary_module, "drop_days", no_room_for_rows)
        monkeypatch.setattr(people_module, "drop_days", no_room_for_rows)
    if how.startswith("withdrawal"):
        records = await store.feedback_of(p, T0 + 4 * DAY)
        gone = [record.id for record in records]
        assert await store.withdraw_consent(p, "feedback", T0 + 4 * DAY, {}, gone) == 3
    else:
        assert (await store.erase_subject(p, T0 + 4 * DAY)).feedback == 3

    stale = [
        CacheEntry(
            bucket=str(r.segment.bucket), epoch=r.epoch, expires_at=T0 + 9 * DAY, payload=b"2"
        )
        for r in [*reads, *theirs_read]
    ]
    rows = cache_rows_by_day(data_dir)
    other_day = rows.pop("2025-03-04")
    assert [(bucket, held) for bucket, _, _, held in other_day] == [("2025-03-04T12", True)]
    if how == "erasure on a disk full for good":  # only the rows there were change
        assert {day: {row[0] for row in buckets} for day, buckets in rows.items()} == {
            day: there[day] for day in ("2025-03-01", "2025-03-02")
        }
        alike = {(epoch, changed) for buckets in rows.values() for _, epoch, changed, _ in buckets}
        assert len(alike) == 1, "one epoch and one time for every row of their days"
        stored = await store.save_summary_cache(stale, "v1")
        assert stored == 1, "their 16:00 had no row: stored, as before (see _drop_cached_days)"
        return
    assert set(rows) == {"2025-03-01", "2025-03-02"}, "both their days, no other"
    alike = {(epoch, changed) for buckets in rows.values() for _, epoch, changed, _ in buckets}
    assert len(alike) == 1, "one epoch and one time for every row of their days"
    for day, buckets in rows.items():
        assert {bucket[len(day) :] for bucket, *_ in buckets} == DAY_BUCKETS, day
        assert not any(held for *_, held in buckets), "no figures left in their days"
    assert await store.save_summary_cache(stale, "v1") == 0, "nothing read before"


async def test_figures_stored_again_say_when_they_were_not_when_the_row_was_dropped(
    store: SQLiteStore, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row dropped at an erasure kept the erasure's minute when a later summary stored
    figures in it, and with it told the erased person's days for as long as those."""
    p = store.pseudonym(SUBJECT)
    await store.submit_feedback(p, feedback("weg"), [grant()])
    monkeypatch.setattr(summary_module, "cache_clock", lambda: "2025-03-05T08:00:00.000000+00:00")
    await store.erase_subject(p, T0 + DAY)
    (read,) = await store.summary_segments([day_of(T0)], "v1", T0 + DAY)
    assert read.epoch > 0, "the row the erasure dropped"
    monkeypatch.setattr(summary_module, "cache_clock", lambda: "2025-03-05T09:17:00.000000+00:00")
    entry = CacheEntry(bucket="2025-03-01", epoch=read.epoch, expires_at=T0 + 9 * DAY, payload=b"0")
    assert await store.save_summary_cache([entry], "v1") == 1
    [row] = [row for row in cache_rows_by_day(data_dir)["2025-03-01"] if row[0] == "2025-03-01"]
    assert row[2:] == ("2025-03-05T09:17:00.000000+00:00", True)


async def test_a_withdrawal_that_erases_answers_only_replaces_the_cache_key(
    store: SQLiteStore,
) -> None:
    """Answers the feedback recorded for an optional consent, erased at its withdrawal
    (no flow naming them): their words may be in cached figures too."""
    p = store.pseudonym(SUBJECT)
    given = feedback("ruf mich an").model_copy(
        update={"purposes": ["feedback", "callback"], "collected": {"callback": ["comment"]}}
    )
    await store.submit_feedback(p, given, [grant(), grant("callback")])
    opened = store._cache_key
    assert await store.withdraw_consent(p, "callback", T0 + DAY, {}, []) == 1
    [kept] = await store.feedback_of(p, T0)
    assert "comment" not in kept.answers
    assert store._cache_key != opened


async def test_the_cache_key_is_replaced_at_most_once_a_day(store: SQLiteStore) -> None:
    now = datetime.now(UTC)
    p = store.pseudonym(SUBJECT)
    for hours in (1, 2, 30):
        await store.submit_feedback(p, fresh(f"c{hours}", now, hours * HOUR), [grant()])
    opened = store._cache_key
    await store.purge_expired(now + 90 * timedelta(minutes=1))
    await store.purge_expired(now + 3 * HOUR)
    assert store._cache_key == opened, "made at opening, less than a day ago"
    await store.purge_expired(now + 25 * HOUR)
    renewed = store._cache_key
    assert renewed != opened
    await store.purge_expired(now + 31 * HOUR)  # expired again, a renewal six hours old
    assert store._cache_key == renewed
    await store.purge_expired(now + 50 * HOUR)
    assert store._cache_key != renewed


async def test_figures_expired_while_they_were_computed_are_not_kept(store: SQLiteStore) -> None:
    """Counted before a feedback expired and was purged (and the key replaced), saved
    after: they would be sealed with the new key, readable from a backup made then."""
    now = datetime.now(UTC)
    day = day_of(now)
    (read,) = await store.summary_segments([day], "v1", now)
    entry = CacheEntry(bucket=str(day.bucket), epoch=read.epoch, expires_at=now, payload=b"x")
    assert await store.save_summary_cache([entry], "v1", now + HOUR) == 0
    (again,) = await store.summary_segments([day], "v1", now)
    assert again.cached is None


# ---- full disk ---------------------------------------------------------------------------


async def test_full_disk_raises_storage_full_and_writes_nothing(
    store: SQLiteStore, data_dir: Path, key: bytes
) -> None:
    p = store.pseudonym(SUBJECT)
    await store.save_draft(p, draft("in progress"))
    await store.close()
    small = await reopen(data_dir, key, max_page_count=1)  # capped at its current size
    try:
        with pytest.raises(StorageFull):
            await small.submit_feedback(
                p, feedback("big", size=200_000), [grant(), grant("contact")], CHAT_ID
            )
        assert await small.load_draft(p, T0) == draft("in progress")
        assert await small.feedback_of(p, T0) == []
        assert await small.consents(p) == []
        assert await small.contact_of(p) is None

        await small.set_max_page_count(None)  # space is back
        await small.submit_feedback(p, feedback("big", size=200_000), [grant()], CHAT_ID)
        assert len(await small.feedback_of(p, T0)) == 1
        assert await small.load_draft(p, T0) is None
    finally:
        await small.close()


async def test_erasure_works_when_the_store_is_full(
    store: SQLiteStore, data_dir: Path, key: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = store.pseudonym(SUBJECT)
    await store.submit_feedback(p, feedback("to be erased"), [grant()])
    monkeypatch.setattr(purge_module, "CACHE_ROW_MEMORY", timedelta(0))
    await store.purge_expired(T0)  # forgets the summary cache rows nothing was cached in
    await store.close()
    full = await reopen(data_dir, key, max_page_count=1)
    try:
        for size in (3000, 0):
            with pytest.raises(StorageFull):  # use up the room left, as on a full disk
                for n in range(100_000):
                    later = feedback("filler", size=size).model_copy(
                        update={"created_at": T0 + timedelta(minutes=n)}
                    )
                    await full.submit_feedback(
                        full.pseudonym(f"tg-user:{size}:{n}"), later, [grant()]
                    )
        with pytest.raises(StorageFull):  # and the last bytes with small rows
            for update_id in range(100_000):
                await full.claim_update(update_id, T0)
        # However little room the cache rows of the person's buckets would need, they
        # may not fit: here they are made far too big to, as on a disk with no room at all.
        monkeypatch.setattr(
            summary_module,
            "INVALIDATE_DAY_SQL",
            "INSERT INTO main.summary_cache (bucket, epoch, changed_at)"
            " SELECT ?1 || hex(zeroblob(200000)), ?2, ?3",
        )
        report = await full.erase_subject(p)
        assert report.feedback == 1 and await full.feedback_of(p, T0) == []
    finally:
        await full.close()


def cache_rows(data_dir: Path, what: str) -> int:
    with contextlib.closing(sqlite3.connect(data_dir / "feedback.db")) as db:
        return int(db.execute(f"SELECT {what} FROM summary_cache").fetchone()[0])


async def test_the_summary_cache_is_gone_from_the_file_after_retention(
    store: SQLiteStore, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(purge_module, "PURGE_BATCH", 2)
    for n in range(5):
        p = store.pseudonym(f"tg-user:{n}")
        later = feedback(CANARY_COMMENT, ttl=DAY).model_copy(
            update={"created_at": T0 + timedelta(minutes=n)}
        )
        await store.submit_feedback(p, later, [grant()])
    segments = [
        SummarySegment(
            start=T0 + timedelta(minutes=n),
            end=T0 + timedelta(minutes=n + 1),
            bucket=f"2025-03-01T12:0{n}",
        )
        for n in range(5)
    ]
    reads = await store.summary_segments(segments, "v1", T0 + DAY / 2)
    entries = [
        CacheEntry(
            bucket=r.segment.bucket or "",
            epoch=r.epoch,
            expires_at=T0 + DAY,
            payload=CANARY_COMMENT.encode(),
        )
        for r in reads
    ]
    assert await store.save_summary_cache(entries, "v1") == 5
    assert CANARY_COMMENT.encode() not in all_bytes(data_dir), "cached figures are encrypted"

    await store.purge_expired(T0 + 2 * DAY)
    rows = (
        sqlite3.connect(data_dir / "feedback.db")
        .execute("SELECT count(*), count(ciphertext) FROM summary_cache")
        .fetchone()
    )
    assert rows[1] == 0, "expired figures are dropped"
    monkeypatch.setattr(purge_module, "CACHE_ROW_MEMORY", timedelta(0))
    await store.purge_expired(T0 + 2 * DAY)
    rows = (
        sqlite3.connect(data_dir / "feedback.db")
        .execute("SELECT count(*) FROM summary_cache")
        .fetchone()
    )
    assert rows == (0,), "and later the rows naming the minutes as well"


# ---- concurrency and batching ------------------------------------------------------------


async def test_concurrent_writers_share_the_connection(store: SQLiteStore) -> None:
    people = [store.pseudonym(f"tg-user:{n}") for n in range(30)]

    async def converse(p: str) -> None:
        await store.grant_consents(p, [grant()])
        await store.save_draft(p, draft("d"))
        await store.submit_feedback(p, feedback("done"), [], 1)
        await store.claim_update(hash(p) % 10_000, T0)

    await asyncio.gather(*(converse(p) for p in people), store.purge_expired(T0))
    for p in people:
        assert len(await store.feedback_of(p, T0)) == 1
        assert await store.load_draft(p, T0) is None


async def test_purge_works_in_batches(store: SQLiteStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(purge_module, "PURGE_BATCH", 3)
    people = [store.pseudonym(f"tg-user:{n}") for n in range(5)]
    for p in people:
        await store.submit_feedback(p, feedback("a", ttl=DAY), [grant()])
        await store.submit_feedback(p, feedback("b", ttl=DAY), [])
    report = await store.purge_expired(T0 + 3 * DAY)
    assert (report.feedback, report.keys) == (10, 5)


async def test_a_lock_that_cannot_be_taken_is_one_clear_error(tmp_path: Path, key: bytes) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "feedbackbot.lock").mkdir()  # stands for a lock file that cannot be opened
    store = SQLiteStore(data, key, exclusive=True)
    with pytest.raises(StoreError, match=r"cannot take the lock .*feedbackbot\.lock"):
        await store.open()
    assert store._lock_file is None


async def test_reading_the_schema_version_leaves_no_file_beside_the_store(
    store: SQLiteStore, data_dir: Path
) -> None:
    """Found by review: a store refused as older, "with nothing changed", got an empty
    feedback.db-wal and a feedback.db-shm from the read-only look at its version."""
    await store.close()
    before = sorted(p.name for p in data_dir.iterdir())
    assert sqlite_db.schema_version(data_dir / "feedback.db") == len(sqlite_db.DATA_MIGRATIONS)
    assert sorted(p.name for p in data_dir.iterdir()) == before


async def test_a_data_folder_that_is_a_file_is_said_to_be_one(tmp_path: Path, key: bytes) -> None:
    """Found by review: "cannot take the lock .../settings.env/feedbackbot.lock: already
    exists", with a hint about permissions."""
    named = tmp_path / "settings.env"
    named.write_text("FEEDBACKBOT_TOKEN=...")
    store = SQLiteStore(named, key, exclusive=True)
    with pytest.raises(StoreError) as raised:
        await store.open()
    assert str(raised.value) == (
        f"{named} is not a folder: FEEDBACKBOT_DATA_DIR names the bot's data folder"
    )
    assert named.read_text() == "FEEDBACKBOT_TOKEN=..."


def test_a_store_whose_loop_is_gone_can_be_abandoned(tmp_path: Path, key: bytes) -> None:
    """A stop signal during python-telegram-bot's start-up could end its shutdown before
    the store was closed: the store's thread then kept the process alive."""
    before = set(threading.enumerate())
    loop = asyncio.new_event_loop()
    store = SQLiteStore(tmp_path / "data", key, exclusive=True)
    loop.run_until_complete(store.open())
    started = [t for t in threading.enumerate() if t not in before and not t.daemon]
    assert started, "the store runs a thread of its own"
    loop.close()
    store.abandon()
    for thread in started:
        thread.join(timeout=10)
    assert not any(t.is_alive() for t in started), "the store's thread lives on"

    async def reopen() -> None:  # the lock is free again, and the files are whole
        again = SQLiteStore(tmp_path / "data", key, exclusive=True)
        await again.open()
        await again.close()

    asyncio.run(reopen())


async def test_a_store_that_cannot_be_written_or_is_held_says_so(tmp_path: Path) -> None:
    """A read-only mount or another process holding the lock past the busy timeout: the
    operator's to fix, so a StoreError saying what, not SQLite's bare exception."""
    from storage.sqlite_db import on_thread

    path = tmp_path / "feedback.db"
    with contextlib.closing(sqlite3.connect(path)) as setup:
        setup.execute("CREATE TABLE audit (event TEXT)")
    read_only = await aiosqlite.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        with pytest.raises(StoreError) as refused:
            await on_thread(read_only, lambda c: c.execute("INSERT INTO audit VALUES ('x')"))
    finally:
        await read_only.close()
    assert refused.value.template.startswith("cannot write to the store: {reason}")
    assert "readonly" in str(refused.value)

    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    waiting = await aiosqlite.connect(path, isolation_level=None, timeout=0)
    try:
        with pytest.raises(StoreError) as busy:
            await on_thread(waiting, lambda c: c.execute("INSERT INTO audit VALUES ('y')"))
    finally:
        await waiting.close()
        holder.execute("ROLLBACK")
        holder.close()
    assert busy.value.template.startswith("the store is busy")


async def test_only_an_opening_that_may_upgrade_upgrades_the_ledger(
    store: SQLiteStore, data_dir: Path, key: bytes
) -> None:
    """A version may change only the ledger's schema (v2, the notes of staff-chat alerts;
    v3, proof of consent): `backup`, `stats` and the like of the new version, run beside
    the old bot, must leave it able to start (found by review: they upgraded erasures.db)."""
    await store.submit_feedback(store.pseudonym(SUBJECT), feedback("x"), [grant()])
    await store.close()
    with sqlite3.connect(data_dir / "erasures.db") as con:  # as the version before left it
        con.execute("DROP TABLE consent_proofs")
        con.execute("DELETE FROM schema_migrations WHERE version > 2")
    con.close()
    before = (data_dir / "erasures.db").read_bytes()
    with pytest.raises(StoreOutdated, match=r"ledger schema v2, this version writes v3"):
        await SQLiteStore(data_dir, key, upgrade=False).open()
    assert (data_dir / "erasures.db").read_bytes() == before
    again = await reopen(data_dir, key)  # `feedbackbot run`
    await again.close()
    with sqlite3.connect(f"file:{data_dir / 'erasures.db'}?mode=ro", uri=True) as con:
        assert con.execute("SELECT max(version) FROM schema_migrations").fetchone() == (3,)
    con.close()


async def test_the_space_kept_in_reserve_follows_no_link_planted_under_its_name(
    tmp_path: Path,
) -> None:
    """Review: a link named space.reserve grew the file it pointed to (a key file, say) to
    4 MB, and giving the reserve up freed nothing."""
    data, victim = tmp_path / "data", tmp_path / "elsewhere.key"
    victim.write_bytes(b"x" * 44)
    data.mkdir(mode=0o700)
    os.symlink(victim, data / "space.reserve")
    key = generate_key()
    store = SQLiteStore(data, key)
    await store.open()
    await store.close()
    assert victim.read_bytes() == b"x" * 44
    reserve = data / "space.reserve"
    assert not reserve.is_symlink(), "the link went, nothing more"
    store = SQLiteStore(data, key)  # opened again: the reserve made at last
    await store.open()
    await store.close()
    assert stat.S_ISREG(reserve.lstat().st_mode) and stat.S_IMODE(reserve.stat().st_mode) == 0o600


async def test_a_disk_too_small_for_the_reserve_is_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by an operator review: on a 3 MB volume no reserve was made and nothing said
    so, while the README promised erasures on a full disk."""
    real = os.statvfs

    def small(path: object) -> os.statvfs_result:
        found = real(path)  # type: ignore[arg-type]
        fields = list(found)
        fields[4] = (3 << 20) // found.f_frsize  # f_bavail: 3 MB free
        return os.statvfs_result(fields)

    monkeypatch.setattr(os, "statvfs", small)
    data = tmp_path / "data"
    store = SQLiteStore(data, generate_key())
    with caplog.at_level(logging.WARNING, logger="storage"):
        await store.open()
        await store.close()
    assert not (data / "space.reserve").exists()
    assert any(
        "no space kept in reserve (space.reserve): less than 5 MB free" in r.getMessage()
        for r in caplog.records
    )


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
async def test_files_a_command_run_as_root_makes_are_the_folder_owners(
    tmp_path: Path, key: bytes
) -> None:
    """Found by an operator walk-through: a purge run as root in the bot's folder left a
    root-owned lock file (and reserve), which the bot's account could not open: the bot
    did not start. Every file the store made there is the folder owner's once it closes,
    the lock file from the start."""
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    os.chown(data, 4321, 4321)
    store = SQLiteStore(data, key, exclusive=True)
    await store.open()
    assert (data / "feedbackbot.lock").stat().st_uid == 4321, "from the start"
    await store.submit_feedback(store.pseudonym(SUBJECT), feedback("x"), [grant()])
    await store.close()
    owners = {p.name: (p.stat().st_uid, p.stat().st_gid) for p in data.iterdir()}
    assert owners and set(owners.values()) == {(4321, 4321)}, owners
    mine = tmp_path / "mine"  # root's own folder: left as it is
    again = SQLiteStore(mine, key, exclusive=True)
    await again.open()
    await again.close()
    assert {p.stat().st_uid for p in mine.iterdir()} == {0}


async def test_the_stores_own_files_are_no_stray_databases_and_a_copy_is(tmp_path: Path) -> None:
    """`run` and `check` name a database in the data folder that is none of the store's
    (found by an operator walk-through: backups written there went unsaid); the store's
    own files, its write-ahead logs and its lock are not named."""
    from storage.sqlite import stray_databases

    data = tmp_path / "data"
    store = SQLiteStore(data, generate_key())
    await store.open()
    try:
        assert stray_databases(data) == []
        await store.backup(data / "nightly.db")
    finally:
        await store.close()
    assert stray_databases(data) == [data / "nightly.db"]


async def test_a_ledger_of_another_store_is_told_by_its_notes_or_its_proofs(
    store: SQLiteStore, data_dir: Path, key: bytes, tmp_path: Path
) -> None:
    """`restore` refuses an erasure ledger copy none of whose notes opens with the key
    store's key (a store begun afresh after a loss: see bot.cli.maintenance); found by
    review, a copy holding proofs of consent alone passed."""
    assert await store.ledger_of_another_store() == 0, "its own, empty"
    other = SQLiteStore(tmp_path / "other", key)
    await other.open()
    person = other.pseudonym("tg-user:1")
    await other.submit_feedback(person, feedback("läuft ab", ttl=DAY), [grant()])
    await other.purge_expired(T0 + 3 * DAY, keep_proof=timedelta(days=1096))
    await other.close()
    await store.close()
    shutil.copyfile(tmp_path / "other" / "erasures.db", data_dir / "erasures.db")
    again = SQLiteStore(data_dir, key)
    await again.open()
    try:
        assert await again.ledger_of_another_store() == 1, "one person's proofs, not its own"
    finally:
        await again.close()
    await store.open()  # (for the fixture's close)
