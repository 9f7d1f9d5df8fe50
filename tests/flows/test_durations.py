from datetime import timedelta

import pytest

from flows.durations import InvalidDuration, compact_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("30m", timedelta(minutes=30)),
        ("12h", timedelta(hours=12)),
        ("180d", timedelta(days=180)),
        ("180D", timedelta(days=180)),
        ("2w", timedelta(weeks=2)),
        ("3600", timedelta(hours=1)),
        ("P180D", timedelta(days=180)),
        ("PT1H30M", timedelta(minutes=90)),
        (45, timedelta(seconds=45)),
    ],
)
def test_accepted_forms(text: str | int, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "10x",
        "P",
        "0",
        "-5s",
        "PT",
        # More than any calendar holds: refused like any other bad text, not an OverflowError.
        "99999999999999999999d",
        "P99999999999999D",
        "1" * 400,
        10**20,
        float("inf"),
        float("nan"),
        # six months to most who write it, six minutes to this form (found by an operator's
        # review: FEEDBACKBOT_RETENTION=6M kept feedback six minutes)
        "6M",
        " 6 M ",
    ],
)
def test_rejected_forms_explain_what_is_accepted(text: str | int | float) -> None:
    with pytest.raises(InvalidDuration):
        parse_duration(text)


def test_a_capital_m_says_why_it_is_refused() -> None:
    with pytest.raises(InvalidDuration, match="months or minutes"):
        parse_duration("6M")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (timedelta(days=30), "30d"),
        (timedelta(hours=36), "36h"),
        (timedelta(minutes=90), "90m"),
        (timedelta(seconds=45), "45s"),
        # An export "seit Montag" reaches back to Monday's midnight: audited in parts,
        # not as "547188s".
        (timedelta(days=6, hours=7, minutes=59, seconds=48), "6d7h59m48s"),
        (timedelta(hours=1, seconds=1), "1h1s"),
    ],
)
def test_compact_duration_writes_the_largest_whole_unit_or_the_parts(
    value: timedelta, expected: str
) -> None:
    assert compact_duration(value) == expected
    if expected[-1] in "dhm" and expected[:-1].isdigit():
        assert parse_duration(expected) == value
