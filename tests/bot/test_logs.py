"""The log formatter removes tokens and raw ids from every line, tracebacks included."""

from __future__ import annotations

import logging

import pytest

from bot.logs import QUIETED, GroupChat, RedactingFormatter, configure_logging

TOKEN = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def record(message: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc else None
    return logging.LogRecord("x", logging.ERROR, __file__, 1, message, args, exc_info)


def test_token_and_ids_are_redacted() -> None:
    formatter = RedactingFormatter(secrets=(TOKEN,))
    line = formatter.format(
        record("POST https://api.telegram.org/bot%s/sendMessage chat %s", TOKEN, 4242424242)
    )
    assert TOKEN not in line and "AAHdq" not in line and "4242424242" not in line
    assert "sendMessage" in line


def test_the_tokens_secret_alone_is_redacted() -> None:
    """Found by an operator walk-through: with the base URL's "/bot" left off, httpx named
    the token's secret half as an invalid port, and it was printed as it was."""
    secret = TOKEN.split(":", 1)[1]
    line = RedactingFormatter(secrets=(TOKEN,)).redact(f"InvalidURL(\"Invalid port: '{secret}'\")")
    assert secret not in line and "Invalid port: '[secret]'" in line


def test_a_group_chats_id_marked_as_such_is_shown_a_persons_is_not() -> None:
    """The operator needs the new id of a staff group upgraded to a supergroup."""
    formatter = RedactingFormatter()
    moved = record(
        "staff chat %s is now %s (for %s)",
        GroupChat(-4242424242),
        GroupChat(-1001234567890),
        4242424242,
    )
    line = formatter.format(moved)
    assert "staff chat -4242424242 is now -1001234567890 (for [id])" in line
    assert moved.getMessage().endswith("(for 4242424242)")  # other handlers get it as it was
    line = formatter.format(record("staff chat %s", GroupChat(4242424242)))  # a person's chat
    assert "4242424242" not in line and "staff chat [id]" in line


def test_tracebacks_are_redacted_too() -> None:
    try:
        raise ValueError(f"bad chat 987654321 via /bot{TOKEN}/getMe")
    except ValueError as error:
        line = RedactingFormatter().format(record("failed", exc=error))
    assert "987654321" not in line and "AAHdq" not in line and "ValueError" in line


def test_a_person_is_tagged_alike_within_a_run_but_not_by_their_pseudonym() -> None:
    """The pseudonym key outlives an erasure: a log line carrying the pseudonym (or a part)
    would let whoever holds that key find the person's lines from their Telegram id."""
    formatter, later_run = RedactingFormatter(), RedactingFormatter()
    lines = []
    for name, pseudonym in (("a", "e2189009ee3e"), ("b", "e2189009ee3e"), ("c", "0a1b2c3d4e5f")):
        rec = record(f"event {name}")
        rec.pseudonym = pseudonym
        lines.append(formatter.format(rec))
    tags = [line.rsplit("[p:", 1)[1].rstrip("]") for line in lines]
    assert tags[0] == tags[1] != tags[2] and len(tags[0]) == 12
    assert "e2189009ee3e" not in lines[0]
    rec = record("event a")
    rec.pseudonym = "e2189009ee3e"
    assert not later_run.format(rec).endswith(f"[p:{tags[0]}]"), "a salt of each run"


def test_a_tag_of_twelve_digits_is_not_taken_for_an_id(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """About one tag in 280 is all digits: it was redacted to [id] like a Telegram id, and
    that person's lines could no longer be matched (operator audit)."""
    formatter = RedactingFormatter()
    monkeypatch.setattr(formatter, "_tag", lambda pseudonym: "123456789012")
    rec = record("consent granted for chat %s", 4242424242)
    rec.pseudonym = "e2189009ee3e"
    assert formatter.format(rec).endswith("consent granted for chat [id] [p:123456789012]")


def test_chatty_libraries_stay_quiet_even_at_debug() -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging("DEBUG")
        for name in ("httpx", "telegram", "aiosqlite"):
            assert not logging.getLogger(name).isEnabledFor(logging.INFO)
        assert logging.getLogger("flows").isEnabledFor(logging.DEBUG)
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
        for name in ("httpx", "httpcore", "telegram", "apscheduler", "aiosqlite", "asyncio"):
            logging.getLogger(name).setLevel(logging.NOTSET)


@pytest.mark.parametrize(
    ("logger", "message"),
    [
        ("telegram.ext.Updater", "Network Retry Loop (Polling Updates): Network error."),
        (
            "telegram.ext.Updater",
            "Error while calling `get_updates` one more time to mark all fetched updates. "
            "Suppressing error to ensure graceful shutdown.",
        ),
    ],
)
def test_harmless_library_errors_are_one_line_without_a_traceback(
    logger: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """At shutdown, a failed last getUpdates put three chained tracebacks into the log."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging("INFO")
        try:
            try:
                raise ConnectionResetError("peer went away")
            except ConnectionResetError as cause:
                raise RuntimeError("Server disconnected without sending a response.") from cause
        except RuntimeError:
            logging.getLogger(logger).error(message, exc_info=True)
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for name in QUIETED:
            logging.getLogger(name).setLevel(logging.NOTSET)
    written = capsys.readouterr().err
    assert "Traceback" not in written
    assert written.count("\n") == 1 and f"{message} (RuntimeError)" in written
