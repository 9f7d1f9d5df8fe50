"""Each survey's answers under a key of their own: what goes takes its key with it.

A forensic reader holds a copy of the data store made before (a nightly backup), the
live key store and the master key, and opens every sealed row it can. Feedback that
expired, answers a withdrawal erased and answers discarded must not open any more
while the person's other data stays readable.
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import storage.sqlite_people as people_module
from storage import (
    ConsentGrant,
    ConsentMissing,
    Draft,
    LanguageChoice,
    NewFeedback,
    SQLiteStore,
    StorageFull,
    crypto,
)
from storage.sqlite_core import _UNUSED_OF_PERSON, KEY_VERSION, dek_aad
from storage.sqlite_db import DATA_MIGRATIONS, KEY_MIGRATIONS, _full, fetch_all, run
from storage.sqlite_statistics import TALLIES

T0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
PERSON = "tg-user:4711"
_ROW_IDS = {"drafts": "draft", "contacts": "contact", "languages": "language"}


def grant(purpose: str, at: datetime = T0) -> ConsentGrant:
    return ConsentGrant(
        purpose=purpose, notice_version="v1", text_sha256="0" * 64, method="test", granted_at=at
    )


def feedback(
    comment: str, at: datetime, days: int, purposes: tuple[str, ...] = ("feedback",)
) -> NewFeedback:
    collected = {"comments": ["comment"]} if "comments" in purposes else {}
    return NewFeedback(
        flow_id="feedback",
        answers={"rating": 4, "comment": comment},
        purposes=list(purposes),
        created_at=at,
        expires_at=at + days * DAY,
        collected=collected,
    )


def opened(data_file: Path, keys_file: Path, master_key: bytes) -> list[bytes]:
    """Every sealed value of `data_file` that the keys in `keys_file` open, as plaintext."""
    with sqlite3.connect(keys_file) as keys_db:
        rows = keys_db.execute("SELECT pseudonym, key_version, wrapped_dek FROM data_keys")
        deks = {
            (person, version): crypto.unwrap_key(master_key, wrapped, dek_aad(person, version))
            for person, version, wrapped in rows
        }
    found = []
    with sqlite3.connect(data_file) as data:
        sealed = [
            (table, str(row_id), pseudonym, version, blob)
            for table in ("feedback", "drafts", "contacts", "languages", "consents")
            for row_id, pseudonym, version, blob in data.execute(
                f"SELECT {'id' if table in ('feedback', 'consents') else 'pseudonym'},"
                f" pseudonym, key_version, ciphertext FROM {table}"
            )
        ]
        sealed += [
            (TALLIES, row_id, pseudonym, version, blob)
            for row_id, pseudonym, version, blob in data.execute(
                "SELECT id, pseudonym, key_version, tallies FROM feedback WHERE tallies IS NOT NULL"
            )
        ]
    for table, row_id, pseudonym, version, blob in sealed:
        dek = deks.get((pseudonym, version))
        if dek is None:
            continue
        record_id = _ROW_IDS.get(table, row_id)
        aad = crypto.associated_data(table, record_id, pseudonym, version)
        found.append(crypto.decrypt(dek, blob, aad))
    return found


def holds(plaintexts: list[bytes], canary: str) -> bool:
    return any(canary.encode() in text for text in plaintexts)


async def key_versions(store: SQLiteStore, tmp_path: Path, pseudonym: str) -> list[int]:
    with sqlite3.connect(tmp_path / "keys.db") as db:
        rows = db.execute(
            "SELECT key_version FROM data_keys WHERE pseudonym = ? ORDER BY key_version",
            (pseudonym,),
        ).fetchall()
    return [version for (version,) in rows]


@pytest.fixture
def master_key() -> bytes:
    return crypto.generate_key()


async def test_expired_feedback_no_longer_opens_in_an_earlier_backup(
    tmp_path: Path, master_key: bytes
) -> None:
    data = tmp_path / "data"
    store = SQLiteStore(data, master_key)
    await store.open()
    person = store.pseudonym(PERSON)
    # A first survey, half answered when the backup is made, then given in full
    await store.grant_consents(person, [grant("feedback")])
    draft = Draft(payload={"comment": "CANARY-DRAFT-ALPHA"}, updated_at=T0, expires_at=T0 + DAY)
    await store.save_draft(person, draft)
    early = tmp_path / "early.db"
    await store.backup(early)
    await store.submit_feedback(person, feedback("CANARY-ALPHA", T0, days=30), [])
    await store.submit_feedback(person, feedback("CANARY-BRAVO", T0 + DAY, days=180), [])
    later = tmp_path / "later.db"
    await store.backup(later)
    before = opened(later, data / "keys.db", master_key)
    assert holds(before, "CANARY-ALPHA") and holds(before, "CANARY-BRAVO"), "the reader works"
    assert holds(opened(early, data / "keys.db", master_key), "CANARY-DRAFT-ALPHA")

    report = await store.purge_expired(T0 + 40 * DAY)

    assert report.feedback == 1
    [left] = await store.feedback_of(person, T0 + 40 * DAY)
    assert left.answers["comment"] == "CANARY-BRAVO"
    assert len(await store.consents(person)) == 1, "the person's consent stays readable"
    await store.close()
    after = opened(later, data / "keys.db", master_key)
    assert not holds(after, "CANARY-ALPHA"), "the expired feedback's key went with it"
    assert holds(after, "CANARY-BRAVO"), "the feedback still kept is still in the backup"
    assert not holds(opened(early, data / "keys.db", master_key), "CANARY-DRAFT-ALPHA"), (
        "its unfinished answers were under the key the feedback took over"
    )
    assert len(await key_versions(store, data, person)) == 2, "own key and the kept feedback's"


async def test_withdrawal_replaces_the_key_of_feedback_that_lost_answers(
    tmp_path: Path, master_key: bytes
) -> None:
    store = SQLiteStore(tmp_path, master_key)
    await store.open()
    person = store.pseudonym(PERSON)
    purposes = ("feedback", "comments")
    given = feedback("CANARY-COMMENT", T0, days=180, purposes=purposes)
    await store.submit_feedback(
        person, given, [grant("feedback"), grant("comments")], contact_chat_id=4711000123
    )
    await store.submit_feedback(person, feedback("CANARY-OTHER", T0 + DAY, days=180), [])
    backup = tmp_path / "backup.db"
    await store.backup(backup)
    assert holds(opened(backup, tmp_path / "keys.db", master_key), "CANARY-COMMENT")

    assert await store.withdraw_consent(person, "comments", T0 + 2 * DAY) == 1

    first, second = await store.feedback_of(person, T0 + 2 * DAY)
    assert first.answers == {"rating": 4} and second.answers["comment"] == "CANARY-OTHER"
    assert await store.contact_of(person) == 4711000123, "the contact stays"
    await store.close()
    in_backup = opened(backup, tmp_path / "keys.db", master_key)
    assert not holds(in_backup, "CANARY-COMMENT"), "the old copy's key is gone"
    assert holds(in_backup, "CANARY-OTHER"), "feedback that lost nothing keeps its key"
    live = opened(tmp_path / "feedback.db", tmp_path / "keys.db", master_key)
    assert not holds(live, "CANARY-COMMENT") and holds(live, "4711000123")
    assert len(await key_versions(store, tmp_path, person)) == 3


async def test_discarded_answers_take_their_key_and_the_next_survey_gets_another(
    tmp_path: Path, master_key: bytes
) -> None:
    store = SQLiteStore(tmp_path, master_key)
    await store.open()
    person = store.pseudonym(PERSON)
    await store.grant_consents(person, [grant("feedback")])
    draft = Draft(payload={"comment": "CANARY-DISCARDED"}, updated_at=T0, expires_at=T0 + DAY)
    await store.save_draft(person, draft)
    [first_key] = [v for v in await key_versions(store, tmp_path, person) if v != KEY_VERSION]
    backup = tmp_path / "backup.db"
    await store.backup(backup)

    assert await store.delete_draft(person)
    await store.save_draft(person, draft.model_copy(update={"payload": {"comment": "again"}}))

    versions = await key_versions(store, tmp_path, person)
    assert first_key not in versions and len(versions) == 2
    await store.close()
    assert not holds(opened(backup, tmp_path / "keys.db", master_key), "CANARY-DISCARDED")


async def test_a_new_person_s_first_answers_take_the_key_made_with_their_own(
    tmp_path: Path, master_key: bytes
) -> None:
    """The key of the first survey is made at the consent, with the person's own: one
    synced write to the key store fewer per new person (the throughput benchmark)."""
    store = SQLiteStore(tmp_path, master_key)
    await store.open()
    person = store.pseudonym(PERSON)
    await store.grant_consents(person, [grant("feedback")])
    made = await key_versions(store, tmp_path, person)
    draft = Draft(payload={"comment": "first"}, updated_at=T0, expires_at=T0 + DAY)
    await store.save_draft(person, draft, fresh=True)
    [(version,)] = await fetch_all(store._conn(), "SELECT key_version FROM main.drafts")
    await store.close()
    assert len(made) == 2 and version in made and version != KEY_VERSION
    assert await key_versions(store, tmp_path, person) == made


@pytest.mark.parametrize("destroyed_by", ["purge", "erasure"])
async def test_a_key_made_ahead_and_destroyed_unused_is_never_handed_out(
    tmp_path: Path, master_key: bytes, destroyed_by: str
) -> None:
    """Answers sealed under a key the purge (unused for a day) or an erasure destroyed
    would be lost at the next start."""
    store = SQLiteStore(tmp_path, master_key)
    await store.open()
    person = store.pseudonym(PERSON)
    await store.grant_consents(person, [grant("feedback")])
    if destroyed_by == "purge":  # the person keeps a language choice, under their own key
        choice = LanguageChoice(locale="en", chosen_at=T0, expires_at=T0 + 365 * DAY)
        await store.save_language(person, choice)
        await store.purge_expired(datetime.now(UTC) + 2 * DAY)
        assert await key_versions(store, tmp_path, person) == [KEY_VERSION]
    else:
        await store.erase_subject(person)
        assert await key_versions(store, tmp_path, person) == []
    draft = Draft(payload={"comment": "kept"}, updated_at=T0, expires_at=T0 + DAY)
    await store.save_draft(person, draft, fresh=True)
    await store.close()

    again = SQLiteStore(tmp_path, master_key)
    await again.open()
    loaded = await again.load_draft(person, T0)
    await again.close()
    assert loaded is not None and loaded.payload == {"comment": "kept"}


async def test_a_feedback_refused_leaves_no_key_behind(tmp_path: Path, master_key: bytes) -> None:
    store = SQLiteStore(tmp_path, master_key)
    await store.open()
    person = store.pseudonym(PERSON)
    await store.grant_consents(person, [grant("feedback")])
    with pytest.raises(ConsentMissing):
        await store.submit_feedback(
            person, feedback("x", T0, days=30, purposes=("feedback", "comments")), []
        )
    assert await key_versions(store, tmp_path, person) == [KEY_VERSION]
    await store.close()


async def test_a_withdrawal_with_no_room_for_new_keys_still_erases_the_answers(
    tmp_path: Path, master_key: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The withdrawal comes first: sealed again under the key it has (a full disk)."""
    store = SQLiteStore(tmp_path, master_key)
    await store.open()
    person = store.pseudonym(PERSON)
    given = feedback("CANARY-COMMENT", T0, days=180, purposes=("feedback", "comments"))
    await store.submit_feedback(person, given, [grant("feedback"), grant("comments")])

    async def no_room(pseudonym: str, count: int) -> list[tuple[int, bytes]]:
        raise StorageFull("no room")

    monkeypatch.setattr(store, "_new_deks", no_room)
    assert await store.withdraw_consent(person, "comments", T0 + DAY) == 1
    [kept] = await store.feedback_of(person, T0 + DAY)
    assert kept.answers == {"rating": 4}
    await store.close()
    assert not holds(opened(tmp_path / "feedback.db", tmp_path / "keys.db", master_key), "CANARY")


