"""A real Application over the in-process Bot API double, a real SQLite store in tmp_path.

`Harness.customer(...)` gives a person who sends messages and presses buttons; each
call returns the messages the bot sent in answer, as the fake Bot API recorded them.
"""

from __future__ import annotations

import base64
import logging
import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from telegram import Update

from bot.app import build_application
from bot.context import BotApplication
from bot.fakeapi import BotMessage, FakeBotApi, InProcessRequest
from bot.logs import QUIETED, RedactingFormatter
from bot.settings import Settings
from storage import SQLiteStore

TOKEN = "123456:TEST-token-Zq8vXw3LmN5pR7tY9uB1cD"
MASTER_KEY = base64.urlsafe_b64encode(bytes(range(32))).decode()


class Clock:
    """Injectable UTC clock; tests move it instead of sleeping."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 29, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "token": TOKEN,
        "data_dir": data_dir,
        "master_key": MASTER_KEY,
        "controller_name": "Beispiel GmbH",
        "controller_contact": "datenschutz@beispiel.de",
        "_env_file": None,
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class Harness:
    api: FakeBotApi
    settings: Settings
    clock: Clock
    app: BotApplication | None = None
    store: SQLiteStore | None = field(default=None)
    # What people typed and the names they go by, for the check that no log line has them.
    personal: set[str] = field(default_factory=set)
    read_timeout: float = 5.0
    """How long the bot waits for the Bot API's answer (see FakeBotApi.delay_next)."""
    real_staff_chat: bool = True
    """False: as `feedbackbot chat` builds the bot (see bot.app.build_application)."""

    async def start(self) -> None:
        self.store = SQLiteStore(self.settings.data_dir, base64.urlsafe_b64decode(MASTER_KEY))
        self.app = build_application(
            self.settings,
            self.store,
            request=InProcessRequest(self.api, read_timeout=self.read_timeout),
            get_updates_request=InProcessRequest(self.api),
            clock=self.clock,
            staff_chat_is_real=self.real_staff_chat,
        )
        await self.app.initialize()
        assert self.app.post_init is not None
        await self.app.post_init(self.app)

    async def stop(self) -> None:
        """As `run_polling` ends: post_stop, shutdown (the bot's connection closed), then
        post_shutdown."""
        if self.app is not None:
            assert self.app.post_stop is not None
            await self.app.post_stop(self.app)
            await self.app.shutdown()
            assert self.app.post_shutdown is not None
            await self.app.post_shutdown(self.app)
            self.app = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def deliver(self, update: dict[str, Any]) -> list[BotMessage]:
        """Feed one update through the Application; the bot's new or edited messages."""
        assert self.app is not None
        self.personal.update(personal_strings(update))
        before = {(m["chat_id"], m["message_id"]) for m in self.api.messages()}
        await self.app.process_update(Update.de_json(update, self.app.bot))
        return [m for m in self.api.messages() if (m["chat_id"], m["message_id"]) not in before]

    def customer(
        self, user_id: int = 4242424242, language_code: str | None = "de", **sender: Any
    ) -> Customer:
        return Customer(self, user_id, {"language_code": language_code, **sender})


@dataclass
class Customer:
    harness: Harness
    user_id: int
    sender: dict[str, Any]

    @property
    def api(self) -> FakeBotApi:
        return self.harness.api

    async def send(self, text: str) -> list[BotMessage]:
        return await self.harness.deliver(self.api.user_message(self.user_id, text, **self.sender))

    async def press(self, label: str) -> list[BotMessage]:
        return await self.harness.deliver(self.api.press_button(self.user_id, label, **self.sender))

    async def press_data(self, message_id: int, data: str) -> list[BotMessage]:
        update = self.api.callback_press(self.user_id, message_id, data, **self.sender)
        return await self.harness.deliver(update)

    async def sticker(self) -> list[BotMessage]:
        return await self.harness.deliver(self.api.user_sticker(self.user_id, **self.sender))

    @property
    def chat_id(self) -> int:
        return int(self.sender.get("chat_id") or self.user_id)

    def last(self) -> BotMessage:
        return self.api.last_message(self.chat_id)

    def last_toast(self) -> str | None:
        answers = self.api.callback_answers
        return answers[-1].get("text") if answers else None


