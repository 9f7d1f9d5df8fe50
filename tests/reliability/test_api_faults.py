"""Faults at the Bot API: a share of the bot's calls answered with 429 (retry_after),
500, a response slower than the read timeout, or a dropped connection, either before
the call reached Telegram or after it took effect.

People keep going as people do (pressing what they see, or /start again). Every
feedback is stored once, nobody is thanked twice, the error handler is never reached
and the log, written as in production, holds nothing personal or secret.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import random
import socket
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from telegram.error import NetworkError
from telegram.request import RequestData

from tests.fakes.botapi import BotApiServer, FakeBotApi, InProcessRequest
from tests.harness import TOKEN
from tests.reliability.canary import CanaryScanner
from tests.reliability.support import (
    BotProcess,
    InProcessBot,
    ProductionLog,
    SimulatedPerson,
    comment_parts,
    converse_in_process,
    drive_over_http,
    feedback_without_consent,
    integrity,
    people,
    process_env,
    read_back,
    scaled,
)

SEED = int(os.environ.get("RELIABILITY_SEED", "0")) or random.SystemRandom().randrange(1, 10**6)
FAULTS = ("429", "500", "slow", "drop_before", "drop_after")
SETUP_METHODS = frozenset({"getMe", "setMyCommands", "getUpdates", "deleteWebhook"})


class FaultyRequest(InProcessRequest):
    """The in-process transport, failing a share of calls the way HTTP to Telegram fails.

    * 429 / 500: Telegram's error body; the call did not take effect.
    * slow: the call takes effect, the answer comes after the read timeout (TimedOut).
    * drop_before: the connection drops before the request is sent (nothing happened).
    * drop_after: the call takes effect, then the connection drops before the answer.
    """

    def __init__(self, api: FakeBotApi, rng: random.Random, share: float) -> None:
        super().__init__(api, read_timeout=0.02)
        self.fake = api
        self.rng, self.share = rng, share
        self.injected: Counter[str] = Counter()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        if api_method in SETUP_METHODS or self.rng.random() >= self.share:
            return await super().do_request(url, method, request_data, *args, **kwargs)
        fault = self.rng.choice(FAULTS)
        self.injected[f"{api_method}:{fault}"] += 1
        if fault == "429":
            return 429, _body(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        if fault == "500":
            return 500, _body(500, "Internal Server Error")
        if fault == "drop_before":
            raise NetworkError("httpx.ConnectError: [Errno 104] Connection reset by peer")
        if fault == "slow":
            self.fake.delay_next(api_method, 1.0)  # longer than the read timeout
            return await super().do_request(url, method, request_data, *args, **kwargs)
        await super().do_request(url, method, request_data, *args, **kwargs)
        raise NetworkError(
            "httpx.RemoteProtocolError: Server disconnected without sending a response."
        )


def _body(status: int, description: str, parameters: dict[str, Any] | None = None) -> bytes:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return json.dumps(body).encode()


def canaries(crowd: list[SimulatedPerson]) -> CanaryScanner:
    scanner = CanaryScanner()
    scanner.add(TOKEN.split(":", 1)[1], "bot token")
    for person in crowd:
        scanner.add(person.comment_base, f"comment of {person.user_id}")
        scanner.person(person.user_id, first_name=person.first_name, username=person.username)
    return scanner


async def run_with_faults(tmp_path: Path, crowd_size: int, share: float) -> None:
    print(f"fault test seed: RELIABILITY_SEED={SEED}")
    api = FakeBotApi(TOKEN)
    request = FaultyRequest(api, random.Random(SEED), share)
    crowd = people(crowd_size, first_id=5_570_000_000)
    bot = InProcessBot(api, tmp_path / "data", request=request)
    with ProductionLog() as log:
        await bot.start()
        try:
            await asyncio.gather(*(converse_in_process(bot, p, max_actions=80) for p in crowd))
        finally:
            await bot.stop()
    assert sum(request.injected.values()) >= crowd_size, request.injected

    problems = []
    stored = await read_back(tmp_path / "data", crowd, datetime.now(UTC))
    for person in crowd:
        feedback, consents = stored[person.user_id]
        comments = comment_parts([f.answers.get("comment") for f in feedback])
        thanked = person.thanked(api.messages(person.chat_id))
        if thanked != 1:
            problems.append(f"{person.user_id} thanked {thanked} times")
        if len(set(comments)) != len(comments) or not feedback:
            problems.append(f"{person.user_id}: stored {comments}")
        if not set(comments) <= set(person.comments_sent):
            problems.append(f"{person.user_id}: stored {comments}, sent {person.comments_sent}")
        if not any(c.purpose == "feedback" for c in consents):
            problems.append(f"{person.user_id}: feedback without consent")
    assert not problems, "\n".join(problems) + f"\nfaults: {dict(request.injected)}"
    assert feedback_without_consent(tmp_path / "data") == 0
    assert integrity(tmp_path / "data" / "feedback.db") == "ok"

    unexpected = [
        line
        for record, line in zip(log.errors, log.error_lines(), strict=True)
        if not (record.name == "bot.render" and "sending failed" in line)
    ]
    assert not unexpected, f"errors beyond failed sends (error handler reached?): {unexpected}"
    assert "update failed" not in log.text
    canaries(crowd).assert_clean(tmp_path / "data", [("production log", log.text)])


async def test_faults_at_the_bot_api_lose_nothing_double_nothing_leak_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.render.MAX_RETRY_WAIT", 0.01)  # retry_after 1 s, waited 10 ms
    await run_with_faults(tmp_path, crowd_size=scaled(12, 12), share=0.25)


@pytest.mark.slow
async def test_many_people_under_heavy_faults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.render.MAX_RETRY_WAIT", 0.01)
    await run_with_faults(tmp_path, crowd_size=80, share=0.4)


# ---------------------------------------------------------------------------- over HTTP


class FaultProxy:
    """A loopback HTTP proxy in front of the Bot API double that fails a share of calls
    at the socket level: 429 and 500 answers, answers slower than the bot's read timeout,
    and connections dropped before the call is forwarded or after it took effect."""

    def __init__(self, upstream: str, rng: random.Random, share: float, slow: float) -> None:
        self.upstream = urlsplit(upstream)
        self.rng, self.share, self.slow = rng, share, slow
        self.injected: Counter[str] = Counter()
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: request lines carry the token."""

            def do_POST(self) -> None:
                proxy.serve(self)

            do_GET = do_POST

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/bot"

    def __enter__(self) -> FaultProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _fault(self, api_method: str) -> str | None:
        with self.lock:
            if api_method in SETUP_METHODS - {"getUpdates"} or self.rng.random() >= self.share:
                return None
            choices = ("500", "drop_before") if api_method == "getUpdates" else FAULTS
            fault = self.rng.choice(choices)
            self.injected[f"{api_method}:{fault}"] += 1
            return fault

    def serve(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        fault = self._fault(handler.path.rsplit("/", 1)[-1])
        if fault == "429":
            return _answer(
                handler, 429, _body(429, "Too Many Requests: retry after 1", {"retry_after": 1})
            )
        if fault == "500":
            return _answer(handler, 500, _body(500, "Internal Server Error"))
        if fault == "drop_before":
            return _drop(handler)
        status, answer = self._forward(handler, body)
        if fault == "drop_after":
            return _drop(handler)
        if fault == "slow":
            time.sleep(self.slow)
        _answer(handler, status, answer)

    def _forward(self, handler: BaseHTTPRequestHandler, body: bytes) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection(
            self.upstream.hostname, self.upstream.port, timeout=120
        )
        try:
            headers = {"Content-Type": handler.headers.get("Content-Type", "")}
            connection.request(handler.command, handler.path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()


def _answer(handler: BaseHTTPRequestHandler, status: int, body: bytes) -> None:
    try:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
    except OSError:
        handler.close_connection = True


def _drop(handler: BaseHTTPRequestHandler) -> None:
    handler.close_connection = True
    try:
        handler.connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def run_over_http(tmp_path: Path, crowd_size: int, share: float) -> None:
    print(f"HTTP fault test seed: RELIABILITY_SEED={SEED}")
    api = FakeBotApi(TOKEN)
    crowd = people(crowd_size, first_id=5_580_000_000)
    data, log = tmp_path / "data", tmp_path / "bot.log"
    with (
        BotApiServer(api) as server,
        FaultProxy(server.base_url, random.Random(SEED), share, slow=6.0) as proxy,
    ):
        bot = BotProcess(api, process_env(proxy.base_url, data), tmp_path, log)
        bot.start()
        try:
            bot.wait_ready()
            drive_over_http(
                api, crowd, until=lambda: False, deadline=time.monotonic() + 240, patience=7.0
            )
            assert bot.alive, "the bot died"
        finally:
            assert bot.stop() == 0, log.read_text()[-3000:]
    print(dict(proxy.injected))
    assert sum(proxy.injected.values()) >= crowd_size
    stored = asyncio.run(read_back(data, crowd, datetime.now(UTC)))
    for person in crowd:
        feedback, _ = stored[person.user_id]
        comments = comment_parts([f.answers.get("comment") for f in feedback])
        assert person.thanked(api.messages(person.chat_id)) == 1, person.user_id
        assert feedback and len(set(comments)) == len(comments), (person.user_id, comments)
    assert feedback_without_consent(data) == 0
    text = log.read_text(errors="replace")
    assert "update failed" not in text, "the error handler was reached"
    assert "Traceback" not in text
    canaries(crowd).assert_clean(data, [("bot.log", text)])


@pytest.mark.slow
def test_faults_over_http_with_the_real_process(tmp_path: Path) -> None:
    run_over_http(tmp_path, crowd_size=16, share=0.15)


async def test_a_failed_poll_is_not_logged_as_a_failed_update(tmp_path: Path) -> None:
    """Found by this suite: a failed getUpdates (polling retries by itself) reached the
    error handler without an update and was logged at ERROR as 'update failed'."""
    bot = InProcessBot(FakeBotApi(TOKEN), tmp_path / "data")
    await bot.start()
    try:
        with ProductionLog() as log:
            assert bot.app is not None
            await bot.app.process_error(None, NetworkError("httpx.ReadError: connection reset"))
    finally:
        await bot.stop()
    assert not log.errors, log.error_lines()


@pytest.mark.parametrize("status", [429, 500])
async def test_a_transient_error_registering_the_menu_does_not_stop_the_bot(
    tmp_path: Path, status: int
) -> None:
    """Found by this suite: a refused setMyCommands at start-up stopped `feedbackbot run`."""
    api = FakeBotApi(TOKEN)
    api.fail_next("setMyCommands", status, retry_after=1 if status == 429 else None)
    bot = InProcessBot(api, tmp_path / "data")
    try:
        await bot.start()
        [erika] = people(1, first_id=5_590_000_000)
        await bot.deliver(erika.act(api, ("text", "/start")))
        assert erika.next_action(api.messages(erika.chat_id)) == ("press", "Ja, ich willige ein")
    finally:
        await bot.stop()  # closes the store also when the start failed
