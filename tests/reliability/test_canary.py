"""The canary scanner finds what it should, in every form, and nothing else."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.reliability.canary import CanaryScanner, needles


def test_finds_a_canary_in_a_database_its_wal_and_a_log(tmp_path: Path) -> None:
    scanner = CanaryScanner()
    scanner.add("Zaunkönig-77ab", "comment")
    scanner.person(5_550_123_456, first_name="Mechthild-Canary", username="canary_user_x")
    db = sqlite3.connect(tmp_path / "x.db")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("CREATE TABLE t (v TEXT)")
    db.execute("INSERT INTO t VALUES (?)", ("said: Zaunkönig-77ab",))
    db.commit()
    findings = scanner.scan(tmp_path, [("bot.log", "user 5550123456 wrote")])
    wheres = {f.where.rsplit("/", 1)[-1] for f in findings}
    assert "x.db-wal" in wheres or "x.db" in wheres
    assert "log bot.log" in wheres
    assert {f.label for f in findings} == {"comment", "user id 5550123456"}
    db.close()


@pytest.mark.parametrize(
    "blob",
    [
        "Zaunkönig-77ab".encode("utf-16-le"),
        json.dumps({"c": "Zaunkönig-77ab"}).encode(),  # ensure_ascii escapes the umlaut
        b"ZAUNK\xc3\xb6NIG-77AB".lower(),
    ],
)
def test_finds_encoded_forms(blob: bytes) -> None:
    scanner = CanaryScanner()
    scanner.add("Zaunkönig-77ab")
    assert scanner.scan_bytes(b"xx" + blob + b"yy", "blob")


def test_clean_data_passes_and_short_canaries_are_refused(tmp_path: Path) -> None:
    scanner = CanaryScanner()
    scanner.add("Kanarienvogel-1")
    (tmp_path / "f.bin").write_bytes(b"nothing to see")
    scanner.assert_clean(tmp_path, [("log", "event=feedback_stored p:1a2b3c")])
    with pytest.raises(ValueError):
        scanner.add("abc")
    assert b"abc" in needles("abc")


def test_assert_clean_names_what_leaked_where(tmp_path: Path) -> None:
    scanner = CanaryScanner()
    scanner.add("Kanarienvogel-1", "comment of Erika")
    with pytest.raises(AssertionError, match=r"comment of Erika in log bot\.log"):
        scanner.assert_clean(None, [("bot.log", "text=Kanarienvogel-1")])
