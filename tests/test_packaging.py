"""`pip install .` must ship working catalogs, flow files and the chart font, not only the
source tree."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "setup.py", "README.md", "bot", "flows", "storage", "locales")


def test_wheel_installs_catalogs_and_flows_that_work_outside_the_checkout(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(
                path, source / name, ignore=shutil.ignore_patterns("*.mo", "__pycache__")
            )
        else:
            shutil.copy(path, source / name)

    def wheel_of(source: Path, dist: Path) -> Path:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--quiet",
                "--no-deps",
                "--no-build-isolation",
                "--wheel-dir",
                str(dist),
                str(source),
            ],
            check=True,
            capture_output=True,
        )
        [wheel] = dist.glob("feedbackbot-*.whl")
        return wheel

    # A module removed since the last build is not shipped from the build/ folder that
    # build left in the tree (found by review: `git pull && pip install .` shipped it).
    (source / "bot" / "removed_since.py").write_text("GONE = True\n")
    assert "bot/removed_since.py" in zipfile.ZipFile(wheel_of(source, tmp_path / "old")).namelist()
    (source / "bot" / "removed_since.py").unlink()
    wheel = wheel_of(source, tmp_path / "dist")
    names = zipfile.ZipFile(wheel).namelist()
    assert "bot/removed_since.py" not in names
    for expected in (
        "flows/definitions/feedback.toml",
        "flows/fonts/DejaVuSans-subset.ttf",
        "flows/fonts/LICENSE",
        "locales/de/LC_MESSAGES/messages.mo",
        "locales/en/LC_MESSAGES/messages.mo",
    ):
        assert expected in names
    assert not any(name.startswith("tests/") for name in names)

    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    probe = (
        "import flows.i18n as i, flows.catalog as c, flows.chart as g, flows.check as k;"
        f"assert i.__file__.startswith({str(target)!r}), i.__file__;"
        "print(i.translator('de').gettext('Skip'), c.FlowCatalog.load().default.id,"
        " g.chart_font(g.LABEL_SIZE).getname()[0].replace(' ', '_'),"
        " *(source for source, _ in k.shipped_definitions()))"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            f"import sys; sys.path[:0] = [{str(target)!r}, "
            f"{sysconfig.get_paths()['purelib']!r}]; " + probe,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # The shipped flows named by their installed files, as `check` lists them (found
    # walking the README: "flows/definitions/…", the path in a source clone, named nothing).
    shipped = target / "flows" / "definitions"
    assert result.stdout.split() == [
        "Überspringen",
        "feedback",
        "DejaVu_Sans",
        str(shipped / "feedback.toml"),
        str(shipped / "product.toml"),
    ]
    # The schema of /mydata's JSON copy, which the source tree alone had as a file (found
    # by an operator walk-through: an installed bot had none to show).
    schema = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            f"import sys; sys.path[:0] = [{str(target)!r}, "
            f"{sysconfig.get_paths()['purelib']!r}]; "
            "from bot.cli import main; sys.exit(main(['docs', 'export-schema']))",
        ],
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if not k.startswith("FEEDBACKBOT_")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert schema.returncode == 0, schema.stderr
    assert schema.stdout == (REPO / "docs" / "export.schema.json").read_text()
