"""The bot under measurement, in process: the real Application over the real SQLite store,
the Bot API double answering in process, and simulated people who press its buttons.

The person simulation is O(1) per update (the latest inline keyboard of each chat is
remembered as the double answers), so the figures measure the bot, not the test double.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters
from telegram.request import BaseRequest, RequestData

from bot.app import build_application
from bot.context import BotApplication
from flows.redaction import compile_patterns
from storage import MemoryStore, SQLiteStore
from tests.fakes.botapi import FakeBotApi, InProcessRequest
from tests.harness import MASTER_KEY, TOKEN, Clock, make_settings

MASTER_KEY_BYTES = base64.urlsafe_b64decode(MASTER_KEY)
LANGUAGE = "en"
YES_CONSENT, RATING, SKIP, NO_CONTACT = "Yes, I agree", "4", "Skip", "No"
THANKS = "Thank you for your feedback"


@dataclass
class ChatView:
    """What one simulated person sees: the latest keyboard and the latest text."""

    keyboard_message: int = 0
    buttons: dict[str, str] = field(default_factory=dict)
    last_text: str = ""
    received: int = 0


class Screens:
    """The chats as the people see them, fed from the double's answers."""

    def __init__(self) -> None:
        self.chats: dict[int, ChatView] = {}

    def record(self, method: str, result: Any) -> None:
        if method not in ("sendMessage", "sendDocument") or not isinstance(result, dict):
            return
        view = self.chats.setdefault(int(result["chat"]["id"]), ChatView())
        view.received += 1
        view.last_text = str(result.get("text") or result.get("caption") or "")
        keyboard = (result.get("reply_markup") or {}).get("inline_keyboard")
        if keyboard:
            view.keyboard_message = int(result["message_id"])
            view.buttons = {
                b["text"]: b["callback_data"]
                for row in keyboard
                for b in row
                if "callback_data" in b
            }

    def view(self, chat_id: int) -> ChatView:
        return self.chats.setdefault(chat_id, ChatView())


