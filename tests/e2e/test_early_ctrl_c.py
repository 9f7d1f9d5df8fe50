"""Ctrl-C while `feedbackbot` is still importing (its first second or two) ends it as a
Ctrl-C later does: one line and exit code 130, not a traceback through pydantic or
python-telegram-bot (found by an operator audit)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from storage.sqlite_db import hold_lock, release_lock
from tests.e2e.botprocess import REPO
from tests.harness import MASTER_KEY, TOKEN

PAUSE = '''
"""Test-only: holds the import of one module until a signal ends the wait."""
import os
import sys
import time


class PauseAt:
    def find_spec(self, name, path=None, target=None):
        if name == os.environ["PAUSE_IMPORT_AT"]:
            sys.meta_path.remove(self)
            os.write(1, b"importing " + name.encode() + b"\\n")
            while True:
                time.sleep(0.05)
        return None


sys.meta_path.insert(0, PauseAt())
'''
"""A `sitecustomize` on the test's PYTHONPATH only: the pause is no part of the bot."""

SCRIPT = Path(sys.executable).parent / "feedbackbot"
"""The command as pip installs it, with the entry point pyproject.toml names."""


@pytest.mark.parametrize(
    ("command", "module"),
    [
        ([str(SCRIPT), "--help"], "bot.cli"),  # the script's first import of the bot
        ([str(SCRIPT), "keygen"], "telegram"),  # deep inside the command line's imports
        ([str(SCRIPT), "keygen"], "importlib.readers"),  # in main(): the catalogs' reader
        ([sys.executable, "-m", "bot", "check"], "pydantic"),
    ],
    ids=["script-start", "script-telegram", "script-main", "python-m-bot"],
)
def test_ctrl_c_while_importing_says_one_line_and_exits_130(
    tmp_path: Path, command: list[str], module: str
) -> None:
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(PAUSE)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("FEEDBACKBOT_") and k not in ("LC_ALL", "LC_MESSAGES")
    }
    env |= {"PYTHONPATH": f"{hook}{os.pathsep}{REPO}", "PAUSE_IMPORT_AT": module}
    env |= {"LANG": "en_GB.UTF-8", "FEEDBACKBOT_DATA_DIR": str(tmp_path / "data")}
    process = subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    paused = process.stdout.readline()  # the import has begun and waits
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert paused == f"importing {module}\n", stderr
    assert stderr == "feedbackbot: interrupted\n"
    assert process.returncode == 130
    assert stdout == "", "the command did not run: no help, no key"
    assert not (tmp_path / "data").exists()


HELD_OPENING = '''
"""Test-only: `feedbackbot run` with the store's opening held on the event loop."""
import asyncio
import os
import sys

from storage import sqlite
from bot.cli import main

real = sqlite.configure


async def held(*args, **kwargs):
    os.write(1, b"opening\\n")
    # Waiting in the loop, as on the store's round trips, which wake it often: a Ctrl-C
    # the kernel gives another thread is seen at the next wake-up (one long sleep hid it
    # for a minute under load)
    for _ in range(1200):
        await asyncio.sleep(0.05)
    return await real(*args, **kwargs)


sqlite.configure = held
sys.exit(main(["run"]))
'''


def test_ctrl_c_while_run_opens_the_store_ends_it_and_lets_the_folder_go(
    tmp_path: Path,
) -> None:
    """Found by an interrupt audit: "interrupted", and then the process never ended, the
    store's thread left running and the data folder's lock held, so that every other
    command was refused as "in use by another feedbackbot process"."""
    data = tmp_path / "data"
    script = tmp_path / "held_opening.py"
    script.write_text(HELD_OPENING)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDBACKBOT_")}
    env |= {
        "PYTHONPATH": str(REPO),
        "LANG": "en_GB.UTF-8",
        "FEEDBACKBOT_DATA_DIR": str(data),
        "FEEDBACKBOT_MASTER_KEY": MASTER_KEY,
        "FEEDBACKBOT_TOKEN": TOKEN,
        "FEEDBACKBOT_API_BASE_URL": "http://127.0.0.1:9/bot",  # never reached
        "FEEDBACKBOT_CONTROLLER_NAME": "Beispiel GmbH",
        "FEEDBACKBOT_CONTROLLER_CONTACT": "datenschutz@beispiel.de",
    }
    process = subprocess.Popen(
        [sys.executable, str(script)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # as from a terminal, though the tests be started in the background (where a
        # shell makes every child ignore Ctrl-C)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert process.stdout is not None
    assert process.stdout.readline() == "opening\n"
    process.send_signal(signal.SIGINT)
    try:
        _, stderr = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail("still running 30 s after Ctrl-C")
    assert process.returncode == 130, stderr
    assert stderr.endswith("feedbackbot: interrupted\n"), stderr
    lock = hold_lock(data)  # free: StoreInUse were it held
    assert lock is not None
    release_lock(lock)
