"""The accepted limits of a points policy and of an order: each range's ends are accepted and
one past either end is refused, on the field a client would correct."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest

from domain.errors import Collector
from domain.points import (
    MAX_MONEY,
    Multipliers,
    OrderLine,
    Payment,
    PaymentMethod,
    PointsPolicy,
    check_sku,
    order_points,
    validate_order,
    validate_policy,
)

COUNTS = ("checkin_points", "streak_bonus", "review_points", "referral_points")


def policy_fields(**overrides: Any) -> list[str | None]:
    errors = Collector()
    validate_policy(PointsPolicy(**overrides), errors)
    return [e.field for e in errors.errors]


def order_fields(lines: list[OrderLine], payments: list[Payment]) -> list[str | None]:
    errors = Collector()
    validate_order(lines, payments, errors)
    return [e.field for e in errors.errors]


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


# ---- validate_policy -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"full_price_rate": Fraction(0), "discounted_rate": Fraction(0), "gift_card_rate": 0},
        {"full_price_rate": Fraction(100), "discounted_rate": Fraction(100), "gift_card_rate": 100},
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


# ---- validate_order ------------------------------------------------------------------------


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
    assert [e.field for e in errors.errors] == ["sku"]


# ---- order_points --------------------------------------------------------------------------


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
