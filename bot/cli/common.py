"""Pieces several subcommands share: opening the store from the settings, `--since`, the
operator's language."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import re
import signal
import stat
import sys
import tomllib
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from bot.config import catalog_retentions
from bot.operator import operator_translator
from bot.settings import (
    ENV_FILE,
    SHORT_RETENTION,
    ConfigurationError,
    Settings,
    env_file_secrets_open_to_others,
    load_settings,
)
from flows.catalog import FlowCatalog, FlowDefinitionError
from flows.durations import InvalidDuration, parse_duration
from flows.i18n import N_, Translator
from flows.models import render_text
from flows.staff import (
    MAX_PERIOD,
    DayToCome,
    EndedPeriod,
    EndsBeforeItBegins,
    NoSuchDay,
    date_typed,
    example_date,
    first_day_named,
    staff_period,
    survey_named,
    words_let_go,
)
from storage import SQLiteStore, StoreError, resolve_master_key
from storage.crypto import InvalidMasterKey, decode_master_key, predictable_key
from storage.masterkey import OPEN_TO_OTHERS
from storage.sqlite import DATA_FILE, KEY_STORE_FILE, SQLITE_HEADER

log = logging.getLogger("bot.cli")
T = TypeVar("T")


def lookback(text: str, zone: str = "UTC") -> timedelta:
    """`--since 30d`: how far back, at most ten years; argparse reports anything else as a
    usage error (exit 2) instead of a traceback. Spelled as staff write a period, for
    every command alike: a bare number is days ("--since 30" was thirty seconds for
    `export`, an empty file, but thirty days for `summary`), "3 Monate" is 90 days. A day
    named ("gestern", "seit 1.12.") begins at midnight in `zone`."""
    t = operator_translator()
    if text.strip().startswith("-") and len(text.strip()) > 1:
        # "--since -3d": a period counts back already (argparse had said that --since
        # expected an argument, found by an operator's walk-through)
        raise argparse.ArgumentTypeError(
            t.gettext("a period counts back from now: write {period}, not {text}").format(
                period=text.strip()[1:].strip()[:40], text=text.strip()[:40]
            )
        )
    now = datetime.now(ZoneInfo(zone))
    refuse_words_let_go(text, now.date())
    try:
        first = first_day_named(text, now.date())
    except EndedPeriod as ended:  # "November" in December, "2025"
        raise argparse.ArgumentTypeError(ended_period_said(text, ended, now.date())) from None
    except InvalidDuration as none:  # "1.12.2030"; "31.2.", "KW 54"; "6.-1.12."
        if isinstance(none, EndsBeforeItBegins):
            said = t.gettext("{text} ends before it begins")
        elif isinstance(none, NoSuchDay) and not isinstance(none, DayToCome):
            said = t.gettext("{text} is no day in the calendar")
        else:
            said = t.gettext("{text} is no day before today")
        raise argparse.ArgumentTypeError(said.format(text=repr(text[:40]))) from None
    # (as instants: two times of one zone subtract as the clock reads, an hour off across
    # a change of summer time, found by review)
    start = None if first is None else datetime.combine(first, time(0), now.tzinfo).astimezone(UTC)
    if start is not None and now.astimezone(UTC) - start > MAX_PERIOD:
        raise argparse.ArgumentTypeError(
            t.gettext("at most {days} days back").format(days=MAX_PERIOD.days)
        )
    if start is not None:
        # "gestern", "seit Montag": from that day's start on, not 24 hours back (found by a
        # staff walk-through: `export --since gestern` gave today's rows alone)
        return now.astimezone(UTC) - start
    try:
        period = parse_duration(staff_period(text))  # "30.5" is days, as "30" is
    except InvalidDuration:
        raise argparse.ArgumentTypeError(
            t.gettext(
                "{text} is not a period; use e.g. 24h, 30d, 52w or a date such as {date} "
                "(counted from that day on)"
            ).format(text=repr(text[:40]), date=example_date(now.date(), t.locale))
        ) from None
    if period > MAX_PERIOD:
        raise argparse.ArgumentTypeError(
            t.gettext("at most {days} days back").format(days=MAX_PERIOD.days)
        )
    return period


retentions = catalog_retentions
"""Each loaded survey's retention, by flow id, as the bot applies it."""