async def test_a_withdrawal_retried_after_a_full_commit_still_erases_the_answers(
    tmp_path: Path, master_key: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by review: the first attempt used up the new keys before its COMMIT found no
    room; the second ran without and kept the answers while withdrawing the consent."""
    store = SQLiteStore(tmp_path, master_key)
    await store.open()
    person = store.pseudonym(PERSON)
    given = feedback("CANARY-COMMENT", T0, days=180, purposes=("feedback", "comments"))
    await store.submit_feedback(person, given, [grant("feedback"), grant("comments")])
    real, failed = people_module.on_thread, []

    async def full_at_first_commit(db: Any, work: Any, *, atomic: bool = False) -> Any:
        if atomic and getattr(getattr(work, "func", work), "__name__", "") == "withdraw":
            if not failed:
                failed.append(work)

                def then_full(conn: sqlite3.Connection) -> None:
                    work(conn)
                    raise _full()  # as a COMMIT that found no room: rolled back

                return await real(db, then_full, atomic=True)
        return await real(db, work, atomic=atomic)

    monkeypatch.setattr(people_module, "on_thread", full_at_first_commit)
    assert await store.withdraw_consent(person, "comments", T0 + DAY) == 1
    assert failed, "the first attempt found no room"
    [left] = await store.feedback_of(person, T0 + DAY)
    assert left.answers == {"rating": 4}
    await store.close()
    assert not holds(opened(tmp_path / "feedback.db", tmp_path / "keys.db", master_key), "CANARY")


async def test_answers_begun_afresh_do_not_share_the_key_of_those_replaced(
    tmp_path: Path, master_key: bytes
) -> None:
    """Found by review: another survey begun over unfinished answers, or answers taken
    out at a withdrawal, kept the key of the answers before, which the next feedback
    took over: the discarded answers opened in a backup as long as it was kept."""
    store = SQLiteStore(tmp_path, master_key)
    await store.open()
    person = store.pseudonym(PERSON)
    await store.grant_consents(person, [grant("feedback")])
    first = Draft(payload={"comment": "CANARY-DISCARDED"}, updated_at=T0, expires_at=T0 + DAY)
    await store.save_draft(person, first)
    backup = tmp_path / "backup.db"
    await store.backup(backup)
    assert holds(opened(backup, tmp_path / "keys.db", master_key), "CANARY-DISCARDED")

    await store.save_draft(person, first.model_copy(update={"payload": {}}), fresh=True)
    await store.submit_feedback(person, feedback("CANARY-NEW", T0, days=180), [])

    assert not holds(opened(backup, tmp_path / "keys.db", master_key), "CANARY-DISCARDED")
    assert len(await key_versions(store, tmp_path, person)) == 2
    await store.close()


async def test_answers_from_before_keys_of_their_own_get_one_at_the_next_answer(
    tmp_path: Path, master_key: bytes
) -> None:
    """Found by review: a draft stored under the person's own key (as every row was
    before 1 Dec 2026) kept its feedback there too, never to go with a key of its own;
    and one expired keeps nothing of its key either."""
    store = SQLiteStore(tmp_path, master_key)
    await store.open()
    person = store.pseudonym(PERSON)
    await store.grant_consents(person, [grant("feedback")])
    await store.save_draft(
        person, Draft(payload={"n": 1}, updated_at=T0, expires_at=T0 + DAY), fresh=True
    )
    await run(store._conn(), "UPDATE main.drafts SET key_version = 1")  # as stored before
    legacy = await key_versions(store, tmp_path, person)
    later = Draft(payload={"n": 2}, updated_at=T0 + DAY, expires_at=T0 + 2 * DAY)
    await store.save_draft(person, later)
    [(version,)] = await fetch_all(store._conn(), "SELECT key_version FROM main.drafts")
    assert version != KEY_VERSION
    await store.submit_feedback(person, feedback("x", T0 + DAY, days=30), [])
    [(stored,)] = await fetch_all(store._conn(), "SELECT key_version FROM main.feedback")
    assert stored == version
    await store.save_draft(person, later)
    expired = Draft(payload={"n": 3}, updated_at=T0 + 3 * DAY, expires_at=T0 + 4 * DAY)
    await store.save_draft(person, expired)
    [(newer,)] = await fetch_all(store._conn(), "SELECT key_version FROM main.drafts")
    assert newer not in (version, KEY_VERSION) and len(legacy) == 2
    await store.close()


async def test_a_restore_with_a_newer_key_store_keeps_everyones_counts(
    tmp_path: Path, master_key: bytes
) -> None:
    """Found by review: a withdrawal applied again to a data backup restored with the
    live key store found the feedback it had sealed anew without its key, and deleted
    the day's counts of everyone."""
    data = tmp_path / "data"
    store = SQLiteStore(data, master_key)
    await store.open()
    erika, max_ = store.pseudonym("tg-user:1"), store.pseudonym("tg-user:2")
    both = ("feedback", "comments")
    given = feedback("CANARY-E", T0, days=180, purposes=both)
    grants = [grant("feedback"), grant("comments")]
    await store.submit_feedback(erika, given, grants, tallies={"rating": {"4": 1}})
    other = feedback("M", T0, days=180)
    await store.submit_feedback(max_, other, [grant("feedback")], tallies={"rating": {"5": 1}})
    backup = tmp_path / "nightly.db"
    await store.backup(backup)
    await store.withdraw_consent(erika, "comments", T0 + DAY)
    await store.close()
    for sidecar in ("", "-wal", "-shm"):  # as `feedbackbot restore nightly.db`
        (data / f"feedback.db{sidecar}").unlink(missing_ok=True)
    shutil.copyfile(backup, data / "feedback.db")

    again = SQLiteStore(data, master_key, exclusive=True)
    await again.open()
    try:
        assert again.applied_again == 1
        [day] = await again.statistics(T0.date(), T0.date())
        assert day.feedbacks == 2, "counted as restored, not the whole day dropped"
        # Erika's is under a key destroyed since: lost as a whole (README)
        assert await again.feedback_of(erika, T0 + DAY) == []
        assert len(await again.feedback_of(max_, T0 + DAY)) == 1
    finally:
        await again.close()


