"""The `feedbackbot` command line (also `python -m bot`)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence

from bot.logs import configure_logging
from bot.settings import ConfigurationError, Settings, load_settings
from flows.catalog import FlowDefinitionError
from storage import SQLiteStore, StoreError, resolve_master_key

log = logging.getLogger("bot.cli")


def main(argv: Sequence[str] | None = None) -> int:
    # python-telegram-bot's future behaviour: RetryAfter.retry_after as a timedelta.
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    parser = argparse.ArgumentParser(prog="feedbackbot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the bot with long polling")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        if args.command == "run":
            return run(settings)
    except (ConfigurationError, FlowDefinitionError, StoreError) as error:
        print(f"feedbackbot: {error}", file=sys.stderr)
        return 1
    parser.error(f"unknown command {args.command}")


def open_store(settings: Settings) -> SQLiteStore:
    """The SQLite store under the data dir, with the master key from the settings."""
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
    return SQLiteStore(settings.data_dir, key)


def run(settings: Settings) -> int:
    """Start long polling; returns the exit code."""
    from bot.app import build_application

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


if __name__ == "__main__":
    sys.exit(main())
