"""Staff commands through the real bot: who may, what they see, what is audited."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from bot.app import post_digest
from bot.cli.staff import shown_detail
from flows.catalog import FlowCatalog
from flows.durations import InvalidDuration, parse_duration
from flows.i18n import translator
from flows.staff import (
    EndedPeriod,
    EndsBeforeItBegins,
    first_day_named,
    period_and_survey,
    staff_period,
)
from tests.bot.test_changed_under_way import survey
from tests.bot.test_customer_messages import stored_comment
from tests.bot.test_rights import SCHEMA, export_of
from tests.fakes.botapi import FakeBotApi
from tests.harness import Clock, Harness, files_contain, labels, make_settings, texts

STAFF, STAFF_CHAT, OUTSIDER = 7001, -1007002, 7003
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def staff_desk(api: FakeBotApi, clock: Clock, folder: Path, **overrides: Any) -> Harness:
    """The bot of a team with a staff chat, alerts at 2 or below and a daily digest (not
    started); `overrides` change or add settings."""
    staff: dict[str, Any] = {
        "staff_ids": str(STAFF),
        "staff_chat_id": STAFF_CHAT,
        "alert_threshold": 2,
        "digest": "daily 08:00",
    }
    settings = make_settings(folder / "data", **(staff | overrides))
    return Harness(api=api, settings=settings, clock=clock)


@pytest.fixture
async def desk(
    api: FakeBotApi, clock: Clock, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Harness]:
    harness = staff_desk(api, clock, tmp_path)
    marker = request.node.get_closest_marker("read_timeout")
    if marker is not None:
        harness.read_timeout = marker.args[0]
    await harness.start()
    yield harness
    await harness.stop()


async def give(harness: Harness, user_id: int, rating: str, comment: str) -> None:
    customer = harness.customer(user_id)
    await customer.send("/start")
    await customer.press("Ja, ich willige ein")
    await customer.press(rating)
    await customer.send(comment)
    await customer.press("Nein")


async def confirmed(harness: Harness, user_id: int = STAFF, language: str = "de") -> None:
    staff = harness.customer(user_id, language_code=language)
    rules = await staff.send("/summary")
    assert "vertraulich" in texts(rules) or "confidential" in texts(rules)
    await staff.press("Ich bestätige" if language == "de" else "I confirm")


async def many(harness: Harness, count: int = 10, then_next_day: bool = True) -> None:
    """`count` people give feedback, three hours apart from 12:00 UTC; then a day passes,
    so that summaries count their days (whole days only, see flows.staff)."""
    for n in range(count):
        harness.clock.advance(timedelta(hours=3))
        await give(
            harness, 100 + n, str(5 - n % 3), f"Sehr freundlich, ruft mich an unter 0151/234567{n}"
        )
    if then_next_day:
        harness.clock.advance(timedelta(days=1))


async def test_outsider_gets_exactly_the_unknown_command_answer(desk: Harness) -> None:
    await many(desk)
    outsider = desk.customer(OUTSIDER)
    unknown = texts(await outsider.send("/gibtsnicht"))
    assert texts(await outsider.send("/zusammenfassung")) == unknown
    assert texts(await outsider.send("/summary 30d")) == unknown
    assert not await desk.store.audit_entries(desk.clock() - timedelta(days=1))  # type: ignore[union-attr]


async def test_staff_summary_in_private_with_chart_and_redacted_comments(desk: Harness) -> None:
    await many(desk)
    await confirmed(desk)
    answer = await desk.customer(STAFF).send("/zusammenfassung")
    text = texts(answer)
    assert "Feedbacks: 10" in text and "Personen: 10" in text and "Durchschnitt" in text
    assert "Eine Frage zählt nur" not in text, "every feedback answered the one question"
    assert "[Telefon]" in text and "234567" not in text
    [photo] = [m["photo"] for m in answer if m["photo"]]
    assert photo.startswith(PNG_MAGIC)
    entries = await desk.store.audit_entries(desk.clock() - timedelta(days=1))  # type: ignore[union-attr]
    [rules, shown_on_confirming, entry] = entries
    assert (rules.event, rules.actor) == ("staff-rules-confirmed", f"staff:{STAFF}")
    assert (shown_on_confirming.event, shown_on_confirming.records) == ("summary", 10)
    assert (entry.event, entry.actor, entry.records, entry.detail) == (
        "summary",
        f"staff:{STAFF}",
        10,
        "7d",
    )


async def test_staff_summary_works_in_the_staff_chat_only(desk: Harness) -> None:
    await many(desk)
    await confirmed(desk, language="en")
    in_staff_chat = await desk.deliver(
        desk.api.user_message(
            STAFF, "/summary 30d", chat_id=STAFF_CHAT, chat_type="supergroup", language_code="en"
        )
    )
    assert "Feedback summary" in texts(in_staff_chat) and "30 days" in texts(in_staff_chat)
    elsewhere = await desk.deliver(
        desk.api.user_message(
            STAFF, "/summary", chat_id=-100999, chat_type="group", language_code="en"
        )
    )
    assert "Feedback summary" not in texts(elsewhere)
    # Their other commands there got no answer at all: now one saying where they work.
    for command in ("/hilfe", "/meinedaten", "/start"):
        other = await desk.deliver(
            desk.api.user_message(STAFF, command, chat_id=STAFF_CHAT, chat_type="supergroup")
        )
        assert texts(other) == (
            "Im Team-Chat beantworte ich nur /zusammenfassung und /antworten; alles andere "
            "geht im privaten Chat mit mir."
        )


async def test_a_mistyped_staff_command_is_named_to_staff_and_to_no_one_else(
    desk: Harness,
) -> None:
    """Found by a staff walk-through: "/zusammenfasung" was "I do not know that command"
    and the customers' help, without the staff commands; in the staff chat it was told
    that only the staff commands work there."""
    staff = desk.customer(STAFF)
    said = texts(await staff.send("/zusammenfasung 7d"))
    assert said == "Diesen Befehl kenne ich nicht. Meinten Sie /zusammenfassung?", said
    said = texts(await staff.send("/sumary"))
    assert said == "Diesen Befehl kenne ich nicht. Meinten Sie /summary?", said
    said = texts(await staff.send("/antwort 12 Gern geschehen"))
    assert said == "Diesen Befehl kenne ich nicht. Meinten Sie /antworten?", said
    # without its slash (found by a staff walk-through: told to agree to the consent
    # request); to a customer, as any text
    for typed, meant in (
        ("Zusammenfassung bitte", "/zusammenfassung"),
        ("zusammenfassung 30d", "/zusammenfassung 30d"),
        ("Summary!", "/summary"),
    ):
        said = texts(await staff.send(typed))
        assert said == f"Befehle beginnen mit einem Schrägstrich: Meinten Sie {meant}?", said
    assert "Schrägstrich" not in texts(await desk.customer(OUTSIDER).send("Zusammenfassung"))
    for typed in ("Reply faster please", "Antworten kamen schnell", "Summary of my stay"):
        assert "Schrägstrich" not in texts(await staff.send(typed)), typed  # (its review)
    # the period without its space (found by a staff walk-through: the whole help)
    said = texts(await staff.send("/zusammenfassung7d"))
    assert said == "Diesen Befehl kenne ich nicht. Meinten Sie /zusammenfassung 7d?", said
    said = texts(await staff.send("/summary30d"))
    assert said == "Diesen Befehl kenne ich nicht. Meinten Sie /summary 30d?", said
    # the whole help, to staff with theirs
    said = texts(await staff.send("/irgendwas"))
    assert "Für Mitarbeitende:" in said and "/zusammenfassung" in said, said
    in_staff_chat = await desk.deliver(
        desk.api.user_message(STAFF, "/zusammenfasung", chat_id=STAFF_CHAT, chat_type="supergroup")
    )
    assert texts(in_staff_chat) == "Diesen Befehl kenne ich nicht. Meinten Sie /zusammenfassung?"
    glued = await desk.deliver(  # (its first word: the review of naming the period with it)
        desk.api.user_message(STAFF, "/summary7d", chat_id=STAFF_CHAT, chat_type="supergroup")
    )
    assert texts(glued) == "Diesen Befehl kenne ich nicht. Meinten Sie /summary 7d?"
    # a customer is not told of staff commands
    customer = desk.customer(OUTSIDER)
    for typed in ("/zusammenfasung", "/antwort"):
        said = texts(await customer.send(typed))
        assert said.startswith("Diesen Befehl kenne ich nicht."), said
        assert "zusammenfassung" not in said and "antworten" not in said, said
    assert "Für Mitarbeitende" not in said, said


async def test_a_colleague_not_on_the_staff_list_is_told_so_in_the_staff_chat(
    desk: Harness,
) -> None:
    """Found by a staff walk-through: a new colleague, in the staff chat but not yet in
    FEEDBACKBOT_STAFF_IDS, chose /zusammenfassung from its menu and was told that feedback
    is taken in private only; in private the bot knew no such command. Outside the staff
    chat a staff command still says nothing of staff."""

    def in_chat(chat_id: int, text: str) -> Any:
        update = desk.api.user_message(OUTSIDER, text, chat_id=chat_id, chat_type="supergroup")
        return desk.deliver(update)

    told = (
        "/zusammenfassung und /antworten sind für die Mitarbeitenden, mit denen ich "
        "eingerichtet bin (FEEDBACKBOT_STAFF_IDS), und Sie gehören nicht dazu: Wer mich "
        "betreibt, kann Ihre Telegram-Nutzer-ID dort eintragen und mich neu starten."
    )
    for command in ("/zusammenfassung 30d", "/antworten Danke!", "/summary@feedback_test_bot"):
        assert texts(await in_chat(STAFF_CHAT, command)) == told, command
    other = texts(await in_chat(STAFF_CHAT, "/hilfe"))
    assert other.startswith("Feedback nehme ich nur im privaten Chat"), "not a staff command"
    elsewhere = texts(await in_chat(-100999, "/zusammenfassung"))
    assert elsewhere.startswith("Feedback nehme ich nur im privaten Chat"), elsewhere
    assert "FEEDBACKBOT_STAFF_IDS" not in texts(desk.api.messages(-100999))
    assert not await desk.store.audit_entries(desk.clock() - timedelta(days=1))  # type: ignore[union-attr]


async def test_fewer_than_k_people_show_nothing(desk: Harness) -> None:
    await many(desk, count=3)
    await confirmed(desk)
    answer = await desk.customer(STAFF).send("/zusammenfassung")
    assert "Noch kein Feedback" in texts(answer) and "mindestens 5 Personen" in texts(answer)
    assert "freundlich" not in texts(answer) and "Feedbacks:" not in texts(answer)
    assert not any(m["photo"] for m in answer)


async def test_the_configured_minimum_group_size_decides(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path / "data", staff_ids=str(STAFF), min_group_size=8)
    harness = Harness(api=api, settings=settings, clock=clock)
    await harness.start()
    try:
        await many(harness, count=6)  # enough for the default of 5, not for 8
        await confirmed(harness)
        staff = harness.customer(STAFF)
        answer = texts(await staff.send("/zusammenfassung"))
        assert "Noch kein Feedback" in answer and "mindestens 8 Personen" in answer
        assert "Feedbacks:" not in answer and "freundlich" not in answer
        for n in range(2):  # two more people on the same day as the last of the six
            harness.clock.advance(timedelta(minutes=1))
            await give(harness, 200 + n, "4", "Zwei mehr")
        harness.clock.advance(timedelta(days=1))
        answer = texts(await staff.send("/zusammenfassung 30d"))
        assert "Feedbacks: 8" in answer and "Personen: 8" in answer, answer
    finally:
        await harness.stop()


async def test_a_group_that_loses_feedback_is_left_out_whole(desk: Harness) -> None:
    await many(desk, count=5)
    await confirmed(desk)
    staff = desk.customer(STAFF)
    assert "Personen: 5" in texts(await staff.send("/zusammenfassung"))
    person = desk.customer(100)
    await person.send("/loeschen")
    await person.press("Alles löschen")
    answer = await staff.send("/zusammenfassung")
    left_out = "Nicht gezählt: 29.–30. Nov. 2026 (eine Gruppe von Tagen)."
    assert left_out in texts(answer), "which days, not only how many"
    assert "Personen: 0" in texts(answer)
    assert "freundlich" not in texts(answer) and not any(m["photo"] for m in answer)


async def test_a_withdrawal_takes_feedback_out_and_feedback_after_agreeing_again_counts(
    desk: Harness,
) -> None:
    await many(desk)
    person = desk.customer(100)
    await person.send("/widerruf")
    withdrawn = texts(await person.press("Speicherung Ihres Feedbacks"))
    assert "damit gegeben haben, gelöscht" in withdrawn
    await person.press("Daten behalten")
    desk.clock.advance(timedelta(hours=1))
    await give(desk, 100, "1", "Neuer Versuch nach dem Widerruf")
    for user_id in range(200, 204):  # four more that day: a group of five with the new one
        await give(desk, user_id, "4", "gut")
    desk.clock.advance(timedelta(days=1))
    await confirmed(desk)
    summary = texts(await desk.customer(STAFF).send("/zusammenfassung"))
    assert "Feedbacks: 14" in summary, "the nine others, the new one and four more"
    assert "Neuer Versuch nach dem Widerruf" in summary


async def test_bad_period_is_explained(desk: Harness) -> None:
    await confirmed(desk)
    assert "verstehe ich nicht" in texts(await desk.customer(STAFF).send("/zusammenfassung bald"))
    # a number with a unit the bot does not know is not taken for days
    answer = texts(await desk.customer(STAFF).send("/zusammenfassung 1 Quartal"))
    assert "verstehe ich nicht" in answer
    # nor is a second period let go unread (a staff-side audit: "1 Tag 12 Stunden" was a day)
    # found by review: spelled-out second periods, an article or a plural alone, "Mo"
    for typed in (
        "1 Tag 12 Stunden",
        "7d 30d",
        "1 Woche und einen Tag",
        "2 weeks and a day",
        "eine",
        "Tage",
        "Mo",
    ):
        answer = texts(await desk.customer(STAFF).send(f"/zusammenfassung {typed}"))
        assert "verstehe ich nicht" in answer, typed


@pytest.mark.parametrize(
    ("typed", "same_as"),
    [
        ("7", "7d"),  # a member of staff does not mean seven seconds
        ("7 Tage", "7d"),
        ("2 Wochen", "2w"),
        ("2 weeks", "2w"),
        ("36 Stunden", "36h"),
        ("3 days", "3d"),
        ("30d bitte", "30d"),  # words after the period are let go, as they always were
        ("2 weeks please", "2w"),
        # found by a staff-side audit: read as 1 and 3 days, 12 days, without a word
        ("1 Monat", "30d"),
        ("3 Monate", "90d"),
        ("36 Std.", "36h"),
        ("1 Jahr", "365d"),
        ("7 Tg.", "7d"),
        # found by a second staff-side audit: refused
        ("2 Wo.", "2w"),
        ("1 Mon.", "30d"),
        ("eine Woche", "1w"),
        # in words, and pasted with a zero-width space (found by a staff walk-through)
        ("zwei Wochen", "2w"),
        ("two weeks", "2w"),
        ("drei Tage", "3d"),
        ("\u200b7d", "7d"),
        ("a week", "1w"),
        ("Woche", "1w"),
        ("letzte 14 Tage", "14d"),
        ("the last 2 weeks", "2w"),
        ("3M", "90d"),  # months, as in business, not three minutes
        ("0000030", "30d"),
        # found by a staff walk-through: "1.5w" was taken, "1,5 Wochen" not understood
        ("1,5 Wochen", "252h"),
        ("1,5w", "252h"),
        ("1.5w", "252h"),
        ("1.5 weeks", "252h"),
        ("anderthalb Wochen", "252h"),
        ("a week and a half", "252h"),
        ("30,5", "732h"),  # days, as a whole number is
        # found by a staff walk-through: not understood
        ("eine halbe Woche", "84h"),
        ("half a week", "84h"),
        ("1½ Wochen", "252h"),
        ("1 ½w", "252h"),
        ("gestern", "1d"),  # the last whole day
        ("Yesterday", "1d"),
        # found by a staff walk-through: not understood
        ("7 Tage!", "7d"),
        ("30 Tage, bitte", "30d"),
        ("seit einer Woche", "1w"),
        ("im letzten Monat", "30d"),
    ],
)
async def test_a_period_is_taken_as_staff_write_it(desk: Harness, typed: str, same_as: str) -> None:
    await many(desk, count=5)
    await confirmed(desk)
    staff = desk.customer(STAFF)
    answer = texts(await staff.send(f"/zusammenfassung {typed}"))
    assert answer == texts(await staff.send(f"/zusammenfassung {same_as}"))
    assert "Sekunden" not in answer and "verstehe ich nicht" not in answer
    entries = await desk.store.audit_entries(desk.clock() - timedelta(days=1))  # type: ignore[union-attr]
    [typed_entry, same_entry] = [e for e in entries if e.event == "summary"][-2:]
    assert typed_entry.detail == same_entry.detail, "audited as the period shown"


async def test_a_part_of_a_week_is_read_with_a_comma_or_a_point_and_shown_in_days(
    desk: Harness,
) -> None:
    """Found by a staff walk-through: "1.5w" was a summary of "252 Stunden", "1,5 Wochen" (a
    decimal as German writes it) and "1.5 weeks" were not understood."""
    await many(desk, count=5)
    await confirmed(desk)
    staff = desk.customer(STAFF)
    for typed in ("1,5 Wochen", "1.5w", "anderthalb Wochen"):
        answer = texts(await staff.send(f"/zusammenfassung {typed}"))
        assert answer.startswith("Feedback-Zusammenfassung (10,5 Tage)\n"), (typed, answer)
        assert "Feedbacks: 5" in answer, typed
    # "1.000" is a thousand in German and one in English: neither is guessed
    week_ago = desk.clock().date() - timedelta(days=7)
    for typed in ("1.000", "1,000 Tage"):
        answer = texts(await staff.send(f"/zusammenfassung {typed}"))
        assert answer == (
            "Diesen Zeitraum verstehe ich nicht. Versuchen Sie zum Beispiel /zusammenfassung "
            "7d, /zusammenfassung seit Montag oder /zusammenfassung "
            f"{week_ago.day}.{week_ago.month}. (gezählt ab diesem Tag)."
        ), typed
    await staff.send("/language")
    await staff.press("English")
    for typed in ("1.5 weeks", "1,5w", "one and a half weeks", "1½ weeks"):
        answer = texts(await staff.send(f"/summary {typed}"))
        assert answer.startswith("Feedback summary (10.5 days)\n"), (typed, answer)
        assert "Responses: 5" in answer, typed
    answer = texts(await staff.send("/summary half a week"))
    assert answer.startswith("Feedback summary (3.5 days)\n"), answer


async def test_today_has_no_figures_of_its_own_and_yesterday_is_the_last_whole_day(
    desk: Harness,
) -> None:
    """Found by a staff walk-through: "heute", "gestern", "today" and "yesterday" got "I do
    not understand that period". Summaries count whole days that are over: today has no
    figures of its own, and yesterday is the last whole day, what 1d counts."""
    for day, rating in enumerate(("5", "2")):  # 29 November rated 5, 30 November 2
        for n in range(6):
            await give(desk, 800 + 10 * day + n, rating, "Gut")
            desk.clock.advance(timedelta(hours=1))
        desk.clock.advance(timedelta(hours=18))
    desk.clock.advance(timedelta(hours=3))  # 1 December, 9:00
    await confirmed(desk)
    staff = desk.customer(STAFF)
    for typed in ("heute", "Heute."):
        answer = texts(await staff.send(f"/zusammenfassung {typed}"))
        assert answer == (
            "Zusammenfassungen zählen nur ganze, vergangene Tage: Für heute gibt es deshalb "
            "noch keine eigenen Zahlen. Für gestern geben Sie /zusammenfassung 1d ein, für die "
            "letzte Woche 7d."
        ), typed
    yesterday = texts(await staff.send("/zusammenfassung gestern"))
    assert yesterday == texts(await staff.send("/zusammenfassung 1d"))
    assert "Gezählt: der 30. November 2026 (UTC)." in yesterday
    assert "Durchschnitt 2,0 von 5 (6 Antworten)" in yesterday, "not the day before"
    await staff.send("/language")
    await staff.press("English")
    answer = texts(await staff.send("/summary today"))
    assert answer == (
        "Summaries count only whole days that are over, so today has no figures of its own "
        "yet. For yesterday type /summary 1d, for the last week 7d."
    )
    yesterday = texts(await staff.send("/summary yesterday please"))
    assert yesterday == texts(await staff.send("/summary 1d"))
    assert "Average 2.0 out of 5 (6 answers)" in yesterday, yesterday
    # A period begun today is not "today" (found by a staff walk-through: "diese Woche" on
    # a Monday was answered about today); 1 December is the month's first day.
    for typed in ("this month", "since today"):
        begun = texts(await staff.send(f"/summary {typed}"))
        assert begun == (
            "Summaries count only whole days that are over, and this period began today, so "
            "none of its days is over yet. For yesterday type /summary 1d, for the last week 7d."
        ), (typed, begun)


async def test_a_month_or_year_that_is_over_is_told_where_to_count_from(desk: Harness) -> None:
    """Found by a staff walk-through: "/zusammenfassung Oktober" and "2025" were "not
    understood", and "2025" worse, 2,025 days back. A summary counts up to yesterday; what
    ended before is told so, with the date from which a summary would count it."""
    await many(desk, count=5)
    await confirmed(desk)
    staff = desk.customer(STAFF)  # on 1 December 2026
    ended = (("Oktober", "1.10."), ("im Oktober", "1.10."), ("2025", "1.1.2025"), ("Q3", "1.7."))
    for typed, since in (*ended, ("KW 47", "16.11."), ("20.11.-25.11.", "20.11.")):
        answer = texts(await staff.send(f"/zusammenfassung {typed}"))
        assert answer == (
            "Zusammenfassungen zählen bis gestern, daher lässt sich ein Zeitraum, der davor "
            "endete, nicht für sich allein zählen. Um ab seinem ersten Tag bis gestern zu "
            f"zählen, geben Sie /zusammenfassung {since} ein."
        ), typed
        counted = texts(await staff.send(f"/zusammenfassung {since}"))
        assert counted.startswith("Feedback-Zusammenfassung ("), since
    await staff.send("/language")
    await staff.press("English")
    answer = texts(await staff.send("/summary October 2025"))
    assert answer == (
        "Summaries count up to yesterday, so a period that ended before it cannot be counted "
        "on its own. To count from its first day up to yesterday, type /summary 1 Oct 2025."
    )
    this_year = texts(await staff.send("/summary 2026"))  # not 2,026 days
    days = (desk.clock.now.date() - date(2026, 1, 1)).days
    assert this_year.startswith(f"Feedback summary ({days} days)\n"), this_year
    assert this_year == texts(await staff.send(f"/summary {days}d"))
    assert desk.clock.now.month == 12
    assert texts(await staff.send("/summary December")) == texts(
        await staff.send("/summary this month")
    )


async def test_a_survey_named_beside_the_period_is_told_that_summaries_count_all(
    desk: Harness,
) -> None:
    """Found by a staff walk-through: "/summary 30d product" answered with every survey's
    figures, "product" let go without a word, and read as the product survey's."""
    await many(desk)
    await confirmed(desk, language="en")
    staff = desk.customer(STAFF, language_code="en")
    whole = texts(await staff.send("/summary 30d"))
    for typed in ("30d product", "30d Product feedback", "30 days customer survey"):
        said = texts(await staff.send(f"/summary {typed}"))
        title = "Product feedback" if "roduct" in typed else "Customer feedback"
        note = f"A summary counts all surveys together; it cannot be limited to “{title}”."
        assert said == f"{note}\n\n{whole}", typed
    assert texts(await staff.send("/summary 30d please")) == whole
    # a word that names more than one survey, or none: said to be left out, as the command
    # line refuses it (found by a staff walk-through: a summary read as limited to it)
    for typed, word in (("30d feedback", "feedback"), ("30 days whatever", "whatever")):
        said = texts(await staff.send(f"/summary {typed}"))
        note = f"“{word}” is not part of a period, so I left it out."
        assert said == f"{note}\n\n{whole}", typed
    # not thanks or hedges said whole (its review: "“lot” is not part of a period")
    for typed in ("30d thanks a lot", "30 days or so", "30d thx", "30 days so far"):
        assert texts(await staff.send(f"/summary {typed}")) == whole, typed
    said = texts(await staff.send("/summary 30d product whatever"))  # both said (its review)
    assert said.startswith("“whatever” is not part of a period, so I left it out.\n\n"), said
    assert "cannot be limited to “Product feedback”" in said, said
    await staff.send("/sprache")
    await staff.press("Deutsch")
    said = texts(await staff.send("/zusammenfassung 30 Tage Produkt"))
    assert said.startswith(
        "Eine Zusammenfassung zählt alle Umfragen zusammen; auf „Produktfeedback“ allein lässt "
        "sie sich nicht beschränken.\n\nFeedback-Zusammenfassung"
    ), said
    said = texts(await staff.send("/zusammenfassung 30 Tage irgendwas, bitte!"))
    assert said.startswith(
        "„irgendwas“ gehört zu keinem Zeitraum, daher habe ich es weggelassen.\n\n"
        "Feedback-Zusammenfassung (30 Tage)"
    ), said


