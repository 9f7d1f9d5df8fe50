"""`feedbackbot chat`: the real bot in the terminal, against a Bot API double in-process.

The same Application, handlers, flows and encrypted store as `feedbackbot run`; only
Telegram is replaced. No token and no network are needed. Unless `--data-dir` is given,
everything lives in a temporary folder that is deleted when the chat ends.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import select
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from bot.cli.check import print_reports
from bot.cli.common import open_store, quiet_flow_warnings
from bot.logs import configure_logging
from bot.operator import operator_locale, operator_translator
from bot.settings import Settings, load_settings
from flows.catalog import FlowCatalog, FlowDefinitionError, shipped_flow_ids
from flows.check import check_file, check_loaded
from flows.i18n import SUPPORTED_LOCALES, Translator, translator
from flows.sharing import RecipientsError

CHAT_USER_ID = 2**52 + 1
"""Whom the chat is as: above the 52 bits of any Telegram user id, so that `chat
--data-dir` on a bot's own data folder is nobody's account there (found by an operator's
walk-through: as 100000001, a real id, it showed and could erase that customer's data,
and --staff wrote audit entries under it)."""
# The double accepts any well-formed token; this one opens nothing anywhere.
CHAT_TOKEN = "100000000:chat-demo-not-a-real-token"  # noqa: S105


def register(subparsers: Any, t: Translator) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "chat",
        help=t.gettext("chat with the bot in the terminal (no token, no network)"),
        description=t.gettext(
            "Chat with the real bot in the terminal: buttons appear as numbers, "
            "files are saved and their path shown. No token or network needed."
        ),
    )
    parser.add_argument(
        "--flow",
        type=Path,
        metavar="FILE",
        help=t.gettext(
            "a flow definition to try: checked, loaded besides the shipped ones (instead of "
            "FEEDBACKBOT_FLOWS_DIR) and started; or the id of a flow the bot runs (product)"
        ),
    )
    parser.add_argument(
        "--lang",
        choices=SUPPORTED_LOCALES,
        help=t.gettext(
            "the language you chat in (default: the terminal's, else the default locale)"
        ),
    )
    parser.add_argument(
        "--recipients",
        type=Path,
        metavar="FILE",
        help=t.gettext(
            "the recipients file, for a flow that passes feedback on (default: "
            "FEEDBACKBOT_RECIPIENTS_FILE); nothing is delivered in the chat"
        ),
    )
    parser.add_argument(
        "--data-dir",
        type=_data_dir,
        metavar="DIR",
        help=t.gettext(
            "keep the data in this folder (default: a temporary one, deleted at the end)"
        ),
    )
    parser.add_argument(
        "--staff",
        action="store_true",
        help=t.gettext("chat as a member of staff (staff commands allowed)"),
    )
    parser.set_defaults(handler=chat)


@dataclass(frozen=True)
class ChatOptions:
    flow: Path | None = None
    lang: str | None = None
    data_dir: Path | None = None
    staff: bool = False
    recipients: Path | None = None


def chat(args: argparse.Namespace) -> int:
    """Run the chat on the terminal; returns the exit code."""
    configure_logging("WARNING", secrets=(CHAT_TOKEN,))
    options = ChatOptions(
        flow=args.flow,
        lang=args.lang,
        data_dir=args.data_dir,
        staff=args.staff,
        recipients=args.recipients,
    )
    # Piped input is not echoed by the terminal; echo it so the transcript reads as a chat.
    # (At a terminal, closing it also ends input() with end of file, whatever the signal.)
    read = input if sys.stdin.isatty() else piped_lines(sys.stdin, sys.stdout)
    return run_chat(options, read=read, out=sys.stdout)


def run_chat(
    options: ChatOptions, read: Callable[[str], str] = input, out: TextIO | None = None
) -> int:
    """Chat until /quit or the end of input; the temporary folder is gone when it returns."""
    out = out or sys.stdout
    configured = load_settings()
    if "log_level" in configured.model_fields_set:
        # Set on purpose, it counts here too (found by an operator's walk-through: a
        # chat run to see why a flow misbehaves logged nothing at DEBUG); the log goes
        # to stderr, the chat to stdout.
        configure_logging(configured.log_level, secrets=(CHAT_TOKEN,))
    t = translator(operator_locale(options.lang, configured.default_locale))
    _remove_abandoned_sessions()
    session = Path(tempfile.mkdtemp(prefix=SESSION_PREFIX))
    alive = _alive(session)
    # Closing the terminal (SIGHUP) or a kill (SIGTERM) must delete the folder as well.
    ending = _Ending()
    read = ending.reading(read)
    previous = ending.install()
    try:
        overrides = _chat_settings(configured, options, session, t)
        # A member of staff is shown the commands, staff's among them, rather than put into
        # the survey (found by a staff walk-through: "1" meant to confirm the data-handling
        # rules answered the survey's first question); /start begins it.
        first_message = "/start" if not options.staff else "/hilfe" if t.locale == "de" else "/help"
        if options.flow is not None and (loaded := _loaded_flow(options.flow, configured)):
            first_message = f"/start {loaded}"  # "--flow product": a flow the bot runs
        elif options.flow is not None and (unloaded := _left_out(options.flow, configured, t)):
            print(f"feedbackbot: {unloaded}", file=sys.stderr)
            return 1
        elif options.flow is not None:
            flow_id = _tried_flow(options.flow, session / "flows", t, out)
            if flow_id is None:
                return 1
            overrides["flows_dir"] = session / "flows"
            first_message = f"/start {flow_id}"
        settings = load_settings(**overrides)

        def banner() -> None:
            _banner(t, settings.data_dir, options, out, own=configured.data_dir)

        # With --flow the tried definition's warnings were shown already, in the terminal's
        # language and with its own path (not the session's copy's); without, those of the
        # operator's flows are shown so here (found by an operator walk-through: English
        # log lines, with a timestamp, above the banner).
        shown = options.flow is not None or _own_flows_warned(configured, t, out)
        with quiet_flow_warnings(shown):
            _talk(settings, session / "downloads", t, read, out, first_message, banner)
    except RecipientsError as error:
        # It names FEEDBACKBOT_RECIPIENTS_FILE, as `run` reads it; the chat's own option
        # went unsaid (found by a flow author's review).
        print(f"feedbackbot: {error}", file=sys.stderr)
        hint = t.gettext(
            "In the chat, give the recipients file with --recipients FILE: feedbackbot chat "
            "--flow FILE --recipients FILE (nothing is delivered in the chat)."
        )
        print(f"feedbackbot: {hint}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(session, ignore_errors=True)
        if alive is not None:
            os.close(alive)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if options.data_dir is None:
        print(t.gettext("Chat ended; its data has been deleted."), file=out)
    else:
        ended = t.gettext("Chat ended; its data is kept in {path}.")
        print(ended.format(path=options.data_dir), file=out)
    return 0


SESSION_PREFIX = "feedbackbot-chat-"
_ALIVE = ".alive"
"""A file in a chat's temporary folder, locked while the chat runs."""


