"""`python -m benchmarks --quick` (the `make bench` suite at toy sizes) runs, prints its
tables and writes its JSON. A smoke test only: no timing is asserted here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.reliability.support import REPO

NAMES = ("throughput", "rights", "purge", "summary", "memory", "e2e", "input")


def test_every_benchmark_runs_in_quick_mode_and_writes_json(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--out", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "== Summary" in result.stdout
    for name in NAMES:
        report = json.loads((tmp_path / f"{name}.json").read_text())
        assert report["quick"] is True
        assert report["machine"]["cpus"] and report["versions"]["python-telegram-bot"]
        assert report["skipped"] or report["rows"], name
        assert all(t["met"] is None for t in report["targets"]), "quick mode judges nothing"
    throughput = json.loads((tmp_path / "throughput.json").read_text())["figures"]
    # The echo bot answers each message once; a default-flow conversation costs 12 calls
    # for its 5 updates (a press: answer it, remove its buttons, ask the next question;
    # the consent's receipt heads the first question).
    assert throughput["echo_api_calls_per_update"] == 1.0
    assert throughput["feedbackbot_api_calls_per_update"] == 2.4
    assert throughput["in_memory_store_updates_per_s"] > 0
    long_messages = json.loads((tmp_path / "input.json").read_text())["figures"]
    assert long_messages["units"] >= 5
    assert (
        long_messages["redaction"]["slowest"] and long_messages["typed at the comment"]["steepest"]
    )
    summary = json.loads((tmp_path / "overview.json").read_text())
    assert summary["failed"] == []


# What pytest itself collects: every `unit` parameter of the tests it would run.
_COLLECT_UNITS = """
import json, sys, pytest

class Units:
    found = []

    def pytest_collection_modifyitems(self, items):
        for item in items:
            params = getattr(getattr(item, "callspec", None), "params", {})
            if "unit" in params:
                self.found.append(params["unit"])

pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", *sys.argv[2:]], plugins=[Units()])
open(sys.argv[1], "w", encoding="utf-8").write(json.dumps(Units.found))
"""


def test_the_input_benchmark_measures_every_unit_the_tests_run_through(tmp_path: Path) -> None:
    """The long-message benchmark takes its units from the tests' parameters: it must find
    each that pytest finds, whatever the shape of their parametrize, and not quietly
    measure fewer."""
    from benchmarks.bench_input import MORE_UNITS, TEST_MODULES, units, units_of_the_tests

    found = tmp_path / "units.json"
    files = [str(REPO / (name.replace(".", "/") + ".py")) for name in TEST_MODULES]
    subprocess.run(
        [sys.executable, "-c", _COLLECT_UNITS, str(found), *files],
        cwd=REPO,
        capture_output=True,
        timeout=300,
        check=True,
    )
    by_pytest = set(json.loads(found.read_text(encoding="utf-8")))
    # from test_engine's long "no no no" and from test_redaction's long phrases
    assert {"no ", "nein danke ", "Herr Müller ", "Musterstraße 12 "} <= by_pytest
    assert set(units_of_the_tests()) == by_pytest
    assert set(units(quick=False)) == by_pytest | set(MORE_UNITS)
