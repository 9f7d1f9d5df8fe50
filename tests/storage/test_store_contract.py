"""The Store contract, run against every backend: the in-memory one and SQLite."""

import asyncio
import hashlib
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Literal

import pytest

from storage import MemoryStore, SQLiteStore
from storage.crypto import generate_key
from storage.interface import (
    ALL_FLOWS,
    RELEASE_MEMORY,
    AuditEntry,
    CacheEntry,
    ConsentGrant,
    ConsentMissing,
    ConsentText,
    DeletionNotice,
    Delivery,
    Draft,
    FeedbackLimit,
    FeedbackLimitReached,
    LanguageChoice,
    NewFeedback,
    Noted,
    Release,
    SegmentRead,
    StaffPost,
    StatisticsCutoff,
    StorageFull,
    Store,
    StoreNotOpen,
    SummarySegment,
    notice_parts,
    unconfirmed_message_id,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
SHA = "ab" * 32

StoreFactory = Callable[[], Store]


@pytest.fixture(params=["memory", "sqlite"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    key = generate_key()
    if request.param == "memory":
        return lambda: MemoryStore(pseudonym_key=key)
    return lambda: SQLiteStore(tmp_path / "data", key)


@pytest.fixture
async def store(make_store: StoreFactory) -> AsyncIterator[Store]:
    store = make_store()
    await store.open()
    yield store
    await store.close()


def draft(step: str = "q1", at: datetime = T0, ttl: timedelta = HOUR) -> Draft:
    return Draft(
        payload={"step": step, "answers": {"rating": 4}}, updated_at=at, expires_at=at + ttl
    )


def grant(purpose: str = "feedback", at: datetime = T0) -> ConsentGrant:
    return ConsentGrant(
        purpose=purpose, notice_version="v1", text_sha256=SHA, method="button", granted_at=at
    )


def feedback(comment: str = "gut", at: datetime = T0, ttl: timedelta = 30 * DAY) -> NewFeedback:
    return NewFeedback(
        flow_id="standard",
        answers={"rating": 5, "comment": comment, "tags": ["a", "ü"]},
        purposes=["feedback"],
        created_at=at,
        expires_at=at + ttl,
    )


# ---- lifecycle and pseudonyms ----------------------------------------------------------


async def test_calls_before_open_raise(make_store: StoreFactory) -> None:
    store = make_store()
    with pytest.raises(StoreNotOpen):
        store.pseudonym("tg-user:1")
    with pytest.raises(StoreNotOpen):
        await store.load_draft("p" * 64, T0)


async def test_calls_after_close_raise(make_store: StoreFactory) -> None:
    store = make_store()
    await store.open()
    await store.close()
    with pytest.raises(StoreNotOpen):
        await store.feedback_of("p" * 64, T0)


async def test_pseudonym_is_stable_hex_and_hides_the_subject(store: Store) -> None:
    one = store.pseudonym("tg-user:4711")
    assert one == store.pseudonym("tg-user:4711")
    assert len(one) == 64 and all(c in "0123456789abcdef" for c in one)
    assert one != store.pseudonym("tg-user:4712")


# ---- drafts ----------------------------------------------------------------------------


async def test_draft_save_load_replace_delete(store: Store) -> None:
    p = store.pseudonym("tg-user:1")
    assert await store.load_draft(p, T0) is None
    await store.save_draft(p, draft("q1"))
    assert await store.load_draft(p, T0) == draft("q1")
    await store.save_draft(p, draft("q2", at=T0 + timedelta(minutes=5)))
    loaded = await store.load_draft(p, T0 + timedelta(minutes=6))
    assert loaded is not None and loaded.payload["step"] == "q2"
    assert await store.load_draft(store.pseudonym("tg-user:2"), T0) is None
    assert await store.delete_draft(p) is True
    assert await store.delete_draft(p) is False
    assert await store.load_draft(p, T0) is None


async def test_expired_draft_is_not_returned(store: Store) -> None:
    p = store.pseudonym("tg-user:1")
    await store.save_draft(p, draft(ttl=HOUR))
    assert await store.load_draft(p, T0 + HOUR - timedelta(microseconds=1)) is not None
    assert await store.load_draft(p, T0 + HOUR) is None


async def test_a_draft_is_kept_open_longer_only_while_it_is_the_one_read(store: Store) -> None:
    p = store.pseudonym("tg-user:1")
    await store.save_draft(p, draft("q1", ttl=HOUR))
    read = await store.load_draft(p, T0)
    assert read is not None
    assert await store.extend_draft(p, read.updated_at, T0 + 3 * HOUR)
    kept = await store.load_draft(p, T0 + 2 * HOUR)
    assert kept is not None and kept.payload == read.payload
    # Answered meanwhile: the answers saved since stay as they are.
    await store.save_draft(p, draft("q2", at=T0 + timedelta(minutes=1), ttl=HOUR))
    assert not await store.extend_draft(p, read.updated_at, T0 + 5 * HOUR)
    assert await store.load_draft(p, T0 + 2 * HOUR) is None
    assert not await store.extend_draft(store.pseudonym("tg-user:2"), T0, T0 + HOUR)


async def test_times_come_back_as_utc(store: Store) -> None:
    p = store.pseudonym("tg-user:1")
    berlin = timezone(timedelta(hours=1))
    at = T0.astimezone(berlin)
    await store.save_draft(p, Draft(payload={}, updated_at=at, expires_at=at + HOUR))
    loaded = await store.load_draft(p, T0)
    assert loaded is not None
    assert loaded.updated_at == T0 and loaded.updated_at.utcoffset() == timedelta(0)


async def test_naive_times_are_refused(store: Store) -> None:
    p = store.pseudonym("tg-user:1")
    naive = datetime(2025, 3, 1, 12, 0)
    with pytest.raises(ValueError):
        await store.save_draft(p, Draft(payload={}, updated_at=naive, expires_at=naive + HOUR))
    assert await store.load_draft(p, T0) is None


# ---- consents --------------------------------------------------------------------------


async def test_consents_grant_list_withdraw(store: Store) -> None:
    p = store.pseudonym("tg-user:1")
    await store.grant_consents(p, [])
    assert await store.consents(p) == []
    await store.grant_consents(p, [grant("contact", T0 + HOUR)])
    await store.grant_consents(p, [grant("feedback", T0)])
    listed = await store.consents(p)
    assert [c.purpose for c in listed] == ["feedback", "contact"]  # oldest first
    assert listed[0].notice_version == "v1" and listed[0].text_sha256 == SHA
    assert listed[0].method == "button" and listed[0].granted_at == T0
    assert all(c.in_force for c in listed) and len({c.id for c in listed}) == 2

    assert await store.withdraw_consent(p, "contact", T0 + 2 * HOUR) == 1
    assert await store.withdraw_consent(p, "contact", T0 + 3 * HOUR) == 0
    by_purpose = {c.purpose: c for c in await store.consents(p)}
    assert by_purpose["contact"].withdrawn_at == T0 + 2 * HOUR
    assert by_purpose["feedback"].in_force
    assert await store.consents(store.pseudonym("tg-user:2")) == []
    ledger = await store.consent_ledger(p)
    assert ledger.for_feedback(T0 + HOUR) == {"feedback"}, "the contact consent withdrawn"
    assert ledger.for_feedback(T0 + 3 * HOUR) == {"feedback"}
    assert (await store.consent_ledger(store.pseudonym("tg-user:2"))).for_feedback(T0) == set()


async def test_a_consent_that_ended_with_its_feedback_is_not_recorded_withdrawn(
    store: Store,
) -> None:
    """A consent to be contacted ends with the last feedback it was given for: it stops as
    a withdrawal does, and is kept as ended, not as the person's withdrawal."""
    p = store.pseudonym("tg-user:1")
    await store.grant_consents(p, [grant("feedback", T0), grant("contact", T0)])
    assert await store.withdraw_consent(p, "contact", T0 + HOUR, ended=True) == 1
    assert await store.withdraw_consent(p, "contact", T0 + 2 * HOUR) == 0, "not in force"
    by_purpose = {c.purpose: c for c in await store.consents(p)}
    ended = by_purpose["contact"]
    assert not ended.in_force and ended.stopped_at == T0 + HOUR
    assert ended.ended_at == T0 + HOUR and ended.withdrawn_at is None
    assert by_purpose["feedback"].in_force and by_purpose["feedback"].ended_at is None
    ledger = await store.consent_ledger(p)
    assert ledger.for_feedback(T0) == {"feedback"}, "out of force as after a withdrawal"
    await store.grant_consents(p, [grant("contact", T0 + 3 * HOUR)])
    assert await store.withdraw_consent(p, "contact", T0 + 4 * HOUR) == 1
    [_, withdrawn] = [c for c in await store.consents(p) if c.purpose == "contact"]
    assert withdrawn.withdrawn_at == T0 + 4 * HOUR and withdrawn.ended_at is None


async def test_a_consent_keeps_whether_taking_part_needed_it(store: Store) -> None:
    """A withdrawal of a purpose no flow declares any more goes by it."""
    p = store.pseudonym("tg-user:1")
    needed = grant("feedback").model_copy(update={"required": True})
    asked = grant("contact").model_copy(update={"required": False})
    await store.grant_consents(p, [needed, asked, grant("older")])
    assert {c.purpose: c.required for c in await store.consents(p)} == {
        "feedback": True,
        "contact": False,
        "older": None,
    }


async def test_withdrawing_erases_the_answers_collected_for_that_purpose(store: Store) -> None:
    """An answer collected for an optional purpose serves it alone (Art. 17(1)(b)): the
    withdrawal erases it, and nothing else, from the person's feedback of that flow given
    under it."""
    p, other = store.pseudonym("tg-user:1"), store.pseudonym("tg-user:2")
    asked = feedback("ruf mich an").model_copy(update={"purposes": ["feedback", "callback"]})
    mine = await store.submit_feedback(p, asked, [grant("feedback"), grant("callback")])
    theirs = await store.submit_feedback(other, asked, [grant("feedback"), grant("callback")])
    elsewhere = asked.model_copy(update={"flow_id": "product"})
    kept = await store.submit_feedback(p, elsewhere, [])
    collected = {"standard": ["comment", "tags"]}

    assert await store.withdraw_consent(p, "feedback-not-given", T0 + HOUR, collected) == 0
    assert [r.answers for r in await store.feedback_of(p, T0)] == [asked.answers] * 2, (
        "nothing is erased for a consent that was not in force"
    )
    assert await store.withdraw_consent(p, "callback", T0 + HOUR, collected) == 1
    by_id = {r.id: r for r in await store.feedback_of(p, T0)}
    assert by_id[mine.id].answers == {"rating": 5}
    assert by_id[kept.id].answers == asked.answers, "another flow's questions are not these"
    assert [(r.id, r.answers) for r in await store.feedback_of(other, T0)] == [
        (theirs.id, asked.answers)
    ], "another person's answers stay"


async def test_withdrawing_erases_what_each_feedback_recorded_for_the_purpose(
    store: Store,
) -> None:
    """Feedback that recorded which answers it gave for the purpose loses those, whatever
    the flow says now; feedback not given under the purpose loses nothing."""
    p = store.pseudonym("tg-user:1")
    await store.grant_consents(p, [grant("feedback"), grant("callback")])
    given = feedback("ruf mich an").model_copy(update={"purposes": ["feedback", "callback"]})
    recorded = await store.submit_feedback(
        p, given.model_copy(update={"collected": {"callback": ["tags"]}}), []
    )
    without = await store.submit_feedback(p, feedback("ohne Rückruf"), [])
    assert await store.withdraw_consent(p, "callback", T0 + HOUR, {"standard": ["comment"]}) == 1
    by_id = {r.id: r.answers for r in await store.feedback_of(p, T0)}
    assert by_id[recorded.id] == {"rating": 5, "comment": "ruf mich an"}, "its own list"
    assert by_id[without.id] == feedback("ohne Rückruf").answers, "not given under it"


async def test_withdrawing_erases_the_feedback_named_with_its_deliveries(store: Store) -> None:
    """The feedback given under a withdrawn required purpose goes in the same call, with
    the records of passing it on (the notices are queued before: rights.withdraw); the
    person's other feedback and the consent stay."""
    p, other = store.pseudonym("tg-user:1"), store.pseudonym("tg-user:2")
    first = await store.submit_feedback(p, feedback("erstes"), [grant("feedback")])
    elsewhere = feedback("anderes").model_copy(update={"flow_id": "product"})
    kept = await store.submit_feedback(p, elsewhere, [grant("product")])
    theirs = await store.submit_feedback(other, feedback("fremdes"), [grant("feedback")])
    for person, record in ((p, first), (p, kept), (other, theirs)):
        await store.record_delivery(
            person, Delivery(recipient="crm", feedback_id=record.id, delivered_at=T0)
        )

    assert await store.withdraw_consent(p, "feedback", T0 + HOUR, None, [first.id]) == 1
    assert [r.id for r in await store.feedback_of(p, T0)] == [kept.id]
    assert [d.feedback_id for d in await store.deliveries_of(p)] == [kept.id], (
        "a second notice would follow from them at an erasure (found by review)"
    )
    assert [c.in_force for c in await store.consents(p)] == [False, True], "proof stays"
    assert [r.id for r in await store.feedback_of(other, T0)] == [theirs.id]
    assert [d.feedback_id for d in await store.deliveries_of(other)] == [theirs.id]
    # audited as an erasure is, with how much went and without whose (found by a staff
    # walk-through: two feedbacks gone, one erasure in the trail); a withdrawal that
    # erases nothing is none
    assert await store.withdraw_consent(other, "contact", T0 + HOUR) == 0
    [entry] = [e for e in await store.audit_entries(T0) if e.event == "withdrawal"]
    assert (entry.actor, entry.records, entry.detail) == (None, 1, None)
    assert entry.at == T0 + HOUR


async def test_a_shortened_retention_brings_the_deletion_date_forward(store: Store) -> None:
    p = store.pseudonym("tg-user:1")
    standard = await store.submit_feedback(p, feedback("kurz", ttl=180 * DAY), [grant()])
    elsewhere = feedback("lang", ttl=180 * DAY).model_copy(update={"flow_id": "product"})
    product = await store.submit_feedback(p, elsewhere, [grant("product")])
    unknown = feedback("fremd", ttl=180 * DAY).model_copy(update={"flow_id": "removed"})
    await store.submit_feedback(p, unknown, [])

    before = {r.id: r.expires_at for r in await store.feedback_of(p, T0)}
    assert await store.cap_retention({"standard": 90 * DAY}, apply=False) == 1
    assert {r.id: r.expires_at for r in await store.feedback_of(p, T0)} == before, "a count"
    assert await store.cap_retention({"standard": 90 * DAY, "product": 365 * DAY}) == 1
    dates = {r.id: r.expires_at for r in await store.feedback_of(p, T0)}
    assert dates[standard.id] == T0 + 90 * DAY
    assert dates[product.id] == T0 + 180 * DAY, "a longer retention changes nothing stored"
    assert sorted(dates.values())[-1] == T0 + 180 * DAY, "a flow not named keeps its date"
    assert await store.cap_retention({"standard": 90 * DAY}) == 0, "once is enough"
    assert (await store.purge_expired(T0 + 91 * DAY)).feedback == 1


async def test_a_shortened_retention_brings_a_language_choices_date_forward(store: Store) -> None:
    """Found by a DPO's walk-through: a choice kept its 180 days under a retention of 30."""
    kept, short = store.pseudonym("tg-user:1"), store.pseudonym("tg-user:2")
    await store.save_language(
        kept, LanguageChoice(locale="en", chosen_at=T0, expires_at=T0 + 180 * DAY)
    )
    await store.save_language(
        short, LanguageChoice(locale="de", chosen_at=T0, expires_at=T0 + 10 * DAY)
    )
    assert await store.cap_languages(T0 + 30 * DAY) == 1
    capped = await store.language_of(kept, T0)
    assert capped is not None and capped.expires_at == T0 + 30 * DAY
    assert capped.locale == "en", "still opens"
    still = await store.language_of(short, T0)
    assert still is not None and still.expires_at == T0 + 10 * DAY, "a nearer date stays"
    assert await store.cap_languages(T0 + 30 * DAY) == 0, "once is enough"
    await store.purge_expired(T0 + 31 * DAY)
    assert await store.language_of(kept, T0) is None


async def test_recipients_told_the_old_deletion_date_are_asked_to_delete_at_the_new_one(
    store: Store,
) -> None:
    """A shortened retention reached the stored feedback, but recipients still held their
    copies until the date they had been told (found by review)."""
    p, q = store.pseudonym("tg-user:1"), store.pseudonym("tg-user:2")
    told = await store.submit_feedback(p, feedback("weiter", ttl=180 * DAY), [grant()])
    later = await store.submit_feedback(q, feedback("spaeter", ttl=180 * DAY), [grant()])
    for recipient in ("crm", "archiv"):
        await store.record_delivery(
            p, Delivery(recipient=recipient, feedback_id=told.id, delivered_at=T0)
        )
    assert await store.cap_retention({"standard": 90 * DAY}) == 2
    # passed on after the change: the recipient is told the new date, nothing owed
    await store.record_delivery(q, Delivery(recipient="crm", feedback_id=later.id, delivered_at=T0))
    assert [d.cut_short for d in await store.deliveries_of(p)] == [True, True]
    assert [d.cut_short for d in await store.deliveries_of(q)] == [False]

    report = await store.purge_expired(T0 + 89 * DAY)
    assert report.notices == 0 and await store.pending_notices() == []
    report = await store.purge_expired(T0 + 91 * DAY)
    assert report.notices == 2 and report.feedback == 2
    notices = sorted((n for _, n in await store.pending_notices()), key=lambda n: n.recipient)
    assert [(n.recipient, n.reason, n.feedback_ids) for n in notices] == [
        ("archiv", "retention", [told.id]),
        ("crm", "retention", [told.id]),
    ], "not the one passed on with the new date"
    assert (await store.purge_expired(T0 + 92 * DAY)).notices == 0, "once"


async def test_feedback_kept_after_its_consent_was_withdrawn_is_deleted_now(
    store: Store,
) -> None:
    """Versions before 30 Nov 2026 kept feedback whose required consent the person had
    withdrawn, no longer evaluated, up to 180 days; the pass at the first start of this
    version brings its deletion date forward, as a shortened retention does (found by an
    upgrade review)."""
    a, b, c, d = (store.pseudonym(f"tg-user:{n}") for n in range(1, 5))
    left = await store.submit_feedback(a, feedback("zurückgezogen"), [grant()])
    await store.record_delivery(a, Delivery(recipient="crm", feedback_id=left.id, delivered_at=T0))
    elsewhere = feedback("anderer Ablauf").model_copy(update={"flow_id": "product"})
    other_flow = await store.submit_feedback(a, elsewhere, [grant("product")])
    retired = feedback("Ablauf entfernt").model_copy(update={"flow_id": "retired"})
    unknown = await store.submit_feedback(a, retired, [])
    # As the old versions withdrew: the consent marked, the feedback kept.
    assert await store.withdraw_consent(a, "feedback", T0 + HOUR) == 1
    older = await store.submit_feedback(b, feedback("vorher", at=T0 + HOUR), [grant()])
    await store.withdraw_consent(b, "feedback", T0 + 2 * HOUR)
    await store.grant_consents(b, [grant(at=T0 + 3 * HOUR)])
    newer = await store.submit_feedback(b, feedback("nachher", at=T0 + 4 * HOUR), [])
    # Ended with other feedback, not withdrawn by the person: not theirs to lose.
    ended = await store.submit_feedback(c, feedback("beendet"), [grant(), grant("contact")])
    await store.withdraw_consent(c, "contact", T0 + HOUR, ended=True)
    await store.withdraw_consent(c, "feedback", T0 + HOUR, ended=True)
    # Given before the consent records (a consent granted later, then withdrawn).
    unproven = feedback("vor den Belegen", at=T0 - DAY).model_copy(update={"purposes": []})
    early = await store.submit_feedback(d, unproven, [])
    await store.grant_consents(d, [grant()])
    await store.withdraw_consent(d, "feedback", T0 + HOUR)

    now = T0 + DAY
    required = {"standard": ["feedback"], "product": ["product"]}
    assert await store.end_withdrawn_leftovers(required, now) == 2
    assert [r.id for r in await store.feedback_of(a, now)] == [other_flow.id, unknown.id]
    assert [r.id for r in await store.feedback_of(b, now)] == [newer.id]
    assert [r.id for r in await store.feedback_of(c, now)] == [ended.id]
    assert [r.id for r in await store.feedback_of(d, now)] == [early.id]
    # The recipient is asked to delete it for what it is, a withdrawal (DPO review: it was
    # told "retention", a deletion date cut short), and once, not again at the purge.
    [(_, notice)] = await store.pending_notices()
    told = (notice.recipient, notice.reason, notice.feedback_ids)
    assert told == ("crm", "withdrawal", [left.id])
    assert [d.cut_short for d in await store.deliveries_of(a)] == [False]
    report = await store.purge_expired(now)
    assert (report.feedback, report.notices) == (2, 0)
    assert len(await store.pending_notices()) == 1
    assert older.id not in {r.id for r in await store.feedback_of(b, T0)}
    assert await store.end_withdrawn_leftovers(required, now + HOUR) == 0, "once is enough"


async def test_feedback_given_after_a_consent_was_withdrawn_is_not_under_it(
    store: Store,
) -> None:
    """A consent withdrawn before a feedback was given was not what it was given under: a
    survey that now also requires that purpose (it did not then) keeps that feedback (found
    by a diff review: the pass took the person's last consent to it, withdrawn days before,
    and erased the feedback, its recipient told of a withdrawal)."""
    p = store.pseudonym("tg-user:1")
    await store.grant_consents(p, [grant("product")])
    await store.withdraw_consent(p, "product", T0 + HOUR)
    given = await store.submit_feedback(p, feedback("später", at=T0 + DAY), [grant(at=T0 + DAY)])
    await store.record_delivery(
        p, Delivery(recipient="crm", feedback_id=given.id, delivered_at=T0 + DAY)
    )
    required = {"standard": ["feedback", "product"]}  # "product" required since
    assert await store.end_withdrawn_leftovers(required, T0 + 2 * DAY) == 0
    assert [r.id for r in await store.feedback_of(p, T0 + 2 * DAY)] == [given.id]
    assert await store.pending_notices() == []


async def test_feedback_withdrawn_and_cut_short_at_one_start_is_told_once(store: Store) -> None:
    """A retention shortened at the same start as the pass (cap_retention runs first):
    the recipient gets one notice, for the withdrawal, not a second one for the date."""
    p = store.pseudonym("tg-user:1")
    left = await store.submit_feedback(p, feedback("zurückgezogen", ttl=180 * DAY), [grant()])
    await store.record_delivery(p, Delivery(recipient="crm", feedback_id=left.id, delivered_at=T0))
    await store.withdraw_consent(p, "feedback", T0 + HOUR)
    assert await store.cap_retention({"standard": 90 * DAY}) == 1
    assert await store.end_withdrawn_leftovers({"standard": ["feedback"]}, T0 + DAY) == 1
    assert (await store.purge_expired(T0 + DAY)).notices == 0
    assert [n.reason for _, n in await store.pending_notices()] == ["withdrawal"]


async def test_the_pass_tells_no_one_of_expired_feedback_nor_of_a_delivery_never_made(
    store: Store,
) -> None:
    """Mutation audit: without its date test the pass told the recipients of feedback
    already past its date (deleted by then, as they were told) of a withdrawal, and without
    its test of sent deliveries a recipient that never got the feedback was asked to
    delete an id it never saw."""
    p = store.pseudonym("tg-user:1")
    expired = await store.submit_feedback(p, feedback("abgelaufen", ttl=DAY), [grant()])
    await store.record_delivery(
        p, Delivery(recipient="crm", feedback_id=expired.id, delivered_at=T0)
    )
    q = store.pseudonym("tg-user:2")
    kept = await store.submit_feedback(q, feedback("nie zugestellt", ttl=180 * DAY), [grant()])
    await store.record_delivery(
        q, Delivery(recipient="erp", feedback_id=kept.id, delivered_at=T0, pending=True)
    )
    for person in (p, q):
        await store.withdraw_consent(person, "feedback", T0 + HOUR)
    assert await store.end_withdrawn_leftovers({"standard": ["feedback"]}, T0 + 2 * DAY) == 1
    assert await store.pending_notices() == [], "neither the expired one nor the unsent one"


async def test_the_one_off_tasks_are_done_once(store: Store) -> None:
    """A new store has the pass to make (it finds nothing); once done, it is not again."""
    assert await store.upkeep_due() == {"withdrawn_leftovers"}
    await store.upkeep_done("withdrawn_leftovers")
    assert await store.upkeep_due() == set()
    await store.upkeep_done("withdrawn_leftovers")


async def test_feedback_of_a_flow_not_named_is_told(store: Store) -> None:
    """For the pass above: a survey not loaded leaves it to be made again (DPO review)."""
    assert not await store.holds_feedback_beyond([])
    p = store.pseudonym("tg-user:1")
    await store.submit_feedback(p, feedback("a", ttl=DAY), [grant()])
    assert not await store.holds_feedback_beyond(["standard", "other"])
    assert await store.holds_feedback_beyond(["other"])
    assert await store.holds_feedback_beyond([])
    await store.purge_expired(T0 + 2 * DAY)
    assert not await store.holds_feedback_beyond(["other"])


# ---- feedback --------------------------------------------------------------------------


async def test_submit_feedback_stores_all_and_drops_the_draft(store: Store) -> None:
    p = store.pseudonym("tg-user:1")
    await store.save_draft(p, draft())
    record = await store.submit_feedback(
        p, feedback("prima"), [grant("feedback"), grant("contact")], contact_chat_id=-100123
    )
    assert record.answers == feedback("prima").answers and record.id
    assert await store.feedback_of(p, T0) == [record]
    assert await store.load_draft(p, T0) is None
    assert {c.purpose for c in await store.consents(p)} == {"feedback", "contact"}
    assert await store.contact_of(p) == -100123


async def test_the_language_to_write_in_is_kept_with_the_contact_and_goes_with_it(
    store: Store,
) -> None:
    p, q = store.pseudonym("tg-user:1"), store.pseudonym("tg-user:2")
    await store.submit_feedback(
        p, feedback(), [grant(), grant("contact")], 11, contact_language="en"
    )
    await store.submit_feedback(q, feedback(), [grant(), grant("contact")], 12)
    assert (await store.contact_of(p), await store.contact_language_of(p)) == (11, "en")
    assert (await store.contact_of(q), await store.contact_language_of(q)) == (12, None)
    # A later contact consent in another language replaces both.
    await store.submit_feedback(p, feedback(), [grant("contact")], 11, contact_language="de")
    assert await store.contact_language_of(p) == "de"
    assert await store.delete_contact(p)
    assert await store.contact_language_of(p) is None
    r = store.pseudonym("tg-user:3")
    await store.submit_feedback(
        r, feedback(), [grant(), grant("contact")], 13, contact_language="en"
    )
    for person in (q, r):
        await store.erase_subject(person)
        assert await store.contact_language_of(person) is None
    # Given again after the erasure, without a language: none comes back from before.
    await store.submit_feedback(r, feedback(), [grant(), grant("contact")], 13)
    assert (await store.contact_of(r), await store.contact_language_of(r)) == (13, None)


async def test_feedback_is_found_by_the_start_of_its_id_while_unexpired(store: Store) -> None:
    p, q = store.pseudonym("tg-user:1"), store.pseudonym("tg-user:2")
    mine = await store.submit_feedback(p, feedback("prima"), [grant(), grant("contact")])
    other = await store.submit_feedback(q, feedback("anders", ttl=DAY), [grant()])
    [found] = await store.feedback_by_reference(mine.id[:10], T0)
    assert (found.id, found.pseudonym, found.answers) == (mine.id, p, mine.answers)
    assert found.consents_in_force == {"feedback", "contact"}
    await store.withdraw_consent(p, "contact", T0 + HOUR)
    [found] = await store.feedback_by_reference(mine.id[:10], T0 + 2 * HOUR)
    assert found.consents_in_force == {"feedback"}
    # 40 ids over 16 hex digits: some digit starts at least three; `limit` of them come.
    more = [await store.submit_feedback(q, feedback(), [grant()]) for _ in range(40)]
    digit = Counter(r.id[0] for r in [mine, other, *more]).most_common(1)[0][0]
    two = await store.feedback_by_reference(digit, T0, limit=2)
    assert len(two) == 2 and all(r.id.startswith(digit) for r in two)
    both = await store.feedback_by_reference(other.id[:10], T0, limit=2)
    assert [r.id for r in both] == [other.id]
    assert await store.feedback_by_reference(other.id[:10], T0 + 2 * DAY) == []  # expired
    # (upper case only where it differs: ten hex digits are all figures about once in a
    # hundred runs, and then the same reference, found)
    upper = [mine.id[:10].upper()] if mine.id[:10].upper() != mine.id[:10] else []
    for forged in ("", "ZZZ", *upper, "' OR 1=1 --", "%", mine.id[:9] + "_"):
        assert await store.feedback_by_reference(forged, T0) == [], forged
    await store.erase_subject(p)
    assert await store.feedback_by_reference(mine.id[:10], T0) == []


async def test_submit_without_contact_keeps_no_contact(store: Store) -> None:
    p = store.pseudonym("tg-user:1")
    await store.submit_feedback(p, feedback(), [grant()])
    assert await store.contact_of(p) is None
    assert [c.purpose for c in await store.consents(p)] == ["feedback"]


async def test_failed_submit_writes_nothing(store: Store) -> None:
    p = store.pseudonym("tg-user:1")
    await store.save_draft(p, draft())
    bad_grant = grant().model_copy(update={"granted_at": datetime(2025, 3, 1)})  # naive
    with pytest.raises(ValueError):
        await store.submit_feedback(p, feedback(), [grant(), bad_grant], contact_chat_id=5)
    assert await store.load_draft(p, T0) == draft()
    assert await store.feedback_of(p, T0) == []
    assert await store.consents(p) == []
    assert await store.contact_of(p) is None


async def test_feedback_is_oldest_first_and_expired_is_hidden(store: Store) -> None:
    p = store.pseudonym("tg-user:1")
    later = await store.submit_feedback(p, feedback("later", at=T0 + HOUR, ttl=10 * DAY), [grant()])
    early = await store.submit_feedback(p, feedback("early", at=T0, ttl=DAY), [])
    assert [r.id for r in await store.feedback_of(p, T0 + HOUR)] == [early.id, later.id]
    assert [r.id for r in await store.feedback_of(p, T0 + DAY)] == [later.id]
    assert await store.feedback_of(p, T0 + 11 * DAY) == []
    assert await store.feedback_of(store.pseudonym("tg-user:2"), T0) == []


async def set_full(store: Store, full: bool) -> None:
    """Simulate a full disk (and its end) on either backend."""
    if isinstance(store, MemoryStore):
        store.full = full
    else:
        assert isinstance(store, SQLiteStore)
        await store.set_max_page_count(1 if full else None)  # 1: capped at the current size


async def test_full_disk_raises_storage_full_and_writes_nothing(store: Store) -> None:
    p = store.pseudonym("tg-user:1")
    await store.save_draft(p, draft())
    big = feedback("x" * 300_000)
    await set_full(store, True)
    with pytest.raises(StorageFull):
        await store.submit_feedback(p, big, [grant(), grant("contact")], contact_chat_id=9)
    assert await store.load_draft(p, T0) == draft()
    assert await store.feedback_of(p, T0) == []
    assert await store.consents(p) == []
    assert await store.contact_of(p) is None

    await set_full(store, False)
    await store.submit_feedback(p, big, [grant()], contact_chat_id=9)
    assert len(await store.feedback_of(p, T0)) == 1
    assert await store.load_draft(p, T0) is None


# ---- the feedback limit ----------------------------------------------------------------

TWO_A_DAY = FeedbackLimit(most=2)


def given_at(at: datetime, flow_id: str = "standard", ttl: timedelta = 30 * DAY) -> NewFeedback:
    return feedback("noch eins", at=at, ttl=ttl).model_copy(update={"flow_id": flow_id})


async def test_feedback_is_counted_per_person_and_flow_within_the_window(store: Store) -> None:
    p, q = store.pseudonym("tg-user:1"), store.pseudonym("tg-user:2")
    await store.grant_consents(p, [grant()])
    await store.grant_consents(q, [grant()])
    await store.submit_feedback(p, given_at(T0 - DAY), [])  # a day before: out of the window
    await store.submit_feedback(p, given_at(T0 + HOUR), [], limit=TWO_A_DAY)
    await store.submit_feedback(p, given_at(T0 + HOUR, "product"), [])
    await store.submit_feedback(q, given_at(T0 + HOUR), [])
    now = T0 + 2 * HOUR
    assert await store.count_feedback(p, "standard", now - DAY, now) == 1
    assert await store.count_feedback(p, "standard", now - 3 * DAY, now) == 2
    assert await store.count_feedback(p, "product", now - DAY, now) == 1
    assert await store.count_feedback(p, "retired", now - DAY, now) == 0
    await store.check_feedback_limit(p, "standard", TWO_A_DAY, now)  # one of two: passes

    second = await store.submit_feedback(p, given_at(now), [], limit=TWO_A_DAY)
    assert await store.count_feedback(p, "standard", now - DAY, now) == 2
    with pytest.raises(FeedbackLimitReached) as refused:
        await store.check_feedback_limit(p, "standard", TWO_A_DAY, now)
    assert (refused.value.given, refused.value.next_at) == (2, T0 + HOUR + DAY)
    with pytest.raises(FeedbackLimitReached) as refused:
        await store.submit_feedback(p, given_at(now + HOUR), [], limit=TWO_A_DAY)
    assert refused.value.next_at == T0 + HOUR + DAY, "the first in the window leaves it then"
    assert [r.id for r in await store.feedback_of(p, now)][-1] == second.id, "nothing written"
    assert len(await store.feedback_of(p, now)) == 4

    # Another survey, another person: each has a count of its own.
    await store.check_feedback_limit(p, "product", TWO_A_DAY, now)
    await store.check_feedback_limit(q, "standard", TWO_A_DAY, now)
    await store.submit_feedback(q, given_at(now), [], limit=TWO_A_DAY)
    # Without a limit nothing is counted (FEEDBACKBOT_FEEDBACK_LIMIT=off).
    await store.submit_feedback(p, given_at(now + HOUR), [])
    assert await store.count_feedback(p, "standard", now - DAY, now + HOUR) == 3


async def test_the_window_rolls_and_the_next_feedback_is_possible_when_one_leaves_it(
    store: Store,
) -> None:
    p = store.pseudonym("tg-user:1")
    await store.grant_consents(p, [grant()])
    await store.submit_feedback(p, given_at(T0), [], limit=TWO_A_DAY)
    await store.submit_feedback(p, given_at(T0 + 5 * HOUR), [], limit=TWO_A_DAY)
    just_before = T0 + DAY - timedelta(microseconds=1)
    with pytest.raises(FeedbackLimitReached) as refused:
        await store.submit_feedback(p, given_at(just_before), [], limit=TWO_A_DAY)
    assert refused.value.next_at == T0 + DAY
    # Exactly a day after the first, it no longer counts: one of two is left.
    await store.check_feedback_limit(p, "standard", TWO_A_DAY, T0 + DAY)
    await store.submit_feedback(p, given_at(T0 + DAY), [], limit=TWO_A_DAY)
    with pytest.raises(FeedbackLimitReached) as refused:
        await store.check_feedback_limit(p, "standard", TWO_A_DAY, T0 + DAY)
    assert refused.value.next_at == T0 + 5 * HOUR + DAY


async def test_erased_and_expired_feedback_no_longer_counts(store: Store) -> None:
    p = store.pseudonym("tg-user:1")
    await store.grant_consents(p, [grant()])
    await store.submit_feedback(p, given_at(T0, ttl=2 * HOUR), [], limit=TWO_A_DAY)
    await store.submit_feedback(p, given_at(T0 + HOUR), [], limit=TWO_A_DAY)
    with pytest.raises(FeedbackLimitReached) as refused:
        await store.check_feedback_limit(p, "standard", TWO_A_DAY, T0 + HOUR)
    assert refused.value.next_at == T0 + 2 * HOUR, "the first is deleted before a day is over"
    await store.check_feedback_limit(p, "standard", TWO_A_DAY, T0 + 2 * HOUR)

    await store.erase_subject(p)
    assert await store.count_feedback(p, "standard", T0 - DAY, T0 + HOUR) == 0
    await store.grant_consents(p, [grant()])
    await store.submit_feedback(p, given_at(T0 + HOUR), [], limit=TWO_A_DAY)
    await store.submit_feedback(p, given_at(T0 + HOUR), [], limit=TWO_A_DAY)


async def test_consents_that_would_begin_a_survey_past_the_limit_are_not_recorded(
    store: Store,
) -> None:
    p = store.pseudonym("tg-user:1")
    await store.grant_consents(p, [grant()], TWO_A_DAY, "standard")  # none given yet
    await store.submit_feedback(p, given_at(T0), [], limit=TWO_A_DAY)
    await store.submit_feedback(p, given_at(T0 + HOUR), [], limit=TWO_A_DAY)
    with pytest.raises(FeedbackLimitReached) as refused:
        await store.grant_consents(p, [grant(at=T0 + 2 * HOUR)], TWO_A_DAY, "standard")
    assert refused.value.next_at == T0 + DAY
    assert len(await store.consents(p)) == 1, "nothing written"
    await store.grant_consents(p, [grant("product", at=T0 + 2 * HOUR)], TWO_A_DAY, "product")
    await store.grant_consents(p, [grant(at=T0 + DAY)], TWO_A_DAY, "standard")
    assert len(await store.consents(p)) == 3


async def test_two_submissions_at_once_cannot_both_pass_the_limit(store: Store) -> None:
    p = store.pseudonym("tg-user:1")
    await store.grant_consents(p, [grant()])
    await store.submit_feedback(p, given_at(T0), [], limit=TWO_A_DAY)
    results = await asyncio.gather(
        *(store.submit_feedback(p, given_at(T0 + HOUR), [], limit=TWO_A_DAY) for _ in range(5)),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert all(isinstance(r, FeedbackLimitReached) for r in results if isinstance(r, Exception))
    assert await store.count_feedback(p, "standard", T0 - HOUR, T0 + HOUR) == 2


# ---- language choices ------------------------------------------------------------------


def language(locale: str = "en", at: datetime = T0, ttl: timedelta = 30 * DAY) -> LanguageChoice:
    return LanguageChoice(locale=locale, chosen_at=at, expires_at=at + ttl)


async def test_language_save_load_replace_delete(store: Store) -> None:
    p, other = store.pseudonym("tg-user:1"), store.pseudonym("tg-user:2")
    assert await store.language_of(p, T0) is None
    await store.save_language(p, language("en"))
    assert await store.language_of(p, T0) == language("en")
    await store.save_language(p, language("de", at=T0 + HOUR))
    assert await store.language_of(p, T0 + 2 * HOUR) == language("de", at=T0 + HOUR)
    assert await store.language_of(other, T0) is None
    assert await store.delete_language(p) is True
    assert await store.delete_language(p) is False
    assert await store.language_of(p, T0) is None


async def test_an_expired_language_is_not_returned_and_goes_at_the_purge(store: Store) -> None:
    p = store.pseudonym("tg-user:1")
    await store.save_language(p, language(ttl=DAY))
    assert await store.language_of(p, T0 + DAY - timedelta(microseconds=1)) is not None
    assert await store.language_of(p, T0 + DAY) is None
    assert (await store.purge_expired(T0 + HOUR)).languages == 0
    report = await store.purge_expired(T0 + 2 * DAY)
    assert (report.languages, report.keys) == (1, 1), "nothing else kept the key"
    assert await store.language_of(p, T0) is None


async def test_a_language_choice_keeps_the_key_but_not_the_consents(store: Store) -> None:
    """The choice is encrypted under the person's key: the purge must not destroy that
    key while the choice lasts. The consent records are proof for the feedback, not for
    the choice: they go with the last feedback, as they would without a choice."""
    p = store.pseudonym("tg-user:1")
    await store.submit_feedback(p, feedback(ttl=DAY), [grant()])
    await store.save_language(p, language(ttl=10 * DAY))
    report = await store.purge_expired(T0 + 3 * DAY)
    assert (report.feedback, report.keys) == (1, 0)
    assert await store.language_of(p, T0 + 3 * DAY) == language(ttl=10 * DAY)
    assert await store.consents(p) == []
    report = await store.purge_expired(T0 + 11 * DAY)
    assert (report.languages, report.keys) == (1, 1)


async def test_erasure_takes_the_language_choice(store: Store) -> None:
    p, other = store.pseudonym("tg-user:1"), store.pseudonym("tg-user:2")
    await store.save_language(p, language("en"))
    await store.save_language(other, language("de"))
    report = await store.erase_subject(p)
    assert report.languages == 1 and report.anything, "a choice alone is something to erase"
    assert await store.language_of(p, T0) is None
    assert await store.language_of(other, T0) == language("de")
    assert not (await store.erase_subject(p)).anything


async def test_a_full_store_refuses_a_choice_and_keeps_the_earlier_one(store: Store) -> None:
    p = store.pseudonym("tg-user:1")
    await store.save_language(p, language("en"))
    await set_full(store, True)
    with pytest.raises(StorageFull):  # some new person's choice will not fit
        for n in range(2, 500):
            await store.save_language(store.pseudonym(f"tg-user:{n}"), language("de"))
    assert await store.language_of(p, T0) == language("en")
    await set_full(store, False)
    await store.save_language(p, language("de"))
    assert await store.language_of(p, T0) == language("de")


# ---- erasure ---------------------------------------------------------------------------


async def test_erase_subject_removes_everything_of_that_person_only(store: Store) -> None:
    p, other = store.pseudonym("tg-user:1"), store.pseudonym("tg-user:2")
    await store.submit_feedback(p, feedback(), [grant("feedback"), grant("contact")], 42)
    await store.submit_feedback(p, feedback("again"), [])
    await store.save_draft(p, draft())
    await store.submit_feedback(other, feedback("other"), [grant()], 43)

    report = await store.erase_subject(p)
    assert (report.feedback, report.consents, report.drafts, report.contacts) == (2, 2, 1, 1)
    assert report.anything
    assert await store.feedback_of(p, T0) == []
    assert await store.consents(p) == []
    assert await store.load_draft(p, T0) is None
    assert await store.contact_of(p) is None
    assert not (await store.erase_subject(p)).anything

    assert len(await store.feedback_of(other, T0)) == 1
    assert await store.contact_of(other) == 43


async def test_erase_subject_does_not_count_what_had_expired(store: Store) -> None:
    """Between two purges an expired feedback, draft or language is still held, shown
    nowhere: the erasure takes it and counts only what the person was shown."""
    p = store.pseudonym("tg-user:1")
    await store.submit_feedback(p, feedback("old", ttl=DAY), [grant("feedback")])
    await store.submit_feedback(p, feedback("new", at=T0 + HOUR), [])
    await store.save_draft(p, draft(ttl=HOUR))
    await store.save_language(p, language("en"))  # chosen at T0, kept for 30 days
    report = await store.erase_subject(p, T0 + 2 * DAY)
    assert (report.feedback, report.drafts, report.languages) == (1, 0, 1)
    assert await store.feedback_of(p, T0) == []


# ---- posts in the staff chat --------------------------------------------------------

STAFF_CHAT = -1001


def post(message_id: int, feedback_id: str, purpose: str = "feedback") -> StaffPost:
    return StaffPost(
        chat_id=STAFF_CHAT,
        message_id=message_id,
        feedback_id=feedback_id,
        posted_at=T0 + message_id * timedelta(seconds=1),
        purpose=purpose,
    )


async def test_an_erasure_leaves_the_persons_staff_posts_to_retract(store: Store) -> None:
    p, q = store.pseudonym("tg-user:1"), store.pseudonym("tg-user:2")
    mine = await store.submit_feedback(p, feedback(), [grant(), grant("contact")])
    theirs = await store.submit_feedback(q, feedback("anders"), [grant()])
    assert await store.record_staff_post(p, post(10, mine.id))
    assert await store.record_staff_post(q, post(11, theirs.id))
    assert await store.record_staff_post(p, post(12, mine.id, "contact"))
    assert await store.staff_posts_of(p) == [post(10, mine.id), post(12, mine.id, "contact")]
    assert await store.staff_posts_of(q) == [post(11, theirs.id)]
    assert await store.posts_to_retract() == []
    report = await store.erase_subject(p)
    assert report.staff_posts == 1, "one feedback, however many messages"
    assert await store.staff_posts_of(p) == []
    assert await store.posts_to_retract() == [(STAFF_CHAT, 10), (STAFF_CHAT, 12)]
    assert await store.posts_to_retract(limit=1) == [(STAFF_CHAT, 10)]
    await store.post_retracted(STAFF_CHAT, 10)
    await store.post_retracted(STAFF_CHAT, 10)  # twice: nothing happens
    assert await store.posts_to_retract() == [(STAFF_CHAT, 12)]
    await store.post_retracted(STAFF_CHAT, 12)
    assert (await store.erase_subject(p)).staff_posts == 0
    assert await store.posts_to_retract() == [], "another person's post stays"
    assert (await store.erase_subject(q)).staff_posts == 1


async def test_an_alert_telegram_did_not_confirm_is_noted_and_keeps_its_time(
    store: Store,
) -> None:
    """No message id: noted by a negative one, shown to the person as an alert like any
    other, and its time kept once it is to be retracted, to tell staff which to delete."""
    p = store.pseudonym("tg-user:1")
    record = await store.submit_feedback(p, feedback(), [grant()])
    first, second = unconfirmed_message_id(), unconfirmed_message_id()
    assert first < 0 and second < 0 and first != second
    maybe = post(40, record.id).model_copy(update={"message_id": first})
    assert await store.record_staff_post(p, maybe)
    assert await store.staff_posts_of(p) == [maybe]
    assert not maybe.confirmed and post(40, record.id).confirmed
    assert await store.posted_at(STAFF_CHAT, first) == maybe.posted_at
    await store.erase_subject(p)
    assert await store.posts_to_retract() == [(STAFF_CHAT, first)]
    assert await store.posted_at(STAFF_CHAT, first) == maybe.posted_at, "kept until done"
    await store.post_retracted(STAFF_CHAT, first)
    assert await store.posted_at(STAFF_CHAT, first) is None
    assert await store.posted_at(STAFF_CHAT, second) is None, "never noted"


async def test_a_withdrawal_retracts_the_posts_resting_on_that_consent(store: Store) -> None:
    p = store.pseudonym("tg-user:1")
    first = await store.submit_feedback(p, feedback(), [grant(), grant("contact")])
    second = await store.submit_feedback(p, feedback("zwei"), [])
    assert await store.record_staff_post(p, post(20, first.id, "contact"))
    assert await store.record_staff_post(p, post(21, first.id))  # a low rating's
    assert await store.record_staff_post(p, post(22, second.id))
    await store.withdraw_consent(p, "contact", T0 + HOUR)
    assert await store.posts_to_retract() == [(STAFF_CHAT, 20)]
    assert [post.message_id for post in await store.staff_posts_of(p)] == [21, 22]
    assert await store.withdraw_consent(p, "contact", T0 + HOUR) == 0
    assert await store.posts_to_retract() == [(STAFF_CHAT, 20)], "nothing more"
    # The survey's consent, its feedback erased with it: the posts about it go.
    await store.withdraw_consent(p, "feedback", T0 + HOUR, erased=[first.id, second.id])
    assert await store.posts_to_retract() == [(STAFF_CHAT, n) for n in (20, 21, 22)]


async def test_a_post_about_feedback_gone_meanwhile_is_to_be_retracted_at_once(
    store: Store,
) -> None:
    """The alert is posted in the background: the person may erase their data, or take
    back the consent it rests on, before it is noted."""
    p = store.pseudonym("tg-user:1")
    record = await store.submit_feedback(p, feedback(), [grant(), grant("contact")])
    await store.withdraw_consent(p, "contact", T0 + HOUR)
    assert not await store.record_staff_post(p, post(30, record.id, "contact"))
    assert await store.record_staff_post(p, post(31, record.id))
    await store.erase_subject(p)
    assert not await store.record_staff_post(p, post(32, record.id))
    assert await store.posts_to_retract() == [(STAFF_CHAT, n) for n in (30, 31, 32)]


async def test_an_alert_due_is_kept_with_its_feedback_until_posted(store: Store) -> None:
    """Written with the feedback, so that a stop or crash before it is posted loses
    nothing; gone once posted, with an erasure, and with its feedback's expiry."""
    p, q = store.pseudonym("tg-user:1"), store.pseudonym("tg-user:2")
    first = await store.submit_feedback(p, feedback("eins", ttl=DAY), [grant()], alert=True)
    quiet = await store.submit_feedback(p, feedback("zwei"), [])
    theirs = await store.submit_feedback(q, feedback("drei"), [grant()], alert=True)
    last = await store.submit_feedback(p, feedback("vier"), [], alert=True)
    assert await store.alerts_due() == [(p, first.id), (q, theirs.id), (p, last.id)]
    assert await store.alerts_due(limit=1) == [(p, first.id)]
    assert quiet.id not in {f for _, f in await store.alerts_due()}
    await store.alert_done(theirs.id)
    await store.alert_done(theirs.id)  # twice: nothing happens
    assert await store.alerts_due() == [(p, first.id), (p, last.id)]
    await store.purge_expired(T0 + 2 * DAY)
    assert await store.alerts_due() == [(p, last.id)], "its feedback expired"
    assert (await store.erase_subject(p)).alerts_due == 1
    assert await store.alerts_due() == []


async def test_the_purge_retracts_the_posts_of_expired_feedback(store: Store) -> None:
    p = store.pseudonym("tg-user:1")
    short = await store.submit_feedback(p, feedback("kurz", ttl=DAY), [grant()])
    long = await store.submit_feedback(p, feedback("lang", ttl=9 * DAY), [])
    assert await store.record_staff_post(p, post(40, short.id))
    assert await store.record_staff_post(p, post(41, long.id))
    await store.purge_expired(T0 + HOUR)
    assert await store.posts_to_retract() == []
    await store.purge_expired(T0 + 2 * DAY)
    assert await store.posts_to_retract() == [(STAFF_CHAT, 40)]
    await store.purge_expired(T0 + 10 * DAY)
    assert await store.posts_to_retract() == [(STAFF_CHAT, 40), (STAFF_CHAT, 41)]


async def test_person_can_start_again_after_erasure(store: Store) -> None:
    p = store.pseudonym("tg-user:1")
    await store.submit_feedback(p, feedback(), [grant()])
    await store.erase_subject(p)
    await store.submit_feedback(p, feedback("new start"), [grant()])
    [record] = await store.feedback_of(p, T0)
    assert record.answers["comment"] == "new start"


# ---- purge -----------------------------------------------------------------------------


async def test_purge_deletes_expired_and_keeps_the_rest(store: Store) -> None:
    p = store.pseudonym("tg-user:1")
    await store.submit_feedback(p, feedback("short", ttl=DAY), [grant()])
    await store.submit_feedback(p, feedback("long", ttl=10 * DAY), [])
    await store.save_draft(p, draft(ttl=HOUR))

    report = await store.purge_expired(T0 + 2 * DAY)
    assert (report.feedback, report.drafts, report.keys, report.orphans) == (1, 1, 0, 0)
    [left] = await store.feedback_of(p, T0 + 2 * DAY)
    assert left.answers["comment"] == "long"
    assert len(await store.consents(p)) == 1  # still needed: feedback is left


async def test_purge_deletes_the_counts_of_days_before_the_one_given(store: Store) -> None:
    """FEEDBACKBOT_STATISTICS_RETENTION (found by a DPO's review: the counts of a day on
    which one person gave feedback were kept without a time limit): each survey's counts of
    the days before its day in `statistics_before` go, those of that day and later stay, a
    survey not named by the day for others; none without it."""
    p = store.pseudonym("tg-user:1")
    for days in (0, 1, 2):
        at = T0 + days * DAY
        for flow in ("standard", "product", "retired"):
            record = feedback(at=at, ttl=HOUR).model_copy(update={"flow_id": flow})
            await store.submit_feedback(p, record, [grant(at=at)], tallies={})
    later = T0 + 10 * DAY
    assert (await store.purge_expired(later)).statistics == 0
    assert len(await store.statistics(T0.date(), later.date())) == 9
    cutoff = StatisticsCutoff(
        flows={"standard": (T0 + 2 * DAY).date(), "product": (T0 + DAY).date()},
        other=(T0 + 3 * DAY).date(),
    )
    report = await store.purge_expired(later, statistics_before=cutoff)
    assert report.statistics == 2 + 1 + 3
    kept = await store.statistics(T0.date(), later.date())
    assert [(row.flow_id, row.day) for row in kept] == [
        ("product", (T0 + DAY).date()),
        ("product", (T0 + 2 * DAY).date()),
        ("standard", (T0 + 2 * DAY).date()),
    ]


async def test_purge_removes_key_and_consents_when_nothing_is_left(store: Store) -> None:
    p, other = store.pseudonym("tg-user:1"), store.pseudonym("tg-user:2")
    await store.submit_feedback(p, feedback(ttl=DAY), [grant()])
    await store.submit_feedback(other, feedback(ttl=10 * DAY), [grant()])

    report = await store.purge_expired(T0 + 3 * DAY)
    assert (report.feedback, report.keys) == (1, 1)
    assert await store.consents(p) == []
    assert len(await store.consents(other)) == 1
    # said, as the operator's purge reports them (found by an operator walk-through)
    assert report.consents == 1
    again = await store.purge_expired(T0 + 3 * DAY)
    assert (again.keys, again.consents) == (0, 0)


async def test_purge_counts_every_consent_record_it_removes(store: Store) -> None:
    p = store.pseudonym("tg-user:1")
    await store.submit_feedback(p, feedback(ttl=DAY), [grant(), grant("contact")], 77)
    chooser = store.pseudonym("tg-user:2")  # a language choice alone keeps no consents
    await store.grant_consents(chooser, [grant(at=T0)])
    await store.save_language(chooser, language(ttl=30 * DAY))
    report = await store.purge_expired(T0 + 3 * DAY)
    assert report.consents == 3, report
    assert await store.consents(p) == [] and await store.consents(chooser) == []


async def test_purge_forgets_the_contact_once_its_feedback_expired(store: Store) -> None:
    p = store.pseudonym("tg-user:1")
    await store.submit_feedback(p, feedback(ttl=DAY), [grant(), grant("contact")], 77)
    assert (await store.purge_expired(T0 + HOUR)).keys == 0
    assert await store.contact_of(p) == 77, "kept while its feedback is"
    report = await store.purge_expired(T0 + 3 * DAY)
    assert (report.feedback, report.keys) == (1, 1)
    assert await store.contact_of(p) is None
    assert await store.consents(p) == []


async def test_a_record_of_passing_on_goes_with_its_feedback(store: Store) -> None:
    """It named a feedback no longer there ("Feedback ?") and kept the person's key (and
    pseudonym) alive for as long as anything else of theirs was stored."""
    p = store.pseudonym("tg-user:1")
    short = await store.submit_feedback(
        p, feedback(ttl=DAY), [grant()], recipients=[("crm", "crm")]
    )
    long = await store.submit_feedback(p, feedback(ttl=10 * DAY), [], recipients=[("crm", "crm")])
    for record in (short, long):
        assert await store.settle_delivery(p, "crm", record.id, T0 + HOUR)
    await store.purge_expired(T0 + 2 * DAY)
    assert [d.feedback_id for d in await store.deliveries_of(p)] == [long.id]
    report = await store.purge_expired(T0 + 11 * DAY)
    assert await store.deliveries_of(p) == []
    assert report.keys == 1, "nothing left of the person in the first purge after expiry"


async def test_delete_contact(store: Store) -> None:
    p = store.pseudonym("tg-user:1")
    await store.submit_feedback(p, feedback(), [grant(), grant("contact")], 77)
    assert await store.delete_contact(p)
    assert await store.contact_of(p) is None
    assert not await store.delete_contact(p)
    assert len(await store.feedback_of(p, T0)) == 1


async def test_purge_spares_a_fresh_consent_before_its_first_draft(store: Store) -> None:
    # The service grants consent, then saves the first draft: a purge in between
    # must not take the consent away.
    p = store.pseudonym("tg-user:1")
    await store.grant_consents(p, [grant(at=T0)])
    assert (await store.purge_expired(T0 + HOUR)).keys == 0
    assert len(await store.consents(p)) == 1
    assert (await store.purge_expired(T0 + 2 * DAY)).keys == 1
    assert await store.consents(p) == []


async def test_purge_of_empty_store_reports_nothing(store: Store) -> None:
    report = await store.purge_expired(T0)
    assert (report.feedback, report.drafts, report.keys, report.orphans) == (0, 0, 0, 0)
    assert report.consents == 0


# ---- update deduplication -----------------------------------------------------------------


async def test_claim_update_deduplicates(store: Store) -> None:
    assert await store.claim_update(1001, T0) is True
    assert await store.claim_update(1001, T0 + timedelta(seconds=5)) is False
    assert await store.claim_update(1002, T0) is True


async def test_claimed_updates_are_forgotten_after_a_day(store: Store) -> None:
    assert await store.claim_update(1001, T0)
    await store.purge_expired(T0 + HOUR)
    assert await store.claim_update(1001, T0 + HOUR) is False
    await store.purge_expired(T0 + 2 * DAY)
    assert await store.claim_update(1001, T0 + 2 * DAY) is True


# ---- staff views and audit ---------------------------------------------------------------


async def test_feedback_in_period_spans_people_with_their_consents_in_force(store: Store) -> None:
    a, b, c = (store.pseudonym(f"tg-user:{n}") for n in (1, 2, 3))
    await store.submit_feedback(a, feedback("a1", at=T0), [grant(), grant("contact")], 5)
    await store.submit_feedback(b, feedback("b1", at=T0 + HOUR), [grant()])
    await store.submit_feedback(c, feedback("old", at=T0 - 10 * DAY), [grant()])
    await store.submit_feedback(c, feedback("short", at=T0, ttl=HOUR), [])
    await store.withdraw_consent(b, "feedback", T0 + 2 * HOUR)

    found = await store.feedback_in_period(T0 - DAY, T0 + DAY, T0 + 2 * HOUR)
    assert [r.answers["comment"] for r in found] == ["a1", "b1"], "expired and older excluded"
    assert found[0].consents_in_force == {"feedback", "contact"}
    assert found[1].consents_in_force == frozenset()
    assert found[0].pseudonym == a


async def test_erasure_and_withdrawal_take_the_feedback_out_of_the_statistics(
    store: Store,
) -> None:
    """The statistics outlive expiry, but not the person's wish: E1 ("nothing of the
    person remains") held for every table but the day's counts, which kept an erased
    person's rating (on a quiet day, that rating alone)."""
    ana, ben, cem = (store.pseudonym(f"tg-user:{n}") for n in (1, 2, 3))
    day = T0.date()

    async def counts() -> tuple[int, dict[str, dict[str, int]]] | None:
        rows = await store.statistics(day, day)
        return (rows[0].feedbacks, rows[0].counts) if rows else None

    await store.submit_feedback(ana, feedback(), [grant()], tallies={"rating": ["5"]})
    await store.submit_feedback(ana, feedback(at=T0 + HOUR), [], tallies={"rating": ["1"]})
    await store.submit_feedback(ben, feedback(), [grant()], tallies={"rating": ["5"]})
    with_contact = feedback().model_copy(update={"purposes": ["feedback", "contact"]})
    await store.submit_feedback(
        cem,
        with_contact,
        [grant(), grant("contact")],
        tallies={"rating": ["3"], "tags": ["a"]},
        counted_under=["feedback"],
    )
    assert await counts() == (4, {"rating": {"5": 2, "1": 1, "3": 1}, "tags": {"a": 1}})

    await store.erase_subject(ana)
    assert await counts() == (2, {"rating": {"5": 1, "3": 1}, "tags": {"a": 1}})
    assert await store.withdraw_consent(cem, "contact", T0 + DAY) == 1
    assert await counts() == (2, {"rating": {"5": 1, "3": 1}, "tags": {"a": 1}}), (
        "the feedback was not given under the contact consent"
    )
    await store.withdraw_consent(cem, "feedback", T0 + DAY)
    assert await counts() == (1, {"rating": {"5": 1}})
    await store.erase_subject(cem)  # taken out once, not twice
    assert await counts() == (1, {"rating": {"5": 1}})
    await store.purge_expired(T0 + 60 * DAY)
    await store.erase_subject(ben)  # expired feedback stays counted: it is nobody's now
    assert await counts() == (1, {"rating": {"5": 1}})


async def test_feedback_is_counted_under_its_first_purpose_unless_told_otherwise(
    store: Store,
) -> None:
    """Without `counted_under`, the statistics rest on the first of the feedback's
    purposes: an optional one after it (being contacted) does not carry the answers, so
    withdrawing it must leave the counts as they are; withdrawing the first takes them out."""
    p = store.pseudonym("tg-user:1")
    day = T0.date()
    with_contact = feedback().model_copy(update={"purposes": ["feedback", "contact"]})
    await store.submit_feedback(
        p, with_contact, [grant(), grant("contact")], tallies={"rating": ["4"]}
    )
    [row] = await store.statistics(day, day)
    assert (row.feedbacks, row.counts) == (1, {"rating": {"4": 1}})
    assert await store.withdraw_consent(p, "contact", T0 + HOUR) == 1
    [row] = await store.statistics(day, day)
    assert (row.feedbacks, row.counts) == (1, {"rating": {"4": 1}}), (
        "the feedback was not given under the contact consent"
    )
    assert await store.withdraw_consent(p, "feedback", T0 + HOUR) == 1
    assert await store.statistics(day, day) == []


async def test_agreeing_again_after_a_withdrawal_covers_only_new_feedback(store: Store) -> None:
    p = store.pseudonym("tg-user:1")
    await store.submit_feedback(p, feedback("before", at=T0), [grant(), grant("contact")])
    await store.withdraw_consent(p, "feedback", T0 + HOUR)
    await store.submit_feedback(p, feedback("after", at=T0 + 2 * HOUR), [grant(at=T0 + 2 * HOUR)])

    found = await store.feedback_in_period(T0 - DAY, T0 + DAY, T0 + 3 * HOUR)
    in_force = {r.answers["comment"]: r.consents_in_force for r in found}
    assert in_force == {"before": {"contact"}, "after": {"feedback", "contact"}}


async def test_newest_feedback_in_period_are_the_latest_ones(store: Store) -> None:
    person = store.pseudonym("tg-user:1")
    for n in range(5):
        await store.submit_feedback(person, feedback(f"c{n}", at=T0 + n * HOUR), [grant()])
    found = await store.feedback_in_period(T0, T0 + DAY, T0 + DAY, newest=2)
    assert [r.answers["comment"] for r in found] == ["c3", "c4"]


# ---- release points of summaries --------------------------------------------------------


async def test_release_points_are_added_only_after_the_newest(store: Store) -> None:
    F = "feedback"
    opening = Release(flow=F, at=T0)
    closing = Release(flow=F, at=T0 + DAY, feedbacks=7, people=5)
    assert await store.last_release(F) is None and await store.first_release(F) is None
    assert await store.add_releases(F, [closing, opening], after=None)
    assert await store.first_release(F) == T0 and await store.last_release(F) == T0 + DAY
    assert await store.last_release(F, T0 + DAY - timedelta(microseconds=1)) == T0
    assert await store.last_release(F, T0 - HOUR) is None
    assert await store.first_release(F, T0 + timedelta(microseconds=1)) == T0 + DAY
    assert await store.first_release(F, T0 + 2 * DAY) is None
    assert await store.releases(F, T0, T0 + DAY) == [opening, closing]
    assert await store.releases(F, T0 + HOUR, T0 + 2 * DAY) == [closing]
    # Another writer got there first: nothing is added, the caller reads again.
    assert not await store.add_releases(F, [Release(flow=F, at=T0 + 3 * DAY)], after=T0)
    with pytest.raises(ValueError):
        await store.add_releases(F, [Release(flow=F, at=T0 + DAY)], after=T0 + DAY)
    later = Release(flow=F, at=T0 + 2 * DAY, people=3)
    assert await store.add_releases(F, [later], after=T0 + DAY)
    assert await store.last_release(F) == T0 + 2 * DAY


async def test_each_survey_has_release_points_of_its_own(store: Store) -> None:
    """A survey's groups of days close when k people gave feedback to it; the points of
    all surveys together (from before schema 14) start every survey's."""
    together = Release(flow=ALL_FLOWS, at=T0, feedbacks=9, people=6)
    assert await store.add_releases(ALL_FLOWS, [together], after=None)
    service = Release(flow="feedback", at=T0 + DAY, feedbacks=5, people=5)
    again = Release(flow="feedback", at=T0 + 2 * DAY, feedbacks=8, people=7)
    product = Release(flow="product", at=T0 + 3 * DAY, feedbacks=6, people=5)
    assert await store.add_releases("feedback", [service, again], after=T0)
    assert not await store.add_releases("product", [product], after=T0 + DAY), "not its own"
    assert await store.add_releases("product", [product], after=T0)
    assert await store.releases("feedback", T0, T0 + 9 * DAY) == [together, service, again]
    assert await store.releases("product", T0, T0 + 9 * DAY) == [together, product]
    assert await store.last_release("feedback") == T0 + 2 * DAY
    assert await store.first_release("product", T0 + HOUR) == T0 + 3 * DAY
    assert await store.last_release("desk", T0 + 9 * DAY) == T0, "a new survey starts there"
    # The purge keeps each survey's newest point a summary could start at.
    await store.purge_expired(T0 + 2 * DAY + RELEASE_MEMORY)
    assert await store.releases("feedback", T0, T0 + 9 * DAY) == [together, service, again]
    await store.purge_expired(T0 + 4 * DAY + RELEASE_MEMORY)
    assert await store.releases("feedback", T0, T0 + 9 * DAY) == [together, again]
    assert await store.releases("product", T0, T0 + 9 * DAY) == [together, product]


async def test_release_points_on_a_full_disk_are_not_added(store: Store) -> None:
    await set_full(store, True)
    many = [Release(flow="feedback", at=T0 + n * DAY, feedbacks=n, people=n) for n in range(3000)]
    with pytest.raises(StorageFull):
        await store.add_releases("feedback", many, after=None)
    await set_full(store, False)
    assert await store.last_release("feedback") is None
    assert await store.add_releases("feedback", many, after=None)
    assert await store.last_release("feedback") == many[-1].at


# ---- summary cache ---------------------------------------------------------------------

DAY_BUCKET = SummarySegment(start=T0 - 12 * HOUR, end=T0 + 12 * HOUR, bucket="2025-03-01")
HOUR_BUCKET = SummarySegment(start=T0, end=T0 + HOUR, bucket="2025-03-01T12")
SEGMENTS = [DAY_BUCKET, SummarySegment(start=T0 + 12 * HOUR, end=T0 + 13 * HOUR)]
LATER = T0 + 2 * DAY


async def _cache(store: Store, read: SegmentRead, payload: bytes, version: str = "v1") -> int:
    entry = CacheEntry(
        bucket=read.segment.bucket or "",
        epoch=read.epoch,
        expires_at=min(r.expires_at for r in read.records),
        payload=payload,
    )
    return await store.save_summary_cache([entry], version)


async def test_segments_read_feedback_until_their_figures_are_cached(store: Store) -> None:
    a = store.pseudonym("tg-user:1")
    await store.submit_feedback(a, feedback("noon", at=T0), [grant()])
    await store.submit_feedback(a, feedback("late", at=T0 + 12 * HOUR + timedelta(minutes=5)), [])
    day, edge = await store.summary_segments(SEGMENTS, "v1", LATER)
    assert [r.answers["comment"] for r in day.records] == ["noon"] and day.cached is None
    assert [r.answers["comment"] for r in edge.records] == ["late"]

    assert await _cache(store, day, b"figures of the day") == 1
    day, edge = await store.summary_segments(SEGMENTS, "v1", LATER)
    assert day.cached == b"figures of the day" and day.records == []
    assert edge.cached is None and len(edge.records) == 1, "a segment without bucket is live"
    (other_version,) = await store.summary_segments([DAY_BUCKET], "v2", LATER)
    assert other_version.cached is None and len(other_version.records) == 1


async def test_any_change_to_what_a_bucket_counts_drops_its_figures(store: Store) -> None:
    a, b = store.pseudonym("tg-user:1"), store.pseudonym("tg-user:2")
    await store.submit_feedback(a, feedback("a", at=T0), [grant()])
    await store.submit_feedback(b, feedback("b", at=T0 + HOUR), [grant()])

    async def cached_then(change: object) -> tuple[SegmentRead, SegmentRead]:
        (read,) = await store.summary_segments([DAY_BUCKET], "v1", LATER)
        assert await _cache(store, read, b"old") == 1
        await change  # type: ignore[misc]
        (after,) = await store.summary_segments([DAY_BUCKET], "v1", LATER)
        return read, after

    # new feedback in the day (even one written with a past time)
    read, after = await cached_then(store.submit_feedback(b, feedback("c", at=T0 + 2 * HOUR), []))
    assert after.cached is None and len(after.records) == 3 and after.epoch > read.epoch
    assert await _cache(store, read, b"stale") == 0, "figures read before the change are refused"
    # withdrawing and granting consent again
    read, after = await cached_then(store.withdraw_consent(a, "feedback", LATER))
    assert after.cached is None
    assert [r.consents_in_force for r in after.records if r.pseudonym == a] == [frozenset()]
    read, after = await cached_then(store.grant_consents(a, [grant(at=LATER)]))
    assert after.cached is None
    # erasure
    read, after = await cached_then(store.erase_subject(b))
    assert after.cached is None and [r.pseudonym for r in after.records] == [a]
    # the hour bucket of the first feedback was dropped with the day
    (hour,) = await store.summary_segments([HOUR_BUCKET], "v1", LATER)
    assert [r.answers["comment"] for r in hour.records] == ["a"]


async def test_cached_figures_expire_with_the_first_feedback_they_count(store: Store) -> None:
    a = store.pseudonym("tg-user:1")
    await store.submit_feedback(a, feedback("short", at=T0, ttl=3 * DAY), [grant()])
    await store.submit_feedback(a, feedback("long", at=T0 + HOUR, ttl=90 * DAY), [])
    (read,) = await store.summary_segments([DAY_BUCKET], "v1", LATER)
    assert await _cache(store, read, b"both") == 1
    (expired,) = await store.summary_segments([DAY_BUCKET], "v1", T0 + 4 * DAY)
    assert expired.cached is None and [r.answers["comment"] for r in expired.records] == ["long"]
    await store.purge_expired(T0 + 4 * DAY)
    (after_purge,) = await store.summary_segments([DAY_BUCKET], "v1", LATER)
    assert after_purge.cached is None, "the purge dropped the expired figures"
    assert await _cache(store, after_purge, b"only long") == 1


async def test_audit_entries_are_kept_to_the_minute_the_last_of_one_minute_last(
    store: Store,
) -> None:
    """Found by a DPO check: an alert noted to the microsecond beside its feedback's time
    told of a pseudonym "rated low". Every entry is noted to the minute, as each time in
    clear; of two in one minute, the one noted last is the last (the staff rules' version
    confirmed is read so)."""
    exact = T0 + timedelta(minutes=5, seconds=27, microseconds=123456)
    await store.record_audit(AuditEntry(event="alert", at=exact, actor="alert", records=1))
    rules = "staff-rules-confirmed"
    await store.record_audit(AuditEntry(event=rules, at=exact, actor="staff:7", detail="v1"))
    later = exact + timedelta(seconds=20)
    await store.record_audit(AuditEntry(event=rules, at=later, actor="staff:7", detail="v2"))
    someone = store.pseudonym("tg-user:1")
    await store.submit_feedback(someone, feedback("weg damit"), [grant()])
    await store.erase_subject(someone, exact)
    entries = await store.audit_entries(T0)
    assert {e.at for e in entries} == {T0 + timedelta(minutes=5)}, entries
    assert [e.actor for e in entries if e.event == "alert"] == ["alert"]
    last = await store.last_audit(rules, "staff:7")
    assert last is not None and last.detail == "v2"


async def test_audit_entries_are_kept_in_order(store: Store) -> None:
    await store.record_audit(
        AuditEntry(event="summary", at=T0, actor="staff:7", detail="7d", records=3)
    )
    await store.record_audit(AuditEntry(event="export", at=T0 + HOUR, actor="cli", records=9))
    someone = store.pseudonym("tg-user:1")
    await store.submit_feedback(someone, feedback("weg damit"), [grant()])
    await store.erase_subject(someone)
    await store.erase_subject(someone)  # pressed twice: nothing left, no second erasure
    await store.erase_subject(store.pseudonym("tg-user:2"))  # never here at all
    entries = await store.audit_entries(T0 - DAY)
    assert [e.event for e in entries].count("erasure") == 1
    assert [(e.event, e.actor, e.records) for e in entries[:2]] == [
        ("summary", "staff:7", 3),
        ("export", "cli", 9),
    ]
    assert any(e.event == "erasure" and e.actor is None for e in entries)
    assert await store.audit_entries(T0 + 30 * DAY) == [] or all(
        e.event == "erasure" for e in await store.audit_entries(T0 + 30 * DAY)
    )


async def test_the_purge_deletes_audit_entries_older_than_asked_only(store: Store) -> None:
    for day in range(4):
        await store.record_audit(
            AuditEntry(event="summary", at=T0 + day * DAY, actor=f"staff:{day}", records=1)
        )
    kept_all = await store.purge_expired(T0 + 9 * DAY)
    assert kept_all.audit == 0 and len(await store.audit_entries(T0 - DAY)) == 4
    report = await store.purge_expired(T0 + 9 * DAY, audit_before=T0 + 2 * DAY)
    assert report.audit == 2
    assert [e.actor for e in await store.audit_entries(T0 - DAY)] == ["staff:2", "staff:3"]
    assert await store.last_audit("summary", "staff:0") is None


async def test_the_entries_of_one_actor_are_found_and_no_one_elses(store: Store) -> None:
    """What /mydata gives a member of staff: their own entries, oldest first, to the
    minute; nobody else's, no erasure (which names nobody)."""
    for n, (actor, event) in enumerate(
        [("staff:7", "summary"), ("staff:8", "summary"), ("staff:7", "export"), (None, "erasure")]
    ):
        at = T0 + n * HOUR + timedelta(seconds=17)
        await store.record_audit(
            AuditEntry(event=event, at=at, actor=actor, detail="7d", records=n + 1)
        )
    mine = await store.audit_entries_of("staff:7")
    assert [(e.event, e.at, e.records) for e in mine] == [
        ("summary", T0, 1),
        ("export", T0 + 2 * HOUR, 3),
    ]
    assert all(e.actor == "staff:7" and e.detail == "7d" for e in mine)
    assert await store.audit_entries_of("staff:9") == []
    assert [e.event for e in await store.audit_entries_of("staff:8")] == ["summary"]


async def test_last_audit_finds_the_newest_entry_of_an_actor(store: Store) -> None:
    for hour, version in enumerate(["v1", "v2"]):
        await store.record_audit(
            AuditEntry(event="staff-rules", at=T0 + hour * HOUR, actor="staff:1", detail=version)
        )
    await store.record_audit(AuditEntry(event="staff-rules", at=T0, actor="staff:2", detail="v1"))
    latest = await store.last_audit("staff-rules", "staff:1")
    assert latest is not None and latest.detail == "v2"
    assert await store.last_audit("staff-rules", "staff:3") is None


async def test_a_pending_delivery_is_settled_once_or_gone_with_an_erasure(store: Store) -> None:
    alice, bob = store.pseudonym("tg-user:1"), store.pseudonym("tg-user:2")
    for person in (alice, bob):
        pending = Delivery(recipient="crm", feedback_id=f"fb-{person[:4]}", delivered_at=T0)
        await store.record_delivery(person, pending.model_copy(update={"pending": True}))
    assert [p for p, _ in await store.pending_deliveries()] == [alice, bob]

    assert await store.settle_delivery(alice, "crm", f"fb-{alice[:4]}", T0 + HOUR)
    assert not await store.settle_delivery(alice, "crm", f"fb-{alice[:4]}", T0 + DAY)
    assert await store.deliveries_of(alice) == [
        Delivery(recipient="crm", feedback_id=f"fb-{alice[:4]}", delivered_at=T0 + HOUR)
    ]
    await store.erase_subject(bob)
    assert not await store.settle_delivery(bob, "crm", f"fb-{bob[:4]}", T0 + HOUR)
    assert await store.pending_deliveries() == []


async def test_a_delivery_that_may_have_arrived_is_kept_as_unconfirmed(store: Store) -> None:
    p = store.pseudonym("tg-user:1")
    for recipient in ("crm", "acme", "erp"):
        pending = Delivery(recipient=recipient, feedback_id="fb-1", delivered_at=T0, pending=True)
        await store.record_delivery(p, pending)
    # An attempt at T0 + 1h may have arrived (the first such time is kept), later ones not.
    assert await store.delivery_may_have_arrived(p, "crm", "fb-1", T0 + HOUR)
    assert await store.delivery_may_have_arrived(p, "crm", "fb-1", T0 + 2 * HOUR)
    [(_, still)] = [(q, d) for q, d in await store.pending_deliveries() if d.recipient == "crm"]
    assert still.unconfirmed and still.pending, "kept across a restart while it is retried"
    assert await store.settle_delivery(p, "crm", "fb-1", None)  # given up on
    assert await store.settle_delivery(p, "acme", "fb-1", None)  # never got there
    assert await store.delivery_may_have_arrived(p, "erp", "fb-1", T0 + HOUR)
    assert await store.settle_delivery(p, "erp", "fb-1", T0 + DAY)  # a later attempt got through
    assert await store.deliveries_of(p) == [
        Delivery(recipient="crm", feedback_id="fb-1", delivered_at=T0 + HOUR, unconfirmed=True),
        Delivery(recipient="erp", feedback_id="fb-1", delivered_at=T0 + DAY),
    ]
    assert await store.pending_deliveries() == [], "not sent again after a restart"
    assert not await store.delivery_may_have_arrived(p, "crm", "fb-1", T0 + DAY)


async def test_a_delivery_recorded_as_unconfirmed_stays_so(store: Store) -> None:
    p = store.pseudonym("tg-user:1")
    kept = Delivery(recipient="crm", feedback_id="fb-1", delivered_at=T0, unconfirmed=True)
    await store.record_delivery(p, kept)
    assert await store.deliveries_of(p) == [kept]


async def test_deletion_notices_are_kept_until_done(make_store: StoreFactory) -> None:
    store = make_store()
    await store.open()
    notice = DeletionNotice(
        recipient="crm", reason="erasure", feedback_ids=["a", "b"], queued_at=T0
    )
    first = await store.queue_notice(notice)
    second = await store.queue_notice(notice.model_copy(update={"recipient": "acme"}))
    await store.notice_done(first)
    if isinstance(store, SQLiteStore):  # the kept ones outlive the process
        await store.close()
        store = make_store()
        await store.open()
    assert [(n, x.recipient, x.feedback_ids) for n, x in await store.pending_notices()] == [
        (second, "acme", ["a", "b"])
    ]
    await store.close()


async def test_feedback_needs_its_consents_in_force(store: Store) -> None:
    person = store.pseudonym("tg-user:3")
    with pytest.raises(ConsentMissing):
        await store.submit_feedback(person, feedback(), [])
    assert await store.feedback_of(person, T0) == []
    await store.submit_feedback(person, feedback(), [grant()])  # given with it
    await store.withdraw_consent(person, "feedback", T0 + HOUR)
    with pytest.raises(ConsentMissing):
        await store.submit_feedback(person, feedback("noch eins"), [])
    assert len(await store.feedback_of(person, T0)) == 1


async def test_deliveries_are_pending_with_the_feedback_or_not_at_all(store: Store) -> None:
    person = store.pseudonym("tg-user:4")
    with pytest.raises(ConsentMissing):
        await store.submit_feedback(person, feedback(), [], recipients=[("crm", "crm")])
    assert await store.pending_deliveries() == []
    record = await store.submit_feedback(
        person, feedback(), [grant()], recipients=[("crm", "crm"), ("staff", "")]
    )
    pending = await store.pending_deliveries()
    # Each with the consent it is passed on under (the recipient's purpose, '' internal).
    assert sorted((p, d.recipient, d.feedback_id, d.purpose) for p, d in pending) == [
        (person, "crm", record.id, "crm"),
        (person, "staff", record.id, ""),
    ]
    assert {(d.recipient, d.purpose) for d in await store.deliveries_of(person)} == {
        ("crm", "crm"),
        ("staff", ""),
    }


async def test_the_answers_collected_for_an_optional_purpose_are_kept_with_the_feedback(
    store: Store,
) -> None:
    p = store.pseudonym("tg-user:6")
    given = feedback().model_copy(
        update={"collected": {"followup": ["comment"]}, "scales": {"rating": [1, 5]}}
    )
    record = await store.submit_feedback(p, given, [grant()])
    assert record.collected == {"followup": ["comment"]}
    [stored] = await store.feedback_of(p, T0)
    assert stored.collected == {"followup": ["comment"]}
    assert stored.scales == {"rating": [1, 5]}, "the scale each rating was given on"
    await store.submit_feedback(p, feedback("ohne"), [])
    assert [r.collected for r in await store.feedback_of(p, T0)] == [{"followup": ["comment"]}, {}]


async def test_the_recipients_holding_feedback_are_those_of_every_delivery(store: Store) -> None:
    assert await store.recipients_holding() == set()
    erika, max_ = store.pseudonym("tg-user:4"), store.pseudonym("tg-user:5")
    made = await store.submit_feedback(erika, feedback(), [grant()], recipients=[("crm", "crm")])
    await store.settle_delivery(erika, "crm", made.id, T0)
    await store.submit_feedback(max_, feedback(), [grant()], recipients=[("acme", "acme")])
    assert await store.recipients_holding() == {"crm", "acme"}, "made and pending"
    await store.erase_subject(max_)
    assert await store.recipients_holding() == {"crm"}


# ---- the archive of consent texts -----------------------------------------------------


def consent_text(
    text: str = "Stimmen Sie zu?",
    version: str = "a1b2c3d4e5f6",
    language: str = "de",
    kind: Literal["notice", "optional"] = "notice",
    purposes: tuple[str, ...] = ("feedback",),
) -> ConsentText:
    return ConsentText(
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        flow_id="standard",
        notice_version=version,
        language=language,
        kind=kind,
        purposes=purposes,
        text=text,
    )


async def test_the_archive_keeps_each_text_once_as_first_seen(store: Store) -> None:
    notice, question = consent_text(), consent_text("Dürfen wir?", kind="optional")
    english = consent_text("Do you agree?", language="en")
    assert await store.archive_consent_texts([notice, question, english], T0) == 3
    assert await store.archive_consent_texts([notice, question, english], T0 + DAY) == 0
    # A new notice version whose optional question is worded as before: both kept under it.
    newer = consent_text("Stimmen Sie jetzt zu?", version="0f0f0f0f0f0f")
    again = question.model_copy(update={"notice_version": "0f0f0f0f0f0f"})
    assert await store.archive_consent_texts([newer, again], T0 + DAY) == 2
    archived = await store.consent_texts()
    assert [(a.text, a.notice_version, a.first_seen) for a in archived] == [
        ("Stimmen Sie zu?", "a1b2c3d4e5f6", T0),
        ("Do you agree?", "a1b2c3d4e5f6", T0),
        ("Dürfen wir?", "a1b2c3d4e5f6", T0),
        ("Stimmen Sie jetzt zu?", "0f0f0f0f0f0f", T0 + DAY),
        ("Dürfen wir?", "0f0f0f0f0f0f", T0 + DAY),
    ]
    assert archived[2].model_dump(exclude={"first_seen"}) == question.model_dump()
    by_hash = await store.consent_texts(sha256=question.sha256)
    assert [a.notice_version for a in by_hash] == ["a1b2c3d4e5f6", "0f0f0f0f0f0f"]
    assert [a.text for a in await store.consent_texts("0f0f0f0f0f0f", question.sha256)] == [
        "Dürfen wir?"
    ]
    assert await store.consent_texts("ffffffffffff") == []


async def test_a_text_is_archived_only_with_its_own_hash() -> None:
    with pytest.raises(ValueError, match="SHA-256"):
        ConsentText(**{**consent_text().model_dump(), "text": "Ein anderer Text"})


async def test_the_archive_outlives_purges_and_erasures(store: Store) -> None:
    """Texts are about no one and may be needed as long as a copy of a consent record
    exists anywhere (the person's own export, a backup): kept for good."""
    await store.archive_consent_texts([consent_text()], T0)
    person = store.pseudonym("tg-user:1")
    await store.submit_feedback(person, feedback(ttl=HOUR), [grant()])
    await store.erase_subject(person)
    await store.purge_expired(T0 + 400 * DAY, audit_before=T0 + 400 * DAY)
    assert [a.text for a in await store.consent_texts()] == ["Stimmen Sie zu?"]


async def test_a_full_store_archives_nothing_and_keeps_what_it_has(store: Store) -> None:
    await store.archive_consent_texts([consent_text()], T0)
    await set_full(store, True)
    assert await store.archive_consent_texts([consent_text()], T0 + DAY) == 0, "nothing new"
    many = [consent_text(f"Text {n} " + "x" * 3000, version=f"{n:012x}") for n in range(200)]
    with pytest.raises(StorageFull):
        await store.archive_consent_texts(many, T0 + DAY)
    await set_full(store, False)
    assert len(await store.consent_texts()) == 1
    assert await store.archive_consent_texts(many, T0 + DAY) == 200


def test_long_lists_of_feedback_ids_are_asked_for_in_parts() -> None:
    """A review: one retention notice named 20,000 ids (0.7 MB), more than many
    receivers take."""
    ids = [f"{n:032x}" for n in range(1200)]
    parts = notice_parts(list(reversed(ids)))
    assert [len(part) for part in parts] == [500, 500, 200]
    assert [i for part in parts for i in part] == ids


async def test_alerts_to_show_again_after_a_withdrawal_of_the_consent_to_be_contacted(
    store: Store,
) -> None:
    """Flagged by a withdrawal with `redraw_alerts`, or when noted after one (the alert
    on its way); read with a cursor; cleared one by one; gone with an erasure (fourth
    review)."""
    p, q = store.pseudonym("tg-user:1"), store.pseudonym("tg-user:2")
    first = await store.submit_feedback(p, feedback(), [grant(), grant("contact")])
    other = await store.submit_feedback(q, feedback("x"), [grant(), grant("contact")])
    assert await store.record_staff_post(p, post(21, first.id)) == Noted.NOTED
    assert await store.record_staff_post(p, post(20, first.id)) == Noted.NOTED
    assert await store.record_staff_post(q, post(5, other.id)) == Noted.NOTED
    assert await store.posts_to_redraw() == []
    await store.withdraw_consent(p, "contact", T0 + HOUR)
    assert await store.posts_to_redraw() == [], "not flagged without redraw_alerts"
    await store.submit_feedback(p, feedback("zwei"), [grant("contact", T0 + 2 * HOUR)])
    await store.withdraw_consent(p, "contact", T0 + 3 * HOUR, redraw_alerts=True)
    got = [(pseudonym, x.message_id) for pseudonym, x in await store.posts_to_redraw()]
    assert got == [(p, 20), (p, 21)]
    assert [x.message_id for _, x in await store.posts_to_redraw(1)] == [20]
    assert [x.message_id for _, x in await store.posts_to_redraw(after=(STAFF_CHAT, 20))] == [21]
    await store.post_redrawn(STAFF_CHAT, 20)
    assert [x.message_id for _, x in await store.posts_to_redraw()] == [21]
    late = post(22, first.id).model_copy(update={"given_with": ("feedback", "contact")})
    assert await store.record_staff_post(p, late) == Noted.REDRAW, "withdrawn on its way"
    kept = post(6, other.id).model_copy(update={"given_with": ("feedback", "contact")})
    assert await store.record_staff_post(q, kept) == Noted.NOTED
    await store.erase_subject(p)
    assert await store.posts_to_redraw() == []


async def test_feedback_is_no_longer_under_a_consent_that_ended(store: Store) -> None:
    """An ended consent is out of force for the summary and for /reply by reference as a
    withdrawn one is (mutation audit: the memory store read these by `withdrawn_at`, which
    an ended consent lacks, and no test noticed: staff could answer without consent)."""
    p = store.pseudonym("tg-user:1")
    mine = await store.submit_feedback(p, feedback("prima"), [grant(), grant("contact")])
    assert await store.withdraw_consent(p, "contact", T0 + HOUR, ended=True) == 1
    [found] = await store.feedback_by_reference(mine.id[:10], T0 + 2 * HOUR)
    assert found.consents_in_force == {"feedback"}
    [period] = await store.feedback_in_period(T0 - HOUR, T0 + HOUR, T0 + 2 * HOUR)
    assert period.consents_in_force == {"feedback"}


# ---- proof of consent after the data went (FEEDBACKBOT_CONSENT_PROOF_RETENTION) --------

THREE_YEARS = timedelta(days=1096)


async def test_an_erasure_keeps_proof_of_each_consent_where_asked(store: Store) -> None:
    """Proof of what the person agreed to, when and how outlives the erasure, outside
    their key: the consent records, feedback and key go as ever, the proof stays until
    the first of the month after the period (T0 + 1096 days is 1 March 2028)."""
    p, other = store.pseudonym("tg-user:1"), store.pseudonym("tg-user:2")
    await store.submit_feedback(p, feedback(), [grant(), grant("contact")], 42)
    await store.withdraw_consent(p, "contact", T0 + HOUR)
    await store.submit_feedback(other, feedback("other"), [grant()])

    report = await store.erase_subject(p, T0 + DAY, THREE_YEARS)
    assert report.proof_kept_until == datetime(2028, 4, 1, tzinfo=UTC)
    assert report.consents == 2 and await store.consents(p) == []
    assert await store.feedback_of(p, T0) == [] and await store.contact_of(p) is None
    noted = await store.ledger_note(p)
    assert noted is not None
    assert [(x.purpose, x.granted_at, x.withdrawn_at) for x in noted.proofs] == [
        ("feedback", T0, None),
        ("contact", T0, T0 + HOUR),
    ]
    for kept in noted.proofs:
        assert (kept.notice_version, kept.text_sha256, kept.method) == ("v1", SHA, "button")
        assert (kept.reason, kept.kept_since) == ("erasure", T0 + DAY)
        assert kept.kept_until == datetime(2028, 4, 1, tzinfo=UTC)
    assert await store.ledger_note(other) is None, "nobody else's proof"


async def test_an_erasure_keeps_no_proof_unless_asked(store: Store) -> None:
    p = store.pseudonym("tg-user:1")
    await store.submit_feedback(p, feedback(), [grant()])
    report = await store.erase_subject(p, T0 + DAY)
    assert report.consents == 1 and report.proof_kept_until is None
    noted = await store.ledger_note(p)
    assert noted is None or noted.proofs == ()


async def test_an_erasure_of_nothing_but_a_language_keeps_no_proof(store: Store) -> None:
    p = store.pseudonym("tg-user:1")
    await store.save_language(p, language())
    report = await store.erase_subject(p, T0 + DAY, THREE_YEARS)
    assert report.languages == 1 and report.proof_kept_until is None
    noted = await store.ledger_note(p)
    assert noted is None or noted.proofs == ()


async def test_the_purge_keeps_proof_of_the_consent_records_it_removes(store: Store) -> None:
    """Of whoever has nothing left, and of whoever has only a language choice left: the
    records go as before, proof of them stays (reason "expiry")."""
    p = store.pseudonym("tg-user:1")
    await store.submit_feedback(p, feedback(ttl=DAY), [grant()])
    chooser = store.pseudonym("tg-user:2")
    await store.submit_feedback(chooser, feedback(ttl=DAY), [grant()])
    await store.save_language(chooser, language(ttl=30 * DAY))
    stays = store.pseudonym("tg-user:3")
    await store.submit_feedback(stays, feedback(ttl=30 * DAY), [grant()])

    report = await store.purge_expired(T0 + 3 * DAY, keep_proof=THREE_YEARS)
    assert (report.consents, report.proofs) == (2, 2), report
    for person in (p, chooser):
        assert await store.consents(person) == []
        noted = await store.ledger_note(person)
        assert noted is not None
        [kept] = noted.proofs
        assert (kept.purpose, kept.reason, kept.kept_since) == ("feedback", "expiry", T0 + 3 * DAY)
    noted = await store.ledger_note(stays)
    assert noted is None or noted.proofs == (), "whose records stay keeps them, no proof"
    again = await store.purge_expired(T0 + 3 * DAY, keep_proof=THREE_YEARS)
    assert (again.consents, again.proofs) == (0, 0)


async def test_the_purge_keeps_no_proof_unless_asked(store: Store) -> None:
    p = store.pseudonym("tg-user:1")
    await store.submit_feedback(p, feedback(ttl=DAY), [grant()])
    report = await store.purge_expired(T0 + 3 * DAY)
    assert (report.consents, report.proofs) == (1, 0)
    noted = await store.ledger_note(p)
    assert noted is None or noted.proofs == ()


async def test_kept_proof_goes_at_the_first_purge_after_its_date(store: Store) -> None:
    """Kept 30 days from 2 March 2025, to the first of the next month: 1 May 2025. The
    purge deletes it after that day, whether proof is still being kept or no longer."""
    p = store.pseudonym("tg-user:1")
    await store.submit_feedback(p, feedback(), [grant()])
    report = await store.erase_subject(p, T0 + DAY, timedelta(days=30))
    until = datetime(2025, 5, 1, tzinfo=UTC)
    assert report.proof_kept_until == until
    await store.purge_expired(until - HOUR, keep_proof=THREE_YEARS)
    noted = await store.ledger_note(p)
    assert noted is not None and len(noted.proofs) == 1
    await store.purge_expired(until + HOUR)
    noted = await store.ledger_note(p)
    assert noted is None or noted.proofs == ()


async def test_proof_of_each_erasure_is_kept_and_each_consent_shown_once(store: Store) -> None:
    """A person who erased, came back and erased again: proof of both consents."""
    p = store.pseudonym("tg-user:1")
    await store.submit_feedback(p, feedback(), [grant()])
    await store.erase_subject(p, T0 + HOUR, THREE_YEARS)
    later = T0 + 10 * DAY
    await store.submit_feedback(p, feedback(at=later), [grant(at=later)])
    await store.erase_subject(p, later + HOUR, THREE_YEARS)
    noted = await store.ledger_note(p)
    assert noted is not None
    assert [(x.granted_at, x.kept_since) for x in noted.proofs] == [
        (T0, T0 + HOUR),
        (later, later + HOUR),
    ]


async def test_a_shortened_or_ended_proof_period_holds_for_the_proof_kept(store: Store) -> None:
    """As a shortened retention holds for feedback stored: the notice names the period
    now set, so the proof kept under a longer one is brought forward, and all of it goes
    once the setting is off (found by review: kept three years, the notice silent)."""
    p, q = store.pseudonym("tg-user:1"), store.pseudonym("tg-user:2")
    for person, at in ((p, T0 + DAY), (q, T0 + 40 * DAY)):
        await store.submit_feedback(person, feedback(at=T0), [grant()])
        await store.erase_subject(person, at, THREE_YEARS)
    assert await store.cap_consent_proofs(THREE_YEARS) == 0, "as long as before: unchanged"
    assert await store.cap_consent_proofs(timedelta(days=5 * 365)) == 0, "longer: unchanged"
    assert await store.cap_consent_proofs(timedelta(days=365)) == 2
    for person, until in (
        (p, datetime(2026, 4, 1, tzinfo=UTC)),
        (q, datetime(2026, 5, 1, tzinfo=UTC)),
    ):
        noted = await store.ledger_note(person)
        assert noted is not None and [x.kept_until for x in noted.proofs] == [until]
    await store.purge_expired(datetime(2026, 4, 2, tzinfo=UTC))
    noted = await store.ledger_note(p)
    assert noted is None or noted.proofs == (), "past its new date: gone"
    assert await store.cap_consent_proofs(None) == 1
    noted = await store.ledger_note(q)
    assert noted is None or noted.proofs == (), "the setting off: none kept"
