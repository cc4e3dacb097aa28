"""Campaign evaluation without a database (issue 19): schedules, audiences, conditions,
effects, limits, stacking and what an admin may not say."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.campaigns import (
    Audience,
    Campaign,
    CampaignStatus,
    CapPeriod,
    Channel,
    Conditions,
    Contribution,
    Effects,
    Judging,
    Limits,
    MemberFacts,
    NotApplied,
    OrderFact,
    OtherFact,
    Schedule,
    Stacking,
    Trigger,
    Usage,
    evaluate,
    in_schedule,
    may_apply,
    period_bounds,
    validate_campaign,
)
from domain.errors import Collector
from domain.points import BASIS, LinePoints, OrderLine, OrderPoints, Payment, PaymentMethod

SHANGHAI = "Asia/Shanghai"
BERLIN = "Europe/Berlin"
# Monday 2027-03-08, 12:00 in Shanghai: the member day of March
AT = datetime(2027, 3, 8, 4, 0, tzinfo=UTC)
MARCH = Schedule(datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 4, 1, tzinfo=UTC))


def make_campaign(id: int = 1, **overrides: object) -> Campaign:
    fields: dict[str, object] = {
        "id": id,
        "code": f"C{id}",
        "name": f"Campaign {id}",
        "status": CampaignStatus.ACTIVE,
        "trigger": Trigger.ORDER,
        "schedule": MARCH,
        "effects": Effects(multiplier=2 * BASIS),
    }
    fields.update(overrides)
    return Campaign(**fields)  # type: ignore[arg-type]


def make_member(**overrides: object) -> MemberFacts:
    fields: dict[str, object] = {
        "tier_code": "GOLD",
        "segment": "ACTIVE",
        "joined_at": AT - timedelta(days=400),
        "birthday_month": 7,
        "orders_before": 3,
    }
    fields.update(overrides)
    return MemberFacts(**fields)  # type: ignore[arg-type]


# (sku, category, unit price, quantity, the line's base points)
Line = tuple[str, str, int, int, int]
ORDER: tuple[Line, ...] = (
    ("TV-1", "appliances", 300_00, 1, 300),
    ("SOAP", "household", 10_00, 3, 31),
)


def make_order(
    lines: tuple[Line, ...] = ORDER,
    *,
    channel: Channel = Channel.ONLINE,
    methods: tuple[PaymentMethod, ...] = (PaymentMethod.CARD,),
) -> OrderFact:
    order_lines = tuple(OrderLine(sku, cat, price, qty, False) for sku, cat, price, qty, _ in lines)
    amount = sum(line.amount for line in order_lines)
    earned = tuple(
        LinePoints(sku, qty, price * qty, points, ()) for sku, _, price, qty, points in lines
    )
    total = sum(line.points for line in earned)
    payments = tuple(Payment(m, amount // len(methods)) for m in methods)
    return OrderFact(order_lines, payments, channel, OrderPoints(earned, total, amount))


def judge(
    *campaigns: Campaign,
    fact: OrderFact | OtherFact | None = None,
    at: datetime = AT,
    member: MemberFacts | None = None,
    usage: dict[int, Usage] | None = None,
    exhausted: frozenset[int] = frozenset(),
    timezone: str = SHANGHAI,
):
    return evaluate(
        campaigns,
        Judging(
            fact=fact or make_order(),
            at=at,
            timezone=timezone,
            member=member or make_member(),
            usage=usage or {},
            exhausted=exhausted,
        ),
    )


def reason(result, campaign_id: int = 1) -> NotApplied | None:
    return next((s.reason for s in result.skipped if s.campaign_id == campaign_id), None)


def shares(contribution: Contribution) -> dict[str, int]:
    return {line.sku: line.points for line in contribution.lines}


# ---- schedule -----------------------------------------------------------------------------


def test_the_window_includes_its_start_and_excludes_its_end():
    assert in_schedule(MARCH, MARCH.starts_at, SHANGHAI)
    assert not in_schedule(MARCH, MARCH.ends_at, SHANGHAI)
    assert not in_schedule(MARCH, MARCH.starts_at - timedelta(microseconds=1), SHANGHAI)


def test_the_member_day_is_the_8th_in_the_programme_time_zone():
    # given a member day on the 8th, judged in Shanghai (UTC+8)
    member_day = replace(MARCH, month_days=frozenset({8}))
    # then 00:30 on the 8th in Shanghai (still the 7th in UTC) is in, 00:00 on the 9th is out
    assert in_schedule(member_day, datetime(2027, 3, 7, 16, 30, tzinfo=UTC), SHANGHAI)
    assert not in_schedule(member_day, datetime(2027, 3, 8, 16, 0, tzinfo=UTC), SHANGHAI)
    # and in UTC the same first instant is still the 7th
    assert not in_schedule(member_day, datetime(2027, 3, 7, 16, 30, tzinfo=UTC), "UTC")


def test_weekends_are_saturdays_and_sundays_local():
    weekends = replace(MARCH, weekdays=frozenset({6, 7}))
    saturday = datetime(2027, 3, 13, 2, 0, tzinfo=UTC)  # 10:00 Saturday in Shanghai
    friday_night_utc = datetime(2027, 3, 12, 17, 0, tzinfo=UTC)  # 01:00 Saturday in Shanghai
    monday = datetime(2027, 3, 15, 2, 0, tzinfo=UTC)
    assert in_schedule(weekends, saturday, SHANGHAI)
    assert in_schedule(weekends, friday_night_utc, SHANGHAI)
    assert not in_schedule(weekends, monday, SHANGHAI)


def test_recurrences_narrow_the_window_together():
    # given a weekday (Monday) and a day of the month (the 8th): both must hold
    both = replace(MARCH, weekdays=frozenset({1}), month_days=frozenset({8}))
    assert in_schedule(both, AT, SHANGHAI)  # Monday the 8th
    assert not in_schedule(both, AT + timedelta(days=7), SHANGHAI)  # Monday the 15th
    dates = replace(MARCH, dates=frozenset({date(2027, 3, 9)}))
    assert in_schedule(dates, AT + timedelta(days=1), SHANGHAI)
    assert not in_schedule(dates, AT, SHANGHAI)


# ---- cap periods --------------------------------------------------------------------------


def test_a_day_of_spring_forward_in_berlin_lasts_23_hours():
    start, end = period_bounds(CapPeriod.DAY, datetime(2027, 3, 28, 12, tzinfo=UTC), BERLIN)
    assert start == datetime(2027, 3, 27, 23, tzinfo=UTC)
    assert end == datetime(2027, 3, 28, 22, tzinfo=UTC)


def test_a_day_of_fall_back_in_berlin_lasts_25_hours():
    start, end = period_bounds(CapPeriod.DAY, datetime(2027, 10, 31, 12, tzinfo=UTC), BERLIN)
    assert (start, end) == (
        datetime(2027, 10, 30, 22, tzinfo=UTC),
        datetime(2027, 10, 31, 23, tzinfo=UTC),
    )


def test_a_week_runs_monday_to_sunday_across_a_dst_change():
    # Sunday 2027-03-28 in Berlin: the week began on Monday the 22nd (CET) and ends on
    # Monday the 29th (CEST)
    start, end = period_bounds(CapPeriod.WEEK, datetime(2027, 3, 28, 21, 59, tzinfo=UTC), BERLIN)
    assert (start, end) == (
        datetime(2027, 3, 21, 23, tzinfo=UTC),
        datetime(2027, 3, 28, 22, tzinfo=UTC),
    )


def test_a_month_is_the_local_month():
    # 01:00 on 1 March in Shanghai is still February in UTC
    start, end = period_bounds(CapPeriod.MONTH, datetime(2027, 2, 28, 17, tzinfo=UTC), SHANGHAI)
    assert (start, end) == (
        datetime(2027, 2, 28, 16, tzinfo=UTC),
        datetime(2027, 3, 31, 16, tzinfo=UTC),
    )
    december = period_bounds(CapPeriod.MONTH, datetime(2027, 12, 15, tzinfo=UTC), SHANGHAI)
    assert december[1] == datetime(2027, 12, 31, 16, tzinfo=UTC)


def test_a_midnight_skipped_by_dst_starts_the_day_when_the_gap_begins():
    # Sao Paulo, 2018-11-04: clocks jumped from 00:00 to 01:00, so that day began at 03:00Z
    start, end = period_bounds(
        CapPeriod.DAY, datetime(2018, 11, 4, 15, tzinfo=UTC), "America/Sao_Paulo"
    )
    assert (start, end) == (
        datetime(2018, 11, 4, 3, tzinfo=UTC),
        datetime(2018, 11, 5, 2, tzinfo=UTC),
    )


@given(
    at=st.datetimes(
        min_value=datetime(2015, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
    ),
    period=st.sampled_from(CapPeriod),
    zone=st.sampled_from([BERLIN, SHANGHAI, "America/Sao_Paulo", "America/New_York", "UTC"]),
)
def test_a_period_contains_its_moment_and_the_next_one_starts_where_it_ends(at, period, zone):
    start, end = period_bounds(period, at, zone)
    assert start <= at < end
    assert period_bounds(period, end, zone)[0] == end
    assert period_bounds(period, start, zone) == (start, end)
    local = ZoneInfo(zone)
    assert (end - timedelta(microseconds=1)).astimezone(local).date() >= at.astimezone(local).date()


# ---- may_apply ----------------------------------------------------------------------------


def test_may_apply_only_for_an_active_campaign_of_the_trigger_in_its_schedule():
    assert may_apply([make_campaign()], Trigger.ORDER, AT, SHANGHAI)
    assert not may_apply([make_campaign(status=CampaignStatus.PAUSED)], Trigger.ORDER, AT, SHANGHAI)
    assert not may_apply([make_campaign()], Trigger.CHECK_IN, AT, SHANGHAI)
    assert not may_apply([make_campaign()], Trigger.ORDER, MARCH.ends_at, SHANGHAI)
    assert not may_apply([], Trigger.ORDER, AT, SHANGHAI)


# ---- evaluate: which campaigns are judged -------------------------------------------------


def test_inactive_campaigns_and_other_triggers_are_not_listed():
    # given a draft, a paused, an ended and a check-in campaign besides an active order one
    result = judge(
        make_campaign(1),
        make_campaign(2, status=CampaignStatus.DRAFT),
        make_campaign(3, status=CampaignStatus.PAUSED),
        make_campaign(4, status=CampaignStatus.ENDED),
        make_campaign(5, trigger=Trigger.CHECK_IN),
    )
    # then only the active order campaign appears
    assert [c.campaign_id for c in result.applied] == [1]
    assert result.skipped == ()


def test_outside_the_schedule():
    result = judge(make_campaign(schedule=replace(MARCH, weekdays=frozenset({6, 7}))))
    assert result.applied == ()
    assert reason(result) is NotApplied.OUTSIDE_SCHEDULE


# ---- effects ------------------------------------------------------------------------------


def test_double_points_add_each_line_s_base_points():
    # when a 2x campaign applies to an order of 300 + 31 base points
    [c] = judge(make_campaign()).applied
    # then it adds 300 + 31, line by line
    assert shares(c) == {"TV-1": 300, "SOAP": 31}
    assert c.points == 331
    assert c.capped is False


def test_a_multiplier_part_is_rounded_down_per_line():
    # 1.5x of 31 base points adds 15.5 -> 15
    [c] = judge(make_campaign(effects=Effects(multiplier=15_000))).applied
    assert shares(c) == {"TV-1": 150, "SOAP": 15}


def test_a_category_boost_rewards_eligible_lines_only():
    # appliances x3 and +20 points per appliance
    boost = make_campaign(
        conditions=Conditions(categories=frozenset({"appliances"})),
        effects=Effects(multiplier=3 * BASIS, bonus_per_item=20),
    )
    [c] = judge(boost).applied
    assert shares(c) == {"TV-1": 600 + 20}


def test_skus_and_categories_are_either_or():
    either = make_campaign(
        conditions=Conditions(categories=frozenset({"appliances"}), skus=frozenset({"SOAP"})),
        effects=Effects(bonus_per_item=10),
    )
    [c] = judge(either).applied
    assert shares(c) == {"TV-1": 10, "SOAP": 30}


def test_a_bonus_per_order_is_spread_by_amount_largest_remainder():
    # given three equal lines and a bonus of 10: 3.33 each, the remainder to the earlier line
    equal = tuple((f"S{n}", "x", 100, 1, 0) for n in range(3))
    bonus = make_campaign(effects=Effects(bonus_per_order=10))
    [c] = judge(bonus, fact=make_order(equal)).applied
    assert [line.points for line in c.lines] == [4, 3, 3]
    # and by amount otherwise: 300 yuan and 30 yuan share 100 points as 90.9 / 9.1
    [c] = judge(make_campaign(effects=Effects(bonus_per_order=100))).applied
    assert shares(c) == {"TV-1": 91, "SOAP": 9}


def test_free_lines_share_a_bonus_equally():
    free = (("GIFT-A", "x", 0, 1, 0), ("GIFT-B", "x", 0, 1, 0))
    [c] = judge(make_campaign(effects=Effects(bonus_per_order=7)), fact=make_order(free)).applied
    assert shares(c) == {"GIFT-A": 4, "GIFT-B": 3}


def test_a_coupon_effect_is_named_on_the_contribution():
    coupon = make_campaign(effects=Effects(bonus_per_order=5, coupon_template="OVER299"))
    [c] = judge(coupon).applied
    assert c.coupon_template == "OVER299"


def test_a_coupon_only_campaign_applies_with_no_points():
    [c] = judge(make_campaign(effects=Effects(coupon_template="OVER299"))).applied
    assert (c.points, c.lines, c.coupon_template) == (0, (), "OVER299")


def test_worth_nothing_is_nothing_to_add():
    # 2x of lines that earned no base points
    nothing = make_order((("FREE", "x", 100, 1, 0),))
    assert reason(judge(make_campaign(), fact=nothing)) is NotApplied.NOTHING_TO_ADD


def test_other_triggers_multiply_the_fact_s_points_and_add_the_bonus():
    # given a check-in worth 10 points and a 3x +5 check-in campaign with an order condition
    # and a per-item bonus (the admin layer refuses both; evaluation ignores them)
    checkin = make_campaign(
        trigger=Trigger.CHECK_IN,
        conditions=Conditions(min_spend=1_000_000),
        effects=Effects(multiplier=3 * BASIS, bonus_per_order=5, bonus_per_item=99),
    )
    [c] = judge(checkin, fact=OtherFact(Trigger.CHECK_IN, 10)).applied
    assert (c.points, c.lines) == (25, ())
    # and a review sees none of it
    assert judge(checkin, fact=OtherFact(Trigger.REVIEW, 10)) == judge(
        fact=OtherFact(Trigger.REVIEW, 10)
    )


# ---- audience -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("audience", "member", "applies"),
    [
        (Audience(tiers=frozenset({"GOLD", "PLATINUM"})), {}, True),
        (Audience(tiers=frozenset({"PLATINUM"})), {}, False),
        (Audience(tiers=frozenset({"GOLD"})), {"tier_code": None}, False),
        (Audience(segments=frozenset({"NEW", "ACTIVE"})), {}, True),
        (Audience(segments=frozenset({"AT_RISK"})), {}, False),
        (Audience(segments=frozenset({"AT_RISK"})), {"segment": None}, False),
        (Audience(joined_within_days=30), {"joined_at": AT - timedelta(days=30)}, True),
        (Audience(joined_within_days=30), {"joined_at": AT - timedelta(days=30, seconds=1)}, False),
        (Audience(nth_order=1), {"orders_before": 0}, True),
        (Audience(nth_order=1), {"orders_before": 1}, False),
        (Audience(nth_order=3), {"orders_before": 2}, True),
        (Audience(birthday_month=True), {"birthday_month": 3}, True),
        (Audience(birthday_month=True), {"birthday_month": 4}, False),
        (Audience(birthday_month=True), {"birthday_month": None}, False),
        (Audience(tiers=frozenset({"GOLD"}), nth_order=1), {"orders_before": 0}, True),
        (
            Audience(tiers=frozenset({"GOLD"}), nth_order=1),
            {"tier_code": "SILVER", "orders_before": 0},
            False,
        ),
    ],
)
def test_every_audience_criterion_must_hold(audience, member, applies):
    result = judge(make_campaign(audience=audience), member=make_member(**member))
    assert bool(result.applied) is applies
    assert reason(result) is (None if applies else NotApplied.NOT_IN_AUDIENCE)


def test_the_birthday_month_is_the_local_month():
    # 01:00 on 1 April in Shanghai is still March in UTC
    april_first = datetime(2027, 3, 31, 17, tzinfo=UTC)
    birthday = make_campaign(
        schedule=replace(MARCH, ends_at=datetime(2027, 5, 1, tzinfo=UTC)),
        audience=Audience(birthday_month=True),
    )
    assert judge(birthday, at=april_first, member=make_member(birthday_month=4)).applied
    assert not judge(birthday, at=april_first, member=make_member(birthday_month=3)).applied


# ---- conditions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("conditions", "order", "applies"),
    [
        (Conditions(min_spend=330_00), {}, True),  # the order is exactly 330 yuan
        (Conditions(min_spend=330_01), {}, False),
        # the eligible amount counts, not the order's
        (Conditions(min_spend=300_01, categories=frozenset({"appliances"})), {}, False),
        (Conditions(categories=frozenset({"toys"})), {}, False),
        (Conditions(skus=frozenset({"NOPE"})), {}, False),
        (Conditions(excluded_payment_methods=frozenset({PaymentMethod.GIFT_CARD})), {}, True),
        (
            Conditions(excluded_payment_methods=frozenset({PaymentMethod.GIFT_CARD})),
            {"methods": (PaymentMethod.CARD, PaymentMethod.GIFT_CARD)},
            False,
        ),
        (Conditions(channels=frozenset({Channel.OFFLINE})), {}, False),
        (Conditions(channels=frozenset({Channel.OFFLINE})), {"channel": Channel.OFFLINE}, True),
        (Conditions(channels=frozenset({Channel.OFFLINE, Channel.ONLINE})), {}, True),
    ],
)
def test_conditions_decide_whether_the_order_qualifies(conditions, order, applies):
    result = judge(make_campaign(conditions=conditions), fact=make_order(**order))
    assert bool(result.applied) is applies
    assert reason(result) is (None if applies else NotApplied.CONDITIONS_NOT_MET)


# ---- limits -------------------------------------------------------------------------------


def test_the_most_rewarded_orders_stops_the_campaign():
    first_three = make_campaign(limits=Limits(max_rewarded_orders=3))
    assert judge(first_three, usage={1: Usage(member_rewarded=2)}).applied
    result = judge(first_three, usage={1: Usage(member_rewarded=3)})
    assert reason(result) is NotApplied.ORDER_LIMIT_REACHED


def test_a_member_cap_clamps_and_spreads_the_rest_in_proportion():
    # given 331 points due and 100 left under the member's cap
    capped = make_campaign(limits=Limits(member_cap=500))
    [c] = judge(capped, usage={1: Usage(member_points=400)}).applied
    # then 100 points, split 300:31 -> 90.6 / 9.4 -> 91 / 9
    assert c.points == 100
    assert shares(c) == {"TV-1": 91, "SOAP": 9}
    assert c.capped is True


def test_the_tighter_of_the_two_caps_wins():
    both = make_campaign(
        limits=Limits(member_cap=1_000, member_period_cap=500, cap_period=CapPeriod.MONTH)
    )
    usage = Usage(member_points=800, member_period_points=450)
    [c] = judge(both, usage={1: usage}).applied
    assert c.points == 50
    [c] = judge(both, usage={1: replace(usage, member_points=990)}).applied
    assert c.points == 10


def test_a_cap_with_room_for_everything_does_not_cut():
    [c] = judge(make_campaign(limits=Limits(member_cap=331))).applied
    assert (c.points, c.capped) == (331, False)


def test_a_reached_cap_stops_points_but_not_the_coupon():
    capped = make_campaign(limits=Limits(member_period_cap=500, cap_period=CapPeriod.MONTH))
    full = {1: Usage(member_period_points=500)}
    assert reason(judge(capped, usage=full)) is NotApplied.MEMBER_CAP_REACHED
    with_coupon = replace(capped, effects=Effects(multiplier=2 * BASIS, coupon_template="THANKS"))
    [c] = judge(with_coupon, usage=full).applied
    assert (c.points, c.lines, c.coupon_template, c.capped) == (0, (), "THANKS", True)


def test_a_budget_takes_the_whole_contribution_or_nothing():
    budgeted = make_campaign(limits=Limits(budget=10_000))
    [c] = judge(budgeted, usage={1: Usage(budget_left=331)}).applied
    assert c.points == 331
    result = judge(budgeted, usage={1: Usage(budget_left=330)})
    assert result.applied == ()
    assert reason(result) is NotApplied.BUDGET_EXHAUSTED


def test_the_budget_is_judged_after_the_cap():
    # 331 due, cut to 100 by the cap, and 100 fit the budget
    both = make_campaign(limits=Limits(budget=10_000, member_cap=100))
    [c] = judge(both, usage={1: Usage(budget_left=100)}).applied
    assert c.points == 100


def test_an_empty_budget_ends_a_coupon_too():
    coupon = make_campaign(effects=Effects(coupon_template="OVER299"), limits=Limits(budget=10))
    assert reason(judge(coupon, usage={1: Usage(budget_left=0)})) is NotApplied.BUDGET_EXHAUSTED
    assert judge(coupon, usage={1: Usage(budget_left=1)}).applied


def test_a_campaign_found_exhausted_is_judged_without():
    result = judge(make_campaign(1), make_campaign(2), exhausted=frozenset({1}))
    assert [c.campaign_id for c in result.applied] == [2]
    assert reason(result, 1) is NotApplied.BUDGET_EXHAUSTED


# ---- stacking -----------------------------------------------------------------------------


def bonus(id: int, points: int, stacking: Stacking, **overrides: object) -> Campaign:
    return make_campaign(
        id, effects=Effects(bonus_per_order=points), stacking=stacking, **overrides
    )


EXCLUSIVE, STACKABLE = Stacking.EXCLUSIVE, Stacking.STACKABLE


def test_the_exclusive_one_wins_when_worth_more_than_all_stackables():
    result = judge(bonus(1, 100, EXCLUSIVE), bonus(2, 60, STACKABLE), bonus(3, 30, STACKABLE))
    assert [c.campaign_id for c in result.applied] == [1]
    assert {s.campaign_id: s.reason for s in result.skipped} == {
        2: NotApplied.OUTWEIGHED,
        3: NotApplied.OUTWEIGHED,
    }


def test_the_stackables_win_together_when_worth_more():
    result = judge(bonus(1, 80, EXCLUSIVE), bonus(2, 60, STACKABLE), bonus(3, 30, STACKABLE))
    assert [c.campaign_id for c in result.applied] == [2, 3]
    assert result.total == 90
    assert reason(result, 1) is NotApplied.OUTWEIGHED


def test_a_tie_goes_to_the_exclusive_one():
    result = judge(bonus(1, 90, EXCLUSIVE), bonus(2, 60, STACKABLE), bonus(3, 30, STACKABLE))
    assert [c.campaign_id for c in result.applied] == [1]


def test_at_most_one_exclusive_the_one_worth_most():
    result = judge(bonus(1, 50, EXCLUSIVE), bonus(2, 70, EXCLUSIVE, priority=-5))
    assert [c.campaign_id for c in result.applied] == [2]
    assert reason(result, 1) is NotApplied.OUTWEIGHED


def test_exclusive_ties_go_to_the_higher_priority_then_the_lower_id():
    by_priority = judge(bonus(1, 50, EXCLUSIVE), bonus(2, 50, EXCLUSIVE, priority=1))
    assert [c.campaign_id for c in by_priority.applied] == [2]
    by_id = judge(bonus(7, 50, EXCLUSIVE), bonus(3, 50, EXCLUSIVE))
    assert [c.campaign_id for c in by_id.applied] == [3]


def test_coupons_do_not_weigh_in_stacking():
    # an exclusive coupon worth 0 points loses to a stackable point
    coupon = make_campaign(1, effects=Effects(coupon_template="GIFT"), stacking=EXCLUSIVE)
    result = judge(coupon, bonus(2, 1, STACKABLE))
    assert [c.campaign_id for c in result.applied] == [2]
    # and with no stackable worth anything it applies alone
    assert [c.campaign_id for c in judge(coupon).applied] == [1]


def test_a_skipped_campaign_does_not_weigh_in_stacking():
    # the exclusive one is worth more but its budget is gone: the stackable one applies
    result = judge(
        bonus(1, 100, EXCLUSIVE, limits=Limits(budget=1_000)),
        bonus(2, 10, STACKABLE),
        usage={1: Usage(budget_left=50)},
    )
    assert [c.campaign_id for c in result.applied] == [2]
    assert reason(result, 1) is NotApplied.BUDGET_EXHAUSTED


def test_results_come_by_priority_then_id():
    result = judge(
        bonus(5, 10, STACKABLE),
        bonus(4, 10, STACKABLE, priority=10),
        bonus(3, 10, STACKABLE),
        bonus(9, 10, STACKABLE, schedule=replace(MARCH, weekdays=frozenset({7}))),
        bonus(8, 10, STACKABLE, priority=10, schedule=replace(MARCH, weekdays=frozenset({7}))),
    )
    assert [c.campaign_id for c in result.applied] == [4, 3, 5]
    assert [s.campaign_id for s in result.skipped] == [8, 9]


# ---- properties ---------------------------------------------------------------------------

lines_st = st.lists(
    st.tuples(
        st.sampled_from(["a", "b"]),
        st.integers(0, 50_000),
        st.integers(1, 5),
        st.integers(0, 5_000),
    ),
    min_size=1,
    max_size=6,
).map(
    lambda ls: tuple(
        (f"SKU{n}", cat, price, qty, pts) for n, (cat, price, qty, pts) in enumerate(ls)
    )
)

campaign_st = st.builds(
    lambda id, stacking, priority, multiplier, per_order, per_item, cap, period_cap, category, coupon: (
        make_campaign(
            id,
            stacking=stacking,
            priority=priority,
            conditions=Conditions(categories=frozenset(category)),
            effects=Effects(
                multiplier=multiplier,
                bonus_per_order=per_order,
                bonus_per_item=per_item,
                coupon_template=coupon,
            ),
            limits=Limits(
                member_cap=cap,
                member_period_cap=period_cap,
                cap_period=CapPeriod.DAY if period_cap else None,
            ),
        )
    ),
    id=st.integers(1, 1_000),
    stacking=st.sampled_from(Stacking),
    priority=st.integers(-2, 2),
    multiplier=st.integers(BASIS, 3 * BASIS),
    per_order=st.integers(0, 1_000),
    per_item=st.integers(0, 50),
    cap=st.none() | st.integers(1, 3_000),
    period_cap=st.none() | st.integers(1, 3_000),
    category=st.sets(st.sampled_from(["a", "b"]), max_size=1),
    coupon=st.none() | st.just("GIFT"),
)
campaigns_st = st.lists(campaign_st, max_size=6, unique_by=lambda c: c.id)
usage_st = st.builds(
    Usage,
    budget_left=st.none() | st.integers(0, 5_000),
    member_points=st.integers(0, 3_000),
    member_period_points=st.integers(0, 3_000),
)


@given(lines=lines_st, campaigns=campaigns_st, usage=usage_st)
def test_contributions_add_up_stay_under_the_caps_and_never_go_negative(lines, campaigns, usage):
    usages = {c.id: usage for c in campaigns}
    result = judge(*campaigns, fact=make_order(lines), usage=usages)
    by_id = {c.id: c for c in campaigns}
    for c in result.applied:
        assert sum(line.points for line in c.lines) == c.points
        assert all(line.points > 0 for line in c.lines)
        limits = by_id[c.campaign_id].limits
        if limits.member_cap is not None:
            assert c.points <= max(0, limits.member_cap - usage.member_points)
        if limits.member_period_cap is not None:
            assert c.points <= max(0, limits.member_period_cap - usage.member_period_points)
        if usage.budget_left is not None:
            assert c.points <= usage.budget_left
    judged = {c.campaign_id for c in result.applied} | {s.campaign_id for s in result.skipped}
    assert judged == set(by_id)
    assert sum(1 for c in result.applied if by_id[c.campaign_id].stacking is EXCLUSIVE) <= 1


@given(lines=lines_st, campaigns=campaigns_st, usage=usage_st, data=st.data())
def test_evaluation_does_not_depend_on_the_campaigns_order(lines, campaigns, usage, data):
    shuffled = data.draw(st.permutations(campaigns))
    usages = {c.id: usage for c in campaigns}
    fact = make_order(lines)
    assert judge(*campaigns, fact=fact, usage=usages) == judge(*shuffled, fact=fact, usage=usages)


# ---- validation ---------------------------------------------------------------------------

VALID = make_campaign(
    code="MEMBER-DAY_8",
    schedule=replace(MARCH, month_days=frozenset({8})),
    limits=Limits(member_period_cap=500, cap_period=CapPeriod.MONTH),
)


def errors_of(campaign: Campaign, timezone: str | None = SHANGHAI) -> list[str | None]:
    errors = Collector()
    validate_campaign(campaign, errors, timezone=timezone)
    return [e.field for e in errors.errors]


def test_a_sensible_campaign_passes():
    assert errors_of(VALID) == []
    checkin = make_campaign(trigger=Trigger.CHECK_IN, effects=Effects(bonus_per_order=10))
    assert errors_of(checkin) == []
    # any one effect is enough
    for effects in (Effects(coupon_template="OVER299"), Effects(bonus_per_item=1)):
        assert errors_of(replace(VALID, effects=effects)) == []


def at_shanghai(*args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(SHANGHAI))


FEBRUARY = Schedule(at_shanghai(2027, 2, 1), at_shanghai(2027, 3, 1))


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"code": "member-day"}, "code"),
        ({"code": ""}, "code"),
        ({"code": "A" * 33}, "code"),
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "bad\x00name"}, "name"),
        ({"priority": 1001}, "priority"),
        ({"priority": -1001}, "priority"),
        ({"schedule": Schedule(datetime(2027, 3, 1), MARCH.ends_at)}, "startsAt"),
        ({"schedule": Schedule(MARCH.ends_at, MARCH.starts_at)}, "endsAt"),
        ({"schedule": Schedule(MARCH.starts_at, MARCH.starts_at)}, "endsAt"),
        ({"schedule": Schedule(MARCH.starts_at, MARCH.starts_at + timedelta(days=1100))}, "endsAt"),
        ({"schedule": replace(MARCH, weekdays=frozenset({0}))}, "weekdays"),
        ({"schedule": replace(MARCH, weekdays=frozenset({8}))}, "weekdays"),
        ({"schedule": replace(MARCH, month_days=frozenset({32}))}, "monthDays"),
        ({"schedule": replace(MARCH, dates=frozenset({date(2027, 4, 2)}))}, "dates"),
        # February has no 31st; a two-day window has no Sunday
        ({"schedule": replace(FEBRUARY, month_days=frozenset({31}))}, "monthDays"),
        (
            {
                "schedule": Schedule(
                    at_shanghai(2027, 3, 8), at_shanghai(2027, 3, 10), weekdays=frozenset({7})
                )
            },
            "weekdays",
        ),
        # each alone runs, together never (no Monday the 9th in March 2027)
        (
            {"schedule": replace(MARCH, weekdays=frozenset({1}), month_days=frozenset({9}))},
            "weekdays",
        ),
        ({"audience": Audience(segments=frozenset({"VIP"}))}, "audience.segments"),
        ({"audience": Audience(tiers=frozenset({""}))}, "audience.tiers"),
        ({"audience": Audience(joined_within_days=0)}, "audience.joinedWithinDays"),
        ({"audience": Audience(joined_within_days=3651)}, "audience.joinedWithinDays"),
        ({"audience": Audience(nth_order=0)}, "audience.nthOrder"),
        ({"audience": Audience(nth_order=1001)}, "audience.nthOrder"),
        ({"conditions": Conditions(min_spend=-1)}, "conditions.minSpend"),
        ({"conditions": Conditions(min_spend=2_000_000_001)}, "conditions.minSpend"),
        ({"conditions": Conditions(skus=frozenset({"x" * 65}))}, "conditions.skus"),
        ({"conditions": Conditions(categories=frozenset({""}))}, "conditions.categories"),
        ({"effects": Effects(multiplier=0)}, "effects.multiplier"),
        ({"effects": Effects(multiplier=-BASIS)}, "effects.multiplier"),
        ({"effects": Effects(multiplier=BASIS - 1, bonus_per_order=1)}, "effects.multiplier"),
        ({"effects": Effects(multiplier=10 * BASIS + 1)}, "effects.multiplier"),
        ({"effects": Effects(bonus_per_order=-1, coupon_template="X")}, "effects.bonusPerOrder"),
        ({"effects": Effects(bonus_per_item=1_000_001)}, "effects.bonusPerItem"),
        ({"effects": Effects(coupon_template="not a code")}, "effects.couponTemplate"),
        ({"effects": Effects()}, "effects"),
        ({"limits": Limits(budget=0)}, "limits.budget"),
        ({"limits": Limits(member_cap=0)}, "limits.memberCap"),
        (
            {"limits": Limits(member_period_cap=-5, cap_period=CapPeriod.DAY)},
            "limits.memberPeriodCap",
        ),
        ({"limits": Limits(member_period_cap=500)}, "limits.capPeriod"),
        ({"limits": Limits(cap_period=CapPeriod.WEEK)}, "limits.memberPeriodCap"),
        ({"limits": Limits(max_rewarded_orders=0)}, "limits.maxRewardedOrders"),
    ],
)
def test_campaigns_no_programme_could_mean_are_refused(overrides, field):
    assert field in errors_of(replace(VALID, **overrides))


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"conditions": Conditions(min_spend=100)}, "conditions.minSpend"),
        ({"conditions": Conditions(categories=frozenset({"a"}))}, "conditions.categories"),
        ({"conditions": Conditions(skus=frozenset({"a"}))}, "conditions.skus"),
        (
            {
                "conditions": Conditions(
                    excluded_payment_methods=frozenset({PaymentMethod.GIFT_CARD})
                )
            },
            "conditions.excludedPaymentMethods",
        ),
        ({"conditions": Conditions(channels=frozenset({Channel.ONLINE}))}, "conditions.channels"),
        ({"effects": Effects(bonus_per_order=5, bonus_per_item=1)}, "effects.bonusPerItem"),
        ({"audience": Audience(nth_order=1)}, "audience.nthOrder"),
    ],
)
def test_order_only_settings_are_refused_on_other_triggers(overrides, field):
    review = replace(VALID, trigger=Trigger.REVIEW)
    assert errors_of(review) == []
    assert field in errors_of(replace(review, **overrides))


def test_recurrences_are_read_in_the_programme_time_zone():
    # given a window of February in Shanghai, stored as UTC instants
    february = Schedule(
        datetime(2027, 1, 31, 16, tzinfo=UTC), datetime(2027, 2, 28, 16, tzinfo=UTC)
    )
    # then no 31st is in it for Shanghai, but in UTC it starts on 31 January
    thirty_first = replace(VALID, schedule=replace(february, month_days=frozenset({31})))
    assert errors_of(thirty_first, SHANGHAI) == ["monthDays"]
    assert errors_of(thirty_first, "UTC") == []
    # and with no zone given, the zone the window was given in is used
    given_in_shanghai = replace(FEBRUARY, month_days=frozenset({31}))
    assert errors_of(replace(VALID, schedule=given_in_shanghai), None) == ["monthDays"]


def test_a_recurrence_out_of_range_is_reported_once_whatever_the_prefix():
    errors = Collector("input.")
    validate_campaign(replace(VALID, schedule=replace(MARCH, month_days=frozenset({0}))), errors)
    assert [e.field for e in errors.errors] == ["input.monthDays"]


def test_dates_at_the_window_s_edges_are_in_it():
    edges = replace(FEBRUARY, dates=frozenset({date(2027, 2, 1), date(2027, 2, 28)}))
    assert errors_of(replace(VALID, schedule=edges)) == []
    after = replace(FEBRUARY, dates=frozenset({date(2027, 3, 1)}))
    assert errors_of(replace(VALID, schedule=after)) == ["dates"]


@given(lines=lines_st, campaigns=campaigns_st, usage=usage_st)
def test_the_member_gets_the_better_of_the_two_stacking_choices(lines, campaigns, usage):
    # each campaign judged alone is what it would give; stacking picks the best choice
    usages = {c.id: usage for c in campaigns}
    fact = make_order(lines)
    alone = {c.id: judge(c, fact=fact, usage=usages).total for c in campaigns}
    best_exclusive = max((alone[c.id] for c in campaigns if c.stacking is EXCLUSIVE), default=0)
    stackables = sum(alone[c.id] for c in campaigns if c.stacking is STACKABLE)
    assert judge(*campaigns, fact=fact, usage=usages).total == max(best_exclusive, stackables)


@given(
    points=st.integers(0, 10_000),
    multiplier=st.integers(BASIS, 10 * BASIS),
    bonus=st.integers(0, 1_000),
    cap=st.none() | st.integers(1, 5_000),
    used=st.integers(0, 5_000),
)
def test_other_facts_get_their_multiplied_points_and_bonus_up_to_the_cap(
    points, multiplier, bonus, cap, used
):
    checkin = make_campaign(
        trigger=Trigger.CHECK_IN,
        effects=Effects(multiplier=multiplier, bonus_per_order=bonus),
        limits=Limits(member_cap=cap),
    )
    result = judge(
        checkin, fact=OtherFact(Trigger.CHECK_IN, points), usage={1: Usage(member_points=used)}
    )
    due = points * (multiplier - BASIS) // BASIS + bonus
    left = due if cap is None else max(0, min(due, cap - used))
    assert result.total == left
    assert all(c.lines == () for c in result.applied)
