"""/sprache (/language) and its buttons: the language the bot writes to the person in."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot.context import BotContext
from bot.render import render

PRIVATE_MESSAGE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE


async def language(update: Update, context: BotContext) -> None:
    """/sprache shows the choice; /sprache englisch (or en, deutsch, app) makes it."""
    argument = " ".join(context.args) if context.args else None
    outcome = await context.languages.ask(
        context.person(update), context.app_language(update), argument
    )
    await render(outcome, update, context)


async def language_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    data = query.data if query is not None and isinstance(query.data, str) else ""
    outcome = await context.languages.press(
        context.person(update), context.app_language(update), data
    )
    await render(outcome, update, context)


def handlers() -> list[tuple[int, BaseHandler[Any, Any, Any]]]:
    return [
        (0, CommandHandler(["sprache", "language"], language, filters=PRIVATE_MESSAGE)),
        (0, CallbackQueryHandler(language_button, pattern=r"^l:")),
    ]
