"""5. Memory: resident memory growth while 10 000 people pause mid-conversation.

Each person gives consent and a rating and then stops at the comment question, so
10 000 conversations are open at once. The Bot API double here keeps nothing but each
chat's latest keyboard (the regular double keeps every message, which is test memory,
not the bot's). Measured: this process's resident set before and after, after a
garbage collection, once a warm-up has paid the first-use costs.
"""

from __future__ import annotations

import asyncio
import gc
import shutil
import tempfile
import time
from pathlib import Path

from benchmarks.common import (
    Options,
    Report,
    count_errors,
    parse_options,
    production_logging,
    rss_bytes,
)
from benchmarks.driver import (
    RATING,
    YES_CONSENT,
    BotUnderTest,
    LeanPeople,
    LeanRequest,
    feedback_bot,
    run_people,
)

TARGET_BYTES = 50 * 1024 * 1024
MIB = 1024 * 1024


async def measure(options: Options) -> Report:
    report = Report("memory", "Memory for people paused mid-conversation", options.quick)
    people = 60 if options.quick else 10_000
    production_logging()
    errors = count_errors()
    tmp = Path(tempfile.mkdtemp(prefix="feedbackbot-bench-memory-"))
    try:
        holder: dict[str, LeanPeople] = {}

        def lean(api: object, screens: object) -> LeanRequest:
            holder["people"] = LeanPeople(screens)  # type: ignore[arg-type]
            return LeanRequest(screens)  # type: ignore[arg-type]

        async with feedback_bot(tmp / "data", request=lean) as bot:
            make = holder["people"]

            async def pause(user_id: int) -> list[float]:
                return await _pause(bot, make, user_id)

            await run_people(20 if options.quick else 200, 8, pause, first_id=1_000_000)  # warm-up
            gc.collect()
            before = rss_bytes()
            started = time.perf_counter()
            await run_people(people, 8, pause)
            elapsed = time.perf_counter() - started
            gc.collect()
            after = rss_bytes()
            open_drafts = await _count_drafts(bot, people)
            per_person_dicts = len(bot.app.user_data) + len(bot.app.chat_data)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if errors.count:
        raise AssertionError(f"{errors.count} errors were logged, first: {errors.first}")
    growth = after - before
    report.row(
        people=people,
        updates=people * 3,
        seconds=round(elapsed, 1),
        rss_before_mib=round(before / MIB, 1),
        rss_after_mib=round(after / MIB, 1),
        growth_mib=round(growth / MIB, 2),
        bytes_per_person=round(growth / people),
    )
    report.figures.update(
        people=people,
        rss_before=before,
        rss_after=after,
        growth_bytes=growth,
        open_drafts_checked=open_drafts,
        ptb_user_and_chat_data_entries=per_person_dicts,
    )
    report.target(
        f"resident memory growth for {people:,} paused people",
        f"< {TARGET_BYTES // MIB} MiB",
        f"{growth / MIB:.1f} MiB",
        growth < TARGET_BYTES,
    )
    return report


async def _pause(bot: BotUnderTest, make: LeanPeople, user_id: int) -> list[float]:
    latencies = [await bot.deliver(make.message(user_id, "/start"))]
    latencies.append(await bot.deliver(make.press(user_id, YES_CONSENT)))
    latencies.append(await bot.deliver(make.press(user_id, RATING)))
    if "comment" not in bot.screens.view(user_id).last_text:
        raise AssertionError(f"{user_id} is not at the comment step")
    return latencies


async def _count_drafts(bot: BotUnderTest, people: int) -> int:
    """Check a sample of the paused people really have an open draft in the store."""
    assert bot.store is not None
    checked = 0
    for user_id in range(7_000_000_000, 7_000_000_000 + people, max(1, people // 50)):
        draft = await bot.store.load_draft(bot.store.pseudonym(f"tg-user:{user_id}"), bot.clock())
        if draft is None:
            raise AssertionError(f"person {user_id} has no open draft")
        checked += 1
    return checked


def main() -> None:
    options = parse_options(__doc__ or "")
    asyncio.run(measure(options)).emit(options.out)


if __name__ == "__main__":
    main()
