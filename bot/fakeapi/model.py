"""What the Bot API double holds: errors, recorded calls, messages, and the shared state.

`FakeState` declares the state that the parts of `FakeBotApi` (simulated people,
Bot API methods, inspection) share; `FakeBotApi.__init__` fills it in.
"""

from __future__ import annotations

import copy
import itertools
import json
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypedDict

JSONDict = dict[str, Any]

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
ACCESSIBLE_FOR = 48 * 3600  # seconds a pressed button's message comes whole in the query

BLOCKED_DESCRIPTION = "Forbidden: bot was blocked by the user"


class ApiError(Exception):
    """A Bot API error answer: HTTP status, description and optional parameters."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def envelope(self) -> JSONDict:
        """The error as Telegram's JSON response body."""
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")


class UploadedFile(NamedTuple):
    """A file that arrived as a multipart upload."""

    filename: str
    content: bytes
    mime_type: str


@dataclass(frozen=True)
class ApiCall:
    """One recorded call of a Bot API method (getUpdates is not recorded)."""

    method: str
    params: JSONDict
    time: float
    status: int
    files: dict[str, UploadedFile] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether Telegram would have accepted the call."""
        return 200 <= self.status < 300


class BotMessage(TypedDict):
    """Test-friendly view of a message the bot sent (see `FakeBotApi.messages`)."""

    message_id: int
    chat_id: int
    date: int
    text: str | None  # visible text, after parse_mode and trimming
    caption: str | None  # visible caption
    raw_text: str | None  # text or caption exactly as the bot sent it
    parse_mode: str | None
    buttons: list[list[tuple[str, str | None]]]  # rows of (label, callback_data)
    reply_markup: JSONDict | None  # as sent, including reply keyboards
    edited: bool
    deleted: bool
    document: JSONDict | None  # {"filename", "bytes", "mime_type"}
    photo: bytes | None


class Sender(TypedDict, total=False):
    """Who sends a simulated update, and where (all optional).

    chat_id defaults to the user id (a private chat) or, for groups, to
    ``-user_id``; chat_type "private"; language_code "de" (None omits it);
    first_name "Erika"; last_name and username None (omitted).
    """

    chat_id: int | None
    chat_type: str
    language_code: str | None
    first_name: str
    last_name: str | None
    username: str | None


@dataclass
class QueuedUpdate:
    update: JSONDict
    redelivered: bool = False  # delivered once more even if its id is below the offset
    delivered: bool = False


@dataclass
class StoredMessage:
    sequence: int
    payload: JSONDict  # the Message object as Telegram returns it
    raw_text: str | None
    parse_mode: str | None
    sent_markup: JSONDict | None
    document: UploadedFile | None = None
    photo: bytes | None = None
    edited: bool = False
    deleted: bool = False

    @property
    def chat_id(self) -> int:
        return int(self.payload["chat"]["id"])

    @property
    def message_id(self) -> int:
        return int(self.payload["message_id"])

    def view(self) -> BotMessage:
        markup = self.payload.get("reply_markup")
        buttons = [
            [(str(b["text"]), b.get("callback_data")) for b in row]
            for row in (markup or {}).get("inline_keyboard", [])
        ]
        document = None
        if self.document is not None:
            document = {
                "filename": self.document.filename,
                "bytes": self.document.content,
                "mime_type": self.document.mime_type,
            }
        return BotMessage(
            message_id=self.message_id,
            chat_id=self.chat_id,
            date=int(self.payload["date"]),
            text=self.payload.get("text"),
            caption=self.payload.get("caption"),
            raw_text=self.raw_text,
            parse_mode=self.parse_mode,
            buttons=buttons,
            reply_markup=copy.deepcopy(self.sent_markup),
            edited=self.edited,
            deleted=self.deleted,
            document=document,
            photo=self.photo,
        )


@dataclass
class PendingCallback:
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answered: bool = False


def encode_body(body: JSONDict) -> bytes:
    """A JSON envelope as the bytes Telegram sends."""
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


class FakeState:
    """The fake's state, guarded by `_cond`; shared by the mixins that make up `FakeBotApi`."""

    token: str
    bot_user: JSONDict
    _clock: Callable[[], float]
    _strict_chats: bool
    _cond: threading.Condition
    _update_ids: itertools.count[int]
    _callback_ids: itertools.count[int]
    _file_ids: itertools.count[int]
    _sequence: itertools.count[int]
    _queue: list[QueuedUpdate]
    _poll_generation: int
    _release_generation: int
    _last_message_id: dict[int, int]
    _chats: dict[int, JSONDict]
    _bot_messages: dict[tuple[int, int], StoredMessage]
    _user_messages: dict[tuple[int, int], JSONDict]
    _callbacks: dict[str, PendingCallback]
    _files: dict[str, UploadedFile]
    _faults: dict[str, deque[ApiError | None]]
    _delays: dict[str, deque[float]]
    _blocked: set[int]
    _sent: list[ApiCall]
    _callback_answers: list[JSONDict]
    _command_sets: dict[tuple[str, str], list[JSONDict]]

    def _now(self) -> int:
        return int(self._clock())

    def _next_message_id(self, chat_id: int) -> int:
        self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
        return self._last_message_id[chat_id]
