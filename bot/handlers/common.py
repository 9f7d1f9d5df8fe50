"""Guards that run before every feature, and the fallbacks after them."""

from __future__ import annotations

import logging
import time
from typing import Any

from telegram import Message, MessageEntity, Update
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.commands import meant, skips
from bot.context import BotContext
from bot.handlers.conversation import TYPED
from bot.handlers.staff import ANSWER_COMMANDS, STAFF_COMMANDS
from bot.render import render
from bot.staffchat import say_moved
from flows.replies import Outcome
from storage.interface import StorageFull

log = logging.getLogger("bot.handlers")

GROUP_NOTICE_PAUSE = 3600.0
PRIVATE = filters.ChatType.PRIVATE
MOVED = "until then alerts and digests wait, and staff writing in the new chat are told this"


class _ForAnotherBot(filters.MessageFilter):
    """A command addressed to another bot (/help@OtherBot): Telegram delivers it to every
    bot in a group that is an admin there or reads all messages, and it is not ours to
    answer (found by review: answered with the group notice, in the staff chat with where
    staff commands work)."""

    def filter(self, message: Message) -> bool:
        entity = message.entities[0] if message.entities else None
        if entity is None or entity.type != MessageEntity.BOT_COMMAND or entity.offset != 0:
            return False
        _, at, name = (message.text or "")[: entity.length].partition("@")
        return bool(at) and name.lower() != (message.get_bot().username or "").lower()


FOR_ANOTHER_BOT = _ForAnotherBot()


# What `feedbackbot run` asks Telegram for (bot.cli.run): nothing else is the bot's.
HANDLED_UPDATES = ("message", "edited_message", "callback_query")


async def drop_other_kinds(update: Update, context: BotContext) -> None:
    """Before anything else: an update of another kind is not the bot's, should it come
    (found by an attack review: a Telegram Business account's chats with its customers got
    /hilfe answered, listing the staff commands when a member of staff owned the account;
    a guest message was answered too, and a business message moved on the sender's
    language choice)."""
    if not any(getattr(update, kind) is not None for kind in HANDLED_UPDATES):
        raise ApplicationHandlerStop


def not_ours() -> list[tuple[int, BaseHandler[Any, Any, Any]]]:
    """Ahead of every other guard: updates of kinds the bot does not take, and (ahead of
    every other guard of its group) commands for another bot in a group."""
    return [
        (-4, TypeHandler(Update, drop_other_kinds)),
        (-1, MessageHandler(filters.ChatType.GROUPS & FOR_ANOTHER_BOT, ignore)),
    ]


async def drop_redelivered(update: Update, context: BotContext) -> None:
    """Telegram redelivers unconfirmed updates after a crash: process each update id once."""
    try:
        first = await context.service.store.claim_update(update.update_id, context.service.clock())
    except StorageFull:
        # Nothing can be written: let the feature run and tell the person it was not saved.
        return
    except Exception as error:
        # The store failed otherwise (locked, an I/O error): the feature runs and answers,
        # or apologises, once; an apology here would come on top of its answer.
        log.warning("update not claimed: %s", type(error).__name__)
        return
    if not first:
        log.info("redelivered update ignored")
        raise ApplicationHandlerStop


