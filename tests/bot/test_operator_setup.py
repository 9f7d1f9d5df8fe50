"""What an operator setting the bot up meets on the command line: where a relative data
folder really is, what to do with a master key of the wrong shape, and secrets in a
`.env` that others can read (found by an operator's first install from the README)."""

from __future__ import annotations

import base64
import logging
import os
import pwd
from pathlib import Path
from typing import Any

import pytest

import bot.app
from bot.cli import main
from bot.cli.common import open_store
from bot.logs import QUIETED
from bot.settings import load_settings
from storage.sqlite_db import DATA_MIGRATIONS, KEY_MIGRATIONS, LEDGER_MIGRATIONS
from tests.harness import MASTER_KEY

TOKEN = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345678"


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory with no FEEDBACKBOT_ settings of the test run's own."""
    for name in list(os.environ):
        if name.startswith("FEEDBACKBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_data_folder_without_a_store_is_named_absolutely(
    site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A backup run by cron starts in the home folder: "no store in data" did not say
    which `data` was looked at."""
    monkeypatch.setenv("FEEDBACKBOT_MASTER_KEY", MASTER_KEY)
    assert main(["stats"]) == 1
    assert f"no store in {site / 'data'} " in capsys.readouterr().err


@pytest.mark.parametrize(
    "key", ["00" * 32, "abcd", "not base64!"], ids=["hex", "short", "not-base64"]
)
def test_a_master_key_of_the_wrong_shape_is_told_how_to_make_one(
    site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], key: str
) -> None:
    """`openssl rand -hex 32` gives 64 hex digits: "must be 32 bytes, got 48" alone left the
    operator guessing."""
    (site / "data").mkdir()
    (site / "data" / "keys.db").write_bytes(b"")
    monkeypatch.setenv("FEEDBACKBOT_MASTER_KEY", key)
    assert main(["stats"]) == 1
    err = capsys.readouterr().err
    assert "`feedbackbot keygen --output FILE` makes a new one" in err, err
    assert key not in err
    assert err.count("\n") == 2 and "Traceback" not in err
    assert [p.name for p in (site / "data").iterdir()] == ["keys.db"], "nothing was created"


def test_a_new_key_of_the_wrong_shape_for_rotate_key_is_told_how_to_make_one(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by an operator walk-through: "(a new key does not open a store made with
    another)" after a malformed key given to rotate to, where a new one is the point."""
    new = site / "new.key"
    new.write_text("abc\n")
    new.chmod(0o600)
    assert main(["rotate-key", "--new-key-file", str(new)]) == 1
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == (
        "feedbackbot: a master key is urlsafe base64 of 32 random bytes; `feedbackbot keygen "
        "--output FILE` makes a new one"
    ), err


def test_a_wrong_master_key_gets_no_advice_to_make_a_new_one(
    site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (site / "data").mkdir()
    (site / "data" / "keys.db").write_bytes(b"")
    monkeypatch.setenv("FEEDBACKBOT_MASTER_KEY_FILE", str(site / "missing.key"))
    assert main(["stats"]) == 1
    err = capsys.readouterr().err
    assert "keygen" not in err
    # a path, not a key: named as it is (mutation audit: every path called a key went unnoticed)
    assert f"cannot read master key file {site / 'missing.key'}" in err, err
    assert "is a master key itself" not in err


OPENSSL_KEY = base64.b64encode(bytes(range(0xE0, 0x100))).decode()
"""A key as `openssl rand -base64 32` writes it: standard base64, with "+" and "/"."""


@pytest.mark.parametrize("key", [MASTER_KEY, OPENSSL_KEY], ids=["urlsafe", "openssl"])
@pytest.mark.parametrize("command", ["stats", "rotate-key"])
def test_a_master_key_given_for_its_file_is_not_echoed(
    site: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
    key: str,
) -> None:
    """The key itself in FEEDBACKBOT_MASTER_KEY_FILE (or `--new-key-file`) was printed as
    "cannot read master key file <key>", to the terminal and to the system journal of a
    service (found by a security review). An openssl key (standard base64, accepted as
    a key) is caught as one too."""
    assert "/" in OPENSSL_KEY and "+" in OPENSSL_KEY
    (site / "data").mkdir()
    (site / "data" / "keys.db").write_bytes(b"")
    if command == "stats":
        monkeypatch.setenv("FEEDBACKBOT_MASTER_KEY_FILE", key)
        assert main(["stats"]) == 1
    else:
        monkeypatch.setenv("FEEDBACKBOT_MASTER_KEY", MASTER_KEY)
        assert main(["rotate-key", "--new-key-file", key]) == 1
    err = capsys.readouterr().err
    for part in key.rstrip("=").split("/"):
        assert len(part) < 6 or part[:12] not in err, err
    assert "is a master key itself" in err, err
    assert [p.name for p in (site / "data").iterdir()] == ["keys.db"], "nothing was created"


@pytest.mark.parametrize(
    "near",
    [
        MASTER_KEY.rstrip("=")[:-1],
        MASTER_KEY.rstrip("=") + "Q",
        MASTER_KEY.replace("=", "") + "==",
        OPENSSL_KEY.rstrip("=")[:-1],
        OPENSSL_KEY.rstrip("=") + "Q",
    ],
    ids=[
        "a character lost",
        "a character more",
        "padded wrongly",
        "openssl, a character lost",
        "openssl, a character more",
    ],
)
def test_a_master_key_given_for_its_file_with_a_slip_is_not_echoed_either(
    site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], near: str
) -> None:
    """Found by a review of the change: a key copied with a character lost or one more, no
    key any more, was printed whole as "cannot read master key file <key>": all but six
    bits of it, in the terminal and the service's journal. An openssl key's "/" made it
    read as a path in a folder and it was still printed (found by the next review)."""
    (site / "data").mkdir()
    (site / "data" / "keys.db").write_bytes(b"")
    monkeypatch.setenv("FEEDBACKBOT_MASTER_KEY_FILE", near)
    assert main(["stats"]) == 1
    err = capsys.readouterr().err
    for part in near.rstrip("=").split("/"):
        assert len(part) < 6 or part[:12] not in err, err
    assert "looks like a master key" in err, err


def test_a_missing_key_file_is_still_named(
    site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A path is not mistaken for a key: the operator learns which file is missing."""
    (site / "data").mkdir()
    (site / "data" / "keys.db").write_bytes(b"")
    named = "secrets/feedbackbot_production_master_key_2026"
    monkeypatch.setenv("FEEDBACKBOT_MASTER_KEY_FILE", named)
    assert main(["stats"]) == 1
    assert f"cannot read master key file {named}" in capsys.readouterr().err


@pytest.mark.parametrize(
    "named", ["/usr/share/FeedbackBot2026/keys/MasterKey", "Secrets/Feedback-Bot/Key2026Production"]
)
def test_a_missing_key_file_of_a_keys_length_and_letters_is_named(
    site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], named: str
) -> None:
    """A path in a folder that exists, or with a "-" no standard base64 key has, is a
    path: the operator learns which file is missing, not that it "looks like a key"."""
    (site / "data").mkdir()
    (site / "data" / "keys.db").write_bytes(b"")
    monkeypatch.setenv("FEEDBACKBOT_MASTER_KEY_FILE", named)
    assert main(["stats"]) == 1
    err = capsys.readouterr().err
    assert f"cannot read master key file {named}" in err, err
    assert "master key itself" not in err and "looks like" not in err


PASSWORD_KEY = base64.urlsafe_b64encode(b"UnserFirmenPasswort2024Sommer!!!").decode()
ZERO_KEY = base64.urlsafe_b64encode(bytes(32)).decode()
# (mutation audit: a passphrase with spaces, and a key of eight bytes repeated that is no
# text, went unnoticed as not random)
PASSPHRASE_KEY = base64.urlsafe_b64encode(b"mein geheimes passwort fuer 2024").decode()
REPEATED_KEY = base64.urlsafe_b64encode(bytes(range(1, 9)) * 4).decode()


@pytest.mark.parametrize(
    ("key", "warned"),
    [
        (PASSWORD_KEY, True),
        (PASSPHRASE_KEY, True),
        (ZERO_KEY, True),
        (REPEATED_KEY, True),
        (MASTER_KEY, False),
    ],
    ids=["password", "passphrase", "zeros", "repeated", "random"],
)
def test_a_master_key_that_is_not_random_is_warned_about(
    site: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    key: str,
    warned: bool,
) -> None:
    """A password encoded as base64, or 32 zero bytes, is the right shape and was taken
    without a word: whoever guesses it reads every record (found by a security review)."""
    monkeypatch.setenv("FEEDBACKBOT_MASTER_KEY", key)
    open_store(load_settings())
    err = capsys.readouterr().err
    assert ("the master key is not random" in err) is warned, err
    assert key not in err


@pytest.mark.parametrize("key", [PASSWORD_KEY, ZERO_KEY], ids=["password", "zeros"])
def test_rotate_key_refuses_a_new_key_that_is_not_random(
    site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], key: str
) -> None:
    monkeypatch.setenv("FEEDBACKBOT_MASTER_KEY", MASTER_KEY)
    new = site / "new.key"
    new.write_text(key + "\n")
    new.chmod(0o600)
    assert main(["rotate-key", "--new-key-file", str(new)]) == 1
    err = capsys.readouterr().err
    assert "holds no random key" in err and "`feedbackbot keygen --output FILE` makes" in err, err
    assert key not in err
    assert sorted(p.name for p in site.iterdir()) == ["new.key"], "no store was opened"


@pytest.mark.parametrize("secret", ["FEEDBACKBOT_MASTER_KEY", "FEEDBACKBOT_TOKEN"])
def test_a_env_file_with_a_secret_that_others_can_read_is_named(
    site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], secret: str
) -> None:
    """A master key file readable by others is said; the same key in a `.env` of mode 644
    (as an editor makes it) was read without a word."""
    value = MASTER_KEY if secret == "FEEDBACKBOT_MASTER_KEY" else TOKEN
    env = site / ".env"
    env.write_text(f"{secret}={value}\nFEEDBACKBOT_RETENTION=90d\n")
    if secret == "FEEDBACKBOT_TOKEN":
        monkeypatch.setenv("FEEDBACKBOT_MASTER_KEY", MASTER_KEY)
    env.chmod(0o644)
    open_store(load_settings())
    err = capsys.readouterr().err
    assert f"{env} holds {secret} and can be read by others (mode 644); chmod 600 it" in err
    assert value not in err
    # Others may change it, not read it: said as it is (found by review: "read" of a
    # file nobody else could read); an execute bit alone gives nobody a thing.
    env.chmod(0o620)
    open_store(load_settings())
    err = capsys.readouterr().err
    assert f"{env} holds {secret} and can be changed by others (mode 620); chmod 600 it" in err
    for mode in (0o600, 0o711):
        env.chmod(mode)
        open_store(load_settings())
        assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("mode", "said"),
    [(0o640, "can be read by others"), (0o602, "can be changed by others"), (0o711, None)],
)
def test_a_key_file_others_can_read_or_change_is_said_as_it_is(
    site: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    mode: int,
    said: str | None,
) -> None:
    key_file = site / "master.key"
    key_file.write_text(MASTER_KEY + "\n")
    key_file.chmod(mode)
    monkeypatch.setenv("FEEDBACKBOT_MASTER_KEY_FILE", str(key_file))
    open_store(load_settings())
    err = capsys.readouterr().err
    if said is None:
        assert err == ""
    else:
        assert err == (
            f"feedbackbot: master key file {key_file} {said} (mode {mode:o}); chmod 600 it\n"
        )
    assert MASTER_KEY not in err


def test_a_env_file_without_secrets_may_be_readable(
    site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (site / ".env").write_text("FEEDBACKBOT_RETENTION=90d\n")
    (site / ".env").chmod(0o644)
    monkeypatch.setenv("FEEDBACKBOT_MASTER_KEY", MASTER_KEY)
    open_store(load_settings())
    assert capsys.readouterr().err == ""


class _NoPolling:
    def run_polling(self, **kwargs: Any) -> None:
        """Returns at once, as after a stop signal."""


def test_run_says_where_its_data_is_and_that_a_store_it_made_is_new(
    site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Under systemd without WorkingDirectory= the bot makes a new store in /data and runs
    on it; the log said "key_store_created" and no folder."""
    for name, value in {
        "FEEDBACKBOT_TOKEN": TOKEN,
        "FEEDBACKBOT_CONTROLLER_NAME": "Beispiel GmbH",
        "FEEDBACKBOT_CONTROLLER_CONTACT": "datenschutz@beispiel.de",
        "FEEDBACKBOT_MASTER_KEY": MASTER_KEY,
        "FEEDBACKBOT_SHIPPED_FLOWS": "feedback",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(bot.app, "build_application", lambda *args, **kwargs: _NoPolling())
    root = logging.getLogger()  # `run` sets up logging of its own: put back afterwards
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(root, "level", root.level)
    for name in QUIETED:
        monkeypatch.setattr(logging.getLogger(name), "level", logging.getLogger(name).level)
    assert main(["run"]) == 0
    said = capsys.readouterr().err
    schema = (
        f"data v{len(DATA_MIGRATIONS)}, keys v{len(KEY_MIGRATIONS)}, "
        f"ledger v{len(LEDGER_MIGRATIONS)}"
    )
    made = f"created a new, empty store in {site / 'data'} (store schema: {schema});"
    assert f"WARNING bot.cli: {made}" in said, said
    assert f"INFO bot.cli: starting long polling; data folder {site / 'data'}\n" in said
    assert main(["run"]) == 0
    said = capsys.readouterr().err
    assert "new, empty store" not in said and "starting long polling" in said


@pytest.mark.parametrize("option", [None, "--keys", "--ledger"])
def test_a_backup_named_as_a_folder_is_refused_with_a_file_name_to_use(
    site: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    option: str | None,
) -> None:
    """`backup /mnt/usb/` with the stick not mounted wrote a file named /mnt/usb (the
    "/" is dropped by Path): found by an operator audit."""
    monkeypatch.setenv("FEEDBACKBOT_MASTER_KEY", MASTER_KEY)
    monkeypatch.setenv("LC_ALL", "en_GB.UTF-8")
    folder = f"{site / 'usb'}/"
    args = ["backup", folder] if option is None else ["backup", "copy.db", option, folder]
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert exit_.value.code == 2
    example = {None: "feedback.db", "--keys": "keys.db", "--ledger": "erasures.db"}[option]
    err = capsys.readouterr().err
    assert f"{folder} ends with “/”, so it names a folder; name a new file in it, e.g. " in err
    assert f"e.g. {folder}{example}" in err, err
    assert sorted(p.name for p in site.iterdir()) == [], "nothing written, no store made"


def test_keygen_writes_a_new_file_of_its_own_and_never_over_one(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by an operator walk-through: the README's `keygen > new.key`, followed again
    at the next rotation, emptied the key file in use before the new key was made, and no
    key opened the store any more."""
    key_file = site / "master-2026-12-06.key"
    assert main(["keygen", "--output", str(key_file)]) == 0
    assert capsys.readouterr().out == f"wrote a new master key to {key_file}\n"
    written = key_file.read_text()
    assert len(base64.urlsafe_b64decode(written.strip())) == 32 and written.endswith("\n")
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert main(["keygen", "--output", str(key_file)]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"feedbackbot: {key_file} exists already, and may hold the master key in use: name a "
        "new file (e.g. with the date: master-$(date +%F).key)\n"
    ), err
    assert key_file.read_text() == written, "the key there is kept"


def test_rotate_key_to_the_key_file_the_bot_is_configured_with_is_refused_saying_why(
    site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by an operator walk-through: `keygen > new.key` over the configured key file,
    then `rotate-key --new-key-file new.key`, was told only that nothing would change."""
    key_file = site / "new.key"
    assert main(["keygen", "--output", str(key_file)]) == 0
    capsys.readouterr()
    monkeypatch.delenv("FEEDBACKBOT_MASTER_KEY", raising=False)
    monkeypatch.setenv("FEEDBACKBOT_MASTER_KEY_FILE", str(key_file))
    assert main(["rotate-key", "--new-key-file", str(key_file)]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"feedbackbot: {key_file} is the master key file the bot is configured with: give the "
        "new key in a new file (`feedbackbot keygen --output FILE`). Had a new key just been "
        "written into it, the key in use is gone: put the file back from its backup\n"
    ), err


def test_a_file_of_another_user_is_named_with_its_owner_and_how_to_act_as_them(
    site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by an operator walk-through: "Zugriff verweigert: …/keys.db" alone, run as
    oneself on the bot account's data folder."""
    import bot.cli.keys

    theirs = site / "keys.db"
    theirs.write_bytes(b"")
    os.chown(theirs, 65534, 65534)  # (the tests run as root, who may)
    owner = pwd.getpwuid(65534).pw_name

    def denied(args: object) -> int:
        raise PermissionError(13, "Permission denied", str(theirs))

    monkeypatch.setattr(bot.cli.keys, "run_keygen", denied)
    assert main(["keygen"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].endswith(f": {theirs}"), err
    assert err[1] == (
        f"feedbackbot: it belongs to the user {owner}: run the command as that user (e.g. "
        f"`sudo -u {owner} feedbackbot …`)"
    ), err
    os.chown(theirs, os.geteuid(), os.getegid())  # one's own: no such line
    assert main(["keygen"]) == 1
    assert len(capsys.readouterr().err.splitlines()) == 1
