"""A full file system, not a capped store (found by the operator review s23): the data
folder on a small tmpfs that is then filled up, as when logs or a backup fill the disk.
`max_page_count`, which the other full-disk tests use, caps feedback.db alone; here every
file, the write-ahead logs included, finds no room.

Needs root to mount a tmpfs; skipped elsewhere."""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage import SQLiteStore
from storage.sqlite import RESERVE_FILE
from tests.harness import MASTER_KEY, Harness, texts

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    """The harness's data folder, on a disk of 8 MB of its own."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(disk)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip("needs a tmpfs mount (root)")
    try:
        yield disk / "data"
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


@contextlib.contextmanager
def full(disk: Path, name: str = "filler") -> Iterator[None]:
    filler = disk / name
    with contextlib.suppress(OSError), filler.open("wb") as sink:
        while True:
            sink.write(b"\0" * 4096)
            sink.flush()
    try:
        yield
    finally:
        filler.unlink()


async def give(harness: Harness, user_id: int) -> None:
    customer = harness.customer(user_id)
    await customer.send("/start")
    await customer.press("Ja, ich willige ein")
    await customer.press("4")
    await customer.send("Alles bestens")
    await customer.press("Nein")


async def test_erasure_and_withdrawal_go_through_on_a_full_file_system(
    harness: Harness, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """They failed with "something went wrong", the data kept: even a DELETE needs room in
    the write-ahead log, which is truncated to nothing after every erasure. The space kept
    in reserve is given up for them, the log says to free space, and it is kept again once
    there is room."""
    store = harness.store
    assert store is not None and (data_dir / RESERVE_FILE).exists()
    await give(harness, 4711)
    await give(harness, 4712)
    erika, max_ = harness.customer(4711), harness.customer(4712)
    with full(data_dir.parent):
        await erika.send("/loeschen")
        assert "Erledigt" in texts(await erika.press("Alles löschen"))
        assert await store.feedback_of(store.pseudonym("tg-user:4711"), harness.clock()) == []
        await max_.send("/widerruf")
        said = texts(await max_.press("Speicherung Ihres Feedbacks"))
        assert "wurde widerrufen" in said, said
        assert await store.feedback_of(store.pseudonym("tg-user:4712"), harness.clock()) == []
    assert any(r.levelno == logging.ERROR and "disk full" in r.getMessage() for r in caplog.records)
    assert not (data_dir / RESERVE_FILE).exists()
    assert harness.app is not None and harness.app.bot_data.service is not None
    await store.purge_expired(harness.clock())  # room again: the reserve is kept again
    assert (data_dir / RESERVE_FILE).stat().st_size > 0


def stats_on_a_full_disk(data_dir: Path) -> subprocess.CompletedProcess[str]:
    """`feedbackbot stats` run on the store in `data_dir` once its disk is full."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDBACKBOT_")}
    env.update(
        PYTHONPATH=str(REPO),
        FEEDBACKBOT_DATA_DIR=str(data_dir),
        FEEDBACKBOT_MASTER_KEY=MASTER_KEY,
        LANG="en_US.UTF-8",
    )
    with full(data_dir.parent):
        return subprocess.run(
            [sys.executable, "-m", "bot", "stats"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


async def test_a_full_file_system_at_start_is_named_not_a_damaged_file(data_dir: Path) -> None:
    """The bot stopped cleanly (no -shm left), then the disk filled: SQLite cannot create
    feedback.db-shm and says "disk I/O error", which was reported as "if a file is damaged,
    restore it from a backup", advice that loses all given since; freeing space is all it
    takes."""
    store = SQLiteStore(data_dir, base64.urlsafe_b64decode(MASTER_KEY))
    await store.open()
    await store.close()
    (data_dir / RESERVE_FILE).unlink()
    result = stats_on_a_full_disk(data_dir)
    assert result.returncode == 1
    assert result.stderr == (
        f"feedbackbot: cannot open the store in {data_dir}: no space left on its disk; free "
        "space and start again (nothing is damaged)\n"
    ), result.stderr


async def test_a_full_file_system_at_start_gives_up_the_reserve_to_open_the_store(
    data_dir: Path,
) -> None:
    """Found by an operator walk-through: with the 4 MB kept in reserve in the data folder,
    a full disk kept the bot from starting and `backup` from copying the store first, and
    nothing named the reserve. It is given up to open the store, and said so."""
    store = SQLiteStore(data_dir, base64.urlsafe_b64decode(MASTER_KEY))
    await store.open()
    await store.close()
    assert (data_dir / RESERVE_FILE).exists()
    result = stats_on_a_full_disk(data_dir)
    assert result.returncode == 0, result.stderr
    assert "the space kept in reserve (space.reserve) was given up to open the store" in (
        result.stderr
    ), result.stderr
    assert not (data_dir / RESERVE_FILE).exists()


async def test_once_the_reserve_is_spent_a_further_erasure_says_it_was_not_done(
    harness: Harness, data_dir: Path
) -> None:
    """Found by an operator review: with the disk filled again after the first erasure,
    the second one was answered only "something went wrong, try again in a moment", and
    nothing said that the data was still there."""
    store = harness.store
    assert store is not None
    await give(harness, 4711)
    await give(harness, 4712)
    erika, max_ = harness.customer(4711), harness.customer(4712)
    with full(data_dir.parent):
        assert not await store.out_of_room(), "the reserve is there for it"
        await erika.send("/loeschen")
        assert "Erledigt" in texts(await erika.press("Alles löschen"))
        with full(data_dir.parent, "more"):  # what the erasure freed is taken too
            assert await store.out_of_room()
            await max_.send("/loeschen")
            said = texts(await max_.press("Alles löschen"))
            assert said == (
                "Unser Speicher ist voll, deshalb konnte das Löschen Ihrer Daten gerade nicht "
                "abgeschlossen werden. Bitte senden Sie später noch einmal /loeschen; wir "
                "haben den Betreiber informiert."
            )
    assert not await store.out_of_room()
    await max_.send("/loeschen")  # space again
    assert "Erledigt" in texts(await max_.press("Alles löschen"))
    assert await store.feedback_of(store.pseudonym("tg-user:4712"), harness.clock()) == []


async def test_with_a_little_room_and_no_reserve_an_erasure_is_not_refused(
    harness: Harness, data_dir: Path
) -> None:
    """Found by review: refusing below 1 MB turned away erasures that went through with
    128 KB free (a small volume never had room for the reserve)."""
    store = harness.store
    assert store is not None
    await give(harness, 4711)
    (data_dir / RESERVE_FILE).unlink()
    with full(data_dir.parent):
        filler = data_dir.parent / "filler"
        os.truncate(filler, filler.stat().st_size - (512 << 10))  # 512 KB free
        assert not await store.out_of_room()
        erika = harness.customer(4711)
        await erika.send("/loeschen")
        assert "Erledigt" in texts(await erika.press("Alles löschen"))
    assert await store.feedback_of(store.pseudonym("tg-user:4711"), harness.clock()) == []


async def test_with_too_little_room_an_erasure_is_not_begun_and_nothing_is_half_done(
    harness: Harness, data_dir: Path
) -> None:
    """Found by review: with 64-100 KB free and no reserve, an erasure destroyed the keys,
    then failed on the rows, and answered that nothing was erased; sent again, "no data
    is stored about you"."""
    store = harness.store
    assert store is not None
    await give(harness, 4711)
    (data_dir / RESERVE_FILE).unlink()
    pseudonym = store.pseudonym("tg-user:4711")
    with full(data_dir.parent):
        filler = data_dir.parent / "filler"
        os.truncate(filler, filler.stat().st_size - (100 << 10))  # 100 KB free
        assert await store.out_of_room()
        erika = harness.customer(4711)
        await erika.send("/loeschen")
        said = texts(await erika.press("Alles löschen"))
        assert said.startswith("Unser Speicher ist voll"), said
        assert len(await store.feedback_of(pseudonym, harness.clock())) == 1, "readable still"
    await erika.send("/loeschen")
    assert "Erledigt" in texts(await erika.press("Alles löschen"))