# Long enough not to be a word of the bot's own log lines by chance; commands are named there.
_PERSONAL_KEYS = ("text", "caption", "first_name", "last_name", "username", "title")


def personal_strings(value: Any) -> set[str]:
    """What a person wrote or is called, anywhere in an update (commands left out)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key in _PERSONAL_KEYS and isinstance(item, str):
                if len(item.strip()) >= 6 and not item.startswith("/"):
                    found.add(item.strip())
            else:
                found |= personal_strings(item)
    elif isinstance(value, list):
        for item in value:
            found |= personal_strings(item)
    return found


def leaked_into_log(records: list[logging.LogRecord], personal: set[str]) -> list[str]:
    """Log lines, filtered and formatted as in production, that still carry something personal."""
    formatter = RedactingFormatter(secrets=(TOKEN,))
    written = [
        record
        for record in records
        if record.levelno >= logging.WARNING or record.name.split(".")[0] not in QUIETED
    ]
    lines = [formatter.format(record) for record in written]
    return [line for line in lines for needle in (*personal, TOKEN) if needle in line]


def texts(messages: list[BotMessage]) -> str:
    return "\n---\n".join(m["text"] or m["caption"] or "" for m in messages)


def labels(message: BotMessage) -> list[list[str]]:
    return [[label for label, _ in row] for row in message["buttons"]]


def data_of(message: BotMessage, label: str) -> str:
    """The data of the button labelled `label` on `message`."""
    [data] = [data for row in message["buttons"] for shown, data in row if shown == label]
    assert data is not None
    return data


def files_contain(folder: Path, needle: bytes) -> list[str]:
    """Every file under `folder` whose bytes contain `needle`."""
    return [str(p) for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes()]


def deletion_dates(data_dir: Path) -> list[tuple[str]]:
    """Every stored feedback's deletion date, as feedback.db holds it, oldest row first."""
    with sqlite3.connect(data_dir / "feedback.db") as db:
        found = db.execute("SELECT expires_at FROM feedback ORDER BY rowid").fetchall()
    db.close()
    return found


def stored_rows(folder: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the store's files (the erasure ledger's too, with the notes of staff-chat
    alerts), read through a connection of its own. The update ids
    claimed against redelivery are left out: a number and a time, nothing about anyone."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    for name in ("feedback.db", "keys.db", "erasures.db"):
        with closing(sqlite3.connect(f"file:{folder / name}?mode=ro", uri=True)) as db:
            tables = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
            for (table,) in tables:
                if table != "processed_updates":
                    found = db.execute(f'SELECT * FROM "{table}"').fetchall()
                    rows[f"{name}/{table}"] = sorted(found, key=repr)
    return rows


def product_flow_passing_on(product: str) -> str:
    """The shipped product survey (its TOML `product`) with a purpose passing feedback on to
    ACME and the consent step for it before the thanks."""
    sharing = (
        '\n[[purposes]]\nid = "share_acme"\nshares_feedback = true\n'
        'description = { de = "Weitergabe an ACME", en = "Passing it to ACME" }\n'
    )
    asked = (
        '[[steps]]\nid = "acme"\ntype = "consent"\npurpose = "share_acme"\n'
        'prompt = { de = "Weitergeben?", en = "Pass it on?" }\n\n[[steps]]\nid = "thanks"'
    )
    return product.replace("\n[[steps]]", sharing + "\n[[steps]]", 1).replace(
        '[[steps]]\nid = "thanks"', asked
    )


def bytecode_settings() -> dict[str, str]:
    """Where bytecode may go (make sends it to a temporary folder, not the checkout), for a
    process started with an environment of its own."""
    names = ("PYTHONPYCACHEPREFIX", "PYTHONDONTWRITEBYTECODE")
    return {name: os.environ[name] for name in names if os.environ.get(name)}
