"""Racing attacks on reward redemptions, as real concurrent requests on PostgreSQL: a cancel
against a fulfil, a cancel against the hold-expiry job, and a stock cut against redemptions."""

from __future__ import annotations

import asyncio

from db.models import Event, PointHold, PointTransaction, RewardRedemption
from domain.auth import Role
from tests.conftest import needs_postgres
from tests.fixtures.points import assert_ledger_consistent, run_jobs
from tests.graphql.points.helpers import advance, fund
from tests.graphql.rewards.documents import UPDATE
from tests.graphql.rewards.support import (
    CANCEL,
    FULFIL,
    REDEEM_REWARD,
    key,
    make_reward,
    redeem,
    reward_row,
)


async def _keys(programme, make_key) -> tuple[str, str]:
    return await make_key(programme, Role.ADMIN), await make_key(programme, Role.STOREFRONT)


@needs_postgres
async def test_cancels_racing_fulfils_close_the_redemption_once(
    gql, programme, make_member, make_key
):
    # given a product redeemed for 300 points, still owed
    admin, storefront = await _keys(programme, make_key)
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 1_000)
    reward = await make_reward(programme, points_price=300, total_stock=5)
    rid = (await redeem(gql, storefront, reward.code, memberExternalId=member.external_id))[
        "redemption"
    ]["id"]
    # when five fulfils and five cancels arrive at once
    fulfils = [
        gql(FULFIL, {"input": {"id": rid, "idempotencyKey": key()}}, auth=admin) for _ in range(5)
    ]
    cancels = [
        gql(CANCEL, {"input": {"id": rid, "reason": "r", "idempotencyKey": key()}}, auth=admin)
        for _ in range(5)
    ]
    bodies = await asyncio.gather(*fulfils, *cancels)
    results = [
        b["data"]["fulfilRewardRedemption" if n < 5 else "cancelRewardRedemption"]
        for n, b in enumerate(bodies)
    ]
    # then exactly one wins; the others are ALREADY_FULFILLED or ALREADY_CANCELLED
    won = [n for n, r in enumerate(results) if r["__typename"] == "RewardRedemptionSuccess"]
    assert len(won) == 1, results
    status = (await RewardRedemption.get(reward_id=reward.id)).status
    lost = {r["errors"][0]["code"] for r in results if "errors" in r}
    assert lost == {"ALREADY_CANCELLED" if status == "CANCELLED" else "ALREADY_FULFILLED"}
    # and the points and stock agree with the winner, given back at most once
    restored = await PointTransaction.filter(member_id=member.id, kind="REVERSE").count()
    row = await reward_row(reward)
    if status == "CANCELLED":
        assert won[0] >= 5 and restored == 1 and (row.stock_left, row.redeemed) == (5, 0)
    else:
        assert won[0] < 5 and restored == 0 and (row.stock_left, row.redeemed) == (4, 1)
    await assert_ledger_consistent(member)


@needs_postgres
async def test_a_cancel_racing_the_hold_expiry_job_cancels_once(
    gql, programme, make_member, make_key
):
    # given a cash + points redemption whose hold has run out, not yet closed by the job
    admin, storefront = await _keys(programme, make_key)
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 1_000)
    reward = await make_reward(programme, points_price=200, cash_price=5_000, total_stock=3)
    done = await redeem(
        gql,
        storefront,
        reward.code,
        memberExternalId=member.external_id,
        orderId="shop-race",
        cash=5_000,
    )
    rid = done["redemption"]["id"]
    await advance(gql, admin, days=1)
    # when the shop cancels it while the job runs
    body, _report = await asyncio.gather(
        gql(CANCEL, {"input": {"id": rid, "reason": "r", "idempotencyKey": key()}}, auth=admin),
        run_jobs(programme),
    )
    # then it is cancelled once, by whichever came first: stock back once, nothing held
    result = body["data"]["cancelRewardRedemption"]
    assert result["__typename"] == "RewardRedemptionSuccess" or [
        e["code"] for e in result["errors"]
    ] == ["ALREADY_CANCELLED"], result
    assert (await RewardRedemption.get(reward_id=reward.id)).status == "CANCELLED"
    assert await Event.filter(member_id=member.id, type="reward.cancelled").count() == 1
    row = await reward_row(reward)
    assert (row.stock_left, row.redeemed) == (3, 0)
    assert (await PointHold.get(member_id=member.id)).status in ("RELEASED", "EXPIRED")
    settled = await assert_ledger_consistent(member)
    assert (settled.points_held, settled.points_available) == (0, 1_000)


@needs_postgres
async def test_a_stock_cut_racing_redemptions_never_oversells(
    gql, programme, make_member, make_key
):
    # given a reward with 30 items and 40 members who can each pay for one
    admin, storefront = await _keys(programme, make_key)
    members = [await make_member(programme) for _ in range(40)]
    for member in members:
        await fund(gql, admin, member.external_id, 100)
    reward = await make_reward(programme, points_price=100, total_stock=30)
    # when they redeem while an admin cuts the total to 20
    redeems = [
        gql(
            REDEEM_REWARD,
            {
                "input": {
                    "code": reward.code,
                    "memberExternalId": m.external_id,
                    "idempotencyKey": key(),
                }
            },
            auth=storefront,
        )
        for m in members
    ]
    cut = gql(
        UPDATE,
        {"input": {"rewardCode": reward.code, "totalStock": 20}},
        auth=admin,
    )
    *bodies, cut_body = await asyncio.gather(*redeems, cut)
    sold = sum(b["data"]["redeemReward"]["__typename"] == "RewardRedemptionSuccess" for b in bodies)
    cut_result = cut_body["data"]["updateReward"]
    # then the stock adds up: what is left and what was redeemed make the total, never below 0
    row = await reward_row(reward)
    assert row.redeemed == sold == await RewardRedemption.filter(reward_id=reward.id).count()
    assert row.stock_left is not None and row.stock_left >= 0
    assert row.stock_left + row.redeemed == row.total_stock
    if cut_result["__typename"] == "RewardSuccess":
        # the cut landed: at most 20 sold in all
        assert row.total_stock == 20 and sold <= 20
    else:
        # it came after more than 20 were sold, and was refused
        assert [e["code"] for e in cut_result["errors"]] == ["VALIDATION"], cut_result
        assert row.total_stock == 30 and sold == 30
