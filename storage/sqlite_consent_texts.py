"""The archive of consent texts: the wording behind the hashes in the consent records."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import ValidationError

from storage.interface import N_, ArchivedConsentText, ConsentText, StoreError
from storage.sqlite_core import StoreCore
from storage.sqlite_db import dt, fetch_all, run_many, ts

_COLUMNS = "sha256, flow_id, notice_version, language, kind, purposes, first_seen, text"


class ConsentTexts(StoreCore):
    """Consent texts in clear, one row per flow, notice version, language, kind, purposes
    and SHA-256 (an optional question's text unchanged by a new notice version is kept
    under each version). Purposes are ids, which hold no comma."""

    async def archive_consent_texts(self, texts: Sequence[ConsentText], now: datetime) -> int:
        rows = [
            (
                text.sha256,
                text.flow_id,
                text.notice_version,
                text.language,
                text.kind,
                ",".join(text.purposes),
                ts(now),
                text.text,
            )
            for text in texts
        ]
        # One statement per text in one transaction: what is there already is left as it
        # was, first seen included.
        return await run_many(
            self._conn(),
            f"INSERT OR IGNORE INTO main.consent_texts ({_COLUMNS})"  # noqa: S608
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    async def consent_texts(
        self, notice_version: str | None = None, sha256: str | None = None
    ) -> list[ArchivedConsentText]:
        rows = await fetch_all(
            self._conn(),
            f"SELECT {_COLUMNS} FROM main.consent_texts"  # noqa: S608
            " WHERE (?1 IS NULL OR notice_version = ?1) AND (?2 IS NULL OR sha256 = ?2)"
            " ORDER BY first_seen, flow_id, notice_version, kind = 'optional', purposes,"
            " language",
            (notice_version, sha256),
        )
        archived = []
        for sha, flow_id, version, language, kind, purposes, first_seen, text in rows:
            try:
                archived.append(
                    ArchivedConsentText(
                        sha256=sha,
                        flow_id=flow_id,
                        notice_version=version,
                        language=language,
                        kind=kind,
                        purposes=tuple(purposes.split(",")) if purposes else (),
                        first_seen=dt(first_seen),
                        text=text,
                    )
                )
            except ValidationError:  # never shown as proof: it is not the text hashed
                raise StoreError(
                    N_(
                        "the archived consent text {sha256} is not the text with that SHA-256: "
                        "the data store was changed outside feedbackbot; restore it from a "
                        "backup"
                    ),
                    sha256=sha,
                ) from None
        return archived
