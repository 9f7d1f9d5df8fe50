"""Telegram handlers, one module per feature; `all_handlers()` assembles them in order."""

from __future__ import annotations

from typing import Any

from telegram.ext import BaseHandler

from bot.handlers import common, conversation, rights


def all_handlers() -> list[tuple[int, BaseHandler[Any, Any, Any]]]:
    """(group, handler) pairs; lower groups run first."""
    return [
        *common.guards(),
        *rights.handlers(),
        *conversation.handlers(),
        *common.fallbacks(),
    ]