class TrackingRequest(InProcessRequest):
    """`InProcessRequest` that shows every successful answer to `Screens`."""

    def __init__(self, api: FakeBotApi, screens: Screens, **kwargs: Any) -> None:
        super().__init__(api, **kwargs)
        self._screens = screens

    async def do_request(
        self, url: str, method: str, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:
        status, body = await super().do_request(url, method, *args, **kwargs)
        if status == 200:
            api_method = url.rsplit("/", 1)[-1]
            if api_method in ("sendMessage", "sendDocument"):
                self._screens.record(api_method, json.loads(body)["result"])
        return status, body


@dataclass
class BotUnderTest:
    """A started application and what drives it."""

    app: Application[Any, Any, Any, Any, Any, Any]
    api: FakeBotApi
    screens: Screens
    clock: Clock
    store: SQLiteStore | None = None

    async def deliver(self, update: dict[str, Any]) -> float:
        """Process one update as the polling loop would; returns its latency in seconds."""
        started = time.perf_counter()
        await self.app.process_update(Update.de_json(update, self.app.bot))
        return time.perf_counter() - started

    def press(self, user_id: int, label: str) -> dict[str, Any]:
        """The update of `user_id` pressing `label` on the latest keyboard in their chat."""
        view = self.screens.view(user_id)
        try:
            data = view.buttons[label]
        except KeyError:
            raise AssertionError(
                f"no button {label!r} for {user_id}; last text: {view.last_text[:120]!r}, "
                f"buttons: {sorted(view.buttons)}"
            ) from None
        return self.api.callback_press(user_id, view.keyboard_message, data, language_code=LANGUAGE)

    def message(self, user_id: int, text: str) -> dict[str, Any]:
        return self.api.user_message(user_id, text, language_code=LANGUAGE)

    async def converse(self, user_id: int, comment: str | None) -> list[float]:
        """One complete default-flow conversation; latencies of its five updates."""
        latencies = [await self.deliver(self.message(user_id, "/start"))]
        view = self.screens.view(user_id)
        if YES_CONSENT in view.buttons:
            latencies.append(await self.deliver(self.press(user_id, YES_CONSENT)))
        latencies.append(await self.deliver(self.press(user_id, RATING)))
        if comment is None:
            latencies.append(await self.deliver(self.press(user_id, SKIP)))
        else:
            latencies.append(await self.deliver(self.message(user_id, comment)))
        latencies.append(await self.deliver(self.press(user_id, NO_CONTACT)))
        if THANKS not in view.last_text:
            raise AssertionError(
                f"conversation of {user_id} did not end in thanks: {view.last_text!r}"
            )
        return latencies

    async def pause_at_comment(self, user_id: int) -> list[float]:
        """Consent and rating, then stop: the person's draft waits at the comment step."""
        return [
            await self.deliver(self.message(user_id, "/start")),
            await self.deliver(self.press(user_id, YES_CONSENT)),
            await self.deliver(self.press(user_id, RATING)),
        ]


async def _start(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)


async def _stop(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    await app.shutdown()
    if app.post_shutdown is not None:
        await app.post_shutdown(app)


@asynccontextmanager
async def feedback_bot(
    data_dir: Path,
    *,
    clock: Clock | None = None,
    api: FakeBotApi | None = None,
    request: Callable[[FakeBotApi, Screens], BaseRequest] | None = None,
    in_memory: bool = False,
    **settings: Any,
) -> AsyncIterator[BotUnderTest]:
    """The real bot (build_application) over a real SQLiteStore in `data_dir`, or with
    `in_memory` over the MemoryStore (what the bot costs when storing costs nothing).

    Pass the `api` of an earlier run on the same store: update ids continue from it, where
    a new double would repeat ids the store remembers as processed (and drops).
    """
    api, screens, clock = api or FakeBotApi(TOKEN), Screens(), clock or Clock()
    compile_patterns()  # as `feedbackbot run` does before polling: not in what is timed
    store = None if in_memory else SQLiteStore(data_dir, MASTER_KEY_BYTES)
    make_request = request or (lambda api, screens: TrackingRequest(api, screens))
    app: BotApplication = build_application(
        make_settings(data_dir, **settings),
        store or MemoryStore(),
        request=make_request(api, screens),
        get_updates_request=InProcessRequest(api),
        clock=clock,
    )
    await _start(app)
    try:
        yield BotUnderTest(app, api, screens, clock, store)
    finally:
        await _stop(app)


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message is not None and update.effective_message.text is not None:
        await update.effective_message.reply_text(update.effective_message.text)


@asynccontextmanager
async def echo_bot() -> AsyncIterator[BotUnderTest]:
    """The baseline: python-telegram-bot's bare echo bot through the same double."""
    api, screens = FakeBotApi(TOKEN), Screens()
    app = (
        Application.builder()
        .token(TOKEN)
        .request(TrackingRequest(api, screens))
        .get_updates_request(InProcessRequest(api))
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, _echo))
    await _start(app)
    try:
        yield BotUnderTest(app, api, screens, Clock())
    finally:
        await _stop(app)


async def run_people(
    count: int, concurrency: int, one: Callable[[int], Any], first_id: int = 7_000_000_000
) -> list[float]:
    """Run `one(user_id)` for `count` people, `concurrency` at a time; all latencies."""
    ids = iter(range(first_id, first_id + count))
    latencies: list[float] = []

    async def worker() -> None:
        for user_id in ids:
            latencies.extend(await one(user_id))

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


# ---------------------------------------------------------------------------- lean double


class LeanRequest(BaseRequest):
    """A Bot API double that keeps nothing but each chat's latest keyboard.

    For the memory benchmark: FakeBotApi keeps every message and call (as a test double
    should), which would be counted as the bot's memory.
    """

    def __init__(self, screens: Screens) -> None:
        self._screens = screens
        self._message_ids = itertools.count(1)
        self._bot_user = {
            "id": int(TOKEN.split(":")[0]),
            "is_bot": True,
            "first_name": "Bench",
            "username": "bench_bot",
        }

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, *args: Any, **kw: Any
    ) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        result: Any = True
        if api_method == "getMe":
            result = self._bot_user
        elif api_method in ("sendMessage", "sendDocument", "editMessageReplyMarkup"):
            result = self._message(api_method, params)
        elif api_method == "getUpdates":
            result = []
        body = json.dumps({"ok": True, "result": result}).encode()
        return 200, body

    def _message(self, api_method: str, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params.get("chat_id") or 0)
        message: dict[str, Any] = {
            "message_id": int(params.get("message_id") or next(self._message_ids)),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": self._bot_user,
        }
        if api_method == "sendMessage":
            message["text"] = params.get("text", "")
        elif api_method == "sendDocument":
            message["document"] = {"file_id": "doc", "file_unique_id": "doc"}
        markup = params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        if markup:
            message["reply_markup"] = markup
        self._screens.record(api_method, message)
        return message


class LeanPeople:
    """Update builders for the lean double (no queue, nothing remembered)."""

    def __init__(self, screens: Screens) -> None:
        self._screens = screens
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._query_ids = itertools.count(1)

    def _user(self, user_id: int) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": "P", "language_code": LANGUAGE}

    def message(self, user_id: int, text: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "from": self._user(user_id),
            "chat": {"id": user_id, "type": "private", "first_name": "P"},
            "date": int(time.time()),
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            ]
        return {"update_id": next(self._update_ids), "message": message}

    def press(self, user_id: int, label: str) -> dict[str, Any]:
        view = self._screens.view(user_id)
        query = {
            "id": str(next(self._query_ids)),
            "from": self._user(user_id),
            "chat_instance": str(user_id),
            "data": view.buttons[label],
            "message": {
                "message_id": view.keyboard_message,
                "date": int(time.time()),
                "chat": {"id": user_id, "type": "private", "first_name": "P"},
                "text": view.last_text,
            },
        }
        return {"update_id": next(self._update_ids), "callback_query": query}
