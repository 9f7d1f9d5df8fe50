"""Where the master key comes from, and when one is generated."""

import os
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest

from storage import SQLiteStore, resolve_master_key
from storage.crypto import InvalidMasterKey, decode_master_key, encode_master_key, generate_key
from storage.interface import KeyStoreMissing, MasterKeyMismatch, StoreError


def listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_key_from_value(tmp_path: Path) -> None:
    key = generate_key()
    assert resolve_master_key(encode_master_key(key), None, tmp_path / "data")[:2] == (key, None)
    assert not (tmp_path / "data").exists()


def test_value_and_file_both_set_must_agree(tmp_path: Path) -> None:
    """A variable left over after a rotation to a key file must not win silently."""
    key, other = generate_key(), generate_key()
    key_file = tmp_path / "other.key"
    key_file.write_text(encode_master_key(other))
    with pytest.raises(InvalidMasterKey, match="hold different keys") as caught:
        resolve_master_key(encode_master_key(key), key_file, tmp_path / "data")
    assert encode_master_key(key) not in str(caught.value)
    assert encode_master_key(other) not in str(caught.value)
    assert not (tmp_path / "data").exists()
    key_file.write_text(encode_master_key(key) + "\n")  # the same key twice is no conflict
    assert resolve_master_key(encode_master_key(key), key_file, tmp_path / "data")[:2] == (
        key,
        None,
    )


def test_value_and_a_generated_key_file_must_agree(tmp_path: Path) -> None:
    """Found by review: the data folder's generated master.key beside the variable."""
    data = tmp_path / "data"
    generated, _, _ = resolve_master_key(None, None, data)
    other = generate_key()
    with pytest.raises(InvalidMasterKey, match="hold different keys"):
        resolve_master_key(encode_master_key(other), None, data)
    assert resolve_master_key(encode_master_key(generated), None, data)[:2] == (generated, None)
    (data / "master.key").write_text("not a key\n")  # unreadable there: not in the way
    assert resolve_master_key(encode_master_key(other), None, data)[:2] == (other, None)


def test_key_from_file(tmp_path: Path) -> None:
    key = generate_key()
    key_file = tmp_path / "secret.key"
    key_file.write_text(encode_master_key(key) + "\n")
    assert resolve_master_key(None, key_file, tmp_path / "data")[:2] == (key, None)


def test_missing_key_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidMasterKey, match="cannot read"):
        resolve_master_key(None, tmp_path / "absent.key", tmp_path / "data")
    assert not (tmp_path / "data").exists()


def test_malformed_value_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidMasterKey):
        resolve_master_key("definitely-not-a-key", None, tmp_path)


def test_a_malformed_key_names_where_it_came_from(tmp_path: Path) -> None:
    """Found by review: "master key must be 32 bytes, got 5" named neither the variable,
    the key file nor the generated master.key."""
    with pytest.raises(InvalidMasterKey) as raised:
        resolve_master_key("bm90YWtleQ", None, tmp_path)
    assert str(raised.value) == "the master key in FEEDBACKBOT_MASTER_KEY must be 32 bytes, got 7"
    for key_file in (tmp_path / "set.key", tmp_path / "data" / "master.key"):
        key_file.parent.mkdir(exist_ok=True)
        key_file.write_text("not base64!")
        given = key_file if key_file.name == "set.key" else None
        with pytest.raises(InvalidMasterKey) as raised:
            resolve_master_key(None, given, tmp_path / "data")
        assert str(raised.value) == f"the master key in {key_file} is not urlsafe base64"


