"""Delivers feedback and deletion notices to configured recipients over HTTPS.

Runs in background tasks with retries and backoff, so a customer never waits for a
recipient; every attempt's outcome (not its content) goes to the audit trail.

A feedback delivery is recorded as pending before its first attempt and settled after
its last. So an erasure or withdrawal while it is on its way stops it and tells that
recipient too (once the attempt under way has ended, by its deadline at the latest), and
a restart sends it again. Only the status of an answer counts: its body is never read.
Deletion notices are kept in the store until sent, likewise resumed after a restart;
retries go on for about a day, so a recipient down for a while misses nothing.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, NamedTuple

import httpx

from flows.catalog import FlowCatalog
from flows.sharing import (
    CERTIFICATE_NOT_TRUSTED,
    CONNECTION_REFUSED,
    DELIVERED,
    FAILED,
    GAVE_UP,
    GAVE_UP_MAY_HAVE_ARRIVED,
    HOST_NOT_FOUND,
    INVALID_URL,
    NO_LONGER_CONFIGURED,
    NOT_SENT,
    SIGNATURE_HEADER,
    STOPPED,
    TIMED_OUT,
    TIMESTAMP_HEADER,
    Recipient,
    deletion_payload,
    encode,
    feedback_payload,
    sign,
)
from storage.interface import (
    AuditEntry,
    DeletionNotice,
    Delivery,
    FeedbackRecord,
    NewFeedback,
    Store,
    StoreError,
)

log = logging.getLogger("bot.webhooks")

Result = Literal["delivered", "unconfirmed", "failed"]

# Failures that can come after the request went out: the recipient may have stored it.
# (A refused connection, or one never made, cannot have delivered anything.)
_AFTER_SENDING = (
    httpx.ReadTimeout,
    httpx.ReadError,
    httpx.WriteTimeout,
    httpx.WriteError,
    httpx.RemoteProtocolError,
)

# Seconds between attempts: quick at first, then for about a day in all.
RETRY_DELAYS = (1.0, 4.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 3 * 3600.0, 6 * 3600.0, 12 * 3600.0)


class _Attempt(NamedTuple):
    """One attempt to post."""

    outcome: str
    """For the audit trail: DELIVERED, or FAILED and why."""
    may_have_arrived: bool = False
    """The recipient may have received the body although it did not say so."""
    worth_retrying: bool = True


@dataclass
class _Outgoing:
    """A feedback on its way to one recipient."""

    pseudonym: str
    recipient: Recipient
    feedback_id: str
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[Any] | None = None


class WebhookSender:
    def __init__(
        self,
        store: Store,
        catalog: FlowCatalog,
        recipients: Sequence[Recipient],
        locale: str,
        clock: Callable[[], datetime],
        retry_delays: Sequence[float] | None = None,
        timeout: float = 10.0,
        deadline: float = 30.0,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.recipients = {r.id: r for r in recipients}
        self.locale = locale
        self.clock = clock
        self.retry_delays = tuple(RETRY_DELAYS if retry_delays is None else retry_delays)
        self.timeout = timeout  # for each step: connecting, sending, each read
        # For a whole attempt: an answer that trickles in resets `timeout` with every byte,
        # and a deletion notice waits for the attempt under way.
        self.deadline = deadline
        self.tasks: set[asyncio.Task[Any]] = set()
        self._notifying: set[int] = set()  # kept notices being sent (by their number)
        self._failing: set[str] = set()  # recipients whose last attempt failed (logged)
        self._outgoing: dict[tuple[str, str], _Outgoing] = {}  # (recipient, feedback id)
        # One client for all attempts: building one loads the CA certificates on the event
        # loop (40-85 ms), which with a backlog after a restart kept customers waiting.
        self._client: httpx.AsyncClient | None = None

    # --- listeners: called by the flows, return at once -----------------------------------
    def recipients_of(self, feedback: NewFeedback) -> list[tuple[str, str]]:
        """Who a new feedback goes to, and under which consent (the recipient's purpose, ''
        for an internal one); the store records these deliveries as pending together with
        the feedback."""
        return [
            (r.id, r.purpose or "")
            for r in self.recipients.values()
            if r.receives(feedback, self.catalog)
        ]

    async def on_feedback(self, pseudonym: str, record: FeedbackRecord) -> None:
        for recipient_id, _ in self.recipients_of(record):
            self._send(pseudonym, self.recipients[recipient_id], record)

    async def on_removal(
        self,
        deliveries: list[Delivery],
        reason: Literal["erasure", "withdrawal"],
        purpose: str | None,
    ) -> None:
        """Tell every recipient that received the person's data to delete it.

        On withdrawal of a recipient's own purpose only that recipient is told; on
        erasure or withdrawal of the feedback purpose, all of them are. A delivery still
        on its way is stopped (and no longer pending: a restart must not send it again),
        and its recipient told after the attempt under way. Nothing here may keep the
        erasure or withdrawal from going through: a notice the store cannot keep (full
        disk) is sent all the same.
        """
        by_recipient: dict[str, list[str]] = {}
        stopped: list[_Outgoing] = []
        unreachable: dict[str, list[str]] = {}  # recipients no longer configured
        unsure: dict[str, list[str]] = {}  # ... that may not have served the purpose
        declared = {p.id for flow in self.catalog.flows.values() for p in flow.purposes}
        sharing = {
            p.id for flow in self.catalog.flows.values() for p in flow.purposes if p.shares_feedback
        }
        for delivery in deliveries:
            recipient = self.recipients.get(delivery.recipient)
            # The consent it was passed on under, as recorded; for a delivery made before
            # that was (data schema v17), the recipient's purpose now, where it has one.
            under = delivery.purpose
            if under is None and recipient is not None:
                under = recipient.purpose or ""
            if reason == "withdrawal" and purpose is not None and under not in (None, purpose):
                continue  # passed on under another consent, still in force
            if recipient is None:
                # It may hold the feedback all the same: no notice can go to it, so the
                # audit trail names what to ask it to delete by hand. Whether a withdrawn
                # purpose was its own cannot be told of a delivery made before the purpose
                # was recorded: one that no flow declares any more went with a recipient
                # removed, as the README has it; one still passing feedback on may have
                # been its own, under another id or partner now (found by review: it was
                # skipped, leaving no trace).
                if delivery.pending:
                    continue
                if (
                    under is not None
                    or reason == "erasure"
                    or purpose is None
                    or purpose not in declared
                ):
                    unreachable.setdefault(delivery.recipient, []).append(delivery.feedback_id)
                elif purpose in sharing:
                    unsure.setdefault(delivery.recipient, []).append(delivery.feedback_id)
                continue
            by_recipient.setdefault(recipient.id, []).append(delivery.feedback_id)
            outgoing = self._outgoing.get((recipient.id, delivery.feedback_id))
            if outgoing is not None and outgoing.task is not None:
                outgoing.stop.set()
                stopped.append(outgoing)
        # The notices are kept before the deliveries they stop are settled: a crash in
        # between must leave the notice (a restart sends it and skips the delivery).
        notices: list[tuple[int | None, DeletionNotice]] = []
        for recipient_id, feedback_ids in by_recipient.items():
            notice = DeletionNotice(
                recipient=recipient_id,
                reason=reason,
                feedback_ids=feedback_ids,
                queued_at=self.clock(),
            )
            try:
                kept = await self.store.queue_notice(notice)
                # Taken at once: the purge's send_kept_notices must not send it before
                # the deliveries it stops are through (found by review).
                self._notifying.add(kept)
                notices.append((kept, notice))
            except StoreError as error:
                notices.append((None, notice))
                log.error("deletion notice not kept (%s); sending it now", type(error).__name__)
        for outgoing in stopped:
            # Stopped: whatever reached the recipient, the notice asks it to delete.
            await self._settle(outgoing, "failed")
        for number, notice in notices:
            under_way = [o.task for o in stopped if o.recipient.id == notice.recipient and o.task]
            self._spawn_notice(number, notice, under_way, taken=True)
        for recipient_id, feedback_ids in unreachable.items():
            log.error(
                "deletion notice for recipient %s, no longer configured; see the audit trail",
                recipient_id,
            )
            await self._audit_gave_up(recipient_id, feedback_ids)
        for recipient_id, feedback_ids in unsure.items():
            log.warning(
                "recipient %s is no longer configured: it may have received feedback under "
                "a consent withdrawn now; see the audit trail",
                recipient_id,
            )
            await self._audit_gave_up(recipient_id, feedback_ids, NO_LONGER_CONFIGURED)

    async def resume(self) -> None:
        """Send what was on its way when the bot last stopped (at start): deliveries
        whose feedback may still go there, and the deletion notices kept."""
        notices = await self.store.pending_notices()
        pending = await self.store.pending_deliveries()
        addressed = {n.recipient for _, n in notices} | {d.recipient for _, d in pending}
        gone = sorted(addressed - self.recipients.keys())
        if gone:  # (recipient ids are the operator's configuration, no personal data)
            log.warning(
                "recipients no longer in the recipients file have deliveries or deletion "
                "notices on their way: %s; those deliveries are not sent, the notices go to "
                "the audit trail to be asked for by hand (rename a recipient back if it was "
                "renamed)",
                ", ".join(gone),
            )
        holding = sorted(await self.store.recipients_holding() - self.recipients.keys() - set(gone))
        if holding:
            log.warning(
                "recipients no longer in the recipients file hold feedback passed on to them: "
                "%s; an erasure or withdrawal cannot ask them to delete it, the audit trail "
                "names what to ask for by hand (rename a recipient back if it was renamed)",
                ", ".join(holding),
            )
        asked_to_delete = {(n.recipient, f) for _, n in notices for f in n.feedback_ids}
        now = self.clock()
        people: dict[str, tuple[dict[str, FeedbackRecord], set[str]]] = {}
        for pseudonym, delivery in pending:
            if pseudonym not in people:  # read once a person, whatever they have pending
                records = {r.id: r for r in await self.store.feedback_of(pseudonym, now)}
                consents = await self.store.consents(pseudonym)
                people[pseudonym] = records, {c.purpose for c in consents if c.in_force}
            records, in_force = people[pseudonym]
            recipient = self.recipients.get(delivery.recipient)
            record = records.get(delivery.feedback_id)
            if (
                recipient is None  # removed from the configuration
                or record is None  # expired
                or (recipient.id, record.id) in asked_to_delete
                or not recipient.receives(record, self.catalog)
                # ... and may still, by the consents in force now (none withdrawn since):
                or not recipient.receives(
                    record.model_copy(update={"purposes": sorted(in_force)}), self.catalog
                )
            ):
                await self.store.settle_delivery(
                    pseudonym, delivery.recipient, delivery.feedback_id, None
                )
                continue
            self._send(pseudonym, recipient, record)
        for number, notice in notices:
            self._spawn_notice(number, notice, [])

    async def send_kept_notices(self) -> None:
        """Send the deletion notices kept in the store that are not on their way yet: the
        purge keeps one when feedback expires before the date its recipients were told
        (a shortened retention)."""
        for number, notice in await self.store.pending_notices():
            self._spawn_notice(number, notice, [])

    def _spawn_notice(
        self,
        number: int | None,
        notice: DeletionNotice,
        under_way: list[asyncio.Task[Any]],
        taken: bool = False,
    ) -> None:
        """Send a notice in the background, once: a kept one (`number`) already on its
        way, or `taken` by the caller for it, is not sent again."""
        if number is not None and not taken:
            if number in self._notifying:
                return
            self._notifying.add(number)
        task = self._spawn(self._notify(number, notice, under_way))
        if number is not None:
            task.add_done_callback(lambda _: self._notifying.discard(number))

    async def close(self) -> None:
        """Stop at shutdown: what has not arrived is in the store, resumed at the next start."""
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*list(self.tasks), return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def drain(self) -> None:
        """Wait for deliveries in flight (at shutdown, and in tests)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    # --- delivery ---------------------------------------------------------------------------
    def _spawn(self, coroutine: Any) -> asyncio.Task[Any]:
        task = asyncio.create_task(coroutine, name="webhook")
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    def _send(self, pseudonym: str, recipient: Recipient, record: FeedbackRecord) -> None:
        payload = feedback_payload(recipient, record, self.catalog, self.locale)
        outgoing = _Outgoing(pseudonym, recipient, record.id)
        self._outgoing[(recipient.id, record.id)] = outgoing
        outgoing.task = self._spawn(self._deliver_feedback(outgoing, payload))

    async def _deliver_feedback(self, outgoing: _Outgoing, payload: dict[str, Any]) -> None:
        recipient = outgoing.recipient

        async def may_have_arrived(at: datetime) -> None:
            # Kept in the store at once: a restart before the delivery is given up on
            # must not forget it (the attempts after it may all be refused).
            try:
                await self.store.delivery_may_have_arrived(
                    outgoing.pseudonym, recipient.id, outgoing.feedback_id, at
                )
            except StoreError as error:
                log.error("delivery not marked: %s", type(error).__name__)

        try:
            result = await self._post_with_retries(
                recipient, payload, "webhook", outgoing.stop, may_have_arrived
            )
            # Settles nothing when an erasure or withdrawal settled it meanwhile.
            await self._settle(outgoing, result)
        finally:
            self._outgoing.pop((recipient.id, outgoing.feedback_id), None)

    async def _settle(self, outgoing: _Outgoing, result: Result) -> None:
        """A delivery that arrived, or did not: forgotten unless an attempt may have
        arrived (then kept, so that an erasure tells the recipient)."""
        try:
            await self.store.settle_delivery(
                outgoing.pseudonym,
                outgoing.recipient.id,
                outgoing.feedback_id,
                self.clock() if result == "delivered" else None,
            )
        except StoreError as error:
            log.error("delivery not settled: %s", type(error).__name__)

    async def _notify(
        self, number: int | None, notice: DeletionNotice, under_way: list[asyncio.Task[Any]]
    ) -> None:
        """Send a deletion notice once the deliveries it concerns have stopped (it must
        not arrive before the feedback it asks to delete), then forget it."""
        await asyncio.gather(*under_way, return_exceptions=True)
        recipient = self.recipients.get(notice.recipient)
        if recipient is None:  # removed from the configuration meanwhile
            log.error(
                "deletion notice for recipient %s, no longer configured; see the audit trail",
                notice.recipient,
            )
            await self._audit_gave_up(notice.recipient, notice.feedback_ids)
        else:
            payload = deletion_payload(notice.feedback_ids, notice.reason)
            sent = await self._post_with_retries(recipient, payload, "deletion-notice")
            if sent != "delivered":
                await self._audit_gave_up(notice.recipient, notice.feedback_ids)
        if number is None:
            return
        try:
            await self.store.notice_done(number)
        except StoreError as error:
            log.error("deletion notice not marked as done: %s", type(error).__name__)

    async def _audit_gave_up(
        self, recipient_id: str, feedback_ids: list[str], why: str = NOT_SENT
    ) -> None:
        """Which feedback the recipient still has to be asked to delete, by hand."""
        await self._record(
            AuditEntry(
                event="deletion-notice",
                at=self.clock(),
                actor=recipient_id,
                detail=why + ", ".join(feedback_ids),
                records=len(feedback_ids),
            )
        )

    async def _post_with_retries(
        self,
        recipient: Recipient,
        payload: dict[str, Any],
        event: str,
        stop: asyncio.Event | None = None,
        may_have_arrived: Callable[[datetime], Awaitable[None]] | None = None,
    ) -> Result:
        """Post until delivered, given up, or `stop` is set (checked between attempts).

        Given up, it is "unconfirmed" when some attempt may have arrived without the
        recipient confirming it (`may_have_arrived` is told of each such attempt, with
        its time), else "failed"."""
        # A deletion notice names every feedback it asks to delete: as many records.
        records = len(payload.get("feedback_ids", ())) or 1
        body = encode(payload)
        attempts = len(self.retry_delays) + 1
        maybe_arrived = False
        for attempt in range(attempts):
            if stop is not None and stop.is_set():
                await self._audit(event, recipient, STOPPED, records)
                return "failed"
            at = self.clock()
            tried = await self._post(recipient, body)
            if tried.outcome == DELIVERED:
                await self._audit(event, recipient, DELIVERED, records)
                if recipient.id in self._failing:
                    self._failing.discard(recipient.id)
                    log.info("%s to recipient %s delivered again", event, recipient.id)
                return "delivered"
            cause = tried.outcome.removeprefix(FAILED)
            if recipient.id not in self._failing:  # at once, not only a day later
                self._failing.add(recipient.id)
                log.warning("%s to recipient %s failed (%s)", event, recipient.id, cause)
            if tried.may_have_arrived and may_have_arrived is not None:
                await may_have_arrived(at)  # (a notice is sent again, or audited)
                maybe_arrived = True
            await self._audit(event, recipient, tried.outcome, records)
            if not tried.worth_retrying:
                break
            if attempt < attempts - 1:
                await _pause(self.retry_delays[attempt], stop)
        if maybe_arrived:
            await self._audit(event, recipient, GAVE_UP_MAY_HAVE_ARRIVED, records)
        else:
            await self._audit(event, recipient, GAVE_UP, records)
        log.error("%s to recipient %s failed for good (%s)", event, recipient.id, cause)
        return "unconfirmed" if maybe_arrived else "failed"

    async def _post(self, recipient: Recipient, body: bytes) -> _Attempt:
        timestamp = int(self.clock().timestamp())
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(recipient.secret.get_secret_value(), timestamp, body),
        }
        if self._client is None:
            # Plain http goes to this machine only (see flows.sharing.Recipient): never
            # through a proxy named in the environment (HTTP_PROXY, ALL_PROXY), which would
            # carry the feedback over the network unencrypted (found by an attack review).
            # https may: the proxy only tunnels it, encrypted end to end.
            self._client = httpx.AsyncClient(mounts={"http://": None})
        try:
            async with asyncio.timeout(self.deadline):
                # Only the status counts: leaving the block closes the connection with the
                # body unread (a large one is not downloaded, a cut-off one is no failure).
                async with self._client.stream(
                    "POST", recipient.url, content=body, headers=headers, timeout=self.timeout
                ) as response:
                    status = response.status_code
        except TimeoutError:  # the deadline: the request may have gone out
            return _Attempt(FAILED + TIMED_OUT, may_have_arrived=True)
        except httpx.HTTPError as error:
            return _Attempt(FAILED + _cause(error), isinstance(error, _AFTER_SENDING))
        except (httpx.InvalidURL, ValueError):  # (an IDNA error is a ValueError)
            # No request could be made: a URL the recipients check let pass. It will not
            # do any better later, and must not end the task unaudited (found by review).
            return _Attempt(FAILED + INVALID_URL, worth_retrying=False)
        if 200 <= status < 300:
            return _Attempt(DELIVERED)
        # A server error may come after the recipient stored it (a proxy's 504 is "it
        # answered too late"); other refusals (4xx) mean it was not taken.
        return _Attempt(f"{FAILED}HTTP {status}", status >= 500 or status == 408)

    async def _audit(
        self, event: str, recipient: Recipient, outcome: str, records: int = 1
    ) -> None:
        entry = AuditEntry(
            event=event, at=self.clock(), actor=recipient.id, detail=outcome, records=records
        )
        await self._record(entry)

    async def _record(self, entry: AuditEntry) -> None:
        """The audit trail, best effort: a full disk must not end the retries."""
        try:
            await self.store.record_audit(entry)
        except StoreError as error:
            log.error(
                "audit entry not written (%s): %s %s",
                type(error).__name__,
                entry.event,
                entry.detail,
            )


def _cause(error: httpx.HTTPError) -> str:
    """Why an attempt failed, as far as an operator can act on it (found by review: a
    certificate not trusted, a mistyped host and a recipient down all read
    "ConnectError"); else the error's name."""
    seen: set[int] = set()
    link: BaseException | None = error
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        if isinstance(link, ssl.SSLCertVerificationError):
            return CERTIFICATE_NOT_TRUSTED
        if isinstance(link, socket.gaierror):
            return HOST_NOT_FOUND
        if isinstance(link, ConnectionRefusedError):
            return CONNECTION_REFUSED
        if isinstance(link, httpx.TimeoutException | TimeoutError):
            return TIMED_OUT
        link = link.__cause__ or link.__context__
    return type(error).__name__


async def _pause(delay: float, stop: asyncio.Event | None) -> None:
    """Wait `delay` seconds before the next attempt, or until `stop` is set."""
    if stop is None:
        await asyncio.sleep(delay)
        return
    try:
        await asyncio.wait_for(stop.wait(), delay)
    except TimeoutError:
        pass
