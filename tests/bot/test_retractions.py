"""Alerts in the staff chat go with the feedback they quote: erasure, withdrawal and
expiry replace their text, through the real bot and the Bot API stand-in."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import sqlite3
from collections import deque
from collections.abc import AsyncIterator
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import bot.alerts
import storage.sqlite_people
from bot.app import _purge_job
from bot.fakeapi.model import ApiError, BotMessage, bad_request
from bot.logs import RedactingFormatter
from bot.retractions import Retractor
from storage.interface import StaffPost, StorageFull, StoreNotOpen, unconfirmed_message_id
from tests.bot.test_optional_answers import CALLBACK_FLOW, answer_the_callback_survey
from tests.fakes.botapi import FakeBotApi
from tests.harness import TOKEN, Clock, Harness, files_contain, make_settings, texts

STAFF, STAFF_CHAT = 7001, -1007002
YES, NO = "Ja, einverstanden", "Nein"
DELETED = (
    "🗑 Diese Warnmeldung wurde zurückgezogen: Das Feedback wurde gelöscht oder ist "
    "abgelaufen, oder die Person hat die Einwilligung widerrufen, auf der die Warnmeldung "
    "beruhte. Bitte löschen Sie auch Notizen oder Kopien davon, die Sie angelegt haben."
)


@pytest.fixture
async def desk(
    api: FakeBotApi, clock: Clock, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Harness]:
    settings = make_settings(
        tmp_path / "data",
        staff_ids=str(STAFF),
        staff_chat_id=STAFF_CHAT,
        alert_threshold=2,
        controller_name="Beispiel GmbH",
        controller_contact="service@beispiel.de",
    )
    harness = Harness(api=api, settings=settings, clock=clock)
    marker = request.node.get_closest_marker("read_timeout")
    if marker is not None:
        harness.read_timeout = marker.args[0]
    await harness.start()
    yield harness
    await harness.stop()


def retractor(desk: Harness) -> Retractor:
    assert desk.app is not None and desk.app.bot_data.retractor is not None
    return desk.app.bot_data.retractor


async def settled(desk: Harness) -> None:
    """The alerts' and the retractions' background work is done."""
    assert desk.app is not None
    await asyncio.gather(*desk.app.bot_data.background)
    if desk.app.bot_data.retractor is not None:
        await retractor(desk).wait()


async def feedback(
    desk: Harness, user_id: int, rating: str, comment: str, contact: str = NO
) -> BotMessage:
    """A customer gives feedback; the alert it raised in the staff chat."""
    customer = desk.customer(user_id)
    await customer.send("/start")
    await customer.press("Ja, ich willige ein")
    await customer.press(rating)
    await customer.send(comment)
    await customer.press(contact)
    await settled(desk)
    alert = desk.api.messages(STAFF_CHAT)[-1]
    assert comment in (alert["text"] or "")
    return alert


def posts(desk: Harness) -> list[tuple[object, ...]]:
    """The rows the store keeps about posts in the staff chat, as in the file (beside the
    erasure ledger, which a restore of a backup leaves in place)."""
    ledger = desk.settings.data_dir / "erasures.db"
    with closing(sqlite3.connect(f"file:{ledger}?mode=ro", uri=True)) as db:
        return db.execute("SELECT * FROM staff_posts ORDER BY id").fetchall()


def hold_alerts(monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """Alerts to the staff chat wait (as for flood control) until the event is set."""
    gate = asyncio.Event()
    real = bot.alerts.send_to

    async def held(bot_: Any, chat_id: int, *args: Any, **kwargs: Any) -> bool:
        if chat_id == STAFF_CHAT:
            await gate.wait()
        return await real(bot_, chat_id, *args, **kwargs)

    monkeypatch.setattr(bot.alerts, "send_to", held)
    return gate


def now_shown(desk: Harness, alert: BotMessage) -> str:
    [message] = [m for m in desk.api.messages(STAFF_CHAT) if m["message_id"] == alert["message_id"]]
    return message["text"] or ""


async def test_an_erasure_replaces_the_alert_about_that_persons_feedback(desk: Harness) -> None:
    mine = await feedback(desk, 4001, "1", "Lieferung kam nie an")
    theirs = await feedback(desk, 4002, "2", "Verpackung beschädigt")
    customer = desk.customer(4001)
    await customer.send("/loeschen")
    done = texts(await customer.press("Alles löschen"))
    assert (
        "• Meldungen zu Ihrem Feedback in unserem Team-Chat: 1 (werden durch einen "
        "Hinweis ersetzt, dass sie zurückgezogen wurden)" in done
    )
    await settled(desk)
    assert now_shown(desk, mine) == DELETED
    assert "Verpackung beschädigt" in now_shown(desk, theirs), "another person's stays"
    assert "Lieferung kam nie an" not in texts(desk.api.messages(STAFF_CHAT))
    assert len(posts(desk)) == 1, "the other alert's, still to be followed"


async def test_after_an_erasure_no_file_holds_the_person_its_alert_was_about(
    desk: Harness,
) -> None:
    """The note of an alert keeps the person's pseudonym in clear in erasures.db (and its
    WAL), beside unfinished answers, a language choice and a chat id: after /loeschen, no
    file holds the pseudonym, what they typed or their Telegram id (a rights audit: the
    erasure canaries covered feedback.db, not the alert notes)."""
    comment, unfinished = "Alarm-Kanarie-Rotfeder-4c2", "Entwurf-Kanarie-Graufeder-8e5"
    await feedback(desk, 4011, "1", comment, contact=YES)
    customer = desk.customer(4011)
    await customer.send("/sprache english")
    await customer.send("/start")
    await customer.press("3")
    await customer.send(unfinished)  # the contact question is open: a draft
    assert desk.store is not None
    pseudonym = desk.store.pseudonym("tg-user:4011")
    data = desk.settings.data_dir
    assert any(
        name.startswith(str(data / "erasures.db"))
        for name in files_contain(data, pseudonym.encode())
    ), "sanity: the alert's note names the person"
    question = await customer.send("/delete")
    [erase] = [m for m in question if m["buttons"] and m["buttons"][0][0][0] == "Erase everything"]
    done = await customer.press_data(erase["message_id"], erase["buttons"][0][0][1])
    assert "alerts about your feedback in our staff chat: 1" in texts(done)
    await settled(desk)
    for needle in (comment, unfinished, pseudonym, str(customer.user_id)):
        assert not files_contain(data, needle.encode()), needle
    assert not files_contain(data, bytes.fromhex(pseudonym))


DIGESTS_STAY = (
    "Eine Übersicht oder Zusammenfassung, die unser Team schon gesehen hat, kann einen "
    "Kommentar von Ihnen zitieren, ohne Ihren Namen; sie bleibt in den Chats des Teams."
)


async def test_erasure_and_withdrawal_say_that_a_digest_may_still_quote_a_comment(
    desk: Harness,
) -> None:
    """Found by a DPO review: "everything stored about you has been erased", while the
    morning's digest in the staff chat still quoted the person's comment (the privacy
    notice said digests stay; the dialogue where the right is used did not). Said where
    the person wrote a comment, not where they skipped it."""
    await feedback(desk, 4001, "1", "Lieferung kam nie an")
    customer = desk.customer(4001)
    question = texts(await customer.send("/loeschen"))
    assert DIGESTS_STAY in question
    assert DIGESTS_STAY in texts(await customer.press("Alles löschen"))

    await feedback(desk, 4002, "2", "Tisch war dreckig")
    other = desk.customer(4002)
    await other.send("/widerruf")
    withdrawn = texts(await other.press("Speicherung Ihres Feedbacks"))
    assert "gelöscht" in withdrawn and DIGESTS_STAY in withdrawn

    silent = desk.customer(4003)
    await silent.send("/start")
    await silent.press("Ja, ich willige ein")
    await silent.press("1")
    await silent.press("Überspringen")
    await silent.press(NO)
    await settled(desk)
    assert "Kommentar" not in texts(await silent.send("/loeschen"))
    assert DIGESTS_STAY not in texts(await silent.press("Alles löschen"))


async def test_an_answer_for_an_optional_purpose_alone_is_not_said_to_be_quoted(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """Digests and summaries quote only the comments they count, never an answer collected
    for an optional purpose (found by review: a follow-up's issue, with ratings only
    beside it, was said to be quoted, at erasure and at the follow-up's withdrawal)."""
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "callback.toml").write_text(CALLBACK_FLOW, encoding="utf-8")
    settings = make_settings(
        tmp_path / "data",
        flows_dir=flows,
        staff_ids=str(STAFF),
        staff_chat_id=STAFF_CHAT,
        controller_name="Beispiel GmbH",
        controller_contact="service@beispiel.de",
    )
    harness = Harness(api=api, settings=settings, clock=clock)
    await harness.start()
    try:
        await answer_the_callback_survey(harness)
        erika = harness.customer()
        question = texts(await erika.send("/loeschen"))
        assert "Möchten Sie alle über Sie gespeicherten Daten löschen?" in question
        assert DIGESTS_STAY not in question
        assert DIGESTS_STAY not in texts(await erika.press("Alles löschen"))
    finally:
        await harness.stop()


