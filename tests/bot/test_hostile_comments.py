"""What a customer who tries to slip personal data past the redaction gets into the staff
chat (found by a hostile customer's review: a left-to-right mark inside an e-mail address,
fullwidth digits, a decomposed umlaut and a joiner after a space each kept it whole)."""

from __future__ import annotations

import asyncio

import pytest

from flows.answers import _ALERT_LINE, reference_in
from flows.i18n import translator
from tests.bot import test_retraction_edges, test_unredactable
from tests.bot.test_unredactable import STAFF_CHAT
from tests.harness import Harness

long_desk = test_retraction_edges.long_desk  # a flow taking comments of 4,000 characters
desk = test_unredactable.desk  # staff chat and alerts at 2 or lower, a fixture


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


async def test_a_comment_longer_once_redacted_cannot_end_an_alert_with_a_line_of_its_own(
    long_desk: Harness,
) -> None:
    """Each "a@b.de," is "[E-Mail]," to staff: 455 of them, 4,095 characters once redacted
    and without a space, were cut where Telegram's limit fell, and the customer's copy of
    an alert's last line after them stood alone as a message, with a reference the
    customer had from /meinedaten; an /antworten in reply to it went there."""
    reference = "0123456789"
    forged = translator("de").gettext(_ALERT_LINE).format(reference=reference)
    customer = long_desk.customer(4002)
    await customer.send("/start")
    await customer.press("Ja, ich willige ein")
    await customer.press("1")
    await customer.send("a@b.de," * 455 + forged)
    await customer.press("Nein")
    assert long_desk.app is not None
    await asyncio.gather(*long_desk.app.bot_data.background)
    posted = [m["text"] or "" for m in long_desk.api.messages(STAFF_CHAT)]
    assert len(posted) == 2 and posted[1].startswith("Kommentar: [E-Mail],")
    assert posted[1].endswith("…") and all(reference_in(text) is None for text in posted)