async def test_a_survey_named_after_a_date_or_a_day_keeps_the_period(desk: Harness) -> None:
    """Found by reading the notes again: "/summary 30.11. product" counted 30.11 days (the
    date read as a decimal), "2026-11-30 product" and "since Monday product" were "not
    understood"; and "product" alone too. Each is the period without the survey's name,
    with the note that summaries count all surveys."""
    await many(desk)
    for n in range(6):  # and the next day, of its own
        await give(desk, 300 + n, "1", "Zu langsam")
        desk.clock.advance(timedelta(hours=1))
    desk.clock.advance(timedelta(days=1))
    await confirmed(desk, language="en")
    staff = desk.customer(STAFF, language_code="en")
    note = "A summary counts all surveys together; it cannot be limited to “Product feedback”."
    day = (desk.clock.now - timedelta(days=1)).date()
    for period in (f"{day:%d.%m.}", f"{day:%d.%m.%Y}", f"{day:%Y-%m-%d}", f"{day:%d.%m}"):
        alone = texts(await staff.send(f"/summary {period}"))
        assert "(1 day)" in alone, (period, alone)
        said = texts(await staff.send(f"/summary {period} product"))
        assert said == f"{note}\n\n{alone}", period
    weekday = f"{day:%A}"
    alone = texts(await staff.send(f"/summary since {weekday}"))
    said = texts(await staff.send(f"/summary since {weekday} product"))
    assert said == f"{note}\n\n{alone}"
    assert texts(await staff.send("/summary product")) == f"{note}\n\n" + texts(
        await staff.send("/summary")
    )
    await staff.send("/sprache")
    await staff.press("Deutsch")
    alone = texts(await staff.send(f"/zusammenfassung {day:%d.%m.} bitte"))
    assert "(1 Tag)" in alone, alone
    said = texts(await staff.send(f"/zusammenfassung seit dem {day:%d.%m.} Produkt"))
    assert said.endswith(f"\n\n{alone}"), said


