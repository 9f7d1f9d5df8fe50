"""`feedbackbot chat`: the real bot in the terminal, driven through its input and output."""

from __future__ import annotations

import fcntl
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bot.cli.chat import CHAT_USER_ID, ChatOptions, _left_out, piped_lines, run_chat
from flows.catalog import FlowDefinitionError
from flows.i18n import translator
from storage.interface import StoreError, StoreInUse
from storage.sqlite_db import hold_lock, release_lock
from tests.harness import deletion_dates, files_contain, product_flow_passing_on, stored_rows

REPO = Path(__file__).resolve().parents[2]
Line = str | Callable[[], str]


class Terminal:
    """Types the scripted lines at each prompt, echoing them like a terminal does."""

    def __init__(self, *lines: Line) -> None:
        self.lines = list(lines)
        self.out = io.StringIO()

    def read(self, prompt: str) -> str:
        if not self.lines:
            raise EOFError
        line = self.lines.pop(0)
        typed = line() if callable(line) else line
        self.out.write(f"{prompt}{typed}\n")
        return typed

    @property
    def transcript(self) -> str:
        return self.out.getvalue()

    def session_folder(self) -> Path:
        match = re.search(r"(?:kept in|liegen in) (\S+) ", self.transcript)
        assert match, self.transcript[:500]
        return Path(match[1])


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No settings from the environment or a .env; temporary folders under tmp_path."""
    for name in list(os.environ):
        if name.startswith("FEEDBACKBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    return temp


def chat(terminal: Terminal, **options: object) -> int:
    return run_chat(ChatOptions(**options), read=terminal.read, out=terminal.out)  # type: ignore[arg-type]


def test_a_german_conversation_with_buttons_and_the_data_export(clean_environment: Path) -> None:
    exported: dict[str, object] = {}

    def read_export() -> str:
        [path] = re.findall(r"Datei gespeichert: (\S+)", terminal.transcript)
        exported.update(json.loads(Path(path).read_text(encoding="utf-8")))
        return "/quit"

    terminal = Terminal("1", "4", "Schnell und freundlich", "2", "/meinedaten", read_export)
    assert chat(terminal, lang="de") == 0
    out = terminal.transcript
    assert "Sie: /start\nBot: Wir möchten gern wissen" in out
    assert "     [1] Ja, ich willige ein   [2] Nein, danke\n" in out
    assert "Verantwortlich: Ihr Unternehmen (Chat-Demo), datenschutz@example.com (Chat-Demo)" in out
    assert "Sie: 1\nBot: Danke, Ihre Einwilligung wurde festgehalten." in out
    assert "     [1]   [2]   [3]   [4]   [5]\n" in out
    assert "Sie: 2\nBot: Vielen Dank für Ihr Feedback!" in out
    assert "Bot: Über Sie gespeicherte Daten" in out
    assert "(wird gelöscht, wenn der Chat endet)" in out
    [feedback] = exported["feedback"]  # type: ignore[misc]
    assert {a["step"]: a["answer"] for a in feedback["answers"]} == {
        "rating": 4,
        "comment": "Schnell und freundlich",
    }
    assert out.rstrip().endswith("Chat beendet; seine Daten wurden gelöscht.")
    assert not terminal.session_folder().exists()
    assert list(clean_environment.iterdir()) == [], "nothing is left behind"


def test_erasure_from_the_chat(tmp_path: Path) -> None:
    data = tmp_path / "kept"
    # Mid-survey its question comes again after the erase question; the erase button
    # above it is pressed by its label (its number would press the newer question's).
    terminal = Terminal("1", "5", "Mein Kommentar", "/loeschen", "alles löschen")
    assert chat(terminal, lang="de", data_dir=data) == 0
    out = terminal.transcript
    assert "     [1] Alles löschen   [2] Daten behalten\n" in out
    assert "Bot: Erledigt. Alles, was über Sie gespeichert war, wurde gelöscht:" in out
    rows = stored_rows(data)
    for table in ("drafts", "consents", "feedback", "contacts"):
        assert rows[f"feedback.db/{table}"] == [], table
    assert rows["keys.db/data_keys"] == [], "the person's key is destroyed"


def test_trying_a_flow_file_shows_its_branches_and_check_marks(tmp_path: Path) -> None:
    flow = tmp_path / "mine.toml"
    flow.write_text((REPO / "flows" / "definitions" / "product.toml").read_text())
    terminal = Terminal("1", "1", "2", "5", "6", "It froze", "7", "2")
    assert chat(terminal, lang="en", flow=flow) == 0
    out = terminal.transcript
    assert "You: /start product\nBot: How do you like our product?" in out
    assert "     [1] ☐ Bugs and crashes\n" in out
    # each toggle said in words too (accessibility review), then the buttons redrawn
    assert "You: 2\n  (Selected: Too slow)\n     [1] ☐ Bugs and crashes\n" in out
    assert (
        "You: 5\n  (Selected: Too expensive)\n     [1] ☐ Bugs and crashes\n     [2] ☑ Too slow\n"
        in out
    )
    assert "     [5] ☑ Too expensive\n     [6] Done\n" in out
    assert "You: 6\nBot: Tell us more: what happened?" in out
    assert "     [0]   [1]   [2]   [3]   [4]   [5]\n     [6]   [7]   [8]   [9]   [10]\n" in out
    assert "Bot: May our support team contact you in this chat" in out
    assert "Bot: Thank you for your product feedback!" in out


def test_a_tried_flows_warning_is_shown_once_in_the_terminals_language(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """It came twice: from the check (German, the file's path), and again from loading the
    session's copy (English, a temporary path)."""
    flow = tmp_path / "mine.toml"
    text = (REPO / "flows" / "definitions" / "feedback.toml").read_text()
    flow.write_text(text.replace('title = "Customer feedback"', 'title = "Ungeprüfter Titel"'))
    terminal = Terminal("/quit")
    assert chat(terminal, lang="de", flow=flow) == 0
    assert terminal.transcript.count("„Ungeprüfter Titel“ steht nicht in den") == 1
    assert f"{flow}:7: Warnung" in terminal.transcript
    assert "Ungeprüfter Titel" not in caplog.text


def test_the_warnings_of_the_operators_own_flows_are_shown_as_check_shows_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by an operator walk-through: a plain `chat` logged their flow's warning in
    English, as a log line with a timestamp, above the banner."""
    flows = tmp_path / "flows"
    flows.mkdir()
    text = (REPO / "flows" / "definitions" / "feedback.toml").read_text()
    flow = flows / "feedback.toml"
    flow.write_text(text.replace('title = "Customer feedback"', 'title = { de = "Kundenumfrage" }'))
    monkeypatch.setenv("FEEDBACKBOT_FLOWS_DIR", str(flows))
    terminal = Terminal("/quit")
    assert chat(terminal, lang="de") == 0
    assert terminal.transcript.startswith(
        f"{flow}:7: Warnung: kein Text auf Englisch; stattdessen wird Deutsch angezeigt\n"
    ), terminal.transcript[:300]
    assert "no English text" not in caplog.text, "not again, in English"


def test_own_flows_that_the_bot_would_refuse_are_not_said_to_have_no_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The review of printing their warnings: with no flow of the id "feedback" (all shipped
    ones left out), "0 errors and 1 warning" came right before the chat's refusal."""
    flows = tmp_path / "flows"
    flows.mkdir()
    text = (REPO / "flows" / "definitions" / "product.toml").read_text()
    (flows / "laden.toml").write_text(
        text.replace('id = "product"', 'id = "laden"').replace(
            'title = { de = "Produktfeedback", en = "Product feedback" }',
            'title = { de = "Ladenbesuch" }',
        )
    )
    monkeypatch.setenv("FEEDBACKBOT_FLOWS_DIR", str(flows))
    monkeypatch.setenv("FEEDBACKBOT_SHIPPED_FLOWS", "none")
    terminal = Terminal("/quit")
    with pytest.raises(FlowDefinitionError, match="feedback"):
        chat(terminal, lang="de")
    assert "0 Fehler" not in terminal.transcript, terminal.transcript


def test_a_flow_passing_feedback_on_is_tried_with_recipients(tmp_path: Path) -> None:
    """Found by review: `check` passed such a flow with a warning, `chat --flow` refused it
    and there was no way to try it but an environment variable no hint named."""
    text = (REPO / "flows" / "definitions" / "product.toml").read_text()
    flow = tmp_path / "shared.toml"
    flow.write_text(product_flow_passing_on(text))
    recipients = tmp_path / "recipients.toml"
    recipients.write_text(
        '[[recipients]]\nid = "acme"\nname = "ACME GmbH"\n'
        'url = "https://acme.example/feedback"\nsecret = "acme-secret-0123456789"\n'
        'purpose = "share_acme"\nfields = ["satisfaction"]\n'
    )
    exported: dict[str, object] = {}

    def read_export() -> str:
        [path] = re.findall(r"File saved: (\S+)", terminal.transcript)
        exported.update(json.loads(Path(path).read_text(encoding="utf-8")))
        return "/quit"

    # agree, 3, a comment, 1 of 10, contact: yes, passing it on: yes
    terminal = Terminal("1", "3", "Geht so", "1", "1", "1", "/mydata", read_export)
    data = tmp_path / "kept"
    assert chat(terminal, lang="en", flow=flow, recipients=recipients, data_dir=data) == 0
    out = terminal.transcript
    assert "You: /start product\nBot: How do you like our product?" in out
    assert "If you agree, ACME GmbH receives your answer" in out  # named as `run` names it
    # ... and nothing passed on (found by review: with the production file, the demo
    # feedback went to the real recipient, signed, and nobody later told it to delete it)
    assert "was passed to" not in out and exported["passed_on"] == [], exported["passed_on"]
    assert stored_rows(data)["feedback.db/deliveries"] == [], "none due either"


def test_a_flow_passing_feedback_on_without_recipients_names_the_chats_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by a flow author's review: the refusal named FEEDBACKBOT_RECIPIENTS_FILE only,
    not the chat's --recipients the README tells them to use."""
    text = (REPO / "flows" / "definitions" / "product.toml").read_text()
    flow = tmp_path / "shared.toml"
    flow.write_text(product_flow_passing_on(text))
    terminal = Terminal("1")
    assert chat(terminal, lang="en", flow=flow) == 1
    said = capsys.readouterr().err.splitlines()
    assert "no recipient in FEEDBACKBOT_RECIPIENTS_FILE names it" in said[0]
    assert said[1] == (
        "feedbackbot: In the chat, give the recipients file with --recipients FILE: "
        "feedbackbot chat --flow FILE --recipients FILE (nothing is delivered in the chat)."
    )
    assert terminal.lines == ["1"], "no chat was started"


def test_a_broken_flow_file_is_explained_and_nothing_starts(tmp_path: Path) -> None:
    flow = tmp_path / "broken.toml"
    text = (REPO / "flows" / "definitions" / "product.toml").read_text()
    flow.write_text(text.replace('goto = "liked"', 'goto = "likd"'))
    terminal = Terminal("1")
    assert chat(terminal, lang="en", flow=flow) == 1
    line = text.splitlines().index('  { if = "satisfaction >= 4", goto = "liked" },') + 1
    assert terminal.transcript == (
        f"{flow}:{line}: error: step 'satisfaction' branches to 'likd', but there is no "
        "such step\n    Did you mean 'liked'?\n1 error and 0 warnings in 1 file.\n"
    )
    assert terminal.lines == ["1"], "no chat was started"


def test_staff_commands_need_the_staff_option() -> None:
    plain = Terminal("/summary")
    chat(plain, lang="en")
    assert "I do not know that command." in plain.transcript
    staff = Terminal("/summary")
    chat(staff, lang="en", staff=True)
    assert "You chat as a member of staff" in staff.transcript
    assert "I do not know that command." not in staff.transcript
    # shown the commands first, not put into the survey (a staff walk-through: "1" meant
    # for the data-handling rules answered its first question)
    assert "You: /help\nBot: " in staff.transcript
    assert "For staff:\n     /summary 7d" in staff.transcript
    assert "Do you agree?" not in staff.transcript


def test_a_chat_on_a_bots_data_folder_sees_no_real_customers_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by an operator's walk-through: the chat was user 100000001, an id a real
    account may have; on the bot's own data folder (which the README allows) its
    /meinedaten showed that customer's feedback, and /loeschen would have erased it."""
    import asyncio
    from datetime import UTC, datetime, timedelta

    from storage import NewFeedback, SQLiteStore
    from storage.crypto import encode_master_key, generate_key
    from storage.interface import ConsentGrant

    data, key = tmp_path / "bot-data", generate_key()
    monkeypatch.setenv("FEEDBACKBOT_MASTER_KEY", encode_master_key(key))
    now = datetime.now(UTC)

    async def a_customer_gives_feedback(user_id: int) -> None:
        store = SQLiteStore(data, key)
        await store.open()
        try:
            grant = ConsentGrant(
                purpose="feedback",
                notice_version="1",
                text_sha256="1" * 64,
                method="button",
                granted_at=now,
            )
            await store.submit_feedback(
                store.pseudonym(f"tg-user:{user_id}"),
                NewFeedback(
                    flow_id="feedback",
                    answers={"rating": 2, "comment": "REALCUSTOMERCOMMENT"},
                    purposes=["feedback"],
                    created_at=now,
                    expires_at=now + timedelta(days=30),
                ),
                [grant],
            )
        finally:
            await store.close()

    for user_id in (100_000_001, 2**52 - 1):  # the chat's old id, the highest there is
        asyncio.run(a_customer_gives_feedback(user_id))
    terminal = Terminal("/mydata")
    assert chat(terminal, lang="en", data_dir=data) == 0
    assert "REALCUSTOMERCOMMENT" not in terminal.transcript
    assert "No data is stored about you" in terminal.transcript, terminal.transcript
    assert CHAT_USER_ID >= 2**52, "no Telegram account's id (they have 52 bits at most)"


def test_a_data_dir_keeps_the_conversation_for_the_next_chat(tmp_path: Path) -> None:
    data = tmp_path / "kept"
    first = Terminal("1")
    assert chat(first, lang="en", data_dir=data) == 0
    assert f"Data is kept in {data}." in first.transcript
    assert {"feedback.db", "keys.db", "master.key"} <= {p.name for p in data.iterdir()}
    assert not (data / "space.reserve").exists(), "4 MB kept for the bot's store only"
    assert not files_contain(data, str(CHAT_USER_ID).encode())
    second = Terminal()
    assert chat(second, lang="en", data_dir=data) == 0
    assert "Let's continue where you left off." in second.transcript
    assert f"Chat ended; its data is kept in {data}." in second.transcript


def test_a_kept_data_dir_refuses_a_retention_that_would_cut_its_feedback_short(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`run` refused FEEDBACKBOT_RETENTION=180 (seconds, meant as days) over stored
    feedback; `chat` on the same store moved every deletion date forward (review)."""
    data = tmp_path / "kept"
    assert chat(Terminal("1", "4", "Schnell", "2"), lang="en", data_dir=data) == 0

    before = deletion_dates(data)
    assert len(before) == 1
    monkeypatch.setenv("FEEDBACKBOT_RETENTION", "180")
    with pytest.raises(StoreError, match="would delete 1 feedback already stored within it"):
        chat(Terminal(), lang="en", data_dir=data)
    assert deletion_dates(data) == before
    monkeypatch.setenv("FEEDBACKBOT_RETENTION", "180d")  # as meant
    assert chat(Terminal(), lang="en", data_dir=data) == 0
    assert deletion_dates(data) == before


def test_typed_numbers_without_such_a_button_are_sent_as_text() -> None:
    terminal = Terminal("1", "9")
    chat(terminal, lang="en")
    assert "You: 9\nBot: Please tap a button, or type a number from 1 to 5." in terminal.transcript


def piped_chat(tmp_path: Path, typed: str, **settings: str) -> subprocess.CompletedProcess[str]:
    """`python -m bot chat --lang en` with `typed` piped in, no FEEDBACKBOT_ setting but
    `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDBACKBOT_")}
    env |= {"PYTHONPATH": str(REPO), "TMPDIR": str(tmp_path), **settings}
    return subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--lang", "en"],
        input=typed,
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_python_m_bot_chat_with_piped_input(tmp_path: Path) -> None:
    result = piped_chat(tmp_path, "1\n5\n")
    assert result.returncode == 0, result.stderr
    assert "You: /start\nBot: We would like to hear" in result.stdout
    assert "You: 1\nBot: Thank you, your consent has been recorded." in result.stdout
    assert "You: 5\nBot: What should we know?" in result.stdout
    assert result.stdout.rstrip().endswith("Chat ended; its data has been deleted.")
    assert not list(tmp_path.glob("feedbackbot-chat-*"))


def test_a_chat_whose_output_is_closed_ends_and_leaves_nothing(tmp_path: Path) -> None:
    """`feedbackbot chat | head` (found by an operator walk-through): the banner written to
    a pipe already closed left the store open, and the chat waited at exit for its thread
    for good, holding the data folder's lock."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDBACKBOT_")}
    env |= {"PYTHONPATH": str(REPO), "TMPDIR": str(tmp_path)}
    reader, writer = os.pipe()
    os.close(reader)  # nobody reads: the first write fails as under `| head`
    with os.fdopen(writer, "w") as closed:
        done = subprocess.run(
            [sys.executable, "-m", "bot", "chat", "--lang", "en"],
            input="/quit\n",
            env=env,
            cwd=tmp_path,
            stdout=closed,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,  # (it never ended: a hang, not a slow machine, fails here)
            check=False,
        )
    assert done.returncode == 141, done.stderr
    assert done.stderr == "", done.stderr
    assert not list(tmp_path.glob("feedbackbot-chat-*")), "its folder is gone"


def test_a_chat_ended_right_after_a_feedback_with_an_alert_ends_cleanly(tmp_path: Path) -> None:
    """Found by an operator walk-through: ended right after the last answer, the alert
    under way to the stand-in staff chat failed ("sending failed, may have arrived") and
    was not audited for a store already closed; chat now lets it finish, as `run` does."""
    settings = {
        "FEEDBACKBOT_STAFF_CHAT_ID": "-100123",
        "FEEDBACKBOT_ALERT_THRESHOLD": "4",
        "FEEDBACKBOT_STAFF_IDS": "1",
    }
    for _ in range(3):  # it failed about two times in three
        result = piped_chat(tmp_path, "1\n2\nThe breakfast was cold\n1\n", **settings)
        assert result.returncode == 0, result.stderr
        assert "Thank you for your feedback!" in result.stdout
        assert "ERROR" not in result.stderr, result.stderr


@pytest.mark.parametrize(("level", "logged"), [(None, False), ("DEBUG", True)])
def test_the_log_level_set_counts_in_the_chat_too(
    tmp_path: Path, level: str | None, logged: bool
) -> None:
    """Found by an operator's walk-through: FEEDBACKBOT_LOG_LEVEL=DEBUG, set to see why a
    flow misbehaves, logged nothing in the chat. Set, it counts (on stderr, the chat on
    stdout as before, the comment in neither log line); unset, the chat logs warnings only."""
    settings = {} if level is None else {"FEEDBACKBOT_LOG_LEVEL": level}
    result = piped_chat(tmp_path, "1\n5\nKellner Zweistein war unfreundlich\n", **settings)
    assert result.returncode == 0, result.stderr
    assert "You: Kellner Zweistein war unfreundlich\nBot:" in result.stdout
    assert (" DEBUG storage: migration applied" in result.stderr) is logged, result.stderr
    assert "Zweistein" not in result.stderr and " DEBUG " not in result.stdout


def test_a_data_folder_in_use_is_refused_before_the_banner(tmp_path: Path) -> None:
    """Found by an operator's walk-through: the banner ("Data is kept in …") came first,
    and the refusal of the store in use after it, as if the chat had begun."""
    data = tmp_path / "data"
    descriptor = hold_lock(data)
    assert descriptor is not None
    try:
        terminal = Terminal("1")
        with pytest.raises(StoreInUse):
            chat(terminal, lang="en", data_dir=data)
        assert "feedbackbot chat:" not in terminal.transcript, terminal.transcript
        assert "Data is kept in" not in terminal.transcript
    finally:
        release_lock(descriptor)
    terminal = Terminal("1")
    assert chat(terminal, lang="en", data_dir=data) == 0, "once the other process has ended"
    assert terminal.transcript.startswith("feedbackbot chat: the real bot"), terminal.transcript


def test_a_flow_that_is_not_a_file_is_refused(tmp_path: Path) -> None:
    terminal = Terminal()
    assert chat(terminal, lang="en", flow=tmp_path) == 1
    assert terminal.transcript.startswith(f"{tmp_path}:1: error: cannot be read: is a folder")


def test_a_flow_the_bot_runs_is_started_by_its_id() -> None:
    """The id of a flow the bot runs was refused as a file ("product: error: does not
    exist")."""
    terminal = Terminal("1", "2")
    assert chat(terminal, lang="en", flow=Path("Product")) == 0
    assert "How do you like our product?" in terminal.transcript
    assert "You: 2\nBot: What went wrong?" in terminal.transcript
    terminal = Terminal()
    assert chat(terminal, lang="en", flow=Path("produkt")) == 1
    assert terminal.transcript.startswith("produkt: error: does not exist"), terminal.transcript


def test_a_shipped_flow_left_out_is_named_as_such(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by an operator walk-through: with FEEDBACKBOT_SHIPPED_FLOWS=feedback, "--flow
    product" was "product: does not exist" and a hint about relative paths."""
    monkeypatch.setenv("FEEDBACKBOT_SHIPPED_FLOWS", "feedback")
    terminal = Terminal()
    assert chat(terminal, lang="de", flow=Path("product")) == 1
    assert terminal.transcript == "", "nothing of a file"
    assert capsys.readouterr().err == (
        "feedbackbot: „product“ ist ein mit feedbackbot mitgelieferter Ablauf, den "
        "FEEDBACKBOT_SHIPPED_FLOWS nicht aufführt (dort steht „feedback“): Nehmen Sie ihn dort "
        "auf, um mit ihm zu chatten, oder geben Sie den Pfad einer Ablaufdatei an\n"
    )
    # none shipped: said as it is, not "none" in a German sentence (review)
    said = _left_out(Path("product"), SimpleNamespace(shipped_flows=()), translator("en"))  # type: ignore[arg-type]
    assert said is not None and "FEEDBACKBOT_SHIPPED_FLOWS leaves out (it is “”)" in said


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_chat_ended_by_a_signal_leaves_no_folder_behind(tmp_path: Path, signum: int) -> None:
    """Closing the terminal (SIGHUP) or a kill (SIGTERM) used to leave the session's
    folder, store files included, in the temp dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDBACKBOT_")}
    env |= {"PYTHONPATH": str(REPO), "TMPDIR": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "chat", "--lang", "en"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=tmp_path,
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(b"1\n")  # stays open: the chat waits for the next line
    process.stdin.flush()
    while b"How satisfied" not in process.stdout.readline():
        assert process.poll() is None, "the chat ended before the question"
    assert list(tmp_path.glob("feedbackbot-chat-*")), "the session folder exists meanwhile"
    process.send_signal(signum)
    process.wait(timeout=30)
    assert not list(tmp_path.glob("feedbackbot-chat-*"))


class Interrupted(Exception):
    pass


@pytest.mark.skipif(os.name == "nt", reason="piped input is read with input() on Windows")
def test_a_signal_that_lands_outside_the_wait_for_piped_input_still_ends_it() -> None:
    """CI once hung here: a SIGHUP that reaches the process just before the blocking read
    of the next piped line (or in another thread) ran its Python handler only when a line
    came, and the pipe stayed open. The signal is sent to another thread here, which
    never interrupts the main thread's read: the handler must run all the same."""
    read_end, write_end = os.pipe()
    prompted = threading.Event()
    read_ended = threading.Event()
    typed_late = threading.Event()

    class Out(io.StringIO):
        def flush(self) -> None:
            prompted.set()

    def signal_elsewhere_then_type_late() -> None:
        prompted.wait(10)
        signal.pthread_kill(threading.get_ident(), signal.SIGUSR1)
        # Without the fix only a line ends the wait: type one after a generous while.
        if not read_ended.wait(20):
            typed_late.set()
            os.write(write_end, b"typed long after the signal\n")

    def interrupt(signum: int, frame: object) -> None:
        raise Interrupted

    previous = signal.signal(signal.SIGUSR1, interrupt)
    helper = threading.Thread(target=signal_elsewhere_then_type_late)
    try:
        with open(read_end, encoding="utf-8", closefd=False) as stdin:
            read = piped_lines(stdin, Out())
            helper.start()
            with pytest.raises(Interrupted):
                read("You: ")
        assert not typed_late.is_set(), "the handler ran only once a line came"
    finally:
        read_ended.set()
        helper.join()
        signal.signal(signal.SIGUSR1, previous)
        os.close(read_end)
        os.close(write_end)


def test_piped_lines_are_echoed_and_bytes_that_are_not_text_shown() -> None:
    read_end, write_end = os.pipe()
    os.write(write_end, b"/help\r\n\xff\xfe\n/datenschutz")
    os.close(write_end)
    out = io.StringIO()
    with open(read_end, encoding="utf-8") as stdin:
        read = piped_lines(stdin, out)
        lines = [read("You: "), read("You: "), read("You: ")]
        with pytest.raises(EOFError):
            read("You: ")
    assert lines == ["/help", "\ufffd\ufffd", "/datenschutz"]
    assert out.getvalue() == "You: /help\nYou: \ufffd\ufffd\nYou: /datenschutz\nYou: "


def test_a_pause_in_piped_input_is_waited_through(monkeypatch: pytest.MonkeyPatch) -> None:
    """Input piped from a script that thinks between lines, or a line that comes in two
    writes: the chat waits for the whole line, however many checks for signals pass."""
    monkeypatch.setattr("bot.cli.chat.SIGNAL_CHECK_SECONDS", 0.01)
    read_end, write_end = os.pipe()

    def type_slowly() -> None:
        os.write(write_end, b"/he")
        time.sleep(0.2)  # twenty checks for signals
        os.write(write_end, b"lp\n")
        os.close(write_end)

    typist = threading.Thread(target=type_slowly)
    with open(read_end, encoding="utf-8") as stdin:
        read = piped_lines(stdin, io.StringIO())
        typist.start()
        try:
            assert read("You: ") == "/help"
            with pytest.raises(EOFError):
                read("You: ")
        finally:
            typist.join()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_while_the_bot_answers_ends_the_chat_once_it_has_answered(
    monkeypatch: pytest.MonkeyPatch, clean_environment: Path, signum: int
) -> None:
    """A signal raised inside the event loop cut the bot off mid-update (and could leave
    it waiting forever for a result the interrupted loop never delivered): the chat now
    ends at the next prompt, with the answer given and the folder deleted."""
    from bot.fakeapi import FakeBotApi

    handle = FakeBotApi.handle

    def signalling_handle(
        self: FakeBotApi, method: str, params: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        if method == "sendMessage" and "How satisfied" in str(params.get("text")):
            os.kill(os.getpid(), signum)  # the terminal is closed while the bot answers
        return handle(self, method, params, *args, **kwargs)

    monkeypatch.setattr(FakeBotApi, "handle", signalling_handle)
    before = signal.getsignal(signum)
    terminal = Terminal("1", "5")
    with pytest.raises(SystemExit) as ended:
        run_chat(ChatOptions(lang="en"), read=terminal.read, out=terminal.out)
    assert ended.value.code == 128 + signum
    assert "How satisfied are you with our service overall?" in terminal.transcript
    assert "You: 5" not in terminal.transcript, "no further line is read"
    assert not list(clean_environment.glob("feedbackbot-chat-*"))
    assert signal.getsignal(signum) is before


def test_a_flow_named_by_its_id_where_the_flows_do_not_load_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a flow author's review: without the shipped flows and with none of the
    id "feedback", "--flow product" said "product: does not exist" and sent them looking
    for a path; now what the start says, as without --flow."""
    from flows.catalog import FlowDefinitionError

    own = tmp_path / "flows"
    own.mkdir()
    shutil.copy(REPO / "flows" / "definitions" / "product.toml", own / "product.toml")
    monkeypatch.setenv("FEEDBACKBOT_FLOWS_DIR", str(own))
    monkeypatch.setenv("FEEDBACKBOT_SHIPPED_FLOWS", "none")
    terminal = Terminal("/quit")
    with pytest.raises(FlowDefinitionError, match="'feedback'"):
        chat(terminal, lang="en", flow=Path("product"))
    assert "does not exist" not in terminal.transcript


def test_a_broken_flows_folder_is_said_before_any_banner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The banner ("the real bot ... type a message") used to come first, then the error."""
    from flows.catalog import FlowDefinitionError

    broken = tmp_path / "flows"
    broken.mkdir()
    (broken / "mine.toml").write_text("id = [\n")
    monkeypatch.setenv("FEEDBACKBOT_FLOWS_DIR", str(broken))
    terminal = Terminal("/quit")
    with pytest.raises(FlowDefinitionError, match=r"mine\.toml"):
        chat(terminal, lang="en")
    assert terminal.transcript == "", "no banner for a chat that does not start"


def test_a_chat_killed_outright_leaves_nothing_once_the_next_one_starts(
    clean_environment: Path,
) -> None:
    """Found by an operator walk-through: after a `kill -9` of a chat, its folder kept
    /mydata's file with the comment in clear. The next chat removes folders nobody holds;
    a chat running beside it keeps its own."""
    killed = subprocess.Popen(
        [sys.executable, "-m", "bot", "chat", "--lang", "de"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("FEEDBACKBOT_")},
            "PYTHONPATH": str(REPO),
            "TMPDIR": str(clean_environment),
        },
        cwd=clean_environment.parent,
    )
    assert killed.stdin is not None and killed.stdout is not None
    killed.stdin.write(b"1\n4\nQuastenflosser im Pool\n2\n/meinedaten\n")
    killed.stdin.flush()
    stuck = threading.Timer(60, killed.kill)  # never waiting for good
    stuck.start()
    try:
        for line in killed.stdout:
            if b"feedbackbot-data.json" in line:
                break
    finally:
        stuck.cancel()
        killed.kill()
        killed.wait()
    [left] = list(clean_environment.glob("feedbackbot-chat-*"))
    assert files_contain(left, b"Quastenflosser"), "the file in clear, as found"
    running = clean_environment / "feedbackbot-chat-running"
    running.mkdir()
    descriptor = os.open(running / ".alive", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    try:
        assert chat(Terminal("/quit"), lang="de") == 0
        assert sorted(p.name for p in clean_environment.iterdir()) == [running.name]
    finally:
        os.close(descriptor)


def test_a_data_dir_that_is_a_file_is_a_usage_error_naming_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by an operator walk-through: said of FEEDBACKBOT_DATA_DIR, which was not set."""
    from bot.cli import main

    a_file = tmp_path / "export.csv"
    a_file.write_text("rating\n")
    with pytest.raises(SystemExit) as ended:
        main(["chat", "--data-dir", str(a_file)])
    assert ended.value.code == 2
    err = capsys.readouterr().err
    assert err.rstrip().endswith(f"argument --data-dir: {a_file} is not a folder"), err
    assert "FEEDBACKBOT_DATA_DIR" not in err
    assert a_file.read_text() == "rating\n"


def test_a_chat_kept_in_the_bots_own_data_folder_says_what_it_adds_to(
    clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by an operator walk-through: "chat --data-dir data" with the bot stopped
    stored test answers with the customers' feedback, where exports and summaries count
    them, and said only "Data is kept in data"."""
    monkeypatch.setenv("FEEDBACKBOT_DATA_DIR", str(Path.cwd() / "data"))
    terminal = Terminal("/quit")
    assert chat(terminal, lang="en", data_dir=Path("data")) == 0
    assert (
        "Data is kept in data, the bot's own data folder: what you answer here is stored with "
        "your customers' feedback and counted in staff summaries and exports. To try things "
        "out, leave out --data-dir (a temporary folder)."
    ) in terminal.transcript, terminal.transcript
    elsewhere = Terminal("/quit")
    assert chat(elsewhere, lang="en", data_dir=clean_environment / "tried") == 0
    assert f"Data is kept in {clean_environment / 'tried'}.\n" in elsewhere.transcript
