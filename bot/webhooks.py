"""Delivers feedback and deletion notices to configured recipients over HTTPS.

Runs in background tasks with retries and backoff, so a customer never waits for a
recipient; every attempt's outcome (not its content) goes to the audit trail.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Literal

import httpx

from flows.catalog import FlowCatalog
from flows.sharing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Recipient,
    deletion_payload,
    encode,
    feedback_payload,
    sign,
)
from storage.interface import AuditEntry, Delivery, FeedbackRecord, Store

log = logging.getLogger("bot.webhooks")

RETRY_DELAYS = (1.0, 4.0, 15.0, 60.0)


class WebhookSender:
    def __init__(
        self,
        store: Store,
        catalog: FlowCatalog,
        recipients: Sequence[Recipient],
        locale: str,
        clock: Callable[[], datetime],
        retry_delays: Sequence[float] = RETRY_DELAYS,
        timeout: float = 10.0,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.recipients = {r.id: r for r in recipients}
        self.locale = locale
        self.clock = clock
        self.retry_delays = tuple(retry_delays)
        self.timeout = timeout
        self.tasks: set[asyncio.Task[Any]] = set()

    # --- listeners: called by the flows, return at once -----------------------------------
    async def on_feedback(self, pseudonym: str, record: FeedbackRecord) -> None:
        for recipient in self.recipients.values():
            if recipient.receives(record, self.catalog):
                payload = feedback_payload(recipient, record, self.catalog, self.locale)
                self._spawn(self._deliver_feedback(recipient, pseudonym, record.id, payload))

    async def on_removal(
        self,
        deliveries: list[Delivery],
        reason: Literal["erasure", "withdrawal"],
        purpose: str | None,
    ) -> None:
        """Tell every recipient that received the person's data to delete it.

        On withdrawal of a recipient's own purpose only that recipient is told; on
        erasure or withdrawal of the feedback purpose, all of them are.
        """
        by_recipient: dict[str, list[str]] = {}
        for delivery in deliveries:
            by_recipient.setdefault(delivery.recipient, []).append(delivery.feedback_id)
        for recipient_id, feedback_ids in by_recipient.items():
            recipient = self.recipients.get(recipient_id)
            if recipient is None:
                continue
            if reason == "withdrawal" and purpose is not None and recipient.purpose != purpose:
                continue
            payload = deletion_payload(feedback_ids, reason)
            self._spawn(self._post_with_retries(recipient, payload, "deletion-notice"))

    async def drain(self) -> None:
        """Wait for deliveries in flight (at shutdown, and in tests)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    # --- delivery ---------------------------------------------------------------------------
    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine, name="webhook")
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _deliver_feedback(
        self, recipient: Recipient, pseudonym: str, feedback_id: str, payload: dict[str, Any]
    ) -> None:
        if await self._post_with_retries(recipient, payload, "webhook"):
            await self.store.record_delivery(
                pseudonym,
                Delivery(
                    recipient=recipient.id, feedback_id=feedback_id, delivered_at=self.clock()
                ),
            )

    async def _post_with_retries(
        self, recipient: Recipient, payload: dict[str, Any], event: str
    ) -> bool:
        body = encode(payload)
        attempts = len(self.retry_delays) + 1
        for attempt in range(attempts):
            outcome = await self._post(recipient, body)
            if outcome == "delivered":
                await self._audit(event, recipient, "delivered")
                return True
            await self._audit(event, recipient, outcome)
            if attempt < attempts - 1:
                await asyncio.sleep(self.retry_delays[attempt])
        await self._audit(event, recipient, "gave up")
        log.error("%s to a recipient failed for good", event)
        return False

    async def _post(self, recipient: Recipient, body: bytes) -> str:
        timestamp = int(self.clock().timestamp())
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(recipient.secret.get_secret_value(), timestamp, body),
        }
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.post(recipient.url, content=body, headers=headers)
        except httpx.HTTPError as error:
            return f"failed: {type(error).__name__}"
        if 200 <= response.status_code < 300:
            return "delivered"
        return f"failed: HTTP {response.status_code}"

    async def _audit(self, event: str, recipient: Recipient, outcome: str) -> None:
        await self.store.record_audit(
            AuditEntry(event=event, at=self.clock(), actor=recipient.id, detail=outcome, records=1)
        )
