"""The staff chat as real Telegram treats it: a group upgraded to a supergroup (a new id),
the bot removed from it, a mistyped id, forum topics, anonymous admins, commands for other
bots, flood control during the digest (found by a review of Telegram's realities)."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import ValidationError

import bot.alerts
from bot.app import post_digest
from bot.fakeapi.model import ApiError
from tests.bot import test_staff
from tests.bot.test_alert_outbox import purge_job, settled
from tests.bot.test_staff import STAFF, STAFF_CHAT, low, many
from tests.harness import Harness, make_settings, texts

desk = test_staff.desk  # the staff tests' bot: staff chat, threshold 2, daily digest

NEW_CHAT = -1001234567890  # the supergroup the staff chat became
MIGRATED = "Bad Request: group chat was upgraded to a supergroup chat"
KICKED = "Forbidden: bot was kicked from the supergroup chat"
NOT_FOUND = "Bad Request: chat not found"
PRIVATE_ONLY = "Feedback nehme ich nur im privaten Chat"  # the customers' group notice
SAM = {"id": STAFF, "is_bot": False, "first_name": "Sam"}


def fail_always(desk: Harness, method: str, status: int, description: str, **params: Any) -> None:
    """Every call of `method` to the staff chat answers with this error, as Telegram does
    for a chat that moved or that the bot was removed from."""
    api = desk.api
    with api._cond:
        queue = api._faults.setdefault(f"{method}@{STAFF_CHAT}", deque())
        queue.extend(ApiError(status, description, params or None) for _ in range(10_000))


def heal(desk: Harness, method: str = "sendMessage") -> None:
    with desk.api._cond:
        desk.api._faults.pop(f"{method}@{STAFF_CHAT}", None)


def staff_chat_calls(desk: Harness, method: str = "sendMessage") -> int:
    return sum(1 for call in desk.api.calls(method) if call.params.get("chat_id") == STAFF_CHAT)


def staff_chat_menu_calls(desk: Harness) -> int:
    return sum(1 for call in desk.api.calls("setMyCommands") if str(STAFF_CHAT) in str(call.params))


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def service_message(chat: int, **migration: int) -> dict[str, Any]:
    return {
        "update_id": 900_000 + abs(chat) % 1000,
        "message": {
            "message_id": 1,
            "date": 1_796_000_000,
            "chat": {"id": chat, "type": "supergroup" if chat == NEW_CHAT else "group"},
            "from": SAM,
            **migration,
        },
    }


@pytest.mark.parametrize(
    ("status", "description", "params", "said"),
    [
        (400, MIGRATED, {"migrate_to_chat_id": NEW_CHAT}, f"FEEDBACKBOT_STAFF_CHAT_ID={NEW_CHAT}"),
        (403, KICKED, {}, "bot was kicked"),
        (400, NOT_FOUND, {}, "chat not found"),
    ],
    ids=["migrated", "kicked", "not-found"],
)
async def test_a_staff_chat_that_takes_no_messages_costs_one_call_a_round_and_one_line(
    desk: Harness,
    caplog: pytest.LogCaptureFixture,
    status: int,
    description: str,
    params: dict[str, Any],
    said: str,
) -> None:
    """Every due alert was tried at every purge (up to 500 failing calls, two log lines
    each), the log said a person had blocked the bot, and a supergroup's new id was lost."""
    caplog.set_level(logging.INFO)
    fail_always(desk, "sendMessage", status, description, **params)
    for n in range(5):
        await low(desk, 5100 + n, f"Unerreichbar {n}")
    await settled(desk)
    first = errors(caplog)
    assert len([line for line in first if "the staff chat" in line]) == 1, first
    assert said.lower() in first[-1].lower() and "FEEDBACKBOT_STAFF_CHAT_ID" in first[-1], first
    assert not any("person" in r.getMessage() for r in caplog.records)
    before = staff_chat_calls(desk)
    caplog.clear()
    desk.clock.advance(timedelta(hours=1))
    await purge_job(desk)
    await settled(desk)
    assert staff_chat_calls(desk) - before == 1
    assert len([line for line in errors(caplog) if "the staff chat" in line]) == 1
    # The bot is back in the chat (or the id corrected): all five follow at the next round.
    heal(desk)
    desk.clock.advance(timedelta(hours=1))
    await purge_job(desk)
    await settled(desk)
    posted = [m for m in desk.api.messages(STAFF_CHAT) if "Unerreichbar" in (m["text"] or "")]
    assert len(posted) == 5, posted


