"""Data-subject rights: /datenschutz, /meinedaten, /loeschen, /widerruf and their buttons.

Private chats only (group commands are refused earlier); each acts on the sender alone.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot.context import BotContext
from bot.render import render
from flows.rights import KEEP_CONSENTS

PRIVATE_MESSAGE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE


async def privacy(update: Update, context: BotContext) -> None:
    """/datenschutz: the privacy notice; works before and without consent, stores nothing."""
    outcome = context.rights.privacy(context.locale(update))
    await render(await context.service.reminded(context.person(update), outcome), update, context)


async def my_data(update: Update, context: BotContext) -> None:
    """/meinedaten: a readable summary and the complete copy as a JSON file."""
    person = context.person(update)
    # Renewed first: the copy names when unfinished answers are discarded, and asking
    # the question again renews it (review of the change: the copy said 09:30, the
    # store then had 09:50).
    await context.service.keep_open(person)
    outcome = await context.rights.access(
        person, staff=context.is_staff(update), actor=_actor(update)
    )
    await render(await context.service.reminded(person, outcome, renewed=True), update, context)


async def delete(update: Update, context: BotContext) -> None:
    """/loeschen: asks for the one confirmation; erases nothing yet. During a survey its
    question follows, asked again, like after /meinedaten: a "no, rather not" typed to
    the erase question was stored as the survey's comment (found by review)."""
    person = context.person(update)
    outcome = await context.rights.request_erasure(
        person, staff=context.is_staff(update), actor=_actor(update)
    )
    await render(await context.service.reminded(person, outcome), update, context)


async def withdraw(update: Update, context: BotContext) -> None:
    """/widerruf: lists the consents in force as buttons (the survey's question after it,
    as for /loeschen)."""
    person = context.person(update)
    outcome = await context.rights.request_withdrawal(person)
    await render(await context.service.reminded(person, outcome), update, context)


async def erase_button(update: Update, context: BotContext) -> None:
    """Erase / keep: on erase, the person's key is destroyed and every row deleted."""
    data = _data(update)
    person = context.person(update)
    outcome = await context.rights.confirm_erasure(
        person, data, staff=context.is_staff(update), actor=_actor(update)
    )
    if data.split(":")[:2] == ["d", "n"]:  # kept: a feedback under way goes on
        outcome = await context.service.reminded(person, outcome)
    await render(outcome, update, context)


async def withdraw_button(update: Update, context: BotContext) -> None:
    """One press withdraws the chosen consent."""
    data = _data(update)
    person = context.person(update)
    outcome = await context.rights.withdraw(
        person, data, staff=context.is_staff(update), actor=_actor(update)
    )
    if data == KEEP_CONSENTS:  # a feedback under way goes on, as after "keep my data"
        outcome = await context.service.reminded(person, outcome)
    await render(outcome, update, context)


def _data(update: Update) -> str:
    query = update.callback_query
    return query.data if query is not None and isinstance(query.data, str) else ""


def handlers() -> list[tuple[int, BaseHandler[Any, Any, Any]]]:
    return [
        (0, CommandHandler(["datenschutz", "privacy"], privacy, filters=PRIVATE_MESSAGE)),
        (0, CommandHandler(["meinedaten", "mydata"], my_data, filters=PRIVATE_MESSAGE)),
        (0, CommandHandler(["loeschen", "delete"], delete, filters=PRIVATE_MESSAGE)),
        (0, CommandHandler(["widerruf", "withdraw"], withdraw, filters=PRIVATE_MESSAGE)),
        (0, CallbackQueryHandler(erase_button, pattern=r"^d:")),
        (0, CallbackQueryHandler(withdraw_button, pattern=r"^w:")),
    ]


def _actor(update: Update) -> str | None:
    """How the audit trail names the sender, as the staff commands note it: their own
    entries, also of a former member of staff, are theirs to see (Art. 15)."""
    user = update.effective_user
    return None if user is None else f"staff:{user.id}"
