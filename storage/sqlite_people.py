"""A person's own rows: unfinished answers, language choice, consents, feedback, contact."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pydantic_core

from storage import crypto
from storage.interface import (
    ConsentGrant,
    ConsentMissing,
    ConsentRecord,
    ConsentsOf,
    DecryptionFailed,
    Draft,
    FeedbackLimit,
    FeedbackLimitReached,
    FeedbackRecord,
    LanguageChoice,
    NewFeedback,
    StorageFull,
    Tallies,
    answers_for,
    bucket_keys,
)
from storage.memory import (
    new_record_id,
    to_the_minute,
    up_to_the_minute,
)
from storage.sqlite_core import (
    KEY_VERSION,
    REDRAW_POSTS,
    RETRACT_POSTS,
    cache_clock,
    seal,
    unsealed,
    wall_clock,
)
from storage.sqlite_db import (
    dt,
    fetch_all,
    fetch_one,
    on_thread,
    run,
    ts,
)
from storage.sqlite_ledger import ErasureLedger
from storage.sqlite_purge import ERASED_AGAIN
from storage.sqlite_statistics import TALLIES, Statistics
from storage.sqlite_summary import (
    INVALIDATE_BUCKET_SQL,
    INVALIDATE_PERSON_SQL,
    SummaryCache,
    drop_days,
)

_DRAFT_ID = "draft"  # drafts and contacts are one row per person, keyed by the pseudonym
_CONTACT_ID = "contact"
_LANGUAGE_ID = "language"
_WITHDRAW_SQL = (  # `ended_at` too (the same moment) for a consent that ended
    "UPDATE main.consents AS t SET withdrawn_at = ?1, ended_at = ?2"
    " WHERE pseudonym = ?3 AND purpose = ?4 AND withdrawn_at IS NULL"
    " AND EXISTS (SELECT 1 FROM keys.data_keys k"
    "  WHERE k.pseudonym = t.pseudonym AND k.key_version = t.key_version)"
)


_RECENT_FEEDBACK_SQL = (  # through the index feedback_limit alone (data schema v21)
    "SELECT created_at, expires_at FROM main.feedback"
    " WHERE pseudonym = ? AND flow_id = ? AND created_at > ? AND expires_at > ?"
)


def _recent_feedback(
    conn: sqlite3.Connection, pseudonym: str, flow_id: str, since: datetime, now: datetime
) -> list[tuple[datetime, datetime]]:
    """(created_at, expires_at) of the person's unexpired feedback to the flow created
    after `since`: the columns in clear beside the ciphertext, nothing decrypted."""
    rows = conn.execute(_RECENT_FEEDBACK_SQL, (pseudonym, flow_id, ts(since), ts(now)))
    return [(dt(created), dt(expires)) for created, expires in rows]


def _limit_reached(
    conn: sqlite3.Connection, pseudonym: str, flow_id: str, limit: FeedbackLimit, now: datetime
) -> None:
    """Raises FeedbackLimitReached (see `FeedbackLimit.reached`)."""
    refusal = limit.reached(_recent_feedback(conn, pseudonym, flow_id, now - limit.window, now))
    if refusal is not None:
        raise refusal


_FEEDBACK_UNDER_SQL = (  # those that may lose answers at a withdrawal: all, if in force
    "SELECT count(*) FROM main.feedback WHERE pseudonym = ?1 AND EXISTS (SELECT 1 FROM"
    " main.consents WHERE pseudonym = ?1 AND purpose = ?2 AND withdrawn_at IS NULL)"
)
INSERT_CONSENT = (
    "INSERT INTO main.consents (id, pseudonym, purpose, key_version, granted_at, ciphertext)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)


def consent_rows(pseudonym: str, dek: bytes, grants: list[ConsentGrant]) -> list[tuple[Any, ...]]:
    rows = []
    for grant in grants:
        record_id = new_record_id()
        proof: dict[str, Any] = {
            "notice_version": grant.notice_version,
            "text_sha256": grant.text_sha256,
            "method": grant.method,
        }
        if grant.required is not None:
            proof["required"] = grant.required
        blob = seal(dek, "consents", record_id, pseudonym, proof)
        granted = ts(grant.granted_at)
        rows.append((record_id, pseudonym, grant.purpose, KEY_VERSION, granted, blob))
    return rows


class PersonalData(Statistics, SummaryCache, ErasureLedger):
    """Every row here belongs to one person and is sealed under their data key."""

    # ---- one sealed row per person: drafts, language choices -------------------------
    # Table and column names below come from the callers' constants, never from input.

    async def _save_own_row(
        self,
        table: str,
        record_id: str,
        pseudonym: str,
        at: tuple[str, datetime],
        expires_at: datetime,
        value: dict[str, Any],
        fresh: bool = False,
    ) -> None:
        """Create or replace the person's row of `table`, `value` sealed under their key;
        `at` is its time column and value. Raises StorageFull (nothing written). Drafts
        are sealed under the key their feedback will take over, a new one when `fresh`
        (see `_conversation_dek`); the key of answers replaced goes."""
        column, moment = at
        async with self._lock:
            new: bool | None = None  # see _conversation_dek
            if table == "drafts":
                version, dek, new = await self._conversation_dek(pseudonym, moment, fresh)
            else:
                version, dek = KEY_VERSION, await self._write_dek(pseudonym)
            blob = seal(dek, table, record_id, pseudonym, value, version)
            try:
                await run(
                    self._conn(),
                    f"INSERT INTO main.{table} (pseudonym, key_version, {column}, expires_at,"  # noqa: S608
                    f" ciphertext) VALUES (?, ?, ?, ?, ?) ON CONFLICT (pseudonym) DO UPDATE SET"
                    f" key_version = excluded.key_version, {column} = excluded.{column},"
                    " expires_at = excluded.expires_at, ciphertext = excluded.ciphertext",
                    (pseudonym, version, ts(moment), ts(expires_at), blob),
                )
            except BaseException:
                if new is not None:  # the new key, unused
                    await self._drop_unused_deks(pseudonym)
                raise
            # The key of the answers replaced, also from the write-ahead log (found by
            # review: a copy of the data folder opened them until the next purge).
            if new and await self._drop_unused_deks(pseudonym):
                await self._checkpoint()

    async def _own_row(
        self, table: str, record_id: str, column: str, pseudonym: str, now: datetime
    ) -> tuple[datetime, datetime, Any] | None:
        """The person's unexpired row of `table`: its time, deletion date and opened value;
        None when there is none or their key is gone. Raises DecryptionFailed for a
        tampered row."""
        # Runs on every update (drafts): one job, and the lock only when the key must be
        # read from the key store (see _lock).
        row = await fetch_one(
            self._conn(),
            f"SELECT key_version, {column}, expires_at, ciphertext FROM main.{table}"  # noqa: S608
            " WHERE pseudonym = ? AND expires_at > ?",
            (pseudonym, ts(now)),
        )
        if row is None:
            return None
        version = int(row[0])
        dek = self._cached_dek(pseudonym, version)
        if dek is None:
            async with self._lock:
                dek = await self._read_dek(pseudonym, version)
        if dek is None:
            return None
        value = unsealed(dek, table, record_id, pseudonym, version, row[3])
        return dt(row[1]), dt(row[2]), value

    async def _delete_own_row(self, table: str, pseudonym: str) -> bool:
        async with self._lock:
            sql = f"DELETE FROM main.{table} WHERE pseudonym = ?"  # noqa: S608
            deleted = await run(self._conn(), sql, (pseudonym,)) > 0
            if deleted:  # answers discarded take their key with them
                await self._drop_unused_deks(pseudonym)
            return deleted

    async def save_draft(self, pseudonym: str, draft: Draft, fresh: bool = False) -> None:
        """Raises StorageFull (nothing written) when there is no space."""
        at = ("updated_at", draft.updated_at)
        value = {"payload": draft.payload}
        await self._save_own_row(
            "drafts", _DRAFT_ID, pseudonym, at, draft.expires_at, value, fresh=fresh
        )

    async def load_draft(self, pseudonym: str, now: datetime) -> Draft | None:
        """Raises DecryptionFailed for a tampered draft."""
        found = await self._own_row("drafts", _DRAFT_ID, "updated_at", pseudonym, now)
        if found is None:
            return None
        updated_at, expires_at, value = found
        return Draft(payload=value["payload"], updated_at=updated_at, expires_at=expires_at)

    async def extend_draft(self, pseudonym: str, seen: datetime, until: datetime) -> bool:
        sql = "UPDATE main.drafts SET expires_at = ? WHERE pseudonym = ? AND updated_at = ?"
        return await run(self._conn(), sql, (ts(until), pseudonym, ts(seen))) > 0

    async def delete_draft(self, pseudonym: str) -> bool:
        return await self._delete_own_row("drafts", pseudonym)

    async def save_language(self, pseudonym: str, choice: LanguageChoice) -> None:
        """Raises StorageFull (nothing written) when there is no space."""
        # To the minute, as shown, its deletion date rounded up (found by a review of what
        # a copied data folder tells without the key: when each person used /sprache, to
        # the microsecond).
        at = ("chosen_at", to_the_minute(choice.chosen_at))
        expires_at = up_to_the_minute(choice.expires_at)
        value = {"locale": choice.locale}
        await self._save_own_row("languages", _LANGUAGE_ID, pseudonym, at, expires_at, value)

    async def cap_languages(self, latest: datetime) -> int:
        until = ts(up_to_the_minute(latest))
        sql = "UPDATE main.languages SET expires_at = ? WHERE expires_at > ?"
        return await run(self._conn(), sql, (until, until))

    async def language_of(self, pseudonym: str, now: datetime) -> LanguageChoice | None:
        """Raises DecryptionFailed for a tampered row."""
        found = await self._own_row("languages", _LANGUAGE_ID, "chosen_at", pseudonym, now)
        if found is None:
            return None
        chosen_at, expires_at, value = found
        return LanguageChoice(locale=value["locale"], chosen_at=chosen_at, expires_at=expires_at)

    async def delete_language(self, pseudonym: str) -> bool:
        """Noted in the erasure ledger first, by when the choice was made: an objection
        (Art. 21) that a restored backup must not undo (found by a DPO's review: the
        choice came back with the backup, and the bot wrote in it again); a choice made
        after it is another, which a restore leaves alone."""
        async with self._lock:
            sql = "SELECT chosen_at FROM main.languages WHERE pseudonym = ?"
            row = await fetch_one(self._conn(), sql, (pseudonym,))
            if row is None:
                return False
            entry = {"language": pseudonym, "chosen": str(row[0])}
            await self._note(pseudonym, entry, datetime.now(UTC))
        return await self._delete_own_row("languages", pseudonym)

    # ---- consents ------------------------------------------------------------------

    async def grant_consents(
        self,
        pseudonym: str,
        grants: list[ConsentGrant],
        limit: FeedbackLimit | None = None,
        flow_id: str | None = None,
    ) -> None:
        """Raises StorageFull (nothing written) when there is no space, and
        FeedbackLimitReached (likewise) when `limit` is reached."""
        if not grants:
            return
        async with self._lock:
            rows = consent_rows(pseudonym, await self._write_dek(pseudonym, spare=True), grants)
            changed = cache_clock()

            def grant(conn: sqlite3.Connection) -> None:
                if limit is not None and flow_id is not None:  # rolls the transaction back
                    _limit_reached(conn, pseudonym, flow_id, limit, grants[0].granted_at)
                conn.executemany(INSERT_CONSENT, rows)
                conn.execute(INVALIDATE_PERSON_SQL, (pseudonym, changed))

            try:
                await on_thread(self._conn(), grant, atomic=True)
            except FeedbackLimitReached:
                await self._drop_unused_deks(pseudonym)  # a new key nothing was stored under
                raise

    async def consents(self, pseudonym: str) -> list[ConsentRecord]:
        """Raises DecryptionFailed for a tampered record."""
        async with self._lock:
            return await self._consent_records(pseudonym)

    async def consent_ledger(self, pseudonym: str) -> ConsentsOf:
        sql = "SELECT purpose, withdrawn_at FROM main.consents WHERE pseudonym = ?"
        async with self._lock:
            rows = await fetch_all(self._conn(), sql, (pseudonym,))
        return ConsentsOf(
            (purpose, dt(withdrawn) if withdrawn else None) for purpose, withdrawn in rows
        )

    async def withdraw_consent(
        self,
        pseudonym: str,
        purpose: str,
        now: datetime,
        collected: Mapping[str, Collection[str]] | None = None,
        erased: Collection[str] = (),
        redraw_alerts: bool = False,
        ended: bool = False,
    ) -> int:
        """Noted in the erasure ledger first (committed), to be applied again should a
        backup from before be restored."""
        async with self._lock:
            ids = await fetch_all(
                self._conn(),
                "SELECT id FROM main.consents WHERE pseudonym = ? AND purpose = ?"
                " AND withdrawn_at IS NULL",
                (pseudonym, purpose),
            )
            if ids:
                entry: dict[str, Any] = {
                    "withdraw": pseudonym,
                    "purpose": purpose,
                    "consents": [row[0] for row in ids],
                    "erased": sorted(erased),
                    "collected": {step: sorted(c) for step, c in (collected or {}).items()},
                }
                if ended:  # applied again as it was: ended, not withdrawn
                    entry["ended"] = True
                await self._note(pseudonym, entry, now)
        return await self._withdraw(
            pseudonym, purpose, now, collected, erased, redraw_alerts, ended
        )

    async def _withdraw(
        self,
        pseudonym: str,
        purpose: str,
        now: datetime,
        collected: Mapping[str, Collection[str]] | None,
        erased: Collection[str],
        redraw_alerts: bool = False,
        ended: bool = False,
        again: bool = False,
    ) -> int:
        """The withdrawal itself (see `withdraw_consent`), also as applied again (`again`:
        a restored backup's, whose audit entry says so)."""
        moment, changed = ts(now), cache_clock()
        # as every entry of the trail; one carried out again when it is (a restore), as an
        # erasure's is (review: dated before the restore it records)
        at = ts(to_the_minute(datetime.now(UTC) if again else now))
        stopped = (moment, moment if ended else None)
        gone = sorted(set(erased))
        marks = ", ".join("?" * len(gone))

        answered: list[int] = []  # feedback whose answers for the purpose went

        async with self._lock:
            deks = await self._feedback_deks(pseudonym)
            # A feedback that loses answers is sealed again under a key of its own, and
            # its old key goes: copies of the data made before cannot be read for them.
            # On a full disk, under the key it has: the withdrawal comes first.
            row = await fetch_one(self._conn(), _FEEDBACK_UNDER_SQL, (pseudonym, purpose))
            fresh: list[tuple[int, bytes]] = []
            with contextlib.suppress(StorageFull):
                fresh = await self._new_deks(pseudonym, int(row[0]) if row else 0)
            days = await self._their_days(pseudonym)

            def withdraw(conn: sqlite3.Connection, make_rows: bool = True) -> int:
                count: int = conn.execute(_WITHDRAW_SQL, (*stopped, pseudonym, purpose)).rowcount
                if count:
                    drop_days(conn, days, changed, make_rows)
                    self._untally(conn, pseudonym, deks, purpose)
                    answered[:] = [
                        _erase_answers(conn, pseudonym, deks, collected or {}, purpose, list(fresh))
                    ]
                    deleted = {}
                    for table, column in (("feedback", "id"), ("deliveries", "feedback_id")):
                        if gone:  # the notices are kept by now (rights.withdraw)
                            deleted[table] = conn.execute(
                                f"DELETE FROM main.{table} WHERE pseudonym = ?"  # noqa: S608
                                f" AND {column} IN ({marks})",
                                (pseudonym, *gone),
                            ).rowcount
                    if deleted.get("feedback"):
                        # As an erasure is, without saying whose: feedback went (found by a
                        # staff walk-through: two feedbacks gone, one erasure in the trail)
                        conn.execute(
                            "INSERT INTO main.audit (event, at, detail, records)"
                            " VALUES ('withdrawal', ?, ?, ?)",
                            (at, ERASED_AGAIN if again else None, deleted["feedback"]),
                        )
                return count

            def retract(conn: sqlite3.Connection) -> None:
                conn.execute(
                    RETRACT_POSTS + " WHERE pseudonym = ? AND (purpose = ?"
                    f" OR feedback_id IN ({marks}))",
                    (pseudonym, purpose, *gone),
                )
                if redraw_alerts:
                    conn.execute(REDRAW_POSTS, (pseudonym,))

            renewed = False
            if gone:
                # Before the feedback goes (as at an erasure): a crash between the
                # withdrawal and the renewal after it left the cache key as it was, and
                # with it the feedback's words in older copies' figures (found by a crash
                # review). Figures of answers only taken out are renewed after, as before.
                with contextlib.suppress(StorageFull):
                    await self._renew_cache_key(now)
                    renewed = True
            # The posts first, in erasures.db: a transaction over two files in WAL mode is
            # atomic per file only, and a post retracted too early (should the withdrawal
            # fail) does no harm, one left tied to a withdrawn consent would (found by
            # review).
            await on_thread(self._conn(), retract, atomic=True)
            try:
                count = await on_thread(self._conn(), withdraw, atomic=True)
            except StorageFull:
                # as erase_subject: no room for new cache rows, drop the figures in place
                count = await on_thread(
                    self._conn(), partial(withdraw, make_rows=False), atomic=True
                )
                if count:
                    await self._drop_cached_days_again(days)
            finally:
                # the keys of what went, and of those not needed
                await self._drop_unused_deks(pseudonym)
            if count and not renewed and (gone or any(answered)):
                # The words and ratings of what went may be in cached figures, also in
                # copies of the data store made before: their key goes, as at an erasure
                # (found by a forensic review: an old backup's cache still opened).
                with contextlib.suppress(StorageFull):  # then as the figures, in place
                    await self._renew_cache_key(now)
            return count

    # ---- feedback and contact -------------------------------------------------------

    async def submit_feedback(
        self,
        pseudonym: str,
        feedback: NewFeedback,
        grants: list[ConsentGrant],
        contact_chat_id: int | None = None,
        tallies: Tallies | None = None,
        recipients: Sequence[tuple[str, str]] = (),
        counted_under: Sequence[str] | None = None,
        contact_language: str | None = None,
        alert: bool = False,
        limit: FeedbackLimit | None = None,
    ) -> FeedbackRecord:
        """Raises StorageFull, with nothing of it written (draft kept), when there is no
        space; ConsentMissing, likewise, when a consent in `feedback.purposes` is not in
        force (the purge took it with the person's expired feedback meanwhile), and
        FeedbackLimitReached when `limit` is reached (counted in the same transaction,
        BEGIN IMMEDIATE: a second submission waits for the first and counts it)."""
        record_id = new_record_id()
        created, expires = ts(feedback.created_at), ts(feedback.expires_at)
        content: dict[str, Any] = {"answers": feedback.answers, "purposes": feedback.purposes}
        if feedback.collected:
            content["collected"] = feedback.collected
        if feedback.scales:
            content["scales"] = feedback.scales
        plaintext = pydantic_core.to_json(content)
        day = feedback.created_at.astimezone(UTC).date()
        changed, queued = cache_clock(), wall_clock()
        async with self._lock:
            # The consent records (proof for all the person's feedback) and the contact
            # chat id under the person's own key; the feedback and what it added to the
            # statistics under the key of the answers (see KEY_VERSION). The contact
            # keeps its ciphertext, by which the erasure ledger knows it (a chat id given
            # again is another row), and tells no more than the pseudonym does to whoever
            # holds the master key.
            own = await self._write_dek(pseudonym, spare=True)
            new_consents = consent_rows(pseudonym, own, grants)
            version, dek, _ = await self._conversation_dek(pseudonym, feedback.created_at)
            aad = crypto.associated_data("feedback", record_id, pseudonym, version)
            blob = crypto.encrypt(dek, plaintext, aad)
            # Kept so that an erasure or withdrawal can take exactly this out again.
            under = feedback.purposes[:1] if counted_under is None else list(counted_under)
            counted = {"tallies": tallies or {}, "purposes": under}
            sealed_tallies = seal(dek, TALLIES, record_id, pseudonym, counted, version)
            contact = None
            if contact_chat_id is not None:
                value: int | dict[str, Any] = int(contact_chat_id)
                if contact_language is not None:  # stores before it sealed the id alone
                    value = {"chat": value, "language": contact_language}
                contact = seal(own, "contacts", _CONTACT_ID, pseudonym, value)

            def submit(conn: sqlite3.Connection) -> None:
                if limit is not None:  # rolls the transaction back
                    _limit_reached(conn, pseudonym, feedback.flow_id, limit, feedback.created_at)
                conn.execute(
                    "INSERT INTO main.feedback (id, pseudonym, flow_id, key_version, created_at,"
                    " expires_at, ciphertext, tallies, with_contact)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        record_id,
                        pseudonym,
                        feedback.flow_id,
                        version,
                        created,
                        expires,
                        blob,
                        sealed_tallies,
                        int(contact is not None),
                    ),
                )
                conn.executemany(INSERT_CONSENT, new_consents)
                in_force = {
                    purpose
                    for (purpose,) in conn.execute(
                        "SELECT purpose FROM main.consents"
                        " WHERE pseudonym = ? AND withdrawn_at IS NULL",
                        (pseudonym,),
                    )
                }
                if not set(feedback.purposes) <= in_force:  # rolls the transaction back
                    raise ConsentMissing("a consent of this feedback is not in force")
                if contact is not None:
                    conn.execute(
                        "INSERT INTO main.contacts (pseudonym, key_version, ciphertext)"
                        " VALUES (?, ?, ?) ON CONFLICT (pseudonym) DO UPDATE SET"
                        " key_version = excluded.key_version, ciphertext = excluded.ciphertext",
                        (pseudonym, KEY_VERSION, contact),
                    )
                conn.execute("DELETE FROM main.drafts WHERE pseudonym = ?", (pseudonym,))
                conn.executemany(
                    "INSERT INTO main.deliveries (pseudonym, key_version, recipient,"
                    " purpose, feedback_id, delivered_at, pending) VALUES (?, ?, ?, ?, ?, ?, 1)",
                    [(pseudonym, KEY_VERSION, r, u, record_id, created) for r, u in recipients],
                )
                if alert:
                    conn.execute(
                        "INSERT INTO main.alerts_due (feedback_id, pseudonym, key_version,"
                        " queued_at) VALUES (?, ?, ?, ?)",
                        (record_id, pseudonym, KEY_VERSION, queued),
                    )
                if new_consents:  # counts the person's earlier feedback again, if any
                    conn.execute(INVALIDATE_PERSON_SQL, (pseudonym, changed))
                else:
                    buckets = [(b, changed) for b in bucket_keys(feedback.created_at)]
                    conn.executemany(INVALIDATE_BUCKET_SQL, buckets)
                self._count(conn, day, feedback.flow_id, tallies or {})

            try:
                await on_thread(self._conn(), submit, atomic=True)
            except BaseException:
                await self._drop_unused_deks(pseudonym)  # a new key nothing was stored under
                raise
        stored = json.loads(plaintext)  # return what a later read returns
        return FeedbackRecord(
            id=record_id,
            flow_id=feedback.flow_id,
            created_at=dt(created),
            expires_at=dt(expires),
            **stored,
        )

    async def count_feedback(
        self, pseudonym: str, flow_id: str, since: datetime, now: datetime
    ) -> int:
        recent = partial(
            _recent_feedback, pseudonym=pseudonym, flow_id=flow_id, since=since, now=now
        )
        return len(await on_thread(self._conn(), recent))

    async def check_feedback_limit(
        self, pseudonym: str, flow_id: str, limit: FeedbackLimit, now: datetime
    ) -> None:
        check = partial(_limit_reached, pseudonym=pseudonym, flow_id=flow_id, limit=limit, now=now)
        await on_thread(self._conn(), check)

    async def feedback_of(self, pseudonym: str, now: datetime) -> list[FeedbackRecord]:
        """Raises DecryptionFailed for a tampered record."""
        records, _ = await self._feedback_of(pseudonym, now, tolerant=False)
        return records

    async def readable_feedback_of(
        self, pseudonym: str, now: datetime
    ) -> tuple[list[FeedbackRecord], int]:
        return await self._feedback_of(pseudonym, now, tolerant=True)

    async def _feedback_of(
        self, pseudonym: str, now: datetime, tolerant: bool
    ) -> tuple[list[FeedbackRecord], int]:
        records = []
        unreadable = 0
        async with self._lock:
            rows = await fetch_all(
                self._conn(),
                "SELECT id, flow_id, key_version, created_at, expires_at, ciphertext"
                " FROM main.feedback WHERE pseudonym = ? AND expires_at > ?"
                " ORDER BY created_at, rowid",
                (pseudonym, ts(now)),
            )
            for record_id, flow_id, version, created, expires, blob in rows:
                try:
                    data = await self._unseal("feedback", record_id, pseudonym, version, blob)
                except DecryptionFailed:
                    if not tolerant:
                        raise
                    unreadable += 1
                    continue
                if data is not None:
                    records.append(
                        FeedbackRecord(
                            id=record_id,
                            flow_id=flow_id,
                            created_at=dt(created),
                            expires_at=dt(expires),
                            **data,
                        )
                    )
        return records, unreadable

    async def contact_of(self, pseudonym: str) -> int | None:
        """Raises DecryptionFailed for a tampered record."""
        contact = await self._contact(pseudonym)
        return None if contact is None else contact[0]

    async def contact_language_of(self, pseudonym: str) -> str | None:
        """Raises DecryptionFailed for a tampered record."""
        contact = await self._contact(pseudonym)
        return None if contact is None else contact[1]

    async def _contact(self, pseudonym: str) -> tuple[int, str | None] | None:
        async with self._lock:
            row = await fetch_one(
                self._conn(),
                "SELECT key_version, ciphertext FROM main.contacts WHERE pseudonym = ?",
                (pseudonym,),
            )
            if row is None:
                return None
            value = await self._unseal("contacts", _CONTACT_ID, pseudonym, row[0], row[1])
        if value is None:
            return None
        if isinstance(value, dict):
            return int(value["chat"]), value.get("language")
        return int(value), None

    async def delete_contact(self, pseudonym: str) -> bool:
        """Noted in the erasure ledger first, by the row's own ciphertext: a chat id given
        again later is another row, which a restore must leave alone."""
        async with self._lock:
            row = await self._contact_row(pseudonym)
            if row is None:
                return False
            await self._note(pseudonym, {"contact": pseudonym, "row": row}, datetime.now(UTC))
            sql = "DELETE FROM main.contacts WHERE pseudonym = ?"
            return await run(self._conn(), sql, (pseudonym,)) > 0


