"""Next best actions from the rewards catalogue and challenges (issue 20, point 5): rewards the
member can afford now, dearest first; challenges it is close to completing, nearest first.
Rows are written straight to their tables: the catalogue's and challenges' mutations are the
issue's other points."""

from __future__ import annotations

import uuid
from datetime import timedelta

from db.models import Tier
from domain.auth import Role
from services.points import admin as points_admin
from tests.fixtures.factories import admin_of
from tests.fixtures.page import a_challenge, a_reward, programme_now
from tests.graphql.test_query_counts import counting_statements

ACTIONS = """
query ($e: String!) {
  member(externalId: $e) {
    nextBestActions {
      __typename
      ... on RedeemRewardAction { priority rewardCode title pointsPrice cashPrice }
      ... on CompleteChallengeAction { priority challengeCode name current target endsAt }
      ... on ReachNextTierAction { priority amountToNext }
    }
  }
}
"""


def code(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6].upper()}"


async def a_member_with_points(programme, make_member, points: int):
    member = await make_member(programme)
    await points_admin.adjust(
        admin_of(programme),
        member_external_id=member.external_id,
        amount=points,
        reason="welcome",
        idempotency_key=uuid.uuid4().hex,
    )
    return member


async def actions_of(gql, programme, make_key, member, kind: str) -> list[dict]:
    body = await gql(ACTIONS, {"e": member.external_id}, auth=await make_key(programme))
    assert "errors" not in body, body
    return [a for a in body["data"]["member"]["nextBestActions"] if a["__typename"] == kind]


async def test_rewards_the_member_may_redeem_and_afford_are_offered_dearest_first_three_at_most(
    gql, programme, make_member, make_key, make_programme
):
    # given a BRONZE member with 500 points, and rewards it can and cannot redeem
    member = await a_member_with_points(programme, make_member, 500)
    now = await programme_now(programme)
    bronze = await Tier.get(programme_id=programme.id, code="BRONZE")
    gold = await Tier.get(programme_id=programme.id, code="GOLD")
    lamp = await a_reward(programme, code=code("LAMP"), points_price=450)
    mug = await a_reward(programme, code=code("MUG"), points_price=300, cash_price=990)
    own_tier = await a_reward(
        programme, code=code("BRONZE"), points_price=250, eligible_tiers=[bronze.id]
    )
    await a_reward(programme, code=code("PEN"), points_price=100)  # affordable, but a fourth
    await a_reward(programme, code=code("TV"), points_price=501)
    await a_reward(programme, code=code("GONE"), points_price=400, total_stock=5, stock_left=0)
    await a_reward(programme, code=code("OLD"), points_price=400, status="RETIRED")
    await a_reward(programme, code=code("SOON"), points_price=400, valid_from=now + timedelta(1))
    await a_reward(programme, code=code("PAST"), points_price=400, valid_until=now)
    await a_reward(programme, code=code("GOLD"), points_price=400, eligible_tiers=[gold.id])
    await a_reward(await make_programme(), code=code("ELSE"), points_price=480)
    # when its next best actions are asked
    found = await actions_of(gql, programme, make_key, member, "RedeemRewardAction")
    # then only the three dearest it may redeem and afford, in that order
    assert [(a["rewardCode"], a["pointsPrice"]) for a in found] == [
        (lamp.code, 450),
        (mug.code, 300),
        (own_tier.code, 250),
    ]
    assert found[1]["title"] == mug.title and found[1]["cashPrice"] == 990
    assert [a["priority"] for a in found] == [1, 2, 3]


async def test_a_member_without_enough_points_is_offered_no_reward(
    gql, programme, make_member, make_key
):
    # given a member with 99 points and rewards of 100 and more
    member = await a_member_with_points(programme, make_member, 99)
    await a_reward(programme, points_price=100)
    await a_reward(programme, points_price=5_000)
    # when / then
    assert await actions_of(gql, programme, make_key, member, "RedeemRewardAction") == []


async def test_challenges_close_to_completion_are_offered_nearest_first_two_at_most(
    gql, programme, make_member, make_key
):
    # given challenges at 4/5, 3/4 and 5/10, and ones that are done, ended, far or not running
    member = await make_member(programme)
    now = await programme_now(programme)
    four_fifths = await a_challenge(programme, member, current=4, target=5, code=code("FF"))
    three_quarters = await a_challenge(programme, member, current=3, target=4, code=code("TQ"))
    await a_challenge(programme, member, current=5, target=10)  # half-way: the third
    await a_challenge(programme, member, current=5, target=5, completed_at=now)
    await a_challenge(programme, member, current=4, target=5, ends_at=now)
    await a_challenge(programme, member, current=4, target=5, starts_at=now + timedelta(1))
    await a_challenge(programme, member, current=4, target=5, status="DRAFT")
    await a_challenge(programme, member, current=1, target=5)
    other = await make_member(programme)
    await a_challenge(programme, other, current=9, target=10)
    # when its next best actions are asked
    found = await actions_of(gql, programme, make_key, member, "CompleteChallengeAction")
    # then the two nearest to done, each with how far it is and its deadline
    assert [(a["challengeCode"], a["current"], a["target"]) for a in found] == [
        (four_fifths.code, 4, 5),
        (three_quarters.code, 3, 4),
    ]
    assert found[0]["name"] == four_fifths.name
    assert found[0]["endsAt"].startswith(four_fifths.ends_at.isoformat()[:19])


async def test_rewards_and_challenges_take_their_places_among_the_actions(
    gql, programme, make_member, make_key
):
    # given a member that can afford a reward, is close to a challenge, and below SILVER
    member = await a_member_with_points(programme, make_member, 200)
    reward = await a_reward(programme, points_price=150)
    challenge = await a_challenge(programme, member, current=2, target=3)
    # when
    body = await gql(ACTIONS, {"e": member.external_id}, auth=await make_key(programme))
    # then: the reward, then the challenge, then the next tier
    actions = body["data"]["member"]["nextBestActions"]
    assert [(a["__typename"], a["priority"]) for a in actions] == [
        ("RedeemRewardAction", 1),
        ("CompleteChallengeAction", 2),
        ("ReachNextTierAction", 3),
    ]
    assert actions[0]["rewardCode"] == reward.code
    assert actions[1]["challengeCode"] == challenge.code


async def test_rewards_and_challenges_cost_the_page_no_statement_more(
    gql, programme, make_member, make_key
):
    # given a member with neither, asked once (warm caches) and counted
    member = await a_member_with_points(programme, make_member, 200)
    key = await make_key(programme, Role.STOREFRONT)
    variables = {"e": member.external_id}
    await gql(ACTIONS, variables, auth=key)
    with counting_statements() as without:
        await gql(ACTIONS, variables, auth=key)
    # when a reward and a challenge are there to show
    await a_reward(programme, points_price=150)
    await a_challenge(programme, member, current=2, target=3)
    with counting_statements() as with_them:
        body = await gql(ACTIONS, variables, auth=key)
    # then they come in the same statements
    kinds = {a["__typename"] for a in body["data"]["member"]["nextBestActions"]}
    assert {"RedeemRewardAction", "CompleteChallengeAction"} <= kinds
    assert with_them["n"] == without["n"], (without["n"], with_them["n"])
