"""The archive of consent texts (Art. 7(1) GDPR): the hash in every consent record stands
for a text the store keeps, in the words the person read, whatever the settings and the
version are later."""

from __future__ import annotations

import logging
import sqlite3
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest

from bot.fakeapi import FakeBotApi
from storage import ConsentRecord, SQLiteStore, StorageFull
from tests.harness import Clock, Customer, Harness, labels, make_settings, stored_rows

YES = {"de": "Ja, ich willige ein", "en": "Yes, I agree"}
SKIP = {"de": "Überspringen", "en": "Skip"}
AGREE = {"de": "Ja, einverstanden", "en": "Yes, I agree"}


async def feedback_with_contact(person: Customer, locale: str) -> tuple[str, str]:
    """Feedback with consent to being contacted: the consent notice and the optional
    question exactly as the bot sent them."""
    [notice] = await person.send("/start")
    await person.press(YES[locale])
    await person.press("4")
    *_, question = await person.press(SKIP[locale])
    assert labels(question) == [[AGREE[locale], "Nein" if locale == "de" else "No"]]
    await person.press(AGREE[locale])
    return str(notice["text"]), str(question["text"])


async def consents_of(harness: Harness, person: Customer) -> dict[str, ConsentRecord]:
    assert harness.store is not None
    store = harness.store
    records = await store.consents(store.pseudonym(f"tg-user:{person.user_id}"))
    return {record.purpose: record for record in records}


@pytest.mark.parametrize("locale", ["de", "en"])
async def test_every_consent_record_hashes_a_text_the_archive_holds_verbatim(
    harness: Harness, locale: str
) -> None:
    person = harness.customer(language_code=locale)
    notice, question = await feedback_with_contact(person, locale)
    consents = await consents_of(harness, person)
    assert harness.store is not None
    for purpose, shown, kind in (("feedback", notice, "notice"), ("contact", question, "optional")):
        record = consents[purpose]
        [archived] = await harness.store.consent_texts(record.notice_version, record.text_sha256)
        assert archived.text == shown, "the words the person read, not a rebuilt text"
        assert (archived.flow_id, archived.language, archived.kind) == ("feedback", locale, kind)
        assert archived.purposes == (purpose,)
        assert archived.first_seen == harness.clock.now


async def test_a_changed_setting_adds_a_version_and_the_first_stays(
    api: FakeBotApi, clock: Clock, data_dir: Path
) -> None:
    """After the retention and the controller's name changed, the consent given before
    still shows its own wording; the new one is archived beside it."""
    started = clock.now
    before = Harness(api=api, settings=make_settings(data_dir), clock=clock)
    await before.start()
    try:
        person = before.customer()
        await feedback_with_contact(person, "de")
        old = (await consents_of(before, person))["feedback"]
    finally:
        await before.stop()
    clock.advance(timedelta(days=3))
    changed = make_settings(data_dir, retention="90d", controller_name="Beispiel AG")
    after = Harness(api=api, settings=changed, clock=clock)
    await after.start()
    try:
        person = after.customer()
        # Asked again, and told why: not a lost consent (found by review).
        said, notice = await person.send("/start")
        assert said["text"] == (
            "Diese Anfrage hat sich geändert, seit Sie eingewilligt haben, deshalb frage ich Sie "
            "erneut; bitte lesen Sie sie noch einmal."
        )
        assert "90 Tage" in str(notice["text"]), "asked again: the notice changed"
        await person.press(YES["de"])
        new = (await consents_of(after, person))["feedback"]
        assert new.notice_version != old.notice_version
        assert after.store is not None
        [first] = await after.store.consent_texts(old.notice_version, old.text_sha256)
        [second] = await after.store.consent_texts(new.notice_version, new.text_sha256)
        archived = await after.store.consent_texts()
    finally:
        await after.stop()
    assert "180 Tage" in first.text and "Beispiel GmbH" in first.text
    assert first.first_seen == started
    assert "90 Tage" in second.text and "Beispiel AG" in second.text
    assert second.text == str(notice["text"]) and second.first_seen == started + timedelta(days=3)
    versions = {(text.flow_id, text.notice_version) for text in archived}
    assert len(versions) == 4, "two versions of each shipped survey"
    # Each version: the notice and the optional question, in German and English (the
    # question's unchanged wording kept under both versions).
    assert len(archived) == 4 * 2 * 2