async def test_purge_counts_the_keys_of_surveys_gone_and_ledger_entries_keep_their_size(
    tmp_path: Path, master_key: bytes
) -> None:
    """Found by review: the purge said "0 unused keys" while it destroyed the keys of
    expired feedback; and an erasure entry naming a key per feedback grew with them, its
    size (in clear) telling an erasure from a withdrawal and how much one had given."""
    store = SQLiteStore(tmp_path, master_key)
    await store.open()
    person = store.pseudonym(PERSON)
    await store.submit_feedback(person, feedback("a", T0, days=30), [grant("feedback")])
    await store.submit_feedback(person, feedback("b", T0, days=180), [])
    assert (await store.purge_expired(T0 + 40 * DAY)).keys == 1
    sizes = set()
    for n in (1, 12, 30):
        someone = store.pseudonym(f"tg-user:{n}")
        await store.submit_feedback(someone, feedback("x", T0, days=180), [grant("feedback")])
        for minute in range(n - 1):
            later = feedback("x", T0 + timedelta(minutes=minute), days=180)
            await store.submit_feedback(someone, later, [])
        await store.erase_subject(someone, T0)
        [(size,)] = await fetch_all(
            store._conn(), "SELECT length(sealed) FROM ledger.erasures ORDER BY seq DESC LIMIT 1"
        )
        sizes.add(size)
    await store.close()
    assert len(sizes) == 1


