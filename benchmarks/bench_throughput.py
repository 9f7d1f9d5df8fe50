"""1. Conversation throughput: complete default-flow conversations against a bare
python-telegram-bot echo bot, both through the same in-process Bot API double.

Each conversation is five updates (/start, consent, rating, comment, contact answer)
processed by the real Application over the encrypted SQLite store on disk; the echo bot
gets five text messages per person. Rounds alternate between the two so that a noisy
neighbour hurts both alike; the medians are compared.
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


async def _echo_person(bot: BotUnderTest, user_id: int) -> list[float]:
    latencies = []
    for n in range(UPDATES_PER_PERSON):
        latencies.append(await bot.deliver(bot.message(user_id, f"hello number {n}")))
    if bot.screens.view(user_id).received != UPDATES_PER_PERSON:
        raise AssertionError("the echo bot did not answer every message")
    return latencies


async def _round(kind: str, people: int, concurrency: int, work: Path, profile: Profiler | None):
    """(updates per second, latencies) of one round with a fresh bot and store."""
    if kind == "echo":
        context = echo_bot()
    else:
        context = feedback_bot(Path(tempfile.mkdtemp(prefix="bench-", dir=work)) / "data")
    async with context as bot:
        if kind == "echo":

            async def one(user_id: int) -> list[float]:
                return await _echo_person(bot, user_id)
        else:

            async def one(user_id: int) -> list[float]:
                return await bot.converse(user_id, f"comment of person {user_id}: all good")

        await run_people(max(2, people // 20), concurrency, one, first_id=6_000_000_000)  # warm-up
        started = time.perf_counter()
        if profile is not None:
            with profile:
                latencies = await run_people(people, concurrency, one)
        else:
            latencies = await run_people(people, concurrency, one)
        elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, latencies, elapsed


async def measure(options: Options) -> Report:
    report = Report("throughput", "Conversation throughput vs. a bare echo bot", options.quick)
    people = 20 if options.quick else 400
    rounds = 1 if options.quick else 3
    concurrency = 8
    production_logging()
    errors = count_errors()
    results: dict[str, list[float]] = {"echo": [], "feedbackbot": []}
    with tempfile.TemporaryDirectory(prefix="feedbackbot-bench-") as tmp:
        for round_no in range(1, rounds + 1):
            for kind in ("echo", "feedbackbot"):
                last = round_no == rounds and kind == "feedbackbot"
                profiler = Profiler(options, "throughput") if last and options.profile else None
                rate, latencies, elapsed = await _round(
                    kind, people, concurrency, Path(tmp), profiler
                )
                results[kind].append(rate)
                report.row(
                    bot=kind,
                    round=round_no,
                    updates=len(latencies),
                    seconds=round(elapsed, 2),
                    updates_per_s=round(rate, 1),
                    p50_ms=ms(median(latencies)),
                    p99_ms=ms(percentile(latencies, 99)),
                )
    if errors.count:
        raise AssertionError(f"{errors.count} errors were logged, first: {errors.first}")
    echo, bot = median(results["echo"]), median(results["feedbackbot"])
    ratio = bot / echo
    report.figures.update(
        people_per_round=people,
        concurrency=concurrency,
        updates_per_person=UPDATES_PER_PERSON,
        echo_updates_per_s=round(echo, 1),
        feedbackbot_updates_per_s=round(bot, 1),
        ratio=round(ratio, 3),
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
