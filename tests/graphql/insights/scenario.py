"""A small programme with known facts, made through the API on the test clock, and the
insights query. Day 0 is the day the clock is frozen on (Asia/Shanghai)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from domain.auth import Role
from tests.fixtures.points import run_jobs
from tests.graphql.coupons.helpers import create_template, exchange, frozen_now, locked
from tests.graphql.coupons.helpers import redeem as redeem_coupon
from tests.graphql.insights.documents import INSIGHTS
from tests.graphql.points.documents import CHECK_IN, RETURN_LINES
from tests.graphql.points.helpers import (
    advance,
    completed_order,
    line,
    mutate,
    placed_order,
    redeem,
)
from tests.graphql.rewards.helpers import create_reward
from tests.graphql.rewards.support import redeem as redeem_reward
from tests.graphql.test_auth import token_for

ZONE = ZoneInfo("Asia/Shanghai")


async def insights(gql, auth: str, first: date, last: date, granularity: str = "MONTH") -> Any:
    variables = {"from": first.isoformat(), "to": last.isoformat(), "g": granularity}
    return await gql(INSIGHTS, variables, auth=auth)


async def figures(gql, auth: str, first: date, last: date, granularity: str = "MONTH") -> dict:
    body = await insights(gql, auth, first, last, granularity)
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]["programmeInsights"]
    return found


def local_day(moment: datetime) -> date:
    return moment.astimezone(ZONE).date()


@dataclass
class Shop:
    day0: date
    coupon_template: str
    reward: str


async def check_in(gql, storefront: str, external_id: str) -> None:
    token = await token_for(gql, storefront, external_id)
    done = await mutate(gql, CHECK_IN, "checkIn", token)
    assert done["__typename"] == "CheckInSuccess", done


async def build(gql, programme, make_member, make_key) -> Shop:
    """Day 0: Alice buys twice (100.00 and 20.00 yuan: 200 + 40 points, Silver), checks in
    (5), redeems 20 points, buys a coupon for 10 points and uses it at checkout, redeems a
    reward for 10 points; Bob buys once (50.00: 100 points). Day 2: Alice returns her first
    order (back to Bronze, 200 points taken back). Carol only registers. Day 370: what is left
    of the day-0 points (Alice 5, Bob 100) has expired; Carol checks in (5) and Bob records an
    order left pending (100 pending)."""
    admin = await make_key(programme, Role.ADMIN)
    storefront = await make_key(programme, Role.STOREFRONT)
    day0 = local_day(await frozen_now(gql, admin))
    alice, bob, carol = [await make_member(programme) for _ in range(3)]
    first = await completed_order(
        gql, admin, alice.external_id, lines=[line("item", 10_000)], order_id=f"a1-{alice.id}"
    )
    await completed_order(gql, admin, alice.external_id, lines=[line("item", 2_000)])
    await completed_order(gql, admin, bob.external_id, lines=[line("item", 5_000)])
    await check_in(gql, storefront, alice.external_id)
    spent = await redeem(gql, admin, memberExternalId=alice.external_id, amount=20)
    assert spent["__typename"] == "TransactionSuccess", spent
    template = await create_template(gql, admin, pointsPrice=10)
    bought = await exchange(gql, admin, template["id"], alice.external_id)
    assert bought["__typename"] == "ExchangePointsForCouponSuccess", bought
    code = bought["coupon"]["code"]
    await locked(gql, storefront, code, "checkout-1")
    used = await redeem_coupon(gql, storefront, code, "checkout-1")
    assert used["__typename"] == "CouponSuccess", used
    reward = await create_reward(gql, admin, pointsPrice=10)
    got = await redeem_reward(gql, storefront, reward["code"], memberExternalId=alice.external_id)
    assert got["__typename"] == "RewardRedemptionSuccess", got
    await advance(gql, admin, days=2)
    back = await mutate(
        gql,
        RETURN_LINES,
        "returnOrderLines",
        admin,
        orderId=first["orderId"],
        lines=[{"sku": "item", "quantity": 1}],
    )
    assert back["__typename"] == "OrderSuccess", back
    await advance(gql, admin, days=368)
    await run_jobs(programme)
    await check_in(gql, storefront, carol.external_id)
    await placed_order(gql, admin, bob.external_id, lines=[line("item", 5_000)])
    return Shop(day0, template["code"], reward["code"])
