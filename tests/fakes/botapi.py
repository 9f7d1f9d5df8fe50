"""A test double of the Telegram Bot API for one bot.

`FakeBotApi` is a thread-safe, in-memory model of what Telegram does for the
methods feedbackbot uses. Two transports put python-telegram-bot in front of it:

* `InProcessRequest` – a `telegram.request.BaseRequest` that answers in-process
  (the fast test layer)::

      app = (
          Application.builder().token(api.token)
          .request(InProcessRequest(api)).get_updates_request(InProcessRequest(api))
          .build()
      )

* `BotApiServer` – a loopback HTTP server for end-to-end tests that run the bot
  through its real entry point (`FEEDBACKBOT_API_BASE_URL=server.base_url`).

Choices worth knowing:

* Lengths (4096 for text, 1024 for captions, 200 for callback answers) are
  counted in Python characters (Unicode code points) of the text *after*
  entity parsing and trimming of surrounding whitespace. That is what Telegram
  measurably does (an all-emoji text of 4096 code points is accepted), even
  though entity offsets are UTF-16 code units.
* `parse_mode="HTML"` and `"MarkdownV2"` are parsed like Telegram does, to the
  degree that malformed markup answers "can't parse entities" and the stored
  `text` is what the person sees. Legacy `"Markdown"` is stored verbatim.
* Editing a message's text without `reply_markup` removes its inline keyboard,
  as on Telegram.
* A callback query can be answered once; a second answer, or an unknown id,
  is 400 "query is too old ...". A newer getUpdates ends a held one with
  409 Conflict, as when two bot instances poll.
* python-telegram-bot drops the "Bad Request: " prefix and capitalises the
  rest, so match its exceptions case-insensitively ("Message is too long").
* Methods: getMe, logOut, close, deleteWebhook, getWebhookInfo, set/get/deleteMyCommands,
  sendMessage, sendDocument, sendPhoto, sendChatAction, editMessageText,
  editMessageCaption, editMessageReplyMarkup, deleteMessage, answerCallbackQuery,
  getUpdates; setMyDescription, setMyShortDescription, setMyName and
  setChatMenuButton are accepted without effect. Anything else answers 404,
  which python-telegram-bot reports as InvalidToken.
* Each helper that simulates a person (`user_message`, `callback_press`, ...)
  enqueues its update *and* returns it, so fast tests can feed it to
  `Update.de_json` themselves and end-to-end tests can let the bot poll it.
"""

from __future__ import annotations

import asyncio
import copy
import email.parser
import email.policy
import itertools
import json
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple, TypedDict, TypeVar, Unpack
from urllib.parse import parse_qsl, urlsplit

from telegram._utils.defaultvalue import DefaultValue  # what HTTPXRequest uses, too
from telegram._utils.types import ODVInput
from telegram.error import TimedOut
from telegram.request import BaseRequest, RequestData

__all__ = [
    "ApiCall",
    "ApiError",
    "BotApiServer",
    "BotMessage",
    "FakeBotApi",
    "InProcessRequest",
    "Sender",
    "UploadedFile",
    "visible_text",
]

JSONDict = dict[str, Any]
_T = TypeVar("_T")

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200

BLOCKED_DESCRIPTION = "Forbidden: bot was blocked by the user"
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
_STALE_QUERY = "query is too old and response timeout expired or query ID is invalid"
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")


# --------------------------------------------------------------------------- data types


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


def _bad_request(reason: str) -> ApiError:
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
class _QueuedUpdate:
    update: JSONDict
    redelivered: bool = False  # delivered once more even if its id is below the offset
    delivered: bool = False


@dataclass
class _StoredMessage:
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
class _PendingCallback:
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answered: bool = False


# --------------------------------------------------------------------------- formatting


class _EntityError(Exception):
    """Markup that Telegram refuses with "can't parse entities"."""


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


_HTML_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span",
        "tg-spoiler", "tg-emoji", "code", "pre", "blockquote",
    }
)  # fmt: skip
_HTML_ENTITY_RE = re.compile(r"&(?:(lt|gt|amp|quot)|#(\d{1,7})|#x([0-9a-fA-F]{1,6}));")
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _html_visible_text(text: str) -> str:
    """Text as shown for parse_mode HTML; raises _EntityError like Telegram."""
    out: list[str] = []
    open_tags: list[str] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "&":
            match = _HTML_ENTITY_RE.match(text, i)
            if match is None:
                out.append("&")  # Telegram keeps a lone ampersand
                i += 1
                continue
            named, dec, hexa = match.groups()
            out.append(_HTML_NAMED[named] if named else chr(int(dec or hexa, 10 if dec else 16)))
            i = match.end()
        elif char != "<":
            out.append(char)
            i += 1
        elif text.startswith("</", i):
            end = text.find(">", i)
            if end < 0:
                raise _EntityError(f"Unclosed end tag at byte offset {_byte_offset(text, i)}")
            name = text[i + 2 : end].strip().lower()
            if not open_tags:
                raise _EntityError(f"Unexpected end tag at byte offset {_byte_offset(text, i)}")
            if name and name != open_tags[-1]:
                raise _EntityError(
                    f"Unmatched end tag at byte offset {_byte_offset(text, i)}, "
                    f'expected "</{open_tags[-1]}>", found "</{name}>"'
                )
            open_tags.pop()
            i = end + 1
        else:
            j = i + 1
            while j < n and not text[j].isspace() and text[j] != ">":
                j += 1
            name = text[i + 1 : j].lower()
            if name not in _HTML_TAGS:
                raise _EntityError(
                    f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, i)}'
                )
            quote = ""
            while j < n and (quote or text[j] != ">"):
                if quote and text[j] == quote:
                    quote = ""
                elif not quote and text[j] in "\"'":
                    quote = text[j]
                j += 1
            if j >= n:
                raise _EntityError(f"Unclosed start tag at byte offset {_byte_offset(text, i)}")
            open_tags.append(name)
            i = j + 1
    if open_tags:
        raise _EntityError(f'Can\'t find end tag corresponding to start tag "{open_tags[-1]}"')
    return "".join(out)


