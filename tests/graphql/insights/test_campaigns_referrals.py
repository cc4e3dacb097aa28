"""programmeInsights' campaigns and referrals: a campaign's order bonus is in the order's
ledger row (ORDERS), and the campaign's own line carries it; a referral rewarded by the
invitee's first completed order converts."""

from __future__ import annotations

from datetime import timedelta

from domain.auth import Role
from tests.graphql.campaigns.helpers import active_campaign
from tests.graphql.coupons.helpers import frozen_now
from tests.graphql.insights.scenario import figures, local_day
from tests.graphql.points.documents import ACCEPT_REFERRAL, INVITE_CODE
from tests.graphql.points.helpers import completed_order, line, mutate


async def test_a_campaign_bonus_and_a_converted_referral(gql, programme, make_member, make_key):
    # given double points on orders, and Erin inviting Frank
    admin = await make_key(programme, Role.ADMIN)
    storefront = await make_key(programme, Role.STOREFRONT)
    day0 = local_day(await frozen_now(gql, admin))
    campaign = await active_campaign(gql, admin)
    erin, frank, gina = [await make_member(programme) for _ in range(3)]
    body = await gql(INVITE_CODE, {"e": erin.external_id}, auth=storefront)
    code = body["data"]["member"]["inviteCode"]
    for invitee in (frank, gina):  # Gina accepts too, and never buys
        accepted = await mutate(
            gql,
            ACCEPT_REFERRAL,
            "acceptReferral",
            storefront,
            inviteeExternalId=invitee.external_id,
            inviteCode=code,
        )
        assert accepted["__typename"] == "MemberSuccess", accepted
    # when Frank's first order (50.00 yuan: 100 points, doubled) completes
    await completed_order(gql, admin, frank.external_id, lines=[line("item", 5_000)])
    found = await figures(gql, admin, day0, day0 + timedelta(days=1), "DAY")
    # then the order's 200 points (the campaign's 100 among them) count under ORDERS, Erin's
    # referral reward under REFERRALS, and nothing under CAMPAIGNS
    by_source = {s["source"]: s["points"] for s in found["points"]["earnedBySource"]}
    assert by_source["ORDERS"] == 200 and by_source["CAMPAIGNS"] == 0
    assert by_source["REFERRALS"] == 200  # the demo policy's referral reward
    assert found["points"]["earned"] == 400
    # and the campaign's line says what it gave
    assert found["campaigns"] == [
        {
            "code": campaign["code"],
            "name": "Double points",
            "status": "ACTIVE",
            "awards": 1,
            "members": 1,
            "points": 100,
        }
    ]
    # and two invited, one rewarded
    assert found["behaviour"]["referrals"] == {"invited": 2, "rewarded": 1, "conversionRate": 0.5}
    # Frank and Erin earned (his order, her reward); Gina did nothing
    assert found["members"]["active"] == 2 and found["members"]["total"] == 3
    # a range before the campaign began lists it not
    before = await figures(gql, admin, day0 - timedelta(days=30), day0 - timedelta(days=10))
    assert before["campaigns"] == [] and before["behaviour"]["referrals"]["invited"] == 0
