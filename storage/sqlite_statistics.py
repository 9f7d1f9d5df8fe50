"""The anonymous per-day statistics, and taking a person's feedback out of them again."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta

import pydantic_core

from storage import crypto
from storage.interface import (
    DecryptionFailed,
    StatisticsRow,
    StorageFull,
    Tallies,
)
from storage.memory import (
    add_tallies,
    subtract_tallies,
)
from storage.sqlite_core import (
    StoreCore,
    unsealed,
)
from storage.sqlite_db import (
    dt,
    fetch_all,
    on_thread,
)

log = logging.getLogger("storage")

_KEY_SQL = "SELECT 1 FROM keys.data_keys WHERE pseudonym = ? AND key_version = ?"
TALLIES = "feedback.tallies"  # what a feedback added to the statistics (see _untally)
# A full disk's fallback for erasure: the days' counts holding the person's feedback go.
_PERSON_STATISTICS_DAYS_SQL = (
    "SELECT DISTINCT substr(created_at, 1, 10), flow_id FROM main.feedback"
    " WHERE pseudonym = ? AND tallies IS NOT NULL"
)


def _statistics_aad(day: date, flow_id: str) -> bytes:
    return crypto.associated_data("statistics", f"{day.isoformat()}|{flow_id}", "", 0)


class Statistics(StoreCore):
    """Per day and flow, how many feedbacks gave which answer: sealed under a key derived
    from the pseudonym key, never tied to a person. What each feedback added is kept
    with it, under the person's key, so that erasure and withdrawal can take it out."""

    def _count(self, conn: sqlite3.Connection, day: date, flow_id: str, tallies: Tallies) -> None:
        """Add one feedback to the day's anonymous statistics, inside the caller's
        transaction (on the connection's thread)."""
        row = conn.execute(
            "SELECT ciphertext FROM main.statistics WHERE day = ? AND flow_id = ?",
            (day.isoformat(), flow_id),
        ).fetchone()
        try:
            current = self._open_statistics(day, flow_id, row[0]) if row else None
        except DecryptionFailed:
            # Damaged, the day's counts go, this feedback's with them (its own record of
            # them too, see `_drop_days`), as an erasure does with counts it cannot read;
            # the feedback is stored (found by a key review: every feedback of that survey
            # that day failed with "something went wrong").
            log.warning("statistics_day_unreadable: a day's anonymous counts were dropped")
            self._drop_days(conn, [(day, flow_id)])
            return
        feedbacks, counts = add_tallies(current, tallies)
        blob = crypto.encrypt(
            self._statistics_key(),
            pydantic_core.to_json({"feedbacks": feedbacks, "counts": counts}),
            _statistics_aad(day, flow_id),
        )
        conn.execute(
            "INSERT INTO main.statistics (day, flow_id, ciphertext) VALUES (?, ?, ?)"
            " ON CONFLICT (day, flow_id) DO UPDATE SET ciphertext = excluded.ciphertext",
            (day.isoformat(), flow_id, blob),
        )

    def _untally(
        self,
        conn: sqlite3.Connection,
        pseudonym: str,
        deks: dict[int, bytes],
        purpose: str | None = None,
    ) -> None:
        """Take the person's feedback (given under `purpose`, or all) out of the
        statistics, each once: inside the caller's transaction, on the connection's
        thread. What cannot be read (a key damaged, a tampered row) cannot be subtracted:
        the whole day's counts for that flow go instead (`_drop_days`). A feedback whose
        key was destroyed (a data backup restored with a key store from after it expired
        or lost answers) is left counted, as restored counts of people erased since are:
        nobody can read it any more (found by review: a withdrawal applied again after
        such a restore deleted the day's counts of everyone)."""
        rows = conn.execute(
            "SELECT id, flow_id, key_version, created_at, tallies FROM main.feedback"
            " WHERE pseudonym = ? AND tallies IS NOT NULL",
            (pseudonym,),
        ).fetchall()
        taken: dict[tuple[date, str], list[Tallies]] = defaultdict(list)
        unreadable: set[tuple[date, str]] = set()
        for record_id, flow_id, version, created, blob in rows:
            day = dt(created).date()
            dek = deks.get(version)
            if dek is None and not conn.execute(_KEY_SQL, (pseudonym, version)).fetchone():
                continue
            try:
                if dek is None:
                    raise DecryptionFailed("the key does not open")
                counted = unsealed(dek, TALLIES, record_id, pseudonym, version, blob)
            except DecryptionFailed:
                unreadable.add((day, flow_id))
                continue
            if purpose is not None and purpose not in counted["purposes"]:
                continue
            taken[(day, flow_id)].append(counted["tallies"])
            conn.execute("UPDATE main.feedback SET tallies = NULL WHERE id = ?", (record_id,))
        for (day, flow_id), tallies in taken.items():
            if (day, flow_id) not in unreadable and not self._uncount(conn, day, flow_id, tallies):
                unreadable.add((day, flow_id))
        if unreadable:  # (found by a key review: dropped without a word in the log)
            log.warning(
                "statistics_days_unreadable: %d day(s) of anonymous counts dropped",
                len(unreadable),
                extra={"count": len(unreadable)},
            )
        self._drop_days(conn, unreadable)

    def _uncount(
        self, conn: sqlite3.Connection, day: date, flow_id: str, feedbacks: list[Tallies]
    ) -> bool:
        """`_count` undone for these feedbacks of one day and flow, in one write; the
        row goes with its last feedback. False if the day's row cannot be read."""
        key = (day.isoformat(), flow_id)
        row = conn.execute(
            "SELECT ciphertext FROM main.statistics WHERE day = ? AND flow_id = ?", key
        ).fetchone()
        try:
            left = self._open_statistics(day, flow_id, row[0]) if row else None
        except DecryptionFailed:
            return False
        for tallies in feedbacks:
            left = subtract_tallies(left, tallies)
        if left is None:
            conn.execute("DELETE FROM main.statistics WHERE day = ? AND flow_id = ?", key)
            return True
        count, counts = left
        blob = crypto.encrypt(
            self._statistics_key(),
            pydantic_core.to_json({"feedbacks": count, "counts": counts}),
            _statistics_aad(day, flow_id),
        )
        conn.execute(
            "UPDATE main.statistics SET ciphertext = ? WHERE day = ? AND flow_id = ?",
            (blob, *key),
        )
        return True

    def _drop_days(self, conn: sqlite3.Connection, days: Iterable[tuple[date, str]]) -> None:
        """Delete these days' counts of these flows, and forget what any stored feedback
        of them added (so that no later erasure subtracts it from a row made anew).
        Both only shrink the file: this works on a full disk too."""
        for day, flow_id in days:
            conn.execute(
                "DELETE FROM main.statistics WHERE day = ? AND flow_id = ?",
                (day.isoformat(), flow_id),
            )
            conn.execute(
                "UPDATE main.feedback SET tallies = NULL WHERE flow_id = ? AND created_at >= ?"
                " AND created_at < ? AND tallies IS NOT NULL",
                (flow_id, day.isoformat(), (day + timedelta(days=1)).isoformat()),
            )

    def _statistics_key(self) -> bytes:
        return self._derived_key(b"feedbackbot/statistics-key/v1")

    def _open_statistics(
        self, day: date, flow_id: str, blob: bytes
    ) -> tuple[int, dict[str, dict[str, int]]]:
        data = json.loads(
            crypto.decrypt(self._statistics_key(), blob, _statistics_aad(day, flow_id))
        )
        return int(data["feedbacks"]), data["counts"]

    async def statistics(self, since: date, until: date) -> list[StatisticsRow]:
        """Raises DecryptionFailed for a tampered row."""
        async with self._lock:
            rows = await fetch_all(
                self._conn(),
                "SELECT day, flow_id, ciphertext FROM main.statistics"
                " WHERE day >= ? AND day <= ? ORDER BY day, flow_id",
                (since.isoformat(), until.isoformat()),
            )
        result = []
        for day_text, flow_id, blob in rows:
            day = date.fromisoformat(day_text)
            feedbacks, counts = self._open_statistics(day, flow_id, blob)
            result.append(
                StatisticsRow(day=day, flow_id=flow_id, feedbacks=feedbacks, counts=counts)
            )
        return result

    async def _untally_for_erasure(self, pseudonym: str) -> None:
        """Take all the person's feedback out of the statistics (under the lock). On a
        full disk, the days' counts that hold it are deleted instead; should even that
        fail, the erasure goes on without (logged): it must not wait for space."""
        deks = await self._feedback_deks(pseudonym)

        def untally(conn: sqlite3.Connection) -> None:
            self._untally(conn, pseudonym, deks)

        def drop_their_days(conn: sqlite3.Connection) -> None:
            found = conn.execute(_PERSON_STATISTICS_DAYS_SQL, (pseudonym,)).fetchall()
            self._drop_days(conn, [(date.fromisoformat(day), flow) for day, flow in found])

        try:
            await on_thread(self._conn(), untally, atomic=True)
        except StorageFull:
            try:
                await on_thread(self._conn(), drop_their_days, atomic=True)
            except StorageFull:
                log.warning("statistics_not_reduced")
