"""FEEDBACKBOT_STAFF_LOCALE: a team that reads English while its customers (and the
default for languages the bot lacks) stay German got every alert, digest and retraction
note in German, as they followed FEEDBACKBOT_DEFAULT_LOCALE."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.app import post_digest
from tests.bot.test_retractions import feedback, now_shown, settled
from tests.bot.test_staff import STAFF, STAFF_CHAT, many
from tests.fakes.botapi import FakeBotApi
from tests.harness import Clock, Harness, make_settings, texts


@pytest.fixture
async def desk(api: FakeBotApi, clock: Clock, tmp_path: Path) -> AsyncIterator[Harness]:
    settings = make_settings(
        tmp_path / "data",
        staff_ids=str(STAFF),
        staff_chat_id=STAFF_CHAT,
        alert_threshold=2,
        digest="daily 08:00",
        staff_locale="en",
    )
    harness = Harness(api=api, settings=settings, clock=clock)
    await harness.start()
    yield harness
    await harness.stop()


async def test_the_staff_chat_gets_its_language_and_customers_keep_theirs(desk: Harness) -> None:
    alert = await feedback(desk, 4101, "1", "Lieferung kam nie an")
    assert (alert["text"] or "").startswith("Low rating in"), alert["text"]
    customer = desk.customer(4101)
    question = texts(await customer.send("/loeschen"))
    assert question.startswith("Möchten Sie alle"), "the customer is answered in German"
    done = texts(await customer.press("Alles löschen"))
    assert "Warnmeldungen zu Ihrem Feedback in unserem Team-Chat: 1" in done
    await settled(desk)
    assert now_shown(desk, alert).startswith("🗑 This alert has been withdrawn")
    await many(desk)
    assert desk.app is not None
    await post_digest(desk.app)
    digest = texts(desk.api.messages(STAFF_CHAT)[-2:])
    assert "Feedback summary (1 day)" in digest, digest
    assert "Zusammenfassung" not in texts(desk.api.messages(STAFF_CHAT))


def test_the_staff_language_follows_the_default_unless_set(tmp_path: Path) -> None:
    assert make_settings(tmp_path, default_locale="en").staff_language == "en"
    assert make_settings(tmp_path, default_locale="en", staff_locale="").staff_language == "en"
    assert make_settings(tmp_path, staff_locale="en").staff_language == "en"
    with pytest.raises(ValidationError, match="staff_locale"):
        make_settings(tmp_path, staff_locale="fr")
