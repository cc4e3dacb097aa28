"""RFM scores and lifecycle segments without a database: day boundaries, quintiles, policy."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import Collector
from domain.recommendations.rfm import (
    Activity,
    Lifecycle,
    SegmentPolicy,
    lifecycle,
    quintile_scores,
    segments,
    validate_policy,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
LONG_AGO = NOW - timedelta(days=1_000)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def activity(**overrides: Any) -> Activity:
    fields: dict[str, Any] = {
        "member_id": 1,
        "joined_at": LONG_AGO,
        "last_order_at": days_ago(10),
        "orders_in_window": 3,
        "spend_in_window": 30_000,
        "orders_ever": 5,
    }
    return Activity(**{**fields, **overrides})


def ordered(member_id: int, *, last: float, orders: int = 1, spend: int = 1_000) -> Activity:
    return activity(
        member_id=member_id,
        last_order_at=days_ago(last),
        orders_in_window=orders,
        spend_in_window=spend,
        orders_ever=orders + 1,
    )


def fields_of(errors: Collector) -> list[str | None]:
    return [e.field for e in errors.errors]


# ---- lifecycle ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age_days", "expected"),
    [
        (0, Lifecycle.ACTIVE),
        (60, Lifecycle.ACTIVE),
        (60.99, Lifecycle.ACTIVE),
        (61, Lifecycle.INTERMITTENT),
        (180, Lifecycle.INTERMITTENT),
        (181, Lifecycle.AT_RISK),
        (365, Lifecycle.AT_RISK),
        (366, Lifecycle.INACTIVE),
        (900, Lifecycle.INACTIVE),
    ],
)
def test_the_last_order_age_picks_the_lifecycle_at_the_default_day_boundaries(age_days, expected):
    # given
    member = activity(last_order_at=days_ago(age_days))
    # when
    result = lifecycle(member, SegmentPolicy(), NOW)
    # then
    assert result is expected


@pytest.mark.parametrize(
    ("age_days", "expected"),
    [
        (14, Lifecycle.ACTIVE),
        (15, Lifecycle.INTERMITTENT),
        (45, Lifecycle.INTERMITTENT),
        (46, Lifecycle.AT_RISK),
        (90, Lifecycle.AT_RISK),
        (91, Lifecycle.INACTIVE),
    ],
)
def test_a_custom_policy_moves_the_lifecycle_boundaries(age_days, expected):
    # given
    policy = SegmentPolicy(window_days=90, new_days=7, active_days=14, intermittent_days=45)
    member = activity(last_order_at=days_ago(age_days))
    # when
    result = lifecycle(member, policy, NOW)
    # then
    assert result is expected


@pytest.mark.parametrize(
    ("joined_days", "orders_ever", "last_order_days", "expected"),
    [
        (0, 0, None, Lifecycle.NEW),
        (30, 1, 2, Lifecycle.NEW),
        (30, 0, None, Lifecycle.NEW),
        (31, 1, 2, Lifecycle.ACTIVE),
        (31, 0, None, Lifecycle.INACTIVE),
        (5, 2, 1, Lifecycle.ACTIVE),
        (400, 0, None, Lifecycle.INACTIVE),
    ],
)
def test_a_member_is_new_only_within_30_days_of_joining_and_with_at_most_one_order(
    joined_days, orders_ever, last_order_days, expected
):
    # given
    member = activity(
        joined_at=days_ago(joined_days),
        orders_ever=orders_ever,
        orders_in_window=orders_ever,
        last_order_at=None if last_order_days is None else days_ago(last_order_days),
    )
    # when
    result = lifecycle(member, SegmentPolicy(), NOW)
    # then
    assert result is expected


def test_a_custom_policy_moves_the_new_member_boundary():
    # given
    policy = SegmentPolicy(new_days=7)
    week_old = activity(joined_at=days_ago(7), orders_ever=1, last_order_at=days_ago(1))
    eight_days_old = activity(joined_at=days_ago(8), orders_ever=1, last_order_at=days_ago(1))
    # when
    results = [lifecycle(a, policy, NOW) for a in (week_old, eight_days_old)]
    # then
    assert results == [Lifecycle.NEW, Lifecycle.ACTIVE]


# ---- quintile_scores ------------------------------------------------------------------------


def test_five_distinct_values_score_one_to_five_by_rank():
    # given
    values = [30.0, 10.0, 50.0, 20.0, 40.0]
    # when
    scores = quintile_scores(values)
    # then
    assert scores == [3, 1, 5, 2, 4]


def test_ten_distinct_values_put_two_in_each_quintile():
    # given
    values = [float(v) for v in range(10)]
    # when
    scores = quintile_scores(values)
    # then
    assert scores == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_equal_values_share_the_score_of_the_first_of_them():
    # given
    values = [1.0, 2.0, 2.0, 2.0, 2.0]
    # when
    scores = quintile_scores(values)
    # then
    assert scores == [1, 2, 2, 2, 2]


def test_no_values_give_no_scores():
    # given / when
    scores = quintile_scores([])
    # then
    assert scores == []


@given(st.lists(st.integers(-1_000, 1_000), max_size=60))
def test_scores_are_one_to_five_and_never_fall_as_the_value_rises(values):
    # given
    floats = [float(v) for v in values]
    # when
    scores = quintile_scores(floats)
    # then
    assert len(scores) == len(values)
    assert all(1 <= s <= 5 for s in scores)
    for i, a in enumerate(values):
        for j, b in enumerate(values):
            if a < b:
                assert scores[i] <= scores[j]
            if a == b:
                assert scores[i] == scores[j]


@given(st.lists(st.integers(-10_000, 10_000), min_size=5, max_size=200, unique=True))
def test_distinct_values_fill_each_score_with_about_a_fifth_of_members(values):
    # given
    n = len(values)
    # when
    counts = Counter(quintile_scores([float(v) for v in values]))
    # then
    assert set(counts) == {1, 2, 3, 4, 5}
    assert all(n // 5 <= counts[s] <= -(-n // 5) for s in range(1, 6))


# ---- segments -------------------------------------------------------------------------------


def test_the_most_recent_buyer_scores_recency_5_and_the_oldest_1():
    # given
    members = [ordered(n, last=age) for n, age in enumerate([300, 2, 150, 40, 90], start=1)]
    # when
    result = {s.member_id: s for s in segments(members, SegmentPolicy(), NOW)}
    # then
    assert result[2].recency_score == 5
    assert result[1].recency_score == 1
    assert [result[n].recency_score for n in (2, 4, 5, 3, 1)] == [5, 4, 3, 2, 1]


def test_more_orders_and_more_spend_score_higher():
    # given
    members = [
        ordered(n, last=10, orders=orders, spend=spend)
        for n, (orders, spend) in enumerate(
            [(1, 500), (9, 90_000), (3, 2_000), (5, 40_000), (2, 100)], start=1
        )
    ]
    # when
    result = {s.member_id: s for s in segments(members, SegmentPolicy(), NOW)}
    # then
    assert [result[n].frequency_score for n in range(1, 6)] == [1, 5, 3, 4, 2]
    assert [result[n].monetary_score for n in range(1, 6)] == [2, 5, 3, 4, 1]


def test_members_without_an_order_in_the_window_score_1_on_all_three():
    # given
    never = activity(member_id=7, last_order_at=None, orders_in_window=0, orders_ever=0)
    lapsed = activity(member_id=8, last_order_at=days_ago(400), orders_in_window=0)
    buyers = [ordered(n, last=n, orders=n, spend=1_000 * n) for n in range(1, 6)]
    # when
    result = {s.member_id: s for s in segments([never, lapsed, *buyers], SegmentPolicy(), NOW)}
    # then
    for member_id in (7, 8):
        segment = result[member_id]
        assert (segment.recency_score, segment.frequency_score, segment.monetary_score) == (
            1,
            1,
            1,
        )
    assert result[7].recency_days is None
    assert result[8].recency_days == 400
    assert result[8].lifecycle is Lifecycle.INACTIVE


def test_quintiles_are_taken_only_over_members_who_ordered_in_the_window():
    # given
    outside = [
        activity(member_id=100 + n, last_order_at=days_ago(500), orders_in_window=0)
        for n in range(20)
    ]
    buyers = [ordered(1, last=5, orders=2, spend=800), ordered(2, last=50, orders=1, spend=300)]
    # when
    result = {s.member_id: s for s in segments([*outside, *buyers], SegmentPolicy(), NOW)}
    # then
    assert (result[1].recency_score, result[1].frequency_score, result[1].monetary_score) == (
        3,
        3,
        3,
    )
    assert (result[2].recency_score, result[2].frequency_score, result[2].monetary_score) == (
        1,
        1,
        1,
    )


def test_each_segment_carries_the_raw_rfm_values_and_the_lifecycle_in_input_order():
    # given
    members = [
        ordered(3, last=200, orders=4, spend=7_000),
        ordered(1, last=20, orders=2, spend=1_500),
    ]
    # when
    result = segments(members, SegmentPolicy(), NOW)
    # then
    assert [
        (s.member_id, s.recency_days, s.frequency, s.monetary, s.lifecycle) for s in result
    ] == [
        (3, 200, 4, 7_000, Lifecycle.AT_RISK),
        (1, 20, 2, 1_500, Lifecycle.ACTIVE),
    ]


# ---- validate_policy ------------------------------------------------------------------------


def test_the_default_policy_is_valid():
    # given
    errors = Collector()
    # when
    validate_policy(SegmentPolicy(), errors)
    # then
    assert errors.errors == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"window_days": 29, "intermittent_days": 20, "active_days": 10}, "windowDays"),
        ({"window_days": 3661}, "windowDays"),
        ({"new_days": 0}, "newDays"),
        ({"new_days": 366}, "newDays"),
        ({"active_days": 0}, "activeDays"),
        ({"active_days": 180}, "activeDays"),
        ({"intermittent_days": 365}, "intermittentDays"),
    ],
)
def test_a_policy_out_of_range_reports_the_field(overrides, field):
    # given
    errors = Collector()
    # when
    validate_policy(SegmentPolicy(**overrides), errors)
    # then
    assert fields_of(errors) == [field]


@pytest.mark.parametrize(
    "overrides",
    [
        {"window_days": 30, "intermittent_days": 29, "active_days": 28},
        {"window_days": 3660},
        {"new_days": 1},
        {"new_days": 365},
        {"active_days": 1},
        {"active_days": 179},
        {"intermittent_days": 364},
    ],
)
def test_a_policy_at_the_edges_of_its_ranges_is_valid(overrides):
    # given
    errors = Collector()
    # when
    validate_policy(SegmentPolicy(**overrides), errors)
    # then
    assert errors.errors == []


def test_a_policy_survives_a_round_trip_through_json_and_none_means_the_default():
    # given
    policy = SegmentPolicy(window_days=90, new_days=7, active_days=14, intermittent_days=45)
    # when
    restored = SegmentPolicy.from_json(policy.to_json())
    default = SegmentPolicy.from_json(None)
    # then
    assert restored == policy
    assert default == SegmentPolicy()
