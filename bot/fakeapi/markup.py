"""What Telegram does with text and parameters: visible text after parse_mode, checks of
inline keyboards, and the decoding of parameter values."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from bot.fakeapi.model import MAX_CALLBACK_DATA_BYTES, JSONDict, bad_request


class _EntityError(Exception):
    """Markup that Telegram refuses with "can't parse entities"."""


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _name_end(text: str, start: int) -> int:
    end = start
    while end < len(text) and text[end].isascii() and _word_char(text[end]):
        end += 1
    return end


def command_entities(text: str) -> list[JSONDict]:
    """The bot_command entities Telegram finds in `text` (as tdlib's find_bot_commands):
    "/" after no word character, 1-64 ASCII letters, figures or "_", optionally
    "@" and a bot's name, then no word character, "/", "<" or ">". Anywhere in the text:
    "/löschen", "/r/germany" and "/" alone are none; "/hilfe?" is "/hilfe"."""
    found: list[JSONDict] = []
    for begin in (i for i, char in enumerate(text) if char == "/"):
        if begin > 0 and (_word_char(text[begin - 1]) or text[begin - 1] in "/<>"):
            continue
        end = _name_end(text, begin + 1)
        if not 1 <= end - begin - 1 <= 64:
            continue
        if text[end : end + 1] == "@":
            name_end = _name_end(text, end + 1)
            if 1 <= name_end - end - 1 <= 32:
                end = name_end
        after = text[end : end + 1]
        if after and (_word_char(after) or after in "/<>"):
            continue
        offset = utf16_length(text[:begin])
        found.append(
            {"type": "bot_command", "offset": offset, "length": utf16_length(text[begin:end])}
        )
    return found


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
        raise bad_request(f"can't parse entities: {exc}") from None
    return text.strip()


# --------------------------------------------------------------------------- parameters


def as_json(value: Any) -> Any:
    """Telegram accepts JSON-serialized objects inside string parameters."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def int_param(params: Mapping[str, Any], name: str, missing: str) -> int:
    value = params.get(name)
    if value is None or value == "":
        raise bad_request(missing)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(f"invalid {name} specified") from None


def optional_str(params: Mapping[str, Any], name: str) -> str | None:
    value = params.get(name)
    return None if value is None else str(value)


def checked_markup(params: Mapping[str, Any]) -> JSONDict | None:
    """The reply_markup parameter, validated as Telegram does for inline keyboards."""
    markup = as_json(params.get("reply_markup"))
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    keyboard = markup.get("inline_keyboard")
    if keyboard is None:
        return markup
    if not isinstance(keyboard, list) or not all(isinstance(row, list) for row in keyboard):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
    for row in keyboard:
        for button in row:
            if not isinstance(button, dict) or not str(button.get("text", "")):
                raise bad_request("BUTTON_TEXT_INVALID")
            data = button.get("callback_data")
            if data is not None:
                size = len(str(data).encode("utf-8"))
                if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                    raise bad_request("BUTTON_DATA_INVALID")
            elif len(button) == 1:
                raise bad_request("text buttons are unallowed in the inline keyboard")
    return markup


def message_markup(markup: JSONDict | None) -> JSONDict | None:
    """Only inline keyboards are part of a Message object."""
    if markup is not None and "inline_keyboard" in markup:
        return markup
    return None
