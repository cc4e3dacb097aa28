"""Tier rules at their edges: a programme whose lowest tier needs spend, a member without a
tier, the accepted limits of a tier policy, and a stored policy missing most of its keys."""

from __future__ import annotations

import pytest

from domain.errors import Collector
from domain.tier_rules import (
    Metric,
    Progress,
    TierPolicy,
    Window,
    after_return,
    at_period_end,
    progress,
    validate_tier_policy,
)
from domain.tiers import TierView


def tier(code: str, rank: int, entry: int, retention: int | None = None) -> TierView:
    return TierView(
        id=100 + rank,
        code=code,
        name=code.title(),
        rank=rank,
        entry_threshold=entry,
        retention_threshold=retention,
    )


# A programme with no free tier: the lowest one needs 100.
SILVER = tier("SILVER", 1, 100)
GOLD = tier("GOLD", 2, 500, 300)
NO_FREE_TIER = [GOLD, SILVER]  # in no particular order

MEMBER = tier("MEMBER", 0, 0)
TAOBAO = [MEMBER, tier("SILVER", 1, 100), tier("GOLD", 2, 500)]


def test_a_return_below_every_threshold_leaves_the_member_on_the_lowest_tier():
    # given a Gold member whose order is returned, leaving 50 of the 500 that earned Gold
    # when
    new = after_return(GOLD, NO_FREE_TIER, 50)
    # then they fall to the lowest tier, not out of the programme
    assert new == SILVER


def test_a_period_end_below_every_threshold_leaves_the_member_on_the_lowest_tier():
    # given a Gold member with 50 in the period and 50 in all
    # when
    new = at_period_end(GOLD, NO_FREE_TIER, period_total=50, qualifying_total=50)
    # then
    assert new == SILVER


def test_progress_of_a_member_without_a_tier_names_the_lowest_tier_and_its_distance():
    # given a member with 40 and no tier yet, in a programme whose lowest tier needs 100
    # when
    shown = progress(None, NO_FREE_TIER, total=40, period_total=40, qualifying_total=40)
    # then
    assert shown == Progress(
        next_tier=SILVER, amount_to_next=60, amount_to_retain=None, will_downgrade_to=None
    )


def test_progress_of_a_member_without_a_tier_past_the_lowest_threshold_is_zero_to_go():
    # given a member with no tier yet whose 250 already earns the free MEMBER tier
    # when
    shown = progress(None, TAOBAO, total=250, period_total=250, qualifying_total=250)
    # then
    assert shown == Progress(
        next_tier=MEMBER, amount_to_next=0, amount_to_retain=None, will_downgrade_to=None
    )


@pytest.mark.parametrize("months", [1, 120])
def test_a_tier_policy_at_either_end_of_its_ranges_is_accepted(months):
    # given
    errors = Collector()
    # when
    validate_tier_policy(
        TierPolicy(window=Window.ROLLING_MONTHS, window_months=months, validity_months=months),
        errors,
    )
    # then
    assert errors.errors == []


def test_a_stored_policy_with_only_a_metric_takes_every_other_default():
    # given / when
    policy = TierPolicy.from_json({"metric": "GROWTH"})
    # then
    assert policy == TierPolicy(metric=Metric.GROWTH)
    assert (policy.window, policy.window_months, policy.validity_months) == (
        Window.LIFETIME,
        12,
        12,
    )
