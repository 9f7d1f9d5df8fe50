"""`FakeBotApi`: the in-memory Bot API for one bot, and how calls reach it."""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from bot.fakeapi.markup import as_json
from bot.fakeapi.methods import BotApiMethods
from bot.fakeapi.model import (
    BLOCKED_DESCRIPTION,
    ApiCall,
    ApiError,
    BotMessage,
    JSONDict,
    PendingCallback,
    QueuedUpdate,
    StoredMessage,
    UploadedFile,
)
from bot.fakeapi.people import SimulatedPeople

_T = TypeVar("_T")


class FakeBotApi(SimulatedPeople, BotApiMethods):
    """In-memory Bot API for one bot; every public method is thread-safe."""

    def __init__(
        self,
        token: str = "123456:TEST-token",  # noqa: S107 - the fake accepts any well-formed token
        *,
        username: str = "feedback_test_bot",
        first_name: str = "Feedback Test Bot",
        clock: Callable[[], float] = time.time,
        strict_chats: bool = False,
        first_update_id: int = 1000,
    ) -> None:
        """Create the fake for `token` ("<bot id>:<secret>").

        With `strict_chats`, sending to a chat no simulated person has written
        from answers 400 "chat not found" instead of inventing a private chat.
        Update ids count up from `first_update_id`, as Telegram's do across restarts.
        """
        bot_id, sep, secret = token.partition(":")
        if not (bot_id.isdigit() and sep and secret):
            raise ValueError(f"not a bot token: {token!r}")
        self.token = token
        self.bot_user: JSONDict = {
            "id": int(bot_id),
            "is_bot": True,
            "first_name": first_name,
            "username": username,
        }
        self._clock = clock
        self._strict_chats = strict_chats
        self._cond = threading.Condition(threading.RLock())
        self._update_ids = itertools.count(first_update_id)
        self._callback_ids = itertools.count(4_000_000_000_000_000_001)
        self._file_ids = itertools.count(1)
        self._sequence = itertools.count()
        self._queue: list[QueuedUpdate] = []
        self._poll_generation = 0
        self._release_generation = 0
        self._last_message_id: dict[int, int] = {}
        self._chats: dict[int, JSONDict] = {}
        self._bot_messages: dict[tuple[int, int], StoredMessage] = {}
        self._user_messages: dict[tuple[int, int], JSONDict] = {}
        self._callbacks: dict[str, PendingCallback] = {}
        self._files: dict[str, UploadedFile] = {}
        self._faults: dict[str, deque[ApiError | None]] = {}
        self._delays: dict[str, deque[float]] = {}
        self._blocked: set[int] = set()
        self._sent: list[ApiCall] = []
        self._callback_answers: list[JSONDict] = []
        self._command_sets: dict[tuple[str, str], list[JSONDict]] = {}
        self._methods: dict[str, Callable[[JSONDict, dict[str, UploadedFile]], Any]] = {
            "getMe": self._get_me,
            "logOut": lambda params, files: True,
            "close": lambda params, files: True,
            # Profile settings a bot may make at start: accepted and recorded in `sent` only.
            "setMyDescription": lambda params, files: True,
            "setMyShortDescription": lambda params, files: True,
            "setMyName": lambda params, files: True,
            "setChatMenuButton": lambda params, files: True,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "answerCallbackQuery": self._answer_callback_query,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
            "sendChatAction": self._send_chat_action,
            "deleteMessage": self._delete_message,
        }

    # ----------------------------------------------------------------- dispatch

    def handle(
        self,
        method: str,
        params: Mapping[str, Any],
        files: Mapping[str, UploadedFile] | None = None,
        *,
        cancel: threading.Event | None = None,
    ) -> tuple[int, JSONDict]:
        """Answer one Bot API call: (HTTP status, Telegram's JSON envelope).

        `params` hold JSON-compatible values; `files` are multipart uploads by
        part name. A held getUpdates gives up early once `cancel` is set.
        """
        params = dict(params)
        files = dict(files or {})
        with self._cond:
            try:
                chat = params.get("chat_id")
                if chat is None and params.get("scope"):  # a chat's command menu
                    chat = (as_json(params["scope"]) or {}).get("chat_id")
                fault = self._take(self._faults, f"{method}@{chat}") or self._take(
                    self._faults, method
                )
                if fault is not None:
                    raise fault
                if method == "getUpdates":
                    result = self._get_updates(params, cancel)
                elif method in self._methods:
                    result = self._methods[method](params, files)
                else:
                    raise ApiError(404, "Not Found")
                status, body = 200, {"ok": True, "result": copy.deepcopy(result)}
            except ApiError as exc:
                status, body = exc.status, exc.envelope()
            if method != "getUpdates":
                self._sent.append(ApiCall(method, params, self._clock(), status, files))
            self._cond.notify_all()
        return status, body

    def take_delay(self, method: str) -> float:
        """Seconds the transport should hold the next answer to `method` (0 if none)."""
        with self._cond:
            return self._take(self._delays, method) or 0.0

    @staticmethod
    def _take(queues: dict[str, deque[_T]], method: str) -> _T | None:
        for key in (method, "*"):
            queue = queues.get(key)
            if queue:
                return queue.popleft()
        return None

    # ----------------------------------------------------------------- fault injection

    def fail_next(
        self,
        method: str,
        status: int,
        description: str | None = None,
        *,
        retry_after: int | None = None,
        count: int = 1,
        chat_id: int | None = None,
        after: int = 0,
    ) -> None:
        """Make the next `count` calls of `method` ("*" = any method) fail, once `after`
        more have succeeded; with `chat_id`, those aimed at that chat (or at its command
        menu) only.

        Without a description, a realistic one is chosen for the status
        (403 blocked, 429 "Too Many Requests: retry after N", 500, ...).
        """
        if description is None:
            description = {
                400: "Bad Request",
                401: "Unauthorized",
                403: BLOCKED_DESCRIPTION,
                404: "Not Found",
                409: "Conflict: terminated by other getUpdates request",
                429: f"Too Many Requests: retry after {retry_after}",
                500: "Internal Server Error",
                502: "Bad Gateway",
            }.get(status, "Error")
        parameters = {"retry_after": retry_after} if retry_after is not None else None
        with self._cond:
            key = method if chat_id is None else f"{method}@{chat_id}"
            queue = self._faults.setdefault(key, deque())
            queue.extend(None for _ in range(after))
            queue.extend(ApiError(status, description, parameters) for _ in range(count))

    def delay_next(self, method: str, seconds: float, *, count: int = 1) -> None:
        """Hold the answer to the next `count` calls of `method` ("*" = any) for `seconds`.

        The call takes effect at once; only the answer is late (as when a
        response is slow or lost). A read timeout shorter than the delay makes
        python-telegram-bot raise TimedOut.
        """
        with self._cond:
            self._delays.setdefault(method, deque()).extend([seconds] * count)

    def block_user(self, chat_id: int) -> None:
        """Every call aimed at `chat_id` answers 403 "bot was blocked by the user"."""
        with self._cond:
            self._blocked.add(chat_id)

    def unblock_user(self, chat_id: int) -> None:
        """Undo `block_user`."""
        with self._cond:
            self._blocked.discard(chat_id)

    # ----------------------------------------------------------------- inspection

    @property
    def sent(self) -> list[ApiCall]:
        """Every call the bot made so far (failed ones too; getUpdates excluded)."""
        with self._cond:
            return list(self._sent)

    def calls(self, method: str) -> list[ApiCall]:
        """The recorded calls of one method."""
        return [call for call in self.sent if call.method == method]

    @property
    def callback_answers(self) -> list[JSONDict]:
        """Accepted answerCallbackQuery calls: callback_query_id, data, text, show_alert."""
        with self._cond:
            return copy.deepcopy(self._callback_answers)

    @property
    def commands(self) -> dict[str, list[tuple[str, str]]]:
        """Default-scope commands registered per language_code ("" = all languages)."""
        with self._cond:
            return {
                language: [(c["command"], c["description"]) for c in commands]
                for (scope, language), commands in self._command_sets.items()
                if scope == '{"type": "default"}'
            }

    def commands_for(
        self, language_code: str = "", scope: JSONDict | None = None
    ) -> list[tuple[str, str]]:
        """Commands registered for one scope (default scope if None) and language."""
        key = (json.dumps(scope or {"type": "default"}, sort_keys=True), language_code)
        with self._cond:
            return [(c["command"], c["description"]) for c in self._command_sets.get(key, [])]

    @property
    def polls_started(self) -> int:
        """How many getUpdates calls have begun: wait on it, not on a sleep, for a held poll."""
        with self._cond:
            return self._poll_generation

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Updates not yet confirmed by a getUpdates offset."""
        with self._cond:
            return [copy.deepcopy(q.update) for q in self._queue]

    def messages(self, chat_id: int | None = None, *, deleted: bool = False) -> list[BotMessage]:
        """The bot's messages in `chat_id` (all chats if None) in the order sent.

        Deleted messages are left out unless `deleted` is true.
        """
        with self._cond:
            stored = sorted(self._bot_messages.values(), key=lambda m: m.sequence)
            return [
                m.view()
                for m in stored
                if (chat_id is None or m.chat_id == chat_id) and (deleted or not m.deleted)
            ]

    def last_message(self, chat_id: int) -> BotMessage:
        """The bot's latest message in `chat_id`; AssertionError if there is none."""
        found = self.messages(chat_id)
        if not found:
            raise AssertionError(f"the bot has sent no message to chat {chat_id}")
        return found[-1]

    def button_data(self, chat_id: int, label: str, message: int | BotMessage | None = None) -> str:
        """Callback data of the button labelled `label`.

        Looks in `message` (an id or a view) or else the latest bot message in
        the chat that has such a button; AssertionError lists the labels there are.
        """
        message_id = message["message_id"] if isinstance(message, dict) else message
        with self._cond:
            return self._find_button(chat_id, label, message_id)[1]

    def wait_until(
        self, predicate: Callable[[], object], timeout: float = 5.0, what: str = "condition"
    ) -> None:
        """Block until `predicate()` is truthy (re-checked after every call and update).

        Raises AssertionError after `timeout` seconds. Do not call it from the
        event loop the bot runs on; use `wait_until_async` there.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
                self._cond.wait(min(remaining, 0.1))

    async def wait_until_async(
        self,
        predicate: Callable[[], object],
        timeout: float = 5.0,  # noqa: ASYNC109 - enforced by the waiting thread
        what: str = "condition",
    ) -> None:
        """`wait_until` for coroutines: waits in a thread, so the bot's loop keeps running."""
        await asyncio.to_thread(self.wait_until, predicate, timeout, what)

    def release_pollers(self) -> None:
        """Make every getUpdates held right now return at once (with what is queued)."""
        with self._cond:
            self._release_generation += 1
            self._cond.notify_all()

    def _wake(self) -> None:
        with self._cond:
            self._cond.notify_all()
