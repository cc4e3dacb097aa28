"""domain.calendar: the period a local day is in, for every feature that counts by period."""

from __future__ import annotations

from datetime import date

import pytest

from domain.calendar import first_day, last_day, next_first_day

THURSDAY = date(2026, 12, 31)


@pytest.mark.parametrize(
    ("period", "first", "after"),
    [
        ("DAY", THURSDAY, date(2027, 1, 1)),
        ("WEEK", date(2026, 12, 28), date(2027, 1, 4)),  # Monday to the next Monday
        ("MONTH", date(2026, 12, 1), date(2027, 1, 1)),
        ("YEAR", date(2026, 1, 1), date(2027, 1, 1)),
    ],
)
def test_a_period_runs_from_its_first_day_to_the_next_periods(period, first, after):
    assert first_day(period, THURSDAY) == first
    assert next_first_day(period, THURSDAY) == after
    assert last_day(period, THURSDAY) == date.fromordinal(after.toordinal() - 1)
    # the first day is in its own period
    assert first_day(period, first) == first


def test_months_have_their_own_lengths():
    assert last_day("MONTH", date(2028, 2, 10)) == date(2028, 2, 29)
    assert last_day("MONTH", date(2026, 2, 10)) == date(2026, 2, 28)
    assert next_first_day("MONTH", date(2026, 1, 31)) == date(2026, 2, 1)
    assert last_day("YEAR", date(2028, 2, 29)) == date(2028, 12, 31)


def test_an_unknown_period_is_a_bug():
    with pytest.raises(ValueError, match="FORTNIGHT"):
        first_day("FORTNIGHT", THURSDAY)
