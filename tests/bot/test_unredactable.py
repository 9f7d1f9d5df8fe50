"""A comment the redaction cannot handle is withheld from staff, and nothing else stops.

Found by an attack review: one comment with two spaces between a first and last name before
an address made the redaction raise. The customer was told something went wrong, the alert
stayed due, so every start of the bot (which posts due alerts) failed, and so did every
summary and digest whose period held that day, for as long as the feedback was kept."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import pytest

import flows.redaction
from tests.fakes.botapi import FakeBotApi
from tests.harness import Clock, Harness, make_settings, texts

STAFF, STAFF_CHAT = 7001, -1007002
WITHHELD = "[Kommentar zurückgehalten: Er konnte nicht auf personenbezogene Daten geprüft werden]"


@pytest.fixture
async def desk(api: FakeBotApi, clock: Clock, tmp_path: Path) -> AsyncIterator[Harness]:
    settings = make_settings(
        tmp_path / "data", staff_ids=str(STAFF), staff_chat_id=STAFF_CHAT, alert_threshold=2
    )
    harness = Harness(api=api, settings=settings, clock=clock)
    await harness.start()
    yield harness
    await harness.stop()


async def give(desk: Harness, user_id: int, rating: str, comment: str) -> str:
    """What the customer was answered last."""
    customer = desk.customer(user_id)
    await customer.send("/start")
    await customer.press("Ja, ich willige ein")
    await customer.press(rating)
    await customer.send(comment)
    last = texts(await customer.press("Nein"))
    assert desk.app is not None
    await asyncio.gather(*desk.app.bot_data.background)  # the alert is posted
    return last


async def test_a_name_spaced_twice_before_an_address_reaches_staff_redacted(
    desk: Harness,
) -> None:
    answer = await give(desk, 4001, "1", "Tom  Becker, Hauptstr. 5. Paket kam nie an")
    assert "automatisch gelöscht" in answer and "schiefgelaufen" not in answer
    [alert] = desk.api.messages(STAFF_CHAT)
    assert "[Name], [Adresse]. Paket kam nie an" in alert["text"]
    assert "Becker" not in alert["text"] and "Hauptstr" not in alert["text"]


async def test_a_comment_the_redaction_fails_on_is_withheld_and_the_bot_goes_on(
    desk: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real: Callable[[str, Callable[[str], str]], str] = flows.redaction._replace

    def failing_on_one(text: str, placeholder: Callable[[str], str]) -> str:
        if "Rotkehlchen" in text:  # a bug yet unknown, quoting the comment in its message
            raise IndexError(f"no place in {text!r}")
        return real(text, placeholder)

    monkeypatch.setattr(flows.redaction, "_replace", failing_on_one)
    comment = "Rotkehlchenweg 4, Anna Schulz: der Fahrer war unfreundlich"
    for n in range(5):
        desk.clock.advance(timedelta(hours=1))
        await give(desk, 4100 + n, "4", "Schnelle Lieferung, gerne wieder")
    answer = await give(desk, 4001, "1", comment)
    assert "automatisch gelöscht" in answer and "schiefgelaufen" not in answer
    alert = desk.api.messages(STAFF_CHAT)[-1]
    assert WITHHELD in alert["text"] and "Schulz" not in alert["text"]
    await desk.restart()  # posting due alerts at start goes on too
    desk.clock.advance(timedelta(days=1))
    staff = desk.customer(STAFF)
    await staff.send("/zusammenfassung")
    await staff.press("Ich bestätige")
    summary = texts(await staff.send("/zusammenfassung"))
    assert "Feedbacks: 6" in summary and "schiefgelaufen" not in summary, summary
    assert "Rotkehlchen" not in summary and "Schulz" not in summary
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "could not be redacted (IndexError in " in logged
    assert "Rotkehlchen" not in logged and "Schulz" not in logged
