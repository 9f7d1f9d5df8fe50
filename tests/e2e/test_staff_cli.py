"""`feedbackbot export` and `feedbackbot audit` through the real command line."""

from __future__ import annotations

import argparse
import asyncio
import base64
import csv
import io
import json
import os
import sqlite3
import stat
import subprocess
import sys
import threading
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.cli import main
from storage import ConsentGrant, NewFeedback, SQLiteStore, StoreInUse
from storage.crypto import encode_master_key, generate_key
from tests.bot.test_optional_answers import CALLBACK_FLOW, ISSUE
from tests.e2e.test_lifecycle import cli, cli_env, in_process, make_store
from tests.harness import MASTER_KEY

NOW = datetime.now(UTC)

REPO = Path(__file__).resolve().parents[2]


async def seed(
    data: Path,
    people: int = 3,
    comment: str = "Mail an kunde{n}@example.de bitte",
    given: datetime | None = None,
    withdrawn: int | None = 2,
) -> None:
    """Feedback of `people` people, an hour apart before now (or a minute apart from
    `given`); the consent of person `withdrawn` withdrawn."""
    store = SQLiteStore(data, base64.urlsafe_b64decode(MASTER_KEY))
    await store.open()
    for n in range(people):
        at = NOW - timedelta(hours=n + 1) if given is None else given + timedelta(minutes=n)
        grant = ConsentGrant(
            purpose="feedback", notice_version="v", text_sha256="2" * 64, method="t", granted_at=at
        )
        await store.submit_feedback(
            store.pseudonym(f"tg-user:{n}"),
            NewFeedback(
                flow_id="feedback",
                answers={"rating": 4 + n % 2, "comment": comment.format(n=n)},
                purposes=["feedback"],
                created_at=at,
                expires_at=NOW + timedelta(days=30),
            ),
            [grant],
        )
    if withdrawn is not None:
        await store.withdraw_consent(store.pseudonym(f"tg-user:{withdrawn}"), "feedback", NOW)
    await store.close()


async def test_export_is_redacted_consented_and_audited(tmp_path: Path) -> None:
    data = tmp_path / "data"
    await seed(data)
    env = cli_env(data)
    as_csv = cli("export", "--since", "7d", "--format", "csv", env=env, cwd=tmp_path)
    assert as_csv.returncode == 0, as_csv.stderr
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert len(rows) == 2, "the withdrawn person's feedback is not exported"
    # every question of the flows, in their order, whatever the rows hold (a column set
    # and order that changed from one export to the next broke spreadsheets built on it)
    assert as_csv.stdout.splitlines()[0] == (
        "date,flow,rating,comment,satisfaction,improve,problems,problem_details,liked,recommend,"
        "delete_by"
    )
    # Each row says until when it may be kept (a DPO's review: nothing did).
    expiry = (NOW + timedelta(days=30)).astimezone(ZoneInfo("Europe/Berlin")).date()
    assert {r["delete_by"] for r in rows} == {expiry.isoformat()}
    assert {r["comment"] for r in rows} == {"Mail an [E-Mail] bitte"}
    assert "example.de" not in as_csv.stdout
    # `--output -` is standard output, as in other tools (it wrote a file named "-")
    dashed = cli("export", "--since", "7d", "--output", "-", env=env, cwd=tmp_path)
    assert dashed.returncode == 0, dashed.stderr  # the same rows (shuffled within a day)
    assert sorted(dashed.stdout.splitlines()) == sorted(as_csv.stdout.splitlines())
    assert not (tmp_path / "-").exists()
    target = tmp_path / "export.json"
    as_json = cli("export", "--format", "json", "--output", str(target), env=env, cwd=tmp_path)
    assert as_json.returncode == 0 and len(json.loads(target.read_text())) == 2
    assert "example.de" not in target.read_text() and "[E-Mail]" in target.read_text()
    audit = cli("audit", "--since", "1d", env=env, cwd=tmp_path)
    lines = [line for line in audit.stdout.splitlines() if " export " in line]
    assert len(lines) == 3 and all("by=cli records=2" in line for line in lines)
    # In the staff's language where it is set, as the summary is (mutation audit: the
    # customers' default went unnoticed): the placeholders that stand for what was left out.
    english = env | {"FEEDBACKBOT_STAFF_LOCALE": "en"}
    as_json = cli("export", "--format", "json", env=english, cwd=tmp_path)
    assert {r["comment"] for r in json.loads(as_json.stdout)} == {"Mail an [Email] bitte"}


