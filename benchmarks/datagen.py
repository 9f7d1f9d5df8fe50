"""Big stores, quickly: other people's feedback written in bulk in the store's own format.

Going through `submit_feedback` costs a transaction per feedback (about a millisecond);
a million would take a quarter of an hour. Here the rows are encrypted with the store's
own crypto and associated data and inserted in one transaction per batch with a plain
sqlite3 connection; `verify` then reads a sample back through the store's public API,
so a change of the storage format makes the benchmark fail loudly instead of measuring
rows nobody could read.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pydantic_core

from storage import ConsentGrant, SQLiteStore, crypto, sqlite_people
from storage import sqlite as sqlite_store
from storage.memory import new_record_id
from storage.sqlite_core import KEY_VERSION, dek_aad
from storage.sqlite_db import ts

BATCH = 20_000
NOTICE_VERSION = "bench"
_HASH = "0" * 64


@dataclass(frozen=True)
class Population:
    """`people` others with `per_person` feedbacks each, created `age` before `now`."""

    first_user_id: int
    people: int
    per_person: int
    created_at: datetime
    expires_at: datetime
    consent_at: datetime

    @property
    def feedbacks(self) -> int:
        return self.people * self.per_person

    def subjects(self) -> Iterator[str]:
        for uid in range(self.first_user_id, self.first_user_id + self.people):
            yield f"tg-user:{uid}"


class FormatChanged(RuntimeError):
    """The bulk rows do not read back through the store: the generator needs updating."""


async def pseudonyms(data_dir: Path, master_key: bytes, population: Population) -> list[str]:
    """Open (creating if needed) the store just to compute the keyed pseudonyms."""
    store = SQLiteStore(data_dir, master_key)
    await store.open()
    try:
        return [store.pseudonym(subject) for subject in population.subjects()]
    finally:
        await store.close()


def _rows(
    master_key: bytes, people: list[str], population: Population
) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    version = KEY_VERSION
    created = ts(population.created_at)
    expires = ts(population.expires_at)
    key_created = ts(population.consent_at)
    plaintext = pydantic_core.to_json(
        {"answers": {"rating": 4, "comment": "bulk", "contact": None}, "purposes": ["feedback"]}
    )
    grant = ConsentGrant(
        purpose="feedback",
        notice_version=NOTICE_VERSION,
        text_sha256=_HASH,
        method="bench",
        granted_at=population.consent_at,
    )
    keys: list[tuple[Any, ...]] = []
    consents: list[tuple[Any, ...]] = []
    feedback: list[tuple[Any, ...]] = []
    for pseudonym in people:
        # The person's own key for the consent, one of its own for each feedback, as
        # the store lays them out (see storage.sqlite_core.KEY_VERSION).
        dek = crypto.generate_key()
        wrapped = crypto.wrap_key(master_key, dek, dek_aad(pseudonym, version))
        keys.append((pseudonym, version, wrapped, key_created))
        consents.extend(sqlite_people.consent_rows(pseudonym, dek, [grant]))
        for record_version in range(version + 1, version + 1 + population.per_person):
            record_dek = crypto.generate_key()
            aad = dek_aad(pseudonym, record_version)
            wrapped = crypto.wrap_key(master_key, record_dek, aad)
            keys.append((pseudonym, record_version, wrapped, key_created))
            record_id = new_record_id()
            aad = crypto.associated_data("feedback", record_id, pseudonym, record_version)
            blob = crypto.encrypt(record_dek, plaintext, aad)
            feedback.append(
                (record_id, pseudonym, "feedback", record_version, created, expires, blob)
            )
        if len(feedback) >= BATCH:
            yield keys, consents, feedback
            keys, consents, feedback = [], [], []
    if feedback or keys:
        yield keys, consents, feedback


def insert(data_dir: Path, master_key: bytes, people: list[str], population: Population) -> float:
    """Write the population into the (closed) store; returns the seconds it took."""
    started = time.perf_counter()
    db = sqlite3.connect(data_dir / sqlite_store.DATA_FILE, isolation_level=None)
    try:
        db.execute("ATTACH DATABASE ? AS keys", (str(data_dir / sqlite_store.KEY_STORE_FILE),))
        for schema in ("main", "keys"):
            db.execute(f"PRAGMA {schema}.synchronous = OFF")
            db.execute(f"PRAGMA {schema}.cache_size = -262144")  # 256 MiB while loading
        for keys, consents, feedback in _rows(master_key, people, population):
            db.execute("BEGIN IMMEDIATE")
            db.executemany(
                "INSERT INTO keys.data_keys (pseudonym, key_version, wrapped_dek, created_at)"
                " VALUES (?, ?, ?, ?)",
                keys,
            )
            db.executemany(sqlite_people.INSERT_CONSENT, consents)
            db.executemany(
                "INSERT INTO main.feedback (id, pseudonym, flow_id, key_version, created_at,"
                " expires_at, ciphertext) VALUES (?, ?, ?, ?, ?, ?, ?)",
                feedback,
            )
            db.execute("COMMIT")
        for schema in ("main", "keys"):
            db.execute(f"PRAGMA {schema}.wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    return time.perf_counter() - started


async def verify(data_dir: Path, master_key: bytes, population: Population, now: datetime) -> None:
    """Read the first and last generated person back through the store's public API."""
    store = SQLiteStore(data_dir, master_key)
    await store.open()
    try:
        subjects = list(population.subjects())
        for subject in (subjects[0], subjects[-1]):
            pseudonym = store.pseudonym(subject)
            feedback = await store.feedback_of(pseudonym, now)
            consents = await store.consents(pseudonym)
            expired = population.expires_at <= now
            if (len(feedback) != (0 if expired else population.per_person)) or len(consents) != 1:
                raise FormatChanged(
                    f"bulk rows of {subject} read back as {len(feedback)} feedback and "
                    f"{len(consents)} consents: update benchmarks/datagen.py to the store format"
                )
    except Exception as exc:
        if isinstance(exc, FormatChanged):
            raise
        raise FormatChanged(f"bulk rows do not read back ({type(exc).__name__}: {exc})") from exc
    finally:
        await store.close()


async def populate(
    data_dir: Path, master_key: bytes, population: Population, now: datetime
) -> float:
    """Add `population` to the store in `data_dir` (created if needed); seconds taken."""
    started = time.perf_counter()
    people = await pseudonyms(data_dir, master_key, population)
    await asyncio.to_thread(insert, data_dir, master_key, people, population)
    await verify(data_dir, master_key, population, now)
    return time.perf_counter() - started


def spread(now: datetime, days: int) -> tuple[datetime, datetime]:
    """(created, expires) for feedback given `days` ago and kept 180 days."""
    created = now - timedelta(days=days)
    return created, created + timedelta(days=180)
