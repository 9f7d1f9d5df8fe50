"""Webhooks to recipients: only with consent, limited and redacted, signed, retried,
never blocking the customer, and told to delete on erasure."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import secrets
import sqlite3
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from bot.app import _purge_job
from flows.sharing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from storage import StorageFull
from storage.interface import AuditEntry, DeletionNotice, Draft
from storage.sqlite_db import ts
from tests.fakes.botapi import FakeBotApi
from tests.harness import Clock, Harness, make_settings, texts
from tests.reliability.test_full_disk import fill_up

CRM_SECRET, ACME_SECRET = "crm-secret-0123456789", "acme-secret-0123456789"

FLOW = """
id = "product"
title = { de = "Produktfeedback", en = "Product feedback" }
intro = { de = "Wie gefällt Ihnen das Produkt?", en = "How do you like the product?" }

[[purposes]]
id = "product_rating"
required = true
label = { de = "Speicherung Ihrer Produktbewertung", en = "Storing your product rating" }
description = { de = "Produktbewertung speichern", en = "Storing the product rating" }

[[purposes]]
id = "share_acme"
shares_feedback = true
label = { de = "Weitergabe an ACME", en = "Passing it to ACME" }
description = { de = "Weitergabe an ACME GmbH", en = "Passing it to ACME GmbH" }

[[steps]]
id = "rating"
type = "rating"
prompt = { de = "Wie zufrieden sind Sie?", en = "How satisfied are you?" }

[[steps]]
id = "comment"
type = "text"
prompt = { de = "Ihr Kommentar?", en = "Your comment?" }

[[steps]]
id = "acme"
type = "consent"
purpose = "share_acme"
prompt = { de = "Dürfen wir es an den Hersteller geben?", en = "May we pass it on?" }

[[steps]]
id = "thanks"
type = "thanks"
prompt = { de = "Danke!", en = "Thanks!" }
"""


class Receiver:
    """A local HTTP endpoint that records requests and answers with scripted statuses."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.arrived = 0  # requests read, answered or not
        self.statuses: list[int] = []
        self.gate = threading.Event()
        self.gate.set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                body = self.rfile.read(length)
                if len(body) < length:  # cut off by the bot's stop: no request, as for a
                    return  # real server (found by a run: an empty body recorded as one)
                receiver.arrived += 1
                receiver.gate.wait(10)
                receiver.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def payloads(self, path: str) -> list[dict[str, Any]]:
        return [json.loads(r["body"]) for r in self.requests if r["path"] == path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.thread.start()
    yield receiver
    receiver.gate.set()
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
async def shop(
    api: FakeBotApi, clock: Clock, tmp_path: Path, receiver: Receiver
) -> AsyncIterator[Harness]:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "product.toml").write_text(FLOW, encoding="utf-8")
    (flows / "device.toml").write_text(DEVICE_FLOW, encoding="utf-8")
    recipients = tmp_path / "recipients.toml"
    recipients.write_text(
        f"""
[[recipients]]
id = "crm"
name = "Unser CRM"
url = "{receiver.url("/crm")}"
secret = "{CRM_SECRET}"
internal = true
fields = ["feedback_id", "flow", "given_at", "rating", "comment"]

[[recipients]]
id = "acme"
name = "ACME GmbH"
url = "{receiver.url("/acme")}"
secret = "{ACME_SECRET}"
purpose = "share_acme"
fields = ["rating"]
""",
        encoding="utf-8",
    )
    settings = make_settings(tmp_path / "data", flows_dir=flows, recipients_file=recipients)
    harness = Harness(api=api, settings=settings, clock=clock)
    await harness.start()
    assert harness.app is not None and harness.app.bot_data.webhooks is not None
    harness.app.bot_data.webhooks.retry_delays = (0.01, 0.01, 0.01)
    yield harness
    await harness.stop()


async def drained(harness: Harness) -> None:
    assert harness.app is not None and harness.app.bot_data.webhooks is not None
    await harness.app.bot_data.webhooks.drain()


async def product_feedback(harness: Harness, user: int, share: bool) -> list[Any]:
    customer = harness.customer(user)
    await customer.send("/start product")
    await customer.press("Ja, ich willige ein")
    await customer.press("2")
    await customer.send("Bitte melden: erika@example.org, Bestellung 4711123")
    return await customer.press("Ja, einverstanden" if share else "Nein")


DEVICE_FLOW = """
id = "device"
title = { de = "Gerätefeedback", en = "Device feedback" }
intro = { de = "Wie läuft das Gerät?", en = "How is the device?" }

[[purposes]]
id = "device_feedback"
required = true
label = { de = "Speicherung Ihres Gerätefeedbacks", en = "Storing your device feedback" }
description = { de = "Gerätefeedback speichern", en = "Storing device feedback" }

[[steps]]
id = "rating"
type = "rating"
prompt = { de = "Wie zufrieden sind Sie mit dem Gerät?", en = "How satisfied?" }

[[steps]]
id = "thanks"
type = "thanks"
prompt = { de = "Danke!", en = "Thanks!" }
"""


def signed(request: dict[str, Any], secret: str, clock: Clock) -> bool:
    headers = {k.lower(): v for k, v in request["headers"].items()}
    return verify(
        secret,
        headers[TIMESTAMP_HEADER.lower()],
        request["body"],
        headers[SIGNATURE_HEADER.lower()],
        clock(),
    )


async def test_internal_recipient_gets_signed_limited_redacted_feedback(
    shop: Harness, receiver: Receiver
) -> None:
    await product_feedback(shop, 1, share=False)
    await drained(shop)
    [payload] = receiver.payloads("/crm")
    assert payload["type"] == "feedback" and payload["flow"] == "product"
    assert payload["answers"] == {
        "rating": 2,
        "comment": "Bitte melden: [E-Mail], Bestellung [Nummer]",
    }
    assert signed(receiver.requests[0], CRM_SECRET, shop.clock)
    assert not signed(receiver.requests[0], ACME_SECRET, shop.clock), "a wrong secret fails"
    assert receiver.payloads("/acme") == [], "nothing to ACME without the consent"


