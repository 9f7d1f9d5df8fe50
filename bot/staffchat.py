"""The staff chat as Telegram may take it away: the bot removed from it, its id mistyped,
no right to write there, or the group upgraded to a supergroup, which gives it a new id
(Telegram does so when someone turns on topics or makes the history visible, say). Said
to the operator in one line naming what to do; found by review: the log said "person
cannot be reached (bot blocked)" and sent the operator looking for a customer, and the
new id was thrown away.
"""

from __future__ import annotations

import logging

from telegram.error import ChatMigrated, TelegramError

from bot.logs import GroupChat

log = logging.getLogger("bot.staffchat")


def say_cut_off(
    chat_id: int, error: TelegramError, meanwhile: str, thread: int | None = None
) -> None:
    """Log that the staff chat `chat_id` (its topic `thread`, None: General) takes no
    messages (see bot.render.cuts_off), what to do, and `meanwhile`: what happens until
    then."""
    if isinstance(error, ChatMigrated):
        say_moved(chat_id, error.new_chat_id, meanwhile)
        return
    topical = any(word in error.message.lower() for word in ("thread", "topic"))
    if topical and thread is None:  # (review: blamed on a setting nobody had set)
        log.error(
            "the General topic of the staff chat %s takes no messages from the bot (%s): "
            "open it again, or set FEEDBACKBOT_STAFF_THREAD_ID to a topic that is open; %s",
            GroupChat(chat_id),
            error.message,
            meanwhile,
        )
        return
    if topical:
        log.error(
            "the topic FEEDBACKBOT_STAFF_THREAD_ID names in the staff chat %s takes no messages "
            "from the bot (%s): open the topic again, or correct or unset "
            "FEEDBACKBOT_STAFF_THREAD_ID; %s",
            GroupChat(chat_id),
            error.message,
            meanwhile,
        )
        return
    log.error(
        "the staff chat %s takes no messages from the bot (%s): add the bot to it again, "
        "let it write there, or correct FEEDBACKBOT_STAFF_CHAT_ID; %s",
        GroupChat(chat_id),
        error.message,
        meanwhile,
    )


def say_moved(old: int, new: int, meanwhile: str) -> None:
    """Log that the staff chat `old` became the supergroup `new` (Telegram's answer to a
    message sent there, or its service message in either chat)."""
    log.error(
        "the staff chat %s became a supergroup, whose id is %s: set "
        "FEEDBACKBOT_STAFF_CHAT_ID=%s and restart the bot; %s",
        GroupChat(old),
        GroupChat(new),
        GroupChat(new),
        meanwhile,
    )
