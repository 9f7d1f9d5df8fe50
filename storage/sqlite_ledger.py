"""The erasure ledger: erasures and withdrawals to apply again after a restore.

A backup of feedback.db and keys.db made before a person's erasure still holds them:
restored, it would bring them back, readable (the key store backup has their key), and
their consent back in force after a withdrawal. So each erasure and each withdrawal is
noted, before it is carried out, in erasures.db: a file of its own beside the others,
left out of `backup` and left in place when the two are restored. Opening the store
applies again what the restored files still hold (storage.sqlite.SQLiteStore._apply_ledger).

An entry is recognised without times (a clock set back, or another machine's, would
mislead): an erasure by the person's data keys as they were (a key is created once and
never changed, and every personal row needs one), a withdrawal by the ids of the
consents it withdrew, a contact deletion by its row. An objection to storing the
language choice alone goes by time: a choice made no later than the one objected to is
one objected to (its row is sealed again each time its date moves on, and a backup may
hold an older choice); with the clock set back, a choice made after it may go too, the
way to err that keeps nothing the person objected to. Whom it concerns and what is
sealed under a key derived from the pseudonym key; when and until when it is kept are
in clear. It is kept until the last
of the person's data would have expired anyway: a restored copy of anything older is
deleted by the purge.

The same file keeps the notes of the alerts posted to the staff chat (`staff_posts`, see
bot.retractions): a restore must not lose them either, or an alert whose feedback the
restore took away could no longer be reached.

Every opening checks every entry (`_held_entries`), so the entries are looked up
together, a page of them at a time and a chunk of people or consents per query: looked
up one after the other, several queries each, 50,000 entries took 2 s at every opening
(found by review; 2 to 9 s on a busy two-core machine, where it takes 0.3 to 0.4 s
now, most of it unsealing the entries).
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from collections.abc import Callable, Collection
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Literal

from storage import crypto
from storage.interface import (
    ConsentProof,
    ConsentRecord,
    DecryptionFailed,
    LedgerNote,
    StorageFull,
    proof_kept_until,
)
from storage.memory import to_the_minute
from storage.sqlite_core import KEY_VERSION, StoreCore, dek_aad
from storage.sqlite_db import dt, fetch_all, fetch_one, on_thread, run, run_many, select_in, ts

log = logging.getLogger("storage")

KEY_FINGERPRINT = "hmac:"
_KEY_NAME_LABEL = b"feedbackbot/erasure-ledger-key-name/v1"
KeyNamer = Callable[[str, int, bytes], "str | None"]
"""(pseudonym, key version, wrapped key) -> how an erasure entry names that key."""
LEDGER_FILE = "erasures.db"
LEDGER_MEMORY = timedelta(days=365)
"""How long an entry is kept at least."""
LEDGER_PAGE = 2000
"""Entries read and checked at a time."""
LOOKUP_CHUNK = 500
"""People or consents looked up per query when checking the entries (under SQLite's
limit on the parameters of one statement, 999 in builds before 3.32)."""
_PAD = 512
_PROOF_LABEL = b"feedbackbot/consent-proof/v1"
_PROOF_PERSON_LABEL = b"feedbackbot/consent-proof-person/v1"
_PROOF_PAD = 4096
"""A person's proof row is padded to a multiple of this: the proof of up to about ten
consents fits, so that its size does not tell how many a person gave (found by review)."""
_PROOF_PAGE = 200
"""Rows the purge takes proofs past their date out of, per transaction."""
_LABEL = b"feedbackbot/erasure-ledger/v1"
_JSON = json.JSONDecoder()
_Keep = Callable[[sqlite3.Connection, list[dict[str, Any]]], list[dict[str, Any]]]
"""What to keep of a page of entries, on the connection's thread."""
_LATEST_EXPIRY_SQL = (
    "SELECT max(expires_at) FROM (SELECT expires_at FROM main.feedback WHERE pseudonym = ?"
    " UNION ALL SELECT expires_at FROM main.drafts WHERE pseudonym = ?"
    " UNION ALL SELECT expires_at FROM main.languages WHERE pseudonym = ?)"
)


def _aad(at: str) -> bytes:
    return crypto.associated_data("erasures", at, "", 0)


