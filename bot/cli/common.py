"""Pieces several subcommands share: opening the store from the settings, `--since`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from bot.settings import Settings, load_settings
from flows.durations import InvalidDuration, parse_duration
from flows.i18n import resolve_locale
from flows.staff import MAX_PERIOD
from storage import SQLiteStore, StoreError, resolve_master_key
from storage.sqlite import KEY_STORE_FILE

log = logging.getLogger("bot.cli")
T = TypeVar("T")


def lookback(text: str) -> timedelta:
    """`--since 30d`: how far back, at most ten years; argparse reports anything else as a
    usage error (exit 2) instead of a traceback."""
    try:
        period = parse_duration(text)
    except InvalidDuration:
        raise argparse.ArgumentTypeError(
            f"{text[:40]!r} is not a period; use e.g. 24h, 30d or 52w"
        ) from None
    if period > MAX_PERIOD:
        raise argparse.ArgumentTypeError(f"at most {MAX_PERIOD.days} days back")
    return period


def open_store(settings: Settings, *, exclusive: bool = False) -> SQLiteStore:
    """The SQLite store under the data dir, with the master key from the settings;
    `exclusive` for the commands that write: opening then fails while another holds it.

    On a first run without any key, one is generated and the log says where.
    Raises StoreError subclasses (wrong key, missing key store) without touching files.
    """
    key, generated = resolve_master_key(
        settings.master_key.get_secret_value() if settings.master_key else None,
        settings.master_key_file,
        settings.data_dir,
    )
    if generated is not None:
        log.warning(
            "generated a new master key in %s; in production keep it elsewhere "
            "(FEEDBACKBOT_MASTER_KEY_FILE) and back it up separately from the data",
            generated,
        )
    return SQLiteStore(settings.data_dir, key, exclusive=exclusive)


def open_existing_store(settings: Settings, *, exclusive: bool = False) -> SQLiteStore:
    """Like open_store, but raises StoreError when the data dir holds no store."""
    if not (settings.data_dir / KEY_STORE_FILE).exists():
        raise StoreError(
            f"no store in {settings.data_dir} (no {KEY_STORE_FILE}); check "
            "FEEDBACKBOT_DATA_DIR. A new store is made by `feedbackbot run`."
        )
    return open_store(settings, exclusive=exclusive)


def operator_locale(requested: str | None, default: str) -> str:
    """The language for messages to the person at the terminal: `requested`, else the
    terminal's (LC_ALL, LC_MESSAGES, LANG), else `default`."""
    if requested:
        return resolve_locale(requested, default)
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if os.environ.get(name):
            return resolve_locale(os.environ[name], default)
    return resolve_locale(None, default)


def with_store(
    work: Callable[[SQLiteStore, Settings], Awaitable[T]], *, exclusive: bool = False
) -> T:
    """Run `work` on the opened store of the configured data dir, then close it.

    Raises StoreError when the data dir holds no store: these commands read or maintain
    one, and a mistyped FEEDBACKBOT_DATA_DIR must not make a new, empty one (a backup
    job would then save nothing, every night, without a word).
    """
    settings = load_settings()
    store = open_existing_store(settings, exclusive=exclusive)

    async def run() -> T:
        await store.open()
        try:
            return await work(store, settings)
        finally:
            await store.close()

    return asyncio.run(run())
