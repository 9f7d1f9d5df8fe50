"""`feedbackbot audit` and `feedbackbot export`: the staff trail and analysis exports."""

from __future__ import annotations

import argparse
import contextlib
import csv
import errno
import io
import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any, TextIO

from bot.cli.common import (
    ended_period_said,
    lookback,
    lookback_of_export,
    output_file,
    quiet_flow_warnings,
    refuse_a_survey,
    refuse_the_bots_files,
    refuse_words_let_go,
    with_store,
    written_in_place,
)
from bot.operator import operator_translator
from bot.settings import Settings
from flows.answers import MAY_HAVE_ARRIVED, NO_LONGER, NOT_CHECKED, NOT_DELIVERED
from flows.catalog import FlowCatalog
from flows.durations import InvalidDuration
from flows.i18n import N_, SUPPORTED_LOCALES, Translator
from flows.replies import Outcome
from flows.service import utc_now
from flows.sharing import (
    CAUSES,
    DELIVERED,
    FAILED,
    GAVE_UP,
    GAVE_UP_MAY_HAVE_ARRIVED,
    NO_LONGER_CONFIGURED,
    NOT_SENT,
    STOPPED,
)
from flows.staff import (
    SHORTEST_PERIOD,
    BegunToday,
    DayBefore,
    EndedPeriod,
    NoWholeDay,
    StaffDesk,
    StaffSettings,
    staff_period,
)
from storage import AuditEntry, SQLiteStore
from storage.sqlite_purge import ERASED_AGAIN


def register(subparsers: Any, t: Translator) -> None:
    audit = subparsers.add_parser(
        "audit",
        help=t.gettext("print who accessed feedback, and erasures and withdrawals"),
        description=t.gettext(
            "Print the audit trail: staff summaries, digests, exports, answers to "
            "customers, confirmations of the staff rules, deliveries to recipients and "
            "deletion notices (who, when, what, how many records), erasures (when only) and "
            "withdrawals that erased feedback (when, how many)."
        ),
    )
    audit.add_argument(
        "--since",
        type=lookback,
        default="30d",
        metavar="PERIOD",
        help=t.gettext("how far back, e.g. 7d (default 30d)"),
    )
    audit.set_defaults(handler=run_audit)
    export = subparsers.add_parser(
        "export",
        help=t.gettext("write redacted, consented feedback as CSV, CSV for Excel or JSON"),
        description=t.gettext(
            "Write the consented feedback of the period, personal data redacted, "
            "for analysis in a spreadsheet. The export is recorded in the audit trail."
        ),
    )
    export.add_argument(
        "--since",
        type=lookback_of_export,
        default="30d",
        metavar="PERIOD",
        help=t.gettext("how far back, e.g. 90d (default 30d)"),
    )
    export.add_argument(
        "--format",
        choices=("csv", "excel", "json"),
        default="csv",
        help=t.gettext(
            "the file format (default: csv); excel: CSV as Excel set to German opens it, "
            "with semicolons and UTF-8 marked as such"
        ),
    )
    export.add_argument(
        "--output",
        type=output_file,
        metavar="FILE",
        help=t.gettext(
            "file to write (default, and -: standard output); an existing FILE is replaced "
            "once the export is complete"
        ),
    )
    export.set_defaults(handler=run_export)
    summary = subparsers.add_parser(
        "summary",
        help=t.gettext("print the staff summary of a period"),
        description=t.gettext(
            "Print the summary staff get with /summary (/zusammenfassung) and the digest: "
            "whole days, groups of at least FEEDBACKBOT_MIN_GROUP_SIZE people, comments "
            "redacted. It is recorded in the audit trail."
        ),
    )
    summary.add_argument(
        "--since",
        type=_staff_period,
        default="7d",
        metavar="PERIOD",
        help=t.gettext('the period, as staff write it: 7d, 30d, 2w, "3 Monate" (default 7d)'),
    )
    summary.add_argument(
        "--lang",
        choices=SUPPORTED_LOCALES,
        help=t.gettext(
            "the language of the summary (default: FEEDBACKBOT_STAFF_LOCALE, else "
            "FEEDBACKBOT_DEFAULT_LOCALE)"
        ),
    )
    summary.add_argument(
        "--chart",
        type=Path,
        metavar="FILE",
        help=t.gettext("also write the chart as PNG to FILE"),
    )
    summary.set_defaults(handler=run_summary)


