"""Where a value is in a TOML text: line numbers by path, which tomllib does not give.

`TomlLines(text).line(("steps", 2, "next", 0, "goto"))` is the line of that value, or
of the closest enclosing one that was found (the third ``[[steps]]`` table). Meant for
texts tomllib has already accepted; anything unexpected just ends the scan early.
"""

from __future__ import annotations

import tomllib
from typing import Any

Where = tuple[str | int, ...]


def loads(text: str) -> dict[str, Any]:
    """tomllib.loads, also for a text saved with a byte order mark; what tomllib cannot
    read for other reasons (nesting deeper than Python's recursion limit, an integer of
    thousands of digits) raises TOMLDecodeError like any syntax error, not a traceback."""
    try:
        return tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError:
        raise
    except RecursionError:
        raise tomllib.TOMLDecodeError("nested too deeply") from None
    except ValueError:  # int() beyond sys.get_int_max_str_digits()
        raise tomllib.TOMLDecodeError("a number has too many digits") from None


_BARE_KEY = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


class TomlLines:
    def __init__(self, text: str) -> None:
        # Read like `loads` reads it (found by a flow author's review: a file saved with a
        # byte order mark had every problem said at line 1).
        self._text = text.removeprefix("\ufeff")
        self._pos = 0
        self._line = 1
        self._lines: dict[Where, int] = {}
        self._table_arrays: dict[Where, int] = {}
        try:
            self._document()
        except (IndexError, ValueError):
            pass  # a best effort: what was found so far still helps

    def line(self, where: Where) -> int:
        """The line of `where`, or of its closest enclosing value that was found (else 1)."""
        for size in range(len(where), 0, -1):
            if where[:size] in self._lines:
                return self._lines[where[:size]]
        return 1

    # --- scanning ---------------------------------------------------------------------
    def _peek(self, size: int = 1) -> str:
        if self._pos >= len(self._text):
            raise ValueError("unexpected end of the text")
        return self._text[self._pos : self._pos + size]

    def _advance(self, size: int = 1) -> None:
        self._line += self._text.count("\n", self._pos, self._pos + size)
        self._pos += size

    def _record(self, where: Where) -> None:
        self._lines.setdefault(where, self._line)

    def _skip_space(self, newlines: bool) -> None:
        while self._pos < len(self._text):
            char = self._peek()
            if char == "#":
                end = self._text.find("\n", self._pos)
                self._advance((len(self._text) if end < 0 else end) - self._pos)
            elif char in " \t\r" or (newlines and char == "\n"):
                self._advance()
            else:
                return

    def _document(self) -> None:
        table: Where = ()
        while True:
            self._skip_space(newlines=True)
            if self._pos >= len(self._text):
                return
            if self._peek(2) == "[[":
                self._advance(2)
                table = self._header(array=True)
            elif self._peek() == "[":
                self._advance()
                table = self._header(array=False)
            else:
                self._key_value(table)

    def _header(self, array: bool) -> Where:
        self._skip_space(newlines=False)
        parts = self._key()
        self._advance(2 if array else 1)
        path: Where = ()
        for part in parts[:-1]:
            path = (*path, part)
            if path in self._table_arrays:
                path = (*path, self._table_arrays[path] - 1)
        path = (*path, parts[-1])
        self._record(path)
        if array:
            index = self._table_arrays.get(path, 0)
            self._table_arrays[path] = index + 1
            path = (*path, index)
            self._record(path)
        return path

    def _key(self) -> list[str]:
        parts: list[str] = []
        while True:
            self._skip_space(newlines=False)
            char = self._peek()
            if char in "\"'":
                parts.append(self._string())
            else:
                start = self._pos
                while self._pos < len(self._text) and self._peek() in _BARE_KEY:
                    self._advance()
                if self._pos == start:
                    raise ValueError("no key")
                parts.append(self._text[start : self._pos])
            self._skip_space(newlines=False)
            if self._peek() != ".":
                return parts
            self._advance()

    def _key_value(self, table: Where) -> None:
        where = (*table, *self._key())
        self._record(where)
        self._skip_space(newlines=False)
        self._advance()  # "="
        self._skip_space(newlines=False)
        self._value(where)

    def _value(self, where: Where) -> None:
        char = self._peek()
        if char in "\"'":
            self._string()
        elif char == "[":
            self._advance()
            index = 0
            while True:
                self._skip_space(newlines=True)
                if self._peek() == "]":
                    self._advance()
                    return
                self._record((*where, index))
                self._value((*where, index))
                self._skip_space(newlines=True)
                if self._peek() == ",":
                    self._advance()
                index += 1
        elif char == "{":
            self._advance()
            while True:
                self._skip_space(newlines=True)
                if self._peek() == "}":
                    self._advance()
                    return
                if self._peek() == ",":
                    self._advance()
                    continue
                self._key_value(where)
        else:
            while self._pos < len(self._text) and self._peek() not in ",]}\n#":
                self._advance()

    def _string(self) -> str:
        quote = self._peek()
        if self._peek(3) == quote * 3:
            end = self._text.index(quote * 3, self._pos + 3)
            while self._text.startswith(quote, end + 3):  # up to two quotes may close it
                end += 1
            value = self._text[self._pos + 3 : end]
            self._advance(end + 3 - self._pos)
            return value
        self._advance()
        start = self._pos
        while self._peek() != quote:
            if quote == '"' and self._peek() == "\\":
                self._advance()
            self._advance()
        value = self._text[start : self._pos]
        self._advance()
        return value
