"""Posts in the staff chat about one feedback go with the feedback.

An alert quotes one person's ratings and (redacted) comment. When that feedback is erased,
the consent the alert rests on is withdrawn, or the feedback expires, the store marks the
post (storage.interface.StaffPost) and the bot replaces the message's text with a note
that the alert was withdrawn: erasure reaches the copy staff were shown (Art. 17), and
the thread around it still reads sensibly. A withdrawal of the consent to be contacted
marks the person's other alerts to be shown again as the consents now allow (without the
reference to answer by). What cannot be done now (Telegram down, the bot removed from the
chat) stays marked and is tried again after every erasure, withdrawal and purge, and at
the next start.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from typing import Any

from telegram import Bot
from telegram.constants import MessageLimit
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.logs import GroupChat
from bot.render import split_text
from bot.requests import TelegramServerError
from flows.i18n import N_, translator
from flows.service import utc_now
from storage.interface import (
    DecryptionFailed,
    FeedbackRecord,
    Noted,
    StaffPost,
    StorageFull,
    Store,
    StoreError,
)

log = logging.getLogger("bot.retractions")

RETRACTED = N_(
    "🗑 This alert has been withdrawn: its feedback was erased or has expired, or its author "
    "withdrew the consent it was posted under. Please delete any notes or copies of it you "
    "made as well."
)
NOT_RECORDED = N_(
    "🗑 This alert was taken back: the bot could not note it (its storage is full), so it "
    "could not remove it later when the feedback is deleted."
)
UNCONFIRMED_RETRACTED = N_(
    "🗑 An alert posted here on {when} has been withdrawn: its feedback was erased or has "
    "expired, or its author withdrew the consent it was posted under. Telegram did not "
    "confirm that alert, so the bot cannot replace it: if it is in this chat, please delete "
    "it by hand, and any notes or copies of it you made as well."
)
BATCH = 100
REDRAW_BATCH = 500  # alerts shown again at most per round
ATTEMPTS = 3
MAX_WAIT = 60.0  # seconds of Telegram's flood control waited for; longer: a later round
SERVER_ERROR_PAUSE = 1.0  # seconds before trying again after a 5xx; doubles each time
_GONE = ("message to edit not found", "message is not modified", "message_id_invalid")
"""What Telegram says of a post that is gone or already replaced (a backup restored and an
erasure carried out again): nothing left to do."""


class _Edit(enum.Enum):
    DONE = "done"  # replaced, or nothing left to replace
    SKIPPED = "skipped"  # this post refused: kept for a later round, the others go on
    CHAT_UNREACHABLE = "chat unreachable"  # this chat's posts wait for a later round
    LATER = "later"  # Telegram cannot take anything now: the round ends


class Retractor:
    """Replaces the text of staff-chat posts whose feedback is gone (see module)."""

    def __init__(
        self,
        bot: Bot,
        store: Store,
        locale: str,
        render: Callable[[FeedbackRecord, datetime], str | None] = lambda record, at: None,
        clock: Callable[[], datetime] = utc_now,
        timezone: str = "Europe/Berlin",
        thread: int | None = None,
    ) -> None:
        self.bot = bot
        self.thread = thread
        """The forum topic of the staff chat that alerts go to (FEEDBACKBOT_STAFF_THREAD_ID)."""
        self.store = store
        self.locale = locale
        self.clock = clock
        self.timezone = timezone
        """Of the time that names an alert Telegram did not confirm (UNCONFIRMED_RETRACTED)."""
        self.render = render
        """The text of an alert about a feedback (None: there would be none)."""
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()

    async def posted(self, pseudonym: str, posts: list[StaffPost]) -> None:
        """Note the messages of an alert just posted (`given_with` set). One whose
        feedback went meanwhile is retracted at once, one whose person withdrew a consent
        it was given with while it was on its way is shown again (both noted in the store
        first, so that a failure or a stop is made up for later); one that cannot be noted
        for want of space is taken back, as erasure could not reach it later."""
        due = False
        for post in posts:
            try:
                due = await self.store.record_staff_post(pseudonym, post) != Noted.NOTED or due
            except StoreError as error:
                if not post.confirmed:  # nothing to replace or point to but the time
                    log.error(
                        "an alert Telegram did not confirm was not noted (%s): if it arrived, "
                        "delete it by hand once its feedback is gone",
                        type(error).__name__,
                    )
                elif not isinstance(error, StorageFull):  # e.g. the store closed meanwhile
                    log.error(  # the staff chat's id, which the operator needs, kept
                        "alert not noted (%s): delete message %d in chat %s by hand once its "
                        "feedback is gone",
                        type(error).__name__,
                        post.message_id,
                        GroupChat(post.chat_id),
                    )
                elif await self._edit(post.chat_id, post.message_id, NOT_RECORDED) is _Edit.DONE:
                    log.error("alert not noted (storage full): taken back")
                else:
                    log.error(
                        "alert not noted, not taken back: delete %d in chat %s",
                        post.message_id,
                        GroupChat(post.chat_id),
                    )
        if due:  # else nothing to do: no round, no Telegram call
            self.soon()

    def soon(self) -> None:
        """Retract what is marked, in the background (the person's answer never waits)."""
        self._background(self.run())

    def _background(self, work: Coroutine[Any, Any, object]) -> None:
        task = asyncio.create_task(work, name="retract")
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
        """Retract every marked post that can be now, then show again those whose
        person withdrew a consent since; how many were retracted. A round ends when
        Telegram cannot take anything now (down, flood control); a chat the bot cannot
        reach (removed from it) is left out of the round, and a post Telegram refuses is
        passed over: each is visited once a round, and none holds up the others (found by
        review: a hundred of them in an old staff chat did)."""
        async with self._lock:
            done, passed_over, unreachable = await self._retract()
            if done is not None:
                redrawn_over, also = await self._redraw()
                passed_over, unreachable = passed_over + redrawn_over, unreachable | also
            if passed_over or unreachable:
                log.warning(
                    "staff-chat alerts not replaced or shown again: %d refused, chats not "
                    "reachable: %s; tried again after the next erasure, withdrawal, purge "
                    "or start",
                    passed_over,
                    ", ".join(str(chat) for chat in sorted(unreachable)) or "none",
                )
        if done:
            log.info("staff-chat posts retracted: %d", done)
        return done or 0

    async def _retract(self) -> tuple[int | None, int, set[int]]:
        """Retracted (None: the round ended early), passed over, chats not reachable."""
        done, passed_over = 0, 0
        unreachable: set[int] = set()
        after: tuple[int, int] | None = None
        while True:
            try:
                batch = await self.store.posts_to_retract(BATCH, skip=unreachable, after=after)
            except StoreError as error:
                log.error("posts to retract not read: %s", type(error).__name__)
                return None, passed_over, unreachable
            for chat_id, message_id in batch:
                after = (chat_id, message_id)
                if chat_id in unreachable:
                    continue
                outcome = await self._take_back(chat_id, message_id)
                if outcome is _Edit.CHAT_UNREACHABLE:
                    unreachable.add(chat_id)
                    continue
                if outcome is _Edit.SKIPPED:
                    passed_over += 1
                    continue
                if outcome is _Edit.LATER:
                    log.warning("staff-chat posts left to retract: tried again later")
                    return None, passed_over, unreachable
                try:
                    await self.store.post_retracted(chat_id, message_id)
                except StoreError as error:  # edited again next time: harmless
                    log.error("retraction not noted: %s", type(error).__name__)
                    return None, passed_over, unreachable
                done += 1
            if len(batch) < BATCH:
                return done, passed_over, unreachable

    async def _redraw(self) -> tuple[int, set[int]]:
        """Show again, as the consents now in force allow, the alerts of people who
        withdrew the consent to be contacted (a low-rating alert stays, without the
        reference to answer by and the answers given for it). Noted in the store, so that
        a failure or a stop is made up for in a later round (found by review); each
        alert is visited once a round."""
        after: tuple[int, int] | None = None
        seen: set[tuple[str, str, int]] = set()
        unreachable: set[int] = set()
        passed_over = 0
        while True:
            try:
                batch = await self.store.posts_to_redraw(REDRAW_BATCH, after=after)
            except StoreError as error:
                log.error("posts to redraw not read: %s", type(error).__name__)
                return passed_over, unreachable
            for pseudonym, post in batch:
                after = (post.chat_id, post.message_id)
                alert = (pseudonym, post.feedback_id, post.chat_id)
                if alert in seen:
                    continue
                seen.add(alert)
                try:
                    parts = [  # the alert's messages in this chat
                        p
                        for p in await self.store.staff_posts_of(pseudonym)
                        if (p.feedback_id, p.chat_id) == (post.feedback_id, post.chat_id)
                    ]
                    # dated as it was posted: a late alert keeps its line saying so (found
                    # in an earlier review: it read as fresh once shown again)
                    posted_at = min(p.posted_at for p in parts) if parts else post.posted_at
                    text, changed = await self._now_shown(pseudonym, post.feedback_id, posted_at)
                    if not changed:  # given without the consent withdrawn: as it was
                        for part in parts:
                            await self.store.post_redrawn(part.chat_id, part.message_id)
                        continue
                except StoreError as error:
                    log.error("alert not redrawn: %s", type(error).__name__)
                    continue
                if post.chat_id in unreachable:
                    continue
                outcome = await self._show_again(pseudonym, parts, text)
                if outcome is _Edit.LATER:
                    return passed_over, unreachable
                if outcome is _Edit.CHAT_UNREACHABLE:
                    unreachable.add(post.chat_id)
                elif outcome is _Edit.SKIPPED:
                    passed_over += 1
            if len(batch) < REDRAW_BATCH:
                return passed_over, unreachable

    async def _show_again(self, pseudonym: str, parts: list[StaffPost], text: str | None) -> _Edit:
        """Replace an alert's messages with `text` (None: with the note that it was
        withdrawn, as one that would not be posted now); a part it no longer needs goes.
        The flags go once every part is done."""
        # One Telegram did not confirm cannot be changed: staff are asked to delete it.
        unconfirmed = [part for part in parts if not part.confirmed]
        parts = sorted((part for part in parts if part.confirmed), key=lambda p: p.message_id)
        if text is None:  # e.g. the threshold lowered since: taken back rather than kept
            log.info("an alert that would not be posted now is taken back")
        for part in unconfirmed + (parts if text is None else []):
            outcome = await self._take_back(part.chat_id, part.message_id)
            if outcome is not _Edit.DONE:
                return outcome
            try:
                await self.store.post_retracted(part.chat_id, part.message_id)
            except StoreError as error:  # retracted again next time: harmless
                log.error("retraction not noted: %s", type(error).__name__)
        if text is None:
            return _Edit.DONE
        chunks = split_text(text, MessageLimit.MAX_TEXT_LENGTH)
        if len(chunks) > len(parts):  # longer than posted: not shown in part
            return await self._show_again(pseudonym, parts, None)
        for index, part in enumerate(parts):
            if index < len(chunks):
                outcome = await self._replace(part.chat_id, part.message_id, chunks[index])
            else:  # the reference alone, say
                outcome = await self._delete(part.chat_id, part.message_id)
                if outcome is _Edit.SKIPPED:
                    outcome = await self._replace(part.chat_id, part.message_id, "🗑")
            if outcome is not _Edit.DONE:
                return outcome
        try:
            for part in parts:
                await self.store.post_redrawn(part.chat_id, part.message_id)
        except StoreError as error:  # shown again next round: harmless
            log.error("redraw not noted: %s", type(error).__name__)
        return _Edit.DONE

    async def _now_shown(
        self, pseudonym: str, feedback_id: str, posted_at: datetime
    ) -> tuple[str | None, bool]:
        """The alert about the feedback as the person's consents in force now allow (None:
        none would be posted, or whether one would cannot be told), and whether that is
        other than as it was given (a consent it was given with withdrawn since)."""
        records, _ = await self.store.readable_feedback_of(pseudonym, self.clock())
        record = next((r for r in records if r.id == feedback_id), None)
        if record is None:
            return None, True  # unreadable, or gone meanwhile
        try:
            consents = await self.store.consents(pseudonym)
        except DecryptionFailed:
            return None, True
        in_force = {c.purpose for c in consents if c.in_force}
        purposes = [p for p in record.purposes if p in in_force]
        shown = self.render(record.model_copy(update={"purposes": purposes}), posted_at)
        return shown, purposes != record.purposes

    async def _take_back(self, chat_id: int, message_id: int) -> _Edit:
        """Replace the post's text with the note that it was withdrawn; of one Telegram
        did not confirm (no id to replace), post a note naming its time instead."""
        if message_id > 0:
            return await self._edit(chat_id, message_id, RETRACTED)
        try:
            posted_at = await self.store.posted_at(chat_id, message_id)
        except StoreError as error:
            log.error("alert to take back not read: %s", type(error).__name__)
            return _Edit.LATER
        if posted_at is None:  # taken back meanwhile
            return _Edit.DONE
        t = translator(self.locale)
        note = t.gettext(UNCONFIRMED_RETRACTED).format(when=t.datetime(posted_at, self.timezone))

        async def post_note() -> None:
            try:
                try:
                    await self.bot.send_message(chat_id, note, message_thread_id=self.thread)
                except ChatMigrated as moved:  # the group's history, the alert perhaps in it,
                    # is the supergroup's now: the note goes there (review)
                    await self.bot.send_message(moved.new_chat_id, note)
            except TimedOut:  # it may have arrived: not posted again every round (review)
                log.info("note on an unconfirmed alert may have arrived; not sent again")

        return await self._attempt(chat_id, message_id, post_note)

    async def _edit(self, chat_id: int, message_id: int, template: str) -> _Edit:
        """Replace the post's text with one of the bot's notes (`template`)."""
        return await self._replace(chat_id, message_id, translator(self.locale).gettext(template))

    async def _replace(self, chat_id: int, message_id: int, text: str) -> _Edit:
        """Replace the post's text."""
        return await self._attempt(
            chat_id,
            message_id,
            lambda: self.bot.edit_message_text(text, chat_id=chat_id, message_id=message_id),
        )

    async def _attempt(
        self, chat_id: int, message_id: int, call: Callable[[], Awaitable[object]]
    ) -> _Edit:
        """Make the call about the post, waiting out flood control and Telegram's own
        failures a few times."""
        for attempt in range(ATTEMPTS):
            last = attempt + 1 == ATTEMPTS
            try:
                await call()
                return _Edit.DONE
            except RetryAfter as error:
                wait = error.retry_after
                seconds = float(wait if isinstance(wait, int) else wait.total_seconds())
                if last or seconds > MAX_WAIT:  # never before Telegram allows it
                    log.warning("flood control: retractions wait for a later round")
                    return _Edit.LATER
                await asyncio.sleep(seconds)
            except TelegramServerError:
                if last:
                    return _Edit.LATER
                await asyncio.sleep(SERVER_ERROR_PAUSE * 2**attempt)
            except (Forbidden, ChatMigrated):
                # Removed from the chat, or a group upgraded to a supergroup (whose id the
                # settings need): tried again in later rounds.
                log.info("staff chat %d not reachable: its alerts wait to be replaced", chat_id)
                return _Edit.CHAT_UNREACHABLE
            except BadRequest as error:
                said = error.message.lower()
                if any(gone in said for gone in _GONE):
                    return _Edit.DONE
                if "chat not found" in said:
                    log.info("staff chat %d not found: its alerts wait to be replaced", chat_id)
                    return _Edit.CHAT_UNREACHABLE
                if "can't be edited" in said:
                    return await self._delete(chat_id, message_id)
                log.info(  # the round's warning counts them
                    "alert %d in chat %d not replaced (%s): tried again later",
                    message_id,
                    chat_id,
                    error.message,
                )
                return _Edit.SKIPPED
            except (NetworkError, TelegramError) as error:
                log.warning("retraction failed: %s", type(error).__name__)
                return _Edit.LATER
        return _Edit.LATER

    async def _delete(self, chat_id: int, message_id: int) -> _Edit:
        """A post whose text cannot be changed goes whole, where Telegram lets the bot."""
        try:
            await self.bot.delete_message(chat_id, message_id)
            return _Edit.DONE
        except (Forbidden, ChatMigrated):
            return _Edit.CHAT_UNREACHABLE
        except BadRequest as error:
            if "not found" in error.message.lower():
                return _Edit.DONE
            log.info(  # the round's warning counts them
                "alert %d in chat %s can neither be replaced nor deleted by the bot (%s): "
                "delete it by hand",
                message_id,
                GroupChat(chat_id),
                error.message,
            )
            return _Edit.SKIPPED
        except TelegramError as error:
            log.warning("alert not deleted: %s", type(error).__name__)
            return _Edit.LATER
