"""Coupons at checkout through the API: lock to an order, then redeem when the order goes
through, or release (by hand, by the lock lapsing, or by cancelling the order)."""

from __future__ import annotations

from datetime import timedelta

from tests.graphql.coupons.helpers import (
    cart_line,
    coupon_for,
    coupon_of,
    errors_of,
    frozen_now,
    lock,
    locked,
    order_id,
    redeem,
    release,
    wallet_codes,
)
from tests.graphql.points.documents import CANCEL_ORDER
from tests.graphql.points.helpers import advance, mutate, parse, placed_order


async def test_a_lock_reserves_the_coupon_for_the_programmes_hold_time(
    gql, programme, make_member, keys
):
    # given
    admin, storefront = keys
    member = await make_member(programme)
    code = await coupon_for(gql, keys, member)
    now = await frozen_now(gql, admin)
    order = order_id()
    # when locked (in lower case) with a cart it applies to
    result = await lock(gql, storefront, code.lower(), order, cart={"lines": [cart_line()]})
    # then
    assert result["__typename"] == "CouponSuccess", result
    coupon = result["coupon"]
    assert (coupon["code"], coupon["status"], coupon["orderId"]) == (code, "LOCKED", order)
    assert parse(coupon["lockedUntil"]) == now + timedelta(minutes=30)
    assert coupon["discount"] == 5_000
    assert await wallet_codes(gql, storefront, member.external_id, status="LOCKED") == [code]


async def test_locking_again_for_the_same_order_renews_the_lock(gql, programme, make_member, keys):
    # given a coupon locked to an order, and 20 minutes gone
    admin, storefront = keys
    member = await make_member(programme)
    code = await coupon_for(gql, keys, member)
    order = order_id()
    await locked(gql, storefront, code, order)
    await advance(gql, admin, seconds=20 * 60)
    now = await frozen_now(gql, admin)
    # when the same order locks it again
    renewed = await locked(gql, storefront, code, order)
    # then the lock runs 30 minutes from now, and so outlives the first one
    assert parse(renewed["lockedUntil"]) == now + timedelta(minutes=30)
    await advance(gql, admin, seconds=15 * 60)
    assert (await redeem(gql, storefront, code, order))["__typename"] == "CouponSuccess"


async def test_a_live_lock_outlasts_the_coupons_own_end(gql, programme, make_member, keys):
    # given a one-day coupon locked ten minutes before it ends
    admin, storefront = keys
    member = await make_member(programme)
    await frozen_now(gql, admin)
    code = await coupon_for(gql, keys, member, validDays=1)
    await advance(gql, admin, seconds=24 * 3600 - 600)
    order = order_id()
    await locked(gql, storefront, code, order)
    # when the order goes through 20 minutes later, after the coupon's end
    await advance(gql, admin, seconds=1200)
    result = await redeem(gql, storefront, code, order)
    # then the order placed in time keeps its coupon
    assert result["__typename"] == "CouponSuccess", result
    assert result["coupon"]["status"] == "USED"


async def test_a_lock_with_a_cart_the_coupon_does_not_fit_is_refused_with_the_reasons(
    gql, programme, make_member, keys
):
    _, storefront = keys
    member = await make_member(programme)
    code = await coupon_for(gql, keys, member)
    cart = {"lines": [cart_line(unit_price=9_999)]}
    result = await lock(gql, storefront, code, order_id(), cart=cart)
    assert result["__typename"] == "LockCouponError"
    assert errors_of(result) == [("cart", "BELOW_THRESHOLD")]
    assert (await coupon_of(gql, storefront, code))["status"] == "AVAILABLE"


async def test_a_second_exclusive_coupon_on_one_order_is_not_stackable(
    gql, programme, make_member, keys
):
    _, storefront = keys
    member = await make_member(programme)
    first, second = await coupon_for(gql, keys, member), await coupon_for(gql, keys, member)
    order = order_id()
    await locked(gql, storefront, first, order)
    result = await lock(gql, storefront, second, order)
    assert result["__typename"] == "LockCouponError"
    assert errors_of(result) == [("code", "NOT_STACKABLE")]
    assert (await coupon_of(gql, storefront, second))["status"] == "AVAILABLE"


async def test_stackable_coupons_lock_together_on_one_order(gql, programme, make_member, keys):
    _, storefront = keys
    member = await make_member(programme)
    first = await coupon_for(gql, keys, member, stackable=True)
    second = await coupon_for(gql, keys, member, stackable=True)
    order = order_id()
    await locked(gql, storefront, first, order)
    assert (await locked(gql, storefront, second, order))["orderId"] == order


async def test_a_coupon_locked_to_one_order_cannot_go_on_another(gql, programme, make_member, keys):
    # given a coupon locked to order A
    _, storefront = keys
    member = await make_member(programme)
    code = await coupon_for(gql, keys, member)
    order_a, order_b = order_id(), order_id()
    await locked(gql, storefront, code, order_a)
    # when order B locks or redeems it
    locking = await lock(gql, storefront, code, order_b)
    redeeming = await redeem(gql, storefront, code, order_b)
    releasing = await release(gql, storefront, code, order_b)
    # then
    assert locking["__typename"] == "LockCouponError"
    assert errors_of(locking) == [("code", "LOCKED")]
    assert redeeming["__typename"] == "RedeemCouponError"
    assert errors_of(redeeming) == [("code", "LOCKED")]
    assert releasing["__typename"] == "ReleaseCouponError"
    assert errors_of(releasing) == [("code", "NOT_LOCKED")]
    assert (await coupon_of(gql, storefront, code))["orderId"] == order_a


