"""Points arithmetic without a database: rounding, earning per order line, returns, cash, policy."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from fractions import Fraction
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import Collector, ErrorCode
from domain.points import (
    BASIS,
    MAX_MONEY,
    EarnRule,
    ExpiryPolicy,
    Multipliers,
    NegativePolicy,
    OrderLine,
    Payment,
    PaymentMethod,
    PointsPolicy,
    Rounding,
    RulePoints,
    cash_value,
    check_sku,
    in_birthday_month,
    order_points,
    points_for_cash,
    points_to_reverse,
    points_to_take_back,
    round_points,
    validate_order,
    validate_policy,
)

DEMO = PointsPolicy()
ONE_X = Multipliers()


def line(**overrides: Any) -> OrderLine:
    fields: dict[str, Any] = {
        "sku": "SKU-1",
        "category": "books",
        "unit_price": 10_000,
        "quantity": 1,
        "discounted": False,
    }
    return OrderLine(**{**fields, **overrides})


def cash(amount: int) -> Payment:
    return Payment(PaymentMethod.CASH, amount)


def paid_in_cash(*lines: OrderLine) -> list[Payment]:
    return [cash(sum(each.amount for each in lines))]


def fields_of(errors: Collector) -> list[str | None]:
    return [e.field for e in errors.errors]


# ---- round_points -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Fraction(5, 2), 2),
        (Fraction(251, 100), 3),
        (Fraction(249, 100), 2),
        (Fraction(1, 2), 0),
        (Fraction(3), 3),
        (Fraction(0), 0),
        (Fraction(7, 4), 2),
    ],
)
def test_half_down_rounds_an_exact_half_down_and_anything_above_it_up(value, expected):
    # given a value with a fractional part
    # when
    rounded = round_points(value, Rounding.HALF_DOWN)
    # then
    assert rounded == expected


def test_half_down_is_the_default_rounding():
    # given an exact half
    value = Fraction(5, 2)
    # when
    rounded = round_points(value)
    # then
    assert rounded == 2


@pytest.mark.parametrize(
    ("value", "expected"),
    [(Fraction(5, 2), 3), (Fraction(249, 100), 2), (Fraction(251, 100), 3), (Fraction(4), 4)],
)
def test_half_up_rounds_an_exact_half_up(value, expected):
    # given / when
    rounded = round_points(value, Rounding.HALF_UP)
    # then
    assert rounded == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(Fraction(5, 2), 2), (Fraction(299, 100), 2), (Fraction(1, 1000), 0), (Fraction(6), 6)],
)
def test_down_always_drops_the_fraction(value, expected):
    # given / when
    rounded = round_points(value, Rounding.DOWN)
    # then
    assert rounded == expected


@given(
    numerator=st.integers(min_value=0, max_value=10**9),
    denominator=st.integers(min_value=1, max_value=10_000),
)
def test_rounding_stays_within_one_point_and_the_modes_are_ordered(numerator, denominator):
    # given a non-negative exact value
    value = Fraction(numerator, denominator)
    # when
    down = round_points(value, Rounding.DOWN)
    half_down = round_points(value, Rounding.HALF_DOWN)
    half_up = round_points(value, Rounding.HALF_UP)
    # then every mode is an int within one point of the exact value ...
    for rounded in (down, half_down, half_up):
        assert isinstance(rounded, int)
        assert abs(rounded - value) < 1
    # ... the half modes within half a point, and the modes never cross
    assert abs(half_down - value) <= Fraction(1, 2)
    assert abs(half_up - value) <= Fraction(1, 2)
    assert down <= half_down <= half_up


# ---- order_points: worked examples with the demo policy ------------------------------------


def test_a_full_price_line_earns_two_points_per_yuan():
    # given 100.00 yuan at full price, paid in cash
    tv = line(sku="TV", unit_price=10_000)
    # when
    earned = order_points([tv], paid_in_cash(tv), DEMO, ONE_X)
    # then
    assert earned.total == 200
    assert earned.amount == 10_000
    (only,) = earned.lines
    assert (only.sku, only.quantity, only.amount, only.points) == ("TV", 1, 10_000, 200)
    assert only.rules == (RulePoints(EarnRule.FULL_PRICE, 200),)


def test_a_line_is_rounded_once_and_an_exact_half_rounds_down():
    # given 123.25 yuan at full price: exactly 246.5 points
    tv = line(unit_price=12_325)
    # when
    earned = order_points([tv], paid_in_cash(tv), DEMO, ONE_X)
    # then
    assert earned.total == 246
    assert earned.lines[0].rules == (RulePoints(EarnRule.FULL_PRICE, 246),)


def test_a_policy_rounding_half_up_takes_the_half_point():
    # given the same 246.5-point line under a HALF_UP programme
    tv = line(unit_price=12_325)
    policy = PointsPolicy(rounding=Rounding.HALF_UP)
    # when
    earned = order_points([tv], paid_in_cash(tv), policy, ONE_X)
    # then
    assert earned.total == 247


@pytest.mark.parametrize("mode", list(Rounding))
def test_a_rounding_named_by_a_plain_string_rounds_as_its_enum(mode):
    # given the rounding as the plain string a stored policy holds
    name = str(mode.value)
    # when
    as_string = [round_points(Fraction(n, 2), name) for n in range(0, 9)]
    as_enum = [round_points(Fraction(n, 2), mode) for n in range(0, 9)]
    # then a string is not mistaken for HALF_DOWN
    assert as_string == as_enum


def test_a_policy_built_with_string_choices_holds_the_enums():
    # given a policy changed with plain strings, as an input or stored JSON may hand them over
    policy = replace(
        PointsPolicy(),
        rounding="HALF_UP",
        expiry_policy="ROLLING_ACTIVITY",
        negative_policy="CLAMP_AND_RECORD",
    )
    # then every choice is the enum member itself
    assert policy.rounding is Rounding.HALF_UP
    assert policy.expiry_policy is ExpiryPolicy.ROLLING_ACTIVITY
    assert policy.negative_policy is NegativePolicy.CLAMP_AND_RECORD
    # and an order earns under it as the enum says: 246.5 points round up
    tv = line(unit_price=12_325)
    assert order_points([tv], paid_in_cash(tv), policy, ONE_X).total == 247


def test_a_discounted_line_earns_half_a_point_per_yuan():
    # given 2 x 39.99 yuan discounted: 79.98 yuan, exactly 39.99 points
    shirt = line(sku="SHIRT", unit_price=3_999, quantity=2, discounted=True)
    # when
    earned = order_points([shirt], paid_in_cash(shirt), DEMO, ONE_X)
    # then
    (only,) = earned.lines
    assert only.amount == 7_998
    assert only.points == 40
    assert only.rules == (RulePoints(EarnRule.DISCOUNTED, 40),)
    assert earned.total == 40


def test_a_gift_card_share_is_split_across_lines_pro_rata_by_amount():
    # given a 60-yuan full-price line and a 40-yuan discounted line, a quarter paid by gift card
    lamp = line(sku="LAMP", unit_price=6_000)
    mugs = line(sku="MUGS", unit_price=2_000, quantity=2, discounted=True)
    payments = [Payment(PaymentMethod.GIFT_CARD, 2_500), Payment(PaymentMethod.CARD, 7_500)]
    # when
    earned = order_points([lamp, mugs], payments, DEMO, ONE_X)
    # then the lamp: 15 yuan by gift card (15 points) + 45 yuan at 2 per yuan (90 points)
    lamp_points, mug_points = earned.lines
    assert lamp_points.points == 105
    assert lamp_points.rules == (
        RulePoints(EarnRule.GIFT_CARD, 15),
        RulePoints(EarnRule.FULL_PRICE, 90),
    )
    # and the mugs: 10 yuan by gift card (10 points) + 30 yuan at 0.5 per yuan (15 points)
    assert mug_points.points == 25
    assert mug_points.rules == (
        RulePoints(EarnRule.GIFT_CARD, 10),
        RulePoints(EarnRule.DISCOUNTED, 15),
    )
    assert earned.total == 130
    assert earned.amount == 10_000


def test_a_gift_card_share_that_does_not_divide_evenly_is_rounded_per_line():
    # given lines of 10 and 20 yuan, 10 of the 30 yuan paid by gift card
    a = line(sku="A", unit_price=1_000)
    b = line(sku="B", unit_price=2_000)
    payments = [Payment(PaymentMethod.GIFT_CARD, 1_000), cash(2_000)]
    # when
    earned = order_points([a, b], payments, DEMO, ONE_X)
    # then A: gift 3.33 yuan -> 3.33 points, rest 6.67 yuan -> 13.33; 16.67 in all -> 17
    first, second = earned.lines
    assert first.points == 17
    assert first.rules == (RulePoints(EarnRule.GIFT_CARD, 3), RulePoints(EarnRule.FULL_PRICE, 14))
    # and B: gift 6.67 yuan -> 6.67 points, rest 13.33 yuan -> 26.67; 33.33 in all -> 33
    assert second.points == 33
    assert second.rules == (
        RulePoints(EarnRule.GIFT_CARD, 7),
        RulePoints(EarnRule.FULL_PRICE, 26),
    )
    assert earned.total == 50


def test_the_share_paid_with_points_earns_nothing():
    # given a 100-yuan line, 40 yuan of it paid with points
    tv = line(unit_price=10_000)
    payments = [Payment(PaymentMethod.POINTS, 4_000), cash(6_000)]
    # when
    earned = order_points([tv], payments, DEMO, ONE_X)
    # then only the 60 yuan paid in cash earns
    assert earned.total == 120
    assert earned.lines[0].rules == (RulePoints(EarnRule.FULL_PRICE, 120),)


def test_an_order_paid_entirely_with_points_earns_nothing():
    # given
    tv = line(unit_price=10_000)
    payments = [Payment(PaymentMethod.POINTS, 10_000)]
    # when
    earned = order_points([tv], payments, DEMO, ONE_X)
    # then
    assert earned.total == 0
    assert earned.lines[0].points == 0
    assert earned.lines[0].rules == ()


def test_points_and_gift_card_together_leave_only_the_gift_card_rule():
    # given a 100-yuan line paid half with points, half by gift card
    tv = line(unit_price=10_000)
    payments = [Payment(PaymentMethod.POINTS, 5_000), Payment(PaymentMethod.GIFT_CARD, 5_000)]
    # when
    earned = order_points([tv], payments, DEMO, ONE_X)
    # then 50 yuan by gift card at 1 per yuan; no full-price rule of zero points is listed
    assert earned.total == 50
    assert earned.lines[0].rules == (RulePoints(EarnRule.GIFT_CARD, 50),)


def test_the_appliances_bonus_is_per_item():
    # given 3 fridges at 19.99 yuan: 59.97 yuan -> 119.94 points, plus 5 per item
    fridges = line(sku="FRIDGE", category="appliances", unit_price=1_999, quantity=3)
    # when
    earned = order_points([fridges], paid_in_cash(fridges), DEMO, ONE_X)
    # then
    (only,) = earned.lines
    assert only.points == 135
    assert only.rules == (
        RulePoints(EarnRule.FULL_PRICE, 120),
        RulePoints(EarnRule.CATEGORY_BONUS, 15),
    )


def test_a_category_without_a_bonus_earns_no_bonus():
    # given a line in a category the programme has no bonus for
    book = line(category="books", unit_price=1_000, quantity=3)
    # when
    earned = order_points([book], paid_in_cash(book), DEMO, ONE_X)
    # then
    assert earned.total == 60
    assert all(rule.rule is not EarnRule.CATEGORY_BONUS for rule in earned.lines[0].rules)


def test_the_tier_multiplier_applies_to_the_base_and_not_to_the_bonus():
    # given 3 fridges (119.94 base points, 15 bonus) for a 1.5x tier
    fridges = line(sku="FRIDGE", category="appliances", unit_price=1_999, quantity=3)
    # when
    earned = order_points([fridges], paid_in_cash(fridges), DEMO, Multipliers(tier=15_000))
    # then 119.94 x 1.5 = 179.91 -> 180, and the bonus stays 15
    (only,) = earned.lines
    assert only.points == 195
    assert only.rules == (
        RulePoints(EarnRule.FULL_PRICE, 120),
        RulePoints(EarnRule.TIER_MULTIPLIER, 60),
        RulePoints(EarnRule.CATEGORY_BONUS, 15),
    )


def test_tier_and_birthday_multipliers_combine_multiplicatively():
    # given 100 yuan at full price for a 1.5x tier in the birthday month (2x)
    tv = line(unit_price=10_000)
    multipliers = Multipliers(tier=15_000, birthday=20_000)
    # when
    earned = order_points([tv], paid_in_cash(tv), DEMO, multipliers)
    # then 200 x 1.5 x 2 = 600, not 200 x (1 + 0.5 + 1) = 500
    assert earned.total == 600
    assert earned.lines[0].rules == (
        RulePoints(EarnRule.FULL_PRICE, 200),
        RulePoints(EarnRule.TIER_MULTIPLIER, 100),
        RulePoints(EarnRule.BIRTHDAY_MULTIPLIER, 300),
    )


def test_multipliers_apply_to_the_exact_base_before_the_one_rounding():
    # given 246.5 base points, 1.5x tier, 2x birthday: exactly 739.5
    tv = line(unit_price=12_325)
    multipliers = Multipliers(tier=15_000, birthday=20_000)
    # when
    earned = order_points([tv], paid_in_cash(tv), DEMO, multipliers)
    # then 739.5 -> 739 (not 246 x 3 = 738), and the breakdown still adds up
    assert earned.total == 739
    assert earned.lines[0].rules == (
        RulePoints(EarnRule.FULL_PRICE, 246),
        RulePoints(EarnRule.TIER_MULTIPLIER, 124),
        RulePoints(EarnRule.BIRTHDAY_MULTIPLIER, 369),
    )


def test_the_birthday_multiplier_alone_doubles_a_discounted_line():
    # given 39.99 base points in the birthday month
    shirt = line(unit_price=3_999, quantity=2, discounted=True)
    # when
    earned = order_points([shirt], paid_in_cash(shirt), DEMO, Multipliers(birthday=20_000))
    # then 79.98 -> 80
    assert earned.total == 80
    assert earned.lines[0].rules == (
        RulePoints(EarnRule.DISCOUNTED, 40),
        RulePoints(EarnRule.BIRTHDAY_MULTIPLIER, 40),
    )


def test_multipliers_do_not_touch_the_category_bonus_with_both_active():
    # given one appliance at 100 yuan, 1.5x tier, 2x birthday
    oven = line(sku="OVEN", category="appliances", unit_price=10_000)
    multipliers = Multipliers(tier=15_000, birthday=20_000)
    # when
    earned = order_points([oven], paid_in_cash(oven), DEMO, multipliers)
    # then 600 from the base and 5 from the bonus
    assert earned.total == 605
    assert earned.lines[0].rules[-1] == RulePoints(EarnRule.CATEGORY_BONUS, 5)


def test_an_order_of_free_items_earns_nothing_even_at_the_highest_rates():
    # given an order whose only line costs nothing, under the highest rates a policy may set
    policy = PointsPolicy(
        full_price_rate=Fraction(100), discounted_rate=Fraction(100), gift_card_rate=Fraction(100)
    )
    free = line(unit_price=0, quantity=3)
    # when
    earned = order_points([free], [], policy, Multipliers())
    # then no share of any payment is imagined for it
    assert (earned.total, earned.lines[0].points, earned.lines[0].rules) == (0, 0, ())


# ---- order_points: properties --------------------------------------------------------------


@st.composite
def orders(draw: st.DrawFn) -> tuple[list[OrderLine], list[Payment]]:
    count = draw(st.integers(min_value=1, max_value=6))
    lines = [
        OrderLine(
            sku=f"SKU-{n}",
            category=draw(st.sampled_from(["appliances", "books", "toys"])),
            unit_price=draw(st.integers(min_value=0, max_value=200_000)),
            quantity=draw(st.integers(min_value=1, max_value=20)),
            discounted=draw(st.booleans()),
        )
        for n in range(count)
    ]
    total = sum(each.amount for each in lines)
    methods = draw(st.lists(st.sampled_from(list(PaymentMethod)), min_size=1, max_size=4))
    cuts = sorted(
        draw(st.lists(st.integers(min_value=0, max_value=total), min_size=len(methods) - 1))[
            : len(methods) - 1
        ]
    )
    bounds = [0, *cuts, total]
    pieces = [high - low for low, high in pairwise(bounds)]
    payments = [Payment(m, a) for m, a in zip(methods, pieces, strict=False) if a > 0]
    return lines, payments


multipliers = st.builds(
    Multipliers,
    tier=st.integers(min_value=BASIS, max_value=3 * BASIS),
    birthday=st.sampled_from([BASIS, 15_000, 2 * BASIS]),
)


@given(order=orders(), multipliers=multipliers, rounding=st.sampled_from(list(Rounding)))
def test_each_lines_rules_add_up_exactly_to_its_points(order, multipliers, rounding):
    # given a valid order whose payments add up to its total
    lines, payments = order
    errors = Collector()
    validate_order(lines, payments, errors)
    assert errors.errors == []
    # when
    earned = order_points(lines, payments, PointsPolicy(rounding=rounding), multipliers)
    # then every line's breakdown adds up to its points, and the lines to the total
    assert len(earned.lines) == len(lines)
    for earned_line, order_line in zip(earned.lines, lines, strict=True):
        assert earned_line.sku == order_line.sku
        assert earned_line.amount == order_line.amount
        assert sum(rule.points for rule in earned_line.rules) == earned_line.points
        assert all(rule.points > 0 for rule in earned_line.rules)
        assert earned_line.points >= 0
    assert earned.total == sum(each.points for each in earned.lines)
    assert earned.amount == sum(each.amount for each in lines)


# ---- validate_order ------------------------------------------------------------------------


def test_a_valid_order_reports_nothing():
    # given
    lines = [line(sku="A"), line(sku="B", unit_price=0)]
    payments = [cash(5_000), Payment(PaymentMethod.GIFT_CARD, 5_000)]
    errors = Collector()
    # when
    validate_order(lines, payments, errors)
    # then
    assert errors.errors == []


def test_payments_that_do_not_add_up_to_the_total_are_reported():
    # given a 100-yuan order paid 99.99
    lines = [line(unit_price=10_000)]
    errors = Collector()
    # when
    validate_order(lines, [cash(9_999)], errors)
    # then
    assert fields_of(errors) == ["payments"]
    assert errors.errors[0].code is ErrorCode.VALIDATION
    assert "10000" in errors.errors[0].message


def test_overpaying_is_reported_too():
    # given
    lines = [line(unit_price=10_000)]
    errors = Collector()
    # when
    validate_order(lines, [cash(6_000), cash(5_000)], errors)
    # then
    assert fields_of(errors) == ["payments"]


@pytest.mark.parametrize(
    ("lines", "payments", "field"),
    [
        ([line(sku="A"), line(sku="A")], [cash(20_000)], "lines"),
        ([line(quantity=0)], [cash(10_000)], "lines.0.quantity"),
        ([line(quantity=10_001)], [cash(100_010_000)], "lines.0.quantity"),
        ([line(sku="A"), line(sku="B", unit_price=-1)], [cash(9_999)], "lines.1.unitPrice"),
        ([line()], [cash(10_000), cash(0)], "payments.1.amount"),
        ([line()], [cash(10_001), cash(-1)], "payments.1.amount"),
        ([line(sku="S" * 65)], [cash(10_000)], "lines.0.sku"),
        ([line(sku="")], [cash(10_000)], "lines.0.sku"),
        ([line(sku="A\nB")], [cash(10_000)], "lines.0.sku"),
        ([line(category="")], [cash(10_000)], "lines.0.category"),
        ([], [], "lines"),
    ],
)
def test_a_bad_order_is_reported_on_that_field(lines, payments, field):
    # given an order with one thing wrong
    errors = Collector()
    # when
    validate_order(lines, payments, errors)
    # then
    assert fields_of(errors) == [field]
    assert all(e.code is ErrorCode.VALIDATION for e in errors.errors)


def test_a_sku_of_exactly_64_characters_is_accepted():
    # given
    lines = [line(sku="S" * 64)]
    errors = Collector()
    # when
    validate_order(lines, [cash(10_000)], errors)
    # then
    assert errors.errors == []


def test_more_than_500_lines_is_reported_and_500_is_accepted():
    # given
    def order(count: int) -> list[OrderLine]:
        return [line(sku=f"SKU-{n}", unit_price=100) for n in range(count)]

    too_many, most = Collector(), Collector()
    # when
    validate_order(order(501), [cash(50_100)], too_many)
    validate_order(order(500), [cash(50_000)], most)
    # then
    assert fields_of(too_many) == ["lines"]
    assert most.errors == []


def test_every_bad_field_is_reported_at_once():
    # given an order with three things wrong
    lines = [line(sku="A", quantity=0), line(sku="B", unit_price=-5)]
    errors = Collector()
    # when
    validate_order(lines, [cash(0)], errors)
    # then
    assert fields_of(errors) == ["lines.0.quantity", "lines.1.unitPrice", "payments.0.amount"]


def order_fields(lines: list[OrderLine], payments: list[Payment]) -> list[str | None]:
    errors = Collector()
    validate_order(lines, payments, errors)
    return fields_of(errors)


def test_an_order_at_every_upper_limit_is_accepted():
    # given one line worth exactly MAX_MONEY (10,000 items), a 64-character category, and
    # one payment of exactly MAX_MONEY
    top = line(category="c" * 64, unit_price=MAX_MONEY // 10_000, quantity=10_000)
    # when / then
    assert order_fields([top], [cash(MAX_MONEY)]) == []


def test_an_order_at_every_lower_limit_is_accepted():
    # given a 1-character sku and category, one item, a free line and a 1-fen payment
    lines = [line(sku="A", category="c", unit_price=1), line(sku="B", unit_price=0)]
    # when / then
    assert order_fields(lines, [cash(1)]) == []


def test_a_line_priced_at_max_money_is_accepted():
    # given / when / then
    assert order_fields([line(unit_price=MAX_MONEY)], [cash(MAX_MONEY)]) == []


@pytest.mark.parametrize(
    ("lines", "payments", "field"),
    [
        ([line(category="c" * 65)], [cash(10_000)], "lines.0.category"),
        ([line(category="a\tb")], [cash(10_000)], "lines.0.category"),
        ([line(unit_price=MAX_MONEY + 1)], [cash(MAX_MONEY)], "lines.0.unitPrice"),
        ([line()], [cash(10_000), cash(MAX_MONEY + 1)], "payments.1.amount"),
    ],
)
def test_one_past_an_order_limit_is_refused_on_that_field(lines, payments, field):
    # given / when / then
    assert order_fields(lines, payments) == [field]


def test_an_order_whose_lines_add_up_past_max_money_is_refused_on_its_lines():
    # given two lines each within the limit whose total is one fen past it
    lines = [
        line(sku="A", unit_price=MAX_MONEY // 2),
        line(sku="B", unit_price=MAX_MONEY // 2 + 1),
    ]
    # when / then the total is reported, not the payments (however they add up)
    assert order_fields(lines, [cash(MAX_MONEY), cash(1)]) == ["lines"]


def test_a_bad_sku_is_reported_on_sku_unless_told_otherwise():
    # given a sku checked on its own, with no field named
    errors = Collector()
    # when
    check_sku(errors, "")
    # then
    assert fields_of(errors) == ["sku"]


# ---- points_to_reverse ---------------------------------------------------------------------


def test_returning_a_whole_line_at_once_reverses_everything_it_earned():
    # given / when
    reversed_points = points_to_reverse(10, quantity=3, returned_before=0, returning=3)
    # then
    assert reversed_points == 10


def test_returning_one_item_at_a_time_adds_up_to_what_the_line_earned():
    # given a line of 3 items that earned 10 points
    # when the items come back one by one
    steps = [points_to_reverse(10, 3, returned_before, 1) for returned_before in range(3)]
    # then the last return takes the remainder
    assert steps == [3, 3, 4]


@st.composite
def return_splits(draw: st.DrawFn) -> tuple[int, int, list[int]]:
    line_points = draw(st.integers(min_value=0, max_value=10**7))
    quantity = draw(st.integers(min_value=1, max_value=200))
    parts: list[int] = []
    left = quantity
    while left:
        part = draw(st.integers(min_value=1, max_value=left))
        parts.append(part)
        left -= part
    return line_points, quantity, parts


@given(split=return_splits())
def test_partial_returns_in_any_split_add_up_to_exactly_the_lines_points(split):
    # given a line and a way of returning all its items in several parts
    line_points, quantity, parts = split
    # when each part is returned in turn
    steps = []
    returned = 0
    for part in parts:
        steps.append(points_to_reverse(line_points, quantity, returned, part))
        returned += part
    # then no step is negative, and together they reverse exactly what the line earned
    assert all(step >= 0 for step in steps)
    assert sum(steps) == line_points


# ---- cash_value / points_for_cash ----------------------------------------------------------


@pytest.mark.parametrize(("points", "fen"), [(100, 200), (1, 2), (0, 0), (12_345, 24_690)])
def test_points_are_worth_two_fen_each_by_default(points, fen):
    # given / when / then
    assert cash_value(points, DEMO) == fen


@pytest.mark.parametrize(("fen", "points"), [(200, 100), (2, 1), (1, 1), (3, 2), (0, 0)])
def test_paying_cash_with_points_rounds_the_points_up(fen, points):
    # given / when / then
    assert points_for_cash(fen, DEMO) == points


def test_cash_value_rounds_down_when_the_rate_does_not_divide():
    # given 100 points = 150 fen
    policy = PointsPolicy(points_per_cash=100, cash_per_points=150)
    # when / then 1 point is worth 1.5 fen -> 1, and 1 fen needs 0.67 points -> 1
    assert cash_value(1, policy) == 1
    assert cash_value(3, policy) == 4
    assert points_for_cash(1, policy) == 1
    assert points_for_cash(4, policy) == 3


cash_policies = st.builds(
    PointsPolicy,
    points_per_cash=st.integers(min_value=1, max_value=1_000),
    cash_per_points=st.integers(min_value=1, max_value=1_000),
)


@given(points=st.integers(min_value=0, max_value=10**9), policy=cash_policies)
def test_points_to_cash_and_back_never_yields_more_points(points, policy):
    # given some points
    # when they are turned into cash and the cash back into points
    fen = cash_value(points, policy)
    back = points_for_cash(fen, policy)
    # then the member never comes out with more points, nor cash worth more than the points
    assert back <= points
    assert fen * policy.points_per_cash <= points * policy.cash_per_points


@given(fen=st.integers(min_value=0, max_value=10**9), policy=cash_policies)
def test_points_charged_for_cash_are_always_worth_at_least_that_cash(fen, policy):
    # given an amount to pay with points
    # when
    points = points_for_cash(fen, policy)
    # then the points charged cover the amount, and one point fewer would not
    assert cash_value(points, policy) >= fen
    assert points * policy.cash_per_points >= fen * policy.points_per_cash
    if points > 0:
        assert cash_value(points - 1, policy) < fen


# ---- PointsPolicy JSON and validation ------------------------------------------------------


def test_the_default_policy_survives_a_json_round_trip():
    # given
    policy = PointsPolicy()
    # when
    again = PointsPolicy.from_json(json.loads(json.dumps(policy.to_json())))
    # then
    assert again == policy


def test_a_non_default_policy_survives_a_json_round_trip():
    # given
    policy = PointsPolicy(
        full_price_rate=Fraction(3, 100),
        discounted_rate=Fraction(1, 300),
        gift_card_rate=Fraction(0),
        category_bonus={"appliances": 8, "toys": 2},
        rounding=Rounding.DOWN,
        return_window_days=14,
        expiry_policy=ExpiryPolicy.ROLLING_ACTIVITY,
        expiry_months=24,
        negative_policy=NegativePolicy.CLAMP_AND_RECORD,
        points_per_cash=50,
        cash_per_points=75,
        hold_minutes=15,
        checkin_points=2,
        streak_every=5,
        streak_bonus=11,
        review_points=3,
        referral_points=500,
    )
    # when
    again = PointsPolicy.from_json(json.loads(json.dumps(policy.to_json())))
    # then
    assert again == policy
    assert again.expiry_policy is ExpiryPolicy.ROLLING_ACTIVITY
    assert again.negative_policy is NegativePolicy.CLAMP_AND_RECORD
    assert again.full_price_rate == Fraction(3, 100)


@pytest.mark.parametrize("stored", [None, {}])
def test_no_stored_policy_means_the_demo_defaults(stored):
    # given / when
    policy = PointsPolicy.from_json(stored)
    # then
    assert policy == PointsPolicy()
    assert policy.full_price_rate == Fraction(2, 100)
    assert policy.category_bonus == {"appliances": 5}


def test_a_partial_stored_policy_keeps_defaults_for_the_rest():
    # given
    stored = {"expiry_months": 6, "rounding": "HALF_UP"}
    # when
    policy = PointsPolicy.from_json(stored)
    # then
    assert policy == PointsPolicy(expiry_months=6, rounding=Rounding.HALF_UP)


def test_the_default_policy_is_valid():
    # given
    errors = Collector()
    # when
    validate_policy(PointsPolicy(), errors)
    # then
    assert errors.errors == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"expiry_months": 0}, "expiryMonths"),
        ({"expiry_months": 121}, "expiryMonths"),
        ({"return_window_days": 400}, "returnWindowDays"),
        ({"return_window_days": -1}, "returnWindowDays"),
        ({"hold_minutes": 0}, "holdMinutes"),
        ({"hold_minutes": 7 * 24 * 60 + 1}, "holdMinutes"),
        ({"points_per_cash": 0}, "pointsPerCash"),
        ({"cash_per_points": -200}, "pointsPerCash"),
        ({"category_bonus": {"appliances": -5}}, "categoryBonus"),
    ],
)
def test_a_bad_policy_is_reported_on_that_field(overrides, field):
    # given
    errors = Collector()
    # when
    validate_policy(PointsPolicy(**overrides), errors)
    # then
    assert fields_of(errors) == [field]
    assert errors.errors[0].code is ErrorCode.VALIDATION


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("full_price_rate", "fullPriceRate"),
        ("discounted_rate", "discountedRate"),
        ("gift_card_rate", "giftCardRate"),
    ],
)
def test_a_bad_rate_is_reported_on_its_camel_case_input_field(name, field):
    # given a negative rate (every other policy error names the camelCase input field)
    errors = Collector()
    # when
    validate_policy(PointsPolicy(**{name: Fraction(-1, 100)}), errors)
    # then
    assert fields_of(errors) == [field]


RATES = ("full_price_rate", "discounted_rate", "gift_card_rate")
COUNTS = ("checkin_points", "streak_bonus", "review_points", "referral_points")


def policy_fields(**overrides: Any) -> list[str | None]:
    errors = Collector()
    validate_policy(PointsPolicy(**overrides), errors)
    return fields_of(errors)


@pytest.mark.parametrize(
    "overrides",
    [
        dict.fromkeys(RATES, Fraction(0)),
        dict.fromkeys(RATES, Fraction(100)),
        {"category_bonus": {"a": 0, "b" * 64: 100_000}},
        {"return_window_days": 0},
        {"return_window_days": 365},
        {"expiry_months": 1},
        {"expiry_months": 120},
        {"points_per_cash": 1, "cash_per_points": 1},
        {"hold_minutes": 1},
        {"hold_minutes": 7 * 24 * 60},
        dict.fromkeys(COUNTS, 0),
        dict.fromkeys(COUNTS, 1_000_000),
        {"streak_every": 0},
        {"streak_every": 366},
    ],
)
def test_a_policy_at_either_end_of_every_range_is_accepted(overrides):
    # given a policy whose values sit exactly on the limits
    # when / then
    assert policy_fields(**overrides) == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"full_price_rate": Fraction(10_001, 100)}, "fullPriceRate"),
        ({"discounted_rate": Fraction(101)}, "discountedRate"),
        ({"gift_card_rate": Fraction(-1, 10_000)}, "giftCardRate"),
        ({"category_bonus": {"appliances": 100_001}}, "categoryBonus"),
        ({"return_window_days": 366}, "returnWindowDays"),
        ({"points_per_cash": -1}, "pointsPerCash"),
        ({"cash_per_points": 0}, "pointsPerCash"),
        ({"checkin_points": -1}, "checkinPoints"),
        ({"checkin_points": 1_000_001}, "checkinPoints"),
        ({"streak_bonus": -1}, "streakBonus"),
        ({"streak_bonus": 1_000_001}, "streakBonus"),
        ({"review_points": -1}, "reviewPoints"),
        ({"review_points": 1_000_001}, "reviewPoints"),
        ({"referral_points": -1}, "referralPoints"),
        ({"referral_points": 1_000_001}, "referralPoints"),
        ({"streak_every": -1}, "streakEvery"),
        ({"streak_every": 367}, "streakEvery"),
        ({"category_bonus": {"": 5}}, "categoryBonus"),
        ({"category_bonus": {"c" * 65: 5}}, "categoryBonus"),
        ({"category_bonus": {"tab\there": 5}}, "categoryBonus"),
    ],
)
def test_one_past_a_policy_limit_is_refused_on_that_field(overrides, field):
    # given a policy with one value just outside its range
    # when / then
    assert policy_fields(**overrides) == [field]


def test_every_bad_count_is_reported_at_once():
    # given every count of the policy out of range
    # when / then each is reported on its own field, in the form's order
    assert policy_fields(**dict.fromkeys(COUNTS, -1)) == [
        "checkinPoints",
        "streakBonus",
        "reviewPoints",
        "referralPoints",
    ]


# ---- in_birthday_month ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birthday_month", "local_now", "expected"),
    [
        (5, datetime(2025, 5, 1, 0, 0, tzinfo=UTC), True),
        (5, datetime(2025, 5, 31, 23, 59, tzinfo=UTC), True),
        (5, datetime(2025, 6, 1, 0, 0, tzinfo=UTC), False),
        (12, datetime(2025, 1, 15, tzinfo=UTC), False),
        (None, datetime(2025, 5, 15, tzinfo=UTC), False),
    ],
)
def test_in_birthday_month(birthday_month, local_now, expected):
    # given / when / then
    assert in_birthday_month(birthday_month, local_now) is expected


# ---- returns of completed orders never take back expired points (issue 22.6) ------------


def test_a_return_whose_points_all_expired_takes_nothing():
    assert points_to_take_back([100], unreversed=100, expired=100) == [0]


def test_a_return_takes_what_is_left_and_spent_but_not_what_expired():
    # given 200 points, 60 spent and 140 expired: the two items come back one at a time
    first = points_to_take_back([100], unreversed=200, expired=140)
    second = points_to_take_back([100], unreversed=200 - sum(first), expired=140)
    # then 60 in all: the share that was spent, none of the expired
    assert (first, second) == ([60], [0])


def test_a_return_with_nothing_expired_takes_every_line_its_share():
    assert points_to_take_back([30, 70], unreversed=100, expired=0) == [30, 70]


def test_what_a_return_may_take_is_shared_out_in_line_order():
    assert points_to_take_back([30, 70, 5], unreversed=100, expired=40) == [30, 30, 0]


@given(
    wanted=st.lists(st.integers(0, 500), min_size=1, max_size=5),
    unreversed=st.integers(0, 3_000),
    expired=st.integers(0, 3_000),
)
def test_a_return_never_takes_more_than_the_unexpired_rest_nor_more_than_a_line_wants(
    wanted, unreversed, expired
):
    taken = points_to_take_back(wanted, unreversed=unreversed, expired=expired)
    assert all(0 <= t <= w for t, w in zip(taken, wanted, strict=True))
    assert sum(taken) == min(sum(wanted), max(unreversed - expired, 0))
