"""Tier qualification without a database: windows, validity periods, upgrades, returns,
retention at period end, and the progress shown on the member page. Amounts are yuan."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import Collector, ErrorCode
from domain.tier_rules import (
    Metric,
    Progress,
    TierPolicy,
    Window,
    after_activity,
    after_return,
    at_period_end,
    entry_tier_for,
    period_start,
    progress,
    retention_of,
    valid_until,
    validate_tier_policy,
    window_start,
)
from domain.tiers import TierView


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def tier(code: str, rank: int, entry: int, retention: int | None = None) -> TierView:
    return TierView(
        id=100 + rank,
        code=code,
        name=code.title(),
        rank=rank,
        entry_threshold=entry,
        retention_threshold=retention,
    )


# Vancl (DESIGN.md §3): VIP at 2,000; SVIP at 2,500; < 1,000 in a year -> normal; SVIP < 2,500 -> VIP.
NORMAL = tier("NORMAL", 0, 0, 0)
VIP = tier("VIP", 1, 2_000, 1_000)
SVIP = tier("SVIP", 2, 2_500, 2_500)
VANCL = [NORMAL, VIP, SVIP]

# The six-level Taobao shop scheme; no retention threshold set, so retention = entry.
MEMBER = tier("MEMBER", 0, 0)
SILVER = tier("SILVER", 1, 100)
GOLD = tier("GOLD", 2, 500)
DIAMOND = tier("DIAMOND", 3, 1_000)
CROWN = tier("CROWN", 4, 3_000)
SUPER = tier("SUPER", 5, 10_000)
TAOBAO = [MEMBER, SILVER, GOLD, DIAMOND, CROWN, SUPER]

# A programme with no free tier: the lowest one needs 100.
PAID_SILVER = tier("SILVER", 1, 100)
PAID_GOLD = tier("GOLD", 2, 500, 300)
NO_FREE_TIER = [PAID_GOLD, PAID_SILVER]  # in no particular order

JOINED = at(2021, 3, 10, 9, 30)


# --- window_start ---------------------------------------------------------------------------


def test_lifetime_window_starts_when_the_member_joined():
    # given
    policy = TierPolicy(window=Window.LIFETIME)
    # when
    start = window_start(policy, now=at(2025, 6, 15), joined_at=JOINED, tier_since=at(2024, 1, 1))
    # then
    assert start == JOINED


def test_rolling_window_starts_n_months_before_now():
    # given
    policy = TierPolicy(window=Window.ROLLING_MONTHS, window_months=3)
    # when
    start = window_start(
        policy, now=at(2025, 6, 15, 14, 5), joined_at=JOINED, tier_since=at(2021, 3, 10)
    )
    # then
    assert start == at(2025, 3, 15, 14, 5)


def test_rolling_window_from_a_month_end_lands_on_the_shorter_months_last_day():
    # given
    policy = TierPolicy(window=Window.ROLLING_MONTHS, window_months=3)
    # when
    start = window_start(policy, now=at(2025, 5, 31), joined_at=JOINED, tier_since=None)
    # then
    assert start == at(2025, 2, 28)


def test_rolling_window_never_starts_before_the_member_joined():
    # given a member who joined six weeks ago, under a twelve-month window
    policy = TierPolicy(window=Window.ROLLING_MONTHS, window_months=12)
    joined = at(2025, 5, 1, 8, 0)
    # when
    start = window_start(policy, now=at(2025, 6, 15), joined_at=joined, tier_since=joined)
    # then
    assert start == joined


def test_validity_window_starts_at_the_current_validity_period():
    # given a tier held since March 2023 with yearly validity; now is in the second year
    policy = TierPolicy(window=Window.VALIDITY, validity_months=12)
    # when
    start = window_start(
        policy,
        now=at(2025, 1, 5),
        joined_at=JOINED,
        tier_since=at(2023, 3, 10, 12, 0),
        period_from=at(2024, 3, 10, 12, 0),
    )
    # then
    assert start == at(2024, 3, 10, 12, 0)


def test_validity_window_of_a_tier_that_does_not_expire_runs_from_joining_uncut():
    # given the entry tier (no validity period): its spend accumulates, "2,000 cumulative"
    policy = TierPolicy(window=Window.VALIDITY, validity_months=12)
    # when
    start = window_start(policy, now=at(2026, 7, 1), joined_at=JOINED, tier_since=None)
    # then
    assert start == JOINED


def test_reset_on_change_starts_a_lifetime_window_at_the_last_tier_change():
    # given
    policy = TierPolicy(window=Window.LIFETIME, reset_on_change=True)
    # when
    start = window_start(
        policy, now=at(2025, 6, 15), joined_at=JOINED, tier_since=at(2024, 7, 1, 16, 0)
    )
    # then
    assert start == at(2024, 7, 1, 16, 0)


def test_reset_on_change_never_starts_a_rolling_window_before_the_tier_change():
    # given a tier change two months ago, under a twelve-month rolling window
    policy = TierPolicy(window=Window.ROLLING_MONTHS, window_months=12, reset_on_change=True)
    # when
    start = window_start(policy, now=at(2025, 6, 15), joined_at=JOINED, tier_since=at(2025, 4, 2))
    # then
    assert start == at(2025, 4, 2)


def test_reset_on_change_keeps_a_rolling_start_that_is_later_than_the_tier_change():
    # given a tier change long before the rolling window opens
    policy = TierPolicy(window=Window.ROLLING_MONTHS, window_months=12, reset_on_change=True)
    # when
    start = window_start(policy, now=at(2025, 6, 15), joined_at=JOINED, tier_since=at(2022, 1, 1))
    # then
    assert start == at(2024, 6, 15)


def test_reset_on_change_without_a_tier_change_counts_from_joining():
    # given
    policy = TierPolicy(window=Window.LIFETIME, reset_on_change=True)
    # when
    start = window_start(policy, now=at(2025, 6, 15), joined_at=JOINED, tier_since=None)
    # then
    assert start == JOINED


# --- period_start / valid_until -------------------------------------------------------------

YEARLY = TierPolicy(validity_months=12)
MONTHLY = TierPolicy(validity_months=1)
SINCE = at(2022, 4, 20, 9, 0)


def test_the_first_yearly_period_starts_at_tier_since():
    # when
    start = period_start(YEARLY, now=at(2022, 11, 1), tier_since=SINCE)
    until = valid_until(YEARLY, now=at(2022, 11, 1), tier_since=SINCE)
    # then
    assert (start, until) == (SINCE, at(2023, 4, 20, 9, 0))


def test_a_yearly_period_several_years_on_is_counted_from_tier_since():
    # when
    start = period_start(YEARLY, now=at(2025, 1, 1), tier_since=SINCE)
    until = valid_until(YEARLY, now=at(2025, 1, 1), tier_since=SINCE)
    # then
    assert (start, until) == (at(2024, 4, 20, 9, 0), at(2025, 4, 20, 9, 0))


def test_a_monthly_period_several_months_on_is_counted_from_tier_since():
    # given
    since = at(2025, 1, 15, 10, 0)
    # when
    start = period_start(MONTHLY, now=at(2025, 5, 3), tier_since=since)
    until = valid_until(MONTHLY, now=at(2025, 5, 3), tier_since=since)
    # then
    assert (start, until) == (at(2025, 4, 15, 10, 0), at(2025, 5, 15, 10, 0))


def test_the_end_of_a_period_is_the_start_of_the_next():
    # given now exactly at the end of the third yearly period
    boundary = at(2025, 4, 20, 9, 0)
    # when
    start = period_start(YEARLY, now=boundary, tier_since=SINCE)
    until = valid_until(YEARLY, now=boundary, tier_since=SINCE)
    # then
    assert (start, until) == (boundary, at(2026, 4, 20, 9, 0))


def test_a_moment_before_the_end_of_a_period_is_still_in_it():
    # given
    just_before = at(2025, 4, 20, 9, 0) - timedelta(microseconds=1)
    # when
    start = period_start(YEARLY, now=just_before, tier_since=SINCE)
    until = valid_until(YEARLY, now=just_before, tier_since=SINCE)
    # then
    assert (start, until) == (at(2024, 4, 20, 9, 0), at(2025, 4, 20, 9, 0))


def test_the_end_of_a_monthly_period_is_the_start_of_the_next():
    # given
    since = at(2025, 1, 15, 10, 0)
    # when
    start = period_start(MONTHLY, now=at(2025, 3, 15, 10, 0), tier_since=since)
    # then
    assert start == at(2025, 3, 15, 10, 0)


def test_monthly_periods_from_a_month_end_stay_anchored_to_tier_since():
    # given a tier won on 31 January: periods end tier_since + k months, i.e. on
    # 29 Feb, 31 Mar, 30 Apr, ... — a short February must not pull every later end to the 29th
    since = at(2024, 1, 31, 12, 0)
    now = at(2024, 3, 30, 12, 0)
    # when
    start = period_start(MONTHLY, now=now, tier_since=since)
    until = valid_until(MONTHLY, now=now, tier_since=since)
    # then
    assert (start, until) == (at(2024, 2, 29, 12, 0), at(2024, 3, 31, 12, 0))


# --- the programme's calendar (issue 22.7) ------------------------------------------------

SHANGHAI = ZoneInfo("Asia/Shanghai")


def shanghai(month: int, day: int, hour: int = 7) -> datetime:
    """A Shanghai wall-clock moment in 2027, given in UTC as the database holds it."""
    return datetime(2027, month, day, hour, 0, tzinfo=SHANGHAI).astimezone(UTC)


def test_a_monthly_validity_ends_on_the_programmes_calendar():
    # given a tier won at 07:00 on 31 January in Shanghai (still 30 January in UTC)
    since = shanghai(1, 31)
    # when
    until = valid_until(MONTHLY, now=shanghai(2, 10), tier_since=since, tz=SHANGHAI)
    # then it ends at 07:00 on 28 February there, not on 1 March as a UTC month would have it
    assert until == shanghai(2, 28)


def test_the_next_period_begins_when_the_local_month_is_over():
    # given the same tier, at noon on 28 February in Shanghai: the local month is over, the
    # UTC one (ending 1 March 07:00 local) is not
    since, now = shanghai(1, 31), shanghai(2, 28, 12)
    # when
    start = period_start(MONTHLY, now=now, tier_since=since, tz=SHANGHAI)
    until = valid_until(MONTHLY, now=now, tier_since=since, tz=SHANGHAI)
    # then the second period is running
    assert (start, until) == (shanghai(2, 28), shanghai(3, 31))


def test_a_rolling_window_starts_n_local_months_back():
    # given a rolling one-month window read at 07:00 on 31 March in Shanghai
    policy = TierPolicy(window=Window.ROLLING_MONTHS, window_months=1)
    # when
    start = window_start(
        policy, now=shanghai(3, 31), joined_at=JOINED, tier_since=None, tz=SHANGHAI
    )
    # then it reaches back to 07:00 on 28 February there
    assert start == shanghai(2, 28)


# --- entry_tier_for / retention_of ----------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "expected"),
    [
        (0, "MEMBER"),
        (99, "MEMBER"),
        (100, "SILVER"),
        (499, "SILVER"),
        (500, "GOLD"),
        (1_000, "DIAMOND"),
        (9_999, "CROWN"),
        (10_000, "SUPER"),
        (250_000, "SUPER"),
    ],
)
def test_entry_tier_is_the_highest_whose_threshold_the_total_meets(total, expected):
    # given tiers in no particular order
    shuffled = TAOBAO[:]
    random.Random(total).shuffle(shuffled)
    # when
    earned = entry_tier_for(shuffled, total)
    # then
    assert earned is not None
    assert earned.code == expected


def test_no_entry_tier_when_the_total_meets_no_threshold():
    # given a ladder without a zero tier (validation forbids it, but the rule must not guess)
    ladder = [SILVER, GOLD]
    # when / then
    assert entry_tier_for(ladder, 50) is None
    assert entry_tier_for([], 1_000) is None


def test_retention_is_the_tiers_own_threshold_when_set():
    # then
    assert retention_of(VIP) == 1_000
    assert retention_of(SVIP) == 2_500


def test_retention_of_zero_is_kept_not_replaced_by_the_entry_threshold():
    # given
    easy = tier("EASY", 3, 800, 0)
    # then
    assert retention_of(easy) == 0


def test_retention_falls_back_to_the_entry_threshold_when_unset():
    # then
    assert [retention_of(t) for t in TAOBAO] == [0, 100, 500, 1_000, 3_000, 10_000]


# --- after_activity -------------------------------------------------------------------------


def test_an_upgrade_jumps_straight_to_the_highest_tier_reached():
    # given a member at the bottom whose total now clears Silver, Gold and Diamond
    # when
    new = after_activity(MEMBER, TAOBAO, 1_200)
    # then
    assert new == DIAMOND


def test_an_upgrade_from_the_middle_skips_levels_too():
    # when
    new = after_activity(SILVER, TAOBAO, 3_000)
    # then
    assert new == CROWN


@pytest.mark.parametrize("total", [500, 501, 999])
def test_no_change_while_the_total_stays_at_or_above_the_current_entry(total):
    # when
    new = after_activity(GOLD, TAOBAO, total)
    # then
    assert new == GOLD


@pytest.mark.parametrize(
    ("total", "expected"), [(499, "SILVER"), (100, "SILVER"), (99, "MEMBER"), (0, "MEMBER")]
)
def test_a_return_below_the_current_entry_falls_to_the_tier_still_earned(total, expected):
    # given a Gold member (entry 500) whose return brings the total that earned Gold to `total`
    # when
    new = after_return(GOLD, TAOBAO, total)
    # then
    assert new.code == expected


@pytest.mark.parametrize("total", [500, 900])
def test_a_return_that_leaves_the_entry_threshold_met_keeps_the_tier(total):
    assert after_return(GOLD, TAOBAO, total) == GOLD


@pytest.mark.parametrize(("total", "expected"), [(0, "MEMBER"), (600, "GOLD"), (10_000, "SUPER")])
def test_a_member_without_a_tier_gets_the_tier_earned(total, expected):
    # when
    new = after_activity(None, TAOBAO, total)
    # then
    assert new is not None
    assert new.code == expected


@given(total=st.integers(min_value=0, max_value=50_000))
def test_from_no_tier_the_result_is_always_the_entry_tier(total):
    # then
    assert after_activity(None, TAOBAO, total) == entry_tier_for(TAOBAO, total)


@given(
    current=st.sampled_from(TAOBAO),
    total=st.integers(min_value=0, max_value=50_000),
)
def test_after_activity_is_the_current_tier_or_what_the_total_earns(current, total):
    # when
    new = after_activity(current, TAOBAO, total)
    # then never below what the total earns, and never a downgrade (activity only lifts)
    earned = entry_tier_for(TAOBAO, total)
    assert earned is not None and new is not None
    assert new in (current, earned)
    assert new.rank >= earned.rank
    assert new.rank >= current.rank


def test_a_vancl_vip_who_orders_after_the_accumulator_reset_stays_vip():
    # given Vancl rules: the accumulator resets on every tier change, so a VIP's
    # qualifying total restarts at 0 the moment they become VIP
    # when their first order after the upgrade brings that total to 300
    new = after_activity(VIP, VANCL, 300)
    # then an order (spend going up) never costs them the tier; only period end may
    assert new is not None
    assert new.code == "VIP"


def test_a_return_below_every_threshold_leaves_the_member_on_the_lowest_tier():
    # given a Gold member whose order is returned, leaving 50 of the 500 that earned Gold
    # when
    new = after_return(PAID_GOLD, NO_FREE_TIER, 50)
    # then they fall to the lowest tier, not out of the programme
    assert new == PAID_SILVER


# --- at_period_end --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "period_total", "expected"),
    [
        (SVIP, 1_200, "VIP"),
        (SVIP, 900, "NORMAL"),
        (SVIP, 2_500, "SVIP"),
        (SVIP, 4_000, "SVIP"),
        (SVIP, 1_000, "VIP"),
        (SVIP, 999, "NORMAL"),
        (VIP, 1_000, "VIP"),
        (VIP, 999, "NORMAL"),
        (VIP, 0, "NORMAL"),
        (NORMAL, 0, "NORMAL"),
    ],
)
def test_vancl_retention_at_the_end_of_the_year(current, period_total, expected):
    # given Vancl's accumulator resets on each change, so the qualifying total is the year's
    # when
    new = at_period_end(current, VANCL, period_total=period_total, qualifying_total=period_total)
    # then
    assert new.code == expected


def test_period_end_never_drops_below_what_the_entry_thresholds_give():
    # given an SVIP who spent little this year but whose qualifying total earns VIP by entry
    # when
    new = at_period_end(SVIP, VANCL, period_total=500, qualifying_total=2_100)
    # then
    assert new == VIP


def test_period_end_floor_keeps_the_tier_when_the_qualifying_total_earns_it():
    # given a VIP who missed retention but whose qualifying total still earns VIP by entry
    # when
    new = at_period_end(VIP, VANCL, period_total=300, qualifying_total=2_000)
    # then
    assert new == VIP


def test_period_end_floor_above_the_current_tier_neither_drops_nor_promotes_the_member():
    # given a VIP who missed retention but whose qualifying total would earn even SVIP by entry
    # when
    new = at_period_end(VIP, VANCL, period_total=500, qualifying_total=3_000)
    # then they keep VIP: a period end never drops them, and never promotes them either
    # (a new member with that total would be SVIP, but upgrades are `after_activity`'s)
    assert new == VIP


@pytest.mark.parametrize(
    ("current", "period_total", "expected"),
    [
        (CROWN, 3_000, "CROWN"),
        (CROWN, 2_999, "DIAMOND"),
        (CROWN, 1_200, "DIAMOND"),
        (CROWN, 50, "MEMBER"),
        (SUPER, 600, "GOLD"),
        (SUPER, 10_000, "SUPER"),
        (SILVER, 99, "MEMBER"),
        (MEMBER, 0, "MEMBER"),
    ],
)
def test_taobao_retention_equals_entry(current, period_total, expected):
    # given a window that is the validity period, so the qualifying total is the period's
    # when
    new = at_period_end(current, TAOBAO, period_total=period_total, qualifying_total=period_total)
    # then
    assert new.code == expected


def test_taobao_lifetime_spend_keeps_the_tier_whatever_the_year_brought():
    # given a lifetime window: a Crown member's lifetime spend still earns Crown
    # when
    new = at_period_end(CROWN, TAOBAO, period_total=40, qualifying_total=3_500)
    # then
    assert new == CROWN


def test_a_period_end_below_every_threshold_leaves_the_member_on_the_lowest_tier():
    # given a Gold member with 50 in the period and 50 in all
    # when
    new = at_period_end(PAID_GOLD, NO_FREE_TIER, period_total=50, qualifying_total=50)
    # then
    assert new == PAID_SILVER


# --- progress -------------------------------------------------------------------------------


@pytest.mark.parametrize(("total", "to_next"), [(500, 500), (700, 300), (999, 1)])
def test_progress_names_the_next_tier_and_what_is_missing(total, to_next):
    # when
    shown = progress(GOLD, TAOBAO, total=total, period_total=total, qualifying_total=total)
    # then
    assert shown.next_tier == DIAMOND
    assert shown.amount_to_next == to_next
    assert shown.amount_to_next + total == DIAMOND.entry_threshold


def test_progress_when_retention_is_met():
    # given a Vancl VIP with 1,200 this year and 2,200 qualifying
    # when
    shown = progress(VIP, VANCL, total=2_200, period_total=1_200, qualifying_total=2_200)
    # then
    assert shown == Progress(
        next_tier=SVIP, amount_to_next=300, amount_to_retain=0, will_downgrade_to=None
    )


def test_progress_when_retention_is_missed_names_the_tier_it_falls_to():
    # given a Vancl SVIP with 1,200 this year (accumulator reset at the upgrade)
    # when
    shown = progress(SVIP, VANCL, total=1_200, period_total=1_200, qualifying_total=1_200)
    # then
    assert shown == Progress(
        next_tier=None, amount_to_next=None, amount_to_retain=1_300, will_downgrade_to=VIP
    )


def test_progress_for_a_vip_heading_to_normal():
    # when
    shown = progress(VIP, VANCL, total=400, period_total=400, qualifying_total=400)
    # then
    assert shown.amount_to_retain == 600
    assert shown.will_downgrade_to == NORMAL


def test_progress_at_the_top_tier_has_no_next_tier():
    # when
    shown = progress(SUPER, TAOBAO, total=12_000, period_total=12_000, qualifying_total=12_000)
    # then
    assert shown == Progress(
        next_tier=None, amount_to_next=None, amount_to_retain=0, will_downgrade_to=None
    )


def test_progress_under_a_lifetime_window_never_warns_of_a_downgrade():
    # given a Diamond member with a thin year but 1,200 lifetime
    # when
    shown = progress(DIAMOND, TAOBAO, total=1_200, period_total=400, qualifying_total=1_200)
    # then
    assert shown.amount_to_retain == 600
    assert shown.will_downgrade_to is None


def test_progress_of_a_member_without_a_tier_names_the_lowest_tier_and_its_distance():
    # given a member with 40 and no tier yet, in a programme whose lowest tier needs 100
    # when
    shown = progress(None, NO_FREE_TIER, total=40, period_total=40, qualifying_total=40)
    # then
    assert shown == Progress(
        next_tier=PAID_SILVER, amount_to_next=60, amount_to_retain=None, will_downgrade_to=None
    )


def test_progress_of_a_member_whose_total_already_earns_the_next_tier_shows_none_to_go():
    # given a VIP whose 3,000 would earn SVIP (its threshold was lowered since their last
    # order, so nothing has upgraded them yet) with 500 in this period
    # when
    shown = progress(VIP, VANCL, total=3_000, period_total=500, qualifying_total=3_000)
    # then nothing is left to reach SVIP, 500 to keep VIP, and no drop is announced
    assert shown == Progress(
        next_tier=SVIP, amount_to_next=0, amount_to_retain=500, will_downgrade_to=None
    )


# --- TierPolicy -----------------------------------------------------------------------------


def test_policy_defaults():
    # when
    policy = TierPolicy()
    # then
    assert policy.to_json() == {
        "metric": "SPEND",
        "window": "LIFETIME",
        "window_months": 12,
        "validity_months": 12,
        "reset_on_change": False,
    }


@pytest.mark.parametrize("stored", [None, {}])
def test_an_unset_policy_reads_as_the_defaults(stored):
    # then
    assert TierPolicy.from_json(stored) == TierPolicy()


def test_a_partly_stored_policy_fills_in_the_defaults():
    # when
    policy = TierPolicy.from_json({"window": "ROLLING_MONTHS", "window_months": 3})
    # then
    assert policy == TierPolicy(window=Window.ROLLING_MONTHS, window_months=3)


@pytest.mark.parametrize(
    "policy",
    [
        TierPolicy(
            metric=Metric.GROWTH,
            window=Window.VALIDITY,
            window_months=6,
            validity_months=24,
            reset_on_change=True,
        ),
        TierPolicy(metric=Metric.ORDER_COUNT, window=Window.ROLLING_MONTHS, window_months=3),
        TierPolicy(),
    ],
)
def test_policy_round_trips_through_json(policy):
    # when
    back = TierPolicy.from_json(policy.to_json())
    # then
    assert back == policy
    assert isinstance(back.metric, Metric) and isinstance(back.window, Window)


def test_the_default_policy_is_valid():
    # given
    errors = Collector()
    # when
    validate_tier_policy(TierPolicy(), errors)
    # then
    assert errors.errors == []


@pytest.mark.parametrize(
    ("policy", "field"),
    [
        (TierPolicy(validity_months=0), "validityMonths"),
        (TierPolicy(validity_months=-1), "validityMonths"),
        (TierPolicy(validity_months=121), "validityMonths"),
        (TierPolicy(window=Window.ROLLING_MONTHS, window_months=0), "windowMonths"),
        (TierPolicy(window=Window.ROLLING_MONTHS, window_months=121), "windowMonths"),
    ],
)
def test_an_invalid_policy_is_reported_on_its_field(policy, field):
    # given
    errors = Collector()
    # when
    validate_tier_policy(policy, errors)
    # then
    assert [e.field for e in errors.errors] == [field]
    assert errors.errors[0].code is ErrorCode.VALIDATION


def test_window_months_are_checked_whatever_the_window():
    # given a value that would mean nothing if the window were switched to rolling later
    errors = Collector()
    # when
    validate_tier_policy(TierPolicy(window=Window.LIFETIME, window_months=0), errors)
    # then
    assert [e.field for e in errors.errors] == ["windowMonths"]


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
