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
