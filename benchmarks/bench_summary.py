"""4. Staff summary: `/zusammenfassung 30d` over 10 000 and then 100 000 feedbacks.

`first_ms` is the first summary after the feedback was written: it counts every
feedback of the stored days (for the groups of days summaries count, see
flows.staff.StaffDesk.windows) and fills the summary cache with figures per day. The
samples after it read the cache. Each size is written into a store of its own.

The feedbacks are spread over the last 30 days and written through the store's public
API (`grant_consents`, `submit_feedback` with the statistics tallies where the store
takes them), so whatever the summary reads, it reads what the bot would have written.
Skipped with a "not available yet" line while the bot has no staff summary command.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import shutil
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from telegram.ext import CommandHandler

from benchmarks.common import (
    Options,
    Profiler,
    Report,
    count_errors,
    median,
    ms,
    parse_options,
    production_logging,
)
from benchmarks.driver import MASTER_KEY_BYTES, BotUnderTest, feedback_bot
from storage import ConsentGrant, NewFeedback, SQLiteStore
from tests.fakes.botapi import FakeBotApi
from tests.harness import TOKEN, Clock

STAFF = 4_100_000_001
COMMAND = "zusammenfassung"
TARGET_GROWTH = 2.0
PER_PERSON = 2
COMMENTS = (
    "Sehr freundlich, schnelle Antwort.",
    "Please call me back at +49 170 1234567 or mail max@example.org",
    "Die Lieferung kam zwei Tage zu spät, IBAN DE89 3704 0044 0532 0130 00 wurde belastet",
    "",
    "Great service, thanks a lot!",
)


def has_summary(bot: BotUnderTest) -> bool:
    return any(
        isinstance(handler, CommandHandler) and COMMAND in handler.commands
        for group in bot.app.handlers.values()
        for handler in group
    )


async def write_feedback(data: Path, clock: Clock, first: int, count: int) -> float:
    """`count` feedbacks of `count / PER_PERSON` people over the last 30 days; seconds taken."""
    started = time.perf_counter()
    store = SQLiteStore(data, MASTER_KEY_BYTES)
    await store.open()
    try:
        takes_tallies = "tallies" in inspect.signature(store.submit_feedback).parameters
        now = clock()
        for n in range(first, first + count, PER_PERSON):
            pseudonym = store.pseudonym(f"tg-user:{200_000_000 + n}")
            # Person p writes on day p % 30 before now, p % 36,000 seconds before that
            # time of day: about five feedbacks a minute in the last ten hours, and only a
            # few in the minute the summary is asked in, which it counts afresh. (This used
            # to be `minutes=n % 600`, which put every 300th person in that very second:
            # 333 feedbacks at 100,000, a burst 70 times the average rate.)
            person = n // PER_PERSON
            created = now - timedelta(days=person % 30, seconds=person % 36_000)
            await store.grant_consents(pseudonym, [_grant(created)])
            for k in range(PER_PERSON):
                rating = 1 + (n + k) % 5
                answers: dict[str, Any] = {
                    "rating": rating,
                    "comment": COMMENTS[(n + k) % len(COMMENTS)] or None,
                    "contact": None,
                }
                extra: dict[str, Any] = {}
                if takes_tallies:
                    extra["tallies"] = {"rating": [str(rating)]}
                await store.submit_feedback(
                    pseudonym,
                    NewFeedback(
                        flow_id="feedback",
                        answers=answers,
                        purposes=["feedback"],
                        created_at=created,
                        expires_at=created + timedelta(days=180),
                    ),
                    [],
                    **extra,
                )
    finally:
        await store.close()
    return time.perf_counter() - started


async def _first_summary(bot: BotUnderTest) -> float:
    """Seconds the first summary took: pressing "I confirm" under the data-handling rules
    (asked for once per store) shows the summary asked for."""
    elapsed = await bot.deliver(bot.message(STAFF, f"/{COMMAND} 30d"))
    view = bot.screens.view(STAFF)
    rules = [label for label, data in view.buttons.items() if data.startswith("sr:")]
    if not rules:
        return elapsed
    elapsed = await bot.deliver(bot.press(STAFF, rules[0]))
    view.buttons = {}
    return elapsed


def _grant(at: datetime) -> ConsentGrant:
    return ConsentGrant(
        purpose="feedback",
        notice_version="bench",
        text_sha256="0" * 64,
        method="bench",
        granted_at=at,
    )


async def measure(options: Options) -> Report:
    report = Report("summary", "Staff summary /zusammenfassung 30d", options.quick)
    sizes = [100, 600] if options.quick else [10_000, 100_000]
    samples = 2 if options.quick else 15
    production_logging()
    errors = count_errors()
    clock = Clock()
    medians: dict[int, float] = {}
    firsts: dict[int, float] = {}
    tmp = Path(tempfile.mkdtemp(prefix="feedbackbot-bench-summary-"))
    try:
        async with feedback_bot(tmp / "probe", clock=clock, staff_ids=str(STAFF)) as bot:
            if not has_summary(bot):
                report.skip(f"not available yet: the bot has no /{COMMAND} command")
                return report
        bots: dict[int, BotUnderTest] = {}
        times: dict[int, list[float]] = {size: [] for size in sizes}
        async with contextlib.AsyncExitStack() as stack:
            for size in sizes:
                # A store of its own per size: feedback written into days that a summary
                # has released would break their groups (flows.staff.whole_groups) and
                # leave them out, so that the summary would count next to nothing.
                data = tmp / f"data-{size}"
                seconds = await write_feedback(data, clock, 0, size)
                report.notes.append(f"{size:,} feedbacks written in {seconds:.1f} s")
                bot = await stack.enter_async_context(
                    feedback_bot(data, clock=clock, api=FakeBotApi(TOKEN), staff_ids=str(STAFF))
                )
                # The first summary after new feedback counts it and fills the cache.
                firsts[size] = await _first_summary(bot)
                bots[size] = bot
            # Both stores open side by side and asked in turn, so that a busy moment of
            # the shared machine falls on both sizes alike.
            with Profiler(options, "summary"):
                for _ in range(samples):
                    for size in sizes:
                        clock.advance(timedelta(seconds=1))
                        message = bots[size].message(STAFF, f"/{COMMAND} 30d")
                        times[size].append(await bots[size].deliver(message))
            for size in sizes:
                view = bots[size].screens.view(STAFF)
                if view.received < samples or view.buttons:
                    raise AssertionError(f"no summary: {view.last_text[:200]!r}")
                medians[size] = median(times[size])
                report.row(
                    feedbacks=size,
                    first_ms=ms(firsts[size]),
                    samples=len(times[size]),
                    median_ms=ms(medians[size]),
                    max_ms=ms(max(times[size])),
                )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if errors.count:
        raise AssertionError(f"{errors.count} errors were logged, first: {errors.first}")
    small, large = sizes
    growth = medians[large] / medians[small]
    report.figures.update(
        growth=round(growth, 3), **{f"median_ms_{k}": ms(v) for k, v in medians.items()}
    )
    report.target(
        f"median at {large:,} / at {small:,} feedbacks",
        f"< {TARGET_GROWTH}x",
        f"{ms(medians[large])} / {ms(medians[small])} ms = {growth:.2f}x",
        growth < TARGET_GROWTH,
    )
    return report


def main() -> None:
    options = parse_options(__doc__ or "")
    asyncio.run(measure(options)).emit(options.out)


if __name__ == "__main__":
    main()
