"""Proof of consent kept after a person's data went (FEEDBACKBOT_CONSENT_PROOF_RETENTION),
through the real bot: what /loeschen says before and after, what /meinedaten shows, what
the purge keeps, what the notice and the record say, and that nothing is kept unset."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest

from bot.app import purge_expired
from bot.cli.docs import processing_record_of, render_document
from bot.fakeapi import FakeBotApi
from bot.settings import ConfigurationError, load_settings
from flows.i18n import translator
from storage.interface import proof_kept_until
from tests.bot.test_rights import SCHEMA, export_of, give_feedback
from tests.harness import Clock, Harness, files_contain, make_settings, texts

PERIOD = timedelta(days=1096)
PROOF = "Außerdem wird ein Nachweis Ihrer Einwilligungen aufbewahrt"


@pytest.fixture
async def proving(api: FakeBotApi, clock: Clock, tmp_path: Path) -> AsyncIterator[Harness]:
    settings = make_settings(tmp_path / "data", consent_proof_retention="1096d", retention="7d")
    harness = Harness(api=api, settings=settings, clock=clock)
    await harness.start()
    yield harness
    await harness.stop()


def until(harness: Harness, locale: str = "de") -> str:
    """The date the proof is kept until, as the person is shown it."""
    kept = proof_kept_until(harness.clock(), PERIOD)
    return translator(locale).date(kept, harness.settings.timezone)


async def test_the_erasure_says_what_proof_is_kept_and_mydata_shows_it(proving: Harness) -> None:
    erika = proving.customer()
    await give_feedback(erika, "Der Quastenflosser kam zu spät", contact=True)
    await erika.send("/widerruf")
    await erika.press("Kontaktaufnahme")
    date = until(proving)

    question = texts(await erika.send("/loeschen"))
    assert f"der Nachweis bis zum {date}, um belegen zu können, dass Sie eingewilligt" in question
    assert "Aufbewahrt werden nur ein verschlüsselter Vermerk" in question
    done = texts(await erika.press("Alles löschen"))
    assert "• Einwilligungsnachweise: 2" in done
    assert f"der Nachweis bis zum {date}" in done and "/meinedaten zeigt ihn." in done

    answer = await erika.send("/meinedaten")
    shown = texts(answer)
    assert shown.startswith("Über Sie sind keine Daten gespeichert außer einem verschlüsselten")
    copy = export_of(answer)  # the proof is theirs too: its copy, with the text agreed to
    jsonschema.validate(copy, SCHEMA)
    assert [p["purpose"] for p in copy["consent_proofs"]] == ["feedback", "contact"]
    assert all(len(p["text"]) > 100 and p["method"] for p in copy["consent_proofs"])
    assert (copy["consents"], copy["feedback"]) == ([], [])
    assert any("1.096 Tage" in rule for rule in copy["retention_rules"])
    assert PROOF in shown
    lines = [line for line in shown.splitlines() if line.startswith("• ")]
    assert len(lines) == 2, shown
    assert lines[0].startswith("• Speichern und Auswerten Ihres Feedbacks")
    assert lines[1].startswith("• Kontaktaufnahme mit Ihnen in diesem Chat")
    assert ", widerrufen am " in lines[1] and ", widerrufen am " not in lines[0]
    assert all(line.endswith(f"; aufbewahrt bis zum {date}") for line in lines)
    # /loeschen again erases nothing more and says what is kept, as /meinedaten does
    assert PROOF in texts(await erika.send("/loeschen"))
    assert files_contain(proving.settings.data_dir, b"Quastenflosser") == []


async def test_a_returning_customer_finds_the_proof_in_the_copy(proving: Harness) -> None:
    john = proving.customer(1002, language_code="en")
    started = await john.send("/start")
    notice = started[-1]["text"]
    await john.press("Yes, I agree")
    await john.press("4")
    await john.send("Fine.")
    await john.press("No")
    await john.send("/delete")
    kept_until = until(proving, "en")
    await john.press("Erase everything")
    proving.clock.advance(timedelta(days=2))
    await give_feedback(john, "Back again")

    answer = await john.send("/mydata")
    summary = texts(answer)
    assert "Proof of consents you gave before your data went" in summary
    assert "1 active consent, proof of 1 earlier consent. The details follow" in summary
    assert f"; kept until {kept_until}" in summary, "counted from the erasure"
    assert "proof of your consents (to what, when and how you agreed" in summary, "the rule"
    export = export_of(answer)
    jsonschema.validate(export, SCHEMA)
    [proof] = export["consent_proofs"]
    assert (proof["purpose"], proof["reason"], proof["withdrawn_at"]) == (
        "feedback",
        "erasure",
        None,
    )
    assert proof["text"] == notice, "the wording agreed to, from the archive"
    assert len(export["consents"]) == 1, "the consent given since is a record, not a proof"
    assert any("1,096 days" in rule for rule in export["retention_rules"])


async def test_the_purge_keeps_proof_when_the_last_data_expires(proving: Harness) -> None:
    erika = proving.customer()
    await give_feedback(erika, "läuft ab")
    proving.clock.advance(timedelta(days=9))  # a retention of 7 days
    assert proving.app is not None
    await purge_expired(proving.app.bot_data.service, proving.settings)
    shown = texts(await erika.send("/meinedaten"))
    assert shown.startswith(
        "Über Sie sind keine Daten gespeichert außer einem Nachweis Ihrer Einwilligungen"
    ), shown
    [line] = [line for line in shown.splitlines() if line.startswith("• ")]
    assert line.endswith(f"; aufbewahrt bis zum {until(proving)}")


async def test_without_the_setting_no_proof_is_kept_or_promised(harness: Harness) -> None:
    erika = harness.customer()
    await give_feedback(erika, "ohne Nachweis")
    question = texts(await erika.send("/loeschen"))
    assert "Nachweis" not in question
    done = texts(await erika.press("Alles löschen"))
    assert "Nachweis Ihrer Einwilligungen" not in done
    shown = texts(await erika.send("/meinedaten"))
    assert "Nachweis" not in shown and "•" not in shown
    assert "Nachweis Ihrer Einwilligungen" not in texts(await erika.send("/datenschutz"))


def test_the_notice_and_the_record_name_the_period(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", consent_proof_retention="1096d")
    record = processing_record_of(settings)
    notice = render_document("privacy-notice", "de", record)
    assert "danach noch 1.096 Tage lang auf" in notice
    processing = render_document("processing-record", "en", record)
    assert "kept in the erasure ledger, encrypted under its key and not the person's, for " in (
        processing.replace("\n", " ")
    )
    assert "necessary for the defence of legal claims (Art. 17(3)(e) GDPR)" in processing
    plain = processing_record_of(make_settings(tmp_path / "data"))
    assert "not set, /delete erases the consent records" in render_document(
        "processing-record", "en", plain
    )
    assert "Nachweis Ihrer Einwilligungen" not in render_document("privacy-notice", "de", plain)


def test_the_setting_takes_a_period_or_off(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().consent_proof_retention is None
    for unset in ("", "off", " OFF "):
        monkeypatch.setenv("FEEDBACKBOT_CONSENT_PROOF_RETENTION", unset)
        assert load_settings().consent_proof_retention is None, unset
    monkeypatch.setenv("FEEDBACKBOT_CONSENT_PROOF_RETENTION", "1096d")
    assert load_settings().consent_proof_retention == PERIOD
    monkeypatch.setenv("FEEDBACKBOT_CONSENT_PROOF_RETENTION", "drei Jahre")
    with pytest.raises(ConfigurationError, match="FEEDBACKBOT_CONSENT_PROOF_RETENTION"):
        load_settings()


def test_the_copy_schema_describes_the_proof() -> None:
    proof = SCHEMA["$defs"]["ExportConsentProof"]["properties"]
    assert set(proof) >= {"purpose", "granted_at", "text_sha256", "kept_until", "reason"}
    assert json.dumps(SCHEMA["properties"]["consent_proofs"]).count("ExportConsentProof") == 1
