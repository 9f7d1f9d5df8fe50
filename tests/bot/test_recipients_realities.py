"""Recipients as they are in the field: a CRM that answers slowly or with a large body,
a mistyped URL, a recipients file checked before deploying, a recipient renamed, and a
recipient that fails for a reason the operator has to tell apart.

Real loopback HTTP(S) servers and the bot's own fixtures (tests/bot/test_sharing.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import sqlite3
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bot.cli import main
from bot.cli.staff import shown_detail
from bot.config import configured_recipients
from bot.webhooks import WebhookSender
from flows.catalog import FlowCatalog
from flows.i18n import translator
from flows.sharing import (
    CERTIFICATE_NOT_TRUSTED,
    CONNECTION_REFUSED,
    FAILED,
    GAVE_UP,
    GAVE_UP_MAY_HAVE_ARRIVED,
    HOST_NOT_FOUND,
    INVALID_URL,
    NO_LONGER_CONFIGURED,
    NOT_SENT,
    TIMED_OUT,
    RecipientsError,
    load_recipients,
)
from storage.interface import DeletionNotice
from tests.bot.test_sharing import (  # noqa: F401  (fixtures)
    Receiver,
    drained,
    product_feedback,
    receiver,
    shop,
)
from tests.flows.test_check import BAKERY
from tests.harness import Harness, make_settings

# How long a test waits for what takes a fraction of a second when it works: long enough
# for a loaded machine, and the bound a test fails by when it does not.
PATIENCE = 20.0


def _webhooks(harness: Harness) -> WebhookSender:
    assert harness.app is not None and harness.app.bot_data.webhooks is not None
    return harness.app.bot_data.webhooks


def _point_crm_at(harness: Harness, url: str) -> None:
    webhooks = _webhooks(harness)
    webhooks.recipients["crm"] = webhooks.recipients["crm"].model_copy(update={"url": url})


async def _until(condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.05)
    return condition()


async def _crm_audit(harness: Harness, event: str = "webhook") -> list[str]:
    assert harness.store is not None
    entries = await harness.store.audit_entries(harness.clock() - timedelta(days=1))
    return [e.detail or "" for e in entries if e.event == event and e.actor == "crm"]


# --- only the status of the answer counts, and an attempt has a deadline -------------------


class SlowCrm:
    """A CRM that takes a feedback and answers it as scripted; a deletion notice gets a
    plain 200.

    "trickling body": 200 at once, then a body of a byte every 50 ms, without end;
    "cut-off body": 200 announcing 100 bytes, 10 sent, then nothing;
    "trickling head": the status line, then a header a byte every 50 ms, without end
    (each byte well within the read timeout: only a deadline ends the attempt).
    """

    def __init__(self, answer: str) -> None:
        self.answer = answer
        self.payloads: list[dict[str, Any]] = []
        self.done = threading.Event()
        crm = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                crm.payloads.append(payload)
                try:
                    if payload["type"] != "feedback":
                        self.send_response(200)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                    else:
                        crm.answer_feedback(self)
                except OSError:  # the bot hung up: as it should
                    self.close_connection = True

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer_feedback(self, handler: BaseHTTPRequestHandler) -> None:
        out = handler.wfile
        if self.answer == "trickling head":
            out.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            while not self.done.wait(0.05):
                out.write(b"x")
                out.flush()
            return
        handler.send_response(200)
        if self.answer == "cut-off body":
            handler.send_header("Content-Length", "100")
            handler.end_headers()
            out.write(b"x" * 10)
            out.flush()
            self.done.wait(PATIENCE)
            handler.close_connection = True
            return
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        while not self.done.wait(0.05):
            out.write(b"1\r\nx\r\n")
            out.flush()

    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/crm"

    def kinds(self) -> list[str]:
        return [p["type"] for p in self.payloads]

    def close(self) -> None:
        self.done.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def slow_crm(request: pytest.FixtureRequest) -> Iterator[SlowCrm]:
    crm = SlowCrm(request.param)
    yield crm
    crm.close()


@pytest.mark.parametrize("slow_crm", ["trickling body", "trickling head"], indirect=True)
async def test_an_erasure_tells_a_recipient_that_answers_without_end(
    shop: Harness,  # noqa: F811
    slow_crm: SlowCrm,
) -> None:
    """The CRM (or a proxy before it) answers a byte at a time, each well within the read
    timeout. The deletion notice of an erasure waits for the attempt under way: it goes
    out all the same, the attempt ending with its status or at its deadline."""
    _point_crm_at(shop, slow_crm.url())
    _webhooks(shop).deadline = 0.5
    await product_feedback(shop, 42, share=False)
    assert await _until(lambda: slow_crm.kinds() == ["feedback"])
    customer = shop.customer(42)
    await customer.send("/loeschen")
    await customer.press("Alles löschen")
    told = await _until(lambda: "deletion" in slow_crm.kinds())
    assert told, f"no deletion notice {PATIENCE:.0f} s after the erasure: {slow_crm.kinds()}"


@pytest.mark.parametrize("slow_crm", ["trickling head"], indirect=True)
async def test_an_answer_that_never_ends_counts_as_one_that_may_have_arrived(
    shop: Harness,  # noqa: F811
    slow_crm: SlowCrm,
) -> None:
    """The attempt's deadline passes after the feedback went out: the recipient may have
    stored it, so the delivery is kept (an erasure will tell that recipient)."""
    _point_crm_at(shop, slow_crm.url())
    webhooks = _webhooks(shop)
    webhooks.deadline, webhooks.retry_delays = 0.5, ()
    await product_feedback(shop, 45, share=False)
    await asyncio.wait_for(drained(shop), PATIENCE)
    assert await _crm_audit(shop) == [FAILED + TIMED_OUT, GAVE_UP_MAY_HAVE_ARRIVED]
    assert shop.store is not None
    [kept] = await shop.store.deliveries_of(shop.store.pseudonym("tg-user:45"))
    assert (kept.recipient, kept.unconfirmed, kept.pending) == ("crm", True, False)


@pytest.mark.parametrize("slow_crm", ["cut-off body"], indirect=True)
async def test_a_200_whose_body_is_cut_off_is_delivered_and_not_sent_again(
    shop: Harness,  # noqa: F811
    slow_crm: SlowCrm,
) -> None:
    """The CRM stored the feedback and said 200, then its body broke off: that is a
    delivery, not a timeout to retry (the CRM would get the feedback twice)."""
    _point_crm_at(shop, slow_crm.url())
    webhooks = _webhooks(shop)
    webhooks.timeout, webhooks.retry_delays = 5.0, (0.01,)  # (the old code waited it out)
    await product_feedback(shop, 43, share=False)
    await asyncio.wait_for(drained(shop), PATIENCE)
    assert await _crm_audit(shop) == ["delivered"]
    assert slow_crm.kinds() == ["feedback"], "sent twice although it answered 200"


async def test_a_huge_answer_body_is_not_downloaded(shop: Harness) -> None:  # noqa: F811
    """A recipient URL that answers 200 with 64 MB (a misconfigured endpoint, a download):
    the bot reads the status and hangs up, for every delivery and every retry."""
    size = 64 * 1024 * 1024
    written = [0]
    answered = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            chunk = b"x" * (1024 * 1024)
            try:
                for _ in range(size // len(chunk)):
                    self.wfile.write(chunk)
                    written[0] += len(chunk)
            except OSError:
                pass
            finally:
                answered.set()
            self.close_connection = True

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _point_crm_at(shop, f"http://127.0.0.1:{server.server_address[1]}/crm")
        await product_feedback(shop, 44, share=False)
        await asyncio.wait_for(drained(shop), PATIENCE)
        assert await asyncio.to_thread(answered.wait, PATIENCE)
        assert await _crm_audit(shop) == ["delivered"]
        assert written[0] < 8 * 1024 * 1024, f"the bot downloaded {written[0] >> 20} MB"
    finally:
        server.shutdown()
        server.server_close()


# --- a URL no request can be made to -------------------------------------------------------

CRM = """
[[recipients]]
id = "crm"
name = "Unser CRM"
url = "{url}"
secret = "crm-secret-0123456789"
internal = true
fields = ["feedback_id", "rating"]
"""


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("https://crm.example.com:44e3/hooks/feedback", "port"),  # a typo in the port
        ("https://crm.example.com:70000/hooks/feedback", "port"),
        ("https://crm.example.com:0/hooks/feedback", "port"),
        ("https://xn--zz.example.com/hooks/feedback", "host name"),  # no valid IDNA
        ("https://crm.xn--zz.example/hooks/feedback", "host name"),
    ],
)
def test_a_recipient_url_no_request_can_be_made_to_is_refused_at_load(
    tmp_path: Path, url: str, said: str
) -> None:
    path = tmp_path / "recipients.toml"
    path.write_text(CRM.format(url=url), encoding="utf-8")
    with pytest.raises(RecipientsError, match=f"recipient 'crm': url: .*{said}") as refused:
        load_recipients(path, FlowCatalog.load())
    assert "hooks" not in str(refused.value), "only scheme and host are repeated"


@pytest.mark.parametrize(
    "url",
    [
        "https://crm.example.com:8443/hooks/feedback",
        "https://bücher.example/hooks/feedback",
        "https://xn--bcher-kva.example/hooks/feedback",
        "https://crm_app.internal/hooks/feedback",  # no valid DNS name, yet resolvable
        "http://[::1]:8080/hooks/feedback",
    ],
)
def test_a_recipient_url_with_a_port_or_an_international_host_is_taken(
    tmp_path: Path, url: str
) -> None:
    path = tmp_path / "recipients.toml"
    path.write_text(CRM.format(url=url), encoding="utf-8")
    [crm] = load_recipients(path, FlowCatalog.load())
    assert crm.url == url


async def test_a_url_no_request_can_be_made_to_is_audited_given_up_and_settled(
    shop: Harness,  # noqa: F811
    receiver: Receiver,  # noqa: F811
) -> None:
    """A URL that no request can be made to (let past the recipients check, or edited in
    place) fails at once, not retried: the delivery is audited and settled, and an
    erasure's deletion notice is audited for asking by hand, not kept for ever."""
    await product_feedback(shop, 41, share=False)  # reaches the CRM
    await asyncio.wait_for(drained(shop), PATIENCE)
    [delivered] = receiver.payloads("/crm")
    _point_crm_at(shop, "http://127.0.0.1:80x0/crm")  # (model_copy does not validate)
    await product_feedback(shop, 46, share=False)
    await asyncio.wait_for(drained(shop), PATIENCE)
    store = shop.store
    assert store is not None
    assert await store.pending_deliveries() == []
    audited = await _crm_audit(shop)
    assert audited == ["delivered", FAILED + INVALID_URL, GAVE_UP]
    customer = shop.customer(41)
    await customer.send("/loeschen")
    await customer.press("Alles löschen")
    await asyncio.wait_for(drained(shop), PATIENCE)
    assert await store.pending_notices() == []
    asked_by_hand = (await _crm_audit(shop, "deletion-notice"))[-1]
    assert asked_by_hand == NOT_SENT + delivered["feedback_id"]


