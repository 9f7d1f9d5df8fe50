"""2. Rights at scale: /mydata and /delete for a person with 3 feedbacks, in a store that
holds 10 000 and in one that holds 1 000 000 other feedbacks.

Both stores are open at once, each with its bot, and the samples alternate between them
in rounds, each size first in every other round, so a busy minute on the shared machine
weighs on both sizes alike (measured one after the other, the ratio swung between 0.65x
and 1.5x from run to run). Other people's rows are written in bulk
(benchmarks/datagen.py). Measured per request: `/mydata` (summary and JSON copy),
`/delete` (the question) and the press on "Erase everything" (key shredded, rows
deleted, WAL truncated). After each erasure the person gives their three feedbacks
again (not timed).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import time
from collections.abc import AsyncIterator
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


async def _store_of(
    report: Report, data: Path, size: int, clock: Clock
) -> contextlib.AbstractAsyncContextManager[BotUnderTest]:
    """Write `size` other feedbacks into a new store in `data`; its bot, not yet started."""
    created = clock() - timedelta(days=10)
    population = Population(
        first_user_id=OTHERS_FIRST_ID,
        people=size // OTHERS_PER_PERSON,
        per_person=OTHERS_PER_PERSON,
        created_at=created,
        expires_at=created + timedelta(days=180),
        consent_at=created,
    )
    seconds = await populate(data, MASTER_KEY_BYTES, population, clock())
    report.notes.append(f"{population.feedbacks:,} feedbacks generated in {seconds:.1f} s")
    return _started(report, data, size, clock)


@contextlib.asynccontextmanager
async def _started(
    report: Report, data: Path, size: int, clock: Clock
) -> AsyncIterator[BotUnderTest]:
    started = time.perf_counter()
    async with feedback_bot(data, clock=clock, api=FakeBotApi(TOKEN)) as bot:
        start = time.perf_counter() - started
        report.figures[f"bot_start_s_{size}"] = round(start, 2)
        report.notes.append(
            f"bot start with {size:,} feedbacks (it purges once at start): {start:.1f} s"
        )
        yield bot


async def measure(options: Options) -> Report:
    report = Report("rights", "Rights at scale: /mydata and /delete", options.quick)
    sizes = [200, 2_000] if options.quick else [10_000, 1_000_000]
    samples, erasures, rounds = (3, 2, 1) if options.quick else (8, 3, 4)
    production_logging()
    errors = count_errors()
    clock = Clock()
    times: dict[int, dict[str, list[float]]] = {}
    tmp = Path(tempfile.mkdtemp(prefix="feedbackbot-bench-rights-"))
    try:
        async with contextlib.AsyncExitStack() as stack:
            bots: dict[int, BotUnderTest] = {}
            for size in sizes:
                bots[size] = await stack.enter_async_context(
                    await _store_of(report, tmp / f"data-{size}", size, clock)
                )
                await _sample(bots[size], 2, 1)  # warm-up: caches, first-use costs
                times[size] = {"/mydata": [], "/delete": [], "erase": []}
            for round_no in range(1, rounds + 1):
                # Each size goes first in every other round: the first after a switch
                # may pay for caches the other bot evicted.
                for size in sizes if round_no % 2 else sizes[::-1]:
                    last = round_no == rounds
                    with Profiler(options, f"rights-{size}") if last else contextlib.nullcontext():
                        sampled = await _sample(bots[size], samples, erasures)
                    for op, values in sampled.items():
                        times[size][op] += values
        for size in sizes:
            for op, values in times[size].items():
                report.row(
                    others=size,
                    request=op,
                    samples=len(values),
                    median_ms=ms(median(values)),
                    p90_ms=ms(percentile(values, 90)),
                    max_ms=ms(max(values)),
                )
            report.figures[f"store_bytes_{size}"] = sum(
                p.stat().st_size for p in (tmp / f"data-{size}").iterdir() if p.is_file()
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if errors.count:
        raise AssertionError(f"{errors.count} errors were logged, first: {errors.first}")
    small, large = sizes
    for op in ("/mydata", "/delete", "erase"):
        at_small, at_large = median(times[small][op]), median(times[large][op])
        growth = at_large / at_small
        report.figures[f"growth_{op}"] = round(growth, 3)
        report.target(
            f"median {op} at {large:,} / at {small:,}",
            f"<= {TARGET_GROWTH}x",
            f"{ms(at_large)} / {ms(at_small)} ms = {growth:.2f}x",
            growth <= TARGET_GROWTH,
        )
    return report


def main() -> None:
    options = parse_options(__doc__ or "")
    asyncio.run(measure(options)).emit(options.out)


if __name__ == "__main__":
    main()
