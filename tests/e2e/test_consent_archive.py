"""`feedbackbot docs consent-notice` through the real command line: the archived consent
texts in German and English, beside the running bot, and a store from before the archive
refused until `feedbackbot run` upgraded it."""

from __future__ import annotations

import base64
import sqlite3
from contextlib import closing
from pathlib import Path

from bot.fakeapi import BotApiServer, FakeBotApi
from storage import ConsentRecord, SQLiteStore
from storage.sqlite_db import DATA_MIGRATIONS
from tests.bot.test_cli_language import feedbackbot
from tests.e2e.botprocess import bot_env, cli, running_bot
from tests.e2e.test_lifecycle import cli_env, make_store
from tests.e2e.test_polling import ERIKA, JOHN, converse
from tests.harness import MASTER_KEY, TOKEN, Clock, Harness, make_settings

STORE = {"master_key": MASTER_KEY}


async def consents_given(
    data: Path, people: dict[int, str], **settings: str
) -> dict[int, tuple[str, ConsentRecord]]:
    """People (user id: language) agree to the default survey with the bot as `run` builds
    it: the notice each was shown, and its consent record."""
    settings_ = make_settings(data, **settings)
    harness = Harness(api=FakeBotApi(TOKEN), settings=settings_, clock=Clock())
    await harness.start()
    given = {}
    try:
        for user, locale in people.items():
            person = harness.customer(user, language_code=locale)
            [notice] = await person.send("/start")
            await person.press("Ja, ich willige ein" if locale == "de" else "Yes, I agree")
            assert harness.store is not None
            [record] = await harness.store.consents(harness.store.pseudonym(f"tg-user:{user}"))
            given[user] = (str(notice["text"]), record)
    finally:
        await harness.stop()
    return given


async def test_the_archived_texts_are_printed_in_german_and_english(tmp_path: Path) -> None:
    data = tmp_path / "data"
    given = await consents_given(data, {ERIKA: "de", JOHN: "en"})
    (german, erika), (english, john) = given[ERIKA], given[JOHN]
    settings = {"data_dir": str(data), **STORE}
    both = feedbackbot(tmp_path, "docs", "consent-notice", lang="de_DE.UTF-8", **settings)
    assert both.returncode == 0, both.stderr
    de, en = both.stdout.split("\n---\n\n")
    assert de.startswith("# Einwilligungstexte (Art. 7 Abs. 1 DSGVO)\n")
    assert f"```text\n{german}\n```" in de and english not in de
    assert f"- SHA-256: `{erika.text_sha256}`" in de
    assert f"- Fassung der Einwilligungsanfrage: `{erika.notice_version}`" in de
    assert "- Sprache: Deutsch" in de and "- Umfrage: `feedback`" in de
    assert "- Zuerst gezeigt: 2026-11-29 09:00:00 UTC" in de
    assert en.startswith("# Consent texts (Art. 7(1) GDPR)\n")
    assert f"```text\n{english}\n```" in en and german not in en
    assert "- Language: English" in en and "- First shown: 2026-11-29 09:00:00 UTC" in en

    one = feedbackbot(tmp_path, "docs", "consent-notice", "--sha256", john.text_sha256, **settings)
    assert one.returncode == 0, one.stderr
    assert one.stdout.count("```text\n") == 1 and f"```text\n{english}\n```" in one.stdout
    assert "\n---\n" not in one.stdout, "only the language that text is in"

    version = ("--version", erika.notice_version)
    files = feedbackbot(
        tmp_path, "docs", "consent-notice", *version, "--output", "consent-{lang}.md", **settings
    )
    assert files.stdout.splitlines() == ["consent-de.md geschrieben", "consent-en.md geschrieben"]
    written = (tmp_path / "consent-de.md").read_text(encoding="utf-8")
    assert f"```text\n{german}\n```" in written
    assert "## Freiwillige Einwilligung (`contact`) in der Umfrage `feedback`" in written