def ended_period_said(text: str, ended: EndedPeriod, today: date) -> str:
    """What `--since` says of a month, year, week, quarter or days from one date to another
    that ended before yesterday: every period counts up to now."""
    t = operator_translator()
    return t.gettext(
        "{text} is over, and a period counts up to now: to count from its first day on, give "
        "--since {date}"
    ).format(text=repr(text.strip()[:40]), date=date_typed(ended.first, today, t.locale))


def refuse_words_let_go(text: str, today: date) -> None:
    """A usage error where reading the period let words go that are no part of one: the
    chat lets "30d bitte" go, but "30d product" of a survey not loaded (or retired) gave
    every survey's figures without a word, and "30 Tage irgendwas" too (found by an
    operator's walk-through; a loaded survey's name is said by `refuse_a_survey`)."""
    if let_go := words_let_go(text, today):
        raise argparse.ArgumentTypeError(
            operator_translator()
            .gettext("{text}: “{words}” is no part of a period; give the period alone")
            .format(text=repr(text.strip()[:40]), words=" ".join(let_go)[:40])
        )


@contextmanager
def quiet_flow_warnings(quiet: bool = True) -> Iterator[None]:
    """Loading flows logs each warning, in English; where `check` (or `chat --flow`) has
    printed them already, in the operator's language and with hints, the log lines would
    only repeat them (found by review). Errors still surface, as FlowDefinitionError."""
    catalog = logging.getLogger("flows.catalog")
    previous = catalog.level
    if quiet:
        catalog.setLevel(logging.ERROR)
    try:
        yield
    finally:
        catalog.setLevel(previous)


class _AppliedAgainSaid(logging.Filter):
    """Drops the store's log line of erasures carried out again (see `applied_again`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("erasures_applied_again")


@contextmanager
def applied_again_said(t: Translator, count: Callable[[], int] | None) -> Iterator[None]:
    """Erasures and withdrawals a store opened here carried out again (data put back from
    before them), said in the operator's language: the store's log line, in English, left
    out (found by an operator walk-through: `restore` printed it beside its own line). With
    `count`, said here once the work is done (`purge`, `rotate-key`: the log line was all
    they said); without, the command says it itself (`restore`)."""
    storage = logging.getLogger("storage")
    dropped = _AppliedAgainSaid()
    storage.addFilter(dropped)
    try:
        yield
    finally:
        storage.removeFilter(dropped)
    again = count() if count is not None else 0
    if again:
        print(
            t.ngettext(
                "{count} erasure or withdrawal that the data folder still held (data put back "
                "from before it) was carried out again",
                "{count} erasures and withdrawals that the data folder still held (data put "
                "back from before them) were carried out again",
                again,
            ).format(count=again),
            file=sys.stderr,
        )


def lookback_of_surveys(text: str) -> timedelta:
    """`lookback` for a command over the surveys' feedback (`export`, `stats`)."""
    _refuse_for_surveys(text)
    return lookback(text)


def _refuse_for_surveys(text: str) -> None:
    """A survey named beside the period, or minutes: three months to a team lead, three
    minutes here, an export of nothing written without a word (found by a staff
    walk-through; summaries refuse it too), "1.5m" and "3min" too (its review)."""
    refuse_a_survey(text)
    minutes = _MINUTES.fullmatch(text)
    if minutes:
        count = minutes.group(1)
        raise argparse.ArgumentTypeError(
            operator_translator()
            .gettext("{text} would be minutes: for months write {count}M, for days {count}d")
            .format(text=repr(text.strip()), count=count)
        )


