"""The consent gate and the conversation as the service runs them, over the in-memory store."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from flows.catalog import FlowCatalog
from flows.consent import Controller, optional_consent_text, sha256_hex
from flows.i18n import translator
from flows.models import ConsentStep
from flows.processing import DEFAULT_RECIPIENTS, shared_recipient
from flows.replies import Outcome
from flows.service import FeedbackService, Person, ServiceConfig
from storage.interface import StorageFull
from storage.memory import MemoryStore


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def store() -> MemoryStore:
    store = MemoryStore()
    await store.open()
    return store


def make_service(
    store: MemoryStore,
    clock: Clock,
    controller: str = "Beispiel GmbH",
    catalog: FlowCatalog | None = None,
) -> FeedbackService:
    config = ServiceConfig(
        controller=Controller(name=controller, contact="datenschutz@beispiel.de"),
        retention=timedelta(days=180),
    )
    return FeedbackService(store, catalog or FlowCatalog.load(), config, clock=clock)


@pytest.fixture
def service(store: MemoryStore, clock: Clock) -> FeedbackService:
    return make_service(store, clock)


ERIKA = Person(subject="tg-user:4242424242", chat_id=4242424242, locale="de")


def press(outcome: Outcome, label: str) -> str:
    for reply in reversed(outcome.replies):
        for row in reply.buttons:
            for button in row:
                if button.label == label:
                    return button.data
    raise AssertionError(f"no button {label!r}")


async def nothing_stored(store: MemoryStore, person: Person, clock: Clock) -> bool:
    pseudonym = store.pseudonym(person.subject)
    return (
        not await store.consents(pseudonym)
        and await store.load_draft(pseudonym, clock()) is None
        and not await store.feedback_of(pseudonym, clock())
    )


async def test_start_shows_consent_notice_and_stores_nothing(
    service: FeedbackService, store: MemoryStore, clock: Clock
) -> None:
    outcome = await service.start(ERIKA)
    notice = outcome.replies[-1]
    assert "Beispiel GmbH" in notice.text and "180 Tage" in notice.text
    for command in ("/meinedaten", "/widerruf", "/loeschen", "/datenschutz"):
        assert command in notice.text
    labels = [[b.label for b in row] for row in notice.buttons]
    assert labels == [["Ja, ich willige ein", "Nein, danke"]], "two buttons, side by side"
    assert "eigenes System" not in notice.text, "no own system configured, none named"
    assert await nothing_stored(store, ERIKA, clock)


async def test_english_notice_uses_english_units_and_commands(service: FeedbackService) -> None:
    outcome = await service.start(Person("tg-user:1", 1, "en"))
    text = outcome.replies[-1].text
    assert "180 days" in text and "/mydata" in text and "/delete" in text


async def test_typing_ok_before_consent_is_not_consent_and_not_kept(
    service: FeedbackService, store: MemoryStore, clock: Clock
) -> None:
    await service.start(ERIKA)
    outcome = await service.text(ERIKA, "ok, meine Nummer ist 0170-CANARY")
    [pointer] = outcome.replies
    assert "erst annehmen, wenn Sie zugestimmt haben" in pointer.text
    assert "/start" in pointer.text and not pointer.buttons, "a pointer, not the notice again"
    assert await nothing_stored(store, ERIKA, clock)


async def test_decline_stores_nothing(
    service: FeedbackService, store: MemoryStore, clock: Clock
) -> None:
    outcome = await service.press(ERIKA, press(await service.start(ERIKA), "Nein, danke"))
    assert "Es wurde nichts gespeichert" in outcome.replies[0].text
    assert await nothing_stored(store, ERIKA, clock)
    after = await service.text(ERIKA, "Tschüss")
    assert not any(reply.buttons for reply in after.replies), "not asked a second time"


async def test_no_on_an_older_request_after_agreeing_changes_nothing_and_says_so(
    service: FeedbackService, store: MemoryStore, clock: Clock
) -> None:
    older = await service.start(ERIKA)
    newer = await service.start(ERIKA)
    await service.press(ERIKA, press(newer, "Ja, ich willige ein"))
    answer = await service.press(ERIKA, press(older, "Nein, danke"))
    assert "bereits eingewilligt" in answer.replies[0].text
    assert "nichts gespeichert" not in answer.replies[0].text
    pseudonym = store.pseudonym(ERIKA.subject)
    assert [c.in_force for c in await store.consents(pseudonym)] == [True]
    assert await store.load_draft(pseudonym, clock()) is not None, "the answers go on"


async def test_no_after_a_withdrawal_does_not_claim_nothing_is_stored(
    service: FeedbackService, store: MemoryStore, clock: Clock
) -> None:
    await full_conversation(service, ERIKA, "bleibt gespeichert")
    pseudonym = store.pseudonym(ERIKA.subject)
    await store.withdraw_consent(pseudonym, "feedback", clock())
    answer = await service.press(ERIKA, press(await service.start(ERIKA), "Nein, danke"))
    assert "Es wurde nichts Neues gespeichert" in answer.replies[0].text
    assert "/meinedaten" in answer.replies[0].text
    assert len(await store.feedback_of(pseudonym, clock())) == 1


async def test_agree_records_proof_of_the_exact_text(
    service: FeedbackService, store: MemoryStore, clock: Clock
) -> None:
    notice = (await service.start(ERIKA)).replies[-1]
    outcome = await service.press(ERIKA, press(Outcome(replies=(notice,)), "Ja, ich willige ein"))
    assert outcome.close_keyboard
    [consent] = await store.consents(store.pseudonym(ERIKA.subject))
    assert consent.purpose == "feedback" and consent.in_force
    assert consent.text_sha256 == hashlib.sha256(notice.text.encode()).hexdigest()
    assert consent.granted_at == clock.now and consent.method == "telegram:inline-button"
    assert len(consent.notice_version) == 12
    assert "Wie zufrieden" in outcome.replies[-1].text


async def full_conversation(service: FeedbackService, person: Person, comment: str) -> Outcome:
    yes, no = ("Ja, ich willige ein", "Nein") if person.locale == "de" else ("Yes, I agree", "No")
    outcome = await service.press(person, press(await service.start(person), yes))
    outcome = await service.press(person, press(outcome, "5"))
    outcome = await service.text(person, comment)
    return await service.press(
        person, press(outcome, "Ja, einverstanden" if person.locale == "de" else no)
    )


async def test_full_conversation_stores_feedback_with_deletion_date(
    service: FeedbackService, store: MemoryStore, clock: Clock
) -> None:
    thanks = await full_conversation(service, ERIKA, "Sehr freundlich")
    assert "28. Mai 2027" in thanks.replies[-1].text
    pseudonym = store.pseudonym(ERIKA.subject)
    [feedback] = await store.feedback_of(pseudonym, clock())
    assert feedback.answers == {"rating": 5, "comment": "Sehr freundlich"}
    assert feedback.expires_at == clock.now + timedelta(days=180)
    assert sorted(feedback.purposes) == ["contact", "feedback"]
    assert await store.contact_of(pseudonym) == ERIKA.chat_id
    assert {c.purpose for c in await store.consents(pseudonym)} == {"feedback", "contact"}
    assert await store.load_draft(pseudonym, clock()) is None


async def test_declining_contact_stores_no_chat_id(
    service: FeedbackService, store: MemoryStore, clock: Clock
) -> None:
    person = Person("tg-user:77", 77, "en")
    await full_conversation(service, person, "fine")
    pseudonym = store.pseudonym(person.subject)
    assert await store.contact_of(pseudonym) is None
    assert {c.purpose for c in await store.consents(pseudonym)} == {"feedback"}
    [feedback] = await store.feedback_of(pseudonym, clock())
    assert feedback.purposes == ["feedback"]


async def test_second_start_after_consent_skips_the_gate(service: FeedbackService) -> None:
    await full_conversation(service, ERIKA, "Alles gut")
    outcome = await service.start(ERIKA)
    assert "bereits eingewilligt" in outcome.replies[0].text
    assert [b.label for b in outcome.replies[-1].buttons[0]] == ["1", "2", "3", "4", "5"]


async def test_cancel_discards_draft(
    service: FeedbackService, store: MemoryStore, clock: Clock
) -> None:
    outcome = await service.press(ERIKA, press(await service.start(ERIKA), "Ja, ich willige ein"))
    await service.press(ERIKA, press(outcome, "2"))
    assert "verworfen" in (await service.cancel(ERIKA)).replies[0].text
    pseudonym = store.pseudonym(ERIKA.subject)
    assert await store.load_draft(pseudonym, clock()) is None
    assert not await store.feedback_of(pseudonym, clock())
    assert "nichts abzubrechen" in (await service.cancel(ERIKA)).replies[0].text


async def test_start_mid_conversation_resumes(service: FeedbackService) -> None:
    outcome = await service.press(ERIKA, press(await service.start(ERIKA), "Ja, ich willige ein"))
    await service.press(ERIKA, press(outcome, "3"))
    resumed = await service.start(ERIKA)
    assert "weiter" in resumed.replies[0].text
    assert "Kommentar" in resumed.replies[-1].text


async def test_idle_draft_expires_and_old_buttons_say_so(
    service: FeedbackService, clock: Clock
) -> None:
    outcome = await service.press(ERIKA, press(await service.start(ERIKA), "Ja, ich willige ein"))
    clock.now += timedelta(minutes=31)
    late = await service.press(ERIKA, press(outcome, "4"))
    assert (
        "30 Minuten lang unvollständig und ihre Antworten wurden verworfen" in late.replies[0].text
    )
    assert late.close_keyboard
    stray = (await service.text(ERIKA, "hallo?")).replies[0].text
    assert "keine Umfrage, deshalb habe ich diese Nachricht nicht gespeichert." in stray
    assert "30 Minuten" in stray


async def test_text_after_the_thanks_is_not_told_its_feedback_was_discarded(
    service: FeedbackService,
) -> None:
    await full_conversation(service, ERIKA, "fertig")
    [reply] = (await service.text(ERIKA, "Und das Personal war unfreundlich")).replies
    assert reply.text.startswith(
        "Ihr Feedback ist angekommen. Gerade ist keine Frage offen, deshalb habe ich diese "
        "Nachricht nicht gespeichert."
    ), "said not stored: an addition sent after the thanks is lost otherwise unsaid"
    assert "verworfen" not in reply.text, "nothing unfinished to speak of"
    # a thank-you alone is answered as one (found by a customer walk-through)
    [reply] = (await service.text(ERIKA, "Danke euch!")).replies
    assert reply.text.startswith("Gern geschehen, und danke für Ihr Feedback!")


async def test_changed_notice_asks_again(store: MemoryStore, clock: Clock) -> None:
    service = make_service(store, clock)
    await full_conversation(service, ERIKA, "vorher")
    changed = make_service(store, clock, controller="Beispiel AG")
    outcome = await changed.start(ERIKA)
    assert "Beispiel AG" in outcome.replies[-1].text and outcome.replies[-1].buttons


async def test_consent_button_for_an_old_notice_version_shows_the_new_one(
    store: MemoryStore, clock: Clock
) -> None:
    old = await make_service(store, clock).start(ERIKA)
    new_service = make_service(store, clock, controller="Beispiel AG")
    outcome = await new_service.press(ERIKA, press(old, "Ja, ich willige ein"))
    assert "geändert" in outcome.replies[0].text
    assert not await store.consents(store.pseudonym(ERIKA.subject))


async def test_full_store_tells_the_person_and_keeps_the_draft(
    service: FeedbackService, store: MemoryStore, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    outcome = await service.press(ERIKA, press(await service.start(ERIKA), "Ja, ich willige ein"))
    outcome = await service.press(ERIKA, press(outcome, "4"))
    outcome = await service.text(ERIKA, "gut")

    async def full(*args: object, **kwargs: object) -> None:
        raise StorageFull("disk full")

    monkeypatch.setattr(store, "submit_feedback", full)
    failed = await service.press(ERIKA, press(outcome, "Nein"))
    assert "nicht gespeichert" in failed.replies[0].text and not failed.close_keyboard
    monkeypatch.undo()
    done = await service.press(ERIKA, press(outcome, "Nein"))
    assert "Vielen Dank" in done.replies[-1].text
    assert len(await store.feedback_of(store.pseudonym(ERIKA.subject), clock())) == 1


async def test_deep_link_to_unknown_flow_falls_back_to_default(service: FeedbackService) -> None:
    outcome = await service.start(ERIKA, "nope")
    assert "kenne ich nicht" in outcome.replies[0].text
    assert outcome.replies[-1].buttons


async def test_a_deep_link_finds_its_survey_whatever_the_case(service: FeedbackService) -> None:
    outcome = await service.start(ERIKA, "PRODUCT")
    assert "kenne ich nicht" not in outcome.replies[0].text
    assert "Produkt" in outcome.replies[-1].text


async def test_another_survey_discards_the_unfinished_answers_once_it_begins(
    service: FeedbackService, store: MemoryStore, clock: Clock
) -> None:
    pseudonym = store.pseudonym(ERIKA.subject)
    outcome = await service.press(ERIKA, press(await service.start(ERIKA), "Ja, ich willige ein"))
    await service.press(ERIKA, press(outcome, "4"))
    switched = await service.start(ERIKA, "product")
    # Said before agreeing costs them, not only after (language review).
    assert switched.replies[0].text == (
        "Sie haben unvollständige Antworten zu einer anderen Umfrage: Wenn Sie hier "
        "einwilligen, beginnt „Produktfeedback“, und diese Antworten werden verworfen. Um "
        "die andere Umfrage fortzusetzen, senden Sie /start."
    )
    assert switched.replies[-1].text.endswith("Sind Sie einverstanden?"), "the notice apart"
    declined = await service.press(ERIKA, press(switched, "Nein, danke"))
    assert "Kommentar" not in declined.replies[0].text
    assert (await service.start(ERIKA)).replies[0].text.startswith("Machen wir dort weiter")
    draft = await store.load_draft(pseudonym, clock())
    assert draft is not None and draft.payload["flow_id"] == "feedback", "declining cost nothing"

    switched = await service.start(ERIKA, "product")
    begun = await service.press(ERIKA, press(switched, "Ja, ich willige ein"))
    assert begun.replies[0].text.startswith(
        "Danke, Ihre Einwilligung wurde festgehalten.\n\n"
        "Ihre unvollständigen Antworten zur anderen Umfrage wurden verworfen."
    )
    assert "Produkt" in begun.replies[0].text
    draft = await store.load_draft(pseudonym, clock())
    assert draft is not None and draft.payload["flow_id"] == "product"


async def test_a_link_to_a_survey_agreed_to_before_asks_before_it_discards_answers(
    service: FeedbackService, store: MemoryStore, clock: Clock
) -> None:
    """Found by review: with consent given to both surveys, a second link (a newsletter's)
    threw the other survey's unfinished answers away unasked."""
    pseudonym = store.pseudonym(ERIKA.subject)
    product = await service.start(ERIKA, "product")
    await service.press(ERIKA, press(product, "Ja, ich willige ein"))
    feedback = await service.start(ERIKA, "feedback")
    rating = await service.press(ERIKA, press(feedback, "Ja, ich willige ein"))
    await service.press(ERIKA, press(rating, "4"))  # feedback under way, product agreed to
    asked = await service.start(ERIKA, "product")
    assert asked.replies[-1].text == (
        "Sie haben unvollständige Antworten zu einer anderen Umfrage: Wenn Sie "
        "„Produktfeedback“ beginnen, werden sie verworfen. Um die andere fortzusetzen, "
        "senden Sie /start."
    ), asked.replies[-1].text
    draft = await store.load_draft(pseudonym, clock())
    assert draft is not None and draft.payload["flow_id"] == "feedback", "nothing discarded yet"
    assert (await service.start(ERIKA)).replies[0].text.startswith("Machen wir dort weiter")
    begun = await service.press(ERIKA, asked.replies[-1].buttons[0][0].data)
    assert begun.close_keyboard
    assert begun.replies[0].text.startswith(
        "Ihre unvollständigen Antworten zur anderen Umfrage wurden verworfen."
    )
    draft = await store.load_draft(pseudonym, clock())
    assert draft is not None and draft.payload["flow_id"] == "product"


async def test_answers_of_a_survey_no_longer_loaded_are_not_said_to_go_on_with_start(
    store: MemoryStore, clock: Clock
) -> None:
    """The operator removed the `product` survey (its drafts stay until they expire): a
    plain /start was told to send /start to go on with it, again and again (review)."""
    config = ServiceConfig(
        controller=Controller(name="Beispiel GmbH", contact="datenschutz@beispiel.de"),
        retention=timedelta(days=180),
    )
    before = FeedbackService(store, FlowCatalog.load(), config, clock=clock)
    outcome = await before.press(
        ERIKA, press(await before.start(ERIKA, "product"), "Ja, ich willige ein")
    )
    await before.press(ERIKA, press(outcome, "4"))
    after = FeedbackService(store, FlowCatalog.load(shipped=["feedback"]), config, clock=clock)
    said = "\n".join(reply.text for reply in (await after.start(ERIKA)).replies)
    assert "Um die andere fortzusetzen" not in said and "Einwilligung" in said, said
    # said what became of the answers (found by a flow author's walk-through)
    assert said.startswith("Die Umfrage, die Sie begonnen hatten, wird nicht mehr angeboten")
    assert await store.load_draft(before.store.pseudonym(ERIKA.subject), clock()) is None


async def test_a_plain_start_continues_whichever_survey_is_under_way(
    service: FeedbackService, store: MemoryStore, clock: Clock
) -> None:
    """/start is the menu's "give feedback": mid-way through the product survey it must
    not switch to the general one and cost the product answers."""
    notice = await service.start(ERIKA, "product")
    first = await service.press(ERIKA, press(notice, "Ja, ich willige ein"))
    await service.press(ERIKA, press(first, "3"))
    [resumed] = (await service.start(ERIKA)).replies
    assert resumed.text.startswith("Machen wir dort weiter")
    assert "verworfen" not in resumed.text and resumed.buttons
    draft = await store.load_draft(store.pseudonym(ERIKA.subject), clock())
    assert draft is not None and draft.payload["flow_id"] == "product"


async def test_yes_on_an_older_request_during_another_survey_asks_before_it_discards(
    service: FeedbackService, store: MemoryStore, clock: Clock
) -> None:
    """Found by review: a request shown before another survey began (scrolled back to, in
    the chat) began its survey at its Yes and discarded the other's answers, said only
    after. Its consent is recorded; the survey begins with the button that says so."""
    pseudonym = store.pseudonym(ERIKA.subject)
    general = await service.start(ERIKA)
    product = await service.start(ERIKA, "product")
    first = await service.press(ERIKA, press(product, "Ja, ich willige ein"))
    await service.press(ERIKA, press(first, "4"))
    late = await service.press(ERIKA, press(general, "Ja, ich willige ein"))
    assert late.toast is None, "not 'you have already agreed': they had not"
    [asked] = late.replies
    assert asked.text == (
        "Danke, Ihre Einwilligung wurde festgehalten.\n\n"
        "Sie haben unvollständige Antworten zu einer anderen Umfrage: Wenn Sie "
        "„Kundenfeedback“ beginnen, werden sie verworfen. Um die andere fortzusetzen, "
        "senden Sie /start."
    )
    assert late.close_keyboard
    draft = await store.load_draft(pseudonym, clock())
    assert draft is not None and draft.payload["flow_id"] == "product", "nothing discarded"
    consents = await store.consents(pseudonym)
    assert sum(c.purpose == "feedback" for c in consents) == 1

    again = await service.press(ERIKA, press(general, "Ja, ich willige ein"))
    assert [r.text for r in again.replies] == [asked.text.split("\n\n", 1)[1]], "asked alone"
    assert len(await store.consents(pseudonym)) == len(consents), "not recorded twice"
    assert (await service.start(ERIKA)).replies[0].text.startswith("Machen wir dort weiter")

    begun = await service.press(ERIKA, press(late, "„Kundenfeedback“ beginnen"))
    assert begun.replies[0].text.startswith(
        "Ihre unvollständigen Antworten zur anderen Umfrage wurden verworfen."
    )
    assert "Wie zufrieden" in begun.replies[0].text
    draft = await store.load_draft(pseudonym, clock())
    assert draft is not None and draft.payload["flow_id"] == "feedback"
    twice = await service.press(ERIKA, press(general, "Ja, ich willige ein"))
    assert twice.toast == "Sie haben bereits eingewilligt.", "a press once it has begun"


async def test_a_text_after_an_older_requests_yes_is_not_taken_for_the_skipped_comment(
    service: FeedbackService, store: MemoryStore, clock: Clock
) -> None:
    """Review of the change: the Begin question after an older request's Yes left the
    skipped comment open to the next text, product feedback taken as the other survey's."""
    product = await service.start(ERIKA, "product")
    rating = await service.press(ERIKA, press(await service.start(ERIKA), "Ja, ich willige ein"))
    comment = await service.press(ERIKA, press(rating, "3"))
    await service.press(ERIKA, press(comment, "Überspringen"))
    await service.press(ERIKA, press(product, "Ja, ich willige ein"))
    clock.now += timedelta(minutes=1)
    said = await service.text(ERIKA, "Die App stürzt beim Öffnen der Einstellungen ab")
    assert "übernommen" not in said.replies[0].text, said.replies[0].text
    draft = await store.load_draft(store.pseudonym(ERIKA.subject), clock())
    assert draft is not None and draft.payload["answers"].get("comment") is None


async def test_a_comment_typed_under_another_surveys_request_says_which_survey_took_it(
    service: FeedbackService, store: MemoryStore, clock: Clock
) -> None:
    """Found by a customer walk-through: "/start product" at the open comment, then a
    complaint typed under the product request went to the general survey's comment, and
    its contact question followed with nothing to say whose."""
    rating = await service.press(ERIKA, press(await service.start(ERIKA), "Ja, ich willige ein"))
    await service.press(ERIKA, press(rating, "4"))
    await service.start(ERIKA, "product")
    clock.now += timedelta(seconds=20)
    said = await service.text(ERIKA, "Das Frühstück war kalt")
    assert said.replies[0].text == (
        "Das ging an die Umfrage, die Sie begonnen hatten, „Kundenfeedback“; sie geht unten "
        "weiter. Um stattdessen an der anderen Umfrage teilzunehmen, nutzen Sie deren "
        "Schaltfläche oben: Damit werden diese Antworten verworfen."
    ), said.replies[0].text
    assert said.replies[-1].text.startswith("Dürfen wir Sie in diesem Chat"), "its next question"
    draft = await store.load_draft(store.pseudonym(ERIKA.subject), clock())
    assert draft is not None and draft.payload["answers"]["comment"] == "Das Frühstück war kalt"


async def test_a_no_typed_under_another_surveys_request_is_not_taken_by_the_open_comment(
    service: FeedbackService, store: MemoryStore, clock: Clock
) -> None:
    """Found by a customer walk-through: "Nein, danke" typed under the product request,
    whose button says so, skipped the general survey's comment instead. Not taken; the
    comment is asked again, and what is typed then is its answer, with nothing more said."""
    pseudonym = store.pseudonym(ERIKA.subject)
    rating = await service.press(ERIKA, press(await service.start(ERIKA), "Ja, ich willige ein"))
    await service.press(ERIKA, press(rating, "4"))
    await service.start(ERIKA, "product")
    clock.now += timedelta(seconds=20)
    said = await service.text(ERIKA, "Nein, danke")
    [reply] = said.replies
    assert reply.text.startswith(
        "Das habe ich nicht als Antwort genommen: Wenn es der Anfrage der anderen Umfrage "
        "oben galt, nutzen Sie bitte deren Schaltflächen. Die Umfrage, die Sie begonnen "
        "hatten, „Kundenfeedback“, ist noch offen; hier ist ihre Frage noch einmal.\n\n"
        "Was sollten wir wissen?"
    ), reply.text
    draft = await store.load_draft(pseudonym, clock())
    assert draft is not None and "comment" not in draft.payload["answers"]
    clock.now += timedelta(seconds=20)
    taken = await service.text(ERIKA, "Das Frühstück war kalt")
    assert taken.replies[0].text.startswith("Dürfen wir Sie"), "below the request no longer"
    draft = await store.load_draft(pseudonym, clock())
    assert draft is not None and draft.payload["answers"]["comment"] == "Das Frühstück war kalt"


async def test_text_at_a_consent_question_under_another_surveys_request_asks_it_again_first(
    service: FeedbackService, store: MemoryStore, clock: Clock
) -> None:
    """Found by a customer walk-through: at the contact question, after "/start product",
    text typed was told "tap “Ja, einverstanden” or “Nein” under the question above", under
    the product request, whose buttons say "Ja, ich willige ein" and "Nein, danke". The
    question is asked again, then pointed to. A yes or a no typed under the request may
    answer it: not taken, said so, and the question asked again; one typed under the
    question asked again is its answer."""
    pseudonym = store.pseudonym(ERIKA.subject)
    rating = await service.press(ERIKA, press(await service.start(ERIKA), "Ja, ich willige ein"))
    await service.press(ERIKA, press(rating, "4"))
    await service.text(ERIKA, "Das Frühstück war kalt")
    await service.start(ERIKA, "product")
    clock.now += timedelta(minutes=1)
    said = await service.text(ERIKA, "Die App ist langsam")
    assert [r.text.split("\n")[0] for r in said.replies] == [
        "Dürfen wir Sie in diesem Chat zu Ihrem Feedback kontaktieren? Das ist freiwillig.",
        "Diese Nachricht habe ich nicht gespeichert. Bitte tippen Sie auf „Ja, "
        "einverstanden“ oder „Nein“ unter der Frage oben.",
    ], said.replies
    assert said.replies[0].buttons, "the question with its buttons"
    for typed in ("Ja gerne", "Nein"):
        await service.start(ERIKA, "product")  # the request shown below it again
        clock.now += timedelta(minutes=1)
        said = await service.text(ERIKA, typed)
        assert [r.text.split("\n")[0] for r in said.replies] == [
            "Das habe ich nicht als Antwort genommen: Wenn es der Anfrage der anderen Umfrage "
            "oben galt, nutzen Sie bitte deren Schaltflächen. Die Umfrage, die Sie begonnen "
            "hatten, „Kundenfeedback“, ist noch offen; hier ist ihre Frage noch einmal.",
            "Dürfen wir Sie in diesem Chat zu Ihrem Feedback kontaktieren? Das ist freiwillig.",
        ], (typed, said.replies)
        draft = await store.load_draft(pseudonym, clock())
        assert draft is not None and draft.payload["step_id"] == "contact", typed
        assert not [c for c in draft.payload["consents"] if c["purpose"] == "contact"], typed
    clock.now += timedelta(minutes=1)
    declined = await service.text(ERIKA, "Nein")
    assert declined.replies[0].text.startswith("Verstanden: „Nein“ zu"), declined.replies[0].text
    assert any("Vielen Dank" in r.text for r in declined.replies)


async def test_going_on_with_start_after_another_surveys_request_takes_answers_as_usual(
    service: FeedbackService, store: MemoryStore, clock: Clock
) -> None:
    """Review of the change: /start, which the request's note advises to go on, asked the
    open question again below it but left the answers taken as under the request: "Nein"
    was refused as meant for it, a comment said to discard on the other's button."""
    rating = await service.press(ERIKA, press(await service.start(ERIKA), "Ja, ich willige ein"))
    await service.press(ERIKA, press(rating, "4"))
    await service.start(ERIKA, "product")
    await service.start(ERIKA)  # "Um die andere Umfrage fortzusetzen, senden Sie /start."
    clock.now += timedelta(seconds=20)
    said = await service.text(ERIKA, "Das Frühstück war kalt")
    assert "Das ging an die Umfrage" not in said.replies[0].text, said.replies[0].text
    draft = await store.load_draft(store.pseudonym(ERIKA.subject), clock())
    assert draft is not None and draft.payload["answers"]["comment"] == "Das Frühstück war kalt"


async def test_the_last_answer_typed_under_another_surveys_request_says_its_survey_is_complete(
    store: MemoryStore, clock: Clock, tmp_path: Path
) -> None:
    """A survey whose last question is a text: the answer typed under another survey's
    request completes it, and says so."""
    product = (Path(__file__).parents[2] / "flows/definitions/product.toml").read_text()
    last = product.replace(
        'skippable = true\nnext = "recommend"', 'skippable = true\nnext = "thanks"'
    )
    assert last != product
    (tmp_path / "product.toml").write_text(last)
    service = make_service(store, clock, catalog=FlowCatalog.load(tmp_path))
    notice = await service.start(ERIKA, "product")
    first = await service.press(ERIKA, press(notice, "Ja, ich willige ein"))
    problems = await service.press(ERIKA, press(first, "2"))
    await service.press(ERIKA, press(problems, "☐ Fehler und Abstürze"))
    await service.press(ERIKA, press(problems, "Fertig"))
    await service.start(ERIKA, "feedback")
    clock.now += timedelta(seconds=20)
    said = await service.text(ERIKA, "Beim Hochladen von Fotos")
    assert said.replies[0].text.startswith(
        "Das ging an die Umfrage, die Sie begonnen hatten, „Produktfeedback“; sie ist damit "
        "abgeschlossen.\n\nVielen Dank für Ihr Produktfeedback!"
    ), said.replies[0].text
    assert await store.load_draft(store.pseudonym(ERIKA.subject), clock()) is None


async def test_a_request_whose_name_leaves_no_room_for_the_mark_asks_before_it_discards(
    store: MemoryStore, clock: Clock, tmp_path: Path
) -> None:
    """A flow id of 40 characters leaves no room in the button's 64 bytes for the mark of
    the answers the request was shown over: its Yes asks, as an older request's does."""
    long_id = "p" * 40
    product = (Path(__file__).parents[2] / "flows/definitions/product.toml").read_text()
    (tmp_path / "long.toml").write_text(product.replace('id = "product"', f'id = "{long_id}"'))
    service = make_service(store, clock, catalog=FlowCatalog.load(tmp_path))
    pseudonym = store.pseudonym(ERIKA.subject)
    rating = await service.press(ERIKA, press(await service.start(ERIKA), "Ja, ich willige ein"))
    await service.press(ERIKA, press(rating, "4"))
    notice = await service.start(ERIKA, long_id)
    assert all(len(b.data.encode()) <= 64 for r in notice.replies for row in r.buttons for b in row)
    asked = await service.press(ERIKA, press(notice, "Ja, ich willige ein"))
    assert "Wenn Sie „Produktfeedback“ beginnen, werden sie verworfen" in asked.replies[0].text
    draft = await store.load_draft(pseudonym, clock())
    assert draft is not None and draft.payload["flow_id"] == "feedback"


async def test_text_after_another_survey_is_not_told_it_lacks_consent(
    service: FeedbackService,
) -> None:
    notice = await service.start(ERIKA, "product")
    outcome = await service.press(ERIKA, press(notice, "Ja, ich willige ein"))
    liked = await service.press(ERIKA, press(outcome, "5"))
    await service.press(ERIKA, press(liked, "☐ Schnell"))
    outcome = await service.press(ERIKA, press(liked, "Fertig"))
    outcome = await service.press(ERIKA, press(outcome, "9"))
    assert "Vielen Dank" in outcome.replies[-1].text
    [reply] = (await service.text(ERIKA, "Danke euch!")).replies
    assert reply.text == "Gern geschehen, und danke für Ihr Feedback!", reply.text
    [reply] = (await service.text(ERIKA, "Und schneller liefern!")).replies
    assert reply.text.startswith("Ihr Feedback ist angekommen"), reply.text
    assert "Einwilligungsanfrage" not in reply.text


async def test_an_unknown_link_mid_survey_keeps_its_answers(
    service: FeedbackService, store: MemoryStore, clock: Clock
) -> None:
    outcome = await service.press(ERIKA, press(await service.start(ERIKA), "Ja, ich willige ein"))
    await service.press(ERIKA, press(outcome, "4"))
    [resumed] = (await service.start(ERIKA, "gibtsnicht")).replies
    assert resumed.text.startswith("Diese Umfrage kenne ich nicht.\n\nMachen wir dort weiter")
    assert "Kommentar" in resumed.text
    assert await store.load_draft(store.pseudonym(ERIKA.subject), clock()) is not None


async def test_no_to_being_contacted_says_an_earlier_yes_still_applies(
    service: FeedbackService, store: MemoryStore
) -> None:
    """A "No" in a later feedback records nothing and withdraws nothing: the person is
    told that the earlier "Yes" stands, and how to withdraw it."""
    first = await full_conversation(service, ERIKA, "erstes Mal")  # "Ja, einverstanden"
    assert "früheren Feedback" not in first.replies[-1].text
    outcome = await service.start(ERIKA)
    outcome = await service.press(ERIKA, press(outcome, "4"))
    outcome = await service.text(ERIKA, "zweites Mal")
    [thanks] = (await service.press(ERIKA, press(outcome, "Nein"))).replies
    assert thanks.text.startswith("Vielen Dank")
    assert thanks.text.endswith(
        "Ihre Einwilligung „Kontaktaufnahme“ zu einem früheren Feedback gilt für jenes weiter, "
        "nicht für dieses; mit /widerruf können Sie sie widerrufen."
    ), thanks.text
    never = Person(subject="tg-user:77", chat_id=77, locale="de")
    outcome = await service.press(never, press(await service.start(never), "Ja, ich willige ein"))
    outcome = await service.press(never, press(outcome, "4"))
    outcome = await service.text(never, "ohne Kontakt")
    [plain] = (await service.press(never, press(outcome, "Nein"))).replies
    assert "früheren Feedback" not in plain.text


async def test_no_to_being_contacted_says_nothing_of_an_earlier_yes_whose_feedback_expired(
    service: FeedbackService, clock: Clock
) -> None:
    """The earlier feedback, and the chat id with it, gone by its retention: "that consent
    still applies to it" spoke of a feedback no longer stored (returning-customer review)."""
    await full_conversation(service, ERIKA, "erstes Mal")  # "Ja, einverstanden"
    clock.now += timedelta(days=181)
    outcome = await service.start(ERIKA)
    outcome = await service.press(ERIKA, press(outcome, "4"))
    outcome = await service.text(ERIKA, "zweites Mal, ein halbes Jahr später")
    [thanks] = (await service.press(ERIKA, press(outcome, "Nein"))).replies
    assert thanks.text.startswith("Vielen Dank")
    assert "früheren Feedback" not in thanks.text, thanks.text


async def test_a_full_disk_when_another_survey_begins_keeps_the_unfinished_answers(
    service: FeedbackService, store: MemoryStore, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    pseudonym = store.pseudonym(ERIKA.subject)
    product = await service.start(ERIKA, "product")
    first = await service.press(ERIKA, press(product, "Ja, ich willige ein"))
    await service.press(ERIKA, press(first, "4"))
    general = await service.start(ERIKA, "feedback")  # says its Yes discards them

    async def full(*args: object, **kwargs: object) -> None:
        raise StorageFull("disk full")

    monkeypatch.setattr(store, "save_draft", full)
    failed = await service.press(ERIKA, press(general, "Ja, ich willige ein"))
    assert "nicht gespeichert" in failed.replies[0].text
    draft = await store.load_draft(pseudonym, clock())
    assert draft is not None and draft.payload["flow_id"] == "product", "nothing lost"


_EVENT = """
id = "event"
title = { de = "Veranstaltung", en = "Event" }
intro = { de = "Wie war unsere Veranstaltung?", en = "How was our event?" }

[[purposes]]
id = "feedback"
required = true
label = "Storing your feedback"
description = "Storing and evaluating your feedback to improve our service"

[[steps]]
id = "rating"
type = "rating"
min = 1
max = 5
prompt = { de = "Wie fanden Sie es?", en = "How did you like it?" }

[[steps]]
id = "thanks"
type = "thanks"
prompt = "Thank you for your feedback!"
"""


async def test_a_survey_never_agreed_to_is_not_said_to_have_changed_since_agreeing(
    tmp_path: Path,
) -> None:
    """Review: two surveys sharing a required purpose; Erika agreed to the general survey
    only, and the event survey's request told her it had changed since she agreed."""
    (tmp_path / "event.toml").write_text(_EVENT, encoding="utf-8")
    store = MemoryStore()
    await store.open()
    clock = Clock()
    base = make_service(store, clock)
    service = FeedbackService(store, FlowCatalog.load(tmp_path), base.config, clock=clock)
    assert await service.archive_consent_texts() > 0  # what tells which survey a consent is of
    first = await service.start(ERIKA, "feedback")
    await service.press(ERIKA, press(first, "Ja, ich willige ein"))
    await service.cancel(ERIKA)
    asked = await service.start(ERIKA, "event")
    said = " ".join(r.text for r in asked.replies)
    assert "hat sich geändert" not in said and "changed since" not in said, said


async def test_a_stale_begin_button_does_not_discard_answers_it_was_not_shown_over() -> None:
    """Review: `b:<flow>` carried nothing of the answers it was offered over; pressed
    later, it discarded answers given since unasked."""
    store = MemoryStore()
    await store.open()
    clock = Clock()
    service = make_service(store, clock)
    pseudonym = store.pseudonym(ERIKA.subject)
    product = await service.start(ERIKA, "product")
    await service.press(ERIKA, press(product, "Ja, ich willige ein"))
    feedback = await service.start(ERIKA, "feedback")
    rating = await service.press(ERIKA, press(feedback, "Ja, ich willige ein"))
    await service.press(ERIKA, press(rating, "4"))
    asked = await service.start(ERIKA, "product")  # the button, over these answers
    stale = asked.replies[-1].buttons[0][0].data
    await service.cancel(ERIKA)  # those answers go
    again = await service.start(ERIKA, "feedback")  # a new run, answered anew
    await service.press(ERIKA, press(again, "2"))
    await service.press(ERIKA, stale)
    draft = await store.load_draft(pseudonym, clock())
    assert draft is not None and draft.payload["flow_id"] == "feedback", (
        "the answers given after the button was shown were discarded unasked"
    )


_SHARING = """
id = "product"
title = { de = "Produktfeedback", en = "Product feedback" }
intro = { de = "Wie gefällt Ihnen das Produkt?", en = "How do you like the product?" }

[[purposes]]
id = "product_rating"
required = true
description = { de = "Produktbewertung speichern", en = "Storing the product rating" }

[[purposes]]
id = "share_maker"
shares_feedback = true
description = { de = "Weitergabe an den Hersteller", en = "Passing it to the manufacturer" }

[[steps]]
id = "rating"
type = "rating"
prompt = { de = "Wie zufrieden sind Sie?", en = "How satisfied are you?" }

[[steps]]
id = "comment"
type = "text"
prompt = { de = "Ihr Kommentar?", en = "Your comment?" }

[[steps]]
id = "maker"
type = "consent"
purpose = "share_maker"
prompt = { de = "Dürfen wir es an den Hersteller geben?", en = "May we pass it on?" }

[[steps]]
id = "thanks"
type = "thanks"
prompt = { de = "Danke!", en = "Thanks!" }
"""


@pytest.mark.parametrize(
    "other",
    [
        {"name": "Other Corp Ltd (USA)"},
        {"fields": ("rating",)},
        {"redact": False},
    ],
    ids=["name", "fields", "redact"],
)
async def test_another_recipient_is_another_consent_text_and_notice_version(
    tmp_path: Path, other: dict[str, object]
) -> None:
    """DPO review: the consent to pass feedback on named neither the recipient nor what it
    gets, so swapping the recipient left the text, its SHA-256 and the notice version as
    they were: the record could not show whom a person agreed to, nobody was asked again."""
    (tmp_path / "product.toml").write_text(_SHARING, encoding="utf-8")
    catalog = FlowCatalog.load(tmp_path, shipped=["feedback"])
    store = MemoryStore()
    await store.open()
    clock = Clock()
    recorded = {}
    for n, changes in enumerate(({}, other)):
        recipient: dict[str, Any] = {
            "name": "ACME Manufacturing GmbH",
            "fields": ("rating", "comment"),
            "redact": True,
            **changes,
        }
        config = ServiceConfig(
            controller=Controller(name="Beispiel GmbH", contact="datenschutz@beispiel.de"),
            retention=timedelta(days=180),
            recipients=(
                *DEFAULT_RECIPIENTS,
                shared_recipient("acme", internal=False, purpose="share_maker", **recipient),
            ),
        )
        service = FeedbackService(store, catalog, config, clock=clock)
        person = Person(subject=f"tg-user:{n}", chat_id=n, locale="en")
        rating = await service.press(
            person, press(await service.start(person, "product"), "Yes, I agree")
        )
        await service.press(person, press(rating, "4"))
        question = await service.text(person, "Good")
        await service.press(person, press(question, "Yes, I agree"))
        [shared] = [
            c
            for c in await store.consents(store.pseudonym(person.subject))
            if c.purpose == "share_maker"
        ]
        assert shared.text_sha256 == sha256_hex(question.replies[-1].text), "what was shown"
        recorded[n] = (shared.notice_version, shared.text_sha256)
    assert recorded[0][0] != recorded[1][0], "the notice version"
    assert recorded[0][1] != recorded[1][1], "the SHA-256 of the text shown"


@pytest.mark.parametrize(
    ("fields", "redact", "told"),
    [
        (
            ("flow", "given_at", "comment", "rating"),
            True,
            "Wenn Sie zustimmen, erhält ACME GmbH Ihre Antworten auf „Wie zufrieden sind Sie?“ "
            "und „Ihr Kommentar?“, den Namen der Umfrage und den Zeitpunkt Ihres Feedbacks, "
            "zusammen mit einer Kennnummer des Feedbacks.\nE-Mail-Adressen, Telefonnummern "
            "u. Ä. werden vor der Weitergabe aus dem entfernt, was Sie geschrieben haben.\n",
        ),
        (
            ("comment",),
            False,
            "Wenn Sie zustimmen, erhält ACME GmbH Ihre Antwort auf „Ihr Kommentar?“, zusammen "
            "mit einer Kennnummer des Feedbacks.\nACME GmbH hat sie",
        ),
        (
            (),
            True,
            "Wenn Sie zustimmen, erhält ACME GmbH eine Kennnummer des Feedbacks, keine Ihrer "
            "Antworten.\nACME GmbH hat sie bis zu dem Tag zu löschen, an dem wir Ihr Feedback "
            "löschen (es wird 30 Tage lang aufbewahrt)",
        ),
    ],
)
def test_the_question_to_pass_feedback_on_says_what_goes(
    tmp_path: Path, fields: tuple[str, ...], redact: bool, told: str
) -> None:
    """Answers by their questions, in the flow's order; the survey, the time and the
    reference number in words; the redaction only where free text goes, redacted."""
    (tmp_path / "product.toml").write_text(_SHARING, encoding="utf-8")
    flow = FlowCatalog.load(tmp_path, shipped=["feedback"]).flows["product"]
    [step] = [s for s in flow.steps if isinstance(s, ConsentStep)]
    acme = shared_recipient(
        "acme", "ACME GmbH", internal=False, purpose="share_maker", fields=fields, redact=redact
    )
    other = shared_recipient("other", "Other Ltd", internal=False, purpose="share_other")
    text = optional_consent_text(
        flow, step, translator("de"), timedelta(days=30), (*DEFAULT_RECIPIENTS, acme, other)
    )
    assert told in text, text
    assert "Other Ltd" not in text, "a recipient of another purpose"
    assert ("entfernt" in text) == (redact and "comment" in fields)


async def test_a_message_right_after_cancel_is_told_the_survey_was_cancelled(
    service: FeedbackService, clock: Clock
) -> None:
    """Found by a customer walk-through: a "3" typed right after /abbrechen was told that
    only a survey left unfinished for 30 minutes is discarded, as if it had timed out."""
    rating = await service.press(ERIKA, press(await service.start(ERIKA), "Ja, ich willige ein"))
    await service.press(ERIKA, press(rating, "4"))
    await service.cancel(ERIKA)
    clock.now += timedelta(seconds=30)
    [said] = (await service.text(ERIKA, "3")).replies
    assert said.text == (
        "Sie haben die Umfrage abgebrochen, deshalb habe ich diese Nachricht nicht "
        "gespeichert. Mit /start geben Sie erneut Feedback; /hilfe zeigt, was ich kann."
    ), said.text
    clock.now += timedelta(minutes=31)
    [later] = (await service.text(ERIKA, "3")).replies
    assert later.text.startswith("Gerade läuft keine Umfrage"), later.text
    await service.cancel(ERIKA)  # nothing to cancel: no survey was under way
    [again] = (await service.text(ERIKA, "3")).replies
    assert again.text.startswith("Gerade läuft keine Umfrage"), again.text


async def test_a_survey_cancelled_is_begun_again_with_its_own_start(
    service: FeedbackService, clock: Clock
) -> None:
    """Found by a customer walk-through: /abbrechen in the product survey said "Mit /start
    können Sie Feedback geben", which began the general survey."""
    rating = await service.press(
        ERIKA, press(await service.start(ERIKA, "product"), "Ja, ich willige ein")
    )
    await service.press(ERIKA, press(rating, "3"))
    [cancelled] = (await service.cancel(ERIKA)).replies
    assert cancelled.text.endswith(" Mit /start product können Sie Feedback geben."), cancelled
    clock.now += timedelta(seconds=30)
    [said] = (await service.text(ERIKA, "3")).replies
    assert "Mit /start product geben Sie erneut Feedback" in said.text, said.text
    [again] = (await service.cancel(ERIKA)).replies  # (a second /abbrechen: its review)
    assert again.text == "Es gibt nichts abzubrechen. Mit /start product geben Sie Feedback."
    # the general survey's, as before
    await service.press(ERIKA, press(await service.start(ERIKA), "Ja, ich willige ein"))
    [cancelled] = (await service.cancel(ERIKA)).replies
    assert cancelled.text.endswith(" Mit /start können Sie Feedback geben."), cancelled


async def test_a_survey_finished_after_a_cancel_is_not_said_cancelled(
    service: FeedbackService, clock: Clock
) -> None:
    """Review of the change: a survey begun by an older request's button after /cancel,
    and finished, was said cancelled to the message after its thanks."""
    request = await service.start(ERIKA)
    rating = await service.press(ERIKA, press(request, "Ja, ich willige ein"))
    await service.press(ERIKA, press(rating, "4"))
    await service.cancel(ERIKA)
    begun = await service.press(ERIKA, press(request, "Ja, ich willige ein"))
    comment = await service.press(ERIKA, press(begun, "3"))
    contact = await service.text(ERIKA, "Gut")
    await service.press(ERIKA, press(contact, "Nein"))
    clock.now += timedelta(seconds=30)
    [said] = (await service.text(ERIKA, "Und das Personal war unfreundlich")).replies
    assert "abgebrochen" not in said.text and "angekommen" in said.text, said.text
    assert comment.replies