MONDAY = date(2026, 12, 7)


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        # a date, and words after it let go (found by reading the notes again: "30.11.
        # product" was 30.11 days)
        ("30.11. product", "7d"),
        ("1. Dezember bitte", "6d"),
        ("Dec 1 please", "6d"),
        ("2026-11-30 product", "7d"),
        ("30.11.2026 product", "7d"),
        # a year after a space (a review: this year's 1 December once words were let go)
        ("1.12. 2025", "371d"),
        ("1. 12. 2025", "371d"),
        ("30.11. 25", "372d"),
        # as before
        ("30.11.", "7d"),
        ("1.12", "6d"),
        ("30.5", "732h"),
        ("1.5 Wochen", "252h"),
        # up to now, as every period counts (a staff walk-through: "1.12. bis heute" not
        # understood, before the review above 27 hours)
        ("1.12. bis heute", "6d"),
        ("vom 1.12. bis heute", "6d"),
        ("Dec 1 to today", "6d"),
        ("seit Montag bis jetzt", "7d"),
    ],
)
def test_a_date_with_words_after_it_counts_from_that_date(typed: str, read: str) -> None:
    assert staff_period(typed, MONDAY) == read


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        # found by a staff walk-through, each "not understood": marks around a period ...
        ("7 Tage!", "7d"),
        ("30 Tage, bitte", "30d"),
        ("30 Tage,bitte", "30d"),
        ("7 days, please", "7d"),
        ("gestern!", "1d"),
        ("Yesterday?", "1d"),
        ("1,5 Wochen", "252h"),  # (a decimal comma stays one)
        # ... a length in words after "seit", and more words for "the last"
        ("seit einer Woche", "1w"),
        ("seit einem Monat", "30d"),
        ("seit zwei Wochen", "2w"),
        ("im letzten Monat", "30d"),
        ("letztem Monat", "30d"),
        ("previous week", "1w"),
        ("3 Mo", "90d"),
        # ... this year and this month so far, by name (Monday 7 December 2026)
        ("2026", "340d"),  # was 2,026 days
        ("dieses Jahr", "340d"),
        ("this year", "340d"),
        ("seit Jahresbeginn", "340d"),
        ("YTD", "340d"),
        ("year to date", "340d"),
        ("Dezember", "6d"),
        ("im Dezember", "6d"),
        ("Dec 2026", "6d"),
        # ... and since a month or a year
        ("seit November", "36d"),
        ("since March", "281d"),
        ("seit 2025", "705d"),
        # found by a staff walk-through: not understood
        ("vorige Woche", "1w"),
        ("Vorwoche", "1w"),
        ("Vorwoche bitte", "1w"),
        ("seit vorigem Montag", "7d"),
        ("vorigen Monat", "30d"),
        ("seit Mo", "7d"),
        ("since Tue", "6d"),
        ("seit Anfang November", "36d"),
        # up to now is since it (its review: "November bis heute" was told November is over)
        ("November bis heute", "36d"),
        ("von Montag bis heute", "7d"),
    ],
)
def test_a_period_is_read_as_staff_type_it_in_a_sentence(typed: str, read: str) -> None:
    assert staff_period(typed, MONDAY) == read


@pytest.mark.parametrize(
    ("typed", "first"),
    [
        ("November", date(2026, 11, 1)),
        ("im November", date(2026, 11, 1)),
        ("Nov 2026", date(2026, 11, 1)),
        ("Dezember 2025", date(2025, 12, 1)),
        ("may", date(2026, 5, 1)),
        ("2025", date(2025, 1, 1)),
        # a week, a quarter or days from date to date over before yesterday (found by a
        # staff walk-through: not understood)
        ("KW 48", date(2026, 11, 23)),
        ("week 48 2025", date(2025, 11, 24)),
        ("Q3", date(2026, 7, 1)),
        ("q4 2025", date(2025, 10, 1)),
        ("1.12. bis 5.12.", date(2026, 12, 1)),
        ("1. Dezember bis 3. Dezember", date(2026, 12, 1)),
        ("Dec 1 to Dec 3", date(2026, 12, 1)),
        ("November bitte", date(2026, 11, 1)),
        # from the review: the end of days since a date was let go ("vom 1.11. bis 6.11."
        # counted 1 November up to yesterday), a quarter with its dot, a week of last year
        ("vom 1.11. bis 6.11.", date(2026, 11, 1)),
        ("seit 1.11. bis 6.11.", date(2026, 11, 1)),
        ("from Nov 1 to Nov 30", date(2026, 11, 1)),
        ("seit 1.11.-6.11.", date(2026, 11, 1)),
        ("1.-6.11.", date(2026, 11, 1)),
        ("3. Quartal", date(2026, 7, 1)),
        ("3rd quarter", date(2026, 7, 1)),
        ("KW 1", date(2025, 12, 29)),
        ("20.-24.12.", date(2025, 12, 20)),
    ],
)
def test_a_period_that_is_over_is_counted_from_its_first_day_or_not_at_all(
    typed: str, first: date
) -> None:
    with pytest.raises(EndedPeriod) as ended:
        staff_period(typed, MONDAY)
    assert ended.value.first == first
    with pytest.raises(EndedPeriod):  # (`--since` at the command line)
        first_day_named(typed, MONDAY)


@pytest.mark.parametrize(
    "typed",
    [
        *("2027", "Januar 2027", "7d,30d", "bis heute", "Mo"),
        # more of a period after one, unread (its review: read as the last 7 days, and as
        # this year so far)
        *("7 Tage im Mai", "dieses Jahr bis 30.11.", "this year 2025", "this month 2025"),
    ],
)
def test_a_year_to_come_or_two_periods_are_not_read(typed: str) -> None:
    with pytest.raises(InvalidDuration):
        parse_duration(staff_period(typed, MONDAY))


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        # found by a staff walk-through, each "not understood" (Monday 7 December 2026): a
        # calendar week or a quarter, up to yesterday ...
        ("KW 49", "7d"),
        ("KW49", "7d"),
        ("Kalenderwoche 49", "7d"),
        ("KW 49/2026", "7d"),
        ("in KW 49 bitte", "7d"),
        ("week 49", "7d"),
        ("Q4", "67d"),
        ("Quartal 4", "67d"),
        ("Q4 2026", "67d"),
        # ... days from one date to another, the last yesterday or today ...
        ("1.12.-6.12.", "6d"),
        ("1.12. - 6.12.", "6d"),
        ("vom 1.12. bis 6.12.", "6d"),
        ("vom 1.12. bis zum 6.12.", "6d"),
        ("1.-6.12.", "6d"),
        ("1. bis 6.12.", "6d"),
        ("30.11.–6.12.", "7d"),
        ("1.12.-7.12.", "6d"),
        ("Dec 1 to 6", "6d"),
        ("from Nov 30 to Dec 6", "7d"),
        ("2026-12-01 - 2026-12-06", "6d"),
        # ... "letztes Jahr" as "last year" was, and a length said roughly
        ("letztes Jahr", "365d"),
        ("vergangenes Jahr", "365d"),
        ("Vorjahr", "365d"),
        ("ca. 30 Tage", "30d"),
        ("rund 4 Wochen", "4w"),
        ("die letzten ca. 30 Tage", "30d"),
        ("about 30 days", "30d"),
        # from the review of the first version: ranges in a month of one digit, an end to
        # come (as "Dezember" is), a hyphen between digits, polite words after a unit
        ("1.12.-20.12.", "6d"),
        ("vom 1.12. bis 31.12.", "6d"),
        ("1.-20.12.", "6d"),
        ("1.12-6.12", "6d"),
        ("1.12.2026-6.12.2026", "6d"),
        ("Dec 1-6", "6d"),
        ("letztes Jahr bitte", "365d"),
        ("letzte Woche bitte", "1w"),
    ],
)
def test_a_week_a_quarter_or_days_from_date_to_date_count_up_to_yesterday(
    typed: str, read: str
) -> None:
    assert staff_period(typed, MONDAY) == read


def test_a_month_that_ended_yesterday_is_counted_whole() -> None:
    """On 1 December all of November is over by yesterday: counted, not refused as over."""
    assert staff_period("November", date(2026, 12, 1)) == "30d"
    assert first_day_named("Nov 2026", date(2026, 12, 1)) == date(2026, 11, 1)
    with pytest.raises(EndedPeriod):
        staff_period("November", date(2026, 12, 2))


@pytest.mark.parametrize(
    "typed",
    [
        *("KW 54", "KW 51", "KW 53", "6.12.-1.12.", "31.2.-3.3.", "10.-12.12.", "1.-31.2."),
        # a year said roughly is no length of days (found by review: 2,025 days), nor a
        # quarter's number without its dot (a length, "1 Quartal")
        *("circa 2025", "etwa 2026", "3 Quartal"),
    ],
)
def test_a_week_or_days_to_come_or_that_are_none_are_not_read(typed: str) -> None:
    with pytest.raises(InvalidDuration):
        parse_duration(staff_period(typed, MONDAY))


@pytest.mark.parametrize(
    ("typed", "today", "read"),
    [
        ("KW 52", date(2027, 1, 4), EndedPeriod),  # last year's, over
        ("KW 53", date(2027, 1, 5), EndedPeriod),  # 2027 has none: 2026's
        ("seit KW 53", date(2027, 1, 5), "8d"),
        ("KW 1", date(2027, 1, 5), "1d"),
        ("Dec 28 to Jan 3", date(2026, 12, 31), "3d"),
        ("28.12.-3.1.", date(2027, 1, 4), "7d"),
        # more than 92 days over the turn of the year (review: "ends before it begins")
        ("1.10.-5.1.", date(2027, 1, 6), "97d"),
        ("Oct 1 to Jan 5", date(2027, 1, 6), "97d"),
        ("6.12.-1.12.", date(2027, 1, 6), EndsBeforeItBegins),
        ("3.1.-2.1.", date(2027, 1, 6), EndsBeforeItBegins),
        ("1.12.-30.11.", date(2026, 12, 2), EndsBeforeItBegins),  # not to next November
        ("1.6.-5.1.", date(2027, 1, 6), "219d"),
        ("1.10.-5.1.", date(2026, 12, 20), "80d"),  # still running: up to yesterday
        ("Oct 1 to Jan 5", date(2027, 1, 3), "94d"),
        ("1.-6.3.", date(2026, 3, 7), "6d"),
        ("1.5.-6.5.", date(2026, 5, 7), "6d"),
        ("November", date(2026, 12, 1), "30d"),
        ("Q4", date(2027, 1, 5), EndedPeriod),
    ],
)
def test_weeks_and_days_between_dates_at_the_turn_of_a_year_or_month(
    typed: str, today: date, read: object
) -> None:
    """Found by review: "KW 52" on 4 January was "no day before today", "1.-6.3." on 7
    March "not understood" (the month's one digit read as a decimal)."""
    if read in (EndedPeriod, EndsBeforeItBegins):
        with pytest.raises(read):  # type: ignore[call-overload]
            staff_period(typed, today)
    else:
        assert staff_period(typed, today) == read


@pytest.mark.parametrize(
    "typed",
    [
        # more of the period after a date, which would go unread (a review of the change)
        "30.11. 7d",
        "seit 30.11. 7d",
        "30.11. 2 Wochen",
        "1.5. Wochen",
        "may 2 weeks",
        "30.11. 25 Tage",
    ],
)
def test_a_date_with_more_of_a_period_after_it_is_not_understood(typed: str) -> None:
    with pytest.raises(InvalidDuration):
        parse_duration(staff_period(typed, MONDAY))


