"""`python -m benchmarks [--quick] [--out DIR] [--profile] [NAME ...]`: run the benchmarks.

Each runs in a fresh process (so memory and caches of one do not colour the next),
prints its table and writes `<out>/<name>.json`; at the end a summary of the targets
is printed and written to `<out>/overview.json`. The exit code is non-zero only when a
benchmark failed to run; a missed target is a finding, reported, not a failure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import REPO, add_common_arguments, machine, table, versions

BENCHMARKS = {
    "throughput": "benchmarks.bench_throughput",
    "rights": "benchmarks.bench_rights",
    "purge": "benchmarks.bench_purge",
    "summary": "benchmarks.bench_summary",
    "memory": "benchmarks.bench_memory",
    "e2e": "benchmarks.bench_e2e",
    "input": "benchmarks.bench_input",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    add_common_arguments(parser)
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"which to run (default all): {', '.join(BENCHMARKS)}",
    )
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    out = Path(args.out)
    flags = (
        ["--out", str(out)]
        + (["--quick"] if args.quick else [])
        + (["--profile"] if args.profile else [])
    )
    env = {**os.environ, "PTB_TIMEDELTA": "1"}
    failed: list[str] = []
    timings: dict[str, float] = {}
    for name in args.names or list(BENCHMARKS):
        started = time.perf_counter()
        result = subprocess.run(  # noqa: S603 - our own modules, fixed names
            [sys.executable, "-m", BENCHMARKS[name], *flags], env=env, cwd=REPO, check=False
        )
        timings[name] = round(time.perf_counter() - started, 1)
        if result.returncode != 0:
            failed.append(name)
            print(f"== {name}: FAILED (exit code {result.returncode})", flush=True)
    summary = _summary(out, args.names or list(BENCHMARKS), failed, timings, args.quick)
    print("\n".join(summary["lines"]))
    (out / "overview.json").write_text(json.dumps(summary["json"], indent=2) + "\n")
    return 1 if failed else 0


def _summary(
    out: Path, names: list[str], failed: list[str], timings: dict[str, float], quick: bool
) -> dict[str, object]:
    rows = []
    for name in names:
        path = out / f"{name}.json"
        if name in failed or not path.exists():
            rows.append({"benchmark": name, "target": "", "measured": "", "verdict": "FAILED"})
            continue
        result = json.loads(path.read_text())
        if result.get("skipped"):
            rows.append(
                {"benchmark": name, "target": "", "measured": "", "verdict": result["skipped"]}
            )
            continue
        targets = result.get("targets") or [{"what": "(no target)", "limit": "", "measured": ""}]
        for target in targets:
            met = target.get("met")
            verdict = {True: "met", False: "MISSED", None: "n/a"}[met] if "met" in target else ""
            rows.append(
                {
                    "benchmark": name,
                    "target": f"{target['what']} {target['limit']}".strip(),
                    "measured": target["measured"],
                    "verdict": verdict,
                }
            )
    mode = " (quick: a smoke test, the figures mean nothing)" if quick else ""
    lines = ["", f"== Summary{mode}", *("  " + line for line in table(list(rows[0]), rows))]
    lines.append(f"  results in {out}/")
    return {
        "lines": lines,
        "json": {
            "quick": quick,
            "failed": failed,
            "seconds": timings,
            "targets": rows,
            "machine": machine(),
            "versions": versions(),
        },
    }


if __name__ == "__main__":
    sys.exit(main())
