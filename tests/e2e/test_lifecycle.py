"""Retention, purge, key rotation and backups through the real command line."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.cli.maintenance import format_statistics
from flows.catalog import FlowCatalog
from flows.i18n import translator
from storage import ConsentGrant, MasterKeyMismatch, NewFeedback, SQLiteStore, sqlite
from storage.crypto import decode_master_key, encode_master_key, generate_key
from storage.interface import AuditEntry, StatisticsRow
from tests.e2e.botprocess import REPO, bot_env, cli, run_once, running_bot
from tests.e2e.test_polling import ERIKA, converse, say
from tests.fakes.botapi import BotApiServer, FakeBotApi
from tests.harness import MASTER_KEY, TOKEN, deletion_dates, files_contain

NOW = datetime.now(UTC)
GRANT = ConsentGrant(
    purpose="feedback", notice_version="v", text_sha256="1" * 64, method="t", granted_at=NOW
)


def cli_env(data: Path, key: str = MASTER_KEY) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDBACKBOT_")}
    env.update(
        {"PYTHONPATH": str(REPO), "FEEDBACKBOT_DATA_DIR": str(data), "FEEDBACKBOT_MASTER_KEY": key}
    )
    return env


def in_process(monkeypatch: pytest.MonkeyPatch, data: Path, cwd: Path) -> None:
    """The settings of `cli_env` for a command run in the test's own process (to reach
    a moment inside it), started in `cwd`."""
    for name, value in cli_env(data).items():
        if name.startswith("FEEDBACKBOT_"):
            monkeypatch.setenv(name, value)
    monkeypatch.chdir(cwd)


async def make_store(data: Path, people: int, key: str = MASTER_KEY) -> None:
    store = SQLiteStore(data, base64.urlsafe_b64decode(key))
    await store.open()
    for n in range(people):
        await store.submit_feedback(
            store.pseudonym(f"tg-user:{n}"),
            NewFeedback(
                flow_id="feedback",
                answers={"rating": 3, "comment": f"c{n}"},
                purposes=["feedback"],
                created_at=NOW,
                expires_at=NOW + timedelta(days=1),
            ),
            [GRANT],
        )
    await store.close()


async def count_readable(data: Path, key: bytes, people: int) -> int:
    store = SQLiteStore(data, key)
    await store.open()
    try:
        total = 0
        for n in range(people):
            total += len(await store.feedback_of(store.pseudonym(f"tg-user:{n}"), NOW))
        return total
    finally:
        await store.close()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_as_the_rotation_switches_says_it_is_done(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    sig: signal.Signals,
) -> None:
    """Found by an interrupt audit: Ctrl-C (or SIGTERM) while the switch to the new key
    ran on the store's thread said "interrupted", and the switch committed all the same:
    the old key, which an interrupted rotation leaves working, opened nothing any more,
    and an operator who believed the message might delete the new one."""
    data = tmp_path / "data"
    asyncio.run(make_store(data, 5))
    new = generate_key()
    key_file = tmp_path / "new.key"
    key_file.write_text(encode_master_key(new) + "\n")
    key_file.chmod(0o600)
    in_process(monkeypatch, data, tmp_path)
    real = sqlite._wrap_next
    main_thread = threading.main_thread().ident
    assert main_thread is not None
    sent: list[bool] = []

    def signal_as_it_switches(conn: Any, *, old_key: bytes, new_key: bytes, limit: Any) -> int:
        if limit is None:  # the switch's (on the store's thread)
            signal.pthread_kill(main_thread, sig)
            sent.append(True)
            time.sleep(0.3)  # the main thread takes the signal meanwhile
        return int(real(conn, old_key=old_key, new_key=new_key, limit=limit))

    monkeypatch.setattr(sqlite, "_wrap_next", signal_as_it_switches)
    assert main(["rotate-key", "--new-key-file", str(key_file)]) == 0
    said = capsys.readouterr()
    assert sent
    assert said.out.startswith("done: "), said
    assert "are wrapped by the new master key; start the bot with it now" in said.out
    assert "interrupted" not in said.err and "interrupted" not in said.out
    assert asyncio.run(count_readable(data, new, 5)) == 5
    with pytest.raises(MasterKeyMismatch):
        asyncio.run(count_readable(data, base64.urlsafe_b64decode(MASTER_KEY), 5))


def test_keygen_prints_a_usable_key(tmp_path: Path) -> None:
    result = cli("keygen", env=cli_env(tmp_path), cwd=tmp_path)
    assert result.returncode == 0
    assert len(decode_master_key(result.stdout.strip())) == 32
    assert cli("keygen", env=cli_env(tmp_path), cwd=tmp_path).stdout != result.stdout


async def test_rotation_killed_midway_keeps_old_key_working_and_finishes_when_rerun(
    tmp_path: Path,
) -> None:
    data, people = tmp_path / "data", 300
    await make_store(data, people)
    new_key_text = cli("keygen", env=cli_env(data), cwd=tmp_path).stdout.strip()
    key_file = tmp_path / "new.key"
    key_file.write_text(new_key_text + "\n")
    before = tmp_path / "before"
    before.mkdir()
    copies = ("backup", str(before / "feedback.db"), "--keys", str(before / "keys.db"))
    assert cli(*copies, env=cli_env(data), cwd=tmp_path).returncode == 0
    shown = cli("rotate-key", "--new-key-file", str(key_file), env=cli_env(data), cwd=tmp_path)
    assert shown.returncode == 1 and "is open to other users (mode 644)" in shown.stderr
    key_file.chmod(0o600)  # as `umask 077; feedbackbot keygen > new.key` writes it
    args = [sys.executable, "-m", "bot", "rotate-key", "--new-key-file", str(key_file)]
    process = subprocess.Popen(
        [*args, "--batch-size", "3"],
        env=cli_env(data),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    for line in process.stderr:  # progress on stderr, the result on stdout
        if line.startswith("re-wrapped 30/"):
            process.send_signal(signal.SIGKILL)
            break
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "killed before it could finish"

    old, new = base64.urlsafe_b64decode(MASTER_KEY), decode_master_key(new_key_text)
    assert await count_readable(data, old, people) == people
    with pytest.raises(MasterKeyMismatch, match="interrupted"):
        await count_readable(data, new, people)

    finished = cli("rotate-key", "--new-key-file", str(key_file), env=cli_env(data), cwd=tmp_path)
    assert finished.returncode == 0, finished.stderr
    assert "Keep the old key while you keep key store backups taken before" in finished.stdout
    assert finished.stdout.startswith("done: 600 data keys"), finished.stdout  # 2 a person
    assert finished.stderr.startswith("re-wrapped "), "progress apart from the result"
    assert await count_readable(data, new, people) == people
    # The key store backup from before the rotation opens with the old key only, as the
    # README and the line above say (an operator who replaced it could not restore).
    (before / "erasures.db").touch()  # no ledger copy: an empty one, as the refusal says
    with pytest.raises(MasterKeyMismatch):
        await count_readable(before, new, people)
    assert await count_readable(before, old, people) == people
    refused = cli("purge", env=cli_env(data), cwd=tmp_path)
    assert refused.returncode == 1 and "master key" in refused.stderr
    assert cli("purge", env=cli_env(data, new_key_text), cwd=tmp_path).returncode == 0


def test_expiry_end_to_end_with_a_retention_of_seconds(tmp_path: Path) -> None:
    api = FakeBotApi(TOKEN)
    data, log = tmp_path / "data", tmp_path / "bot.log"
    comment = "Ablauf-Kanarie-41d"
    with BotApiServer(api) as server:
        env = bot_env(server, data, FEEDBACKBOT_RETENTION="3s", FEEDBACKBOT_PURGE_INTERVAL="1s")
        with running_bot(api, env, tmp_path, log):
            converse(api, ERIKA, "de", comment)
            assert "Vielen Dank" in (api.last_message(ERIKA)["text"] or "")
            say(api, ERIKA, "/meinedaten", "de", expect=2)
            deadline = time.monotonic() + 20  # retention of 3 s, then a purge interval of 1 s
            while "purge: 1 feedback" not in log.read_text() and time.monotonic() < deadline:
                time.sleep(0.2)
            say(api, ERIKA, "/meinedaten", "de", expect=2)
            summary = api.messages(ERIKA)[-2]["text"] or ""
            assert "Einwilligungen" in summary, "the consent itself is still on record"
            assert "Feedback 1 von" not in summary and comment not in summary
    assert "purge: 1 feedback" in log.read_text()
    with sqlite3.connect(data / "feedback.db") as db:
        assert db.execute("SELECT count(*) FROM feedback").fetchone() == (0,)
    assert not files_contain(data, comment.encode())


async def test_a_retention_of_seconds_meant_as_days_leaves_stored_feedback_alone(
    tmp_path: Path,
) -> None:
    """`FEEDBACKBOT_RETENTION=180` (180 seconds, meant as days) only got a warning: the
    start brought every stored feedback's deletion date forward, the purge deleted it,
    and writing 180d again brought nothing back (found by an operator audit)."""
    data = tmp_path / "data"
    await make_store(data, people=3)

    before = deletion_dates(data)
    api = FakeBotApi(TOKEN)
    with BotApiServer(api) as server:
        for retention in ("180", "6m", "PT12H"):
            result = run_once(bot_env(server, data, FEEDBACKBOT_RETENTION=retention), tmp_path)
            assert result.returncode == 1
            assert (
                "would permanently delete feedback already stored within it (count: 3); write "
                "e.g. " in result.stderr
            )
        assert "a retention of only 12h (surveys: feedback, product;" in result.stderr
        assert api.calls("getUpdates") == [], "not started"
        # Refused before Telegram is asked: offline, the network error hid it.
        assert api.calls("getMe") == []
        assert deletion_dates(data) == before, "nothing brought forward"
        # Written as meant, it starts, and deletes nothing early.
        with running_bot(
            api, bot_env(server, data, FEEDBACKBOT_RETENTION="180d"), tmp_path, tmp_path / "bot.log"
        ):
            pass
    assert cli("purge", env=cli_env(data), cwd=tmp_path).returncode == 0
    assert deletion_dates(data) == before


def test_backup_while_the_bot_runs_restores_and_decrypts(tmp_path: Path) -> None:
    api = FakeBotApi(TOKEN)
    data, log = tmp_path / "data", tmp_path / "bot.log"
    backup = tmp_path / "backup" / "feedback.db"
    keys_backup = tmp_path / "keys-backup" / "keys.db"
    backup.parent.mkdir()
    keys_backup.parent.mkdir()
    with BotApiServer(api) as server:
        with running_bot(api, bot_env(server, data), tmp_path, log):
            converse(api, ERIKA, "de", "vor dem Backup")
            # While the bot runs, Erika's new key may sit in keys.db's write-ahead log,
            # where a plain copy of keys.db misses it: --keys copies it consistently.
            ledger = keys_backup.parent / "erasures.db"
            args = ("backup", str(backup), "--keys", str(keys_backup), "--ledger", str(ledger))
            result = cli(*args, env=cli_env(data), cwd=tmp_path)
            assert result.returncode == 0, result.stderr
            assert f"and the key store to {keys_backup}" in result.stdout
            converse(api, ERIKA + 1, "de", "nach dem Backup")
    assert oct(keys_backup.stat().st_mode & 0o777) == "0o600"
    assert oct(ledger.stat().st_mode & 0o777) == "0o600"
    # The whole data folder lost: all three copies put back, as the README says.
    restored = tmp_path / "restored"
    restored.mkdir()
    restored.joinpath("feedback.db").write_bytes(backup.read_bytes())
    restored.joinpath("keys.db").write_bytes(keys_backup.read_bytes())
    restored.joinpath("erasures.db").write_bytes(ledger.read_bytes())
    import asyncio

    async def read() -> tuple[list[str], list[str]]:
        store = SQLiteStore(restored, base64.urlsafe_b64decode(MASTER_KEY))
        await store.open()
        try:
            now = datetime.now(UTC)
            before = await store.feedback_of(store.pseudonym(f"tg-user:{ERIKA}"), now)
            after = await store.feedback_of(store.pseudonym(f"tg-user:{ERIKA + 1}"), now)
            return [r.answers["comment"] for r in before], [r.answers["comment"] for r in after]
        finally:
            await store.close()

    assert asyncio.run(read()) == (["vor dem Backup"], [])
    assert not files_contain(backup.parent, b"data_keys"), "the backup carries no keys"


async def test_stats_suppress_small_groups(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = SQLiteStore(data, base64.urlsafe_b64decode(MASTER_KEY))
    await store.open()
    now = datetime.now(UTC)  # not at import: '1s' below means today
    for n, flow in enumerate(["feedback"] * 5 + ["product"] * 2):
        await store.submit_feedback(
            store.pseudonym(f"tg-user:{n}"),
            NewFeedback(
                flow_id=flow,
                answers={"rating": 5},
                purposes=["feedback"],
                created_at=now,
                expires_at=now + timedelta(days=1),
            ),
            [GRANT.model_copy(update={"granted_at": now})],
            tallies={"rating": ["5"]},
        )
    await store.close()
    result = cli("stats", "--since", "7d", env=cli_env(data), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Customer feedback (feedback): 5 responses" in result.stdout
    assert "How satisfied are you with our service overall? (rating): 5: 5" in result.stdout
    assert "Product feedback (product): suppressed (fewer than 5 responses)" in result.stdout
    assert "rating: 5: 2" not in result.stdout
    for short in ("1s", "12h"):  # today, not 'from tomorrow on'
        today = cli("stats", "--since", short, env=cli_env(data), cwd=tmp_path)
        if datetime.now(UTC).date() != now.date():
            continue  # midnight (UTC) passed since: yesterday's feedback, rightly not shown
        assert "(feedback): 5 responses" in today.stdout, (short, today.stdout)
    # A flow file being edited (broken) orders nothing, and hides no statistics.
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "survey.toml").write_text('id = "survey"\ntitle = [', encoding="utf-8")
    broken = cli("stats", env={**cli_env(data), "FEEDBACKBOT_FLOWS_DIR": str(flows)}, cwd=tmp_path)
    assert broken.returncode == 0 and "rating: 5: 5" in broken.stdout, broken.stderr

    # The operator's minimum group size, not the default, decides what is shown.
    def stats_with(k: str) -> str:
        env = {**cli_env(data), "FEEDBACKBOT_MIN_GROUP_SIZE": k}
        return cli("stats", "--since", "7d", env=env, cwd=tmp_path).stdout

    stricter = stats_with("6")
    assert "(feedback): suppressed (fewer than 6 responses)" in stricter, stricter
    assert "rating: 5: 5" not in stricter
    looser = stats_with("2")
    assert "(product): 2 responses" in looser, looser


def test_stats_hide_small_counts_within_a_flow_too() -> None:
    """A question only the one unhappy customer was asked, or a single 1-star rating,
    is a group of one even in a flow with many feedbacks; in a multiple choice the
    counts are ticks: one person may tick five options."""
    row = StatisticsRow(
        day=NOW.date(),
        flow_id="product",
        feedbacks=22,
        counts={
            "satisfaction": {"5": 20, "2": 1, "1": 1},
            "problems": {"price": 1, "missing": 1, "bugs": 1, "slow": 1, "confusing": 1},
            "liked": {"fast": 16, "easy": 7},
            "recommend": {"10": 18, "9": 4},
        },
    )
    text = format_statistics([row], k=5, t=translator("en"))
    assert "product: 22 responses" in text
    assert "problems: suppressed (no answer given 5 times or more)" in text
    # Two hidden ratings that would follow from the total join the next smallest:
    assert "satisfaction: suppressed" in text, "1 + 1 < 5: the 20 join them, all hidden"
    # Said why: not that no answer reached 5 (found by review).
    assert "satisfaction: suppressed (shown, the answers given 5 times or more would" in text
    assert "liked: easy: 7, fast: 16" in text
    assert "recommend: 10: 18, other: 4" not in text and "recommend: suppressed" in text
    many = row.model_copy(update={"counts": {"r": {"5": 20, "4": 9, "2": 3, "1": 2}}})
    assert "r: 4: 9, 5: 20, other: 5" in format_statistics([many], 5, translator("en"))
    german = format_statistics([many], 5, translator("de"))
    assert "product: 22 Feedbacks" in german and "r: 4: 9, 5: 20, andere: 5" in german
    assert german.startswith(f"{NOW.date()} .. {NOW.date()} (Tage nach UTC)\n"), german


@pytest.mark.parametrize(
    ("locale", "none_twice", "one_other"),
    [
        (
            "en",
            "problems: suppressed (no answer given twice or more)",
            "satisfaction: suppressed (shown, the answers given twice or more would tell the "
            "one other from the total)",
        ),
        (
            "de",
            "problems: unterdrückt (keine Antwort zweimal oder öfter gegeben)",
            "satisfaction: unterdrückt (gezeigt, würden die mindestens zweimal gegebenen "
            "Antworten die eine übrige aus der Gesamtzahl erkennen lassen)",
        ),
    ],
)
def test_stats_with_a_minimum_group_of_two_say_twice(
    locale: str, none_twice: str, one_other: str
) -> None:
    """FEEDBACKBOT_MIN_GROUP_SIZE=2 read "no answer given 2 times or more" and "fewer
    than 2 others", where a person says "twice" and "the one other" (found by a rights
    audit's look at the catalogs)."""
    row = StatisticsRow(
        day=NOW.date(),
        flow_id="product",
        feedbacks=4,
        counts={"satisfaction": {"5": 3, "1": 1}, "problems": {"price": 1, "missing": 1}},
    )
    text = format_statistics([row], k=2, t=translator(locale))
    lines = [line.strip() for line in text.splitlines()]
    assert none_twice in lines and one_other in lines, text
    assert "2 times" not in text and "2-mal" not in text


