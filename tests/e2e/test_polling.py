"""End to end: the real `python -m bot run`, real long polling over HTTP, a real data dir."""

from __future__ import annotations

import hashlib
import http.server
import socket
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from telegram.error import Conflict

from bot.fakeapi import BotApiServer, FakeBotApi
from storage.crypto import encode_master_key, generate_key
from storage.sqlite_db import DATA_MIGRATIONS, KEY_MIGRATIONS, LEDGER_MIGRATIONS
from tests.e2e.botprocess import bot_env, cli, run_once, running_bot
from tests.harness import TOKEN, Harness, files_contain, stored_rows

CANARY_DE = "Zaunkoenig-91c4 war sehr hilfreich"
CANARY_EN = "Wren-5d2e was very helpful"
ERIKA, JOHN = 7_770_001_234, 8_880_005_678
NAMES = {"first_name": "Mechthild-Canary", "username": "canary_user_x1"}


@pytest.fixture
def api() -> FakeBotApi:
    return FakeBotApi(TOKEN)


@pytest.fixture
def server(api: FakeBotApi) -> Iterator[BotApiServer]:
    with BotApiServer(api) as server:
        yield server


def reply_count(api: FakeBotApi, chat: int) -> int:
    return len(api.messages(chat))


def say(api: FakeBotApi, user: int, text: str, lang: str, expect: int = 1) -> None:
    before = reply_count(api, user)
    api.user_message(user, text, language_code=lang, **NAMES)  # type: ignore[arg-type]
    api.wait_until(
        lambda: reply_count(api, user) >= before + expect,
        timeout=15,
        what=f"reply to {text[:20]!r}",
    )


def press(api: FakeBotApi, user: int, label: str, lang: str, expect: int = 1) -> None:
    before = reply_count(api, user)
    api.press_button(user, label, language_code=lang, **NAMES)  # type: ignore[arg-type]
    api.wait_until(
        lambda: reply_count(api, user) >= before + expect, timeout=15, what=f"reply to {label!r}"
    )


def converse(api: FakeBotApi, user: int, lang: str, comment: str) -> None:
    yes = "Ja, ich willige ein" if lang == "de" else "Yes, I agree"
    say(api, user, "/start", lang)
    press(api, user, yes, lang)  # receipt and first question: one message
    press(api, user, "4", lang)
    say(api, user, comment, lang)
    press(api, user, "Nein" if lang == "de" else "No", lang)


def test_conversations_in_both_languages_leave_nothing_readable(
    api: FakeBotApi, server: BotApiServer, tmp_path: Path
) -> None:
    data, log = tmp_path / "data", tmp_path / "bot.log"
    with running_bot(api, bot_env(server, data), tmp_path, log):
        converse(api, ERIKA, "de", CANARY_DE)
        converse(api, JOHN, "en", CANARY_EN)
        assert "Vielen Dank" in (api.last_message(ERIKA)["text"] or "")
        assert "Thank you" in (api.last_message(JOHN)["text"] or "")
        assert "2027" in (api.last_message(JOHN)["text"] or "")
    assert {p.name for p in data.iterdir()} >= {"feedback.db", "keys.db"}
    for needle in (CANARY_DE, CANARY_EN, str(ERIKA), str(JOHN), *NAMES.values()):
        assert not files_contain(data, needle.encode()), f"{needle!r} found on disk"
        assert needle not in log.read_text(), f"{needle!r} found in the log"
    assert TOKEN.split(":")[1] not in log.read_text()
    assert "consent granted" in log.read_text(), "the log still says what happened"
    menus = {locale: {name for name, _ in api.commands_for(locale)} for locale in ("de", "en")}
    assert "meinedaten" in menus["de"] and "mydata" in menus["en"], menus


