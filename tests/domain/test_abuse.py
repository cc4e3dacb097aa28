"""Abuse rules without a database (issue 18.6)."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from domain.abuse import (
    AbusePolicy,
    Cap,
    OrderVelocity,
    Period,
    ReturnRatio,
    Source,
    capped_order,
    check_policy,
    judge_earning,
    period_key,
    referrals_exceeded,
    return_ratio_exceeded,
    velocity_exceeded,
)
from domain.errors import Collector
from domain.points import EarnRule, LinePoints, OrderPoints, RulePoints

DAY = date(2026, 12, 2)  # a Wednesday


def test_the_tightest_cap_decides_and_nothing_is_dropped():
    daily = Cap(Source.REVIEW, Period.DAY, 25)
    weekly = Cap(Source.REVIEW, Period.WEEK, 100)
    assert judge_earning(10, [(daily, 10), (weekly, 50)], DAY).credit == 10
    verdict = judge_earning(10, [(daily, 20), (weekly, 50)], DAY)
    assert (verdict.credit, verdict.held, verdict.rule, verdict.period) == (
        5,
        5,
        "CAP_REVIEW_DAY",
        "DAY:2026-12-02",
    )
    verdict = judge_earning(10, [(daily, 0), (weekly, 95)], DAY)
    assert (verdict.credit, verdict.held, verdict.period) == (5, 5, "WEEK:2026-11-30")
    over = judge_earning(10, [(daily, 40)], DAY)
    assert (over.credit, over.held) == (0, 10)


def test_periods_are_named_by_their_first_local_day():
    assert period_key(Period.DAY, DAY) == "DAY:2026-12-02"
    assert period_key(Period.WEEK, DAY) == "WEEK:2026-11-30"
    assert period_key(Period.WEEK, date(2026, 12, 6)) == "WEEK:2026-11-30"  # Sunday
    assert period_key(Period.WEEK, date(2026, 12, 7)) == "WEEK:2026-12-07"


def line(points: int) -> LinePoints:
    return LinePoints("s", 1, 100, points, (RulePoints(EarnRule.FULL_PRICE, points),))


@given(st.lists(st.integers(0, 10_000), min_size=1, max_size=8), st.integers(0, 80_000))
def test_a_capped_order_adds_up_to_the_credit_line_by_line(points, credit):
    earned = OrderPoints(tuple(line(p) for p in points), sum(points), 100 * len(points))
    capped = capped_order(earned, credit)
    assert capped.total == min(credit, earned.total)
    assert sum(x.points for x in capped.lines) == capped.total
    for before, after in zip(earned.lines, capped.lines, strict=True):
        assert 0 <= after.points <= before.points
        assert sum(r.points for r in after.rules) == after.points


def test_a_cap_cut_is_shown_as_a_rule():
    capped = capped_order(OrderPoints((line(300), line(100)), 400, 200), 200)
    assert [x.points for x in capped.lines] == [150, 50]
    assert capped.lines[0].rules[-1] == RulePoints(EarnRule.ABUSE_CAP, -150)


def test_velocity_referral_and_return_rules():
    assert not velocity_exceeded(OrderVelocity(3, 60), 3)
    assert velocity_exceeded(OrderVelocity(3, 60), 4)
    assert not velocity_exceeded(None, 100)
    assert not referrals_exceeded(2, 2) and referrals_exceeded(2, 3)
    assert not return_ratio_exceeded(ReturnRatio(50), earned=400, taken_back=200)
    assert return_ratio_exceeded(ReturnRatio(50), earned=400, taken_back=201)
    assert not return_ratio_exceeded(ReturnRatio(50), earned=0, taken_back=10)


def test_a_policy_reads_back_what_it_wrote_and_bad_ones_are_named():
    policy = AbusePolicy(
        caps=(Cap(Source.ORDER, Period.WEEK, 5_000),),
        order_velocity=OrderVelocity(5, 30),
        referrals_per_day=3,
        return_ratio=ReturnRatio(60, 30),
    )
    assert AbusePolicy.from_json(policy.to_json()) == policy
    assert AbusePolicy.from_json(None) == AbusePolicy()
    errors = Collector()
    check_policy(
        AbusePolicy(
            caps=(Cap(Source.ORDER, Period.DAY, -1), Cap(Source.ORDER, Period.DAY, 1)),
            order_velocity=OrderVelocity(0, 0),
            referrals_per_day=0,
            return_ratio=ReturnRatio(101, 0),
        ),
        errors,
    )
    assert {e.field for e in errors.errors} == {
        "caps.0.points",
        "caps.1",
        "orderVelocity.orders",
        "orderVelocity.minutes",
        "referralsPerDay",
        "returnRatio.percent",
        "returnRatio.days",
    }