async def test_output_read_only_in_part_ends_quietly(tmp_path: Path) -> None:
    """`feedbackbot export | head` (found by a staff walk-through: "feedbackbot: Broken
    pipe" under the rows): the reader closed its end before the rows came."""
    data = tmp_path / "data"
    await seed(data)
    reader, writer = os.pipe()
    os.close(reader)  # nobody reads: the first write fails as under `| head`
    with closing(os.fdopen(writer, "w")) as closed:
        done = subprocess.run(
            [sys.executable, "-m", "bot", "export", "--since", "7d", "--format", "csv"],
            env=cli_env(data),
            cwd=tmp_path,
            stdout=closed,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.stderr == "", done.stderr
    assert done.returncode == 141, "as a program SIGPIPE ended"


async def test_a_flows_warnings_are_left_to_check_by_the_staff_commands(tmp_path: Path) -> None:
    """Found by an operator walk-through: every export, summary, stats and audit printed the
    English "no English text; German is shown instead" of their own flow on stderr (a cron
    job's mail each time); `check` says it, in the operator's language."""
    data = tmp_path / "data"
    await seed(data)
    flows = tmp_path / "flows"
    flows.mkdir()
    product = (REPO / "flows" / "definitions" / "product.toml").read_text()
    (flows / "laden.toml").write_text(
        product.replace('id = "product"', 'id = "laden"').replace(
            'title = { de = "Produktfeedback", en = "Product feedback" }',
            'title = { de = "Ladenbesuch" }',
        )
    )
    env = cli_env(data) | {
        "FEEDBACKBOT_FLOWS_DIR": str(flows),
        "FEEDBACKBOT_STAFF_LOCALE": "de",
        "FEEDBACKBOT_CONTROLLER_NAME": "X",
        "FEEDBACKBOT_CONTROLLER_CONTACT": "x@example.org",
    }
    for command in (
        ["export", "--since", "7d", "--format", "csv"],
        ["summary", "--since", "7d"],
        ["stats", "--since", "7d"],
        ["audit", "--since", "7d"],
        ["docs", "processing-record"],  # (review: not tried)
    ):
        done = cli(*command, env=env, cwd=tmp_path)
        assert done.returncode in (0, 1), (command, done.stderr)
        assert "English" not in done.stderr and "laden" not in done.stderr, (command, done.stderr)
    checked = cli("check", env=env, cwd=tmp_path)
    assert "no English text; German is shown instead" in checked.stdout


def test_an_unusable_since_is_a_usage_error_not_a_traceback(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "data")
    for command in ("export", "audit", "stats", "summary"):
        for since, says in (
            ("bald", "not a period"),
            ("99999999999999999999d", "not a period"),
            # "30.5" was seconds (found by a review), now days; a thousand or one is neither
            ("1.000", "not a period"),
            ("1,000 Tage", "not a period"),
            # found by an operator's walk-through: let go without a word, a survey not
            # loaded among them (every survey's figures given)
            ("30d product", "“product” is not part of a period; give the period alone"),
            ("30 Tage irgendwas", "“irgendwas” is not part of a period"),
            ("1.12. foo", "“foo” is not part of a period"),
        ):
            result = cli(
                command,
                "--since",
                since,
                env=env | {"FEEDBACKBOT_SHIPPED_FLOWS": "feedback"},
                cwd=tmp_path,
            )
            assert result.returncode == 2 and says in result.stderr, (command, result.stderr)
            assert "Traceback" not in result.stderr
        too_far = cli(command, "--since", "3661d", env=env, cwd=tmp_path)
        assert too_far.returncode == 2 and "at most 3660 days" in too_far.stderr
    # A summary counts whole days (found by review: "3m", three months meant, was minutes).
    short = cli("summary", "--since", "3m", env=env, cwd=tmp_path)
    assert short.returncode == 2 and "summaries count whole days" in short.stderr, short.stderr


def test_a_survey_named_in_since_is_a_usage_error(tmp_path: Path) -> None:
    """Found by an operator's walk-through: `export --since "30d product"` wrote every
    survey's feedback, exit 0, the word let go without a word. `audit` has no surveys;
    a word that names several ("feedback") is not part of a period either, and "bitte" is
    let go, as in the chat."""
    env = cli_env(tmp_path / "data") | {"LANG": "en_US.UTF-8"}
    for command in ("export", "stats", "summary"):
        result = cli(command, "--since", "30d product", env=env, cwd=tmp_path)
        assert result.returncode == 2, (command, result.stderr)
        assert (
            "'30d product': every survey is counted together; this cannot be limited to "
            "“Product feedback”"
        ) in result.stderr, result.stderr
        bitte = cli(command, "--since", "30d bitte", env=env, cwd=tmp_path)
        assert bitte.returncode != 2 and "no store in" in bitte.stderr, (command, bitte.stderr)
        several = cli(command, "--since", "30d feedback", env=env, cwd=tmp_path)
        assert several.returncode == 2 and "every survey" not in several.stderr, several.stderr
        assert "“feedback” is not part of a period" in several.stderr, several.stderr


_MONTHS = (
    "January February March April May June July August September October November December"
).split()


def test_since_a_day_counts_from_its_start_not_back_from_now() -> None:
    """`export --since gestern` gave today's rows alone, 24 hours back from now (found by a
    staff walk-through): a day named by the calendar counts from its start on."""
    from bot.cli.common import lookback

    now = datetime.now(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    for typed, days in (("gestern", 1), ("yesterday", 1), ("vorgestern", 2), ("heute", 0)):
        expected = now - (midnight - timedelta(days=days))
        assert abs(lookback(typed) - expected) < timedelta(minutes=1), typed
    this_week = now - (midnight - timedelta(days=now.weekday()))
    assert abs(lookback("this week") - this_week) < timedelta(minutes=1)
    # since Monday, on a Monday: since last Monday (as the chat reads it)
    since_monday = now - (midnight - timedelta(days=now.weekday() or 7))
    assert abs(lookback("seit Montag") - since_monday) < timedelta(minutes=1)
    assert lookback("1d") == timedelta(days=1)  # a length stays one, back from now
    assert lookback("letzte Woche") == timedelta(weeks=1)
    # a date too, from its day's start (a staff walk-through: "1.12." was 1.12 days)
    first = midnight - timedelta(days=4)
    for typed in (
        f"{first.day}.{first.month}.",
        f"seit {first.day}.{first.month}.{first.year}",
        first.date().isoformat(),  # as scripts write it (a staff walk-through: refused)
        f"since {first.date().isoformat()}",
    ):
        assert abs(lookback(typed) - (now - first)) < timedelta(minutes=1), typed
    for no_day in ("31.2.", "2026-02-30", "KW 54"):
        with pytest.raises(argparse.ArgumentTypeError, match="is not a day in the calendar"):
            lookback(no_day)
    with pytest.raises(argparse.ArgumentTypeError, match="is not before today"):
        lookback(f"{now.year + 1}-01-01")
    for backwards in ("6.-1.12.", "5.3.-3.3."):  # (was "no day before today")
        with pytest.raises(argparse.ArgumentTypeError, match="ends before it begins"):
            lookback(backwards)
    # this year so far, not 2,026 days; a month of it too (a staff walk-through)
    new_year = midnight.replace(month=1, day=1)
    for typed in (str(now.year), "this year", "seit Jahresbeginn", "YTD"):
        assert abs(lookback(typed) - (now - new_year)) < timedelta(minutes=1), typed
    month_start = midnight.replace(day=1)
    this_month = _MONTHS[month_start.month - 1]
    assert abs(lookback(this_month) - (now - month_start)) < timedelta(minutes=1)
    assert abs(lookback("7 Tage!") - timedelta(days=7)) < timedelta(minutes=1)
    for polite in ("30 Tage, bitte", "30 Tage,bitte"):  # (the second refused: its review)
        assert abs(lookback(polite) - timedelta(days=30)) < timedelta(minutes=1)


def test_a_month_or_year_that_is_over_is_told_where_to_count_from(tmp_path: Path) -> None:
    """Found by a staff walk-through: `--since 2025` counted 2,025 days back, and a month
    named was no period. A period counts up to now: one that is over is refused, with the
    date to count from on instead."""
    env = cli_env(tmp_path / "data") | {"LANG": "en_US.UTF-8"}
    last_year = datetime.now(UTC).year - 1
    for command in ("export", "stats", "summary"):
        for typed, since in (
            (str(last_year), f"1 Jan {last_year}"),
            (f"June {last_year}", f"1 Jun {last_year}"),
        ):
            result = cli(command, "--since", typed, env=env, cwd=tmp_path)
            assert result.returncode == 2, (command, result.stderr)
            assert (
                f"'{typed}' is over, and a period counts up to now: to count from its first "
                f"day on, give --since {since}"
            ) in result.stderr, (command, result.stderr)
    german = cli(
        "summary", "--since", str(last_year), env=env | {"LANG": "de_DE.UTF-8"}, cwd=tmp_path
    )
    assert f"geben Sie --since 1.1.{last_year} an" in german.stderr, german.stderr


def test_an_export_since_a_day_begins_at_its_midnight_where_its_rows_are_dated() -> None:
    """Found by a staff walk-through: `export --since "seit Dienstag"` began at UTC midnight,
    and a feedback of 00:21 on Tuesday in Berlin, dated Tuesday in the export, was left
    out. The export dates rows in FEEDBACKBOT_TIMEZONE, and so a day named begins there."""
    from bot.cli.common import lookback

    berlin = ZoneInfo("Europe/Berlin")
    now = datetime.now(berlin)
    midnight = datetime.combine(now.date() - timedelta(days=1), datetime.min.time(), berlin)
    assert abs(lookback("gestern", "Europe/Berlin") - (now - midnight)) < timedelta(minutes=1)
    # across a change of summer time, counted in real hours (review: an hour off)
    first = now.date() - timedelta(days=182)
    start = datetime.combine(first, datetime.min.time(), berlin).astimezone(UTC)
    since = lookback(f"{first.day}.{first.month}.{first.year}", "Europe/Berlin")
    assert abs(since - (datetime.now(UTC) - start)) < timedelta(minutes=1)
    tokyo = ZoneInfo("Asia/Tokyo")
    there = datetime.now(tokyo)
    start = datetime.combine(there.date() - timedelta(days=1), datetime.min.time(), tokyo)
    assert abs(lookback("yesterday", "Asia/Tokyo") - (there - start)) < timedelta(minutes=1)


def test_minutes_are_refused_where_a_team_lead_means_months() -> None:
    """`export --since 3m` wrote an empty file, three minutes back, without a word (found
    by a staff walk-through): summaries refuse it, and so do export and stats."""
    from bot.cli.common import lookback_of_surveys

    with pytest.raises(argparse.ArgumentTypeError, match="for months write 3M, for days 3d"):
        lookback_of_surveys("3m")
    for typed in ("1.5m", "3min", "90 Minuten"):
        with pytest.raises(argparse.ArgumentTypeError, match="would be minutes"):
            lookback_of_surveys(typed)
    assert lookback_of_surveys("3M") == timedelta(days=90)
    assert lookback_of_surveys("12h") == timedelta(hours=12)


async def test_summary_since_a_weekday_is_the_summary_of_its_whole_days(tmp_path: Path) -> None:
    """`--since "seit Montag"` is read as in the chat (found by a staff walk-through: "not
    a period" in the chat and here): the whole days since, as many as `--since Nd`."""
    store = SQLiteStore(tmp_path / "data", base64.urlsafe_b64decode(MASTER_KEY))
    await store.open()
    await store.close()
    env = cli_env(tmp_path / "data")
    days = datetime.now(UTC).weekday() or 7  # since Monday; on a Monday, last Monday's week
    for since in ("seit Montag", "since Monday"):
        said = cli("summary", "--since", since, "--lang", "en", env=env, cwd=tmp_path)
        assert said.returncode == 0, said.stderr
        as_days = cli("summary", "--since", f"{days}d", "--lang", "en", env=env, cwd=tmp_path)
        assert said.stdout == as_days.stdout and "Feedback summary" in said.stdout
    # today is no whole day, said so (a review of the change: "not a period"); a date is none
    # as the chat says it, with the option to give (a staff walk-through: "give at least one
    # day, e.g. 1d, 7d or 3M")
    today = cli("summary", "--since", "seit heute", env=env, cwd=tmp_path)
    assert (
        today.returncode == 2
        and ("this period began today: for yesterday give --since 1d, for the last week 7d")
        in today.stderr
    ), today.stderr
    today = cli("summary", "--since", "heute", env=env, cwd=tmp_path)
    assert (
        today.returncode == 2
        and ("so today has no figures of its own yet: for yesterday give --since 1d")
        in today.stderr
    ), today.stderr
    before = cli("summary", "--since", "vorgestern", env=env, cwd=tmp_path)
    assert before.returncode == 2 and "2d counts yesterday and the day before" in before.stderr
    # a date is the day the summary counts from (a staff walk-through: "1.12." was read as
    # 1.12 days); one that is no day before today is said so
    first = datetime.now(UTC).date() - timedelta(days=3)
    date = cli(
        "summary",
        "--since",
        f"seit {first.day}.{first.month}.",
        "--lang",
        "en",
        env=env,
        cwd=tmp_path,
    )
    as_days = cli("summary", "--since", "3d", "--lang", "en", env=env, cwd=tmp_path)
    assert date.returncode == 0 and date.stdout == as_days.stdout, date.stderr
    date = cli("summary", "--since", "31.2.", env=env, cwd=tmp_path)
    assert date.returncode == 2 and "'31.2.' is not a day in the calendar" in date.stderr, (
        date.stderr
    )


async def test_export_cells_that_look_like_formulas_stay_text_and_the_file_is_private(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    store = SQLiteStore(data, base64.urlsafe_b64decode(MASTER_KEY))
    await store.open()
    formulas = ["=SUMME(1;2)*3", "+1+1", "-2+3", '=HYPERLINK("Zelle")']
    for n, comment in enumerate(formulas):
        grant = ConsentGrant(
            purpose="feedback", notice_version="v", text_sha256="2" * 64, method="t", granted_at=NOW
        )
        await store.submit_feedback(
            store.pseudonym(f"tg-user:{n}"),
            NewFeedback(
                flow_id="feedback",
                answers={"rating": 4, "comment": comment},
                purposes=["feedback"],
                created_at=NOW - timedelta(hours=1),
                expires_at=NOW + timedelta(days=30),
            ),
            [grant],
        )
    await store.close()
    env = cli_env(data)
    target = tmp_path / "export.csv"
    result = cli("export", "--since", "36h", "--output", str(target), env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "wrote 4 responses" in result.stderr
    comments = [row["comment"] for row in csv.DictReader(io.StringIO(target.read_text()))]
    assert comments and all(c.startswith("'") for c in comments), comments
    assert target.stat().st_mode & 0o777 == 0o600
    audit = cli("audit", "--since", "1d", env=env, cwd=tmp_path).stdout
    assert " export 36h by=cli records=4" in audit


async def test_an_export_that_cannot_be_written_is_one_line_and_not_audited(
    tmp_path: Path,
) -> None:
    await seed(tmp_path / "data")
    env = cli_env(tmp_path / "data")
    (tmp_path / "folder").mkdir()
    result = cli("export", "--output", str(tmp_path / "folder"), env=env, cwd=tmp_path)
    assert result.returncode == 1 and result.stderr.startswith("feedbackbot: is a folder")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    audit = cli("audit", env=env, cwd=tmp_path)
    assert audit.returncode == 0 and " export " not in audit.stdout


@pytest.mark.parametrize("command", ["audit", "stats", "export", "summary", "backup", "purge"])
def test_a_mistyped_data_dir_is_refused_not_made_into_an_empty_store(
    tmp_path: Path, command: str
) -> None:
    args = [command, str(tmp_path / "b.db")] if command == "backup" else [command]
    for where in (tmp_path / "dtaa", tmp_path / "a-file"):
        if where.name == "a-file":
            where.write_text("oops")
        result = cli(*args, env=cli_env(where), cwd=tmp_path)
        assert result.returncode == 1 and "no store in" in result.stderr, result.stderr
        assert "FEEDBACKBOT_DATA_DIR" in result.stderr and result.stderr.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"], "nothing was created"


async def test_while_the_bot_runs_purge_and_rotate_key_are_refused_reading_works(
    tmp_path: Path,
) -> None:
    """A purge beside the bot shredded keys the bot still had cached (its later feedback
    was written under a key gone from keys.db); a rotation left the bot wrapping new
    keys under the old master key. The running bot holds the data dir's lock."""
    data = tmp_path / "data"
    await seed(data)
    running = SQLiteStore(data, base64.urlsafe_b64decode(MASTER_KEY), exclusive=True)
    await running.open()
    env = cli_env(data)
    new_key = tmp_path / "new.key"
    new_key.write_text(base64.urlsafe_b64encode(bytes(range(1, 33))).decode())
    try:
        for args in (["purge"], ["rotate-key", "--new-key-file", str(new_key)]):
            result = cli(*args, env=env, cwd=tmp_path)
            assert result.returncode == 1, result.stderr
            assert "in use by another feedbackbot process" in result.stderr
            assert result.stderr.count("\n") == 1
        assert cli("stats", env=env, cwd=tmp_path).returncode == 0
        assert cli("backup", str(tmp_path / "copy.db"), env=env, cwd=tmp_path).returncode == 0
        with pytest.raises(StoreInUse):
            await SQLiteStore(data, base64.urlsafe_b64decode(MASTER_KEY), exclusive=True).open()
        # The lock file deleted as a leftover (it stays after every run): the folder's own
        # lock still keeps a restore, a purge out (found by an operator walk-through: a
        # restore ran beside the bot, which then thanked for feedback the restore lost)
        (data / "feedbackbot.lock").unlink()
        backup = tmp_path / "copy.db"
        for args in (["purge"], ["restore", str(backup)]):
            result = cli(*args, env=env, cwd=tmp_path)
            assert result.returncode == 1, result.stderr
            assert "in use by another feedbackbot process" in result.stderr, result.stderr
    finally:
        await running.close()
    assert cli("purge", env=env, cwd=tmp_path).returncode == 0  # the old key still opens it


async def test_export_carries_the_ticked_options_of_a_multiple_choice(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = SQLiteStore(data, base64.urlsafe_b64decode(MASTER_KEY))
    await store.open()
    grant = ConsentGrant(
        purpose="product_feedback",
        notice_version="v",
        text_sha256="2" * 64,
        method="t",
        granted_at=NOW,
    )
    await store.submit_feedback(
        store.pseudonym("tg-user:1"),
        NewFeedback(
            flow_id="product",
            answers={"satisfaction": 2, "problems": ["bugs", "price"], "recommend": 3},
            purposes=["product_feedback"],
            created_at=NOW - timedelta(hours=1),
            expires_at=NOW + timedelta(days=30),
        ),
        [grant],
    )
    await store.close()
    env = cli_env(data)
    as_csv = cli("export", "--format", "csv", env=env, cwd=tmp_path)
    assert as_csv.returncode == 0, as_csv.stderr
    (row,) = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert (row["flow"], row["problems"], row["satisfaction"]) == ("product", "bugs; price", "2")
    as_json = json.loads(cli("export", "--format", "json", env=env, cwd=tmp_path).stdout)
    assert as_json[0]["problems"] == ["bugs", "price"]
    # Every question of its flow, null where not asked (the texts were left out before,
    # while an unanswered rating was null: a script had to expect both).
    shown = {key: value for key, value in as_json[0].items() if key not in ("date", "delete_by")}
    assert shown == {
        "flow": "product",
        "satisfaction": 2,
        "improve": None,
        "problems": ["bugs", "price"],
        "problem_details": None,
        "liked": None,
        "recommend": 3,
    }


async def test_an_excel_export_opens_in_a_german_excel(tmp_path: Path) -> None:
    """Excel set to German splits lines at semicolons and reads a file without a byte
    order mark as Windows-1252: "Größe" would be "GrÃ¶ÃŸe", and all in one column."""
    data = tmp_path / "data"
    await seed(data, comment="Größe passt; Farbe schön, danke", withdrawn=None)
    target = tmp_path / "export.csv"
    env = cli_env(data)
    result = cli("export", "--format", "excel", "--output", str(target), env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8, marked as such"
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("date;flow;rating;comment;")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert [row["comment"] for row in rows] == ["Größe passt; Farbe schön, danke"] * 3
    plain = cli("export", "--format", "csv", env=env, cwd=tmp_path).stdout
    assert plain.startswith("date,flow,"), "plain CSV stays as it was"


async def test_answers_collected_for_an_optional_purpose_are_not_exported(
    tmp_path: Path,
) -> None:
    """The issue someone agreed may be followed up on serves the follow-up alone: not the
    analysis, as summaries and statistics leave it out too."""
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "callback.toml").write_text(CALLBACK_FLOW, encoding="utf-8")
    data = tmp_path / "data"
    store = SQLiteStore(data, base64.urlsafe_b64decode(MASTER_KEY))
    await store.open()
    grants = [
        ConsentGrant(
            purpose=purpose, notice_version="v", text_sha256="2" * 64, method="t", granted_at=NOW
        )
        for purpose in ("callback_feedback", "followup")
    ]
    await store.submit_feedback(
        store.pseudonym("tg-user:1"),
        NewFeedback(
            flow_id="callback",
            answers={"rating": 2, "issue": ISSUE},
            purposes=["callback_feedback", "followup"],
            created_at=NOW - timedelta(hours=1),
            expires_at=NOW + timedelta(days=30),
        ),
        grants,
    )
    await store.close()
    env = {**cli_env(data), "FEEDBACKBOT_FLOWS_DIR": str(flows)}
    as_csv = cli("export", "--format", "csv", env=env, cwd=tmp_path)
    assert as_csv.returncode == 0, as_csv.stderr
    (row,) = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert (row["flow"], row["rating"]) == ("callback", "2")
    assert "issue" not in row and "Techniker" not in as_csv.stdout


async def test_an_export_that_fails_leaves_no_file_behind(tmp_path: Path) -> None:
    data = tmp_path / "data"
    await seed(data)
    target = tmp_path / "e.csv"
    wrong_key = encode_master_key(generate_key())  # random: a weak key is warned about too
    result = cli("export", "--output", str(target), env=cli_env(data, wrong_key), cwd=tmp_path)
    assert result.returncode == 1 and "master key" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not target.exists(), "an empty file would look like an export of nothing"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"], "nor a partial one"
    kept = tmp_path / "kept.csv"
    kept.write_text("earlier export\n")
    cli("export", "--output", str(kept), env=cli_env(data, wrong_key), cwd=tmp_path)
    assert kept.read_text() == "earlier export\n", "an existing file is left as it was"
    again = cli("export", "--output", str(kept), env=cli_env(data), cwd=tmp_path)
    assert again.returncode == 0 and "Mail an [E-Mail] bitte" in kept.read_text()
    assert kept.stat().st_mode & 0o777 == 0o600, "written over, and private"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "kept.csv"], "no partial"


async def test_an_export_writes_no_file_through_a_link_planted_beside_it(tmp_path: Path) -> None:
    """Someone who may write to the export's folder plants `DEST.partial` as a link to a
    file of the operator's (keys.db, say): it was followed and overwritten (found by
    review). The export is written to a file of its own and the target left alone."""
    data = tmp_path / "data"
    await seed(data)
    victim = tmp_path / "victim.txt"
    victim.write_text("the operator's file\n")
    target = tmp_path / "export.csv"
    target.with_name("export.csv.partial").symlink_to(victim)
    result = cli("export", "--output", str(target), env=cli_env(data), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert victim.read_text() == "the operator's file\n"
    assert not target.is_symlink() and "Mail an [E-Mail] bitte" in target.read_text()


async def test_the_summary_staff_get_is_printed_at_the_command_line(tmp_path: Path) -> None:
    """What the staff chat gets, for an operator without Telegram at hand (or to send a
    missed digest by hand): whole days, redacted, audited; the chart to a file."""
    data = tmp_path / "data"
    env = cli_env(data)
    given = (NOW - timedelta(days=2)).replace(hour=12)
    await seed(data, 6, "Rufen Sie an: 0151 2345678{n}", given, withdrawn=None)
    chart = tmp_path / "chart.png"
    # Planted by another user of a shared folder: the chart is written beside it, not
    # through it (it overwrote the operator's file), and for its owner alone.
    victim = tmp_path / "victim.txt"
    victim.write_text("the operator's file\n")
    chart.symlink_to(victim)
    shown = cli(
        "summary", "--since", "7 Tage", "--lang", "en", "--chart", str(chart), env=env, cwd=tmp_path
    )
    assert victim.read_text() == "the operator's file\n"
    assert not chart.is_symlink() and chart.stat().st_mode & 0o777 == 0o600
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("Feedback summary") and "(7 days)" in shown.stdout
    assert "Responses: 6" in shown.stdout and "Average 4.5 out of 5" in shown.stdout
    assert "Rufen Sie an: [Phone]" in shown.stdout and "2345678" not in shown.stdout
    assert chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert shown.stderr.startswith(f"{chart}: ") and "per group of days" in shown.stderr
    audit = cli("audit", "--since", "1d", env=env, cwd=tmp_path).stdout
    assert " summary 7d by=cli records=6" in audit


async def test_control_characters_in_comments_do_not_reach_the_operators_terminal(
    tmp_path: Path,
) -> None:
    """A comment carrying escape sequences (clear the screen, write the clipboard) was
    printed raw by `summary` and the CSV `export` (found by review): shown as �."""
    data = tmp_path / "data"
    env = cli_env(data)
    given = (NOW - timedelta(days=2)).replace(hour=12)
    hostile = "Nett\x1b[2J\x1b]52;c;ZXZpbA==\x07 Ende{n}\x9b\rgut\u202egeheim"
    await seed(data, 6, hostile, given, withdrawn=None)
    shown = cli("summary", "--since", "7d", "--lang", "en", env=env, cwd=tmp_path)
    exported = cli("export", "--since", "7d", "--format", "csv", env=env, cwd=tmp_path)
    for result in (shown, exported):
        assert result.returncode == 0, result.stderr
        assert "Nett�[2J�]52;c;ZXZpbA==� Ende" in result.stdout
        assert not any(c in result.stdout for c in "\x1b\x07\x9b\u202e")
        # nothing reordered: the redaction takes the writing-direction mark out
        assert "gutgeheim" in result.stdout, "nothing reordered"
        assert "\r" not in result.stdout.replace("\r\n", ""), "no line rewritten"
    saved = tmp_path / "saved.csv"
    cli("export", "--since", "7d", "--output", str(saved), env=env, cwd=tmp_path)
    assert "\x1b[2J" in saved.read_text(encoding="utf-8"), "a file keeps them as given"


async def test_a_summary_with_nothing_to_show_says_so_and_writes_no_chart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    await seed(data)  # feedback of today only: no day is over
    chart = tmp_path / "chart.png"
    shown = cli("summary", "--chart", str(chart), env=cli_env(data), cwd=tmp_path)
    assert shown.returncode == 1 and "Noch kein Feedback anzuzeigen" in shown.stdout
    assert not chart.exists() and "no chart" in shown.stderr
    # in the staff chat's language, as the digest is (unset: the default language's)
    english = cli_env(data) | {"FEEDBACKBOT_STAFF_LOCALE": "en"}
    shown = cli("summary", "--chart", str(chart), env=english, cwd=tmp_path)
    assert shown.returncode == 1 and "No feedback to show yet" in shown.stdout, shown.stdout


COMMANDS_BESIDE_RUN = [
    ("stats",),
    ("audit",),
    ("export", "--output", "rows.csv"),
    ("summary",),
    ("docs", "consent-notice"),
    ("backup", "before-upgrade.db"),
    ("purge",),
    ("rotate-key", "--new-key-file", "new.key"),
]


OLDER = (
    "DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM ("
    "SELECT version FROM schema_migrations))"
)


@pytest.mark.parametrize("wal", [False, True], ids=["checkpointed", "with-wal"])
@pytest.mark.parametrize(
    "command", [*COMMANDS_BESIDE_RUN, ("chat", "--data-dir", "data")], ids=lambda c: c[0]
)
async def test_only_run_upgrades_a_store_of_an_older_version(
    tmp_path: Path, command: tuple[str, ...], wal: bool
) -> None:
    """Found by an operator audit: `stats` or a backup "before the upgrade" with the new
    version installed upgraded the store for good, and the version still running could
    not start again. Only `feedbackbot run` upgrades; the others say so and write nothing,
    also where a killed bot left a write-ahead log (a review found that folded in)."""
    data = tmp_path / "data"
    await seed(data)
    if wal:  # as an older version, killed before a checkpoint, left it
        leave = (
            "import os, sqlite3, sys; con = sqlite3.connect(sys.argv[1], isolation_level=None);"
            "con.execute('PRAGMA wal_autocheckpoint=0'); con.execute(sys.argv[2]); os._exit(0)"
        )
        subprocess.run([sys.executable, "-c", leave, str(data / "feedback.db"), OLDER], check=True)
        assert (data / "feedback.db-wal").stat().st_size > 0
    else:
        with closing(sqlite3.connect(data / "feedback.db")) as con:
            con.execute(OLDER)
            con.commit()
    (tmp_path / "new.key").write_text(encode_master_key(generate_key()))
    (tmp_path / "new.key").chmod(0o600)
    names = ("feedback.db", "keys.db", "feedback.db-wal") if wal else ("feedback.db", "keys.db")
    before = {name: (data / name).read_bytes() for name in names}
    result = cli(*command, env=cli_env(data), cwd=tmp_path)
    assert result.returncode == 1, result.stdout
    assert "written by an older feedbackbot" in result.stderr
    assert "only `feedbackbot run` upgrades it" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert {name: (data / name).read_bytes() for name in before} == before
    assert not (tmp_path / "rows.csv").exists() and not (tmp_path / "before-upgrade.db").exists()


@pytest.mark.parametrize("command", COMMANDS_BESIDE_RUN[:3], ids=lambda c: c[0])
async def test_data_without_its_key_store_is_told_to_be_restored(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    """Found by the same audit: a half-restored backup was told "no store; `feedbackbot
    run` makes a new one", the wrong advice where the data waits for its keys."""
    data = tmp_path / "data"
    await seed(data)
    (data / "keys.db").unlink()
    result = cli(*command, env=cli_env(data), cwd=tmp_path)
    assert result.returncode == 1
    assert "holds data but no key store keys.db: restore it" in result.stderr
    assert "no store in" not in result.stderr and "feedbackbot run" not in result.stderr


async def test_since_reads_a_period_alike_in_every_command(tmp_path: Path) -> None:
    """Found by an operator audit: `--since 30` was thirty days for `summary` but thirty
    seconds for `export` (an empty file, exit 0, audited). A bare number is days in
    every command, and "3 Monate" is understood too."""
    data = tmp_path / "data"
    await seed(data)
    env = cli_env(data)
    for since in ("1", "3 Monate", "2 weeks"):
        result = cli("export", "--since", since, "--format", "json", env=env, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert len(json.loads(result.stdout)) == 2, since
    audit = cli("audit", "--since", "1", env=env, cwd=tmp_path)
    assert audit.stdout.count(" export ") == 3


async def test_a_chart_or_export_into_a_missing_folder_is_said_before_anything_is_read(
    tmp_path: Path,
) -> None:
    """Found by an operator audit: `summary --chart` into a missing folder printed (and
    audited) the whole summary before failing, and `export` named its own file beside."""
    data = tmp_path / "data"
    await seed(data)
    env = cli_env(data)
    missing = tmp_path / "nodir"
    summary = cli("summary", "--chart", str(missing / "c.png"), env=env, cwd=tmp_path)
    export = cli("export", "--output", str(missing / "x.csv"), env=env, cwd=tmp_path)
    for result in (summary, export):
        assert result.returncode == 1 and result.stdout == ""
        assert result.stderr.strip() == f"feedbackbot: no such file or folder: {missing}"
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    result = cli("summary", "--chart", str(a_file / "c.png"), env=env, cwd=tmp_path)
    assert result.returncode == 1 and result.stdout == "", "a file taken for a folder"
    assert result.stderr.strip().endswith(str(a_file))
    audit = cli("audit", env=env, cwd=tmp_path).stdout
    assert " summary " not in audit and " export " not in audit


@pytest.mark.parametrize(
    ("command", "name"),
    [
        (("export", "--output"), "feedback.db"),
        (("export", "--output"), "master.key"),
        (("summary", "--chart"), "keys.db"),
        (("docs", "privacy-notice", "--output"), "keys.db"),
        (("docs", "privacy-notice", "--output"), "sub/../erasures.db"),
        # a copy there is out of reach of erasure and expiry (operator walk-through)
        (("backup",), "nightly.db"),
    ],
)
async def test_an_output_into_the_data_folder_is_refused_and_the_store_stays(
    tmp_path: Path, command: tuple[str, ...], name: str
) -> None:
    """Found by an operator walk-through: `export --output data/feedback.db`, `summary
    --chart data/keys.db` and `docs … --output data/keys.db` replaced the store's files
    with the output (every record lost), saying they had written it."""
    data = tmp_path / "data"
    await seed(data)
    (data / "sub").mkdir()
    (data / "master.key").write_text(MASTER_KEY + "\n")
    before = {p.name: p.read_bytes() for p in data.iterdir() if p.is_file()}
    target = data / name
    env = {
        **cli_env(data),
        "FEEDBACKBOT_CONTROLLER_NAME": "Hotel Muster GmbH",  # for the documents
        "FEEDBACKBOT_CONTROLLER_CONTACT": "datenschutz@hotel-muster.example",
    }
    result = cli(*command, str(target), env=env, cwd=tmp_path)
    assert result.returncode == 1, result
    assert result.stderr.strip() == (
        f"feedbackbot: {target} is in the bot's data folder {data.resolve()}, where it could "
        "replace the store's files: write the output elsewhere"
    ), result.stderr
    after = {p.name: p.read_bytes() for p in data.iterdir() if p.is_file()}
    assert {n: after.get(n) for n in ("feedback.db", "keys.db", "master.key")} == {
        n: before.get(n) for n in ("feedback.db", "keys.db", "master.key")
    }
    assert " export " not in cli("audit", env=cli_env(data), cwd=tmp_path).stdout


async def test_an_output_over_the_master_key_file_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    await seed(data)
    key_file = tmp_path / "master.key"
    key_file.write_text(MASTER_KEY + "\n")
    key_file.chmod(0o600)
    env = {k: v for k, v in cli_env(data).items() if k != "FEEDBACKBOT_MASTER_KEY"}
    env["FEEDBACKBOT_MASTER_KEY_FILE"] = str(key_file)
    result = cli("export", "--output", str(key_file), env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"feedbackbot: {key_file} is the master key file: write the output to another file"
    )
    assert key_file.read_text() == MASTER_KEY + "\n"
    written = cli("export", "--output", str(tmp_path / "x.csv"), env=env, cwd=tmp_path)
    assert written.returncode == 0, written.stderr


@pytest.mark.parametrize(
    "command",
    [
        ("export", "--output"),
        ("summary", "--chart"),
        ("docs", "privacy-notice", "--output"),
        ("backup",),
    ],
)
@pytest.mark.parametrize("settings_file", [".env", "recipients.toml"])
async def test_an_output_over_a_file_of_settings_is_refused(
    tmp_path: Path, command: tuple[str, ...], settings_file: str
) -> None:
    """Found by an operator walk-through: `export --output .env` replaced the .env that
    held the master key with the CSV, "wrote 33 feedbacks", and every record was lost; so
    did `summary --chart .env` and `docs … --output .env`. Written before it exists, the
    next command read the output as settings."""
    data = tmp_path / "data"
    await seed(data)
    settings = {
        "FEEDBACKBOT_CONTROLLER_NAME": "Hotel Muster GmbH",
        "FEEDBACKBOT_CONTROLLER_CONTACT": "datenschutz@hotel-muster.example",
        "FEEDBACKBOT_MASTER_KEY": MASTER_KEY,
    }
    env = {k: v for k, v in cli_env(data).items() if k not in settings}
    (tmp_path / ".env").write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
    (tmp_path / ".env").chmod(0o600)
    recipients = tmp_path / "recipients.toml"
    recipients.write_text("# nobody yet\n")
    env["FEEDBACKBOT_RECIPIENTS_FILE"] = str(recipients)
    if settings_file == ".env":
        (tmp_path / ".env").unlink()  # not there yet: refused all the same
        env.update(settings)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    result = cli(*command, settings_file, env=env, cwd=tmp_path)
    assert result.returncode == 1, result
    assert result.stderr.strip() == (
        f"feedbackbot: {settings_file} holds settings of the bot: write the output to another file"
    ), result.stderr
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before
    written = cli(*command, "out.file", env=env, cwd=tmp_path)
    assert "settings" not in written.stderr, written.stderr  # (a summary of 3: no chart)
    assert written.returncode == 0 or command == ("summary", "--chart"), written.stderr


@pytest.mark.parametrize(
    "command",
    [("export", "--output"), ("summary", "--chart"), ("docs", "privacy-notice", "--output")],
)
async def test_an_output_over_a_database_or_a_master_key_anywhere_is_refused(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    """Found by an operator walk-through: `export --output master.key` replaced the old
    key kept after `rotate-key`, and `--output` a backup or another bot's live store,
    "wrote 5 feedbacks"; only this bot's own files were refused. An earlier export is
    replaced as before."""
    data = tmp_path / "data"
    await seed(data)
    other = tmp_path / "other"
    await seed(other)
    old_key = tmp_path / "old-master.key"
    old_key.write_text(base64.urlsafe_b64encode(os.urandom(32)).decode() + "\n")
    earlier = tmp_path / "earlier.csv"
    earlier.write_text("flow,given_at\n")
    env = {
        **cli_env(data),
        "FEEDBACKBOT_CONTROLLER_NAME": "Hotel Muster GmbH",
        "FEEDBACKBOT_CONTROLLER_CONTACT": "datenschutz@hotel-muster.example",
    }
    for target, said in (
        (other / "feedback.db", "is a database (a store, or a backup of one)"),
        (other / "keys.db", "is a database (a store, or a backup of one)"),
        (old_key, "holds a master key"),
    ):
        before = target.read_bytes()
        result = cli(*command, str(target), env=env, cwd=tmp_path)
        assert result.returncode == 1, result
        assert result.stderr.strip() == (
            f"feedbackbot: {target} {said}: write the output to another file"
        ), result.stderr
        assert target.read_bytes() == before
    written = cli(*command, str(earlier), env=env, cwd=tmp_path)
    assert written.returncode == 0 or command == ("summary", "--chart"), written.stderr
    assert "is a database" not in written.stderr and "master key" not in written.stderr


async def test_a_command_beside_the_bot_during_an_erasure_waits_and_says_what_is_going_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between an erasure's note in the ledger and its key's shredding, a command beside
    the running bot found an entry held and told the operator to start the bot, which
    runs (found by review): it waits a while, and then says the bot is at it."""
    import asyncio

    data = tmp_path / "data"
    await seed(data)
    bot = SQLiteStore(data, base64.urlsafe_b64decode(MASTER_KEY), exclusive=True)
    await bot.open()
    noted, go_on = asyncio.Event(), asyncio.Event()
    real_erase = SQLiteStore._erase

    async def held_erase(self: SQLiteStore, pseudonym: str, now: object = None) -> object:
        noted.set()  # the moment, widened: as long as the bot's store is busy
        await go_on.wait()
        return await real_erase(self, pseudonym, now)  # type: ignore[arg-type]

    monkeypatch.setattr(SQLiteStore, "_erase", held_erase)
    erasing = asyncio.create_task(bot.erase_subject(bot.pseudonym("tg-user:0")))
    await noted.wait()
    try:
        during = await asyncio.to_thread(cli, "stats", env=cli_env(data), cwd=tmp_path)
    finally:
        go_on.set()
        await erasing
    after = await asyncio.to_thread(cli, "stats", env=cli_env(data), cwd=tmp_path)
    await bot.close()
    assert during.returncode == 1
    assert "is carrying out an erasure or withdrawal right now" in during.stderr, during.stderr
    assert "feedbackbot run" not in during.stderr
    assert after.returncode == 0, after.stderr


def _drained(fifo: Path) -> tuple[threading.Thread, list[bytes]]:
    """A reader of the named pipe `fifo`, as `gzip < fifo` or a log shipper would be."""
    read: list[bytes] = []

    def drain() -> None:
        with open(fifo, "rb") as pipe:
            read.append(pipe.read())

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    return reader, read


async def test_an_export_and_a_chart_to_a_pipe_or_dev_stdout_are_written_not_replaced(
    tmp_path: Path,
) -> None:
    """`--output /dev/stdout` (or a named pipe) was treated as a file to replace: a new
    file beside it renamed over it, which failed for want of a writable /dev and, run as
    root, put a file in the place of /dev/stdout (found by an operator audit)."""
    data = tmp_path / "data"
    await seed(data, 6, given=(NOW - timedelta(days=2)).replace(hour=12), withdrawn=None)
    env = cli_env(data)
    fifo = tmp_path / "rows.fifo"
    os.mkfifo(fifo)
    reader, read = _drained(fifo)
    result = cli("export", "--output", str(fifo), env=env, cwd=tmp_path)
    reader.join(timeout=60)
    assert result.returncode == 0, result.stderr
    assert b"Mail an [E-Mail] bitte" in read[0] and b"example.de" not in read[0]
    assert stat.S_ISFIFO(fifo.lstat().st_mode), "the pipe is still a pipe"
    assert [p.name for p in tmp_path.iterdir() if ".partial" in p.name] == []
    was_a_link = os.path.islink("/dev/stdout")
    shown = cli("export", "--format", "json", "--output", "/dev/stdout", env=env, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert len(json.loads(shown.stdout)) == 6
    assert "wrote 6 responses to /dev/stdout" in shown.stderr
    assert os.path.islink("/dev/stdout") == was_a_link
    reader, read = _drained(fifo)
    summary = cli("summary", "--since", "7d", "--chart", str(fifo), env=env, cwd=tmp_path)
    reader.join(timeout=60)
    assert summary.returncode == 0, summary.stderr
    assert read[0].startswith(b"\x89PNG\r\n\x1a\n")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


@pytest.fixture
def exporting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A store of three people, its settings in this process's environment: the folder
    to export to."""
    data = tmp_path / "data"
    asyncio.run(make_store(data, 3))
    in_process(monkeypatch, data, tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    return out


def test_ctrl_c_as_an_export_file_is_made_leaves_nothing(
    exporting: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by an interrupt audit: an empty `.x.csv.….partial` stayed beside the file."""
    real = os.fchmod

    def then_ctrl_c(fd: int, mode: int) -> None:
        real(fd, mode)
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fchmod", then_ctrl_c)
    assert main(["export", "--since", "30d", "--output", str(exporting / "x.csv")]) == 130
    assert capsys.readouterr().err == "feedbackbot: interrupted\n"
    assert os.listdir(exporting) == []


def test_ctrl_c_as_the_export_gets_its_name_says_it_was_written(
    exporting: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by an interrupt audit: "interrupted", with the whole export of personal data
    at the file (an earlier one replaced), which the operator then believed not written."""
    earlier = exporting / "x.csv"
    earlier.write_text("an earlier export\n")
    real = os.replace

    def then_ctrl_c(source: Any, target: Any) -> None:
        real(source, target)
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", then_ctrl_c)
    assert main(["export", "--since", "30d", "--output", str(earlier)]) == 0
    assert capsys.readouterr().err == f"wrote 3 responses to {earlier}\n"
    assert len(earlier.read_text().splitlines()) == 4  # the heading and three feedbacks
    assert os.listdir(exporting) == ["x.csv"]
