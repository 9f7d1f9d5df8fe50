"""`feedbackbot audit` and `feedbackbot export`: the staff trail and analysis exports."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

from bot.cli.common import lookback, with_store
from bot.settings import Settings
from flows.catalog import FlowCatalog
from flows.service import utc_now
from flows.staff import StaffDesk, StaffSettings
from storage import AuditEntry, SQLiteStore


def register(subparsers: Any) -> None:
    audit = subparsers.add_parser(
        "audit",
        help="print who accessed feedback, and erasures",
        description="Print the audit trail: staff summaries, digests, exports (who, when, "
        "what, how many records) and erasures (when only).",
    )
    audit.add_argument(
        "--since", type=lookback, default="30d", help="how far back, e.g. 7d (default 30d)"
    )
    audit.set_defaults(handler=run_audit)
    export = subparsers.add_parser(
        "export",
        help="write redacted, consented feedback as CSV or JSON",
        description="Write the consented feedback of the period, personal data redacted, "
        "for analysis in a spreadsheet. The export is recorded in the audit trail.",
    )
    export.add_argument(
        "--since", type=lookback, default="30d", help="how far back, e.g. 90d (default 30d)"
    )
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    export.add_argument("--output", type=Path, help="file to write (default: standard output)")
    export.set_defaults(handler=run_export)


def run_audit(args: argparse.Namespace) -> int:
    since = utc_now() - args.since

    async def read(store: SQLiteStore, settings: Settings) -> list[AuditEntry]:
        return await store.audit_entries(since)

    entries = with_store(read)
    for entry in entries:
        who = entry.actor or "-"
        count = "" if entry.records is None else f" records={entry.records}"
        detail = f" {entry.detail}" if entry.detail else ""
        print(f"{entry.at.isoformat(timespec='seconds')} {entry.event}{detail} by={who}{count}")
    if not entries:
        print("no audit entries in this period")
    return 0


def run_export(args: argparse.Namespace) -> int:
    period = args.since

    async def export(store: SQLiteStore, settings: Settings) -> list[dict[str, Any]]:
        desk = StaffDesk(
            store,
            FlowCatalog.load(settings.flows_dir),
            StaffSettings(min_group_size=settings.min_group_size),
            utc_now,
        )
        return await desk.export_rows("cli", period, settings.default_locale)

    rows = with_store(export)
    text = _as_json(rows) if args.format == "json" else _as_csv(rows)
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {len(rows)} feedbacks to {args.output}", file=sys.stderr)
    return 0


def _as_json(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"


def _as_csv(rows: list[dict[str, Any]]) -> str:
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns or ["date", "flow"])
    writer.writeheader()
    total = len(rows)
    for done, row in enumerate(rows, start=1):
        writer.writerow(row)
        if total >= 1000 and (done % 500 == 0 or done == total):
            _progress(done, total)
    return buffer.getvalue()


def _progress(done: int, total: int) -> None:
    """A progress bar on standard error, for long exports."""
    width = 30
    filled = width * done // total
    end = "\n" if done == total else ""
    print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end=end, file=sys.stderr)
