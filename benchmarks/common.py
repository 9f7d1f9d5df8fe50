"""What every benchmark shares: its command line, the report (table and JSON), the machine."""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / ".benchmarks"


@dataclass(frozen=True)
class Options:
    quick: bool
    out: Path
    profile: bool


def parse_options(description: str, argv: Sequence[str] | None = None) -> Options:
    """The flags every benchmark module takes (`python -m benchmarks.<name> --help`)."""
    parser = argparse.ArgumentParser(description=description)
    add_common_arguments(parser)
    args = parser.parse_args(argv)
    return Options(quick=args.quick, out=Path(args.out), profile=args.profile)


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny sizes: a smoke test that the benchmark runs (its figures mean nothing)",
    )
    parser.add_argument(
        "--out",
        default=str(DEFAULT_OUT),
        help="folder for the JSON results (default: .benchmarks/, gitignored)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also profile the measured part with pyinstrument (text and HTML into --out)",
    )


# ---------------------------------------------------------------------------- statistics


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0..100) with linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)


def ms(seconds: float) -> float:
    """Seconds as milliseconds, rounded for the report."""
    return round(seconds * 1000, 2)


# ---------------------------------------------------------------------------- targets


@dataclass
class Target:
    """A goal from the issue; `met` is None when the run was too small to judge (--quick)."""

    what: str
    limit: str
    measured: str
    met: bool | None

    @property
    def verdict(self) -> str:
        return {True: "met", False: "MISSED", None: "n/a (quick)"}[self.met]


@dataclass
class Report:
    """One benchmark's result: printed as a table, written as JSON."""

    name: str
    title: str
    quick: bool
    columns: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: str | None = None
    started: float = field(default_factory=time.time)

    def row(self, **values: Any) -> None:
        for key in values:
            if key not in self.columns:
                self.columns.append(key)
        self.rows.append(values)

    def target(self, what: str, limit: str, measured: str, met: bool) -> None:
        self.targets.append(Target(what, limit, measured, None if self.quick else met))

    def skip(self, reason: str) -> None:
        self.skipped = reason

    def as_json(self) -> dict[str, Any]:
        return {
            "benchmark": self.name,
            "title": self.title,
            "quick": self.quick,
            "skipped": self.skipped,
            "started_at": datetime.fromtimestamp(self.started, UTC).isoformat(),
            "duration_s": round(time.time() - self.started, 2),
            "rows": self.rows,
            "figures": self.figures,
            "targets": [
                {
                    "what": t.what,
                    "limit": t.limit,
                    "measured": t.measured,
                    "met": t.met,
                }
                for t in self.targets
            ],
            "notes": self.notes,
            "machine": machine(),
            "versions": versions(),
        }

    def emit(self, out: Path) -> Path:
        """Print the table and write `<out>/<name>.json`; returns the JSON's path."""
        print(self.render(), flush=True)
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"{self.name}.json"
        path.write_text(json.dumps(self.as_json(), indent=2, default=str) + "\n")
        print(f"  -> {path}", flush=True)
        return path

    def render(self) -> str:
        mode = " [quick: smoke test, figures not meaningful]" if self.quick else ""
        lines = [f"== {self.title}{mode}"]
        if self.skipped:
            lines.append(f"  skipped: {self.skipped}")
            return "\n".join(lines)
        if self.rows:
            lines += ["  " + line for line in table(self.columns, self.rows)]
        for t in self.targets:
            lines.append(f"  target: {t.what} {t.limit}: {t.measured} -> {t.verdict}")
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)


def table(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> list[str]:
    """A plain-text table, numbers right-aligned."""
    cells = [[_cell(row.get(c, "")) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    numeric = [all(_is_number(r[i]) for r in cells if r[i]) for i in range(len(columns))]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if n else v.ljust(w) for v, w, n in zip(values, widths, numeric, strict=True)
        ).rstrip()

    return [line(columns), line(["-" * w for w in widths]), *(line(r) for r in cells)]


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", ""))
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------------------- environment


def machine() -> dict[str, Any]:
    """What the figures were measured on; the load average shows how noisy the machine was."""
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gib": _memory_gib(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "ci": bool(os.environ.get("CI")),
    }
    return info


def versions() -> dict[str, Any]:
    found: dict[str, Any] = {"sqlite": sqlite3.sqlite_version, "feedbackbot_commit": _commit()}
    for package in ("python-telegram-bot", "aiosqlite", "cryptography", "pydantic", "httpx"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = None
    return found


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _commit() -> str | None:
    try:
        result = subprocess.run(  # noqa: S603 - a fixed git command
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    dirty = subprocess.run(  # noqa: S603 - a fixed git command
        ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],  # noqa: S607
        capture_output=True,
        text=True,
        timeout=5,
        check=False,
    ).stdout.strip()
    commit = result.stdout.strip() or None
    return f"{commit}+dirty" if commit and dirty else commit


def rss_bytes() -> int:
    """Resident memory of this process right now (Linux: /proc/self/status VmRSS)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource  # fall back to the peak, which is all some systems report

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def production_logging(path: Path | None = None) -> logging.Handler:
    """Log at INFO through the bot's redacting formatter, as `feedbackbot run` does, so the
    benchmark pays what production pays for logging. Lines go to `path` (default: nowhere)."""
    from bot.logs import RedactingFormatter, configure_logging

    configure_logging("INFO")
    stream = open(path or os.devnull, "a", encoding="utf-8")  # lives as long as the run
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter())
    logging.getLogger().handlers[:] = [handler]
    return handler


class ErrorCounter(logging.Handler):
    """Counts records at ERROR and above: a benchmark that measured failures measured nothing."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0
        self.first: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if self.first is None:
            self.first = f"{record.name}: {record.getMessage()}"[:300]


def count_errors() -> ErrorCounter:
    counter = ErrorCounter()
    logging.getLogger().addHandler(counter)
    return counter


class Profiler:
    """pyinstrument around the measured part when --profile is given; otherwise nothing."""

    def __init__(self, options: Options, name: str) -> None:
        self._options = options
        self._name = name
        self._profiler: Any = None

    def __enter__(self) -> Profiler:
        if self._options.profile:
            try:
                from pyinstrument import Profiler as Pyinstrument
            except ImportError:
                print("  --profile needs pyinstrument: .venv/bin/pip install pyinstrument")
                return self
            self._profiler = Pyinstrument(async_mode="enabled")
            self._profiler.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._profiler is None:
            return
        self._profiler.stop()
        self._options.out.mkdir(parents=True, exist_ok=True)
        text = self._options.out / f"{self._name}.profile.txt"
        text.write_text(self._profiler.output_text(unicode=True, color=False, show_all=False))
        (self._options.out / f"{self._name}.profile.html").write_text(self._profiler.output_html())
        print(f"  profile -> {text}")
