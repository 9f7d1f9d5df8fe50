"""The `feedbackbot` command line (also `python -m bot`).

Each subcommand lives in its own module with a `register(subparsers)` function that
adds its parser and sets `handler=` to a function taking the parsed arguments and
returning the exit code.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from importlib import metadata

from bot.cli import chat, check, docs, keys, maintenance, run, staff
from bot.cli.common import argparse_speaks, interrupted_code, sigterm_as_ctrl_c
from bot.operator import operator_language, operator_translator
from bot.settings import ConfigurationError
from flows.catalog import FlowDefinitionError
from flows.i18n import Translator
from flows.sharing import RecipientsError
from storage import StoreError
from storage.crypto import MalformedMasterKey
from storage.interface import DecryptionFailed
from storage.sqlite_db import written_schemas

SUBCOMMANDS = (
    run,
    chat,
    check,
    keys,
    maintenance,
    staff,
    docs,
)


def version_line() -> str:
    """ "feedbackbot 0.1.0 (store schema: data v19, keys v6, ledger v2)": during an upgrade, which
    version a venv holds and which store it writes (see README, Upgrading feedbackbot)."""
    try:
        installed = metadata.version("feedbackbot")
    except metadata.PackageNotFoundError:  # run from a source tree not installed
        installed = "(not installed)"
    return f"feedbackbot {installed} (store schema: {written_schemas()})"


def build_parser(t: Translator) -> argparse.ArgumentParser:
    """The parser with its help in the language of `t` (argparse's own words too, when
    built and used inside `argparse_speaks(t)`)."""
    parser = argparse.ArgumentParser(
        prog="feedbackbot",
        description=t.gettext("A consent-first Telegram feedback bot with encrypted storage."),
    )
    parser.add_argument(
        "--version",
        action="version",
        version=version_line(),
        help=t.gettext("show the version and the store schema it writes, and exit"),
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar=t.gettext("COMMAND"))
    for module in SUBCOMMANDS:
        module.register(subparsers, t)
    return parser


def subcommand(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    """The parser of subcommand `name`."""
    for action in parser._actions:  # argparse offers no public way to them
        if isinstance(action, argparse._SubParsersAction):
            found: argparse.ArgumentParser = action.choices[name]
            return found
    raise LookupError(name)


def main(argv: Sequence[str] | None = None) -> int:
    # python-telegram-bot's future behaviour: RetryAfter.retry_after as a timedelta.
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    t = operator_translator()
    with argparse_speaks(t):
        parser = build_parser(t)
        args, unknown = parser.parse_known_args(_negative_periods_joined(argv))
        if unknown:  # said by the subcommand, with its usage (not "feedbackbot COMMAND ...")
            refusing = subcommand(parser, args.command)
            if getattr(args, "document", None):  # `docs privacy-notice --bogus`
                refusing = subcommand(refusing, args.document)
            refusing.error(t.gettext("unrecognized arguments: %s") % " ".join(unknown))
    # `check --lang en`, `chat --lang en`: every message in that language, its errors too.
    # (Other commands' --lang is the language of what they produce, not of their errors.)
    requested = getattr(args, "lang", None) if args.command in LANG_FOR_MESSAGES else None
    with operator_language(requested):
        return _handled(args, operator_translator())


def _negative_periods_joined(argv: Sequence[str] | None) -> list[str]:
    """`--since -3d` as `--since=-3d`: argparse takes "-3d" for an option and said only
    that --since expected an argument; joined, the period's check says why it is refused."""
    given = list(sys.argv[1:] if argv is None else argv)
    joined: list[str] = []
    for word in given:
        if joined and joined[-1] == "--since" and re.match(r"-\d", word):
            joined[-1] = f"--since={word}"
        else:
            joined.append(word)
    return joined


PIPE_CLOSED = 128 + 13  # as a shell reports a program SIGPIPE (13) ended
"""The exit code where the reader of the output stopped reading (`| head`)."""

LANG_FOR_MESSAGES = frozenset({"check", "chat"})
"""The subcommands whose --lang is the language of all they say."""


SIGNALS_OF_THEIR_OWN = frozenset({"run", "chat"})
"""The subcommands that stop on SIGTERM in a way of their own (the bot's shutdown, the
chat's folder deleted)."""


