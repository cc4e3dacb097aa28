"""A coupon's life in the wallet, without a database: status on the clock, and which
checkout moves each state allows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from domain.coupons import (
    CouponState,
    CouponStatus,
    Reason,
    Refusal,
    Template,
    effective_status,
    redeem_refusal,
    release_refusal,
    usable_refusal,
    validate_template,
)
from domain.coupons.templates import CouponKind, issuable
from domain.coupons.wallet import (
    CODE_ALPHABET,
    allowance_period,
    birthday_period,
    format_code,
    looks_like_code,
    normalise_code,
)
from domain.errors import Collector

NOW = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=30)


def state(status: CouponStatus = CouponStatus.AVAILABLE, **overrides) -> CouponState:
    fields = {"starts_at": NOW - timedelta(days=1), "ends_at": LATER, **overrides}
    return CouponState(status=status, **fields)


def locked(order_ref: str = "o-1", minutes: int = 30, **overrides) -> CouponState:
    return state(
        CouponStatus.LOCKED,
        order_ref=order_ref,
        lock_expires_at=NOW + timedelta(minutes=minutes),
        **overrides,
    )


def test_an_unused_coupon_is_available_until_its_end_then_expired():
    coupon = state()
    assert effective_status(coupon, NOW) is CouponStatus.AVAILABLE
    assert effective_status(coupon, LATER - timedelta(microseconds=1)) is CouponStatus.AVAILABLE
    assert effective_status(coupon, LATER) is CouponStatus.EXPIRED


def test_a_lapsed_lock_is_no_lock():
    coupon = locked(minutes=30)
    assert effective_status(coupon, NOW) is CouponStatus.LOCKED
    assert effective_status(coupon, NOW + timedelta(minutes=30)) is CouponStatus.AVAILABLE


def test_a_live_lock_outlasts_the_coupons_own_end():
    # given a coupon locked a minute before it ends
    coupon = locked(minutes=30, ends_at=NOW + timedelta(minutes=1))
    # then the order placed in time may still use it while the lock lives
    assert effective_status(coupon, NOW + timedelta(minutes=10)) is CouponStatus.LOCKED
    assert redeem_refusal(coupon, "o-1", NOW + timedelta(minutes=10)) is None
    # and once the lock lapses too, it is expired
    assert effective_status(coupon, NOW + timedelta(minutes=31)) is CouponStatus.EXPIRED


def test_a_used_coupon_stays_used_forever():
    coupon = state(CouponStatus.USED, order_ref="o-1")
    assert effective_status(coupon, LATER + timedelta(days=999)) is CouponStatus.USED


@given(
    stored=st.sampled_from([CouponStatus.AVAILABLE, CouponStatus.LOCKED, CouponStatus.USED]),
    lock_minutes=st.integers(-100, 100),
    at_minutes=st.integers(-100, 60 * 24 * 40),
)
def test_status_is_exactly_one_of_four_and_expiry_never_hides_a_use(
    stored, lock_minutes, at_minutes
):
    lock_at = NOW + timedelta(minutes=lock_minutes) if stored is CouponStatus.LOCKED else None
    coupon = state(stored, order_ref="o" if lock_at else None, lock_expires_at=lock_at)
    at = NOW + timedelta(minutes=at_minutes)
    status = effective_status(coupon, at)
    if stored is CouponStatus.USED:
        assert status is CouponStatus.USED
    elif lock_at is not None and at < lock_at:
        assert status is CouponStatus.LOCKED
    else:
        assert status is (CouponStatus.EXPIRED if at >= LATER else CouponStatus.AVAILABLE)


def test_usable_refusal_names_the_first_thing_in_the_way():
    assert usable_refusal(state(), NOW, None) is None
    assert usable_refusal(state(CouponStatus.USED), NOW, None) is Reason.USED
    assert usable_refusal(locked("o-1"), NOW, "o-2") is Reason.LOCKED
    assert usable_refusal(locked("o-1"), NOW, None) is Reason.LOCKED
    assert usable_refusal(locked("o-1"), NOW, "o-1") is None  # its own order
    assert usable_refusal(state(), LATER, None) is Reason.EXPIRED
    assert usable_refusal(state(starts_at=NOW + timedelta(days=1)), NOW, None) is Reason.NOT_STARTED


def test_only_a_live_lock_for_the_same_order_may_be_redeemed():
    assert redeem_refusal(locked("o-1"), "o-1", NOW) is None
    assert redeem_refusal(state(), "o-1", NOW) is Refusal.NOT_LOCKED
    assert redeem_refusal(state(CouponStatus.USED, order_ref="o-1"), "o-1", NOW) is Refusal.USED
    assert redeem_refusal(locked("o-1"), "o-2", NOW) is Refusal.LOCKED
    lapsed = NOW + timedelta(minutes=31)
    assert redeem_refusal(locked("o-1"), "o-1", lapsed) is Refusal.LOCK_EXPIRED
    assert redeem_refusal(locked("o-1"), "o-2", lapsed) is Refusal.NOT_LOCKED


def test_release_needs_the_lock_of_that_order_but_a_lapsed_one_will_do():
    assert release_refusal(locked("o-1"), "o-1", NOW) is None
    assert release_refusal(locked("o-1"), "o-1", NOW + timedelta(hours=5)) is None
    assert release_refusal(locked("o-1"), "o-2", NOW) is Refusal.NOT_LOCKED
    assert release_refusal(state(), "o-1", NOW) is Refusal.NOT_LOCKED
    assert release_refusal(state(CouponStatus.USED, order_ref="o-1"), "o-1", NOW) is Refusal.USED


def test_refusal_and_reason_names_are_error_codes():
    from domain.errors import ErrorCode

    for name in [*Refusal, *(r for r in Reason if r is not Reason.UNKNOWN_CODE)]:
        assert ErrorCode(name.value).value == name.value


def test_periods_are_the_programmes_local_month_and_year():
    assert allowance_period(datetime(2027, 1, 31, 23, 59)) == "2027-01"
    assert allowance_period(datetime(2027, 12, 1)) == "2027-12"
    assert birthday_period(datetime(2027, 6, 1)) == "2027"


def test_codes_are_grouped_and_read_back_in_any_case():
    raw = CODE_ALPHABET[:16]
    code = format_code(raw)
    assert code == "2345-6789-ABCD-EFGH"
    assert normalise_code("  2345-6789-abcd-efgh ") == code
    assert looks_like_code(code)
    assert not looks_like_code("DROP TABLE")
    assert not looks_like_code("")
    assert not any(c in CODE_ALPHABET for c in "01ILO")


def test_a_fixed_window_needs_an_end_and_a_closed_window_issues_nothing():
    errors = Collector()
    validate_template(Template(CouponKind.FREE_SHIPPING, valid_from=NOW), errors)
    assert "validUntil" in [e.field for e in errors.errors]
    template = Template(CouponKind.FREE_SHIPPING, valid_from=NOW, valid_until=LATER)
    assert issuable(template, NOW)
    assert not issuable(template, LATER)
    assert issuable(Template(CouponKind.FREE_SHIPPING, valid_days=7), LATER)


def test_category_and_sku_lists_are_bounded():
    errors = Collector()
    too_many = frozenset(f"c{n}" for n in range(501))
    validate_template(
        Template(
            CouponKind.FREE_SHIPPING,
            valid_days=7,
            eligible_categories=too_many,
            eligible_skus=frozenset({"x" * 65}),
        ),
        errors,
    )
    assert {e.field for e in errors.errors} == {"eligibleCategories", "eligibleSkus"}


def test_a_lock_cannot_be_renewed_past_the_coupons_end():
    # given a coupon locked a minute before it ends
    coupon = locked("o-1", minutes=30, ends_at=NOW + timedelta(minutes=1))
    # then, after its end, the same order may still redeem it but not lock it again
    later = NOW + timedelta(minutes=5)
    assert redeem_refusal(coupon, "o-1", later) is None
    assert usable_refusal(coupon, later, "o-1") is Reason.EXPIRED
    assert usable_refusal(coupon, NOW, "o-1") is None


def test_a_window_without_a_time_zone_is_refused_not_a_crash():
    errors = Collector()
    naive_end = datetime(2030, 2, 1)
    validate_template(
        Template(CouponKind.FREE_SHIPPING, valid_from=NOW, valid_until=naive_end), errors
    )
    assert [e.field for e in errors.errors] == ["validUntil"]
