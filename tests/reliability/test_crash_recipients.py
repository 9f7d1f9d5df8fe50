"""Crash safety of passing feedback on: the bot process is killed with SIGKILL at random
moments while people give feedback over the loopback Bot API double, with one internal
recipient (an HTTP receiver in this process that mostly answers 200, sometimes 500 or
slowly). Some people erase their data: half of them as soon as they are thanked (kills
going on, their feedback possibly still on its way), half once everyone is done, the bot
running; it is killed once more during or right after those erasures.

After a final restart and letting deliveries drain (the recipient polled until quiet):
every feedback in the store reached the recipient at least once (duplicates allowed: a
crash mid-POST sends it again) with its content, and its delivery is settled in the
store; no feedback reached the recipient that is not in the store unless a deletion
notice for it arrived after it (only people who erased); every feedback of an erased
person that reached the recipient, even a failed attempt, has a deletion notice arriving
after its last copy; no notice names a feedback still kept; no delivery is left pending
and no deletion notice kept; both SQLite files pass `PRAGMA integrity_check`; no feedback
exists without its consent record; every request is signed; the log and files are clean.

The bot's retry delays (bot/webhooks.py RETRY_DELAYS) cannot be shortened in a
subprocess, so the receiver fails any one payload at most twice (retries after 1 s and
4 s); a delivery cut off by a kill is sent again by the resume at the next start.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from flows.sharing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from storage import Delivery, SQLiteStore
from tests.fakes.botapi import BotApiServer, FakeBotApi
from tests.reliability.support import (
    MASTER_KEY_BYTES,
    BotProcess,
    SimulatedPerson,
    feedback_without_consent,
    integrity,
    people,
    process_env,
    read_back,
    scaled,
    text_of,
)
from tests.reliability.test_crash_safety import (
    apologies,
    canaries_of,
    check_log,
    check_store,
    converse_while_killed,
)

SEED = int(os.environ.get("RELIABILITY_SEED", "0")) or random.SystemRandom().randrange(1, 10**6)
SECRET = "crm-secret-for-the-crash-test-0123"
MAX_FAILURES = 2  # per payload: the retries after 1 s and 4 s bring it through
ERASE = {
    "de": (
        "Alles löschen",
        "Erledigt. Alles, was über Sie gespeichert war",
        "Über Sie sind keine Daten",
    ),
    "en": ("Erase everything", "Done. Everything stored about you", "No data is stored"),
}


# ---------------------------------------------------------------------------- the story


class Story:
    """What happened when, told when a check fails: kills, starts, erasure steps, what
    arrived at the recipient, and the bot's log lines about feedback and erasure."""

    def __init__(self) -> None:
        self.events: list[tuple[datetime, str]] = []
        self.lock = threading.Lock()

    def add(self, what: str) -> None:
        with self.lock:
            self.events.append((datetime.now(), what))

    @contextmanager
    def told_on_failure(
        self, receiver: Receiver, crowd: list[SimulatedPerson], log: Path
    ) -> Iterator[None]:
        try:
            yield
        except AssertionError:
            print(self.tell(receiver.snapshot()[0], crowd, log))
            raise

    def tell(self, arrivals: list[Arrival], crowd: list[SimulatedPerson], log: Path) -> str:
        owner = Arrived.of(arrivals, crowd).owner
        lines = list(self.events)
        for a in arrivals:
            ids = a.payload.get("feedback_id") or a.payload.get("feedback_ids")
            who = f"of {owner[ids]}" if isinstance(ids, str) and ids in owner else ""
            at = a.at.astimezone().replace(tzinfo=None)
            lines.append((at, f"recipient got {a.kind} {ids} {who} -> {a.status}"))
        for line in log.read_text(errors="replace").splitlines():
            if any(
                w in line for w in ("stored", "erasure", "erased", "ready", "notice", "deliver")
            ):
                try:
                    at = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")
                except ValueError:
                    continue
                lines.append((at, f"bot log: {line[24:]}"))
        return "\n".join(f"{at:%H:%M:%S.%f} {what}" for at, what in sorted(lines))


