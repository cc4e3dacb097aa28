"""What coupons take off a cart, to the fen: the validity window's edges, percent-off and
sku-restricted coupons, the amounts `combine` hands back, and the shape of a cart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.coupons import (
    Cart,
    CartLine,
    CouponKind,
    Outcome,
    Reason,
    Template,
    combine,
    evaluate,
    spread,
    validate_cart,
)
from domain.errors import Collector
from domain.points import MAX_MONEY

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
STARTS = NOW - timedelta(days=1)
ENDS = NOW + timedelta(days=30)


def cart(*lines: tuple[str, str, int, int], shipping: int = 0) -> Cart:
    return Cart(tuple(CartLine(*line) for line in lines), shipping)


def run(t: Template, c: Cart, *, now: datetime = NOW, tier_id: int | None = 1) -> Outcome:
    return evaluate(t, c, tier_id=tier_id, starts=STARTS, ends=ENDS, now=now)


def together(c: Cart, *templates: Template) -> list[Outcome]:
    return combine([(t, run(t, c)) for t in templates], c)


# ---- evaluate: the validity window ---------------------------------------------------------


def test_a_coupon_applies_from_the_very_moment_its_window_starts():
    # given a 5.00-off coupon and a cart
    t = Template(CouponKind.NO_THRESHOLD, amount=500)
    c = cart(("a", "x", 3_000, 1))
    # when it is used exactly when its window opens
    outcome = run(t, c, now=STARTS)
    # then it applies
    assert outcome == Outcome(True, 500)


def test_a_coupon_has_expired_at_the_very_moment_its_window_ends():
    # given
    t = Template(CouponKind.NO_THRESHOLD, amount=500)
    c = cart(("a", "x", 3_000, 1))
    # when it is used exactly when its window closes, and a microsecond before
    at_end = run(t, c, now=ENDS)
    just_before = run(t, c, now=ENDS - timedelta(microseconds=1))
    # then the end is exclusive
    assert at_end == Outcome(False, 0, reasons=(Reason.EXPIRED,))
    assert just_before == Outcome(True, 500)


# ---- evaluate: percent off and restrictions ------------------------------------------------


def test_percent_off_takes_its_share_of_the_eligible_lines_only():
    # given X 100.00 (category x) and Y 50.00, and 10% off category x
    c = cart(("X", "x", 10_000, 1), ("Y", "y", 5_000, 1))
    t = Template(CouponKind.PERCENT_OFF, percent=1_000, eligible_categories=frozenset({"x"}))
    # when / then 10% of 100.00, not of 150.00
    assert run(t, c) == Outcome(True, 1_000)


def test_percent_off_stops_at_its_cap():
    # given 300.00 of goods, 15% off capped at 20.00
    c = cart(("X", "x", 10_000, 3))
    t = Template(CouponKind.PERCENT_OFF, percent=1_500, cap=2_000)
    # when / then 45.00 would be 15%: the cap holds it to 20.00
    assert run(t, c) == Outcome(True, 2_000)


def test_a_percent_off_threshold_counts_eligible_lines_only():
    # given 20% off category x from 100.00, X 99.99 and Y 500.00
    t = Template(
        CouponKind.PERCENT_OFF, percent=2_000, threshold=10_000, eligible_categories=frozenset({"x"})
    )
    short = cart(("X", "x", 9_999, 1), ("Y", "y", 50_000, 1))
    enough = cart(("X", "x", 10_000, 1), ("Y", "y", 50_000, 1))
    # when / then
    assert run(t, short) == Outcome(False, 0, reasons=(Reason.BELOW_THRESHOLD,))
    assert run(t, enough) == Outcome(True, 2_000)


def test_a_sku_restricted_coupon_takes_no_more_than_its_skus_are_worth():
    # given A 80.00 and B 20.00, and 100.00 off sku A only
    c = cart(("A", "x", 8_000, 1), ("B", "x", 2_000, 1))
    t = Template(CouponKind.NO_THRESHOLD, amount=10_000, eligible_skus=frozenset({"A"}))
    # when / then it takes all of A and nothing of B
    assert run(t, c) == Outcome(True, 8_000)


def test_a_sku_restricted_percent_off_counts_its_skus_only():
    # given A 80.00 and B 20.00, and 50% off sku B
    c = cart(("A", "x", 8_000, 1), ("B", "x", 2_000, 1))
    t = Template(CouponKind.PERCENT_OFF, percent=5_000, eligible_skus=frozenset({"B"}))
    # when / then
    assert run(t, c) == Outcome(True, 1_000)


def test_a_coupon_restricted_to_skus_not_in_the_cart_is_a_category_mismatch():
    # given
    c = cart(("A", "x", 8_000, 1))
    t = Template(CouponKind.NO_THRESHOLD, amount=500, eligible_skus=frozenset({"Z"}))
    # when / then
    assert run(t, c) == Outcome(False, 0, reasons=(Reason.CATEGORY_MISMATCH,))


def test_a_coupon_restricted_by_category_and_sku_needs_both():
    # given sku A in category y, sku B in category x; the coupon wants sku A in category x
    c = cart(("A", "y", 8_000, 1), ("B", "x", 2_000, 1))
    t = Template(
        CouponKind.NO_THRESHOLD,
        amount=500,
        eligible_categories=frozenset({"x"}),
        eligible_skus=frozenset({"A"}),
    )
    # when / then no line is both
    assert run(t, c).reasons == (Reason.CATEGORY_MISMATCH,)


def test_free_shipping_and_a_gift_take_nothing_off_the_items():
    # given a cart with 12.00 shipping
    c = cart(("a", "x", 100, 1), shipping=1_200)
    ship = Template(CouponKind.FREE_SHIPPING)
    gift = Template(CouponKind.GIFT, gift_sku="tote")
    # when / then
    assert run(ship, c) == Outcome(True, 0, shipping_discount=1_200)
    assert run(gift, c) == Outcome(True, 0, gift_sku="tote")


# ---- combine -------------------------------------------------------------------------------


def test_of_two_exclusive_coupons_the_bigger_saving_stays_whichever_comes_first():
    # given 300.00 of goods, an exclusive 50.00 off and an exclusive 5.00 off
    c = cart(("a", "x", 30_000, 1))
    big = Template(CouponKind.NO_THRESHOLD, amount=5_000)
    small = Template(CouponKind.NO_THRESHOLD, amount=500)
    # when the bigger one is listed first
    outcomes = together(c, big, small)
    # then it stays and the other gives way, taking nothing
    assert outcomes == [Outcome(True, 5_000), Outcome(False, 0, reasons=(Reason.NOT_STACKABLE,))]


def test_an_exclusive_coupon_worth_as_much_as_the_stackables_together_wins_the_tie():
    # given stackable 10.00 + 10.00 and an exclusive 20.00
    c = cart(("a", "x", 30_000, 1))
    ten = Template(CouponKind.NO_THRESHOLD, amount=1_000, stackable=True)
    twenty = Template(CouponKind.NO_THRESHOLD, amount=2_000)
    # when
    outcomes = together(c, ten, ten, twenty)
    # then the exclusive one applies alone
    gave_way = Outcome(False, 0, reasons=(Reason.NOT_STACKABLE,))
    assert outcomes == [gave_way, gave_way, Outcome(True, 2_000)]


def test_a_second_free_shipping_coupon_finds_no_shipping_fee_left():
    # given 12.00 shipping and two stackable free-shipping coupons
    c = cart(("a", "x", 5_000, 1), shipping=1_200)
    ship = Template(CouponKind.FREE_SHIPPING, stackable=True)
    # when
    outcomes = together(c, ship, ship)
    # then the fee is waived once
    assert outcomes == [Outcome(True, 0, 1_200), Outcome(True, 0, 0)]


def test_combine_hands_back_every_stacked_coupons_exact_effect():
    # given 80.00 of goods with 10.00 shipping: 15.00 off, free shipping and a gift, all stackable
    c = cart(("a", "x", 5_000, 1), ("b", "y", 3_000, 1), shipping=1_000)
    off = Template(CouponKind.NO_THRESHOLD, amount=1_500, stackable=True)
    ship = Template(CouponKind.FREE_SHIPPING, stackable=True)
    gift = Template(CouponKind.GIFT, gift_sku="tote", stackable=True)
    # when
    outcomes = together(c, off, ship, gift)
    # then
    assert outcomes == [
        Outcome(True, 1_500),
        Outcome(True, 0, shipping_discount=1_000),
        Outcome(True, 0, gift_sku="tote"),
    ]


def test_coupons_that_do_not_apply_pass_through_combine_unchanged():
    # given one coupon that applies and one below its threshold
    c = cart(("a", "x", 5_000, 1))
    ok = Template(CouponKind.NO_THRESHOLD, amount=500, stackable=True)
    short = Template(CouponKind.AMOUNT_OFF, amount=2_000, threshold=19_900, stackable=True)
    # when / then
    assert together(c, ok, short) == [
        Outcome(True, 500),
        Outcome(False, 0, reasons=(Reason.BELOW_THRESHOLD,)),
    ]


def test_stacked_coupons_are_capped_by_what_is_left_of_the_cart():
    # given 100.00 of goods and three stackable coupons worth 60.00, 30.00 and 30.00
    c = cart(("a", "x", 6_000, 1), ("b", "y", 4_000, 1))
    sixty = Template(CouponKind.NO_THRESHOLD, amount=6_000, stackable=True)
    thirty = Template(CouponKind.NO_THRESHOLD, amount=3_000, stackable=True)
    # when
    outcomes = together(c, sixty, thirty, thirty)
    # then the last takes only the 10.00 left
    assert [o.discount for o in outcomes] == [6_000, 3_000, 1_000]


# ---- spread --------------------------------------------------------------------------------


def test_spread_gives_the_odd_unit_to_the_largest_fraction_not_the_largest_line():
    # given 3 units over lines of 5 and 2: exact shares 2.14 and 0.86
    # when / then the leftover unit goes to the 0.86
    assert spread(3, [5, 2]) == [2, 1]


# ---- validate_cart -------------------------------------------------------------------------


def cart_fields(c: Cart, codes: list[str]) -> list[str | None]:
    errors = Collector()
    validate_cart(c, codes, errors)
    return [e.field for e in errors.errors]


def test_a_cart_at_every_lower_limit_is_accepted():
    # given one free item with a 1-character sku and category, no shipping, one code
    # when / then
    assert cart_fields(cart(("a", "b", 0, 1)), ["C"]) == []


def test_a_cart_at_every_upper_limit_is_accepted():
    # given 500 lines worth MAX_MONEY in all, 10,000 of one item, 64-character skus and
    # categories, shipping of MAX_MONEY and 20 codes
    lines = [(f"{n:064d}", "c" * 64, 0, 10_000) for n in range(499)]
    c = cart(*lines, ("top", "c", MAX_MONEY, 1), shipping=MAX_MONEY)
    # when / then
    assert cart_fields(c, [f"C{n}" for n in range(20)]) == []


@pytest.mark.parametrize(
    ("c", "codes", "field"),
    [
        (cart(), ["C"], "cart.lines"),
        (cart(*((f"s{n}", "c", 1, 1) for n in range(501))), ["C"], "cart.lines"),
        (cart(("s" * 65, "c", 1, 1)), ["C"], "cart.lines.0.sku"),
        (cart(("a", "c", 1, 1), ("b", "", 1, 1)), ["C"], "cart.lines.1.category"),
        (cart(("a", "c" * 65, 1, 1)), ["C"], "cart.lines.0.category"),
        (cart(("a", "c\n", 1, 1)), ["C"], "cart.lines.0.category"),
        (cart(("a", "c", -1, 1)), ["C"], "cart.lines.0.unitPrice"),
        (cart(("a", "c", MAX_MONEY + 1, 1)), ["C"], "cart.lines.0.unitPrice"),
        (cart(("a", "c", 1, 0)), ["C"], "cart.lines.0.quantity"),
        (cart(("a", "c", 1, 10_001)), ["C"], "cart.lines.0.quantity"),
        (cart(("a", "c", 1, 1), shipping=-1), ["C"], "cart.shippingFee"),
        (cart(("a", "c", 1, 1), shipping=MAX_MONEY + 1), ["C"], "cart.shippingFee"),
        (cart(("a", "c", MAX_MONEY, 1), ("b", "c", 1, 1)), ["C"], "cart.lines"),
        (cart(("a", "c", 1, 1)), [], "codes"),
        (cart(("a", "c", 1, 1)), [f"C{n}" for n in range(21)], "codes"),
        (cart(("a", "c", 1, 1)), ["C", "D", "C"], "codes"),
    ],
)
def test_one_thing_wrong_with_a_cart_is_reported_on_its_field(c, codes, field):
    # given / when / then
    assert cart_fields(c, codes) == [field]


def test_a_cart_whose_lines_are_already_wrong_is_not_also_called_too_large():
    # given a line priced past the limit: the total is past it too, but that says nothing new
    c = cart(("a", "c", MAX_MONEY + 1, 1), ("b", "c", MAX_MONEY, 1))
    # when / then
    assert cart_fields(c, ["C"]) == ["cart.lines.0.unitPrice"]