async def test_the_key_of_answers_replaced_leaves_no_trace_in_the_key_store_files(
    tmp_path: Path, master_key: bytes
) -> None:
    """Found by review: it stayed in keys.db-wal until the next purge, where a copy of the
    data folder still found it."""
    store = SQLiteStore(tmp_path, master_key)
    await store.open()
    person = store.pseudonym(PERSON)
    await store.grant_consents(person, [grant("feedback")])
    draft = Draft(payload={"comment": "first"}, updated_at=T0, expires_at=T0 + DAY)
    await store.save_draft(person, draft)
    [(wrapped,)] = await fetch_all(
        store._conn(), "SELECT wrapped_dek FROM keys.data_keys WHERE key_version != 1"
    )

    await store.save_draft(person, draft.model_copy(update={"payload": {}}), fresh=True)

    for name in ("keys.db", "keys.db-wal"):
        if (tmp_path / name).exists():
            assert bytes(wrapped) not in (tmp_path / name).read_bytes(), name
    await store.close()


async def test_finding_the_keys_no_row_needs_looks_each_up_by_index() -> None:
    """Found by review: without an index on the key version, each of a person's keys
    scanned all their feedback (thousands: seconds, under the lock everyone waits on)."""
    with sqlite3.connect(":memory:") as db:
        db.execute("ATTACH ':memory:' AS keys")
        for statements in DATA_MIGRATIONS:
            for statement in statements:
                db.execute(statement)
        for statements in KEY_MIGRATIONS:
            for statement in statements:
                db.execute(statement)
        plan = " ".join(
            str(row[-1])
            for row in db.execute("EXPLAIN QUERY PLAN " + _UNUSED_OF_PERSON, ("p", "9999"))
        )
    assert "USING COVERING INDEX feedback_key (pseudonym=? AND key_version=?)" in plan, plan
