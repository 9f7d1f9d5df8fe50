"""Turns the plain `Outcome` of flows/ into Telegram calls."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import CallbackQueryLimit, MessageLimit
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot.context import BotContext
from bot.requests import TelegramServerError
from flows.replies import Outcome, Reply

log = logging.getLogger("bot.render")

MAX_RETRY_WAIT = 60.0
OPEN_QUESTIONS_KEPT = 10_000  # chats whose open question's message id is remembered
SERVER_ERROR_PAUSE = 1.0  # seconds before the first resend after a 5xx; doubles each time
CHAT_CUT_OFF = (
    "chat not found",
    "not enough rights to send text",  # (photos refused alone: the chart, not the chat)
    "have no rights to send a message",
    "topic_closed",
    "topic_deleted",
    "message thread not found",  # FEEDBACKBOT_STAFF_THREAD_ID names no topic (any more)
    "chat_write_forbidden",
    "chat_restricted",
    "need administrator rights",
)
"""What Telegram says (400) when nothing can be sent to a chat at all, whatever the message."""


def cuts_off(error: TelegramError) -> bool:
    """Whether `error` says that the chat itself takes no messages from the bot (removed or
    blocked, a mistyped id, no right to write, a group upgraded to a supergroup), rather
    than that this one message was refused."""
    if isinstance(error, (Forbidden, ChatMigrated)):
        return True
    return isinstance(error, BadRequest) and any(c in error.message.lower() for c in CHAT_CUT_OFF)


def fit_toast(text: str | None) -> str | None:
    """A button's answer as Telegram takes it: at most 200 characters, else the answer
    fails and the button keeps spinning (found by a review: "Selected: <a long option>")."""
    limit = CallbackQueryLimit.ANSWER_CALLBACK_QUERY_TEXT_LENGTH
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


async def render(outcome: Outcome, update: Update, context: BotContext) -> None:
    """Answer the pressed button (always, so it stops spinning), then send the replies."""
    query = update.callback_query
    chat = update.effective_chat
    questions = context.bot_data.open_questions
    lapsing = context.bot_data.lapsing
    if query is not None:
        await _quietly(query.answer(fit_toast(outcome.toast)), "answer button")
        if outcome.close_keyboard and query.message is not None:
            if chat is not None and questions.get(chat.id) == query.message.message_id:
                del questions[chat.id]
            if chat is not None and query.message.message_id in lapsing.get(chat.id, ()):
                lapsing[chat.id].remove(query.message.message_id)
            await _quietly(query.edit_message_reply_markup(reply_markup=None), "close keyboard")
        elif outcome.replace_keyboard is not None and query.message is not None:
            # An option toggled at a multiple-choice step: the same message, redrawn buttons.
            redrawn = _keyboard(Reply("", outcome.replace_keyboard))
            await _quietly(query.edit_message_reply_markup(reply_markup=redrawn), "redraw keyboard")
    if chat is None:
        return
    pressed = query.message.message_id if query is not None and query.message else None
    if outcome.survey_over or outcome.question_gone:
        for lapsed in lapsing.pop(chat.id, []):
            if lapsed != pressed:
                await _quietly(
                    context.bot.edit_message_reply_markup(chat.id, lapsed, reply_markup=None),
                    "close lapsed keyboard",
                )
    closing = (query is None and outcome.close_keyboard) or outcome.question_gone
    if closing and chat.id in questions and questions[chat.id] != pressed:
        # A question answered by typing, or discarded: its buttons (Skip, the ratings) go.
        answered = questions.pop(chat.id)
        await _quietly(
            context.bot.edit_message_reply_markup(chat.id, answered, reply_markup=None),
            "close keyboard",
        )
    # In a forum's topic the answer goes to that topic, not to General (found by review).
    asked = update.effective_message
    thread = asked.message_thread_id if asked is not None and asked.is_topic_message else None
    for reply in outcome.replies:
        if not await send(context, chat.id, reply, thread):
            return
    if outcome.question_above is not None and chat.id not in questions:
        # Pointed to, but not known to be shown (its send failed, or a restart since): asked
        # again, or the person would look for buttons that never came (review of the change).
        await send(context, chat.id, outcome.question_above, thread)


async def send(context: BotContext, chat_id: int, reply: Reply, thread: int | None = None) -> bool:
    """Send one reply in answer to an update (see `send_to`), in the forum topic `thread`;
    remembers which message shows the buttons of the conversation's current question."""

    questions = context.bot_data.open_questions
    earlier = questions.get(chat_id) if reply.question else None

    def remember(message_id: int) -> None:
        questions.pop(chat_id, None)
        questions[chat_id] = message_id
        if len(questions) > OPEN_QUESTIONS_KEPT:  # bounded: forget the oldest
            del questions[next(iter(questions))]

    def lapsing(message_id: int) -> None:
        kept = context.bot_data.lapsing
        kept[chat_id] = [*kept.pop(chat_id, []), message_id]
        if len(kept) > OPEN_QUESTIONS_KEPT:
            del kept[next(iter(kept))]

    with_buttons = remember if reply.question else lapsing if reply.lapses else None
    sent = await send_to(context.bot, chat_id, reply, with_buttons, thread=thread)
    if sent and earlier is not None and questions.get(chat_id) != earlier:
        # The question asked again (after a sticker, /start, a stale button): one set of
        # live buttons only, or ticks made on the old copy would not show on the new one.
        await _quietly(
            context.bot.edit_message_reply_markup(chat_id, earlier, reply_markup=None),
            "close earlier keyboard",
        )
    return sent


