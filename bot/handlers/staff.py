"""Staff commands: /zusammenfassung (/summary) and /antworten (/reply), an answer to a
customer who agreed to be contacted.

Only ids in FEEDBACKBOT_STAFF_IDS, in a private chat or in FEEDBACKBOT_STAFF_CHAT_ID.
For anyone else the command does not match here and falls through to the unknown-command
answer, exactly like any command the bot does not have.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from telegram import Update
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.commands import meant
from bot.context import BotContext
from bot.render import render, send, send_to
from bot.settings import Settings
from flows.replies import Outcome
from storage.interface import StoreError

log = logging.getLogger("bot.handlers.staff")

STAFF_COMMANDS = ["zusammenfassung", "summary"]
ANSWER_COMMANDS = ["antworten", "reply"]


def staff_filter(settings: Settings) -> filters.BaseFilter:
    """A listed staff member, writing privately or in the staff chat."""
    return _staff_where_commands_work(settings) & filters.UpdateType.MESSAGE


def _staff_where_commands_work(settings: Settings) -> filters.BaseFilter:
    staff = filters.User(user_id=sorted(settings.staff_ids))
    chat: filters.BaseFilter = filters.ChatType.PRIVATE
    if settings.staff_chat_id is not None:
        chat = chat | filters.Chat(chat_id=settings.staff_chat_id)
    return staff & chat


def edited_answer_guard(settings: Settings) -> tuple[int, BaseHandler[Any, Any, Any]]:
    """An /antworten a member of staff edited after sending: said to be not passed on
    (found by review: in the staff chat the edit went unanswered, as if the corrected
    text had reached the customer). Ahead of the guards that drop edits."""
    commands = "|".join(ANSWER_COMMANDS)
    # "/Reply" too, as the command takes it (staff review: answered with the customers' notice).
    edited = filters.UpdateType.EDITED_MESSAGE & filters.Regex(
        re.compile(rf"^/({commands})(@\w+)?(\s|$)", re.IGNORECASE)
    )
    return (-1, MessageHandler(_staff_where_commands_work(settings) & edited, edited_answer))


def edited_command_guard(settings: Settings) -> tuple[int, BaseHandler[Any, Any, Any]]:
    """Any other command a member of staff edited in the staff chat: said not to be carried
    out, as in a private chat (found by a staff review: a corrected /zusammenfassung was
    answered with the customers' "feedback only in private")."""
    edited = filters.UpdateType.EDITED_MESSAGE & filters.COMMAND & filters.ChatType.GROUPS
    return (-1, MessageHandler(_staff_where_commands_work(settings) & edited, edited_command))


def borrowed_answer_guard(settings: Settings) -> tuple[int, BaseHandler[Any, Any, Any]]:
    """An /antworten forwarded by a member of staff, or sent through an inline bot: not
    passed on (found by an attack review: a colleague's answer forwarded to ask whether it
    went out reached the customer a second time, audited as the forwarder's; customers'
    forwarded texts are refused as answers likewise)."""
    commands = "|".join(ANSWER_COMMANDS)
    # As the command takes it: "/Reply" too (found by a diff review: passed on again).
    borrowed = (filters.FORWARDED | filters.VIA_BOT) & filters.Regex(
        re.compile(rf"^/({commands})(@\w+)?(\s|$)", re.IGNORECASE)
    )
    return (-1, MessageHandler(staff_filter(settings) & borrowed, borrowed_answer))


def caption_answer_guard(settings: Settings) -> tuple[int, BaseHandler[Any, Any, Any]]:
    """An /antworten written as the caption of a photo or a file: only text is passed on
    (found by a staff review: a screenshot of a refund so captioned went unanswered in the
    staff chat, as if sent, and was told in a private chat that nothing is stored before
    consent)."""
    commands = "|".join(ANSWER_COMMANDS)
    captioned = filters.CaptionRegex(re.compile(rf"^/({commands})(@\w+)?(\s|$)", re.IGNORECASE))
    return (-1, MessageHandler(staff_filter(settings) & captioned, caption_answer))


async def caption_answer(update: Update, context: BotContext) -> None:
    outcome = context.staff.answers.attachment_not_passed_on(context.staff_locale(update))
    await render(outcome, update, context)
    raise ApplicationHandlerStop


async def borrowed_answer(update: Update, context: BotContext) -> None:
    outcome = context.staff.answers.borrowed_not_passed_on(context.staff_locale(update))
    await render(outcome, update, context)
    raise ApplicationHandlerStop


async def edited_answer(update: Update, context: BotContext) -> None:
    await render(
        context.staff.answers.edit_not_passed_on(context.staff_locale(update)), update, context
    )
    raise ApplicationHandlerStop


async def edited_command(update: Update, context: BotContext) -> None:
    message = update.effective_message
    if message is not None and context.bot_data.first_time(
        message.chat.id, f"edit:{message.message_id}"
    ):
        await render(context.staff.edited_command(context.staff_locale(update)), update, context)
    raise ApplicationHandlerStop


async def summary(update: Update, context: BotContext) -> None:
    """/zusammenfassung [period]: figures and redacted comments; audited, stores nothing else."""
    user = update.effective_user
    period = " ".join(context.args) if context.args else None  # "7 Tage" is two words
    actor = f"staff:{user.id}" if user else "staff"
    outcome = await context.staff.summary(actor, context.staff_locale(update), period)
    await render(await _reminded(update, context, outcome), update, context)


async def _reminded(update: Update, context: BotContext, outcome: Outcome) -> Outcome:
    """`outcome`, and in a private chat the open question of the staff member's own
    survey under way asked again, as after /hilfe (found by review: a member of staff
    trying the bot sent /zusammenfassung mid-survey, and their next text, "30d", was
    stored as the survey's comment)."""
    chat = update.effective_chat
    if chat is None or chat.type != chat.PRIVATE:
        return outcome
    return await context.service.reminded(context.person(update), outcome)


async def answer(update: Update, context: BotContext) -> None:
    """/antworten <reference> <text>, or /antworten <text> in reply to the alert: passed on
    to the customer, whom staff never see. (A plain reply to an alert is staff talking
    among themselves, "I'll take this one": it never reaches the customer.)"""
    message, user = update.effective_message, update.effective_user
    if message is None:
        return
    replied, quoted = message.reply_to_message, None
    if replied is not None and replied.from_user is not None:
        if replied.from_user.id == context.bot.id:  # an alert, perhaps
            quoted = replied.text or ""
    actor = f"staff:{user.id}" if user else "staff"
    answers = context.staff.answers
    prepared = await answers.prepare(
        actor, context.staff_locale(update), message.text or "", quoted
    )
    if isinstance(prepared, Outcome):
        await render(await _reminded(update, context, prepared), update, context)
        return
    maybe: list[bool] = []
    stopped: list[bool] = []
    unchecked: list[bool] = []

    async def still_allowed() -> bool:
        try:
            if await answers.still_reachable(prepared):
                return True
        except StoreError as error:  # not known to be allowed: not sent, and audited so
            log.error("answer not checked: %s", type(error).__name__)
            unchecked.append(True)
            return False
        stopped.append(True)
        return False

    delivered = await send_to(
        context.bot,
        prepared.chat_id,
        prepared.reply,
        uncertain=lambda: maybe.append(True),
        allowed=still_allowed,
    )
    outcome = await answers.sent(
        prepared, delivered, bool(maybe), stopped=bool(stopped), unchecked=bool(unchecked)
    )
    await render(await _reminded(update, context, outcome), update, context)
    if delivered:
        await _question_again(context, prepared.chat_id, prepared.pseudonym)


async def _question_again(context: BotContext, chat_id: int, pseudonym: str) -> None:
    """The customer's open survey question, asked again under the answer from staff, so
    that what they write next is read as an answer to it rather than to staff."""
    locale = context.settings.default_locale
    try:
        again = await context.service.after_staff_message(pseudonym, locale)
    except StoreError as error:  # the answer reached them; the question stays above it
        log.error("question not asked again: %s", type(error).__name__)
        return
    for reply in again.replies:
        if not await send(context, chat_id, reply):
            return


async def confirm_rules(update: Update, context: BotContext) -> None:
    """The "I confirm" button under the staff rules: audited with the rules' version."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    if user.id not in context.settings.staff_ids:
        # The toast alone: the rules were asked for by a member of staff, whose button
        # it is (found by review: another member of the staff chat pressed it and it
        # was gone for everyone).
        toast = context.service.invalid_button(context.locale(update)).toast
        await render(Outcome(toast=toast), update, context)
        return
    data = query.data if isinstance(query.data, str) else ""
    locale = context.staff_locale(update)
    confirmed = await context.staff.confirm_rules(f"staff:{user.id}", locale, data)
    await render(await _reminded(update, context, confirmed), update, context)


async def other_in_staff_chat(update: Update, context: BotContext) -> None:
    """Any other command of a member of staff in the staff chat: where it works instead,
    or, a staff command mistyped ("/zusammenfasung"), the one it most likely was."""
    message, locale = update.effective_message, context.staff_locale(update)
    typed = meant(message.text or "", staff=True) if message is not None else None
    # (its first word: "/summary7d" is meant as "/summary 7d", found by review)
    name = typed.split()[0].removeprefix("/") if typed else None
    if typed is not None and name in (*STAFF_COMMANDS, *ANSWER_COMMANDS):
        await render(context.service.unknown_command(locale, typed), update, context)
        return
    await render(context.staff.staff_chat_only(locale), update, context)


def handlers(settings: Settings) -> list[tuple[int, BaseHandler[Any, Any, Any]]]:
    found: list[tuple[int, BaseHandler[Any, Any, Any]]] = [
        (0, CommandHandler(STAFF_COMMANDS, summary, filters=staff_filter(settings))),
        (0, CommandHandler(ANSWER_COMMANDS, answer, filters=staff_filter(settings))),
        (0, CallbackQueryHandler(confirm_rules, pattern=r"^sr:")),
    ]
    if settings.staff_chat_id is not None:
        # A group only: a staff chat that is a staff member's own private chat serves them
        # as a customer too (found by review: /start, /meinedaten, /loeschen were refused).
        in_staff_chat = (
            staff_filter(settings)
            & filters.Chat(chat_id=settings.staff_chat_id)
            & filters.ChatType.GROUPS
        )
        found.append((0, MessageHandler(in_staff_chat & filters.COMMAND, other_in_staff_chat)))
    return found