async def test_external_recipient_only_with_consent_and_only_its_fields(
    shop: Harness, receiver: Receiver
) -> None:
    await product_feedback(shop, 2, share=True)
    await drained(shop)
    [payload] = receiver.payloads("/acme")
    feedback_id = payload.pop("feedback_id")
    delete_by = payload.pop("delete_by")  # when its retention ends: no notice then
    assert payload == {"type": "feedback", "answers": {"rating": 2}}, "no comment, no date"
    assert shop.store is not None
    (record,) = await shop.store.feedback_of(shop.store.pseudonym("tg-user:2"), shop.clock())
    # The day it expires on here, not the moment: that less the published retention would
    # be the `given_at` this recipient is not configured to get.
    assert datetime.fromisoformat(delete_by) == record.expires_at.replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    assert delete_by.endswith("T00:00:00+00:00")
    assert feedback_id == receiver.payloads("/crm")[0]["feedback_id"], "to name in a deletion"
    assert signed(
        next(r for r in receiver.requests if r["path"] == "/acme"), ACME_SECRET, shop.clock
    )
    summary = texts(await shop.customer(2).send("/meinedaten"))
    assert "an ACME GmbH weitergegeben" in summary and "an Unser CRM weitergegeben" in summary


async def test_a_500_is_retried_and_audited_without_content(
    shop: Harness, receiver: Receiver
) -> None:
    receiver.statuses = [500, 500]
    await product_feedback(shop, 3, share=False)
    await drained(shop)
    assert len(receiver.payloads("/crm")) == 3
    entries = await shop.store.audit_entries(shop.clock() - timedelta(days=1))  # type: ignore[union-attr]
    outcomes = [e.detail for e in entries if e.event == "webhook" and e.actor == "crm"]
    assert outcomes == ["failed: HTTP 500", "failed: HTTP 500", "delivered"]
    assert all("erika" not in (e.detail or "") for e in entries)


