"""A contact chat id goes with the last feedback it was given with, as /datenschutz and
/meinedaten say (found by a time review: it stayed while the person had any feedback, a
later one given without it too, up to a whole retention longer)."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.app import purge_expired
from tests.bot.test_retention import give
from tests.harness import Harness, labels, texts


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


async def test_the_consent_to_be_contacted_ends_with_that_feedback(harness: Harness) -> None:
    """Not said in force, nor offered for withdrawal, once the feedback it was given with
    is gone: nothing is kept under it any more (found by a returning customer's review)."""
    erika = harness.customer(1)
    await give(harness, 1, "2", "bitte melden Sie sich", contact=True)
    harness.clock.advance(timedelta(days=100))
    await erika.send("/start")
    await erika.press("4")
    await erika.send("zweites Feedback, ohne Rückruf")
    await erika.press("Nein")
    before = texts(await erika.send("/widerruf"))
    assert "Kontaktaufnahme" in before, before  # in force while that feedback is there
    harness.clock.advance(timedelta(days=80, hours=1))
    assert harness.app is not None and harness.app.bot_data.service is not None
    await purge_expired(harness.app.bot_data.service)
    harness.clock.advance(timedelta(minutes=2))  # past the limit on asking for one's data
    replies = await erika.send("/meinedaten")
    shown = texts(replies)
    assert "beendet mit der Löschung des Feedbacks" in shown, shown
    [document] = [m["document"] for m in replies if m["document"]]
    export = json.loads(document["bytes"])
    statuses = {c["purpose"]: c["status"] for c in export["consents"]}
    assert statuses == {"feedback": "in_force", "contact": "ended"}, statuses
    offered = await erika.send("/widerruf")
    buttons = [label for row in labels(offered[-1]) for label in row]
    assert buttons and not any("Kontakt" in label for label in buttons), buttons


async def test_the_consent_to_be_contacted_is_not_ended_while_its_chat_id_is_stored(
    harness: Harness,
) -> None:
    """Found by review: with a survey under way as the purge ran, the chat id given with
    the feedback gone was kept (for the unfinished answers), and /meinedaten said the
    consent had ended and, below, that the chat id was stored under it until it is
    withdrawn, while /widerruf no longer offered it."""
    erika = harness.customer(1)
    await give(harness, 1, "2", "bitte melden Sie sich", contact=True)
    harness.clock.advance(timedelta(days=181))
    await erika.send("/start")
    await erika.press("4")  # unfinished answers as the purge runs
    assert harness.app is not None and harness.app.bot_data.service is not None
    await purge_expired(harness.app.bot_data.service)
    assert harness.store is not None
    pseudonym = harness.store.pseudonym(f"tg-user:{erika.user_id}")
    assert await harness.store.contact_of(pseudonym) is not None, "kept for the draft"
    harness.clock.advance(timedelta(minutes=2))
    replies = await erika.send("/meinedaten")
    shown = texts(replies)
    assert "beendet mit der Löschung des Feedbacks" not in shown, shown
    [document] = [m["document"] for m in replies if m["document"]]
    export = json.loads(document["bytes"])
    assert export["contact_chat_id"] is not None
    statuses = {c["purpose"]: c["status"] for c in export["consents"]}
    assert statuses == {"feedback": "in_force", "contact": "in_force"}, statuses
    offered = await erika.send("/widerruf")
    buttons = [label for message in offered for row in labels(message) for label in row]
    assert "Kontaktaufnahme" in buttons, buttons
    withdrawn = texts(await erika.press("Kontaktaufnahme"))
    assert "Chat-ID" in withdrawn, withdrawn
    assert await harness.store.contact_of(pseudonym) is None


async def test_a_consent_to_be_contacted_ends_with_its_feedback_beside_one_given_since(
    harness: Harness,
) -> None:
    """Each record by the feedback it was given with (found by a year-long customer's
    review: with a second feedback given with a consent to be contacted, the first consent
    was still said in force after its feedback expired)."""
    erika = harness.customer(3)
    await give(harness, 3, "2", "erstes Feedback", contact=True)
    harness.clock.advance(timedelta(days=100))
    await erika.send("/start")
    await erika.press("4")
    await erika.send("zweites Feedback")
    await erika.press("Ja, einverstanden")
    harness.clock.advance(timedelta(days=80, hours=1))  # the first one expires
    assert harness.app is not None and harness.app.bot_data.service is not None
    await purge_expired(harness.app.bot_data.service)
    replies = await erika.send("/meinedaten")
    [document] = [m["document"] for m in replies if m["document"]]
    consents = json.loads(document["bytes"])["consents"]
    assert [(c["purpose"], c["status"]) for c in consents] == [
        ("feedback", "in_force"),
        ("contact", "ended"),
        ("contact", "in_force"),
    ], consents
    offered = [label for row in labels((await erika.send("/widerruf"))[-1]) for label in row]
    assert "Kontaktaufnahme" in offered, "the newer one can be withdrawn"