def test_a_no_typed_in_a_sentence_is_taken_as_a_no_and_not_stored(tmp_path: Path) -> None:
    """Found by a review of customers' phrasing: "Nein, das will ich nicht" was pointed to
    the buttons, as if no answer. Through the real process over HTTP: to the consent
    request before a survey it is answered as the no typed there ("Nee danke") is, and
    nothing of it is written; at the contact question it is answered as its "Nein"."""
    shift = [-600.0]  # the comments dated ten minutes before the no typed after them
    api = FakeBotApi(TOKEN, clock=lambda: time.time() + shift[0])
    data, log = tmp_path / "data", tmp_path / "bot.log"
    refusal = "Nein, das will ich nicht"
    with BotApiServer(api) as server, running_bot(api, bot_env(server, data), tmp_path, log):
        say(api, ERIKA, "/start", "de")
        before = stored_rows(data)
        say(api, ERIKA, "Nee danke", "de")
        typed_no = api.last_message(ERIKA)["text"]
        say(api, ERIKA, refusal, "de")
        assert api.last_message(ERIKA)["text"] == typed_no
        assert "nichts von Ihnen gespeichert" in (typed_no or ""), typed_no
        assert stored_rows(data) == before, "nothing of the no is stored"
        tapped, typed = 7_770_001_235, 7_770_001_236
        for person in (tapped, typed):
            say(api, person, "/start", "de")
            press(api, person, "Ja, ich willige ein", "de")
            press(api, person, "4", "de")
            say(api, person, CANARY_DE, "de")
        shift[0] = 0.0
        press(api, tapped, "Nein", "de")
        say(api, typed, refusal, "de")
        assert "Schaltfläche" not in (api.last_message(typed)["text"] or ""), "not pointed"
        declined = api.last_message(tapped)["text"]
        assert "Vielen Dank" in (declined or "")
        # (said how the typed no was taken: a tap shows itself)
        assert api.last_message(typed)["text"] == (
            f"Verstanden: „Nein“ zu „Kontaktaufnahme“.\n\n{declined}"
        )
    for needle in (refusal, CANARY_DE, str(ERIKA), str(typed)):
        assert not files_contain(data, needle.encode()), f"{needle!r} found on disk"
        assert needle not in log.read_text(), f"{needle!r} found in the log"


def test_restart_after_the_rating_continues_the_conversation(
    api: FakeBotApi, server: BotApiServer, tmp_path: Path
) -> None:
    data, log = tmp_path / "data", tmp_path / "bot.log"
    env = bot_env(server, data)
    with running_bot(api, env, tmp_path, log):
        say(api, ERIKA, "/start", "de")
        press(api, ERIKA, "Ja, ich willige ein", "de")
        press(api, ERIKA, "5", "de")
    with running_bot(api, env, tmp_path, log):
        say(api, ERIKA, "nach dem Neustart", "de")
        assert "kontaktieren" in (api.last_message(ERIKA)["text"] or "")
        press(api, ERIKA, "Ja, einverstanden", "de")
        assert "Vielen Dank" in (api.last_message(ERIKA)["text"] or "")


def test_a_chosen_language_outlives_a_restart_of_the_process(
    api: FakeBotApi, server: BotApiServer, tmp_path: Path
) -> None:
    data, log = tmp_path / "data", tmp_path / "bot.log"
    env = bot_env(server, data)
    with running_bot(api, env, tmp_path, log):
        say(api, ERIKA, "/sprache", "de")
        press(api, ERIKA, "English", "de")
        assert (api.last_message(ERIKA)["text"] or "").startswith("From now on I'll write to you")
    menus = {locale: {name for name, _ in api.commands_for(locale)} for locale in ("de", "en")}
    assert "sprache" in menus["de"] and "language" in menus["en"], menus
    with running_bot(api, env, tmp_path, log):
        say(api, ERIKA, "/start", "de")  # the app still says German
        assert "Do you agree?" in (api.last_message(ERIKA)["text"] or "")
    assert not files_contain(data, str(ERIKA).encode())
    assert str(ERIKA) not in log.read_text()