def lookback_of_export(text: str) -> timedelta:
    """`lookback_of_surveys` for `export`, whose rows are dated in the bot's time zone: a day
    named begins at its midnight there (found by a staff walk-through: `--since "seit
    Dienstag"` began at UTC midnight, and a feedback of 00:21 on Tuesday in Berlin, dated
    Tuesday in the export's own column, was left out)."""
    _refuse_for_surveys(text)  # (not its UTC day: "7.12.2026" at 00:30 in Berlin, review)
    try:
        zone = load_settings().timezone
    except (ConfigurationError, OSError):
        zone = "UTC"  # (the command says what is wrong with the settings)
    return lookback(text, zone)


_MINUTES = re.compile(r"\s*(\d{1,4}(?:[.,]\d{1,2})?)\s*(?:m|(?i:min|mins|minutes?|minuten))\.?\s*")


def refuse_a_survey(text: str) -> None:
    """A usage error where the words of a period name a survey ("--since '30d product'"):
    the chat says so above a summary; here the word went without a word, and an export of
    every survey read as one of the product survey (found by an operator's walk-through).
    Flows that cannot be loaded name none (the command says what is wrong with them)."""
    if len(text.split()) < 2:
        return
    try:
        settings = load_settings()
        with quiet_flow_warnings():
            catalog = FlowCatalog.load(settings.flows_dir, shipped=settings.shipped_flows)
    except (ConfigurationError, FlowDefinitionError, OSError):
        return
    survey = survey_named(text, catalog)
    if survey is not None:
        t = operator_translator()
        raise argparse.ArgumentTypeError(
            t.gettext(
                "{text}: every survey is counted together; this cannot be limited to “{title}”"
            ).format(text=repr(text[:40]), title=render_text(survey.title, t))
        )


def output_file(text: str) -> Path | None:
    """`--output FILE`, where `-` is standard output, as Unix tools read it (it wrote a file
    named `-`)."""
    return None if text == "-" else Path(text)


def written_in_place(path: Path) -> bool:
    """Whether an output name is a pipe or a terminal (/dev/stdout, /dev/null, a named pipe)
    rather than a file: written to, not replaced by a new file renamed over it. Renamed,
    `--output /dev/stdout` failed for want of a writable /dev, and as root replaced the
    device's name with a file (/dev/null too). A link to one is followed only when its
    owner is root or whoever runs the command, not one another user planted in /tmp."""
    try:
        target = os.stat(path)
        name = os.lstat(path)
    except (OSError, ValueError):
        return False
    if not (stat.S_ISFIFO(target.st_mode) or stat.S_ISCHR(target.st_mode)):
        return False
    return not stat.S_ISLNK(name.st_mode) or name.st_uid in (0, os.getuid())


def refuse_the_bots_files(path: Path, replaces: bool = True) -> None:
    """Raises StoreError where an output FILE is in the bot's data folder or is its master
    key file: `export --output data/feedback.db`, `docs … --output data/keys.db` and
    `summary --chart data/keys.db` replaced the store's files with the output, and every
    record was lost (found by an operator walk-through; `backup` refuses any existing
    file). So too a file of settings (.env, the recipients and staff rules files) or one in
    the flows folder. Settings that do not load name no folder: the command says what is
    wrong. Where the output `replaces` an existing file, not one that is a database or a
    master key either (`backup` refuses any existing file itself)."""
    if written_in_place(path):
        return
    try:
        settings = load_settings()
    except ConfigurationError:
        if replaces:
            _refuse_a_database_or_a_key(path)
        return
    _refuse_one_of_the_bots(path, settings)
    if replaces:  # after the bot's own, which are named as such
        _refuse_a_database_or_a_key(path)