def run_audit(args: argparse.Namespace) -> int:
    since = utc_now() - args.since

    async def read(store: SQLiteStore, settings: Settings) -> list[AuditEntry]:
        return await store.audit_entries(since)

    entries = with_store(read)
    t = operator_translator()
    for entry in entries:
        who = entry.actor or "-"
        count = "" if entry.records is None else f" records={entry.records}"
        detail = f" {shown_detail(entry.detail, t)}" if entry.detail else ""
        print(f"{entry.at.isoformat(timespec='seconds')} {entry.event}{detail} by={who}{count}")
    if not entries:
        print(t.gettext("no audit entries in this period"))
    return 0


# What became of a message to staff or a customer (an alert, an answer): then the survey.
_OF_A_SURVEY = (
    (MAY_HAVE_ARRIVED, N_("may have arrived: {survey}")),
    (NOT_CHECKED, N_("not sent, not checked: {survey}")),
    (NO_LONGER, N_("no longer answerable: {survey}")),
    (NOT_DELIVERED, N_("not delivered: {survey}")),
)


def shown_detail(detail: str, t: Translator) -> str:
    """An audit entry's detail in the operator's language where it is one of the bot's
    sentences (what became of a delivery); others (a period, a rules version) as kept."""
    if detail in (DELIVERED, GAVE_UP, GAVE_UP_MAY_HAVE_ARRIVED, STOPPED):
        return t.gettext(detail)
    if detail == ERASED_AGAIN:  # not another request to erase (review)
        return t.gettext("carried out again (after a restore, or cut short before)")
    if detail.startswith(FAILED):
        reason = detail.removeprefix(FAILED)
        return t.gettext("failed: {reason}").format(
            reason=t.gettext(reason) if reason in CAUSES else reason
        )
    for prefix, sentence in _OF_A_SURVEY:
        if detail.startswith(prefix):
            return t.gettext(sentence).format(survey=detail.removeprefix(prefix))
    if detail.startswith(NOT_SENT):
        return t.gettext("not sent; ask by hand to delete: {ids}").format(
            ids=detail.removeprefix(NOT_SENT)
        )
    if detail.startswith(NO_LONGER_CONFIGURED):
        return t.gettext(
            "no longer configured; if it received them under the withdrawn consent, ask it "
            "by hand to delete: {ids}"
        ).format(ids=detail.removeprefix(NO_LONGER_CONFIGURED))
    return detail


def _staff_period(text: str) -> str:
    """`--since` as staff write it ("7 Tage", "3 Monate", "seit Montag", "diese Woche"),
    checked as `lookback` checks a period: a usage error (exit 2), not a summary that says
    it did not understand."""
    t = operator_translator()
    whole_days = t.gettext("summaries count whole days: give at least one day, e.g. 1d, 7d or 3M")
    refuse_a_survey(text)
    refuse_words_let_go(text, utc_now().date())
    try:
        text = staff_period(text, utc_now().date())  # the days so far, as in the chat
    except BegunToday:  # "diese Woche" on a Monday (review of the change)
        raise argparse.ArgumentTypeError(
            t.gettext(
                "summaries count only whole days that are over, and this period began today: "
                "for yesterday give --since 1d, for the last week 7d"
            )
        ) from None
    except NoWholeDay:  # "heute": as the chat says it (found by a staff walk-through)
        raise argparse.ArgumentTypeError(
            t.gettext(
                "summaries count only whole days that are over, so today has no figures of "
                "its own yet: for yesterday give --since 1d, for the last week 7d"
            )
        ) from None
    except DayBefore:  # as the chat says it (found by a staff walk-through: a traceback's words)
        # (with the option to give here, not the chat's command: a staff walk-through)
        raise argparse.ArgumentTypeError(
            t.gettext(
                "summaries count the last whole days up to yesterday, not one day before it "
                "alone: --since 2d counts yesterday and the day before, 1d yesterday"
            )
        ) from None
    except EndedPeriod as ended:  # "November" in December (as the chat says it)
        raise argparse.ArgumentTypeError(ended_period_said(text, ended, utc_now().date())) from None
    except InvalidDuration:
        pass  # refused by lookback, in its words
    if lookback(text) < SHORTEST_PERIOD:  # a usage error for what it refuses
        raise argparse.ArgumentTypeError(whole_days)
    return staff_period(text)