def test_first_run_generates_a_private_master_key_and_says_where(
    api: FakeBotApi, server: BotApiServer, tmp_path: Path
) -> None:
    data, log = tmp_path / "data", tmp_path / "bot.log"
    with running_bot(api, bot_env(server, data, FEEDBACKBOT_MASTER_KEY=""), tmp_path, log):
        say(api, ERIKA, "/start", "de")
    key_file = data / "master.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert str(key_file) in log.read_text() and "production" in log.read_text()
    # No staff chat and no alert threshold: the consent to be contacted serves nothing.
    assert "surveys feedback, product ask for consent to be contacted" in log.read_text()


def test_a_new_store_is_one_line_in_the_log_and_a_purge_of_nothing_none(
    api: FakeBotApi, server: BotApiServer, tmp_path: Path
) -> None:
    """Walking the README on a fresh install: the first start logged 30 lines "migration
    applied", "0 to be deleted now" and a purge of 0 of everything, at INFO; and each
    start opened and closed the store twice (a check before polling, then the bot), and
    said "consent texts archived: 0 new"."""
    data, log = tmp_path / "data", tmp_path / "bot.log"
    env = bot_env(server, data, FEEDBACKBOT_LOG_LEVEL="INFO")
    with running_bot(api, env, tmp_path, log):
        say(api, ERIKA, "/start", "de")
    first = log.read_text()
    assert "bot ready" in first, first  # after the purge at the start
    schema = (
        f"data v{len(DATA_MIGRATIONS)}, keys v{len(KEY_MIGRATIONS)}, "
        f"ledger v{len(LEDGER_MIGRATIONS)}"
    )
    assert first.count("created a new, empty store") == 1, first
    assert f"created a new, empty store in {data} (store schema: {schema});" in first
    for noise in ("migration applied", "to be deleted now", "purge", "store upgraded"):
        assert noise not in first, first
    assert_opened_once(first)
    assert "consent texts archived: 8 new" in first, first  # 2 surveys × 2 questions × de, en
    with running_bot(api, env, tmp_path, log):
        say(api, ERIKA, "/start", "de")
    again = log.read_text()[len(first) :]
    assert "bot ready" in again, again
    # The texts archived at the first start: nothing new, nothing said.
    for noise in ("created", "store upgraded", "migration applied", "purge", "archived"):
        assert noise not in again, again
    assert_opened_once(again)


def assert_opened_once(log: str) -> None:
    """One start's log: the store opened once before the bot is ready, closed once after."""
    lines = log.splitlines()
    opened = [i for i, line in enumerate(lines) if "store_opened" in line]
    closed = [i for i, line in enumerate(lines) if "store_closed" in line]
    ready = [i for i, line in enumerate(lines) if "bot ready" in line]
    assert len(opened) == 1 and len(closed) == 1 and len(ready) == 1, log
    assert opened[0] < ready[0] < closed[0], log


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_wrong_master_key_refuses_with_one_line_and_touches_nothing(
    api: FakeBotApi, server: BotApiServer, tmp_path: Path
) -> None:
    data, log = tmp_path / "data", tmp_path / "bot.log"
    with running_bot(api, bot_env(server, data), tmp_path, log):
        converse(api, ERIKA, "de", CANARY_DE)
    before = digests(data)
    other_key = encode_master_key(generate_key())  # random: a weak key is warned about too
    result = run_once(bot_env(server, data, FEEDBACKBOT_MASTER_KEY=other_key), tmp_path)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("feedbackbot:")]
    assert len(lines) == 1 and "master key" in lines[0].lower(), result.stderr
    assert "Traceback" not in result.stderr
    assert digests(data) == before