async def unconfirmed_alert(desk: Harness, user_id: int, comment: str, contact: str) -> str:
    """Feedback whose alert Telegram takes without answering in time (it arrives, its id
    is not known); the text that arrived."""
    customer = desk.customer(user_id)
    await customer.send("/start")
    await customer.press("Ja, ich willige ein")
    await customer.press("1")
    await customer.send(comment)
    desk.api.delay_next("sendMessage", 1, count=2)  # the thanks and the alert
    await customer.press(contact)
    await settled(desk)
    [alert] = [m for m in desk.api.messages(STAFF_CHAT) if comment in (m["text"] or "")]
    return alert["text"] or ""


@pytest.mark.read_timeout(0.2)
async def test_an_alert_telegram_did_not_confirm_is_shown_to_its_person_and_named_to_staff(
    desk: Harness,
) -> None:
    """It may have arrived (it did): the person's copy lists it as possibly received, the
    erase question counts it, and erasure, which cannot replace a message whose id is
    unknown, posts a note with its time asking staff to delete it (DPO review: it was
    neither noted nor told of, and stayed)."""
    await unconfirmed_alert(desk, 4101, "Unbestätigt zu spät", NO)
    customer = desk.customer(4101)
    mine = texts(await customer.send("/meinedaten"))
    assert "Feedback 1 wurde am " in mine and "möglicherweise in unserem Team-Chat gezeigt" in mine
    question = texts(await customer.send("/loeschen"))
    assert "Die Meldung zu Ihrem Feedback in unserem Team-Chat" in question
    await customer.press("Alles löschen")
    await settled(desk)
    note = desk.api.messages(STAFF_CHAT)[-1]["text"] or ""
    posted = (desk.clock() + timedelta(hours=1)).strftime("%H:%M")  # Berlin, winter
    assert note.startswith("🗑 Eine hier am ") and f"{posted} MEZ" in note, note
    assert "von Hand" in note and "Unbestätigt" not in note
    assert posts(desk) == [], "told: nothing left to do"
    assert "Unbestätigt zu spät" in texts(desk.api.messages(STAFF_CHAT)), "it did arrive"