async def send_to(
    bot: Bot,
    chat_id: int,
    reply: Reply,
    with_buttons: Callable[[int], None] | None = None,
    uncertain: Callable[[], None] | None = None,
    allowed: Callable[[], Awaitable[bool]] | None = None,
    sent: Callable[[int], None] | None = None,
    attempts: int = 3,
    answered: Callable[[], None] | None = None,
    cut_off: Callable[[TelegramError], None] | None = None,
    thread: int | None = None,
) -> bool:
    """Send one reply, split at line breaks when longer than Telegram allows; the id of
    the message that carries its buttons goes to `with_buttons`, that of every text part
    sent to `sent`.

    Returns False when the person cannot be reached (blocked the bot), so the caller
    stops; the answers are stored before anything is sent, so nothing is lost. Where a
    part failed but may have arrived (no answer in time, a dropped connection),
    `uncertain` is called as well. `allowed` is asked before every attempt to send a text
    part (a retry after flood control may come a minute later): False stops, and send_to
    returns False (pictures and files, which answers to customers never carry, do not ask).
    A text part is tried `attempts` times in all (flood control waited out in between);
    `answered` is called once each attempt at one has its answer, whatever it is, so that
    a caller cut short can tell whether a request was under way. `cut_off` hears the error
    when the chat takes no messages at all (see `cuts_off`). `thread`: the forum topic.
    """
    chunks = split_text(reply.text, MessageLimit.MAX_TEXT_LENGTH) if reply.text else []
    for index, chunk in enumerate(chunks):
        last = index == len(chunks) - 1
        markup = _keyboard(reply) if last else None

        async def call(chunk: str = chunk, markup: InlineKeyboardMarkup | None = markup) -> None:
            message = await bot.send_message(
                chat_id, chunk, reply_markup=markup, message_thread_id=thread
            )
            if sent is not None:
                sent(message.message_id)
            if markup is not None and with_buttons is not None:
                with_buttons(message.message_id)

        if not await _with_retry(call, uncertain, attempts, allowed, answered, cut_off):
            return False
    if reply.image is not None:
        image = reply.image
        if not await _with_retry(
            lambda: bot.send_photo(
                chat_id,
                image.content,
                caption=image.caption[: MessageLimit.CAPTION_LENGTH] or None,
                message_thread_id=thread,
            ),
            uncertain,
            cut_off=cut_off,
        ):
            return False
    if reply.document is not None:
        document = reply.document
        return await _with_retry(
            lambda: bot.send_document(
                chat_id,
                document.content,
                filename=document.filename,
                caption=document.caption[: MessageLimit.CAPTION_LENGTH] or None,
                message_thread_id=thread,
            ),
            uncertain,
            cut_off=cut_off,
        )
    return True


