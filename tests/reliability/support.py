"""What the reliability tests share: simulated people who find their way through the
default flow whatever happens, the bot as a process that can be killed, the bot in
process with a transport or store of the test's choosing, and the production log."""

from __future__ import annotations

import asyncio
import base64
import io
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.request import BaseRequest

from bot.app import build_application
from bot.context import BotApplication
from bot.logs import configure_logging
from storage import SQLiteStore
from tests.fakes.botapi import BotMessage, FakeBotApi, InProcessRequest
from tests.harness import MASTER_KEY, TOKEN, Clock, make_settings

MASTER_KEY_BYTES = base64.urlsafe_b64decode(MASTER_KEY)
FULL = os.environ.get("RELIABILITY_FULL", "") not in ("", "0")

LABELS: dict[str, dict[str, str]] = {
    "de": {
        "consent": "Ja, ich willige ein",
        "skip": "Überspringen",
        "contact_yes": "Ja, einverstanden",
        "contact_no": "Nein",
        "thanks": "Vielen Dank für Ihr Feedback",
        "resume": "Machen wir dort weiter",
        "apology": "etwas schiefgelaufen",
        "not_saved": "nicht gespeichert",
    },
    "en": {
        "consent": "Yes, I agree",
        "skip": "Skip",
        "contact_yes": "Yes, I agree",
        "contact_no": "No",
        "thanks": "Thank you for your feedback",
        "resume": "Let's continue where you left off",
        "apology": "something went wrong",
        "not_saved": "could not be saved",
    },
}


def comment_parts(comments: list[Any]) -> list[str]:
    """The comments sent that the stored ones hold: a comment sent within seconds of the
    last, at the question after it (as when its reply was lost), is added to it (see
    flows.engine, `_more_of_text`), one line each."""
    return [part for c in comments if isinstance(c, str) for part in c.split("\n")]


def scaled(ci: int, full: int) -> int:
    """A size for the CI subset, or for the whole suite (`make reliability`)."""
    return full if FULL else ci


# ---------------------------------------------------------------------------- people


def text_of(message: BotMessage) -> str:
    return message["text"] or message["caption"] or ""


@dataclass
class SimulatedPerson:
    """Someone who gives feedback and, when the bot goes quiet, carries on as people do:
    presses the button in front of them, or sends /start again."""

    user_id: int
    lang: str
    comment_base: str
    first_name: str
    username: str
    contact: bool = False
    stop_at_comment: bool = False
    comments_sent: list[str] = field(default_factory=list)
    actions: int = 0
    _last: tuple[tuple[str, str], int] | None = None  # the last action and what was seen then
    _seen: int = 0

    @property
    def chat_id(self) -> int:
        return self.user_id

    @property
    def labels(self) -> dict[str, str]:
        return LABELS[self.lang]

    def sender(self) -> dict[str, Any]:
        return {
            "language_code": self.lang,
            "first_name": self.first_name,
            "username": self.username,
        }

    def thanked(self, messages: list[BotMessage]) -> int:
        return sum(self.labels["thanks"] in text_of(m) for m in messages)

    def next_action(self, messages: list[BotMessage]) -> tuple[str, str] | None:
        """("text", what) or ("press", label); None when there is nothing more to do.

        Doing the same again when it brought no answer last time (a press whose reply was
        lost only gets a toast) would go round in circles: then /start, as people do.
        """
        self._seen = len(messages)
        action = self._decide(messages)
        if action is not None and self._last == (action, len(messages)):
            return ("text", "/start")
        return action

    def _decide(self, messages: list[BotMessage]) -> tuple[str, str] | None:
        if self.thanked(messages):
            return None
        if not messages:
            return ("text", "/start")
        labels = [label for row in messages[-1]["buttons"] for label, _ in row]
        words = self.labels
        if words["consent"] in labels:
            return ("press", words["consent"])
        if words["skip"] in labels:
            if self.stop_at_comment:
                return None
            comment = f"{self.comment_base}-{len(self.comments_sent) + 1}"
            return ("text", comment)
        if words["contact_yes"] in labels:
            return ("press", words["contact_yes"] if self.contact else words["contact_no"])
        if "4" in labels:
            return ("press", "4")
        return ("text", "/start")

    def act(self, api: FakeBotApi, action: tuple[str, str]) -> dict[str, Any]:
        """Queue the update for `action`; returns it (for in-process delivery)."""
        kind, value = action
        self.actions += 1
        self._last = (action, self._seen)
        if kind == "press":
            return api.press_button(self.user_id, value, **self.sender())
        if value.startswith(self.comment_base):
            self.comments_sent.append(value)
        return api.user_message(self.user_id, value, **self.sender())


