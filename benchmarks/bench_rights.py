"""2. Rights at scale: /mydata and /delete for a person with 3 feedbacks, in a store that
holds 10 000 and then 1 000 000 other feedbacks.

The same store grows from the smaller to the larger size, so both are measured on the
same files; other people's rows are written in bulk (benchmarks/datagen.py). Measured
per request: `/mydata` (summary and JSON copy), `/delete` (the question) and the press
on "Erase everything" (key shredded, rows deleted, WAL truncated). After each erasure
the person gives their three feedbacks again (not timed).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from datetime import timedelta
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
from benchmarks.datagen import Population, populate
from benchmarks.driver import MASTER_KEY_BYTES, BotUnderTest, feedback_bot
from tests.fakes.botapi import FakeBotApi
from tests.harness import TOKEN, Clock

PERSON = 5_550_000_001
OTHERS_FIRST_ID = 100_000_000
PER_PERSON = 3
OTHERS_PER_PERSON = 4
TARGET_GROWTH = 1.5


async def _give_three(bot: BotUnderTest) -> None:
    for n in range(PER_PERSON):
        await bot.converse(PERSON, f"my feedback number {n}")


async def _sample(bot: BotUnderTest, samples: int, erasures: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"/mydata": [], "/delete": [], "erase": []}
    await _give_three(bot)
    for _ in range(samples):
        bot.clock.advance(timedelta(minutes=1))  # /mydata allows three requests a minute
        times["/mydata"].append(await bot.deliver(bot.message(PERSON, "/mydata")))
        if "JSON" not in bot.screens.view(PERSON).last_text:
            raise AssertionError(
                f"/mydata did not send the copy: {bot.screens.view(PERSON).last_text!r}"
            )
        times["/delete"].append(await bot.deliver(bot.message(PERSON, "/delete")))
    for _ in range(erasures):
        await bot.deliver(bot.message(PERSON, "/delete"))
        times["erase"].append(await bot.deliver(bot.press(PERSON, "Erase everything")))
        if "erased" not in bot.screens.view(PERSON).last_text:
            raise AssertionError(f"erasure failed: {bot.screens.view(PERSON).last_text!r}")
        await _give_three(bot)
    return times


async def measure(options: Options) -> Report:
    report = Report("rights", "Rights at scale: /mydata and /delete", options.quick)
    sizes = [200, 2_000] if options.quick else [10_000, 1_000_000]
    samples, erasures = (3, 2) if options.quick else (30, 10)
    production_logging()
    errors = count_errors()
    clock = Clock()
    api = FakeBotApi(TOKEN)  # one double for every start: update ids keep counting up
    medians: dict[int, dict[str, float]] = {}
    tmp = Path(tempfile.mkdtemp(prefix="feedbackbot-bench-rights-"))
    data = tmp / "data"
    try:
        stored = 0
        for size in sizes:
            created = clock() - timedelta(days=10)
            population = Population(
                first_user_id=OTHERS_FIRST_ID + stored,
                people=(size - stored) // OTHERS_PER_PERSON,
                per_person=OTHERS_PER_PERSON,
                created_at=created,
                expires_at=created + timedelta(days=180),
                consent_at=created,
            )
            seconds = await populate(data, MASTER_KEY_BYTES, population, clock())
            stored += population.feedbacks
            report.notes.append(f"{population.feedbacks:,} feedbacks generated in {seconds:.1f} s")
            started = time.perf_counter()
            async with feedback_bot(data, clock=clock, api=api) as bot:
                start = time.perf_counter() - started
                report.figures[f"bot_start_s_{stored}"] = round(start, 2)
                report.notes.append(
                    f"bot start with {stored:,} feedbacks (it purges once at start): {start:.1f} s"
                )
                await _sample(bot, 2, 1)  # warm-up: caches, first-use costs
                profiler = Profiler(options, f"rights-{size}")
                with profiler:
                    times = await _sample(bot, samples, erasures)
            medians[size] = {op: median(values) for op, values in times.items()}
            for op, values in times.items():
                report.row(
                    others=stored,
                    request=op,
                    samples=len(values),
                    median_ms=ms(median(values)),
                    p90_ms=ms(percentile(values, 90)),
                    max_ms=ms(max(values)),
                )
            report.figures[f"store_bytes_{stored}"] = sum(
                p.stat().st_size for p in data.iterdir() if p.is_file()
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if errors.count:
        raise AssertionError(f"{errors.count} errors were logged, first: {errors.first}")
    small, large = sizes
    for op in ("/mydata", "/delete", "erase"):
        growth = medians[large][op] / medians[small][op]
        report.figures[f"growth_{op}"] = round(growth, 3)
        report.target(
            f"median {op} at {large:,} / at {small:,}",
            f"<= {TARGET_GROWTH}x",
            f"{ms(medians[large][op])} / {ms(medians[small][op])} ms = {growth:.2f}x",
            growth <= TARGET_GROWTH,
        )
    return report


def main() -> None:
    options = parse_options(__doc__ or "")
    asyncio.run(measure(options)).emit(options.out)


if __name__ == "__main__":
    main()