def test_stats_list_questions_and_answers_in_the_order_of_the_flow() -> None:
    """Ratings 0–10 by size (not "1, 10, 2"), options and questions as the flow has them."""
    row = StatisticsRow(
        day=NOW.date(),
        flow_id="product",
        feedbacks=90,
        counts={
            "recommend": {str(score): 5 + score for score in range(11)},
            "liked": {"price": 6, "easy": 9, "fast": 7},
            "satisfaction": {"1": 5, "2": 5, "3": 5, "4": 30, "5": 45},
            "gone": {"b": 5, "a": 6},  # a question the flow no longer has
        },
    )
    text = format_statistics([row], 5, translator("en"), FlowCatalog.load())
    # Surveys, questions and options as staff know them, with the ids of the flow files
    # (a staff-side audit: the ids alone meant nothing to them).
    assert text.splitlines()[0] == f"{NOW.date()} .. {NOW.date()} (days in UTC)"
    assert text.splitlines()[1] == "Product feedback (product): 90 responses"
    lines = text.splitlines()[2:]
    assert lines == [
        "  How satisfied are you with our product? (satisfaction): 1: 5, 2: 5, 3: 5, 4: 30, 5: 45",
        "  What do you like most? (liked): Easy to use: 9, Fast: 7, The price: 6",
        "  How likely are you to recommend our product to others? (recommend): "
        + ", ".join(f"{score}: {5 + score}" for score in range(11)),
        "  gone: a: 6, b: 5",
    ]
    german = format_statistics([row], 5, translator("de"), FlowCatalog.load()).splitlines()
    assert german[1] == "Produktfeedback (product): 90 Feedbacks"
    assert german[3] == (
        "  Was gefällt Ihnen am besten? (liked): Einfach zu bedienen: 9, Schnell: 7, Der Preis: 6"
    )