def _refuse_one_of_the_bots(path: Path, settings: Settings) -> None:
    """Raises StoreError where `path` is a file of this bot's (see refuse_the_bots_files)."""
    target = path.resolve()
    key_file = settings.master_key_file
    if key_file is not None and target == key_file.resolve():
        raise StoreError(
            N_("{path} is the master key file: write the output to another file"), path=path
        )
    # The settings read from files: a .env holding the master key replaced by a CSV lost
    # every record (found by an operator walk-through), and any of them the bot's settings.
    settings_files = (
        ENV_FILE,
        settings.recipients_file,
        settings.staff_rules_file,
    )
    if any(f is not None and target == f.resolve() for f in settings_files):
        raise StoreError(
            N_("{path} holds settings of the bot: write the output to another file"), path=path
        )
    if settings.flows_dir is not None and settings.flows_dir.resolve() in target.parents:
        raise StoreError(
            N_(
                "{path} is in the folder of the bot's flow definitions {folder}: write the "
                "output elsewhere"
            ),
            path=path,
            folder=settings.flows_dir.resolve(),
        )
    folder = settings.data_dir.resolve()
    if target == folder or folder in target.parents:
        raise StoreError(
            N_(
                "{path} is in the bot's data folder {folder}, where it could replace the "
                "store's files: write the output elsewhere"
            ),
            path=path,
            folder=folder,
        )