# --- `check` checks the recipients file, whatever the flows declare ------------------------

SHIPPED_FLOWS = Path(__file__).resolve().parents[2] / "flows" / "definitions"
BROKEN_CRM = """
[[recipients]]
id = "crm"
name = "Unser CRM"
url = "http://crm.example.com/hooks/feedback"
secret = "short"
internal = true
fields = ["feedback_id", "rating"]
"""


@pytest.mark.parametrize("named_by", ["--recipients", "FEEDBACKBOT_RECIPIENTS_FILE"])
def test_check_reports_a_recipients_file_the_bot_refuses_with_flows_passing_nothing_on(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    named_by: str,
) -> None:
    """The company's CRM as an internal recipient, checked before deploying as the README
    says, against the shipped flows (none passes feedback on): each problem the bot would
    refuse to start with is an error against the recipients file."""
    monkeypatch.delenv("FEEDBACKBOT_FLOWS_DIR", raising=False)
    recipients = tmp_path / "recipients.toml"
    recipients.write_text(BROKEN_CRM, encoding="utf-8")
    settings = make_settings(tmp_path / "data", recipients_file=recipients)
    with pytest.raises(RecipientsError, match="secret"):
        configured_recipients(settings, FlowCatalog.load())
    command = ["check", "--lang", "en", str(SHIPPED_FLOWS)]
    if named_by == "--recipients":
        monkeypatch.delenv("FEEDBACKBOT_RECIPIENTS_FILE", raising=False)
        command[1:1] = ["--recipients", str(recipients)]
    else:
        monkeypatch.setenv("FEEDBACKBOT_RECIPIENTS_FILE", str(recipients))
    assert main(command) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == [
        f"{recipients}:1: error: recipient 'crm': url: 'http://crm.example.com/…' would send "
        "feedback unencrypted; use https:// (plain http only to localhost)",
        f"{recipients}:1: error: recipient 'crm': secret: use at least 16 characters",
    ]
    assert out[-1].startswith("2 errors and 0 warnings in "), out


