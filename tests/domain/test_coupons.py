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
    Reason,
    Template,
    combine,
    evaluate,
    percent_off,
    spread,
    validate_template,
    validity,
)
from domain.errors import Collector

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