def _refuse_a_database_or_a_key(path: Path) -> None:
    """Raises StoreError where `path` is an existing SQLite database or master key file,
    whoever's: `export --output master.key` replaced an old key kept after `rotate-key`,
    and `--output backup.db` a backup or another bot's store, "wrote 5 feedbacks" (found
    by an operator walk-through; only this bot's own files were refused)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return  # a pipe or a device (read, a pipe waited for a writer: found by CI)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as existing:
            head = existing.read(_KEY_FILE_AT_MOST + 1)
    except OSError:
        return  # none there (or no file to read): written, or refused as it is written
    if head.startswith(SQLITE_HEADER):
        raise StoreError(
            N_(
                "{path} is a database (a store, or a backup of one): write the output to "
                "another file"
            ),
            path=path,
        )
    if len(head) <= _KEY_FILE_AT_MOST:
        with contextlib.suppress(InvalidMasterKey, UnicodeDecodeError):
            decode_master_key(head.decode("ascii"))
            raise StoreError(
                N_("{path} holds a master key: write the output to another file"), path=path
            )


_KEY_FILE_AT_MOST = 200
"""Bytes a master key file has at most: the key and perhaps a line end or spaces."""


READABLE_BY_OTHERS = 0o044
KEY_FILE_READABLE = N_("master key file {path} can be read by others (mode {mode}); chmod 600 it")
KEY_FILE_CHANGEABLE = N_(
    "master key file {path} can be changed by others (mode {mode}); chmod 600 it"
)
"""A key file the group or others may write but not read: the bot's key swapped for one
they know, for the next store; it was said to be "read by others" (found by review)."""


PREDICTABLE_KEY = N_(
    "the master key is not random (text, or the same few bytes repeated): whoever guesses it "
    "can read every record; make a new one with `feedbackbot keygen --output FILE` and move "
    "to it with "
    "`feedbackbot rotate-key`"
)


def short_retention(settings: Settings, t: Translator) -> str | None:
    """What `check` and `docs` say of a FEEDBACKBOT_RETENTION under a day, as `run` warns
    at start (found by an operator's walk-through: "180", meant as days, is 180 seconds;
    `check` said nothing, and the privacy notice read "deleted 3 minutes after")."""
    if settings.retention >= SHORT_RETENTION:
        return None
    return t.gettext(
        "a retention of only {retention}, which customers are told in the consent request "
        "and the privacy notice: a plain number counts seconds and m minutes (write 180d for "
        "180 days)"
    ).format(retention=t.duration(settings.retention))


def env_file_open(t: Translator, mode: int, secrets: list[str], path: Path = ENV_FILE) -> str:
    """The warning about a .env holding secrets that others may read, or change (its
    token, its master key or data folder swapped): said as it is, not "read" of a file
    nobody else can read (found by review). `path`: another file that holds secrets."""
    said = (
        N_("{path} holds {names} and can be read by others (mode {mode}); chmod 600 it")
        if mode & READABLE_BY_OTHERS
        else N_("{path} holds {names} and can be changed by others (mode {mode}); chmod 600 it")
    )
    return t.gettext(said).format(path=path.absolute(), names=", ".join(secrets), mode=f"{mode:o}")


def recipients_file_open(settings: Settings, t: Translator) -> str | None:
    """The warning about a recipients file holding recipients' secrets that others may
    read or change (found by an operator walk-through: `check` and `run` said nothing of
    one at 0644, whose secrets sign what the receivers take for the bot's deliveries)."""
    path = settings.recipients_file
    if path is None:
        return None
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if not mode & OPEN_TO_OTHERS:
            return None
        recipients = tomllib.loads(path.read_text(encoding="utf-8")).get("recipients")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None  # loading it says what is wrong
    if not isinstance(recipients, list) or not any(
        isinstance(r, dict) and r.get("secret") for r in recipients
    ):
        return None
    return env_file_open(t, mode, ["secret"], path)


def open_store(
    settings: Settings, *, exclusive: bool = False, upgrade: bool = True, lock_held: bool = False
) -> SQLiteStore:
    """The SQLite store under the data dir, with the master key from the settings;
    `exclusive` for the commands that write: opening then fails while another holds it;
    `lock_held`: the caller holds the lock already (see SQLiteStore).

    On a first run without any key, one is generated and the log says where.
    Raises StoreError subclasses (wrong key, missing key store) without touching files.
    """
    key, generated, open_to_others = resolve_master_key(
        settings.master_key.get_secret_value() if settings.master_key else None,
        settings.master_key_file,
        settings.data_dir,
    )
    if open_to_others is not None:
        path, mode = open_to_others
        t = operator_translator()
        said = t.gettext(
            KEY_FILE_READABLE if mode & READABLE_BY_OTHERS else KEY_FILE_CHANGEABLE
        ).format(path=path, mode=f"{mode:o}")
        print(f"feedbackbot: {said}", file=sys.stderr)
    if predictable_key(key):
        said = operator_translator().gettext(PREDICTABLE_KEY)
        print(f"feedbackbot: {said}", file=sys.stderr)
    mode, secrets = env_file_secrets_open_to_others()
    if secrets:
        said = env_file_open(operator_translator(), mode, secrets)
        print(f"feedbackbot: {said}", file=sys.stderr)
    if (open_recipients := recipients_file_open(settings, operator_translator())) is not None:
        print(f"feedbackbot: {open_recipients}", file=sys.stderr)
    if generated is not None:
        log.warning(
            "generated a new master key in %s; in production keep it elsewhere "
            "(FEEDBACKBOT_MASTER_KEY_FILE) and back it up separately from the data",
            generated.absolute(),
        )
    return SQLiteStore(
        settings.data_dir, key, exclusive=exclusive, upgrade=upgrade, lock_held=lock_held
    )


def open_existing_store(settings: Settings, *, exclusive: bool = False) -> SQLiteStore:
    """Like open_store, but raises StoreError when the data dir holds no store, and
    StoreOutdated (on opening) for a store of an older version: only `feedbackbot run`
    upgrades, so that looking at a store, or backing it up before an upgrade, never
    makes it unusable for the version that wrote it.

    Data without its key store is the store's to report (restore keys.db), not "no
    store": the advice to make a new one would be the wrong one there."""
    data = [DATA_FILE, f"{DATA_FILE}-wal"]
    if not (settings.data_dir / KEY_STORE_FILE).exists() and not any(
        (settings.data_dir / name).exists() for name in data
    ):
        raise StoreError(
            N_(
                "no store in {path} (no {file}); check FEEDBACKBOT_DATA_DIR. A new store is "
                "made by `feedbackbot run`."
            ),
            path=settings.data_dir.absolute(),  # cron and systemd start elsewhere
            file=KEY_STORE_FILE,
        )
    return open_store(settings, exclusive=exclusive, upgrade=False)


ARGPARSE_MESSAGES = (
    N_("usage: "),
    N_("positional arguments"),
    N_("options"),
    N_("show this help message and exit"),
    N_("%(prog)s: error: %(message)s\n"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("the following arguments are required: %s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("unrecognized arguments: %s"),
    N_("expected one argument"),
    N_("invalid %(type)s value: %(value)r"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("not allowed with argument %s"),
    N_("ignored explicit argument %r"),
)
"""argparse's own words that an operator meets, for the catalogs to translate."""


@contextmanager
def argparse_speaks(t: Translator) -> Iterator[None]:
    """argparse's own words ("usage:", "options", its errors) in the language of `t` while
    parsers are built and used; argparse looks them up through its module's gettext."""
    saved = {name: getattr(argparse, name) for name in ("_", "ngettext")}
    setattr(argparse, "_", t.gettext)  # noqa: B010 - a module global, not an attribute
    setattr(argparse, "ngettext", t.ngettext)  # noqa: B010
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(argparse, name, value)


INTERRUPTED = 130
"""The exit code of a command ended by Ctrl-C, as shells give it (128 + SIGINT)."""


TERMINATED = 143
"""The exit code of a command ended by SIGTERM (128 + SIGTERM)."""
_TERMINATED: list[bool] = []


def interrupted_code() -> int:
    """The exit code of a command ended by Ctrl-C or, through sigterm_as_ctrl_c, SIGTERM."""
    return TERMINATED if _TERMINATED else INTERRUPTED


@contextmanager
def sigterm_as_ctrl_c() -> Iterator[None]:
    """SIGTERM (systemd stopping a timer's backup, `timeout`, `kill`) ends a command as
    Ctrl-C does, through its clean-up: it killed a backup on the spot, its private folder
    with a partial copy of personal data left behind (found by an operator audit); exit
    code 143 (interrupted_code). Outside the main thread, nothing changes."""

    def terminate(signum: int, frame: object) -> None:
        _TERMINATED.append(True)
        signal.raise_signal(signal.SIGINT)  # handled as Ctrl-C, asyncio's handler first

    _TERMINATED.clear()
    # A background job of a script starts with Ctrl-C ignored, and the SIGINT raised was
    # lost: the command ran on and said it was done (found by an operator walk-through).
    # Handled as in the foreground then (asyncio installs its handler only over Python's).
    inherited = signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    interrupt = signal.default_int_handler if inherited else signal.getsignal(signal.SIGINT)
    with _handled_as(signal.SIGINT, interrupt), _handled_as(signal.SIGTERM, terminate):
        yield


@contextmanager
def not_cut_short() -> Iterator[None]:
    """Ctrl-C (and SIGTERM, see sigterm_as_ctrl_c) ignored for a few quick steps that must
    not stop halfway (files moved back, a folder of personal data deleted)."""
    with _handled_as(signal.SIGINT, signal.SIG_IGN):
        yield


def run_whole(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """asyncio.run(work()), its event loop made whole first: a Ctrl-C while the loop was
    made left a half-made one, whose clean-up printed a traceback under "interrupted"
    (found by CI81, a restore's Ctrl-C test). Such a Ctrl-C is raised once the loop is
    there, before `work` is begun (a coroutine made and never run would be warned of)."""
    caught: list[bool] = []

    def made() -> asyncio.AbstractEventLoop:
        with _handled_as(signal.SIGINT, lambda *_: caught.append(True)):
            loop = asyncio.new_event_loop()
        if caught:
            loop.close()
            raise KeyboardInterrupt
        return loop

    with asyncio.Runner(loop_factory=made) as runner:
        runner.get_loop()
        return runner.run(work())


@contextmanager
def _handled_as(sig: signal.Signals, handler: Any) -> Iterator[None]:
    """`sig` handled by `handler` within, as before after; outside the main thread, where
    Python allows no signal handler, as it was."""
    try:
        previous = signal.signal(sig, handler)
    except ValueError:
        yield
        return
    try:
        yield
    finally:
        signal.signal(sig, previous)


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

    if not exclusive:  # (a shared opening refuses such a store: see SQLiteStore.open)
        return asyncio.run(run())
    with applied_again_said(operator_translator(), lambda: store.applied_again):
        return asyncio.run(run())
