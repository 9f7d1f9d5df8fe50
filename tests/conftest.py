"""Shared fixtures: a fake Bot API, a clock, and the real bot over both."""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.fakeapi import FakeBotApi
from storage import SQLiteStore
from tests.harness import TOKEN, Clock, Harness, leaked_into_log, make_settings

# Opt in to python-telegram-bot's timedelta `retry_after`, as bot.cli does for production.
os.environ.setdefault("PTB_TIMEDELTA", "1")

# Hypothesis keeps a cache (.hypothesis/constants) in the working folder even with no example
# database: in a temporary folder instead, so that no test leaves files in the checkout.
if "HYPOTHESIS_STORAGE_DIRECTORY" not in os.environ:
    _hypothesis_home = tempfile.mkdtemp(prefix="feedbackbot-hypothesis-")
    os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = _hypothesis_home
    atexit.register(shutil.rmtree, _hypothesis_home, ignore_errors=True)


@pytest.fixture(autouse=True)
def english_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line speaks the terminal's language, else German; tests read its
    English unless they set another (and the commands they start inherit it)."""
    for name in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "en_US.UTF-8")


@pytest.fixture(autouse=True)
def logging_as_it_was() -> Iterator[None]:
    """A command run in the test's process (`run`, `chat`) points the root logger at the
    test's captured stderr, closed after the test: put back the handlers it had (found in
    a CI log: "--- Logging error --- I/O operation on closed file" tracebacks in later
    tests' output, which hid the lines they logged)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(autouse=True)
def stores_left_open(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A store a test opened and did not close (it failed before the close) is abandoned
    after it: its thread kept pytest from ever exiting, "1 failed" printed and then a hang
    (found by a mutation audit; in CI, a red test became a job timeout)."""
    opened: list[SQLiteStore] = []
    real_open = SQLiteStore.open

    async def open_noted(self: SQLiteStore, *args: Any, **kwargs: Any) -> None:
        opened.append(self)
        await real_open(self, *args, **kwargs)

    monkeypatch.setattr(SQLiteStore, "open", open_noted)
    yield
    for store in opened:
        if store._db is not None:
            store.abandon()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def api(clock: Clock) -> FakeBotApi:
    """Messages dated by the test's clock, as Telegram dates them by the real one (found
    by a review: dated by the machine's clock, days after the test's, they were ignored,
    and no test through the bot measured the windows between messages by their dates)."""
    return FakeBotApi(TOKEN, clock=lambda: clock().timestamp())


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
async def harness(
    api: FakeBotApi, clock: Clock, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[Harness]:
    caplog.set_level(logging.DEBUG)
    harness = Harness(api=api, settings=make_settings(data_dir), clock=clock)
    await harness.start()
    yield harness
    await harness.stop()
    # Whatever a test did, nobody's words, names or the token are in the log it wrote.
    records = [*caplog.get_records("setup"), *caplog.get_records("call"), *caplog.records]
    assert not leaked_into_log(records, harness.personal)