@pytest.mark.read_timeout(0.2)
async def test_a_note_on_an_unconfirmed_alert_goes_to_the_supergroup_the_chat_became(
    desk: Harness,
) -> None:
    """Review: sent to the old group's id, it failed in every round, for good."""
    await unconfirmed_alert(desk, 4105, "Nach dem Umzug", NO)
    customer = desk.customer(4105)
    await customer.send("/loeschen")
    with desk.api._cond:  # the group became a supergroup meanwhile
        desk.api._faults[f"sendMessage@{STAFF_CHAT}"] = deque(
            [
                ApiError(
                    400,
                    "Bad Request: group chat was upgraded to a supergroup chat",
                    {"migrate_to_chat_id": -1009999},
                )
            ]
        )
    await customer.press("Alles löschen")
    await settled(desk)
    [note] = [m["text"] or "" for m in desk.api.messages(-1009999)]
    assert "von Hand" in note and posts(desk) == []


@pytest.mark.read_timeout(0.2)
async def test_a_note_on_an_unconfirmed_alert_that_times_out_is_not_posted_again(
    desk: Harness,
) -> None:
    """It may have arrived: it was posted again in every later round (review)."""
    await unconfirmed_alert(desk, 4104, "Notiz einmal", NO)
    customer = desk.customer(4104)
    await customer.send("/loeschen")
    desk.api.delay_next("sendMessage", 1, count=2)  # the confirmation and the note
    await customer.press("Alles löschen")
    await settled(desk)
    await retractor(desk).run()  # a later round
    notes = [m for m in desk.api.messages(STAFF_CHAT) if "von Hand" in (m["text"] or "")]
    assert len(notes) == 1 and posts(desk) == []


async def test_an_alert_with_a_part_confirmed_is_shown_as_received(desk: Harness) -> None:
    """A part Telegram confirmed and a copy it did not (a resend after a timeout): it
    certainly arrived, and the person's copy says so (review)."""
    await feedback(desk, 4103, "1", "Teils bestätigt")
    assert desk.store is not None
    pseudonym = desk.store.pseudonym("tg-user:4103")
    [posted] = await desk.store.staff_posts_of(pseudonym)
    maybe = posted.model_copy(update={"message_id": unconfirmed_message_id()})
    await desk.store.record_staff_post(pseudonym, maybe)
    mine = texts(await desk.customer(4103).send("/meinedaten"))
    assert "Feedback 1 wurde am " in mine and "möglicherweise" not in mine, mine


@pytest.mark.read_timeout(0.2)
async def test_an_unconfirmed_alert_is_named_to_staff_when_the_contact_consent_goes(
    desk: Harness,
) -> None:
    """Shown again without the reference, as a confirmed one is, it cannot be: staff are
    asked to delete it; the feedback stays."""
    await unconfirmed_alert(desk, 4102, "Unbestätigt mit Kontakt", YES)
    customer = desk.customer(4102)
    await customer.send("/widerruf")
    await customer.press("Kontaktaufnahme")
    await settled(desk)
    note = desk.api.messages(STAFF_CHAT)[-1]["text"] or ""
    assert note.startswith("🗑 Eine hier am ") and "von Hand" in note, note
    assert posts(desk) == []
    assert "Unbestätigt mit Kontakt" in texts(await customer.send("/meinedaten"))


async def test_withdrawing_the_consent_to_be_contacted_retracts_a_feedback_posted_for_it(
    desk: Harness,
) -> None:
    """A 5 of 5 is posted only because its author agreed to be contacted: that consent
    withdrawn, the post goes (the consent question says so); the feedback itself stays."""
    posted = await feedback(desk, 4003, "5", "Alles bestens", contact=YES)
    assert now_shown(desk, posted).startswith("Kontakt erlaubt: Feedback in „Kundenfeedback“\n")
    customer = desk.customer(4003)
    await customer.send("/widerruf")
    assert "widerrufen" in texts(await customer.press("Kontaktaufnahme"))
    await settled(desk)
    assert now_shown(desk, posted) == DELETED
    assert desk.store is not None
    [record] = await desk.store.feedback_of(desk.store.pseudonym("tg-user:4003"), desk.clock())
    assert record.answers["comment"] == "Alles bestens"


