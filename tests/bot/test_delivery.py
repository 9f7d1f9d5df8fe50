"""Ordering, redelivery and Bot API failures: nothing lost, nothing doubled, nothing crashes."""

from __future__ import annotations

import asyncio
import logging
import sqlite3

import pytest
from telegram import Update

from tests.harness import Harness, leaked_into_log, texts


async def consented(harness: Harness, user_id: int = 4242424242):  # type: ignore[no-untyped-def]
    customer = harness.customer(user_id)
    await customer.send("/start")
    await customer.press("Ja, ich willige ein")
    return customer


async def stored_feedback(harness: Harness, user_id: int) -> list:  # type: ignore[type-arg]
    assert harness.store is not None
    pseudonym = harness.store.pseudonym(f"tg-user:{user_id}")
    return await harness.store.feedback_of(pseudonym, harness.clock())


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The pauses the renderer takes before sending again, recorded instead of slept."""
    recorded: list[float] = []
    real_sleep = asyncio.sleep

    async def fake_sleep(seconds: float) -> None:
        recorded.append(seconds)
        await real_sleep(0)

    monkeypatch.setattr("bot.render.asyncio.sleep", fake_sleep)
    return recorded


async def test_updates_of_one_person_are_processed_in_order_through_the_processor(
    harness: Harness,
) -> None:
    """Rating, comment and contact answer arrive at once; the concurrent processor keeps order."""
    erika = await consented(harness)
    app = harness.app
    assert app is not None
    rating = harness.api.press_button(erika.user_id, "3", **erika.sender)
    comment = harness.api.user_message(erika.user_id, "gleichzeitig", **erika.sender)
    others = [harness.api.user_message(9000 + i, "/start", language_code="de") for i in range(5)]
    await app.start()
    try:
        for update in (rating, *others, comment):
            await app.update_queue.put(Update.de_json(update, app.bot))
        await harness.api.wait_until_async(
            lambda: any(
                "kontaktieren" in (m["text"] or "") for m in harness.api.messages(erika.chat_id)
            ),
            what="the contact question",
        )
    finally:
        await app.stop()
    draft = await harness.store.load_draft(  # type: ignore[union-attr]
        harness.store.pseudonym(f"tg-user:{erika.user_id}"),  # type: ignore[union-attr]
        harness.clock(),
    )
    assert draft is not None
    assert draft.payload["answers"] == {"rating": 3, "comment": "gleichzeitig"}


async def test_blocked_person_does_not_lose_the_stored_feedback(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    erika = await consented(harness)
    await erika.press("4")
    await erika.send("vor dem Blockieren")
    harness.api.block_user(erika.chat_id)
    assert await erika.press("Nein") == []
    [feedback] = await stored_feedback(harness, erika.user_id)
    assert feedback.answers["comment"] == "vor dem Blockieren"
    assert "blocked" in caplog.text


async def test_flood_control_is_waited_out_and_the_reply_arrives(
    harness: Harness, waits: list[float]
) -> None:
    erika = harness.customer()
    harness.api.fail_next("sendMessage", 429, retry_after=7)
    answer = await erika.send("/start")
    assert waits == [7.0]
    assert "Einwilligung" in texts(answer)


async def test_a_server_error_on_send_is_sent_again_after_a_pause(
    harness: Harness, waits: list[float]
) -> None:
    erika = await consented(harness)
    await erika.press("5")
    await erika.send("trotz Fehler")
    harness.api.fail_next("sendMessage", 500)
    thanks = await erika.press("Nein")
    assert "Vielen Dank" in texts(thanks), "the thanks arrive although Telegram failed once"
    assert waits == [1.0]
    assert len(await stored_feedback(harness, erika.user_id)) == 1


async def test_lasting_server_errors_are_logged_and_the_answer_kept(
    harness: Harness, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.render.SERVER_ERROR_PAUSE", 0.0)
    erika = await consented(harness)
    await erika.press("5")
    await erika.send("trotz Fehler")
    harness.api.fail_next("sendMessage", 500, count=3)
    await erika.press("Nein")
    assert len(await stored_feedback(harness, erika.user_id)) == 1
    sent = [c for c in harness.api.calls("sendMessage") if c.status == 500]
    assert len(sent) == 3
    assert "sending failed" in caplog.text
    assert "trotz Fehler" not in caplog.text


async def test_an_exception_in_a_handler_is_apologised_for_without_leaking(
    harness: Harness, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    erika = await consented(harness)
    assert harness.store is not None

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret comment Geheimnis-42 leaked into an exception")

    monkeypatch.setattr(harness.store, "save_draft", broken)
    answer = await erika.press("2")
    assert "schiefgelaufen" in texts(answer)
    assert "RuntimeError" in caplog.text
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors and all("Geheimnis-42" not in r.getMessage() for r in errors)
    # Nor in a traceback: the log line as production writes it, and as captured here.
    assert "Geheimnis-42" not in caplog.text
    assert not leaked_into_log(caplog.records, {"Geheimnis-42"})


async def test_a_failing_claim_of_the_update_costs_no_second_answer(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store error while claiming the update id was apologised for, and then the
    feature answered as well: two answers, one of them wrong."""
    assert harness.store is not None

    async def locked(*args: object, **kwargs: object) -> bool:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(harness.store, "claim_update", locked)
    [answer] = await harness.customer().send("/hilfe")
    assert "Ich sammle Feedback" in str(answer["text"])