def _erase_answers(
    conn: sqlite3.Connection,
    pseudonym: str,
    deks: dict[int, bytes],
    collected: Mapping[str, Collection[str]],
    purpose: str,
    fresh: list[tuple[int, bytes]],
) -> int:
    """Seal the person's feedback again without the answers given for the withdrawn
    optional `purpose` (see `answers_for`; `collected`: flow id -> question ids, for
    feedback that did not record them), inside the caller's transaction; how many
    feedbacks lost answers. Each is sealed under a key of `fresh` (new keys, committed;
    without, under its own), with what it added to the statistics, so that nothing holds
    its old key any more. A row that does not open (its key gone or damaged, the row
    tampered) is left as it is: nobody can read it either."""
    changed = 0
    rows = conn.execute(
        "SELECT id, flow_id, key_version, ciphertext, tallies FROM main.feedback"
        " WHERE pseudonym = ?",
        (pseudonym,),
    ).fetchall()
    for record_id, flow_id, version, blob, tallies in rows:
        dek = deks.get(version)
        if dek is None:
            continue
        try:
            content = unsealed(dek, "feedback", record_id, pseudonym, version, blob)
        except DecryptionFailed:
            continue
        gone = set(answers_for(purpose, {**content, "flow_id": flow_id}, collected))
        if not gone & set(content["answers"]):
            continue
        content["answers"] = {k: v for k, v in content["answers"].items() if k not in gone}
        new_version, new_dek = fresh.pop() if fresh else (version, dek)
        counted = None
        if tallies is not None:
            with contextlib.suppress(DecryptionFailed):  # then nothing to take out later
                counted = seal_again(dek, TALLIES, record_id, pseudonym, version, tallies)
        conn.execute(
            "UPDATE main.feedback SET key_version = ?, ciphertext = ?, tallies = ? WHERE id = ?",
            (
                new_version,
                seal(new_dek, "feedback", record_id, pseudonym, content, new_version),
                None if counted is None else counted(new_dek, new_version),
                record_id,
            ),
        )
        changed += 1
    return changed


def seal_again(
    dek: bytes, table: str, record_id: str, pseudonym: str, version: int, blob: bytes
) -> Callable[[bytes, int], bytes]:
    """Open a sealed value now (DecryptionFailed if it does not) to seal it under another
    key and version later."""
    value = unsealed(dek, table, record_id, pseudonym, version, blob)
    return lambda key, new_version: seal(key, table, record_id, pseudonym, value, new_version)
