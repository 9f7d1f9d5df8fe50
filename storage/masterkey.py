"""Finding (or, on a first run, creating) the master key that wraps every data key."""

from __future__ import annotations

import os
import re
import stat
import tempfile
from pathlib import Path
from typing import NamedTuple

from storage.crypto import InvalidMasterKey, decode_master_key, encode_master_key, generate_key
from storage.interface import N_, KeyStoreMissing, MasterKeyMismatch
from storage.sqlite import DATA_FILE, KEY_STORE_FILE

MASTER_KEY_FILE = "master.key"


class ResolvedKey(NamedTuple):
    key: bytes
    generated: Path | None = None
    """A key file generated just now."""
    open_to_others: tuple[Path, int] | None = None
    """The key file read, and its mode, where others than its owner may read it: for the
    command line to say, in the operator's language (a log line here reached the terminal
    of a CLI command in English, through Python's last-resort handler)."""


def resolve_master_key(key: str | None, key_file: Path | None, data_dir: Path) -> ResolvedKey:
    """The master key, the path of a key file generated just now, and a key file read
    that others than its owner may read.

    Order: `key` itself, then `key_file`, then `<data_dir>/master.key`. Only when none
    exists and no store exists yet is a key generated (file mode 0600, folder 0700).

    Raises InvalidMasterKey for a malformed key, an unreadable `key_file`, or `key` and
    `key_file` both given and different (a variable left over after a rotation must not
    silently win over the new key's file),
    MasterKeyMismatch when a key store exists but no key was given, and KeyStoreMissing
    when only a data store exists; in both cases nothing is created.
    """
    default = data_dir / MASTER_KEY_FILE
    if data_dir.exists() and not data_dir.is_dir():  # before a key file is made in it
        raise InvalidMasterKey(
            N_("{path} is not a folder: FEEDBACKBOT_DATA_DIR names the bot's data folder"),
            path=data_dir,
        )
    if key:
        value = decode_master_key(key, "FEEDBACKBOT_MASTER_KEY")
        # Beside the variable, a key file set, or one the bot generated (an old key left
        # after a rotation); one that cannot be read there is not in the way.
        beside = key_file if key_file is not None else default if default.exists() else None
        if beside is not None:
            try:
                in_file = _read_key_file(beside)
            except InvalidMasterKey:
                if key_file is not None:
                    raise
                in_file = ResolvedKey(value)
            if value != in_file.key:
                raise InvalidMasterKey(
                    N_(
                        "FEEDBACKBOT_MASTER_KEY and the key file {path} hold different keys; "
                        "keep only the one that opens the store"
                    ),
                    path=beside,
                )
            return ResolvedKey(value, open_to_others=in_file.open_to_others)
        return ResolvedKey(value)
    if key_file is not None:
        return _read_key_file(key_file)
    if default.exists():
        return _read_key_file(default)
    if (data_dir / KEY_STORE_FILE).exists():
        # Named: the file the bot generated there is what went missing, mostly (found by
        # an operator walk-through: moved aside, the message spoke only of variables).
        raise MasterKeyMismatch(
            N_(
                "a key store exists in {path} but no master key was given, and there is no "
                "{file} in it; put the key file back there, or set FEEDBACKBOT_MASTER_KEY or "
                "FEEDBACKBOT_MASTER_KEY_FILE"
            ),
            path=data_dir,
            file=MASTER_KEY_FILE,
        )
    if (data_dir / DATA_FILE).exists():
        raise KeyStoreMissing(
            N_("{path} holds data but no key store; restore {file}"),
            path=data_dir,
            file=KEY_STORE_FILE,
        )
    return ResolvedKey(*_generate_key_file(data_dir, default))


def _read_key_file(path: Path) -> ResolvedKey:
    try:
        text = path.read_text(encoding="ascii")
    except OSError as exc:
        refuse_a_key_for_a_path(path)
        raise InvalidMasterKey(
            N_("cannot read master key file {path}: {reason}"), path=path, reason=exc
        ) from None
    except UnicodeDecodeError:
        raise InvalidMasterKey(
            N_("master key file {path} is not a key: it holds more than ASCII text"), path=path
        ) from None
    key = decode_master_key(text, path)
    try:
        mode = path.stat().st_mode
    except OSError:
        return ResolvedKey(key)
    if mode & OPEN_TO_OTHERS:
        return ResolvedKey(key, open_to_others=(path, stat.S_IMODE(mode)))
    return ResolvedKey(key)


OPEN_TO_OTHERS = 0o066
"""The bits that let the group or others read or change a file (an execute bit alone
gives nobody anything)."""


def refuse_a_key_for_a_path(path: Path) -> None:
    """Raises InvalidMasterKey, without the path, when the name given for a key file that
    cannot be read is a master key itself: the key in FEEDBACKBOT_MASTER_KEY_FILE (or
    `--new-key-file`) was echoed as "cannot read master key file <key>" to the terminal
    and the system journal (found by a security review)."""
    try:
        decode_master_key(str(path))
    except InvalidMasterKey:
        if _key_like(str(path).strip()):
            # A key with a slip in copying (a character lost or one more): no key, but
            # all of it bar a few bits (found by a review of the change).
            raise InvalidMasterKey(
                N_(
                    "the name given for the master key file looks like a master key, not the "
                    "path of a file; write the key to a file only you can read (chmod 600) and "
                    "name that file, or set FEEDBACKBOT_MASTER_KEY to the key"
                )
            ) from None
        return
    raise InvalidMasterKey(
        N_(
            "the name given for the master key file is a master key itself, not the path of "
            "a file; write the key to a file only you can read (chmod 600) and name that "
            "file, or set FEEDBACKBOT_MASTER_KEY to the key"
        )
    )


_KEY_LIKE = re.compile(r"[A-Za-z0-9_+/-]{38,48}={0,3}")
"""A name of a master key's length and letters (43 of base64, urlsafe or standard, "=" after),
no dot."""


def _key_like(name: str) -> bool:
    """Whether a name for a key file that cannot be read is a master key (or nearly one).
    A standard base64 key (`openssl rand -base64 32`) has "/" in it: copied with a slip,
    no key any more, it read as a path in a folder and was echoed whole (found by a
    security review). A real path of that length names folders that exist
    ("/var/lib/feedbackbot/..."); a key's first "folder" is random letters no machine
    has; and a standard base64 key has no "-" or "_"."""
    if not _KEY_LIKE.fullmatch(name) or not _mixed(name):
        return False
    if "/" not in name:
        return True
    if "-" in name or "_" in name:
        return False  # a standard base64 key has neither; a path's names often have
    first = name.lstrip("/").split("/", 1)[0]
    return not os.path.exists(("/" if name.startswith("/") else "") + first)


def _mixed(name: str) -> bool:
    """Capitals, small letters and digits, as nearly every random key has."""
    return (
        any(c.isupper() for c in name)
        and any(c.islower() for c in name)
        and any(c.isdigit() for c in name)
    )


def _generate_key_file(data_dir: Path, path: Path) -> tuple[bytes, Path]:
    if not data_dir.exists():
        data_dir.mkdir(parents=True, mode=0o700)
        data_dir.chmod(0o700)  # mkdir's mode is filtered by the umask
    key = generate_key()
    # Written whole beside it, then given its name by a link, which never overwrites a
    # key another process wrote in the meantime: made under its name and then written,
    # a Ctrl-C in between left an empty master.key that every later start refused
    # (found by an interrupt audit).
    fd, partial = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(encode_master_key(key) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.link(partial, path)
    finally:
        os.unlink(partial)
    return key, path
