"""The example date staff are given when a period is not understood: a date they can
type back as it is, on every day of the year, in either language."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from flows.staff import example_date, first_day_named


@pytest.mark.parametrize("locale", ["de", "en"])
def test_the_example_date_is_a_week_back_and_read_as_that_day_on_every_day(locale: str) -> None:
    """A fixed "1.12." was refused as a day to come from 24 November to 1 December (found
    by review); every day from 2026 to 2028 is checked, 29 February among them."""
    today = date(2026, 1, 1)
    while today < date(2029, 1, 1):
        typed = example_date(today, locale)
        assert first_day_named(typed, today) == today - timedelta(days=7), (today, typed)
        today += timedelta(days=1)


def test_the_english_example_names_its_month() -> None:
    """ "29.11." may be read month first by an English reader (found by a walk-through)."""
    assert example_date(date(2026, 12, 6), "en") == "29 Nov"
    assert example_date(date(2026, 12, 6), "de") == "29.11."
    assert example_date(date(2028, 3, 7), "en") == "29 Feb"
