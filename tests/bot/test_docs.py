"""`feedbackbot docs`: the processing record and the website privacy notice, generated from
the settings the bot runs with, agree with what the running bot says (D1, I1)."""

from __future__ import annotations

import argparse
import os
import re
import stat
import subprocess
import sys
import threading
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.cli import build_parser
from bot.cli.docs import processing_record_of, render_document
from bot.fakeapi import FakeBotApi
from bot.settings import Settings
from flows.check import check_paths
from flows.i18n import translator
from flows.models import RatingStep
from tests.flows.test_processing import EVENT_FLOW, as_chat_lines, section
from tests.harness import Clock, Harness, make_settings

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "docs" / "processing-record.example.md"
ART_30_POINTS = {
    "en": ["(a)", "(b)", "(c)", "(d)", "(e)", "(f)", "(g)"],
    "de": ["a)", "b)", "c)", "d)", "e)", "f)", "g)"],
}


def docs_env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDBACKBOT_")}
    env["PYTHONPATH"] = str(REPO)
    env.update({f"FEEDBACKBOT_{name.upper()}": value for name, value in settings.items()})
    return env


def run_docs(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "docs", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def headings(markdown: str) -> list[str]:
    return re.findall(r"^## (.+)$", markdown, flags=re.MULTILINE)


def test_processing_record_command_covers_every_point_of_art_30(tmp_path: Path) -> None:
    env = docs_env(
        controller_name="Beispiel GmbH",
        controller_contact="datenschutz@beispiel.de",
        dpo_contact="dsb@beispiel.de",
        retention="90d",
        purge_interval="6h",
        staff_ids="1001,1002",
    )
    result = run_docs(tmp_path, env, "processing-record")
    assert result.returncode == 0, result.stderr
    german, english = result.stdout.split("\n---\n")
    for locale, text in (("de", german), ("en", english)):
        found = headings(text)
        for point in ART_30_POINTS[locale]:
            assert any(h.startswith(point) for h in found), (locale, point, found)
        for expected in ("Beispiel GmbH", "datenschutz@beispiel.de", "dsb@beispiel.de"):
            assert expected in text
        assert "AES-256-GCM" in text and "HMAC-SHA256" in text and "Telegram" in text
    assert "Verzeichnis von Verarbeitungstätigkeiten" in german and "90 Tage" in german
    assert "Record of processing activities" in english
    assert "90 days" in english and "every 6 hours" in english
    assert "Storing and evaluating your feedback" in english, "(b) the purposes"
    assert "Customers who write to the bot" in english, "(c) the data subjects"
    assert "Staff members" in english and "currently 2" in english
    assert "free-text comments" in english, "(c) the data"
    assert "**Hosting provider**" in english, "(d) the recipients"
    assert "third country" in english, "(e) the transfers"
    assert not (tmp_path / "data").exists(), "no store, no key: docs only reads settings"


def test_documents_need_the_controller_not_the_token(tmp_path: Path) -> None:
    result = run_docs(tmp_path, docs_env(controller_name="Beispiel GmbH"), "privacy-notice")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip() == (
        "feedbackbot: missing required setting: FEEDBACKBOT_CONTROLLER_CONTACT"
    )


def test_one_language_and_one_file_per_language(tmp_path: Path) -> None:
    env = docs_env(controller_name="Beispiel GmbH", controller_contact="datenschutz@beispiel.de")
    result = run_docs(tmp_path, env, "privacy-notice", "--lang", "en")
    assert result.returncode == 0 and result.stdout.startswith("# Privacy notice\n")
    assert "Datenschutz" not in result.stdout
    dashed = run_docs(tmp_path, env, "privacy-notice", "--lang", "en", "--output", "-")
    assert dashed.stdout == result.stdout and not (tmp_path / "-").exists()
    result = run_docs(tmp_path, env, "privacy-notice", "--output", "notice-{lang}.md")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["wrote notice-de.md", "wrote notice-en.md"]
    assert (tmp_path / "notice-de.md").read_text().startswith("# Datenschutzhinweise\n")
    assert (tmp_path / "notice-en.md").read_text().startswith("# Privacy notice\n")


def test_a_link_planted_under_the_output_name_is_replaced_not_followed(tmp_path: Path) -> None:
    """Found by the security review: written in place, `--output /tmp/notice.md` overwrote
    whatever a link planted there by another user pointed to."""
    env = docs_env(controller_name="Beispiel GmbH", controller_contact="datenschutz@beispiel.de")
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me\n")
    (tmp_path / "notice.md").symlink_to(precious)
    result = run_docs(tmp_path, env, "privacy-notice", "--lang", "en", "--output", "notice.md")
    assert result.returncode == 0, result.stderr
    assert precious.read_text() == "keep me\n"
    written = tmp_path / "notice.md"
    assert not written.is_symlink() and written.read_text().startswith("# Privacy notice\n")
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(written.stat().st_mode) == 0o666 & ~umask  # as a new file gets
    assert sorted(p.name for p in tmp_path.iterdir() if ".partial" in p.name) == []
    unwritable = run_docs(tmp_path, env, "privacy-notice", "--output", "missing/notice.md")
    assert unwritable.returncode == 1 and "cannot write missing/notice.md" in unwritable.stderr
    # Refused once written (a folder of that name): the new file goes too (mutation audit:
    # left behind beside the name went unnoticed).
    (tmp_path / "folder.md").mkdir()
    onto = run_docs(tmp_path, env, "privacy-notice", "--lang", "en", "--output", "folder.md")
    assert onto.returncode == 1 and "cannot write folder.md" in onto.stderr, onto.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if ".partial" in p.name) == []


