"""`feedbackbot keygen` and `feedbackbot rotate-key`: master keys and their rotation."""

from __future__ import annotations

import argparse
import asyncio
import os
import stat
import sys
from pathlib import Path
from typing import Any

from bot.cli.common import applied_again_said, open_existing_store
from bot.operator import operator_translator
from bot.settings import load_settings
from flows.i18n import N_, Translator
from storage.crypto import (
    InvalidMasterKey,
    MalformedMasterKey,
    decode_master_key,
    encode_master_key,
    generate_key,
    predictable_key,
)
from storage.masterkey import MASTER_KEY_FILE, refuse_a_key_for_a_path


def register(subparsers: Any, t: Translator) -> None:
    keygen = subparsers.add_parser(
        "keygen",
        help=t.gettext("print a new random master key"),
        description=t.gettext("Print a new master key (urlsafe base64 of 32 random bytes)."),
    )
    keygen.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help=t.gettext(
            "write the key to FILE, a new file readable by you only (an existing one is "
            "refused: it may hold the key in use)"
        ),
    )
    keygen.set_defaults(handler=run_keygen)
    rotate = subparsers.add_parser(
        "rotate-key",
        help=t.gettext("re-wrap every key under a new master key"),
        description=t.gettext(
            "Re-wrap every data key and the pseudonym key under the master key in "
            "--new-key-file. Stop the bot first. Interrupted, it can be run again; until "
            "it finishes the old key keeps working. Afterwards start the bot with the new key."
        ),
    )
    rotate.add_argument(
        "--new-key-file",
        type=Path,
        required=True,
        metavar="FILE",
        help=t.gettext("file holding the new key"),
    )
    rotate.add_argument("--batch-size", type=_positive, default=500, help=argparse.SUPPRESS)
    rotate.set_defaults(handler=run_rotate)


def run_keygen(args: argparse.Namespace) -> int:
    key = encode_master_key(generate_key())
    if args.output is None:
        print(key)
        return 0
    # Not `keygen > FILE`, which the shell empties before the key is made: run again for
    # a rotation, it replaced the key in use, and no key opened the store any more (found
    # by an operator walk-through following the README twice).
    try:
        fd = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InvalidMasterKey(
            N_(
                "{path} exists already, and may hold the master key in use: name a new file "
                "(e.g. with the date: master-$(date +%F).key)"
            ),
            path=args.output,
        ) from None
    try:
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(key + "\n")
    except BaseException:  # a full disk, Ctrl-C: no empty key file left to be taken for one
        args.output.unlink(missing_ok=True)
        raise
    print(
        operator_translator().gettext("wrote a new master key to {path}").format(path=args.output)
    )
    return 0


def _same_file(one: Path, other: Path) -> bool:
    try:
        return one.resolve().samefile(other.resolve())
    except OSError:
        return False


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(
            operator_translator().gettext("must be a whole number of at least 1")
        )
    return int(text)


def run_rotate(args: argparse.Namespace) -> int:
    t = operator_translator()
    try:
        text = args.new_key_file.read_text(encoding="ascii")
    except OSError:
        refuse_a_key_for_a_path(args.new_key_file)  # a key typed for its file: not echoed
        raise
    except UnicodeDecodeError:
        raise InvalidMasterKey(
            N_("{path} does not hold a master key"), path=args.new_key_file
        ) from None
    new_key = decode_master_key(text.strip(), args.new_key_file)  # named: review
    if predictable_key(new_key):
        raise MalformedMasterKey(
            N_(
                "{path} holds no random key (text, or the same few bytes repeated): whoever "
                "guesses it could read every record"
            ),
            path=args.new_key_file,
        )
    settings = load_settings()
    configured = settings.master_key_file or settings.data_dir / MASTER_KEY_FILE
    if not settings.master_key and _same_file(configured, args.new_key_file):
        # The key file the bot is configured with: rotated "to" itself, nothing changes, and
        # where `keygen > FILE` just made it, the key in use is gone (found by an operator
        # walk-through following the rotation twice: told only that nothing would change)
        raise InvalidMasterKey(
            N_(
                "{path} is the master key file the bot is configured with: give the new key "
                "in a new file (`feedbackbot keygen --output FILE`). Had a new key just been "
                "written into it, the key in use is gone: put the file back from its backup"
            ),
            path=args.new_key_file,
        )
    store = open_existing_store(settings, exclusive=True)
    if store.is_master_key(new_key):
        # Said rotated, after a leak, and nothing changed (found by an operator walk-through:
        # the file of the key in use given by mistake)
        raise InvalidMasterKey(
            N_(
                "{path} holds the master key the bot uses now: nothing would change. Make a "
                "new one with `feedbackbot keygen --output FILE`"
            ),
            path=args.new_key_file,
        )

    def report(done: int, total: int) -> None:
        # Progress on stderr, the result on stdout, as every other command (found by an
        # operator walk-through: `rotate-key > log` kept the progress and lost the "done").
        print(
            t.gettext("re-wrapped {done}/{total} data keys").format(done=done, total=total),
            file=sys.stderr,
            flush=True,
        )

    async def rotate() -> int:
        await store.open()
        try:
            _refuse_a_key_others_can_read(args.new_key_file)
            return await store.rotate_master_key(new_key, batch=args.batch_size, progress=report)
        finally:
            await store.close()

    try:
        with applied_again_said(t, lambda: store.applied_again):
            total = asyncio.run(rotate())
    except KeyboardInterrupt:
        if store.rotated is None:
            raise  # "interrupted": the old key opens everything, running it again finishes
        total = store.rotated  # Ctrl-C as it switched, and the switch was made: done
    print(
        t.gettext(
            "done: {total} data keys and the pseudonym key are wrapped by the new master key; "
            "start the bot with it now. Keep the old key while you keep key store backups "
            "taken before: only it opens them"
        ).format(total=total)
    )
    _key_the_bot_cannot_read(args.new_key_file, settings.data_dir, t)
    return 0


def _key_the_bot_cannot_read(path: Path, data_dir: Path, t: Translator) -> None:
    """Run as root for a bot that runs as the data folder's owner (as the README says
    operators may), a note where the new key file is root's own, mode 600: the bot could
    not read it and would not start (found by an operator walk-through: "done: … start
    the bot with it now", then "permission denied")."""
    if os.geteuid() != 0:
        return
    try:
        owner = data_dir.stat().st_uid
        key = path.stat()
    except OSError:
        return
    if owner == 0 or key.st_uid == owner or key.st_mode & stat.S_IROTH:
        return
    print(
        t.gettext(
            "note: the bot runs as the owner of its data folder (user id {owner}), who cannot "
            "read {path}: give it to that account (chown {owner} {path}) before the bot "
            "starts with it"
        ).format(owner=owner, path=path),
        file=sys.stderr,
    )


def _refuse_a_key_others_can_read(path: Path) -> None:
    """The key about to open every record must not be readable by other users: `keygen`
    under `umask 077` (as the README shows) writes it so; a copy made otherwise may not
    be. (The key a bot starts with is only warned about: a secret mounted by a container
    runtime may be readable by all and still be safe.)"""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InvalidMasterKey(
            N_(
                "{path} is open to other users (mode {mode}): make it readable by you only "
                "(chmod 600) before it becomes the master key"
            ),
            path=path,
            mode=f"{mode:o}",
        )
