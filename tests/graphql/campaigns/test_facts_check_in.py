"""Campaigns on check-ins, through the API (issue 19): what a check-in's campaigns add, each
on a ledger row of its own, within budgets and member caps, in one programme only."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from db.models import Event
from domain.auth import Role
from domain.campaigns import CapPeriod, Trigger
from tests.conftest import needs_postgres
from tests.fixtures.campaign_facts import (
    add_campaign,
    advance_to_month_start,
    advance_to_weekday,
    awards_of,
    budget_spent,
    local_today,
)
from tests.fixtures.points import assert_ledger_consistent
from tests.graphql.coupons.helpers import create_template
from tests.graphql.points.helpers import (
    advance,
    history,
    new_key,
    parse,
    points_of,
    programme_now,
)

CHECK_IN = """
mutation ($input: CheckInInput!) {
  checkIn(input: $input) {
    __typename
    ... on CheckInSuccess {
      streak points campaignPoints
      campaigns { campaignCode campaignName points couponId }
      member { points { available } }
    }
    ... on CheckInError { errors { field code message } }
  }
}
"""
WALLET = """
query ($e: String!) {
  member(externalId: $e) { coupons(first: 10) { edges { node { id source template { code } } } } }
}
"""


@pytest.fixture
async def keys(programme, make_key) -> tuple[str, str]:
    """(admin, storefront) keys of the `programme`."""
    return await make_key(programme, Role.ADMIN), await make_key(programme, Role.STOREFRONT)


async def check_in(gql, key: str, external_id: str, idempotency_key: str | None = None) -> dict:
    body = await gql(
        CHECK_IN,
        {
            "input": {
                "memberExternalId": external_id,
                "idempotencyKey": idempotency_key or new_key(),
            }
        },
        auth=key,
    )
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["checkIn"]
    assert result["__typename"] == "CheckInSuccess", result
    return result


async def campaign_rows(gql, key: str, external_id: str) -> list[dict]:
    edges = (await history(gql, key, external_id))["edges"]
    return [e["node"] for e in edges if e["node"]["referenceType"] == "CAMPAIGN"]


async def test_check_ins_earn_double_points_on_weekends(gql, programme, make_member, keys):
    # given double points for check-ins on Saturdays and Sundays, and a member on a Friday
    admin, storefront = keys
    now = parse(await programme_now(gql, admin))
    await add_campaign(
        programme,
        code="WEEKEND-2X",
        trigger=Trigger.CHECK_IN,
        now=now,
        weekdays=frozenset({6, 7}),
        multiplier=20_000,
    )
    member = await make_member(programme)
    await advance_to_weekday(gql, admin, 5)
    # when the member checks in from Friday to Monday
    days = []
    for _ in range(4):
        days.append(await check_in(gql, storefront, member.external_id))
        await advance(gql, admin, days=1)
    friday, saturday, sunday, monday = days
    assert sunday["campaigns"] == saturday["campaigns"]
    # then the weekend's check-ins earn their points twice, the weekdays' once
    assert [d["points"] for d in days] == [5, 5, 5, 5]
    assert [d["campaignPoints"] for d in days] == [0, 5, 5, 0]
    assert friday["campaigns"] == monday["campaigns"] == []
    assert saturday["campaigns"] == [
        {
            "campaignCode": "WEEKEND-2X",
            "campaignName": "Campaign WEEKEND-2X",
            "points": 5,
            "couponId": None,
        }
    ]
    assert monday["member"]["points"]["available"] == 30
    # and each bonus is a ledger row of its own, naming the campaign and the day
    rows = await campaign_rows(gql, admin, member.external_id)
    assert sorted((r["kind"], r["amount"], r["reason"]) for r in rows) == [
        ("EARN", 5, "campaign WEEKEND-2X: check-in bonus"),
        ("EARN", 5, "campaign WEEKEND-2X: check-in bonus"),
    ]
    assert all(r["reference"].startswith("WEEKEND-2X:20") for r in rows)
    await assert_ledger_consistent(member)


async def test_a_bonus_is_told_as_earned_points(gql, programme, make_member, keys):
    # given a bonus of 40 points per check-in
    admin, storefront = keys
    now = parse(await programme_now(gql, admin))
    await add_campaign(programme, code="HELLO", trigger=Trigger.CHECK_IN, now=now, bonus=40)
    member = await make_member(programme)
    # when the member checks in
    done = await check_in(gql, storefront, member.external_id)
    # then a points.earned event tells the bonus, from the campaign
    assert done["campaignPoints"] == 40
    earned = await Event.filter(member_id=member.id, type="points.earned").order_by("id")
    assert [(e.payload["source"], e.payload["points"]) for e in earned] == [
        ("CHECK_IN", 5),
        ("CAMPAIGN", 40),
    ]
    assert earned[1].payload["balance"]["available"] == 45


async def test_once_the_budget_is_spent_check_ins_earn_their_base_points(
    gql, programme, make_member, keys
):
    # given a 50-point bonus with a budget of 60 points
    admin, storefront = keys
    now = parse(await programme_now(gql, admin))
    row = await add_campaign(
        programme, code="FIRST-FEW", trigger=Trigger.CHECK_IN, now=now, bonus=50, budget=60
    )
    first, second = await make_member(programme), await make_member(programme)
    # when two members check in
    rewarded = await check_in(gql, storefront, first.external_id)
    late = await check_in(gql, storefront, second.external_id)
    # then the first gets the bonus; what is left (10) cannot pay the second's, who still
    # earns the check-in's own points
    assert (rewarded["points"], rewarded["campaignPoints"]) == (5, 50)
    assert (late["points"], late["campaignPoints"], late["campaigns"]) == (5, 0, [])
    assert (await points_of(gql, admin, second.external_id))["available"] == 5
    assert await budget_spent(row) == 50
    assert [a.member_id for a in await awards_of(row)] == [first.id]


@needs_postgres
async def test_concurrent_check_ins_never_overspend_a_budget(gql, programme, make_member, keys):
    # given a budget for exactly three 50-point bonuses, and eight members
    admin, storefront = keys
    now = parse(await programme_now(gql, admin))
    row = await add_campaign(
        programme, code="RUSH", trigger=Trigger.CHECK_IN, now=now, bonus=50, budget=150
    )
    members = [await make_member(programme) for _ in range(8)]
    # when all of them check in at once
    results = await asyncio.gather(*(check_in(gql, storefront, m.external_id) for m in members))
    # then exactly three are rewarded, and every one earns its own points
    assert sorted(r["campaignPoints"] for r in results) == [0] * 5 + [50] * 3
    assert all(r["points"] == 5 for r in results)
    assert await budget_spent(row) == 150
    assert len(await awards_of(row)) == 3


async def test_a_member_period_cap_holds_across_check_ins(gql, programme, make_member, keys):
    # given 30 bonus points per check-in, at most 50 per member per month
    admin, storefront = keys
    now = parse(await programme_now(gql, admin))
    row = await add_campaign(
        programme,
        code="MONTHLY",
        trigger=Trigger.CHECK_IN,
        now=now,
        bonus=30,
        member_period_cap=50,
        cap_period=CapPeriod.MONTH,
    )
    member = await make_member(programme)
    await advance_to_month_start(gql, admin)
    # when the member checks in on the first three days of a month
    days = []
    for _ in range(3):
        days.append(await check_in(gql, storefront, member.external_id))
        await advance(gql, admin, days=1)
    # then the bonus stops at the cap: 30, then the 20 left, then nothing
    assert [d["campaignPoints"] for d in days] == [30, 20, 0]
    assert days[2]["campaigns"] == []
    # when the next month comes
    await advance_to_month_start(gql, admin)
    next_month = await check_in(gql, storefront, member.external_id)
    # then the cap starts again
    assert next_month["campaignPoints"] == 30
    assert [a.points for a in await awards_of(row)] == [30, 20, 30]
    await assert_ledger_consistent(member)


async def test_a_coupon_campaign_issues_a_coupon_into_the_wallet(gql, programme, make_member, keys):
    # given a campaign that gives a coupon for checking in
    admin, storefront = keys
    template = await create_template(gql, admin)
    now = parse(await programme_now(gql, admin))
    await add_campaign(
        programme,
        code="COUPON-DAY",
        trigger=Trigger.CHECK_IN,
        now=now,
        coupon_template=template["code"],
    )
    member = await make_member(programme)
    # when the member checks in
    done = await check_in(gql, storefront, member.external_id)
    # then no points are added, and the coupon is in the member's wallet
    assert done["campaignPoints"] == 0
    [bonus] = done["campaigns"]
    assert (bonus["campaignCode"], bonus["points"]) == ("COUPON-DAY", 0)
    body = await gql(WALLET, {"e": member.external_id}, auth=storefront)
    [coupon] = [e["node"] for e in body["data"]["member"]["coupons"]["edges"]]
    assert coupon["id"] == bonus["couponId"]
    assert (coupon["source"], coupon["template"]["code"]) == ("CAMPAIGN", template["code"])
    assert await campaign_rows(gql, admin, member.external_id) == []


async def test_a_replayed_check_in_answers_its_campaigns_again_and_books_once(
    gql, programme, make_member, keys
):
    # given a bonus campaign, and a check-in done once
    admin, storefront = keys
    now = parse(await programme_now(gql, admin))
    row = await add_campaign(programme, code="ONCE", trigger=Trigger.CHECK_IN, now=now, bonus=7)
    member = await make_member(programme)
    key = new_key()
    first = await check_in(gql, storefront, member.external_id, key)
    # when it is sent again with the same idempotency key
    again = await check_in(gql, storefront, member.external_id, key)
    # then the answer is the same and the bonus was booked once
    assert again == first and first["campaignPoints"] == 7
    assert len(await awards_of(row)) == 1
    assert len(await campaign_rows(gql, admin, member.external_id)) == 1


async def test_an_order_campaign_never_applies_to_a_check_in(gql, programme, make_member, keys):
    # given a campaign of orders, running now
    admin, storefront = keys
    now = parse(await programme_now(gql, admin))
    row = await add_campaign(programme, code="ORDERS", trigger=Trigger.ORDER, now=now, bonus=100)
    member = await make_member(programme)
    # when the member checks in
    done = await check_in(gql, storefront, member.external_id)
    # then the check-in earns its own points only
    assert (done["points"], done["campaignPoints"], done["campaigns"]) == (5, 0, [])
    assert await awards_of(row) == []
    assert await budget_spent(row) == 0


async def test_another_programmes_campaign_never_applies(
    gql, programme, make_programme, make_member, make_key, keys
):
    # given programme B runs a check-in bonus, programme A none
    _, storefront = keys
    other = await make_programme()
    other_admin = await make_key(other)
    now = parse(await programme_now(gql, other_admin))
    theirs = await add_campaign(other, code="B-ONLY", trigger=Trigger.CHECK_IN, now=now, bonus=99)
    ours, their_member = await make_member(programme), await make_member(other)
    # when A's member checks in with A's key
    done = await check_in(gql, storefront, ours.external_id)
    # then B's campaign gives it nothing; only B's own member earns it
    assert (done["campaignPoints"], done["campaigns"]) == (0, [])
    assert await awards_of(theirs) == []
    theirs_done = await check_in(gql, await make_key(other), their_member.external_id)
    assert theirs_done["campaignPoints"] == 99
    assert [a.member_id for a in await awards_of(theirs)] == [their_member.id]


async def test_the_day_is_the_programmes_local_day(gql, programme, make_member, keys):
    # given a campaign on today's local weekday only
    admin, storefront = keys
    today = await local_today(gql, admin)
    now = parse(await programme_now(gql, admin))
    await add_campaign(
        programme,
        code="TODAY",
        trigger=Trigger.CHECK_IN,
        now=now,
        weekdays=frozenset({today.isoweekday()}),
        bonus=11,
    )
    member = await make_member(programme)
    # when the member checks in today and tomorrow
    today_done = await check_in(gql, storefront, member.external_id)
    await advance(gql, admin, days=1)
    tomorrow_done = await check_in(gql, storefront, member.external_id)
    # then only today's check-in is rewarded
    assert (today_done["campaignPoints"], tomorrow_done["campaignPoints"]) == (11, 0)


SET_ABUSE_POLICY = """
mutation ($input: SetAbusePolicyInput!) {
  setAbusePolicy(input: $input) { __typename }
}
"""


async def test_a_check_in_the_abuse_caps_hold_back_earns_no_bonus(
    gql, programme, make_member, keys
):
    # given a 40-point check-in bonus, and at most 5 check-in points per member per week
    admin, storefront = keys
    cap = {"caps": [{"source": "CHECK_IN", "period": "WEEK", "points": 5}]}
    body = await gql(SET_ABUSE_POLICY, {"input": cap}, auth=admin)
    assert body["data"]["setAbusePolicy"]["__typename"] == "SetAbusePolicySuccess", body
    now = parse(await programme_now(gql, admin))
    row = await add_campaign(programme, code="DAILY", trigger=Trigger.CHECK_IN, now=now, bonus=40)
    member = await make_member(programme)
    await advance_to_weekday(gql, admin, 1)
    # when the member checks in on Monday and Tuesday
    monday = await check_in(gql, storefront, member.external_id)
    await advance(gql, admin, days=1)
    tuesday = await check_in(gql, storefront, member.external_id)
    # then Monday's check-in earns its points and the bonus; Tuesday's points wait for an
    # admin, and no bonus pays for them
    assert (monday["points"], monday["campaignPoints"]) == (5, 40)
    assert (tuesday["points"], tuesday["campaignPoints"], tuesday["campaigns"]) == (0, 0, [])
    assert [a.points for a in await awards_of(row)] == [40]
