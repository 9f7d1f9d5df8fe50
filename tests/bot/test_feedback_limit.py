"""The feedback limit (FEEDBACKBOT_FEEDBACK_LIMIT): at most N feedbacks per person and
survey in any 24 hours (found by a security review: one person, or a script on one
account, could submit a survey without end). Told before a survey begins, plainly and
with the time from which another is possible; the rest of the bot keeps working."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.fakeapi import FakeBotApi
from bot.settings import ConfigurationError, load_settings
from tests.harness import (
    Clock,
    Customer,
    Harness,
    files_contain,
    labels,
    leaked_into_log,
    make_settings,
    texts,
)

HOUR, DAY = timedelta(hours=1), timedelta(days=1)
COMMENT = "Sehr freundliche Beratung am Schalter"
YES = "Ja, ich willige ein"


@pytest.fixture
def limit() -> str | None:
    """FEEDBACKBOT_FEEDBACK_LIMIT as the operator writes it; None: unset (the default).
    A test gives its own with @pytest.mark.parametrize("limit", [...])."""
    return None


@pytest.fixture
async def limited(
    api: FakeBotApi,
    clock: Clock,
    data_dir: Path,
    caplog: pytest.LogCaptureFixture,
    limit: str | None,
) -> AsyncIterator[Harness]:
    caplog.set_level(logging.DEBUG)
    overrides: dict[str, Any] = {} if limit is None else {"feedback_limit": limit}
    harness = Harness(api=api, settings=make_settings(data_dir, **overrides), clock=clock)
    await harness.start()
    yield harness
    await harness.stop()
    records = [*caplog.get_records("setup"), *caplog.get_records("call"), *caplog.records]
    assert not leaked_into_log(records, harness.personal)


async def give_feedback(customer: Customer) -> list[Any]:
    """The shipped feedback survey from /start to its thanks; what the bot said last."""
    said = await customer.send("/start")
    if any(YES in row for m in said for row in labels(m)):
        said = await customer.press(YES)
    assert "Wie zufrieden" in texts(said), texts(said)
    await customer.press("4")
    await customer.send(COMMENT)
    return await customer.press("Nein")


def shown(harness: Harness, message: Any) -> Any:
    """`message` as the chat shows it now (its buttons gone, say)."""
    [now] = [
        m
        for m in harness.api.messages(message["chat_id"])
        if m["message_id"] == message["message_id"]
    ]
    return now


async def stored(harness: Harness, customer: Customer, flow_id: str = "feedback") -> int:
    store = harness.store
    assert store is not None
    person = store.pseudonym(f"tg-user:{customer.user_id}")
    now = harness.clock()
    return await store.count_feedback(person, flow_id, now - 30 * DAY, now)


@pytest.mark.parametrize("limit", ["2"])
async def test_a_third_survey_the_same_day_is_told_the_limit_and_when_it_is_possible(
    limited: Harness,
) -> None:
    erika = limited.customer()
    await give_feedback(erika)  # 09:00 UTC, 10:00 in Berlin
    limited.clock.advance(3 * HOUR)
    await give_feedback(erika)
    limited.clock.advance(2 * HOUR)

    said = await erika.send("/start")
    assert texts(said) == (
        "Vielen Dank für Ihr Interesse! Sie haben in den letzten 24 Stunden bereits 2 Feedbacks "
        "zu dieser Umfrage gegeben; mehr nimmt sie von einer Person in diesem Zeitraum nicht an. "
        "Ab 30.11.2026, 10:00 MEZ können Sie wieder Feedback geben."
    )
    assert all(m["buttons"] == [] for m in said), "no consent request, no question"
    english = limited.customer(erika.user_id, language_code="en")
    said = await english.send("/start")
    assert texts(said) == (
        "Thank you for your interest! You have already given 2 responses to this survey in "
        "the last 24 hours, the most it takes from one person in that time. You can give "
        "another from 30 Nov 2026, 10:00 CET."
    )
    # What a person may always do still works.
    [summary, *_] = await erika.send("/meinedaten")
    assert "Kurz gesagt: 2 Feedbacks" in summary["text"]
    assert await stored(limited, erika) == 2

    limited.clock.advance(19 * HOUR - timedelta(minutes=1))  # 09:59 next day: not yet
    assert "Ab 30.11.2026, 10:00 MEZ" in texts(await erika.send("/start"))
    limited.clock.advance(timedelta(minutes=1))  # a day after the first: one left
    said = await erika.send("/start")
    assert "Wie zufrieden" in texts(said)
    await erika.press("5")
    await erika.send(COMMENT)
    assert "Vielen Dank" in texts(await erika.press("Nein"))
    assert await stored(limited, erika) == 3


@pytest.mark.parametrize("limit", ["1"])
async def test_a_message_while_the_limit_holds_is_told_when_not_to_send_start(
    limited: Harness,
) -> None:
    """Found by a customer walk-through: a "5" typed after the limit's answer was told
    "Send /start to give feedback again", which the limit then refused once more."""
    erika = limited.customer()
    await give_feedback(erika)
    just_after = texts(await erika.send("Und das Personal war unfreundlich"))
    assert just_after.startswith(
        "Ihr Feedback ist angekommen. Gerade ist keine Frage offen, daher habe ich diese "
        "Nachricht nicht gespeichert. Ab 30.11.2026, 10:00 MEZ können Sie wieder Feedback zu "
        "„Kundenfeedback“ geben; /hilfe zeigt, was ich kann."
    ), just_after
    limited.clock.advance(2 * HOUR)  # the survey's idle time over: no longer just finished
    for typed in ("5", "Noch etwas: der Kaffee war kalt"):
        said = texts(await erika.send(typed))
        assert said.startswith(
            "Gerade ist keine Frage offen, daher habe ich diese Nachricht nicht gespeichert. Sie "
            "haben so viel Feedback zu „Kundenfeedback“ gegeben, wie die Umfrage in 24 Stunden "
            "von einer Person annimmt; ab 30.11.2026, 10:00 MEZ können Sie wieder welches "
            "geben. /hilfe zeigt, was ich kann."
        ), typed
        assert "/start" not in said, said
    english = limited.customer(erika.user_id, language_code="en")
    said = texts(await english.send("5"))
    assert "to “Customer feedback” as it takes" in said, said
    assert "you can give more from 30 Nov 2026, 10:00 CET." in said, said
    assert await stored(limited, erika) == 1, "nothing of it stored"
    limited.clock.advance(DAY)  # possible again: told so as before
    assert "/start" in texts(await erika.send("5"))


@pytest.mark.parametrize("limit", ["1"])
async def test_thanks_while_the_limit_holds_is_answered_as_thanks(limited: Harness) -> None:
    """A thanks after the thanks, also hours later (the review of the change above: the
    limit's answer instead, which read like a rebuke); and a message after /abbrechen of
    another survey is told it was cancelled, not the limit."""
    erika = limited.customer()
    await give_feedback(erika)
    for later in (timedelta(0), 2 * HOUR):
        limited.clock.advance(later)
        assert texts(await erika.send("Danke!")) == (
            "Gern geschehen, und danke für Ihr Feedback!"
        ), later
        said = texts(await erika.send("Tschüss"))
        assert "Feedback" in said and "ab 30.11.2026" not in said, said
    await erika.send("/start product")
    await erika.press(YES)
    await erika.press("3")
    await erika.send("/abbrechen")
    assert texts(await erika.send("3")).startswith("Sie haben die Umfrage abgebrochen")


@pytest.mark.parametrize("limit", ["1"])
@pytest.mark.parametrize("late", [timedelta(seconds=30), timedelta(milliseconds=250)])
async def test_the_time_shown_is_the_minute_from_which_another_is_possible(
    limited: Harness, late: timedelta
) -> None:
    """Shown to the minute, rounded up: at the minute shown it is possible, not refused
    again for the seconds that were left out, nor for a fraction of one (a real clock
    has microseconds: mutation audit, rounding up whole seconds only went unnoticed)."""
    erika = limited.customer()
    limited.clock.advance(late)
    await give_feedback(erika)  # 10:00:30 in Berlin, or a quarter of a second past 10:00
    assert "Ab 30.11.2026, 10:01 MEZ können Sie" in texts(await erika.send("/start"))
    limited.clock.advance(DAY + timedelta(minutes=1) - late)  # 10:01 the next day
    assert "Wie zufrieden" in texts(await erika.send("/start"))


@pytest.mark.parametrize("limit", ["3"])
async def test_a_limit_lowered_below_what_was_given_counts_it_all_and_names_when_enough_left(
    limited: Harness, data_dir: Path
) -> None:
    """The operator lowers FEEDBACKBOT_FEEDBACK_LIMIT (a restart) below what someone gave
    today: they are told how many they gave, and the time from which another is possible,
    when all but the new limit's number have left the last 24 hours, not when the first
    has (mutation audit: the first one's time, or the limit as the count, went unnoticed)."""
    erika = limited.customer()
    for _ in range(3):  # 10:00, 11:00 and 12:00 in Berlin
        await give_feedback(erika)
        limited.clock.advance(HOUR)
    limited.settings = make_settings(data_dir, feedback_limit="1")
    await limited.restart()

    said = texts(await erika.send("/start"))
    assert "bereits 3 Feedbacks zu dieser Umfrage gegeben" in said, said
    assert said.endswith("Ab 30.11.2026, 12:00 MEZ können Sie wieder Feedback geben."), said
    limited.clock.advance(DAY - HOUR - timedelta(minutes=1))  # 11:59 in Berlin the next day
    said = texts(await erika.send("/start"))
    assert "bereits ein Feedback" in said and "Ab 30.11.2026, 12:00 MEZ" in said, said
    limited.clock.advance(timedelta(minutes=1))
    assert "Wie zufrieden" in texts(await erika.send("/start"))


@pytest.mark.parametrize("limit", ["2"])
async def test_another_survey_is_not_limited_and_an_erasure_lifts_the_limit(
    limited: Harness,
) -> None:
    erika = limited.customer()
    await give_feedback(erika)
    await give_feedback(erika)
    assert "bereits 2 Feedbacks" in texts(await erika.send("/start"))
    [notice] = await erika.send("/start product")
    assert labels(notice) == [[YES, "Nein, danke"]], "the other survey asks for consent"
    assert "bereits" not in notice["text"]

    await erika.send("/loeschen")
    await erika.press("Alles löschen")
    assert await stored(limited, erika) == 0
    said = await erika.send("/start")
    assert labels(said[-1]) == [[YES, "Nein, danke"]], "erased feedback no longer counts"


@pytest.mark.parametrize("limit", ["1"])
async def test_an_old_consent_button_does_not_begin_a_survey_past_the_limit(
    limited: Harness,
) -> None:
    """The Yes of a consent request still in the chat would record the consent and begin
    the questions: refused before either, so nobody answers only to be refused."""
    erika = limited.customer()
    [notice] = await erika.send("/start")
    yes = next(data for label, data in notice["buttons"][0] if label == YES)
    await erika.send("/start")  # a second request: the first keeps its buttons
    await erika.press(YES)  # the second's
    await erika.press("4")
    await erika.send(COMMENT)
    await erika.press("Nein")
    store = limited.store
    assert store is not None
    consents = await store.consents(store.pseudonym(f"tg-user:{erika.user_id}"))

    said = await erika.press_data(notice["message_id"], yes)
    assert texts(said) == (
        "Vielen Dank für Ihr Interesse! Sie haben in den letzten 24 Stunden bereits ein "
        "Feedback zu dieser Umfrage gegeben; mehr nimmt sie von einer Person in diesem "
        "Zeitraum nicht an. Ab 30.11.2026, 10:00 MEZ können Sie wieder Feedback geben."
    )
    assert await store.consents(store.pseudonym(f"tg-user:{erika.user_id}")) == consents
    assert shown(limited, notice)["buttons"] == [], "its buttons go, not to be pressed again"
    assert (
        await store.load_draft(store.pseudonym(f"tg-user:{erika.user_id}"), limited.clock()) is None
    )


@pytest.mark.parametrize("limit", ["2"])
async def test_a_survey_begun_over_another_is_refused_with_the_other_asked_again(
    limited: Harness, data_dir: Path
) -> None:
    """The limit lowered by a restart between the question whether to begin another
    survey over unfinished answers and its button: the answers under way stay, and their
    question is asked again."""
    erika = limited.customer()
    await give_feedback(erika)
    await erika.send("/start product")
    await erika.press(YES)
    await erika.press("3")  # the product survey under way
    [ask] = await erika.send("/start feedback")
    assert labels(ask) == [["„Kundenfeedback“ beginnen"]]
    limited.settings = make_settings(data_dir, feedback_limit="1")
    await limited.restart()

    said = await erika.press("„Kundenfeedback“ beginnen")
    assert "bereits ein Feedback zu dieser Umfrage gegeben" in texts(said)
    assert "Ihre Umfrage läuft noch" in texts(said), "the product survey goes on"
    assert "Wie zufrieden" not in texts(said)
    assert shown(limited, ask)["buttons"] == [], "the refused button goes (mutation audit)"


@pytest.mark.parametrize("limit", ["2"])
async def test_answers_refused_at_submission_are_said_to_be_discarded_and_kept_nowhere(
    limited: Harness, data_dir: Path
) -> None:
    """The limit reached while the person answered (here: lowered by a restart; or given
    meanwhile through a second process): checked again in the transaction that would
    store the feedback. The person is told their answers were not saved and why; the
    unfinished answers are gone from every file."""
    erika = limited.customer()
    await give_feedback(erika)
    await erika.send("/start")
    await erika.press("4")
    secret = "Kanarienvogel-Kommentar-im-Limit"
    await erika.send(secret)
    limited.settings = make_settings(data_dir, feedback_limit="1")
    await limited.restart()
    with closing(sqlite3.connect(data_dir / "feedback.db")) as db:
        [(sealed,)] = db.execute("SELECT ciphertext FROM drafts").fetchall()

    said = await erika.press("Nein")
    assert texts(said) == (
        "Ihre Antworten konnten nicht gespeichert werden und wurden verworfen: Sie haben in "
        "den letzten 24 Stunden bereits ein Feedback zu dieser Umfrage gegeben; mehr nimmt "
        "sie von einer Person in diesem Zeitraum nicht an. Ab 30.11.2026, 10:00 MEZ können "
        "Sie wieder Feedback geben."
    )
    assert await stored(limited, erika) == 1
    store = limited.store
    assert store is not None
    assert (
        await store.load_draft(store.pseudonym(f"tg-user:{erika.user_id}"), limited.clock()) is None
    )
    # Gone from the files at once, not at the next purge (mutation audit: the draft's
    # sealed answers left in the data file went unnoticed), and no button left to press.
    assert not files_contain(data_dir, sealed)
    assert [m for m in limited.api.messages(erika.chat_id) if m["buttons"]] == []
    await limited.stop()
    assert not files_contain(data_dir, secret.encode())
    await limited.start()


@pytest.mark.parametrize("limit", ["off", "0", "00"])
async def test_off_never_limits(limited: Harness) -> None:
    erika = limited.customer()
    for _ in range(11):  # past the default of ten
        assert "Vielen Dank" in texts(await give_feedback(erika))
    assert await stored(limited, erika) == 11


async def test_the_default_is_ten_feedbacks_a_day(limited: Harness) -> None:
    erika = limited.customer()
    for _ in range(10):
        assert "Vielen Dank" in texts(await give_feedback(erika))
    said = await erika.send("/start")
    assert "bereits 10 Feedbacks zu dieser Umfrage gegeben" in texts(said)
    assert await stored(limited, erika) == 10


# --- the setting -------------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(__import__("os").environ):
        if name.startswith("FEEDBACKBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env from the checkout


@pytest.mark.parametrize(
    ("value", "limit"),
    [
        (None, 10),
        ("3", 3),
        (" 25 ", 25),
        ("off", None),
        ("OFF", None),
        ("0", None),
        # zero written otherwise: read as 0, it passed, and `run` stopped with a traceback
        # (found by a review of the change)
        ("00", None),
        ("+0", None),
        ("", 10),  # left empty in a .env: the default, not off (mutation audit)
        ("  ", 10),
    ],
)
@pytest.mark.usefixtures("clean_env")
def test_the_setting_reads_a_number_or_off(
    monkeypatch: pytest.MonkeyPatch, value: str | None, limit: int | None
) -> None:
    if value is not None:
        monkeypatch.setenv("FEEDBACKBOT_FEEDBACK_LIMIT", value)
    assert load_settings().feedback_limit == limit


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("-1", "cannot be negative; use e.g. 10, or off for no limit"),
        ("zehn", "'zehn' is not a number of responses; use e.g. 10, or off for no limit"),
        ("2.5", "'2.5' is not a number of responses"),
    ],
)
@pytest.mark.usefixtures("clean_env")
def test_a_wrong_limit_is_refused_at_start_saying_why(
    monkeypatch: pytest.MonkeyPatch, value: str, reason: str
) -> None:
    monkeypatch.setenv("FEEDBACKBOT_FEEDBACK_LIMIT", value)
    with pytest.raises(ConfigurationError) as error:
        load_settings()
    assert f"FEEDBACKBOT_FEEDBACK_LIMIT: {reason}" in str(error.value)


@pytest.mark.usefixtures("clean_env")
def test_a_wrong_limit_is_said_in_the_operators_language(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    monkeypatch.setenv("FEEDBACKBOT_FEEDBACK_LIMIT", "-3")
    with pytest.raises(ConfigurationError) as error:
        load_settings()
    assert "FEEDBACKBOT_FEEDBACK_LIMIT: darf nicht negativ sein; verwenden Sie z. B. 10" in str(
        error.value
    )
