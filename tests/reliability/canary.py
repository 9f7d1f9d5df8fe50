"""A canary scanner: distinctive strings put into feedback, names and ids, then searched
for as bytes in every file under the data directory and in the captured logs.

Each canary is searched in the encodings it could end up in: UTF-8 (as typed, and
lower-cased), UTF-16 (either byte order) and JSON's ASCII escapes. A finding names the
file or log and the canary's label, so a failing test says what leaked where.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

MIN_LENGTH = 6  # shorter needles would match by chance


@dataclass(frozen=True)
class Finding:
    label: str
    where: str
    offset: int

    def __str__(self) -> str:
        return f"{self.label} in {self.where} at byte {self.offset}"


def needles(value: str) -> set[bytes]:
    """Every byte form of `value` worth looking for."""
    forms = {value, value.lower()}
    escaped = json.dumps(value)[1:-1]  # ensure_ascii: \\u00fc for ü
    forms.add(escaped)
    found: set[bytes] = set()
    for form in forms:
        found.add(form.encode("utf-8"))
    found.add(value.encode("utf-16-le"))
    found.add(value.encode("utf-16-be"))
    return found


@dataclass
class CanaryScanner:
    """Collects canaries (`add`, `person`) and scans files and logs for them."""

    canaries: dict[str, str] = field(default_factory=dict)  # label -> value

    def add(self, value: str | int, label: str | None = None) -> str:
        text = str(value)
        if len(text) < MIN_LENGTH:
            raise ValueError(f"canary {text!r} is too short to be distinctive")
        self.canaries[label or text] = text
        return text

    def person(self, user_id: int, *, first_name: str, username: str | None = None) -> None:
        """A simulated person's id and names."""
        self.add(user_id, f"user id {user_id}")
        self.add(first_name, f"first name of {user_id}")
        if username:
            self.add(username, f"username of {user_id}")

    def scan_bytes(self, blob: bytes, where: str) -> list[Finding]:
        findings = []
        for label, value in self.canaries.items():
            for needle in needles(value):
                offset = blob.find(needle)
                if offset >= 0:
                    findings.append(Finding(label, where, offset))
                    break
        return findings

    def scan_files(self, folder: Path) -> list[Finding]:
        """Every file under `folder` (databases, -wal, -shm, journals, backups, keys)."""
        findings = []
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                findings += self.scan_bytes(path.read_bytes(), str(path))
        return findings

    def scan(
        self, folder: Path | None = None, logs: Iterable[tuple[str, str | bytes]] = ()
    ) -> list[Finding]:
        """Files under `folder` and each `(name, text)` log."""
        findings = self.scan_files(folder) if folder is not None else []
        for name, text in logs:
            blob = text.encode("utf-8", "replace") if isinstance(text, str) else text
            findings += self.scan_bytes(blob, f"log {name}")
        return findings

    def assert_clean(
        self, folder: Path | None = None, logs: Iterable[tuple[str, str | bytes]] = ()
    ) -> None:
        findings = self.scan(folder, logs)
        if findings:
            listed = "\n  ".join(str(f) for f in findings[:20])
            raise AssertionError(f"{len(findings)} canaries found:\n  {listed}")