_MD2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MD2_ENTITY_NAMES = {
    "*": "Bold",
    "_": "Italic",
    "__": "Underline",
    "~": "Strikethrough",
    "||": "Spoiler",
    "[": "TextUrl",
}


def _md2_scan_until(text: str, start: int, closing: str) -> int:
    """Index of the first unescaped `closing` at or after `start`, or -1."""
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
        elif text.startswith(closing, i):
            return i
        else:
            i += 1
    return -1


def _md2_unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text, flags=re.DOTALL)


def _markdown_v2_visible_text(text: str) -> str:
    """Text as shown for parse_mode MarkdownV2; raises _EntityError like Telegram."""
    out: list[str] = []
    open_marks: list[tuple[str, int]] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        at_line_start = i == 0 or text[i - 1] == "\n"
        if char == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126:
            out.append(text[i + 1])
            i += 2
            continue
        if char == "`":
            fence = "```" if text.startswith("```", i) else "`"
            end = _md2_scan_until(text, i + len(fence), fence)
            if end < 0:
                kind = "Pre" if fence == "```" else "Code"
                raise _EntityError(
                    f"Can't find end of {kind} entity at byte offset {_byte_offset(text, i)}"
                )
            body = text[i + len(fence) : end]
            if fence == "```" and "\n" in body:
                body = body.split("\n", 1)[1]  # the first line names the language
            out.append(_md2_unescape(body))
            i = end + len(fence)
            continue
        if char == ">" and at_line_start:
            i += 1  # blockquote marker
            continue
        mark = ""
        if text.startswith("__", i) or text.startswith("||", i):
            mark = text[i : i + 2]
        elif char in "*_~[":
            mark = char
        if mark:
            if open_marks and open_marks[-1][0] == mark and mark != "[":
                open_marks.pop()
            else:
                open_marks.append((mark, i))
            i += len(mark)
            continue
        if char == "]" and open_marks and open_marks[-1][0] == "[":
            start = open_marks.pop()[1]
            if not text.startswith("(", i + 1):
                raise _EntityError(
                    f"Can't find end of a URL at byte offset {_byte_offset(text, start)}"
                )
            end = _md2_scan_until(text, i + 2, ")")
            if end < 0:
                raise _EntityError(
                    f"Can't find end of a URL at byte offset {_byte_offset(text, start)}"
                )
            i = end + 1
            continue
        if char in _MD2_RESERVED:
            raise _EntityError(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        out.append(char)
        i += 1
    if open_marks:
        mark, start = open_marks[-1]
        raise _EntityError(
            f"Can't find end of {_MD2_ENTITY_NAMES[mark]} entity at byte offset "
            f"{_byte_offset(text, start)}"
        )
    return "".join(out)


def visible_text(text: str, parse_mode: str | None) -> str:
    """What a person sees for `text` sent with `parse_mode` (trimmed, like Telegram).

    Raises ApiError 400 "can't parse entities: ..." for malformed markup.
    """
    try:
        if parse_mode is not None and parse_mode.lower() == "html":
            text = _html_visible_text(text)
        elif parse_mode is not None and parse_mode.lower() == "markdownv2":
            text = _markdown_v2_visible_text(text)
    except _EntityError as exc:
        raise _bad_request(f"can't parse entities: {exc}") from None
    return text.strip()


# --------------------------------------------------------------------------- parameters


def _as_json(value: Any) -> Any:
    """Telegram accepts JSON-serialized objects inside string parameters."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _int_param(params: Mapping[str, Any], name: str, missing: str) -> int:
    value = params.get(name)
    if value is None or value == "":
        raise _bad_request(missing)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _bad_request(f"invalid {name} specified") from None


def _optional_str(params: Mapping[str, Any], name: str) -> str | None:
    value = params.get(name)
    return None if value is None else str(value)


def _checked_markup(params: Mapping[str, Any]) -> JSONDict | None:
    """The reply_markup parameter, validated as Telegram does for inline keyboards."""
    markup = _as_json(params.get("reply_markup"))
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _bad_request("can't parse reply keyboard markup JSON object")
    keyboard = markup.get("inline_keyboard")
    if keyboard is None:
        return markup
    if not isinstance(keyboard, list) or not all(isinstance(row, list) for row in keyboard):
        raise _bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
    for row in keyboard:
        for button in row:
            if not isinstance(button, dict) or not str(button.get("text", "")):
                raise _bad_request("BUTTON_TEXT_INVALID")
            data = button.get("callback_data")
            if data is not None:
                size = len(str(data).encode("utf-8"))
                if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                    raise _bad_request("BUTTON_DATA_INVALID")
            elif len(button) == 1:
                raise _bad_request("text buttons are unallowed in the inline keyboard")
    return markup


def _message_markup(markup: JSONDict | None) -> JSONDict | None:
    """Only inline keyboards are part of a Message object."""
    if markup is not None and "inline_keyboard" in markup:
        return markup
    return None


# --------------------------------------------------------------------------- the fake


class FakeBotApi:
    """In-memory Bot API for one bot; every public method is thread-safe."""

    def __init__(
        self,
        token: str = "123456:TEST-token",
        *,
        username: str = "feedback_test_bot",
        first_name: str = "Feedback Test Bot",
        clock: Callable[[], float] = time.time,
        strict_chats: bool = False,
    ) -> None:
        """Create the fake for `token` ("<bot id>:<secret>").

        With `strict_chats`, sending to a chat no simulated person has written
        from answers 400 "chat not found" instead of inventing a private chat.
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
        self._update_ids = itertools.count(1000)
        self._callback_ids = itertools.count(4_000_000_000_000_000_001)
        self._file_ids = itertools.count(1)
        self._sequence = itertools.count()
        self._queue: list[_QueuedUpdate] = []
        self._poll_generation = 0
        self._release_generation = 0
        self._last_message_id: dict[int, int] = {}
        self._chats: dict[int, JSONDict] = {}
        self._bot_messages: dict[tuple[int, int], _StoredMessage] = {}
        self._user_messages: dict[tuple[int, int], JSONDict] = {}
        self._callbacks: dict[str, _PendingCallback] = {}
        self._files: dict[str, UploadedFile] = {}
        self._faults: dict[str, deque[ApiError]] = {}
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
                fault = self._take(self._faults, method)
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
    ) -> None:
        """Make the next `count` calls of `method` ("*" = any method) fail.

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
            queue = self._faults.setdefault(method, deque())
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

    # ----------------------------------------------------------------- simulated people

    def enqueue(self, update: JSONDict) -> JSONDict:
        """Queue `update` for getUpdates, giving it the next update_id if it has none."""
        with self._cond:
            update = copy.deepcopy(update)
            update.setdefault("update_id", next(self._update_ids))
            self._queue.append(_QueuedUpdate(update))
            self._cond.notify_all()
            return copy.deepcopy(update)

    def redeliver(self, update: JSONDict) -> JSONDict:
        """Deliver an identical copy of `update` (same update_id) once more.

        It is handed out even if the bot has already confirmed a higher
        offset, as when Telegram repeats an update after a lost confirmation.
        """
        with self._cond:
            self._queue.append(_QueuedUpdate(copy.deepcopy(update), redelivered=True))
            self._cond.notify_all()
            return copy.deepcopy(update)

    def user_message(
        self,
        user_id: int,
        text: str,
        *,
        entities: list[JSONDict] | None = None,
        reply_to_message_id: int | None = None,
        **sender: Unpack[Sender],
    ) -> JSONDict:
        """A person sends `text`; a leading "/command" gets its bot_command entity.

        Pass `entities=[]` to send a text without any entities.
        """
        content: JSONDict = {"text": text}
        if entities is None and text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            entities = [{"type": "bot_command", "offset": 0, "length": _utf16_length(command)}]
        if entities:
            content["entities"] = entities
        if reply_to_message_id is not None:
            content["reply_to_message"] = self._replied_message(
                user_id, reply_to_message_id, sender
            )
        return self._message_update(user_id, sender, content)

    def user_sticker(
        self, user_id: int, *, emoji: str = "👍", **sender: Unpack[Sender]
    ) -> JSONDict:
        """A person sends a sticker."""
        n = next(self._file_ids)
        sticker = {
            "file_id": f"CAACAgIAAxkBAAE{n}",
            "file_unique_id": f"AgAD{n}",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "set_name": "TestStickers",
            "file_size": 23_000,
        }
        return self._message_update(user_id, sender, {"sticker": sticker})

    def user_photo(
        self, user_id: int, *, caption: str | None = None, **sender: Unpack[Sender]
    ) -> JSONDict:
        """A person sends a photo (three sizes, as Telegram delivers it)."""
        n = next(self._file_ids)
        sizes = [
            {
                "file_id": f"AgACAgIAAxkBAAE{n}-{size}",
                "file_unique_id": f"AQAD{n}{size}",
                "width": size,
                "height": size * 3 // 4,
                "file_size": size * 40,
            }
            for size in (90, 320, 1280)
        ]
        content: JSONDict = {"photo": sizes}
        if caption is not None:
            content["caption"] = caption
        return self._message_update(user_id, sender, content)

    def user_voice(self, user_id: int, *, duration: int = 3, **sender: Unpack[Sender]) -> JSONDict:
        """A person sends a voice message."""
        n = next(self._file_ids)
        voice = {
            "file_id": f"AwACAgIAAxkBAAE{n}",
            "file_unique_id": f"AgADv{n}",
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": duration * 4000,
        }
        return self._message_update(user_id, sender, {"voice": voice})

    def user_location(
        self,
        user_id: int,
        latitude: float = 52.520008,
        longitude: float = 13.404954,
        **sender: Unpack[Sender],
    ) -> JSONDict:
        """A person shares a location (Berlin by default)."""
        location = {"latitude": latitude, "longitude": longitude}
        return self._message_update(user_id, sender, {"location": location})

    def user_document(
        self,
        user_id: int,
        content: bytes = b"hello",
        *,
        filename: str = "notes.txt",
        mime_type: str = "text/plain",
        **sender: Unpack[Sender],
    ) -> JSONDict:
        """A person sends a file."""
        n = next(self._file_ids)
        document = {
            "file_id": f"BQACAgIAAxkBAAE{n}",
            "file_unique_id": f"AgADd{n}",
            "file_name": filename,
            "mime_type": mime_type,
            "file_size": len(content),
        }
        return self._message_update(user_id, sender, {"document": document})

    def edited_message(
        self, user_id: int, message_id: int, text: str, **sender: Unpack[Sender]
    ) -> JSONDict:
        """A person edits their earlier message `message_id` to read `text`."""
        with self._cond:
            user, chat = self._person(user_id, sender)
            original = self._user_messages.get((chat["id"], message_id))
            message: JSONDict = {
                "message_id": message_id,
                "from": user,
                "chat": chat,
                "date": original["date"] if original else self._now(),
                "edit_date": self._now(),
                "text": text,
            }
            self._user_messages[(chat["id"], message_id)] = message
            return self.enqueue({"edited_message": message})

    def callback_press(
        self,
        user_id: int,
        message_id: int,
        data: str,
        **sender: Unpack[Sender],
    ) -> JSONDict:
        """A person presses an inline button with `data` under bot message `message_id`.

        The query carries the bot message as it is now; for an unknown message
        it carries an inaccessible message (date 0), as Telegram does.
        """
        with self._cond:
            user, chat = self._person(user_id, sender)
            stored = self._bot_messages.get((chat["id"], message_id))
            if stored is not None and not stored.deleted:
                message = copy.deepcopy(stored.payload)
            else:
                message = {"chat": chat, "message_id": message_id, "date": 0}
            query_id = str(next(self._callback_ids))
            self._callbacks[query_id] = _PendingCallback(user_id, chat["id"], message_id, data)
            query = {
                "id": query_id,
                "from": user,
                "message": message,
                "chat_instance": str(abs(chat["id"]) * 7919 + 17),
                "data": data,
            }
            return self.enqueue({"callback_query": query})

    def press_button(self, user_id: int, label: str, **sender: Unpack[Sender]) -> JSONDict:
        """A person presses the button labelled `label` in the latest bot message with it."""
        with self._cond:
            chat_id = self._chat_id_of(user_id, sender)
            message_id, data = self._find_button(chat_id, label, None)
            return self.callback_press(user_id, message_id, data, **sender)

    def _now(self) -> int:
        return int(self._clock())

    @staticmethod
    def _chat_id_of(user_id: int, sender: Sender) -> int:
        chat_id = sender.get("chat_id")
        if chat_id is not None:
            return chat_id
        return user_id if sender.get("chat_type", "private") == "private" else -user_id

    def _person(self, user_id: int, sender: Sender) -> tuple[JSONDict, JSONDict]:
        """The `from` user and the chat for a simulated update; remembers the chat."""
        names: JSONDict = {
            "first_name": sender.get("first_name") or "Erika",
            "last_name": sender.get("last_name"),
            "username": sender.get("username"),
        }
        names = {key: value for key, value in names.items() if value is not None}
        user: JSONDict = {"id": user_id, "is_bot": False, **names}
        language = sender.get("language_code", "de")
        if language is not None:
            user["language_code"] = language
        chat_type = sender.get("chat_type", "private")
        if chat_type == "private":
            chat: JSONDict = {"id": self._chat_id_of(user_id, sender), "type": "private", **names}
        else:
            chat = {
                "id": self._chat_id_of(user_id, sender),
                "type": chat_type,
                "title": "Testgruppe",
            }
        with self._cond:
            self._chats[chat["id"]] = chat
        return user, copy.deepcopy(chat)

    def _next_message_id(self, chat_id: int) -> int:
        self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
        return self._last_message_id[chat_id]

    def _message_update(self, user_id: int, sender: Sender, content: JSONDict) -> JSONDict:
        with self._cond:
            user, chat = self._person(user_id, sender)
            message: JSONDict = {
                "message_id": self._next_message_id(chat["id"]),
                "from": user,
                "chat": chat,
                "date": self._now(),
                **content,
            }
            self._user_messages[(chat["id"], message["message_id"])] = message
            return self.enqueue({"message": message})

    def _replied_message(self, user_id: int, message_id: int, sender: Sender) -> JSONDict:
        chat_id = self._chat_id_of(user_id, sender)
        with self._cond:
            stored = self._bot_messages.get((chat_id, message_id))
            if stored is not None:
                return copy.deepcopy(stored.payload)
            if (chat_id, message_id) in self._user_messages:
                return copy.deepcopy(self._user_messages[(chat_id, message_id)])
        raise ValueError(f"no message {message_id} in chat {chat_id} to reply to")

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

    def _find_button(self, chat_id: int, label: str, message_id: int | None) -> tuple[int, str]:
        """(message id, callback data) of the latest button labelled `label`."""
        candidates = [
            m
            for m in sorted(self._bot_messages.values(), key=lambda m: m.sequence, reverse=True)
            if m.chat_id == chat_id and not m.deleted
            if message_id is None or m.message_id == message_id
        ]
        labels = {
            m.message_id: [text for row in m.view()["buttons"] for text, _ in row]
            for m in candidates
        }
        for stored in candidates:
            for text, data in itertools.chain.from_iterable(stored.view()["buttons"]):
                if text == label:
                    if data is None:
                        raise AssertionError(f"button {label!r} has no callback data")
                    return stored.message_id, data
        available = [f"#{m}: {texts}" for m, texts in labels.items() if texts]
        where = f"message {message_id}" if message_id is not None else f"chat {chat_id}"
        raise AssertionError(
            f"no button labelled {label!r} in {where}; buttons there: "
            + ("; ".join(available) if available else "none")
        )

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

    # ----------------------------------------------------------------- getUpdates

    def _get_updates(self, params: JSONDict, cancel: threading.Event | None) -> list[JSONDict]:
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        deadline = time.monotonic() + timeout
        self._poll_generation += 1
        generation, release = self._poll_generation, self._release_generation
        self._confirm(offset)
        while True:
            if self._poll_generation != generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            # Telegram hands out updates in update_id order; a redelivered one comes first.
            batch = sorted(self._queue, key=lambda q: int(q.update["update_id"]))[:limit]
            remaining = deadline - time.monotonic()
            stop = release != self._release_generation or (cancel is not None and cancel.is_set())
            if batch or stop or remaining <= 0:
                break
            self._cond.wait(remaining)
        for queued in batch:
            queued.delivered = True
        return [q.update for q in batch]

    def _confirm(self, offset: int) -> None:
        """Forget updates confirmed by `offset` (a negative one keeps the last -offset)."""
        if offset < 0:
            self._queue = self._queue[offset:]
        elif offset > 0:
            self._queue = [
                q
                for q in self._queue
                if q.update["update_id"] >= offset or (q.redelivered and not q.delivered)
            ]

    def _get_me(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        return self.bot_user | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _delete_webhook(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        if _as_json(params.get("drop_pending_updates")) is True:
            self._queue.clear()
        return True

    def _get_webhook_info(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        return {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue),
        }

    # ----------------------------------------------------------------- commands

    def _command_key(self, params: JSONDict) -> tuple[str, str]:
        scope = _as_json(params.get("scope")) or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    def _set_my_commands(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        commands = _as_json(params.get("commands"))
        if not isinstance(commands, list):
            raise _bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad_request("too many commands specified")
        for command in commands:
            if not _COMMAND_RE.fullmatch(str(command.get("command", ""))):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._command_key(params)
        if commands:
            self._command_sets[key] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        else:
            self._command_sets.pop(key, None)
        return True

    def _get_my_commands(self, params: JSONDict, files: dict[str, UploadedFile]) -> list[JSONDict]:
        return self._command_sets.get(self._command_key(params), [])

    def _delete_my_commands(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        self._command_sets.pop(self._command_key(params), None)
        return True

    # ----------------------------------------------------------------- sending

    def _chat(self, params: JSONDict) -> JSONDict:
        """The chat a call is aimed at; 403 if the person blocked the bot."""
        value = params.get("chat_id")
        if value is None or value == "":
            raise _bad_request("chat_id is empty")
        try:
            chat_id = int(value)
        except (TypeError, ValueError):
            raise _bad_request("chat not found") from None
        if chat_id in self._blocked:
            raise ApiError(403, BLOCKED_DESCRIPTION)
        chat = self._chats.get(chat_id)
        if chat is None:
            if self._strict_chats:
                raise _bad_request("chat not found")
            if chat_id > 0:
                chat = {"id": chat_id, "type": "private", "first_name": "Unbekannt"}
            else:
                kind = "supergroup" if str(chat_id).startswith("-100") else "group"
                chat = {"id": chat_id, "type": kind, "title": "Testgruppe"}
            self._chats[chat_id] = chat
        return chat

    @staticmethod
    def _checked_text(
        params: JSONDict, name: str, limit: int, too_long: str
    ) -> tuple[str | None, str | None]:
        """(visible, raw) text of parameter `name`, checked against `limit`."""
        raw = _optional_str(params, name)
        if raw is None:
            return None, None
        shown = visible_text(raw, _optional_str(params, "parse_mode"))
        if len(shown) > limit:
            raise _bad_request(too_long)
        return shown, raw

    def _store(
        self,
        chat: JSONDict,
        content: JSONDict,
        raw_text: str | None,
        params: JSONDict,
        markup: JSONDict | None,
        **extra: Any,
    ) -> JSONDict:
        payload: JSONDict = {
            "message_id": self._next_message_id(chat["id"]),
            "from": self.bot_user,
            "chat": dict(chat),
            "date": self._now(),
            **content,
        }
        if _message_markup(markup) is not None:
            payload["reply_markup"] = markup
        stored = _StoredMessage(
            sequence=next(self._sequence),
            payload=payload,
            raw_text=raw_text,
            parse_mode=_optional_str(params, "parse_mode"),
            sent_markup=markup,
            **extra,
        )
        self._bot_messages[(chat["id"], stored.message_id)] = stored
        return payload

    def _send_message(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        chat = self._chat(params)
        shown, raw = self._checked_text(params, "text", MAX_TEXT_LENGTH, "message is too long")
        if not shown:
            raise _bad_request("message text is empty")
        markup = _checked_markup(params)
        return self._store(chat, {"text": shown}, raw, params, markup)

    def _uploaded(
        self, params: JSONDict, files: dict[str, UploadedFile], kind: str
    ) -> UploadedFile:
        """The file given for parameter `kind`: an upload, attach:// or a known file_id."""
        value = params.get(kind)
        if isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value.removeprefix("attach://"))
            if upload is None:
                raise _bad_request(f"there is no {kind} in the request")
        elif kind in files:
            upload = files[kind]
        elif isinstance(value, str) and value in self._files:
            upload = self._files[value]
        elif value:
            raise _bad_request("wrong file identifier/HTTP URL specified")
        else:
            raise _bad_request(f"there is no {kind} in the request")
        if not upload.content:
            raise _bad_request("file must be non-empty")
        return upload

    def _caption(self, params: JSONDict) -> tuple[JSONDict, str | None]:
        shown, raw = self._checked_text(
            params, "caption", MAX_CAPTION_LENGTH, "message caption is too long"
        )
        return ({"caption": shown} if shown else {}), raw

    def _new_file_id(self, upload: UploadedFile, prefix: str) -> tuple[str, str]:
        n = next(self._file_ids)
        file_id = f"{prefix}{n:08d}"
        self._files[file_id] = upload
        return file_id, f"AgAD{n:06d}"

    def _send_document(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        chat = self._chat(params)
        upload = self._uploaded(params, files, "document")
        caption, raw = self._caption(params)
        markup = _checked_markup(params)
        file_id, unique_id = self._new_file_id(upload, "BQACAgIAAxkDAAI")
        document = {
            "file_name": upload.filename,
            "mime_type": upload.mime_type,
            "file_id": file_id,
            "file_unique_id": unique_id,
            "file_size": len(upload.content),
        }
        content = {"document": document, **caption}
        return self._store(chat, content, raw, params, markup, document=upload)

    def _send_photo(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        chat = self._chat(params)
        upload = self._uploaded(params, files, "photo")
        caption, raw = self._caption(params)
        markup = _checked_markup(params)
        file_id, unique_id = self._new_file_id(upload, "AgACAgIAAxkDAAI")
        photo = [
            {
                "file_id": file_id,
                "file_unique_id": unique_id,
                "width": 800,
                "height": 600,
                "file_size": len(upload.content),
            }
        ]
        content = {"photo": photo, **caption}
        return self._store(chat, content, raw, params, markup, photo=upload.content)

    def _send_chat_action(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        self._chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        return True

    # ----------------------------------------------------------------- editing

    def _message_to_edit(self, params: JSONDict) -> _StoredMessage:
        if params.get("inline_message_id"):
            raise _bad_request("MESSAGE_ID_INVALID")  # the fake has no inline messages
        chat = self._chat(params)
        message_id = _int_param(params, "message_id", "message identifier is not specified")
        stored = self._bot_messages.get((chat["id"], message_id))
        if stored is None or stored.deleted:
            if (chat["id"], message_id) in self._user_messages:
                raise _bad_request("message can't be edited")
            raise _bad_request("message to edit not found")
        return stored

    def _apply_edit(
        self,
        stored: _StoredMessage,
        content: JSONDict,
        raw_text: str | None,
        params: JSONDict,
        markup: JSONDict | None,
    ) -> JSONDict:
        """Apply an edit unless nothing visible changes ("message is not modified")."""
        old = stored.payload
        new_markup = _message_markup(markup)
        parse_mode = _optional_str(params, "parse_mode") if content else stored.parse_mode
        raw_text = raw_text if content else stored.raw_text
        unchanged = (
            all((old.get(key) or "") == value for key, value in content.items())
            and (raw_text, parse_mode) == (stored.raw_text, stored.parse_mode)
            and old.get("reply_markup") == new_markup
        )
        if unchanged:
            raise _bad_request(_NOT_MODIFIED)
        old.update(content)
        for key in [k for k in ("text", "caption") if k in content and not content[k]]:
            del old[key]
        if new_markup is None:
            old.pop("reply_markup", None)
        else:
            old["reply_markup"] = new_markup
        old["edit_date"] = self._now()
        stored.raw_text, stored.parse_mode, stored.sent_markup = raw_text, parse_mode, markup
        stored.edited = True
        return old

    def _edit_message_text(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        stored = self._message_to_edit(params)
        if "text" not in stored.payload:
            raise _bad_request("there is no text in the message to edit")
        shown, raw = self._checked_text(params, "text", MAX_TEXT_LENGTH, "message is too long")
        if not shown:
            raise _bad_request("message text is empty")
        markup = _checked_markup(params)
        return self._apply_edit(stored, {"text": shown}, raw, params, markup)

    def _edit_message_caption(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        stored = self._message_to_edit(params)
        if "text" in stored.payload:
            raise _bad_request("there is no caption in the message to edit")
        caption, raw = self._caption(params)
        markup = _checked_markup(params)
        content = {"caption": caption.get("caption", "")}
        return self._apply_edit(stored, content, raw, params, markup)

    def _edit_message_reply_markup(
        self, params: JSONDict, files: dict[str, UploadedFile]
    ) -> JSONDict:
        stored = self._message_to_edit(params)
        markup = _checked_markup(params)
        return self._apply_edit(stored, {}, None, params, markup)

    def _delete_message(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        chat = self._chat(params)
        message_id = _int_param(params, "message_id", "message identifier is not specified")
        stored = self._bot_messages.get((chat["id"], message_id))
        if stored is not None and not stored.deleted:
            stored.deleted = True
        elif self._user_messages.pop((chat["id"], message_id), None) is None:
            raise _bad_request("message to delete not found")
        return True

    def _answer_callback_query(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        pending = self._callbacks.get(query_id)
        if pending is None or pending.answered:
            raise _bad_request(_STALE_QUERY)
        text = _optional_str(params, "text")
        if text is not None and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad_request("MESSAGE_TOO_LONG")
        pending.answered = True
        self._callback_answers.append(
            {
                "callback_query_id": query_id,
                "data": pending.data,
                "text": text,
                "show_alert": _as_json(params.get("show_alert")) is True,
                "url": _optional_str(params, "url"),
                "cache_time": params.get("cache_time"),
            }
        )
        return True


# --------------------------------------------------------------------------- in-process


class InProcessRequest(BaseRequest):
    """python-telegram-bot's transport replaced by direct calls of `FakeBotApi.handle`."""

    def __init__(self, api: FakeBotApi, *, read_timeout: float | None = 5.0) -> None:
        self._api = api
        self._read_timeout = read_timeout
        self._shut_down = False

    @property
    def read_timeout(self) -> float | None:
        """Default read timeout; a `delay_next` longer than it raises TimedOut."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Nothing to open; like HTTPXRequest it works before initialize()."""
        self._shut_down = False

    async def shutdown(self) -> None:
        """Refuse further requests, like a closed HTTPXRequest."""
        self._shut_down = True

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Answer `url` (…/bot<token>/<method>) from the fake: (status, JSON body)."""
        if self._shut_down:
            raise RuntimeError("This InProcessRequest is not initialized!")
        prefix, _, api_method = urlsplit(url).path.rpartition("/")
        if not prefix.endswith(self._api.token):
            return 401, _encode(ApiError(401, "Unauthorized").envelope())
        params: JSONDict = dict(request_data.parameters) if request_data else {}
        files = {
            name: UploadedFile(filename, data if isinstance(data, bytes) else data.read(), mime)
            for name, (filename, data, mime) in (
                request_data.multipart_data if request_data else {}
            ).items()
        }
        if api_method == "getUpdates" and float(params.get("timeout") or 0) > 0:
            status, body = await self._held_get_updates(params)
        else:
            status, body = self._api.handle(api_method, params, files)
        delay = self._api.take_delay(api_method)
        if delay:
            timeout = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
            if timeout is not None and delay > timeout:
                await asyncio.sleep(timeout)
                raise TimedOut
            await asyncio.sleep(delay)
        return status, _encode(body)

    async def _held_get_updates(self, params: JSONDict) -> tuple[int, JSONDict]:
        """Long polling in a worker thread; a cancelled poll stops waiting at once."""
        cancel = threading.Event()
        try:
            return await asyncio.to_thread(self._api.handle, "getUpdates", params, cancel=cancel)
        except asyncio.CancelledError:
            cancel.set()
            self._api._wake()
            raise


def _encode(body: JSONDict) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


# --------------------------------------------------------------------------- HTTP server

# Parameters whose values are always strings; python-telegram-bot JSON-encodes only non-strings,
# so a text of "5" must not turn into the number 5.
_STRING_PARAMS = frozenset(
    {
        "text", "caption", "parse_mode", "callback_query_id", "inline_message_id", "data",
        "url", "action", "language_code", "description", "short_description", "name",
        "emoji", "title", "question", "filename", "business_connection_id",
        "message_effect_id", "document", "photo", "sticker", "voice", "audio", "video",
        "animation", "thumbnail", "address", "first_name", "last_name", "phone_number",
        "switch_inline_query", "secret_token", "ip_address", "certificate",
    }
)  # fmt: skip


def _form_value(name: str, value: str) -> Any:
    """Decode one form value the way python-telegram-bot encoded it."""
    if name in _STRING_PARAMS:
        return value
    try:
        decoded = json.loads(value, parse_constant=lambda constant: value)
    except ValueError:
        return value
    return decoded if isinstance(decoded, dict | list | bool | int | float) else value


def _parse_multipart(content_type: str, body: bytes) -> tuple[JSONDict, dict[str, UploadedFile]]:
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    params: JSONDict = {}
    files: dict[str, UploadedFile] = {}
    for part in message.iter_parts():
        name = str(part.get_param("name", header="content-disposition") or "")
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is None:
            params[name] = _form_value(name, content.decode("utf-8"))
            continue
        # Undo the header encoding: raw UTF-8 bytes arrive as surrogate escapes; httpx
        # percent-encodes quotes and control characters.
        filename = filename.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        filename = re.sub(r"%(22|[01][0-9A-F])", lambda m: chr(int(m[1], 16)), filename)
        files[name] = UploadedFile(filename, content, part.get_content_type())
    return params, files


def _parse_request(
    query: str, content_type: str, body: bytes
) -> tuple[JSONDict, dict[str, UploadedFile]]:
    """Parameters and uploads of one HTTP request (query string and any body)."""
    params: JSONDict = {k: _form_value(k, v) for k, v in parse_qsl(query, keep_blank_values=True)}
    files: dict[str, UploadedFile] = {}
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type == "application/json" and body:
        decoded = json.loads(body)
        if not isinstance(decoded, dict):
            raise ValueError("JSON body is not an object")
        params.update(decoded)
    elif media_type == "multipart/form-data":
        form, files = _parse_multipart(content_type, body)
        params.update(form)
    elif body:
        form_pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        params.update({k: _form_value(k, v) for k, v in form_pairs})
    return params, files


class _Server(ThreadingHTTPServer):
    """ThreadingHTTPServer that can close its keep-alive connections on stop."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], api: FakeBotApi) -> None:
        self.api = api
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up (a cancelled long poll) are normal, not errors."""
        if not self.stopping.is_set():
            super().handle_error(request, client_address)


_PATH_RE = re.compile(r"/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]+)/?")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, so each call does not open a connection
    disable_nagle_algorithm = True  # else small answers wait ~40 ms for delayed ACKs

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet (the default logs every request line, token included)."""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        match = _PATH_RE.fullmatch(url.path)
        api = self.server.api
        if match is None:
            self._respond(404, ApiError(404, "Not Found").envelope())
            return
        if match["token"] != api.token:
            self._respond(401, ApiError(401, "Unauthorized").envelope())
            return
        method = match["method"]
        try:
            params, files = _parse_request(url.query, self.headers.get("Content-Type", ""), body)
        except ValueError:
            self._respond(400, _bad_request("can't parse request").envelope())
            return
        try:
            status, envelope = api.handle(method, params, files)
        except Exception as exc:  # a bug in the fake: answer, then let handle_error print it
            self._respond(500, ApiError(500, f"Internal Server Error: {exc!r}").envelope())
            raise
        delay = api.take_delay(method)
        if delay:
            self.server.stopping.wait(delay)
        self._respond(status, envelope)

    def _respond(self, status: int, envelope: JSONDict) -> None:
        body = _encode(envelope)
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the client gave up (e.g. a cancelled long poll)
            self.close_connection = True


class BotApiServer:
    """The fake behind a loopback HTTP server; a context manager that starts and stops it."""

    def __init__(self, api: FakeBotApi, host: str = "127.0.0.1", port: int = 0) -> None:
        self.api = api
        self._address = (host, port)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> BotApiServer:
        """Listen (port 0 picks a free one) and serve in a daemon thread."""
        if self._server is None:
            self._server = _Server(self._address, self.api)
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="fake-bot-api",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake held getUpdates and close open connections."""
        server, self._server = self._server, None
        if server is None:
            return
        server.stopping.set()
        self.api.release_pollers()
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=2)

    @property
    def port(self) -> int:
        """The port the server listens on."""
        if self._server is None:
            raise RuntimeError("BotApiServer is not running")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Root URL, e.g. http://127.0.0.1:PORT."""
        return f"http://{self._address[0]}:{self.port}"

    @property
    def base_url(self) -> str:
        """Base URL for python-telegram-bot (it appends the token): http://127.0.0.1:PORT/bot."""
        return f"{self.url}/bot"

    def __enter__(self) -> BotApiServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