async def test_telegrams_service_message_names_the_staff_chats_new_id(
    desk: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """Telegram posts `migrate_to_chat_id` in the old group and `migrate_from_chat_id` in the
    new supergroup; both were dropped without a word."""
    await desk.deliver(service_message(STAFF_CHAT, migrate_to_chat_id=NEW_CHAT))
    await desk.deliver(service_message(NEW_CHAT, migrate_from_chat_id=STAFF_CHAT))
    said = [line for line in errors(caplog) if f"FEEDBACKBOT_STAFF_CHAT_ID={NEW_CHAT}" in line]
    assert len(said) == 2, errors(caplog)
    assert desk.api.messages(STAFF_CHAT) == [] and desk.api.messages(NEW_CHAT) == []
    caplog.clear()  # another group's upgrade is none of the operator's business
    await desk.deliver(service_message(-4711, migrate_to_chat_id=-1004711))
    assert errors(caplog) == []


async def test_staff_in_another_group_are_told_how_it_becomes_the_staff_chat(
    desk: Harness,
) -> None:
    """Staff carrying on in the supergroup the staff chat became got the customers'
    'feedback only in private' notice."""
    answer = await desk.deliver(
        desk.api.user_message(STAFF, "/zusammenfassung", chat_id=NEW_CHAT, chat_type="supergroup")
    )
    assert PRIVATE_ONLY not in texts(answer)
    assert f"FEEDBACKBOT_STAFF_CHAT_ID={NEW_CHAT}" in texts(answer), texts(answer)
    assert "Diese Gruppe ist nicht der Team-Chat" in texts(answer), texts(answer)
    customer = await desk.deliver(  # anyone else there: the customers' notice, as before
        desk.api.user_message(7100, "/start", chat_id=NEW_CHAT, chat_type="supergroup")
    )
    assert PRIVATE_ONLY in texts(customer)


async def test_a_staff_chat_cut_off_is_said_at_start(
    desk: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """A mistyped FEEDBACKBOT_STAFF_CHAT_ID showed first when the first alert failed."""
    fail_always(desk, "setMyCommands", 400, NOT_FOUND)
    await desk.restart()
    said = [line for line in errors(caplog) if "the staff chat" in line]
    assert len(said) == 1 and "chat not found" in said[0].lower(), errors(caplog)
    assert staff_chat_menu_calls(desk) == 3 + 1  # the first start's three, then one try


async def test_an_answer_in_a_forum_topic_stays_in_the_topic(desk: Harness) -> None:
    """Answers to a staff command in a topic went to General (or nowhere, General closed)."""
    update = desk.api.user_message(
        STAFF, "/zusammenfassung", chat_id=STAFF_CHAT, chat_type="supergroup"
    )
    update["message"].update(message_thread_id=42, is_topic_message=True)
    update["message"]["chat"]["is_forum"] = True
    answer = await desk.deliver(update)
    assert answer, "the rules prompt"
    threads = [
        c.params.get("message_thread_id")
        for c in desk.api.calls("sendMessage")
        if c.params.get("chat_id") == STAFF_CHAT
    ]
    assert threads and all(t in (42, "42") for t in threads), threads


@pytest.mark.parametrize(
    ("sender", "command", "chat"),
    [
        (STAFF, "/zusammenfassung@OtherBot", STAFF_CHAT),
        (STAFF, "/help@OtherBot", STAFF_CHAT),
        (7100, "/start@OtherBot", -100555),
    ],
)
async def test_a_command_for_another_bot_is_not_answered(
    desk: Harness, sender: int, command: str, chat: int
) -> None:
    answer = await desk.deliver(
        desk.api.user_message(sender, command, chat_id=chat, chat_type="supergroup")
    )
    assert answer == [], texts(answer)
    assert desk.app is not None  # and one for this bot, in any case, is answered
    name = desk.app.bot.username.upper()
    ours = await desk.deliver(
        desk.api.user_message(
            sender,
            f"{command.split('@')[0]}@{name}",
            chat_id=chat,
            chat_type="supergroup",
        )
    )
    assert ours != []


async def test_an_anonymous_admin_in_the_staff_chat_is_told_why_nothing_happens(
    desk: Harness,
) -> None:
    update = desk.api.user_message(
        1087968824, "/zusammenfassung", chat_id=STAFF_CHAT, chat_type="supergroup"
    )
    update["message"]["from"] = {
        "id": 1087968824,
        "is_bot": True,
        "first_name": "Group",
        "username": "GroupAnonymousBot",
    }
    update["message"]["sender_chat"] = {"id": STAFF_CHAT, "type": "supergroup", "title": "Team"}
    answer = await desk.deliver(update)
    assert PRIVATE_ONLY not in texts(answer)
    assert "Sie schreiben anonym" in texts(answer), texts(answer)


@pytest.mark.parametrize("service_account", [1087968824, 136817688, 777000])
def test_telegrams_own_accounts_cannot_be_staff(tmp_path: Any, service_account: int) -> None:
    """GroupAnonymousBot listed as staff made every anonymous admin of the staff chat staff
    under one shared id; 777000 the linked channel's forwards."""
    with pytest.raises(ValidationError, match=str(service_account)):
        make_settings(tmp_path, staff_ids=f"{STAFF},{service_account}", staff_chat_id=STAFF_CHAT)


async def test_the_digest_waits_out_flood_control_and_is_never_cut_in_half(
    desk: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """Three 429s in a row (an alert burst) dropped the digest's text and posted its chart
    alone."""
    await many(desk)
    assert desk.app is not None
    desk.api.fail_next("sendMessage", 429, retry_after=1, count=3, chat_id=STAFF_CHAT)
    await post_digest(desk.app)
    posted = [m["text"] or "" for m in desk.api.messages(STAFF_CHAT)]
    assert any("Feedback-Zusammenfassung" in text for text in posted), posted
    photos = len(desk.api.calls("sendPhoto"))
    assert photos == 1
    # Refused for good: no chart without its text, and the log says so.
    desk.api.fail_next("sendMessage", 429, retry_after=1, count=6, chat_id=STAFF_CHAT)
    await post_digest(desk.app)
    assert len(desk.api.calls("sendPhoto")) == photos
    assert "digest not posted" in errors(caplog)


async def test_a_digest_telegram_could_not_take_is_posted_at_the_next_purge(
    desk: Harness,
) -> None:
    """A digest refused at its time (Telegram down for a while at 8:00) was lost for the
    day: staff had nothing and no sign of it but a log line."""
    await many(desk)
    assert desk.app is not None
    desk.api.fail_next("sendMessage", 500, count=6, chat_id=STAFF_CHAT)
    await post_digest(desk.app)

    def digests() -> int:
        posted = desk.api.messages(STAFF_CHAT)
        return sum("Feedback-Zusammenfassung" in (m["text"] or "") for m in posted)

    assert digests() == 0
    await purge_job(desk)
    assert digests() == 1
    assert len(desk.api.calls("sendPhoto")) == 1, "the chart with its text"
    await purge_job(desk)
    assert digests() == 1, "posted once"


async def test_a_kept_digest_does_not_show_the_comment_of_someone_who_erased_since(
    desk: Harness,
) -> None:
    """Found by a review of races: a digest Telegram did not take was posted at a later
    purge as made, with the comment of a person who had erased their data meanwhile."""
    await many(desk, then_next_day=False)
    erika = desk.customer(4711)
    await test_staff.give(desk, 4711, "3", "Bitte nicht weitersagen: Zimmer 12 war eklig")
    desk.clock.advance(timedelta(days=1))
    assert desk.app is not None
    desk.api.fail_next("sendMessage", 500, count=6, chat_id=STAFF_CHAT)
    await post_digest(desk.app)
    before = await desk.store.audit_entries(desk.clock() - timedelta(days=2))  # type: ignore[union-attr]
    await erika.send("/loeschen")
    await erika.press("Alles löschen")
    await purge_job(desk)
    posted = [m["text"] or "" for m in desk.api.messages(STAFF_CHAT)]
    [digest] = [text for text in posted if text.startswith("Feedback-Zusammenfassung")]
    assert "Zimmer 12" not in digest
    # made again: her day's group has changed since it was shown, so it is left out
    # whole (a digest without her comment beside the one with it would point to her)
    assert "(eine Gruppe von Tagen). Was diese Tage zählen" in digest
    assert "Sehr freundlich" not in digest
    after = await desk.store.audit_entries(desk.clock() - timedelta(days=2))  # type: ignore[union-attr]
    made = [e for e in after if e.event == "digest"]
    assert len(made) == len([e for e in before if e.event == "digest"]) + 1, "the new one"


async def test_a_digest_that_waited_behind_alerts_leaves_out_who_erased_meanwhile(
    desk: Harness,
) -> None:
    """Found by a review of races: a digest waits its turn behind alerts held up by flood
    control (minutes); whoever erased their data meanwhile was in it when it went out."""
    await many(desk, then_next_day=False)
    erika = desk.customer(4712)
    await test_staff.give(desk, 4712, "3", "Bitte nicht weitersagen: Zimmer 14 war eklig")
    desk.clock.advance(timedelta(days=1))
    assert desk.app is not None and desk.app.bot_data.alerts is not None
    assert desk.store is not None
    async with desk.app.bot_data.alerts._in_turn:  # alerts on their way, held up
        digest = asyncio.create_task(post_digest(desk.app))
        for _ in range(3000):  # until it is made, and waits for its turn
            entries = await desk.store.audit_entries(desk.clock())
            if any(e.event == "digest" for e in entries):
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("the digest was not made")
        await erika.send("/loeschen")
        await erika.press("Alles löschen")
        desk.clock.advance(timedelta(minutes=3))
    await digest
    [posted] = [m["text"] or "" for m in desk.api.messages(STAFF_CHAT) if m["text"]]
    assert posted.startswith("Feedback-Zusammenfassung") and "Zimmer 14" not in posted


async def test_a_kept_digest_nothing_changed_in_is_posted_as_made(desk: Harness) -> None:
    await many(desk)
    assert desk.app is not None
    desk.api.fail_next("sendMessage", 500, count=6, chat_id=STAFF_CHAT)
    await post_digest(desk.app)
    desk.clock.advance(timedelta(hours=3))
    await purge_job(desk)
    [digest] = [m["text"] or "" for m in desk.api.messages(STAFF_CHAT) if m["text"]]
    assert "Feedbacks: 10" in digest
    audited = await desk.store.audit_entries(desk.clock() - timedelta(days=2))  # type: ignore[union-attr]
    assert len([e for e in audited if e.event == "digest"]) == 1, "made once"


async def test_a_digest_in_two_messages_half_taken_posts_only_the_rest_later(
    desk: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by review: a digest's second message refused (flood control), the next
    try posted the whole digest again, its first message twice in the staff chat."""
    # Messages of 2,500 characters: the digest is two of them whatever its wording.
    monkeypatch.setattr(bot.alerts, "MessageLimit", SimpleNamespace(MAX_TEXT_LENGTH=2500))
    story = "Die Lieferung, die Verpackung und der Kundenservice, alles der Reihe nach " * 4
    for n in range(12):
        desk.clock.advance(timedelta(minutes=20))
        await test_staff.give(desk, 300 + n, str(3 + n % 3), f"{n} {story}")
    desk.clock.advance(timedelta(days=1))
    assert desk.app is not None
    desk.api.fail_next("sendMessage", 500, count=6, chat_id=STAFF_CHAT, after=1)
    await post_digest(desk.app)
    [first] = desk.api.messages(STAFF_CHAT)
    assert (first["text"] or "").startswith("Feedback-Zusammenfassung")
    await purge_job(desk)
    posted = desk.api.messages(STAFF_CHAT)
    assert [m["message_id"] for m in posted][:1] == [first["message_id"]]
    heads = [m for m in posted if (m["text"] or "").startswith("Feedback-Zusammenfassung")]
    assert len(heads) == 1, "the first message once"
    assert len(posted) == 3 and posted[1]["text"] and posted[2]["photo"], "the rest, the chart"
    await purge_job(desk)
    assert len(desk.api.messages(STAFF_CHAT)) == 3, "nothing more"


async def test_staff_are_told_so_only_for_a_staff_command_in_another_group(
    desk: Harness,
) -> None:
    """Review of the change: an edited staff command in the staff chat itself was answered
    "this group is not the staff chat", and any command of a member of staff in another
    group told its members who is staff."""
    sent = desk.api.user_message(
        STAFF, "/zusammenfassung", chat_id=STAFF_CHAT, chat_type="supergroup"
    )
    await desk.deliver(sent)
    edit = desk.api.edited_message(
        STAFF,
        sent["message"]["message_id"],
        "/zusammenfassung 7d",
        chat_id=STAFF_CHAT,
        chat_type="supergroup",
    )
    # Telegram sends the entities of an edited message too (the fake leaves them out).
    edit["edited_message"]["entities"] = [{"type": "bot_command", "offset": 0, "length": 16}]
    assert "nicht der Team-Chat" not in texts(await desk.deliver(edit))
    elsewhere = await desk.deliver(
        desk.api.user_message(STAFF, "/start", chat_id=NEW_CHAT, chat_type="supergroup")
    )
    assert "nicht der Team-Chat" not in texts(elsewhere)
    assert PRIVATE_ONLY in texts(elsewhere)