@pytest.mark.parametrize("problem", ["missing", "not text", "a folder", "no store", "in use"])
async def test_rotate_key_with_an_unusable_key_file_or_store_is_one_line(
    tmp_path: Path, problem: str
) -> None:
    data = tmp_path / "data"
    if problem != "no store":
        await make_store(data, people=1)
    key_file = tmp_path / "new.key"
    if problem == "not text":
        key_file.write_bytes(b"\xef\xbb\xbf\xff\xfe")
    elif problem == "a folder":
        key_file.mkdir()
    elif problem == "no store":
        key_file.write_text(encode_master_key(generate_key()))
    elif problem == "in use":  # said rotated, nothing changed (an operator walk-through)
        key_file.write_text(MASTER_KEY)
        key_file.chmod(0o600)
    before = {p.name: p.read_bytes() for p in data.iterdir()} if data.exists() else {}
    result = cli("rotate-key", "--new-key-file", str(key_file), env=cli_env(data), cwd=tmp_path)
    assert result.returncode == 1 and result.stderr.startswith("feedbackbot: "), result.stderr
    assert result.stderr.count("\n") == 1
    if problem == "in use":
        assert "holds the master key the bot uses now: nothing would change" in result.stderr
    after = {p.name: p.read_bytes() for p in data.iterdir()} if data.exists() else {}
    assert after == before, "nothing written"


