"""Concurrent update processing that keeps each person's updates in order."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# PTB's own semaphore is taken before do_process_update; it must never be what bounds
# the work, or one person's queued updates (waiting for their turn) hold every slot.
_UNBOUNDED = 1 << 30


class PerPersonUpdateProcessor(BaseUpdateProcessor):
    """Different people are served in parallel; one person's updates never are.

    asyncio.Lock wakes waiters first-in first-out and PTB creates the tasks in the
    order updates arrive, so a person's updates are handled in the order sent.

    At most `max_concurrent_updates` run at once, counted only once an update has its
    person's turn: a person who forwards a hundred messages at once (their answers
    slowed by Telegram's limit per chat) waits for their own, never makes others wait.
    """

    def __init__(self, max_concurrent_updates: int = 64) -> None:
        if max_concurrent_updates < 1:
            raise ValueError("max_concurrent_updates must be at least 1")
        self._limit = _UNBOUNDED  # what super() builds PTB's semaphore with, via the property
        super().__init__(_UNBOUNDED)
        self._limit = max_concurrent_updates
        self._running = asyncio.Semaphore(max_concurrent_updates)
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}
        self._now_running = 0

    @property
    def max_concurrent_updates(self) -> int:
        """How many updates run at once (PTB's own semaphore is unbounded)."""
        return self._limit

    @property
    def current_concurrent_updates(self) -> int:
        """How many updates run right now (not those waiting for their person's turn)."""
        return self._now_running

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _person_key(update)
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock, self._running:
                self._now_running += 1
                try:
                    await coroutine
                finally:
                    self._now_running -= 1
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


def _person_key(update: object) -> int:
    if isinstance(update, Update):
        if update.effective_user is not None:
            return update.effective_user.id
        if update.effective_chat is not None:
            return update.effective_chat.id
    return 0