async def test_what_the_archive_lacks_is_said_in_the_terminals_language(tmp_path: Path) -> None:
    data = tmp_path / "data"
    await make_store(data, people=0)  # a store no bot has started with
    settings = {"data_dir": str(data), **STORE}
    empty = feedbackbot(tmp_path, "docs", "consent-notice", lang="de_DE.UTF-8", **settings)
    assert empty.returncode == 1 and empty.stdout == ""
    assert empty.stderr.startswith(
        "feedbackbot: noch sind keine Einwilligungstexte archiviert: `feedbackbot run` "
        "archiviert sie beim Start; "
    )
    unknown = "ab" * 32
    args = ("docs", "consent-notice", "--sha256", unknown)
    english = feedbackbot(tmp_path, *args, lang="en_GB.UTF-8", **settings)
    assert english.stderr == (
        f"feedbackbot: no consent text with SHA-256 {unknown} is archived; consents recorded "
        "before the bot ran a version that archives its consent texts have none there, and "
        "neither do texts of settings no bot has started with\n"
    )
    typo = feedbackbot(tmp_path, "docs", "consent-notice", "--version", "v1", lang="de_DE.UTF-8")
    assert typo.returncode == 2
    assert "'v1' ist keine Fassung einer Einwilligungsanfrage; sie hat 12" in typo.stderr


def back_to_schema_12(data: Path) -> None:
    """The store as the version before the archive left it."""
    with closing(sqlite3.connect(data / "feedback.db")) as con:
        con.execute(  # and before release points per survey (schema 14)
            "CREATE TABLE releases (at TEXT PRIMARY KEY, feedbacks INTEGER NOT NULL,"
            " people INTEGER NOT NULL, digest TEXT NOT NULL) WITHOUT ROWID"
        )
        con.execute("ALTER TABLE consents DROP COLUMN ended_at")  # (schema 19)
        con.execute("ALTER TABLE deliveries DROP COLUMN purpose")  # (schema 17)
        con.execute("ALTER TABLE feedback DROP COLUMN with_contact")  # (schema 16)
        con.execute("DROP TABLE alerts_due")
        con.execute("DROP TABLE release_points")
        con.execute("DROP INDEX deliveries_cut_short")
        con.execute("DROP INDEX deliveries_feedback")
        con.execute("ALTER TABLE deliveries DROP COLUMN cut_short")
        con.execute("DROP TABLE consent_texts")
        con.execute("DELETE FROM schema_migrations WHERE version > 12")
        con.commit()


async def test_an_older_store_is_refused_by_docs_and_upgraded_by_run(tmp_path: Path) -> None:
    data = tmp_path / "data"
    # Given under settings of its own: a notice the upgraded bot never shows.
    [(_, before)] = (await consents_given(data, {ERIKA: "de"}, retention="30d")).values()
    back_to_schema_12(data)
    env = cli_env(data)
    files = {name: (data / name).read_bytes() for name in ("feedback.db", "keys.db")}
    refused = cli("docs", "consent-notice", env=env, cwd=tmp_path)
    assert refused.returncode == 1 and refused.stdout == ""
    assert "written by an older feedbackbot" in refused.stderr
    assert "only `feedbackbot run` upgrades it" in refused.stderr
    assert {name: (data / name).read_bytes() for name in files} == files, "nothing written"

    api = FakeBotApi(TOKEN)
    with BotApiServer(api) as server:
        running = bot_env(server, data)
        with running_bot(api, running, tmp_path, tmp_path / "bot.log"):
            converse(api, JOHN, "en", "after the upgrade")
            # beside the running bot, as the other reading commands
            shown = cli("docs", "consent-notice", "--lang", "en", env=running, cwd=tmp_path)
            assert shown.returncode == 0, shown.stderr
            assert "# Consent texts (Art. 7(1) GDPR)" in shown.stdout
    log = (tmp_path / "bot.log").read_text()
    # One line for the upgrade, from the version the store had to the one now written.
    assert log.count("storage: store upgraded") == 1, log
    assert f"store upgraded (schema: data v12 to v{len(DATA_MIGRATIONS)})\n" in log, log
    after = await consents_of(data, JOHN)
    found = cli("docs", "consent-notice", "--sha256", after.text_sha256, env=env, cwd=tmp_path)
    assert found.returncode == 0 and f"`{after.text_sha256}`" in found.stdout
    # The consent given before the upgrade keeps its hash; its text was never archived.
    lost = cli("docs", "consent-notice", "--sha256", before.text_sha256, env=env, cwd=tmp_path)
    assert lost.returncode == 1
    assert f"no consent text with SHA-256 {before.text_sha256} is archived" in lost.stderr


async def consents_of(data: Path, user: int) -> ConsentRecord:
    store = SQLiteStore(data, base64.urlsafe_b64decode(MASTER_KEY))
    await store.open()
    try:
        [record] = await store.consents(store.pseudonym(f"tg-user:{user}"))
    finally:
        await store.close()
    return record
