"""Reading redemptions back, and programme tenancy (issue 20, points 4 and 5)."""

from __future__ import annotations

import pytest

from db.models import PointTransaction, RewardRedemption
from db.models import Reward as RewardRow
from domain.auth import Role
from tests.graphql.points.helpers import fund, points_of
from tests.graphql.rewards.support import (
    CANCEL,
    FULFIL,
    LIST,
    ONE,
    QUOTE,
    call,
    codes,
    make_reward,
    redeem,
    redemption_count,
    reward_row,
)
from tests.graphql.test_auth import token_for


@pytest.fixture
async def keys(programme, make_key) -> tuple[str, str]:
    return await make_key(programme, Role.ADMIN), await make_key(programme, Role.STOREFRONT)


async def test_a_members_redemptions_page_newest_first(gql, programme, make_member, keys):
    admin, storefront = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 1_000)
    reward = await make_reward(programme, points_price=10)
    made = [
        (await redeem(gql, storefront, reward.code, memberExternalId=member.external_id))[
            "redemption"
        ]["id"]
        for _ in range(3)
    ]
    await call(gql, CANCEL, "cancelRewardRedemption", admin, id=made[0], reason="r")
    body = await gql(LIST, {"e": member.external_id, "first": 2}, auth=storefront)
    page = body["data"]["rewardRedemptions"]
    assert [e["node"]["id"] for e in page["edges"]] == [made[2], made[1]]
    assert page["pageInfo"]["hasNextPage"] is True
    body = await gql(
        LIST,
        {"e": member.external_id, "first": 2, "after": page["pageInfo"]["endCursor"]},
        auth=storefront,
    )
    rest = body["data"]["rewardRedemptions"]
    assert [e["node"]["id"] for e in rest["edges"]] == [made[0]]
    assert rest["pageInfo"]["hasNextPage"] is False
    body = await gql(LIST, {"e": member.external_id, "status": "CANCELLED"}, auth=storefront)
    assert [e["node"]["id"] for e in body["data"]["rewardRedemptions"]["edges"]] == [made[0]]
    # a member token reads its own by id, and its list without an externalId
    token = await token_for(gql, storefront, member.external_id)
    one = await gql(ONE, {"id": made[1]}, auth=token)
    assert one["data"]["rewardRedemption"]["rewardCode"] == reward.code
    own = await gql(LIST, {"first": 10}, auth=token)
    assert len(own["data"]["rewardRedemptions"]["edges"]) == 3


async def test_another_programmes_key_sees_and_changes_nothing(
    gql, programme, make_programme, make_member, make_key, keys
):
    # given a redemption in programme A, and programme B's keys and member
    admin, storefront = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 1_000)
    reward = await make_reward(programme, points_price=100, total_stock=5)
    done = await redeem(gql, storefront, reward.code, memberExternalId=member.external_id)
    rid = done["redemption"]["id"]
    other = await make_programme()
    other_admin = await make_key(other, Role.ADMIN)
    other_storefront = await make_key(other, Role.STOREFRONT)
    stranger = await make_member(other)
    await fund(gql, other_admin, stranger.external_id, 1_000)
    # when B redeems A's reward code, for B's member and for A's
    for external_id in (stranger.external_id, member.external_id):
        result = await redeem(gql, other_storefront, reward.code, memberExternalId=external_id)
        assert codes(result) == ["NOT_FOUND"]
    # and reads, fulfils and cancels A's redemption
    assert (await gql(ONE, {"id": rid}, auth=other_admin))["data"]["rewardRedemption"] is None
    listed = await gql(LIST, {"e": member.external_id}, auth=other_admin)
    assert listed["data"] is None or listed["data"]["rewardRedemptions"] is None
    quoted = await gql(QUOTE, {"code": reward.code, "q": 1}, auth=other_storefront)
    assert quoted["data"]["quoteReward"] is None
    fulfilled = await call(gql, FULFIL, "fulfilRewardRedemption", other_admin, id=rid)
    cancelled = await call(gql, CANCEL, "cancelRewardRedemption", other_admin, id=rid, reason="r")
    assert codes(fulfilled) == ["NOT_FOUND"] and codes(cancelled) == ["NOT_FOUND"]
    # then nothing changed in A, and B spent nothing
    row = await RewardRedemption.get(reward_id=reward.id)
    assert (row.status, row.restore_transaction_id) == ("REQUESTED", None)
    assert await redemption_count(reward) == 1
    assert (await reward_row(reward)).stock_left == 4
    assert (await points_of(gql, admin, member.external_id))["available"] == 900
    assert await PointTransaction.filter(member_id=stranger.id, kind="REDEEM").count() == 0


async def test_the_privacy_export_lists_the_members_redemptions(
    gql, http, programme, make_member, keys
):
    from tests.graphql.test_privacy_export import EXPORT, download

    admin, storefront = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 1_000)
    reward = await make_reward(programme, points_price=100)
    await redeem(gql, storefront, reward.code, memberExternalId=member.external_id)
    body = await gql(EXPORT, {"e": member.external_id}, auth=admin)
    status, document = await download(http, body["data"]["exportMember"]["url"])
    assert status == 200
    stored = await RewardRedemption.get(member_id=member.id)
    assert [(r["id"], r["points"], r["status"]) for r in document["rewardRedemptions"]] == [
        (stored.id, 100, "REQUESTED")
    ]


async def test_a_redemption_names_its_reward_still_after_it_is_retired(
    gql, programme, make_member, keys
):
    admin, storefront = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 1_000)
    rewards = [await make_reward(programme, points_price=10) for _ in range(2)]
    made = [
        (await redeem(gql, storefront, r.code, memberExternalId=member.external_id))["redemption"][
            "id"
        ]
        for r in rewards
    ]
    await RewardRow.filter(id=rewards[0].id).update(status="RETIRED")
    listed = """
    query ($e: String) { rewardRedemptions(memberExternalId: $e, first: 10) {
      edges { node { id reward { code status pointsPrice } } } } }
    """
    token = await token_for(gql, storefront, member.external_id)
    for auth in (storefront, token):
        body = await gql(listed, {"e": None if auth is token else member.external_id}, auth=auth)
        named = {
            e["node"]["id"]: e["node"]["reward"] for e in body["data"]["rewardRedemptions"]["edges"]
        }
        assert named == {
            made[0]: {"code": rewards[0].code, "status": "RETIRED", "pointsPrice": 10},
            made[1]: {"code": rewards[1].code, "status": "ACTIVE", "pointsPrice": 10},
        }
