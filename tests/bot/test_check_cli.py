"""`feedbackbot check`: what an author sees, and the exit code CI scripts rely on."""

from __future__ import annotations

import asyncio
import base64
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import service_config
from bot.settings import ConfigurationError, load_settings
from flows.catalog import FlowCatalog
from storage import SQLiteStore
from storage.crypto import encode_master_key, generate_key
from tests.flows.test_check import BAKERY
from tests.harness import TOKEN, bytecode_settings

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "flows" / "definitions"  # where the tests import the package from
PRODUCT = SHIPPED / "product.toml"


def write_variant(tmp_path: Path, name: str, old: str, new: str) -> tuple[Path, int]:
    """product.toml with `old` replaced; the path, and the line the change is on."""
    text = PRODUCT.read_text()
    assert old in text
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1))
    return path, text[: text.index(old)].count("\n") + 1


def test_shipped_definitions_pass(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--lang", "en", str(REPO / "flows" / "definitions")]) == 0
    assert capsys.readouterr().out == "No problems in 2 files.\n"


def test_errors_print_file_line_and_hint_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, line = write_variant(
        tmp_path, "product.toml", 'type = "multiple_choice"', 'type = "multi_choice"'
    )
    assert main(["check", "--lang", "en", str(path)]) == 1
    assert capsys.readouterr().out == (
        f"{path}:{line}: error: unknown step type 'multi_choice'\n"
        "    Did you mean 'multiple_choice'?\n"
        "1 error and 0 warnings in 1 file.\n"
        # Found by review: "every problem" was every problem of a kind, unsaid.
        f"{path}: paths, loops, consent, buttons and translations are checked once the "
        "errors above in it are fixed.\n"
    )


def test_warnings_alone_exit_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, line = write_variant(
        tmp_path,
        "product.toml",
        'title = { de = "Produktfeedback", en = "Product feedback" }',
        'title = { de = "Produktfeedback" }',
    )
    assert main(["check", "--lang", "de", str(path)]) == 0
    assert capsys.readouterr().out == (
        f"{path}:{line}: Warnung: kein Text auf Englisch; stattdessen wird Deutsch angezeigt\n"
        '    Ergänzen Sie en = "..." bei diesem Text.\n'
        "0 Fehler und 1 Warnung in 1 Datei.\n"
    )


def test_every_file_is_checked_and_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    loop, loop_line = write_variant(
        tmp_path, "loop.toml", 'next = "recommend"', 'next = "satisfaction"'
    )
    missing = tmp_path / "missing.toml"
    assert main(["check", "--lang", "en", str(PRODUCT), str(loop), str(missing)]) == 1
    out = capsys.readouterr().out
    assert f"{loop}:{loop_line}: error: a loop: satisfaction → improve → satisfaction\n" in out
    assert f"{missing}: error: does not exist\n" in out
    assert out.endswith("in 3 files.\n")


def test_python_m_bot_check_exit_code(tmp_path: Path) -> None:
    path, _ = write_variant(tmp_path, "p.toml", 'goto = "problems"', 'goto = "problem"')
    result = subprocess.run(
        [sys.executable, "-m", "bot", "check", "--lang", "en", str(path)],
        cwd=tmp_path,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", **bytecode_settings()},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "error: step 'satisfaction' branches to 'problem', but there is no such step" in (
        result.stdout
    )


def test_the_readme_documents_check_and_chat() -> None:
    readme = (REPO / "README.md").read_text()
    for text in (
        "feedbackbot check",
        "feedbackbot chat",
        "--flow",
        "--lang",
        "--data-dir",
        "--staff",
        "multiple_choice",
        "skip_if",
        "next = ",
    ):
        assert text in readme, f"{text} is not documented in the README"


SHARING = """
[[purposes]]
id = "share_acme"
shares_feedback = true
label = { de = "Weitergabe an ACME", en = "Passing it to ACME" }
description = { de = "Weitergabe an ACME GmbH", en = "Passing it to ACME GmbH" }
"""
ACME = """
[[recipients]]
id = "acme"
name = "ACME GmbH"
url = "https://acme.example/feedback"
secret = "acme-secret-0123456789"
purpose = "share_acme"
fields = ["rating"]
"""


def test_a_purpose_passing_feedback_on_is_checked_against_the_recipients(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bot does not start with a purpose that passes feedback on and no recipient for
    it: `check` passed it (found by review: the README said it reported it)."""
    monkeypatch.delenv("FEEDBACKBOT_RECIPIENTS_FILE", raising=False)
    text = PRODUCT.read_text()
    marker = "\n[[steps]]"
    path = tmp_path / "product.toml"
    asked = (
        '[[steps]]\nid = "acme"\ntype = "consent"\npurpose = "share_acme"\n'
        'prompt = { de = "Weitergeben?", en = "Pass it on?" }\n\n[[steps]]\nid = "thanks"'
    )
    shared = text.replace(marker, SHARING + marker, 1)
    path.write_text(shared.replace('[[steps]]\nid = "thanks"', asked))
    # On the purpose's line (found by review: the flow's first line).
    rows = path.read_text().splitlines()
    line = rows.index('id = "share_acme"') + 1
    assert main(["check", "--lang", "en", str(path)]) == 0, "without the file: a warning"
    assert capsys.readouterr().out == (
        f"{path}:{line}: warning: the purpose 'share_acme' passes feedback on: the bot starts "
        "only with a recipient for it in FEEDBACKBOT_RECIPIENTS_FILE\n"
        "    Check against that file with --recipients FILE; `feedbackbot chat --flow FILE "
        "--recipients FILE` tries the flow with it.\n"
        "0 errors and 1 warning in 1 file.\n"
    )
    others = tmp_path / "others.toml"
    others.write_text(ACME.replace('purpose = "share_acme"', "internal = true"))
    monkeypatch.setenv("FEEDBACKBOT_RECIPIENTS_FILE", str(others))
    assert main(["check", "--lang", "en", str(path)]) == 1
    assert capsys.readouterr().out.splitlines()[:2] == [
        f"{path}:{line}: error: the purpose 'share_acme' passes feedback on, but no recipient "
        f"in {others} names it",
        '    Add a recipient with purpose = "share_acme", or remove the purpose and its consent '
        "step: the bot does not start like this.",
    ]
    broken = tmp_path / "broken.toml"
    broken.write_text(ACME.replace('purpose = "share_acme"\n', ""))
    assert main(["check", "--lang", "en", "--recipients", str(broken), str(path)]) == 1
    assert "set either internal = true" in capsys.readouterr().out, "why the file is no use"
    acme = tmp_path / "acme.toml"
    acme.write_text(ACME)
    assert main(["check", "--lang", "en", "--recipients", str(acme), str(path)]) == 0
    assert capsys.readouterr().out == "No problems in 2 files.\n", "the flow and the recipients"


@pytest.mark.parametrize(
    ("written", "meant"),
    [("single_choice", "choice"), ("single choice", "choice"), ("stars", "rating")],
)
def test_a_step_type_named_as_other_tools_do_gets_the_type_meant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], written: str, meant: str
) -> None:
    path, line = write_variant(
        tmp_path, "product.toml", 'type = "multiple_choice"', f'type = "{written}"'
    )
    assert main(["check", "--lang", "en", str(path)]) == 1
    assert f":{line}: error: unknown step type '{written}'\n    Did you mean '{meant}'?\n" in (
        capsys.readouterr().out
    )


def _general_survey_with_no_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Settings ready to run the shipped general survey, no master key given, the data
    folder in `tmp_path`; that folder."""
    monkeypatch.delenv("FEEDBACKBOT_FLOWS_DIR", raising=False)
    monkeypatch.setenv("FEEDBACKBOT_SHIPPED_FLOWS", "feedback")
    ready_to_run(monkeypatch)
    data = tmp_path / "data"
    monkeypatch.setenv("FEEDBACKBOT_DATA_DIR", str(data))
    monkeypatch.delenv("FEEDBACKBOT_MASTER_KEY", raising=False)
    return data


def ready_to_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """The settings `run` needs, and those that let staff answer whom the shipped flows
    ask for consent to be contacted."""
    for name, value in {
        "TOKEN": TOKEN,
        "CONTROLLER_NAME": "Beispiel GmbH",
        "CONTROLLER_CONTACT": "datenschutz@beispiel.de",
        "STAFF_CHAT_ID": "-1001234",
        "ALERT_THRESHOLD": "2",
        "STAFF_IDS": "4242",
        "SUPPORT_CONTACT": "service@beispiel.de",
    }.items():
        monkeypatch.setenv(f"FEEDBACKBOT_{name}", value)


def test_a_support_contact_left_to_the_controllers_is_warned_of(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a staff walk-through: a customer answered by staff was told to write to
    the controller's contact, the data protection mailbox, which got "Geht Mittwoch?"."""
    monkeypatch.chdir(tmp_path)
    ready_to_run(monkeypatch)
    monkeypatch.delenv("FEEDBACKBOT_SUPPORT_CONTACT")
    assert main(["check", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert (
        "FEEDBACKBOT_SUPPORT_CONTACT: warning: not set: a customer answered by staff, or "
        "writing after the survey, is told to write to the controller's contact "
        "(datenschutz@beispiel.de); if that is the address for data protection, set this to "
        "where customer service is reached"
    ) in out, out
    monkeypatch.setenv("FEEDBACKBOT_SUPPORT_CONTACT", "service@beispiel.de")
    assert main(["check", "--lang", "en"]) == 0
    assert "FEEDBACKBOT_SUPPORT_CONTACT" not in capsys.readouterr().out


def test_recipients_are_checked_against_every_flow_the_bot_loads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A recipient for another flow of FEEDBACKBOT_FLOWS_DIR is no error when one flow of
    the folder is checked (found by review: only the checked files and the shipped ones
    were loaded)."""
    text = PRODUCT.read_text()
    marker = "\n[[steps]]"
    asked = (
        '[[steps]]\nid = "acme"\ntype = "consent"\npurpose = "share_acme"\n'
        'prompt = { de = "Weitergeben?", en = "Pass it on?" }\n\n[[steps]]\nid = "thanks"'
    )
    shared = text.replace(marker, SHARING + marker, 1).replace('[[steps]]\nid = "thanks"', asked)
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "product.toml").write_text(shared)
    other = shared.replace('id = "product"', 'id = "device"', 1).replace("share_acme", "share_oem")
    (flows / "device.toml").write_text(other.replace("ACME", "OEM"))
    recipients = tmp_path / "recipients.toml"
    recipients.write_text(ACME + ACME.replace('"acme"', '"oem"').replace("share_acme", "share_oem"))
    monkeypatch.setenv("FEEDBACKBOT_FLOWS_DIR", str(flows))
    ready_to_run(monkeypatch)
    checked = [
        "check",
        "--lang",
        "en",
        "--recipients",
        str(recipients),
        str(flows / "product.toml"),
    ]
    assert main(checked) == 0, capsys.readouterr().out
    assert capsys.readouterr().out == "No problems in 2 files.\n"
    # Without FILE, every flow the bot loads (found by review: `check --recipients FILE`,
    # as the README gives it, stopped at "FILE required").
    assert main(checked[:-1]) == 0, capsys.readouterr().out
    # The recipients, the folder's two and the shipped feedback flow (product is replaced),
    # each flow named with its file.
    assert capsys.readouterr().out == (
        "The flows the bot loads:\n"
        f"  device    {flows / 'device.toml'}\n"
        f"  product   {flows / 'product.toml'}\n"
        f"  feedback  shipped with feedbackbot: {SHIPPED / 'feedback.toml'}\n"
        f"The data folder: {Path('data').absolute()} (no store there yet: `feedbackbot run` "
        "makes one)\n"
        "No problems in 4 files.\n"
    )
    (flows / "device.toml").write_text(other.replace('type = "rating"', 'type = "ratings"', 1))
    assert main(checked[:-1]) == 1
    assert f"{flows / 'device.toml'}:" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("lang", "loaded", "shipped", "folder", "fine"),
    [
        (
            "en",
            "The flows the bot loads:",
            "shipped with feedbackbot",
            "The data folder: {path} (no store there yet: `feedbackbot run` makes one)",
            "No problems in 1 file.",
        ),
        (
            "de",
            "Die Abläufe, die der Bot lädt:",
            "mit feedbackbot mitgeliefert",
            "Der Datenordner: {path} (noch kein Speicher darin: `feedbackbot run` legt einen an)",
            "Keine Probleme in 1 Datei.",
        ),
    ],
)
def test_without_files_the_shipped_flows_the_bot_runs_are_checked(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    lang: str,
    loaded: str,
    shipped: str,
    folder: str,
    fine: str,
    tmp_path: Path,
) -> None:
    """Each named as shipped, with the file where it is installed: "flows/definitions/…",
    as it was named, is the path in a source clone, and nowhere on a bot installed with pip
    (found walking the README); the file is the one to copy to FEEDBACKBOT_FLOWS_DIR."""
    monkeypatch.delenv("FEEDBACKBOT_FLOWS_DIR", raising=False)
    monkeypatch.setenv("FEEDBACKBOT_SHIPPED_FLOWS", "feedback")
    ready_to_run(monkeypatch)
    monkeypatch.setenv("FEEDBACKBOT_DATA_DIR", str(tmp_path / "data"))
    assert main(["check", "--lang", lang]) == 0
    assert capsys.readouterr().out == (
        f"{loaded}\n  feedback  {shipped}: {SHIPPED / 'feedback.toml'}\n"
        f"{folder.format(path=tmp_path / 'data')}\n{fine}\n"
    )
    assert (SHIPPED / "feedback.toml").is_file()


def test_without_files_the_settings_run_refuses_without_are_warned_of(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by an operator's review: `check` said "No problems", then `run` refused for
    want of the controller's name. Warnings (exit 0): where `check` runs may lack the
    token the bot has."""
    monkeypatch.delenv("FEEDBACKBOT_FLOWS_DIR", raising=False)
    monkeypatch.setenv("FEEDBACKBOT_SHIPPED_FLOWS", "feedback")
    ready_to_run(monkeypatch)
    for name in ("CONTROLLER_NAME", "STAFF_IDS"):
        monkeypatch.delenv(f"FEEDBACKBOT_{name}")
    assert main(["check", "--lang", "en"]) == 0
    assert capsys.readouterr().out.splitlines()[3:] == [
        "FEEDBACKBOT_CONTROLLER_NAME: warning: not set; feedbackbot run does not start without it",
        "FEEDBACKBOT_STAFF_CHAT_ID, FEEDBACKBOT_ALERT_THRESHOLD, FEEDBACKBOT_STAFF_IDS: "
        "warning: a survey that asks for consent to be contacted (feedback) needs all three "
        "settings, or staff cannot answer anyone",
        "    Set all three, or remove the contact question from these flows (a shipped one: "
        "leave it out with FEEDBACKBOT_SHIPPED_FLOWS, or put a copy of its file without the "
        "question in FEEDBACKBOT_FLOWS_DIR, where it replaces it).",
        "0 errors and 2 warnings in 1 file.",
    ]


def test_without_files_a_token_or_master_key_run_refuses_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by an operator's walk-through: `check` passed the README's placeholder token
    and a key file that could not be read, then `run` refused both. Nothing is made: no key
    file, no data folder."""
    data = _general_survey_with_no_key(monkeypatch, tmp_path)
    monkeypatch.setenv("FEEDBACKBOT_TOKEN", "123456:ABC...")
    monkeypatch.setenv("FEEDBACKBOT_MASTER_KEY_FILE", str(tmp_path / "missing.key"))
    assert main(["check", "--lang", "en"]) == 1
    out = capsys.readouterr().out
    assert (
        "FEEDBACKBOT_TOKEN: error: is not a bot token as @BotFather gives it (digits, a colon, "
        "then letters, digits, _ and -)"
    ) in out
    assert "123456:ABC" not in out
    missing = tmp_path / "missing.key"
    assert f"FEEDBACKBOT_MASTER_KEY_FILE: error: cannot read master key file {missing}:" in out
    assert "2 errors and 0 warnings" in out, out
    assert not data.exists()
    # A key that is a password: warned of, as every command that opens the store does.
    monkeypatch.setenv("FEEDBACKBOT_TOKEN", TOKEN)
    monkeypatch.delenv("FEEDBACKBOT_MASTER_KEY_FILE")
    password = base64.urlsafe_b64encode(b"passwordpasswordpasswordpassword").decode()
    monkeypatch.setenv("FEEDBACKBOT_MASTER_KEY", password)
    assert main(["check", "--lang", "en"]) == 0
    assert (
        "FEEDBACKBOT_MASTER_KEY: warning: the master key is not random" in capsys.readouterr().out
    )
    # Without any key `run` makes one; `check` does not.
    monkeypatch.delenv("FEEDBACKBOT_MASTER_KEY")
    assert main(["check", "--lang", "en"]) == 0
    assert "MASTER_KEY" not in capsys.readouterr().out
    assert not data.exists()


async def test_without_files_a_key_that_does_not_open_the_store_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by an operator walk-through: `check` said "No problems" of another store's
    key, and of a generated key file others can read; `run` refused the one and warned of
    the other. Nothing in the data folder is changed."""
    data = _general_survey_with_no_key(monkeypatch, tmp_path)
    monkeypatch.delenv("FEEDBACKBOT_MASTER_KEY_FILE", raising=False)
    store = SQLiteStore(data, generate_key())
    await store.open()
    await store.close()
    other = tmp_path / "other.key"
    other.write_text(encode_master_key(generate_key()) + "\n")
    other.chmod(0o600)
    monkeypatch.setenv("FEEDBACKBOT_MASTER_KEY_FILE", str(other))
    before = {p.name: p.read_bytes() for p in data.iterdir()}
    assert main(["check", "--lang", "en"]) == 1
    out = capsys.readouterr().out
    assert (
        f"FEEDBACKBOT_MASTER_KEY_FILE: error: the master key does not open the key store "
        f"{data / 'keys.db'}"
    ) in out, out
    assert {p.name: p.read_bytes() for p in data.iterdir()} == before, "nothing written"
    # the bot's own key file, open to others: warned of, and named, as `run` warns
    monkeypatch.delenv("FEEDBACKBOT_MASTER_KEY_FILE")
    right = generate_key()
    data2 = tmp_path / "data2"
    store = SQLiteStore(data2, right)
    await store.open()
    await store.close()
    (data2 / "master.key").write_text(encode_master_key(right) + "\n")
    (data2 / "master.key").chmod(0o644)
    monkeypatch.setenv("FEEDBACKBOT_DATA_DIR", str(data2))
    assert main(["check", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert (
        f"{data2 / 'master.key'}: warning: master key file {data2 / 'master.key'} can be read "
        "by others (mode 644); chmod 600 it"
    ) in out, out
    assert "0 errors and 1 warning" in out, out


def test_without_files_what_the_flows_folder_holds_besides_flows_is_warned_of(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by an operator's walk-through: "survey.yaml" and "Mine.TOML" in the flows
    folder were left unloaded without a word, the check counting only the shipped flows."""
    flows = tmp_path / "flows"
    flows.mkdir()
    for name in ("survey.yaml", "Mine.TOML", ".hidden"):
        (flows / name).write_text("id = 'mine'\n")
    (flows / "old").mkdir()
    (flows / "sub").mkdir()  # (a flow in a folder in it: found by a flow author's walk-through)
    (flows / "sub" / "kantine.toml").write_text(BAKERY, encoding="utf-8")
    monkeypatch.setenv("FEEDBACKBOT_FLOWS_DIR", str(flows))
    monkeypatch.setenv("FEEDBACKBOT_SHIPPED_FLOWS", "feedback")
    ready_to_run(monkeypatch)
    assert main(["check", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    not_loaded = "warning: not loaded: the bot loads only the files ending in .toml of this folder"
    assert f"{flows / 'Mine.TOML'}: {not_loaded}" in out
    assert f"{flows / 'survey.yaml'}: {not_loaded}" in out
    assert (
        f"{flows / 'sub'}: warning: not loaded: the bot loads only the flows of the folder "
        "itself, not of folders in it"
    ) in out
    assert ".hidden" not in out and f"{flows / 'old'}" not in out
    assert (
        f"{flows}: warning: FEEDBACKBOT_FLOWS_DIR holds no flow definitions (*.toml), so the "
        "bot runs the shipped flows only"
    ) in out
    assert "0 errors and 4 warnings" in out, out
    # with no shipped flow either, that no flow loads is the error alone (review)
    monkeypatch.setenv("FEEDBACKBOT_SHIPPED_FLOWS", "none")
    assert main(["check", "--lang", "en"]) == 1
    out = capsys.readouterr().out
    assert "no flow with id 'feedback'" in out and "holds no flow definitions" not in out, out
    monkeypatch.setenv("FEEDBACKBOT_SHIPPED_FLOWS", "feedback")
    (flows / "mine.toml").write_text(BAKERY, encoding="utf-8")
    assert main(["check", "--lang", "en"]) == 0
    assert "holds no flow definitions" not in capsys.readouterr().out


def test_an_editors_hidden_files_in_the_flows_folder_are_not_flows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a flow author's walk-through: the lock file Emacs keeps beside a file open
    (".#survey.toml", a link to nowhere) or a macOS copy's "._survey.toml" was loaded as a
    flow, and the bot did not start ("cannot be read: no such file or folder")."""
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "mine.toml").write_text(BAKERY, encoding="utf-8")
    (flows / ".#mine.toml").symlink_to("user@host.1234:1700000000")
    (flows / "._mine.toml").write_bytes(b"\x00\x05\x16\x07Mac OS X")
    monkeypatch.setenv("FEEDBACKBOT_FLOWS_DIR", str(flows))
    monkeypatch.setenv("FEEDBACKBOT_SHIPPED_FLOWS", "feedback")
    ready_to_run(monkeypatch)
    assert main(["check", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "0 errors" in out and ".#mine" not in out and "._mine" not in out, out
    assert main(["check", "--lang", "en", str(flows)]) == 0
    assert "0 errors" in capsys.readouterr().out
    catalog = FlowCatalog.load(extra_dir=flows, shipped=["feedback"])
    assert set(catalog.flows) == {"feedback", "baeckerei"}


RECIPIENTS_FILE = """
[[recipients]]
id = "crm"
name = "Unser CRM"
url = "https://crm.example.com/hooks/feedback"
secret = "at least 16 characters, shared with the receiver"
internal = true
fields = ["rating"]
"""


def test_a_recipients_or_staff_rules_file_among_the_flows_is_named_for_what_it_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Left by session 65: the recipients file put in the flows folder got six errors of
    the keys a flow lacks ("'title' is missing", "unknown key 'recipients'"), and `run`
    refused to start with them; the staff rules likewise."""
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "recipients.toml").write_text(RECIPIENTS_FILE, encoding="utf-8")
    (flows / "regeln.toml").write_text('de = "Keine Namen."\nen = "No names."\n', "utf-8")
    monkeypatch.setenv("FEEDBACKBOT_FLOWS_DIR", str(flows))
    ready_to_run(monkeypatch)
    assert main(["check", "--lang", "de"]) == 1
    out = capsys.readouterr().out
    assert (
        f"{flows / 'recipients.toml'}:1: Fehler: dies ist eine Empfängerdatei, kein Ablauf\n"
        "    Verschieben Sie sie aus dem Ordner der Abläufe (FEEDBACKBOT_FLOWS_DIR), der nur "
        "Abläufe enthält, und nennen Sie sie in FEEDBACKBOT_RECIPIENTS_FILE."
    ) in out, out
    assert (
        f"{flows / 'regeln.toml'}:1: Fehler: dies sieht wie eine Datei mit Regeln für das Team "
        "aus, kein Ablauf\n"
    ) in out, out
    assert "2 Fehler und 0 Warnungen" in out and "fehlt" not in out, out
    assert "sobald die Fehler darin oben behoben sind" not in out, out
    # a flow with its steps among its mistakes is still checked as a flow
    (flows / "regeln.toml").unlink()
    (flows / "recipients.toml").write_text(BAKERY + RECIPIENTS_FILE, encoding="utf-8")
    assert main(["check", "--lang", "en"]) == 1
    out = capsys.readouterr().out
    assert "unknown key 'recipients'" in out and "recipients file" not in out, out


def test_a_surveys_retention_beyond_the_audit_trails_is_refused_or_followed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a flow author's walk-through: a survey's own retention of 3000 days
    outlasted the audit trail's four years without a word, while FEEDBACKBOT_RETENTION so
    long was refused ("audit entries about feedback must not go before the feedback")."""
    flows = tmp_path / "flows"
    flows.mkdir()
    long_kept = BAKERY.replace("required = true", 'required = true\nretention = "3000d"', 1)
    (flows / "baeckerei.toml").write_text(long_kept, encoding="utf-8")
    monkeypatch.setenv("FEEDBACKBOT_FLOWS_DIR", str(flows))
    monkeypatch.setenv("FEEDBACKBOT_SHIPPED_FLOWS", "feedback")
    ready_to_run(monkeypatch)
    monkeypatch.setenv("FEEDBACKBOT_AUDIT_RETENTION", "1461d")
    assert main(["check", "--lang", "en"]) == 1
    assert (
        "FEEDBACKBOT_AUDIT_RETENTION: error: FEEDBACKBOT_AUDIT_RETENTION (1,461 days) is shorter "
        "than the retention of the survey baeckerei (3,000 days): audit entries about feedback "
        "must not go before the feedback"
    ) in capsys.readouterr().out
    settings = load_settings()
    catalog = FlowCatalog.load(flows, shipped=["feedback"])
    with pytest.raises(ConfigurationError, match="shorter than the retention of the survey"):
        service_config(settings, catalog)  # as `run` starts
    # Unset, the trail follows the longest survey, as it follows FEEDBACKBOT_RETENTION
    monkeypatch.delenv("FEEDBACKBOT_AUDIT_RETENTION")
    assert main(["check", "--lang", "en"]) == 0
    assert "AUDIT_RETENTION" not in capsys.readouterr().out
    config = service_config(load_settings(), catalog)
    assert config.audit_retention == timedelta(days=3000)


def test_without_files_a_retention_under_a_day_is_warned_of(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by an operator's walk-through: "180" meant as days is 180 seconds, and `check`
    said nothing of it; the consent request and privacy notice said "3 minutes"."""
    monkeypatch.delenv("FEEDBACKBOT_FLOWS_DIR", raising=False)
    monkeypatch.setenv("FEEDBACKBOT_SHIPPED_FLOWS", "feedback")
    ready_to_run(monkeypatch)
    monkeypatch.setenv("FEEDBACKBOT_RETENTION", "180")
    assert main(["check", "--lang", "en"]) == 0
    assert (
        "FEEDBACKBOT_RETENTION: warning: a retention of only 3 minutes, which customers are "
        "told in the consent request and the privacy notice: a plain number counts seconds "
        "and m minutes (write 180d for 180 days)"
    ) in capsys.readouterr().out
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert main(["docs", "privacy-notice", "--lang", "en"]) == 0
    printed = capsys.readouterr()
    assert "Feedback is deleted automatically after 3 minutes." in printed.out
    assert printed.err.startswith("feedbackbot: FEEDBACKBOT_RETENTION: a retention of only")
    monkeypatch.setenv("FEEDBACKBOT_RETENTION", "180d")
    assert main(["check", "--lang", "en"]) == 0
    assert "RETENTION" not in capsys.readouterr().out


def test_without_files_a_dot_env_others_can_read_is_warned_of(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """As `run` says at start: an operator upgrading with the .env of years found out only
    from the bot's first start (upgrade review)."""
    monkeypatch.delenv("FEEDBACKBOT_FLOWS_DIR", raising=False)
    monkeypatch.setenv("FEEDBACKBOT_SHIPPED_FLOWS", "feedback")
    ready_to_run(monkeypatch)
    monkeypatch.delenv("FEEDBACKBOT_MASTER_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    env_file = tmp_path / ".env"
    env_file.write_text("FEEDBACKBOT_MASTER_KEY=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n")
    env_file.chmod(0o644)
    assert main(["check", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert (
        f".env: warning: {env_file} holds FEEDBACKBOT_MASTER_KEY and can be read by others "
        "(mode 644); chmod 600 it"
    ) in out.splitlines(), out
    env_file.chmod(0o600)
    assert main(["check", "--lang", "en"]) == 0
    assert "No problems in 1 file." in capsys.readouterr().out


@pytest.mark.parametrize(
    ("digest", "zone", "warned"),
    [
        ("daily 00:30", "Europe/Berlin", "02:00"),
        ("weekly mon 01:59", "Europe/Berlin", "02:00"),
        ("daily 02:00", "Europe/Berlin", None),
        ("daily 08:00", "Europe/Berlin", None),
        ("daily 00:30", "UTC", None),
        ("daily 05:00", "Asia/Kolkata", "05:30"),
    ],
)
def test_a_digest_before_the_utc_day_has_ended_is_warned_of(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    digest: str,
    zone: str,
    warned: str | None,
) -> None:
    """Found by a staff walk-through: "daily 00:30" in Berlin, 23:30 UTC, counted the
    day before yesterday (summaries count whole UTC days), with nothing said."""
    monkeypatch.delenv("FEEDBACKBOT_FLOWS_DIR", raising=False)
    monkeypatch.setenv("FEEDBACKBOT_SHIPPED_FLOWS", "feedback")
    ready_to_run(monkeypatch)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FEEDBACKBOT_DIGEST", digest)
    monkeypatch.setenv("FEEDBACKBOT_TIMEZONE", zone)
    assert main(["check", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    at = digest.split()[-1]
    said = (
        f"FEEDBACKBOT_DIGEST: warning: a digest at {at} ({zone}) goes out before the day has "
        "ended in UTC, by whose days summaries count: it counts the day before yesterday. "
        f"Set it to {warned} or later"
    )
    assert (said in out.splitlines()) is (warned is not None), out


@pytest.mark.parametrize(("threshold", "warned"), [("6", True), ("5", True), ("4", False)])
def test_a_threshold_at_the_top_of_a_scale_is_warned_of(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    threshold: str,
    warned: bool,
) -> None:
    """Found by a staff walk-through: with 6 for the product survey's 0-10 question,
    every 5 of 5 was posted headed "Low rating"."""
    monkeypatch.delenv("FEEDBACKBOT_FLOWS_DIR", raising=False)
    monkeypatch.setenv("FEEDBACKBOT_SHIPPED_FLOWS", "feedback")
    ready_to_run(monkeypatch)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FEEDBACKBOT_ALERT_THRESHOLD", threshold)
    assert main(["check", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    said = (
        f"FEEDBACKBOT_ALERT_THRESHOLD: warning: {threshold} is at or above the top of the "
        "scale of “How satisfied are you with our service overall?” in “Customer feedback” "
        "(5): every answer to it raises an alert headed “low rating”"
    )
    assert (said in out.splitlines()) is warned, out


def test_a_database_in_the_data_folder_that_is_none_of_the_bots_is_warned_of(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by an operator walk-through: `backup data/nightly.db --keys data/keys-copy.db`
    (refused now) left copies there that `check` and `run` never named, beyond erasure."""
    import sqlite3
    from contextlib import closing

    monkeypatch.delenv("FEEDBACKBOT_FLOWS_DIR", raising=False)
    monkeypatch.setenv("FEEDBACKBOT_SHIPPED_FLOWS", "feedback")
    ready_to_run(monkeypatch)
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("FEEDBACKBOT_DATA_DIR", str(data))
    with closing(sqlite3.connect(data / "keys-copy.db")) as db:
        db.execute("CREATE TABLE t (x)")
    (data / "notes.txt").write_text("not a database\n")
    assert main(["check", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    stray = data / "keys-copy.db"
    assert (
        f"{stray}: warning: a database in the data folder that is none of the bot's files, "
        "beyond erasure and the purge: move it elsewhere or delete it"
    ) in out.splitlines(), out
    assert "notes.txt" not in out


def a_store_to_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, SQLiteStore]:
    """Settings `run` starts with, and a store (not opened yet) in their data folder."""
    monkeypatch.delenv("FEEDBACKBOT_FLOWS_DIR", raising=False)
    monkeypatch.setenv("FEEDBACKBOT_SHIPPED_FLOWS", "feedback")
    ready_to_run(monkeypatch)
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data"
    key = generate_key()
    monkeypatch.setenv("FEEDBACKBOT_DATA_DIR", str(data))
    monkeypatch.setenv("FEEDBACKBOT_MASTER_KEY", encode_master_key(key))
    return data, SQLiteStore(data, key)


async def test_a_missing_erasure_ledger_is_an_error_as_every_other_command_refuses_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by an operator's walk-through: with erasures.db gone, `check` said "0 errors"
    while `run`, `summary` and `chat` refused the store; nothing is made by `check`."""
    data, store = a_store_to_check(tmp_path, monkeypatch)
    await store.open()
    await store.close()
    assert main(["check", "--lang", "en"]) == 0
    assert "erasures.db" not in capsys.readouterr().out
    (data / "erasures.db").rename(tmp_path / "erasures.db")
    assert main(["check", "--lang", "en"]) == 1
    out = capsys.readouterr().out
    assert (
        f"{data / 'erasures.db'}: error: the erasure ledger erasures.db is missing in {data}: "
        "put back its newest copy (`feedbackbot backup --ledger`)"
    ) in out, out
    assert not (data / "erasures.db").exists(), "not made by check"


async def test_a_damaged_store_file_is_an_error_with_the_way_on_and_is_not_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by testing with pages of the store overwritten: `check` said "0 errors", and
    the bot's purge then failed on the damaged index in the log, unexplained. Read beside
    a running bot, a sound store is not taken for a damaged one."""
    import sqlite3
    from contextlib import closing

    data, store = a_store_to_check(tmp_path, monkeypatch)
    await store.open()
    try:  # the bot running beside: its write-ahead log is read as any reader reads it
        assert main(["check", "--lang", "en"]) == 0
        assert "error: damaged" not in capsys.readouterr().out
    finally:
        await store.close()

    def overwrite_an_index(path: Path) -> None:
        with closing(sqlite3.connect(path)) as db:
            page_size = db.execute("PRAGMA page_size").fetchone()[0]
            page = db.execute(
                "SELECT max(rootpage) FROM sqlite_master WHERE type = 'index'"
            ).fetchone()[0]
        with path.open("r+b") as file:
            file.seek((page - 1) * page_size)
            file.write(b"\xff" * page_size)

    overwrite_an_index(data / "feedback.db")
    overwrite_an_index(data / "erasures.db")
    before = {p.name: p.read_bytes() for p in data.iterdir()}
    assert main(["check", "--lang", "en"]) == 1
    lines = capsys.readouterr().out.splitlines()
    said = [line for line in lines if "error: damaged" in line]
    assert len(said) == 2, lines
    assert said[0].startswith(f"{data / 'feedback.db'}: error: damaged (Page "), said
    assert said[0].endswith(
        "): stop the bot and restore the newest backup (`feedbackbot restore DEST --keys "
        "KEYS_DEST`)"
    ), said
    assert said[1].startswith(f"{data / 'erasures.db'}: error: damaged (Page "), said
    assert said[1].endswith(
        "): stop the bot, move this file out of the data folder and restore the newest "
        "backup with the ledger's newest copy (`feedbackbot restore DEST --keys KEYS_DEST "
        "--ledger LEDGER_DEST`)"
    ), said
    assert "2 errors" in lines[-1], lines
    assert {p.name: p.read_bytes() for p in data.iterdir()} == before, "nothing written"
    # a file that is no database at all, in German
    (data / "keys.db").write_bytes(b"not a database, " * 300)
    assert main(["check", "--lang", "de"]) == 1
    out = capsys.readouterr().out
    assert (
        f"{data / 'keys.db'}: Fehler: beschädigt (file is not a database): Halten Sie den Bot "
        "an und spielen Sie die neueste Sicherung zurück (`feedbackbot restore DEST --keys "
        "KEYS_DEST`)"
    ) in out.splitlines(), out


def test_a_recipients_file_others_can_read_is_warned_of(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by an operator walk-through: its secrets sign what receivers take for the
    bot's deliveries, and `check` said nothing of one at 0644, nor did `run`."""
    monkeypatch.delenv("FEEDBACKBOT_FLOWS_DIR", raising=False)
    monkeypatch.setenv("FEEDBACKBOT_SHIPPED_FLOWS", "feedback")
    ready_to_run(monkeypatch)
    monkeypatch.chdir(tmp_path)
    recipients = tmp_path / "recipients.toml"
    recipients.write_text(
        '[[recipients]]\nid = "crm"\nname = "CRM"\nurl = "https://crm.example/hook"\n'
        'secret = "a-secret-of-twenty-chars"\ninternal = true\nfields = ["rating"]\n'
    )
    recipients.chmod(0o644)
    monkeypatch.setenv("FEEDBACKBOT_RECIPIENTS_FILE", str(recipients))
    assert main(["check", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert (
        f"{recipients}: warning: {recipients} holds secret and can be read by others "
        "(mode 644); chmod 600 it"
    ) in out.splitlines(), out
    assert "a-secret-of-twenty-chars" not in out
    recipients.chmod(0o600)
    assert main(["check", "--lang", "en"]) == 0
    assert "holds secret" not in capsys.readouterr().out


@pytest.mark.parametrize(
    ("unset", "warned"),
    [
        ("TOKEN", "FEEDBACKBOT_TOKEN: warning: not set"),
        ("CONTROLLER_CONTACT", "FEEDBACKBOT_CONTROLLER_CONTACT: warning: not set"),
        ("ALERT_THRESHOLD", "FEEDBACKBOT_STAFF_CHAT_ID, FEEDBACKBOT_ALERT_THRESHOLD,"),
    ],
)
def test_without_files_each_setting_run_needs_is_warned_of(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, unset: str, warned: str
) -> None:
    """Each setting `run` refuses to start without, or staff need to answer, on its own
    (mutation audit: one could be left out of the check unnoticed)."""
    monkeypatch.delenv("FEEDBACKBOT_FLOWS_DIR", raising=False)
    monkeypatch.setenv("FEEDBACKBOT_SHIPPED_FLOWS", "feedback")
    ready_to_run(monkeypatch)
    monkeypatch.delenv(f"FEEDBACKBOT_{unset}")
    assert main(["check", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[3].startswith(warned), out
    assert out.endswith("0 errors and 1 warning in 1 file.\n"), out


NO_CONTACT_FLOW = """
id = "feedback"
title = { de = "Kurz", en = "Quick" }
intro = { de = "Kurze Umfrage.", en = "Short survey." }

[[purposes]]
id = "quick_feedback"
required = true
label = { de = "Speicherung", en = "Storing" }
description = { de = "Feedback speichern", en = "Storing feedback" }

[[steps]]
id = "rating"
type = "rating"
prompt = { de = "Wie zufrieden?", en = "How satisfied?" }

[[steps]]
id = "thanks"
type = "thanks"
prompt = { de = "Danke!", en = "Thanks!" }
"""


def test_without_files_flows_that_ask_nobody_to_be_contacted_need_no_staff_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No staff chat, threshold or staff ids where no flow asks for consent to be
    contacted: nobody waits for an answer (mutation audit)."""
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "feedback.toml").write_text(NO_CONTACT_FLOW)
    monkeypatch.setenv("FEEDBACKBOT_FLOWS_DIR", str(flows))
    monkeypatch.setenv("FEEDBACKBOT_SHIPPED_FLOWS", "none")
    ready_to_run(monkeypatch)
    for name in ("STAFF_CHAT_ID", "ALERT_THRESHOLD", "STAFF_IDS"):
        monkeypatch.delenv(f"FEEDBACKBOT_{name}")
    assert main(["check", "--lang", "en"]) == 0
    assert capsys.readouterr().out.endswith("No problems in 1 file.\n")


def test_without_files_unreadable_settings_fail_rather_than_check_less(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by review: a setting the bot refuses (or a mistyped folder) made `check`
    quietly check the shipped flows alone and pass a broken one."""
    monkeypatch.chdir(tmp_path)  # no .env of the checkout
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "bad.toml").write_text('id = "x"\n')
    monkeypatch.setenv("FEEDBACKBOT_FLOWS_DIR", str(flows))
    assert main(["check", "--lang", "en"]) == 1
    assert "error" in capsys.readouterr().out
    monkeypatch.setenv("FEEDBACKBOT_RETENTION", "abc")
    assert main(["check", "--lang", "en"]) == 1
    assert "FEEDBACKBOT_RETENTION" in capsys.readouterr().err
    monkeypatch.delenv("FEEDBACKBOT_RETENTION")
    monkeypatch.setenv("FEEDBACKBOT_FLOWS_DIR", str(tmp_path / "nope"))
    assert main(["check", "--lang", "en"]) == 1
    assert "FEEDBACKBOT_FLOWS_DIR" in capsys.readouterr().err


def test_without_files_a_set_of_flows_the_bot_refuses_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by review: with the shipped flows left out and no flow of the id the plain
    /start runs, `check` passed what `run` refuses."""
    monkeypatch.chdir(tmp_path)
    flows = tmp_path / "flows"
    flows.mkdir()
    own = (REPO / "flows" / "definitions" / "feedback.toml").read_text()
    (flows / "mine.toml").write_text(own.replace('id = "feedback"', 'id = "mine"', 1))
    monkeypatch.setenv("FEEDBACKBOT_FLOWS_DIR", str(flows))
    monkeypatch.setenv("FEEDBACKBOT_SHIPPED_FLOWS", "none")
    assert main(["check", "--lang", "en"]) == 1
    assert "no flow with id 'feedback' to run on plain /start" in capsys.readouterr().out


def test_without_files_warnings_are_not_repeated_as_log_lines(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Found by review: each warning printed was logged again, in English, on stderr."""
    monkeypatch.chdir(tmp_path)
    flows = tmp_path / "flows"
    flows.mkdir()
    text = PRODUCT.read_text().replace('id = "product"', 'id = "mine"', 1)
    (flows / "mine.toml").write_text(text.replace(', en = "Product feedback"', "", 1))
    monkeypatch.setenv("FEEDBACKBOT_FLOWS_DIR", str(flows))
    monkeypatch.delenv("FEEDBACKBOT_SHIPPED_FLOWS", raising=False)
    assert main(["check", "--lang", "de"]) == 0
    assert "Warnung: kein" in capsys.readouterr().out
    assert [r.message for r in caplog.records if r.name == "flows.catalog"] == []


def test_a_setting_the_bot_refuses_is_no_file_and_has_no_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by review: "FEEDBACKBOT_SHIPPED_FLOWS:1: error" and the setting counted as a
    file checked."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FEEDBACKBOT_FLOWS_DIR", raising=False)
    monkeypatch.setenv("FEEDBACKBOT_SHIPPED_FLOWS", "product")
    assert main(["check", "--lang", "en"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[3].startswith("FEEDBACKBOT_SHIPPED_FLOWS: error: no flow with id 'feedback'")
    assert out[-1] == "1 error and 0 warnings in 1 file."


def test_a_file_that_does_not_exist_is_said_so_without_a_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by a flow author's review: "missing.toml:1: error: cannot be read: no such
    file or folder" pointed at a first line of a file that is not there."""
    missing = tmp_path / "survey.tmol"
    assert main(["check", "--lang", "en", str(missing)]) == 1
    assert capsys.readouterr().out == (
        f"{missing}: error: does not exist\n"
        "    Check the name and the folder: a relative path starts from the folder the "
        "command runs in.\n"
        "1 error and 0 warnings in 1 file.\n"
    )


def test_a_flow_in_one_language_is_one_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by an English-speaking staff review: nothing said at once that a survey was
    in German alone; one warning per text buried the others. Still exit 0: a survey for
    German speakers alone is the operator's choice."""
    path = tmp_path / "baeckerei.toml"
    path.write_text(BAKERY)
    assert main(["check", "--lang", "en", str(path)]) == 0
    assert capsys.readouterr().out == (
        f"{path}:2: warning: the flow is written in German only: 9 of its texts have no "
        "English version, so customers and staff who read English see them in German\n"
        "    Fine if everyone who answers it, and your staff, read that language; else give "
        'each text per language: { de = "...", en = "..." }.\n'
        "0 errors and 1 warning in 1 file.\n"
    )
    assert main(["check", "--lang", "de", str(path)]) == 0
    assert capsys.readouterr().out == (
        f"{path}:2: Warnung: der Ablauf ist nur auf Deutsch geschrieben: 9 seiner Texte haben "
        "keine Fassung auf Englisch, daher sehen Kunden und Mitarbeitende, die Englisch lesen, "
        "sie auf Deutsch\n"
        "    Das passt, wenn alle, die ihn beantworten, und Ihr Team diese Sprache lesen; sonst "
        'geben Sie jeden Text je Sprache an: { de = "...", en = "..." }.\n'
        "0 Fehler und 1 Warnung in 1 Datei.\n"
    )


def test_without_files_check_refuses_what_run_refuses_of_the_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by an operator walk-through: `check` said "0 errors" where `run` then refused
    to start: a store whose generated key file was moved away, a retention of "180" (180
    seconds) over feedback already stored, a store file the bot's user cannot write; and it
    never said which data folder it looked at (run from another directory, `run` makes a
    new, empty store there)."""

    monkeypatch.delenv("FEEDBACKBOT_FLOWS_DIR", raising=False)
    monkeypatch.setenv("FEEDBACKBOT_SHIPPED_FLOWS", "feedback")
    ready_to_run(monkeypatch)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FEEDBACKBOT_MASTER_KEY", raising=False)
    monkeypatch.delenv("FEEDBACKBOT_MASTER_KEY_FILE", raising=False)
    data = tmp_path / "data"
    monkeypatch.setenv("FEEDBACKBOT_DATA_DIR", str(data))
    assert main(["check", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert f"The data folder: {data} (no store there yet: `feedbackbot run` makes one)" in out
    assert not data.exists(), "check makes no store"

    key = generate_key()
    asyncio.run(_a_store_with_one_feedback(data, key))
    (data / "master.key").write_text(encode_master_key(key) + "\n")
    (data / "master.key").chmod(0o600)
    assert main(["check", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert f"The data folder: {data} (it holds a store)" in out, out

    (data / "master.key").rename(tmp_path / "master.key")
    assert main(["check", "--lang", "en"]) == 1
    out = capsys.readouterr().out
    assert (
        f"{data / 'master.key'}: error: a key store exists in {data} but no master key was "
        "given, and there is no master.key in it"
    ) in out, out
    (tmp_path / "master.key").rename(data / "master.key")

    monkeypatch.setenv("FEEDBACKBOT_RETENTION", "180")
    before = {p.name: p.read_bytes() for p in data.iterdir()}
    assert main(["check", "--lang", "en"]) == 1
    out = capsys.readouterr().out
    assert "FEEDBACKBOT_RETENTION: error: a retention of only 3m" in out, out
    assert "(count: 1)" in out and "Nothing was changed." in out, out
    assert {p.name: p.read_bytes() for p in data.iterdir()} == before, "nothing deleted"
    monkeypatch.delenv("FEEDBACKBOT_RETENTION")

    real = os.access
    monkeypatch.setattr(
        os,
        "access",
        lambda path, mode, *a, **k: (
            False if Path(path).name == "keys.db" and mode == os.W_OK else real(path, mode, *a, **k)
        ),
    )  # (the tests run as root, whom permissions do not stop)
    assert main(["check", "--lang", "en"]) == 1
    out = capsys.readouterr().out
    assert (
        f"{data / 'keys.db'}: error: read-only for this user: `feedbackbot run` cannot write "
        "there (check the owner and permissions)"
    ) in out.splitlines(), out


def test_a_name_that_is_no_setting_is_counted_as_a_warning_and_said_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by an operator walk-through: FEEDBACKBOT_RETENTION_DAY=30 was said on stderr,
    and "0 errors and 1 warning" counted it not; the bot kept feedback for 180 days."""
    monkeypatch.delenv("FEEDBACKBOT_FLOWS_DIR", raising=False)
    monkeypatch.setenv("FEEDBACKBOT_SHIPPED_FLOWS", "feedback")
    ready_to_run(monkeypatch)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FEEDBACKBOT_RETENTION_DAY", "30")
    assert main(["check", "--lang", "en"]) == 0
    captured = capsys.readouterr()
    assert (
        "FEEDBACKBOT_RETENTION_DAY: warning: FEEDBACKBOT_RETENTION_DAY is not a setting and is "
        "ignored; did you mean FEEDBACKBOT_RETENTION?"
    ) in captured.out.splitlines(), captured.out
    assert captured.out.endswith("0 errors and 1 warning in 1 file.\n"), captured.out
    assert "RETENTION_DAY" not in captured.err, captured.err


async def _a_store_with_one_feedback(data: Path, key: bytes) -> None:
    from storage import NewFeedback
    from storage.interface import ConsentGrant

    store = SQLiteStore(data, key)
    await store.open()
    now = datetime.now(UTC)
    grant = ConsentGrant(
        purpose="feedback", notice_version="v1", text_sha256="0" * 64, method="b", granted_at=now
    )
    feedback = NewFeedback(
        flow_id="feedback",
        answers={"comment": "kalt"},
        purposes=["feedback"],
        created_at=now,
        expires_at=now + timedelta(days=180),
    )
    await store.submit_feedback(store.pseudonym("tg-user:1"), feedback, [grant])
    await store.close()


def test_a_setting_in_the_environment_and_another_in_env_file_is_warned_of(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by an operator walk-through: 30d in the shell, 90d in .env; the notices said
    30 days, and nothing said which was used. The values are not shown (secrets)."""
    monkeypatch.delenv("FEEDBACKBOT_FLOWS_DIR", raising=False)
    monkeypatch.setenv("FEEDBACKBOT_SHIPPED_FLOWS", "feedback")
    ready_to_run(monkeypatch)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FEEDBACKBOT_RETENTION", "30d")
    (tmp_path / ".env").write_text(
        "FEEDBACKBOT_RETENTION=90d\nFEEDBACKBOT_CONTROLLER_NAME=Beispiel GmbH\n"
    )
    (tmp_path / ".env").chmod(0o600)
    assert main(["check", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert (
        "FEEDBACKBOT_RETENTION: warning: set in the environment and, to another value, in "
        ".env: the environment's is used"
    ) in out.splitlines(), out
    assert "CONTROLLER_NAME: warning" not in out, "the same value twice is no conflict"
    assert "30d" not in out and "90d" not in out
