"""Partner terms and conversions without a database: exact rates, rounding towards the
programme, the round-trip property (RELIABILITY 13), limits, verification normalising."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from domain.errors import Collector, ErrorCode
from domain.partners import (
    RATE_TERM_MAX,
    DailyLimitReached,
    DirectionNotAllowed,
    DirectionTerms,
    PartnerTerms,
    Rate,
    TransferOutOfRange,
    check_amount,
    check_daily,
    check_terms,
    local_day_bounds,
    normalised,
    points_for_units,
    units_for_points,
)
from domain.points import MAX_POINTS

terms_ = st.integers(min_value=1, max_value=RATE_TERM_MAX)
amounts = st.integers(min_value=1, max_value=MAX_POINTS)


def both_ways(inbound: Rate, outbound: Rate) -> PartnerTerms:
    return PartnerTerms(
        inbound=DirectionTerms(inbound, max_points=MAX_POINTS),
        outbound=DirectionTerms(outbound, max_points=MAX_POINTS),
    )


def errors_of(terms: PartnerTerms) -> list[tuple[str | None, str]]:
    errors = Collector()
    check_terms(errors, terms)
    return [(e.field, e.code.value) for e in errors.errors]


@given(terms_, terms_, terms_, terms_, amounts)
def test_a_round_trip_out_and_back_never_gains_a_point(a, b, c, d, points):
    # given any pair of rates the terms check accepts
    terms = both_ways(inbound=Rate(a, b), outbound=Rate(c, d))
    assume(errors_of(terms) == [])
    # when a member's points go out to the partner and the units come straight back
    back = points_for_units(terms, units_for_points(terms, points))
    # then the member has at most what they started with
    assert back <= points


@given(terms_, terms_, terms_, terms_, amounts)
def test_a_round_trip_in_and_out_never_gains_a_unit(a, b, c, d, units):
    terms = both_ways(inbound=Rate(a, b), outbound=Rate(c, d))
    assume(errors_of(terms) == [])
    assert units_for_points(terms, points_for_units(terms, units)) <= units


@given(terms_, terms_, amounts)
def test_conversion_rounds_down_and_is_exact(source, target, amount):
    rate = Rate(source, target)
    converted = rate.convert(amount)
    # the largest whole number not above amount * target / source
    assert converted * source <= amount * target < (converted + 1) * source


def test_rates_whose_product_exceeds_one_are_refused():
    # 1 mile -> 1 point in, 1 point -> 2 miles out: a loop would double a balance
    assert errors_of(both_ways(Rate(1, 1), Rate(1, 2))) == [("outbound.rate", "VALIDATION")]
    # exactly 1 is allowed (10 miles = 1 point both ways)
    assert errors_of(both_ways(Rate(10, 1), Rate(1, 10))) == []


def test_misconfigured_rates_and_limits_are_refused_field_by_field():
    bad = PartnerTerms(
        inbound=DirectionTerms(Rate(0, 1), min_points=10, max_points=5, daily_points_total=0),
        timeout_minutes=0,
    )
    assert errors_of(bad) == [
        ("inbound.rate.source", "VALIDATION"),
        ("inbound.minPoints", "VALIDATION"),
        ("inbound.dailyPointsTotal", "VALIDATION"),
        ("timeoutMinutes", "VALIDATION"),
    ]


def test_a_direction_left_out_is_not_allowed():
    terms = PartnerTerms(inbound=DirectionTerms(Rate(10, 1)))
    assert points_for_units(terms, 105) == 10
    with pytest.raises(DirectionNotAllowed) as raised:
        units_for_points(terms, 10)
    assert raised.value.code is ErrorCode.DIRECTION_NOT_ALLOWED


def test_terms_survive_their_json():
    terms = PartnerTerms(
        inbound=DirectionTerms(Rate(10, 1), 5, 500, 1000, None),
        outbound=DirectionTerms(Rate(1, 8), 1, 100, None, 10_000),
        eligible_tiers=("GOLD",),
        timeout_minutes=60,
    )
    assert PartnerTerms.from_json(terms.to_json()) == terms


def test_amount_and_daily_limits():
    terms = DirectionTerms(
        Rate(1, 1),
        min_points=10,
        max_points=100,
        daily_points_per_member=150,
        daily_points_total=1_000,
    )
    check_amount(terms, 10, "points")
    check_amount(terms, 100, "points")
    for outside in (9, 101):
        with pytest.raises(TransferOutOfRange):
            check_amount(terms, outside, "points")
    check_daily(terms, 50, member_today=100, total_today=0, field="points")
    with pytest.raises(DailyLimitReached):
        check_daily(terms, 51, member_today=100, total_today=0, field="points")
    with pytest.raises(DailyLimitReached):
        check_daily(terms, 1, member_today=0, total_today=1_000, field="points")


def test_a_local_day_is_counted_on_the_programme_calendar():
    start, end = local_day_bounds(date(2026, 3, 1), ZoneInfo("Asia/Shanghai"))
    assert start.isoformat() == "2026-03-01T00:00:00+08:00"
    assert (end - start).total_seconds() == 86_400


def test_verifying_attributes_compare_normalised():
    assert normalised("  Li.WEI@Example.com ") == normalised("li.wei@example.com")
    assert normalised("\uff3a\uff48\uff41\uff4e\uff47") == normalised("zhang")  # full-width (NFKC)
    assert normalised("van  der Berg") == "van der berg"
