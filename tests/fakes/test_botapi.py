"""Self-tests of the Bot API double, driven by a real python-telegram-bot `Bot`.

Most tests run twice: once through `InProcessRequest`, once over HTTP through
`BotApiServer` with python-telegram-bot's own httpx transport.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import re
import threading
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TimedOut,
)
from telegram.ext import Application, CommandHandler, ContextTypes

from bot.fakeapi import BotApiServer, FakeBotApi, InProcessRequest, visible_text

TOKEN = "123456:TEST-token"
PERSON = 42


def said(reason: str) -> re.Pattern[str]:
    """Matches a Bot API error reason (python-telegram-bot capitalises its first letter)."""
    return re.compile(re.escape(reason), re.IGNORECASE)


def keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


@pytest.fixture
def api() -> FakeBotApi:
    return FakeBotApi(TOKEN)


@pytest.fixture
def server(api: FakeBotApi) -> Iterator[BotApiServer]:
    with BotApiServer(api) as running:
        yield running


@pytest.fixture(params=["in-process", "http"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def make_bot(
    api: FakeBotApi, transport: str, request: pytest.FixtureRequest, token: str = TOKEN
) -> Bot:
    if transport == "http":
        server: BotApiServer = request.getfixturevalue("server")
        return Bot(token, base_url=server.base_url)
    return Bot(token, request=InProcessRequest(api), get_updates_request=InProcessRequest(api))


@pytest.fixture
async def bot(
    api: FakeBotApi, transport: str, request: pytest.FixtureRequest
) -> AsyncIterator[Bot]:
    async with make_bot(api, transport, request) as running:
        yield running


# --------------------------------------------------------------------------- basics


async def test_get_me_describes_the_bot(bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456, "feedback_test_bot", True)


async def test_wrong_token_is_unauthorized(
    api: FakeBotApi, transport: str, request: pytest.FixtureRequest
) -> None:
    with pytest.raises(InvalidToken):
        async with make_bot(api, transport, request, token="123456:WRONG"):
            pass


async def test_unknown_method_is_not_found(bot: Bot) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": PERSON})


async def test_message_with_keyboard_can_be_read_back(bot: Bot, api: FakeBotApi) -> None:
    api.user_message(PERSON, "/start")
    markup = keyboard([("Gut", "rate:4"), ("Sehr gut", "rate:5")], [("Abbrechen", "cancel")])

    sent = await bot.send_message(PERSON, "Wie zufrieden sind Sie?", reply_markup=markup)

    assert sent.message_id == 2  # the person's /start was message 1 of this chat
    assert sent.reply_markup == markup
    assert sent.from_user is not None and sent.from_user.id == 123456
    [message] = api.messages(PERSON)
    assert message["text"] == "Wie zufrieden sind Sie?"
    assert message["buttons"] == [
        [("Gut", "rate:4"), ("Sehr gut", "rate:5")],
        [("Abbrechen", "cancel")],
    ]
    assert api.button_data(PERSON, "Sehr gut") == "rate:5"
    assert api.calls("sendMessage")[0].params["chat_id"] == PERSON


async def test_edit_replaces_text_and_drops_keyboard_without_markup(
    bot: Bot, api: FakeBotApi
) -> None:
    sent = await bot.send_message(PERSON, "Frage", reply_markup=keyboard([("Ja", "yes")]))

    edited = await bot.edit_message_text("Danke!", chat_id=PERSON, message_id=sent.message_id)

    assert isinstance(edited, Message)
    assert edited.text == "Danke!" and edited.edit_date is not None
    message = api.last_message(PERSON)
    assert (message["text"], message["buttons"], message["edited"]) == ("Danke!", [], True)
    with pytest.raises(BadRequest, match=said("message is not modified")):
        await bot.edit_message_text("Danke!", chat_id=PERSON, message_id=sent.message_id)
    with pytest.raises(BadRequest, match=said("message to edit not found")):
        await bot.edit_message_text("x", chat_id=PERSON, message_id=999)
    await bot.edit_message_reply_markup(
        chat_id=PERSON, message_id=sent.message_id, reply_markup=keyboard([("Neu", "new")])
    )
    assert api.button_data(PERSON, "Neu") == "new"


async def test_document_bytes_and_filename_arrive(bot: Bot, api: FakeBotApi) -> None:
    content = bytes(range(256)) + b'\r\n--boundary"\r\n\r\n' + '{"ä": 1}\r\n'.encode()

    sent = await bot.send_document(
        PERSON, content, filename='meine-daten "ä".json', caption="Ihre Daten"
    )

    assert sent.document is not None and sent.document.file_size == len(content)
    message = api.last_message(PERSON)
    assert message["document"] == {
        "filename": 'meine-daten "ä".json',
        "bytes": content,
        "mime_type": "application/json",
    }
    assert message["caption"] == "Ihre Daten"
    resent = await bot.send_document(PERSON, sent.document.file_id)
    assert api.last_message(PERSON)["document"]["bytes"] == content  # type: ignore[index]
    assert resent.document is not None


async def test_photo_bytes_are_recorded(bot: Bot, api: FakeBotApi) -> None:
    await bot.send_photo(PERSON, b"\x89PNG fake", caption="Diagramm")
    assert api.last_message(PERSON)["photo"] == b"\x89PNG fake"


# --------------------------------------------------------------------------- limits


async def test_text_limits_are_enforced(bot: Bot, api: FakeBotApi) -> None:
    await bot.send_message(PERSON, "ä" * 4096)
    with pytest.raises(BadRequest, match=said("message is too long")):
        await bot.send_message(PERSON, "ä" * 4097)
    with pytest.raises(BadRequest, match=said("message text is empty")):
        await bot.send_message(PERSON, " \n ")
    with pytest.raises(BadRequest, match=said("message caption is too long")):
        await bot.send_document(PERSON, b"x", filename="a.txt", caption="c" * 1025)
    assert [call.status for call in api.calls("sendMessage")] == [200, 400, 400]


async def test_callback_data_limit_counts_utf8_bytes(bot: Bot) -> None:
    await bot.send_message(PERSON, "ok", reply_markup=keyboard([("A", "ä" * 32)]))  # 64 bytes
    with pytest.raises(BadRequest, match=said("BUTTON_DATA_INVALID")):
        await bot.send_message(PERSON, "zu lang", reply_markup=keyboard([("A", "ä" * 33)]))


async def test_markup_is_parsed_like_telegram(bot: Bot, api: FakeBotApi) -> None:
    await bot.send_message(PERSON, "<b>Danke</b> &amp; tschüss", parse_mode="HTML")
    assert api.last_message(PERSON)["text"] == "Danke & tschüss"
    with pytest.raises(BadRequest, match=said("can't parse entities: Unsupported start tag")):
        await bot.send_message(PERSON, "1 < 2", parse_mode="HTML")
    with pytest.raises(BadRequest, match=said("Character '.' is reserved")):
        await bot.send_message(PERSON, "Danke.", parse_mode="MarkdownV2")
    await bot.send_message(PERSON, "*Danke*\\.", parse_mode="MarkdownV2")
    assert api.last_message(PERSON)["text"] == "Danke."


def test_visible_text_reports_unclosed_tags() -> None:
    with pytest.raises(Exception, match='end tag corresponding to start tag "b"'):
        visible_text("<b>offen", "HTML")
    assert visible_text("[Link](https://example.org/a_(b\\))", "MarkdownV2") == "Link"


# --------------------------------------------------------------------------- faults


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # int retry_after
async def test_flood_control_raises_retry_after(bot: Bot, api: FakeBotApi) -> None:
    api.fail_next("sendMessage", 429, retry_after=7)

    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(PERSON, "Hallo")

    retry_after = caught.value.retry_after
    seconds = retry_after.total_seconds() if isinstance(retry_after, dtm.timedelta) else retry_after
    assert seconds == 7
    await bot.send_message(PERSON, "Hallo")  # only the next call failed
    assert [m["text"] for m in api.messages(PERSON)] == ["Hallo"]


async def test_blocked_person_raises_forbidden(bot: Bot, api: FakeBotApi) -> None:
    api.fail_next("sendMessage", 403)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(PERSON, "Hallo")

    api.block_user(PERSON)
    with pytest.raises(Forbidden):
        await bot.send_chat_action(PERSON, "typing")
    await bot.send_message(7, "andere Person")
    api.unblock_user(PERSON)
    await bot.send_message(PERSON, "wieder da")


async def test_slow_answer_times_out_but_takes_effect(bot: Bot, api: FakeBotApi) -> None:
    api.delay_next("sendMessage", 2)  # far past the read timeout, however busy the machine
    with pytest.raises(TimedOut):
        await bot.send_message(PERSON, "langsam", read_timeout=0.1)
    assert api.last_message(PERSON)["text"] == "langsam"


# --------------------------------------------------------------------------- updates


async def test_get_updates_honours_offset_and_limit(bot: Bot, api: FakeBotApi) -> None:
    ids = [api.user_message(PERSON, f"Nachricht {n}")["update_id"] for n in range(3)]

    assert [u.update_id for u in await bot.get_updates(limit=2)] == ids[:2]
    assert [u.update_id for u in await bot.get_updates(offset=ids[1])] == ids[1:]
    assert [u.update_id for u in await bot.get_updates(offset=ids[2] + 1)] == []
    assert api.pending_updates == []


async def test_long_poll_returns_when_an_update_arrives(bot: Bot, api: FakeBotApi) -> None:
    held = asyncio.create_task(bot.get_updates(timeout=600))
    await api.wait_until_async(lambda: api.polls_started == 1, what="the poll to be held")
    api.user_message(PERSON, "Hallo")

    # Returned with the update, not at the poll's timeout (the wait is a guard against hanging).
    updates = await asyncio.wait_for(held, 60)

    assert [u.message.text for u in updates if u.message] == ["Hallo"]


async def test_long_poll_without_updates_waits_for_timeout(bot: Bot) -> None:
    started = time.monotonic()
    poll = bot.get_updates(timeout=dtm.timedelta(milliseconds=300))
    assert await asyncio.wait_for(poll, 60) == ()
    assert time.monotonic() - started >= 0.29, "held for the timeout, not answered at once"


async def test_a_second_poller_terminates_the_held_poll(
    bot: Bot, api: FakeBotApi, transport: str, request: pytest.FixtureRequest
) -> None:
    held = asyncio.create_task(bot.get_updates(timeout=600))
    await api.wait_until_async(lambda: api.polls_started == 1, what="the poll to be held")
    async with make_bot(api, transport, request) as second_instance:
        assert await second_instance.get_updates() == ()
    with pytest.raises(Conflict):
        await held


async def test_redelivered_update_comes_again_after_confirmation(bot: Bot, api: FakeBotApi) -> None:
    first = api.user_message(PERSON, "einmal")
    [update] = await bot.get_updates()
    assert update.update_id == first["update_id"]
    assert await bot.get_updates(offset=update.update_id + 1) == ()

    api.redeliver(first)

    [again] = await bot.get_updates(offset=update.update_id + 1)
    assert again.to_dict() == update.to_dict()


async def test_person_updates_parse_as_telegram_objects(bot: Bot, api: FakeBotApi) -> None:
    simulated = [
        api.user_message(PERSON, "/start feedback-2025", username="erika", last_name="M"),
        api.user_sticker(PERSON),
        api.user_photo(PERSON, caption="Foto"),
        api.user_voice(PERSON),
        api.user_location(PERSON),
        api.user_document(PERSON),
        api.user_message(-100777, "/hilfe", chat_id=-100777, chat_type="supergroup"),
    ]
    edited = api.edited_message(PERSON, simulated[0]["message"]["message_id"], "/start")
    updates = [Update.de_json(u, bot) for u in [*simulated, edited]]

    start, sticker, photo, voice, location, document, group, edit = updates
    assert start.message and start.message.text == "/start feedback-2025"
    assert start.message.parse_entities() == {start.message.entities[0]: "/start"}
    assert start.effective_user and start.effective_user.language_code == "de"
    assert sticker.message and sticker.message.sticker
    assert photo.message and photo.message.photo and photo.message.caption == "Foto"
    assert voice.message and voice.message.voice
    assert location.message and location.message.location
    assert document.message and document.message.document
    assert group.effective_chat and group.effective_chat.type == "supergroup"
    assert edit.edited_message and edit.edited_message.text == "/start"
    assert [m.message_id for m in (start.message, sticker.message)] == [1, 2]


# --------------------------------------------------------------------------- callbacks


async def test_button_press_carries_the_message_and_is_answered_once(
    bot: Bot, api: FakeBotApi
) -> None:
    sent = await bot.send_message(PERSON, "Einverstanden?", reply_markup=keyboard([("Ja", "c:y")]))

    update = Update.de_json(api.press_button(PERSON, "Ja"), bot)

    query = update.callback_query
    assert query is not None and query.data == "c:y"
    assert isinstance(query.message, Message) and query.message.message_id == sent.message_id
    assert query.message.text == "Einverstanden?"
    await bot.answer_callback_query(query.id, text="Gespeichert")
    with pytest.raises(BadRequest, match=said("query is too old")):
        await bot.answer_callback_query(query.id)
    assert api.callback_answers[0]["text"] == "Gespeichert"
    too_long = api.callback_press(PERSON, sent.message_id, "c:y")["callback_query"]["id"]
    with pytest.raises(BadRequest):
        await bot.answer_callback_query(too_long, text="x" * 201)


@pytest.mark.parametrize(
    ("text", "commands"),
    [
        ("/hilfe?", ["/hilfe"]),  # punctuation ends a command (was "/hilfe?": no command)
        ("/start@feedback_test_bot 2025", ["/start@feedback_test_bot"]),
        ("/löschen", []),  # Telegram's commands are ASCII
        ("/r/germany empfahl euch", []),
        ("/", []),
        ("Bitte /hilfe, danke", ["/hilfe"]),
        ("😀 /start", ["/start"]),  # offsets in UTF-16 code units
        ("https://beispiel.de/start", []),
    ],
)
async def test_commands_are_marked_where_telegram_marks_them(
    bot: Bot, api: FakeBotApi, text: str, commands: list[str]
) -> None:
    """Found by a fidelity review: a leading "/word" was marked whole, whatever followed
    ("/hilfe?", "/löschen"), and a command later in the text or in a caption not at all,
    so the bot's handling of Telegram's real entities went untested."""
    sent = Update.de_json(api.user_message(PERSON, text), bot).message
    photo = Update.de_json(api.user_photo(PERSON, caption=text), bot).message
    edit = Update.de_json(api.edited_message(PERSON, 1, text), bot).edited_message
    assert sent and photo and edit
    assert list(sent.parse_entities([MessageEntity.BOT_COMMAND]).values()) == commands
    assert list(photo.parse_caption_entities([MessageEntity.BOT_COMMAND]).values()) == commands
    assert list(edit.parse_entities([MessageEntity.BOT_COMMAND]).values()) == commands


async def test_press_on_unknown_message_is_inaccessible(bot: Bot, api: FakeBotApi) -> None:
    update = Update.de_json(api.callback_press(PERSON, 77, "old"), bot)
    assert update.callback_query and update.callback_query.message
    assert not update.callback_query.message.is_accessible


async def test_press_on_a_message_older_than_48_hours_is_inaccessible(bot: Bot) -> None:
    """Found by a fidelity review: Telegram sends the message of a days-old button as an
    inaccessible one (date 0), while its buttons still work; the double sent it whole."""
    now = [1_790_000_000.0]
    api = FakeBotApi(TOKEN, clock=lambda: now[0])
    api.handle("sendMessage", {"chat_id": PERSON, "text": "Einverstanden?"})
    assert api.callback_press(PERSON, 1, "c:y")["callback_query"]["message"]["text"]
    now[0] += 48 * 3600 + 1
    message = Update.de_json(api.callback_press(PERSON, 1, "c:y"), bot).callback_query.message
    assert message is not None and not message.is_accessible and message.message_id == 1


def test_button_data_lists_the_labels_there_are(api: FakeBotApi) -> None:
    api.handle(
        "sendMessage",
        {"chat_id": PERSON, "text": "?", "reply_markup": {"inline_keyboard": [[
            {"text": "Ja", "callback_data": "y"}, {"text": "Nein", "callback_data": "n"}
        ]]}},
    )  # fmt: skip
    with pytest.raises(AssertionError, match=r"'Vielleicht'.*\['Ja', 'Nein'\]"):
        api.button_data(PERSON, "Vielleicht")


async def test_delete_message(bot: Bot, api: FakeBotApi) -> None:
    sent = await bot.send_message(PERSON, "weg damit")
    assert await bot.delete_message(PERSON, sent.message_id)
    assert api.messages(PERSON) == []
    assert api.messages(PERSON, deleted=True)[0]["deleted"]
    with pytest.raises(BadRequest, match=said("message to delete not found")):
        await bot.delete_message(PERSON, sent.message_id)


async def test_commands_are_registered_per_language(bot: Bot, api: FakeBotApi) -> None:
    await bot.set_my_commands([BotCommand("start", "Beginnen")], language_code="de")
    await bot.set_my_commands([BotCommand("start", "Begin")], language_code="en")

    assert api.commands == {"de": [("start", "Beginnen")], "en": [("start", "Begin")]}
    assert [c.command for c in await bot.get_my_commands(language_code="de")] == ["start"]
    with pytest.raises(BadRequest, match=said("BOT_COMMAND_INVALID")):
        await bot.set_my_commands([BotCommand("löschen", "Löschen")])


# --------------------------------------------------------------------------- HTTP specifics


def test_http_accepts_json_and_form_bodies(server: BotApiServer, api: FakeBotApi) -> None:
    with httpx.Client(base_url=f"{server.base_url}{TOKEN}") as client:
        as_json = client.post("/sendMessage", json={"chat_id": PERSON, "text": "5"})
        as_form = client.post("/sendMessage", data={"chat_id": str(PERSON), "text": "6"})
        unknown = client.post("/sendTelepathy")
        wrong = httpx.post(f"{server.base_url}1:x/getMe")

    assert as_json.json()["result"]["text"] == "5"
    assert as_form.json()["result"]["chat"]["id"] == PERSON
    assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert wrong.status_code == 401 and wrong.json()["description"] == "Unauthorized"


def test_stopping_the_server_releases_a_held_poll(api: FakeBotApi) -> None:
    server = BotApiServer(api).start()
    outcome: list[object] = []

    def poll() -> None:
        try:
            url = f"{server.base_url}{TOKEN}/getUpdates"
            outcome.append(httpx.post(url, data={"timeout": "600"}, timeout=900).json())
        except httpx.HTTPError as exc:
            outcome.append(exc)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    api.wait_until(lambda: api.polls_started == 1, what="the poll to be held")
    server.stop()
    poller.join(timeout=60)  # a guard: a poll not released would be held for ten minutes

    assert not poller.is_alive(), "stopping the server left the poll held"
    assert outcome == [{"ok": True, "result": []}]


# --------------------------------------------------------------------------- polling application


async def test_application_answers_start_over_real_polling(
    api: FakeBotApi, transport: str, request: pytest.FixtureRequest
) -> None:
    builder = Application.builder().token(TOKEN)
    if transport == "http":
        builder = builder.base_url(request.getfixturevalue("server").base_url)
    else:
        builder = builder.request(InProcessRequest(api)).get_updates_request(InProcessRequest(api))
    app = builder.build()

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("Willkommen!")

    app.add_handler(CommandHandler("start", start))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0)
        api.user_message(PERSON, "/start")
        await api.wait_until_async(lambda: api.messages(PERSON), timeout=5, what="an answer")
        await app.updater.stop()
        await app.stop()

    assert api.last_message(PERSON)["text"] == "Willkommen!"
    assert api.pending_updates == []  # the final getUpdates confirmed /start
