"""Telegram handlers, one module per feature; `all_handlers()` assembles them in order."""

from __future__ import annotations

from typing import Any

from telegram.ext import BaseHandler

from bot.handlers import common, conversation, language, rights, staff
from bot.settings import Settings


def all_handlers(settings: Settings) -> list[tuple[int, BaseHandler[Any, Any, Any]]]:
    """(group, handler) pairs; lower groups run first."""
    return [
        *common.not_ours(),
        staff.edited_answer_guard(settings),
        staff.edited_command_guard(settings),
        staff.borrowed_answer_guard(settings),
        staff.caption_answer_guard(settings),
        *common.guards(staff.staff_filter(settings)),
        *staff.handlers(settings),
        *rights.handlers(),
        *language.handlers(),
        *conversation.handlers(),
        *common.fallbacks(),
    ]