def test_first_run_generates_a_private_key_file(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    key, generated, _ = resolve_master_key(None, None, data_dir)
    assert generated == data_dir / "master.key"
    assert decode_master_key(generated.read_text()) == key
    if os.name == "posix":
        assert stat.S_IMODE(generated.stat().st_mode) == 0o600
        assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    # The next start reads the same key and generates nothing.
    assert resolve_master_key(None, None, data_dir)[:2] == (key, None)


def test_existing_key_store_without_key_refuses_and_creates_nothing(tmp_path: Path) -> None:
    (tmp_path / "keys.db").write_bytes(b"pretend")
    before = listing(tmp_path)
    with pytest.raises(MasterKeyMismatch) as caught:
        resolve_master_key(None, None, tmp_path)
    assert "\n" not in str(caught.value)
    # the file that went missing named, and where (found by an operator walk-through)
    assert "no master key was given, and there is no master.key in it" in str(caught.value)
    assert str(tmp_path) in str(caught.value)
    assert listing(tmp_path) == before


def test_data_without_key_store_refuses_and_creates_nothing(tmp_path: Path) -> None:
    (tmp_path / "feedback.db").write_bytes(b"pretend")
    before = listing(tmp_path)
    with pytest.raises(KeyStoreMissing):
        resolve_master_key(None, None, tmp_path)
    assert listing(tmp_path) == before


async def test_generated_key_opens_the_store_on_the_next_start(tmp_path: Path) -> None:
    key, _, _ = resolve_master_key(None, None, tmp_path)
    store = SQLiteStore(tmp_path, key)
    await store.open()
    await store.close()
    again, generated, _ = resolve_master_key(None, None, tmp_path)
    assert generated is None
    store = SQLiteStore(tmp_path, again)
    await store.open()
    await store.close()


def test_a_key_file_others_can_read_is_named_with_its_mode(tmp_path: Path) -> None:
    key = generate_key()
    path = tmp_path / "master.key"
    path.write_text(encode_master_key(key))
    path.chmod(0o644)
    assert resolve_master_key(None, path, tmp_path / "data") == (key, None, (path, 0o644))
    # Beside the variable too: the key lies there for others all the same.
    resolved = resolve_master_key(encode_master_key(key), path, tmp_path / "data")
    assert resolved.open_to_others == (path, 0o644)
    path.chmod(0o600)
    assert resolve_master_key(None, path, tmp_path / "data") == (key, None, None)


async def test_a_read_only_store_says_so_not_that_a_file_is_damaged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SQLiteStore(tmp_path / "data", generate_key())

    async def read_only() -> None:  # what SQLite says on a read-only mount or folder
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(store, "_open", read_only)
    with pytest.raises(StoreError, match="cannot write to the store") as refused:
        await store.open()
    assert "damaged" not in str(refused.value)


async def test_a_store_on_a_read_only_mount_is_not_said_to_be_damaged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by an operator walk-through: on a read-only mount SQLite says "unable to open
    database file", and the answer advised restoring a backup over good files."""
    data = tmp_path / "data"
    data.mkdir()
    store = SQLiteStore(data, generate_key())

    async def unable() -> None:
        raise sqlite3.OperationalError("unable to open database file")

    monkeypatch.setattr(store, "_open", unable)
    with pytest.raises(StoreError, match="from a backup"):
        await store.open()  # a writable folder: perhaps damaged, as before
    mounted = os.statvfs(data)
    read_only = os.statvfs_result((*mounted[:8], mounted.f_flag | os.ST_RDONLY, *mounted[9:]))
    monkeypatch.setattr(os, "statvfs", lambda _: read_only)
    with pytest.raises(StoreError, match="cannot write to the store") as refused:
        await store.open()
    assert "backup" not in str(refused.value) and "damaged" not in str(refused.value)


def test_a_data_folder_that_is_a_file_is_said_to_be_one_before_a_key_is_made(
    tmp_path: Path,
) -> None:
    """Found by review: a first run said "not a folder: settings.env/master.key"."""
    named = tmp_path / "settings.env"
    named.write_text("x")
    with pytest.raises(InvalidMasterKey) as raised:
        resolve_master_key(None, None, named)
    assert str(raised.value) == (
        f"{named} is not a folder: FEEDBACKBOT_DATA_DIR names the bot's data folder"
    )
    assert named.read_text() == "x"


@pytest.mark.parametrize("step", ["fdopen", "link"], ids=["before-the-key", "as-it-is-named"])
def test_ctrl_c_as_the_key_file_is_made_leaves_a_whole_key_or_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    """Found by an interrupt audit: Ctrl-C after master.key was made and before the key
    was in it left it empty, and every later start refused it until deleted by hand.
    Here Ctrl-C comes before the key is written, and as the finished file gets its name."""
    data = tmp_path / "data"
    real = getattr(os, step)

    def then_ctrl_c(*args: object, **kwargs: object) -> object:
        if step == "fdopen":  # made, the key not yet in it
            raise KeyboardInterrupt
        real(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(os, step, then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        resolve_master_key(None, None, data)
    monkeypatch.setattr(os, step, real)
    if step == "fdopen":
        assert listing(data) == [], "nothing: the next start makes the key"
        key, _, _ = resolve_master_key(None, None, data)
    else:
        assert listing(data) == ["master.key"]
        key = decode_master_key((data / "master.key").read_text().strip())
    assert resolve_master_key(None, None, data)[0] == key


async def test_a_store_file_this_user_cannot_write_is_refused_at_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by an operator walk-through: with `chmod 400 feedback.db` in a writable folder
    the bot said "ready", then every answer failed ("something went wrong"), and the purge
    with it, said in the log only. (The test runs as root, whom permissions do not stop:
    the check is by `os.access`, as the bot's own account would be answered.)"""
    data = tmp_path / "data"
    key = generate_key()
    store = SQLiteStore(data, key)
    await store.open()
    await store.close()
    real = os.access

    def access(path: Any, mode: int, *args: Any, **kwargs: Any) -> bool:
        if Path(path).name == "feedback.db" and mode == os.W_OK:
            return False
        return real(path, mode, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)
    before = {p.name: p.read_bytes() for p in data.iterdir()}
    with pytest.raises(StoreError) as refused:
        await SQLiteStore(data, key).open()
    assert str(refused.value) == (
        f"cannot write to the store in {data}: feedback.db is read-only for this user; the bot "
        "needs to write there (check the owner and permissions of the folder and files)"
    )
    assert {p.name: p.read_bytes() for p in data.iterdir()} == before, "nothing written"
    # a look from the CLI (a backup, say) only reads: not refused (found by review: the
    # backup was refused exactly when the store was in trouble)
    look = SQLiteStore(data, key, upgrade=False)
    await look.open()
    await look.backup(tmp_path / "copy.db")
    await look.close()
    assert (tmp_path / "copy.db").is_file()
    # … but a store that writes without upgrading (`purge`, `rotate-key`, which had switched
    # the key and then failed: found by review) is refused before it changes anything
    with pytest.raises(StoreError, match=r"feedback\.db is read-only for this user"):
        await SQLiteStore(data, key, upgrade=False, exclusive=True).open()
    after = {p.name: p.read_bytes() for p in data.iterdir() if p.name != "feedbackbot.lock"}
    assert after == before, "nothing written (but the lock it took)"
    monkeypatch.setattr(os, "access", real)
    again = SQLiteStore(data, key)  # the lock was let go
    await again.open()
    await again.close()


async def test_sqlites_own_reason_is_said_in_the_operators_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by an operator walk-through: "…kann nicht geschrieben werden: attempt to write
    a readonly database", SQLite's English inside a German line."""
    from flows.i18n import translator

    store = SQLiteStore(tmp_path / "data", generate_key())

    async def read_only() -> None:
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(store, "_open", read_only)
    with pytest.raises(StoreError) as refused:
        await store.open()
    de = translator("de")
    said = refused.value.said(de.gettext(refused.value.template), de.reason)
    assert said.startswith(f"in den Speicher in {tmp_path / 'data'} kann nicht geschrieben "), said
    assert ": die Datenbank ist schreibgeschützt; der Bot muss dort schreiben können" in said
    assert "readonly" not in said
    # a reason the catalogs do not know stays as SQLite says it
    other = StoreError("{reason}", reason=sqlite3.OperationalError("no such table: x"))
    assert other.said("{reason}", de.reason) == "no such table: x"
