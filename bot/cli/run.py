"""`feedbackbot run`: the bot with long polling."""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import sys
from datetime import timedelta
from typing import Any

from telegram.error import InvalidToken, TelegramError

from bot.cli.common import open_store, retentions
from bot.config import service_config
from bot.logs import RedactingFormatter, configure_logging
from bot.operator import operator_translator
from bot.settings import SHORT_RETENTION, Settings, load_settings
from flows.catalog import FlowCatalog
from flows.durations import compact_duration
from flows.i18n import SUPPORTED_LOCALES, Translator
from flows.redaction import compile_patterns
from storage import SQLiteStore
from storage.sqlite import KEY_STORE_FILE
from storage.sqlite_db import written_schemas

log = logging.getLogger("bot.cli")

STARTUP_RETRIES = 3


def register(subparsers: Any, t: Translator) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "run",
        help=t.gettext("run the bot (long polling)"),
        description=t.gettext(
            "Run the bot with long polling until it is stopped (Ctrl-C, SIGTERM). Needs "
            "FEEDBACKBOT_TOKEN and the controller's name and contact."
        ),
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Start long polling; returns the exit code."""
    from bot.app import warn_if_contact_unused  # imported here: keeps other commands fast

    settings = load_settings()
    settings.require_for_run()
    assert settings.token is not None
    token = settings.token.get_secret_value()
    configure_logging(settings.log_level, secrets=(token,))
    rules = settings.staff_rules
    if rules is not None and (lacking := [lang for lang in SUPPORTED_LOCALES if lang not in rules]):
        log.warning(  # allowed ("de and/or en"), but staff writing in it read another
            "%s has no staff rules in %s: staff who write in it are shown the rules in %s",
            settings.staff_rules_file,
            ", ".join(lacking),
            ", ".join(rules),
        )
    if settings.retention < SHORT_RETENTION:
        # Allowed (tests, demos), but likely a slip: customers are told this retention.
        log.warning(
            "FEEDBACKBOT_RETENTION is only %s, and the consent notice tells customers so: "
            "a plain number counts seconds and m minutes (write 180d for 180 days)",
            compact_duration(settings.retention),
        )
    # The flows and recipients before the store: a mistake there must not leave a new
    # store and a generated master key behind.
    catalog = FlowCatalog.load(settings.flows_dir, operator_translator(), settings.shipped_flows)
    service_config(settings, catalog)
    warn_if_contact_unused(settings, catalog)
    # Before polling, as the first comment would wait for it; and before the store opens, so
    # that a stop signal in these seconds finds no store open and python-telegram-bot not
    # yet there to take the signal.
    compile_patterns()
    new_store = not (settings.data_dir / KEY_STORE_FILE).exists()
    store = open_store(settings, exclusive=True)
    # Opened before polling, so a wrong key or an unusable store fails fast with one line,
    # and on the event loop python-telegram-bot then runs on (it takes the current one):
    # the bot goes on with this store, not a second opening of it (which logged
    # "store_opened" and "store_closed" twice on each start, found by an operator walk).
    # Run by asyncio.Runner, whose Ctrl-C cancels the opening: Python's own handler raised
    # KeyboardInterrupt wherever the loop was, also between taking a task's wake-up off the
    # ready queue and running it, and the cancelled opening then never ran again, the
    # process waiting for it for good (a loaded test run: "still running 30 s after
    # Ctrl-C"). Cancelled, it closes what it opened; KeyboardInterrupt comes after.
    runner = asyncio.Runner()
    try:
        runner.run(_open_checked(store, retentions(settings, catalog)))
    except BaseException:
        store.abandon()
        runner.close()  # (python-telegram-bot closes the loop it is left when it ends)
        raise
    try:
        return _run_polling(settings, store, catalog, new_store=new_store)
    finally:
        # A stop signal during start-up can end python-telegram-bot's shutdown before our
        # post_shutdown closed the store: its thread would keep the process from exiting.
        store.abandon()


async def _open_checked(store: SQLiteStore, periods: dict[str, timedelta]) -> None:
    """Open the store, refusing a retention that would cut stored feedback short before the
    Bot API is asked (post_init asks again, for `chat`): offline, its network error hid
    this refusal (an operator walk-through)."""
    from bot.app import refuse_cutting_short

    await store.open()
    try:
        await refuse_cutting_short(store, periods)
    except BaseException:
        await store.close()
        raise


def _run_polling(
    settings: Settings, store: SQLiteStore, catalog: FlowCatalog, *, new_store: bool
) -> int:
    """Poll with the store opened; returns the exit code."""
    from bot.app import build_application  # imported here: keeps other commands fast
    from bot.handlers.common import HANDLED_UPDATES

    assert settings.token is not None
    token = settings.token.get_secret_value()
    if new_store:
        # Started from another working directory (systemd's is /), or with a mistyped
        # FEEDBACKBOT_DATA_DIR, the bot makes a new store and runs on it; the log must say
        # where, or the operator finds out when the feedback seems gone (operator review).
        # The one line about it: each schema step, 30 lines, is logged at DEBUG only.
        log.warning(
            "created a new, empty store in %s (store schema: %s); if this bot ran before, stop "
            "it: its store is elsewhere (set FEEDBACKBOT_DATA_DIR to an absolute path, or the "
            "working directory)",
            settings.data_dir.absolute(),
            written_schemas(),
        )
    application = build_application(settings, store, catalog=catalog, store_open=True)
    log.info("starting long polling; data folder %s", settings.data_dir.absolute())
    try:
        # A blip at start (a 502, the network not up yet) is tried again a few times, for
        # about seven seconds; a rejected token is not. Beyond that a supervisor restarts.
        application.run_polling(
            allowed_updates=list(HANDLED_UPDATES),
            bootstrap_retries=STARTUP_RETRIES,
        )
    except InvalidToken as error:
        t = operator_translator()
        said = _said_along(error)  # python-telegram-bot wraps what the server answered
        if _NOT_ITS_REPLY in said:
            # A 404 or 401 that is not the Bot API's answer (no JSON of it): a wrong address
            # or a proxy's page, not a token Telegram refused (found by an operator
            # walk-through: told to check the token with @BotFather).
            print(f"feedbackbot: {_not_the_bot_api(t, said)}", file=sys.stderr)
            return 1
        print(
            "feedbackbot: "
            + t.gettext(
                "Telegram rejected the bot token (FEEDBACKBOT_TOKEN); check it with @BotFather"
            ),
            file=sys.stderr,
        )
        return 1
    except TelegramError as error:
        # Raised while starting (polling itself retries): one line, with the token removed
        # (a request URL in the message carries it).
        t = operator_translator()
        said = _said_along(error)
        if _NOT_ITS_REPLY in said:  # a 405 of a plain web server, say (operator walk-through)
            print(f"feedbackbot: {_not_the_bot_api(t, said)}", file=sys.stderr)
            return 1
        reason = RedactingFormatter((token,)).redact(str(error))
        if "All connection attempts failed" in reason:  # httpx's English (walk-through)
            reason = t.gettext("no connection could be made")
        print(
            "feedbackbot: "
            + t.gettext(
                "cannot reach the Bot API ({reason}); check the network and "
                "FEEDBACKBOT_API_BASE_URL"
            ).format(reason=reason),
            file=sys.stderr,
        )
        return 1
    return 0


_NOT_ITS_REPLY = "Parsing the server response"
"""What python-telegram-bot says of a 404 or 401 without the Bot API's JSON reply."""


def _not_the_bot_api(t: Translator, said: str) -> str:
    return t.gettext(
        "the address of the Bot API did not answer as the Bot API does (HTTP {status}, not "
        "its reply); check FEEDBACKBOT_API_BASE_URL, or a proxy on the way"
    ).format(status=_status_of(said))


def _said_along(error: BaseException) -> str:
    """The messages of `error` and the errors it was raised from."""
    said: list[str] = []
    while error is not None and len(said) < 5:
        said.append(str(error))
        error = error.__cause__  # type: ignore[assignment]
    return " ".join(said)


def _status_of(said: str) -> str:
    """The HTTP status PTB's message names ("Not Found (404). Parsing …"), or "404/401"."""
    found = re.search(r"\((\d{3})\)\. " + _NOT_ITS_REPLY, said)
    return found.group(1) if found else "?"
