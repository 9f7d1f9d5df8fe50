"""The reliability suite: crash safety, faults at the Bot API, hostile input, full disk.

`make test` runs a quick subset (small crowds, few rounds, fewer generated examples).
Tests marked `slow` and the full sizes run with `make reliability`, which sets
RELIABILITY_FULL=1.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

# hypothesis keeps caches in ./.hypothesis by default: keep the checkout clean.
os.environ.setdefault(
    "HYPOTHESIS_STORAGE_DIRECTORY", str(Path(tempfile.gettempdir()) / "feedbackbot-hypothesis")
)

from tests.fakes.botapi import BotApiServer, FakeBotApi
from tests.reliability.support import FULL, STARTED


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: part of the full reliability suite only (make reliability)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if FULL:
        return
    skip = pytest.mark.skip(reason="slow: runs with `make reliability` (RELIABILITY_FULL=1)")
    for item in items:
        if "slow" in item.keywords and "reliability" in str(item.path):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
async def stop_bots_left_running() -> AsyncIterator[None]:
    """A test that fails midway skips its own `bot.stop()`: stop the bot here, or its
    store's thread keeps the whole pytest run from ever exiting."""
    yield
    while STARTED:
        await STARTED.pop().stop()


@pytest.fixture
def server(api: FakeBotApi) -> Iterator[BotApiServer]:
    """The Bot API double over loopback HTTP, for the real `feedbackbot run` process."""
    with BotApiServer(api) as server:
        yield server
