"""Logging that carries event names and pseudonyms only: no text, no raw ids, no token."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import sys

# Telegram ids are 5+ digit numbers; bot tokens look like 123456:ABC-def...
_TOKEN = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{20,}\b")
_BOT_URL = re.compile(r"/bot[^/\s]+/")
_LONG_NUMBER = re.compile(r"(?<![\w.])-?\d{5,}(?![\w.])")
_TAG_HERE = "\x00tag\x00"
_GROUP_HERE = "\x00group{}\x00"
# httpx logs every request URL (which contains the token) at INFO; PTB logs updates at DEBUG.
QUIETED = ("httpx", "httpcore", "telegram", "apscheduler", "aiosqlite", "asyncio")


class GroupChat(int):
    """A group's chat id (negative), shown in log lines as it is: no person's, and the
    operator needs it to set FEEDBACKBOT_STAFF_CHAT_ID (a staff group upgraded to a
    supergroup gets a new one). A positive id, a person's own chat, is redacted as any."""


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then removes secrets and identifiers from the finished line.

    Applied to the whole line, traceback included, because exception messages from
    libraries may carry a URL with the token or a chat id.
    """

    def __init__(self, secrets: tuple[str, ...] = (), fmt: str | None = None) -> None:
        super().__init__(fmt or "%(asctime)s %(levelname)s %(name)s: %(message)s%(pseudonym_part)s")
        # A token's secret half too: a URL with the token in the wrong place (the base URL
        # without its "/bot") printed it alone, as a port (found by an operator walk-through).
        halves = [s.split(":", 1)[1] for s in secrets if s and ":" in s]
        self._secrets = (*(s for s in secrets if s), *(h for h in halves if len(h) >= 8))
        # Lines about one person match within a run, but the tag cannot be recomputed
        # from a Telegram id later (the pseudonym key outlives an erasure; this salt does
        # not outlive the process).
        self._salt = os.urandom(16)

    def format(self, record: logging.LogRecord) -> str:
        pseudonym = getattr(record, "pseudonym", None)
        # The tag goes in after the redaction: one of twelve digits (about one in 280)
        # was taken for an id (found by an operator audit).
        record.pseudonym_part = f" [p:{_TAG_HERE}]" if pseudonym else ""
        groups: list[str] = []
        arguments = record.args
        if isinstance(arguments, tuple):  # group chats' ids, likewise put in afterwards
            record.args = tuple(self._held(a, groups) for a in arguments)
        try:
            line = self.redact(super().format(record))
        finally:
            record.args = arguments
        for index, group in enumerate(groups):
            line = line.replace(_GROUP_HERE.format(index), group)
        return line.replace(_TAG_HERE, self._tag(str(pseudonym))) if pseudonym else line

    @staticmethod
    def _held(argument: object, groups: list[str]) -> object:
        if not isinstance(argument, GroupChat) or argument >= 0:
            return argument
        groups.append(str(int(argument)))
        return _GROUP_HERE.format(len(groups) - 1)

    def _tag(self, pseudonym: str) -> str:
        return hmac.new(self._salt, pseudonym.encode(), hashlib.sha256).hexdigest()[:12]

    def redact(self, line: str) -> str:
        for secret in self._secrets:
            line = line.replace(secret, "[secret]")
        line = _TOKEN.sub("[token]", line)
        line = _BOT_URL.sub("/bot[token]/", line)
        return _LONG_NUMBER.sub("[id]", line)


def configure_logging(level: str, secrets: tuple[str, ...] = ()) -> None:
    """Route every log line through the redacting formatter and quiet chatty libraries."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in QUIETED:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    handler.addFilter(_retry_loop_in_one_line)


# Messages of python-telegram-bot whose traceback says nothing the message does not.
_ONE_LINE = (
    # each failed network attempt of the polling loop
    "Network Retry",
    # the last getUpdates at shutdown, to confirm what was fetched, failed: harmless, as
    # Telegram sends those updates again and the bot claims each update id once
    "Error while calling `get_updates` one more time",
)


def _retry_loop_in_one_line(record: logging.LogRecord) -> bool:
    """python-telegram-bot logs each failed network attempt with three chained tracebacks
    (httpcore, httpx, telegram); the message says what failed, so keep only that line,
    with the error's name."""
    if record.name.startswith("telegram") and record.getMessage().startswith(_ONE_LINE):
        if record.exc_info and record.exc_info[1] is not None:
            record.msg = f"{record.getMessage()} ({type(record.exc_info[1]).__name__})"
            record.args = None
        record.exc_info, record.exc_text = None, None
    return True
