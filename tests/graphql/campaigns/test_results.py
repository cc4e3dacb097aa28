"""campaign.results: what a campaign's awards add up to (the awards are written here directly,
as the order and fact paths write them)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from db.models import Campaign as CampaignRow
from db.models import CampaignAward, Member, Order, Programme
from domain.auth import Role
from tests.graphql.campaigns.documents import CAMPAIGNS_WITH_RESULTS
from tests.graphql.campaigns.helpers import active_campaign, campaign_of, create_campaign
from tests.graphql.test_query_counts import counting_statements

_refs = itertools.count(1)
NOW = datetime(2027, 3, 1, 12, tzinfo=UTC)


async def _order(programme: Programme, member: Member, status: str, amount: int) -> Order:
    return await Order.create(
        programme_id=programme.id,
        member_id=member.id,
        order_ref=f"res-{next(_refs)}-{member.id}",
        status=status,
        currency="CNY",
        placed_at=NOW,
        recorded_at=NOW,
        matures_at=NOW + timedelta(days=7),
        amount=amount,
        points=amount // 100,
    )


async def _award(
    campaign_id: int, member: Member, order: Order | None, points: int, **more: Any
) -> None:
    await CampaignAward.create(
        programme_id=member.programme_id,
        campaign_id=campaign_id,
        member_id=member.id,
        order_id=order.id if order else None,
        reference_type="ORDER" if order else "CHECK_IN",
        reference=order.order_ref if order else f"check-in-{next(_refs)}",
        points=points,
        lines=[],
        spend=order.amount if order else 0,
        awarded_at=NOW,
        **more,
    )


async def _row_id(programme: Programme, code: str) -> int:
    row = await CampaignRow.get(programme_id=programme.id, code=code)
    return int(row.id)


async def test_results_split_points_by_where_their_orders_are_and_count_what_was_rewarded(
    gql, programme, admin, make_member
):
    # given a campaign with a budget, and another
    code = (await active_campaign(gql, admin, limits={"budget": 10_000}))["code"]
    other = (await active_campaign(gql, admin))["code"]
    campaign_id, other_id = await _row_id(programme, code), await _row_id(programme, other)
    await CampaignRow.filter(id=campaign_id).update(budget_spent=1_150)
    alice, bob, carol = [await make_member(programme) for _ in range(3)]
    # and its awards: alice's pending order (50 returned), her completed order (100 returned,
    # a coupon), bob's cancelled order (a coupon), bob's check-in; carol's order in the other
    pending = await _order(programme, alice, "PENDING", 30_000)
    completed = await _order(programme, alice, "COMPLETED", 50_000)
    cancelled = await _order(programme, bob, "CANCELLED", 20_000)
    elsewhere = await _order(programme, carol, "COMPLETED", 7_000)
    await _award(campaign_id, alice, pending, 300, points_reversed=50)
    await _award(campaign_id, alice, completed, 500, points_reversed=100, coupon_id=77)
    await _award(campaign_id, bob, cancelled, 200, cancelled=True, coupon_id=78)
    await _award(campaign_id, bob, None, 150)
    await _award(other_id, carol, elsewhere, 70)
    # when the results are read
    results = (await campaign_of(gql, admin, code))["results"]
    # then the points split pending / available / reversed and add up to all it gave
    assert results == {
        "pointsAwarded": 1_150,
        "pointsPending": 250,
        "pointsAvailable": 550,
        "pointsReversed": 350,
        "ordersRewarded": 2,
        "membersRewarded": 2,
        "budget": 10_000,
        "budgetSpent": 1_150,
        "budgetLeft": 8_850,
        "spendOfRewardedOrders": 80_000,
        "couponsIssued": 2,
    }
    # and the other campaign counts only its own
    assert (await campaign_of(gql, admin, other))["results"] == {
        "pointsAwarded": 70,
        "pointsPending": 0,
        "pointsAvailable": 70,
        "pointsReversed": 0,
        "ordersRewarded": 1,
        "membersRewarded": 1,
        "budget": None,
        "budgetSpent": 0,
        "budgetLeft": None,
        "spendOfRewardedOrders": 7_000,
        "couponsIssued": 0,
    }


async def test_a_campaign_without_awards_has_zero_results(gql, programme, admin):
    code = (await create_campaign(gql, admin, limits={"budget": 500}))["code"]
    results = (await campaign_of(gql, admin, code))["results"]
    assert results["pointsAwarded"] == 0 and results["ordersRewarded"] == 0
    assert (results["budget"], results["budgetLeft"]) == (500, 500)


async def test_results_of_a_page_of_campaigns_cost_the_same_statements_for_1_or_20(
    gql, make_programme, make_key, make_member
):
    # given a programme with 1 campaign and one with 20, each with an award
    counts = {}
    for size in (1, 20):
        programme = await make_programme()
        admin = await make_key(programme, Role.ADMIN)
        member = await make_member(programme)
        order = await _order(programme, member, "COMPLETED", 10_000)
        for _ in range(size):
            code = (await create_campaign(gql, admin))["code"]
            await _award(await _row_id(programme, code), member, order, 10)
        await gql(CAMPAIGNS_WITH_RESULTS, {"first": 50}, auth=admin)  # warm the key's cache
        # when the list is read with every campaign's results
        with counting_statements() as counted:
            body = await gql(CAMPAIGNS_WITH_RESULTS, {"first": 50}, auth=admin)
        edges = body["data"]["campaigns"]["edges"]
        assert [e["node"]["results"]["pointsAwarded"] for e in edges] == [10] * size
        counts[size] = counted["n"]
    # then the statement count does not grow with the list
    assert counts[1] > 0
    assert counts[20] == counts[1]