async def recall_language(update: Update, context: BotContext) -> None:
    """Look up, once per update, the language the sender chose (cached in memory), so that
    every answer after this is in it: in private chats, and to staff in the staff chat
    unless FEEDBACKBOT_STAFF_LOCALE sets its language (in other groups the bot says only
    where to write to it, in the app's language)."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    if chat.type != "private" and not context.is_staff(update):
        return
    # Using their chat with the bot keeps a choice alive; a staff member's word in some
    # other group does not.
    staff_chat = context.settings.staff_chat_id
    renew = chat.type == "private" or (staff_chat is not None and chat.id == staff_chat)
    try:
        context.chosen_locale = await context.languages.chosen(f"tg-user:{user.id}", renew)
    except Exception as error:  # a broken store: the app's language serves, and the
        # feature (or the apology) still answers
        log.warning("language lookup failed: %s", type(error).__name__)


def remembered_language(update: object, context: BotContext) -> None:
    """For the error handler, whose context is not the update's: the sender's choice as
    far as memory knows it, without touching the store (which may be what failed)."""
    user = update.effective_user if isinstance(update, Update) else None
    if user is not None:
        context.chosen_locale = context.languages.cached(f"tg-user:{user.id}")


async def guard_press(update: Update, context: BotContext) -> None:
    """A button press without a chat (inline messages, games) is not ours: answered quietly.
    Outside a private chat the bot shows buttons only under the staff rules in the staff
    chat: any other press there is forged (a person's data must never be acted on, nor
    the answer shown, in a group) and changes nothing."""
    query, chat = update.callback_query, update.effective_chat
    if query is None:
        return
    if chat is None:
        await render(Outcome(), update, context)
        raise ApplicationHandlerStop
    if chat.type == "private":
        return
    data = query.data if isinstance(query.data, str) else ""
    if data.startswith("sr:") and chat.id == context.settings.staff_chat_id:
        return
    toast = context.service.invalid_button(context.app_locale(update)).toast
    await render(Outcome(toast=toast), update, context)
    raise ApplicationHandlerStop


async def refuse_in_group(update: Update, context: BotContext) -> None:
    """A command in a group: say (once per group and hour) that feedback is private; to a
    member of staff, that this group is not the staff chat (it may be the supergroup the
    staff chat became), to an anonymous admin of the staff chat, that the bot cannot
    tell who they are (found by review: both got the customers' notice), and to a member
    of the staff chat not on the staff list, that its staff commands are not theirs."""
    chat, message, user = update.effective_chat, update.effective_message, update.effective_user
    if chat is None:
        raise ApplicationHandlerStop
    staff_chat = context.settings.staff_chat_id
    # In the staff chat the team's language, also to a colleague not on the staff list
    # (README: every answer there; found by a review of the change).
    locale = context.staff_locale(update) if chat.id == staff_chat else context.locale(update)
    if (
        user is not None
        and user.id in context.settings.staff_ids
        and chat.id != staff_chat
        and _staff_command(message)
    ):  # (a staff command only: anything else must not tell a group who is staff)
        outcome = context.staff.not_the_staff_chat(context.staff_locale(update), chat.id)
        await render(outcome, update, context)
        raise ApplicationHandlerStop
    # An admin writing as the group itself (one posting as a channel gets the notice).
    sender_chat = message.sender_chat if message is not None else None
    if sender_chat is not None and sender_chat.id == chat.id == staff_chat:
        # (the group writes, in no language: the team's)
        staff_locale = context.settings.staff_language
        await render(context.staff.anonymous_in_staff_chat(staff_locale), update, context)
        raise ApplicationHandlerStop
    if (
        user is not None
        and sender_chat is None
        and chat.id == staff_chat
        and _staff_command(message)
    ):
        # (not on the staff list: staff's own commands never reach here; in the staff chat,
        # whose menu lists the staff commands, that tells no one anything new)
        await render(context.staff.not_on_the_staff_list(locale), update, context)
        raise ApplicationHandlerStop
    notices = context.bot_data.group_notices
    now = time.monotonic()
    if now - notices.get(chat.id, -GROUP_NOTICE_PAUSE) >= GROUP_NOTICE_PAUSE:
        notices[chat.id] = now
        if len(notices) > 10_000:  # bounded: forget the oldest
            del notices[next(iter(notices))]
        outcome = context.service.private_only(locale, context.bot.username)
        await render(outcome, update, context)
    raise ApplicationHandlerStop


def _staff_command(message: Message | None) -> bool:
    """Whether `message` is /zusammenfassung or /antworten (in either language)."""
    text = message.text if message is not None and message.text else ""
    command = text.split(maxsplit=1)[0].partition("@")[0].lstrip("/").lower() if text else ""
    return text.startswith("/") and command in (*STAFF_COMMANDS, *ANSWER_COMMANDS)


async def edited_in_private(update: Update, context: BotContext) -> None:
    """A text message edited afterwards: say once that the change is not taken over (the
    answer as first sent counts); nothing of the new text is kept. Other edits (a live
    location moving: one each time the phone moves, found by review) are no answers."""
    message = update.effective_message
    if message is not None and message.text is not None:
        outcome = await context.service.edited(context.person(update), message.text)
        if outcome.replies and context.bot_data.first_time(
            message.chat.id, f"edit:{message.message_id}"
        ):
            await render(outcome, update, context)
    raise ApplicationHandlerStop


async def chat_migrated(update: Update, context: BotContext) -> None:
    """Telegram's service message that a group became a supergroup (in the old group and
    in the new one): the operator learns the staff chat's new id."""
    message, staff_chat = update.effective_message, context.settings.staff_chat_id
    if message is not None and staff_chat is not None:
        if message.migrate_to_chat_id and message.chat.id == staff_chat:
            say_moved(staff_chat, message.migrate_to_chat_id, MOVED)
        elif message.migrate_from_chat_id == staff_chat:
            say_moved(staff_chat, message.chat.id, MOVED)
    raise ApplicationHandlerStop


