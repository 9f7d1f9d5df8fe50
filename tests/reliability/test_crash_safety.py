"""Crash safety: the bot process is killed with SIGKILL at random moments while people
converse over the loopback Bot API double, and restarted each time.

Afterwards both SQLite files pass `PRAGMA integrity_check`; every feedback the bot
thanked for is stored exactly once (read back with the store code and the master key);
no feedback exists without its consent record; nobody was thanked twice; nothing of the
people is readable in any file or in the log; and unfinished conversations resume.
"""

from __future__ import annotations

import asyncio
import os
import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fakes.botapi import BotApiServer, FakeBotApi
from tests.harness import TOKEN
from tests.reliability.canary import CanaryScanner
from tests.reliability.support import (
    BotProcess,
    InProcessBot,
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
    text_of,
)

SEED = int(os.environ.get("RELIABILITY_SEED", "0")) or random.SystemRandom().randrange(1, 10**6)


class Killer(threading.Thread):
    """Kills the bot `rounds` times at random moments (some during start-up) and restarts it."""

    def __init__(self, bot: BotProcess, rounds: int, rng: random.Random) -> None:
        super().__init__(daemon=True, name="killer")
        self.bot, self.rounds, self.rng = bot, rounds, rng
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.moments: list[str] = []

    def run(self) -> None:
        try:
            for _ in range(self.rounds):
                if self.rng.random() < 0.25:
                    pause = self.rng.uniform(0.05, 0.8)
                    self.moments.append(f"{pause:.2f}s after start")
                else:
                    self.bot.wait_ready()
                    pause = self.rng.uniform(0.1, 2.0)
                    self.moments.append(f"{pause:.2f}s after ready")
                time.sleep(pause)
                self.bot.kill()
                self.bot.start()
            self.bot.wait_ready()
        except BaseException as error:  # re-raised by the test
            self.error = error
        finally:
            self.done.set()


def converse_while_killed(
    api: FakeBotApi,
    bot: BotProcess,
    crowd: list[SimulatedPerson],
    rounds: int,
    rng: random.Random,
    each_turn: Callable[[], None] = lambda: None,
) -> None:
    """The crowd converses over HTTP while a Killer kills and restarts `bot` `rounds`
    times, people arriving one after another so that kills hit every step; `each_turn`
    runs between the turns. Returns when everyone is done and the killing is over."""
    killer = Killer(bot, rounds, rng)
    arrivals = {
        p.user_id: time.monotonic() + i * rounds * 2.5 / len(crowd) for i, p in enumerate(crowd)
    }
    killer.start()
    deadline = time.monotonic() + 60 + rounds * 15
    while True:
        now = time.monotonic()
        started = [p for p in crowd if arrivals[p.user_id] <= now]
        drive_over_http(
            api, started, until=lambda now=now: time.monotonic() > now + 0.3, deadline=deadline
        )
        each_turn()
        if killer.done.is_set() and len(started) == len(crowd):
            break
        time.sleep(0.05)
    killer.join()
    if killer.error is not None:
        raise killer.error
    drive_over_http(api, crowd, until=lambda: False, deadline=deadline)
    assert bot.kills >= rounds, killer.moments


def canaries_of(crowd: list[SimulatedPerson]) -> CanaryScanner:
    scanner = CanaryScanner()
    scanner.add(TOKEN.split(":", 1)[1], "bot token")
    for person in crowd:
        scanner.add(person.comment_base, f"comment of {person.user_id}")
        scanner.person(person.user_id, first_name=person.first_name, username=person.username)
    return scanner


def check_store(data_dir: Path, crowd: list[SimulatedPerson], api: FakeBotApi) -> None:
    """Every thanked feedback stored, no conversation stored twice (each comment sent is
    unique, so a doubled conversation shows as a doubled comment), consent for every
    feedback, nobody thanked twice.

    A person may have one feedback more than thanks: a kill after the commit and before
    the thanks went out; they then start again, as people do.
    """
    stored = asyncio.run(read_back(data_dir, crowd, datetime.now(UTC)))
    problems = []
    for person in crowd:
        feedback, consents = stored[person.user_id]
        comments = comment_parts([f.answers.get("comment") for f in feedback])
        thanked = person.thanked(api.messages(person.chat_id))
        if thanked > 1:
            problems.append(f"{person.user_id} thanked {thanked} times")
        if len(set(comments)) != len(comments):
            problems.append(f"{person.user_id}: a conversation was stored twice: {comments}")
        if len(feedback) < thanked:
            problems.append(f"{person.user_id} was thanked, but nothing is stored")
        if not set(comments) <= set(person.comments_sent):
            problems.append(f"{person.user_id}: stored {comments}, sent {person.comments_sent}")
        if feedback and not any(c.purpose == "feedback" for c in consents):
            problems.append(f"{person.user_id} has feedback without a consent record")
    assert not problems, "\n".join(problems)
    assert feedback_without_consent(data_dir) == 0


