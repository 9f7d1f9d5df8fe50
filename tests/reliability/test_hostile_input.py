"""Hostile and odd input, property-based: updates of every kind Telegram sends, fed to the
real bot in any order, interleaved with real conversations so they land at every step.

For every update: the error handler is not reached (nothing logged at ERROR), every
call the bot makes is within Telegram's limits (the double refuses anything longer and
the test checks the parameters too), and no reply storm. At the end nothing of the
people (ids, names, canary texts) is in any file or in the log written as in production.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fakes.botapi import FakeBotApi
from tests.harness import TOKEN
from tests.reliability.canary import CanaryScanner
from tests.reliability.support import FULL, InProcessBot, ProductionLog

USERS = [5_600_000_001 + n for n in range(4)]
STAFF = USERS[-1]
"""Also a staff member: /zusammenfassung with odd periods, the rules' confirm button."""
BOT_USERNAME = "feedback_test_bot"
CANARY = "Rotkehlchen7q"
MAX_REPLIES_PER_UPDATE = 6
ALLOWED_TO_FAIL = frozenset({"editMessageReplyMarkup", "answerCallbackQuery", "deleteMessage"})

COMMANDS = [
    "start", "hilfe", "help", "datenschutz", "privacy", "meinedaten", "mydata", "loeschen",
    "delete", "widerruf", "withdraw", "sprache", "language", "abbrechen", "cancel",
    "zusammenfassung", "summary", "START", "unknown_cmd", "a" * 32,
]  # fmt: skip
ODD_TEXTS = [
    "4", " 5 ", "٣", "0", "6", "-1", "1e3", "", " ", "\n\n", "\u200b", "\ufeff",
    "\u202eevil\u202c", "שלום עולם", "مرحبا بالعالم \u200f", "👩‍👩‍👧‍👦🏳️‍🌈", "🇩🇪" * 50,
    "e\u0301" * 100, "\x00\x01\x02\x1b[31m", "<b>bold</b>", "*_[x](http://a)_*", "&amp;&lt;",
    "a:bad:step:4", "c:feedback:1:y", "d:y:0",
]  # fmt: skip

any_char = st.characters(blacklist_categories=("Cs",))
texts = st.one_of(
    st.text(any_char, max_size=120),
    st.sampled_from(ODD_TEXTS),
    st.builds(
        lambda unit, n: (unit * n)[:n],
        st.sampled_from(["a", "ü", "😀", "👩‍👩‍👧‍👦", "\u202e", "ا", "\x07", "x\n"]),
        st.integers(4000, 4200),
    ),
    st.builds(lambda a, b: f"{a}{CANARY}{b}", st.text(any_char, max_size=20), st.text(max_size=20)),
    st.text(st.characters(max_codepoint=0x1F), min_size=1, max_size=40),
)


arguments = st.one_of(
    st.just(""),
    texts,
    st.sampled_from(["30d", "feedback", "x" * 200, "99999999999999999999d", "P9999999999D"]),
    st.builds(str, st.integers(-(10**30), 10**30)),
    st.builds(lambda n, unit: f"{n}{unit}", st.integers(0, 10**12), st.sampled_from("smhdw")),
)


def with_command(command: str, args: str) -> dict[str, Any]:
    """A message's text and entities for `command` followed by `args`."""
    text = f"{command} {args}" if args else command
    length = len(command.encode("utf-16-le")) // 2
    return {"text": text, "entities": [{"type": "bot_command", "offset": 0, "length": length}]}


