"""The digest's schedule as clocks really behave (found by a time review): a process woken
late (a virtual machine resumed over 08:00) still posts the day's digest, and the hour
that comes twice when the clocks go back posts one, not two."""

from __future__ import annotations

import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest

from bot.app import _digest_job, post_digest
from tests.bot import test_staff
from tests.bot.test_alert_outbox import purge_job
from tests.bot.test_staff import STAFF_CHAT, many
from tests.bot.test_staff_chat_moves import KICKED
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


async def test_a_digest_retried_while_the_staff_chat_is_gone_is_audited_once_not_hourly(
    desk: Harness,
) -> None:
    """The staff chat gone (the bot removed) for half a day: the digest is tried again at
    every purge, and every try writes a 'digest' entry into the audit trail with the
    number of feedbacks it covered, though none of them reached anyone. A DPO reading
    `feedbackbot audit` sees a dozen digests disclosed to the staff chat."""
    await many(desk)
    assert desk.app is not None and desk.store is not None
    since = desk.clock()
    desk.api.fail_next("sendMessage", 403, KICKED, count=1000, chat_id=STAFF_CHAT)
    await post_digest(desk.app)
    for _ in range(12):
        desk.clock.advance(timedelta(hours=1))
        await purge_job(desk)
    audited = [e for e in await desk.store.audit_entries(since) if e.event == "digest"]
    assert len(audited) <= 1, [(e.at.isoformat(), e.records) for e in audited]


async def test_a_closed_general_topic_is_not_blamed_on_a_thread_setting_that_is_unset(
    desk: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """No FEEDBACKBOT_STAFF_THREAD_ID set: alerts and digests go to General. An admin
    closes General ('TOPIC_CLOSED'): the one error line tells the operator that 'the
    topic FEEDBACKBOT_STAFF_THREAD_ID names' takes no messages and to 'correct or unset
    FEEDBACKBOT_STAFF_THREAD_ID', a setting they never set (review of the change)."""
    assert desk.settings.staff_thread_id is None
    await many(desk)
    assert desk.app is not None
    desk.api.fail_next(
        "sendMessage", 400, "Bad Request: TOPIC_CLOSED", count=50, chat_id=STAFF_CHAT
    )
    await post_digest(desk.app)
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("topic_closed" in line.lower() for line in said), said
    assert any("General topic" in line for line in said), said
    assert not any("correct or unset FEEDBACKBOT_STAFF_THREAD_ID" in line for line in said)