@pytest.mark.parametrize("locale", ["de", "en"])
async def test_running_bot_says_what_the_documents_say(
    api: FakeBotApi, clock: Clock, tmp_path: Path, locale: str
) -> None:
    """The bot as `run` builds it, and `docs` from the same settings, after changing the
    retention, a flow's own retention and the DPO."""
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "event.toml").write_text(EVENT_FLOW, encoding="utf-8")
    settings = make_settings(
        tmp_path / "data", retention="90d", dpo_contact="dsb@beispiel.de", flows_dir=flows
    )
    record = processing_record_of(settings)
    website = render_document("privacy-notice", locale, record)
    processing = render_document("processing-record", locale, record)
    harness = Harness(api=api, settings=settings, clock=clock)
    await harness.start()
    try:
        person = harness.customer(language_code=locale)
        # (Over Telegram's 4,096 characters with three flows and a DPO: split at a line.)
        notice = "\n".join(
            str(m["text"])
            for m in await person.send("/datenschutz" if locale == "de" else "/privacy")
        )
        assert as_chat_lines(website) == [line for line in notice.splitlines() if line]
        consents = {
            flow.id: str((await person.send(f"/start {flow.id}"))[-1]["text"])
            for flow in record.processing.flows
        }
    finally:
        await harness.stop()
    days = {"de": ("90 Tage", "30 Tage"), "en": ("90 days", "30 days")}[locale]
    limits = section(processing, "(f)" if locale == "en" else "f)").splitlines()
    for flow_id, consent in consents.items():
        stated, other = days if flow_id != "event" else days[::-1]
        assert stated in consent and other not in consent
        [line] = [line for line in limits if f"(`{flow_id}`)" in line]
        assert stated in line
        assert "dsb@beispiel.de" in consent
    assert "dsb@beispiel.de" in processing


def example_settings() -> Settings:
    return Settings(
        controller_name="Beispiel GmbH",
        controller_contact="datenschutz@beispiel.de",
        _env_file=None,
    )


def test_the_record_says_where_the_master_key_is_kept(tmp_path: Path) -> None:
    """Found by a DPO's review: the record said the master key was kept apart from the
    data while the bot had generated it as `master.key` in the data folder."""
    base = {
        "controller_name": "Beispiel GmbH",
        "controller_contact": "datenschutz@beispiel.de",
        "data_dir": str(tmp_path / "data"),
    }
    inside = run_docs(tmp_path, docs_env(**base), "processing-record", "--lang", "en")
    assert inside.returncode == 0, inside.stderr
    assert "Open point: the master key is kept in the data folder itself" in inside.stdout
    assert "kept outside both" not in inside.stdout
    key_file = tmp_path / "secrets" / "master.key"
    apart = docs_env(**base, master_key_file=str(key_file))
    outside = run_docs(tmp_path, apart, "processing-record", "--lang", "en")
    assert "kept outside both, so that data backups never carry keys" in outside.stdout
    assert "Open point: the master key" not in outside.stdout
    # The key set apart, and the one generated at the first start left in the folder
    # (found by review: the record said apart).
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "master.key").write_text("left behind")
    left = run_docs(tmp_path, apart, "processing-record", "--lang", "en")
    assert "Open point: the master key is kept in the data folder itself" in left.stdout
    in_folder = docs_env(**base, master_key_file=str(tmp_path / "data" / "my.key"))
    german = run_docs(tmp_path, in_folder, "processing-record", "--lang", "de")
    assert "Offener Punkt: Der Hauptschlüssel liegt im Datenordner selbst" in german.stdout


