"""6. End to end over HTTP: from a person's message to the bot's reply.

The real `python -m bot run` polls the loopback Bot API double over HTTP, as in
production; people converse one after another (no load), and every step's latency is
taken from the moment the update is queued to the moment the bot's reply message
reaches the double. The bare echo bot (benchmarks/echo_bot.py) over the same double is
the baseline: the part of the latency that polling and HTTP cost any bot.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks.common import Options, Report, median, ms, parse_options, percentile
from tests.e2e.botprocess import bot_env, running_bot
from tests.fakes.botapi import BotApiServer, FakeBotApi
from tests.harness import TOKEN

LANG = "en"
FIRST_PERSON = 9_100_000_000


def _reply_time(api: FakeBotApi, chat_id: int, after: float, before: int, expect: int) -> float:
    """When the first of `expect` new messages to `chat_id` reached the double."""
    api.wait_until(
        lambda: len(api.messages(chat_id)) >= before + expect, timeout=20, what="the bot's reply"
    )
    times = [
        call.time
        for call in api.calls("sendMessage")
        if call.ok and int(call.params.get("chat_id", 0)) == chat_id and call.time >= after
    ]
    return min(times) - after


def _step(api: FakeBotApi, chat_id: int, send: Callable[[], object], expect: int = 1) -> float:
    before = len(api.messages(chat_id))
    sent = time.time()
    send()
    return _reply_time(api, chat_id, sent, before, expect)


def _conversation(api: FakeBotApi, user: int, steps: dict[str, list[float]]) -> None:
    sender = {"language_code": LANG}
    steps["/start"].append(_step(api, user, lambda: api.user_message(user, "/start", **sender)))
    steps["consent"].append(
        _step(api, user, lambda: api.press_button(user, "Yes, I agree", **sender))
    )
    steps["rating"].append(_step(api, user, lambda: api.press_button(user, "4", **sender)))
    steps["comment"].append(
        _step(api, user, lambda: api.user_message(user, "fast enough, thanks", **sender))
    )
    steps["contact"].append(_step(api, user, lambda: api.press_button(user, "No", **sender)))


@contextmanager
def _echo_bot(api: FakeBotApi, server: BotApiServer, cwd: Path) -> Iterator[None]:
    env = bot_env(server, cwd / "unused")
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.echo_bot"],
        env=env,
        cwd=Path(__file__).resolve().parents[1],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        api.wait_until(lambda: api.calls("deleteWebhook"), timeout=30, what="the echo bot")
        yield
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def measure(options: Options) -> Report:
    report = Report("e2e", "End to end over HTTP: message to reply", options.quick)
    conversations = 2 if options.quick else 100
    echoes = conversations * 5
    steps: dict[str, list[float]] = {
        k: [] for k in ("/start", "consent", "rating", "comment", "contact")
    }
    echo: list[float] = []
    with tempfile.TemporaryDirectory(prefix="feedbackbot-bench-e2e-") as tmp:
        work = Path(tmp)
        api = FakeBotApi(TOKEN)
        with BotApiServer(api) as server:
            env = bot_env(server, work / "data", FEEDBACKBOT_LOG_LEVEL="INFO")
            started = time.perf_counter()
            with running_bot(api, env, work, work / "bot.log"):
                report.figures["bot_start_s"] = round(time.perf_counter() - started, 2)
                warm: dict[str, list[float]] = {k: [] for k in steps}
                _conversation(api, FIRST_PERSON - 1, warm)
                for n in range(conversations):
                    _conversation(api, FIRST_PERSON + n, steps)
            log = (work / "bot.log").read_text(errors="replace")
        api = FakeBotApi(TOKEN)
        with BotApiServer(api) as server, _echo_bot(api, server, work):
            user = FIRST_PERSON
            _step(api, user, lambda: api.user_message(user, "warm-up"))
            for n in range(echoes):
                echo.append(_step(api, user, lambda n=n: api.user_message(user, f"echo {n}")))
    errors = [line for line in log.splitlines() if " ERROR " in line or "Traceback" in line]
    if errors:
        raise AssertionError(f"the bot logged errors: {errors[:3]}")
    every = [value for values in steps.values() for value in values]
    for name, values in [*steps.items(), ("all steps", every), ("echo bot", echo)]:
        report.row(
            step=name,
            samples=len(values),
            median_ms=ms(median(values)),
            p99_ms=ms(percentile(values, 99)),
            max_ms=ms(max(values)),
        )
    report.figures.update(
        median_ms=ms(median(every)),
        p99_ms=ms(percentile(every, 99)),
        echo_median_ms=ms(median(echo)),
        echo_p99_ms=ms(percentile(echo, 99)),
    )
    report.notes.append(
        "no target in the issue; the echo bot shows what long polling and HTTP cost any bot"
    )
    return report


def main() -> None:
    options = parse_options(__doc__ or "")
    measure(options).emit(options.out)


if __name__ == "__main__":
    main()
