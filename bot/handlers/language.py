"""/sprache (/language) and its buttons: the language the bot writes to the person in."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot.context import BotContext
from bot.render import render
from flows.replies import Outcome

PRIVATE_MESSAGE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE


async def language(update: Update, context: BotContext) -> None:
    """/sprache shows the choice; /sprache englisch (or en, deutsch, app) makes it."""
    argument = " ".join(context.args) if context.args else None
    person = context.person(update)
    outcome = await context.languages.ask(person, context.app_language(update), argument)
    if _asks(outcome):  # the survey's question after it (as for /loeschen); a choice
        # made asks it again itself, in the language chosen
        outcome = await context.service.reminded(person, outcome)
    await render(outcome, update, context)


def _asks(outcome: Outcome) -> bool:
    """Whether the outcome is the question which language (its buttons `l:...`)."""
    buttons = [b for reply in outcome.replies for row in reply.buttons for b in row]
    return any(b.data.startswith("l:") for b in buttons)


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