async def test_a_locked_coupon_is_redeemed_once(gql, programme, make_member, keys):
    # given a coupon locked to an order
    _, storefront = keys
    member = await make_member(programme)
    code = await coupon_for(gql, keys, member)
    order = order_id()
    await locked(gql, storefront, code, order)
    key = "redeem-1"
    # when redeemed, replayed with its key, then redeemed again with another key
    first = await redeem(gql, storefront, code, order, idempotencyKey=key)
    replay = await redeem(gql, storefront, code, order, idempotencyKey=key)
    again = await redeem(gql, storefront, code, order)
    # then
    assert first["__typename"] == replay["__typename"] == "CouponSuccess", first
    assert (first["coupon"]["status"], first["coupon"]["orderId"]) == ("USED", order)
    assert first["coupon"]["usedAt"] is not None
    assert again["__typename"] == "RedeemCouponError"
    assert errors_of(again) == [("code", "USED")]
    relock = await lock(gql, storefront, code, order_id())
    assert errors_of(relock) == [("code", "USED")]
    assert await wallet_codes(gql, storefront, member.external_id, status="USED") == [code]


async def test_redeeming_a_coupon_that_was_never_locked_is_not_locked(
    gql, programme, make_member, keys
):
    _, storefront = keys
    member = await make_member(programme)
    code = await coupon_for(gql, keys, member)
    result = await redeem(gql, storefront, code, order_id())
    assert result["__typename"] == "RedeemCouponError"
    assert errors_of(result) == [("code", "NOT_LOCKED")]
    assert (await coupon_of(gql, storefront, code))["status"] == "AVAILABLE"


async def test_a_lapsed_lock_cannot_be_redeemed_and_the_coupon_is_back_in_the_wallet(
    gql, programme, make_member, keys
):
    # given a coupon locked to an order, and the clock 31 minutes on
    admin, storefront = keys
    member = await make_member(programme)
    code = await coupon_for(gql, keys, member)
    order = order_id()
    await locked(gql, storefront, code, order)
    await advance(gql, admin, seconds=31 * 60)
    # when
    result = await redeem(gql, storefront, code, order)
    # then
    assert result["__typename"] == "RedeemCouponError"
    assert errors_of(result) == [("code", "LOCK_EXPIRED")]
    coupon = await coupon_of(gql, storefront, code)
    assert (coupon["status"], coupon["orderId"], coupon["lockedUntil"]) == ("AVAILABLE", None, None)
    assert await wallet_codes(gql, storefront, member.external_id, status="AVAILABLE") == [code]
    assert (await locked(gql, storefront, code, order_id()))["status"] == "LOCKED"


async def test_releasing_a_lock_makes_the_coupon_available_again(gql, programme, make_member, keys):
    # given
    _, storefront = keys
    member = await make_member(programme)
    code = await coupon_for(gql, keys, member)
    order = order_id()
    await locked(gql, storefront, code, order)
    # when released, then released again
    first = await release(gql, storefront, code, order)
    again = await release(gql, storefront, code, order)
    # then
    assert first["__typename"] == "CouponSuccess", first
    assert (first["coupon"]["status"], first["coupon"]["orderId"]) == ("AVAILABLE", None)
    assert again["__typename"] == "ReleaseCouponError"
    assert errors_of(again) == [("code", "NOT_LOCKED")]
    assert (await locked(gql, storefront, code, order_id()))["status"] == "LOCKED"


async def test_an_unknown_code_is_not_found_at_checkout(gql, programme, keys):
    _, storefront = keys
    unknown, order = "ZZZZ-ZZZZ-ZZZZ-ZZZZ", order_id()
    results = [
        await lock(gql, storefront, unknown, order),
        await redeem(gql, storefront, unknown, order),
        await release(gql, storefront, unknown, order),
    ]
    assert [r["__typename"] for r in results] == [
        "LockCouponError",
        "RedeemCouponError",
        "ReleaseCouponError",
    ]
    assert [errors_of(r) for r in results] == [[("code", "NOT_FOUND")]] * 3


async def test_an_expired_coupon_cannot_be_locked(gql, programme, make_member, keys):
    admin, storefront = keys
    member = await make_member(programme)
    code = await coupon_for(gql, keys, member, validDays=1)
    await advance(gql, admin, days=2)
    result = await lock(gql, storefront, code, order_id())
    assert result["__typename"] == "LockCouponError"
    assert errors_of(result) == [("code", "EXPIRED")]


async def test_cancelling_the_order_releases_the_coupons_locked_to_it(
    gql, programme, make_member, keys
):
    # given an order recorded in the ledger, and a coupon locked to it
    _, storefront = keys
    member = await make_member(programme)
    code = await coupon_for(gql, keys, member)
    order = (await placed_order(gql, storefront, member.external_id))["orderId"]
    await locked(gql, storefront, code, order)
    # when the order is cancelled
    cancelled = await mutate(gql, CANCEL_ORDER, "cancelOrder", storefront, orderId=order)
    # then the coupon is back in the wallet
    assert cancelled["__typename"] == "OrderSuccess", cancelled
    coupon = await coupon_of(gql, storefront, code)
    assert (coupon["status"], coupon["orderId"]) == ("AVAILABLE", None)
    assert errors_of(await redeem(gql, storefront, code, order)) == [("code", "NOT_LOCKED")]