async def test_the_archive_holds_nothing_about_anyone(harness: Harness) -> None:
    """Texts and when a bot first showed them: no pseudonym, no id, no name, nothing
    typed, and no one's time of consenting."""
    rows_at_start = stored_rows(harness.settings.data_dir)["feedback.db/consent_texts"]
    assert rows_at_start, "archived when the bot started"
    harness.clock.advance(timedelta(hours=5))
    person = harness.customer(7_770_001_234, first_name="Mechthild-Kanarie", username="kanarie_x1")
    await person.send("/start")
    await person.press(YES["de"])
    await person.press("4")
    [question] = await person.send("Zaunkoenig-91c4 war sehr hilfreich")
    await person.press(AGREE["de"])
    assert "kontaktieren" in str(question["text"])
    assert stored_rows(harness.settings.data_dir)["feedback.db/consent_texts"] == rows_at_start
    assert harness.store is not None
    pseudonym = harness.store.pseudonym(f"tg-user:{person.user_id}")
    shown = repr(rows_at_start)
    for needle in ("7770001234", "Mechthild", "kanarie_x1", "Zaunkoenig", pseudonym):
        assert needle not in shown
    with closing(sqlite3.connect(harness.settings.data_dir / "feedback.db")) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(consent_texts)")]
    assert columns == [
        "sha256",
        "flow_id",
        "notice_version",
        "language",
        "kind",
        "purposes",
        "first_seen",
        "text",
    ]
    first_seen = {text.first_seen for text in await harness.store.consent_texts()}
    assert first_seen == {harness.clock.now - timedelta(hours=5)}, "the start, not a consent"


async def test_texts_not_archived_at_start_are_before_the_first_consent(
    api: FakeBotApi,
    clock: Clock,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A full disk at start does not stop the bot, and no consent is recorded without its
    text: the archive is tried again first, and the consent waits for it."""
    archive = SQLiteStore.archive_consent_texts
    failures = [StorageFull("no space left for the store; nothing was written")] * 2

    async def full_at_first(store: SQLiteStore, *args: object) -> int:
        if failures:
            raise failures.pop()
        return await archive(store, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(SQLiteStore, "archive_consent_texts", full_at_first)
    caplog.set_level(logging.INFO)
    harness = Harness(api=api, settings=make_settings(data_dir), clock=clock)
    await harness.start()
    try:
        assert "consent texts not archived (StorageFull)" in caplog.text
        assert harness.store is not None and await harness.store.consent_texts() == []
        person = harness.customer()
        await person.send("/start")
        [answer] = await person.press(YES["de"])
        assert "konnte gerade nicht gespeichert werden" in str(answer["text"])
        assert await consents_of(harness, person) == {}
        clock.advance(timedelta(minutes=1))
        await person.press(YES["de"])
        record = (await consents_of(harness, person))["feedback"]
        [archived] = await harness.store.consent_texts(record.notice_version, record.text_sha256)
        assert archived.first_seen == clock.now - timedelta(minutes=1), "when it was first tried"
    finally:
        await harness.stop()


async def test_a_consent_from_before_the_archive_is_asked_again_with_the_reason(
    api: FakeBotApi, clock: Clock, data_dir: Path
) -> None:
    """A store from before data schema v13 kept no consent texts: someone who agreed then
    is asked again once the request changed, and told so, not as if their consent were
    lost (found by an upgrade review from data schema v9)."""
    before = Harness(api=api, settings=make_settings(data_dir), clock=clock)
    await before.start()
    try:
        await feedback_with_contact(before.customer(), "de")
    finally:
        await before.stop()
    with closing(sqlite3.connect(data_dir / "feedback.db")) as db, db:
        db.execute("DELETE FROM consent_texts")  # as an older version left the store
    clock.advance(timedelta(days=3))
    after = Harness(api=api, settings=make_settings(data_dir, retention="90d"), clock=clock)
    await after.start()
    try:
        said, notice = await after.customer().send("/start")
    finally:
        await after.stop()
    assert said["text"] == (
        "Diese Anfrage hat sich geändert, seit Sie eingewilligt haben, deshalb frage ich Sie "
        "erneut; bitte lesen Sie sie noch einmal."
    )
    assert "90 Tage" in str(notice["text"])


async def test_declining_a_request_changed_under_the_answers_says_the_earlier_consent_stays(
    api: FakeBotApi, clock: Clock, data_dir: Path
) -> None:
    """Found by a customer walk-through: the request changed while the person answered;
    they declined it, were told their answers were discarded, and /meinedaten then showed
    "1 bestehende Einwilligung": the No had not withdrawn the earlier consent, and nothing
    said so."""
    before = Harness(api=api, settings=make_settings(data_dir), clock=clock)
    await before.start()
    try:
        person = before.customer()
        await person.send("/start")
        await person.press(YES["de"])
        await person.press("2")
    finally:
        await before.stop()
    clock.advance(timedelta(minutes=5))
    after = Harness(api=api, settings=make_settings(data_dir, retention="90d"), clock=clock)
    await after.start()
    try:
        person = after.customer()
        await person.send("Das Zimmer war dreckig.")
        [declined] = await person.press("Nein, danke")
        shown = "\n".join(m["text"] or "" for m in await person.send("/meinedaten"))
    finally:
        await after.stop()
    assert declined["text"] == (
        "Kein Problem. Ihre unvollständigen Antworten wurden verworfen, und es wurde nichts "
        "Neues gespeichert. Wenn Sie es sich anders überlegen, senden Sie /start. Ihre "
        "Einwilligung bleibt gespeichert; um sie zu widerrufen, senden Sie /widerruf."
    ), declined["text"]
    assert "1 bestehende Einwilligung" in shown, "as said: it stays until withdrawn"
