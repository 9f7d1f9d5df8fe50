"""A damaged store file: the bot apologises and keeps running, the log says what is wrong
and what to do, `feedbackbot check` names the file, and the newest backup brings the
person's feedback back (found by testing with pages overwritten: `check` said "0
errors", and the log named only a DatabaseError)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from flows.i18n import translator
from storage import StoreError
from tests.e2e.botprocess import cli
from tests.e2e.test_lifecycle import cli_env
from tests.fakes.botapi import FakeBotApi
from tests.harness import TOKEN
from tests.reliability.canary import CanaryScanner
from tests.reliability.support import (
    InProcessBot,
    ProductionLog,
    converse_in_process,
    people,
    read_back,
    text_of,
)

APOLOGY = "Sorry, something went wrong on our side. Please try again in a moment."


def overwrite_the_index(path: Path, name: str) -> None:
    """Overwrite the root page of index `name`, as a disk's fault would."""
    with closing(sqlite3.connect(path)) as db:
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        (page,) = db.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = ?", (name,)
        ).fetchone()
    with path.open("r+b") as file:
        file.seek((page - 1) * page_size)
        file.write(b"\xff" * page_size)


async def test_a_damaged_store_is_named_by_the_log_and_check_and_a_backup_brings_it_back(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    api = FakeBotApi(TOKEN)
    bot = InProcessBot(api, data)
    [erika] = people(1, first_id=5_630_000_000)
    await bot.start()
    try:
        await converse_in_process(bot, erika)
    finally:
        await bot.stop()
    assert erika.thanked(api.messages(erika.chat_id)) == 1
    env = cli_env(data)
    backup, keys = tmp_path / "feedback-backup.db", tmp_path / "keys-backup.db"
    done = cli("backup", str(backup), "--keys", str(keys), env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr

    # The index by which /meinedaten finds a person's feedback is lost.
    overwrite_the_index(data / "feedback.db", "feedback_person")
    with ProductionLog() as log:
        await bot.start()
        try:
            await bot.deliver(erika.act(api, ("text", "/meinedaten")))
        finally:
            await bot.stop()
    reply = text_of(api.messages(erika.chat_id)[-1])
    assert reply == translator(erika.lang).gettext(APOLOGY)
    assert (
        "bot.app: a file of the store is damaged: `feedbackbot check` names it; stop the bot "
        "and restore the newest backup"
    ) in log.error_lines(), log.text
    scanner = CanaryScanner()
    scanner.add(erika.comment_base, "comment")
    scanner.person(erika.user_id, first_name=erika.first_name, username=erika.username)
    scanner.assert_clean(None, [("production log", log.text)])

    checked = cli("check", "--lang", "en", env=env, cwd=tmp_path)
    assert checked.returncode == 1, checked.stdout
    assert f"{data / 'feedback.db'}: error: damaged (" in checked.stdout, checked.stdout

    # One that the purge at start reads: the bot does not start, and says why (it had
    # ended with SQLite's traceback).
    overwrite_the_index(data / "feedback.db", "feedback_key")
    with pytest.raises(StoreError) as refused:
        await bot.start()
    assert refused.value.template == (
        "a file of the store in {path} is damaged: `feedbackbot check` names it; restore the "
        "newest backup (`feedbackbot restore`)"
    )
    assert refused.value.params == {"path": data}
    bot.app = None  # it did not start: nothing to stop

    done = cli("restore", str(backup), "--keys", str(keys), env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    checked = cli("check", "--lang", "en", env=env, cwd=tmp_path)
    assert "error: damaged" not in checked.stdout, checked.stdout
    [(feedback, consents)] = (await read_back(data, [erika], datetime.now(UTC))).values()
    assert [f.answers["comment"] for f in feedback] == erika.comments_sent
    assert "feedback" in [c.purpose for c in consents]
    # and the bot answers again
    before = len(api.messages(erika.chat_id))
    await bot.start()
    try:
        await bot.deliver(erika.act(api, ("text", "/meinedaten")))
    finally:
        await bot.stop()
    answered = [text_of(m) for m in api.messages(erika.chat_id)[before:]]
    assert any("1 Feedback" in text for text in answered), answered
    assert translator(erika.lang).gettext(APOLOGY) not in answered
