"""Real concurrent redeemReward requests through the ASGI app on PostgreSQL (issue 20, point 4):
the stock's conditional UPDATE and the member's row lock hold under racing requests."""

from __future__ import annotations

import asyncio

from db.models import PointTransaction, RewardRedemption
from domain.auth import Role
from services.points import ledger
from tests.conftest import needs_postgres
from tests.fixtures.points import assert_ledger_consistent
from tests.graphql.rewards.support import REDEEM_REWARD, make_reward, reward_row

ADJUST = """
mutation ($e: String!, $k: String!) {
  adjustPoints(input: {memberExternalId: $e, amount: 100, reason: "funds", idempotencyKey: $k}) {
    __typename
  }
}
"""


def _outcome(body: dict) -> str:
    result = body["data"]["redeemReward"]
    if result["__typename"] == "RewardRedemptionSuccess":
        return "OK"
    return str(result["errors"][0]["code"])


@needs_postgres
async def test_two_hundred_members_racing_for_fifty_items(gql, programme, make_member, make_key):
    # given 200 members with 100 points each and a reward of 100 points with 50 in stock
    admin = await make_key(programme, Role.ADMIN)
    storefront = await make_key(programme, Role.STOREFRONT)
    members = [await make_member(programme) for _ in range(200)]
    for member in members:
        body = await gql(ADJUST, {"e": member.external_id, "k": f"f-{member.id}"}, auth=admin)
        assert body["data"]["adjustPoints"]["__typename"] == "TransactionSuccess", body
    reward = await make_reward(programme, points_price=100, total_stock=50)
    # when each redeems one at once
    bodies = await asyncio.gather(
        *(
            gql(
                REDEEM_REWARD,
                {
                    "input": {
                        "code": reward.code,
                        "memberExternalId": m.external_id,
                        "idempotencyKey": f"race-{m.id}",
                    }
                },
                auth=storefront,
            )
            for m in members
        )
    )
    # then exactly 50 succeed, 150 are OUT_OF_STOCK, and the stock is 0
    outcomes = [_outcome(b) for b in bodies]
    assert outcomes.count("OK") == 50
    assert outcomes.count("OUT_OF_STOCK") == 150
    row = await reward_row(reward)
    assert (row.stock_left, row.redeemed) == (0, 50)
    assert await RewardRedemption.filter(reward_id=reward.id).count() == 50
    # and the ledger sums match: 50 debits of 100, each member's row equal to its ledger
    debits = await PointTransaction.filter(
        programme_id=programme.id, kind="REDEEM", reference_type="REWARD"
    ).values_list("amount", flat=True)
    assert sorted(debits) == [-100] * 50
    spent = 0
    for member in members:
        spent += 100 - (await assert_ledger_consistent(member)).points_available
    assert spent == 5_000


@needs_postgres
async def test_one_member_racing_against_its_own_limit(gql, programme, make_member, make_key):
    # given a reward limited to 2 per member per month, and a member who can pay for 10
    admin = await make_key(programme, Role.ADMIN)
    storefront = await make_key(programme, Role.STOREFRONT)
    member = await make_member(programme)
    for n in range(10):
        await gql(ADJUST, {"e": member.external_id, "k": f"f-{n}"}, auth=admin)
    reward = await make_reward(
        programme, points_price=100, per_member_limit=2, limit_period="MONTH"
    )
    # when it redeems 10 times at once
    bodies = await asyncio.gather(
        *(
            gql(
                REDEEM_REWARD,
                {
                    "input": {
                        "code": reward.code,
                        "memberExternalId": member.external_id,
                        "idempotencyKey": f"lim-{n}",
                    }
                },
                auth=storefront,
            )
            for n in range(10)
        )
    )
    # then exactly 2 succeed and 8 reach the limit
    outcomes = [_outcome(b) for b in bodies]
    assert outcomes.count("OK") == 2 and outcomes.count("LIMIT_REACHED") == 8
    row = await assert_ledger_consistent(member)
    assert row.points_available == 800
    assert ledger.spendable(row) == 800
    assert (await reward_row(reward)).redeemed == 2


@needs_postgres
async def test_racing_cancels_restore_once(gql, programme, make_member, make_key):
    from tests.graphql.rewards.support import CANCEL, redeem

    admin = await make_key(programme, Role.ADMIN)
    storefront = await make_key(programme, Role.STOREFRONT)
    member = await make_member(programme)
    await gql(ADJUST, {"e": member.external_id, "k": "f"}, auth=admin)
    reward = await make_reward(programme, points_price=100, total_stock=1)
    done = await redeem(gql, storefront, reward.code, memberExternalId=member.external_id)
    rid = done["redemption"]["id"]
    bodies = await asyncio.gather(
        *(
            gql(
                CANCEL,
                {"input": {"id": rid, "reason": "r", "idempotencyKey": f"c-{n}"}},
                auth=admin,
            )
            for n in range(10)
        )
    )
    kinds = [b["data"]["cancelRewardRedemption"]["__typename"] for b in bodies]
    assert kinds.count("RewardRedemptionSuccess") == 1
    assert await PointTransaction.filter(member_id=member.id, kind="REVERSE").count() == 1
    assert (await assert_ledger_consistent(member)).points_available == 100
    assert (await reward_row(reward)).stock_left == 1
