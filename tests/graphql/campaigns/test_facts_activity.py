"""Campaigns on registrations, reviews and referral rewards, through the API (issue 19): the
bonus is booked with the fact, and taken back with it when a return undoes the fact."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from db.models import Campaign as CampaignRow
from db.models import Member
from domain.auth import Role
from domain.campaigns import Trigger
from tests.fixtures.campaign_facts import add_campaign, awards_of, budget_spent
from tests.fixtures.points import assert_ledger_consistent
from tests.graphql.points.documents import ACCEPT_REFERRAL, INVITE_CODE, RETURN_LINES, REWARD_REVIEW
from tests.graphql.points.helpers import (
    completed_order,
    history,
    line,
    mutate,
    new_key,
    parse,
    placed_order,
    points_of,
    programme_now,
)

REGISTER = """
mutation ($input: RegisterMemberInput!) {
  registerMember(input: $input) {
    __typename
    ... on RegisterMemberSuccess { member { externalId points { available } } }
    ... on RegisterMemberError { errors { field code message } }
  }
}
"""
COMPLETE_ORDER = """
mutation ($input: OrderActionInput!) {
  completeOrder(input: $input) { __typename }
}
"""


@pytest.fixture
async def keys(programme, make_key) -> tuple[str, str]:
    """(admin, storefront) keys of the `programme`."""
    return await make_key(programme, Role.ADMIN), await make_key(programme, Role.STOREFRONT)


async def campaign_rows(gql, key: str, external_id: str) -> list[dict[str, Any]]:
    edges = (await history(gql, key, external_id))["edges"]
    return [e["node"] for e in edges if e["node"]["referenceType"] == "CAMPAIGN"]


async def campaign(programme, gql, key: str, code: str, trigger: Trigger, **effects) -> CampaignRow:
    now = parse(await programme_now(gql, key))
    return await add_campaign(programme, code=code, trigger=trigger, now=now, **effects)


async def register(gql, key: str) -> dict[str, Any]:
    external_id = f"new-{uuid.uuid4().hex[:8]}"
    body = await gql(
        REGISTER,
        {"input": {"externalId": external_id, "displayName": "New", "idempotencyKey": new_key()}},
        auth=key,
    )
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["registerMember"]
    assert result["__typename"] == "RegisterMemberSuccess", result
    return result


async def test_new_members_get_the_registration_bonus(gql, programme, keys):
    # given a welcome bonus of 100 points, and a registration multiplier (of nothing)
    admin, storefront = keys
    welcome = await campaign(programme, gql, admin, "WELCOME", Trigger.REGISTRATION, bonus=100)
    tripled = await campaign(
        programme, gql, admin, "TRIPLE", Trigger.REGISTRATION, multiplier=30_000
    )
    # when a customer registers
    result = await register(gql, storefront)
    # then it starts with the bonus, on a ledger row naming the campaign; the multiplier of a
    # registration's 0 points gives nothing, and is not counted as given
    external_id = result["member"]["externalId"]
    assert result["member"]["points"]["available"] == 100
    [row] = await campaign_rows(gql, admin, external_id)
    assert (row["kind"], row["amount"], row["reason"], row["reference"]) == (
        "EARN",
        100,
        "campaign WELCOME: registration bonus",
        f"WELCOME:{external_id}",
    )
    [award] = await awards_of(welcome)
    assert (award.reference_type, award.reference, award.points) == (
        "REGISTRATION",
        external_id,
        100,
    )
    assert await awards_of(tripled) == []
    await assert_ledger_consistent(await Member.get(external_id=external_id))


async def test_a_review_bonus_goes_with_the_review_when_the_item_comes_back(
    gql, programme, make_member, keys
):
    # given reviews earn triple points (10 of their own, 20 more from the campaign) from a
    # budget, and a member's completed order of a shirt (200 points)
    admin, storefront = keys
    review_x3 = await campaign(
        programme, gql, admin, "REVIEW-3X", Trigger.REVIEW, multiplier=30_000, budget=1_000
    )
    member = await make_member(programme)
    order = await completed_order(gql, storefront, member.external_id, lines=[line("shirt")])
    # when the shirt is reviewed
    reviewed = await mutate(
        gql, REWARD_REVIEW, "rewardReview", admin, orderId=order["orderId"], sku="shirt"
    )
    # then the review earns 10 and the campaign 20 more
    assert reviewed["__typename"] == "MemberSuccess", reviewed
    assert reviewed["member"]["points"]["available"] == 200 + 10 + 20
    [row] = await campaign_rows(gql, admin, member.external_id)
    assert (row["amount"], row["reason"], row["reference"]) == (
        20,
        "campaign REVIEW-3X: review bonus",
        f"REVIEW-3X:{order['orderId']}/shirt",
    )
    assert await budget_spent(review_x3) == 20
    # when the shirt is returned
    returned = await mutate(
        gql,
        RETURN_LINES,
        "returnOrderLines",
        storefront,
        orderId=order["orderId"],
        lines=[{"sku": "shirt", "quantity": 1}],
    )
    # then the order's, the review's and the campaign's points all go, and the budget is whole
    assert returned["__typename"] == "OrderSuccess", returned
    assert (await points_of(gql, admin, member.external_id))["available"] == 0
    rows = await campaign_rows(gql, admin, member.external_id)
    taken = [r for r in rows if r["kind"] == "REVERSE"]
    assert [(r["amount"], r["reverses"], r["reason"]) for r in taken] == [
        (-20, row["id"], "reviewed item returned")
    ]
    [award] = await awards_of(review_x3)
    assert (award.points, award.points_reversed) == (20, 20)
    assert await budget_spent(review_x3) == 0
    await assert_ledger_consistent(member)


async def test_a_review_of_another_programme_earns_nothing_from_this_ones_campaign(
    gql, programme, make_programme, make_member, make_key, keys
):
    # given programme A runs a review bonus; programme B's member reviews its own order
    admin, _ = keys
    ours = await campaign(programme, gql, admin, "A-REVIEWS", Trigger.REVIEW, bonus=50)
    other = await make_programme()
    other_key = await make_key(other, Role.STOREFRONT)
    member = await make_member(other)
    order = await completed_order(gql, other_key, member.external_id, lines=[line("mug")])
    # when it is reviewed
    reviewed = await mutate(
        gql, REWARD_REVIEW, "rewardReview", other_key, orderId=order["orderId"], sku="mug"
    )
    # then only B's own review points are earned
    assert reviewed["__typename"] == "MemberSuccess", reviewed
    assert reviewed["member"]["points"]["available"] == 200 + 10
    assert await awards_of(ours) == []


async def invite(gql, key: str, inviter: Member, invitee: Member) -> None:
    body = await gql(INVITE_CODE, {"e": inviter.external_id}, auth=key)
    code = body["data"]["member"]["inviteCode"]
    accepted = await mutate(
        gql,
        ACCEPT_REFERRAL,
        "acceptReferral",
        key,
        inviteeExternalId=invitee.external_id,
        inviteCode=code,
    )
    assert accepted["__typename"] == "MemberSuccess", accepted


async def test_the_inviter_gets_the_referral_bonus_and_loses_it_with_the_reward(
    gql, programme, make_member, keys
):
    # given a referral bonus of 88 points, and A invited B
    admin, storefront = keys
    bonus = await campaign(
        programme, gql, admin, "FRIENDS", Trigger.REFERRAL, bonus=88, budget=10_000
    )
    a, b = await make_member(programme), await make_member(programme)
    await invite(gql, storefront, a, b)
    order = await placed_order(gql, storefront, b.external_id, lines=[line("mug", 2_000)])
    # when B's first order completes
    done = await mutate(gql, COMPLETE_ORDER, "completeOrder", storefront, orderId=order["orderId"])
    # then A earns the referral's 200 points and the campaign's 88; B earns no bonus
    assert done["__typename"] == "OrderSuccess", done
    assert (await points_of(gql, admin, a.external_id))["available"] == 200 + 88
    [row] = await campaign_rows(gql, admin, a.external_id)
    assert (row["amount"], row["reason"], row["reference"]) == (
        88,
        "campaign FRIENDS: referral bonus",
        f"FRIENDS:{order['orderId']}",
    )
    [award] = await awards_of(bonus)
    assert (award.member_id, award.reference_type, award.reference) == (
        a.id,
        "REFERRAL",
        order["orderId"],
    )
    assert await campaign_rows(gql, admin, b.external_id) == []
    # when B returns the whole order
    returned = await mutate(
        gql,
        RETURN_LINES,
        "returnOrderLines",
        storefront,
        orderId=order["orderId"],
        lines=[{"sku": "mug", "quantity": 1}],
    )
    # then A's reward and its bonus are taken back, and the budget gets the bonus back
    assert returned["__typename"] == "OrderSuccess", returned
    assert (await points_of(gql, admin, a.external_id))["available"] == 0
    await award.refresh_from_db()
    assert award.points_reversed == 88
    assert await budget_spent(bonus) == 0
    await assert_ledger_consistent(a)
