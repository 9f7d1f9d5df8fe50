"""What a customer who tries to slip personal data past the redaction gets into the staff
chat (found by a hostile customer's review: a left-to-right mark inside an e-mail address,
fullwidth digits, a decomposed umlaut and a joiner after a space each kept it whole)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.botapi import FakeBotApi
from tests.harness import Clock, Harness, make_settings

STAFF, STAFF_CHAT = 7001, -1007002


@pytest.fixture
async def desk(api: FakeBotApi, clock: Clock, tmp_path: Path) -> AsyncIterator[Harness]:
    settings = make_settings(
        tmp_path / "data", staff_ids=str(STAFF), staff_chat_id=STAFF_CHAT, alert_threshold=2
    )
    harness = Harness(api=api, settings=settings, clock=clock)
    await harness.start()
    yield harness
    await harness.stop()


@pytest.mark.parametrize(
    ("comment", "shown", "hidden"),
    [
        ("Mail: erika.mustermann\u200e@gmx.de", "Mail: [E-Mail]", "mustermann"),
        ("IBAN ＤＥ８９ ３７０４ ００４４ ０５３２ ０１３０ ００", "IBAN [IBAN]", "３７０４"),
        ("Herr Mu\u0308ller war unfreundlich", "[Name] war unfreundlich", "ller"),
        ("Ruf an: 0151 \u200d2345 6789", "Ruf an: [Telefon]", "2345"),
        ("Kalt \u202eTXET\u202c", "Kalt TXET", "\u202e"),
    ],
)
async def test_a_comment_reaches_staff_redacted_whatever_shape_its_letters_take(
    desk: Harness, comment: str, shown: str, hidden: str
) -> None:
    customer = desk.customer(4001)
    await customer.send("/start")
    await customer.press("Ja, ich willige ein")
    await customer.press("1")
    await customer.send(comment)
    await customer.press("Nein")
    assert desk.app is not None
    await asyncio.gather(*desk.app.bot_data.background)  # the alert is posted
    [alert] = desk.api.messages(STAFF_CHAT)
    assert f"Kommentar: {shown}" in alert["text"] and hidden not in alert["text"]
