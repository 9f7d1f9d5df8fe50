"""Alerts to the staff chat: a low rating, or a feedback whose author agreed to be
contacted (see flows.staff.StaffDesk.alert), posted in the background.

An alert is noted as due in the store together with its feedback (one transaction), and
no longer due once posted (or once it may have arrived: Telegram took it without saying
so). One a stop, a crash or Telegram's flood control kept from being posted is posted at
the next start and after every purge, as the consents in force then allow (found by
review: it was lost, and with it the only reference staff could answer by). Posted alerts
are noted for retraction (bot.retractions).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from telegram.constants import MessageLimit

from bot.render import send_to, split_text
from bot.staffchat import say_cut_off
from flows.answers import answered_in
from flows.replies import Reply
from storage.interface import (
    DecryptionFailed,
    FeedbackRecord,
    NewFeedback,
    StaffPost,
    StoreError,
    unconfirmed_message_id,
)

if TYPE_CHECKING:
    from telegram.ext import Application

    from bot.context import BotData

log = logging.getLogger("bot.alerts")

ALERTS_PER_PERSON = 3
"""Alerts about one person's feedback posted within ALERT_WINDOW at most: one account
giving feedback after feedback filled the staff chat past Telegram's limit for a group
(about 20 messages a minute), and other people's alerts were lost (found by review). Their
feedback is stored and summarised all the same."""
ALERT_WINDOW = timedelta(hours=1)
ALERT_ATTEMPTS = 6
"""Tries of an alert: flood control in the staff chat is waited out (each alert in turn),
not given up after three."""
NOTING_AT_STOP = 5.0
"""Seconds a stop waits for alerts posted to be noted (the store is open till then)."""
RESUMED_AT_ONCE = 500
"""Due alerts read at a time when they are made up for."""
WAITING = "alerts wait and are posted after the next purge or start, if still due"


class Alerts:
    """Posts the alerts (the service's feedback listener) and makes up for those due."""

    def __init__(
        self, application: Application[Any, Any, Any, Any, Any, Any], outbox: bool = True
    ) -> None:
        """Not `outbox` (`feedbackbot chat`, whose staff chat is a stand-in): alerts are
        posted there as they come, but none is noted as due, nor audited, and those due
        are left to the bot (found by review: a demo on the bot's data folder posted them
        to its stand-in and cleared them, and the real staff chat never got their
        references)."""
        self.application = application
        self.outbox = outbox
        self._in_turn = asyncio.Lock()  # one alert at a time: flood control holds all up
        self._recent: dict[str, deque[datetime]] = {}
        self._on_their_way: set[str] = set()  # feedback ids whose alert is being posted
        self._noting: set[asyncio.Task[Any]] = set()  # posted: being noted, not cancelled
        self._cut_short = 0  # alerts a stop kept from being posted
        # The staff chat took no message this round (the bot removed, a group that became
        # a supergroup): the other alerts wait for the next round without a call each
        # (found by review: up to 500 failing calls and 1,000 log lines every purge).
        self._chat_cut_off = False

    @property
    def _data(self) -> BotData:
        data: BotData = self.application.bot_data
        return data

    def due(self, feedback: NewFeedback) -> bool:
        """Whether the new feedback raises an alert (the service notes it as due)."""
        data = self._data
        if data.settings is None or data.staff is None or data.settings.staff_chat_id is None:
            return False
        return self.outbox and data.staff.raises_alert(feedback)

    async def __call__(self, pseudonym: str, record: FeedbackRecord, resumed: bool = False) -> None:
        """Post the alert about a feedback just stored (or, `resumed`, one still due), in
        the background."""
        data = self._data
        if data.settings is None or data.staff is None or data.settings.staff_chat_id is None:
            return
        if record.id in self._on_their_way:
            return
        outcome = data.staff.alert(
            data.settings.staff_language,
            record,
            posted_at=data.staff.clock(),
            reads=await self._language_of(pseudonym),
        )
        if outcome is None:  # would not be posted now (the threshold changed, say)
            await self._done(record.id)
            return
        # The limit holds back new alerts; one made up for is posted (review).
        slot = data.staff.clock()
        if not resumed and not self._allowed(pseudonym, slot):
            log.warning(
                "alert not posted: its author's alerts within the hour are %d already "
                "(the feedback is stored and summarised)",
                ALERTS_PER_PERSON,
            )
            await self._done(record.id)
            return
        self._on_their_way.add(record.id)
        # In the background: the customer's conversation never waits for staff.
        task = asyncio.create_task(
            self._post(pseudonym, record, outcome.replies, None if resumed else slot), name="alert"
        )
        data.background.add(task)  # a strong reference until it is done
        task.add_done_callback(data.background.discard)
        task.add_done_callback(lambda _: self._on_their_way.discard(record.id))
        task.add_done_callback(self._noting.discard)

    async def _post(
        self, pseudonym: str, record: FeedbackRecord, replies: Any, slot: datetime | None
    ) -> None:
        """Send the alert, then note it; `slot`: its place in its author's hourly limit,
        given back when it is not posted after all."""
        data = self._data
        assert data.settings is not None and data.staff is not None
        chat, staff, retractor = data.settings.staff_chat_id, data.staff, data.retractor
        thread = data.settings.staff_thread_id
        assert chat is not None
        sent = False
        maybe: list[bool] = []  # a part that may have arrived is audited as such
        messages: list[int] = []
        asking: list[bool] = []  # a request under way (its answer not in yet)
        changed: list[list[str]] = []  # the purposes in force, a consent withdrawn since

        async def wanted() -> bool:
            # Before every try (flood control may hold one for a minute): an alert about
            # feedback erased meanwhile, or no longer due (posted by a resume), is not
            # sent, nor one given with a consent withdrawn since (found by review).
            verdict = await self._verdict(pseudonym, record)
            asking[:] = [True] if verdict is True else []
            changed[:] = [verdict] if isinstance(verdict, list) else []
            return verdict is True

        def cut_off(error: Any) -> None:
            if not self._chat_cut_off:
                self._chat_cut_off = True
                say_cut_off(chat, error, WAITING, thread)

        async def send(replies: Any) -> bool:
            posted = False
            for reply in replies:
                posted = (
                    await send_to(
                        self.application.bot,
                        chat,
                        reply,
                        uncertain=lambda: maybe.append(True),
                        allowed=wanted,
                        sent=messages.append,
                        attempts=ALERT_ATTEMPTS,
                        answered=asking.clear,
                        cut_off=cut_off,
                        thread=thread,
                    )
                    or posted
                )
            return posted

        try:
            async with self._in_turn:
                if self._chat_cut_off:  # tried in the next round, still due
                    self._untried(pseudonym, slot)
                    return
                sent = await send(replies)
                if changed and not (messages or maybe):  # shown as the consents now allow
                    record = record.model_copy(update={"purposes": changed[0]})
                    now = staff.alert(data.settings.staff_language, record, posted_at=staff.clock())
                    if now is None:  # none would be posted now: no longer due
                        await self._done(record.id)
                    else:
                        sent = await send(now.replies)
                # A part out is posted: noted (a later part refused, e.g. the feedback
                # erased meanwhile, leaves it to be retracted), not posted again.
                sent = sent or bool(messages)
        except asyncio.CancelledError:  # a stop: what went out is noted all the same
            if not (messages or asking):
                self._cut_short += 1
                raise
            sent = bool(messages)
            if asking:  # cut short with its request under way: it may have arrived
                maybe.append(True)
        task = asyncio.current_task()
        if task is not None:  # a stop lets it finish (see `stop`)
            self._noting.add(task)
        if not (sent or maybe):
            self._untried(pseudonym, slot)
            if not self._chat_cut_off:  # said once for all
                log.info("alert not posted now: %s", WAITING)
            return
        await self._done(record.id)
        if not self.outbox:
            # The stand-in's chat is no staff chat: nobody was shown the feedback (found by
            # an operator walk-through: `chat --data-dir` on the bot's folder audited it).
            return
        try:
            await staff.alerted(record, certain=sent)
        except StoreError as error:
            log.error("alert not audited: %s", type(error).__name__)
        if retractor is None:
            return
        # Noted, so that erasure, withdrawal and expiry reach the copy in the chat.
        purpose, posted_at = staff.resting_on(record), staff.clock()
        posts = [
            StaffPost(
                chat_id=chat,
                message_id=m,
                feedback_id=record.id,
                posted_at=posted_at,
                purpose=purpose,
                given_with=tuple(record.purposes),
            )
            # A part that may have arrived without its id: noted too, so that its person
            # learns of it and erasure asks staff to delete it.
            for m in messages + ([unconfirmed_message_id()] if maybe else [])
        ]
        await retractor.posted(pseudonym, posts)

    async def post_in_turn(
        self,
        replies: Any,
        what: str,
        as_now: Callable[[], Awaitable[tuple[Any, ...]]] | None = None,
    ) -> tuple[Any, ...]:
        """Post `replies` (the digest) to the staff chat in turn with the alerts, as patient
        with flood control as they are; a part not posted keeps back the rest (found by
        review: three 429s during an alert burst dropped the digest's text and posted its
        chart alone). `as_now` gives the replies as they are to be posted once it is their
        turn. Those not posted (none: all were)."""
        data = self._data
        if data.settings is None or data.settings.staff_chat_id is None:
            return tuple(replies)
        chat, thread = data.settings.staff_chat_id, data.settings.staff_thread_id

        def cut_off(error: Any) -> None:
            say_cut_off(chat, error, f"{what} not posted", thread)

        # One message at a time, so that what is left is exactly what was not posted
        # (found by review: a digest's second part refused, its first part was posted
        # again with it at the next try).
        async with self._in_turn:
            if as_now is not None:
                replies = await as_now()
            parts = [part for reply in replies for part in _messages_of(reply)]
            for n, part in enumerate(parts):
                if not await send_to(
                    self.application.bot,
                    chat,
                    part,
                    attempts=ALERT_ATTEMPTS,
                    cut_off=cut_off,
                    thread=thread,
                ):
                    log.error("%s not posted", what)
                    return tuple(parts[n:])
        return ()

    async def stop(self, tasks: set[asyncio.Task[Any]], patience: float) -> None:
        """At a stop, while the connection is open: the alerts on their way get `patience`
        seconds; then those still waiting to be sent are cancelled (still due: posted at
        the next start), and those sent are noted, for a while (found by review: a stop
        cancelled an alert posted and being noted, which erasure could then not reach)."""
        _, waiting = await asyncio.wait(tasks, timeout=patience)
        for task in waiting - self._noting:
            task.cancel()
        if waiting:
            await asyncio.wait(waiting, timeout=NOTING_AT_STOP)
        if self._cut_short:
            log.warning(
                "alerts not posted: %d (the bot stopped while they waited for Telegram); "
                "posted at the next start",
                self._cut_short,
            )

    async def resume(self) -> int:
        """Post the alerts still due (a stop, a crash, Telegram down), as the person's
        consents in force now allow; how many were started."""
        data = self._data
        service = data.service
        if service is None or data.staff is None or data.settings is None or not self.outbox:
            return 0
        store, now = service.store, service.clock()
        self._chat_cut_off = False  # one try a round
        try:
            due = await store.alerts_due(RESUMED_AT_ONCE)
        except StoreError as error:
            log.error("alerts due not read: %s", type(error).__name__)
            return 0
        started = 0
        people: dict[str, tuple[dict[str, FeedbackRecord], set[str]]] = {}
        for pseudonym, feedback_id in due:
            if feedback_id in self._on_their_way:
                continue
            try:
                if pseudonym not in people:  # read once a person
                    readable, _ = await store.readable_feedback_of(pseudonym, now)
                    consents = await store.consents(pseudonym)
                    in_force = {c.purpose for c in consents if c.in_force}
                    people[pseudonym] = {r.id: r for r in readable}, in_force
            except (DecryptionFailed, StoreError) as error:
                log.error("alert due not read: %s", type(error).__name__)
                continue
            records, in_force = people[pseudonym]
            record = records.get(feedback_id)
            if record is None:  # gone meanwhile (expired, erased with a withdrawal)
                await self._done(feedback_id)
                continue
            purposes = [p for p in record.purposes if p in in_force]
            await self(pseudonym, record.model_copy(update={"purposes": purposes}), resumed=True)
            started += feedback_id in self._on_their_way
        if started:
            log.info("alerts still due: %d, posting them", started)
        return started

    async def _verdict(self, pseudonym: str, record: FeedbackRecord) -> bool | list[str]:
        """True: send the alert as it is; False: not at all (no longer due, its feedback
        gone, the store failing: tried again later if still due); else the purposes of the
        feedback still in force (a consent withdrawn since: shown as they allow)."""
        service = self._data.service
        if service is None:
            return False
        try:
            if self.outbox and not await service.store.alert_is_due(record.id):
                return False
            consents = await service.store.consents(pseudonym)
        except (DecryptionFailed, StoreError) as error:
            log.error("alert not checked before sending: %s", type(error).__name__)
            return False
        in_force = {c.purpose for c in consents if c.in_force}
        kept = [p for p in record.purposes if p in in_force]
        return True if len(kept) == len(record.purposes) else kept

    def _untried(self, pseudonym: str, slot: datetime | None) -> None:
        """An alert not posted after all does not count against its author's limit: its
        own place, not another's (review)."""
        times = self._recent.get(pseudonym)
        if times is not None and slot is not None and slot in times:
            times.remove(slot)

    def _allowed(self, pseudonym: str, now: datetime) -> bool:
        times = self._recent.setdefault(pseudonym, deque())
        while times and now - times[0] >= ALERT_WINDOW:
            times.popleft()
        if len(times) >= ALERTS_PER_PERSON:
            return False
        times.append(now)
        if len(self._recent) > 10_000:  # bounded: forget the oldest
            del self._recent[next(iter(self._recent))]
        return True

    async def _language_of(self, pseudonym: str) -> str | None:
        """The language an answer from staff reaches the person in (flows.answers), which
        the alert names (see StaffDesk.alert; found by a customer walk-through: staff were
        asked to answer in German someone who had chosen English); None where there is
        none, the alert posted without it."""
        service = self._data.service
        if service is None:
            return None
        return await answered_in(service.store, pseudonym, service.clock())

    async def _done(self, feedback_id: str) -> None:
        service = self._data.service
        if service is None or not self.outbox:
            return
        try:
            await service.store.alert_done(feedback_id)
        except StoreError as error:  # posted again later: a second copy, nothing lost
            log.error("alert not noted as posted: %s", type(error).__name__)


def _messages_of(reply: Reply) -> list[Reply]:
    """`reply` as the messages `send_to` sends: its text in parts Telegram takes (the
    buttons under the last), then its picture, then its file."""
    chunks = split_text(reply.text, MessageLimit.MAX_TEXT_LENGTH) if reply.text else []
    parts = [Reply(chunk) for chunk in chunks[:-1]]
    if chunks:
        parts.append(Reply(chunks[-1], buttons=reply.buttons))
    if reply.image is not None:
        parts.append(Reply("", image=reply.image))
    if reply.document is not None:
        parts.append(Reply("", document=reply.document))
    return parts
