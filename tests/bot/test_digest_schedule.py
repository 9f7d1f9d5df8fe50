"""The digest's schedule as clocks really behave (found by a time review): a process woken
late (a virtual machine resumed over 08:00) still posts the day's digest, and the hour
that comes twice when the clocks go back posts one, not two."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from bot.app import _digest_job
from tests.bot import test_staff
from tests.bot.test_staff import STAFF_CHAT, many
from tests.harness import Harness

desk = test_staff.desk  # the staff tests' bot: staff chat, daily digest at 08:00


def digests(desk: Harness) -> int:
    posted = desk.api.messages(STAFF_CHAT)
    return sum("Feedback-Zusammenfassung" in (m["text"] or "") for m in posted)


async def test_a_digest_and_a_purge_woken_late_still_run(desk: Harness) -> None:
    """APScheduler drops a run more than its grace late; PTB's default grace is one
    second, so a digest whose moment a suspended machine slept through was not posted."""
    assert desk.app is not None and desk.app.job_queue is not None
    jobs = {job.name: job.job for job in desk.app.job_queue.jobs()}
    assert jobs["digest"].misfire_grace_time >= 3600 and jobs["digest"].coalesce
    interval = desk.settings.purge_interval.total_seconds()
    assert jobs["purge"].misfire_grace_time == interval and jobs["purge"].coalesce


async def test_the_hour_the_clocks_go_back_posts_one_digest(desk: Harness) -> None:
    """At 02:30 on the last Sunday of October the scheduler fires twice (02:30 summer
    time and 02:30 winter time, an hour apart): the second run posts nothing."""
    await many(desk)
    assert desk.app is not None
    job = SimpleNamespace(bot_data=desk.app.bot_data, application=desk.app)
    await _digest_job(job)  # type: ignore[arg-type]
    desk.clock.advance(timedelta(hours=1))
    await _digest_job(job)  # type: ignore[arg-type]
    assert digests(desk) == 1
    desk.clock.advance(timedelta(days=1))  # the next day's
    await _digest_job(job)  # type: ignore[arg-type]
    assert digests(desk) == 2
