"""Attacks on cash + points redemptions through the API (issue 20): the cash sent, the hold
captured through another member's order or twice, the reward retired while it is owed."""

from __future__ import annotations

from typing import Any

import pytest

from db.models import PointHold, PointTransaction, RewardRedemption
from tests.fixtures.points import assert_ledger_consistent
from tests.graphql.points.documents import CAPTURE_HOLD
from tests.graphql.points.helpers import (
    mutate,
    order_input,
    points_of,
    programme_now,
    record_order,
)
from tests.graphql.rewards.support import (
    CANCEL,
    FULFIL,
    call,
    codes,
    make_reward,
    redeem,
    reward_row,
)
from tests.graphql.rewards.test_attacks import cash_and_points, funded, untouched


@pytest.mark.parametrize("cash", [-1, -5_000, 0])
async def test_negative_or_zero_cash_for_a_cash_and_points_reward_writes_nothing(
    gql, programme, make_member, keys, cash
):
    admin, storefront = keys
    member = await funded(gql, make_member, programme, admin)
    reward = await make_reward(programme, points_price=200, cash_price=5_000, total_stock=3)
    result = await redeem(
        gql,
        storefront,
        reward.code,
        memberExternalId=member.external_id,
        orderId="shop-neg",
        cash=cash,
    )
    assert codes(result) == (["VALIDATION"] if cash < 0 else ["CASH_MISMATCH"])
    await untouched(member, reward, stock=3, available=1_000)


# ---- cash + points through the hold -----------------------------------------------------------


async def test_an_order_recorded_for_another_member_cannot_capture_the_rewards_hold(
    gql, programme, make_member, keys
):
    # given a cash + points redemption for A whose order id the shop records for B
    admin, storefront = keys
    a = await funded(gql, make_member, programme, admin)
    b = await funded(gql, make_member, programme, admin)
    reward = await make_reward(programme, points_price=200, cash_price=5_000, total_stock=3)
    done = await cash_and_points(gql, storefront, reward, a, "shop-x")
    now = await programme_now(gql, storefront)
    recorded = await record_order(
        gql, storefront, order_input(b.external_id, now, order_id="shop-x")
    )
    assert recorded["__typename"] == "OrderSuccess", recorded
    # when the shop captures A's hold
    captured = await mutate(
        gql, CAPTURE_HOLD, "captureHold", storefront, holdId=done["holdId"], amount=200
    )
    # then ORDER_CLOSED: the hold is released, the redemption cancelled, stock and points back
    assert [e["code"] for e in captured["errors"]] == ["ORDER_CLOSED"]
    assert (await RewardRedemption.get(reward_id=reward.id)).status == "CANCELLED"
    assert (await reward_row(reward)).stock_left == 3
    assert (await points_of(gql, admin, a.external_id))["held"] == 0
    assert (await assert_ledger_consistent(a)).points_available == 1_000
    fulfilled = await call(gql, FULFIL, "fulfilRewardRedemption", admin, id=done["id"])
    assert codes(fulfilled) == ["ALREADY_CANCELLED"]


async def test_capture_cancel_capture_again_spends_and_restores_once(
    gql, programme, make_member, keys
):
    admin, storefront = keys
    member = await funded(gql, make_member, programme, admin)
    reward = await make_reward(programme, points_price=200, cash_price=5_000, total_stock=3)
    done = await cash_and_points(gql, storefront, reward, member, "shop-cc")
    first = await mutate(
        gql, CAPTURE_HOLD, "captureHold", storefront, holdId=done["holdId"], amount=200
    )
    assert first["__typename"] == "HoldSuccess", first
    cancelled = await call(gql, CANCEL, "cancelRewardRedemption", admin, id=done["id"], reason="r")
    assert cancelled["redemption"]["status"] == "CANCELLED"
    again = await mutate(
        gql, CAPTURE_HOLD, "captureHold", storefront, holdId=done["holdId"], amount=200
    )
    assert [e["code"] for e in again["errors"]] == ["HOLD_CLOSED"]
    assert await PointTransaction.filter(member_id=member.id, kind="REDEEM").count() == 1
    assert await PointTransaction.filter(member_id=member.id, kind="REVERSE").count() == 1
    assert (await assert_ledger_consistent(member)).points_available == 1_000
    assert (await reward_row(reward)).stock_left == 3