class RecordedBot(BotProcess):
    """The bot process, its kills and starts told in the story."""

    def __init__(self, story: Story, *args: Any) -> None:
        super().__init__(*args)
        self.story = story

    def start(self) -> None:
        super().start()
        self.story.add(f"bot started (#{self.starts})")

    def kill(self) -> None:
        if self.alive:
            self.story.add("SIGKILL")
        super().kill()


# ---------------------------------------------------------------------------- the recipient


@dataclass
class Arrival:
    """One request as the recipient read it; `status` is None while it is being answered."""

    seq: int
    at: datetime
    payload: dict[str, Any]
    body: bytes
    headers: dict[str, str]
    status: int | None = None

    @property
    def kind(self) -> str:
        return str(self.payload.get("type"))

    @property
    def key(self) -> tuple[str, ...]:
        """The same payload sent again has the same key."""
        if self.kind == "feedback":
            return ("feedback", str(self.payload["feedback_id"]))
        return ("deletion", *self.payload.get("feedback_ids", []))


@dataclass
class Receiver:
    """The internal recipient: records what arrives (in the order its body was read) and
    answers 200, sometimes 500 (at most MAX_FAILURES times per payload) or only after a
    while (well within the bot's 10 s timeout), so that kills hit requests under way."""

    rng: random.Random
    fail_rate: float = 0.15
    slow_rate: float = 0.3
    arrivals: list[Arrival] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    failures: dict[tuple[str, ...], int] = field(default_factory=dict)
    in_flight: int = 0
    last_activity: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                try:
                    payload = json.loads(body)
                except ValueError:
                    return  # cut off by a kill: it never arrived
                status, delay, arrival = receiver._arrive(payload, body, dict(self.headers))
                try:
                    time.sleep(delay)
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the bot was killed meanwhile
                finally:
                    receiver._answered(arrival, status)

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/crm"

    def _arrive(
        self, payload: dict[str, Any], body: bytes, headers: dict[str, str]
    ) -> tuple[int, float, Arrival]:
        with self.lock:
            arrival = Arrival(len(self.arrivals), datetime.now(UTC), payload, body, headers)
            self.arrivals.append(arrival)
            self.in_flight += 1
            self.last_activity = time.monotonic()
            roll = self.rng.random()
            if roll < self.fail_rate and self.failures.get(arrival.key, 0) < MAX_FAILURES:
                self.failures[arrival.key] = self.failures.get(arrival.key, 0) + 1
                return 500, 0.0, arrival
            if roll < self.fail_rate + self.slow_rate:
                return 200, self.rng.uniform(0.2, 2.5), arrival
            return 200, 0.0, arrival

    def _answered(self, arrival: Arrival, status: int) -> None:
        with self.lock:
            arrival.status = status
            self.in_flight -= 1
            self.last_activity = time.monotonic()

    def snapshot(self) -> tuple[list[Arrival], int, float]:
        with self.lock:
            return list(self.arrivals), self.in_flight, self.last_activity


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver(random.Random(SEED + 1))
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def recipients_file(path: Path, receiver: Receiver) -> Path:
    path.write_text(
        f"""
[[recipients]]
id = "crm"
name = "Unser CRM"
url = "{receiver.url}"
secret = "{SECRET}"
internal = true
fields = ["feedback_id", "flow", "given_at", "rating", "comment"]
redact = false
""",
        encoding="utf-8",
    )
    return path


# ---------------------------------------------------------------------------- what arrived