def _seal(key: bytes, entry: dict[str, Any], at: str) -> bytes:
    """An entry sealed as noted at `at` (its time in clear), padded (see `_note`)."""
    plain = json.dumps(entry)
    plain += " " * (-len(plain) % _PAD)
    return crypto.encrypt(key, plain.encode(), _aad(at))


def _entry(plain: bytes) -> dict[str, Any]:
    """An entry as noted; the padding after it is left unread (half the time json.loads
    takes for an entry, which every opening reads)."""
    entry: dict[str, Any] = _JSON.raw_decode(plain.decode())[0]
    return entry


class ErasureLedger(StoreCore):
    """Noting erasures and withdrawals in the ledger, and reading them back."""

    async def _consent_records(self, pseudonym: str) -> list[ConsentRecord]:
        """The person's consent records, oldest first (under the store's lock); raises
        DecryptionFailed for a tampered one."""
        records = []
        rows = await fetch_all(
            self._conn(),
            "SELECT id, purpose, key_version, granted_at, withdrawn_at, ended_at,"
            " ciphertext FROM main.consents WHERE pseudonym = ? ORDER BY granted_at, rowid",
            (pseudonym,),
        )
        for record_id, purpose, version, granted, withdrawn, ended, blob in rows:
            data = await self._unseal("consents", record_id, pseudonym, version, blob)
            if data is not None:
                records.append(
                    ConsentRecord(
                        id=record_id,
                        purpose=purpose,
                        granted_at=dt(granted),
                        withdrawn_at=dt(withdrawn) if withdrawn and not ended else None,
                        ended_at=dt(ended) if ended else None,
                        **data,
                    )
                )
        return records

    def _proof_person(self, pseudonym: str) -> str:
        """How the proof row names the person: a keyed hash of the pseudonym under a key of
        its own, so that the row cannot be matched to their rows in feedback.db without
        the master key."""
        return crypto.derive_key(self._derived_key(_PROOF_PERSON_LABEL), pseudonym.encode()).hex()

    async def _keep_proof(
        self,
        people: Collection[str],
        now: datetime,
        period: timedelta,
        reason: Literal["erasure", "expiry"],
    ) -> tuple[int, datetime | None]:
        """Keep proof of the consents of each of the people (under the store's lock, before
        their records and key go) in erasures.db's `consent_proofs`: one row per person,
        all their proofs sealed in it under a key derived from the pseudonym key (not the
        person's) and padded, so that the file tells neither how many consents a person
        gave nor, by rows of their own, that one person's data went twice (found by
        review of a row per consent), kept until `proof_kept_until`
        (FEEDBACKBOT_CONSENT_PROOF_RETENTION); all of them in one transaction (found by
        review: a commit each made a purge of 5,000 people 7 times slower). A consent
        already proven (a purge cut short, a backup restored and purged again) is not
        kept twice: it keeps the date it was given. How many people's proof was kept, and
        until when. Records that do not open (damaged, or their key gone) prove nothing
        and are left out; on a full disk nothing is kept (logged) and the caller goes on:
        the erasure is what the person asked for, and the purge what the notices promise."""
        until = proof_kept_until(now, period)
        kept_since = to_the_minute(now)
        rows: list[tuple[str, str, int, bytes]] = []
        for pseudonym in people:
            try:
                records = await self._consent_records(pseudonym)
            except DecryptionFailed:
                log.warning("consent_proof_unreadable")
                continue
            person = self._proof_person(pseudonym)
            kept = await self._proofs_of(person)
            proven = {(p.purpose, p.granted_at) for p in kept}
            new = [
                ConsentProof(
                    **record.model_dump(exclude={"id"}),
                    kept_since=kept_since,
                    reason=reason,
                    kept_until=until,
                )
                for record in records
                if (record.purpose, record.granted_at) not in proven
            ]
            if new:
                rows.append(self._proof_row(person, [*kept, *new], period))
        if not rows:
            return 0, None
        try:
            await run_many(self._conn(), _KEEP_PROOF_SQL, rows)
        except StorageFull:
            log.warning("consent_proof_not_kept")
            return 0, None
        return len(rows), until

    def _proof_row(
        self, person: str, proofs: list[ConsentProof], period: timedelta
    ) -> tuple[str, str, int, bytes]:
        """The row of a person's proofs: whom (`_proof_person`), when the first is due to go,
        the period (days) they were kept for as configured, and all of them sealed. Not a
        period told from the proofs' own dates: rounded to a month, due less it gave the
        day of the erasure (found by review)."""
        return person, _due(proofs), period.days, self._seal_proofs(person, proofs)

    def _seal_proofs(self, person: str, proofs: list[ConsentProof]) -> bytes:
        """A person's proofs sealed, padded (see _PROOF_PAD), bound to whom they are of."""
        plain = json.dumps([proof.model_dump(mode="json") for proof in proofs])
        plain += " " * (-len(plain) % _PROOF_PAD)
        return crypto.encrypt(self._derived_key(_PROOF_LABEL), plain.encode(), _proof_aad(person))

    async def _proofs_of(self, person: str) -> list[ConsentProof]:
        """The proof kept of a person's consents (see `_proof_person`), in the order kept;
        none where the row does not open."""
        row = await fetch_one(
            self._conn(), "SELECT sealed FROM ledger.consent_proofs WHERE person = ?", (person,)
        )
        return (
            [] if row is None else _unsealed_proofs(self._derived_key(_PROOF_LABEL), person, row[0])
        )

    async def _live_proofs(self, pseudonym: str) -> tuple[ConsentProof, ...]:
        """The proof kept of the person's consents whose records are gone, oldest consent
        first: a consent whose record is still there (a purge cut short after keeping its
        proof, found by review) is shown as a record, not as proof too."""
        proofs = await self._proofs_of(self._proof_person(pseudonym))
        if not proofs:
            return ()
        rows = await fetch_all(
            self._conn(),
            "SELECT purpose, granted_at FROM main.consents WHERE pseudonym = ?",
            (pseudonym,),
        )
        held = {(purpose, dt(granted)) for purpose, granted in rows}
        gone = [proof for proof in proofs if (proof.purpose, proof.granted_at) not in held]
        return tuple(sorted(gone, key=lambda proof: proof.granted_at))

    async def consent_proofs(self, pseudonym: str) -> tuple[ConsentProof, ...]:
        async with self._lock:
            return await self._live_proofs(pseudonym)

    async def cap_consent_proofs(self, period: timedelta | None) -> int:
        """Bring the date of each proof kept forward to `proof_kept_until` its keeping and
        `period`; with None, delete them all: FEEDBACKBOT_CONSENT_PROOF_RETENTION shortened
        or turned off holds for what is kept too, as the notices then say (found by
        review). How many people's proof it changed. Opens only the rows kept for a longer
        period (at every start, none: found by review, the rows of every start before
        were opened and sealed again)."""
        key = self._derived_key(_PROOF_LABEL)

        def cap(conn: sqlite3.Connection) -> int:
            if period is None:
                return conn.execute("DELETE FROM ledger.consent_proofs").rowcount
            longer = conn.execute(
                "SELECT person, sealed FROM ledger.consent_proofs WHERE kept_for > ?",
                (period.days,),
            ).fetchall()
            updates = []
            for person, sealed in longer:
                proofs = _unsealed_proofs(key, person, sealed)
                if not proofs:  # (the purge deletes it at its date)
                    continue
                capped = [
                    proof.model_copy(
                        update={
                            "kept_until": min(
                                proof.kept_until, proof_kept_until(proof.kept_since, period)
                            )
                        }
                    )
                    for proof in proofs
                ]
                _, due, days, resealed = self._proof_row(person, capped, period)
                updates.append((due, days, resealed, person))
            conn.executemany(
                "UPDATE ledger.consent_proofs SET due = ?, kept_for = ?, sealed = ?"
                " WHERE person = ?",
                updates,
            )
            return len(updates)

        async with self._lock:
            return await on_thread(self._conn(), cap, atomic=True)

    async def _drop_proofs_due(self, now: datetime) -> int:
        """Take out of each row the proofs past their date (the purge), deleting rows left
        with none, and a row that does not open once it is due (it proves nothing, and
        was otherwise kept for ever: found by review); how many proofs went."""
        key = self._derived_key(_PROOF_LABEL)

        def drop(conn: sqlite3.Connection, after: str) -> tuple[int, str | None]:
            rows = conn.execute(
                "SELECT person, sealed FROM ledger.consent_proofs WHERE due < ? AND person > ?"
                " ORDER BY person LIMIT ?",
                (ts(now), after, _PROOF_PAGE),
            ).fetchall()
            gone = 0
            for person, sealed in rows:
                proofs = _unsealed_proofs(key, person, sealed)
                left = [proof for proof in proofs if proof.kept_until >= now]
                gone += len(proofs) - len(left)
                if not left:  # (also one that does not open: due, and proves nothing)
                    conn.execute("DELETE FROM ledger.consent_proofs WHERE person = ?", (person,))
                    continue
                conn.execute(  # (the period as set stays: the row's proofs were kept for it)
                    "UPDATE ledger.consent_proofs SET due = ?, sealed = ? WHERE person = ?",
                    (_due(left), self._seal_proofs(person, left), person),
                )
            return gone, str(rows[-1][0]) if rows else None

        total, after = 0, ""
        while True:
            async with self._lock:
                gone, last = await on_thread(self._conn(), partial(drop, after=after), atomic=True)
            total += gone
            if last is None:
                return total
            after = last

    async def _keep_until(self, pseudonym: str, now: datetime) -> str:
        """Until when an entry about the person is needed: the last expiry of their data
        (a restored copy of it is deleted by the purge from then on), at least LEDGER_MEMORY
        (a backup from before a retention was shortened holds later dates), rounded up
        to the first of a month: the day would match the deletion date a data backup
        shows in clear beside the pseudonym (found by review)."""
        row = await fetch_one(self._conn(), _LATEST_EXPIRY_SQL, (pseudonym,) * 3)
        floor = now + LEDGER_MEMORY
        latest = dt(row[0]) if row is not None and row[0] is not None else floor
        until = max(latest, floor).astimezone(UTC)
        first = until.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        return ts((first + timedelta(days=32)).replace(day=1))

    async def _note(self, pseudonym: str, entry: dict[str, Any], now: datetime) -> None:
        """Add an entry about the person (committed by itself: erasures.db is
        synchronous=FULL), padded so that its size does not tell an erasure from a
        withdrawal. On a full disk it is lost (logged) and the caller goes on: the
        deletion is what the person asked for.

        In clear it is timed to the minute; the exact time is sealed in it, where a
        withdrawal applied again takes it from (see `_seal`)."""
        at = ts(to_the_minute(now))
        sealed = _seal(self._derived_key(_LABEL), {**entry, "at": ts(now)}, at)
        try:
            keep_until = await self._keep_until(pseudonym, now)
            await run(
                self._conn(),
                "INSERT INTO ledger.erasures (at, keep_until, sealed) VALUES (?, ?, ?)",
                (at, keep_until, sealed),
            )
        except StorageFull:
            log.warning("not_in_erasure_ledger")

    async def _time_ledger_to_the_minute(self) -> None:
        """Cut the times in clear of entries made before they were noted to the minute,
        once (found by a review of what a copied data folder shows without the master
        key: when each erasure and withdrawal was made, to the microsecond). Sealed again
        under the new time, which binds them; the exact time goes into the entry, as
        `_note` puts it there. Entries that do not open are left as they are."""
        if await fetch_one(self._conn(), _FINER_THAN_A_MINUTE_SQL, (-1, 1)) is None:
            return  # (no write transaction: a command beside the bot waits for none)
        key = self._derived_key(_LABEL)
        moved = await on_thread(self._conn(), partial(_cut_times, key=key), atomic=True)
        if moved:
            log.info("erasure_ledger_timed_to_the_minute", extra={"rows": moved})

    async def _key_rows(self, pseudonym: str) -> set[tuple[int, str]]:
        """The person's data keys as an erasure entry names them (by a fingerprint): a key
        is created once and never changed, so they tell the person's data from before
        the erasure. Their own key (KEY_VERSION) alone where they have one."""
        rows = partial(_key_rows_of, people=[pseudonym], name=self._key_namer())
        found = await on_thread(self._conn(), rows)
        named = {key for key in found.get(pseudonym, set()) if key[1].startswith(KEY_FINGERPRINT)}
        # The person's own key, which every copy of their data has, where there is one:
        # an entry naming a key per survey grew with them, and its size (in clear) told
        # an erasure from a withdrawal and how much the person had given (found by review).
        return {key for key in named if key[0] == KEY_VERSION} or named

    def _key_namer(self) -> KeyNamer:
        """How an erasure entry names a data key: by a keyed hash of the key itself, which
        neither a master key rotation (it wraps keys anew) nor anything else changes, and
        which tells nothing without the key. Not by when it was made (found by a forensic
        review: to the microsecond, that matched the person's first feedback in the audit
        trail, telling what an erased person had done) nor by its wrapped bytes (found by
        review: a rotation changes them, and an erasure after it no longer reached a key
        store backup from before)."""
        master, namer = self._master_key, self._derived_key(_KEY_NAME_LABEL)

        def name(pseudonym: str, version: int, wrapped: bytes) -> str | None:
            try:
                key = crypto.unwrap_key(master, wrapped, dek_aad(pseudonym, version))
            except DecryptionFailed:  # (a key store under another master key)
                return None
            return KEY_FINGERPRINT + crypto.derive_key(namer, key).hex()[:32]

        return name

    async def _contact_row(self, pseudonym: str) -> str | None:
        """The digest of the person's contact chat id row as stored (its ciphertext: a
        chat id given again is another row), or None if there is none."""
        found = await on_thread(self._conn(), partial(_contact_rows_of, people=[pseudonym]))
        return found.get(pseudonym)

    async def _still_held(self, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """`_held` of a few entries (each one again before it is applied)."""
        return await on_thread(
            self._conn(), partial(_held, entries=entries, name=self._key_namer())
        )

    async def _held_entries(self) -> list[dict[str, Any]]:
        """`_held` of every entry, oldest first, in one job on the connection's thread (a
        round trip for each page and chunk took a third longer on a busy machine), a page
        of entries at a time: a whole ledger of 50,000 entries unsealed at once took 40 MB
        (a page 5 MB), and longer (the garbage collector going through them again and
        again)."""
        return await self._read_ledger(partial(_held, name=self._key_namer()))

    async def ledger_note(self, pseudonym: str) -> LedgerNote | None:
        """What the ledger keeps about the person (see Store.ledger_note). Every entry is
        opened, a page at a time, as at each opening; only one that names the person is
        read as JSON."""
        decrypt = crypto.decrypter(self._derived_key(_LABEL))
        named = partial(_noted, decrypt=decrypt, pseudonym=pseudonym)
        until, kinds = await on_thread(self._conn(), named)
        proofs = await self.consent_proofs(pseudonym)
        if until is None and not proofs:
            return None
        about = (
            *(("erasure",) if "erase" in kinds else ()),
            *(("withdrawal",) if kinds & {"withdraw", "contact"} else ()),
            *(("objection",) if "language" in kinds else ()),
        )
        return LedgerNote(until=dt(until) if until else None, about=about, proofs=proofs)

    async def ledger_of_another_store(self) -> int:
        """How many erasure notes and people's proofs of consent the ledger holds where not
        one of them opens with this store's key: a copy made by another store (one begun
        afresh after the data folder was lost, whose nightly `backup --ledger` went on),
        which names none of this store's data; 0 where any opens, or there are none (found
        by review: restored with such a copy, the people erased before the loss came back).
        Read whole (a restore's: the proofs are few)."""
        decrypt = crypto.decrypter(self._derived_key(_LABEL))
        entries = partial(_read, decrypt=decrypt, keep=lambda _, page: page)
        opened, unreadable = await on_thread(self._conn(), entries)
        if opened:
            return 0
        # The proofs of consent too (found by review: a copy holding proofs alone passed);
        # a copy holding nothing sealed, or only notes of alerts, cannot be told apart.
        key = self._derived_key(_PROOF_LABEL)
        proofs = await fetch_all(self._conn(), "SELECT person, sealed FROM ledger.consent_proofs")
        for person, sealed in proofs:
            try:
                crypto.decrypt(key, sealed, _proof_aad(person))
            except DecryptionFailed:
                unreadable += 1
            else:
                return 0
        return unreadable

    async def _ledger(self) -> list[dict[str, Any]]:
        """Every entry, oldest first."""
        return await self._read_ledger(lambda _, entries: entries)

    async def _read_ledger(self, keep: _Keep) -> list[dict[str, Any]]:
        """The entries `keep` keeps of each page (those that do not open are skipped and
        counted in the log)."""
        decrypt = crypto.decrypter(self._derived_key(_LABEL))
        kept, unreadable = await on_thread(self._conn(), partial(_read, decrypt=decrypt, keep=keep))
        if unreadable:
            log.warning("erasure_ledger_entries_unreadable", extra={"count": unreadable})
        return kept


def _read(
    conn: sqlite3.Connection, decrypt: Callable[[bytes, bytes], bytes], keep: _Keep
) -> tuple[list[dict[str, Any]], int]:
    """The entries `keep` keeps of each page of LEDGER_PAGE, oldest first, and how many
    did not open (of a store started afresh beside the ledger, say)."""
    kept: list[dict[str, Any]] = []
    after, unreadable = -1, 0
    while rows := conn.execute(
        "SELECT seq, at, sealed FROM ledger.erasures WHERE seq > ? ORDER BY seq LIMIT ?",
        (after, LEDGER_PAGE),
    ).fetchall():
        after, entries = rows[-1][0], []
        for _, at, sealed in rows:
            try:
                # (the exact time sealed in it; the one in clear in entries made before)
                entries.append({"at": at} | _entry(decrypt(sealed, _aad(at))))
            except DecryptionFailed:
                unreadable += 1
        kept += keep(conn, entries)
    return kept, unreadable


_FINER_THAN_A_MINUTE_SQL = (
    "SELECT seq, at, sealed FROM ledger.erasures WHERE seq > ?"
    " AND substr(at, 18, 9) <> '00.000000' ORDER BY seq LIMIT ?"
)


def _cut_times(conn: sqlite3.Connection, key: bytes) -> int:
    """`_time_ledger_to_the_minute`, a page at a time; how many entries it moved."""
    decrypt = crypto.decrypter(key)
    moved, after = 0, -1
    while rows := conn.execute(_FINER_THAN_A_MINUTE_SQL, (after, LEDGER_PAGE)).fetchall():
        after = rows[-1][0]
        for seq, at, sealed in rows:
            try:
                entry = _entry(decrypt(sealed, _aad(at)))
            except DecryptionFailed:
                continue
            cut = ts(to_the_minute(dt(at)))
            resealed = _seal(key, {"at": at} | entry, cut)
            sql = "UPDATE ledger.erasures SET at = ?, sealed = ? WHERE seq = ?"
            conn.execute(sql, (cut, resealed, seq))
            moved += 1
    return moved


_PERSON_FIELDS = ("erase", "withdraw", "contact", "language")
"""The field naming whom an entry concerns, by its kind."""


def _noted(
    conn: sqlite3.Connection, decrypt: Callable[[bytes, bytes], bytes], pseudonym: str
) -> tuple[str | None, set[str]]:
    """The latest `keep_until` of the entries about `pseudonym` (those that do not open
    are skipped, as `_read` skips them), or None; and the fields that name the person
    (of _PERSON_FIELDS: what the entries are of)."""
    named = json.dumps(pseudonym).encode()
    latest: str | None = None
    kinds: set[str] = set()
    after = -1
    while rows := conn.execute(
        "SELECT seq, at, keep_until, sealed FROM ledger.erasures WHERE seq > ?"
        " ORDER BY seq LIMIT ?",
        (after, LEDGER_PAGE),
    ).fetchall():
        after = rows[-1][0]
        for _, at, keep_until, sealed in rows:
            try:
                plain = decrypt(sealed, _aad(at))
            except DecryptionFailed:
                continue
            if named not in plain:
                continue
            entry = _entry(plain)
            fields = {field for field in _PERSON_FIELDS if entry.get(field) == pseudonym}
            if fields:
                latest = max(latest or keep_until, keep_until)
                kinds |= fields
    return latest, kinds


_KEEP_PROOF_SQL = (  # (kept_for: the longest period any of the person's proofs was kept for)
    "INSERT INTO ledger.consent_proofs (person, due, kept_for, sealed) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (person) DO UPDATE SET due = excluded.due,"
    " kept_for = max(kept_for, excluded.kept_for), sealed = excluded.sealed"
)


def _unsealed_proofs(key: bytes, person: str, sealed: bytes) -> list[ConsentProof]:
    """The proofs a row keeps; none where it does not open (logged)."""
    try:
        plain = crypto.decrypt(key, sealed, _proof_aad(person))
    except DecryptionFailed:
        log.warning("consent_proof_unreadable")
        return []
    return [ConsentProof.model_validate(proof) for proof in _JSON.raw_decode(plain.decode())[0]]


def _due(proofs: list[ConsentProof]) -> str:
    """When the first of a row's proofs is due to go (in clear: the first of a month)."""
    return ts(min(proof.kept_until for proof in proofs))


def _proof_aad(person: str) -> bytes:
    return crypto.associated_data("consent_proofs", person, "", 0)


def _held(
    conn: sqlite3.Connection, entries: list[dict[str, Any]], name: KeyNamer
) -> list[dict[str, Any]]:
    """Those of the entries (in their order) whose deletion the store's files do not
    reflect: an erasure whose person still has a key it names, a withdrawal with a
    consent it withdrew in force, a contact deletion whose very row is there. What the
    person gave after it (another key, consent or row) is not the entry's."""
    erasures = [entry["erase"] for entry in entries if "erase" in entry]
    consents = [c for entry in entries if "withdraw" in entry for c in entry["consents"]]
    contacts = [entry["contact"] for entry in entries if "contact" in entry]
    languages = [entry["language"] for entry in entries if "language" in entry]
    keys = _key_rows_of(conn, erasures, name)
    in_force = _in_force(conn, consents)
    rows = _contact_rows_of(conn, contacts)
    chosen = _language_choices_of(conn, languages)
    return [entry for entry in entries if _holds(entry, keys, in_force, rows, chosen)]


def _key_rows_of(
    conn: sqlite3.Connection, people: Collection[str], name: KeyNamer
) -> dict[str, set[tuple[int, str]]]:
    """`_key_rows` of each of the people who have any: each key by its fingerprint
    (`name`), and (as entries made before 1 Dec 2026 name it) by when it was made."""
    sql = (
        "SELECT pseudonym, key_version, created_at, wrapped_dek FROM keys.data_keys"
        " WHERE pseudonym IN"
    )
    found: dict[str, set[tuple[int, str]]] = {}
    rows = select_in(conn, sql, sorted(set(people)), LOOKUP_CHUNK)
    for pseudonym, version, created, wrapped in rows:
        named = found.setdefault(pseudonym, set())
        named.add((int(version), str(created)))
        fingerprint = name(pseudonym, int(version), wrapped)
        if fingerprint is not None:
            named.add((int(version), fingerprint))
    return found


def _contact_rows_of(conn: sqlite3.Connection, people: Collection[str]) -> dict[str, str]:
    """`_contact_row` of each of the people who have one."""
    sql = "SELECT pseudonym, ciphertext FROM main.contacts WHERE pseudonym IN"
    rows = select_in(conn, sql, sorted(set(people)), LOOKUP_CHUNK)
    return {pseudonym: hashlib.sha256(blob).hexdigest() for pseudonym, blob in rows}


def _language_choices_of(conn: sqlite3.Connection, people: Collection[str]) -> dict[str, str]:
    """When each of the people who have a stored language choice made it."""
    sql = "SELECT pseudonym, chosen_at FROM main.languages WHERE pseudonym IN"
    rows = select_in(conn, sql, sorted(set(people)), LOOKUP_CHUNK)
    return {pseudonym: str(chosen) for pseudonym, chosen in rows}


def _in_force(conn: sqlite3.Connection, consents: Collection[str]) -> set[str]:
    """Those of the consent ids that are there and not withdrawn."""
    sql = "SELECT id FROM main.consents WHERE withdrawn_at IS NULL AND id IN"
    return {str(row[0]) for row in select_in(conn, sql, sorted(set(consents)), LOOKUP_CHUNK)}


def _holds(
    entry: dict[str, Any],
    keys: dict[str, set[tuple[int, str]]],
    in_force: set[str],
    rows: dict[str, str],
    chosen: dict[str, str],
) -> bool:
    """Whether the store still holds what the entry deleted, given the key rows, the
    consents in force, the contact rows and when the language choices were made of the
    people the entries name (a choice made no later than the one objected to is one
    objected to)."""
    if "erase" in entry:
        named = {(int(version), str(created)) for version, created in entry["keys"]}
        return bool(named & keys.get(entry["erase"], set()))
    if "withdraw" in entry:
        return not in_force.isdisjoint(entry["consents"])
    if "contact" in entry:
        return bool(rows.get(entry["contact"]) == entry["row"])
    if "language" in entry:
        made = chosen.get(entry["language"])
        return made is not None and dt(made) <= dt(entry["chosen"])
    return False
