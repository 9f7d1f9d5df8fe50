"""The erasure ledger: erasures and withdrawals to apply again after a restore.

A backup of feedback.db and keys.db made before a person's erasure still holds them:
restored, it would bring them back, readable (the key store backup has their key), and
their consent back in force after a withdrawal. So each erasure and each withdrawal is
noted, before it is carried out, in erasures.db: a file of its own beside the others,
left out of `backup` and left in place when the two are restored. Opening the store
applies again what the restored files still hold (storage.sqlite.SQLiteStore._reapply).

An entry is recognised without times (a clock set back, or another machine's, would
mislead): an erasure by the person's data keys as they were (a key is created once and
never changed, and every personal row needs one), a withdrawal by the ids of the
consents it withdrew. Whom it concerns and what is sealed under a key derived from the
pseudonym key; when and until when it is kept are in clear. It is kept until the last
of the person's data would have expired anyway: a restored copy of anything older is
deleted by the purge.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from storage import crypto
from storage.interface import DecryptionFailed, StorageFull
from storage.sqlite_core import StoreCore
from storage.sqlite_db import dt, fetch_all, fetch_one, run, ts

log = logging.getLogger("storage")

LEDGER_FILE = "erasures.db"
LEDGER_MEMORY = timedelta(days=365)
"""How long an entry is kept at least."""
_PAD = 512
_LABEL = b"feedbackbot/erasure-ledger/v1"
_LATEST_EXPIRY_SQL = (
    "SELECT max(expires_at) FROM (SELECT expires_at FROM main.feedback WHERE pseudonym = ?"
    " UNION ALL SELECT expires_at FROM main.drafts WHERE pseudonym = ?"
    " UNION ALL SELECT expires_at FROM main.languages WHERE pseudonym = ?)"
)


def _aad(at: str) -> bytes:
    return crypto.associated_data("erasures", at, "", 0)


class ErasureLedger(StoreCore):
    """Noting erasures and withdrawals in the ledger, and reading them back."""

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
        deletion is what the person asked for."""
        at = ts(now)
        key = self._derived_key(_LABEL)
        plain = json.dumps(entry)
        plain += " " * (-len(plain) % _PAD)
        sealed = crypto.encrypt(key, plain.encode(), _aad(at))
        try:
            keep_until = await self._keep_until(pseudonym, now)
            await run(
                self._conn(),
                "INSERT INTO ledger.erasures (at, keep_until, sealed) VALUES (?, ?, ?)",
                (at, keep_until, sealed),
            )
        except StorageFull:
            log.warning("not_in_erasure_ledger")

    async def _key_rows(self, pseudonym: str) -> set[tuple[int, str]]:
        """The person's data keys as an erasure entry names them: a key is created once
        and never changed, so they tell the person's data from before the erasure."""
        rows = await fetch_all(
            self._conn(),
            "SELECT key_version, created_at FROM keys.data_keys WHERE pseudonym = ?",
            (pseudonym,),
        )
        return {(int(version), str(created)) for version, created in rows}

    async def _contact_row(self, pseudonym: str) -> str | None:
        """The digest of the person's contact chat id row as stored (its ciphertext: a
        chat id given again is another row), or None if there is none."""
        row = await fetch_one(
            self._conn(), "SELECT ciphertext FROM main.contacts WHERE pseudonym = ?", (pseudonym,)
        )
        return None if row is None else hashlib.sha256(row[0]).hexdigest()

    async def _ledger(self) -> list[dict[str, Any]]:
        """Every entry, oldest first (those that do not open are skipped and counted in the
        log)."""
        rows = await fetch_all(self._conn(), "SELECT at, sealed FROM ledger.erasures ORDER BY seq")
        key = self._derived_key(_LABEL)
        entries, unreadable = [], 0
        for at, sealed in rows:
            try:
                entries.append(json.loads(crypto.decrypt(key, sealed, _aad(at))) | {"at": at})
            except DecryptionFailed:  # of a store started afresh beside it, say
                unreadable += 1
        if unreadable:
            log.warning("erasure_ledger_entries_unreadable", extra={"count": unreadable})
        return entries
