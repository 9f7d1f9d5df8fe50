"""Each survey's answers under a key of their own: what goes takes its key with it.

A forensic reader holds a copy of the data store made before (a nightly backup), the
live key store and the master key, and opens every sealed row it can. Feedback that
expired, answers a withdrawal erased and answers discarded must not open any more
while the person's other data stays readable.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage import ConsentGrant, ConsentMissing, Draft, NewFeedback, SQLiteStore, crypto
from storage.sqlite_core import KEY_VERSION, dek_aad
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


async def test_a_feedback_refused_leaves_no_key_behind(tmp_path: Path, master_key: bytes) -> None:
    store = SQLiteStore(tmp_path, master_key)
    await store.open()
    person = store.pseudonym(PERSON)
    await store.grant_consents(person, [grant("feedback")])
    before = await key_versions(store, tmp_path, person)
    with pytest.raises(ConsentMissing):
        await store.submit_feedback(
            person, feedback("x", T0, days=30, purposes=("feedback", "comments")), []
        )
    assert await key_versions(store, tmp_path, person) == before
    await store.close()