async def test_retiring_a_reward_then_cancelling_its_pending_cash_and_points_redemption(
    gql, programme, make_member, keys
):
    from tests.graphql.rewards.helpers import retire

    admin, storefront = keys
    member = await funded(gql, make_member, programme, admin)
    reward = await make_reward(programme, points_price=200, cash_price=5_000, total_stock=3)
    done = await cash_and_points(gql, storefront, reward, member, "shop-rt")
    retired = await retire(gql, admin, reward.code)
    assert retired["__typename"] == "RewardSuccess", retired
    cancelled = await call(gql, CANCEL, "cancelRewardRedemption", admin, id=done["id"], reason="r")
    assert cancelled["redemption"]["status"] == "CANCELLED", cancelled
    row = await reward_row(reward)
    assert (row.status, row.stock_left, row.redeemed) == ("RETIRED", 3, 0)
    assert (await PointHold.get(member_id=member.id)).status == "RELEASED"
    points = await points_of(gql, admin, member.external_id)
    assert (points["held"], points["available"]) == (0, 1_000)
    # the retired reward sells no more, even with the stock it got back
    late = await _trycash_and_points(gql, storefront, reward, member, "shop-rt2")
    assert codes(late) == ["REWARD_RETIRED"]


async def _trycash_and_points(gql, storefront, reward, member, order_id) -> dict[str, Any]:
    return await redeem(
        gql,
        storefront,
        reward.code,
        memberExternalId=member.external_id,
        orderId=order_id,
        cash=reward.cash_price,
    )


async def test_a_member_token_cannot_hold_points_and_stock_for_a_shop_order(
    gql, programme, make_member, keys
):
    from tests.graphql.test_auth import token_for

    # given a cash + points reward with 3 items, and a member's own token
    admin, storefront = keys
    member = await funded(gql, make_member, programme, admin)
    reward = await make_reward(programme, points_price=200, cash_price=5_000, total_stock=3)
    token = await token_for(gql, storefront, member.external_id)
    # when the member redeems it for order ids the shop never made
    results = [
        await redeem(gql, token, reward.code, orderId=f"made-up-{n}", cash=5_000) for n in range(3)
    ]
    # then refused: only the shop (as with holdPoints) holds points for its order; no stock
    # is tied up until the holds would have lapsed
    assert [codes(r) for r in results] == [["NOT_ELIGIBLE"]] * 3
    await untouched(member, reward, stock=3, available=1_000)


async def test_fulfilling_after_the_coupon_template_retired_writes_nothing(
    gql, programme, make_member, keys
):
    from db.models import Coupon, CouponTemplate
    from tests.graphql.coupons.documents import RETIRE_TEMPLATE
    from tests.graphql.coupons.helpers import create_template

    # given a cash + points COUPON reward, paid (its hold captured), not yet handed over
    admin, storefront = keys
    member = await funded(gql, make_member, programme, admin)
    template = await create_template(gql, admin, totalStock=10)
    template_id = (await CouponTemplate.get(programme_id=programme.id, code=template["code"])).id
    reward = await make_reward(
        programme,
        kind="COUPON",
        coupon_template_id=template_id,
        points_price=200,
        cash_price=5_000,
        total_stock=3,
    )
    done = await cash_and_points(gql, storefront, reward, member, "shop-tpl")
    await mutate(gql, CAPTURE_HOLD, "captureHold", storefront, holdId=done["holdId"], amount=200)
    # when the template is retired and the redemption fulfilled
    await gql(RETIRE_TEMPLATE, {"input": {"templateCode": template["code"]}}, auth=admin)
    refused = await call(gql, FULFIL, "fulfilRewardRedemption", admin, id=done["id"])
    # then refused whole: still REQUESTED, no coupon; a cancel then gives the points back
    assert codes(refused) == ["TEMPLATE_RETIRED"], refused
    assert (await RewardRedemption.get(reward_id=reward.id)).status == "REQUESTED"
    assert await Coupon.filter(member_id=member.id).count() == 0
    cancelled = await call(gql, CANCEL, "cancelRewardRedemption", admin, id=done["id"], reason="r")
    assert cancelled["redemption"]["status"] == "CANCELLED", cancelled
    assert (await assert_ledger_consistent(member)).points_available == 1_000
    assert (await reward_row(reward)).stock_left == 3