def test_example_record_in_docs_is_what_the_command_writes() -> None:
    record = processing_record_of(example_settings())
    expected = "\n---\n\n".join(
        render_document("processing-record", k, record) for k in ("de", "en")
    )
    assert EXAMPLE.read_text(encoding="utf-8") == expected, (
        "docs/processing-record.example.md is out of date; regenerate it, with no other "
        "FEEDBACKBOT_ setting and no .env, by: FEEDBACKBOT_CONTROLLER_NAME='Beispiel GmbH' "
        "FEEDBACKBOT_CONTROLLER_CONTACT=datenschutz@beispiel.de feedbackbot docs "
        "processing-record --output docs/processing-record.example.md"
    )


def test_every_command_and_document_is_in_the_readme() -> None:
    """The commands table and the sections on documents name every one the CLI has."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    parser = build_parser(translator("en"))
    commands = _choices(parser)
    assert "docs" in commands and "consent-notice" in _choices(commands["docs"])
    for name, command in commands.items():
        assert f"feedbackbot {name}" in readme, f"feedbackbot {name} is not in the README"
        for document in _choices(command):
            assert f"feedbackbot {name} {document}" in readme, document


def _choices(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def test_every_code_block_of_the_readme_opens_and_closes_on_a_line_of_its_own() -> None:
    """A fence with text after it on the same line leaves the block open, and the rest of
    the README (its sections, their anchors) renders as code (found by review)."""
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    fences = [(n, line) for n, line in enumerate(lines, 1) if line.lstrip().startswith("```")]
    assert len(fences) % 2 == 0, fences
    for (opening, first), (closing, last) in zip(fences[::2], fences[1::2], strict=True):
        assert re.fullmatch(r"\s*```[\w-]*", first), f"line {opening}: {first!r}"
        assert re.fullmatch(r"\s*```", last), f"line {closing}: {last!r}"


def readme_block(heading: str, language: str) -> str:
    """The first ```language block after `heading` in the README, as printed."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split(f"\n{heading}\n", 1)[1]
    return section.split(f"```{language}\n", 1)[1].split("\n```", 1)[0] + "\n"


def test_the_readmes_reference_example_passes_check_as_printed(tmp_path: Path) -> None:
    """Found by a flow author's review: copied as printed, it failed `check` ("'steps'
    needs at least 2 entries": no thanks step), and its "..." placeholders then warned of
    labels ending with a full stop."""
    survey = tmp_path / "survey.toml"
    survey.write_text(readme_block("### Reference", "toml"), encoding="utf-8")
    [report] = check_paths([survey], translator("en"))
    assert report.flow is not None and report.findings == ()


def test_the_readme_states_the_scale_a_rating_has_without_min_and_max() -> None:
    """Found by a flow author's review: the Reference table named both scales, not which
    one a rating without `min` and `max` gets."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    [row] = [line for line in readme.splitlines() if line.startswith("| `rating` |")]
    low, high = RatingStep.model_fields["min"].default, RatingStep.model_fields["max"].default
    assert f"left out: {low} and {high}" in row


def test_documents_to_dev_stdout_or_a_pipe_are_written_there_not_replaced(tmp_path: Path) -> None:
    """`--output /dev/stdout` wrote a new file beside it to rename over it: refused for
    want of a writable /dev, and run as root a file took the place of /dev/stdout (found
    by an operator audit). A named pipe is written to as it is, too."""
    env = docs_env(controller_name="Beispiel GmbH", controller_contact="datenschutz@beispiel.de")
    was_a_link = os.path.islink("/dev/stdout")
    shown = run_docs(tmp_path, env, "privacy-notice", "--lang", "en", "--output", "/dev/stdout")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("# Privacy notice\n") and "wrote /dev/stdout" in shown.stdout
    assert os.path.islink("/dev/stdout") == was_a_link
    fifo = tmp_path / "notice.fifo"
    os.mkfifo(fifo)
    read: list[bytes] = []
    reader = threading.Thread(target=lambda: read.append(fifo.read_bytes()), daemon=True)
    reader.start()
    piped = run_docs(tmp_path, env, "privacy-notice", "--lang", "de", "--output", str(fifo))
    reader.join(timeout=60)
    assert piped.returncode == 0, piped.stderr
    assert read[0].decode().startswith("# Datenschutzhinweise\n")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["notice.fifo"]


@pytest.mark.skipif(os.getuid() != 0, reason="planting a link of another user needs root")
def test_a_link_to_a_pipe_planted_by_another_user_is_replaced_not_followed(
    tmp_path: Path,
) -> None:
    """Pipes and terminals are written in place only through links of root or the one
    who runs the command: one planted in /tmp by another user is replaced as before."""
    env = docs_env(controller_name="Beispiel GmbH", controller_contact="datenschutz@beispiel.de")
    fifo = tmp_path / "theirs.fifo"
    os.mkfifo(fifo)
    planted = tmp_path / "notice.md"
    planted.symlink_to(fifo)
    os.lchown(planted, 65534, 65534)
    result = run_docs(tmp_path, env, "privacy-notice", "--lang", "en", "--output", "notice.md")
    assert result.returncode == 0, result.stderr
    assert not planted.is_symlink() and planted.read_text().startswith("# Privacy notice\n")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


@pytest.mark.parametrize(
    ("role", "notice", "described"),
    [
        (
            "controller",
            "der für seine eigene Verarbeitung Ihrer Nachrichten selbst verantwortlich ist, "
            "nach seinen eigenen Datenschutzbestimmungen",
            "Beschrieben als eigenständig Verantwortlicher",
        ),
        (
            "Joint",
            "gemeinsam verantwortlich sind (Art. 26 DSGVO); das Wesentliche unserer "
            "Vereinbarung teilen wir Ihnen auf Anfrage mit",
            "Beschrieben als gemeinsam mit dem Verantwortlichen verantwortlich",
        ),
    ],
)
async def test_telegrams_role_is_described_as_the_deployment_chose(
    api: FakeBotApi, clock: Clock, tmp_path: Path, role: str, notice: str, described: str
) -> None:
    """An open point of PRIVACY.md a deployment decides, "configurable": found by a DPO's
    review not to be (/datenschutz always said the messenger only, the record left it
    open). FEEDBACKBOT_TELEGRAM_ROLE describes it in the notices and the record alike; no
    consent request names it, so nobody is asked to agree again."""
    plain = make_settings(tmp_path / "data")
    chosen = make_settings(tmp_path / "data", telegram_role=role)
    record = processing_record_of(chosen)
    processing = render_document("processing-record", "de", record)
    assert described in section(processing, "d)")
    assert "(FEEDBACKBOT_TELEGRAM_ROLE: messenger" not in processing, "no longer open"
    assert "siehe Empfänger" in processing
    assert notice in render_document("privacy-notice", "de", record)
    default = render_document("processing-record", "de", processing_record_of(plain))
    assert described not in default and "(FEEDBACKBOT_TELEGRAM_ROLE: messenger" in default
    harness = Harness(api=api, settings=chosen, clock=clock)
    await harness.start()
    try:
        person = harness.customer()
        said = "\n".join(str(m["text"]) for m in await person.send("/datenschutz"))
        assert notice in said
        asked = str((await person.send("/start"))[-1]["text"])
    finally:
        await harness.stop()
    other = Harness(api=api, settings=make_settings(tmp_path / "other"), clock=clock)
    await other.start()
    try:
        assert str((await other.customer(2).send("/start"))[-1]["text"]) == asked
    finally:
        await other.stop()


def test_a_role_for_telegram_that_is_none_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="messenger, controller, joint"):
        make_settings(tmp_path, telegram_role="processor")
    assert make_settings(tmp_path, telegram_role=" ").telegram_role == "messenger"


async def test_the_statistics_retention_is_told_and_applied_by_the_bots_purge(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """FEEDBACKBOT_STATISTICS_RETENTION (found by a DPO's review: /datenschutz said the
    counts are kept, no period given, and they were kept without a limit): the notice and
    the record name the period, no longer an open point; the bot's purge deletes the counts
    of older days, not those of feedback still stored."""
    from bot.app import purge_expired

    settings = make_settings(tmp_path / "data", retention="30d", statistics_retention="60d")
    record = processing_record_of(settings)
    notice = render_document("privacy-notice", "de", record)
    assert "und werden 60 Tage nach ihrem Tag gelöscht" in notice
    processing = render_document("processing-record", "de", record)
    assert "die Anzahlen eines Tages werden 60 Tage nach diesem Tag gelöscht" in processing
    assert "Wie lange die Statistik aufbewahrt wird" not in processing
    plain = processing_record_of(make_settings(tmp_path / "data"))
    assert "Wie lange die Statistik aufbewahrt wird" in render_document(
        "processing-record", "de", plain
    )
    harness = Harness(api=api, settings=settings, clock=clock)
    await harness.start()
    try:
        for n in range(2):
            clock.advance(timedelta(days=40 if n else 0))  # the first feedback expires
            person = harness.customer(500 + n)
            await person.send("/start")
            await person.press("Ja, ich willige ein")
            await person.press("4")
            await person.press("Überspringen")
            await person.press("Nein")
        assert harness.store is not None and harness.app is not None
        clock.advance(timedelta(days=21))  # the first day: 61 days ago, the second 21
        await purge_expired(harness.app.bot_data.service, settings)
        days = await harness.store.statistics(date(2000, 1, 1), clock().date())
        assert [row.feedbacks for row in days] == [1], "the first day's counts are gone"
    finally:
        await harness.stop()