def _handled(args: argparse.Namespace, t: Translator) -> int:
    """The handler's exit code; an error the operator can fix said in one or two lines."""
    try:
        if args.command in SIGNALS_OF_THEIR_OWN:
            return int(args.handler(args))
        with sigterm_as_ctrl_c():
            return int(args.handler(args))
    except KeyboardInterrupt:
        # Ctrl-C: each command leaves nothing half done (see its handler), and says so
        # in one line rather than a traceback through asyncio (found by an operator audit).
        print("feedbackbot: " + t.gettext("interrupted"), file=sys.stderr)
        return interrupted_code()
    except FlowDefinitionError as error:
        # The first broken file stops the start; check names every problem, with hints.
        print(f"feedbackbot: {said(error, t)}", file=sys.stderr)
        print(
            "feedbackbot: "
            + t.gettext("`feedbackbot check FOLDER` lists every problem with a hint to fix it"),
            file=sys.stderr,
        )
        return 1
    except DecryptionFailed:
        # A record sealed under a key it does not open with: data put back from another
        # store, or damaged (found by an operator walk-through: "ciphertext failed
        # authentication", untranslated, with no way on).
        print(
            "feedbackbot: "
            + t.gettext(
                "a record in the store does not open with its key: the data file is damaged, "
                "or it belongs to another store's key store. Restore a data backup together "
                "with the key store backup taken with it (`feedbackbot restore BACKUP --keys "
                "KEYS_BACKUP`)"
            ),
            file=sys.stderr,
        )
        return 1
    except (ConfigurationError, RecipientsError, StoreError) as error:
        print(f"feedbackbot: {said(error, t)}", file=sys.stderr)
        if isinstance(error, MalformedMasterKey):  # "got 48": what now?
            hint = t.gettext(
                "a master key is urlsafe base64 of 32 random bytes; `feedbackbot keygen --output "
                "FILE` makes a new one (a new key does not open a store made with another)"
            )
            if args.command == "rotate-key":  # where a new one is the point (walk-through)
                hint = t.gettext(
                    "a master key is urlsafe base64 of 32 random bytes; `feedbackbot keygen "
                    "--output FILE` makes a new one"
                )
            print(f"feedbackbot: {hint}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # `feedbackbot export | head`: the reader has what it wanted (found by a staff
        # walk-through: "feedbackbot: Broken pipe"). Silent, with the code of a program
        # SIGPIPE ends; stdout to nowhere, or its flush at exit raises again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return PIPE_CLOSED
    except OSError as error:
        # A data dir that is a file, a folder without write permission, a full disk:
        # the operator's to fix, so one line naming the file rather than a traceback.
        # Absolute: a relative path says nothing where the working directory is not the
        # one the operator thinks (cron, systemd).
        name = error.filename
        where = f": {os.path.abspath(name) if isinstance(name, str) else name}" if name else ""
        print(f"feedbackbot: {t.reason(error)}{where}", file=sys.stderr)
        owner = _owner_of(name) if isinstance(error, PermissionError) else None
        if owner is not None:
            # whose it is, and how to act as them (found by an operator walk-through: a bare
            # "Permission denied" on the bot account's keys.db)
            hint = t.gettext(
                "it belongs to the user {owner}: run the command as that user (e.g. "
                "`sudo -u {owner} feedbackbot …`)"
            )
            print(f"feedbackbot: {hint.format(owner=owner)}", file=sys.stderr)
        return 1


def _owner_of(name: object) -> str | None:
    """The name of the user owning file `name` (or, where it cannot be looked at, its
    folder), where that is not the user running; None otherwise."""
    import pwd

    if not isinstance(name, str):
        return None
    for path in (name, os.path.dirname(os.path.abspath(name))):
        try:
            uid = os.stat(path).st_uid
        except OSError:
            continue
        if uid == os.geteuid():
            return None
        try:
            return pwd.getpwuid(uid).pw_name
        except KeyError:
            return str(uid)
    return None


def said(error: Exception, t: Translator) -> str:
    """The error's message in the operator's language: the store's carry their catalog id
    (`template`) and its values; the settings' are translated where they are raised."""
    if isinstance(error, StoreError) and error.template:
        return error.said(t.gettext(error.template), t.reason)
    return str(error)


if __name__ == "__main__":
    sys.exit(main())