async def test_the_purge_command_keeps_proof_of_consent_where_set(tmp_path: Path) -> None:
    """FEEDBACKBOT_CONSENT_PROOF_RETENTION at the command line: the consent records of a
    person whose last feedback expired go, proof of them stays, and the line says so."""
    data = tmp_path / "data"
    store = SQLiteStore(data, base64.urlsafe_b64decode(MASTER_KEY))
    await store.open()
    person = store.pseudonym("tg-user:1")
    given = datetime.now(UTC) - timedelta(days=10)
    consent = ConsentGrant(
        purpose="feedback",
        notice_version="v1",
        text_sha256="ab" * 32,
        method="button",
        granted_at=given,
    )
    old = NewFeedback(
        flow_id="feedback",
        answers={"rating": 4},
        purposes=["feedback"],
        created_at=given,
        expires_at=given + timedelta(days=2),
    )
    await store.submit_feedback(person, old, [consent])
    await store.close()
    env = cli_env(data) | {"FEEDBACKBOT_CONSENT_PROOF_RETENTION": "1096d"}
    purged = cli("purge", env=env, cwd=tmp_path)
    assert purged.returncode == 0, purged.stderr
    assert purged.stdout.endswith(
        "; proof of consent kept for 1 person (FEEDBACKBOT_CONSENT_PROOF_RETENTION)\n"
    ), purged.stdout
    store = SQLiteStore(data, base64.urlsafe_b64decode(MASTER_KEY))
    await store.open()
    try:
        assert await store.consents(person) == []
        noted = await store.ledger_note(person)
        assert noted is not None and [p.granted_at for p in noted.proofs] == [given]
    finally:
        await store.close()
    unset = cli("purge", env=cli_env(data), cwd=tmp_path)
    assert "proof of consent" not in unset.stdout, "said only where it is kept"