def _desk(store: SQLiteStore, settings: Settings) -> StaffDesk:
    """The staff side as the bot has it, for the operator's commands."""
    # A flow's warnings are `check`'s to print, in the operator's language: here they were
    # English lines under every export (found by an operator walk-through)
    with quiet_flow_warnings():
        catalog = FlowCatalog.load(
            settings.flows_dir, operator_translator(), settings.shipped_flows
        )
    return StaffDesk(
        store,
        catalog,
        StaffSettings(
            min_group_size=settings.min_group_size,
            timezone=settings.timezone,
            retention=settings.retention,
        ),
        utc_now,
    )


_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]|\r(?!\n)")


def terminal_safe(text: str) -> str:
    """Comments as printed to the operator's terminal: control characters (ESC above
    all, a carriage return that rewrites the line, the bidi overrides that reorder it)
    shown as �, so that a comment cannot clear the screen, fake output or write the
    clipboard (found by review); line breaks (also CSV's CR LF) and tabs stay. Files keep
    them as given."""
    return _CONTROLS.sub("\N{REPLACEMENT CHARACTER}", text)


def run_summary(args: argparse.Namespace) -> int:
    async def summarise(store: SQLiteStore, settings: Settings) -> Outcome:
        desk = _desk(store, settings)
        locale = args.lang or settings.staff_language
        return await desk.summary("cli", locale, args.since, rules=False)

    if args.chart is not None:  # before the summary is made, printed and audited
        if not written_in_place(args.chart):
            refuse_the_bots_files(args.chart)
            _check_folder_of(args.chart)
    outcome = with_store(summarise)
    print(terminal_safe(outcome.replies[0].text))
    charts = [reply.image for reply in outcome.replies if reply.image is not None]
    if args.chart is not None:
        if not charts:
            print(operator_translator().gettext("no chart: nothing to show yet"), file=sys.stderr)
            return 1
        _write_private(args.chart, charts[0].content)
        # Which survey it shows, as the staff chat's caption says (found by review).
        print(f"{args.chart}: {charts[0].caption}", file=sys.stderr)
    return 0


def run_export(args: argparse.Namespace) -> int:
    period = args.since

    async def export(
        store: SQLiteStore, settings: Settings
    ) -> tuple[list[dict[str, Any]], list[str]]:
        desk = _desk(store, settings)
        rows = await desk.export_rows("cli", period, settings.staff_language)
        return rows, desk.export_columns()

    # The file is opened before the store is read (and the export audited), so a path
    # that cannot be written fails before any data leaves; readable by the owner only,
    # like the store, since comments survive redaction in part. It is written beside
    # DEST and renamed over it when complete: a failure leaves no partial export, and an
    # earlier file of that name as it was. A pipe or a terminal (/dev/stdout) is written
    # as it is.
    output, partial = (None, None) if args.output is None else _private_output(args.output)
    try:
        rows, columns = with_store(export)
        if args.format == "json":
            text = _as_json(rows)
        else:
            text = _as_csv(rows, columns, excel=args.format == "excel")
        if output is None:
            sys.stdout.write(terminal_safe(text))
        else:
            with output:
                output.write(terminal_safe(text) if output.isatty() else text)
                output.flush()
                if partial is not None:
                    os.fsync(output.fileno())
            if partial is not None:
                os.replace(partial, args.output)
    except BaseException as error:
        if output is not None:
            with contextlib.suppress(OSError):
                output.close()
        # Ctrl-C as the complete export got its name: written, and said so (it said
        # "interrupted" with the export there; found by an interrupt audit)
        named = partial is not None and not partial.exists() and args.output.exists()
        if not (named and isinstance(error, KeyboardInterrupt)):
            if partial is not None:
                partial.unlink(missing_ok=True)
            raise
    if args.output is not None:
        t = operator_translator()
        wrote = t.ngettext(
            "wrote {count} feedback to {path}", "wrote {count} feedbacks to {path}", len(rows)
        )
        print(wrote.format(count=len(rows), path=args.output), file=sys.stderr)
    return 0