def people(count: int, first_id: int, **options: Any) -> list[SimulatedPerson]:
    """`count` people, alternately German and English, each with canary names and comment."""
    return [
        SimulatedPerson(
            user_id=first_id + n,
            lang="de" if n % 2 == 0 else "en",
            comment_base=f"Zaunkoenig{first_id % 997:03d}x{n:04d}",
            first_name=f"Mechthild{n:04d}Canary",
            username=f"canary_user_{first_id % 997:03d}_{n:04d}",
            contact=n % 3 == 0,
            **options,
        )
        for n in range(count)
    ]


# ---------------------------------------------------------------------------- logs


class ProductionLog:
    """The log exactly as `feedbackbot run` writes it (configure_logging at DEBUG, the
    redacting formatter, the token as a secret), captured; plus the raw records at
    ERROR and above, to check that the error handler was never reached."""

    def __init__(self, level: str = "DEBUG") -> None:
        self.level = level
        self.stream = io.StringIO()
        self.errors: list[logging.LogRecord] = []
        self._saved: tuple[list[logging.Handler], int, dict[str, int]] | None = None

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def error_lines(self) -> list[str]:
        return [f"{r.name}: {r.getMessage()}" for r in self.errors]

    def __enter__(self) -> ProductionLog:
        root = logging.getLogger()
        names = ("httpx", "httpcore", "telegram", "apscheduler", "aiosqlite", "asyncio")
        self._saved = (
            list(root.handlers),
            root.level,
            {n: logging.getLogger(n).level for n in names},
        )
        real_stderr = sys.stderr
        sys.stderr = self.stream  # configure_logging writes to sys.stderr as it is now
        try:
            configure_logging(self.level, secrets=(TOKEN,))
        finally:
            sys.stderr = real_stderr
        collector = _Collector(self.errors)
        root.addHandler(collector)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._saved is not None
        handlers, level, levels = self._saved
        root = logging.getLogger()
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, saved in levels.items():
            logging.getLogger(name).setLevel(saved)


class _Collector(logging.Handler):
    def __init__(self, sink: list[logging.LogRecord]) -> None:
        super().__init__(logging.ERROR)
        self._sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self._sink.append(record)


# ---------------------------------------------------------------------------- in process


STARTED: list[InProcessBot] = []
"""Every InProcessBot started by the running test; conftest stops what a failed test left
running (the store's thread would otherwise keep pytest from exiting)."""


@dataclass
class InProcessBot:
    """The real Application over a real SQLiteStore, with the request double of the test's
    choosing (a faulty one, say) and store options (a size cap)."""

    api: FakeBotApi
    data_dir: Path
    clock: Clock = field(default_factory=Clock)
    request: BaseRequest | None = None
    max_page_count: int | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    app: BotApplication | None = None
    store: SQLiteStore | None = None

    async def start(self) -> None:
        STARTED.append(self)
        self.store = SQLiteStore(
            self.data_dir, MASTER_KEY_BYTES, max_page_count=self.max_page_count
        )
        self.app = build_application(
            make_settings(self.data_dir, **self.settings),
            self.store,
            request=self.request or InProcessRequest(self.api),
            get_updates_request=InProcessRequest(self.api),
            clock=self.clock,
        )
        await self.app.initialize()
        assert self.app.post_init is not None
        await self.app.post_init(self.app)

    async def stop(self) -> None:
        """As `run_polling` ends (see tests.harness.Harness.stop)."""
        if self.app is not None:
            assert self.app.post_stop is not None
            await self.app.post_stop(self.app)
            await self.app.shutdown()
            assert self.app.post_shutdown is not None
            await self.app.post_shutdown(self.app)
            self.app = None

    async def deliver(self, update: dict[str, Any]) -> None:
        assert self.app is not None
        await self.app.process_update(Update.de_json(update, self.app.bot))


async def converse_in_process(
    bot: InProcessBot, person: SimulatedPerson, max_actions: int = 60
) -> None:
    """Let `person` act until they are done (thanked, or stopped at the comment)."""
    while True:
        action = person.next_action(bot.api.messages(person.chat_id))
        if action is None:
            return
        if person.actions >= max_actions:
            raise AssertionError(
                f"person {person.user_id} got nowhere in {max_actions} actions; last message: "
                f"{text_of(bot.api.messages(person.chat_id)[-1])[:200]!r}"
            )
        await bot.deliver(person.act(bot.api, action))
        await asyncio.sleep(0)


# ---------------------------------------------------------------------------- a process


REPO = Path(__file__).resolve().parents[2]