def test_words_of_a_period_name_no_survey_whose_title_they_begin(tmp_path: Path) -> None:
    """Found by a review: beside a survey titled "Wochenmarkt", "2 Wochen" lost "Wochen" as
    the survey's name, and was read as two days; "Tage" alone named a "Tagescafé"."""
    shipped = resources.files("flows.definitions").joinpath("product.toml").read_text()
    for flow_id, title in (
        ("markt", "Wochenmarkt"),
        ("cafe", "Tagescafé"),
        ("wieder", "Gerne wieder"),
        ("fest", "Umfrage Sommerfest"),
    ):
        definition = shipped.replace('id = "product"', f'id = "{flow_id}"').replace(
            'title = { de = "Produktfeedback", en = "Product feedback" }', f'title = "{title}"'
        )
        (tmp_path / f"{flow_id}.toml").write_text(definition)
    catalog = FlowCatalog.load(tmp_path)
    assert period_and_survey("Wochenmarkt 2 Wochen", catalog) == (
        "2 Wochen",
        catalog.flows["markt"],
    )
    assert period_and_survey("2 Wochen", catalog) == ("2 Wochen", None)
    assert period_and_survey("Tage", catalog) == ("Tage", None)
    assert period_and_survey("7 Tage Tagescafé", catalog) == ("7 Tage", catalog.flows["cafe"])
    assert period_and_survey("30d Wochenm", catalog) == ("30d", catalog.flows["markt"])
    # a thanks or hedge let go beside a period still names a survey whose title has it
    # (the review of letting them go: "7d Gerne" of "Gerne wieder" named none)
    assert period_and_survey("7d Gerne", catalog) == ("7d", catalog.flows["wieder"])
    assert period_and_survey("30d umfrage", catalog) == ("30d", catalog.flows["fest"])


async def test_this_week_is_its_whole_days_so_far_and_the_day_before_yesterday_is_told(
    desk: Harness,
) -> None:
    """Found by a staff walk-through: "diese Woche", "this month" and "vorgestern" were "not
    understood". This week or month so far is its whole days (UTC); the day before
    yesterday alone is no period up to yesterday, and said what counts it."""
    for day, rating in enumerate(("5", "2")):  # Sunday 29 November rated 5, Monday 30th 2
        for n in range(6):
            await give(desk, 900 + 10 * day + n, rating, "Gut")
            desk.clock.advance(timedelta(hours=1))
        desk.clock.advance(timedelta(hours=18))
    desk.clock.advance(timedelta(hours=3))  # Tuesday 1 December, 9:00
    await confirmed(desk)
    staff = desk.customer(STAFF)
    week = texts(await staff.send("/zusammenfassung diese Woche"))
    assert week == texts(await staff.send("/zusammenfassung 1d")), "Monday alone"
    assert "Durchschnitt 2,0 von 5 (6 Antworten)" in week, "not Sunday's"
    month = texts(await staff.send("/zusammenfassung diesen Monat"))
    assert month.startswith("Zusammenfassungen zählen nur ganze, vergangene Tage"), month
    before = texts(await staff.send("/zusammenfassung vorgestern"))
    assert before == (
        "Zusammenfassungen zählen die letzten ganzen Tage bis gestern, nicht einen Tag davor "
        "für sich allein: /zusammenfassung 2d zählt gestern und vorgestern, 1d nur gestern."
    )
    desk.clock.advance(timedelta(days=1))  # Wednesday 2 December
    await staff.send("/language")
    await staff.press("English")
    week = texts(await staff.send("/summary this week"))
    assert week == texts(await staff.send("/summary 2d")), "Monday and Tuesday"
    assert "Average 2.0 out of 5 (6 answers)" in week, week
    month = texts(await staff.send("/summary this month"))
    assert month == texts(await staff.send("/summary 1d")), "1 December so far"
    assert texts(await staff.send("/summary the day before yesterday")).startswith(
        "Summaries count the last whole days up to yesterday"
    )


async def _sunday_and_monday_rated(desk: Harness, first_id: int) -> None:
    """Six people rate 5 on Sunday 29 November and six 2 on Monday 30th; then it is
    Wednesday 2 December, 9:00, and the staff member has confirmed the rules."""
    for day, rating in enumerate(("5", "2")):
        for n in range(6):
            await give(desk, first_id + 10 * day + n, rating, "Gut")
            desk.clock.advance(timedelta(hours=1))
        desk.clock.advance(timedelta(hours=18))
    desk.clock.advance(timedelta(days=1, hours=3))
    await confirmed(desk)


async def test_since_a_weekday_and_in_the_last_days_are_their_whole_days_so_far(
    desk: Harness,
) -> None:
    """Found by a staff walk-through: "seit Montag", "seit 3 Tagen", "for the last 3
    days" were "not understood". Since a day of the week is its whole days up to
    yesterday (UTC); on that weekday itself, the week before."""
    await _sunday_and_monday_rated(desk, first_id=950)
    staff = desk.customer(STAFF)
    since_monday = texts(await staff.send("/zusammenfassung seit Montag"))
    assert since_monday == texts(await staff.send("/zusammenfassung 2d")), "Monday, Tuesday"
    assert "Durchschnitt 2,0 von 5 (6 Antworten)" in since_monday, since_monday
    since_sunday = texts(await staff.send("/zusammenfassung seit Sonntag"))
    assert "Durchschnitt 3,5 von 5 (12 Antworten)" in since_sunday, since_sunday
    assert since_sunday == texts(await staff.send("/zusammenfassung seit 3 Tagen"))
    assert since_sunday == texts(await staff.send("/zusammenfassung in den letzten 3 Tagen"))
    # on a Wednesday, since Wednesday is last Wednesday's week
    assert texts(await staff.send("/zusammenfassung seit Mittwoch")) == texts(
        await staff.send("/zusammenfassung 7d")
    )
    month = texts(await staff.send("/zusammenfassung seit Monatsanfang"))
    assert month == texts(await staff.send("/zusammenfassung 1d")), "1 December so far"
    await staff.send("/language")
    await staff.press("English")
    assert texts(await staff.send("/summary since Monday")) == texts(
        await staff.send("/summary 2d")
    )
    assert "Average 3.5 out of 5 (12 answers)" in texts(
        await staff.send("/summary for the last 3 days")
    )
    # a year after "since" is no length (found by a review of the change: "seit 2020" was
    # 2,020 days) but its first day; nor is a time to come; a date counts from its day
    assert texts(await staff.send("/summary since 2020")) == texts(
        await staff.send("/summary since 1 Jan 2020")
    )
    for typed in ("in 3 days", "for week"):
        said = texts(await staff.send(f"/summary {typed}"))
        assert said.startswith("I do not understand that period."), (typed, said)
    # its example date a week back, with the month named in English ("25.11." may be
    # read month first: found by a walk-through), and the example works as given
    assert "/summary 25 Nov (counted from that day on)" in said, said
    assert texts(await staff.send("/summary 25 Nov")) == texts(await staff.send("/summary 7d"))
    assert texts(await staff.send("/summary since today")).startswith(
        "Summaries count only whole days that are over"
    )


async def test_a_date_counts_the_whole_days_from_it_up_to_yesterday(desk: Harness) -> None:
    """Found by a staff walk-through: "/zusammenfassung 1.12." was read as 1.12 days, a
    summary "(27 Stunden)" of nothing, and "30.11." as three weeks. A date, alone or after
    "seit", "ab", "since", is the day a summary counts from; one that is no day before
    today is said so."""
    await _sunday_and_monday_rated(desk, first_id=750)
    staff = desk.customer(STAFF)
    two_days = texts(await staff.send("/zusammenfassung 2d"))
    assert "Durchschnitt 2,0 von 5 (6 Antworten)" in two_days, two_days
    for typed in ("30.11.", "30.11", "seit 30.11.", "ab dem 30.11.2026", "seit 30. November"):
        assert texts(await staff.send(f"/zusammenfassung {typed}")) == two_days, typed
    since_sunday = texts(await staff.send("/zusammenfassung seit 29.11."))
    assert "Durchschnitt 3,5 von 5 (12 Antworten)" in since_sunday, since_sunday
    for typed in ("31.2.", "32.1.", "2026-02-30", "KW 54", "3.12.2026", "24.12.2030", "3.12."):
        said = texts(await staff.send(f"/zusammenfassung {typed}"))
        # (found by a staff walk-through: "32.1.", "KW 54" were "no day before today")
        to_come = typed in ("3.12.2026", "24.12.2030", "3.12.")  # (tomorrow: no year back)
        lead = "Dieses Datum ist kein Tag vor heute." if to_come else "Diesen Tag gibt es im"
        assert said.startswith(lead), (typed, said)
        # the example is a week back, never a day refused itself (review: a fixed "1.12."
        # was refused from 24 November to 1 December)
        assert "zum Beispiel /zusammenfassung 25.11. oder" in said, said
    # days from one date to an earlier one are told so, with an example that works (found
    # by review: "I do not understand that period")
    for typed in ("1.12.-30.11.", "30.-29.11.", "seit 1.12. bis 30.11."):
        said = texts(await staff.send(f"/zusammenfassung {typed}"))
        assert said.startswith("Dieser Zeitraum endet, bevor er beginnt: Schreiben Sie"), said
        assert "zum Beispiel /zusammenfassung 25.11. bis 1.12." in said, said
    seven_days = texts(await staff.send("/zusammenfassung 7d"))
    assert texts(await staff.send("/zusammenfassung 25.11. bis 1.12.")) == seven_days
    assert texts(await staff.send("/zusammenfassung 25.11.")).startswith(
        "Feedback-Zusammenfassung (7 Tage)"
    )
    assert texts(await staff.send("/zusammenfassung 2.12.")).startswith(
        "Zusammenfassungen zählen nur ganze, vergangene Tage"
    )
    await staff.send("/language")
    await staff.press("English")
    for typed in ("since November 30th", "since 30 Nov", "November 30, 2026"):
        assert "Average 2.0 out of 5 (6 answers)" in texts(await staff.send(f"/summary {typed}")), (
            typed
        )


async def test_a_period_shorter_than_a_day_is_said_to_count_no_whole_day(desk: Harness) -> None:
    """Found by review: "3m", three months to the team lead, was three minutes and said
    "No newer days to show"; "0d" was "not understood". Summaries count whole days."""
    await many(desk, count=5)
    await confirmed(desk)
    staff = desk.customer(STAFF)
    for typed in ("3m", "12h", "90 Minuten", "0d", "0"):
        answer = texts(await staff.send(f"/zusammenfassung {typed}"))
        assert answer == (
            "Zusammenfassungen zählen ganze Tage: Geben Sie einen Zeitraum von mindestens "
            "einem Tag an, zum Beispiel /zusammenfassung 1d, 7d oder 30d (3M sind drei Monate)."
        ), typed
    assert "Feedbacks: 5" in texts(await staff.send("/zusammenfassung 24h"))
    await staff.send("/language")
    await staff.press("English")
    answer = texts(await staff.send("/summary 6m"))
    assert answer == (
        "Summaries count whole days: give a period of at least one day, for example "
        "/summary 1d, 7d or 30d (3M is three months)."
    )


async def test_a_period_too_long_says_how_long_it_may_be(desk: Harness) -> None:
    await confirmed(desk)
    answer = texts(await desk.customer(STAFF).send("/zusammenfassung 3661 Tage"))
    assert "zu lang: höchstens 3.660 Tage" in answer, answer
    # seven digits were seconds (found by review): days, so too long
    answer = texts(await desk.customer(STAFF).send("/zusammenfassung 1000000"))
    assert "zu lang: höchstens 3.660 Tage" in answer, answer


async def test_digest_goes_to_the_staff_chat_and_is_audited(desk: Harness) -> None:
    await many(desk)
    assert desk.app is not None
    await post_digest(desk.app)
    [digest] = [m for m in desk.api.messages(STAFF_CHAT) if m["text"]]
    assert "Feedback-Zusammenfassung" in (digest["text"] or "") and "(1 Tag)" in (
        digest["text"] or ""
    )
    entries = await desk.store.audit_entries(desk.clock() - timedelta(days=2))  # type: ignore[union-attr]
    assert [(e.event, e.actor) for e in entries] == [("digest", "digest")]


async def test_low_rating_alerts_the_staff_chat_without_identity(desk: Harness) -> None:
    customer_name = "Mechthild-Alarm"
    customer = desk.customer(4444, first_name=customer_name)
    await customer.send("/start")
    await customer.press("Ja, ich willige ein")
    await customer.press("1")
    await customer.send(
        "Katastrophe,\nschreiben Sie an mechthild@example.org\n\nNiedrige Bewertung"
    )
    thanks = await customer.press("Nein")
    assert "Vielen Dank" in texts(thanks)
    await desk.api.wait_until_async(lambda: desk.api.messages(STAFF_CHAT), what="the alert")
    [alert] = desk.api.messages(STAFF_CHAT)
    text = alert["text"] or ""
    assert "Niedrige Bewertung" in text and "1 / 5" in text and "[E-Mail]" in text
    # the comment on one line: its own lines could pass for the alert's
    assert text.splitlines()[-1] == (
        "Kommentar: Katastrophe, schreiben Sie an [E-Mail] Niedrige Bewertung"
    )
    assert customer_name not in text and "4444" not in text and "mechthild@" not in text
    assert not files_contain(desk.settings.data_dir, b"Katastrophe")
    # One person's feedback shown: audited like every other access (found by a DPO audit).
    assert desk.store is not None and desk.app is not None
    await asyncio.gather(*desk.app.bot_data.background)  # the alert's own task
    entries = await desk.store.audit_entries(desk.clock() - timedelta(days=1))
    assert [(e.event, e.actor, e.records) for e in entries] == [("alert", "alert", 1)]


