"""What coupon codes do to a cart through the API (validateCoupons): amounts, rounding,
stacking, and every reason a code does not apply. Validation writes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.graphql.coupons.helpers import (
    cart_line,
    coupon_for,
    errors_of,
    frozen_now,
    lock,
    locked,
    order_id,
    redeem,
    validate,
)
from tests.graphql.points.helpers import advance, completed_order
from tests.graphql.test_auth import token_for


def only(result: dict[str, Any]) -> dict[str, Any]:
    assert result["__typename"] == "CouponValidation", result
    [check] = result["results"]
    return check


async def test_an_amount_off_coupon_applies_once_the_eligible_lines_reach_the_threshold(
    gql, programme, make_member, keys
):
    # given 50 off 100 of shoes
    _, storefront = keys
    member = await make_member(programme)
    code = await coupon_for(gql, keys, member, eligibleCategories=["shoes"])
    shoes, shirt = cart_line("boot", 6_000, category="shoes"), cart_line("tee", 9_000)
    # when the shoes come to 60 (the cart to 150), then to 120
    below = await validate(gql, storefront, [code], [shoes, shirt], member=member.external_id)
    enough = await validate(
        gql, storefront, [code], [{**shoes, "quantity": 2}, shirt], member=member.external_id
    )
    # then only the shoes count towards the threshold
    check = only(below)
    assert (check["applies"], check["discount"], check["reasons"]) == (
        False,
        0,
        ["BELOW_THRESHOLD"],
    )
    assert check["coupon"]["code"] == code
    check = only(enough)
    assert (check["applies"], check["discount"], check["reasons"]) == (True, 5_000, [])
    assert enough["discount"] == 5_000


async def test_a_coupon_for_other_categories_is_a_category_mismatch(
    gql, programme, make_member, keys
):
    _, storefront = keys
    member = await make_member(programme)
    code = await coupon_for(gql, keys, member, eligibleCategories=["shoes"], threshold=5_000)
    result = await validate(
        gql, storefront, [code], [cart_line("tee", 20_000)], member=member.external_id
    )
    check = only(result)
    assert (check["applies"], check["reasons"]) == (False, ["CATEGORY_MISMATCH"])
    assert result["discount"] == 0


@pytest.mark.parametrize(
    ("percent", "cap", "price", "off"),
    [
        (1_500, None, 333, 50),
        (1_500, None, 30, 4),
        (1_000, None, 5, 0),
        (5_000, 1_000, 10_000, 1_000),
    ],
    ids=["49.95-rounds-up", "4.5-rounds-down", "0.5-rounds-down", "capped"],
)
async def test_a_percent_off_coupon_rounds_half_down_and_stops_at_its_cap(
    gql, programme, make_member, keys, percent, cap, price, off
):
    _, storefront = keys
    member = await make_member(programme)
    code = await coupon_for(
        gql, keys, member, kind="PERCENT_OFF", amountOff=0, threshold=0, percentOff=percent, cap=cap
    )
    result = await validate(
        gql, storefront, [code], [cart_line(unit_price=price)], member=member.external_id
    )
    check = only(result)
    assert (check["applies"], check["discount"]) == (True, off)


async def test_free_shipping_needs_a_shipping_fee_and_a_gift_names_its_sku(
    gql, programme, make_member, keys
):
    # given a free-shipping and a stackable gift coupon
    _, storefront = keys
    member = await make_member(programme)
    shipping = await coupon_for(
        gql, keys, member, kind="FREE_SHIPPING", amountOff=0, threshold=0, stackable=True
    )
    gift = await coupon_for(
        gql, keys, member, kind="GIFT", amountOff=0, threshold=0, giftSku="tote", stackable=True
    )
    e = member.external_id
    # when
    no_fee = await validate(gql, storefront, [shipping, gift], member=e)
    with_fee = await validate(gql, storefront, [shipping, gift], shipping_fee=800, member=e)
    # then
    assert no_fee["results"][0]["reasons"] == ["NO_SHIPPING_FEE"]
    assert no_fee["results"][1]["giftSku"] == "tote" and no_fee["results"][1]["applies"]
    assert [r["applies"] for r in with_fee["results"]] == [True, True]
    assert with_fee["results"][0]["shippingDiscount"] == 800
    assert (with_fee["discount"], with_fee["shippingDiscount"]) == (0, 800)


async def test_of_two_exclusive_coupons_the_one_saving_more_is_kept(
    gql, programme, make_member, keys
):
    # given two non-stackable coupons that both apply, and two stackable ones
    _, storefront = keys
    member = await make_member(programme)
    small = await coupon_for(gql, keys, member, amountOff=500, threshold=5_000)
    big = await coupon_for(gql, keys, member, amountOff=800, threshold=5_000)
    a = await coupon_for(gql, keys, member, amountOff=300, threshold=5_000, stackable=True)
    b = await coupon_for(gql, keys, member, amountOff=200, threshold=5_000, stackable=True)
    e = member.external_id
    # when
    exclusive = await validate(gql, storefront, [small, big], member=e)
    stacked = await validate(gql, storefront, [a, b], member=e)
    # then
    assert [(r["applies"], r["reasons"]) for r in exclusive["results"]] == [
        (False, ["NOT_STACKABLE"]),
        (True, []),
    ]
    assert exclusive["discount"] == 800
    assert [r["applies"] for r in stacked["results"]] == [True, True]
    assert stacked["discount"] == 500


async def test_stacked_coupons_for_one_category_take_no_more_than_its_lines_are_worth(
    gql, programme, make_member, keys
):
    # given X 100.00 in category x and Y 100.00, and two stackable coupons for x:
    # 80 off 80, and 50% off
    _, storefront = keys
    member = await make_member(programme)
    e = member.external_id
    eighty = await coupon_for(
        gql,
        keys,
        member,
        amountOff=8_000,
        threshold=8_000,
        eligibleCategories=["x"],
        stackable=True,
    )
    half = await coupon_for(
        gql,
        keys,
        member,
        kind="PERCENT_OFF",
        amountOff=0,
        percentOff=5_000,
        threshold=0,
        eligibleCategories=["x"],
        stackable=True,
    )
    lines = [cart_line("X", 10_000, category="x"), cart_line("Y", 10_000, category="y")]
    # when validated together, then locked one after the other to one order
    result = await validate(gql, storefront, [eighty, half], lines, member=e)
    order = order_id()
    first = await locked(gql, storefront, eighty, order, cart={"lines": lines})
    second = await locked(gql, storefront, half, order, cart={"lines": lines})
    # then the second takes only the 20.00 left of X: 100.00 off in all, none of it on Y
    assert [r["discount"] for r in result["results"]] == [8_000, 2_000]
    assert result["discount"] == 10_000
    assert (first["discount"], second["discount"]) == (8_000, 2_000)


async def test_a_coupon_outside_its_dates_is_not_started_or_expired(
    gql, programme, make_member, keys
):
    # given a coupon that starts tomorrow and one valid for one day
    admin, storefront = keys
    member = await make_member(programme)
    now = await frozen_now(gql, admin)
    later = await coupon_for(
        gql,
        keys,
        member,
        validDays=None,
        validFrom=(now + timedelta(days=1)).isoformat(),
        validUntil=(now + timedelta(days=10)).isoformat(),
        stackable=True,
    )
    short = await coupon_for(gql, keys, member, validDays=1, stackable=True)
    e = member.external_id
    # when checked now, then two days on
    today = await validate(gql, storefront, [later, short], member=e)
    await advance(gql, admin, days=2)
    after = await validate(gql, storefront, [later, short], member=e)
    # then
    assert [r["reasons"] for r in today["results"]] == [["NOT_STARTED"], []]
    assert [r["reasons"] for r in after["results"]] == [[], ["EXPIRED"]]


async def test_a_tier_only_coupon_does_not_apply_once_the_member_left_the_tier(
    gql, programme, make_member, keys
):
    # given a Bronze-only coupon, and the member then reaching Silver
    _, storefront = keys
    member = await make_member(programme)
    code = await coupon_for(gql, keys, member, eligibleTierCodes=["BRONZE"])
    await completed_order(gql, storefront, member.external_id)
    # when
    result = await validate(gql, storefront, [code], member=member.external_id)
    refused = await lock(gql, storefront, code, order_id())
    # then
    assert only(result)["reasons"] == ["NOT_ELIGIBLE_TIER"]
    assert refused["__typename"] == "LockCouponError"
    assert errors_of(refused) == [("code", "NOT_ELIGIBLE_TIER")]


async def test_a_locked_or_used_coupon_does_not_apply(gql, programme, make_member, keys):
    _, storefront = keys
    member = await make_member(programme)
    held = await coupon_for(gql, keys, member, stackable=True)
    used = await coupon_for(gql, keys, member, stackable=True)
    await locked(gql, storefront, held, order_id())
    spent_on = order_id()
    await locked(gql, storefront, used, spent_on)
    await redeem(gql, storefront, used, spent_on)
    result = await validate(gql, storefront, [held, used], member=member.external_id)
    assert [(r["applies"], r["reasons"]) for r in result["results"]] == [
        (False, ["LOCKED"]),
        (False, ["USED"]),
    ]


async def test_a_member_cannot_tell_another_members_code_from_an_unknown_one(
    gql, programme, make_member, keys
):
    # given bob's coupon, and alice checking out with her token
    _, storefront = keys
    alice, bob = await make_member(programme), await make_member(programme)
    bobs = await coupon_for(gql, keys, bob)
    mine = await coupon_for(gql, keys, alice)
    token = await token_for(gql, storefront, alice.external_id)
    # when alice sends her code in lower case, bob's code and an unknown code
    result = await validate(gql, token, [mine.lower(), bobs, "ZZZZ-ZZZZ-ZZZZ-ZZZZ"])
    # then
    assert result["__typename"] == "CouponValidation", result
    own, other, unknown = result["results"]
    assert (own["code"], own["applies"], own["coupon"]["code"]) == (mine, True, mine)
    assert (other["reasons"], other["coupon"]) == (["UNKNOWN_CODE"], None)
    assert (unknown["reasons"], unknown["coupon"]) == (["UNKNOWN_CODE"], None)
    assert other == {**unknown, "code": bobs}  # nothing else tells them apart either
    assert result["discount"] == 5_000
    # and the storefront, which may see every member's coupons, is told whose it is
    staff = await validate(gql, storefront, [bobs], member=alice.external_id)
    assert staff["results"][0]["reasons"] == ["NOT_OWNER"]
