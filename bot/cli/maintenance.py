"""`feedbackbot purge`, `backup`, `restore` and `stats`: upkeep an operator runs by hand."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import sys
from collections import defaultdict
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from bot.cli.common import (
    applied_again_said,
    interrupted_code,
    lookback_of_surveys,
    not_cut_short,
    open_store,
    quiet_flow_warnings,
    refuse_the_bots_files,
    retentions,
    run_whole,
    with_store,
)
from bot.config import audit_kept, statistics_before
from bot.operator import operator_translator
from bot.settings import Settings, load_settings
from flows.catalog import FlowCatalog, FlowDefinitionError
from flows.i18n import Translator
from flows.models import ChoiceStep, MultipleChoiceStep, render_text
from flows.service import utc_now
from storage import SQLiteStore, StatisticsRow, StoreError
from storage.interface import N_
from storage.masterkey import MASTER_KEY_FILE
from storage.sqlite import DATA_FILE, LEDGER_SINCE
from storage.sqlite_db import (
    DATA_MIGRATIONS,
    KEY_MIGRATIONS,
    LEDGER_MIGRATIONS,
    LOCK_FILE,
    hold_lock,
    release_lock,
    schema_version,
)
from storage.sqlite_ledger import LEDGER_FILE
from storage.sqlite_restore import (
    Backups,
    check_backups,
    holds_nothing,
    ledger_entries,
    of_another_store,
    put_back,
    remove_aside,
    undo,
)


def register(subparsers: Any, t: Translator) -> None:
    purge = subparsers.add_parser(
        "purge",
        help=t.gettext(
            "delete what expired now: feedback, drafts, language choices, audit entries, "
            "unused keys"
        ),
        description=t.gettext(
            "Delete expired feedback, drafts, language choices, orphaned rows and unused "
            "keys now "
            "(the bot also does this at start and every FEEDBACKBOT_PURGE_INTERVAL)."
        ),
    )
    purge.set_defaults(handler=run_purge)
    backup = subparsers.add_parser(
        "backup",
        help=t.gettext(
            "write a consistent copy of the data store (with --keys, the key store; with "
            "--ledger, the erasure ledger)"
        ),
        description=t.gettext(
            "Write a consistent copy of feedback.db to DEST with VACUUM INTO, also "
            "while the bot runs. The key store is not included: back it up separately, "
            "with --keys, and keep those copies only briefly. With --ledger, the erasure "
            "ledger too."
        ),
    )
    backup.add_argument(
        "destination",
        type=partial(new_file, example="feedback.db"),
        metavar="DEST",
        help=t.gettext("a new file for the copy"),
    )
    backup.add_argument(
        "--keys",
        type=partial(new_file, example="keys.db"),
        metavar="KEYS_DEST",
        help=t.gettext(
            "also write a consistent copy of the key store (keys.db) to this new file; "
            "store it apart from the data backups"
        ),
    )
    backup.add_argument(
        "--ledger",
        type=partial(new_file, example="erasures.db"),
        metavar="LEDGER_DEST",
        help=t.gettext(
            "also write a consistent copy of the erasure ledger (erasures.db) to this new "
            "file, for a data folder lost as a whole"
        ),
    )
    backup.set_defaults(handler=run_backup)
    restore = subparsers.add_parser(
        "restore",
        help=t.gettext("put backups back into the data folder (with the bot stopped)"),
        description=t.gettext(
            "Check the backups, move the store files they replace aside into a folder "
            "replaced-<time> in the data folder, put the backups in their place and open "
            "the store once, which carries out again the erasures and withdrawals made "
            "since the backup, then delete the files moved aside (unless --keep-replaced). "
            "Should the restored store not open (a wrong master key, say), everything is "
            "put back as it was."
        ),
    )
    restore.add_argument(
        "data", type=Path, metavar="BACKUP", help=t.gettext("a backup of feedback.db")
    )
    restore.add_argument(
        "--keys",
        type=Path,
        metavar="KEYS_BACKUP",
        help=t.gettext(
            "a backup of keys.db taken with it; without, the key store in the data folder stays"
        ),
    )
    restore.add_argument(
        "--ledger",
        type=Path,
        metavar="LEDGER_BACKUP",
        help=t.gettext("a copy of erasures.db, only if the data folder lost its own"),
    )
    restore.add_argument(
        "--keep-replaced",
        action="store_true",
        help=t.gettext(
            "keep the files it replaces, in replaced-<time> in the data folder (by default "
            "deleted once the restored store opens: erasure and expiry do not reach them)"
        ),
    )
    restore.set_defaults(handler=run_restore)
    stats = subparsers.add_parser(
        "stats",
        help=t.gettext("print the long-term statistics (counts, no pseudonyms)"),
        description=t.gettext(
            "Print the counts of ratings and choices, per flow and question, kept after the "
            "feedback itself (no pseudonyms, no texts, no times of day); groups of fewer than "
            "FEEDBACKBOT_MIN_GROUP_SIZE feedbacks are suppressed, as a day's count may hold "
            "one person's answers."
        ),
    )
    stats.add_argument(
        "--since",
        type=lookback_of_surveys,
        default="365d",
        metavar="PERIOD",
        help=t.gettext("how far back, e.g. 30d (default 365d)"),
    )
    stats.set_defaults(handler=run_stats)


def run_purge(args: argparse.Namespace) -> int:
    t = operator_translator()

    async def purge(store: SQLiteStore, settings: Settings) -> str:
        now = utc_now()
        loaded = True
        try:  # each survey's retention, which the counts of its feedback outlive
            with quiet_flow_warnings():
                catalog = FlowCatalog.load(settings.flows_dir, shipped=settings.shipped_flows)
            kept = retentions(settings, catalog)
        except (FlowDefinitionError, OSError):  # each as one no longer loaded (`check` says)
            kept, loaded = {}, False
        statistics = statistics_before(settings, kept, now)
        proof = settings.consent_proof_retention
        # Not without the surveys' retentions, which an audit trail left unset follows (found
        # by review: a flow that did not load cut it to FEEDBACKBOT_RETENTION's)
        followed = not loaded and settings.audit_retention_follows
        audit = None if followed else now - audit_kept(settings, kept)
        report = await store.purge_expired(now, audit, statistics, proof)
        # The consent records too, and the keys counted as what they were of (found by an
        # operator walk-through: 6 proofs of consent gone unsaid, "6 unused keys" for 12)
        line = t.gettext(
            "purged {feedback} feedback, {drafts} drafts, {languages} language choices, "
            "{consents} consent records no longer needed as proof, {orphans} orphaned rows, "
            "the keys of {keys} people or surveys with nothing left, {audit} audit entries "
            "and the counts of {statistics} days and surveys"
        ).format(
            feedback=report.feedback,
            drafts=report.drafts,
            languages=report.languages,
            consents=report.consents,
            orphans=report.orphans,
            keys=report.keys,
            audit=report.audit,
            statistics=report.statistics,
        )
        if followed:
            line += t.gettext(
                "; no audit entry was purged, as the flows did not load (`feedbackbot check` "
                "says why) and the audit trail follows their retentions"
            )
        if proof is None:
            return line
        proven = t.ngettext(
            "proof of consent kept for {count} person (FEEDBACKBOT_CONSENT_PROOF_RETENTION)",
            "proof of consent kept for {count} people (FEEDBACKBOT_CONSENT_PROOF_RETENTION)",
            report.proofs,
        ).format(count=report.proofs)
        return f"{line}; {proven}"

    print(with_store(purge, exclusive=True))
    return 0


def new_file(text: str, example: str) -> Path:
    """A backup's file. A name ending in "/" is a folder, though `Path` drops the "/":
    `backup /mnt/usb/`, the stick not mounted, wrote a file named /mnt/usb beside it
    (found by an operator audit); refused, with a file name to use."""
    if text.endswith(("/", os.sep)):
        raise argparse.ArgumentTypeError(
            operator_translator()
            .gettext(
                "{path} ends with “/”, so it names a folder; name a new file in it, e.g. {example}"
            )
            .format(path=text, example=text + example)
        )
    return Path(text)


def run_backup(args: argparse.Namespace) -> int:
    t = operator_translator()

    made: list[Path] = []

    async def backup(store: SQLiteStore, settings: Settings) -> list[str]:
        await store.backup(args.destination, args.keys, args.ledger)
        made.extend(path for path in (args.destination, args.keys, args.ledger) if path is not None)
        notes = _same_disk_notes(args.destination, args.keys, args.ledger, settings.data_dir, t)
        if not (settings.master_key or settings.master_key_file):
            # The generated key, in the folder the backups are of (found by an operator
            # walk-through: nothing after the first start said so; a lost disk takes it,
            # and with it every backup's readability)
            notes.append(
                t.gettext(
                    "note: the master key is the one generated in {path}: copy it somewhere "
                    "safe apart from the backups (without it no backup can be read), or move "
                    "it out and name it in FEEDBACKBOT_MASTER_KEY_FILE"
                ).format(path=settings.data_dir.absolute() / MASTER_KEY_FILE)
            )
        return notes

    # Not in the data folder, where erasure and expiry never reach a copy (a key store
    # copy there kept the keys of people erased later: found by an operator walk-through),
    # nor over a file of settings.
    for path in (args.destination, args.keys, args.ledger):
        if path is not None:
            refuse_the_bots_files(path, replaces=False)
    try:
        notes = with_store(backup)
    except KeyboardInterrupt:
        # Ctrl-C as the store closed, the copies complete: removed all the same, as any
        # copy of a backup that fails (found by an operator audit: "interrupted", and
        # the copies there, which a second try then refused to write over).
        with not_cut_short():
            for path in made:
                path.unlink(missing_ok=True)
        raise
    if args.keys is None:
        message = t.gettext(
            "wrote {path}; back up the key store separately, briefly (backup --keys FILE)"
        )
        print(message.format(path=args.destination))
    else:
        message = t.gettext(
            "wrote {path} and the key store to {keys}; keep key store copies only a few "
            "days, apart from the data backups"
        )
        print(message.format(path=args.destination, keys=args.keys))
    if args.ledger is not None:
        message = t.gettext(
            "wrote the erasure ledger to {ledger}; restore it only if erasures.db itself "
            "was lost, and keep it no longer than the data backups"
        )
        print(message.format(ledger=args.ledger))
    for note in notes:
        print(note, file=sys.stderr)
    return 0


def _remove_if_only_the_lock(data_dir: Path) -> None:
    """The data folder restore made, where it holds no more than the lock it took."""
    with contextlib.suppress(OSError):
        if {p.name for p in data_dir.iterdir()} <= {LOCK_FILE}:
            (data_dir / LOCK_FILE).unlink(missing_ok=True)
            data_dir.rmdir()


def run_restore(args: argparse.Namespace) -> int:
    t = operator_translator()
    settings = load_settings()
    backups = Backups(args.data, args.keys, args.ledger)
    made = not settings.data_dir.exists()  # a lost folder rebuilt: gone again on failure
    # Held until what was put back has been opened (or put away again): the bot must not
    # run on the files replaced, nor start on the backup before its erasures are carried
    # out again (found by review: the lock was let go for a moment in between).
    lock = hold_lock(settings.data_dir)  # made by root: the folder owner's (see hold_lock)

    carried: list[tuple[int, int] | None] = []
    notes: list[int | None] = []  # alerts' notes from a ledger replaced (see holds_nothing)
    restored = False

    async def opened() -> int:
        store = open_store(settings, exclusive=True, lock_held=lock is not None)
        if backups.keys is not None:  # named as the backup, not as the data folder's file
            await asyncio.to_thread(store.refuse_key_store_backup, backups.keys)
        await store.open()
        try:
            if backups.ledger is not None and (unopened := await store.ledger_of_another_store()):
                raise _LedgerCopyRefused(
                    N_(
                        "the erasure ledger copy {path} is another store's: none of its notes "
                        "({count}) opens with the key store's key (a copy made by a store "
                        "begun afresh since the backup?); give a copy made before the data "
                        "folder was lost. The data folder is as it was"
                    ),
                    path=backups.ledger,
                    count=unopened,
                )
            if aside is not None and (aside / DATA_FILE).exists():
                carried.append(await store.carry_audit_over(aside / DATA_FILE))
            if backups.ledger is not None and aside is not None and (aside / LEDGER_FILE).exists():
                notes.append(await store.carry_staff_posts_over(aside / LEDGER_FILE))
        finally:
            await store.close()
        return store.applied_again

    # Ctrl-C: put back as it was, in one line (found by an operator audit: a traceback
    # after "the restored store did not open"; and, pressed while the files replaced were
    # deleted, some of them left behind, beyond erasure's reach).
    as_it_was = t.gettext("interrupted; the data folder is as it was")
    try:
        try:
            keyless = check_backups(settings.data_dir, backups)
            version = schema_version(backups.data)  # an older one is upgraded: said below
            ledger = settings.data_dir / LEDGER_FILE
            # (see below: a folder lost and begun afresh, its ledger's copy not given)
            unledgered = backups.ledger is None and (
                holds_nothing(ledger)
                if ledger.exists()
                # none at all, which the store's opening then makes: refused before of a
                # backup of a version with a ledger, so of an older one (found by review)
                else version is not None
            )
            # A store begun afresh after a loss: its ledger, replaced, names only its data
            # (see of_another_store); what it held is said below.
            foreign = (
                ledger_entries(ledger)
                if backups.ledger is not None
                and ledger.exists()
                and of_another_store(settings.data_dir, backups)
                else (0, 0)
            )
            # (the copies of the other two too: found by an operator's upgrade walk-through,
            # a ledger copy v2 upgraded unsaid, which the version that made it then refused)
            others = [
                (name, old, len(latest))
                for name, copy, latest in (
                    ("keys", backups.keys, KEY_MIGRATIONS),
                    ("ledger", backups.ledger, LEDGER_MIGRATIONS),
                )
                if copy is not None
                and (old := schema_version(copy)) is not None
                and 0 < old < len(latest)
            ]
            aside = put_back(settings.data_dir, backups, utc_now())  # undone when it fails
        except KeyboardInterrupt:
            print(f"feedbackbot: {as_it_was}", file=sys.stderr)
            return interrupted_code()
        try:
            with applied_again_said(t, None):  # said below, after "restored"
                again = run_whole(opened)
        except BaseException as error:
            interrupted = isinstance(error, KeyboardInterrupt)
            # (a Ctrl-C as not_cut_short began skipped the undo: the loop runs it again,
            # and undo takes up where it was left; found by an interrupt audit)
            while True:
                try:
                    with not_cut_short():
                        undo(settings.data_dir, backups, aside)
                    break
                except KeyboardInterrupt:
                    interrupted = True
            if interrupted:
                print(f"feedbackbot: {as_it_was}", file=sys.stderr)
                return interrupted_code()
            if not isinstance(error, _LedgerCopyRefused):  # (it opened: review)
                print(
                    "feedbackbot: "
                    + t.gettext("the restored store did not open; the data folder is as it was"),
                    file=sys.stderr,
                )
            raise
        # Kept where the audit trail since the backup could not be carried over from them,
        # and where not one feedback of the backup is readable: another store's data copy
        # put in place of this one's, whose feedback was deleted with the files replaced
        # (found by an operator audit).
        restored = True
        # Restored: what is left is quick, and done whole. A Ctrl-C from here on changes
        # nothing (one before not_cut_short began has the step run again): it left the
        # files replaced, readable with the master key, and said only "interrupted"
        # (found by an interrupt audit).
        while True:
            try:
                with not_cut_short():
                    kept = None in carried or None in notes or keyless.none_readable
                    if not (args.keep_replaced or kept):
                        remove_aside(aside)
                break
            except KeyboardInterrupt:
                continue
    finally:
        if made and not restored:  # found by an operator's walk-through: left, a lock in it
            _remove_if_only_the_lock(settings.data_dir)
        if lock is not None:
            release_lock(lock)
    print(t.gettext("restored {path}").format(path=settings.data_dir))
    if version is not None and 0 < version < len(DATA_MIGRATIONS):
        # Found by an operator walk-through: a backup of an older version was upgraded
        # without a word, and the version that wrote it cannot open it any more.
        print(
            t.gettext(
                "note: the backup was of an older version (data v{old}) and was upgraded to "
                "v{new}; the version that wrote it cannot open the restored store"
            ).format(old=version, new=len(DATA_MIGRATIONS)),
            file=sys.stderr,
        )
    for name, old, new in others:
        upgraded = {
            "keys": t.gettext(
                "note: the copy of the key store was of an older version (keys v{old}) and "
                "was upgraded to v{new}; the version that wrote it cannot open the restored store"
            ),
            "ledger": t.gettext(
                "note: the copy of the erasure ledger was of an older version (ledger v{old}) "
                "and was upgraded to v{new}; the version that wrote it cannot open the "
                "restored store"
            ),
        }
        print(upgraded[name].format(old=old, new=new), file=sys.stderr)
    if made:
        # Found by an operator walk-through: run from another working directory, restore
        # made ./data and said "restored data", the bot's folder untouched.
        print(
            t.gettext(
                "note: {path} did not exist and was made for this restore; if the bot's data "
                "folder is another, set FEEDBACKBOT_DATA_DIR to it and restore again"
            ).format(path=settings.data_dir.absolute()),
            file=sys.stderr,
        )
    if again:
        print(
            t.ngettext(
                "{count} erasure or withdrawal made since the backup was carried out again",
                "{count} erasures and withdrawals made since the backup were carried out again",
                again,
            ).format(count=again)
        )
    added, unknown = carried[0] if carried and carried[0] is not None else (0, 0)
    if added:
        print(
            t.ngettext(
                "{count} audit entry made since the backup was carried over from the files "
                "replaced",
                "{count} audit entries made since the backup were carried over from the files "
                "replaced",
                added,
            ).format(count=added)
        )
    if unknown:
        print(
            t.ngettext(
                "note: {count} of them came from another store (one begun afresh?): who it "
                "names is not readable with this one's key and was left out",
                "note: {count} of them came from another store (one begun afresh?): whom "
                "they name is not readable with this one's key and was left out",
                unknown,
            ).format(count=unknown),
            file=sys.stderr,
        )
    if keyless.none_readable and not keyless.of and aside is not None and None not in carried:
        print(
            t.ngettext(
                "note: the data backup holds no feedback, and its {count} other record "
                "(consents, unfinished answers) has no key in the key store: a backup of "
                "another store, or a key store copy of another? The files it replaced are "
                "kept in {path}: put them back with `feedbackbot restore` if so, else delete "
                "that folder, which erasure does not reach",
                "note: the data backup holds no feedback, and not one of its {count} other "
                "records (consents, unfinished answers) has a key in the key store: a backup "
                "of another store, or a key store copy of another? The files it replaced are "
                "kept in {path}: put them back with `feedbackbot restore` if so, else delete "
                "that folder, which erasure does not reach",
                keyless.records,
            ).format(count=keyless.records, path=aside),
            file=sys.stderr,
        )
    elif keyless.none_readable and aside is not None and None not in carried:
        print(
            t.ngettext(
                "note: the {count} feedback in the data backup has no key in the key store: "
                "a backup of another store, or a key store copy of another? The files it "
                "replaced are kept in {path}: put them back with `feedbackbot restore` if "
                "so, else delete that folder, which erasure does not reach",
                "note: not one of the {count} feedbacks in the data backup has a key in the "
                "key store: a backup of another store, or a key store copy of another? The "
                "files it replaced are kept in {path}: put them back with `feedbackbot "
                "restore` if so, else delete that folder, which erasure does not reach",
                keyless.missing,
            ).format(count=keyless.missing, path=aside),
            file=sys.stderr,
        )
    elif keyless.missing:
        print(
            t.ngettext(
                "note: {count} feedback in the data backup has no key in the key store and "
                "stays unreadable (erased, expired or withdrawn from since, or a key store "
                "copy from another day than the data copy); the next purge deletes it with "
                "what is stored with it (`feedbackbot purge`, or the bot's when it starts)",
                "note: {count} feedbacks in the data backup have no key in the key store and "
                "stay unreadable (erased, expired or withdrawn from since, or a key store "
                "copy from another day than the data copy); the next purge deletes them with "
                "what is stored with them (`feedbackbot purge`, or the bot's when it starts)",
                keyless.missing,
            ).format(count=keyless.missing),
            file=sys.stderr,
        )
    if aside is not None and None in notes:
        print(
            t.gettext(
                "the notes of alerts posted to the staff chat since the backup could not be "
                "carried over from the erasure ledger replaced (see the log line above); it is "
                "kept in {path}: those alerts stay in the staff chat, delete them there, then "
                "delete that folder"
            ).format(path=aside),
            file=sys.stderr,
        )
    if aside is not None and None in carried:
        print(
            t.gettext(
                "the audit trail made since the backup could not be carried over from the "
                "files it replaced (see the log line above); they are kept in {path}: take "
                "what you need of it, then delete that folder, which erasure does not reach"
            ).format(path=aside),
            file=sys.stderr,
        )
    elif aside is not None and (keyless.none_readable or None in notes):
        pass  # said above
    elif aside is not None and args.keep_replaced:
        print(
            t.gettext(
                "the files it replaced are in {path}: they hold personal data that erasure "
                "no longer reaches; delete that folder once the bot runs well"
            ).format(path=aside)
        )
    elif aside is not None:
        print(t.gettext("the files it replaced were deleted (--keep-replaced keeps them)"))
    erasures, proofs = foreign
    if erasures:
        print(
            t.ngettext(
                "note: the erasure ledger replaced was that of a store begun afresh since the "
                "backup; its {count} erasure or withdrawal named only that store's data, which "
                "this restore replaced. Whoever made it may find older data of theirs restored, "
                "which their request did not reach; the bot cannot tell whose",
                "note: the erasure ledger replaced was that of a store begun afresh since the "
                "backup; its {count} erasures and withdrawals named only that store's data, "
                "which this restore replaced. Whoever made them may find older data of theirs "
                "restored, which their requests did not reach; the bot cannot tell whose",
                erasures,
            ).format(count=erasures),
            file=sys.stderr,
        )
    if proofs:
        print(
            t.ngettext(
                "note: the proof of consent of {count} person kept in the erasure ledger "
                "replaced was that of a store begun afresh since the backup, and is gone with it",
                "note: the proofs of consent of {count} people kept in the erasure ledger "
                "replaced were those of a store begun afresh since the backup, and are gone "
                "with it",
                proofs,
            ).format(count=proofs),
            file=sys.stderr,
        )
    if version is not None and version < LEDGER_SINCE:
        # Found by an operator's upgrade walk-through: the backup made before an upgrade
        # from such a version, restored, brought back everyone erased with it since
        # (the note below, on a data folder lost since, may hold as well: review).
        print(
            t.gettext(
                "note: the backup was made by a version without an erasure ledger (data "
                "v{old}): erasures and withdrawals made with that version after the backup "
                "cannot be carried out again, and their data may be back; if there were any, "
                "restore a backup made since the upgrade instead"
            ).format(old=version),
            file=sys.stderr,
        )
    if unledgered:
        # Found by an operator's walk-through: the data folder lost, the bot restarted by
        # systemd made a new store with an empty ledger, and the erasures since the backup
        # came back unsaid. Restoring again with the copy takes it (see holds_nothing).
        print(
            t.gettext(
                "note: the erasure ledger {file} in {path} holds no erasure or withdrawal; if "
                "the data folder was lost since the backup, restore again with its newest "
                "copy (--ledger LEDGER_BACKUP) before the bot starts, or those made since the "
                "backup are back"
            ).format(file=LEDGER_FILE, path=settings.data_dir),
            file=sys.stderr,
        )
    return 0


class _LedgerCopyRefused(StoreError):
    """The erasure ledger copy given is another store's (see run_restore); the data folder
    is put back as it was."""


def _same_disk_notes(
    copy: Path, keys: Path | None, ledger: Path | None, data_dir: Path, t: Translator
) -> list[str]:
    """Notes on copies that landed on the data's own file system (an unmounted backup
    disk leaves its mount point an ordinary folder there), and on a key store copy
    beside the data backup it opens."""
    notes = []
    for path in (copy, keys, ledger):
        if path is not None and _same_disk(path, data_dir):
            warning = t.gettext(
                "note: {path} is on the same file system as the data, so it does not "
                "survive a failure of that disk; if a backup disk should be mounted there, "
                "it is not"
            )
            notes.append(warning.format(path=path))
    if keys is not None and _same_disk(keys, copy):
        warning = t.gettext(
            "note: {keys} is on the same file system as {path}: whoever has that disk "
            "can read the data backup; keep key store copies apart"
        )
        notes.append(warning.format(keys=keys, path=copy))
    return notes


def _same_disk(copy: Path, other: Path) -> bool:
    try:
        return os.stat(copy).st_dev == os.stat(other).st_dev
    except OSError:
        return False


def run_stats(args: argparse.Namespace) -> int:
    until = utc_now().date()
    # Whole days, today included: "--since 1s" or "12h" is today, "36h" today and yesterday.
    since = until - timedelta(days=max(1, math.ceil(args.since / timedelta(days=1))) - 1)

    async def read(store: SQLiteStore, settings: Settings) -> str:
        rows = await store.statistics(since, until)
        t = operator_translator()
        try:  # only for the order: statistics outlive flows, and a broken one hides none
            with quiet_flow_warnings():  # `check`'s to print (see bot.cli.staff._desk)
                catalog = FlowCatalog.load(settings.flows_dir, t, settings.shipped_flows)
        except FlowDefinitionError:
            catalog = None
        return format_statistics(rows, settings.min_group_size, t, catalog)

    print(with_store(read))
    return 0


def format_statistics(
    rows: list[StatisticsRow], k: int, t: Translator, catalog: FlowCatalog | None = None
) -> str:
    """Totals per flow and question; a flow with fewer than k feedbacks, and any count
    under k, is suppressed (see _cells). Questions and options in the order of the flows
    in `catalog` (those no longer in it after them), ratings in the order of the scale."""
    if not rows:
        return t.gettext("no statistics in this period")
    feedbacks: dict[str, int] = defaultdict(int)
    counts: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for row in rows:
        feedbacks[row.flow_id] += row.feedbacks
        for question, values in row.counts.items():
            for value, n in values.items():
                counts[row.flow_id][question][value] = (
                    counts[row.flow_id][question].get(value, 0) + n
                )
    # Said to be UTC days (found by a staff walk-through: the export dates feedback in the
    # bot's zone, and a late evening's counted for the next day here without a word).
    lines = [
        t.gettext("{first} .. {last} (days in UTC)").format(first=rows[0].day, last=rows[-1].day)
    ]
    for flow, total in sorted(feedbacks.items()):
        definition = catalog.flows.get(flow) if catalog else None
        # The survey, question and option as staff know them, with the ids the export
        # and the flow files use; ids alone where the flow no longer has them.
        name = f"{render_text(definition.title, t)} ({flow})" if definition else flow
        if total < k:
            lines.append(
                f"{name}: " + t.gettext("suppressed (fewer than {k} feedbacks)").format(k=k)
            )
            continue
        lines.append(
            f"{name}: "
            + t.ngettext("{count} feedback", "{count} feedbacks", total).format(count=total)
        )
        steps = [step.id for step in definition.steps] if definition else []
        for question in sorted(counts[flow], key=lambda q: _position(q, steps)):
            step = definition.step(question) if definition else None
            options = (
                {option.id: render_text(option.label, t) for option in step.options}
                if isinstance(step, ChoiceStep | MultipleChoiceStep)
                else {}
            )
            asked = f"{render_text(step.prompt, t)} ({question})" if step else question
            lines.append(f"  {asked}: {_cells(counts[flow][question], k, t, options)}")
    return "\n".join(lines)


def _position(value: str, known: list[str]) -> tuple[int, int, str]:
    """Where `value` goes: in the order of `known`, then numbers by size (a rating of 10
    after 9, not after 1), then the rest alphabetically."""
    if value in known:
        return (0, known.index(value), "")
    if value.isdigit():
        return (1, int(value), "")
    return (2, 0, value)


def _cells(
    values: dict[str, int], k: int, t: Translator, labels: dict[str, str] | None = None
) -> str:
    """The counts of one question; only values given at least k times are named, the
    rest shown together as "other", and only if together they are k or more (else the
    smallest named ones join them). A question only the few unhappy customers were
    asked, or the one 1-star rating of a quiet week, is a small group too; and in a
    multiple choice the counts are ticks, so one person may tick five options. Options
    in the order and with the `labels` of their question where given."""
    shown = {value: n for value, n in values.items() if n >= k}
    hidden = sum(n for value, n in values.items() if value not in shown)
    reached = bool(shown)
    while 0 < hidden < k and shown:
        smallest = min(shown, key=lambda value: shown[value])
        hidden += shown.pop(smallest)
    # k is at least 2; 2 reads "twice", which no plural form of English or German gives
    if not shown and reached and k == 2:  # the one answer left over, then
        return t.gettext(
            "suppressed (shown, the answers given twice or more would tell the one other "
            "from the total)"
        )
    if not shown and reached:  # found by review: said "no answer given k times or more"
        return t.gettext(
            "suppressed (shown, the answers given {k} times or more would tell the fewer "
            "than {k} others from the total)"
        ).format(k=k)
    if not shown and k == 2:
        return t.gettext("suppressed (no answer given twice or more)")
    if not shown:
        return t.gettext("suppressed (no answer given {k} times or more)").format(k=k)
    labels = labels or {}
    ranked = sorted(shown, key=lambda value: _position(value, list(labels)))
    cells = [f"{labels.get(value, value)}: {shown[value]}" for value in ranked]
    other = t.gettext("other: {count}").format(count=hidden)
    return ", ".join(cells + ([other] if hidden else []))
