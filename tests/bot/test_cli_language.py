"""The command line speaks the operator's language: the terminal's (LC_ALL, LC_MESSAGES,
LANG), else German. Help, answers, usage errors and what is wrong with the settings or
the store, all from the catalogs."""

from __future__ import annotations

import argparse
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest

from bot.cli import build_parser, main
from bot.cli.common import ARGPARSE_MESSAGES, argparse_speaks, lookback
from flows.i18n import translator
from storage.crypto import encode_master_key, generate_key
from tests.e2e.test_lifecycle import cli, make_store
from tests.harness import MASTER_KEY, product_flow_passing_on

REPO = Path(__file__).resolve().parents[2]


def feedbackbot(
    cwd: Path, *args: str, lang: str | None = None, lc_all: str | None = None, **settings: str
) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS` with the terminal language `lang` (None: none set at all)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("FEEDBACKBOT_") and k not in ("LANG", "LC_ALL", "LC_MESSAGES")
    }
    env["PYTHONPATH"] = str(REPO)
    env |= {name: value for name, value in (("LANG", lang), ("LC_ALL", lc_all)) if value}
    env.update({f"FEEDBACKBOT_{name.upper()}": value for name, value in settings.items()})
    return cli(*args, env=env, cwd=cwd)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("de_DE.UTF-8", ["Aufruf: feedbackbot", "Optionen:", "den Bot betreiben (Long Polling)"]),
        ("en_GB.UTF-8", ["usage: feedbackbot", "options:", "run the bot (long polling)"]),
        ("C.UTF-8", ["Aufruf: feedbackbot", "die Langzeitstatistik ausgeben (Zählungen, keine"]),
        (None, ["Aufruf: feedbackbot", "BEFEHL"]),
    ],
)
def test_help_in_the_terminals_language_else_german(
    tmp_path: Path, lang: str | None, expected: list[str]
) -> None:
    result = feedbackbot(tmp_path, "--help", lang=lang)
    assert result.returncode == 0, result.stderr
    for text in expected:
        assert text in result.stdout, result.stdout


def test_lc_all_outranks_lang(tmp_path: Path) -> None:
    result = feedbackbot(tmp_path, "keygen", "--help", lang="de_DE.UTF-8", lc_all="en_US.UTF-8")
    assert "Print a new master key" in result.stdout, result.stdout


def test_a_usage_mistake_is_explained_in_german(tmp_path: Path) -> None:
    result = feedbackbot(tmp_path, "stats", "--since", "5x", lang="de_DE.UTF-8")
    assert result.returncode == 2
    said = result.stderr.splitlines()[-1]
    example = re.fullmatch(
        r"feedbackbot stats: Fehler: Argument --since: '5x' ist kein Zeitraum; verwenden Sie "
        r"z\. B\. 24h, 30d, 52w oder ein Datum wie (\d+\.\d+\.) \(gezählt ab diesem Tag\)",
        said,
    )
    assert example is not None, said
    # the example date works as given: a week back, counted from its midnight
    assert timedelta(days=7) <= lookback(example[1]) < timedelta(days=8)
    result = feedbackbot(tmp_path, "backup", lang="de_DE.UTF-8")
    assert "feedbackbot backup: Fehler: diese Argumente fehlen: DEST" in result.stderr
    # A period with a minus: argparse took "-3d" for an option and said only that --since
    # expected an argument (found by an operator's walk-through)
    for command in ("summary", "export", "audit", "stats"):
        result = feedbackbot(tmp_path, command, "--since", "-3d", lang="de_DE.UTF-8")
        assert result.returncode == 2
        assert result.stderr.splitlines()[-1] == (
            f"feedbackbot {command}: Fehler: Argument --since: ein Zeitraum zählt von jetzt "
            "an zurück: Schreiben Sie 3d, nicht -3d"
        )
    # An option the subcommand does not know: said by it, with its usage (review: the
    # top-level usage and "feedbackbot: error" left the operator to guess whose option)
    result = feedbackbot(tmp_path, "summary", "--bogus", lang="de_DE.UTF-8")
    assert result.returncode == 2
    assert result.stderr.startswith("Aufruf: feedbackbot summary "), result.stderr
    assert result.stderr.splitlines()[-1] == (
        "feedbackbot summary: Fehler: unbekannte Argumente: --bogus"
    )
    result = feedbackbot(tmp_path, "docs", "privacy-notice", "--bogus", lang="de_DE.UTF-8")
    assert result.stderr.splitlines()[-1] == (
        "feedbackbot docs privacy-notice: Fehler: unbekannte Argumente: --bogus"
    ), result.stderr


def test_wrong_settings_are_explained_in_german(tmp_path: Path) -> None:
    result = feedbackbot(
        tmp_path, "stats", lang="de_DE.UTF-8", min_group_size="x", purge_interval="3d"
    )
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == (
        "feedbackbot: ungültige Konfiguration: FEEDBACKBOT_PURGE_INTERVAL: höchstens 1 Tag "
        "(24h); FEEDBACKBOT_MIN_GROUP_SIZE: muss eine ganze Zahl sein\n"
    )
    result = feedbackbot(tmp_path, "stats", lang="de_DE.UTF-8", min_group_size="1")
    assert "FEEDBACKBOT_MIN_GROUP_SIZE: muss mindestens 2 sein" in result.stderr
    result = feedbackbot(tmp_path, "run", lang="de_DE.UTF-8", data_dir=str(tmp_path / "d"))
    assert result.stderr == (
        "feedbackbot: erforderliche Einstellungen fehlen: FEEDBACKBOT_TOKEN, "
        "FEEDBACKBOT_CONTROLLER_NAME, FEEDBACKBOT_CONTROLLER_CONTACT\n"
    )
    assert not (tmp_path / "d").exists()


async def test_a_wrong_master_key_and_a_missing_store_are_explained_in_german(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    await make_store(data, people=0)
    before = {p.name: p.read_bytes() for p in data.glob("*.db")}
    wrong = encode_master_key(generate_key())
    result = feedbackbot(
        tmp_path, "purge", lang="de_DE.UTF-8", data_dir=str(data), master_key=wrong
    )
    assert result.returncode == 1
    assert result.stderr.startswith(
        f"feedbackbot: der Hauptschlüssel öffnet den Schlüsselspeicher {data / 'keys.db'} "
        "nicht; nichts wurde verändert"
    ), result.stderr
    assert {p.name: p.read_bytes() for p in data.glob("*.db")} == before, "nothing written"
    result = feedbackbot(tmp_path, "stats", lang="de_DE.UTF-8", data_dir=str(tmp_path / "typo"))
    assert result.stderr.startswith(f"feedbackbot: kein Speicher in {tmp_path / 'typo'}")
    result = feedbackbot(
        tmp_path, "purge", lang="en_US.UTF-8", data_dir=str(data), master_key=wrong
    )
    assert "the master key does not open the key store" in result.stderr


async def test_the_systems_reasons_are_said_in_german_too(tmp_path: Path) -> None:
    """Not the system's English ("No such file or directory"), nor "FileNotFoundError"."""
    data = tmp_path / "data"
    await make_store(data, people=0)
    missing = tmp_path / "nirgends" / "master.key"
    result = feedbackbot(
        tmp_path,
        "stats",
        lang="de_DE.UTF-8",
        data_dir=str(data),
        master_key="",
        master_key_file=str(missing),
    )
    assert result.stderr == (
        f"feedbackbot: die Hauptschlüsseldatei {missing} kann nicht gelesen werden: "
        "Datei oder Ordner nicht vorhanden\n"
    ), result.stderr
    result = feedbackbot(
        tmp_path,
        "rotate-key",
        "--new-key-file",
        str(missing),
        lang="de_DE.UTF-8",
        data_dir=str(data),
        master_key=MASTER_KEY,
    )
    assert result.stderr == f"feedbackbot: Datei oder Ordner nicht vorhanden: {missing}\n"


async def test_a_key_variable_left_beside_a_different_key_file_is_refused(
    tmp_path: Path,
) -> None:
    """After a rotation to a key file, an old FEEDBACKBOT_MASTER_KEY left in the
    environment used to win silently; now the two are named, and neither key shown."""
    data = tmp_path / "data"
    await make_store(data, people=0)
    other = encode_master_key(generate_key())
    key_file = tmp_path / "new.key"
    key_file.write_text(other + "\n")
    key_file.chmod(0o600)

    def stats() -> subprocess.CompletedProcess[str]:
        return feedbackbot(
            tmp_path,
            "stats",
            lang="de_DE.UTF-8",
            data_dir=str(data),
            master_key=MASTER_KEY,
            master_key_file=str(key_file),
        )

    result = stats()
    assert result.returncode == 1
    assert result.stderr == (
        f"feedbackbot: FEEDBACKBOT_MASTER_KEY und die Schlüsseldatei {key_file} enthalten "
        "verschiedene Schlüssel; behalten Sie nur den, der den Speicher öffnet\n"
    ), result.stderr
    assert MASTER_KEY not in result.stderr and other not in result.stderr
    key_file.write_text(MASTER_KEY + "\n")
    result = stats()
    assert result.returncode == 0, result.stderr


async def test_a_key_file_others_can_read_is_named_in_the_operators_language(
    tmp_path: Path,
) -> None:
    """Found by review: a log line in English, without the `feedbackbot:` of every other
    line, printed by Python's last-resort handler."""
    data = tmp_path / "data"
    await make_store(data, people=0)
    key_file = tmp_path / "master.key"
    key_file.write_text(MASTER_KEY + "\n")
    key_file.chmod(0o640)
    result = feedbackbot(
        tmp_path, "stats", lang="de_DE.UTF-8", data_dir=str(data), master_key_file=str(key_file)
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        f"feedbackbot: die Hauptschlüsseldatei {key_file} ist auch für andere lesbar "
        "(Modus 640); schränken Sie sie mit chmod 600 ein\n"
    ), result.stderr
    key_file.chmod(0o600)
    result = feedbackbot(
        tmp_path, "stats", lang="de_DE.UTF-8", data_dir=str(data), master_key_file=str(key_file)
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr


async def test_a_backup_on_another_file_system_gets_no_note(tmp_path: Path) -> None:
    elsewhere = Path("/dev/shm")
    if not elsewhere.is_dir() or elsewhere.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("no second file system to write to")
    data = tmp_path / "data"
    await make_store(data, people=0)
    settings = {"data_dir": str(data), "master_key": MASTER_KEY}
    with tempfile.TemporaryDirectory(dir=elsewhere) as folder:
        copy = Path(folder) / "copy.db"
        backup = feedbackbot(tmp_path, "backup", str(copy), lang="de_DE.UTF-8", **settings)
        assert backup.returncode == 0 and copy.is_file()
    assert backup.stderr == ""


async def test_a_backup_made_with_the_generated_key_says_where_the_key_is(tmp_path: Path) -> None:
    """Found by an operator walk-through: nothing after the first start said that the key
    lies in the data folder; lost with the disk, every backup is unreadable."""
    data = tmp_path / "data"
    await make_store(data, people=0)
    (data / "master.key").write_text(MASTER_KEY + "\n")
    (data / "master.key").chmod(0o600)
    copy = tmp_path / "copy.db"
    backup = feedbackbot(tmp_path, "backup", str(copy), lang="en_US.UTF-8", data_dir=str(data))
    assert backup.returncode == 0, backup.stderr
    assert (
        f"note: the master key is the one generated in {data / 'master.key'}: copy it "
        "somewhere safe apart from the backups (without it no backup can be read), or move it "
        "out and name it in FEEDBACKBOT_MASTER_KEY_FILE"
    ) in backup.stderr.splitlines(), backup.stderr


async def test_what_the_commands_answer_is_german(tmp_path: Path) -> None:
    data = tmp_path / "data"
    await make_store(data, people=0)
    settings = {"data_dir": str(data), "master_key": MASTER_KEY}
    purged = feedbackbot(tmp_path, "purge", lang="de_DE.UTF-8", **settings)
    assert purged.stdout == (
        "gelöscht – Feedback: 0, unvollständige Antworten: 0, Sprachwahlen: 0, nicht mehr als "
        "Nachweis benötigte Einwilligungsnachweise: 0, verwaiste Zeilen: 0, Schlüssel von "
        "Personen oder Umfragen ohne verbliebene Daten: 0, Einträge des Prüfprotokolls: 0, "
        "Anzahlen von Tagen und Umfragen: 0\n"
    ), purged.stderr
    copy = tmp_path / "copy.db"
    backup = feedbackbot(tmp_path, "backup", str(copy), lang="de_DE.UTF-8", **settings)
    assert backup.stdout == (
        f"{copy} geschrieben; sichern Sie den Schlüsselspeicher getrennt und nur kurz "
        "(backup --keys FILE)\n"
    )
    assert backup.stderr == (
        f"Hinweis: {copy} liegt im selben Dateisystem wie die Daten und übersteht daher keinen "
        "Ausfall dieses Datenträgers; falls dort ein Sicherungsdatenträger eingehängt sein "
        "sollte, ist er es nicht\n"
    )
    again = feedbackbot(tmp_path, "backup", str(copy), lang="de_DE.UTF-8", **settings)
    assert again.stderr == (
        f"feedbackbot: {copy} existiert bereits; wählen Sie eine neue Datei für die Sicherung\n"
    )
    # A folder is said to be one, with a name for the copy in it (an operator's walk-through:
    # "exists", and the operator who meant "into this folder" did not see what to give).
    folder = tmp_path / "sicherungen"
    folder.mkdir()
    into = feedbackbot(tmp_path, "backup", str(folder), lang="de_DE.UTF-8", **settings)
    assert into.returncode == 1
    assert into.stderr.startswith(f"feedbackbot: {folder} ist ein Ordner; geben Sie der Kopie "), (
        into.stderr
    )
    assert f"etwa {folder}/feedbackbot-20" in into.stderr and list(folder.iterdir()) == []
    stats = feedbackbot(tmp_path, "stats", lang="de_DE.UTF-8", **settings)
    assert stats.stdout == "keine Statistik in diesem Zeitraum\n"
    audit = feedbackbot(tmp_path, "audit", lang="de_DE.UTF-8", **settings)
    assert audit.stdout == "keine Einträge im Prüfprotokoll in diesem Zeitraum\n"


async def test_a_backup_with_the_ledger_says_when_to_restore_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    await make_store(data, people=1)
    settings = {"data_dir": str(data), "master_key": MASTER_KEY}
    copy, keys, ledger = (tmp_path / name for name in ("copy.db", "keys.db", "erasures.db"))
    args = ("backup", str(copy), "--keys", str(keys), "--ledger", str(ledger))
    backup = feedbackbot(tmp_path, *args, lang="de_DE.UTF-8", **settings)
    assert backup.stdout.splitlines()[1:] == [
        f"Löschverzeichnis in {ledger} geschrieben; stellen Sie es nur wieder her, wenn "
        "erasures.db selbst verloren ging, und bewahren Sie es nicht länger auf als die "
        "Datensicherungen"
    ], backup.stderr
    assert f"Hinweis: {ledger} liegt im selben Dateisystem wie die Daten" in backup.stderr
    with sqlite3.connect(ledger) as copied, sqlite3.connect(data / "erasures.db") as kept:
        tables = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        assert copied.execute(tables).fetchall() == kept.execute(tables).fetchall()
        assert ("staff_posts",) in copied.execute(tables).fetchall()
    copied.close()
    kept.close()
    twice = feedbackbot(
        tmp_path, "backup", str(tmp_path / "b.db"), "--ledger", str(keys), **settings
    )
    assert twice.returncode != 0 and "existiert bereits" in twice.stderr
    assert not (tmp_path / "b.db").exists()


def _parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                found += _parsers(sub)
    return found


def _texts(parser: argparse.ArgumentParser) -> list[str]:
    """Every sentence the help shows: descriptions, command and option help."""
    texts = [parser.description or ""]
    for action in parser._actions:
        if action.help and action.help != argparse.SUPPRESS:
            texts.append(action.help)
        if isinstance(action, argparse._SubParsersAction):
            texts += [choice.help or "" for choice in action._choices_actions]
    return [text for text in texts if text]


def test_every_help_text_and_argparse_word_is_translated() -> None:
    german, english = translator("de"), translator("en")
    with argparse_speaks(german):
        de_texts = [text for p in _parsers(build_parser(german)) for text in _texts(p)]
    with argparse_speaks(english):
        en_texts = [text for p in _parsers(build_parser(english)) for text in _texts(p)]
    assert len(de_texts) == len(en_texts) > 40
    untranslated = [en for de, en in zip(de_texts, en_texts, strict=True) if de == en]
    assert untranslated == []
    assert all(german.knows(message) for message in ARGPARSE_MESSAGES)


def test_argparse_keeps_its_own_words_outside_the_command_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    before = argparse._  # type: ignore[attr-defined]
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "Aufruf: feedbackbot" in capsys.readouterr().out
    assert argparse._ is before  # type: ignore[attr-defined]
    assert argparse.ArgumentParser(prog="x").format_usage() == "usage: x [-h]\n"


def test_a_broken_flow_definition_is_explained_in_german(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "survey.toml").write_text('id = "survey"\nversion = \n', encoding="utf-8")
    settings = {"flows_dir": str(flows), "controller_name": "A", "controller_contact": "b"}
    result = feedbackbot(tmp_path, "docs", "privacy-notice", lang="de_DE.UTF-8", **settings)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith(f"feedbackbot: {flows / 'survey.toml'}:2: kein gültiges TOML")
    assert result.stderr.endswith(
        "feedbackbot: `feedbackbot check ORDNER` zeigt jedes Problem mit einem Hinweis zur "
        "Behebung\n"
    ), "the first problem stops the start; check lists them all"
    result = feedbackbot(tmp_path, "docs", "privacy-notice", lang="en_US.UTF-8", **settings)
    assert result.stderr.startswith(f"feedbackbot: {flows / 'survey.toml'}:2: not valid TOML")


def test_a_key_file_named_with_braces_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    """The message was formatted twice: a '{x}' in the file name raised KeyError."""
    key_file = tmp_path / "new{x}.key"
    key_file.write_bytes(b"\xff")
    result = feedbackbot(
        tmp_path, "rotate-key", "--new-key-file", str(key_file), lang="de_DE.UTF-8"
    )
    assert result.returncode == 1
    assert result.stderr == f"feedbackbot: {key_file} enthält keinen Hauptschlüssel\n"
    # A short one names the new key's file, not as if the current key were wrong (review).
    key_file.write_text("c2VjcmV0LXNob3J0\n")
    result = feedbackbot(
        tmp_path, "rotate-key", "--new-key-file", str(key_file), lang="de_DE.UTF-8"
    )
    first, hint, end = result.stderr.split("\n")
    assert first == (
        f"feedbackbot: der Hauptschlüssel in {key_file} muss 32 Bytes lang sein, nicht 12"
    )
    assert hint.startswith("feedbackbot: ") and "`feedbackbot keygen --output" in hint and end == ""