class World:
    """The bot, its double and the counters the update builders need."""

    def __init__(self, bot: InProcessBot) -> None:
        self.bot = bot
        self.api: FakeBotApi = bot.api
        self.update_ids = itertools.count(50_000_000)
        self.message_ids = itertools.count(1_000_000)

    def user(self, uid: int, data: st.DataObject) -> dict[str, Any]:
        n = USERS.index(uid)
        user: dict[str, Any] = {"id": uid, "is_bot": False, "first_name": f"Hostile{n}Canary"}
        if data.draw(st.booleans(), "last_name"):
            user["last_name"] = f"Lastname{n}Canary"
        if data.draw(st.booleans(), "username"):
            user["username"] = f"hostile_user_{n}"
        language = data.draw(
            st.one_of(
                st.none(),
                st.sampled_from(["de", "en", "en-GB", "fr", "", "zz"]),
                st.text(max_size=10),
            ),
            "language_code",
        )
        if language is not None:
            user["language_code"] = language
        return user

    def chat(self, uid: int, data: st.DataObject) -> dict[str, Any]:
        kind = data.draw(
            st.sampled_from(["private"] * 6 + ["group", "supergroup", "channel"]), "chat type"
        )
        n = USERS.index(uid)
        if kind == "private":
            return {"id": uid, "type": "private", "first_name": f"Hostile{n}Canary"}
        if kind == "group":
            return {"id": -uid, "type": "group", "title": "Testgruppe"}
        return {"id": -1_000_000_000_000 - n, "type": kind, "title": "Kanal"}

    def message(self, uid: int, data: st.DataObject, content: dict[str, Any]) -> dict[str, Any]:
        chat = self.chat(uid, data)
        message: dict[str, Any] = {
            "message_id": next(self.message_ids),
            "date": 1_790_000_000,
            "chat": chat,
            **content,
        }
        if chat["type"] == "channel":
            message["sender_chat"] = chat
        elif data.draw(st.integers(0, 9), "anonymous admin") == 0 and chat["type"] != "private":
            message["sender_chat"] = chat
        else:
            message["from"] = self.user(uid, data)
        return message

    def wrap(self, key: str, payload: dict[str, Any]) -> dict[str, Any]:
        return {"update_id": next(self.update_ids), key: payload}

    # ------------------------------------------------------------------ update kinds

    def text(self, uid: int, data: st.DataObject) -> dict[str, Any]:
        return self.wrap("message", self.message(uid, data, {"text": data.draw(texts, "text")}))

    def command(self, uid: int, data: st.DataObject) -> dict[str, Any]:
        name = data.draw(st.sampled_from(COMMANDS), "command")
        suffix = data.draw(st.sampled_from(["", f"@{BOT_USERNAME}", "@other_bot"]), "at")
        args = data.draw(arguments, "args")
        return self.wrap("message", self.message(uid, data, with_command(f"/{name}{suffix}", args)))

    def staff(self, uid: int, data: st.DataObject) -> dict[str, Any]:
        """The staff member asks for a summary privately, with any period (odd ones too);
        `progress` then presses the rules' confirm button."""
        name = data.draw(st.sampled_from(["zusammenfassung", "summary"]), "staff command")
        content = with_command(f"/{name}", data.draw(arguments, "period"))
        chat = {"id": STAFF, "type": "private", "first_name": "Staff"}
        sender = {"id": STAFF, "is_bot": False, "first_name": "Staff", "language_code": "de"}
        message = {"message_id": next(self.message_ids), "date": 1_790_000_000, "chat": chat}
        return self.wrap("message", {**message, "from": sender, **content})

    def attachment(self, uid: int, data: st.DataObject) -> dict[str, Any]:
        file = {"file_id": "AgAD-file", "file_unique_id": "AgAD"}
        photo = [{**file, "width": 90, "height": 90}]
        member = {"id": uid, "is_bot": False, "first_name": "N"}
        kinds: dict[str, dict[str, Any]] = {
            "sticker": {"sticker": {**file, "type": "regular", "width": 512, "height": 512,
                                    "is_animated": False, "is_video": False, "emoji": "👍"}},
            "photo": {"photo": photo},
            "photo with caption": {"photo": photo, "caption": data.draw(texts, "caption")[:1024]},
            "voice": {"voice": {**file, "duration": 3}},
            "video_note": {"video_note": {**file, "length": 240, "duration": 2}},
            "video": {"video": {**file, "width": 1, "height": 1, "duration": 1}},
            "audio": {"audio": {**file, "duration": 1}},
            "animation": {"animation": {**file, "width": 1, "height": 1, "duration": 1}},
            "document": {"document": {**file, "file_name": "Kanarienvogel.pdf"}},
            "contact": {"contact": {"phone_number": "+49 170 5550123", "first_name": "Kontakt",
                                    "user_id": uid}},
            "location": {"location": {"latitude": 52.52, "longitude": 13.40}},
            "venue": {"venue": {"location": {"latitude": 52.5, "longitude": 13.4},
                                "title": "Ort", "address": "Straße 1"}},
            "poll": {"poll": {"id": "1", "question": "Q?", "options": [
                {"text": "a", "voter_count": 0, "persistent_id": "a"},
                {"text": "b", "voter_count": 0, "persistent_id": "b"}],
                "total_voter_count": 0, "is_closed": False, "is_anonymous": True,
                "type": "regular", "allows_multiple_answers": False, "allows_revoting": False,
                "members_only": False}},
            "dice": {"dice": {"emoji": "🎲", "value": 4}},
            "new_chat_members": {"new_chat_members": [member]},
            "left_chat_member": {"left_chat_member": member},
            "new_chat_title": {"new_chat_title": "Neuer Titel"},
            "delete_chat_photo": {"delete_chat_photo": True},
            "group_chat_created": {"group_chat_created": True},
            "pinned_message": {"pinned_message": {"chat": {"id": uid, "type": "private"},
                                                  "message_id": 1, "date": 0}},
            "migrate_to_chat_id": {"migrate_to_chat_id": -1_000_000_000_077},
            "web_app_data": {"web_app_data": {"data": "x", "button_text": "b"}},
        }  # fmt: skip
        kind = data.draw(st.sampled_from(sorted(kinds)), "attachment")
        return self.wrap("message", self.message(uid, data, kinds[kind]))

    def edited(self, uid: int, data: st.DataObject) -> dict[str, Any]:
        message = self.message(uid, data, {"text": data.draw(texts, "edited text")})
        message["edit_date"] = 1_790_000_100
        key = "edited_channel_post" if message["chat"]["type"] == "channel" else "edited_message"
        return self.wrap(key, message)

    def channel_post(self, uid: int, data: st.DataObject) -> dict[str, Any]:
        chat = {"id": -1_000_000_000_500, "type": "channel", "title": "Kanal"}
        post = {"message_id": next(self.message_ids), "date": 1_790_000_000, "chat": chat,
                "sender_chat": chat, "text": data.draw(texts, "post")}  # fmt: skip
        return self.wrap("channel_post", post)

    def press(self, uid: int, data: st.DataObject) -> dict[str, Any]:
        """A callback query: real data from the bot's keyboards, mutated, or random.

        Everything is drawn whatever the bot showed, so that the draws do not depend on
        the bot's state (hypothesis replays them).
        """
        choice = data.draw(st.integers(0, 4), "press kind")
        index = data.draw(st.integers(0, 99), "button index")
        mutation = data.draw(st.text(any_char, max_size=8), "mutated value")
        fallback_id = data.draw(st.sampled_from([1, 2, 999_999]), "message id")
        random_value = data.draw(st.one_of(texts, st.text(any_char, max_size=64)), "random data")
        chat_type = data.draw(st.sampled_from(["private", "private", "group"]), "press chat")
        language = data.draw(st.sampled_from(["de", "en", None]), "press language")
        real = [
            (m["message_id"], d)
            for m in self.api.messages(uid)[-4:]
            for row in m["buttons"]
            for _, d in row
            if d
        ]
        if real and choice <= 2:
            message_id, value = real[index % len(real)]
            if choice == 2:
                value = ":".join([*value.split(":")[:-1], mutation])
        else:
            message_id, value = fallback_id, random_value
        return self.api.callback_press(
            uid, message_id, value, chat_type=chat_type, language_code=language,
            first_name=f"Hostile{USERS.index(uid)}Canary",
        )  # fmt: skip

    def inline_press(self, uid: int, data: st.DataObject) -> dict[str, Any]:
        query: dict[str, Any] = {
            "id": f"inline-{next(self.update_ids)}",
            "from": self.user(uid, data),
            "chat_instance": "1",
            "inline_message_id": "AAAA",
        }
        if data.draw(st.booleans(), "game"):
            query["game_short_name"] = "game"
        else:
            query["data"] = data.draw(st.text(any_char, max_size=64), "inline data")
        return self.wrap("callback_query", query)

    def other_update(self, uid: int, data: st.DataObject) -> dict[str, Any]:
        user = self.user(uid, data)
        chat = {"id": uid, "type": "private", "first_name": "X"}
        member = {"status": "member", "user": {"id": 123456, "is_bot": True, "first_name": "B"}}
        kicked = {"status": "kicked", "user": member["user"], "until_date": 0}
        kinds: dict[str, tuple[str, dict[str, Any]]] = {
            "my_chat_member": ("my_chat_member", {"chat": chat, "from": user, "date": 1,
                               "old_chat_member": member, "new_chat_member": kicked}),
            "inline_query": ("inline_query", {"id": "q1", "from": user, "query": "x",
                                              "offset": ""}),
            "poll": ("poll", {"id": "p1", "question": "Q", "options": [], "total_voter_count": 0,
                              "is_closed": True, "is_anonymous": True, "type": "regular",
                              "allows_multiple_answers": False, "allows_revoting": False,
                "members_only": False}),
            "poll_answer": ("poll_answer", {"poll_id": "p1", "user": user, "option_ids": [0],
                                            "option_persistent_ids": ["a"]}),
            "chat_join_request": ("chat_join_request", {"chat": {"id": -5, "type": "supergroup"},
                                  "from": user, "user_chat_id": uid, "date": 1}),
            "message_reaction": ("message_reaction", {"chat": chat, "message_id": 1, "date": 1,
                                 "user": user, "old_reaction": [],
                                 "new_reaction": [{"type": "emoji", "emoji": "👍"}]}),
        }  # fmt: skip
        key, payload = kinds[data.draw(st.sampled_from(sorted(kinds)), "update kind")]
        return self.wrap(key, payload)

    def progress(self, uid: int, data: st.DataObject) -> dict[str, Any]:
        """What a cooperative person would do next: keeps conversations moving deeper."""
        index = data.draw(st.integers(0, 99), "label index")
        say = data.draw(
            st.sampled_from(["/start", f"Kommentar {CANARY}", "/start feedback"]), "say"
        )
        messages = self.api.messages(uid)
        buttons = [label for row in messages[-1]["buttons"] for label, _ in row] if messages else []
        name = f"Hostile{USERS.index(uid)}Canary"
        if buttons in (["Überspringen"], ["Skip"]) and index % 5:  # the comment: mostly given
            return self.api.user_message(
                uid, f"Kommentar {CANARY}", language_code="de", first_name=name
            )
        if buttons:
            label = buttons[index % len(buttons)]
            return self.api.press_button(uid, label, language_code="de", first_name=name)
        return self.api.user_message(uid, say, language_code="de", first_name=name)