def _keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.label, callback_data=b.data) for b in row]
            for row in reply.buttons
        ]
    )


def split_text(text: str, limit: int) -> list[str]:
    """Split into pieces of at most `limit` characters; never drops text.

    Cuts where a new item begins (a line that is not indented) if one is in the second
    half of the piece, else at a line break that does not separate a question from its
    indented "→ answer", else at any line break, else at a space.
    """
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = _cut(rest, limit)
        pieces.append(rest[:cut])
        rest = rest[cut:].lstrip("\n")
    pieces.append(rest)
    return [p for p in pieces if p] or [text]


def _cut(text: str, limit: int) -> int:
    breaks = [i for i in range(limit) if text[i] == "\n" and i > 0]
    # A new section first: a heading after a blank line, not a list's item, in the last
    # two thirds (found by a customer walk-through: the privacy notice's second message
    # began with "• Telegram, …", cut off from its heading "Recipients of the data")
    sections = [
        i
        for i in breaks
        if i >= limit // 3
        and text[i - 1] == "\n"
        and text[i + 1 : i + 2] not in ("", " ", "\n", "•")
    ]
    items = [i for i in breaks if i >= limit // 2 and not text[i + 1 : i + 2].isspace()]
    whole = [i for i in breaks if not text[i + 1 :].lstrip(" ").startswith("→")]
    for candidates in (sections, items, whole, breaks):
        if candidates:
            return candidates[-1]
    space = text.rfind(" ", 0, limit)
    return space if space > 0 else limit


async def _with_retry(
    call: object,
    uncertain: Callable[[], None] | None = None,
    attempts: int = 3,
    allowed: Callable[[], Awaitable[bool]] | None = None,
    answered: Callable[[], None] | None = None,
    cut_off: Callable[[TelegramError], None] | None = None,
) -> bool:
    for attempt in range(attempts):
        if allowed is not None and not await allowed():
            return False
        try:
            try:
                await call()  # type: ignore[operator]
            finally:
                if answered is not None and not _cancelled():
                    answered()
            return True
        except RetryAfter as error:
            wait = min(_seconds(error.retry_after), MAX_RETRY_WAIT)
            log.warning("flood control: waiting before resending", extra={"attempt": attempt})
            await asyncio.sleep(wait)
        except (Forbidden, ChatMigrated) as error:
            # Blocked by the person, removed from a group, a group that became a
            # supergroup: Telegram's words name which (never anything a person wrote).
            log.warning("chat cannot be reached (%s): not sent", error.message)
            if cut_off is not None:
                cut_off(error)
            return False
        except TelegramServerError:
            # Telegram failed to carry the call out: send again after a pause. (A dropped
            # connection is not retried: the message may have arrived already.)
            if attempt + 1 < attempts:
                log.warning("telegram server error: sending again", extra={"attempt": attempt})
                await asyncio.sleep(SERVER_ERROR_PAUSE * 2**attempt)
        except BadRequest as error:
            log.error("sending failed: %s (%s)", type(error).__name__, error.message)
            if cut_off is not None and cuts_off(error):
                cut_off(error)
            return False
        except NetworkError as error:  # no answer in time, a dropped connection
            log.error("sending failed, may have arrived: %s", type(error).__name__)
            if uncertain is not None:
                uncertain()
            return False
        except TelegramError as error:
            log.error("sending failed: %s", type(error).__name__)
            return False
    log.error("sending failed after retries")
    return False


def _cancelled() -> bool:
    """Whether the running task is being cancelled (its request then had no answer)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _seconds(value: int | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def _quietly(call: object, what: str) -> None:
    try:
        await call  # type: ignore[misc]
    except BadRequest as error:
        # An old message or an already answered query: harmless, nothing to tell anyone.
        log.debug("%s: %s", what, type(error).__name__)
    except TelegramError as error:
        log.warning("%s failed: %s", what, type(error).__name__)
