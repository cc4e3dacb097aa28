"""Cash + points rewards: the storefront's sequence (quote, redeem -> hold, capture, order,
fulfil) and every path that closes the hold uncaptured cancelling the redemption once."""

from __future__ import annotations

from typing import Any

import pytest

from db.models import Event, PointHold, PointTransaction, RewardRedemption
from domain.auth import Role
from tests.fixtures.points import assert_ledger_consistent, run_jobs
from tests.graphql.points.documents import CANCEL_ORDER, CAPTURE_HOLD, RELEASE_HOLD
from tests.graphql.points.helpers import (
    advance,
    fund,
    mutate,
    order_input,
    points_of,
    programme_now,
    record_order,
)
from tests.graphql.rewards.support import (
    CANCEL,
    FULFIL,
    QUOTE,
    call,
    codes,
    make_reward,
    redeem,
    redemption_count,
    reward_row,
)


@pytest.fixture
async def keys(programme, make_key) -> tuple[str, str]:
    return await make_key(programme, Role.ADMIN), await make_key(programme, Role.STOREFRONT)


async def _redeemed(gql, storefront: str, reward, member, order_id: str) -> dict[str, Any]:
    result = await redeem(
        gql,
        storefront,
        reward.code,
        memberExternalId=member.external_id,
        orderId=order_id,
        cash=reward.cash_price,
    )
    assert result["__typename"] == "RewardRedemptionSuccess", result
    redemption: dict[str, Any] = result["redemption"]
    return redemption


async def _setup(gql, programme, make_member, keys, *, stock: int = 3):
    admin, storefront = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 1_000)
    reward = await make_reward(programme, points_price=200, cash_price=5_000, total_stock=stock)
    return admin, storefront, member, reward


async def test_the_storefront_sequence_from_quote_to_fulfilment(
    gql, programme, make_member, make_key, keys
):
    admin, storefront, member, reward = await _setup(gql, programme, make_member, keys)
    # quote: the split, and whether the member can pay the points
    body = await gql(QUOTE, {"code": reward.code, "q": 1, "e": member.external_id}, auth=storefront)
    assert body["data"]["quoteReward"] == {
        "points": 200,
        "cash": 5_000,
        "currency": "CNY",
        "affordable": True,
    }
    # redeem without the order, or with the wrong cash: refused, nothing written
    no_order = await redeem(
        gql, storefront, reward.code, memberExternalId=member.external_id, cash=5_000
    )
    assert codes(no_order) == ["VALIDATION"]
    wrong = await redeem(
        gql,
        storefront,
        reward.code,
        memberExternalId=member.external_id,
        orderId="shop-1",
        cash=4_999,
    )
    assert codes(wrong) == ["CASH_MISMATCH"]
    assert await redemption_count(reward) == 0
    assert await PointHold.filter(member_id=member.id).count() == 0
    assert (await reward_row(reward)).stock_left == 3
    # redeem: the points are held for the order, one item taken
    done = await _redeemed(gql, storefront, reward, member, "shop-1")
    assert (done["status"], done["points"], done["cash"], done["orderId"]) == (
        "REQUESTED",
        200,
        5_000,
        "shop-1",
    )
    assert done["holdId"] is not None
    points = await points_of(gql, admin, member.external_id)
    assert (points["held"], points["spendable"]) == (200, 800)
    assert (await reward_row(reward)).stock_left == 2
    # fulfilling before the order paid is refused; so is capturing part of the hold
    early = await call(gql, FULFIL, "fulfilRewardRedemption", admin, id=done["id"])
    assert codes(early) == ["NOT_PAID"]
    part = await mutate(
        gql, CAPTURE_HOLD, "captureHold", storefront, holdId=done["holdId"], amount=100
    )
    assert [e["code"] for e in part["errors"]] == ["WHOLE_HOLD_REQUIRED"]
    # the shop takes payment: the hold is captured whole ...
    captured = await mutate(
        gql, CAPTURE_HOLD, "captureHold", storefront, holdId=done["holdId"], amount=200
    )
    assert captured["__typename"] == "HoldSuccess", captured
    assert captured["member"]["points"]["available"] == 800
    # ... and the order of the cash earns points as any order of that amount does
    now = await programme_now(gql, storefront)
    lines = [{"sku": reward.code, "category": "rewards", "unitPrice": 5_000, "quantity": 1}]
    order = await record_order(
        gql, storefront, order_input(member.external_id, now, lines=lines, order_id="shop-1")
    )
    control_member = await make_member(programme)
    control = await record_order(
        gql, storefront, order_input(control_member.external_id, now, lines=lines)
    )
    assert order["__typename"] == "OrderSuccess", order
    assert order["order"]["points"] == control["order"]["points"] > 0
    # fulfilment: FULFILLED, with the reward still bought
    fulfilled = await call(
        gql, FULFIL, "fulfilRewardRedemption", admin, id=done["id"], trackingRef="SF9"
    )
    assert fulfilled["redemption"]["status"] == "FULFILLED", fulfilled
    assert (await reward_row(reward)).stock_left == 2
    await assert_ledger_consistent(member)


async def _cancelled_once(reward, member, stock: int) -> None:
    row = await RewardRedemption.get(reward_id=reward.id)
    assert row.status == "CANCELLED" and row.cancelled_at is not None
    assert (await reward_row(reward)).stock_left == stock
    assert (await reward_row(reward)).redeemed == 0
    assert await Event.filter(member_id=member.id, type="reward.cancelled").count() == 1


