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
    before = texts(await erika.send("/meinedaten"))  # (a DPO's review: "löscht alles")
    assert "/loeschen löscht alles außer dem, was als Nachweis aufbewahrt wird" in before
    proving.clock.advance(timedelta(minutes=5))  # past the limit on asking again

    question = texts(await erika.send("/loeschen"))
    assert f"der Nachweis bis zum {date}, um belegen zu können, dass Sie eingewilligt" in question
    assert "Aufbewahrt werden nur ein verschlüsselter Vermerk" in question
    done = texts(await erika.press("Alles löschen"))
    assert done.startswith(
        "Erledigt. Alles, was über Sie gespeichert war, wurde gelöscht, bis auf das, was als "
        "Nachweis"
    ), done
    assert "• Aufzeichnungen Ihrer Einwilligungen: 2" in done
    assert f"nicht Ihrem, bis zum {date}" in done and "/meinedaten zeigt ihn." in done
    assert "Die damit verschlüsselten Daten kann niemand mehr lesen" in done, "not 'Ihre'"

    answer = await erika.send("/meinedaten")
    shown = texts(answer)
    assert shown.startswith(
        "Über Sie sind keine Daten gespeichert außer einem verschlüsselten Vermerk (keine Ihrer "
        "Antworten), dass Sie Ihre Daten löschen ließen und Sie eine Einwilligung widerrufen "
        "haben, aufbewahrt bis zum "
    ), shown
    assert "und einem Nachweis früherer Einwilligungen" in shown, "one sentence for both"
    copy = export_of(answer)  # the proof is theirs too: its copy, with the text agreed to
    jsonschema.validate(copy, SCHEMA)
    assert [p["purpose"] for p in copy["consent_proofs"]] == ["feedback", "contact"]
    assert all(len(p["text"]) > 100 and p["method"] for p in copy["consent_proofs"])
    assert (copy["consents"], copy["feedback"]) == ([], [])
    assert any("1.096 Tage" in rule for rule in copy["retention_rules"])
    lines = [line for line in shown.splitlines() if line.startswith("• ")]
    assert len(lines) == 2, shown
    assert lines[0].startswith("• Speichern und Auswerten Ihres Feedbacks")
    assert lines[1].startswith("• Kontaktaufnahme mit Ihnen in diesem Chat")
    assert ", widerrufen am " in lines[1] and ", widerrufen am " not in lines[0]
    assert all(line.endswith(f"; aufbewahrt bis zum {date}") for line in lines)
    # /loeschen again erases nothing more, and says why the proof stays and where to turn
    again = texts(await erika.send("/loeschen"))
    assert "/loeschen löscht diesen Nachweis nicht" in again and "Aufsichtsbehörde" in again
    assert "als Datei folgt" not in again and "/meinedaten sendet eine Kopie" in again
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
    assert "Proof of earlier consents (to what, when and how you agreed" in summary
    assert (
        "proof of 1 earlier consent. The details follow; /delete erases everything but what "
        in (summary)
    )
    assert "Your rights: /delete erases everything but what is kept as proof (see above)" in summary
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
        "Über Sie sind keine Daten gespeichert außer einem Nachweis früherer Einwilligungen"
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
    assert "von da an einen Nachweis Ihrer Einwilligungen (wozu, wann und wie Sie eingewilligt" in (
        notice
    )
    assert "für 1.096 Tage auf, bis zum Ersten des folgenden Monats" in notice
    assert "Aufbewahrung eines Nachweises Ihrer Einwilligungen nach dem Löschen" in notice
    processing = render_document("processing-record", "en", record)
    assert "kept in the erasure ledger, encrypted under its key and not the person's, for " in (
        processing.replace("\n", " ")
    )
    flat = processing.replace("\n", " ")
    assert "is needed to show consent and to defend legal claims (Art. 7(1), 17(3)(e)" in flat
    assert "Proof of consent after erasure (`FEEDBACKBOT_CONSENT_PROOF_RETENTION`): the one" in (
        flat
    ), "the exception to the encryption under the person's keys, as a measure"
    assert "“Proof of consent after erasure”: to what, when and how a person agreed" in flat
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


async def test_the_offer_to_erase_after_a_withdrawal_says_what_proof_stays(
    proving: Harness,
) -> None:
    """The way PRIVACY.md C7 sends people (found by a DPO's review: the offer did not say
    that proof of their consents is kept, while /loeschen did)."""
    john = proving.customer(1002, language_code="en")
    await give_feedback(john, "Fine.")
    await john.send("/withdraw")
    offered = texts(await john.press("Storing your feedback"))
    assert "Do you want to erase all data stored about you?" in offered
    assert f"the proof until {until(proving, 'en')}, to show that you agreed" in offered


async def test_a_proof_period_ended_or_shortened_holds_from_the_next_start(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """As the notice then says (found by review: turned off, /datenschutz was silent while
    /meinedaten still showed proof kept for three years)."""
    data = tmp_path / "data"
    first = Harness(
        api=api, settings=make_settings(data, consent_proof_retention="1096d"), clock=clock
    )
    await first.start()
    try:
        await give_feedback(first.customer(), "Der erste Kommentar")
        await give_feedback(first.customer(77), "Der zweite Kommentar")
        for person in (first.customer(), first.customer(77)):
            await person.send("/loeschen")
            await person.press("Alles löschen")
    finally:
        await first.stop()
    shorter = Harness(
        api=api, settings=make_settings(data, consent_proof_retention="30d"), clock=clock
    )
    await shorter.start()
    try:
        shown = texts(await shorter.customer().send("/meinedaten"))
        kept = translator("de").date(proof_kept_until(clock(), timedelta(days=30)), "Europe/Berlin")
        assert f"aufbewahrt bis zum {kept}" in shown, shown
    finally:
        await shorter.stop()
    clock.advance(timedelta(minutes=5))
    off = Harness(api=api, settings=make_settings(data), clock=clock)
    await off.start()
    try:
        shown = texts(await off.customer(77).send("/meinedaten"))
        assert "Nachweis" not in shown, "the setting off: none kept"
    finally:
        await off.stop()


async def test_a_member_of_staff_withdrawing_is_told_their_audit_entries_stay(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """The erase offered after a withdrawal says what stays, as /loeschen does (found by
    review: the audit trail only at /loeschen)."""
    settings = make_settings(tmp_path / "data", staff_ids="7001")
    harness = Harness(api=api, settings=settings, clock=clock)
    await harness.start()
    try:
        staff = harness.customer(7001)
        await give_feedback(staff, "Ich teste selbst")
        await staff.send("/widerruf")
        offered = texts(await staff.press("Speicherung Ihres Feedbacks"))
        assert "Möchten Sie alle über Sie gespeicherten Daten löschen?" in offered
        assert "Prüfprotokoll behält außerdem verschlüsselt" in offered
        assert "Aufbewahrt wird ein verschlüsselter Vermerk" in offered, "not 'only'"
        customer = harness.customer(100)
        await give_feedback(customer, "Als Kunde")
        await customer.send("/widerruf")
        assert "Prüfprotokoll" not in texts(await customer.press("Speicherung Ihres Feedbacks"))
    finally:
        await harness.stop()
