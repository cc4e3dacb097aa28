"""Earning lots without a database: calendar months, spending order, expiry and reminders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.lots import (
    Expiring,
    ExpiryStep,
    Lot,
    Take,
    add_months,
    allocate,
    expiring_within,
    expiry_steps,
    first_of,
    lot_expiry,
    lots_after,
    next_expiry_due,
    rolling_expiry,
    spending_order,
)
from domain.points import ExpiryPolicy

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
EARNED = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def lot(
    id: int,
    remaining: int,
    expires_at: datetime | None,
    earned_at: datetime = EARNED,
) -> Lot:
    return Lot(id=id, remaining=remaining, earned_at=earned_at, expires_at=expires_at)


def apply(lots: list[Lot], takes: list[Take]) -> list[Lot]:
    taken = {take.lot_id: take.amount for take in takes}
    return [
        Lot(each.id, each.remaining - taken.get(each.id, 0), each.earned_at, each.expires_at)
        for each in lots
    ]


def ids(lots: list[Lot]) -> list[int]:
    return [each.id for each in lots]


# ---- add_months ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "months", "expected"),
    [
        (at(2023, 1, 31), 1, at(2023, 2, 28)),
        (at(2024, 1, 31), 1, at(2024, 2, 29)),
        (at(2024, 3, 31), 1, at(2024, 4, 30)),
        (at(2024, 1, 15), 0, at(2024, 1, 15)),
        (at(2023, 12, 15), 1, at(2024, 1, 15)),
        (at(2023, 11, 30), 3, at(2024, 2, 29)),
        (at(2024, 2, 29), 12, at(2025, 2, 28)),
        (at(2024, 6, 1), 120, at(2034, 6, 1)),
        (at(2024, 3, 31), -1, at(2024, 2, 29)),
        (at(2024, 1, 15), -1, at(2023, 12, 15)),
        (at(2024, 1, 31), -13, at(2022, 12, 31)),
        (at(2025, 3, 31), -1, at(2025, 2, 28)),
    ],
)
def test_add_months_counts_calendar_months_and_clamps_the_day(moment, months, expected):
    # given / when
    result = add_months(moment, months)
    # then
    assert result == expected


def test_add_months_keeps_the_time_of_day_and_the_timezone():
    # given
    moment = datetime(2023, 1, 31, 23, 59, 58, 123_456, tzinfo=UTC)
    # when
    result = add_months(moment, 1)
    # then
    assert result == datetime(2023, 2, 28, 23, 59, 58, 123_456, tzinfo=UTC)
    assert result.tzinfo is UTC


# ---- lot_expiry / rolling_expiry -----------------------------------------------------------


def test_a_lot_expires_n_months_after_it_was_earned_under_the_lots_policy():
    # given / when
    expires = lot_expiry(at(2024, 1, 31, 9, 30), ExpiryPolicy.LOTS, 12)
    # then
    assert expires == at(2025, 1, 31, 9, 30)


def test_a_lot_has_no_expiry_of_its_own_under_the_rolling_policy():
    # given / when
    expires = lot_expiry(at(2024, 1, 31), ExpiryPolicy.ROLLING_ACTIVITY, 12)
    # then
    assert expires is None


def test_the_rolling_expiry_is_n_months_after_the_last_earning():
    # given / when
    expires = rolling_expiry(at(2024, 2, 29, 8), 12)
    # then
    assert expires == at(2025, 2, 28, 8)


def test_without_any_earning_there_is_no_rolling_expiry():
    # given / when / then
    assert rolling_expiry(None, 12) is None


# ---- spending_order / allocate -------------------------------------------------------------


def test_lots_are_spent_soonest_expiring_first_and_never_expiring_last():
    # given
    march = lot(1, 10, at(2025, 3, 1))
    forever = lot(2, 10, None)
    february = lot(3, 10, at(2025, 2, 1))
    empty_january = lot(4, 0, at(2025, 1, 1))
    # when
    ordered = spending_order([march, forever, february, empty_january])
    # then the empty lot is skipped
    assert ids(ordered) == [3, 1, 2]


def test_among_equal_expiries_the_oldest_lot_is_spent_first():
    # given
    newer = lot(1, 10, at(2025, 3, 1), earned_at=at(2024, 3, 2))
    older = lot(2, 10, at(2025, 3, 1), earned_at=at(2024, 3, 1))
    newer_forever = lot(3, 10, None, earned_at=at(2024, 5, 1))
    older_forever = lot(4, 10, None, earned_at=at(2024, 4, 1))
    # when
    ordered = spending_order([newer_forever, newer, older_forever, older])
    # then
    assert ids(ordered) == [2, 1, 4, 3]


def lots_to_spend() -> list[Lot]:
    return [
        lot(1, 50, at(2025, 3, 1)),
        lot(2, 30, None),
        lot(3, 100, at(2025, 2, 1)),
        lot(4, 0, at(2025, 1, 1)),
    ]


def test_allocate_drains_the_soonest_expiring_lot_first():
    # given 180 points in three lots
    lots = lots_to_spend()
    # when
    takes, unpaid = allocate(lots, 120)
    # then
    assert takes == [Take(3, 100), Take(1, 20)]
    assert unpaid == 0


def test_allocate_reports_what_the_lots_do_not_cover():
    # given 180 points in three lots
    lots = lots_to_spend()
    # when
    takes, unpaid = allocate(lots, 200)
    # then
    assert takes == [Take(3, 100), Take(1, 50), Take(2, 30)]
    assert unpaid == 20


def test_allocating_nothing_takes_nothing():
    # given / when
    takes, unpaid = allocate(lots_to_spend(), 0)
    # then
    assert (takes, unpaid) == ([], 0)


def test_allocate_from_no_lots_leaves_everything_unpaid():
    # given / when
    takes, unpaid = allocate([], 75)
    # then
    assert (takes, unpaid) == ([], 75)


def test_a_named_first_lot_is_drawn_on_before_the_usual_order():
    # given the never-expiring lot named first
    lots = lots_to_spend()
    # when
    takes, unpaid = allocate(lots, 40, first=2)
    # then
    assert takes == [Take(2, 30), Take(3, 10)]
    assert unpaid == 0


def test_a_named_first_lot_that_is_empty_is_passed_over():
    # given
    lots = lots_to_spend()
    # when
    takes, unpaid = allocate(lots, 40, first=4)
    # then
    assert takes == [Take(3, 40)]
    assert unpaid == 0


some_moments = st.one_of(
    st.none(),
    st.integers(min_value=0, max_value=3 * 365 * 24).map(
        lambda hours: at(2024, 1, 1) + timedelta(hours=hours)
    ),
)


@st.composite
def lot_lists(draw: st.DrawFn) -> list[Lot]:
    count = draw(st.integers(min_value=0, max_value=8))
    return [
        lot(
            n + 1,
            draw(st.integers(min_value=0, max_value=1_000)),
            draw(some_moments),
            earned_at=at(2023, 1, 1) + timedelta(days=draw(st.integers(0, 365))),
        )
        for n in range(count)
    ]


@given(
    lots=lot_lists(),
    amount=st.integers(min_value=0, max_value=5_000),
    first=st.one_of(st.none(), st.integers(min_value=1, max_value=9)),
)
def test_allocate_never_overdraws_a_lot_and_accounts_for_every_point(lots, amount, first):
    # given some lots and an amount to pay
    remaining = {each.id: each.remaining for each in lots}
    # when
    takes, unpaid = allocate(lots, amount, first=first)
    # then each lot is drawn on at most once, within what it holds, and nothing is lost
    assert len({take.lot_id for take in takes}) == len(takes)
    for take in takes:
        assert 0 < take.amount <= remaining[take.lot_id]
    assert sum(take.amount for take in takes) + unpaid == amount
    assert unpaid == max(0, amount - sum(remaining.values()))
    if first is not None and remaining.get(first, 0) > 0 and amount > 0:
        assert takes[0].lot_id == first


def test_first_of_cuts_the_leading_takes_at_the_limit():
    # given three takes of 5
    takes = [Take(1, 5), Take(2, 5), Take(3, 5)]
    # when / then the limit cuts through the second and drops the third
    assert first_of(takes, 7) == [Take(1, 5), Take(2, 2)]
    assert first_of(takes, 5) == [Take(1, 5)]
    assert first_of(takes, 20) == takes


@pytest.mark.parametrize("limit", [0, -3])
def test_first_of_nothing_or_less_keeps_nothing(limit):
    # given / when / then
    assert first_of([Take(1, 5)], limit) == []


# ---- expired -------------------------------------------------------------------------------


def lots_around_now() -> list[Lot]:
    return [
        lot(1, 10, NOW - timedelta(days=1)),
        lot(2, 20, NOW),
        lot(3, 30, NOW + timedelta(seconds=1)),
        lot(4, 40, None),
        lot(5, 0, NOW - timedelta(days=2)),
    ]


def expired(
    lots: list[Lot], now: datetime, *, policy: ExpiryPolicy, rolling_expires_at: datetime | None
) -> list[Take]:
    """Everything expiry takes by `now` when no hold reserves any of it, step after step."""
    steps = expiry_steps(
        lots, now, policy=policy, rolling_expires_at=rolling_expires_at, spendable=10**12
    )
    return [take for step in steps for take in step.takes]


def test_expiry_takes_the_remaining_of_lots_due_now_or_earlier_and_nothing_else():
    # given a lot due yesterday, one due this instant, one due in a second, one never, one empty
    lots = lots_around_now()
    # when
    takes = expired(lots, NOW, policy=ExpiryPolicy.LOTS, rolling_expires_at=None)
    # then
    assert takes == [Take(1, 10), Take(2, 20)]


def test_expiring_lots_twice_takes_nothing_the_second_time():
    # given the expiry job has run once and its takes were applied
    lots = lots_around_now()
    first_run = expired(lots, NOW, policy=ExpiryPolicy.LOTS, rolling_expires_at=None)
    after = apply(lots, first_run)
    # when it runs again at the same moment
    second_run = expired(after, NOW, policy=ExpiryPolicy.LOTS, rolling_expires_at=None)
    # then
    assert first_run != []
    assert second_run == []


def test_under_the_lots_policy_the_rolling_date_is_ignored():
    # given a rolling date long past, which only the rolling policy reads
    lots = [lot(1, 10, NOW + timedelta(days=30))]
    # when
    takes = expired(
        lots, NOW, policy=ExpiryPolicy.LOTS, rolling_expires_at=NOW - timedelta(days=365)
    )
    # then
    assert takes == []


def test_rolling_expiry_takes_nothing_before_the_rolling_date():
    # given
    lots = [lot(1, 10, None), lot(2, 20, None)]
    # when
    takes = expired(
        lots,
        NOW,
        policy=ExpiryPolicy.ROLLING_ACTIVITY,
        rolling_expires_at=NOW + timedelta(seconds=1),
    )
    # then
    assert takes == []


def test_rolling_expiry_with_no_rolling_date_takes_nothing():
    # given
    lots = [lot(1, 10, None)]
    # when
    takes = expired(lots, NOW, policy=ExpiryPolicy.ROLLING_ACTIVITY, rolling_expires_at=None)
    # then
    assert takes == []


@pytest.mark.parametrize("rolling_expires_at", [NOW, NOW - timedelta(days=3)])
def test_rolling_expiry_takes_every_lot_once_the_rolling_date_is_reached(rolling_expires_at):
    # given
    lots = [lot(1, 10, None, earned_at=at(2024, 5, 1)), lot(2, 0, None), lot(3, 20, None)]
    # when
    takes = expired(
        lots, NOW, policy=ExpiryPolicy.ROLLING_ACTIVITY, rolling_expires_at=rolling_expires_at
    )
    # then
    assert sorted(takes, key=lambda take: take.lot_id) == [Take(1, 10), Take(3, 20)]


def test_rolling_expiry_run_twice_takes_nothing_the_second_time():
    # given
    lots = [lot(1, 10, None), lot(2, 20, None)]
    first_run = expired(lots, NOW, policy=ExpiryPolicy.ROLLING_ACTIVITY, rolling_expires_at=NOW)
    after = apply(lots, first_run)
    # when
    second_run = expired(after, NOW, policy=ExpiryPolicy.ROLLING_ACTIVITY, rolling_expires_at=NOW)
    # then
    assert sum(take.amount for take in first_run) == 30
    assert second_run == []


@given(lots=lot_lists(), hours=st.integers(min_value=0, max_value=3 * 365 * 24))
def test_expiry_takes_exactly_what_is_due_and_is_idempotent(lots, hours):
    # given lots and any moment
    now = at(2024, 1, 1) + timedelta(hours=hours)
    due = {
        each.id: each.remaining
        for each in lots
        if each.remaining > 0 and each.expires_at is not None and each.expires_at <= now
    }
    # when
    takes = expired(lots, now, policy=ExpiryPolicy.LOTS, rolling_expires_at=None)
    again = expired(apply(lots, takes), now, policy=ExpiryPolicy.LOTS, rolling_expires_at=None)
    # then
    assert {take.lot_id: take.amount for take in takes} == due
    assert len(takes) == len(due)
    assert again == []


# ---- expiring_within -----------------------------------------------------------------------


def test_expiring_within_groups_by_expiry_soonest_first_up_to_the_horizon():
    # given lots due within 30 days, one exactly at the horizon, and some that are not
    june_10 = at(2025, 6, 10, 12)
    lots = [
        lot(1, 7, at(2025, 6, 20, 12)),
        lot(2, 10, june_10),
        lot(3, 5, june_10),
        lot(4, 3, NOW + timedelta(days=30)),
        lot(5, 100, NOW + timedelta(days=30, seconds=1)),
        lot(6, 50, None),
        lot(7, 0, at(2025, 6, 15, 12)),
    ]
    # when
    expiring = expiring_within(lots, NOW, 30, policy=ExpiryPolicy.LOTS, rolling_expires_at=None)
    # then
    assert expiring == [
        Expiring(15, june_10),
        Expiring(7, at(2025, 6, 20, 12)),
        Expiring(3, NOW + timedelta(days=30)),
    ]


def test_nothing_expiring_within_the_window_gives_an_empty_list():
    # given
    lots = [lot(1, 10, NOW + timedelta(days=31)), lot(2, 5, None)]
    # when
    expiring = expiring_within(lots, NOW, 30, policy=ExpiryPolicy.LOTS, rolling_expires_at=None)
    # then
    assert expiring == []


def test_rolling_policy_reports_the_whole_balance_on_the_rolling_date():
    # given
    rolling_at = NOW + timedelta(days=10)
    lots = [lot(1, 10, None), lot(2, 0, None), lot(3, 25, None)]
    # when
    expiring = expiring_within(
        lots, NOW, 30, policy=ExpiryPolicy.ROLLING_ACTIVITY, rolling_expires_at=rolling_at
    )
    # then
    assert expiring == [Expiring(35, rolling_at)]


@pytest.mark.parametrize(
    ("rolling_expires_at", "lots"),
    [
        (NOW + timedelta(days=30, seconds=1), [lot(1, 10, None)]),
        (None, [lot(1, 10, None)]),
        (NOW + timedelta(days=10), [lot(1, 0, None)]),
        (NOW + timedelta(days=10), []),
    ],
)
def test_rolling_policy_reports_nothing_past_the_horizon_or_for_an_empty_balance(
    rolling_expires_at, lots
):
    # given / when
    expiring = expiring_within(
        lots,
        NOW,
        30,
        policy=ExpiryPolicy.ROLLING_ACTIVITY,
        rolling_expires_at=rolling_expires_at,
    )
    # then
    assert expiring == []


def test_a_rolling_expiry_exactly_at_the_horizon_is_reminded_of():
    # given a rolling balance due exactly 30 days from now
    due = NOW + timedelta(days=30)
    # when the member asks what expires within 30 days
    expiring = expiring_within(
        [lot(1, 40, None)], NOW, 30, policy=ExpiryPolicy.ROLLING_ACTIVITY, rolling_expires_at=due
    )
    # then
    assert expiring == [Expiring(40, due)]


@pytest.mark.parametrize("policy", list(ExpiryPolicy))
def test_a_balance_of_one_point_is_reminded_of(policy):
    # given a single point due in three days, as a lot or as the rolling balance
    due = NOW + timedelta(days=3)
    # when
    expiring = expiring_within(
        [lot(1, 1, due if policy is ExpiryPolicy.LOTS else None)],
        NOW,
        30,
        policy=policy,
        rolling_expires_at=due if policy is ExpiryPolicy.ROLLING_ACTIVITY else None,
    )
    # then
    assert expiring == [Expiring(1, due)]


# ---- the programme's calendar (issue 22.7) -----------------------------------------------


SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("local", "expected_local"),
    [
        (
            datetime(2027, 1, 31, 7, 0, tzinfo=SHANGHAI),
            datetime(2027, 2, 28, 7, 0, tzinfo=SHANGHAI),
        ),
        (
            datetime(2027, 1, 31, 9, 0, tzinfo=SHANGHAI),
            datetime(2027, 2, 28, 9, 0, tzinfo=SHANGHAI),
        ),
        (
            datetime(2027, 3, 1, 0, 30, tzinfo=SHANGHAI),
            datetime(2027, 4, 1, 0, 30, tzinfo=SHANGHAI),
        ),
    ],
)
def test_months_are_counted_on_the_programmes_local_calendar(local, expected_local):
    # given a moment stored in UTC
    moment = local.astimezone(UTC)
    # when a month is added in Shanghai's calendar
    later = add_months(moment, 1, SHANGHAI)
    # then it is the same local time a calendar month on, still given in UTC
    assert later == expected_local
    assert later.tzinfo is UTC


def test_in_utc_the_same_earnings_would_expire_out_of_order():
    # given the two Shanghai earnings of 31 January, 07:00 and 09:00 local
    early = datetime(2027, 1, 31, 7, 0, tzinfo=SHANGHAI).astimezone(UTC)
    late = datetime(2027, 1, 31, 9, 0, tzinfo=SHANGHAI).astimezone(UTC)
    # then counted in UTC the earlier one expires later (the defect), in Shanghai it does not
    assert add_months(early, 1) > add_months(late, 1)
    assert add_months(early, 1, SHANGHAI) < add_months(late, 1, SHANGHAI)


def test_local_month_arithmetic_keeps_the_wall_clock_across_a_daylight_saving_change():
    # given 10:00 in New York before daylight saving time starts (8 March 2027)
    new_york = ZoneInfo("America/New_York")
    moment = datetime(2027, 2, 15, 10, 0, tzinfo=new_york).astimezone(UTC)
    # when a month is added on New York's calendar
    later = add_months(moment, 1, new_york)
    # then it is 10:00 there again, an hour less apart in UTC
    assert later.astimezone(new_york) == datetime(2027, 3, 15, 10, 0, tzinfo=new_york)
    assert later - moment == timedelta(days=28, hours=-1)


def test_lot_and_rolling_expiry_use_the_time_zone_they_are_given():
    earned = datetime(2027, 1, 31, 7, 0, tzinfo=SHANGHAI).astimezone(UTC)
    expected = datetime(2027, 2, 28, 7, 0, tzinfo=SHANGHAI)
    assert lot_expiry(earned, ExpiryPolicy.LOTS, 1, SHANGHAI) == expected
    assert rolling_expiry(earned, 1, SHANGHAI) == expected


# ---- expiry steps: what is due, dated when it fell due (issue 22.3, 22.4) -----------------


def test_expiry_steps_take_each_due_moment_in_turn_dated_when_due():
    # given two lots due at different moments and one not yet due
    lots = [lot(1, 30, at(2025, 5, 1)), lot(2, 20, at(2025, 3, 1)), lot(3, 50, at(2025, 7, 1))]
    # when
    steps = expiry_steps(
        lots, NOW, policy=ExpiryPolicy.LOTS, rolling_expires_at=None, spendable=100
    )
    # then the earlier first, each dated when it fell due, the later lot left alone
    assert steps == [
        ExpiryStep(at(2025, 3, 1), [Take(2, 20)]),
        ExpiryStep(at(2025, 5, 1), [Take(1, 30)]),
    ]
    assert [step.amount for step in steps] == [20, 30]


def test_expiry_steps_group_lots_due_at_the_same_moment():
    lots = [lot(1, 30, at(2025, 5, 1)), lot(2, 20, at(2025, 5, 1))]
    steps = expiry_steps(
        lots, NOW, policy=ExpiryPolicy.LOTS, rolling_expires_at=None, spendable=100
    )
    assert steps == [ExpiryStep(at(2025, 5, 1), [Take(1, 30), Take(2, 20)])]


def test_expiry_steps_stop_at_what_holds_leave_spendable():
    # given 50 due points of which holds reserve all but 25
    lots = [lot(1, 20, at(2025, 3, 1)), lot(2, 30, at(2025, 5, 1))]
    # when
    steps = expiry_steps(lots, NOW, policy=ExpiryPolicy.LOTS, rolling_expires_at=None, spendable=25)
    # then the soonest-due 25 go, the rest wait for the hold
    assert steps == [
        ExpiryStep(at(2025, 3, 1), [Take(1, 20)]),
        ExpiryStep(at(2025, 5, 1), [Take(2, 5)]),
    ]
    assert (
        expiry_steps(lots, NOW, policy=ExpiryPolicy.LOTS, rolling_expires_at=None, spendable=0)
        == []
    )


def test_expiry_steps_include_a_lot_due_exactly_at_until():
    lots = [lot(1, 10, NOW)]
    steps = expiry_steps(lots, NOW, policy=ExpiryPolicy.LOTS, rolling_expires_at=None, spendable=10)
    assert steps == [ExpiryStep(NOW, [Take(1, 10)])]
    later = NOW + timedelta(microseconds=1)
    assert (
        expiry_steps(
            [lot(1, 10, later)],
            NOW,
            policy=ExpiryPolicy.LOTS,
            rolling_expires_at=None,
            spendable=10,
        )
        == []
    )


def test_rolling_expiry_steps_take_the_whole_balance_at_the_rolling_date():
    lots = [lot(1, 10, None), lot(2, 5, None)]
    rolling = at(2025, 4, 1)
    steps = expiry_steps(
        lots, NOW, policy=ExpiryPolicy.ROLLING_ACTIVITY, rolling_expires_at=rolling, spendable=15
    )
    assert steps == [ExpiryStep(rolling, [Take(1, 10), Take(2, 5)])]
    not_yet = expiry_steps(
        lots,
        NOW,
        policy=ExpiryPolicy.ROLLING_ACTIVITY,
        rolling_expires_at=NOW + timedelta(seconds=1),
        spendable=15,
    )
    assert not_yet == []
    assert (
        expiry_steps(
            lots, NOW, policy=ExpiryPolicy.ROLLING_ACTIVITY, rolling_expires_at=None, spendable=15
        )
        == []
    )


def test_the_next_expiry_due_is_the_earliest_moment_any_point_can_expire():
    lots = [lot(1, 10, at(2025, 9, 1)), lot(2, 0, at(2025, 1, 1)), lot(3, 5, at(2025, 8, 1))]
    assert next_expiry_due(lots, policy=ExpiryPolicy.LOTS, rolling_expires_at=None) == at(
        2025, 8, 1
    )
    rolling = at(2026, 1, 1)
    assert (
        next_expiry_due(lots, policy=ExpiryPolicy.ROLLING_ACTIVITY, rolling_expires_at=rolling)
        == rolling
    )
    assert (
        next_expiry_due(
            [lot(2, 0, at(2025, 1, 1))], policy=ExpiryPolicy.LOTS, rolling_expires_at=None
        )
        is None
    )
    assert (
        next_expiry_due(
            [lot(1, 5, None)], policy=ExpiryPolicy.ROLLING_ACTIVITY, rolling_expires_at=None
        )
        is None
    )


def test_a_single_point_left_has_an_expiry_due():
    # given a lot with one point left
    due = at(2025, 8, 1)
    # when / then
    assert (
        next_expiry_due([lot(1, 1, due)], policy=ExpiryPolicy.LOTS, rolling_expires_at=None) == due
    )


def test_points_already_due_are_not_reported_as_expiring():
    lots = [lot(1, 10, NOW - timedelta(days=1)), lot(2, 5, NOW + timedelta(days=3)), lot(3, 7, NOW)]
    soon = expiring_within(lots, NOW, 30, policy=ExpiryPolicy.LOTS, rolling_expires_at=None)
    assert soon == [Expiring(5, NOW + timedelta(days=3))]
    rolling_past = expiring_within(
        lots, NOW, 30, policy=ExpiryPolicy.ROLLING_ACTIVITY, rolling_expires_at=NOW
    )
    assert rolling_past == []


def test_lots_after_takes_subtracts_each_lots_takes_and_keeps_every_lot_in_place():
    at = datetime(2026, 1, 1, tzinfo=UTC)
    lots = [Lot(1, 10, at, None), Lot(2, 5, at, at), Lot(3, 7, at, None)]
    # two takes from lot 1, one emptying lot 2, none from lot 3
    after = lots_after(lots, [Take(1, 3), Take(2, 5), Take(1, 4)])
    assert after == [Lot(1, 3, at, None), Lot(2, 0, at, at), Lot(3, 7, at, None)]
    assert lots_after(lots, []) == lots
