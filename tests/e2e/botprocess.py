"""Runs the real entry point (`python -m bot run`) against the loopback Bot API double."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.fakeapi import BotApiServer, FakeBotApi
from tests.harness import MASTER_KEY, TOKEN

REPO = Path(__file__).resolve().parents[2]


def bot_env(server: BotApiServer, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDBACKBOT_")}
    env.update(
        {
            "PYTHONPATH": str(REPO),
            "FEEDBACKBOT_TOKEN": TOKEN,
            "FEEDBACKBOT_API_BASE_URL": server.base_url,
            "FEEDBACKBOT_DATA_DIR": str(data_dir),
            "FEEDBACKBOT_MASTER_KEY": MASTER_KEY,
            "FEEDBACKBOT_CONTROLLER_NAME": "Beispiel GmbH",
            "FEEDBACKBOT_CONTROLLER_CONTACT": "datenschutz@beispiel.de",
            "FEEDBACKBOT_LOG_LEVEL": "DEBUG",
        }
    )
    env.update(extra)
    return {k: v for k, v in env.items() if v}


def cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS` to completion, its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def run_once(
    env: dict[str, str], cwd: Path, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot run` to completion (for start-up failures)."""
    return subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@contextmanager
def running_bot(
    api: FakeBotApi, env: dict[str, str], cwd: Path, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Start the bot, wait until it registered its commands, stop it with SIGINT on exit."""
    registered = len(api.calls("setMyCommands"))
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"], env=env, cwd=cwd, stdout=sink, stderr=sink
        )
    try:
        api.wait_until(
            lambda: len(api.calls("setMyCommands")) >= registered + 3 or process.poll() is not None,
            timeout=30,
            what="the bot to start",
        )
        if process.poll() is not None:
            raise AssertionError(f"bot exited with {process.returncode}: {log.read_text()[-2000:]}")
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
