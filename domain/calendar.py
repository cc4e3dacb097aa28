"""The programme's calendar: the day, week (Monday to Sunday), month or year a local day is in.
Insights buckets, reward limits, abuse caps and campaign caps all count over such periods; each
feature keeps its own enum of the periods it offers, and names one here by its value."""

from __future__ import annotations

from datetime import date, timedelta

DAY, WEEK, MONTH, YEAR = "DAY", "WEEK", "MONTH", "YEAR"


def first_day(period: str, day: date) -> date:
    """The first day of the period (DAY, WEEK, MONTH or YEAR) that `day` is in."""
    if period == DAY:
        return day
    if period == WEEK:
        return day - timedelta(days=day.weekday())
    if period == MONTH:
        return day.replace(day=1)
    if period == YEAR:
        return day.replace(month=1, day=1)
    raise ValueError(f"no calendar period {period!r}")


def next_first_day(period: str, day: date) -> date:
    """The first day of the period after the one `day` is in."""
    start = first_day(period, day)
    if period == DAY:
        return start + timedelta(days=1)
    if period == WEEK:
        return start + timedelta(days=7)
    if period == MONTH:
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start.replace(year=start.year + 1)


def last_day(period: str, day: date) -> date:
    """The last day of the period that `day` is in."""
    return next_first_day(period, day) - timedelta(days=1)