@pytest.mark.parametrize(
    ("missing", "named"),
    [
        ("FEEDBACKBOT_TOKEN", "FEEDBACKBOT_TOKEN"),
        ("FEEDBACKBOT_CONTROLLER_NAME", "FEEDBACKBOT_CONTROLLER_NAME"),
    ],
)
def test_missing_required_setting_is_one_clear_line(
    server: BotApiServer, tmp_path: Path, missing: str, named: str
) -> None:
    result = run_once(bot_env(server, tmp_path / "data", **{missing: ""}), tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and named in result.stderr
    assert not (tmp_path / "data").exists(), "nothing is created for an unusable configuration"


def test_bad_duration_is_one_clear_line(server: BotApiServer, tmp_path: Path) -> None:
    result = run_once(bot_env(server, tmp_path / "data", FEEDBACKBOT_RETENTION="ewig"), tmp_path)
    assert result.returncode == 1 and "FEEDBACKBOT_RETENTION" in result.stderr
    assert result.stderr.strip().count("\n") == 0


def test_a_rejected_token_is_one_line_without_the_token(
    server: BotApiServer, tmp_path: Path
) -> None:
    revoked = "7654321:Revoked-Token-Secret-Part-0123456789"
    result = run_once(bot_env(server, tmp_path / "data", FEEDBACKBOT_TOKEN=revoked), tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1].startswith("feedbackbot: Telegram rejected the bot token")
    assert "Revoked-Token-Secret" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr.split("feedbackbot:")[-1]


@pytest.mark.parametrize(
    ("status", "body"),
    [(404, b"404 page not found"), (404, b""), (405, b"<html>no</html>"), (501, b"<html>x</html>")],
)
def test_an_address_that_is_not_the_bot_api_is_not_called_a_rejected_token(
    server: BotApiServer, tmp_path: Path, status: int, body: bytes
) -> None:
    """Found by an operator walk-through: a wrong FEEDBACKBOT_API_BASE_URL (a proxy's or
    a web server's 404) was reported as the token rejected by Telegram; a 405 as "cannot
    reach the Bot API (… Parsing the server response b'<html>…' failed)"; a 501 (Python's
    http.server to a POST) as "Telegram server error (501)"."""

    class NotFound(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotFound) as web:
        threading.Thread(target=web.serve_forever, daemon=True).start()
        address = f"http://127.0.0.1:{web.server_address[1]}/bot"
        env = bot_env(server, tmp_path / "data", FEEDBACKBOT_API_BASE_URL=address)
        result = run_once(env, tmp_path)
        web.shutdown()
    assert result.returncode == 1
    last = result.stderr.splitlines()[-1]
    assert last == (
        "feedbackbot: the address of the Bot API did not answer as the Bot API does (HTTP "
        f"{status}, not its reply); check FEEDBACKBOT_API_BASE_URL, or a proxy on the way"
    ), result.stderr
    assert "rejected the bot token" not in result.stderr
    assert TOKEN.split(":")[1] not in result.stderr + result.stdout


@pytest.mark.parametrize(
    "token", ["not-a-token-SECRETVALUE", "123456:SECRET PART", "SECRETVALUE:123456"]
)
def test_a_malformed_token_is_one_line_before_anything_is_made_or_asked(
    server: BotApiServer, tmp_path: Path, token: str
) -> None:
    """Found by an operator audit: a token without "<id>:" went to the Bot API (on the
    default address, Telegram) after a store and a master key were made."""
    result = run_once(bot_env(server, tmp_path / "data", FEEDBACKBOT_TOKEN=token), tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "FEEDBACKBOT_TOKEN" in result.stderr
    assert "is not a bot token as @BotFather gives it" in result.stderr
    assert "SECRET" not in result.stderr + result.stdout
    assert not (tmp_path / "data").exists()
    assert server.api.calls("getMe") == []


def test_commands_that_need_no_token_do_not_judge_one(server: BotApiServer, tmp_path: Path) -> None:
    """Found by a review: the README's own placeholder token in .env stopped `docs`,
    `stats` and the other commands that need no token; only `run` checks it."""
    env = bot_env(server, tmp_path / "data", FEEDBACKBOT_TOKEN="123456:ABC...")
    result = cli("docs", "privacy-notice", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_a_token_with_a_line_end_as_a_mounted_secret_has_it_works(
    server: BotApiServer, tmp_path: Path
) -> None:
    env = bot_env(server, tmp_path / "data", FEEDBACKBOT_TOKEN=f" {TOKEN}\n")
    with running_bot(server.api, env, tmp_path, tmp_path / "bot.log"):
        say(server.api, ERIKA, "/start", "de")
        assert "Einwilligung" in (server.api.last_message(ERIKA)["text"] or "")


def test_a_retention_of_minutes_is_warned_about(server: BotApiServer, tmp_path: Path) -> None:
    """A plain number counts seconds (the configuration contract), so "180" meant as days
    is three minutes, which the consent notice then tells customers: said at start."""
    (tmp_path / "a-file").write_text("not a folder")  # to end the start early
    env = bot_env(server, tmp_path / "a-file", FEEDBACKBOT_RETENTION="180")
    result = run_once(env, tmp_path)
    assert "FEEDBACKBOT_RETENTION is only 3m" in result.stderr
    assert "write 180d for 180 days" in result.stderr


def test_staff_rules_in_one_language_only_are_warned_about(
    server: BotApiServer, tmp_path: Path
) -> None:
    """Allowed ("de and/or en"), but English-speaking staff then read German rules: said
    at start (found by an operator audit)."""
    (tmp_path / "rules.toml").write_text('de = "Regeln"\n')
    (tmp_path / "a-file").write_text("not a folder")  # to end the start early
    env = bot_env(
        server, tmp_path / "a-file", FEEDBACKBOT_STAFF_RULES_FILE=str(tmp_path / "rules.toml")
    )
    result = run_once(env, tmp_path)
    assert "has no staff rules in en: staff who write in it are shown the rules in de" in (
        result.stderr
    )


def test_an_unreachable_bot_api_is_one_line_without_the_token(
    server: BotApiServer, tmp_path: Path
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = bot_env(
        server, tmp_path / "data", FEEDBACKBOT_API_BASE_URL=f"http://127.0.0.1:{port}/bot"
    )
    result = run_once(env, tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "feedbackbot: cannot reach the Bot API (no connection could be made); check the "
        "network and FEEDBACKBOT_API_BASE_URL"
    ), result.stderr  # not httpx's English (found by an operator walk-through)
    assert "Traceback" not in result.stderr, "each failed attempt in one line"
    assert TOKEN.split(":", 1)[1] not in result.stderr + result.stdout


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1",
        "ftp://example.org/bot",
        "api.telegram.org",
        # the token put after the host: its secret was printed as a port (found by an
        # operator walk-through)
        "https://api.telegram.org",
        "http://127.0.0.1:18081",
        "https://api.telegram.org/bot/",
    ],
)
def test_a_malformed_api_base_url_is_a_configuration_error(
    server: BotApiServer, tmp_path: Path, url: str
) -> None:
    result = run_once(bot_env(server, tmp_path / "data", FEEDBACKBOT_API_BASE_URL=url), tmp_path)
    assert result.returncode == 1 and "FEEDBACKBOT_API_BASE_URL" in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert TOKEN.split(":", 1)[1] not in result.stderr


def test_a_server_error_at_start_is_tried_again(
    api: FakeBotApi, server: BotApiServer, tmp_path: Path
) -> None:
    """A 502 from Telegram (or the network not up yet) while starting used to end the bot
    with exit code 1."""
    api.fail_next("getMe", 502, count=2)
    log = tmp_path / "bot.log"
    with running_bot(api, bot_env(server, tmp_path / "data"), tmp_path, log):
        converse(api, ERIKA, "de", "läuft trotzdem")
    assert len(api.calls("getMe")) >= 3
    assert "Traceback" not in log.read_text()


async def test_a_second_process_polling_with_the_token_is_named_in_one_line(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    assert harness.app is not None
    await harness.app.process_error(None, Conflict("terminated by other getUpdates request"))
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.app"]
    assert any("another process is polling with this bot token" in line for line in lines)
    assert not any(r.exc_info for r in caplog.records if r.name == "bot.app")