def check_log(log: Path) -> None:
    text = log.read_text(errors="replace")
    assert "update failed" not in text, "the error handler was reached"
    assert "Traceback" not in text, text[text.find("Traceback") :][:3000]


def apologies(api: FakeBotApi, crowd: list[SimulatedPerson]) -> list[int]:
    return [
        p.user_id
        for p in crowd
        for m in api.messages(p.chat_id)
        if p.labels["apology"] in text_of(m)
    ]


def run_crash_rounds(
    api: FakeBotApi, server: BotApiServer, tmp_path: Path, crowd_size: int, rounds: int
) -> None:
    rng = random.Random(SEED)
    print(f"crash test seed: RELIABILITY_SEED={SEED}")
    data, log = tmp_path / "data", tmp_path / "bot.log"
    crowd = people(crowd_size, first_id=5_550_000_000)
    pausers = crowd[::5]
    for person in pausers:
        person.stop_at_comment = True
    bot = BotProcess(api, process_env(server.base_url, data), tmp_path, log)
    bot.start()
    try:
        converse_while_killed(api, bot, crowd, rounds, rng)
    finally:
        bot.kill()  # the last stop is a crash, too

    for name in ("feedback.db", "keys.db"):
        assert integrity(data / name) == "ok", name
    check_store(data, crowd, api)
    assert not apologies(api, crowd), "someone was told that something went wrong"
    canaries_of(crowd).assert_clean(data, [("bot.log", log.read_bytes())])
    check_log(log)

    # Unfinished conversations resume after the restart: /start brings back the question.
    bot.start()
    bot.wait_ready()
    try:
        for person in pausers:
            before = len(api.messages(person.chat_id))
            person.act(api, ("text", "/start"))
            api.wait_until(lambda p=person, b=before: len(api.messages(p.chat_id)) > b, timeout=20)
            reply = " ".join(text_of(m) for m in api.messages(person.chat_id)[before:])
            assert person.labels["resume"] in reply, (person.user_id, reply[:300])
            person.stop_at_comment = False
        drive_over_http(api, crowd, until=lambda: False, deadline=time.monotonic() + 60)
    finally:
        assert bot.stop() == 0, log.read_text()[-2000:]
    for person in crowd:
        assert person.thanked(api.messages(person.chat_id)) == 1, person.user_id
    check_store(data, crowd, api)
    assert integrity(data / "feedback.db") == "ok" and integrity(data / "keys.db") == "ok"
    canaries_of(crowd).assert_clean(data, [("bot.log", log.read_bytes())])
    check_log(log)


def test_sigkill_at_random_moments_loses_nothing_and_doubles_nothing(
    api: FakeBotApi, server: BotApiServer, tmp_path: Path
) -> None:
    run_crash_rounds(api, server, tmp_path, crowd_size=scaled(8, 8), rounds=scaled(3, 3))


@pytest.mark.slow
def test_many_people_many_kills(api: FakeBotApi, server: BotApiServer, tmp_path: Path) -> None:
    run_crash_rounds(api, server, tmp_path, crowd_size=40, rounds=12)


async def test_unfinished_conversation_after_a_restart_resumes_or_is_reported_expired(
    api: FakeBotApi, tmp_path: Path
) -> None:
    """The in-process half: with a clock, the draft expiry after a restart is observable."""
    bot = InProcessBot(api, tmp_path / "data")
    await bot.start()
    erika, john = people(2, first_id=5_560_000_000, stop_at_comment=True)
    await converse_in_process(bot, erika)
    await converse_in_process(bot, john)
    await bot.stop()
    await bot.start()
    await bot.deliver(erika.act(api, ("text", "/start")))
    resumed = text_of(api.last_message(erika.chat_id))
    assert resumed.startswith(erika.labels["resume"]), "the note heads the question"
    bot.clock.advance(timedelta(minutes=31))
    await bot.deliver(john.act(api, ("text", "so spät noch")))
    reply = text_of(api.last_message(john.chat_id))
    assert "30 minutes" in reply or "30 Minuten" in reply, reply
    await bot.stop()