async def test_release_hold_cancels_the_redemption_and_returns_the_stock_once(
    gql, programme, make_member, keys
):
    admin, storefront, member, reward = await _setup(gql, programme, make_member, keys)
    done = await _redeemed(gql, storefront, reward, member, "shop-2")
    released = await mutate(gql, RELEASE_HOLD, "releaseHold", storefront, holdId=done["holdId"])
    assert released["__typename"] == "HoldSuccess", released
    again = await mutate(gql, RELEASE_HOLD, "releaseHold", storefront, holdId=done["holdId"])
    assert [e["code"] for e in again["errors"]] == ["HOLD_CLOSED"]
    await _cancelled_once(reward, member, 3)
    points = await points_of(gql, admin, member.external_id)
    assert (points["held"], points["available"]) == (0, 1_000)
    # a cancel afterwards finds it cancelled and gives nothing
    late = await call(gql, CANCEL, "cancelRewardRedemption", admin, id=done["id"], reason="x")
    assert codes(late) == ["ALREADY_CANCELLED"]
    assert (await reward_row(reward)).stock_left == 3


async def test_the_hold_expiry_job_cancels_the_redemption(gql, programme, make_member, keys):
    admin, storefront, member, reward = await _setup(gql, programme, make_member, keys)
    await _redeemed(gql, storefront, reward, member, "shop-3")
    await advance(gql, admin, days=1)
    report = await run_jobs(programme)
    assert report.holds_expired == 1
    await run_jobs(programme)
    await _cancelled_once(reward, member, 3)
    assert (await PointHold.get(member_id=member.id)).status == "EXPIRED"
    await assert_ledger_consistent(member)


async def test_capturing_a_lapsed_hold_cancels_the_redemption(gql, programme, make_member, keys):
    admin, storefront, member, reward = await _setup(gql, programme, make_member, keys)
    done = await _redeemed(gql, storefront, reward, member, "shop-4")
    await advance(gql, admin, days=1)
    late = await mutate(
        gql, CAPTURE_HOLD, "captureHold", storefront, holdId=done["holdId"], amount=200
    )
    assert [e["code"] for e in late["errors"]] == ["HOLD_EXPIRED"]
    await _cancelled_once(reward, member, 3)
    assert await PointTransaction.filter(member_id=member.id, kind="REDEEM").count() == 0


async def test_cancelling_the_order_cancels_the_redemption(gql, programme, make_member, keys):
    admin, storefront, member, reward = await _setup(gql, programme, make_member, keys)
    await _redeemed(gql, storefront, reward, member, "shop-5")
    now = await programme_now(gql, storefront)
    recorded = await record_order(
        gql, storefront, order_input(member.external_id, now, order_id="shop-5")
    )
    assert recorded["__typename"] == "OrderSuccess", recorded
    cancelled = await mutate(gql, CANCEL_ORDER, "cancelOrder", storefront, orderId="shop-5")
    assert cancelled["__typename"] == "OrderSuccess", cancelled
    await _cancelled_once(reward, member, 3)
    assert (await points_of(gql, admin, member.external_id))["held"] == 0


async def test_cancelling_after_capture_restores_the_captured_points_once(
    gql, programme, make_member, keys
):
    admin, storefront, member, reward = await _setup(gql, programme, make_member, keys)
    done = await _redeemed(gql, storefront, reward, member, "shop-6")
    await mutate(gql, CAPTURE_HOLD, "captureHold", storefront, holdId=done["holdId"], amount=200)
    assert (await points_of(gql, admin, member.external_id))["available"] == 800
    first = await call(gql, CANCEL, "cancelRewardRedemption", admin, id=done["id"], reason="r")
    second = await call(gql, CANCEL, "cancelRewardRedemption", admin, id=done["id"], reason="r")
    assert first["redemption"]["status"] == "CANCELLED" and codes(second) == ["ALREADY_CANCELLED"]
    assert (await points_of(gql, admin, member.external_id))["available"] == 1_000
    assert await PointTransaction.filter(member_id=member.id, kind="REVERSE").count() == 1
    await _cancelled_once(reward, member, 3)
    await assert_ledger_consistent(member)


async def test_a_member_may_not_cancel_a_cash_and_points_redemption(
    gql, programme, make_member, keys
):
    from tests.graphql.test_auth import token_for

    _admin, storefront, member, reward = await _setup(gql, programme, make_member, keys)
    done = await _redeemed(gql, storefront, reward, member, "shop-7")
    token = await token_for(gql, storefront, member.external_id)
    refused = await call(gql, CANCEL, "cancelRewardRedemption", token, id=done["id"], reason="r")
    assert codes(refused) == ["NOT_ELIGIBLE"]
    assert (await RewardRedemption.get(reward_id=reward.id)).status == "REQUESTED"


async def test_returning_the_whole_order_cancels_the_redemption(gql, programme, make_member, keys):
    from tests.graphql.points.documents import RETURN_LINES

    admin, storefront, member, reward = await _setup(gql, programme, make_member, keys)
    await _redeemed(gql, storefront, reward, member, "shop-8")
    now = await programme_now(gql, storefront)
    await record_order(gql, storefront, order_input(member.external_id, now, order_id="shop-8"))
    returned = await mutate(
        gql,
        RETURN_LINES,
        "returnOrderLines",
        storefront,
        orderId="shop-8",
        lines=[{"sku": "sku-1", "quantity": 1}],
    )
    assert returned["__typename"] == "OrderSuccess", returned
    await _cancelled_once(reward, member, 3)
    assert (await points_of(gql, admin, member.external_id))["held"] == 0
