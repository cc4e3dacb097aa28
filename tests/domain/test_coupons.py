"""Coupon rules without a database (groundwork for issue 5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.coupons import (
    Cart,
    CartLine,
    CouponKind,
    Outcome,
    Reason,
    Template,
    combine,
    evaluate,
    percent_off,
    spread,
    validate_cart,
    validate_template,
    validity,
)
from domain.errors import Collector
from domain.points import MAX_MONEY

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
WINDOW = {"valid_from": NOW - timedelta(days=1), "valid_until": NOW + timedelta(days=30)}


def cart(*lines: tuple[str, str, int, int], shipping: int = 0) -> Cart:
    return Cart(tuple(CartLine(*line) for line in lines), shipping)


def run(t: Template, c: Cart, *, tier_id: int | None = 1, now: datetime = NOW):
    starts, ends = validity(t, NOW - timedelta(days=1))
    return evaluate(t, c, tier_id=tier_id, starts=starts, ends=ends, now=now)


def fields(t: Template) -> list[str | None]:
    errors = Collector()
    validate_template(t, errors)
    return [e.field for e in errors.errors]


@pytest.mark.parametrize(
    ("template", "field"),
    [
        (Template(CouponKind.PERCENT_OFF, percent=10_001, **WINDOW), "percentOff"),
        (Template(CouponKind.PERCENT_OFF, percent=0, **WINDOW), "percentOff"),
        (Template(CouponKind.AMOUNT_OFF, amount=-5, threshold=100, **WINDOW), "amountOff"),
        (Template(CouponKind.NO_THRESHOLD, amount=0, **WINDOW), "amountOff"),
        (Template(CouponKind.AMOUNT_OFF, amount=2_000, threshold=1_000, **WINDOW), "threshold"),
        (Template(CouponKind.AMOUNT_OFF, amount=2_000, threshold=-1, **WINDOW), "threshold"),
        (Template(CouponKind.PERCENT_OFF, percent=500, cap=0, **WINDOW), "cap"),
        (Template(CouponKind.GIFT, **WINDOW), "giftSku"),
        (Template(CouponKind.FREE_SHIPPING), "validDays"),
        (Template(CouponKind.FREE_SHIPPING, valid_days=7, **WINDOW), "validDays"),
        (Template(CouponKind.FREE_SHIPPING, valid_from=NOW, valid_until=NOW), "validUntil"),
        (Template(CouponKind.FREE_SHIPPING, valid_days=7, total_stock=0), "totalStock"),
    ],
)
def test_templates_no_programme_could_mean_are_refused(template, field):
    assert field in fields(template)


def test_a_sensible_template_passes():
    assert (
        fields(Template(CouponKind.AMOUNT_OFF, amount=2_000, threshold=19_900, valid_days=30)) == []
    )


def test_percent_off_rounds_half_down_and_respects_the_cap():
    assert percent_off(1_005, 1_000, None) == 100  # 100.5 -> 100
    assert percent_off(1_006, 1_000, None) == 101  # 100.6 -> 101
    assert percent_off(100_000, 2_000, 5_000) == 5_000


@given(st.integers(0, 10**9), st.integers(1, 10_000), st.one_of(st.none(), st.integers(1, 10**6)))
def test_a_percentage_never_exceeds_the_amount_or_the_cap(amount, percent, cap):
    off = percent_off(amount, percent, cap)
    assert 0 <= off <= amount
    assert cap is None or off <= cap


def test_twenty_off_199_counts_eligible_lines_only():
    t = Template(
        CouponKind.AMOUNT_OFF,
        amount=2_000,
        threshold=19_900,
        eligible_categories=frozenset({"shoes"}),
        **WINDOW,
    )
    enough = run(t, cart(("run", "shoes", 19_900, 1), ("sock", "socks", 5_000, 1)))
    assert (enough.applies, enough.discount) == (True, 2_000)
    short = run(t, cart(("run", "shoes", 15_000, 1), ("sock", "socks", 10_000, 1)))
    assert (short.applies, short.reasons) == (False, (Reason.BELOW_THRESHOLD,))
    other = run(t, cart(("sock", "socks", 50_000, 1)))
    assert other.reasons == (Reason.CATEGORY_MISMATCH,)


def test_every_reason_is_reported():
    t = Template(
        CouponKind.AMOUNT_OFF,
        amount=2_000,
        threshold=19_900,
        eligible_tiers=frozenset({3}),
        **WINDOW,
    )
    late = run(t, cart(("a", "x", 100, 1)), tier_id=1, now=NOW + timedelta(days=40))
    assert set(late.reasons) == {Reason.EXPIRED, Reason.NOT_ELIGIBLE_TIER, Reason.BELOW_THRESHOLD}
    early = run(t, cart(("a", "x", 30_000, 1)), tier_id=3, now=NOW - timedelta(days=2))
    assert early.reasons == (Reason.NOT_STARTED,)


def test_days_from_issue_start_at_issue():
    t = Template(CouponKind.NO_THRESHOLD, amount=500, valid_days=7)
    assert validity(t, NOW) == (NOW, NOW + timedelta(days=7))


def test_no_threshold_never_takes_more_than_the_cart():
    t = Template(CouponKind.NO_THRESHOLD, amount=5_000, **WINDOW)
    assert run(t, cart(("a", "x", 3_000, 1))).discount == 3_000


def test_free_shipping_and_gift():
    ship = Template(CouponKind.FREE_SHIPPING, **WINDOW)
    assert run(ship, cart(("a", "x", 100, 1), shipping=1_200)).shipping_discount == 1_200
    assert run(ship, cart(("a", "x", 100, 1))).reasons == (Reason.NO_SHIPPING_FEE,)
    gift = Template(CouponKind.GIFT, gift_sku="tote", **WINDOW)
    assert run(gift, cart(("a", "x", 100, 1))).gift_sku == "tote"


def test_stackable_coupons_all_apply_and_an_exclusive_one_only_alone():
    c = cart(("a", "x", 30_000, 1), shipping=1_000)
    ten = Template(CouponKind.NO_THRESHOLD, amount=1_000, stackable=True, **WINDOW)
    ship = Template(CouponKind.FREE_SHIPPING, stackable=True, **WINDOW)
    big = Template(CouponKind.AMOUNT_OFF, amount=5_000, threshold=20_000, **WINDOW)
    small = Template(CouponKind.NO_THRESHOLD, amount=500, **WINDOW)
    both = combine([(ten, run(ten, c)), (ship, run(ship, c))], c)
    assert [o.applies for o in both] == [True, True]
    # the exclusive 50 beats the stackable 10 + shipping 10: it alone applies
    mixed = combine([(ten, run(ten, c)), (ship, run(ship, c)), (big, run(big, c))], c)
    assert [o.applies for o in mixed] == [False, False, True]
    assert mixed[0].reasons == (Reason.NOT_STACKABLE,)
    # two exclusive ones: the bigger saving stays
    two = combine([(small, run(small, c)), (big, run(big, c))], c)
    assert [o.applies for o in two] == [False, True]
    # an exclusive one worth less than the stackables together gives way to them
    few = combine([(ten, run(ten, c)), (ship, run(ship, c)), (small, run(small, c))], c)
    assert [o.applies for o in few] == [True, True, False]


def test_stacked_restricted_coupons_take_no_more_than_their_eligible_lines_are_worth():
    # given X 100.00 (category x) and Y 100.00, and two stackable coupons for x only:
    # 80 off 80, then 50% off
    c = cart(("X", "x", 10_000, 1), ("Y", "y", 10_000, 1))
    only_x = frozenset({"x"})
    eighty = Template(
        CouponKind.AMOUNT_OFF,
        amount=8_000,
        threshold=8_000,
        eligible_categories=only_x,
        stackable=True,
        **WINDOW,
    )
    half = Template(
        CouponKind.PERCENT_OFF,
        percent=5_000,
        eligible_categories=only_x,
        stackable=True,
        **WINDOW,
    )
    # when both are combined
    both = combine([(eighty, run(eighty, c)), (half, run(half, c))], c)
    # then the second takes only the 20.00 left of X, nothing of Y
    assert [(o.applies, o.discount) for o in both] == [(True, 8_000), (True, 2_000)]


def test_an_unrestricted_coupon_after_a_restricted_one_takes_the_rest_of_the_cart():
    # given X 100.00 (x) and Y 50.00; 90 off X, then 100 off anything
    c = cart(("X", "x", 10_000, 1), ("Y", "y", 5_000, 1))
    on_x = Template(
        CouponKind.NO_THRESHOLD,
        amount=9_000,
        eligible_categories=frozenset({"x"}),
        stackable=True,
        **WINDOW,
    )
    anything = Template(CouponKind.NO_THRESHOLD, amount=10_000, stackable=True, **WINDOW)
    # when
    both = combine([(on_x, run(on_x, c)), (anything, run(anything, c))], c)
    # then the second is capped by what is left of the whole cart: 10.00 of X and 50.00 of Y
    assert [o.discount for o in both] == [9_000, 6_000]


def test_an_unrestricted_coupon_first_leaves_a_restricted_one_its_share_of_the_lines():
    # given X 100.00 (x) and Y 100.00; 100 off anything first, then 80 off X
    c = cart(("X", "x", 10_000, 1), ("Y", "y", 10_000, 1))
    anything = Template(CouponKind.NO_THRESHOLD, amount=10_000, stackable=True, **WINDOW)
    on_x = Template(
        CouponKind.NO_THRESHOLD,
        amount=8_000,
        eligible_categories=frozenset({"x"}),
        stackable=True,
        **WINDOW,
    )
    # when
    both = combine([(anything, run(anything, c)), (on_x, run(on_x, c))], c)
    # then the first took 50.00 of each line (pro rata), so 50.00 of X is left for the second
    assert [o.discount for o in both] == [10_000, 5_000]


def test_spread_splits_exactly_and_never_past_a_line():
    assert spread(10, [3, 3, 3, 1]) == [3, 3, 3, 1]
    assert spread(5, [10, 10, 0]) == [3, 2, 0]  # the odd unit to the first of equal fractions
    assert spread(7, [0, 0]) == [0, 0]
    assert spread(1, [1, 2]) == [0, 1]


@given(
    lines=st.lists(
        st.tuples(st.sampled_from(["x", "y", "z"]), st.integers(0, 50_000), st.integers(1, 3)),
        min_size=1,
        max_size=6,
    ),
    coupons=st.lists(
        st.tuples(
            st.sampled_from([CouponKind.NO_THRESHOLD, CouponKind.PERCENT_OFF]),
            st.integers(1, 60_000),
            st.frozensets(st.sampled_from(["x", "y", "z"]), max_size=2),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_stacked_coupons_never_take_more_than_any_set_of_eligible_lines_is_worth(lines, coupons):
    # given a cart and stackable coupons, each maybe restricted to some categories
    c = cart(*((f"s{n}", cat, price, qty) for n, (cat, price, qty) in enumerate(lines)))
    templates = [
        Template(
            kind,
            amount=value,
            percent=min(value, 10_000),
            eligible_categories=cats,
            stackable=True,
            **WINDOW,
        )
        for kind, value, cats in coupons
    ]
    # when
    combined = combine([(t, run(t, c)) for t in templates], c)
    # then no coupon takes more than its eligible lines are worth, and for every set of
    # categories, the coupons restricted within it take at most what its lines are worth
    for t, o in zip(templates, combined, strict=True):
        assert (
            0
            <= o.discount
            <= sum(
                x.amount
                for x in c.lines
                if not t.eligible_categories or x.category in t.eligible_categories
            )
        )
    for subset in ({"x"}, {"y"}, {"z"}, {"x", "y"}, {"x", "z"}, {"y", "z"}, {"x", "y", "z"}):
        within = sum(
            o.discount
            for t, o in zip(templates, combined, strict=True)
            if t.eligible_categories and t.eligible_categories <= subset
        )
        assert within <= sum(x.amount for x in c.lines if x.category in subset)
    assert sum(o.discount for o in combined) <= sum(x.amount for x in c.lines)


# ---- evaluate: the validity window's edges -------------------------------------------------

STARTS, ENDS = WINDOW["valid_from"], WINDOW["valid_until"]


def test_a_coupon_applies_from_the_very_moment_its_window_starts():
    # given a 5.00-off coupon and a cart
    t = Template(CouponKind.NO_THRESHOLD, amount=500, **WINDOW)
    c = cart(("a", "x", 3_000, 1))
    # when it is used exactly when its window opens
    outcome = run(t, c, now=STARTS)
    # then it applies
    assert outcome == Outcome(True, 500)


def test_a_coupon_has_expired_at_the_very_moment_its_window_ends():
    # given
    t = Template(CouponKind.NO_THRESHOLD, amount=500, **WINDOW)
    c = cart(("a", "x", 3_000, 1))
    # when it is used exactly when its window closes, and a microsecond before
    at_end = run(t, c, now=ENDS)
    just_before = run(t, c, now=ENDS - timedelta(microseconds=1))
    # then the end is exclusive
    assert at_end == Outcome(False, 0, reasons=(Reason.EXPIRED,))
    assert just_before == Outcome(True, 500)


# ---- evaluate: percent off, restrictions, exact outcomes -----------------------------------


def test_percent_off_takes_its_share_of_the_eligible_lines_only():
    # given X 100.00 (category x) and Y 50.00, and 10% off category x
    c = cart(("X", "x", 10_000, 1), ("Y", "y", 5_000, 1))
    t = Template(
        CouponKind.PERCENT_OFF, percent=1_000, eligible_categories=frozenset({"x"}), **WINDOW
    )
    # when / then 10% of 100.00, not of 150.00
    assert run(t, c) == Outcome(True, 1_000)


def test_percent_off_stops_at_its_cap():
    # given 300.00 of goods, 15% off capped at 20.00
    c = cart(("X", "x", 10_000, 3))
    t = Template(CouponKind.PERCENT_OFF, percent=1_500, cap=2_000, **WINDOW)
    # when / then 45.00 would be 15%: the cap holds it to 20.00
    assert run(t, c) == Outcome(True, 2_000)


def test_a_percent_off_threshold_counts_eligible_lines_only():
    # given 20% off category x from 100.00, X 99.99 and Y 500.00
    t = Template(
        CouponKind.PERCENT_OFF,
        percent=2_000,
        threshold=10_000,
        eligible_categories=frozenset({"x"}),
        **WINDOW,
    )
    short = cart(("X", "x", 9_999, 1), ("Y", "y", 50_000, 1))
    enough = cart(("X", "x", 10_000, 1), ("Y", "y", 50_000, 1))
    # when / then
    assert run(t, short) == Outcome(False, 0, reasons=(Reason.BELOW_THRESHOLD,))
    assert run(t, enough) == Outcome(True, 2_000)


def test_a_sku_restricted_coupon_takes_no_more_than_its_skus_are_worth():
    # given A 80.00 and B 20.00, and 100.00 off sku A only
    c = cart(("A", "x", 8_000, 1), ("B", "x", 2_000, 1))
    t = Template(CouponKind.NO_THRESHOLD, amount=10_000, eligible_skus=frozenset({"A"}), **WINDOW)
    # when / then it takes all of A and nothing of B
    assert run(t, c) == Outcome(True, 8_000)


def test_a_sku_restricted_percent_off_counts_its_skus_only():
    # given A 80.00 and B 20.00, and 50% off sku B
    c = cart(("A", "x", 8_000, 1), ("B", "x", 2_000, 1))
    t = Template(CouponKind.PERCENT_OFF, percent=5_000, eligible_skus=frozenset({"B"}), **WINDOW)
    # when / then
    assert run(t, c) == Outcome(True, 1_000)


def test_a_coupon_for_skus_not_in_the_cart_is_a_category_mismatch():
    # given
    c = cart(("A", "x", 8_000, 1))
    t = Template(CouponKind.NO_THRESHOLD, amount=500, eligible_skus=frozenset({"Z"}), **WINDOW)
    # when / then
    assert run(t, c) == Outcome(False, 0, reasons=(Reason.CATEGORY_MISMATCH,))


def test_a_coupon_restricted_by_category_and_sku_needs_a_line_that_is_both():
    # given sku A in category y, sku B in category x; the coupon wants sku A in category x
    c = cart(("A", "y", 8_000, 1), ("B", "x", 2_000, 1))
    t = Template(
        CouponKind.NO_THRESHOLD,
        amount=500,
        eligible_categories=frozenset({"x"}),
        eligible_skus=frozenset({"A"}),
        **WINDOW,
    )
    # when / then no line is both
    assert run(t, c).reasons == (Reason.CATEGORY_MISMATCH,)


def test_free_shipping_and_a_gift_take_nothing_off_the_items():
    # given a cart with 12.00 shipping
    c = cart(("a", "x", 100, 1), shipping=1_200)
    ship = Template(CouponKind.FREE_SHIPPING, **WINDOW)
    gift = Template(CouponKind.GIFT, gift_sku="tote", **WINDOW)
    # when / then
    assert run(ship, c) == Outcome(True, 0, shipping_discount=1_200)
    assert run(gift, c) == Outcome(True, 0, gift_sku="tote")


# ---- combine: exact outcomes ---------------------------------------------------------------

GAVE_WAY = Outcome(False, 0, reasons=(Reason.NOT_STACKABLE,))


def together(c: Cart, *templates: Template) -> list[Outcome]:
    return combine([(t, run(t, c)) for t in templates], c)


def test_of_two_exclusive_coupons_the_bigger_saving_stays_whichever_comes_first():
    # given 300.00 of goods, an exclusive 50.00 off and an exclusive 5.00 off
    c = cart(("a", "x", 30_000, 1))
    big = Template(CouponKind.NO_THRESHOLD, amount=5_000, **WINDOW)
    small = Template(CouponKind.NO_THRESHOLD, amount=500, **WINDOW)
    # when the bigger one is listed first
    outcomes = together(c, big, small)
    # then it stays and the other gives way, taking nothing
    assert outcomes == [Outcome(True, 5_000), GAVE_WAY]


def test_an_exclusive_coupon_worth_as_much_as_the_stackables_together_wins_the_tie():
    # given stackable 10.00 + 10.00 and an exclusive 20.00
    c = cart(("a", "x", 30_000, 1))
    ten = Template(CouponKind.NO_THRESHOLD, amount=1_000, stackable=True, **WINDOW)
    twenty = Template(CouponKind.NO_THRESHOLD, amount=2_000, **WINDOW)
    # when / then the exclusive one applies alone
    assert together(c, ten, ten, twenty) == [GAVE_WAY, GAVE_WAY, Outcome(True, 2_000)]


def test_a_second_free_shipping_coupon_finds_no_shipping_fee_left():
    # given 12.00 shipping and two stackable free-shipping coupons
    c = cart(("a", "x", 5_000, 1), shipping=1_200)
    ship = Template(CouponKind.FREE_SHIPPING, stackable=True, **WINDOW)
    # when / then the fee is waived once
    assert together(c, ship, ship) == [Outcome(True, 0, 1_200), Outcome(True, 0, 0)]


def test_combine_hands_back_every_stacked_coupons_exact_effect():
    # given 80.00 of goods with 10.00 shipping: 15.00 off, free shipping and a gift, all stackable
    c = cart(("a", "x", 5_000, 1), ("b", "y", 3_000, 1), shipping=1_000)
    off = Template(CouponKind.NO_THRESHOLD, amount=1_500, stackable=True, **WINDOW)
    ship = Template(CouponKind.FREE_SHIPPING, stackable=True, **WINDOW)
    gift = Template(CouponKind.GIFT, gift_sku="tote", stackable=True, **WINDOW)
    # when / then
    assert together(c, off, ship, gift) == [
        Outcome(True, 1_500),
        Outcome(True, 0, shipping_discount=1_000),
        Outcome(True, 0, gift_sku="tote"),
    ]


def test_coupons_that_do_not_apply_pass_through_combine_unchanged():
    # given one coupon that applies and one below its threshold
    c = cart(("a", "x", 5_000, 1))
    ok = Template(CouponKind.NO_THRESHOLD, amount=500, stackable=True, **WINDOW)
    short = Template(
        CouponKind.AMOUNT_OFF, amount=2_000, threshold=19_900, stackable=True, **WINDOW
    )
    # when / then
    assert together(c, ok, short) == [
        Outcome(True, 500),
        Outcome(False, 0, reasons=(Reason.BELOW_THRESHOLD,)),
    ]


def test_stacked_coupons_are_capped_by_what_is_left_of_the_cart():
    # given 100.00 of goods and three stackable coupons worth 60.00, 30.00 and 30.00
    c = cart(("a", "x", 6_000, 1), ("b", "y", 4_000, 1))
    sixty = Template(CouponKind.NO_THRESHOLD, amount=6_000, stackable=True, **WINDOW)
    thirty = Template(CouponKind.NO_THRESHOLD, amount=3_000, stackable=True, **WINDOW)
    # when / then the last takes only the 10.00 left
    assert [o.discount for o in together(c, sixty, thirty, thirty)] == [6_000, 3_000, 1_000]


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
