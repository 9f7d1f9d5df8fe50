"""Summaries over known fixtures: counts, averages, NPS, trend, redaction and suppression."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from flows.catalog import FlowCatalog, load_flow
from flows.figures import count_words
from flows.i18n import Translator, translator
from flows.service import countable_answers
from flows.summary import compute, frequent_words, render
from storage.interface import PeriodFeedback

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
DE, EN = translator("de"), translator("en")
NPS_FLOW = load_flow(
    """
id = "nps"
title = "NPS"
intro = "Hi"
[[purposes]]
id = "feedback"
required = true
description = "Feedback"
[[steps]]
id = "recommend"
type = "rating"
min = 0
max = 10
prompt = { de = "Weiterempfehlen?", en = "Recommend?" }
[[steps]]
id = "bye"
type = "thanks"
prompt = "Bye"
""",
    "nps.toml",
)
CATALOG = FlowCatalog(flows={**FlowCatalog.load().flows, "nps": NPS_FLOW})


def record(
    n: int,
    rating: int,
    comment: str | None = None,
    days_ago: float = 1,
    person: str | None = None,
    in_force: frozenset[str] = frozenset({"feedback"}),
    flow: str = "feedback",
) -> PeriodFeedback:
    created = NOW - timedelta(days=days_ago)
    answers: dict[str, object] = (
        {"rating": rating, "comment": comment} if flow == "feedback" else {"recommend": rating}
    )
    return PeriodFeedback(
        id=f"r{n}",
        flow_id=flow,
        answers=answers,
        purposes=["feedback"],
        created_at=created,
        expires_at=created + timedelta(days=180),
        pseudonym=person or f"p{n}",
        consents_in_force=in_force,
    )


def a_week_of(records: list[PeriodFeedback], t: Translator = EN) -> str:
    """The summary of the week up to NOW of `records`, none in the week before."""
    return render(
        t, NOW - timedelta(days=7), NOW, compute(records, CATALOG, t), compute([], CATALOG, t), k=5
    )


def test_counts_average_distribution_and_trend() -> None:
    current = [
        record(n, r, "Schnelle Lieferung" if n % 2 else None)
        for n, r in enumerate([5, 5, 4, 3, 5, 1])
    ]
    current.append(record(99, 5, person="p0"))  # the same person again
    previous = [record(100 + n, 3, days_ago=9) for n in range(5)]
    now_figures = compute(current, CATALOG, DE)
    before = compute(previous, CATALOG, DE)
    assert (now_figures.feedbacks, now_figures.people, now_figures.commented) == (7, 6, 3)
    rating = now_figures.ratings[("feedback", "rating")]
    assert round(rating.average, 2) == 4.0 and rating.distribution == {5: 4, 4: 1, 3: 1, 2: 0, 1: 1}
    text = render(DE, NOW - timedelta(days=7), NOW, now_figures, before, k=5).replace("\xa0", " ")
    assert "Feedbacks: 7 (Vorperiode: 5, +40 %)" in text
    # a previous period of other length, or with days left out, gives no change
    other = render(DE, NOW - timedelta(days=7), NOW, now_figures, before, k=5, comparable=False)
    assert "Feedbacks: 7 (Vorperiode: 5)" in other
    assert "Personen: 6 (Vorperiode: 5)" in text
    assert "Durchschnitt 4,0 von 5 (7 Antworten) (Vorperiode: 3,0; +1,0)" in text
    assert "5 ★ ████████████ 4" in text and "2 ★ ░░░░░░░░░░░░ 0" in text
    assert "Kommentare: 43 %" in text
    assert "lieferung (3)" in text and "schnelle (3)" in text


def test_nps_is_promoters_minus_detractors() -> None:
    values = [10, 9, 9, 8, 7, 6, 3, 10, 10, 2]
    figures = compute([record(n, v, flow="nps") for n, v in enumerate(values)], CATALOG, EN)
    assert figures.ratings[("nps", "recommend")].nps == 20  # 5 promoters, 3 detractors of 10
    text = render(EN, NOW - timedelta(days=7), NOW, figures, compute([], CATALOG, EN), k=5)
    assert "Recommend?\nNPS +20 (10 answers)" in text
    even = compute(
        [record(n, v, flow="nps") for n, v in enumerate([10, 9, 8, 7, 6, 0])], CATALOG, EN
    )
    text = render(EN, NOW - timedelta(days=7), NOW, even, figures, k=5)
    assert "Recommend?\nNPS 0 (6 answers) (previous period: +20)" in text, "not '+0'"
    assert "(7 days)" in text.splitlines()[0]


def test_periods_and_counts_of_one_read_naturally() -> None:
    one = compute([record(0, 10, flow="nps")], CATALOG, DE)
    text = render(DE, NOW - timedelta(hours=24), NOW, one, compute([], CATALOG, DE), k=1)
    assert text.splitlines()[0].endswith("(1 Tag)"), "not '(1 Tage)'"
    assert "NPS +100 (1 Antwort)" in text
    hours = render(EN, NOW - timedelta(hours=36), NOW, one, compute([], CATALOG, EN), k=1)
    assert hours.splitlines()[0].endswith("(36 hours)"), "not '(2 days)'"
    day = render(EN, NOW - timedelta(hours=12), NOW, one, compute([], CATALOG, EN), k=1)
    assert day.splitlines()[0] == "Feedback summary (12 hours)"


def test_withdrawn_consent_excludes_the_feedback() -> None:
    records = [record(n, 5) for n in range(5)] + [
        record(9, 1, "zurückgezogen", in_force=frozenset())
    ]
    figures = compute(records, CATALOG, DE)
    assert figures.feedbacks == 5 and all(
        "zurückgezogen" not in c.text for _, c in figures.comments
    )


def test_feedback_given_under_a_required_purpose_renamed_since_is_still_counted() -> None:
    """Given under "storing", since renamed "feedback" (the flow's required purpose now):
    counted while its consent to "storing" is in force, not once that is withdrawn
    (found by review: a rename left every earlier feedback out of the summaries)."""
    before = record(1, 5).model_copy(update={"purposes": ["storing"]})
    in_force = before.model_copy(update={"consents_in_force": frozenset({"storing"})})
    assert compute([in_force], CATALOG, DE).feedbacks == 1
    assert (
        compute(
            [before.model_copy(update={"consents_in_force": frozenset()})], CATALOG, DE
        ).feedbacks
        == 0
    )


def test_a_rating_given_on_another_scale_is_not_counted_on_this_one() -> None:
    """A 5 given when the question went from 0 to 10 is no 5 of 5 now (found by review:
    a scale changed under the same question id turned six 5-of-5 into an NPS of -100);
    one given on this scale, or before scales were kept, counts."""
    other = record(1, 5).model_copy(update={"scales": {"rating": [0, 10]}})
    same = record(2, 4).model_copy(update={"scales": {"rating": [1, 5]}})
    figures = compute([other, same, record(3, 3)], CATALOG, DE)
    assert figures.feedbacks == 3
    assert figures.ratings[("feedback", "rating")].counts == {4: 1, 3: 1}


def test_fewer_than_k_people_hides_every_breakdown() -> None:
    records = [record(n, 1, f"Ich bin Nummer {n}, sehr enttäuscht") for n in range(3)]
    text = render(
        DE,
        NOW - timedelta(days=7),
        NOW,
        compute(records, CATALOG, DE),
        compute([], CATALOG, DE),
        k=5,
    )
    assert "Personen: 3" in text and "ausgeblendet" in text
    assert "enttäuscht" not in text and "★" not in text


def test_comments_in_the_summary_are_redacted() -> None:
    records = [record(n, 4, f"Ruf an: +49 151 2345678{n} oder a{n}@example.com") for n in range(5)]
    text = a_week_of(records)
    assert "[Phone]" in text and "[Email]" in text
    assert "example.com" not in text and "2345678" not in text


def test_frequent_words_skip_stop_words_in_both_languages() -> None:
    counted: Counter[str] = Counter()
    for text in [
        "Die Lieferung war sehr schnell",
        "the delivery was very fast",
        "Lieferung schnell",
    ]:
        counted.update(count_words([text]))
    assert frequent_words(counted) == [("lieferung", 2), ("schnell", 2)]  # ties alphabetical


def test_frequent_words_are_not_the_little_words_of_every_complaint() -> None:
    """ "beim (7), nie (5), geht (4)" said nothing a staff member could act on."""
    counted: Counter[str] = Counter()
    for text in [
        "Fehler beim Start, geht leider nie",
        "Absturz beim Speichern, es geht trotzdem nie",
        "Kasse geht eigentlich, aber beim Bezahlen total langsam",
    ]:
        counted.update(count_words([text]))
    assert [word for word, _ in frequent_words(counted)] == []
    assert count_words(["Fehler beim Start"]) == Counter({"fehler": 1, "start": 1})


def test_a_word_counts_once_per_feedback() -> None:
    """Nine comments repeating one sentence made "lieferung (423)": staff read that as
    423 customers speaking of delivery."""
    ranting = "Die Lieferung kam spät, bitte mehr Tempo bei der Lieferung! " * 40
    records = [record(0, 2, ranting), record(1, 4, "Lieferung prima"), record(2, 5, "Tempo!")]
    records += [record(n, 5, "Verpackung prima") for n in range(3, 6)]
    text = a_week_of(records)
    line = next(line for line in text.splitlines() if line.startswith("Frequent words"))
    assert line == (
        "Frequent words (in how many responses): "
        "prima (4), verpackung (3), lieferung (2), tempo (2)"
    )


def test_dates_are_those_of_the_calendar_where_staff_work() -> None:
    """At a quarter past midnight in Berlin it is still the day before in UTC: a comment
    is dated by the UTC day it is counted in (found by review: dated 30.11. it stood alone
    on a day outside those counted, which told its hour to anyone who knew who had written
    late that night). The heading gives the length asked for, no dates: the days counted
    follow it (found by a staff review: "6 December – 7 December (1 day)")."""
    now = datetime(2026, 11, 29, 23, 15, tzinfo=UTC)  # 00:15 on 30 November in Berlin
    given = record(0, 4, "Spät am Abend").model_copy(
        update={"created_at": now - timedelta(minutes=5)}
    )
    figures = compute([given], CATALOG, DE)
    text = render(DE, now - timedelta(days=1), now, figures, compute([], CATALOG, DE), 1)
    assert text.splitlines()[0] == "Feedback-Zusammenfassung (1 Tag)"
    assert "• 29.11.2026: Spät am Abend" in text


def test_a_period_across_a_change_to_summer_time_keeps_its_length() -> None:
    """Berlin's clocks went forward on 28 March 2027: from the wall clock, the week up to
    29 March is 169 hours long, and its header read "(169 Stunden)"."""
    now = datetime(2027, 3, 29, 6, 0, tzinfo=UTC)
    empty = compute([], CATALOG, DE)
    for length, shown in ((timedelta(days=7), "(7 Tage)"), (timedelta(days=30), "(30 Tage)")):
        text = render(DE, now - length, now, empty, empty, 5)
        assert text.splitlines()[0].endswith(shown), text.splitlines()[0]


def test_an_empty_period_says_so() -> None:
    text = render(
        EN, NOW - timedelta(days=7), NOW, compute([], CATALOG, EN), compute([], CATALOG, EN), k=5
    )
    assert "No feedback was given in this period." in text
    assert "fewer than" not in text


def test_a_change_matches_the_two_averages_shown() -> None:
    """2.625 and 2.65 read 2,6 and 2,7 (halves up): the change between them is -0,1, not
    the "-0,0" of their unrounded difference; no change at all reads ±0,0."""
    current = [record(n, r) for n, r in enumerate([3, 3, 3, 3, 3, 2, 2, 2])]  # 2.625
    previous = [record(100 + n, r, days_ago=9) for n, r in enumerate([3] * 13 + [2] * 7)]  # 2.65
    text = render(
        DE,
        NOW - timedelta(days=7),
        NOW,
        compute(current, CATALOG, DE),
        compute(previous, CATALOG, DE),
        k=5,
    )
    assert "Durchschnitt 2,6 von 5 (8 Antworten) (Vorperiode: 2,7; -0,1)" in text, text
    same = compute([record(n, 4) for n in range(5)], CATALOG, DE)
    steady = render(DE, NOW - timedelta(days=7), NOW, same, same, k=5).replace("\xa0", " ")
    assert "(Vorperiode: 4,0; ±0,0)" in steady and "(Vorperiode: 5, ±0 %)" in steady, steady


FOLLOWUP_FLOW = load_flow(
    """
id = "callback"
title = "Callback"
intro = "Hi"
[[purposes]]
id = "feedback"
required = true
description = "Feedback"
[[purposes]]
id = "followup"
required = false
description = "Following up your issue"
[[steps]]
id = "score"
type = "rating"
prompt = "How satisfied?"
[[steps]]
id = "ok"
type = "consent"
purpose = "followup"
prompt = "May we follow up?"
[[steps]]
id = "urgency"
type = "rating"
purpose = "followup"
prompt = "How urgent?"
[[steps]]
id = "issue"
type = "text"
purpose = "followup"
prompt = "What is it about?"
[[steps]]
id = "remark"
type = "text"
prompt = "Anything else?"
[[steps]]
id = "bye"
type = "thanks"
prompt = "Bye"
""",
    "callback.toml",
)


def test_answers_collected_for_an_optional_purpose_are_not_summarised() -> None:
    """They serve that purpose alone: not the ratings, comments and words of the
    summary, which evaluates feedback for the required one."""
    catalog = FlowCatalog(flows={"callback": FOLLOWUP_FLOW})
    records = [
        PeriodFeedback(
            id=f"r{n}",
            flow_id="callback",
            answers={
                "score": 4,
                "ok": "y",
                "urgency": 5,
                "issue": "Techniker kam nie",
                "remark": "Nett",
            },
            purposes=["feedback"],
            created_at=NOW - timedelta(days=1),
            expires_at=NOW + timedelta(days=170),
            pseudonym=f"p{n}",
            consents_in_force=frozenset({"feedback", "followup"}),
        )
        for n in range(3)
    ]
    figures = compute(records, catalog, EN)
    assert set(figures.ratings) == {("callback", "score")}
    assert [c.text for _, c in figures.comments] == ["Nett"] * 3
    assert "techniker" not in figures.words and figures.words["nett"] == 3
    assert countable_answers(FOLLOWUP_FLOW, records[0].answers) == {"score": ["4"]}


CHOICE_FLOW = load_flow(
    """
id = "visit"
title = "Visit"
intro = "Hi"
[[purposes]]
id = "feedback"
required = true
description = "Feedback"
[[purposes]]
id = "followup"
required = false
description = "Following up"
[[steps]]
id = "topic"
type = "choice"
prompt = { de = "Worum ging es?", en = "What was it about?" }
options = [
  { id = "advice", label = { de = "Beratung", en = "Advice" } },
  { id = "repair", label = { de = "Reparatur", en = "Repair" } },
  { id = "return", label = { de = "Rückgabe", en = "Return" } },
]
[[steps]]
id = "liked"
type = "multiple_choice"
min_selected = 0
prompt = { de = "Was war gut?", en = "What was good?" }
options = [
  { id = "staff", label = { de = "Das Personal", en = "The staff" } },
  { id = "speed", label = { de = "Die Wartezeit", en = "The waiting time" } },
]
[[steps]]
id = "ok"
type = "consent"
purpose = "followup"
prompt = "May we follow up?"
[[steps]]
id = "channel"
type = "choice"
purpose = "followup"
prompt = "How should we reach you?"
options = [{ id = "chat", label = "Chat" }, { id = "mail", label = "Mail" }]
[[steps]]
id = "bye"
type = "thanks"
prompt = "Bye"
""",
    "visit.toml",
)


def visit(n: int, topic: object, liked: object, person: str | None = None) -> PeriodFeedback:
    return PeriodFeedback(
        id=f"v{n}",
        flow_id="visit",
        answers={"topic": topic, "liked": liked, "channel": "chat"},
        purposes=["feedback"],
        created_at=NOW - timedelta(days=1),
        expires_at=NOW + timedelta(days=170),
        pseudonym=person or f"p{n}",
        consents_in_force=frozenset({"feedback", "followup"}),
    )


def test_choice_questions_show_how_often_each_option_was_chosen() -> None:
    """Most chosen first, each with its share of the answers; a multiple choice counts
    every option ticked once, says that several could be chosen, and counts an answer
    that ticked none as an answer. Options no longer offered (a "visit" flow changed
    since) are not counted; nor is a choice asked for an optional purpose."""
    catalog = FlowCatalog(flows={"visit": CHOICE_FLOW})
    records = [
        visit(0, "repair", ["staff", "speed"]),
        visit(1, "repair", ["staff", "staff"]),
        visit(2, "advice", []),
        visit(3, "repair", ["speed", "gone"]),
        visit(4, "gone", ["staff"]),
        visit(5, "repair", "staff"),  # not a list: no answer to a multiple choice
    ]
    figures = compute(records, catalog, DE)
    text = render(DE, NOW - timedelta(days=7), NOW, figures, compute([], catalog, DE), k=5)
    text = text.replace("\xa0", " ")
    assert "Worum ging es?\n5 Antworten\n" in text
    assert "████████████ 4 (80 %) Reparatur\n███░░░░░░░░░ 1 (20 %) Beratung\n" in text
    assert "███░░░░░░░░░ 1 (20 %) Beratung\nNicht gewählt: Rückgabe\n" in text
    assert (
        "Was war gut?\n5 Antworten (mehrere Optionen wählbar)\n"
        "████████████ 3 (60 %) Das Personal\n████████░░░░ 2 (40 %) Die Wartezeit\n"
        "████░░░░░░░░ 1 (20 %) (keine davon)\n"  # ticked none: an answer too
    ) in text
    assert "How should we reach you?" not in text and "Chat" not in text
    assert text.index("Worum ging es?") < text.index("Was war gut?")


def test_a_multiple_choice_where_nobody_ticked_anything_says_so() -> None:
    catalog = FlowCatalog(flows={"visit": CHOICE_FLOW})
    records = [visit(n, "advice", []) for n in range(5)]
    text = render(
        DE,
        NOW - timedelta(days=7),
        NOW,
        compute(records, catalog, DE),
        compute([], catalog, DE),
        k=5,
    )
    assert (
        "Was war gut?\n5 Antworten (mehrere Optionen wählbar)\n"
        "████████████ 5 (100 %) (keine davon)\n"
        "Nicht gewählt: Das Personal, Die Wartezeit"
    ) in text.replace("\xa0", " ")


def test_a_choice_fewer_than_k_people_answered_is_hidden() -> None:
    catalog = FlowCatalog(flows={"visit": CHOICE_FLOW})
    records = [visit(n, "return", None) for n in range(5)] + [visit(9, None, ["staff"])]
    figures = compute(records, catalog, EN)
    text = render(EN, NOW - timedelta(days=7), NOW, figures, compute([], catalog, EN), k=5)
    assert "What was it about?\n5 answers\n" in text
    assert "What was good?\nHidden (fewer than 5 answers)" in text
    assert "The staff" not in text


def test_the_comments_say_their_days_are_utc_days() -> None:
    """A comment from 00:30 Berlin time (23:30 UTC) is dated the day before, as the days
    counted are: said with the comments, or a team reconciling them with alerts and the
    export (both in local time) reads it as the wrong day (found by a staff review)."""
    late = record(0, 2, "Nachts bestellt", days_ago=0)
    late = late.model_copy(update={"created_at": datetime(2026, 11, 24, 23, 30, tzinfo=UTC)})
    records = [late, *(record(n, 4) for n in range(1, 5))]
    text = a_week_of(records)
    heading = next(line for line in text.splitlines() if line.startswith("Latest comments"))
    assert heading.startswith("Latest comments, with their day in UTC ("), heading
    assert "• 24 Nov 2026: Nachts bestellt" in text, "the UTC day, not 25 Nov in Berlin"


def test_a_comment_is_dated_as_an_alert_dates_it() -> None:
    """One format for a day in both languages: alerts said "25.11.2026", summaries
    "24.11.26" in German and "28/11/2026" in English (found by a staff review)."""
    given = NOW - timedelta(days=1)
    records = [record(0, 4, "Gern wieder"), *(record(n, 4) for n in range(1, 5))]
    for t in (DE, EN):
        text = a_week_of(records, t)
        alerted = t.datetime(given, "UTC").split(",")[0]  # "28.11.2026", "28 Nov 2026"
        assert f"• {alerted}: Gern wieder" in text.splitlines()


def test_a_survey_without_figures_may_have_had_no_answers_at_all() -> None:
    """A week nobody took the NPS survey, the line read "fewer than 5 people answered it",
    and a team lead took it that a few had (staff review); it reads the same for none
    and for a few (see tests/bot/test_staff.py: one person's five answers), which tells
    no one apart."""
    others = [record(n, 4) for n in range(5)]

    def unshown(records: list[PeriodFeedback]) -> list[str]:
        figures = compute(records, CATALOG, EN)
        text = render(EN, NOW - timedelta(days=7), NOW, figures, compute([], CATALOG, EN), k=5)
        return [line for line in text.splitlines() if line.startswith("No figures")]

    assert unshown(others) == [
        "No figures for the surveys “Product feedback”, “NPS”: fewer than 5 people, perhaps "
        "none, answered them in each group of days."
    ]


def test_a_comment_stays_one_short_line_of_the_summary() -> None:
    """Its line breaks would let it pass for the bot's own lines (a made-up figure, a
    comment of someone else); a long one would fill message after message."""
    fake = "Alles super.\n\nFeedbacks: 999 (Vorperiode: 0)\n• 01.01.26: frei erfunden"
    records = [record(0, 5, fake), *(record(n, 4, "Wort " * 400) for n in range(1, 5))]
    text = render(
        DE,
        NOW - timedelta(days=7),
        NOW,
        compute(records, CATALOG, DE),
        compute([], CATALOG, DE),
        k=5,
    )
    lines = text.splitlines()
    assert [line for line in lines if line.startswith("Feedbacks:")] == [
        "Feedbacks: 5 (Vorperiode: 0)"
    ]
    assert (
        "• 28.11.2026: Alles super. Feedbacks: 999 (Vorperiode: 0) • 01.01.26: frei erfunden"
        in lines
    )
    assert (
        "Neueste Kommentare, mit ihrem Tag in UTC (von 5 Feedbacks mit Kommentar; "
        "E-Mail-Adressen, Telefonnummern u. Ä. entfernt, lange gekürzt):"
    ) in lines, "how many there are, and that long ones are cut"
    long = [line for line in lines if "Wort" in line]
    assert len(long) == 4
    assert all(line.endswith("Wort…") and len(line) <= len("• 28.11.2026: ") + 300 for line in long)


def test_comments_of_a_day_are_not_in_the_order_they_came() -> None:
    """The export shuffles rows within a day for this reason: whoever is known to have
    given feedback last that day would be the top comment of it."""
    given = ["früh: Kasse zu langsam", "Beratung top", "zuletzt: alles gut"]  # in this order
    records = [record(n, 4, comment, days_ago=1 - n / 100) for n, comment in enumerate(given)] + [
        record(5, 4, "Am Vortag", days_ago=2),
        record(6, 5, None),
        record(7, 5, None),
    ]
    text = a_week_of(records)
    bullets = [line for line in text.splitlines() if line.startswith("• ")]
    assert bullets == [
        "• 28 Nov 2026: Beratung top",
        "• 28 Nov 2026: früh: Kasse zu langsam",
        "• 28 Nov 2026: zuletzt: alles gut",
        "• 27 Nov 2026: Am Vortag",
    ]


STORE_FLOW = load_flow(
    """
id = "store"
title = "Filiale"
intro = "Hi"
[[purposes]]
id = "store_feedback"
required = true
description = "Feedback"
[[steps]]
id = "liked"
type = "text"
prompt = { de = "Was hat Ihnen gefallen?", en = "What did you like?" }
[[steps]]
id = "better"
type = "text"
prompt = { de = "Was können wir besser machen?", en = "What can we do better?" }
[[steps]]
id = "bye"
type = "thanks"
prompt = "Bye"
""",
    "store.toml",
)


def _given(
    n: int, flow: str, purpose: str, answers: dict[str, object], days_ago: float
) -> PeriodFeedback:
    created = NOW - timedelta(days=days_ago)
    return PeriodFeedback(
        id=f"g{n}",
        flow_id=flow,
        answers=answers,
        purposes=[purpose],
        created_at=created,
        expires_at=created + timedelta(days=180),
        pseudonym=f"g{n}",
        consents_in_force=frozenset({purpose}),
    )


def _latest(text: str) -> list[str]:
    lines = text.splitlines()
    first = next(n for n, line in enumerate(lines) if line.startswith("Neueste Kommentare"))
    return lines[first + 1 :]


def test_comments_to_several_questions_everyone_is_asked_stand_under_them() -> None:
    """A store's survey asks everyone what they liked and what could be better: staff
    see which question each comment answers."""
    catalog = FlowCatalog(flows={"feedback": CATALOG.flows["feedback"], "store": STORE_FLOW})
    records = [
        _given(0, "store", "store_feedback", {"liked": "Kaffee", "better": "Mehr Sitzplätze"}, 1),
        _given(1, "store", "store_feedback", {"better": "Längere Öffnungszeiten"}, 2),
        record(3, 4, "Freundliche Beratung", days_ago=1),
        *(record(n, 5) for n in range(4, 8)),
    ]
    text = render(
        DE, NOW - timedelta(days=7), NOW, compute(records, catalog, DE), compute([], catalog, DE), 5
    )
    assert _latest(text) == [
        "Was sollten wir wissen? Schreiben Sie einen kurzen Kommentar oder überspringen Sie "
        "diese Frage.",
        "• 28.11.2026: Freundliche Beratung",
        "Was hat Ihnen gefallen?",
        "• 28.11.2026: Kaffee",
        "Was können wir besser machen?",
        "• 28.11.2026: Mehr Sitzplätze",
        "• 27.11.2026: Längere Öffnungszeiten",
    ]
    # One question answered: no heading, as before.
    alone = render(
        DE,
        NOW - timedelta(days=7),
        NOW,
        compute(records[2:], catalog, DE),
        compute([], catalog, DE),
        5,
    )
    assert [line for line in _latest(alone) if "Beratung" in line] == [
        "• 28.11.2026: Freundliche Beratung"
    ]


def test_comments_stand_under_no_heading_where_one_could_tell_an_answer() -> None:
    """The product survey asks "what happened?" after a rating of 1 or 2 only: a
    comment under it (or under the survey's title, or the only ones without a heading)
    would tell its author's rating, also where the rating is hidden for too few answers."""
    records = [
        _given(
            0, "product", "product_feedback", {"satisfaction": 1, "problem_details": "Absturz"}, 1
        ),
        _given(
            1, "product", "product_feedback", {"satisfaction": 3, "improve": "Dunkler Modus"}, 2
        ),
        record(3, 4, "Freundliche Beratung", days_ago=1),
        *(record(n, 5) for n in range(4, 8)),
    ]
    text = render(
        DE, NOW - timedelta(days=7), NOW, compute(records, CATALOG, DE), compute([], CATALOG, DE), 5
    )
    assert "Wie zufrieden sind Sie mit unserem Produkt?\nAusgeblendet" in text
    assert _latest(text) == [
        "• 28.11.2026: Absturz",
        "• 28.11.2026: Freundliche Beratung",
        "• 27.11.2026: Dunkler Modus",
    ]


def two_surveys(surveys: dict[str, int], t: Translator = EN) -> str:
    """A summary of 18 feedbacks, with figures of the service survey (5) and of the NPS
    survey (6), and `surveys` the feedbacks each survey's whole groups count (the other
    7 in the totals alone, as in groups of days of all surveys together)."""
    figures = compute(
        [record(n, 4) for n in range(5)] + [record(10 + n, 9, flow="nps") for n in range(6)],
        CATALOG,
        t,
    )
    figures.feedbacks, figures.people, figures.surveys = 18, 18, surveys
    return render(t, NOW - timedelta(days=7), NOW, figures, compute([], CATALOG, t), k=5)


def test_feedback_under_no_survey_shown_is_said_to_be_left_out() -> None:
    """Found by an English-speaking staff review: "Responses: 18" above surveys of 5 and
    6, and staff could not tell where the other 7 went."""
    text = two_surveys({"feedback": 5, "nps": 6})
    assert "Responses: 18 " in text
    assert "\n\nSurvey “Customer feedback”: 5 responses\n" in text, text
    assert "\n\nSurvey “NPS”: 6 responses\n" in text
    assert (
        "\n\nNot counted under a survey above: 7 of the 18 responses. A survey's figures "
        "count only whole groups of days within the days counted in which at least 5 people "
        "answered it, so that no one can be recognised.\n\n"
    ) in text, text
    assert (
        "\n\nBei keiner Umfrage oben mitgezählt: 7 der 18 Feedbacks. Die Zahlen einer Umfrage "
        "zählen nur ganze Gruppen von Tagen innerhalb der gezählten Tage, in denen mindestens "
        "5 Personen sie beantwortet haben, damit niemand erkannt werden kann.\n\n"
    ) in two_surveys({"feedback": 5, "nps": 6}, DE)


def test_a_survey_of_comments_alone_is_listed_with_its_count() -> None:
    """A survey without rating or choice questions never has figures: its feedbacks are
    said under its own title, not counted as left out."""
    comments_only = load_flow(
        """
id = "notes"
title = "Notes"
intro = "Hi"
[[purposes]]
id = "feedback"
required = true
description = "Feedback"
[[steps]]
id = "note"
type = "text"
prompt = "Anything?"
[[steps]]
id = "bye"
type = "thanks"
prompt = "Bye"
""",
        "notes.toml",
    )
    catalog = FlowCatalog(flows={**CATALOG.flows, "notes": comments_only})
    notes = [
        PeriodFeedback(
            id=f"n{n}",
            flow_id="notes",
            answers={"note": "Schön hier"},
            purposes=["feedback"],
            created_at=NOW - timedelta(days=1),
            expires_at=NOW + timedelta(days=179),
            pseudonym=f"n{n}",
            consents_in_force=frozenset({"feedback"}),
        )
        for n in range(6)
    ]
    figures = compute([record(n, 4) for n in range(5)] + notes, catalog, EN)
    figures.surveys = {"feedback": 5, "notes": 6}
    text = render(EN, NOW - timedelta(days=7), NOW, figures, compute([], catalog, EN), k=5)
    assert "\n\nSurvey “Notes”: 6 responses\n" in text, text
    assert "Not counted under a survey above" not in text
    assert "No figures for the survey “Notes”" not in text