async def test_an_alert_shows_every_rating_and_what_was_ticked(desk: Harness) -> None:
    """Found by a staff review: a product survey's alert left out what went wrong (the
    options ticked, which staff act on), and one for a low recommendation hid the 5 of 5
    beside it."""
    unhappy = desk.customer(4445)
    await unhappy.send("/start product")
    await unhappy.press("Ja, ich willige ein")
    await unhappy.press("1")
    await unhappy.press("☐ Zu langsam")
    await unhappy.press("☐ Zu teuer")
    await unhappy.press("Fertig")
    await unhappy.press("Überspringen")
    await unhappy.press("6")
    await unhappy.press("Nein")
    await desk.api.wait_until_async(lambda: desk.api.messages(STAFF_CHAT), what="the alert")
    [alert] = desk.api.messages(STAFF_CHAT)
    assert (alert["text"] or "").splitlines() == [
        "Niedrige Bewertung in „Produktfeedback“",
        "Wie zufrieden sind Sie mit unserem Produkt? → 1 / 5",
        "Was lief schief? → Zu langsam, Zu teuer",
        "Wie wahrscheinlich ist es, dass Sie unser Produkt weiterempfehlen? → 6 / 10",
    ]
    happy = desk.customer(4446)
    await happy.send("/start product")
    await happy.press("Ja, ich willige ein")
    await happy.press("5")
    await happy.press("☐ Schnell")
    await happy.press("Fertig")
    await happy.press("2")
    await desk.api.wait_until_async(
        lambda: len(desk.api.messages(STAFF_CHAT)) == 2, what="the second alert"
    )
    second = desk.api.messages(STAFF_CHAT)[1]["text"] or ""
    assert "Wie zufrieden sind Sie mit unserem Produkt? → 5 / 5" in second
    assert "Was gefällt Ihnen am besten? → Schnell" in second
    assert "weiterempfehlen? → 2 / 10" in second


@pytest.mark.read_timeout(0.2)
async def test_an_alert_that_may_have_arrived_is_audited_as_such(desk: Harness) -> None:
    """Telegram took the alert but did not answer in time: staff may have read it, so the
    audit has it (it used to count as not sent), saying it may have arrived."""
    customer = desk.customer(4446)
    await customer.send("/start")
    await customer.press("Ja, ich willige ein")
    await customer.press("1")
    await customer.send("Zu spät geliefert")
    desk.api.delay_next("sendMessage", 1, count=2)  # the thanks and the alert
    await customer.press("Nein")
    assert desk.app is not None
    await asyncio.gather(*desk.app.bot_data.background)
    [alert] = desk.api.messages(STAFF_CHAT)
    assert "Zu spät geliefert" in (alert["text"] or ""), "it did arrive"
    entries = await desk.store.audit_entries(desk.clock() - timedelta(days=1))  # type: ignore[union-attr]
    assert [(e.event, e.detail, e.records) for e in entries] == [
        ("alert", "may have arrived: feedback", 1)
    ]
    t = translator("de")
    assert shown_detail(entries[0].detail or "", t) == "möglicherweise angekommen: feedback"


async def low(harness: Harness, user_id: int, comment: str) -> None:
    """A low rating, also from someone who gave feedback before (no consent asked again)."""
    customer = harness.customer(user_id)
    started = await customer.send("/start")
    if "Ja, ich willige ein" in str(labels(started[-1])):
        await customer.press("Ja, ich willige ein")
    await customer.press("1")
    await customer.send(comment)
    await customer.press("Nein")
    assert harness.app is not None
    await asyncio.gather(*harness.app.bot_data.background)


def alerts(harness: Harness) -> str:
    return texts(harness.api.messages(STAFF_CHAT))


async def test_one_person_cannot_flood_the_staff_chat_with_alerts(desk: Harness) -> None:
    """One account giving feedback after feedback filled the staff chat past Telegram's
    limit for a group, and other people's alerts were lost (found by review): three an
    hour of one person are posted; their feedback is kept and summarised all the same."""
    for n in range(5):
        await low(desk, 4601, f"Flut {n}")
    await low(desk, 4602, "Echte Beschwerde")
    assert [f"Flut {n}" in alerts(desk) for n in range(5)] == [True] * 3 + [False] * 2
    assert "Echte Beschwerde" in alerts(desk)
    assert desk.store is not None
    mine = await desk.store.feedback_of(desk.store.pseudonym("tg-user:4601"), desk.clock())
    assert len(mine) == 5, "stored all the same"
    desk.clock.advance(timedelta(hours=1))
    await low(desk, 4601, "Eine Stunde später")
    assert "Eine Stunde später" in alerts(desk)


async def test_an_alert_waits_out_flood_control_in_the_staff_chat(desk: Harness) -> None:
    """Telegram holds the staff chat back (429) more often than a reply is tried: the
    alert waits its turn instead of being dropped after three tries (found by review)."""
    desk.api.fail_next("sendMessage", 429, retry_after=1, count=4, chat_id=STAFF_CHAT)
    await low(desk, 4603, "Geduldig")
    assert "Geduldig" in alerts(desk)