KINDS = [
    "progress", "progress", "progress", "text", "text", "command", "command", "attachment",
    "edited", "channel_post", "press", "press", "inline_press", "other_update", "staff",
]  # fmt: skip


def check_calls(calls: list[Any], update: dict[str, Any]) -> None:
    sent = [c for c in calls if c.method in ("sendMessage", "sendDocument", "sendPhoto")]
    assert len(sent) <= MAX_REPLIES_PER_UPDATE, f"{len(sent)} replies to one update"
    for call in calls:
        if not call.ok:
            assert call.method in ALLOWED_TO_FAIL, f"{call.method} refused ({call.status})"
        params = call.params
        for key, limit in (("text", 4096), ("caption", 1024)):
            value = params.get(key)
            if isinstance(value, str):
                assert len(value.strip()) <= limit, f"{call.method} {key} of {len(value)}"
        if call.method == "answerCallbackQuery" and isinstance(params.get("text"), str):
            assert len(params["text"]) <= 200
        markup = params.get("reply_markup")
        markup = json.loads(markup) if isinstance(markup, str) else markup
        for row in (markup or {}).get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                assert data is None or 1 <= len(data.encode()) <= 64, data


def test_any_update_is_answered_within_limits_and_nothing_reaches_the_error_handler(
    tmp_path: Path,
) -> None:
    """Each example starts a fresh bot and store (so that hypothesis can replay and shrink
    it) and sends up to 12 updates: enough for a whole conversation and odd input at any
    point of it."""
    examples = 1000 if FULL else 60
    runs = itertools.count()
    with asyncio.Runner() as runner, ProductionLog() as log:

        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(data=st.data())
        def any_updates(data: st.DataObject) -> None:
            bot = InProcessBot(
                FakeBotApi(TOKEN), tmp_path / f"run{next(runs)}", settings={"staff_ids": str(STAFF)}
            )
            runner.run(bot.start())
            world = World(bot)
            try:
                for _ in range(data.draw(st.integers(1, 12), "updates")):
                    uid = data.draw(st.sampled_from(USERS), "user")
                    kind = data.draw(st.sampled_from(KINDS), "kind")
                    update = getattr(world, kind)(uid, data)
                    calls, errors = len(bot.api.sent), len(log.errors)
                    runner.run(bot.deliver(update))
                    assert len(log.errors) == errors, (kind, log.error_lines()[errors:])
                    check_calls(bot.api.sent[calls:], update)
            finally:
                runner.run(bot.stop())

        any_updates()
        # However the examples fell, the canary text is stored at least once (encrypted, in
        # a comment), so that the scan below looks for something that is on disk.
        bot = InProcessBot(FakeBotApi(TOKEN), tmp_path / "scripted")
        runner.run(bot.start())
        try:
            uid, name = USERS[0], {"language_code": "de", "first_name": "Hostile0Canary"}
            for step in ("/start", "Ja, ich willige ein", "4", f"Kommentar {CANARY}", "Nein"):
                if step.startswith(("/", "Kommentar")):
                    runner.run(bot.deliver(bot.api.user_message(uid, step, **name)))
                else:
                    runner.run(bot.deliver(bot.api.press_button(uid, step, **name)))
            assert "Vielen Dank" in (bot.api.last_message(uid)["text"] or "")
        finally:
            runner.run(bot.stop())
    scanner = CanaryScanner()
    scanner.add(CANARY, "canary text")
    scanner.add(TOKEN.split(":", 1)[1], "bot token")
    for n, uid in enumerate(USERS):
        scanner.person(uid, first_name=f"Hostile{n}Canary", username=f"hostile_user_{n}")
        scanner.add(f"Lastname{n}Canary")
    scanner.assert_clean(tmp_path, [("production log", log.text)])
    assert "update failed" not in log.text


@pytest.mark.parametrize("payload", [{"data": "a:x:rating:4"}, {"game_short_name": "game"}])
async def test_a_button_press_without_a_chat_is_answered_quietly(
    tmp_path: Path, payload: dict[str, str]
) -> None:
    """Found by this suite: such a press reached context.person(), which raised ValueError,
    so the error handler logged 'update failed' and the query was never answered."""
    bot = InProcessBot(FakeBotApi(TOKEN), tmp_path / "data")
    await bot.start()
    try:
        query = {
            "id": "inline-1",
            "from": {"id": USERS[0], "is_bot": False, "first_name": "Hostile0Canary"},
            "chat_instance": "1",
            "inline_message_id": "AAAA",
            **payload,
        }
        with ProductionLog() as log:
            await bot.deliver({"update_id": 1, "callback_query": query})
    finally:
        await bot.stop()
    assert not log.errors, log.error_lines()