def test_staff_ids_that_are_not_numbers_are_explained_in_german(tmp_path: Path) -> None:
    result = feedbackbot(tmp_path, "stats", lang="de_DE.UTF-8", staff_ids="12345,abc")
    assert result.stderr == (
        "feedbackbot: ungültige Konfiguration: FEEDBACKBOT_STAFF_IDS: eine Liste von "
        "Telegram-Nutzer-IDs, durch Kommas getrennt, z. B. 12345,67890\n"
    )


def test_a_full_disk_is_said_in_german() -> None:
    from bot.cli import said
    from storage.sqlite_db import _full

    assert said(_full(), translator("de")) == (
        "kein Platz mehr für den Speicher; nichts wurde geschrieben"
    )
    assert said(_full(), translator("en")) == "no space left for the store; nothing was written"


def test_a_wrong_recipients_file_is_explained_in_german(tmp_path: Path) -> None:
    recipients = tmp_path / "recipients.toml"
    recipients.write_text(
        '[[recipients]]\nid = "crm"\nname = "CRM"\nurl = "http://crm.example/in"\n'
        'secret = "short"\nfoo = 1\n',
        encoding="utf-8",
    )
    settings = {
        "recipients_file": str(recipients),
        "controller_name": "A",
        "controller_contact": "b",
    }
    result = feedbackbot(tmp_path, "docs", "processing-record", lang="de_DE.UTF-8", **settings)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == (
        f"feedbackbot: {recipients}: Empfänger 'crm': url: 'http://crm.example/…' würde "
        "Feedback unverschlüsselt senden; verwenden Sie https:// (einfaches http nur an "
        "localhost); Empfänger 'crm': secret: verwenden Sie mindestens 16 Zeichen; "
        "Empfänger 'crm': unbekannter Schlüssel 'foo'\n"
    )
    assert "short" not in result.stderr.replace("shares", ""), "never the secret itself"