def _check_folder_of(path: Path) -> None:
    """Raise the OSError writing `path` would meet for want of its folder (or as one)."""
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    folder = path.parent
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder))
    if not folder.is_dir():
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(folder))
    if not os.access(folder, os.W_OK):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(folder))


def _private_output(path: Path) -> tuple[TextIO, Path | None]:
    """A file beside `path` opened for writing with mode 0600, and its name; a pipe or a
    terminal (/dev/stdout) opened as it is, and no name."""
    if written_in_place(path):
        return open(path, "w", encoding="utf-8", newline=""), None
    refuse_the_bots_files(path)
    _check_folder_of(path)  # named as the operator wrote it, not as the file beside it
    # A new file of a name nobody can foresee (O_EXCL): a `.partial` planted beforehand as
    # a link to, say, keys.db was followed and overwritten (found by review).
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        return os.fdopen(fd, "w", encoding="utf-8", newline=""), Path(name)
    except BaseException:  # Ctrl-C: no empty .partial left beside the file (interrupt audit)
        os.close(fd)
        os.unlink(name)
        raise


def _write_private(path: Path, content: bytes) -> None:
    """`content` to `path`, mode 0600, through a file of its own renamed over it: a link
    planted under the name (the chart written to /tmp, say) was followed and the file it
    pointed to overwritten, and the chart took the umask's 0644 (found by a security
    review; the export was already written so)."""
    output, partial = _private_output(path)
    try:
        with output:
            output.buffer.write(content)
            output.flush()
            if partial is not None:
                os.fsync(output.fileno())
        if partial is not None:
            os.replace(partial, path)
    except BaseException:
        if partial is not None:
            partial.unlink(missing_ok=True)
        raise


def _as_json(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"


def _as_csv(rows: list[dict[str, Any]], columns: list[str], excel: bool = False) -> str:
    """Comma-separated UTF-8; for `excel` separated by semicolons, as Excel set to German
    (or another language that writes 4,5) expects, and begun with a byte order mark,
    without which it reads "Größe" as "GrÃ¶ÃŸe"."""
    buffer = io.StringIO()
    if excel:
        buffer.write("\ufeff")
    writer = csv.DictWriter(buffer, fieldnames=columns, delimiter=";" if excel else ",")
    writer.writeheader()
    total = len(rows)
    for done, row in enumerate(rows, start=1):
        writer.writerow({key: _inert(value) for key, value in row.items()})
        if total >= 1000 and (done % 500 == 0 or done == total):
            _progress(done, total)
    return buffer.getvalue()


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _inert(value: Any) -> Any:
    """A comment starting like a formula ("=HYPERLINK(...)") as plain text for spreadsheets:
    prefixed with an apostrophe, which they show as text and do not evaluate. The
    options ticked in a multiple choice go in one cell, separated by "; "."""
    if isinstance(value, list):
        value = "; ".join(str(item) for item in value)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _progress(done: int, total: int) -> None:
    """A progress bar on standard error, for long exports."""
    width = 30
    filled = width * done // total
    end = "\n" if done == total else ""
    print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end=end, file=sys.stderr)
