"""What a copy of the data folder shows without the master key (PRIVACY.md M1, X1): after
a realistic day of the real bot, its files are read as a thief would read them."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.fakes.botapi import FakeBotApi
from tests.harness import TOKEN, Clock, Harness, files_contain, make_settings, texts

STAFF, STAFF_CHAT = 7001, -1007002
ERIKA, JOHN, MAX = 4242424242, 5151515151, 6161616161
COMMENTS = ("Lieferung kam nie an Kanarienvogel-3e1", "Alles bestens Rotkehlchen-9b2")
NAMES = ("Erika-Mustermann", "John-Doe-Smith", "mustermann_erika")
FINER_THAN_A_MINUTE = re.compile(r"T\d\d:\d\d:(?!00\.000000)\d\d\.\d{6}")


def clear_values(
    folder: Path, table: str, columns: tuple[str, ...], file: str = "feedback.db"
) -> list[str]:
    """The values of `columns` in `table` of `file`, read as anyone can."""
    with closing(sqlite3.connect(f"file:{folder / file}?mode=ro", uri=True)) as db:
        rows = db.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
    return [str(value) for row in rows for value in row]


async def test_a_copied_data_folder_shows_no_ids_words_answers_languages_or_fine_times(
    tmp_path: Path,
) -> None:
    """A day of the bot: consent, a low rating with a comment and a contact (alerted to the
    staff chat), the product survey in a chosen language, an erasure, a copy of someone's
    data and a staff summary. Then the files on disk, write-ahead logs included."""
    clock = Clock(datetime(2026, 11, 29, 9, 13, 27, 123456, tzinfo=UTC))
    api = FakeBotApi(TOKEN, clock=lambda: clock().timestamp())
    settings = make_settings(
        tmp_path / "data", staff_ids=str(STAFF), staff_chat_id=STAFF_CHAT, alert_threshold=2
    )
    desk = Harness(api=api, settings=settings, clock=clock)
    await desk.start()
    try:
        erika = desk.customer(ERIKA, first_name=NAMES[0], username=NAMES[2])
        await erika.send("/start")
        await erika.press("Ja, ich willige ein")
        await erika.press("1")
        await erika.send(COMMENTS[0])
        await erika.press("Ja, einverstanden")
        assert desk.app is not None
        await asyncio.gather(*desk.app.bot_data.background)  # the alert's own task
        assert COMMENTS[0].split()[-1] in texts(api.messages(STAFF_CHAT)), "staff alerted"

        clock.advance(timedelta(minutes=7, seconds=13, microseconds=4321))
        john = desk.customer(JOHN, language_code="de", first_name=NAMES[1])
        assert "English" in texts(await john.send("/sprache englisch"))
        await john.send("/start product")
        await john.press("Yes, I agree")
        await john.press("5")
        await john.press("☐ The features")
        await john.press("Done")
        assert "Thank you for your product feedback!" in texts(await john.press("10"))

        clock.advance(timedelta(minutes=3, seconds=1, microseconds=777))
        max_ = desk.customer(MAX)
        await max_.send("/start")
        await max_.press("Ja, ich willige ein")
        await max_.press("4")
        await max_.send(COMMENTS[1])
        await max_.press("Nein")
        await max_.send("/loeschen")
        assert "gelöscht" in texts(await max_.press("Alles löschen"))

        assert any(m["document"] for m in await erika.send("/meinedaten")), "her copy"
        staff = desk.customer(STAFF)
        await staff.send("/zusammenfassung")
        await staff.press("Ich bestätige")
        assert desk.store is not None
        erased = desk.store.pseudonym(f"tg-user:{MAX}")
        kept = desk.store.pseudonym(f"tg-user:{ERIKA}")
    finally:
        await desk.stop()

    folder = settings.data_dir
    assert files_contain(folder, kept.encode()), "a pseudonym is what the files do show"
    assert not files_contain(folder, erased.encode()), "nothing left of the erased person"
    for person in (ERIKA, JOHN, MAX):
        assert not files_contain(folder, str(person).encode()), "no Telegram id"
    for words in (*COMMENTS, *NAMES):
        assert not files_contain(folder, words.encode()), words
    # no answer of a survey: neither the option ticked nor the question it answered
    assert not files_contain(folder, b"features")
    assert not files_contain(folder, b"liked")
    # no language chosen, by name or by code
    for name in (b"English", b"Englisch", b'"en"', b"locale"):
        assert not files_contain(folder, name), name
    assert set(clear_values(folder, "languages", ("*",))) & {"en", "de"} == set()
    # When a person chose a language, and when each update came in, to the minute only.
    times = clear_values(folder, "languages", ("chosen_at", "expires_at"))
    times += clear_values(folder, "processed_updates", ("seen_at",))
    assert len(times) > 20, "the choice and every update of the day"
    assert [t for t in times if FINER_THAN_A_MINUTE.search(t)] == []
    assert "2026-11-29T09:20:00.000000+00:00" in times, "John's choice, at 09:20:40"
    assert "2027-05-28T09:21:00.000000+00:00" in times, "its deletion date, rounded up"
    # When the erasure was made, to the minute in the ledger, and in the audit trail by
    # the bot's clock (09:23:41), not the machine's, to the minute too.
    noted = clear_values(folder, "erasures", ("at",), file="erasures.db")
    assert noted == ["2026-11-29T09:23:00.000000+00:00"]
    # The summary cache names no minute: not the one of the erased person's feedback
    # (09:23), nor those the summary went through. Nor its ten minutes: the erasure drops
    # every bucket of the day, so the rows it leaves for a while are the whole day's.
    buckets = clear_values(folder, "summary_cache", ("bucket",))
    assert [bucket for bucket in buckets if len(bucket) > len("2026-11-29T09:2")] == []
    day = [f"2026-11-29T{hour:02}:{ten}" for hour in range(24) for ten in range(6)]
    assert set(day) <= set(buckets), "the erased person's day, all of it"
    assert {f"2026-11-29T{hour:02}" for hour in range(24)} <= set(buckets)
    # Nor by how often each row changed: Erika's and John's feedback changed theirs before,
    # and the erasure gave every row of the day one new epoch.
    rows = clear_values(folder, "summary_cache", ("bucket", "epoch"))
    epochs = {epoch for bucket, epoch in zip(rows[::2], rows[1::2], strict=True) if bucket in day}
    assert len(epochs) == 1, epochs
    # Nor when its rows last changed finer than the minute: the rows the erasure dropped
    # shared one time to the microsecond, which told them from the others as one
    # person's and dated the erasure.
    changed = clear_values(folder, "summary_cache", ("changed_at",))
    assert len(changed) == len(buckets) > 3, "the erased person's rows and the summary's"
    assert [t for t in changed if FINER_THAN_A_MINUTE.search(t)] == []
    trail = clear_values(folder, "audit", ("event", "at"))
    erasures = [at for event, at in zip(trail[::2], trail[1::2], strict=True) if event == "erasure"]
    assert erasures == ["2026-11-29T09:23:00.000000+00:00"]
    # Every entry of the trail to the minute (found by a DPO check: the alert's exact time
    # matched its feedback's, and told of a pseudonym that it had rated low).
    assert "alert" in trail[::2] and "summary" in trail[::2], trail
    assert [t for t in trail[1::2] if FINER_THAN_A_MINUTE.search(t)] == []
