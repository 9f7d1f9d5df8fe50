"""1. Conversation throughput: complete default-flow conversations against a bare
python-telegram-bot echo bot, both through the same in-process Bot API double.

Each conversation is five updates (/start, consent, rating, comment, contact answer)
processed by the real Application over the encrypted SQLite store on disk; the echo bot
gets five text messages per person. Rounds alternate between them so that a noisy
neighbour hurts both alike; the medians are compared.

A third bot in every round is the same feedbackbot over the in-memory store: what the
bot costs when storing costs nothing, the ceiling of what any store work can win. Each
row also counts the Bot API calls per update, the other half of the cost.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from benchmarks.common import (
    Options,
    Profiler,
    Report,
    count_errors,
    median,
    ms,
    parse_options,
    percentile,
    production_logging,
)
from benchmarks.driver import BotUnderTest, echo_bot, feedback_bot, run_people

UPDATES_PER_PERSON = 5
TARGET_RATIO = 0.5
IN_MEMORY = "feedbackbot, in-memory store"


async def _echo_person(bot: BotUnderTest, user_id: int) -> list[float]:
    latencies = []
    for n in range(UPDATES_PER_PERSON):
        latencies.append(await bot.deliver(bot.message(user_id, f"hello number {n}")))
    if bot.screens.view(user_id).received != UPDATES_PER_PERSON:
        raise AssertionError("the echo bot did not answer every message")
    return latencies


KINDS = ("echo", "feedbackbot", IN_MEMORY)


async def _round(kind: str, people: int, concurrency: int, work: Path, profile: Profiler | None):
    """(updates per second, latencies, seconds, Bot API calls per update) of one round
    with a fresh bot and store."""
    if kind == "echo":
        context = echo_bot()
    else:
        data = Path(tempfile.mkdtemp(prefix="bench-", dir=work)) / "data"
        context = feedback_bot(data, in_memory=kind == IN_MEMORY)
    async with context as bot:
        if kind == "echo":

            async def one(user_id: int) -> list[float]:
                return await _echo_person(bot, user_id)
        else:

            async def one(user_id: int) -> list[float]:
                return await bot.converse(user_id, f"comment of person {user_id}: all good")

        await run_people(max(2, people // 20), concurrency, one, first_id=6_000_000_000)  # warm-up
        calls_before = len(bot.api.sent)
        started = time.perf_counter()
        if profile is not None:
            with profile:
                latencies = await run_people(people, concurrency, one)
        else:
            latencies = await run_people(people, concurrency, one)
        elapsed = time.perf_counter() - started
        calls = len(bot.api.sent) - calls_before
    return len(latencies) / elapsed, latencies, elapsed, calls / len(latencies)


async def measure(options: Options) -> Report:
    report = Report("throughput", "Conversation throughput vs. a bare echo bot", options.quick)
    people = 20 if options.quick else 400
    rounds = 1 if options.quick else 3
    concurrency = 8
    production_logging()
    errors = count_errors()
    results: dict[str, list[float]] = {kind: [] for kind in KINDS}
    calls_per_update: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="feedbackbot-bench-") as tmp:
        for round_no in range(1, rounds + 1):
            for kind in KINDS:
                last = round_no == rounds and kind == "feedbackbot"
                profiler = Profiler(options, "throughput") if last and options.profile else None
                rate, latencies, elapsed, calls = await _round(
                    kind, people, concurrency, Path(tmp), profiler
                )
                results[kind].append(rate)
                calls_per_update[kind] = calls
                report.row(
                    bot=kind,
                    round=round_no,
                    updates=len(latencies),
                    seconds=round(elapsed, 2),
                    updates_per_s=round(rate, 1),
                    api_calls_per_update=round(calls, 2),
                    p50_ms=ms(median(latencies)),
                    p99_ms=ms(percentile(latencies, 99)),
                )
    if errors.count:
        raise AssertionError(f"{errors.count} errors were logged, first: {errors.first}")
    echo, bot = median(results["echo"]), median(results["feedbackbot"])
    in_memory = median(results[IN_MEMORY])
    ratio = bot / echo
    report.figures.update(
        people_per_round=people,
        concurrency=concurrency,
        updates_per_person=UPDATES_PER_PERSON,
        echo_updates_per_s=round(echo, 1),
        feedbackbot_updates_per_s=round(bot, 1),
        ratio=round(ratio, 3),
        in_memory_store_updates_per_s=round(in_memory, 1),
        in_memory_store_ratio=round(in_memory / echo, 3),
        echo_api_calls_per_update=round(calls_per_update["echo"], 2),
        feedbackbot_api_calls_per_update=round(calls_per_update["feedbackbot"], 2),
    )
    report.target(
        "feedbackbot / echo bot updates per second",
        f">= {TARGET_RATIO}",
        f"{bot:.0f} / {echo:.0f} = {ratio:.2f}",
        ratio >= TARGET_RATIO,
    )
    return report


def main() -> None:
    options = parse_options(__doc__ or "")
    asyncio.run(measure(options)).emit(options.out)


if __name__ == "__main__":
    main()
