"""`feedbackbot run`: the bot with long polling."""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

from bot.cli.common import open_store
from bot.logs import configure_logging
from bot.settings import load_settings
from storage import SQLiteStore

log = logging.getLogger("bot.cli")


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "run", help="run the bot (long polling)", description=__doc__
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Start long polling; returns the exit code."""
    from bot.app import build_application  # imported here: keeps other commands fast

    settings = load_settings()
    settings.require_for_run()
    assert settings.token is not None
    configure_logging(settings.log_level, secrets=(settings.token.get_secret_value(),))
    store = open_store(settings)
    # Open once before polling, so a wrong key or unusable store fails fast with one line.
    asyncio.run(_check_store(store))
    application = build_application(settings, store)
    log.info("starting long polling")
    application.run_polling(allowed_updates=["message", "edited_message", "callback_query"])
    return 0


async def _check_store(store: SQLiteStore) -> None:
    await store.open()
    await store.close()