async def test_the_purge_command_deletes_audit_entries_past_their_retention(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    store = SQLiteStore(data, base64.urlsafe_b64decode(MASTER_KEY))
    await store.open()
    now = datetime.now(UTC)
    for days_ago in (800, 700, 10):
        at = now - timedelta(days=days_ago)
        await store.record_audit(AuditEntry(event="export", at=at, actor="cli", records=1))
    await store.close()
    env = cli_env(data) | {"FEEDBACKBOT_AUDIT_RETENTION": "750d"}
    purged = cli("purge", env=env, cwd=tmp_path)
    assert purged.returncode == 0 and "audit entries: 1" in purged.stdout, purged.stderr
    env["FEEDBACKBOT_AUDIT_RETENTION"] = "200d"
    assert "audit entries: 1" in cli("purge", env=env, cwd=tmp_path).stdout
    with sqlite3.connect(data / "feedback.db") as db:
        assert db.execute("SELECT count(*) FROM audit").fetchone() == (1,)
    db.close()


async def test_the_purge_command_keeps_the_audit_trail_while_the_flows_do_not_load(
    tmp_path: Path,
) -> None:
    """Found by review: the trail left unset follows the longest retention of a survey; with
    a flow file that did not load, the purge cut it to FEEDBACKBOT_RETENTION's."""
    data, flows = tmp_path / "data", tmp_path / "flows"
    flows.mkdir()
    store = SQLiteStore(data, base64.urlsafe_b64decode(MASTER_KEY))
    await store.open()
    at = datetime.now(UTC) - timedelta(days=2000)
    await store.record_audit(AuditEntry(event="export", at=at, actor="cli", records=1))
    await store.close()
    (flows / "broken.toml").write_text("id = \n", encoding="utf-8")
    env = cli_env(data) | {"FEEDBACKBOT_FLOWS_DIR": str(flows), "LANG": "en_US.UTF-8"}
    kept = cli("purge", env=env, cwd=tmp_path)
    assert kept.returncode == 0, kept.stderr
    assert "no audit entry was purged, as the flows did not load" in kept.stdout, kept.stdout
    (flows / "broken.toml").unlink()
    purged = cli("purge", env=env, cwd=tmp_path)
    assert purged.returncode == 0 and "audit entries: 1" in purged.stdout, purged.stdout


def interrupted_when(
    args: list[str],
    env: dict[str, str],
    cwd: Path,
    appeared: Path,
    pattern: str,
    sig: signal.Signals = signal.SIGINT,
    background: bool = False,
) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS`, sent Ctrl-C (SIGINT, or `sig`) as soon as `pattern` matches
    in the folder `appeared` (a step of the command under way); run to its end. In the
    `background` of a script, as `cmd &` starts it: with Ctrl-C (SIGINT) ignored."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if background else None,
    )
    while process.poll() is None and not list(appeared.glob(pattern)):
        time.sleep(0.001)
    process.send_signal(sig)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode is not None
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def intact(path: Path) -> bool:
    with sqlite3.connect(path) as con:
        return bool(con.execute("PRAGMA integrity_check").fetchone() == ("ok",))


@pytest.mark.parametrize(
    ("sig", "code", "background"),
    [(signal.SIGINT, 130, False), (signal.SIGTERM, 143, False), (signal.SIGTERM, 143, True)],
    ids=["ctrl-c", "sigterm", "sigterm-to-a-background-job"],
)
async def test_ctrl_c_in_the_middle_of_a_backup_leaves_no_copy_and_says_one_line(
    tmp_path: Path, sig: signal.Signals, code: int, background: bool
) -> None:
    # Found by an operator audit: a traceback through asyncio, and (by when it came) an
    # empty private folder, or the finished copies of a backup that said it failed.
    # SIGTERM (systemd stopping a timer's backup) killed it with no clean-up at all; sent
    # to a script's background job (Ctrl-C ignored there), it was lost (walk-through).
    data, copies = tmp_path / "data", tmp_path / "copies"
    copies.mkdir()
    store = SQLiteStore(data, base64.urlsafe_b64decode(MASTER_KEY))
    await store.open()
    for n in range(150):  # ~15 MB: the copy takes a while
        await store.submit_feedback(
            store.pseudonym(f"tg-user:{n}"),
            NewFeedback(
                flow_id="feedback",
                answers={"rating": 3, "comment": os.urandom(50_000).hex()},
                purposes=["feedback"],
                created_at=NOW,
                expires_at=NOW + timedelta(days=1),
            ),
            [GRANT],
        )
    await store.close()
    args = ["backup", str(copies / "feedback.db"), "--keys", str(copies / "keys.db")]
    args += ["--ledger", str(copies / "erasures.db")]
    result = interrupted_when(
        args, cli_env(data), tmp_path, copies, ".feedbackbot-backup-*", sig, background
    )
    assert result.returncode == code, result.stderr
    assert result.stderr == "feedbackbot: interrupted\n"
    assert list(copies.iterdir()) == [], "no copy, whole or in part"
    assert all(intact(data / name) for name in ("feedback.db", "keys.db", "erasures.db"))
    again = cli(*args, env=cli_env(data), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert await count_readable(copies, base64.urlsafe_b64decode(MASTER_KEY), 150) == 150


async def test_a_rotation_as_root_to_a_key_the_bots_account_cannot_read_says_so(
    tmp_path: Path,
) -> None:
    """Found by an operator walk-through: as root, `rotate-key --new-key-file new.key`
    (root's, mode 600) said "done: start the bot with it now", and the bot, running as
    the data folder's owner, then could not read it."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    data = tmp_path / "data"
    await make_store(data, 2)
    for path in (data, *data.iterdir()):
        os.chown(path, 65534, 65534)  # the bot's own account
    key_file = tmp_path / "new.key"
    key_file.write_text(encode_master_key(generate_key()) + "\n")
    key_file.chmod(0o600)
    done = cli("rotate-key", "--new-key-file", str(key_file), env=cli_env(data), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (
        "note: the bot runs as the owner of its data folder (user id 65534), who cannot read "
        f"{key_file}: give it to that account (chown 65534 {key_file}) before the bot starts "
        "with it"
    ) in done.stderr, done.stderr
    given = tmp_path / "given.key"
    given.write_text(encode_master_key(generate_key()) + "\n")
    given.chmod(0o600)
    os.chown(given, 65534, 65534)
    env = {**cli_env(data), "FEEDBACKBOT_MASTER_KEY": key_file.read_text().strip()}
    again = cli("rotate-key", "--new-key-file", str(given), env=env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "cannot read" not in again.stderr