def process_env(base_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDBACKBOT_")}
    env.update(
        {
            "PYTHONPATH": str(REPO),
            "FEEDBACKBOT_TOKEN": TOKEN,
            "FEEDBACKBOT_API_BASE_URL": base_url,
            "FEEDBACKBOT_DATA_DIR": str(data_dir),
            "FEEDBACKBOT_MASTER_KEY": MASTER_KEY,
            "FEEDBACKBOT_CONTROLLER_NAME": "Beispiel GmbH",
            "FEEDBACKBOT_CONTROLLER_CONTACT": "datenschutz@beispiel.de",
            "FEEDBACKBOT_LOG_LEVEL": "DEBUG",
        }
    )
    env.update(extra)
    return env


class BotProcess:
    """`python -m bot run` that can be started, killed with SIGKILL and started again."""

    def __init__(self, api: FakeBotApi, env: dict[str, str], cwd: Path, log: Path) -> None:
        self.api, self.env, self.cwd, self.log = api, env, cwd, log
        self.process: subprocess.Popen[bytes] | None = None
        self._registered = 0
        self.starts = 0
        self.kills = 0

    def start(self) -> None:
        self._registered = len(self.api.calls("setMyCommands"))
        with self.log.open("ab") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                env=self.env,
                cwd=self.cwd,
                stdout=sink,
                stderr=sink,
            )
        self.starts += 1

    def wait_ready(self, timeout: float = 60) -> None:
        """Until the bot has registered its commands (it polls right after)."""
        process = self.process
        assert process is not None
        self.api.wait_until(
            lambda: (
                len(self.api.calls("setMyCommands")) >= self._registered + 3
                or process.poll() is not None
            ),
            timeout=timeout,
            what="the bot to start",
        )
        if process.poll() is not None:
            raise AssertionError(
                f"the bot exited with {process.returncode}: {self.log.read_text()[-3000:]}"
            )

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as on a crash or a power cut of the process."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
            self.kills += 1

    def stop(self) -> int | None:
        """SIGINT, as an operator would; returns the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def drive_over_http(
    api: FakeBotApi,
    crowd: list[SimulatedPerson],
    *,
    until: Callable[[], bool],
    deadline: float,
    patience: float = 4.0,
    settle: float = 0.15,
) -> None:
    """Let everyone act whenever the bot answered them (or went quiet for `patience`
    seconds) until `until()` or everyone is done; raises at `deadline` (monotonic)."""
    seen: dict[int, tuple[int, float]] = {p.user_id: (-1, 0.0) for p in crowd}
    acted: dict[int, tuple[int, float]] = {p.user_id: (-1, 0.0) for p in crowd}
    while not until():
        now = time.monotonic()
        if now > deadline:
            stuck = [p.user_id for p in crowd if p.next_action(api.messages(p.chat_id))]
            raise AssertionError(f"people still not done at the deadline: {stuck}")
        busy = False
        for person in crowd:
            messages = api.messages(person.chat_id)
            count = len(messages)
            if count != seen[person.user_id][0]:
                seen[person.user_id] = (count, now)
            action = person.next_action(messages)
            if action is None:
                continue
            busy = True
            last_count, last_time = acted[person.user_id]
            answered = count > last_count
            if answered and now - seen[person.user_id][1] < settle:
                continue  # more replies may be on their way (consent sends two)
            if not answered and now - last_time < patience:
                continue
            person.act(api, action)
            acted[person.user_id] = (count, now)
        if not busy:
            return
        time.sleep(0.02)


# ---------------------------------------------------------------------------- checks


def integrity(path: Path) -> str:
    """PRAGMA integrity_check of one SQLite file ("ok" when sound)."""
    db = sqlite3.connect(path)
    try:
        rows = db.execute("PRAGMA integrity_check").fetchall()
    finally:
        db.close()
    return "; ".join(str(r[0]) for r in rows)


async def read_back(
    data_dir: Path, crowd: list[SimulatedPerson], now: Any
) -> dict[int, tuple[list[Any], list[Any]]]:
    """Each person's (feedback, consents) as the store returns them with the master key."""
    store = SQLiteStore(data_dir, MASTER_KEY_BYTES)
    await store.open()
    try:
        result = {}
        for person in crowd:
            pseudonym = store.pseudonym(f"tg-user:{person.user_id}")
            result[person.user_id] = (
                await store.feedback_of(pseudonym, now),
                await store.consents(pseudonym),
            )
        return result
    finally:
        await store.close()


def feedback_without_consent(data_dir: Path) -> int:
    """Feedback rows whose person has no consent record for storing feedback."""
    db = sqlite3.connect(data_dir / "feedback.db")
    try:
        row = db.execute(
            "SELECT count(*) FROM feedback f WHERE NOT EXISTS (SELECT 1 FROM consents c"
            " WHERE c.pseudonym = f.pseudonym AND c.purpose = 'feedback')"
        ).fetchone()
    finally:
        db.close()
    return int(row[0])
