"""3. Purge: 100 000 expired feedbacks purged while conversations continue.

The store holds the expired feedbacks (each of a person with nothing else left, so the
purge also destroys their keys and consent records) and as many unexpired ones. People
keep conversing (four at a time) first without the purge, then while `purge_expired`
runs in the same process. Reported: records purged per second, and the reply latency
of the conversations without and during the purge.
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
from storage import SQLiteStore
from tests.harness import Clock

TARGET_P99 = 0.100
CONCURRENCY = 4


def available() -> str | None:
    """Why the purge cannot be measured yet, or None."""
    if not callable(getattr(SQLiteStore, "purge_expired", None)):
        return "not available yet: SQLiteStore.purge_expired does not exist"
    return None


class Load:
    """People conversing without pause; every update's latency with its start time."""

    def __init__(self, bot: BotUnderTest) -> None:
        self.bot = bot
        self.samples: list[tuple[float, float]] = []
        self._next_id = 8_000_000_000
        self._stop = asyncio.Event()
        self._progress = asyncio.Event()

    async def _person(self) -> None:
        while not self._stop.is_set():
            self._next_id += 1
            started = time.perf_counter()
            latencies = await self.bot.converse(self._next_id, "purge-time comment")
            moment = started
            for latency in latencies:
                self.samples.append((moment, latency))
                moment += latency
            self._progress.set()

    async def run_until(self, done: asyncio.Future[object] | None, minimum: int) -> None:
        self._stop.clear()
        workers = [asyncio.create_task(self._person()) for _ in range(CONCURRENCY)]
        first = len(self.samples)
        if done is not None:
            await asyncio.wait([done])
        while len(self.samples) - first < minimum:
            self._progress.clear()
            await self._progress.wait()
        self._stop.set()
        await asyncio.gather(*workers)

    def between(self, start: float, end: float) -> list[float]:
        return [latency for moment, latency in self.samples if start <= moment < end]


async def measure(options: Options) -> Report:
    report = Report("purge", "Purge while conversations continue", options.quick)
    reason = available()
    if reason:
        report.skip(reason)
        return report
    expired = 500 if options.quick else 100_000
    baseline_updates = 50 if options.quick else 1_500
    production_logging()
    errors = count_errors()
    clock = Clock()
    tmp = Path(tempfile.mkdtemp(prefix="feedbackbot-bench-purge-"))
    data = tmp / "data"
    try:
        # The bot purges once at start, so the expired feedbacks expire only after it started:
        # the clock is moved two days on before the purge is measured.
        old = clock() - timedelta(days=179)
        recent = clock() - timedelta(days=10)
        gone = Population(1, expired, 1, old, old + timedelta(days=180), old)
        kept = Population(10_000_000, expired, 1, recent, recent + timedelta(days=180), recent)
        for population in (gone, kept):
            seconds = await populate(data, MASTER_KEY_BYTES, population, clock())
            report.notes.append(f"{population.feedbacks:,} feedbacks generated in {seconds:.1f} s")
        async with feedback_bot(data, clock=clock) as bot:
            assert bot.store is not None
            load = Load(bot)
            await load.run_until(None, 20)  # warm-up
            start = time.perf_counter()
            await load.run_until(None, baseline_updates)
            baseline = load.between(start, time.perf_counter())
            clock.advance(timedelta(days=2))
            with Profiler(options, "purge"):
                purge_started = time.perf_counter()
                purge = asyncio.ensure_future(bot.store.purge_expired(clock()))
                finished: list[float] = []
                purge.add_done_callback(lambda _: finished.append(time.perf_counter()))
                await load.run_until(purge, 20)
                purged = purge.result()
                purge_seconds = finished[0] - purge_started
            during = load.between(purge_started, purge_started + purge_seconds)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if errors.count:
        raise AssertionError(f"{errors.count} errors were logged, first: {errors.first}")
    if purged.feedback != expired:
        raise AssertionError(f"purged {purged.feedback} feedbacks, expected {expired}")
    rows = purged.feedback + purged.keys + purged.drafts + purged.orphans
    for phase, values in (("without purge", baseline), ("during purge", during)):
        report.row(
            conversations=phase,
            updates=len(values),
            p50_ms=ms(median(values)),
            p99_ms=ms(percentile(values, 99)),
            max_ms=ms(max(values)) if values else "",
        )
    report.figures.update(
        expired_feedbacks=expired,
        unexpired_feedbacks=expired,
        purge_seconds=round(purge_seconds, 2),
        feedbacks_per_s=round(purged.feedback / purge_seconds, 1),
        rows_per_s=round(rows / purge_seconds, 1),
        purge_report=purged.model_dump(),
        p99_without_ms=ms(percentile(baseline, 99)),
        p99_during_ms=ms(percentile(during, 99)),
    )
    report.notes.append(
        f"purged {purged.feedback:,} feedbacks and {purged.keys:,} keys (with their consent "
        f"records) in {purge_seconds:.1f} s: {purged.feedback / purge_seconds:,.0f} feedbacks/s"
    )
    p99 = percentile(during, 99)
    report.target(
        "p99 reply latency during the purge",
        f"< {ms(TARGET_P99)} ms",
        f"{ms(p99)} ms (without purge {ms(percentile(baseline, 99))} ms)",
        p99 < TARGET_P99,
    )
    return report


def main() -> None:
    options = parse_options(__doc__ or "")
    asyncio.run(measure(options)).emit(options.out)


if __name__ == "__main__":
    main()
