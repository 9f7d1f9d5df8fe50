"""A contact chat id goes with the last feedback it was given with, as /datenschutz and
/meinedaten say (found by a time review: it stayed while the person had any feedback, a
later one given without it too, up to a whole retention longer)."""

from __future__ import annotations

from datetime import timedelta

from bot.app import purge_expired
from tests.bot.test_retention import give
from tests.harness import Harness, texts


async def test_the_chat_id_goes_with_the_feedback_it_was_given_with(harness: Harness) -> None:
    erika = harness.customer(1)
    await give(harness, 1, "2", "bitte melden Sie sich", contact=True)
    harness.clock.advance(timedelta(days=100))
    second = await erika.send("/start")
    assert second
    await erika.press("4")
    await erika.send("zweites Feedback, ohne Rückruf")
    thanks = texts(await erika.press("Nein"))
    assert "Danke" in thanks or "gelöscht" in thanks
    # The first feedback, the one the consent to be contacted was given with, expires:
    harness.clock.advance(timedelta(days=80, hours=1))
    assert harness.app is not None and harness.app.bot_data.service is not None
    await purge_expired(harness.app.bot_data.service)
    shown = texts(await erika.send("/meinedaten"))
    assert "bitte melden Sie sich" not in shown  # the first feedback is gone
    # ... and the chat id with it, as /datenschutz and this very answer promise:
    assert "ID dieses Chats" not in shown, shown