async def test_an_alert_still_held_back_at_a_stop_is_posted_after_the_restart(
    desk: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Flood control outlasting the wait at a stop: the alert was lost, silently, and with
    it the only reference staff could answer by (found by review). It is due in the store
    with its feedback, and posted at the next start."""
    monkeypatch.setattr("bot.app.ALERTS_AT_STOP", 0.2)
    desk.api.fail_next("sendMessage", 429, retry_after=30, count=1, chat_id=STAFF_CHAT)
    customer = desk.customer(4604)
    await customer.send("/start")
    await customer.press("Ja, ich willige ein")
    await customer.press("1")
    await customer.send("Bis zum Halt")
    await customer.press("Ja, einverstanden")  # the reference is the only way to answer
    await desk.stop()
    assert "alerts not posted: 1 (the bot stopped while they waited for Telegram)" in caplog.text
    assert "Bis zum Halt" not in caplog.text and alerts(desk) == ""
    await desk.start()
    assert desk.app is not None
    await asyncio.gather(*desk.app.bot_data.background)
    [alert] = desk.api.messages(STAFF_CHAT)
    assert "Bis zum Halt" in (alert["text"] or "") and "/antworten" in (alert["text"] or "")
    assert desk.store is not None and await desk.store.alerts_due() == []
    await desk.restart()  # posted once, not again
    await asyncio.gather(*desk.app.bot_data.background) if desk.app else None
    assert len(desk.api.messages(STAFF_CHAT)) == 1


async def test_an_alert_posted_but_still_being_noted_at_a_stop_is_noted(
    desk: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The store busy for a moment as the bot stops: an alert Telegram confirmed was
    cancelled with those still waiting, so erasure could never reach it (review)."""
    monkeypatch.setattr("bot.app.ALERTS_AT_STOP", 0.2)
    assert desk.store is not None
    original = desk.store.record_staff_post

    async def busy(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(1)
        return await original(*args, **kwargs)

    monkeypatch.setattr(desk.store, "record_staff_post", busy)
    customer = desk.customer(4701)
    await customer.send("/start")
    await customer.press("Ja, ich willige ein")
    await customer.press("1")
    await customer.send("Schon gepostet")
    await customer.press("Nein")
    await desk.api.wait_until_async(
        lambda: "Schon gepostet" in alerts(desk), what="the alert in the staff chat"
    )
    await desk.stop()
    ledger = desk.settings.data_dir / "erasures.db"
    with closing(sqlite3.connect(ledger)) as db:
        assert len(db.execute("SELECT message_id FROM staff_posts").fetchall()) == 1
    assert "alerts not posted" not in caplog.text


async def test_an_alert_due_is_posted_as_the_consents_now_allow(
    desk: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Telegram failed it (given up on, still due); the consent to be contacted withdrawn
    since: posted at the next start without the reference to answer by."""
    monkeypatch.setattr("bot.alerts.ALERT_ATTEMPTS", 1)
    desk.api.fail_next("sendMessage", 500, count=1, chat_id=STAFF_CHAT)
    customer = desk.customer(4605)
    await customer.send("/start")
    await customer.press("Ja, ich willige ein")
    await customer.press("1")
    await customer.send("Später gemeldet")
    await customer.press("Ja, einverstanden")
    assert desk.app is not None
    await asyncio.gather(*desk.app.bot_data.background)
    assert alerts(desk) == ""
    await customer.send("/widerruf")
    await customer.press("Kontaktaufnahme")
    await desk.restart()
    assert desk.app is not None
    await asyncio.gather(*desk.app.bot_data.background)
    [alert] = desk.api.messages(STAFF_CHAT)
    assert "Später gemeldet" in (alert["text"] or "") and "/antworten" not in (alert["text"] or "")


async def test_the_privacy_notice_names_the_staff_chat_and_what_erasure_does_there(
    desk: Harness,
) -> None:
    notice = texts(await desk.customer(4545).send("/datenschutz"))
    assert "unsere Mitarbeitenden in einem Telegram-Chat" in notice
    assert (
        "ersetzt der Bot die Nachricht durch einen Hinweis, dass sie zurückgezogen wurde;"
        " Übersichten bleiben in diesem Chat." in notice
    )


async def test_the_privacy_notice_says_what_an_alert_shows(desk: Harness) -> None:
    """An alert shows every rating and the options ticked (see the test above); the notice
    still said "its low ratings" (DPO review)."""
    notice = texts(await desk.customer(4546, language_code="en").send("/privacy"))
    assert "(its low ratings)" not in notice
    assert "with its ratings, the options chosen and its comments" in notice


async def test_good_ratings_raise_no_alert(desk: Harness) -> None:
    await give(desk, 5555, "5", "super")
    assert desk.api.messages(STAFF_CHAT) == []


async def test_staff_menu_is_set_for_staff_chats_only(desk: Harness) -> None:
    chat = {"type": "chat", "chat_id": STAFF}
    staff_menu = [name for name, _ in desk.api.commands_for("", chat)]
    assert "zusammenfassung" in staff_menu
    # A chat's own menu wins over the menus per language: the English one is English.
    english = dict(desk.api.commands_for("en", chat))
    assert english["summary"] == "Summarise feedback (staff)" and "mydata" in english
    assert "zusammenfassung" in dict(desk.api.commands_for("de", chat))
    assert "zusammenfassung" not in [name for name, _ in desk.api.commands_for("de")]
    # In the staff chat the summary and answers are all the bot handles: the menu says so.
    group = {"type": "chat", "chat_id": STAFF_CHAT}
    assert desk.api.commands_for("", group) == [
        ("zusammenfassung", "Feedback zusammenfassen (Team)"),
        ("antworten", "Kundin oder Kunden antworten (Team)"),
    ]
    assert desk.api.commands_for("en", group) == [
        ("summary", "Summarise feedback (staff)"),
        ("reply", "Answer a customer (staff)"),
    ]
    assert desk.app is not None and desk.app.job_queue is not None
    assert {job.name for job in desk.app.job_queue.jobs()} >= {"purge", "digest"}


async def test_nothing_is_shown_before_the_rules_are_confirmed(desk: Harness) -> None:
    await many(desk)
    staff = desk.customer(STAFF)
    [rules] = await staff.send("/zusammenfassung 30d")
    text = rules["text"] or ""
    assert "Regeln" in text and "Jeder Zugriff wird protokolliert" in text
    assert "Feedbacks:" not in text
    # what is kept about the staff member, and how long, said before it starts (found by a
    # DPO's review: said only by /meinedaten)
    assert "jeder Eintrag wird 1.461 Tage nach seiner Entstehung gelöscht." in text, text
    assert "/meinedaten zeigt Ihnen Ihre Einträge." in text
    assert await desk.store.audit_entries(desk.clock() - timedelta(days=2)) == []  # type: ignore[union-attr]
    outsider = desk.customer(OUTSIDER)
    await outsider.press_data(rules["message_id"], desk.api.button_data(STAFF, "Ich bestätige"))
    assert "nicht gültig" in (outsider.last_toast() or "")
    done = await staff.press("Ich bestätige")
    first = done[0]["text"] or ""
    assert first.startswith("Danke, die Regeln sind bestätigt.")
    assert "(30 Tage)" in first and "Feedbacks: 10" in first, "the summary asked for, at once"
    assert any(m["photo"] for m in done)
    events = await desk.store.audit_entries(desk.clock() - timedelta(days=2))  # type: ignore[union-attr]
    assert [(e.event, e.detail) for e in events] == [
        ("staff-rules-confirmed", events[0].detail),
        ("summary", "30d"),
    ]
    assert "Feedbacks: 10" in texts(await staff.send("/zusammenfassung"))


@pytest.mark.parametrize("language", ["de", "en"])
async def test_a_second_press_on_the_confirm_button_shows_and_audits_nothing_more(
    desk: Harness, language: str
) -> None:
    """Found by a staff walk-through: a double tap on "I confirm" (or the button pressed
    again after a restart) sent the summary twice and put the confirmation and the
    summary into the audit trail twice each."""
    await many(desk)
    staff = desk.customer(STAFF, language_code=language)
    [rules] = await staff.send("/zusammenfassung 30d" if language == "de" else "/summary 30d")
    confirm = {"de": "Ich bestätige", "en": "I confirm"}[language]
    data = desk.api.button_data(STAFF, confirm)
    first = await staff.press_data(rules["message_id"], data)
    assert "10" in texts(first) and any(m["photo"] for m in first)
    again = await staff.press_data(rules["message_id"], data)
    assert again == [], "no second summary"
    assert (
        staff.last_toast()
        == {
            "de": "Sie haben die Regeln bereits bestätigt.",
            "en": "You have already confirmed the rules.",
        }[language]
    )
    events = await desk.store.audit_entries(desk.clock() - timedelta(days=2))  # type: ignore[union-attr]
    assert [e.event for e in events] == ["staff-rules-confirmed", "summary"]


async def test_a_confirmed_member_pressing_a_colleagues_confirm_leaves_it_to_them(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """Found by a re-check: in the staff chat, a member who had confirmed pressed the
    button under the rules a colleague asked for, and it was gone for the colleague."""
    colleague = 7004
    settings = make_settings(
        tmp_path / "data", staff_ids=f"{STAFF},{colleague}", staff_chat_id=STAFF_CHAT
    )
    desk = Harness(api=api, settings=settings, clock=clock)
    await desk.start()
    try:
        await desk.customer(STAFF).send("/zusammenfassung")
        await desk.customer(STAFF).press("Ich bestätige")
        [rules] = await desk.deliver(
            desk.api.user_message(
                colleague, "/zusammenfassung", chat_id=STAFF_CHAT, chat_type="supergroup"
            )
        )
        data = desk.api.button_data(STAFF_CHAT, "Ich bestätige")
        await desk.deliver(
            desk.api.callback_press(
                STAFF, rules["message_id"], data, chat_id=STAFF_CHAT, chat_type="supergroup"
            )
        )
        told = desk.api.callback_answers[-1].get("text")
        [shown] = [
            m for m in desk.api.messages(STAFF_CHAT) if m["message_id"] == rules["message_id"]
        ]
    finally:
        await desk.stop()
    assert told == "Sie haben die Regeln bereits bestätigt."
    assert labels(shown) == [["Ich bestätige"]], "still there for the colleague"


async def test_a_staff_command_mid_survey_asks_the_open_question_again(desk: Harness) -> None:
    """Found by review: a member of staff trying the bot sent /zusammenfassung at the
    comment question; unlike after /hilfe the question was not asked again, and their
    next text, "30d", was stored as the comment."""
    await many(desk, count=5)
    me = desk.customer(STAFF)
    await me.send("/start")
    await me.press("Ja, ich willige ein")
    await me.press("4")
    rules = await me.send("/zusammenfassung")
    assert "Was sollten wir" in (rules[-1]["text"] or ""), "under the rules"
    shown = await me.press("Ich bestätige")  # (review of the change: not there)
    assert "Feedbacks: 5" in texts(shown) and "Was sollten wir" in (shown[-1]["text"] or "")
    for command in ("/zusammenfassung", "/antworten", "/antworten ABC123 Hallo"):
        answer = await me.send(command)
        assert answer[-1]["text"] is not None and "Was sollten wir" in answer[-1]["text"], command
    # In the staff chat, no question of a private survey.
    in_chat = await desk.deliver(
        desk.api.user_message(STAFF, "/zusammenfassung", chat_id=STAFF_CHAT, chat_type="supergroup")
    )
    assert "Was sollten wir" not in texts(in_chat) and "Feedbacks: 5" in texts(in_chat)


async def test_a_chat_member_not_on_the_staff_list_leaves_the_confirm_button_in_place(
    desk: Harness,
) -> None:
    """Found by review: in the staff chat, a member not in FEEDBACKBOT_STAFF_IDS pressed
    "Ich bestätige" under the rules a member of staff asked for, and it was gone."""
    [rules] = await desk.deliver(
        desk.api.user_message(STAFF, "/zusammenfassung", chat_id=STAFF_CHAT, chat_type="supergroup")
    )
    data = desk.api.button_data(STAFF_CHAT, "Ich bestätige")
    await desk.deliver(
        desk.api.callback_press(
            OUTSIDER, rules["message_id"], data, chat_id=STAFF_CHAT, chat_type="supergroup"
        )
    )
    assert desk.api.callback_answers[-1].get("text") == "Diese Schaltfläche ist nicht gültig."
    [shown] = [m for m in desk.api.messages(STAFF_CHAT) if m["message_id"] == rules["message_id"]]
    assert labels(shown) == [["Ich bestätige"]], "still there for the member of staff"


async def test_a_confirm_button_carries_only_what_fits_and_checks_it_again(desk: Harness) -> None:
    await many(desk)
    staff = desk.customer(STAFF)
    long_period = "0" * 60 + "30d"
    [rules] = await staff.send(f"/zusammenfassung {long_period}")
    data = desk.api.button_data(STAFF, "Ich bestätige")
    assert len(data.encode()) <= 64 and data.endswith(":2592000s")
    assert "(30 Tage)" in texts(await staff.press_data(rules["message_id"], data))
    # Other buttons, each pressed by a member of staff who has not confirmed yet (a
    # second press of one who has shows nothing): a button sent before the unit was
    # carried holds bare seconds, 604800 are 7 days; one without a period, the default.
    assert desk.app is not None
    staff_desk = desk.app.bot_data.staff
    head = data.rsplit(":", 1)[0]
    for n, (pressed, said) in enumerate(
        ((head + ":604800", "(7 Tage)"), (head, "(7 Tage)"), (head + ":bald", "verstehe ich nicht"))
    ):
        outcome = await staff_desk.confirm_rules(f"staff:{9000 + n}", "de", pressed)
        shown = "\n".join(reply.text for reply in outcome.replies)
        assert said in shown, pressed
    assert "Feedbacks:" not in shown, "forged: nothing shown"


async def test_an_impossible_period_is_explained_not_crashed_on(desk: Harness) -> None:
    staff = desk.customer(STAFF)
    # "2.5 Wochen" and "30.5" were read as 2 and 30.5 seconds (found by a review): now
    # weeks and days; a number in groups of digits is neither a thousand nor one
    for period in (
        "99999999999999999999d",
        "P99999999999999D",
        "1" * 400,
        "3661d",
        "3.650,5",
        "1.000",
    ):
        answer = texts(await staff.send(f"/zusammenfassung {period}"))
        assert "Diesen Zeitraum verstehe ich nicht" in answer or "zu lang" in answer, period
    assert await desk.store.audit_entries(desk.clock() - timedelta(days=2)) == []  # type: ignore[union-attr]


async def test_changed_rules_must_be_confirmed_again(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    first = Harness(api=api, settings=make_settings(data, staff_ids=str(STAFF)), clock=clock)
    await first.start()
    await confirmed(first)
    assert "Feedback-Zusammenfassung" in texts(await first.customer(STAFF).send("/summary"))
    await first.stop()
    rules = tmp_path / "rules.toml"
    rules.write_text(
        'de = "Neue Regeln: alles bleibt vertraulich."\nen = "New rules: all confidential."\n'
    )
    settings = make_settings(data, staff_ids=str(STAFF), staff_rules_file=rules)
    second = Harness(api=api, settings=settings, clock=clock)
    await second.start()
    try:
        again = texts(await second.customer(STAFF).send("/zusammenfassung"))
        assert "Neue Regeln" in again and "Feedback-Zusammenfassung" not in again
        # Told why: confirmed once already (found by an upgrade review).
        assert "Die Regeln haben sich geändert. Bitte lesen Sie sie erneut." in again
        assert "Prüfprotokoll" in again, "the trail's note beside an operator's own rules"
        await second.customer(STAFF).press("Ich bestätige")
        shown = texts(await second.customer(STAFF).send("/zusammenfassung"))
        assert "Feedback-Zusammenfassung" in shown
        entries = await second.store.audit_entries(clock() - timedelta(days=1))  # type: ignore[union-attr]
        versions = [e.detail for e in entries if e.event == "staff-rules-confirmed"]
        assert len(versions) == 2 and versions[0] != versions[1]
    finally:
        await second.stop()


async def test_a_cached_summary_forgets_an_erased_person(desk: Harness) -> None:
    await many(desk, count=8, then_next_day=False)
    for user_id in (300, 301):
        desk.clock.advance(timedelta(hours=3))
        await give(desk, user_id, "1", "Zitronenfalter Zitronenfalter, alles kaputt")
    desk.clock.advance(timedelta(days=2))  # the days above are over: their figures are cached
    await confirmed(desk)
    staff = desk.customer(STAFF)
    first = texts(await staff.send("/zusammenfassung"))
    assert "Feedbacks: 10" in first and "zitronenfalter (2)" in first, "once per feedback"
    assert texts(await staff.send("/zusammenfassung")) == first
    data = desk.settings.data_dir
    assert not files_contain(data, b"itronenfalter"), "the cached word counts are encrypted"

    erika = desk.customer(300)
    await erika.send("/loeschen")
    await erika.press("Alles löschen")
    after = texts(await staff.send("/zusammenfassung"))
    assert "Feedbacks: 0" in after and "Nicht gezählt: " in after, "the group is out whole"
    assert "itronenfalter" not in after


async def test_a_staff_member_erasing_their_data_is_told_the_audit_trail_stays(
    desk: Harness,
) -> None:
    await confirmed(desk)
    staff = desk.customer(STAFF)
    nothing = texts(await staff.send("/loeschen"))
    assert "keine Daten" in nothing and "Prüfprotokoll behält außerdem verschlüsselt" in nothing
    assert "1.461 Tage nach" in nothing, "how long it stays (FEEDBACKBOT_AUDIT_RETENTION)"
    await give(desk, STAFF, "5", "Ich teste selbst")
    await staff.send("/loeschen")
    done = texts(await staff.press("Alles löschen"))
    assert "Prüfprotokoll behält außerdem verschlüsselt" in done
    customer = desk.customer(100)
    await give(desk, 100, "4", "gut")
    await customer.send("/loeschen")
    assert "Zugriffsprotokoll" not in texts(await customer.press("Alles löschen"))


async def test_a_staff_member_asking_for_their_data_is_told_of_the_audit_trail(
    desk: Harness,
) -> None:
    """Found by a DPO's review: /meinedaten told a member of staff "No data is stored about
    you", while every summary, export and answer of theirs is kept in the audit trail
    under their id for four years (/loeschen said so already)."""
    await confirmed(desk, language="en")
    staff = desk.customer(STAFF, language_code="en")
    await staff.send("/summary")
    note = "From your work as staff: the audit trail also keeps when you used the staff commands"
    answer = await staff.send("/mydata")
    nothing = texts(answer)
    assert nothing.startswith("No data is stored about you as a customer.") and note in nothing
    # their entries, in the copy (found by a DPO's review: "ask datenschutz@… for it")
    assert "3 entries of yours, made on " in nothing and "1,461 days" in nothing, "one day"
    copy = export_of(answer)
    jsonschema.validate(copy, SCHEMA)
    events = [(e["event"], e["detail"]) for e in copy["staff_audit"]]
    assert [event for event, _ in events] == ["staff-rules-confirmed", "summary", "summary"]
    assert events[-1][1] == "7d" and copy["staff_audit"][-1]["at"].endswith(":00Z")
    await give(desk, STAFF, "5", "Ich teste selbst")
    desk.clock.advance(timedelta(minutes=5))  # past the limit on asking again
    answer = await staff.send("/mydata")
    said = texts(answer)
    assert note in said and len(export_of(answer)["staff_audit"]) == 3
    assert export_of(answer)["feedback"], "beside their own feedback"
    # (found by review: "/delete erases everything" above the note that the trail stays)
    assert "/delete erases everything but what is kept as proof (see below)." in said
    rules = export_of(answer)["retention_rules"]
    assert any(rule.startswith("Entries of the audit trail") for rule in rules)
    desk.clock.advance(timedelta(days=2))
    await staff.send("/summary")
    desk.clock.advance(timedelta(minutes=5))
    assert "4 entries of yours, made from " in texts(await staff.send("/mydata"))
    customer = desk.customer(100, language_code="en")
    await give(desk, 100, "4", "gut")
    assert "audit trail" not in texts(await customer.send("/mydata"))


async def test_a_former_staff_member_still_gets_their_audit_entries(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """Taken off FEEDBACKBOT_STAFF_IDS, the entries stay for years under their id: their
    /meinedaten still names and copies them (Art. 15), without the staff commands."""
    desk = staff_desk(api, clock, tmp_path)
    await desk.start()
    try:
        await confirmed(desk)
    finally:
        await desk.stop()
    former = staff_desk(api, clock, tmp_path, staff_ids="")
    await former.start()
    try:
        answer = await former.customer(STAFF).send("/meinedaten")
        said = texts(answer)
        assert said.startswith("Über Sie als Kundin oder Kunde sind keine Daten gespeichert.")
        assert "2 Einträge von Ihnen, vom " in said, said
        # (found by review: "Als Mitarbeiterin oder Mitarbeiter" to whoever no longer is one)
        assert "Aus Ihrer Arbeit im Team: Das Prüfprotokoll" in said
        assert "Als Mitarbeiterin" not in said
        copy = export_of(answer)
        assert [e["event"] for e in copy["staff_audit"]] == ["staff-rules-confirmed", "summary"]
        assert "Prüfprotokoll" not in texts(await former.customer(OUTSIDER).send("/meinedaten"))
        # and /loeschen says the entries stay, before and after (found by review: "only an
        # encrypted note is kept")
        await give(former, STAFF, "4", "Als Kundin jetzt")
        asked = texts(await former.customer(STAFF).send("/loeschen"))
        assert "Aus Ihrer Arbeit im Team: Das Prüfprotokoll behält" in asked, asked
        assert "Aufbewahrt wird nur" not in asked, "not 'only' beside the trail (review)"
        done = texts(await former.customer(STAFF).press("Alles löschen"))
        assert "Prüfprotokoll behält außerdem verschlüsselt" in done
        assert done.startswith("Erledigt. Alles, was über Sie gespeichert war, wurde gelöscht, bis")
        assert "Aufbewahrt wird nur" not in done
        outsider = texts(await former.customer(OUTSIDER).send("/loeschen"))
        assert "Prüfprotokoll" not in outsider
    finally:
        await former.stop()


async def test_help_lists_the_staff_commands_for_staff_only(desk: Harness) -> None:
    assert "/zusammenfassung 7d" in texts(await desk.customer(STAFF).send("/hilfe"))
    english = texts(await desk.customer(STAFF, language_code="en").send("/help"))
    assert "/summary 7d – summarise" in english
    assert "zusammenfassung" not in texts(await desk.customer(4711).send("/hilfe"))


def test_a_day_or_week_to_come_is_told_apart_from_one_that_is_none() -> None:
    """Found by the review of the split: "31.-30.11." (no 31 November) was a day to come,
    "KW 53" in March (2026 has one, 2025 not) a week that is none."""
    from flows.staff import DayToCome, NoSuchDay

    december, march = date(2026, 12, 7), date(2026, 3, 1)
    for typed, today, raised in [
        ("31.-30.11.", december, NoSuchDay),
        ("30.-28.2.", december, NoSuchDay),
        ("KW 54", december, NoSuchDay),
        ("KW 53", march, DayToCome),
        ("KW 52", december, DayToCome),
        ("24.12.2030", december, DayToCome),
    ]:
        with pytest.raises(raised) as caught:
            first_day_named(typed, today)
        assert (caught.type is DayToCome) == (raised is DayToCome), typed


async def test_help_typed_by_staff_lists_their_commands_as_help_does(desk: Harness) -> None:
    """Found by a staff walk-through: "Hilfe" typed in their own test survey, or with no
    survey open, listed the customers' commands only; /hilfe lists theirs too."""
    staff = desk.customer(STAFF)
    outside = texts(await staff.send("Hilfe"))
    assert "/loeschen" in outside and "/zusammenfassung 7d" in outside, outside
    await staff.send("/start")
    await staff.press("Ja, ich willige ein")
    desk.clock.advance(timedelta(minutes=1))
    inside = texts(await staff.send("Hilfe"))
    assert "/zusammenfassung 7d" in inside and "Wie zufrieden" in inside, inside
    customer = desk.customer(4711)
    await customer.send("/start")
    await customer.press("Ja, ich willige ein")
    desk.clock.advance(timedelta(minutes=1))
    said = texts(await customer.send("Hilfe"))
    assert "/loeschen" in said and "zusammenfassung" not in said, said


async def test_audit_entries_go_after_the_audit_retention_and_the_rules_are_asked_again(
    desk: Harness,
) -> None:
    await confirmed(desk)
    assert desk.store is not None
    before = await desk.store.audit_entries(desk.clock() - timedelta(days=1))
    assert [e.event for e in before] == ["staff-rules-confirmed", "summary"]
    desk.clock.advance(timedelta(days=1460))
    await desk.restart()  # the purge at start keeps what is not yet four years old
    assert len(await desk.store.audit_entries(desk.clock() - timedelta(days=4000))) == 2
    desk.clock.advance(timedelta(days=2))
    await desk.restart()
    assert await desk.store.audit_entries(desk.clock() - timedelta(days=4000)) == []
    rules = texts(await desk.customer(STAFF).send("/zusammenfassung 7d"))
    assert "vertraulich" in rules, "the confirmation went with its entry: confirm again"
    assert "geändert" not in rules, "the rules are the same"


async def test_the_hourly_purge_of_a_running_bot_takes_old_audit_entries_too(
    desk: Harness,
) -> None:
    """A bot that runs for years without a restart: its purge job, not only the purge at
    start-up, deletes audit entries past FEEDBACKBOT_AUDIT_RETENTION."""
    await confirmed(desk)
    assert desk.store is not None and desk.app is not None and desk.app.job_queue is not None
    [job] = desk.app.job_queue.get_jobs_by_name("purge")
    desk.clock.advance(timedelta(days=1462))
    await job.run(desk.app)
    assert await desk.store.audit_entries(desk.clock() - timedelta(days=4000)) == []


async def test_one_persons_answers_to_a_question_stay_hidden_however_many(desk: Harness) -> None:
    """k answers were taken for k people: one customer who took the product survey five
    times had their ratings shown as its figures in a summary of ten people."""
    john = desk.customer(900, language_code="en")
    for _ in range(5):
        started = await john.send("/start product")
        if labels(started[-1])[0][0] == "Yes, I agree":
            await john.press("Yes, I agree")
        await john.press("5")
        await john.press("☐ The support")
        await john.press("Done")
        assert "Thank you for your product feedback!" in texts(await john.press("10"))
    await many(desk)
    await confirmed(desk)
    text = texts(await desk.customer(STAFF).send("/zusammenfassung 30d"))
    assert "Feedbacks: 15" in text and "Personen: 11" in text
    assert "Durchschnitt" in text
    assert "unserem Produkt" not in text, text
    # ...and staff are told the survey has no figures, rather than left to think its
    # answers were lost (found by an operator audit)
    assert (
        "Keine Zahlen zur Umfrage „Produktfeedback“: In jeder Gruppe von Tagen haben weniger "
        "als 5 Personen, vielleicht auch niemand, sie beantwortet." in text
    )
    assert "Was gefällt Ihnen am besten?" not in text and "Der Support" not in text
    # ...and where the other five went, beside the ten of the survey shown (found by an
    # English-speaking staff review: the total above the surveys' counts did not add up)
    assert "\n\nUmfrage „Kundenfeedback“: 10 Feedbacks\n" in text, text
    assert (
        "Bei keiner Umfrage oben mitgezählt: 5 der 15 Feedbacks. Die Zahlen einer Umfrage "
        "zählen nur ganze Gruppen von Tagen innerhalb der gezählten Tage, in denen mindestens "
        "5 Personen sie beantwortet haben, damit niemand erkannt werden kann."
    ) in text


async def test_the_summary_shows_what_people_chose(desk: Harness) -> None:
    """The product survey asks unhappy people what went wrong, several answers each:
    staff see how often each was chosen, in their language, most chosen first."""
    picks = [["Fehler und Abstürze", "Zu langsam"], ["Fehler und Abstürze"], ["Zu teuer"]]
    for n in range(6):
        customer = desk.customer(300 + n)
        await customer.send("/start product")
        await customer.press("Ja, ich willige ein")
        await customer.press("2")
        for label in picks[n % 3]:
            await customer.press(f"☐ {label}")
        await customer.press("Fertig")
        await customer.press("Überspringen")
        await customer.press("3")
        thanks = await customer.press("Nein")
        assert "Vielen Dank für Ihr Produktfeedback!" in texts(thanks)
        desk.clock.advance(timedelta(minutes=30))  # all on one day
    desk.clock.advance(timedelta(days=1))
    await confirmed(desk)
    text = texts(await desk.customer(STAFF).send("/zusammenfassung")).replace("\xa0", " ")
    assert (
        "Was lief schief?\n6 Antworten (mehrere Optionen wählbar)\n"
        "████████████ 4 (67 %) Fehler und Abstürze\n"
        "██████░░░░░░ 2 (33 %) Zu langsam\n"
        "██████░░░░░░ 2 (33 %) Zu teuer\n"
        "Nicht gewählt: Schwer zu bedienen, Eine Funktion fehlt"
    ) in text
    assert "Was gefällt Ihnen am besten?\n" not in text, "nobody was asked"
    # ...and said so, as of a survey without figures: a question left out without a word
    # was taken for lost (found by a staff walk-through)
    assert (
        "\n\nKeine Zahlen zur Frage „Was gefällt Ihnen am besten?“: In jeder Gruppe von "
        "Tagen haben weniger als 5 Personen, vielleicht auch niemand, sie beantwortet.\n"
    ) in text
    assert "Gezählt: der 29. November 2026 (UTC)." in text, "not 'die Tage vom 29. bis 29.'"
    assert text.endswith("\n---\nBewertungen je Gruppe von Tagen"), "one 1–5 question"
    english = texts(await desk.customer(STAFF, language_code="en").send("/summary"))
    assert (
        "No figures for the question “What do you like most?”: fewer than 5 people, perhaps "
        "none, answered it in each group of days."
    ) in english
    assert "What went wrong?\n6 answers" in english.replace("\xa0", " ")


async def test_a_chart_of_several_surveys_shows_one_and_says_which(desk: Harness) -> None:
    """Five people rate the service 5 and the product 2: a bar of 3.5 would belong to
    neither question (and bars of either survey under one title read as a swing, found
    by review): the chart is of one survey, and says which."""
    for n in range(5):
        await give(desk, 600 + n, "5", "Gut")
        customer = desk.customer(600 + n)
        await customer.send("/start product")
        await customer.press("Ja, ich willige ein")
        await customer.press("2")
        await customer.press("☐ Zu langsam")
        await customer.press("Fertig")
        await customer.press("Überspringen")
        await customer.press("3")
        assert "Vielen Dank" in texts(await customer.press("Nein"))
        desk.clock.advance(timedelta(minutes=30))
    desk.clock.advance(timedelta(days=1))
    await confirmed(desk)
    answer = await desk.customer(STAFF).send("/zusammenfassung")
    assert "Durchschnitt 5,0 von 5 (5 Antworten)" in texts(answer)
    assert "Durchschnitt 2,0 von 5 (5 Antworten)" in texts(answer)
    # ten feedbacks, five to each survey: each question has all of its survey's answers
    assert "Feedbacks: 10" in texts(answer)
    assert "Umfrage „Kundenfeedback“: 5 Feedbacks" in texts(answer)
    assert "Umfrage „Produktfeedback“: 5 Feedbacks" in texts(answer)
    assert "Eine Frage zählt nur" not in texts(answer)
    assert "Bei keiner Umfrage" not in texts(answer), "all ten are under their survey"
    [chart] = [m for m in answer if m["photo"]]
    assert chart["caption"] == "Bewertungen je Gruppe von Tagen der Umfrage „Kundenfeedback“"


async def test_the_previous_period_is_as_long_as_the_one_counted(desk: Harness) -> None:
    """Six people a weekday, one each on a quiet weekend: the Tuesday digest counts
    Saturday to Monday (a group needs five people). It compared them with Friday alone,
    "+33 %" every week on steady feedback; now with the three days before."""
    await confirmed(desk)  # the rules confirmed before anything is released
    for people in (6, 6, 6, 6, 1, 1, 6):  # 29 Nov to 5 Dec
        day = desk.clock()
        for n in range(people):
            desk.clock.now = day + timedelta(hours=1 + n)
            await give(desk, 2000 + int(day.timestamp()) % 100000 + n, "4", "Gut")
        desk.clock.now = day.replace(hour=9) + timedelta(days=1)
    assert desk.app is not None
    await post_digest(desk.app)
    digest = texts([m for m in desk.api.messages(STAFF_CHAT) if m["text"]][-1:])
    assert "Gezählt: die Tage vom 3. Dezember 2026 bis 5. Dezember 2026" in digest, digest
    assert "Vorperiode: die Tage vom 30. November 2026 bis 2. Dezember 2026." in digest
    assert "Feedbacks: 8 (Vorperiode: 18, -56 %)" in digest.replace("\xa0", " ")


async def test_a_summary_of_the_first_days_says_there_is_nothing_to_compare_with(
    desk: Harness,
) -> None:
    """Found by a staff review: the summaries of the bot's first days said "Vorperiode: 0",
    which reads as nobody gave feedback before, when nothing was counted before at all."""
    await many(desk)  # ten people on 29 and 30 November, the first feedback there is
    await confirmed(desk)
    staff = desk.customer(STAFF)
    german = texts(await staff.send("/zusammenfassung 7d")).splitlines()
    assert "Vorperiode: 0" not in "\n".join(german)
    assert (
        "Keine Vorperiode zum Vergleich: Die Zusammenfassungen zählen Feedback ab dem "
        "29. November 2026."
    ) in german
    assert "Feedbacks: 10" in german and "Personen: 10" in german
    await staff.send("/language")
    await staff.press("English")
    english = texts(await staff.send("/summary 30d")).splitlines()
    assert "previous period: 0" not in "\n".join(english)
    assert (
        "No previous period to compare with: summaries count responses from 29 November 2026 on."
    ) in english
    assert "Responses: 10" in english and "People: 10" in english
    # A week on, the week before is there to compare with, and said as before.
    desk.clock.advance(timedelta(days=7))
    for n in range(5):
        await give(desk, 300 + n, "4", "Wieder da")
    desk.clock.advance(timedelta(days=1))
    later = texts(await staff.send("/summary 7d")).splitlines()
    assert not any(line.startswith("No previous period") for line in later)
    assert "Previous period: the days from 29 November 2026 to 30 November 2026." in later
    assert "Responses: 5 (previous period: 10)" in later, later


async def test_a_summary_over_days_whose_feedback_has_expired_says_so_instead_of_none(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """Found by a staff review: with the first feedback past its retention, the week before
    read "Vorperiode: 0" (ten people had answered then), and a summary over 60 days counted
    from the bot's first day with nothing said about the feedback deleted since."""
    desk = staff_desk(api, clock, tmp_path, retention="30d")
    await desk.start()
    try:
        await many(desk)  # ten people on 29 and 30 November
        await confirmed(desk)
        desk.clock.advance(timedelta(days=31))  # their feedback expired on 29/30 December
        for n in range(5):
            await give(desk, 300 + n, "4", "Wieder da")
        desk.clock.advance(timedelta(days=1))  # 2 January 2027, 15:00 UTC
        staff = desk.customer(STAFF)
        retention = (
            "Feedback wird 30 Tage nach seiner Abgabe gelöscht: Was vor dem 03.12.2026, 15:00 "
            "UTC gegeben wurde, zählt nicht mehr."
        )
        week = texts(await staff.send("/zusammenfassung 7d")).splitlines()
        assert "Vorperiode: die Tage vom 29. November 2026 bis 30. November 2026." in week
        assert (
            "Kein Vergleich mit der Vorperiode: Sie reicht weiter zurück, als Feedback "
            "aufbewahrt wird."
        ) in week
        assert retention in week
        assert "Feedbacks: 5" in week and "Personen: 5" in week
        assert "Vorperiode: 0" not in "\n".join(week)
        months = texts(await staff.send("/zusammenfassung 60d")).splitlines()
        assert retention in months
        assert "Feedbacks: 5" in months and "Personen: 5" in months
        await staff.send("/language")
        await staff.press("English")
        english = texts(await staff.send("/summary 7d")).splitlines()
        assert (
            "No comparison with the previous period: it reaches back further than responses "
            "are kept."
        ) in english
        assert (
            "Responses are deleted 30 days after they are given: those given before "
            "3 Dec 2026, 15:00 UTC are no longer counted."
        ) in english
        assert "Responses: 5" in english and "People: 5" in english
        assert "previous period: 0" not in "\n".join(english)
        # Two weeks on, the week before is within the retention: compared as before.
        for week in range(2):
            desk.clock.advance(timedelta(days=6))
            for n in range(5):
                await give(desk, 400 + 10 * week + n, "5", "Noch einmal")
            desk.clock.advance(timedelta(days=1))
        later = texts(await staff.send("/summary 7d")).splitlines()
        assert "Responses: 5 (previous period: 5, ±0%)" in later, later
        said = ("No comparison", "Responses are deleted")
        assert not any(line.startswith(said) for line in later)
    finally:
        await desk.stop()


async def test_a_group_of_days_partly_expired_is_still_held_back_whole(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """Two of a group of five expire before the other three: the three still stored are not
    shown (nor are three new ones), under the retention's note too."""
    desk = staff_desk(api, clock, tmp_path, retention="30d")
    await desk.start()
    try:
        await confirmed(desk)
        staff = desk.customer(STAFF)
        for n in range(2):
            desk.clock.advance(timedelta(hours=3))
            await give(desk, 100 + n, "5", f"Früh gekommen {n}")
        desk.clock.advance(timedelta(days=6))
        for n in range(3):
            desk.clock.advance(timedelta(hours=1))
            await give(desk, 200 + n, "1", f"Später gekommen {n}")
        desk.clock.advance(timedelta(days=1))
        shown = texts(await staff.send("/zusammenfassung 30d"))
        assert "Feedbacks: 5" in shown and "Später gekommen 0" in shown, "the whole group"
        desk.clock.advance(timedelta(days=24))  # the first two expired on 29 December
        for n in range(3):
            desk.clock.advance(timedelta(hours=1))
            await give(desk, 300 + n, "3", f"Ganz neu {n}")
        desk.clock.advance(timedelta(days=1))  # 31 December 2026, 21:00 UTC
        assert desk.store is not None
        stored = await desk.store.feedback_in_period(
            desk.clock() - timedelta(days=60), desk.clock(), desk.clock()
        )
        assert len(stored) == 6, "three of the group and three new ones are still stored"
        for language, period in (("de", "/zusammenfassung 60d"), ("en", "/summary 60d")):
            if language == "en":
                await staff.send("/language")
                await staff.press("English")
            months = texts(await staff.send(period))
            lines = months.splitlines()
            assert "Später gekommen" not in months and "Ganz neu" not in months, months
            assert "Durchschnitt" not in months and "Average" not in months
            if language == "de":
                assert "Feedbacks: 0" in lines and "Personen: 0" in lines
                assert (
                    "Feedback wird 30 Tage nach seiner Abgabe gelöscht: Was vor dem "
                    "01.12.2026, 21:00 UTC gegeben wurde, zählt nicht mehr."
                ) in lines
                assert any(
                    line.startswith("Nicht gezählt: ") and "(eine Gruppe von Tagen)" in line
                    for line in lines
                )
            else:
                assert "Responses: 0" in lines and "People: 0" in lines
                assert (
                    "Responses are deleted 30 days after they are given: those given before "
                    "1 Dec 2026, 21:00 UTC are no longer counted."
                ) in lines
                assert any(
                    line.startswith("Left out: ") and "(one group of days)" in line
                    for line in lines
                )
        week = texts(await staff.send("/summary 7d"))
        assert "Ganz neu" not in week and "Responses: 3" not in week
    finally:
        await desk.stop()


async def test_a_summary_says_when_surveys_keep_feedback_for_different_times(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """One survey kept 30 days, the shipped one 180: the summary names the shorter one and
    does not claim that everything before it is gone."""
    flows = survey(tmp_path / "flows")  # kept 30 days
    desk = staff_desk(api, clock, tmp_path, flows_dir=flows, shipped_flows="feedback")
    await desk.start()
    try:
        await many(desk, count=5)  # to the shipped survey, kept 180 days
        await confirmed(desk)
        desk.clock.advance(timedelta(days=31))
        for n in range(5):
            await give(desk, 300 + n, "4", "Wieder da")
        desk.clock.advance(timedelta(days=1))  # 2 January 2027, 00:00 UTC
        staff = desk.customer(STAFF)
        german = texts(await staff.send("/zusammenfassung 7d")).splitlines()
        assert (
            "Feedback wird 30 Tage nach seiner Abgabe gelöscht, das mancher Umfragen später: "
            "Was vor dem 03.12.2026, 00:00 UTC gegeben wurde, zählt nicht mehr vollständig."
        ) in german
        assert "Feedbacks: 5" in german
        await staff.send("/language")
        await staff.press("English")
        english = texts(await staff.send("/summary 7d")).splitlines()
        assert (
            "Responses are deleted 30 days after they are given, those to some surveys later: "
            "those given before 3 Dec 2026, 00:00 UTC are no longer counted in full."
        ) in english
        assert "Responses: 5" in english
    finally:
        await desk.stop()


async def test_a_staff_chat_that_is_a_staff_members_own_keeps_their_whole_menu(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """One person as staff, with the digests in their private chat: the staff chat's
    menu (the summary alone) must not replace theirs."""
    settings = make_settings(tmp_path / "data", staff_ids=str(STAFF), staff_chat_id=STAFF)
    harness = Harness(api=api, settings=settings, clock=clock)
    await harness.start()
    try:
        names = [name for name, _ in api.commands_for("", {"type": "chat", "chat_id": STAFF})]
        assert "zusammenfassung" in names and "meinedaten" in names
    finally:
        await harness.stop()


async def test_a_staff_chat_that_is_a_staff_members_own_serves_them_as_a_customer_too(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """Found by review: every command but /hilfe was answered "In the staff chat I answer
    /summary and /reply only; everything else works in a private chat with me", in that
    very private chat; their own /meinedaten and /loeschen were out of reach."""
    settings = make_settings(
        tmp_path / "data", staff_ids=str(STAFF), staff_chat_id=STAFF, alert_threshold=2
    )
    harness = Harness(api=api, settings=settings, clock=clock)
    await harness.start()
    try:
        sam = harness.customer(STAFF)
        for command, answered in (
            ("/start", "Einwilligung"),
            ("/meinedaten", "keine Daten gespeichert"),
            ("/datenschutz", "Datenschutzhinweise"),
            ("/sprache", "In welcher Sprache"),
            ("/loeschen", "keine Daten gespeichert"),
            ("/zusammenfassung", "Regeln"),
        ):
            said = texts(await sam.send(command))
            assert "Im Team-Chat" not in said and answered in said, (command, said)
    finally:
        await harness.stop()


def business_message(
    sender: int, chat_id: int, text: str, update_id: int, kind: str = "business_message"
) -> dict[str, Any]:
    """What Telegram sends a bot connected to a Telegram Business account: a message in one
    of the business's chats with its customers (or another kind of message-like update)."""
    message: dict[str, Any] = {
        "message_id": update_id,
        "from": {"id": sender, "is_bot": False, "first_name": "Kunde", "language_code": "de"},
        "chat": {"id": chat_id, "type": "private", "first_name": "Kunde"},
        "date": 1764406800,
        "text": text,
        "business_connection_id": "bc-1",
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
    return {"update_id": update_id, kind: message}


async def test_the_bot_keeps_out_of_business_chats(desk: Harness) -> None:
    """Found by an attack review: connected to a Telegram Business account, the bot answered
    /hilfe in the business's chats with its customers, and for a member of staff who owns
    the account listed the staff commands there, telling the customer who is staff. (`run`
    does not ask Telegram for such updates; should they come, they are not the bot's: a
    guest message neither, nor may one move a language choice's deletion date on.)"""
    assert desk.store is not None
    await desk.customer(OUTSIDER).send("/sprache english")
    pseudonym = desk.store.pseudonym(f"tg-user:{OUTSIDER}")
    chosen = await desk.store.language_of(pseudonym, desk.clock())
    desk.clock.advance(timedelta(days=5))
    kinds = ["business_message", "edited_business_message", "guest_message"]
    for n, (kind, sender, text) in enumerate(
        [
            (kind, sender, text)
            for kind in kinds
            for sender in (OUTSIDER, STAFF)
            for text in ("/hilfe", "/zusammenfassung", "/x", "Hallo")
        ]
    ):
        sent = await desk.deliver(business_message(sender, OUTSIDER, text, 90_000 + n, kind))
        assert sent == [], (kind, text, sent)
    assert await desk.store.language_of(pseudonym, desk.clock()) == chosen
    assert "/zusammenfassung" in texts(await desk.customer(STAFF).send("/hilfe")), "as before"


async def test_text_typed_under_the_rules_is_pointed_to_their_button(desk: Harness) -> None:
    """Found by a customer walk-through: "7d" typed under the rules was told "Your feedback
    has been received; no question is open". Mid-survey the text stays the survey's."""
    await many(desk, count=5)
    me = desk.customer(STAFF)
    await me.send("/start")
    await me.press("Ja, ich willige ein")
    await me.press("4")
    await me.send("/zusammenfassung")  # the rules, and the comment question again
    await me.send("Gut gemacht")
    await me.press("Nein")
    assert await stored_comment(desk, me) == "Gut gemacht"
    said = texts(await me.send("7d"))
    assert said == (
        "Diese Nachricht habe ich nicht gespeichert. Um fortzufahren, tippen Sie bitte unter "
        "den Regeln oben auf „Ich bestätige“."
    )
    assert "Feedbacks: 5" in texts(await me.press("Ich bestätige"))  # (today not yet)
    assert "keine Frage offen" in texts(await me.send("7d")), "confirmed: as any text"


async def test_a_confirmation_typed_after_the_rules_were_confirmed_is_told_it_is_done(
    desk: Harness,
) -> None:
    """Found by a staff walk-through: "1" or "I confirm" typed after pressing "I confirm"
    (the button already gone) got the customers' "I can only take feedback after you have
    agreed to the consent request". Later, and other words, are as any text."""
    await confirmed(desk, language="en")
    me = desk.customer(STAFF, language_code="en")
    done = (
        "You have confirmed the rules already; nothing more is needed. To see a summary, send "
        "/summary 7d (or another period)."
    )
    for typed in ("1", "I confirm!", "confirmed"):
        assert texts(await me.send(typed)) == done, typed
    assert "consent request" in texts(await me.send("Great work")), "no confirmation"
    desk.clock.advance(timedelta(minutes=11))
    assert "consent request" in texts(await me.send("1")), "ten minutes after"


async def test_a_confirmation_typed_in_german_after_confirming_is_told_it_is_done(
    desk: Harness,
) -> None:
    await confirmed(desk)
    said = texts(await desk.customer(STAFF).send("Ich bestätige"))
    assert said == (
        "Sie haben die Regeln schon bestätigt; mehr ist nicht nötig. Für eine Zusammenfassung "
        "senden Sie /zusammenfassung 7d (oder einen anderen Zeitraum)."
    )