def test_check_names_a_mistyped_field_of_an_internal_recipient(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FEEDBACKBOT_FLOWS_DIR", raising=False)
    recipients = tmp_path / "recipients.toml"
    recipients.write_text(CRM.format(url="https://crm.example.com/in"), encoding="utf-8")
    flows = str(SHIPPED_FLOWS / "feedback.toml")
    assert main(["check", "--lang", "en", "--recipients", str(recipients), flows]) == 0
    assert capsys.readouterr().out == "No problems in 2 files.\n"
    recipients.write_text(recipients.read_text().replace('"rating"', '"comentt"'))
    assert main(["check", "--lang", "en", "--recipients", str(recipients), flows]) == 1
    assert capsys.readouterr().out.startswith(
        f"{recipients}:1: error: recipient 'crm' lists fields no flow has: comentt (known: "
    )


def test_a_flow_that_does_not_load_is_no_error_of_the_recipients_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a flow author's walk-through: a typo in a flow made its fields unknown, and
    `check` printed first two errors of the recipients file naming them."""
    monkeypatch.delenv("FEEDBACKBOT_FLOWS_DIR", raising=False)
    recipients = tmp_path / "recipients.toml"
    recipients.write_text(
        CRM.format(url="https://crm.example.com/in").replace('"rating"', '"bread"'),
        encoding="utf-8",
    )
    bakery = tmp_path / "baeckerei.toml"
    bakery.write_text(BAKERY, encoding="utf-8")
    command = ["check", "--lang", "en", "--recipients", str(recipients), str(bakery)]
    assert main(command) == 0  # (a warning: the flow is in German only)
    assert "0 errors and 1 warning in 2 files" in capsys.readouterr().out
    bakery.write_text(BAKERY.replace("title =", "tilte ="), encoding="utf-8")
    assert main(command) == 1
    out = capsys.readouterr().out
    errors = [line for line in out.splitlines() if ": error: " in line]
    assert len(errors) == 1 and errors[0].startswith(f"{bakery}:2: error:"), out
    assert "unknown key 'tilte'" in out and "bread" not in out, out
    assert (
        f"{recipients}: warning: not checked against the flows' fields and purposes, as 1 "
        "flow file did not load"
    ) in out
    # its own mistakes are still said
    recipients.write_text(recipients.read_text().replace("https://", "http://"))
    assert main(command) == 1
    assert "would send feedback unencrypted" in capsys.readouterr().out


def test_a_settings_error_leaves_the_recipients_file_checked_against_the_flows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by review: an error of the settings (a malformed token) was counted as a flow
    that did not load, and the recipients file went unchecked against the flows."""
    monkeypatch.delenv("FEEDBACKBOT_FLOWS_DIR", raising=False)
    monkeypatch.setenv("FEEDBACKBOT_TOKEN", "notatoken")
    monkeypatch.setenv("FEEDBACKBOT_DATA_DIR", str(tmp_path / "data"))
    recipients = tmp_path / "recipients.toml"
    crm = CRM.format(url="https://crm.example.com/in").replace('"rating"', '"comentt"')
    recipients.write_text(crm, encoding="utf-8")
    assert main(["check", "--lang", "en", "--recipients", str(recipients)]) == 1
    out = capsys.readouterr().out
    assert "FEEDBACKBOT_TOKEN: error:" in out, out
    assert "recipient 'crm' lists fields no flow has: comentt" in out, out
    assert "not checked against the flows" not in out


def test_check_names_every_problem_of_the_recipients_file_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A URL refused and a mistyped field in one entry, a field mistyped in another: all
    three in one run (found by review: the fields were checked only once the URL and the
    secret were right, so each fix brought the next error)."""
    monkeypatch.delenv("FEEDBACKBOT_FLOWS_DIR", raising=False)
    recipients = tmp_path / "recipients.toml"
    crm = CRM.format(url="http://crm.example.com/in").replace('"rating"', '"ratin"')
    tickets = CRM.format(url="https://tickets.example.com/in").replace('"crm"', '"tickets"')
    tickets = tickets.replace('"feedback_id"', '"comentt"')
    recipients.write_text(crm + tickets, encoding="utf-8")
    flows = str(SHIPPED_FLOWS / "feedback.toml")
    assert main(["check", "--lang", "en", "--recipients", str(recipients), flows]) == 1
    errors = [line for line in capsys.readouterr().out.splitlines() if ": error: " in line]
    assert len(errors) == 3, errors
    assert "recipient 'crm': url: 'http://crm.example.com/…' would send" in errors[0]
    assert "recipient 'crm' lists fields no flow has: ratin (known: " in errors[1]
    assert "recipient 'tickets' lists fields no flow has: comentt (known: " in errors[2]


# --- a recipient renamed, or replaced under the same purpose -------------------------------


async def test_withdrawing_after_a_recipient_was_renamed_names_it_in_the_audit_trail(
    shop: Harness,  # noqa: F811
    receiver: Receiver,  # noqa: F811
) -> None:
    """ACME got the feedback as "acme"; the operator renamed the entry "acme_gmbh" (or
    put another partner under the same purpose). The person withdraws the consent to pass
    it on: "acme" can get no notice; it got the feedback under that consent, as recorded,
    so the audit trail names what to ask it to delete."""
    await product_feedback(shop, 61, share=True)
    await drained(shop)
    [sent] = receiver.payloads("/acme")
    recipients = shop.settings.recipients_file
    assert recipients is not None
    recipients.write_text(recipients.read_text().replace('id = "acme"', 'id = "acme_gmbh"'))
    await shop.restart()
    customer = shop.customer(61)
    await customer.send("/widerruf")
    await customer.press("Weitergabe an ACME")
    await asyncio.wait_for(drained(shop), PATIENCE)
    assert shop.store is not None
    entries = await shop.store.audit_entries(shop.clock() - timedelta(days=1))
    asked_by_hand = [
        e.detail or "" for e in entries if e.event == "deletion-notice" and e.actor == "acme"
    ]
    assert asked_by_hand == [f"not sent; ask by hand to delete: {sent['feedback_id']}"]


async def test_a_recipient_given_another_purpose_is_asked_to_delete_what_it_got_before(
    shop: Harness,  # noqa: F811
    receiver: Receiver,  # noqa: F811
) -> None:
    """ACME got the feedback under the consent "share_acme"; the operator then renamed
    that purpose "share_partner", in the flow and in ACME's entry. The person withdraws
    the consent they gave: ACME is asked to delete what it got under it (it was skipped,
    as its purpose now is another, and kept the feedback with no trace anywhere)."""
    await product_feedback(shop, 64, share=True)
    await drained(shop)
    [sent] = receiver.payloads("/acme")
    recipients, flows = shop.settings.recipients_file, shop.settings.flows_dir
    assert recipients is not None and flows is not None
    for path in (recipients, flows / "product.toml"):
        path.write_text(path.read_text().replace("share_acme", "share_partner"))
    await shop.restart()
    customer = shop.customer(64)
    await customer.send("/widerruf")
    await customer.press("share_acme (wird nicht mehr erfragt)")
    await asyncio.wait_for(drained(shop), PATIENCE)
    deletion = [p for p in receiver.payloads("/acme") if p["type"] == "deletion"]
    assert [p["feedback_ids"] for p in deletion] == [[sent["feedback_id"]]]


async def test_a_delivery_from_before_purposes_were_recorded_is_named_as_unsure(
    shop: Harness,  # noqa: F811
    receiver: Receiver,  # noqa: F811
) -> None:
    """A delivery made before the store recorded the consent it went under (data schema
    v17), to a recipient renamed since: whether it served the withdrawn purpose cannot be
    told, so the audit trail names what to ask it to delete, saying why it is unsure."""
    await product_feedback(shop, 61, share=True)
    await drained(shop)
    [sent] = receiver.payloads("/acme")
    recipients = shop.settings.recipients_file
    assert recipients is not None
    recipients.write_text(recipients.read_text().replace('id = "acme"', 'id = "acme_gmbh"'))
    await shop.stop()
    with contextlib.closing(sqlite3.connect(shop.settings.data_dir / "feedback.db")) as con, con:
        con.execute("UPDATE deliveries SET purpose = NULL")
    await shop.start()
    customer = shop.customer(61)
    await customer.send("/widerruf")
    await customer.press("Weitergabe an ACME")
    await asyncio.wait_for(drained(shop), PATIENCE)
    assert shop.store is not None
    entries = await shop.store.audit_entries(shop.clock() - timedelta(days=1))
    asked_by_hand = [
        e.detail or "" for e in entries if e.event == "deletion-notice" and e.actor == "acme"
    ]
    assert asked_by_hand == [NO_LONGER_CONFIGURED + sent["feedback_id"]]
    assert shown_detail(asked_by_hand[0], translator("en")) == (
        "no longer configured; if it received them under the withdrawn consent, ask it by "
        f"hand to delete: {sent['feedback_id']}"
    )


async def test_the_start_names_recipients_gone_from_the_file_with_notices_on_their_way(
    shop: Harness,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert shop.store is not None
    await shop.store.queue_notice(
        DeletionNotice(
            recipient="old_crm", reason="erasure", feedback_ids=["ab12"], queued_at=shop.clock()
        )
    )
    caplog.set_level(logging.WARNING, "bot.webhooks")
    await shop.restart()
    await asyncio.wait_for(drained(shop), PATIENCE)
    [warned] = [r for r in caplog.records if "no longer in the recipients file" in r.message]
    assert "old_crm" in warned.message and "crm," not in warned.message
    assert await shop.store.pending_notices() == []


# --- why a recipient fails, and which one ---------------------------------------------------


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that nobody vouches for (a CRM's own, or an expired
    one's stand-in) and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


async def test_a_failing_recipient_is_named_and_its_failure_told_apart(
    shop: Harness,  # noqa: F811
    receiver: Receiver,  # noqa: F811
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The CRM's certificate is its own; its host name was mistyped; it is down. The audit
    trail says which, the log names the recipient at its first failure and when it gives
    up, and warns again only after the recipient took something in between."""
    caplog.set_level(logging.INFO, "bot.webhooks")

    class Ok(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    tls = ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    tls.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*_self_signed(tmp_path))
    tls.socket = context.wrap_socket(tls.socket, server_side=True)
    threading.Thread(target=tls.serve_forever, daemon=True).start()
    closed = ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    refused_port = closed.server_address[1]
    closed.server_close()
    failing = {
        CERTIFICATE_NOT_TRUSTED: f"https://127.0.0.1:{tls.server_address[1]}/crm",
        HOST_NOT_FOUND: "https://crm.invalid/hooks/feedback",
        CONNECTION_REFUSED: f"http://127.0.0.1:{refused_port}/crm",
    }
    _webhooks(shop).retry_delays = ()
    try:
        for user, (cause, url) in enumerate(failing.items(), start=50):
            _point_crm_at(shop, url)
            await product_feedback(shop, user, share=False)
            await asyncio.wait_for(drained(shop), PATIENCE)
            assert (await _crm_audit(shop))[-2:] == [FAILED + cause, GAVE_UP]
    finally:
        tls.shutdown()
        tls.server_close()
    assert shown_detail(FAILED + HOST_NOT_FOUND, translator("en")) == (
        "failed: host name not found"
    )
    _point_crm_at(shop, receiver.url("/crm"))
    await product_feedback(shop, 53, share=False)
    await asyncio.wait_for(drained(shop), PATIENCE)
    _point_crm_at(shop, failing[CONNECTION_REFUSED])
    await product_feedback(shop, 54, share=False)
    await asyncio.wait_for(drained(shop), PATIENCE)
    logged = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "bot.webhooks"]
    assert [m for level, m in logged if level == "ERROR"] == [
        f"webhook to recipient crm failed for good ({cause})"
        for cause in (*failing, CONNECTION_REFUSED)
    ]
    assert [m for level, m in logged if level == "WARNING"] == [
        f"webhook to recipient crm failed ({CERTIFICATE_NOT_TRUSTED})",
        f"webhook to recipient crm failed ({CONNECTION_REFUSED})",
    ], "once at the first failure, again after the recipient took feedback"
