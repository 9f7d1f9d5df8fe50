"""`flows.check` on broken definitions: every problem once, on its line, with a hint."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flows.catalog import FlowCatalog, FlowDefinitionError, load_flow
from flows.check import Report, check_paths, check_text
from flows.i18n import translator

EN = translator("en")
DE = translator("de")

HEAD = """\
id = "t"
title = { de = "Titel", en = "Title" }
intro = { de = "Hallo", en = "Hello" }

[[purposes]]
id = "feedback"
required = true
description = { de = "Feedback speichern", en = "Storing feedback" }

[[purposes]]
id = "research"
description = { de = "Forschung", en = "Research" }
"""

# HEAD without its optional purpose (no step asks for it there: a warning of its own).
ALONE = HEAD.split('\n[[purposes]]\nid = "research"')[0]

THANKS = """
[[steps]]
id = "thanks"
type = "thanks"
prompt = { de = "Danke", en = "Thanks" }
"""


def rating(step_id: str = "r", extra: str = "") -> str:
    return f"""
[[steps]]
id = "{step_id}"
type = "rating"
prompt = {{ de = "Wie?", en = "How?" }}
{extra}"""


def text_step(step_id: str, extra: str = "") -> str:
    return f"""
[[steps]]
id = "{step_id}"
type = "text"
prompt = {{ de = "Warum?", en = "Why?" }}
{extra}"""


def marked_line(text: str) -> int:
    """The line with the `# <-` marker, where the test expects the problem."""
    [line] = [n for n, content in enumerate(text.splitlines(), 1) if "# <-" in content]
    return line


def check(text: str, t: object = EN) -> Report:
    return check_text(text, "flows/t.toml", t)  # type: ignore[arg-type]


BROKEN = {
    "unknown step type": (
        HEAD + '\n[[steps]]\nid = "r"\ntype = "dance"  # <-\nprompt = "x"\n' + THANKS,
        "unknown step type 'dance'",
        "Use one of: rating, choice, multiple_choice, text, consent, thanks.",
    ),
    "misspelt step type": (
        HEAD + '\n[[steps]]\nid = "r"\ntype = "raiting"  # <-\nprompt = "x"\n' + THANKS,
        "unknown step type 'raiting'",
        "Did you mean 'rating'?",
    ),
    "a number in quotes": (
        HEAD + rating(extra='min = "1"  # <-') + THANKS,
        "“1” is not allowed here",
        "Write the number without quotes: min = 1.",
    ),
    "unreachable step": (
        HEAD
        + rating(extra='next = "thanks"')
        + "\n[[steps]]  # <-\n"
        + text_step("lost").removeprefix("\n[[steps]]\n")
        + THANKS,
        "step 'lost' is never asked: no path leads to it",
        "Branch to it from an earlier step",
    ),
    "branch to a missing step": (
        HEAD + rating(extra='next = [\n  { if = "r <= 2", goto = "thank" },  # <-\n]') + THANKS,
        "step 'r' branches to 'thank', but there is no such step",
        "Did you mean 'thanks'?",
    ),
    "a loop": (
        HEAD + rating() + text_step("why", 'next = [{ if = "r <= 2", goto = "r" }]  # <-') + THANKS,
        "a loop: r → why → r",
        "let step 'why' branch to a step further on",
    ),
    "answer before consent on one branch": (
        HEAD
        + rating(extra='next = [{ if = "r <= 2", goto = "phone" }]')
        + '\n[[steps]]\nid = "ask"\ntype = "consent"\npurpose = "research"\n'
        + 'prompt = { de = "Darf ich?", en = "May I?" }\n'
        + text_step("phone", 'purpose = "research"  # <-')
        + THANKS,
        "step 'phone' collects answers for purpose 'research' before its consent is asked, "
        "on the path r → phone",
        "Put a step of type 'consent' for 'research' before it on every path",
    ),
    "a consent that may be skipped before its question": (
        HEAD
        + rating()
        + '\n[[steps]]\nid = "ask"\ntype = "consent"\npurpose = "research"\nskip_if = "r >= 4"\n'
        + 'prompt = { de = "Darf ich?", en = "May I?" }\n'
        + text_step("phone", 'purpose = "research"  # <-')
        + THANKS,
        "step 'phone' collects answers for purpose 'research' before its consent is asked, "
        "on the path r → ask → phone",
        "'ask' may be skipped (skip_if) while this question is not: branch around both with "
        "next instead of skip_if.",
    ),
    "callback over 64 bytes": (
        HEAD
        + '\n[[steps]]\nid = "a_rather_long_question_about_the_product"  # <-\n'
        + 'type = "choice"\nprompt = { de = "Was?", en = "What?" }\noptions = [\n'
        + '  { id = "an_option_with_a_long_id", label = { de = "A", en = "A" } },\n'
        + '  { id = "b", label = { de = "B", en = "B" } },\n]\n'
        + THANKS,
        "the buttons of step 'a_rather_long_question_about_the_product' would carry 76 bytes, "
        "more than the 64 Telegram allows",
        "together at most 52 characters",
    ),
    "condition on a later question": (
        HEAD + rating(extra='skip_if = "why == x"  # <-') + text_step("why") + THANKS,
        "the condition “why == x” tests 'why', which is never asked before 'r'",
        "earlier on the way to its step",
    ),
    "condition outside the scale": (
        HEAD + rating(extra='next = [{ if = "r <= 7", goto = "thanks" }]  # <-') + THANKS,
        "the condition “r <= 7” compares with 7, but 'r' is rated from 1 to 5",
        "Compare with a number of the scale.",
    ),
    "condition that cannot be read": (
        HEAD + rating() + text_step("why", 'skip_if = "r is low"  # <-') + THANKS,
        "cannot read the condition “r is low”",
        "e.g. “rating <= 2”",
    ),
    "misspelt key": (
        HEAD + '\n[[steps]]\nid = "r"\ntype = "rating"\npromt = "How?"  # <-\n' + THANKS,
        "unknown key 'promt'",
        "Did you mean 'prompt'?",
    ),
    "not TOML": (
        HEAD + '\n[[steps]]\nid = "r"\nprompt = "unclosed  # <-\n' + THANKS,
        "not valid TOML",
        "Check quotes, brackets",
    ),
    "last step not thanks": (
        HEAD + rating() + '\n[[steps]]\nid = "why"\ntype = "text"  # <-\nprompt = "x"\n',
        "the last step must be of type 'thanks'",
        "End the file with a thanks step",
    ),
    "unsupported language": (
        HEAD + rating(extra='low_label = { de = "schlecht", fr = "mal" }  # <-') + THANKS,
        "unsupported language 'fr'",
        "Texts can be given in: de, en.",
    ),
    "text of the wrong kind": (
        HEAD + '\n[[steps]]\nid = "r"\ntype = "rating"\nprompt = 5  # <-\n' + THANKS,
        "'prompt' must be a text",
        'or key = { de = "...", en = "..." }',
    ),
    "step id used twice": (
        HEAD + rating() + text_step("r").replace('id = "r"', 'id = "r"  # <-') + THANKS,
        "the step id 'r' is used twice",
        "Give every step its own id",
    ),
    "more choices required than offered": (
        HEAD
        + '\n[[steps]]\nid = "m"\ntype = "multiple_choice"\n'
        + 'prompt = { de = "Was?", en = "What?" }\n'
        + "min_selected = 3  # <-\noptions = [\n"
        + '  { id = "a", label = { de = "A", en = "A" } },\n'
        + '  { id = "b", label = { de = "B", en = "B" } },\n]\n'
        + THANKS,
        "step 'm' asks for at least 3 choices but offers only 2 options",
        "Lower min_selected or add options.",
    ),
    "options written as texts": (
        HEAD
        + '\n[[steps]]\nid = "c"\ntype = "choice"\nprompt = { de = "Was?", en = "What?" }\n'
        + 'options = ["a", "b"]  # <-\n'
        + THANKS,
        "'options' holds “a” where a table belongs",
        'Each option is a table: { id = "...", label = { de = "...", en = "..." } }.',
    ),
    "next written as a list of step ids": (
        HEAD + rating(extra='next = ["thanks"]  # <-') + THANKS,
        "'next' holds “thanks” where a table belongs",
        'Write next = "<step id>", or rules as tables: [{ goto = "<step id>" }].',
    ),
    "retention that is not a duration": (
        HEAD.replace("required = true", 'required = true\nretention = "bald"  # <-')
        + rating()
        + THANKS,
        "“bald” is not a duration",
        'Write for example "90d", "180d" or "P180D".',
    ),
    "retention in months": (  # refused, as "M" means minutes to the form
        HEAD.replace("required = true", 'required = true\nretention = "6M"  # <-')
        + rating()
        + THANKS,
        "“6M” is not a duration",
        'A capital M may mean months or minutes: write months in days, "180d" for six months.',
    ),
    "retention in words": (  # found by a re-check of the hints: only the examples
        HEAD.replace("required = true", 'required = true\nretention = "6 Monate"  # <-')
        + rating()
        + THANKS,
        "“6 Monate” is not a duration",
        'For “6 Monate” write "180d".',
    ),
    "retention in ISO months": (
        HEAD.replace("required = true", 'required = true\nretention = "P6M"  # <-')
        + rating()
        + THANKS,
        "“P6M” is not a duration",
        'For “P6M” write "180d".',
    ),
    "retention in years": (
        HEAD.replace("required = true", 'required = true\nretention = "1 year"  # <-')
        + rating()
        + THANKS,
        "“1 year” is not a duration",
        'For “1 year” write "365d".',
    ),
    "retention in minutes meant as months": (
        HEAD.replace("required = true", 'required = true\nretention = "6m"  # <-')
        + rating()
        + THANKS,
        "'retention' must be at least a day",
        '“6m” is minutes: write months in days, "180d" for six months.',
    ),
    "retention of nothing": (  # no "12h" as an example: a retention is a day at least
        HEAD.replace("required = true", 'required = true\nretention = "0d"  # <-')
        + rating()
        + THANKS,
        "'retention' must be longer than zero",
        'Write for example "90d", "180d" or "P180D".',
    ),
    "retention as a plain number": (
        HEAD.replace("required = true", "required = true\nretention = 90  # <-")
        + rating()
        + THANKS,
        "'retention' is a plain number, which counts seconds",
        'For 90 days write "90d".',
    ),
    "retention as a plain number in quotes": (
        HEAD.replace("required = true", 'required = true\nretention = "90"  # <-')
        + rating()
        + THANKS,
        "'retention' is a plain number, which counts seconds",
        'For 90 days write "90d".',
    ),
    "retention as a plain number that is no number of days": (
        HEAD.replace("required = true", "required = true\nretention = 0.5  # <-")
        + rating()
        + THANKS,
        "'retention' is a plain number, which counts seconds",
        'Write for example "30d" or "P180D".',
    ),
    "condition as a number": (
        HEAD + rating() + text_step("why", "skip_if = 3  # <-") + THANKS,
        "'skip_if' must be a condition in quotes",
        'Write it as a text, e.g. skip_if = "rating <= 2".',
    ),
    "retention under a day": (
        HEAD.replace("required = true", 'required = true\nretention = "12h"  # <-')
        + rating()
        + THANKS,
        "'retention' must be at least a day",
        'Write for example "30d" or "P180D".',
    ),
    "retention past ten years": (
        HEAD.replace("required = true", 'required = true\nretention = "9999999d"  # <-')
        + rating()
        + THANKS,
        "'retention' can be at most 3660 days",
        "choose a shorter period",
    ),
    "a choice of one option": (
        HEAD
        + '\n[[steps]]\nid = "c"\ntype = "choice"\nprompt = { de = "Was?", en = "What?" }\n'
        + 'options = [{ id = "a", label = { de = "A", en = "A" } }]  # <-\n'
        + THANKS,
        "'options' needs at least 2 entries",
        "Offer at least two options, separated by commas",
    ),
    "a flow of one step": (
        HEAD + "\n[[steps]]  # <-" + rating().removeprefix("\n[[steps]]"),
        "'steps' needs at least 2 entries",
        'as its last step, one of type = "thanks"',
    ),
    "unknown purpose": (
        HEAD + text_step("why", 'purpose = "reserch"  # <-') + THANKS,
        "step 'why' names the purpose 'reserch', which is not declared",
        "Did you mean 'research'?",
    ),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_each_broken_definition_is_reported_once_on_its_line(case: str) -> None:
    text, message, hint = BROKEN[case]
    report = check(text)
    [error] = report.errors
    assert error.line == marked_line(text)
    assert message in error.message
    assert hint in error.hint


def test_one_entry_is_said_as_one() -> None:
    """Not "needs at least 1 entries" (found by a flow author's review)."""
    text = 'id = "t"\ntitle = "T"\nintro = "Hallo"\npurposes = []\n' + rating() + THANKS
    [error] = [f for f in check(text).errors if "purposes" in f.message]
    assert error.message == "'purposes' needs at least 1 entry"
    german = check_text(text, "t.toml", translator("de"))
    assert "'purposes' braucht mindestens 1 Eintrag" in [f.message for f in german.errors]


def test_every_missing_key_is_reported_in_one_run() -> None:
    """Not one a run, four runs for a file with its id alone (found by review)."""
    report = check('id = "t"\n')
    assert [f.message for f in report.errors] == [
        "'title' is missing",
        "'intro' is missing",
        "'purposes' is missing",
        "'steps' is missing",
    ]
    assert "[[purposes]]" in report.errors[2].hint and "[[steps]]" in report.errors[3].hint


def test_two_options_with_one_label_are_a_warning() -> None:
    text = (
        HEAD.split('\n[[purposes]]\nid = "research"')[0]
        + '\n[[steps]]\nid = "c"\ntype = "choice"\nprompt = { de = "Was?", en = "What?" }\n'
        + "options = [\n"
        + '  { id = "a", label = { de = "Gleich", en = "Same" } },\n'
        + '  { id = "b", label = { de = "Gleich", en = "Other" } },  # <-\n]\n'
        + THANKS
    )
    report = check(text)
    assert report.errors == []
    [warning] = report.warnings
    assert warning.message == "options 'a' and 'b' have the same label"
    assert warning.line == marked_line(text)
    # As shown, not as written: a text for every language beside a table.
    alone = text.replace('{ de = "Gleich", en = "Same" }', '"Gleich"')
    assert [w.message for w in check(alone).warnings if "same label" in w.message] == [
        "options 'a' and 'b' have the same label"
    ]


def test_several_problems_in_one_file_are_all_reported_in_line_order() -> None:
    text = (
        HEAD
        + rating(extra='next = [{ if = "r >= 4", goto = "nowhere" }]')
        + text_step("why", 'purpose = "research"')
        + THANKS
    )
    report = check(text)
    assert [f.message for f in report.errors] == [
        "step 'r' branches to 'nowhere', but there is no such step",
        "step 'why' collects answers for purpose 'research' before its consent is asked, "
        "on the path r → why",
    ]
    assert [f.line for f in report.errors] == sorted(f.line for f in report.errors)


def test_a_step_behind_a_branch_never_taken_is_unreachable() -> None:
    """The branch after an unconditional one is never taken (a warning), so the step
    only it leads to is never asked: an error, as for any step no path leads to."""
    text = (
        ALONE
        + rating(extra='next = [{ goto = "comment" }, { if = "r <= 2", goto = "bad" }]')
        + text_step("bad")
        + text_step("comment")
        + THANKS
    )
    report = check(text)
    assert [w.message for w in report.warnings] == ["this branch of step 'r' is never taken"]
    assert [e.message for e in report.errors] == ["step 'bad' is never asked: no path leads to it"]


def test_a_branch_whose_answers_earlier_branches_take_is_never_taken() -> None:
    """Found by review: branches in the wrong order passed, and the step only they lead
    to was never asked with any answer. Every answer of a rating's scale is tried."""
    text = (
        ALONE
        + rating(
            extra="next = [\n"
            + '  { if = "r <= 3", goto = "bad" },\n'
            + '  { if = "r <= 2", goto = "worse" },  # <-\n'
            + '  { if = "r < 1", goto = "worse" },\n'
            + "]"
        )
        + text_step("good", 'next = "thanks"')
        + text_step("bad", 'next = "thanks"')
        + text_step("worse")
        + THANKS
    )
    report = check(text)
    first, second = report.warnings
    assert (first.message, first.line) == (
        "this branch of step 'r' is never taken",
        marked_line(text),
    )
    assert first.hint == (
        "Every answer it matches is taken by a branch before it (r <= 3): put it before "
        "them, or change its condition."
    )
    assert (second.message, second.line) == (
        "this branch of step 'r' is never taken",
        marked_line(text) + 1,
    )
    assert second.hint == (
        "“r < 1” holds for no rating from 1 to 5: change the condition, or remove the branch."
    )
    [error] = report.errors
    assert error.message == "step 'worse' is never asked: no path leads to it"
    assert error.hint == (
        "The branches to it from 'r' are never taken (see their warnings): change their "
        "conditions or their order."
    )
    # In the right order every branch is taken by some answer.
    reordered = text.replace('"r <= 3"', '"r <= 1"').replace('"r < 1"', '"r == 3"')
    assert check(reordered).findings == ()


def test_a_branch_on_an_option_an_earlier_branch_takes_is_never_taken() -> None:
    choice = (
        '\n[[steps]]\nid = "c"\ntype = "{kind}"\nprompt = {{ de = "Was?", en = "What?" }}\n'
        "options = [\n"
        '  {{ id = "a", label = {{ de = "A", en = "A" }} }},\n'
        '  {{ id = "b", label = {{ de = "B", en = "B" }} }},\n'
        "]\n"
        "next = [\n"
        '  {{ if = "c {op} a", goto = "one" }},\n'
        '  {{ if = "{second}", goto = "two" }},  # <-\n'
        "]\n"
    )
    tail = text_step("one", 'next = "thanks"') + text_step("two") + THANKS
    for kind, op, second, never in [
        ("choice", "==", "c == a", True),  # copied and not changed
        ("choice", "!=", "c == b", True),  # every b is not a
        ("choice", "==", "c != a", False),
        ("multiple_choice", "has", "c has a", True),
        ("multiple_choice", "has", "c has b", False),  # a choice of b alone
    ]:
        text = ALONE + choice.format(kind=kind, op=op, second=second) + tail
        report = check(text)
        found = [(w.message, w.line) for w in report.warnings]
        expected = [("this branch of step 'c' is never taken", marked_line(text))]
        assert found == (expected if never else []), (kind, op, second)
        assert [e.message for e in report.errors] == (
            ["step 'two' is never asked: no path leads to it"] if never else []
        ), (kind, op, second)


def test_a_step_one_branch_never_taken_and_another_lead_to_is_asked() -> None:
    text = (
        ALONE
        + rating(extra='next = [{ if = "r >= 4", goto = "b" }, { if = "r > 5", goto = "b" }]')
        + text_step("a", 'next = "thanks"')
        + text_step("b")
        + THANKS
    )
    report = check(text)
    assert [w.message for w in report.warnings] == ["this branch of step 'r' is never taken"]
    assert report.errors == []


def test_a_part_of_the_wrong_shape_does_not_hide_a_branch_to_a_missing_step() -> None:
    """Found by review: a typo (a shape error) hid every rule error until it was fixed;
    the branches and step ids are checked on the TOML as read, the rest is said to wait."""
    text = (
        ALONE
        + text_step("a", "skipable = false  # <-")
        + rating("b", 'next = "nowhere"')
        + rating("b")
        + THANKS
    )
    report = check(text)
    rows = text.splitlines()
    assert [(e.message, e.line) for e in report.errors] == [
        ("unknown key 'skipable'", marked_line(text)),
        (
            "step 'b' branches to 'nowhere', but there is no such step",
            rows.index('next = "nowhere"') + 1,
        ),
        ("the step id 'b' is used twice", len(rows) - rows[::-1].index('id = "b"')),
    ]
    assert report.errors[1].hint == "Known ids: a, b, thanks.", "each once (review)"
    assert not report.complete and report.flow is None
    assert check(ALONE + rating() + THANKS).complete


def test_a_question_skipped_as_its_consent_is_not_said_to_be_asked_without_it() -> None:
    """Found by review: the hint said the consent "may be skipped while this question is
    not" of a question skipped on the same condition."""
    text = (
        HEAD
        + rating()
        + '\n[[steps]]\nid = "ask"\ntype = "consent"\npurpose = "research"\n'
        + 'skip_if = "r >= 4"\nprompt = { de = "Darf ich?", en = "May I?" }\n'
        + text_step("phone", 'purpose = "research"\nskip_if = "r >= 4"')
        + THANKS
    )
    [error] = check(text).errors
    assert error.hint == (
        "'ask' is skipped on the same condition as this question, but only a consent step "
        "without skip_if counts as asked: branch around both with next instead of skip_if."
    )
    other = text.replace('skip_if = "r >= 4"\n[[steps]]', 'skip_if = "r >= 5"\n[[steps]]')
    assert other != text
    assert check(other).errors[0].hint.startswith("'ask' may be skipped (skip_if) while this")


@pytest.mark.parametrize(
    ("selected", "message"),
    [
        (
            "min_selected = 2\nmax_selected = 1",
            "step 'm': max_selected = 1 is less than min_selected = 2",
        ),
        (
            "max_selected = 3",
            "step 'm': max_selected = 3 is more than the 2 options it offers",
        ),
    ],
)
def test_a_range_of_choices_that_cannot_be_is_said_plainly(selected: str, message: str) -> None:
    """Found by review: "must be between 3 and 2"."""
    text = (
        ALONE
        + '\n[[steps]]\nid = "m"\ntype = "multiple_choice"\n'
        + 'prompt = { de = "Was?", en = "What?" }\n'
        + f"{selected}\noptions = [\n"
        + '  { id = "a", label = { de = "A", en = "A" } },\n'
        + '  { id = "b", label = { de = "B", en = "B" } },\n]\n'
        + THANKS
    )
    assert [e.message for e in check(text).errors] == [message]


def test_a_text_of_several_lines_is_quoted_on_one_line() -> None:
    """Found by review: a multi-line intro broke the one line of its finding."""
    text = (
        ALONE.replace(
            'intro = { de = "Hallo", en = "Hello" }', 'intro = """\nHallo,\nwie geht es?\n"""'
        )
        + rating()
        + THANKS
    )
    [warning] = check(text).warnings
    assert warning.message == (
        "“Hallo,⏎wie geht es?” is not in the translation catalogs, so it is shown as written "
        "in every language"
    )


def test_a_missing_translation_is_a_warning_naming_the_language() -> None:
    labels = 'low_label = { de = "schlecht" }\nhigh_label = "excellent"'
    text = ALONE + rating(extra=labels) + THANKS
    report = check(text)
    assert report.errors == [] and report.flow is not None
    lines = text.splitlines()
    assert [(f.line, f.message) for f in report.warnings] == [
        (
            lines.index('low_label = { de = "schlecht" }') + 1,
            "no English text; German is shown instead",
        ),
        (
            lines.index('high_label = "excellent"') + 1,
            "“excellent” is not in the translation catalogs, so it is shown as written in "
            "every language",
        ),
    ]
    assert report.warnings[0].hint == 'Add en = "..." to this text.'


def test_messages_and_hints_are_translated() -> None:
    report = check(HEAD + rating() + text_step("why", 'next = "r"') + THANKS, DE)
    assert len(report.errors) == 2  # the loop, and so the thanks is never reached
    error = report.errors[0]
    assert error.message == "eine Schleife: r → why → r"
    assert error.hint.startswith("Ein Ablauf muss immer vorankommen")


def test_shipped_definitions_have_no_problems() -> None:
    folder = Path(__file__).resolve().parents[2] / "flows" / "definitions"
    reports = check_paths([folder], EN)
    assert {Path(r.source).name for r in reports} == {"feedback.toml", "product.toml"}
    assert [f for r in reports for f in r.findings] == []


def test_two_files_with_one_flow_id_are_an_error(tmp_path: Path) -> None:
    """A copy left in the folder (nps_old.toml) took over the flow silently: whichever
    file came last in name order ran. Now check and start-up refuse it."""
    # (purpose ids of their own: the shipped flows describe "feedback" otherwise)
    text = (ALONE + rating() + THANKS).replace('id = "feedback"', 'id = "t_feedback"')
    (tmp_path / "a.toml").write_text(text)
    (tmp_path / "b.toml").write_text(text)
    first, second = check_paths([tmp_path], EN)
    assert first.findings == ()
    [error] = second.errors
    assert error.line == 1
    assert error.message == f"the flow id 't' is also used by {tmp_path / 'a.toml'}"
    with pytest.raises(FlowDefinitionError) as refused:
        FlowCatalog.load(tmp_path)
    assert str(refused.value) == (
        f"{tmp_path / 'b.toml'}: the flow id 't' is also used by {tmp_path / 'a.toml'}"
    )


def test_loading_refuses_errors_and_names_file_and_line() -> None:
    text = HEAD + rating(extra='next = "nowhere"') + THANKS
    with pytest.raises(FlowDefinitionError) as error:
        load_flow(text, "flows/t.toml")
    line = text.splitlines().index('next = "nowhere"') + 1
    assert str(error.value) == (
        f"flows/t.toml:{line}: step 'r' branches to 'nowhere', but there is no such step"
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [("a = " + "[" * 5000 + "]" * 5000, "nested too deeply"), ("a = " + "9" * 5000, "digits")],
)
def test_toml_that_python_cannot_read_is_an_error_not_a_crash(text: str, reason: str) -> None:
    [error] = check(text).errors
    assert "not valid TOML" in error.message and reason in error.message


def test_a_byte_order_mark_is_read_past() -> None:
    assert not check("\ufeff" + HEAD + rating() + THANKS).errors


def test_two_required_purposes_agreed_to_with_one_yes_are_warned_of() -> None:
    """Found by a DPO's walk-through: "store" and "marketing" both required were agreed
    to with one Yes (Art. 7(2), 7(4) GDPR), and withdrawing the marketing erased the
    feedback; `check` said "no problems"."""
    text = HEAD.replace('id = "research"', 'id = "research"\nrequired = true') + rating() + THANKS
    report = check(text)
    assert not report.errors
    [warning] = report.warnings
    assert warning.line == 12 and warning.message == (
        "purposes 'feedback', 'research' are all required: one Yes agrees to them together, "
        "and withdrawing any of them erases the feedback"
    )
    assert "ask for each other purpose with required = false" in (warning.hint or "")
    one = check(HEAD + rating() + THANKS).warnings
    assert not [w for w in one if "are all required" in w.message], one


def test_a_folder_without_definitions_is_an_error(tmp_path: Path) -> None:
    [report] = check_paths([tmp_path], EN)
    assert [e.message for e in report.errors] == ["holds no flow definitions (*.toml)"]


def test_a_definition_that_is_not_utf8_is_refused_when_loading(tmp_path: Path) -> None:
    (tmp_path / "latin1.toml").write_bytes(b'title = "x"\nid = "Pr\xfcfung"\n')
    expected = "cannot be read: not UTF-8 text (line 2); save the file as UTF-8"
    with pytest.raises(FlowDefinitionError, match=r"latin1\.toml: " + re.escape(expected)):
        FlowCatalog.load(tmp_path)
    [report] = check_paths([tmp_path], EN)
    assert [e.message for e in report.errors] == [expected], "no byte offset, no codec"
    assert [e.line for e in report.errors] == [2], "file:line names the line the message does"


def test_a_definition_that_cannot_be_opened_is_reported_on_its_first_line(
    tmp_path: Path,
) -> None:
    """Not on line 0, where no editor jumps (mutation audit: the line given to a file that
    is not read at all went untested once the line of a non-UTF-8 one was counted)."""
    (tmp_path / "x.toml").mkdir()
    [report] = check_paths([tmp_path], EN)
    assert [(e.line, e.message) for e in report.errors] == [(1, "cannot be read: is a folder")]


SURVEY = (
    """
id = "survey"
title = { de = "Umfrage", en = "Survey" }
intro = { de = "Hallo", en = "Hello" }

[[purposes]]
id = "survey"
required = true
description = { de = "Umfrage speichern", en = "Storing the survey" }

[[purposes]]
id = "contact"
stores_contact = true
description = { de = "Kontakt", en = "Contacting you in this chat" }
retention = "7d"

[[steps]]
id = "c"
type = "consent"
purpose = "contact"
prompt = { de = "Kontakt?", en = "Contact?" }
"""
    + THANKS
)


def test_a_purpose_that_clashes_with_a_shipped_flow_fails_the_check_alone(
    tmp_path: Path,
) -> None:
    """`check my.toml` passed a purpose the shipped flows describe otherwise, and the bot
    then refused to start with it."""
    (tmp_path / "survey.toml").write_text(SURVEY, encoding="utf-8")
    [report] = check_paths([tmp_path / "survey.toml"], EN)
    [error] = report.errors
    clash = "the purpose 'contact' is described differently in the shipped flow 'feedback'"
    assert clash in error.message, "named by the flow, not by a path inside the package"
    rows = SURVEY.splitlines()
    assert error.line == rows.index('id = "contact"') + 1, "the purpose's line (review: 1)"
    replacing = SURVEY.replace('id = "survey"\ntitle', 'id = "feedback"\ntitle')
    (tmp_path / "survey.toml").write_text(replacing, encoding="utf-8")
    [report] = check_paths([tmp_path / "survey.toml"], EN)
    assert "described differently" in " ".join(e.message for e in report.errors), (
        "product still clashes; the replaced feedback flow no longer counts"
    )


def test_a_purpose_passing_feedback_on_must_be_optional() -> None:
    text = HEAD.replace(
        'id = "research"\n', 'id = "research"\nrequired = true\nshares_feedback = true\n'
    )
    report = check_text(text + rating() + THANKS, "t.toml", EN)
    assert [e.message for e in report.errors] == [
        "purpose 'research': passing feedback to a third party can only be optional"
    ]


@pytest.mark.parametrize("step_id", ["date", "flow", "delete_by"])
def test_a_question_may_not_take_the_name_of_an_export_column(step_id: str) -> None:
    """Found by review: a question "delete_by" had its answers overwritten in the export
    by the column of that name, and the CSV header named it twice."""
    report = check_text(HEAD + rating(step_id) + THANKS, "t.toml", translator("de"))
    assert [(e.message, e.hint) for e in report.errors] == [
        (
            f"„{step_id}“ ist der Name einer eigenen Spalte des Exports",
            "Wählen Sie eine andere ID; diese sind vergeben: date, flow, delete_by, feedback_id, "
            "given_at.",
        )
    ]


@pytest.mark.parametrize("step_id", ["feedback_id", "given_at"])
def test_a_question_may_not_take_the_name_of_what_a_recipient_receives_besides_answers(
    step_id: str,
) -> None:
    """Found by a flow author's review: a question "given_at" passed the check, a recipient
    with `fields = ["given_at"]` was named to the person as receiving its answer, and got
    the time the feedback was given instead."""
    report = check_text(HEAD + rating(step_id) + THANKS, "t.toml", EN)
    assert [(e.message, e.hint) for e in report.errors] == [
        (
            f"“{step_id}” names what a recipient receives besides the answers",
            "Choose another id; these are taken: date, flow, delete_by, feedback_id, given_at.",
        )
    ]
    with pytest.raises(FlowDefinitionError):
        load_flow(HEAD + rating(step_id) + THANKS, "t.toml")


def test_a_purpose_id_described_differently_in_two_flows_is_an_error(tmp_path: Path) -> None:
    """/mydata and the processing record show one description per purpose id: a second
    flow's other text (or retention) under the same id would be shown nowhere."""
    (tmp_path / "survey.toml").write_text(SURVEY, encoding="utf-8")
    shipped = Path("flows/definitions")
    reports = check_paths([shipped, tmp_path], EN)
    [error] = [e for r in reports for e in r.errors]
    assert "the purpose 'contact' is described differently in flows/definitions" in error.message
    assert error.source.endswith("survey.toml")
    with pytest.raises(FlowDefinitionError, match="describes the purpose 'contact' differently"):
        FlowCatalog.load(tmp_path)
    (tmp_path / "survey.toml").write_text(
        SURVEY.replace('id = "contact"', 'id = "survey_contact"').replace(
            'purpose = "contact"', 'purpose = "survey_contact"'
        ),
        encoding="utf-8",
    )
    assert not [e for r in check_paths([shipped, tmp_path], EN) for e in r.errors]
    assert "survey" in FlowCatalog.load(tmp_path).flows


# The shipped flows' `contact`, word for word (they give it no retention of its own).
SHIPPED_CONTACT = '''label = "Being contacted"
description = "Contacting you in this chat about your feedback"'''


def test_a_purpose_required_in_one_flow_and_optional_in_another_is_a_conflict(
    tmp_path: Path,
) -> None:
    """A withdrawal restricts the feedback of a required purpose and erases the answers
    of an optional one: one id cannot be both (the first flow loaded decided)."""

    def flow(flow_id: str, research: str) -> str:
        head = HEAD.replace('id = "t"', f'id = "{flow_id}"', 1)
        head = head.replace('id = "feedback"', f'id = "{flow_id}_feedback"', 1)
        return (
            head.replace('id = "research"\n', f'id = "research"\n{research}', 1) + rating() + THANKS
        )

    (tmp_path / "one.toml").write_text(flow("one", ""), encoding="utf-8")
    (tmp_path / "two.toml").write_text(flow("two", "required = true\n"), encoding="utf-8")
    with pytest.raises(FlowDefinitionError, match="describes the purpose 'research' differently"):
        FlowCatalog.load(tmp_path)
    [_, two] = check_paths([tmp_path], EN)
    assert [e.message for e in two.errors] == [
        f"the purpose 'research' is described differently in {tmp_path / 'one.toml'}"
    ]


def test_a_purpose_kept_for_another_time_is_described_differently(tmp_path: Path) -> None:
    """Same label, same description, another retention: /mydata and the processing
    record show one retention per purpose id, so one of the two would be shown nowhere
    (and the person told a period their data is not kept for)."""
    contact = 'description = { de = "Kontakt", en = "Contacting you in this chat" }'
    survey = SURVEY.replace(contact, SHIPPED_CONTACT)
    assert survey.count('retention = "7d"') == 1 and SHIPPED_CONTACT in survey
    (tmp_path / "survey.toml").write_text(survey, encoding="utf-8")
    [report] = check_paths([tmp_path / "survey.toml"], EN)
    [error] = report.errors
    assert "the purpose 'contact' is described differently in the shipped flow" in error.message
    with pytest.raises(FlowDefinitionError, match="describes the purpose 'contact' differently"):
        FlowCatalog.load(tmp_path)
    (tmp_path / "survey.toml").write_text(
        survey.replace('retention = "7d"\n', ""), encoding="utf-8"
    )
    [report] = check_paths([tmp_path / "survey.toml"], EN)
    assert report.errors == [], "the retention was all that differed"
    assert "survey" in FlowCatalog.load(tmp_path).flows


def test_a_flow_replacing_a_shipped_one_may_reword_its_purposes(tmp_path: Path) -> None:
    """An operator's flow with the id of a shipped one replaces it: the bot loads the
    operator's alone, so its own wording of the replaced flow's purposes clashes with
    nothing. `check` reported it against the replaced file all the same. The purposes
    the other shipped flows share (`contact`) must still match those exactly."""
    own = (
        f"""
id = "feedback"
title = {{ de = "Ihre Meinung", en = "Your opinion" }}
intro = {{ de = "Hallo", en = "Hello" }}

[[purposes]]
id = "feedback"
required = true
description = {{ de = "Ihre Meinung sammeln", en = "Collecting your opinion" }}

[[purposes]]
id = "contact"
stores_contact = true
{SHIPPED_CONTACT}
"""
        + rating()
        + THANKS
    )
    (tmp_path / "feedback.toml").write_text(own, encoding="utf-8")
    [report] = check_paths([tmp_path / "feedback.toml"], EN)
    assert report.flow is not None and report.flow.id == "feedback"
    assert report.errors == []
    catalog = FlowCatalog.load(tmp_path)
    assert catalog.default.title == report.flow.title, "the operator's flow is the one run"
    assert set(catalog.flows) == {"feedback", "product"}


def test_a_purpose_text_ending_in_a_full_stop_is_a_warning() -> None:
    """The notices write "Purpose: <description>." and "<description>: given on ...",
    so a full stop of its own doubles or dangles."""
    text = (
        HEAD.replace(
            'description = { de = "Forschung", en = "Research" }',
            'description = { de = "Forschung.", en = "Research." }  # <-',
        )
        + rating()
        + THANKS
    )
    report = check(text)
    never_asked, warning = report.warnings
    assert "never asked" in never_asked.message
    assert "ends with a full stop" in warning.message and warning.line == marked_line(text)
    assert not report.errors


def test_a_retention_on_an_optional_purpose_is_a_warning() -> None:
    """It was accepted and silently ignored: what the purpose collects is kept with the
    feedback, for the required purposes' retention; the author is told so."""
    text = (
        HEAD.replace(
            'description = { de = "Forschung", en = "Research" }',
            'description = { de = "Forschung", en = "Research" }\nretention = "30d"  # <-',
        )
        + rating()
        + THANKS
    )
    report = check(text)
    never_asked, warning = report.warnings
    assert "never asked" in never_asked.message
    assert warning.message == "purpose 'research': an optional purpose has no retention of its own"
    assert "kept as long as the feedback" in warning.hint and warning.line == marked_line(text)
    assert not report.errors


def test_a_button_text_a_phone_would_cut_is_a_warning() -> None:
    long = "Die Lieferung kam zu spät und die Verpackung war beschädigt"  # 59 characters
    text = (
        ALONE
        + f"""
[[steps]]
id = "topic"
type = "choice"
prompt = {{ de = "Worum geht es?", en = "What is it about?" }}
options = [
  {{ id = "late", label = {{ de = "{long}", en = "Late" }} }},  # <-
  {{ id = "other", label = {{ de = "Etwas anderes", en = "Something else" }} }},
]
"""
        + THANKS
    )
    report = check(text)
    [warning] = report.warnings
    assert warning.message == (
        "the label of option 'late' has 59 characters; a phone shows about 40 on a button "
        "and cuts the rest"
    )
    assert warning.line == marked_line(text) and not report.errors


def test_a_purpose_whose_withdraw_button_a_phone_would_cut_is_a_warning() -> None:
    """Found by a flow author's walk-through: /widerruf offers each purpose on a button
    with its label (else its description), and a long one went unwarned."""
    long = "Auswertung Ihres Feedbacks zu unserer Jahresveranstaltung 2026 in Berlin"
    text = (
        ALONE.replace(
            'description = { de = "Feedback speichern", en = "Storing feedback" }',
            f'description = {{ de = "{long}", en = "Evaluating your feedback" }}  # <-',
        )
        + rating()
        + THANKS
    )
    report = check(text)
    [warning] = report.warnings
    assert warning.message == (
        "the description of purpose 'feedback' has 72 characters, and /withdraw shows it on "
        "a button; a phone shows about 40 and cuts the rest"
    )
    assert warning.line == marked_line(text) and not report.errors
    labelled = text.replace("  # <-", '\nlabel = { de = "Ihr Feedback", en = "Your feedback" }')
    assert not check(labelled).warnings


def test_the_choices_of_a_fixed_value_are_joined_in_the_operators_language() -> None:
    from flows.i18n import translator

    report = check_text(HEAD + rating(extra="min = 2") + THANKS, "t.toml", translator("de"))
    [error] = report.errors
    assert (error.message, error.hint) == ("2 ist hier nicht erlaubt", "Erwartet: 0 oder 1.")


@pytest.mark.parametrize(
    ("text", "line", "de", "en"),
    [
        (
            'id = "x"\ntitle = { de = "T", en = "T" }\nintro = { de = "Hallo", en = "Hi"\n',
            3,
            "kein gültiges TOML: eine Inline-Tabelle { … } ist nicht geschlossen "
            "(Zeile 3, Spalte 34)",
            "not valid TOML: an inline table { … } is not closed (line 3, column 34)",
        ),
        (
            "[a]\nb = 1\n[a]\nb = 2\n",
            3,
            "kein gültiges TOML: a ist doppelt deklariert (Zeile 3, Spalte 3)",
            "not valid TOML: a declared twice (line 3, column 3)",
        ),
        (  # a key without its value: no quote left open (review of the change)
            'id = "x"\ntitle\n',
            2,
            "kein gültiges TOML: ein Schlüssel ohne „= Wert“ (Zeile 2, Spalte 6)",
            "not valid TOML: a key without “= value” (line 2, column 6)",
        ),
        (  # found by the review of the change: a quote left open on its line
            'id = "x\ntitle = 1\n',
            1,
            "kein gültiges TOML: ein Text in Anführungszeichen ist nicht geschlossen "
            "(Zeile 1, Spalte 8)",
            "not valid TOML: a text in quotes is not closed (line 1, column 8)",
        ),
        (
            "id = 'x",
            1,
            "kein gültiges TOML: ein Text in Anführungszeichen ist nicht geschlossen "
            "(am Ende der Datei)",
            "not valid TOML: a text in quotes is not closed (at the end of the file)",
        ),
        (
            '["it\'s"]\n["it\'s"]\n',
            2,
            "kein gültiges TOML: it's ist doppelt deklariert (Zeile 2, Spalte 8)",
            "not valid TOML: it's declared twice (line 2, column 8)",
        ),
        (
            'prompt = "unclosed',
            1,
            "kein gültiges TOML: ein Text in Anführungszeichen ist nicht geschlossen "
            "(am Ende der Datei)",
            "not valid TOML: a text in quotes is not closed (at the end of the file)",
        ),
    ],
)
def test_a_toml_syntax_error_is_said_in_the_language_of_the_check(
    text: str, line: int, de: str, en: str
) -> None:
    """Found by a flow author's review: a German check said "kein gültiges TOML: Unclosed
    inline table (at line 3, column 34)", tomllib's words in English."""
    for t, expected in ((DE, de), (EN, en)):
        [error] = check(text, t).errors
        assert (error.line, error.message) == (line, expected)


def test_a_skip_if_that_holds_for_no_answer_or_for_every_one_is_a_warning() -> None:
    """Found by review: "r < 1" on a scale from 1 passed as quietly as "r <= 2" (the step
    is never skipped), and so did "r >= 1" (asked only where the rating is not)."""
    for condition, message in [
        ("r < 1", "step 'why' is never skipped: “r < 1” holds for no rating from 1 to 5"),
        (
            "r >= 1",
            "step 'why' is skipped whenever 'r' is answered: “r >= 1” holds for every answer",
        ),
        ("r <= 2", None),
    ]:
        text = ALONE + rating() + text_step("why", f'skip_if = "{condition}"  # <-') + THANKS
        report = check(text)
        found = [(w.message, w.line, w.hint) for w in report.warnings]
        hint = "Change the condition, or remove skip_if."
        assert found == ([(message, marked_line(text), hint)] if message else []), condition
        assert report.errors == []
    choice = (
        '\n[[steps]]\nid = "c"\ntype = "multiple_choice"\nprompt = { de = "Was?", en = "What?" }\n'
        "options = [\n"
        '  { id = "a", label = { de = "A", en = "A" } },\n'
        '  { id = "b", label = { de = "B", en = "B" } },\n'
        "]\nmin_selected = 2\n"
    )
    text = ALONE + choice + text_step("why", 'skip_if = "c has a"  # <-') + THANKS
    [warning] = check(text).warnings
    assert warning.message == (
        "step 'why' is skipped whenever 'c' is answered: “c has a” holds for every answer"
    )
    german = check(ALONE + rating() + text_step("why", 'skip_if = "r > 5"') + THANKS, DE)
    assert [w.message for w in german.warnings] == [
        "Schritt 'why' wird nie übersprungen: „r > 5“ trifft auf keine Bewertung von 1 bis 5 zu"
    ]


@pytest.mark.parametrize(
    "text",
    [
        'options = [\n  { id = "a", label = "A" }\n  { id = "b", label = "B" },\n]\n',
        'title = { de = "Umfrage" en = "Survey" }\n',
    ],
)
def test_a_comma_left_out_between_entries_is_hinted_at(text: str) -> None:
    """Found by a flow author's review: a comma missing at the end of an option's line was
    "a list [ … ] is not closed" on the next, correct line, with a hint of quotes, brackets
    and the =, and no word of commas."""
    [error] = check(text, EN).errors
    assert "is not closed" in error.message
    assert error.hint.startswith("Is a comma missing just before this point"), error.hint


def test_a_file_saved_with_a_byte_order_mark_has_its_problems_on_their_lines() -> None:
    """Found by a flow author's review: a flow saved as "UTF-8 with BOM" (Windows editors)
    was read, but every problem in it was said to be at line 1."""
    text = HEAD + rating() + text_step("why", 'skip_if = "rr <= 2"  # <-') + THANKS
    for saved in (text, "\ufeff" + text, "\ufeff" + text.replace("\n", "\r\n")):
        [error] = check(saved, EN).errors
        assert error.line == marked_line(text), saved[:20]


SINGLE_BRACKETS = {
    "every step": (ALONE + rating() + text_step("why") + THANKS).replace("[[steps]]", "[steps]"),
    "the first step": (ALONE + rating() + text_step("why") + THANKS).replace(
        "[[steps]]", "[ steps ]", 1
    ),
    "the purpose": ALONE.replace("[[purposes]]", "[purposes]") + rating() + THANKS,
}


@pytest.mark.parametrize("case", list(SINGLE_BRACKETS))
def test_a_step_or_purpose_with_single_brackets_is_said_to_need_two(case: str) -> None:
    """Found by a flow author's review: `[steps]` for `[[steps]]` was "steps declared twice",
    "a key given twice" at the next step, or for `[purposes]` "Write a list: [ ... ]", and
    never that each step begins with two brackets."""
    text = SINGLE_BRACKETS[case]
    rows = text.splitlines()
    written = [n for n, row in enumerate(rows, 1) if row.strip() in {"[steps]", "[ steps ]"}]
    written += [n for n, row in enumerate(rows, 1) if row == "[purposes]"]
    report = check(text, EN)
    assert [e.line for e in report.errors] == written
    key = "purposes" if case == "the purpose" else "steps"
    entry = "purpose" if case == "the purpose" else "step"
    for error in report.errors:
        assert error.message == (
            f"[{key}] with single brackets: each {entry} begins with [[{key}]]"
        )
        assert error.hint == (
            f"Write [[{key}]], with two brackets on each side, above every {entry}."
        )
    with pytest.raises(FlowDefinitionError, match=r"t\.toml:\d+: \[" + key):
        load_flow(text, "t.toml")


def test_a_line_like_a_single_bracket_step_inside_a_text_is_no_header() -> None:
    intro = 'intro = """\nWie es geht:\n[steps]\n"""'
    text = ALONE.replace('intro = { de = "Hallo", en = "Hello" }', intro) + rating() + THANKS
    assert "single brackets" not in " ".join(f.message for f in check(text, EN).findings)


def test_a_branch_after_ones_taking_every_answer_is_never_taken() -> None:
    """Found by a flow author's review: after “r <= 5” on a scale of 1 to 5, or after
    “r <= 2” and “r >= 3”, a branch is never taken, and `check` said nothing (only a branch
    without `if` counted as always applying)."""
    tail = text_step("a", 'next = "thanks"') + text_step("b", 'next = "thanks"') + THANKS
    cases = {
        '{ if = "r <= 5", goto = "a" },\n  { goto = "b" },  # <-': ("r", ["“r <= 5”"]),
        '{ if = "r >= 1", goto = "a" },\n  { if = "s <= 2", goto = "b" },  # <-': (
            "r",
            ["“r >= 1”"],
        ),
        '{ if = "r <= 2", goto = "a" },\n  { if = "r >= 3", goto = "b" },\n'
        '  { goto = "thanks" },  # <-': ("r", ["r <= 2", "r >= 3"]),
        '{ if = "s >= 1", goto = "a" },\n  { goto = "b" },  # <-': ("s", ["“s >= 1”"]),
    }
    for branches, (tested, conditions) in cases.items():
        text = ALONE + rating() + rating("s", f"next = [\n  {branches}\n]") + tail
        [warning] = check(text).warnings
        assert (warning.message, warning.line) == (
            "this branch of step 's' is never taken",
            marked_line(text),
        ), branches
        together = "together hold" if len(conditions) > 1 else "holds"
        said = f"({', '.join(conditions)}) {together} for every answer, and '{tested}' is"
        assert f"{said} answered on every way here" in warning.hint, warning.hint
        assert check(text).errors == [], "a warning only: the paths keep the branch"


@pytest.mark.parametrize(
    "r_asked",
    [
        "skipped at times",
        "for an optional purpose",
        "not on every way",
    ],
)
def test_a_branch_after_one_holding_for_every_answer_is_taken_where_the_answer_may_lack(
    r_asked: str,
) -> None:
    """“r <= 5” is false where r was not answered: the branch after it is taken then."""
    branch = 'next = [{ if = "r <= 5", goto = "a" }, { goto = "b" }]'
    first = {
        "skipped at times": rating("q") + rating(extra='skip_if = "q <= 1"'),
        "for an optional purpose": (
            '\n[[steps]]\nid = "ask"\ntype = "consent"\npurpose = "research"\n'
            'prompt = { de = "Darf ich?", en = "May I?" }\n' + rating(extra='purpose = "research"')
        ),
        "not on every way": rating("q", 'next = [{ if = "q <= 1", goto = "s" }]') + rating(),
    }[r_asked]
    head = HEAD if r_asked == "for an optional purpose" else ALONE
    text = (
        head
        + first
        + rating("s", branch)
        + text_step("a", 'next = "thanks"')
        + text_step("b", 'next = "thanks"')
        + THANKS
    )
    assert check(text).findings == ()


def test_a_step_skipped_for_every_answer_that_leads_to_it_is_said_to_be() -> None:
    """Found by a flow author's review: a question reached by “r <= 2” alone, skipped if
    “r <= 3”, was never asked, and `check` said "no problems"."""
    text = (
        ALONE
        + rating(extra='next = [{ if = "r <= 2", goto = "why" }, { if = "r == 3", goto = "why" }]')
        + text_step("more", 'next = "thanks"')
        + text_step("why", 'skip_if = "r <= 3"  # <-')
        + THANKS
    )
    [warning] = check(text).warnings
    assert (warning.message, warning.line) == (
        "step 'why' is skipped on every way to it: “r <= 3” holds for every answer the "
        "branches to it take (r <= 2, r == 3)",
        marked_line(text),
    )
    # Reached by another answer too, by a branch without if, or from the step above it
    # in the file: asked at times.
    assert check(text.replace('"r == 3"', '"r == 4"')).findings == ()
    assert check(text.replace('next = "thanks"', 'next = "why"')).findings == ()
    assert check(text.replace('next = "thanks"', "")).findings == ()


@pytest.mark.parametrize(
    "prompt",
    [
        '{ de = "Ihre Telefonnummer?", en = "Your phone number?" }',
        '{ de = "Unter welcher E-Mail-Adresse erreichen wir Sie?", en = "Your email?" }',
        '{ de = "Wie ist Ihr Name?", en = "What is your name?" }',
        '{ de = "Ihre Anschrift für den Gutschein", en = "Where shall we send it?" }',
        '{ de = "Bitte nennen Sie Ihren Namen", en = "Your full name:" }',
    ],
)
def test_a_text_question_asking_for_contact_details_is_a_warning(prompt: str) -> None:
    """The bakery's author asked "Ihre Telefonnummer?" to call people back: the bot then
    asks to leave contact details out, tells whoever gives one that staff cannot reach
    them so (they see it redacted), and `check` said "No problems" (found by review)."""
    text = ALONE + f'\n[[steps]]\nid = "phone"\ntype = "text"\nprompt = {prompt}  # <-\n' + THANKS
    report = check(text)
    assert report.errors == []
    [warning] = report.warnings
    assert warning.line == marked_line(text)
    assert warning.message == (
        "question 'phone' seems to ask for contact details or a name: the bot asks people "
        "to leave them out, and staff see them removed"
    )
    assert "stores_contact" in warning.hint


@pytest.mark.parametrize(
    "prompt",
    [
        '{ de = "Wie war der Kontakt mit unserem Personal?", en = "How was our staff?" }',
        '{ de = "Was hat Ihnen gefallen?", en = "How did we address your problem?" }',
        '{ de = "Wie finden Sie den Namen unserer Torte?", en = "Do you like the cake\'s name?" }',
        '{ de = "Wie war unsere telefonische Beratung?", en = "How was our phone support?" }',
        '{ de = "Wie finden Sie unseren E-Mail-Newsletter?", en = "Did our email help?" }',
        '{ de = "Wie gefällt Ihnen die neue Adresse unserer Filiale?", en = "Our new shop?" }',
        # (found by a review of the change: warned of)
        '{ de = "Wurde pünktlich an Ihre Adresse geliefert?", en = "On your phone?" }',
        '{ de = "Kam Ihre E-Mail-Bestätigung an?", en = "Did your e-mail arrive?" }',
        '{ de = "Wie gefällt Ihnen Ihr Namensschild?", en = "Your name badge?" }',
    ],
)
def test_a_text_question_about_contact_in_another_sense_is_no_warning(prompt: str) -> None:
    text = ALONE + f'\n[[steps]]\nid = "c"\ntype = "text"\nprompt = {prompt}\n' + THANKS
    assert check(text).findings == ()


@pytest.mark.parametrize(
    "prompt",
    [
        '{ de = "Ihre Telefonnummer?" }',
        '{ de = "Ihre E-Mail-Adresse für Rückfragen" }',
        '{ de = "Wie heißen Sie?" }',
        '{ de = "Wie erreichen wir Sie am besten?" }',
        '{ en = "Your phone number?" }',
        '{ en = "Your e-mail address, please" }',
        '{ en = "How can we reach you?" }',
    ],
)
def test_a_question_asking_for_contact_details_in_one_language_is_a_warning(
    prompt: str,
) -> None:
    """A bakery's survey is often written in German alone (mutation audit: each of these
    words was found only together with the other language's, so a flow in one language
    lost its warning unnoticed when one was dropped)."""
    text = ALONE + f'\n[[steps]]\nid = "phone"\ntype = "text"\nprompt = {prompt}\n' + THANKS
    said = [w.message for w in check(text).warnings]
    assert any(m.startswith("question 'phone' seems to ask for contact details") for m in said)


BAKERY = """\
id = "baeckerei"
title = "Bäckerei Sonnenschein"
intro = { de = "Wie war Ihr Einkauf?" }

[[purposes]]
id = "feedback_baeckerei"
required = true
description = { de = "Ihr Feedback speichern" }

# The shipped contact purpose: its texts are the catalogs', in both languages.
[[purposes]]
id = "contact"
stores_contact = true
label = "Being contacted"
description = "Contacting you in this chat about your feedback"

[[steps]]
id = "rating"
type = "rating"
prompt = { de = "Wie zufrieden waren Sie?" }

[[steps]]
id = "bread"
type = "choice"
prompt = "Was haben Sie gekauft?"
options = [
  { id = "roll", label = "Brötchen" },
  { id = "cake", label = { de = "Kuchen" } },
]

[[steps]]
id = "contact"
type = "consent"
purpose = "contact"
prompt = { de = "Dürfen wir Sie hier kontaktieren?" }

[[steps]]
id = "thanks"
type = "thanks"
prompt = "Danke!"
"""


def test_a_flow_in_one_language_is_warned_of_once_at_its_title() -> None:
    """Found by an English-speaking staff review: a bakery's survey in German alone read
    as English to nobody, and nine warnings, one per text, buried the rest. Once, at the
    title, in both languages of the check; the shipped purpose it reuses has both."""
    report = check(BAKERY)
    assert report.errors == []
    assert [(w.line, w.message, w.hint) for w in report.warnings] == [
        (
            2,
            "the flow is written in German only: 9 of its texts have no English version, "
            "so customers and staff who read English see them in German",
            "Fine if everyone who answers it, and your staff, read that language; else give "
            'each text per language: { de = "...", en = "..." }.',
        )
    ]
    [german] = check(BAKERY, DE).warnings
    assert german.message == (
        "der Ablauf ist nur auf Deutsch geschrieben: 9 seiner Texte haben keine Fassung auf "
        "Englisch, daher sehen Kunden und Mitarbeitende, die Englisch lesen, sie auf Deutsch"
    )
    assert german.hint == (
        "Das passt, wenn alle, die ihn beantworten, und Ihr Team diese Sprache lesen; sonst "
        'geben Sie jeden Text je Sprache an: { de = "...", en = "..." }.'
    )


def test_a_flow_in_english_alone_names_english() -> None:
    english = re.sub(r"\{ de = (\"[^\"]*\") \}", r"{ en = \1 }", BAKERY)
    [warning] = check(english).warnings
    assert warning.message == (
        "the flow is written in English only: 9 of its texts have no German version, so "
        "customers and staff who read German see them in English"
    )


def test_a_flow_of_plain_texts_the_catalogs_lack_is_said_to_be_shown_as_written() -> None:
    plain = re.sub(r"\{ de = (\"[^\"]*\") \}", r"\1", BAKERY)
    [warning] = check(plain).warnings
    assert warning.line == 2
    assert warning.message == (
        "the flow is written in one language: 9 of its texts are neither given per language "
        "nor in the translation catalogs, so everyone reads them as written"
    )
    [german] = check(plain, DE).warnings
    assert german.message == (
        "der Ablauf ist in einer Sprache geschrieben: 9 seiner Texte sind weder je Sprache "
        "angegeben noch in den Übersetzungskatalogen, daher lesen alle sie so, wie sie "
        "geschrieben sind"
    )


def test_a_flow_that_gives_some_texts_in_both_languages_is_warned_of_text_by_text() -> None:
    """Written in both languages but for some texts: those were forgotten, and each is
    named on its own line."""
    mixed = BAKERY.replace(
        'prompt = "Was haben Sie gekauft?"',
        'prompt = { de = "Was haben Sie gekauft?", en = "What did you buy?" }',
    )
    warnings = check(mixed).warnings
    assert len(warnings) == 8, warnings
    assert not any(w.message.startswith("the flow is written") for w in warnings)
    lines = mixed.splitlines()
    assert (
        lines.index('  { id = "roll", label = "Brötchen" },') + 1,
        (
            "“Brötchen” is not in the translation catalogs, so it is shown as written in every "
            "language"
        ),
    ) in [(w.line, w.message) for w in warnings]


def test_options_without_a_letter_need_no_translation() -> None:
    """Found by a flow author's walk-through: options "1" to "12" gave twelve warnings
    that they are not in the catalogs, though they read alike in every language."""
    numbers = ", ".join(f'{{ id = "o{n}", label = "{n}" }}' for n in range(1, 12))
    text = (
        ALONE
        + '\n[[steps]]\nid = "c"\ntype = "choice"\n'
        + 'prompt = { de = "Wie oft?", en = "How often?" }\n'
        + f'options = [{numbers}, {{ id = "thumb", label = "👍" }}]\n'
        + THANKS
    )
    assert check(text).warnings == []
    worded = text.replace('label = "11"', 'label = "elf"')
    [warning] = check(worded).warnings
    assert warning.message.startswith("“elf” is not in the translation catalogs")


@pytest.mark.parametrize("typed", ["6M", "bald"])
def test_a_retention_that_is_no_duration_offers_none_shorter_than_a_day(typed: str) -> None:
    """As `run` and `chat` say it (the message of the flow's model, not check's own):
    it suggested "12h", refused in turn as shorter than a day (a flow author's review)."""
    from flows.models import flow_retention_of

    with pytest.raises(ValueError, match=r"use e\.g\. 90d, 180d or P180D") as refused:
        flow_retention_of(typed)
    assert "12h" not in str(refused.value)