def _alive(session: Path) -> int | None:
    """The session's marker, locked until the chat ends, however it ends: a chat killed
    outright (SIGKILL, a power cut) cannot delete its folder, and the next one does (see
    `_remove_abandoned_sessions`)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - POSIX systems have it
        return None
    # Locked before it has its name: another chat starting looks for the name only.
    descriptor = os.open(session / f"{_ALIVE}-new", os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.rename(session / f"{_ALIVE}-new", session / _ALIVE)
    return descriptor


def _remove_abandoned_sessions() -> None:
    """The temporary folders of chats killed outright, which nobody holds any more: they
    held a copy of /mydata's file in clear (found by an operator walk-through: after a
    `kill -9`, feedbackbot-data.json stayed with the comment in it). Another user's, a
    running chat's, and one without the marker are left."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - POSIX systems have it
        return
    for folder in Path(tempfile.gettempdir()).glob(f"{SESSION_PREFIX}*"):
        try:
            if folder.is_symlink() or folder.stat().st_uid != os.geteuid():
                continue
            descriptor = os.open(folder / _ALIVE, os.O_RDWR | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # a chat running now
            continue
        else:
            shutil.rmtree(folder, ignore_errors=True)
        finally:
            os.close(descriptor)


class _Ending:
    """SIGTERM and SIGHUP end the chat like Ctrl-D, through its `finally`: at once while
    it waits for a line, else at the next prompt, once the bot has answered. Raised
    inside the event loop, the exit would cut the bot off mid-update, and could leave
    the loop's shutdown waiting for a result it never delivers."""

    def __init__(self) -> None:
        self._signum: int | None = None
        self._waiting_for_input = False

    def install(self) -> dict[int, Any]:
        """Handles the signals; returns the handlers they had. Only the main thread may
        set handlers: elsewhere nothing changes."""
        if threading.current_thread() is not threading.main_thread():
            return {}
        wanted = [getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]
        return {sig: signal.signal(sig, self._signalled) for sig in wanted}

    def reading(self, read: Callable[[str], str]) -> Callable[[str], str]:
        """`read`, ended by a signal that came before or while it waits."""

        def read_unless_ended(prompt: str) -> str:
            self._waiting_for_input = True
            try:
                if self._signum is not None:
                    raise SystemExit(128 + self._signum)
                return read(prompt)
            finally:
                self._waiting_for_input = False

        return read_unless_ended

    def _signalled(self, signum: int, frame: object) -> None:
        self._signum = signum
        if self._waiting_for_input:
            raise SystemExit(128 + signum)


def _chat_settings(
    configured: Settings, options: ChatOptions, session: Path, t: Translator
) -> dict[str, Any]:
    """What the chat changes in the configured settings."""
    overrides: dict[str, Any] = {
        "token": CHAT_TOKEN,
        "staff_ids": frozenset({CHAT_USER_ID}) if options.staff else frozenset(),
        "controller_name": configured.controller_name or t.gettext("Your company (chat demo)"),
        "controller_contact": configured.controller_contact
        or t.gettext("privacy@example.com (chat demo)"),
    }
    if options.recipients is not None:
        overrides["recipients_file"] = options.recipients
    if options.data_dir is not None:
        return overrides | {"data_dir": options.data_dir}
    # A key for this session only: the data goes with the temporary folder anyway.
    key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    return overrides | {"data_dir": session / "data", "master_key": key, "master_key_file": None}


def _loaded_flow(path: Path, configured: Settings) -> str | None:
    """The id of a flow the bot loads that `path` names where no such file is there
    ("--flow product": "product: does not exist", as the file it was taken for);
    None for a file, or a name no loaded flow has. Where the flows do not load, the name
    as it is: the start says what is wrong with them (found by a flow author's review:
    with no flow of the id "feedback", "zahnarzt: does not exist" sent them looking
    for a path)."""
    name = str(path).strip().lower()
    if path.exists() or path.suffix or os.sep in name:
        return None
    try:
        catalog = FlowCatalog.load(configured.flows_dir, shipped=configured.shipped_flows)
    except FlowDefinitionError:
        return name
    return name if name in catalog.flows else None


def _left_out(path: Path, configured: Settings, t: Translator) -> str | None:
    """What to say where `path` names a shipped flow that FEEDBACKBOT_SHIPPED_FLOWS leaves
    out, and no file: "--flow product" was "product: does not exist" and a hint about
    paths (found by an operator walk-through). None otherwise (a file is tried)."""
    name = str(path).strip().lower()
    shipped = configured.shipped_flows
    if path.exists() or path.suffix or os.sep in name or shipped is None or name in shipped:
        return None
    if name not in shipped_flow_ids():
        return None
    return t.gettext(
        "“{name}” is a flow shipped with feedbackbot that FEEDBACKBOT_SHIPPED_FLOWS leaves "
        "out (it is “{shipped}”): add it there to chat with it, or give the path of a flow "
        "file"
    ).format(name=name, shipped=",".join(sorted(shipped)))


def _own_flows_warned(configured: Settings, t: Translator, out: TextIO) -> bool:
    """Print the warnings of the flows in FEEDBACKBOT_FLOWS_DIR as `check` does; whether
    they are said (not where a flow has errors: the start says those)."""
    if configured.flows_dir is None:
        return False
    reports = check_loaded(configured.flows_dir, configured.shipped_flows, t)
    if any(report.errors for report in reports):
        return False
    try:  # what only loading them all finds ("no flow with the id 'feedback'": review)
        with quiet_flow_warnings():
            FlowCatalog.load(configured.flows_dir, t, configured.shipped_flows)
    except FlowDefinitionError:
        return False
    if warned := [report for report in reports if report.findings]:
        print_reports(warned, t, out)
        print(file=out)
    return True


def _tried_flow(path: Path, flows_dir: Path, t: Translator, out: TextIO) -> str | None:
    """Check the definition and put it where the bot loads it; its flow id, or None when
    it has errors (which are printed, like its warnings)."""
    report = check_file(path, t)
    if report.findings:
        print_reports([report], t, out)
    if report.errors or report.flow is None:
        return None
    flows_dir.mkdir()
    shutil.copyfile(path, flows_dir / f"{report.flow.id}.toml")
    return report.flow.id


def _talk(
    settings: Settings,
    downloads: Path,
    t: Translator,
    read: Callable[[str], str],
    out: TextIO,
    first_message: str,
    banner: Callable[[], None],
) -> None:
    """Build the bot (a broken flow or recipients file is said before any banner), start
    it (a store in use is said before it too), then show the banner and chat."""
    from bot.app import build_application  # imported here: keeps other commands fast
    from bot.fakeapi import FakeBotApi, InProcessRequest
    from bot.terminal import TerminalChat

    api = FakeBotApi(
        CHAT_TOKEN,
        username="feedbackbot_chat_bot",
        first_name="feedbackbot",
        # The bot ignores update ids it has seen; a kept data dir has seen earlier sessions'.
        first_update_id=time.time_ns() // 1_000_000,
    )
    application = build_application(
        settings,
        # A kept data dir may hold a store of the version running in production: only
        # `feedbackbot run` upgrades (a session of its own starts a new store either way).
        open_store(settings, exclusive=True, upgrade=False),
        request=InProcessRequest(api),
        get_updates_request=InProcessRequest(api),
        staff_chat_is_real=False,
    )
    TerminalChat(
        application=application,
        api=api,
        t=t,
        downloads=downloads,
        user_id=CHAT_USER_ID,
        sender={"language_code": t.locale},
        read=read,
        out=out,
    ).run(first_message, started=banner)


def _data_dir(text: str) -> Path:
    """`--data-dir DIR`, refused as a usage error where it names a file (found by an
    operator walk-through: said of FEEDBACKBOT_DATA_DIR, which was not set)."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(
            operator_translator().gettext("{path} is not a folder").format(path=path)
        )
    return path


def _banner(
    t: Translator, data_dir: Path, options: ChatOptions, out: TextIO, own: Path | None = None
) -> None:
    """`own`: the bot's configured data folder, which the chat's data may be kept in."""
    lines = [
        t.gettext("feedbackbot chat: the real bot, with this terminal in place of Telegram."),
        t.gettext(
            "Type a message or a command (/help lists them), or a button's number to press "
            "it (the label presses a button of an earlier message). /quit or Ctrl-D ends the "
            "chat."
        ),
    ]
    if options.data_dir is None:
        lines.append(
            t.gettext("Data and files are kept in {path} and deleted when the chat ends.").format(
                path=data_dir.parent
            )
        )
    elif own is not None and data_dir.resolve() == own.resolve():
        # Found by an operator walk-through: "chat --data-dir data" with the bot stopped
        # stored test answers with the customers' feedback, in exports and summaries.
        lines.append(
            t.gettext(
                "Data is kept in {path}, the bot's own data folder: what you answer here is "
                "stored with your customers' feedback and counted in staff summaries and "
                "exports. To try things out, leave out --data-dir (a temporary folder)."
            ).format(path=data_dir)
        )
    else:
        lines.append(t.gettext("Data is kept in {path}.").format(path=data_dir))
    if options.staff:
        lines.append(t.gettext("You chat as a member of staff: the staff commands work."))
    print("\n".join(lines) + "\n", file=out)


# How long a wait for piped input goes at most without running Python's signal handlers.
SIGNAL_CHECK_SECONDS = 0.25


def piped_lines(stdin: TextIO, out: TextIO) -> Callable[[str], str]:
    """`input` for piped input, echoing each line so the transcript reads as a chat.

    `input` blocks in one read(2): a SIGTERM or SIGHUP that lands just before that call,
    or in another of the process's threads, has its Python handler wait until the next
    line, which from a pipe held open may never come (the chat then kept its folder).
    Here the wait returns to Python every SIGNAL_CHECK_SECONDS. Where pipes cannot be
    waited on like that (Windows), `input` is used as before."""
    if os.name == "nt":
        return _echoing(input, out)
    return _PipedLines(stdin.fileno(), stdin.encoding or "utf-8", out)


class _PipedLines:
    def __init__(self, fd: int, encoding: str, out: TextIO) -> None:
        self._fd = fd
        self._encoding = encoding
        self._out = out
        self._pending = bytearray()
        self._ended = False

    def __call__(self, prompt: str) -> str:
        self._out.write(prompt)
        self._out.flush()
        while b"\n" not in self._pending and not self._ended:
            readable, _, _ = select.select([self._fd], [], [], SIGNAL_CHECK_SECONDS)
            if readable:
                chunk = os.read(self._fd, 65536)
                self._pending += chunk
                self._ended = not chunk
        if not self._pending:
            raise EOFError
        line, _, rest = bytes(self._pending).partition(b"\n")
        self._pending = bytearray(rest)
        # Bytes that are not text in the terminal's encoding are shown, not fatal.
        text = line.decode(self._encoding, "replace").rstrip("\r")
        print(text, file=self._out, flush=True)
        return text


def _echoing(read: Callable[[str], str], out: TextIO) -> Callable[[str], str]:
    def read_and_echo(prompt: str) -> str:
        line = read(prompt)
        print(line, file=out, flush=True)
        return line

    return read_and_echo
