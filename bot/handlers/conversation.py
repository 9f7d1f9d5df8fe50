"""The feedback conversation: /start, buttons, text and everything else a person sends."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.commands import TYPED_COMMAND, typed_customer_command, typed_staff_command
from bot.context import BotContext
from bot.render import render
from flows.engine import CAPTIONED, FORWARDED, VIA_BOT
from flows.i18n import translator
from flows.replies import Outcome

PRIVATE = filters.ChatType.PRIVATE
NEW_MESSAGE = filters.UpdateType.MESSAGE
TYPED = filters.COMMAND | filters.Regex(TYPED_COMMAND)
"""A command, or a text that begins like one ("/löschen": Telegram's commands are ASCII),
which is never an answer (see common.unknown_command)."""


async def start(update: Update, context: BotContext) -> None:
    """/start [flow-id]: asks for consent (storing nothing), or begins or resumes the flow."""
    flow_id = context.args[0] if context.args else None
    await render(await context.service.start(context.person(update), flow_id), update, context)


async def cancel(update: Update, context: BotContext) -> None:
    """/abbrechen: deletes the person's unfinished draft."""
    await render(await context.service.cancel(context.person(update)), update, context)


async def press(update: Update, context: BotContext) -> None:
    """A button: records consent or an answer, and asks the next question."""
    query = update.callback_query
    if query is None:
        return
    data = query.data if isinstance(query.data, str) else ""
    await render(await context.service.press(context.person(update), data), update, context)


async def text(update: Update, context: BotContext) -> None:
    """Typed text: an answer to the current step; before consent, kept nowhere."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    # Someone else's words (forwarded; an inline bot's text, e.g. @wiki about a named
    # person, found by review): not kept, the question asked again.
    borrowed = FORWARDED if message.forward_origin is not None else None
    borrowed = VIA_BOT if message.via_bot is not None else borrowed
    if borrowed is not None:
        outcome = await context.service.other(context.person(update), borrowed)
        await render(outcome, update, context)
        return
    replied = message.reply_to_message
    to_bot = replied is not None and replied.from_user is not None
    to_bot = to_bot and replied.from_user.id == context.bot.id  # type: ignore[union-attr]
    quoted = replied.text if to_bot and replied is not None else None
    person = context.person(update)
    # "ja" under the erase or withdraw question is not taken for its button, nor said to
    # be no answer
    pointer = await context.rights.typed_at_rights_question(person, message.text)
    if pointer is not None:
        await render(pointer, update, context)
        return
    # Staff typing under the rules they are asked to confirm, outside a survey of their own
    if context.is_staff(update) and message.from_user is not None:
        rules = context.staff.typed_at_rules(
            f"staff:{message.from_user.id}", context.staff_locale(update), message.text
        )
        if rules is not None and not await context.service.under_way(person):
            await render(rules, update, context)
            return
    # A command typed without its slash, outside a survey of one's own: staff's (found by a
    # staff walk-through: told to agree to the consent request), or a customer's (found by
    # a customer walk-through: "mydata" told that no question is open)
    staff = context.is_staff(update)
    command = (typed_staff_command(message.text) if staff else None) or typed_customer_command(
        message.text
    )
    if command is not None and not await context.service.under_way(person):
        t = translator(context.staff_locale(update) if staff else context.locale(update))
        said = t.gettext("Commands begin with a slash: did you mean {command}?")
        await render(Outcome.say(said.format(command=command)), update, context)
        return
    # "Englisch bitte" under the question which language: the choice, not an answer
    chosen = await context.languages.typed(person, context.app_language(update), message.text)
    if chosen is not None:
        await render(chosen, update, context)
        return
    outcome = await context.service.text(
        person, message.text, message.date, replied=to_bot, quoted=quoted
    )
    await render(outcome, update, context)


async def other(update: Update, context: BotContext) -> None:
    """A sticker, photo, voice message...: nothing is stored, the step is asked again; once
    for an album (one update a picture: ten replies and ten questions in a second, found
    by review), and said of a caption that its words were not taken either."""
    message = update.effective_message
    if message is None:
        return
    album = message.media_group_id
    if album is not None and not context.bot_data.first_time(message.chat.id, f"album:{album}"):
        return
    kind = message.effective_attachment.__class__.__name__
    if message.caption and message.forward_origin is None:
        kind = CAPTIONED
    await render(await context.service.other(context.person(update), kind), update, context)


def handlers() -> list[tuple[int, BaseHandler[Any, Any, Any]]]:
    return [
        (0, CommandHandler("start", start, filters=PRIVATE & NEW_MESSAGE)),
        # "/stop" too, the usual way to leave a bot (found by an English customer's review)
        (
            0,
            CommandHandler(
                ["abbrechen", "cancel", "stop", "stopp"], cancel, filters=PRIVATE & NEW_MESSAGE
            ),
        ),
        (0, CallbackQueryHandler(press)),
        (0, MessageHandler(PRIVATE & NEW_MESSAGE & filters.TEXT & ~TYPED, text)),
        (
            0,
            MessageHandler(
                PRIVATE & NEW_MESSAGE & ~filters.TEXT & ~filters.StatusUpdate.ALL, other
            ),
        ),
    ]