async def test_a_low_rating_alert_stays_when_only_the_contact_consent_is_withdrawn(
    desk: Harness,
) -> None:
    """It rests on the survey's consent, still in force: it stays, shown as an alert
    without that consent is (found by review: it kept the line inviting staff to answer,
    untrue since). Withdrawing the survey's consent erases the feedback: then it goes."""
    alert = await feedback(desk, 4004, "1", "Nie wieder", contact=YES)
    shown = now_shown(desk, alert)
    assert shown.startswith("Kontakt erlaubt: niedrige Bewertung in „Kundenfeedback“\n"), shown
    assert "/antworten" in shown
    without = await feedback(desk, 4014, "1", "Nie wieder", contact=NO)
    customer = desk.customer(4004)
    await customer.send("/widerruf")
    await customer.press("Kontaktaufnahme")
    await settled(desk)
    assert now_shown(desk, alert) == without["text"]
    assert now_shown(desk, alert).startswith("Niedrige Bewertung in „Kundenfeedback“\n")
    await customer.send("/widerruf")
    assert "gelöscht" in texts(await customer.press("Speicherung Ihres Feedbacks"))
    await settled(desk)
    assert now_shown(desk, alert) == DELETED


async def test_the_purge_retracts_the_alert_of_expired_feedback(desk: Harness) -> None:
    alert = await feedback(desk, 4005, "2", "Zu teuer")
    assert desk.app is not None
    data = desk.app.bot_data
    desk.clock.advance(timedelta(days=1))
    await _purge_job(SimpleNamespace(bot_data=data, service=data.service))  # type: ignore[arg-type]
    await settled(desk)
    assert "Zu teuer" in now_shown(desk, alert), "not yet"
    desk.clock.advance(timedelta(days=3 * 365))
    await _purge_job(SimpleNamespace(bot_data=data, service=data.service))  # type: ignore[arg-type]
    await settled(desk)
    assert now_shown(desk, alert) == DELETED
    assert len(posts(desk)) == 0