@dataclass
class Arrived:
    """What the recipient got, by feedback id."""

    feedback: dict[str, list[Arrival]]  # every attempt, whatever the answer
    accepted: set[str]  # feedback ids answered with 200 at least once
    notices: dict[str, list[Arrival]]  # notices answered 200 that name the feedback id
    owner: dict[str, int]  # feedback id -> user id, by the comment it carried
    arrivals: list[Arrival]

    @classmethod
    def of(cls, arrivals: list[Arrival], crowd: list[SimulatedPerson]) -> Arrived:
        bases = {p.comment_base: p.user_id for p in crowd}
        feedback: dict[str, list[Arrival]] = {}
        notices: dict[str, list[Arrival]] = {}
        owner: dict[str, int] = {}
        accepted: set[str] = set()
        for arrival in arrivals:
            if arrival.kind == "feedback":
                feedback_id = str(arrival.payload["feedback_id"])
                feedback.setdefault(feedback_id, []).append(arrival)
                # A comment sent again where its question's reply was lost is joined to
                # the first, a line each: the first line's base names the person.
                comment = str(arrival.payload.get("answers", {}).get("comment", ""))
                base = comment.split("\n", 1)[0].rsplit("-", 1)[0]
                if base in bases:
                    owner[feedback_id] = bases[base]
                if arrival.status == 200:
                    accepted.add(feedback_id)
            elif arrival.status == 200:
                for feedback_id in arrival.payload.get("feedback_ids", []):
                    notices.setdefault(str(feedback_id), []).append(arrival)
        return cls(feedback, accepted, notices, owner, arrivals)

    def notice_after(self, feedback_id: str) -> bool:
        """A deletion notice for it arrived after its last copy did."""
        last = max(a.seq for a in self.feedback.get(feedback_id, []))
        return any(n.seq > last for n in self.notices.get(feedback_id, []))

    def owed(self) -> list[tuple[str, ...]]:
        """Payloads whose last answer was a failure, so that the bot still owes a retry
        (unless an erasure stopped the feedback and its notice came after it)."""
        last: dict[tuple[str, ...], Arrival] = {}
        for arrival in self.arrivals:
            last[arrival.key] = arrival
        return [
            key
            for key, arrival in last.items()
            if arrival.status != 200
            and not (key[0] == "feedback" and key[1] in self.notices and self.notice_after(key[1]))
        ]


def still_missing(
    receiver: Receiver,
    crowd: list[SimulatedPerson],
    erasers: list[SimulatedPerson],
    ready: float,
) -> list[str]:
    """What the bot has yet to send, as far as the recipient can tell; [] when drained.

    Drained means quiet, too, for a while since the bot was last ready: what it resumes
    at start is then through (and the bot is past its start-up when it is stopped)."""
    arrivals, in_flight, last_activity = receiver.snapshot()
    arrived = Arrived.of(arrivals, crowd)
    missing = []
    if in_flight:
        missing.append(f"{in_flight} requests being answered")
    missing += [f"a retry of {key}" for key in arrived.owed()]
    erased = {p.user_id for p in erasers}
    for person in crowd:
        if person.user_id not in erased and not any(
            arrived.owner.get(f) == person.user_id for f in arrived.accepted
        ):
            missing.append(f"any feedback of {person.user_id}")
    for feedback_id, user_id in arrived.owner.items():
        if user_id in erased and not arrived.notice_after(feedback_id):
            missing.append(f"the deletion notice for {feedback_id} of {user_id}")
    if not missing and time.monotonic() - max(last_activity, ready) < 1.5:
        missing.append("a quiet moment")
    return missing


def drain(
    receiver: Receiver,
    crowd: list[SimulatedPerson],
    erasers: list[SimulatedPerson],
    timeout: float,
) -> None:
    """Poll the recipient, the bot ready, until nothing more is on its way; `timeout` only
    stops a hang."""
    ready = time.monotonic()
    deadline = ready + timeout
    while missing := still_missing(receiver, crowd, erasers, ready):
        if time.monotonic() > deadline:
            raise AssertionError(f"after {timeout} s the recipient still lacks: {missing[:10]}")
        time.sleep(0.1)


# ---------------------------------------------------------------------------- erasure


@dataclass
class Erasure:
    """Someone erasing their data as people do: /loeschen, then the erase button, again
    from the start when the bot stays silent, until told it is done (or that nothing is
    stored: the erasure went through and its reply was lost to a kill)."""

    person: SimulatedPerson
    story: Story
    patience: float = 4.0
    step: str = "ask"
    last_id: int = 0  # the newest bot message when the person last acted
    at: float = 0.0

    @property
    def done(self) -> bool:
        return self.step == "done"

    def act(self, api: FakeBotApi, now: float) -> None:
        person = self.person
        label, done, nothing = ERASE[person.lang]
        messages = api.messages(person.chat_id)
        new = [m for m in messages if m["message_id"] > self.last_id]
        newest = max((m["message_id"] for m in messages), default=0)
        said = " ".join(text_of(m) for m in new)
        if self.step == "done":
            return
        if self.step == "ask":
            person.act(api, ("text", "/loeschen"))
            self.step, self.last_id, self.at = "asked", newest, now
            self.story.add(f"{person.user_id} sends /loeschen")
        elif done in said or nothing in said:
            self.step = "done"
            self.story.add(f"{person.user_id} is told: {said[:60]!r}")
        elif self.step == "asked" and any(
            label == shown for m in new for row in m["buttons"] for shown, _ in row
        ):
            person.act(api, ("press", label))
            self.step, self.last_id, self.at = "pressed", newest, now
            self.story.add(f"{person.user_id} presses {label!r}")
        elif now - self.at > self.patience:
            self.step = "ask"