def test_audit_details_of_deliveries_are_shown_in_the_operators_language() -> None:
    from bot.cli.staff import shown_detail
    from flows.sharing import DELIVERED, FAILED, GAVE_UP_MAY_HAVE_ARRIVED, NOT_SENT

    de = translator("de")
    assert shown_detail(DELIVERED, de) == "zugestellt"
    assert shown_detail(GAVE_UP_MAY_HAVE_ARRIVED, de) == ("aufgegeben; möglicherweise angekommen")
    assert shown_detail(FAILED + "HTTP 503", de) == "fehlgeschlagen: HTTP 503"
    assert shown_detail(NOT_SENT + "ab12, cd34", de) == (
        "nicht gesendet; bitten Sie von Hand um Löschung von: ab12, cd34"
    )
    assert shown_detail("30d", de) == "30d", "a period stays as it was kept"
    assert shown_detail(DELIVERED, translator("en")) == "delivered"


def test_version_names_the_store_schema_it_writes(tmp_path: Path) -> None:
    """During an upgrade (README), which version a venv holds and which store it writes."""
    from storage.sqlite_db import DATA_MIGRATIONS, KEY_MIGRATIONS, LEDGER_MIGRATIONS

    result = feedbackbot(tmp_path, "--version", lang="de_DE.UTF-8")
    assert result.returncode == 0
    assert result.stdout.startswith("feedbackbot ")
    assert (
        f"(store schema: data v{len(DATA_MIGRATIONS)}, keys v{len(KEY_MIGRATIONS)}, "
        f"ledger v{len(LEDGER_MIGRATIONS)})" in result.stdout
    )
    help_text = feedbackbot(tmp_path, "--help", lang="de_DE.UTF-8").stdout
    assert "die Version und das Speicherschema" in help_text


