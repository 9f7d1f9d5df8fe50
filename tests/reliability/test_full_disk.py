"""Full disk: a store that cannot grow (SQLite's max_page_count capped at the current size,
and the free room filled up). The person is told their answer could not be saved and to
try later; nothing is corrupted; once there is space again the conversation goes on and
the feedback is stored exactly once."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage import ConsentGrant, Draft, NewFeedback, StorageFull
from tests.fakes.botapi import FakeBotApi
from tests.harness import TOKEN
from tests.reliability.canary import CanaryScanner
from tests.reliability.support import (
    InProcessBot,
    ProductionLog,
    SimulatedPerson,
    converse_in_process,
    integrity,
    people,
    read_back,
    text_of,
)

LONG = 1500  # a comment long enough to need a new page


async def fill_up(bot: InProcessBot, *, claims: bool = False) -> None:
    """Cap the data file at its size, then use up the room left in it with other people's
    drafts and feedback (as long as the person's), and with `claims` the table of
    processed update ids too, so that every write fails, as on a full disk."""
    store = bot.store
    assert store is not None
    await store.set_max_page_count(1)  # SQLite raises a cap below the size to the size
    now = bot.clock()
    fillers = (
        lambda pseudonym: store.save_draft(
            pseudonym,
            Draft(payload={"filler": secrets.token_hex(400)}, updated_at=now, expires_at=now),
        ),
        lambda pseudonym: store.submit_feedback(
            pseudonym,
            NewFeedback(
                flow_id="feedback",
                answers={"comment": secrets.token_hex(LONG // 2)},
                purposes=["feedback"],
                created_at=now,
                expires_at=now + timedelta(days=180),
            ),
            [
                ConsentGrant(
                    purpose="feedback",
                    notice_version="v",
                    text_sha256="0" * 64,
                    method="t",
                    granted_at=now,
                )
            ],
        ),
    )
    for kind, write in enumerate(fillers):
        for _ in range(100_000):
            try:
                await write(store.pseudonym(f"filler:{kind}:{secrets.token_hex(8)}"))
            except StorageFull:
                break
        else:
            raise AssertionError("the store never filled up")
    if claims:
        for update_id in range(10**9, 10**9 + 100_000):
            try:
                await store.claim_update(update_id, now)
            except StorageFull:
                return
        raise AssertionError("the processed-updates table never filled up")


async def make_room(bot: InProcessBot) -> None:
    assert bot.store is not None
    await bot.store.set_max_page_count(None)


def last_text(bot: InProcessBot, person: SimulatedPerson) -> str:
    return text_of(bot.api.messages(person.chat_id)[-1])


async def test_a_full_store_says_try_later_corrupts_nothing_and_recovers(tmp_path: Path) -> None:
    data = tmp_path / "data"
    api = FakeBotApi(TOKEN)
    bot = InProcessBot(api, data)
    [erika] = people(1, first_id=5_610_000_000, stop_at_comment=True)
    erika.contact = False
    comment = f"{erika.comment_base} " + "lang " * (LONG // 5)
    with ProductionLog() as log:
        await bot.start()
        try:
            await converse_in_process(bot, erika)  # consent and rating given

            await fill_up(bot)
            await bot.deliver(erika.act(api, ("text", comment)))
            assert erika.labels["not_saved"] in last_text(bot, erika)
            assert integrity(data / "feedback.db") == "ok"

            await make_room(bot)
            await bot.deliver(erika.act(api, ("text", comment)))
            assert erika.next_action(api.messages(erika.chat_id)) == ("press", "Nein")

            await fill_up(bot)
            await bot.deliver(erika.act(api, ("press", "Nein")))
            assert erika.labels["not_saved"] in last_text(bot, erika)
            assert not erika.thanked(api.messages(erika.chat_id))
            assert integrity(data / "feedback.db") == "ok"

            await make_room(bot)
            await bot.deliver(erika.act(api, ("press", "Nein")))
            assert erika.thanked(api.messages(erika.chat_id)) == 1
        finally:
            await bot.stop()
    [(feedback, consents)] = (await read_back(data, [erika], datetime.now(UTC))).values()
    assert [f.answers["comment"] for f in feedback] == [comment.strip()]
    assert [c.purpose for c in consents] == ["feedback"]
    assert integrity(data / "feedback.db") == "ok" and integrity(data / "keys.db") == "ok"
    assert [r.getMessage() for r in log.errors] == ["storage full: answer not saved"] * 2
    scanner = CanaryScanner()
    scanner.add(erika.comment_base, "comment")
    scanner.person(erika.user_id, first_name=erika.first_name, username=erika.username)
    scanner.assert_clean(data, [("production log", log.text)])


async def test_when_nothing_can_be_written_the_person_is_told_it_was_not_saved(
    tmp_path: Path,
) -> None:
    """Found by this suite: the dedup claim (the first write of every update) raised
    StorageFull into the error handler, and the person got the generic apology.

    max_page_count caps the database file, not its write-ahead log, so an answer that
    still fits into an existing page is saved (correctly); the comment here is long
    enough to need a new page, as any write does on a real full disk.
    """
    api = FakeBotApi(TOKEN)
    bot = InProcessBot(api, tmp_path / "data")
    [erika] = people(1, first_id=5_620_000_000, stop_at_comment=True)
    with ProductionLog() as log:
        await bot.start()
        try:
            await converse_in_process(bot, erika)
            await fill_up(bot, claims=True)
            comment = f"{erika.comment_base} " + "voll " * (LONG // 5)
            await bot.deliver(erika.act(api, ("text", comment)))
        finally:
            await bot.stop()
    assert "update failed" not in log.text
    assert erika.labels["not_saved"] in last_text(bot, erika)
