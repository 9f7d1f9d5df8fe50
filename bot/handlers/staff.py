"""Staff commands: /zusammenfassung (/summary).

Only ids in FEEDBACKBOT_STAFF_IDS, in a private chat or in FEEDBACKBOT_STAFF_CHAT_ID.
For anyone else the command does not match here and falls through to the unknown-command
answer, exactly like any command the bot does not have.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, filters

from bot.context import BotContext
from bot.render import render
from bot.settings import Settings

STAFF_COMMANDS = ["zusammenfassung", "summary"]


def staff_filter(settings: Settings) -> filters.BaseFilter:
    """A listed staff member, writing privately or in the staff chat."""
    staff = filters.User(user_id=sorted(settings.staff_ids))
    chat: filters.BaseFilter = filters.ChatType.PRIVATE
    if settings.staff_chat_id is not None:
        chat = chat | filters.Chat(chat_id=settings.staff_chat_id)
    return staff & chat & filters.UpdateType.MESSAGE


async def summary(update: Update, context: BotContext) -> None:
    """/zusammenfassung [period]: figures and redacted comments; audited, stores nothing else."""
    user = update.effective_user
    period = context.args[0] if context.args else None
    actor = f"staff:{user.id}" if user else "staff"
    outcome = await context.staff.summary(actor, context.locale(update), period)
    await render(outcome, update, context)


def handlers(settings: Settings) -> list[tuple[int, BaseHandler[Any, Any, Any]]]:
    return [(0, CommandHandler(STAFF_COMMANDS, summary, filters=staff_filter(settings)))]