def test_lang_of_check_and_chat_is_the_language_of_their_errors_too(tmp_path: Path) -> None:
    """Found by review: `--lang en` was the language of what `check` and `chat` found
    themselves, but a wrong setting, a flow the bot refuses or a purpose without its
    recipient were said in the terminal's language (German)."""
    result = feedbackbot(tmp_path, "check", "--lang", "en", lang="de_DE.UTF-8", retention="abc")
    assert result.returncode == 1
    assert result.stderr.startswith(
        "feedbackbot: invalid configuration: FEEDBACKBOT_RETENTION: 'abc' is not a duration"
    ), result.stderr
    product = (REPO / "flows" / "definitions" / "product.toml").read_text(encoding="utf-8")
    # A purpose id of the shipped feedback flow described otherwise: the bot refuses it.
    conflict = tmp_path / "conflict.toml"
    conflict.write_text(
        product.replace('id = "product"', 'id = "conflict"', 1).replace(
            'id = "product_feedback"', 'id = "feedback"', 1
        ),
        encoding="utf-8",
    )
    # A purpose passing feedback on, without a recipient for it.
    shared = tmp_path / "shared.toml"
    shared.write_text(product_flow_passing_on(product), encoding="utf-8")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("FEEDBACKBOT_") and k not in ("LANG", "LC_ALL", "LC_MESSAGES")
    } | {"PYTHONPATH": str(REPO), "LANG": "de_DE.UTF-8"}
    for flow, said in [
        (conflict, "flow 'conflict' describes the purpose 'feedback' differently"),
        (shared, "the purpose 'share_acme' of flow 'product' passes feedback on"),
    ]:
        result = subprocess.run(
            [sys.executable, "-m", "bot", "chat", "--flow", str(flow), "--lang", "en"],
            env=env,
            cwd=tmp_path,
            input="/quit\n",
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 1
        assert result.stderr.startswith(f"feedbackbot: {said}"), result.stderr