async def ignore(update: Update, context: BotContext) -> None:
    """Edited messages, channel posts and other chats: not answers, nothing to do."""
    raise ApplicationHandlerStop


async def help_command(update: Update, context: BotContext) -> None:
    """/hilfe: lists the commands; a member of staff also gets theirs, in the language
    their staff commands are answered in (a colleague whose app the bot does not speak got
    them in the customers' default: staff review)."""
    staff = context.is_staff(update)
    locale = context.staff_locale(update) if staff else context.locale(update)
    outcome = context.service.help(locale, staff=staff)
    await render(await context.service.reminded(context.person(update), outcome), update, context)


async def unknown_command(update: Update, context: BotContext) -> None:
    """Any other command, or a text that begins like one: the command it most likely was
    ("/löschen" typed with its umlaut), or else a short help. Not an answer either way."""
    message = update.effective_message
    typed = message.text if message is not None and message.text else ""
    if skips(typed):
        await render(await context.service.skip(context.person(update)), update, context)
        return
    staff = context.is_staff(update)
    locale = context.staff_locale(update) if staff else context.locale(update)
    outcome = context.service.unknown_command(locale, meant(typed, staff), staff)
    await render(await context.service.reminded(context.person(update), outcome), update, context)


def guards(staff_here: filters.BaseFilter) -> list[tuple[int, BaseHandler[Any, Any, Any]]]:
    """`staff_here` matches staff writing where staff commands work (the staff chat)."""
    staff_command = staff_here & filters.COMMAND
    return [
        (-3, TypeHandler(Update, drop_redelivered)),
        (-2, TypeHandler(Update, recall_language)),
        (-1, CallbackQueryHandler(guard_press)),
        (
            -1,
            MessageHandler(
                # New messages only: an edit in a group is no one's request (see `ignore`).
                filters.ChatType.GROUPS
                & filters.UpdateType.MESSAGE
                & filters.COMMAND
                & ~staff_command,
                refuse_in_group,
            ),
        ),
        (-1, MessageHandler(PRIVATE & filters.UpdateType.EDITED_MESSAGE, edited_in_private)),
        (-1, MessageHandler(filters.StatusUpdate.MIGRATE, chat_migrated)),
        (-1, MessageHandler((~PRIVATE | filters.UpdateType.EDITED) & ~staff_command, ignore)),
        (0, CommandHandler(["hilfe", "help"], help_command, filters=PRIVATE)),
    ]


def fallbacks() -> list[tuple[int, BaseHandler[Any, Any, Any]]]:
    return [(0, MessageHandler(PRIVATE & TYPED, unknown_command))]
