"""domain/insights.py: the range check, buckets in a time zone, rates, and where ledger rows
count."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from domain.errors import ValidationFailed
from domain.insights import (
    BucketDays,
    Cover,
    Flow,
    Granularity,
    InsightsRange,
    LedgerGroup,
    Source,
    Use,
    bucket_bounds,
    bucket_days,
    bucket_starts,
    cash_value,
    check_range,
    cover,
    direction,
    flow_of,
    point_flows,
    rate,
    source_of,
    use_of,
)
from domain.points import PointsPolicy

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_a_range_is_local_midnight_to_the_midnight_after_its_last_day():
    span = check_range(date(2027, 1, 1), date(2027, 1, 31), "DAY", SHANGHAI)
    assert span.starts == datetime(2026, 12, 31, 16, tzinfo=UTC)
    assert span.ends == datetime(2027, 1, 31, 16, tzinfo=UTC)


def test_bad_arguments_are_each_named():
    with pytest.raises(ValidationFailed) as caught:
        check_range(date(2027, 2, 1), date(2027, 1, 1), "YEAR", SHANGHAI)
    assert [e.field for e in caught.value.errors] == ["from", "granularity"]
    with pytest.raises(ValidationFailed) as caught:
        check_range(date(2027, 1, 1), date(2030, 1, 1), "DAY", SHANGHAI)  # 1097 days
    assert [e.field for e in caught.value.errors] == ["to"]
    assert check_range(date(2027, 1, 1), date(2029, 12, 31), "DAY", SHANGHAI)  # 1096


def test_buckets_start_on_days_mondays_and_firsts():
    first, last = date(2027, 1, 28), date(2027, 3, 2)  # a Thursday to a Tuesday
    assert bucket_starts(first, last, Granularity.MONTH) == [
        date(2027, 1, 1),
        date(2027, 2, 1),
        date(2027, 3, 1),
    ]
    weeks = bucket_starts(first, last, Granularity.WEEK)
    assert weeks[0] == date(2027, 1, 25) and weeks[-1] == date(2027, 3, 1)
    assert all(w.weekday() == 0 for w in weeks) and len(weeks) == 6
    assert len(bucket_starts(first, last, Granularity.DAY)) == 34


def test_bucket_bounds_are_cut_to_the_range_in_local_time():
    span = check_range(date(2027, 1, 28), date(2027, 2, 2), "MONTH", SHANGHAI)
    bounds = bucket_bounds(span, SHANGHAI)
    assert bounds == [
        (date(2027, 1, 1), span.starts, datetime(2027, 1, 31, 16, tzinfo=UTC)),
        (date(2027, 2, 1), datetime(2027, 1, 31, 16, tzinfo=UTC), span.ends),
    ]


def test_a_dst_day_is_23_hours_long():
    berlin = ZoneInfo("Europe/Berlin")
    span = check_range(date(2027, 3, 28), date(2027, 3, 28), "DAY", berlin)
    assert (span.ends - span.starts).total_seconds() == 23 * 3600


def test_rates_are_zero_with_nothing_to_share():
    assert rate(1, 0) == 0.0 and rate(0, 0) == 0.0 and rate(1, 4) == 0.25


def test_cash_value_rounds_down_and_is_never_negative():
    assert cash_value(105, PointsPolicy(points_per_cash=100, cash_per_points=200)) == 210
    assert cash_value(3, PointsPolicy(points_per_cash=100, cash_per_points=50)) == 1
    assert cash_value(-50, PointsPolicy(points_per_cash=100, cash_per_points=200)) == 0


def test_direction_by_rank():
    assert direction(0, 1) == "UP" and direction(2, 0) == "DOWN"
    assert direction(None, 0) == "UP" and direction(1, None) == "DOWN"


def test_where_ledger_rows_count():
    assert flow_of("EARN", 1) is Flow.EARNED and flow_of("ADJUST", -1) is Flow.EARNED
    assert flow_of("REDEEM", -1) is Flow.SPENT and flow_of("TRANSFER_OUT", -1) is Flow.SPENT
    assert flow_of("REVERSE", -1) is Flow.EARNED  # a return takes earned points back
    assert flow_of("REVERSE", 1) is Flow.SPENT  # a cancel gives spent points back
    assert flow_of("EXPIRE", -1) is Flow.EXPIRED and flow_of("ERASE", -1) is Flow.FORFEITED
    assert source_of("ORDER") is Source.ORDERS and source_of("GRANT") is Source.ADJUSTMENTS
    assert source_of("CHALLENGE") is Source.OTHER and source_of("PARTNER_IN") is Source.PARTNERS_IN
    assert use_of("ORDER") is Use.CHECKOUT and use_of("GIFT") is Use.OTHER


def test_point_flows_net_reversals_and_list_other_only_when_used():
    flows = point_flows(
        [
            LedgerGroup("EARN", "ORDER", True, 300),
            LedgerGroup("REVERSE", "ORDER", False, -100),
            LedgerGroup("REDEEM", "REWARD", False, -50),
            LedgerGroup("REVERSE", "REWARD", True, 20),
            LedgerGroup("EARN", "CHALLENGE", True, 7),
            LedgerGroup("EXPIRE", "EXPIRY", False, -9),
            LedgerGroup("ERASE", "ERASURE", False, -4),
        ]
    )
    assert flows.earned_by_source[Source.ORDERS] == 200
    assert flows.earned_by_source[Source.OTHER] == 7 and flows.earned == 207
    assert flows.spent_by_use[Use.REWARDS] == 30 and Use.OTHER not in flows.spent_by_use
    assert (flows.spent, flows.expired, flows.forfeited) == (30, 9, 4)


def test_a_cover_takes_whole_years_then_whole_months_then_days():
    # a calendar year is one year
    assert cover(date(2026, 1, 1), date(2026, 12, 31)) == Cover([date(2026, 1, 1)], [], [])
    # mid-January 2026 to 10 March 2027: the days up to February, eleven months, then 2027's
    # January and February as months (not a year: it is not whole) and ten days of March
    found = cover(date(2026, 1, 15), date(2027, 3, 10))
    assert found.years == []
    assert found.months == [date(2026, m, 1) for m in range(2, 13)] + [
        date(2027, 1, 1),
        date(2027, 2, 1),
    ]
    assert found.days == [date(2026, 1, d) for d in range(15, 32)] + [
        date(2027, 3, d) for d in range(1, 11)
    ]
    # a leap February is whole on the 29th, not the 28th
    assert cover(date(2028, 2, 1), date(2028, 2, 29)).months == [date(2028, 2, 1)]
    assert cover(date(2028, 2, 1), date(2028, 2, 28)).months == []
    # one day is a day; two years and a day are two years and a day
    assert cover(date(2026, 5, 5), date(2026, 5, 5)) == Cover([], [], [date(2026, 5, 5)])
    assert cover(date(2025, 1, 1), date(2027, 1, 1)) == Cover(
        [date(2025, 1, 1), date(2026, 1, 1)], [], [date(2027, 1, 1)]
    )


def _span(first: date, last: date, granularity: Granularity) -> InsightsRange:
    return check_range(first, last, granularity.value, ZoneInfo("UTC"))


def test_a_bucket_is_whole_only_when_the_range_holds_all_its_days():
    # Wednesday 2026-12-02 to Monday 2026-12-14, by week: the first and last weeks are cut
    weeks = bucket_days(_span(date(2026, 12, 2), date(2026, 12, 14), Granularity.WEEK))
    assert weeks == [
        BucketDays(date(2026, 11, 30), date(2026, 12, 2), date(2026, 12, 6), False),
        BucketDays(date(2026, 12, 7), date(2026, 12, 7), date(2026, 12, 13), True),
        BucketDays(date(2026, 12, 14), date(2026, 12, 14), date(2026, 12, 14), False),
    ]
    # a month from its first to its last day is whole; every day is
    months = bucket_days(_span(date(2026, 2, 1), date(2026, 2, 28), Granularity.MONTH))
    assert months == [BucketDays(date(2026, 2, 1), date(2026, 2, 1), date(2026, 2, 28), True)]
    days = bucket_days(_span(date(2026, 2, 1), date(2026, 2, 3), Granularity.DAY))
    assert [d.whole for d in days] == [True, True, True]
