"""A staff chat that is a forum: alerts, digests and the notes taking alerts back go to
the topic FEEDBACKBOT_STAFF_THREAD_ID names (they all went to General, where a team that
keeps its feedback in a topic of its own did not look)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.app import post_digest
from bot.fakeapi import FakeBotApi
from tests.bot.test_alert_outbox import purge_job, settled
from tests.bot.test_staff import STAFF_CHAT, low, many, staff_desk
from tests.bot.test_staff_chat_moves import errors, fail_always, heal, staff_chat_calls
from tests.harness import Clock, Harness, make_settings

TOPIC = 77
THREAD_GONE = "Bad Request: message thread not found"


@pytest.fixture
async def desk(api: FakeBotApi, clock: Clock, tmp_path: Path) -> AsyncIterator[Harness]:
    harness = staff_desk(api, clock, tmp_path, staff_thread_id=str(TOPIC))
    await harness.start()
    yield harness
    await harness.stop()


def topics(desk: Harness, method: str) -> list[object]:
    return [
        call.params.get("message_thread_id")
        for call in desk.api.calls(method)
        if call.params.get("chat_id") in (STAFF_CHAT, str(STAFF_CHAT))
    ]


async def test_alerts_and_the_digest_go_to_the_topic(desk: Harness) -> None:
    await low(desk, 5200, "Kalt und laut")
    await settled(desk)
    assert "Kalt und laut" in str(desk.api.messages(STAFF_CHAT))
    await many(desk)
    assert desk.app is not None
    await post_digest(desk.app)
    sent, charts = topics(desk, "sendMessage"), topics(desk, "sendPhoto")
    assert len(sent) >= 2 and len(charts) == 1, (sent, charts)
    assert all(t in (TOPIC, str(TOPIC)) for t in sent + charts), (sent, charts)


async def test_a_topic_deleted_is_said_once_naming_the_setting_and_alerts_wait(
    desk: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    fail_always(desk, "sendMessage", 400, THREAD_GONE)
    for n in range(3):
        await low(desk, 5300 + n, f"Ohne Thema {n}")
    await settled(desk)
    said = [line for line in errors(caplog) if "FEEDBACKBOT_STAFF_THREAD_ID" in line]
    assert len(said) == 1, errors(caplog)
    assert "message thread not found" in said[0].lower()
    before = staff_chat_calls(desk)
    desk.clock.advance(timedelta(hours=1))
    await purge_job(desk)
    assert staff_chat_calls(desk) - before == 1, "one try a round"
    heal(desk)  # the setting corrected, or the topic opened again
    desk.clock.advance(timedelta(hours=1))
    await purge_job(desk)
    posted = [m for m in desk.api.messages(STAFF_CHAT) if "Ohne Thema" in (m["text"] or "")]
    assert len(posted) == 3, posted


def test_a_topic_without_a_staff_chat_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="FEEDBACKBOT_STAFF_THREAD_ID"):
        make_settings(tmp_path, staff_thread_id="77")
    with pytest.raises(ValidationError):
        make_settings(tmp_path, staff_chat_id=STAFF_CHAT, staff_thread_id="0")