def erase_over_http(
    api: FakeBotApi, bot: BotProcess, erasures: list[Erasure], *, kill_at: float, deadline: float
) -> None:
    """Let the erasures finish, the bot SIGKILLed and restarted `kill_at` seconds in
    (or right after the last erasure, if that is sooner)."""
    started = time.monotonic()
    killed = False
    while not all(e.done for e in erasures):
        now = time.monotonic()
        if now > deadline:
            raise AssertionError(f"erasures not done at the deadline: {erasures}")
        if not killed and now - started >= kill_at:
            bot.kill()
            bot.start()
            killed = True
        for erasure in erasures:
            erasure.act(api, now)
        time.sleep(0.02)
    if not killed:
        bot.kill()
        bot.start()


# ---------------------------------------------------------------------------- the store


async def left_in_store(
    data_dir: Path, crowd: list[SimulatedPerson]
) -> tuple[list[Any], list[Any], dict[str, list[Delivery]]]:
    """Deliveries pending, notices kept, and each feedback id's delivery records."""
    store = SQLiteStore(data_dir, MASTER_KEY_BYTES)
    await store.open()
    try:
        records: dict[str, list[Delivery]] = {}
        for person in crowd:
            for delivery in await store.deliveries_of(store.pseudonym(f"tg-user:{person.user_id}")):
                records.setdefault(delivery.feedback_id, []).append(delivery)
        return await store.pending_deliveries(), await store.pending_notices(), records
    finally:
        await store.close()


def check_recipient(
    data: Path, receiver: Receiver, crowd: list[SimulatedPerson], erasers: list[SimulatedPerson]
) -> None:
    stored = asyncio.run(read_back(data, crowd, datetime.now(UTC)))
    pending, notices, records = asyncio.run(left_in_store(data, crowd))
    arrivals, in_flight, _ = receiver.snapshot()
    assert in_flight == 0
    arrived = Arrived.of(arrivals, crowd)
    erased = {p.user_id for p in erasers}
    kept = {f.id: user_id for user_id, (feedback, _) in stored.items() for f in feedback}
    problems = []

    for person in erasers:
        feedback, consents = stored[person.user_id]
        if feedback or consents:
            problems.append(f"{person.user_id} erased, but {len(feedback)} feedback kept")
    for feedback_id, user_id in kept.items():
        comment = next(f for f in stored[user_id][0] if f.id == feedback_id).answers.get("comment")
        if feedback_id not in arrived.accepted:
            problems.append(f"stored feedback {feedback_id} of {user_id} never reached the CRM")
        elif arrived.owner.get(feedback_id) != user_id:
            problems.append(f"{feedback_id} of {user_id} reached the CRM as someone else's")
        if any(
            a.payload["answers"].get("comment") != comment
            for a in arrived.feedback.get(feedback_id, [])
        ):
            problems.append(f"{feedback_id} of {user_id} reached the CRM with other content")
        if feedback_id in arrived.notices:
            problems.append(f"a deletion notice names {feedback_id}, still kept for {user_id}")
        settled = [(d.recipient, d.pending) for d in records.get(feedback_id, [])]
        if settled != [("crm", False)]:
            problems.append(f"{feedback_id} of {user_id}: delivery records {settled}")
    for feedback_id in arrived.feedback:
        owner = arrived.owner.get(feedback_id)
        if feedback_id in kept:
            continue
        if owner not in erased:
            problems.append(f"{feedback_id} of {owner} reached the CRM but is in no store")
        elif not arrived.notice_after(feedback_id):
            problems.append(f"{feedback_id} of {owner}, erased: no deletion notice after it")
    for arrival in arrivals:
        headers = {k.lower(): v for k, v in arrival.headers.items()}
        if not verify(
            SECRET,
            headers.get(TIMESTAMP_HEADER.lower(), ""),
            arrival.body,
            headers.get(SIGNATURE_HEADER.lower(), ""),
            arrival.at,
        ):
            problems.append(f"request {arrival.seq} ({arrival.kind}) not validly signed")
        if arrival.kind == "deletion" and arrival.payload.get("reason") != "erasure":
            problems.append(f"request {arrival.seq}: a notice that is not about an erasure")
        if arrival.kind not in ("feedback", "deletion"):
            problems.append(f"request {arrival.seq}: unexpected {arrival.payload}")
    print(
        f"recipient: {len(arrivals)} requests, {len(arrived.feedback)} feedback"
        f" ({sum(len(a) > 1 for a in arrived.feedback.values())} more than once),"
        f" {sum(a.kind == 'deletion' for a in arrivals)} notices,"
        f" {sum(a.status != 200 for a in arrivals)} failed"
    )
    assert not problems, "\n".join(problems)
    assert pending == [], f"deliveries left pending: {pending}"
    assert notices == [], f"deletion notices left kept: {notices}"


