"""Campaign limits under real concurrent requests through the ASGI app, on PostgreSQL (issue
19, point 3): a budget spent by a conditional UPDATE in each order's transaction, and a
member's cap read under its lock."""

from __future__ import annotations

import asyncio
from typing import Any

from db.models import CampaignAward, Order
from domain.auth import Role
from domain.campaigns import Effects, Limits
from tests.conftest import needs_postgres
from tests.graphql.campaigns.orders_helpers import RECORD, campaign_rules, make_campaign, spent_of
from tests.graphql.points.helpers import order_input, parse, programme_now

pytestmark = needs_postgres


async def _record_all(gql, key: str, orders: list[dict[str, Any]]) -> list[dict[str, Any]]:
    bodies = await asyncio.gather(*(gql(RECORD, {"input": o}, auth=key) for o in orders))
    results = [body["data"]["recordOrder"] for body in bodies]
    assert [r["__typename"] for r in results] == ["OrderSuccess"] * len(orders), results
    return [r["order"] for r in results]


async def test_300_orders_racing_on_a_budget_for_100_rewards_reward_exactly_100(
    gql, programme, make_member, make_key
):
    # given a +50 points per order campaign with a budget of 5,000 (100 rewards), and 300
    # orders of 100 members (200 base points each)
    key = await make_key(programme, Role.STOREFRONT)
    now = await programme_now(gql, key)
    campaign = await make_campaign(
        programme, parse(now), code="FIRST-100", budget=5_000, effects=Effects(bonus_per_order=50)
    )
    members = [await make_member(programme) for _ in range(100)]
    orders = [order_input(m.external_id, now) for m in members for _ in range(3)]
    # when all 300 are recorded at once
    booked = await _record_all(gql, key, orders)
    # then every order is recorded with its base points, exactly 100 with the campaign's too
    rewarded = [o for o in booked if campaign_rules(o)]
    assert len(rewarded) == 100
    assert {o["points"] for o in rewarded} == {250}
    assert {o["points"] for o in booked if not campaign_rules(o)} == {200}
    # and the budget is spent to the point, once per award
    assert await spent_of(campaign) == 5_000
    assert await CampaignAward.filter(campaign_id=campaign.id).count() == 100
    assert await Order.filter(programme_id=programme.id).count() == 300


async def test_one_members_racing_orders_under_a_member_cap_get_exactly_the_cap(
    gql, programme, make_member, make_key
):
    # given double points capped at 500 per member (each order would add 200)
    key = await make_key(programme, Role.STOREFRONT)
    now = await programme_now(gql, key)
    campaign = await make_campaign(programme, parse(now), limits=Limits(member_cap=500))
    member = await make_member(programme)
    # when 20 of the member's orders are recorded at once
    booked = await _record_all(gql, key, [order_input(member.external_id, now) for _ in range(20)])
    # then the campaign gave the member exactly its cap: 200, 200 and the last 100
    given = sorted(points for o in booked for _, points, _ in campaign_rules(o))
    assert given == [100, 200, 200]
    assert sum(o["points"] for o in booked) == 20 * 200 + 500
    awards = await CampaignAward.filter(campaign_id=campaign.id, member_id=member.id)
    assert sum(a.points for a in awards) == 500
