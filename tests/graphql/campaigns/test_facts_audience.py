"""Campaigns on check-ins whose audience asks what the member row does not hold (its segment,
its orders), read as orders' campaigns read them (services.campaigns.common)."""

from __future__ import annotations

from datetime import timedelta

from db.models import Member, MemberSegment
from domain.auth import Role
from domain.campaigns import Audience, Trigger
from domain.recommendations.rfm import Lifecycle
from tests.fixtures.campaign_facts import add_campaign, awards_of
from tests.graphql.campaigns.test_facts_check_in import check_in
from tests.graphql.points.helpers import parse, placed_order, programme_now


async def test_a_second_order_audience_rewards_the_check_in_of_a_member_with_one_order_only(
    gql, programme, make_member, make_key
):
    # given +7 points on check-ins of members whose next order is their second
    storefront = await make_key(programme, Role.STOREFRONT)
    now = parse(await programme_now(gql, storefront))
    campaign = await add_campaign(
        programme,
        code="SECOND",
        trigger=Trigger.CHECK_IN,
        now=now,
        bonus=7,
        audience=Audience(nth_order=2),
    )
    # and members with no order, one order and three orders
    members = [await make_member(programme) for _ in range(3)]
    for member, orders in zip(members, (0, 1, 3), strict=True):
        for _ in range(orders):
            await placed_order(gql, storefront, member.external_id)
    # when each checks in
    done = [await check_in(gql, storefront, m.external_id) for m in members]
    # then only the member with one order gets the bonus (three orders are not one, however
    # far the count goes)
    assert [d["campaignPoints"] for d in done] == [0, 7, 0]
    assert [a.member_id for a in await awards_of(campaign)] == [members[1].id]


async def test_a_segment_and_recent_join_audience_rewards_only_members_with_both(
    gql, programme, make_member, make_key
):
    # given +9 points on check-ins of at-risk members who joined within 30 days
    storefront = await make_key(programme, Role.STOREFRONT)
    now = parse(await programme_now(gql, storefront))
    await add_campaign(
        programme,
        code="WIN-BACK",
        trigger=Trigger.CHECK_IN,
        now=now,
        bonus=9,
        audience=Audience(segments=frozenset({Lifecycle.AT_RISK.value}), joined_within_days=30),
    )
    # and an at-risk member, one at risk who joined 40 days ago, one active, one not segmented
    members = [await make_member(programme) for _ in range(4)]
    await Member.filter(id=members[1].id).update(joined_at=now - timedelta(days=40))
    lifecycles = (Lifecycle.AT_RISK, Lifecycle.AT_RISK, Lifecycle.ACTIVE)
    for member, lifecycle in zip(members[:3], lifecycles, strict=True):
        await MemberSegment.create(
            member_id=member.id,
            programme_id=programme.id,
            recency_days=100,
            frequency=1,
            monetary=1_000,
            recency_score=1,
            frequency_score=1,
            monetary_score=1,
            lifecycle=lifecycle.value,
            computed_at=now,
        )
    # when each checks in
    done = [await check_in(gql, storefront, m.external_id) for m in members]
    # then only the recent at-risk member gets the bonus
    assert [d["campaignPoints"] for d in done] == [9, 0, 0, 0]
