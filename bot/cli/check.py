"""`feedbackbot check FILE...`: validate flow definitions; every problem with file and line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from bot.operator import operator_locale
from flows.check import Report, check_paths
from flows.i18n import SUPPORTED_LOCALES, Translator, translator


def register(subparsers: Any, t: Translator) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "check",
        help=t.gettext("check flow definitions (TOML) for mistakes"),
        description=t.gettext(
            "Check flow definitions: syntax, step types, branches, loops, consent "
            "before answers, button sizes and translations. Exits with 1 when there are "
            "errors; warnings alone exit with 0."
        ),
    )
    parser.add_argument(
        "files",
        nargs="+",
        type=Path,
        metavar="FILE",
        help=t.gettext("a definition, or a folder of them"),
    )
    parser.add_argument(
        "--lang",
        choices=SUPPORTED_LOCALES,
        help=t.gettext("language of the messages (default: the terminal's, else German)"),
    )
    parser.set_defaults(handler=check)


def check(args: argparse.Namespace) -> int:
    """Print every problem; the exit code is 1 if any is an error."""
    t = translator(operator_locale(args.lang, SUPPORTED_LOCALES[0]))
    reports = check_paths(args.files, t)
    print_reports(reports, t, sys.stdout)
    return 1 if any(report.errors for report in reports) else 0


def print_reports(reports: Sequence[Report], t: Translator, out: TextIO) -> None:
    """``file:line: error: message`` and an indented hint per problem, then a summary."""
    for report in reports:
        for finding in sorted(report.findings, key=lambda f: (f.line, f.warning)):
            kind = t.gettext("warning") if finding.warning else t.gettext("error")
            print(f"{finding.source}:{finding.line}: {kind}: {finding.message}", file=out)
            if finding.hint:
                print(f"    {finding.hint}", file=out)
    errors = sum(len(r.errors) for r in reports)
    warnings = sum(len(r.warnings) for r in reports)
    files = t.ngettext("{count} file", "{count} files", len(reports)).format(count=len(reports))
    if not errors and not warnings:
        print(t.gettext("No problems in {files}.").format(files=files), file=out)
        return
    print(
        t.gettext("{errors} and {warnings} in {files}.").format(
            errors=t.ngettext("{count} error", "{count} errors", errors).format(count=errors),
            warnings=t.ngettext("{count} warning", "{count} warnings", warnings).format(
                count=warnings
            ),
            files=files,
        ),
        file=out,
    )