async def test_a_retraction_telegram_refused_is_carried_out_after_a_restart(
    desk: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Telegram failing (here three 500s in a row) loses nothing: the post stays marked,
    and the next start (or erasure, withdrawal, purge) replaces it."""
    monkeypatch.setattr("bot.retractions.SERVER_ERROR_PAUSE", 0.0)
    alert = await feedback(desk, 4006, "1", "Kaputt angekommen")
    desk.api.fail_next("editMessageText", 500, count=3)
    customer = desk.customer(4006)
    await customer.send("/loeschen")
    await customer.press("Alles löschen")
    await settled(desk)
    assert "Kaputt angekommen" in now_shown(desk, alert)
    assert len(posts(desk)) == 1
    await desk.restart()
    await settled(desk)
    assert now_shown(desk, alert) == DELETED
    assert len(posts(desk)) == 0


async def test_an_alert_deleted_in_the_chat_is_not_tried_forever(desk: Harness) -> None:
    alert = await feedback(desk, 4007, "1", "Schlecht")
    assert desk.app is not None
    await desk.app.bot.delete_message(STAFF_CHAT, alert["message_id"])  # as staff may
    customer = desk.customer(4007)
    await customer.send("/loeschen")
    await customer.press("Alles löschen")
    await settled(desk)
    assert len(posts(desk)) == 0
    assert [c for c in desk.api.calls("editMessageText") if c.params.get("chat_id") == STAFF_CHAT]


async def test_an_alert_noted_after_its_feedback_went_is_retracted_at_once(
    desk: Harness,
) -> None:
    """The alert is posted in the background: the person may erase everything before it
    is noted. Noting it then takes it back at once."""
    alert = await feedback(desk, 4008, "1", "Ganz schlecht")
    assert desk.store is not None
    pseudonym = desk.store.pseudonym("tg-user:4008")
    [record] = await desk.store.feedback_of(pseudonym, desk.clock())
    await desk.store.erase_subject(pseudonym)
    await desk.store.post_retracted(STAFF_CHAT, alert["message_id"])  # as if not yet noted
    late = StaffPost(
        chat_id=STAFF_CHAT,
        message_id=alert["message_id"],
        feedback_id=record.id,
        posted_at=desk.clock(),
        purpose="feedback",
    )
    await retractor(desk).posted(pseudonym, [late])
    await settled(desk)
    assert now_shown(desk, alert) == DELETED


async def test_an_alert_that_cannot_be_noted_is_taken_back_at_once(
    desk: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk at the moment the alert is noted: erasure could not reach it later, so
    it does not stay in the chat. (The feedback itself was stored before.)"""
    assert desk.store is not None

    async def full(*args: object) -> bool:
        raise StorageFull("the disk is full")

    monkeypatch.setattr(desk.store, "record_staff_post", full)
    customer = desk.customer(4009)
    await customer.send("/start")
    await customer.press("Ja, ich willige ein")
    await customer.press("1")
    await customer.send("Unfreundlich am Telefon")
    await customer.press(NO)
    await settled(desk)
    [alert] = desk.api.messages(STAFF_CHAT)
    assert alert["text"] == (
        "🗑 Diese Warnmeldung wurde zurückgenommen: Der Bot konnte sie nicht vermerken (sein "
        "Speicher ist voll) und könnte sie daher später nicht entfernen, wenn das Feedback "
        "gelöscht wird."
    )
    assert await desk.store.feedback_of(desk.store.pseudonym("tg-user:4009"), desk.clock())


async def test_a_copy_of_ones_data_names_the_alerts_staff_were_shown(desk: Harness) -> None:
    """The staff chat is a recipient (Art. 15(1)(c)): /meinedaten says which feedback
    was posted there and when, until the alert is taken back."""
    await feedback(desk, 4010, "1", "Zu laut")
    desk.clock.advance(timedelta(hours=1))
    customer = desk.customer(4010)
    await customer.send("/start")  # agreed before: straight to the rating
    await customer.press("5")
    await customer.send("Jetzt gut")
    await customer.press(NO)
    await settled(desk)
    assert "Jetzt gut" not in texts(desk.api.messages(STAFF_CHAT)), "no alert for it"
    answer = await customer.send("/meinedaten")
    summary = texts([m for m in answer if m["text"]])
    assert summary.count("in unserem Team-Chat gezeigt") == 1
    assert "Feedback 1 wurde am " in summary and "Feedback 2 wurde" not in summary
    [document] = [m["document"] for m in answer if m["document"]]
    export = json.loads(document["bytes"].decode("utf-8"))
    [passed] = export["passed_on"]
    assert passed["recipient"] == "unser Team-Chat", "a name, as a field has it (DPO check)"
    assert passed["feedback_id"] == export["feedback"][0]["id"]
    await customer.send("/widerruf")
    await customer.press("Speicherung Ihres Feedbacks")
    await settled(desk)
    assert "Team-Chat" not in texts(await customer.send("/meinedaten"))


async def test_a_shutdown_during_a_retraction_leaves_it_for_the_next_start(
    desk: Harness,
) -> None:
    """Flood control asks the bot to wait half a minute: a stop does not wait for that;
    the round is cancelled, and the post stays marked."""
    alert = await feedback(desk, 4011, "1", "Nie angekommen")
    desk.api.fail_next("editMessageText", 429, retry_after=30)
    customer = desk.customer(4011)
    await customer.send("/loeschen")
    await customer.press("Alles löschen")
    await desk.api.wait_until_async(
        lambda: desk.api.calls("editMessageText"), what="the refused change"
    )
    rounds = list(retractor(desk)._tasks)
    assert rounds
    await desk.stop()  # while the round waits out the flood control
    assert all(task.cancelled() for task in rounds)
    assert len(posts(desk)) == 1, "still marked"
    await desk.start()
    await settled(desk)
    assert now_shown(desk, alert) == DELETED
    assert posts(desk) == []


async def test_an_alert_not_noted_for_another_store_error_stays(
    desk: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only a full disk takes an alert back: the store closed under it at shutdown is no
    reason to tell staff it was withdrawn."""
    assert desk.store is not None

    async def closed(*args: object) -> bool:
        raise StoreNotOpen("the store is not open")

    monkeypatch.setattr(desk.store, "record_staff_post", closed)
    alert = await feedback(desk, 4012, "1", "Falsche Farbe")
    assert "Falsche Farbe" in now_shown(desk, alert)


async def test_a_staff_chat_the_bot_was_removed_from_does_not_hold_up_the_others(
    desk: Harness,
) -> None:
    """The operator moved the staff chat and removed the bot from the old one: the old
    chat's alerts wait (tried again in later rounds), the new chat's are replaced."""
    old_chat = -1009999
    alert = await feedback(desk, 4013, "1", "Wieder kaputt")
    assert desk.store is not None
    pseudonym = desk.store.pseudonym("tg-user:4013")
    [record] = await desk.store.feedback_of(pseudonym, desk.clock())
    earlier = StaffPost(
        chat_id=old_chat,
        message_id=3,
        feedback_id=record.id,
        posted_at=desk.clock(),
        purpose="feedback",
    )
    await desk.store.post_retracted(STAFF_CHAT, alert["message_id"])
    for post in (
        earlier,
        earlier.model_copy(update={"chat_id": STAFF_CHAT, "message_id": alert["message_id"]}),
    ):
        assert await desk.store.record_staff_post(pseudonym, post)  # the old chat's first
    desk.api.block_user(old_chat)  # 403 for every call there
    customer = desk.customer(4013)
    await customer.send("/loeschen")
    await customer.press("Alles löschen")
    await settled(desk)
    assert now_shown(desk, alert) == DELETED
    assert await desk.store.posts_to_retract() == [(old_chat, 3)]
    assert await desk.store.posts_to_retract(skip=[old_chat]) == []


async def test_an_alert_posted_after_a_backup_is_retracted_once_the_backup_is_restored(
    desk: Harness, tmp_path: Path
) -> None:
    """The restore takes the feedback away; the note of its alert is kept beside the
    erasure ledger, which a restore leaves in place, so the alert goes too (found by
    review: in feedback.db it went with the restore, and the comment stayed in the chat
    for good)."""
    await feedback(desk, 4105, "2", "naja")
    await desk.stop()
    data = desk.settings.data_dir
    backup = tmp_path / "backup"
    backup.mkdir()
    for name in ("feedback.db", "keys.db"):
        shutil.copy2(data / name, backup / name)
    await desk.start()
    alert = await feedback(desk, 4106, "1", "Rechnung doppelt abgebucht")
    await desk.stop()
    for name in ("feedback.db", "keys.db"):  # as the README says: erasures.db stays
        for side in ("-wal", "-shm"):
            (data / f"{name}{side}").unlink(missing_ok=True)
        shutil.copy2(backup / name, data / name)
    await desk.start()  # the purge at start finds the alert's feedback gone
    await settled(desk)
    assert now_shown(desk, alert) == DELETED
    assert posts(desk) and all(row[4] is not None for row in posts(desk)), "naja's stays"


async def test_an_alert_on_its_way_at_a_stop_is_posted_and_noted(desk: Harness) -> None:
    """A stop (a deploy) while Telegram is slow to take the alert: the stop waits for it,
    while the bot can still reach Telegram, so it is noted and an erasure after the
    restart reaches it (found by review: it was sent, then hit the closed store)."""
    customer = desk.customer(4107)
    await customer.send("/start")
    await customer.press("Ja, ich willige ein")
    await customer.press("1")
    await customer.send("Kaltes Essen")
    assert desk.app is not None
    data = desk.app.bot_data
    desk.api.delay_next("sendMessage", 0.5, count=4)  # a slow answer from Telegram
    pressing = asyncio.create_task(customer.press(NO))
    await desk.api.wait_until_async(lambda: data.background, what="the alert on its way")
    await desk.stop()
    await pressing
    [alert] = desk.api.messages(STAFF_CHAT)
    assert len(posts(desk)) == 1, "noted"
    await desk.start()
    customer = desk.customer(4107)
    await customer.send("/loeschen")
    await customer.press("Alles löschen")
    await settled(desk)
    assert now_shown(desk, alert) == DELETED


@pytest.mark.parametrize(
    ("description", "kept"),
    [
        ("Bad Request: message to edit not found", False),
        ("Bad Request: MESSAGE_ID_INVALID", False),
        ("Bad Request: not enough rights to send text messages to the chat", True),
        ("Bad Request: CHAT_WRITE_FORBIDDEN", True),
    ],
)
async def test_only_an_alert_that_is_gone_is_forgotten(
    desk: Harness, description: str, kept: bool
) -> None:
    """Found by review: every refusal but "chat not found" was taken for done, and the
    note forgotten while the comment stayed."""
    alert = await feedback(desk, 4104, "1", "Lieferung verspätet")
    desk.api.fail_next("editMessageText", 400, description)
    customer = desk.customer(4104)
    await customer.send("/loeschen")
    await customer.press("Alles löschen")
    await settled(desk)
    assert bool(posts(desk)) is kept
    if kept:  # the next round replaces it
        retractor(desk).soon()
        await settled(desk)
        assert now_shown(desk, alert) == DELETED and posts(desk) == []


async def test_an_alert_that_cannot_be_edited_is_deleted(desk: Harness) -> None:
    alert = await feedback(desk, 4114, "1", "Unfreundlich")
    desk.api.fail_next("editMessageText", 400, "Bad Request: message can't be edited")
    customer = desk.customer(4114)
    await customer.send("/loeschen")
    await customer.press("Alles löschen")
    await settled(desk)
    assert [m["message_id"] for m in desk.api.messages(STAFF_CHAT)] == []
    assert [m["message_id"] for m in desk.api.messages(STAFF_CHAT, deleted=True)] == [
        alert["message_id"]
    ]
    assert posts(desk) == []


async def test_an_alert_left_for_staff_to_delete_names_the_staff_chat_in_the_log(
    desk: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """The operator is to delete it by hand: its chat is a group, no person's, and not
    hidden as "[id]" (found by an attack review)."""
    caplog.set_level(logging.INFO, logger="bot.retractions")
    await feedback(desk, 4115, "1", "Unfreundlich")
    desk.api.fail_next("editMessageText", 400, "Bad Request: message can't be edited")
    desk.api.fail_next("deleteMessage", 400, "Bad Request: message can't be deleted")
    customer = desk.customer(4115)
    await customer.send("/loeschen")
    await customer.press("Alles löschen")
    await settled(desk)
    formatter = RedactingFormatter(secrets=(TOKEN,))
    lines = [formatter.format(r) for r in caplog.records if "by hand" in r.getMessage()]
    assert lines and all(f"in chat {STAFF_CHAT} " in line for line in lines), lines


@pytest.mark.parametrize("error", [StoreNotOpen, StorageFull])
async def test_an_alert_not_noted_names_the_staff_chat_in_the_log(
    desk: Harness, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, error: type
) -> None:
    """An alert not noted, for the store closed under it or (taken back in vain) a full
    disk, is the operator's to delete by hand: the log line names its chat (mutation
    audit: either line could hide it as "[id]" unnoticed)."""
    caplog.set_level(logging.INFO, logger="bot.retractions")
    assert desk.store is not None

    async def refused(*args: object) -> bool:
        raise error("refused")

    monkeypatch.setattr(desk.store, "record_staff_post", refused)
    desk.api.fail_next("editMessageText", 400, "Bad Request: message can't be edited")
    desk.api.fail_next("deleteMessage", 400, "Bad Request: message can't be deleted")
    await feedback(desk, 4116, "1", "Unfreundlich")
    await settled(desk)
    formatter = RedactingFormatter(secrets=(TOKEN,))
    lines = [formatter.format(r) for r in caplog.records if "not noted" in r.getMessage()]
    assert lines and all(f"in chat {STAFF_CHAT}" in line for line in lines), lines


@pytest.mark.parametrize("wait", [30, 300])
async def test_flood_control_is_waited_for_only_as_long_as_telegram_says(
    desk: Harness, monkeypatch: pytest.MonkeyPatch, wait: int
) -> None:
    """Half a minute is waited for in the round; five minutes are left to a later round,
    never tried before Telegram allows it (found by review)."""
    alert = await feedback(desk, 4108, "1", "Zu laut")
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr("bot.retractions.asyncio.sleep", sleep)
    desk.api.fail_next("editMessageText", 429, retry_after=wait)
    customer = desk.customer(4108)
    await customer.send("/loeschen")
    await customer.press("Alles löschen")
    await settled(desk)
    if wait <= 60:
        assert slept == [30] and now_shown(desk, alert) == DELETED
    else:
        assert slept == [] and "Zu laut" in now_shown(desk, alert) and posts(desk)


async def test_an_erasure_while_the_alert_is_being_posted_reaches_it(
    desk: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The alert is posted in the background: here it is sent, and held before it is
    noted while the person erases everything. Noting it then finds the feedback gone and
    takes it back at once."""
    assert desk.app is not None and desk.app.bot_data.staff is not None
    staff = desk.app.bot_data.staff
    held, release = asyncio.Event(), asyncio.Event()
    audited = staff.alerted

    async def alerted(*args: Any, **kwargs: Any) -> None:
        held.set()
        await release.wait()
        await audited(*args, **kwargs)

    monkeypatch.setattr(staff, "alerted", alerted)
    customer = desk.customer(4015)
    await customer.send("/start")
    await customer.press("Ja, ich willige ein")
    await customer.press("1")
    await customer.send("Kalt und spät")
    await customer.press(NO)
    await asyncio.wait_for(held.wait(), timeout=30)
    [alert] = desk.api.messages(STAFF_CHAT)
    assert "Kalt und spät" in (alert["text"] or "")
    await customer.send("/loeschen")
    await customer.press("Alles löschen")
    release.set()
    await settled(desk)
    assert now_shown(desk, alert) == DELETED
    assert posts(desk) == []


OLD_CHAT = -1009999


async def detached_posts(desk: Harness, chat_id: int, count: int) -> None:
    """`count` alerts in `chat_id` whose feedback is gone: to be retracted."""
    assert desk.store is not None
    pseudonym = desk.store.pseudonym("tg-user:1")
    for message_id in range(1, count + 1):
        post = StaffPost(
            chat_id=chat_id,
            message_id=message_id,
            feedback_id="gone",
            posted_at=desk.clock(),
            purpose="feedback",
        )
        assert not await desk.store.record_staff_post(pseudonym, post)


def refuse_edits_in(desk: Harness, chat_id: int) -> None:
    """Telegram refuses every edit in `chat_id` (the bot may no longer write there) with a
    400 that is not "chat not found"."""
    edit = desk.api._methods["editMessageText"]

    def refusing(params: dict[str, Any], files: Any) -> Any:
        if int(params["chat_id"]) == chat_id:
            raise bad_request("not enough rights to send text messages to the chat")
        return edit(params, files)

    desk.api._methods["editMessageText"] = refusing


async def erase(desk: Harness, user_id: int) -> None:
    customer = desk.customer(user_id)
    await customer.send("/loeschen")
    await customer.press("Alles löschen")
    await settled(desk)


async def test_more_alerts_waiting_in_a_chat_the_bot_left_than_a_batch_do_not_block(
    desk: Harness,
) -> None:
    """Found by the second review: once a whole batch (100) waited in an old chat, the
    round ended before the new chat's posts were read. Each post is visited once a
    round now."""
    await detached_posts(desk, OLD_CHAT, 150)
    desk.api.block_user(OLD_CHAT)  # 403 for every call there
    alert = await feedback(desk, 4201, "1", "Wieder kaputt")
    await erase(desk, 4201)
    assert now_shown(desk, alert) == DELETED
    assert len(posts(desk)) == 150


async def test_more_refused_alerts_than_a_batch_do_not_block_every_later_retraction(
    desk: Harness,
) -> None:
    """The bot may no longer write in the old chat: each edit there is refused with a
    400 that is not "chat not found" and passed over, 150 of them."""
    refuse_edits_in(desk, OLD_CHAT)
    await detached_posts(desk, OLD_CHAT, 150)
    alert = await feedback(desk, 4202, "1", "Rechnung falsch")

    def refused() -> int:
        calls = desk.api.calls("editMessageText")
        return len([c for c in calls if c.params["chat_id"] == OLD_CHAT])

    before = refused()
    await erase(desk, 4202)
    assert now_shown(desk, alert) == DELETED
    assert refused() - before == 150, "each once a round"


async def test_the_reference_goes_also_when_telegram_fails_at_the_withdrawal(
    desk: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by the second review: the redraw was tried once; three 5xx lost it. It is
    noted in the store now, and a later round makes it up."""
    monkeypatch.setattr("bot.retractions.SERVER_ERROR_PAUSE", 0.0)
    alert = await feedback(desk, 4203, "1", "Nie wieder", contact=YES)
    assert "/antworten" in now_shown(desk, alert)
    desk.api.fail_next("editMessageText", 500, count=3)
    customer = desk.customer(4203)
    await customer.send("/widerruf")
    await customer.press("Kontaktaufnahme")
    await settled(desk)
    assert "/antworten" in now_shown(desk, alert), "Telegram failed"
    await desk.restart()
    await settled(desk)
    assert "/antworten" not in now_shown(desk, alert)
    assert "Nie wieder" in now_shown(desk, alert)


async def test_the_reference_goes_when_the_contact_consent_is_withdrawn_while_the_alert_is_sent(
    desk: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The alert is on its way when the person withdraws: noted afterwards, it is shown
    again without the reference (second review)."""
    gate = hold_alerts(monkeypatch)
    customer = desk.customer(4204)
    await customer.send("/start")
    await customer.press("Ja, ich willige ein")
    await customer.press("1")
    await customer.send("Nie wieder")
    await customer.press(YES)
    assert desk.app is not None and desk.app.bot_data.background, "the alert on its way"
    await customer.send("/widerruf")
    assert "widerrufen" in texts(await customer.press("Kontaktaufnahme"))
    await retractor(desk).wait()
    gate.set()
    await settled(desk)
    [alert] = desk.api.messages(STAFF_CHAT)
    assert "Nie wieder" in now_shown(desk, alert)
    assert "/antworten" not in now_shown(desk, alert)


async def test_a_withdrawal_cut_short_between_the_two_files_still_retracts_the_alert(
    desk: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One transaction over feedback.db and erasures.db is atomic per file only (WAL).
    Simulated: the withdrawal's change to the notes is lost. The purge finds the post
    resting on a consent no longer in force, and retracts it (second review)."""
    alert = await feedback(desk, 4205, "5", "Alles super", contact=YES)
    nothing = "UPDATE ledger.staff_posts SET id = id"  # the withdrawal's part in erasures.db
    monkeypatch.setattr(storage.sqlite_people, "RETRACT_POSTS", nothing)
    monkeypatch.setattr(storage.sqlite_people, "REDRAW_POSTS", nothing + " WHERE pseudonym = ?")
    customer = desk.customer(4205)
    await customer.send("/widerruf")
    await customer.press("Kontaktaufnahme")
    await settled(desk)
    monkeypatch.undo()
    assert "Alles super" in now_shown(desk, alert), "the note still tied"
    await desk.restart()  # the purge at start
    await settled(desk)
    assert now_shown(desk, alert) == DELETED


async def test_a_chat_demo_neither_notes_nor_retracts_alerts(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """`feedbackbot chat` on the bot's data folder: its Telegram is a stand-in, whose
    message ids are not the real chat's (second review: it forgot the retractions still
    owed, and noted its alerts under the real staff chat's id)."""
    settings = make_settings(tmp_path / "data", staff_chat_id=STAFF_CHAT, alert_threshold=2)
    real = Harness(api=api, settings=settings, clock=clock)
    await real.start()
    assert real.store is not None
    owed = StaffPost(
        chat_id=STAFF_CHAT, message_id=4711, feedback_id="x", posted_at=clock(), purpose="f"
    )
    assert not await real.store.record_staff_post("someone", owed)
    await real.stop()
    before = posts(real)
    demo = Harness(api=FakeBotApi(TOKEN), settings=settings, clock=clock, real_staff_chat=False)
    await demo.start()
    await feedback(demo, 4206, "1", "Nur ein Versuch")
    assert demo.store is not None
    audited = await demo.store.audit_entries(clock() - timedelta(days=1))
    await demo.stop()
    assert posts(demo) == before
    # nor audits them: nobody was shown the feedback (found by an operator walk-through)
    assert [e.event for e in audited if "alert" in e.event] == [], audited