# ---------------------------------------------------------------------------- the run


def run_crash_rounds_with_recipient(
    api: FakeBotApi,
    server: BotApiServer,
    receiver: Receiver,
    tmp_path: Path,
    crowd_size: int,
    rounds: int,
) -> None:
    rng = random.Random(SEED)
    print(f"crash test seed: RELIABILITY_SEED={SEED}")
    data, log = tmp_path / "data", tmp_path / "bot.log"
    crowd = people(crowd_size, first_id=5_570_000_000)
    erasers = crowd[1::3]  # half of them erase while the bot is being killed, half after
    story = Story()
    erasures = [Erasure(p, story) for p in erasers]
    early = erasures[::2]
    keepers = [p for p in crowd if p not in erasers]
    env = process_env(
        server.base_url,
        data,
        FEEDBACKBOT_RECIPIENTS_FILE=str(recipients_file(tmp_path / "recipients.toml", receiver)),
    )
    bot = RecordedBot(story, api, env, tmp_path, log)
    bot.start()

    def erase_when_thanked() -> None:  # as soon as thanked, kills or not
        for erasure in early:
            if erasure.person.thanked(api.messages(erasure.person.chat_id)):
                erasure.act(api, time.monotonic())

    try:
        converse_while_killed(api, bot, crowd, rounds, rng, each_turn=erase_when_thanked)

        # The others erase their data (and the early ones finish), the bot running; it is
        # killed once more, at a random moment during the erasures or right after them,
        # and started again.
        erase_over_http(
            api, bot, erasures, kill_at=rng.uniform(0.0, 1.5), deadline=time.monotonic() + 90
        )
        bot.wait_ready()
        with story.told_on_failure(receiver, crowd, log):
            drain(receiver, crowd, erasers, timeout=120)
    finally:
        code = bot.stop()
    assert code == 0, log.read_text()[-2000:]

    for name in ("feedback.db", "keys.db"):
        assert integrity(data / name) == "ok", name
    assert feedback_without_consent(data) == 0
    check_store(data, keepers, api)
    for person in crowd:
        assert person.thanked(api.messages(person.chat_id)) == 1, person.user_id
    assert not apologies(api, crowd), "someone was told that something went wrong"
    with story.told_on_failure(receiver, crowd, log):
        check_recipient(data, receiver, crowd, erasers)
    canaries_of(crowd).assert_clean(data, [("bot.log", log.read_bytes())])
    check_log(log)


def test_sigkill_loses_no_delivery_and_erasure_reaches_the_recipient(
    api: FakeBotApi, server: BotApiServer, receiver: Receiver, tmp_path: Path
) -> None:
    run_crash_rounds_with_recipient(
        api, server, receiver, tmp_path, crowd_size=scaled(9, 9), rounds=scaled(3, 3)
    )


@pytest.mark.slow
def test_many_people_many_kills_with_a_recipient(
    api: FakeBotApi, server: BotApiServer, receiver: Receiver, tmp_path: Path
) -> None:
    run_crash_rounds_with_recipient(api, server, receiver, tmp_path, crowd_size=36, rounds=12)
