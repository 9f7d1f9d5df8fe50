"""Posts in the staff chat about one feedback go with the feedback.

An alert quotes one person's ratings and (redacted) comment. When that feedback is erased,
the consent the alert rests on is withdrawn, or the feedback expires, the store marks the
post (storage.interface.StaffPost) and the bot replaces the message's text with a note
that the feedback was deleted: erasure reaches the copy staff were shown (Art. 17), and
the thread around it still reads sensibly. What cannot be done now (Telegram down, the
bot removed from the chat) stays marked and is tried again after every erasure,
withdrawal and purge, and at the next start.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Iterable
from typing import Any

from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot.requests import TelegramServerError
from flows.i18n import N_, translator
from storage.interface import StaffPost, StorageFull, Store, StoreError

log = logging.getLogger("bot.retractions")

RETRACTED = N_(
    "🗑 This feedback has been deleted: its author erased it or withdrew their consent, or its "
    "storage period ended. Please delete any notes or copies of it you made as well."
)
NOT_RECORDED = N_(
    "🗑 This alert was taken back: the bot could not note it (its storage is full), so it "
    "could not remove it later when the feedback is deleted."
)
BATCH = 100
ATTEMPTS = 3
MAX_WAIT = 60.0  # seconds of Telegram's flood control waited for in one round
SERVER_ERROR_PAUSE = 1.0  # seconds before trying again after a 5xx; doubles each time


class _Edit(enum.Enum):
    DONE = "done"  # replaced, or nothing left to replace
    CHAT_UNREACHABLE = "chat unreachable"  # this chat's posts wait for a later round
    LATER = "later"  # Telegram cannot take it now: the round ends


class Retractor:
    """Replaces the text of staff-chat posts whose feedback is gone (see module)."""

    def __init__(self, bot: Bot, store: Store, locale: str) -> None:
        self.bot = bot
        self.store = store
        self.locale = locale
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()

    async def posted(self, pseudonym: str, posts: Iterable[StaffPost]) -> None:
        """Note the messages of an alert just posted. One whose feedback went meanwhile is
        retracted at once; one that cannot be noted for want of space too, as erasure
        could not reach it later."""
        retract = False
        for post in posts:
            try:
                retract = not await self.store.record_staff_post(pseudonym, post) or retract
            except StorageFull:
                log.error("alert not noted (storage full): taken back")
                await self._edit(post.chat_id, post.message_id, NOT_RECORDED)  # or left
            except StoreError as error:  # e.g. the store closed at shutdown meanwhile
                log.error("alert not noted: %s", type(error).__name__)
        if retract:
            self.soon()

    def soon(self) -> None:
        """Retract what is marked, in the background (the person's answer never waits)."""
        task = asyncio.create_task(self.run(), name="retract")
        self._tasks.add(task)  # a strong reference until it is done
        task.add_done_callback(self._tasks.discard)

    def stop(self) -> None:
        """Cancel the rounds under way (at shutdown, when Telegram can no longer be
        reached): what they did not finish stays marked, for the next start."""
        for task in self._tasks:
            task.cancel()

    async def wait(self) -> None:
        """Until the retractions started so far are done (or cancelled)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def run(self) -> int:
        """Retract every marked post that can be now; how many were. A round stops at the
        first post Telegram cannot take now (the rest waits for the next one); a chat the
        bot cannot reach (removed from it) is left out of the round, not the others (an
        old staff chat must not hold up the new one)."""
        done = 0
        unreachable: set[int] = set()
        async with self._lock:
            while True:
                try:
                    batch = await self.store.posts_to_retract(BATCH, skip=unreachable)
                except StoreError as error:
                    log.error("posts to retract not read: %s", type(error).__name__)
                    return done
                for chat_id, message_id in batch:
                    if chat_id in unreachable:
                        continue
                    outcome = await self._edit(chat_id, message_id, RETRACTED)
                    if outcome is _Edit.CHAT_UNREACHABLE:
                        unreachable.add(chat_id)
                        continue
                    if outcome is _Edit.LATER:
                        log.warning("staff-chat posts left to retract: tried again later")
                        return done
                    try:
                        await self.store.post_retracted(chat_id, message_id)
                    except StoreError as error:  # edited again next time: harmless
                        log.error("retraction not noted: %s", type(error).__name__)
                        return done
                    done += 1
                if len(batch) < BATCH:
                    break
        if done:
            log.info("staff-chat posts retracted: %d", done)
        return done

    async def _edit(self, chat_id: int, message_id: int, template: str) -> _Edit:
        """Replace the post's text."""
        text = translator(self.locale).gettext(template)
        for attempt in range(ATTEMPTS):
            try:
                await self.bot.edit_message_text(text, chat_id=chat_id, message_id=message_id)
                return _Edit.DONE
            except RetryAfter as error:
                wait = error.retry_after
                seconds = wait if isinstance(wait, int) else wait.total_seconds()
                await asyncio.sleep(min(float(seconds), MAX_WAIT))
            except TelegramServerError:
                if attempt + 1 < ATTEMPTS:
                    await asyncio.sleep(SERVER_ERROR_PAUSE * 2**attempt)
            except (Forbidden, ChatMigrated):
                # Removed from the chat, or a group upgraded to a supergroup (whose id the
                # settings need): tried again in later rounds.
                log.warning("a staff chat with alerts to retract is not reachable")
                return _Edit.CHAT_UNREACHABLE
            except BadRequest as error:
                if "chat not found" in error.message.lower():
                    log.warning("a staff chat with alerts to retract is not found")
                    return _Edit.CHAT_UNREACHABLE
                # Already replaced (a backup restored and the erasure carried out again),
                # deleted in the chat, or too old to change: nothing more to do.
                log.info("post not changed: %s", error.message)
                return _Edit.DONE
            except (NetworkError, TelegramError) as error:
                log.warning("retraction failed: %s", type(error).__name__)
                return _Edit.LATER
        return _Edit.LATER