async def test_one_http_client_serves_every_attempt_and_is_closed_at_shutdown(
    shop: Harness, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Building a client loads the CA certificates on the event loop (40-85 ms): one per
    attempt, a backlog of deliveries after a restart kept every customer waiting."""
    built: list[httpx.AsyncClient] = []

    class Counted(httpx.AsyncClient):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            built.append(self)

    monkeypatch.setattr("bot.webhooks.httpx.AsyncClient", Counted)
    receiver.statuses = [500, 500]
    await product_feedback(shop, 3, share=False)
    await product_feedback(shop, 5, share=True)
    await drained(shop)
    # Two failed attempts (whichever deliveries drew them) and three that arrived.
    assert len(receiver.payloads("/crm")) + len(receiver.payloads("/acme")) == 5
    assert receiver.payloads("/acme")
    assert len(built) == 1, "one client for both recipients and every retry"
    await shop.stop()
    assert built[0].is_closed


async def test_plain_http_to_this_machine_never_goes_through_a_proxy(
    shop: Harness, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by an attack review: plain http is allowed to this machine only, yet with
    HTTP_PROXY (or ALL_PROXY) set for the bot, as for reaching Telegram from a company
    network, httpx sent the feedback unencrypted to the proxy, over the network."""
    proxy = Receiver()
    proxy.thread.start()
    try:
        for name in ("no_proxy", "NO_PROXY", "http_proxy", "all_proxy"):
            monkeypatch.delenv(name, raising=False)
        proxy_url = f"http://127.0.0.1:{proxy.server.server_address[1]}"
        monkeypatch.setenv("HTTP_PROXY", proxy_url)
        monkeypatch.setenv("ALL_PROXY", proxy_url)
        await product_feedback(shop, 6, share=False)
        await drained(shop)
    finally:
        proxy.server.shutdown()
        proxy.server.server_close()
    assert proxy.requests == [] and proxy.arrived == 0
    assert len(receiver.payloads("/crm")) == 1


async def test_the_customer_never_waits_for_a_recipient(shop: Harness, receiver: Receiver) -> None:
    receiver.gate.clear()  # the receiver hangs until released
    thanks = await product_feedback(shop, 4, share=False)
    assert "Danke!" in texts(thanks)
    assert receiver.requests == []
    receiver.gate.set()
    await drained(shop)
    assert len(receiver.payloads("/crm")) == 1


async def test_erasure_sends_signed_deletion_notices_to_every_recipient(
    shop: Harness, receiver: Receiver
) -> None:
    await product_feedback(shop, 5, share=True)
    await drained(shop)
    feedback_id = receiver.payloads("/crm")[0]["feedback_id"]
    customer = shop.customer(5)
    await customer.send("/loeschen")
    done = texts(await customer.press("Alles löschen"))
    assert "Wir bitten alle, an die wir Ihr Feedback weitergegeben hatten, es zu löschen" in done
    await drained(shop)
    for path, secret in (("/crm", CRM_SECRET), ("/acme", ACME_SECRET)):
        notices = [p for p in receiver.payloads(path) if p["type"] == "deletion"]
        assert notices == [{"type": "deletion", "reason": "erasure", "feedback_ids": [feedback_id]}]
        request = [r for r in receiver.requests if r["path"] == path][-1]
        assert signed(request, secret, shop.clock)


def kinds(receiver: Receiver, path: str) -> list[str]:
    """What one recipient received, in the order it arrived."""
    return [p["type"] for p in receiver.payloads(path)]


async def test_erasure_while_the_feedback_is_on_its_way_reaches_the_recipients_too(
    shop: Harness, receiver: Receiver, api: FakeBotApi
) -> None:
    receiver.gate.clear()  # both recipients have the feedback, and take their time answering
    await product_feedback(shop, 5, share=True)
    await api.wait_until_async(lambda: receiver.arrived == 2, what="both deliveries under way")
    customer = shop.customer(5)
    await customer.send("/loeschen")
    done = texts(await customer.press("Alles löschen"))
    assert "Wir bitten alle, an die wir Ihr Feedback weitergegeben hatten, es zu löschen" in done
    receiver.gate.set()
    await drained(shop)
    for path in ("/crm", "/acme"):
        assert kinds(receiver, path) == ["feedback", "deletion"]
    assert await shop.store.deliveries_of(shop.store.pseudonym("tg-user:5")) == []  # type: ignore[union-attr]


async def test_erasure_stops_a_delivery_waiting_to_be_retried(
    shop: Harness, receiver: Receiver, api: FakeBotApi
) -> None:
    assert shop.app is not None and shop.app.bot_data.webhooks is not None
    shop.app.bot_data.webhooks.retry_delays = (600.0,)  # it would wait ten minutes
    receiver.statuses = [500, 500]
    await product_feedback(shop, 5, share=True)
    await api.wait_until_async(lambda: len(receiver.requests) == 2, what="both first attempts")
    customer = shop.customer(5)
    await customer.send("/loeschen")
    await customer.press("Alles löschen")
    await drained(shop)  # at once, not after ten minutes
    for path in ("/crm", "/acme"):
        # The failed attempt may have been stored by the recipient all the same.
        assert kinds(receiver, path) == ["feedback", "deletion"]
    entries = await shop.store.audit_entries(shop.clock() - timedelta(days=1))  # type: ignore[union-attr]
    assert [e.detail for e in entries if e.event == "webhook" and e.actor == "crm"] == [
        "failed: HTTP 500",
        "stopped: erased or withdrawn",
    ]


async def test_a_delivery_that_timed_out_may_have_arrived_and_is_told_of_an_erasure(
    shop: Harness, receiver: Receiver, api: FakeBotApi
) -> None:
    """Every attempt timed out waiting for the answer: the recipient may have stored the
    feedback all the same. It was forgotten, so an erasure later sent it no notice."""
    assert shop.app is not None and shop.app.bot_data.webhooks is not None
    shop.app.bot_data.webhooks.timeout = 0.2
    receiver.gate.clear()  # the recipient reads each request and does not answer in time
    await product_feedback(shop, 21, share=False)
    await drained(shop)
    assert receiver.arrived == 4, "sent four times, never answered"
    assert shop.store is not None
    pseudonym = shop.store.pseudonym("tg-user:21")
    [kept] = await shop.store.deliveries_of(pseudonym)
    assert (kept.recipient, kept.unconfirmed, kept.pending) == ("crm", True, False)
    entries = await shop.store.audit_entries(shop.clock() - timedelta(days=1))
    outcomes = [e.detail for e in entries if e.event == "webhook" and e.actor == "crm"]
    assert outcomes == ["failed: timeout"] * 4 + ["gave up; it may have arrived"]

    customer = shop.customer(21)
    summary = texts(await customer.send("/meinedaten"))
    assert "Feedback 1 hat Unser CRM am " in summary
    assert "möglicherweise erreicht: Die Verbindung brach ab" in summary

    receiver.gate.set()
    await api.wait_until_async(lambda: len(receiver.requests) == 4, what="the late answers")
    await customer.send("/loeschen")
    done = texts(await customer.press("Alles löschen"))
    assert "Wir bitten alle, an die wir Ihr Feedback weitergegeben hatten, es zu löschen" in done
    await drained(shop)
    [feedback_id] = {p["feedback_id"] for p in receiver.payloads("/crm") if p["type"] == "feedback"}
    notices = [p for p in receiver.payloads("/crm") if p["type"] == "deletion"]
    assert notices == [{"type": "deletion", "reason": "erasure", "feedback_ids": [feedback_id]}]


async def test_a_server_error_may_come_after_the_recipient_stored_it(
    shop: Harness, receiver: Receiver, clock: Clock
) -> None:
    """Behind a proxy, "answered too late" is a 504: the feedback may be stored. Kept,
    with the time of the first such attempt, not of giving up; a 4xx refusal is not."""
    receiver.statuses = [504, 400, 400, 400]
    sent_at = clock()
    await product_feedback(shop, 23, share=False)
    clock.advance(timedelta(hours=5))  # giving up comes later
    await drained(shop)
    assert shop.store is not None
    [kept] = await shop.store.deliveries_of(shop.store.pseudonym("tg-user:23"))
    assert (kept.unconfirmed, kept.delivered_at) == (True, sent_at)


async def test_may_have_arrived_outlasts_a_restart(
    shop: Harness, receiver: Receiver, api: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An attempt timed out before a restart; after it every attempt is refused: the
    recipient may still hold the first one, and an erasure must tell it."""
    assert shop.app is not None and shop.app.bot_data.webhooks is not None
    shop.app.bot_data.webhooks.timeout = 0.2
    shop.app.bot_data.webhooks.retry_delays = (600.0,)  # the retry is lost with the process
    receiver.gate.clear()
    await product_feedback(shop, 24, share=False)
    assert shop.store is not None
    pseudonym = shop.store.pseudonym("tg-user:24")

    async def marked() -> bool:
        assert shop.store is not None
        return any(d.unconfirmed for _, d in await shop.store.pending_deliveries())

    await wait_for(marked, "the first attempt timed out")
    receiver.gate.set()
    receiver.server.shutdown()
    receiver.server.server_close()  # refused from now on
    monkeypatch.setattr("bot.webhooks.RETRY_DELAYS", (0.01, 0.01))
    await shop.restart()
    await drained(shop)
    [kept] = await shop.store.deliveries_of(pseudonym)
    assert (kept.recipient, kept.unconfirmed, kept.pending) == ("crm", True, False)
    entries = await shop.store.audit_entries(shop.clock() - timedelta(days=1))
    outcomes = [e.detail for e in entries if e.event == "webhook" and e.actor == "crm"]
    assert outcomes[0] == "failed: timeout" and outcomes[-2:] == [
        "failed: connection refused",
        "gave up",
    ]


async def wait_for(condition: Callable[[], Awaitable[bool]], what: str) -> None:
    for _ in range(400):  # a guard against hanging, not a timing assertion
        if await condition():
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"never happened: {what}")


async def test_a_delivery_refused_every_time_is_forgotten(
    shop: Harness, receiver: Receiver
) -> None:
    """A connection never made cannot have delivered anything: nothing to notify later."""
    receiver.server.shutdown()
    receiver.server.server_close()  # connections are refused from now on
    await product_feedback(shop, 22, share=False)
    await drained(shop)
    assert shop.store is not None
    assert await shop.store.deliveries_of(shop.store.pseudonym("tg-user:22")) == []
    entries = await shop.store.audit_entries(shop.clock() - timedelta(days=1))
    outcomes = [e.detail for e in entries if e.event == "webhook" and e.actor == "crm"]
    assert outcomes == ["failed: connection refused"] * 4 + ["gave up"]


async def test_a_delivery_cut_off_by_a_restart_is_sent_after_it(
    shop: Harness, receiver: Receiver
) -> None:
    assert shop.app is not None and shop.app.bot_data.webhooks is not None
    shop.app.bot_data.webhooks.retry_delays = (600.0,)
    receiver.statuses = [500]
    await product_feedback(shop, 8, share=False)
    await shop.restart()  # the retry in ten minutes is lost with the process
    await drained(shop)
    assert kinds(receiver, "/crm") == ["feedback", "feedback"]
    person = shop.store.pseudonym("tg-user:8")  # type: ignore[union-attr]
    (delivery,) = await shop.store.deliveries_of(person)  # type: ignore[union-attr]
    assert (delivery.recipient, delivery.pending) == ("crm", False)
    assert "Unser CRM" in texts(await shop.customer(8).send("/meinedaten"))


async def test_a_deletion_notice_outlasts_a_recipient_down_and_a_restart(
    shop: Harness, receiver: Receiver
) -> None:
    await product_feedback(shop, 9, share=False)
    await drained(shop)
    feedback_id = receiver.payloads("/crm")[0]["feedback_id"]
    assert shop.app is not None and shop.app.bot_data.webhooks is not None
    shop.app.bot_data.webhooks.retry_delays = (600.0,)
    receiver.statuses = [503]
    customer = shop.customer(9)
    await customer.send("/loeschen")
    await customer.press("Alles löschen")
    await shop.restart()  # while the notice waits ten minutes to be sent again
    await drained(shop)
    assert [p for p in receiver.payloads("/crm") if p["type"] == "deletion"] == [
        {"type": "deletion", "reason": "erasure", "feedback_ids": [feedback_id]}
    ] * 2
    assert await shop.store.pending_notices() == []  # type: ignore[union-attr]


async def test_recipients_are_asked_to_delete_when_a_shortened_retention_ends(
    shop: Harness, receiver: Receiver
) -> None:
    """A shortened retention brings the stored feedback's deletion date forward at the
    next start, but recipients had been told the old date (`delete_by`) and kept their
    copies until then (found by review): when it expires here, they are asked to delete."""
    await product_feedback(shop, 7, share=True)
    await drained(shop)
    feedback_id = receiver.payloads("/crm")[0]["feedback_id"]
    told = receiver.payloads("/crm")[0]["delete_by"]
    shop.settings = shop.settings.model_copy(update={"retention": timedelta(days=30)})
    await shop.restart()
    await drained(shop)
    assert kinds(receiver, "/crm") == ["feedback"], "nothing to delete yet"
    shop.clock.advance(timedelta(days=31))
    assert shop.app is not None and shop.app.bot_data.webhooks is not None
    data = shop.app.bot_data  # the purge every FEEDBACKBOT_PURGE_INTERVAL
    await _purge_job(SimpleNamespace(bot_data=data, service=data.service))  # type: ignore[arg-type]
    await drained(shop)
    retention = {"type": "deletion", "reason": "retention", "feedback_ids": [feedback_id]}
    for path in ("/crm", "/acme"):
        assert [p for p in receiver.payloads(path) if p["type"] == "deletion"] == [retention]
    assert told > (shop.clock() + timedelta(days=100)).isoformat(), "well before that date"
    await shop.restart()
    await drained(shop)
    assert len([p for p in receiver.payloads("/crm") if p["type"] == "deletion"]) == 1, "once"


async def test_feedback_withdrawn_under_an_old_version_goes_at_the_first_start_of_this_one(
    shop: Harness, receiver: Receiver
) -> None:
    """Found by an upgrade review: versions before 30 Nov 2026 kept feedback whose consent
    the person withdrew, no longer evaluated, up to 180 days, and after the upgrade only
    /loeschen (everything) removed it. The first start of the version with data schema
    v20 deletes it and asks its recipients to delete it; later starts do not look again."""
    store = shop.store
    assert store is not None
    withdrew, again, ended = (store.pseudonym(f"tg-user:{n}") for n in (21, 22, 23))
    for user in (21, 22):
        await product_feedback(shop, user, share=False)
    await product_feedback(shop, 23, share=True)
    await drained(shop)
    given = {p: [r.id for r in await store.feedback_of(p, shop.clock())] for p in (again, ended)}
    [gone] = [r.id for r in await store.feedback_of(withdrew, shop.clock())]
    shop.clock.advance(timedelta(days=1))
    await shop.stop()
    at = ts(shop.clock())

    def as_before(*statements: tuple[str, tuple[str, ...]]) -> None:
        with contextlib.closing(sqlite3.connect(shop.settings.data_dir / "feedback.db")) as con:
            with con:
                for sql, params in statements:
                    con.execute(sql, params)

    # As those versions withdrew: the consent marked, the feedback kept. The one to be
    # contacted ended with other feedback (data v19): the person did not withdraw it.
    withdraw = "UPDATE consents SET withdrawn_at = ? WHERE pseudonym = ? AND purpose = ?"
    as_before(
        (withdraw, (at, withdrew, "product_rating")),
        (withdraw, (at, again, "product_rating")),
        (
            "UPDATE consents SET withdrawn_at = ?1, ended_at = ?1 WHERE pseudonym = ?2"
            " AND purpose = 'share_acme'",
            (at, ended),
        ),
    )
    await shop.start()  # the store's first start made the pass (finding nothing): not again
    assert shop.store is not None
    assert len(await shop.store.feedback_of(withdrew, shop.clock())) == 1
    shop.clock.advance(timedelta(hours=1))
    await product_feedback(shop, 22, share=False)  # agrees again, for new feedback
    await drained(shop)
    [newer] = [
        r.id for r in await shop.store.feedback_of(again, shop.clock()) if r.id not in given[again]
    ]
    await shop.stop()
    # Back to data v19, as a store of an older version: the upgrade brings the pass.
    as_before(("DROP TABLE upkeep", ()), ("DELETE FROM schema_migrations WHERE version > 19", ()))
    await shop.start()
    await drained(shop)
    now = shop.clock()
    assert shop.store is not None
    assert await shop.store.feedback_of(withdrew, now) == []
    assert [r.id for r in await shop.store.feedback_of(again, now)] == [newer]
    assert [r.id for r in await shop.store.feedback_of(ended, now)] == given[ended]
    deletions = [p for p in receiver.payloads("/crm") if p["type"] == "deletion"]
    assert [(p["reason"], sorted(p["feedback_ids"])) for p in deletions] == [
        ("withdrawal", sorted([gone, *given[again]]))
    ], "for the withdrawal, as the processing record says (DPO review: it said 'retention')"
    assert kinds(receiver, "/acme") == ["feedback"], "what it got stays with it"
    await shop.stop()
    as_before((withdraw, (at, ended, "product_rating")))
    await shop.start()
    assert shop.store is not None
    assert len(await shop.store.feedback_of(ended, shop.clock())) == 1, "done once"


async def test_a_notice_given_up_on_names_the_feedback_to_delete_in_the_audit(
    shop: Harness, receiver: Receiver
) -> None:
    await product_feedback(shop, 10, share=False)
    await drained(shop)
    feedback_id = receiver.payloads("/crm")[0]["feedback_id"]
    receiver.statuses = [503] * 4  # every attempt fails
    customer = shop.customer(10)
    await customer.send("/loeschen")
    await customer.press("Alles löschen")
    await drained(shop)
    entries = await shop.store.audit_entries(shop.clock() - timedelta(days=1))  # type: ignore[union-attr]
    notices = [e.detail for e in entries if e.event == "deletion-notice" and e.actor == "crm"]
    assert notices[-2:] == ["gave up", f"not sent; ask by hand to delete: {feedback_id}"]
    assert await shop.store.pending_notices() == []  # type: ignore[union-attr]


async def without_acme(shop: Harness) -> None:
    """The contract with ACME ended: its recipient goes from the file, and its purpose
    and consent step from the flow (the bot refuses a passing-on nobody receives)."""
    recipients = shop.settings.recipients_file
    assert recipients is not None
    recipients.write_text(recipients.read_text().split('[[recipients]]\nid = "acme"')[0])
    flow = re.sub(r'\[\[(purposes|steps)\]\]\nid = "(share_)?acme"\n.*?\n\n', "", FLOW, flags=re.S)
    assert "acme" not in flow.replace("ACME", "")
    flows = shop.settings.flows_dir
    assert flows is not None
    (flows / "product.toml").write_text(flow, encoding="utf-8")
    await shop.restart()


async def shared_before_acme_went(shop: Harness, receiver: Receiver, person: int) -> Any:
    """The person's feedback, passed to ACME before its contract ended; what ACME got."""
    await product_feedback(shop, person, share=True)
    await drained(shop)
    [sent] = receiver.payloads("/acme")
    await without_acme(shop)
    return sent


async def test_a_recipient_removed_from_the_file_is_named_in_the_audit_at_an_erasure(
    shop: Harness, receiver: Receiver
) -> None:
    """It holds the feedback though no notice can reach it any more (a contract ended):
    the audit trail says whom to ask by hand, as for a notice given up on."""
    sent = await shared_before_acme_went(shop, receiver, 21)
    customer = shop.customer(21)
    await customer.send("/loeschen")
    await customer.press("Alles löschen")
    await drained(shop)
    assert [p["type"] for p in receiver.payloads("/acme")] == ["feedback"], "nowhere to send"
    entries = await shop.store.audit_entries(shop.clock() - timedelta(days=1))  # type: ignore[union-attr]
    asked = [e.detail for e in entries if e.event == "deletion-notice" and e.actor == "acme"]
    assert asked == [f"not sent; ask by hand to delete: {sent['feedback_id']}"]


async def test_recipients_held_feedback_stay_named_when_the_recipients_file_is_unset(
    shop: Harness, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    """The operator ended every passing-on: ACME out of the flow, and the recipients file
    no longer set. The CRM and ACME still hold what they got: the start says so, and an
    erasure names in the audit trail what to ask them to delete (nothing was said or
    audited: with no file, nobody listened to the erasure)."""
    sent = await shared_before_acme_went(shop, receiver, 23)
    [crm] = receiver.payloads("/crm")
    shop.settings = shop.settings.model_copy(update={"recipients_file": None})
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="bot.webhooks"):
        await shop.restart()
    [said] = [r.getMessage() for r in caplog.records if "hold feedback" in r.getMessage()]
    assert "hold feedback passed on to them: acme, crm;" in said
    customer = shop.customer(23)
    await customer.send("/loeschen")
    await customer.press("Alles löschen")
    await drained(shop)
    assert len(receiver.requests) == 2, "nothing sent: no recipient is configured"
    entries = await shop.store.audit_entries(shop.clock() - timedelta(days=1))  # type: ignore[union-attr]
    asked = {e.actor: e.detail for e in entries if e.event == "deletion-notice"}
    assert asked == {
        "acme": f"not sent; ask by hand to delete: {sent['feedback_id']}",
        "crm": f"not sent; ask by hand to delete: {crm['feedback_id']}",
    }


async def test_a_recipient_removed_with_its_purpose_is_named_in_the_audit_at_a_withdrawal(
    shop: Harness, receiver: Receiver
) -> None:
    """The person withdraws the consent to pass their feedback to ACME after ACME was
    removed: no notice can reach it, so the audit trail says whom to ask by hand."""
    sent = await shared_before_acme_went(shop, receiver, 22)
    customer = shop.customer(22)
    await customer.send("/widerruf")
    answer = texts(await customer.press("share_acme (wird nicht mehr erfragt)"))
    assert "wurde widerrufen" in answer and "nicht mehr ausgewertet" not in answer
    await drained(shop)
    assert [p["type"] for p in receiver.payloads("/crm")] == ["feedback"], "the CRM keeps it"
    entries = await shop.store.audit_entries(shop.clock() - timedelta(days=1))  # type: ignore[union-attr]
    asked = [e.detail for e in entries if e.event == "deletion-notice" and e.actor == "acme"]
    assert asked == [f"not sent; ask by hand to delete: {sent['feedback_id']}"]


async def test_an_erasure_goes_through_on_a_full_disk_and_the_notice_is_sent(
    shop: Harness, receiver: Receiver
) -> None:
    await product_feedback(shop, 12, share=False)
    await drained(shop)
    store = shop.store
    assert store is not None
    await fill_up(SimpleNamespace(store=store, clock=shop.clock))
    notice = DeletionNotice(
        recipient="x", reason="erasure", feedback_ids=["f"], queued_at=shop.clock()
    )
    with contextlib.suppress(StorageFull):  # the last bytes too
        while True:
            await store.queue_notice(notice)
    customer = shop.customer(12)
    await customer.send("/loeschen")
    done = texts(await customer.press("Alles löschen"))
    assert "Wir bitten alle, an die wir Ihr Feedback weitergegeben hatten, es zu löschen" in done
    assert await store.feedback_of(store.pseudonym("tg-user:12"), shop.clock()) == []
    await drained(shop)
    assert kinds(receiver, "/crm") == ["feedback", "deletion"]


async def test_a_withdrawn_purpose_gets_nothing_again_after_a_restart(
    shop: Harness, receiver: Receiver, api: FakeBotApi
) -> None:
    receiver.gate.clear()  # both deliveries under way when the person withdraws
    await product_feedback(shop, 13, share=True)
    await api.wait_until_async(lambda: receiver.arrived == 2, what="both deliveries under way")
    customer = shop.customer(13)
    await customer.send("/widerruf")
    await customer.press("Weitergabe an ACME")
    await shop.stop()  # a deploy while both are still under way
    receiver.gate.set()
    await api.wait_until_async(lambda: len(receiver.requests) == 2, what="the old requests")
    await shop.start()
    await drained(shop)
    assert kinds(receiver, "/acme") == ["feedback", "deletion"], "never the feedback again"
    assert kinds(receiver, "/crm") == ["feedback", "feedback"]  # may have arrived: again


async def test_feedback_stored_just_before_a_crash_is_passed_on_after_it(
    shop: Harness, receiver: Receiver
) -> None:
    assert shop.app is not None and shop.app.bot_data.service is not None
    webhooks = shop.app.bot_data.webhooks
    assert webhooks is not None
    # The process dies between storing the feedback and starting its delivery:
    shop.app.bot_data.service.feedback_listeners.remove(webhooks.on_feedback)
    await product_feedback(shop, 14, share=False)
    assert receiver.requests == []
    await shop.restart()
    await drained(shop)
    assert kinds(receiver, "/crm") == ["feedback"]


async def test_a_full_audit_trail_does_not_end_the_retries(
    shop: Harness, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def full(entry: AuditEntry) -> None:
        raise StorageFull("database or disk is full")

    assert shop.store is not None
    monkeypatch.setattr(shop.store, "record_audit", full)
    receiver.statuses = [500]
    await product_feedback(shop, 15, share=False)
    await drained(shop)
    assert kinds(receiver, "/crm") == ["feedback", "feedback"], "retried after the 500"
    (delivery,) = await shop.store.deliveries_of(shop.store.pseudonym("tg-user:15"))
    assert not delivery.pending


async def test_a_crash_while_an_erasure_stops_a_delivery_loses_no_notice(
    shop: Harness, receiver: Receiver, api: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by the crash suite with recipients: the stopped delivery was settled before
    the notice was kept, so a crash in between left neither."""
    receiver.gate.clear()
    await product_feedback(shop, 16, share=False)
    await api.wait_until_async(lambda: receiver.arrived == 1, what="the delivery under way")
    assert shop.store is not None

    async def crash(notice: DeletionNotice) -> int:
        raise RuntimeError("the process dies here")

    monkeypatch.setattr(shop.store, "queue_notice", crash)
    customer = shop.customer(16)
    await customer.send("/loeschen")
    await customer.press("Alles löschen")  # dies on the way
    monkeypatch.undo()
    receiver.gate.set()
    await shop.restart()
    await customer.send("/loeschen")
    done = texts(await customer.press("Alles löschen"))
    assert "Wir bitten alle, an die wir Ihr Feedback weitergegeben hatten, es zu löschen" in done
    await drained(shop)
    feedback_ids = {p["feedback_id"] for p in receiver.payloads("/crm") if p["type"] == "feedback"}
    asked = [p for p in receiver.payloads("/crm") if p["type"] == "deletion"]
    assert asked and set(asked[-1]["feedback_ids"]) == feedback_ids
    assert kinds(receiver, "/crm")[-1] == "deletion"


async def test_withdrawing_the_sharing_consent_notifies_only_that_recipient(
    shop: Harness, receiver: Receiver
) -> None:
    await product_feedback(shop, 6, share=True)
    await drained(shop)
    customer = shop.customer(6)
    await customer.send("/widerruf")
    answer = texts(await customer.press("Weitergabe an ACME"))
    assert "für diesen Zweck weitergegeben hatten, werden gebeten, es zu löschen" in answer
    await drained(shop)
    assert [p["type"] for p in receiver.payloads("/acme")] == ["feedback", "deletion"]
    assert [p["type"] for p in receiver.payloads("/crm")] == ["feedback"]


async def test_withdrawing_one_surveys_consent_asks_deletion_of_that_feedback_only(
    shop: Harness, receiver: Receiver
) -> None:
    await product_feedback(shop, 7, share=False)
    customer = shop.customer(7)
    await customer.send("/start device")
    await customer.press("Ja, ich willige ein")
    await customer.press("4")
    await drained(shop)
    product_id, device_id = [p["feedback_id"] for p in receiver.payloads("/crm")]
    await customer.send("/widerruf")
    answer = texts(await customer.press("Speicherung Ihres Gerätefeedbacks"))
    assert "Alle, an die wir dieses Feedback weitergegeben hatten, werden gebeten" in answer
    await drained(shop)
    [notice] = [p for p in receiver.payloads("/crm") if p["type"] == "deletion"]
    assert notice["feedback_ids"] == [device_id] and product_id != device_id


async def test_the_consent_request_names_our_own_systems_that_get_the_feedback(
    shop: Harness,
) -> None:
    notice = texts(await shop.customer(11).send("/start product"))
    assert "Ihr Feedback geht auch an unser eigenes System: Unser CRM." in notice
    assert "ACME" not in notice.split("Möchten Sie")[0], "a third party is asked separately"


async def share_question(shop: Harness, user: int, language: str) -> str:
    """The question asking to pass the feedback on, as the person reads it."""
    agree, comment = {"de": ("Ja, ich willige ein", "Gut"), "en": ("Yes, I agree", "Good")}[
        language
    ]
    customer = shop.customer(user, language_code=language)
    await customer.send("/start product")
    await customer.press(agree)
    await customer.press("2")
    [question] = await customer.send(comment)
    return str(question["text"])


@pytest.mark.parametrize(
    ("language", "told"),
    [
        (
            "de",
            [
                "Wenn Sie zustimmen, erhält ACME GmbH Ihre Antwort auf „Wie zufrieden sind "
                "Sie?“, zusammen mit einer Kennnummer des Feedbacks.",
                "ACME GmbH hat sie bis zu dem Tag zu löschen, an dem wir Ihr Feedback löschen "
                "(es wird 180 Tage lang aufbewahrt), und früher, wenn Sie diese Einwilligung "
                "widerrufen oder Ihre Daten löschen.",
            ],
        ),
        (
            "en",
            [
                "If you agree, ACME GmbH receives your answer to “How satisfied are you?”, "
                "together with a reference number for the feedback.",
                "ACME GmbH is to delete them by the day we delete your feedback (it is kept "
                "for 180 days), and sooner if you withdraw this consent or erase your data.",
            ],
        ),
    ],
)
async def test_the_question_to_pass_feedback_on_names_the_recipient_what_and_until_when(
    shop: Harness, language: str, told: list[str]
) -> None:
    """DPO review: it showed only the prompt, the purpose and the withdrawal line, so
    nobody knew whom their feedback would go to, what of it, or for how long."""
    question = await share_question(shop, 31, language)
    for sentence in told:
        assert sentence in question, question
    assert "Kommentar" not in question and "comment" not in question, "not among its fields"
    assert "CRM" not in question, "our own system is named in the survey's consent request"


async def test_a_renamed_recipient_asks_again_and_is_named_in_the_proof(
    shop: Harness, receiver: Receiver
) -> None:
    """Erika agreed to pass her feedback to ACME GmbH; the operator gives the recipient
    (same id) to another company. Her consent does not stand for it: she is asked again,
    and the text her new consent's SHA-256 is of names the new one."""
    await product_feedback(shop, 32, share=True)
    recipients = shop.settings.recipients_file
    assert recipients is not None and shop.store is not None
    recipients.write_text(recipients.read_text().replace("ACME GmbH", "Other Corp Ltd (USA)"))
    await shop.restart()
    erika = shop.customer(32)
    again = texts(await erika.send("/start product"))
    assert "Diese Anfrage hat sich geändert, seit Sie eingewilligt haben" in again
    await erika.press("Ja, ich willige ein")
    await erika.press("2")
    [question] = await erika.send("Gut")
    assert "erhält Other Corp Ltd (USA) Ihre Antwort" in question["text"]
    await erika.press("Ja, einverstanden")
    shared = [
        c
        for c in await shop.store.consents(shop.store.pseudonym("tg-user:32"))
        if c.purpose == "share_acme"
    ]
    assert len({(c.notice_version, c.text_sha256) for c in shared}) == 2
    [archived] = await shop.store.consent_texts(shared[-1].notice_version, shared[-1].text_sha256)
    assert "erhält Other Corp Ltd (USA)" in archived.text and "erhält ACME" not in archived.text


async def test_privacy_notice_names_the_configured_recipients(shop: Harness) -> None:
    notice = texts(await shop.customer(9).send("/datenschutz"))
    assert "ACME GmbH, nur wenn Sie gesondert einwilligen" in notice
    assert "Unser CRM, unser eigenes System" in notice


@pytest.mark.parametrize("command", [["run"], ["docs", "processing-record"]])
def test_a_purpose_to_pass_feedback_on_is_refused_without_its_recipient(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    """People would be asked to let their feedback go to ACME, and their consent recorded,
    with nobody configured to receive it; the notices would name no recipient for it."""
    from bot.cli import main

    for name in list(os.environ):
        if name.startswith("FEEDBACKBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "product.toml").write_text(FLOW, encoding="utf-8")
    monkeypatch.setenv("FEEDBACKBOT_FLOWS_DIR", str(flows))
    monkeypatch.setenv("FEEDBACKBOT_TOKEN", "123:abc")
    monkeypatch.setenv("FEEDBACKBOT_CONTROLLER_NAME", "Beispiel GmbH")
    monkeypatch.setenv("FEEDBACKBOT_CONTROLLER_CONTACT", "datenschutz@beispiel.de")
    assert main(command) == 1
    said = capsys.readouterr().err
    assert "the purpose 'share_acme' of flow 'product' passes feedback on" in said
    assert "FEEDBACKBOT_RECIPIENTS_FILE" in said and "Traceback" not in said
    assert not (tmp_path / "data").exists(), "refused before anything was written"


async def test_a_deletion_notice_is_audited_with_every_feedback_it_names(
    shop: Harness, receiver: Receiver
) -> None:
    """Found by a staff-side audit: one notice for three feedbacks read "records=1"."""
    await product_feedback(shop, 12, share=False)
    shop.clock.advance(timedelta(hours=1))
    customer = shop.customer(12)
    await customer.send("/start product")  # agreed already: the first question
    await customer.press("3")
    await customer.send("Noch einmal")
    await customer.press("Nein")
    await drained(shop)
    await customer.send("/loeschen")
    await customer.press("Alles löschen")
    await drained(shop)
    [notice] = [p for p in receiver.payloads("/crm") if p["type"] == "deletion"]
    assert len(notice["feedback_ids"]) == 2
    assert shop.store is not None
    entries = await shop.store.audit_entries(shop.clock() - timedelta(days=1))
    [audited] = [e for e in entries if e.event == "deletion-notice" and e.actor == "crm"]
    assert audited.records == 2


async def test_a_crash_as_a_withdrawal_queues_its_notice_still_asks_the_recipient(
    shop: Harness, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by review: the withdrawal erased the feedback first, and the purge at the
    next start deleted the records of passing it on: nothing was left to tell crm."""
    await product_feedback(shop, 16, share=False)
    await drained(shop)
    assert kinds(receiver, "/crm") == ["feedback"]
    assert shop.store is not None

    async def crash(notice: DeletionNotice) -> int:
        raise RuntimeError("the process dies here")

    monkeypatch.setattr(shop.store, "queue_notice", crash)
    customer = shop.customer(16)
    await customer.send("/widerruf")
    await customer.press("Speicherung Ihrer Produktbewertung")  # dies on the way
    monkeypatch.undo()
    await shop.restart()  # purges at start
    await drained(shop)
    await customer.send("/widerruf")
    withdrawn = texts(await customer.press("Speicherung Ihrer Produktbewertung"))
    assert "gelöscht" in withdrawn, "nothing was erased before the notice was kept"
    await drained(shop)
    assert kinds(receiver, "/crm") == ["feedback", "deletion"]


async def _fill_store(h: Harness) -> None:
    store = h.store
    assert store is not None
    await store.set_max_page_count(1)
    now = h.clock()
    for size in (700, 100, 20):
        for _ in range(100_000):
            try:
                await store.save_draft(
                    store.pseudonym(f"filler:{secrets.token_hex(8)}"),
                    Draft(
                        payload={"f": secrets.token_hex(size)},
                        updated_at=now,
                        expires_at=now + timedelta(hours=1),
                    ),
                )
            except StorageFull:
                break


async def test_a_withdrawal_on_a_full_store_erases_and_asks_the_recipient_once(
    shop: Harness, receiver: Receiver
) -> None:
    """Found by a second review: the notices went out first, then the withdrawal failed
    on the full store (no fallback, unlike an erasure): crm was asked to delete feedback
    that stayed, and again at each retry."""
    await product_feedback(shop, 31, share=False)
    c = shop.customer(31)
    for _ in range(59):  # feedback at many minutes: many new cache buckets to invalidate
        shop.clock.advance(timedelta(hours=3, minutes=7))
        await c.send("/start product")
        await c.press("2")
        await c.send("Kommentar")
        await c.press("Nein")
    await drained(shop)
    assert kinds(receiver, "/crm") == ["feedback"] * 60
    assert shop.store is not None
    customer = shop.customer(31)
    p = shop.store.pseudonym("tg-user:31")
    await customer.send("/widerruf")
    # An hour later the purge forgets cache rows without figures (CACHE_ROW_MEMORY, wall
    # clock): done here directly.
    await shop.store._conn().execute("DELETE FROM main.summary_cache WHERE ciphertext IS NULL")
    await shop.store._conn().commit()
    await _fill_store(shop)
    first = texts(await customer.press("Speicherung Ihrer Produktbewertung"))
    await drained(shop)
    left = await shop.store.feedback_of(p, shop.clock())
    in_force = [c.in_force for c in await shop.store.consents(p) if c.purpose == "product_rating"]
    assert "gelöscht" in first and left == [] and in_force == [False]
    assert "keine" in texts(await customer.send("/widerruf")), "nothing left to withdraw"
    await drained(shop)
    assert kinds(receiver, "/crm")[60:] == ["deletion"], "asked once, and the feedback went"


async def test_on_a_disk_still_full_recipients_are_not_asked_to_delete_what_stays(
    shop: Harness, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by the review of a fix: once an erasure or a withdrawal on a full disk was
    answered "send it again later", crm was asked to delete the feedback each time,
    while the bot kept it. (The disk itself: tests/reliability/test_real_full_disk.py.)"""
    await product_feedback(shop, 17, share=False)
    await drained(shop)
    assert shop.store is not None

    async def full() -> bool:
        return True

    monkeypatch.setattr(shop.store, "out_of_room", full)
    customer = shop.customer(17)
    await customer.send("/widerruf")
    refused = texts(await customer.press("Speicherung Ihrer Produktbewertung"))
    assert refused.startswith("Unser Speicher ist voll")
    await customer.send("/loeschen")
    assert texts(await customer.press("Alles löschen")).startswith("Unser Speicher ist voll")
    await drained(shop)
    assert kinds(receiver, "/crm") == ["feedback"]
    monkeypatch.undo()
    await customer.send("/loeschen")
    assert "Erledigt" in texts(await customer.press("Alles löschen"))
    await drained(shop)
    assert kinds(receiver, "/crm") == ["feedback", "deletion"]


async def test_https_to_a_recipient_may_go_through_the_proxy_of_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only plain http is kept from the proxy (see the test above): a bot that reaches the
    internet through a company proxy reaches its https recipients through it, encrypted
    end to end (mutation audit: a client ignoring the environment passed every test)."""
    import socket

    from bot.webhooks import WebhookSender
    from flows.sharing import Recipient

    listener = socket.create_server(("127.0.0.1", 0))
    asked: list[bytes] = []

    def proxy() -> None:
        with contextlib.suppress(OSError):
            connection, _ = listener.accept()
            with connection:
                asked.append(connection.recv(1024))

    thread = threading.Thread(target=proxy, daemon=True)
    thread.start()
    for name in ("no_proxy", "NO_PROXY", "https_proxy", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{listener.getsockname()[1]}")
    sender = WebhookSender(
        SimpleNamespace(), SimpleNamespace(), [], "de", datetime.now, timeout=5, deadline=5
    )
    recipient = Recipient(
        id="crm", name="CRM", url="https://crm.invalid/hook", secret=CRM_SECRET, internal=True
    )
    try:
        await sender._post(recipient, b"{}")
    finally:
        thread.join(5)
        listener.close()
        if sender._client is not None:
            await sender._client.aclose()
    assert asked and asked[0].startswith(b"CONNECT crm.invalid:443"), asked
