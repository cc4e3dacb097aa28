"""Segments, recommendations and next best actions through the API (issue 6)."""

from __future__ import annotations

import uuid

from db.models import Programme
from domain.auth import Role
from services.recommendations.build import build
from tests.fixtures.coupons import make_template
from tests.fixtures.recommendations import buy, stock_shop
from tests.graphql.test_auth import token_for
from tests.graphql.test_query_counts import counting_statements

UPSERT = """
mutation ($products: [ProductInput!]!, $k: String!) {
  upsertProducts(input: {products: $products, idempotencyKey: $k}) {
    __typename
    ... on UpsertProductsSuccess { products { sku price replenishDays active } }
    ... on UpsertProductsError { errors { field code } }
  }
}
"""
PAGE = """
query ($e: String!, $first: Int!) {
  member(externalId: $e) {
    recommendations(first: $first) { sku title price score reason }
    segment { recency frequency monetary lifecycle ordersInWindow }
  }
}
"""
ACTIONS = """
query ($e: String!) {
  member(externalId: $e) {
    nextBestActions {
      __typename
      ... on UseExpiringPointsAction { priority points }
      ... on RedeemPointsAction { priority pointsPrice template { code } }
      ... on ClaimCouponAction { priority template { code } }
      ... on ReachNextTierAction { priority amountToNext tier { code } }
    }
  }
}
"""
MEMBERS_IN = """
query ($s: LifecycleSegment!) { members(first: 50, segment: $s) { edges { node { externalId } } } }
"""
WALLET = "query ($e: String!) { member(externalId: $e) { coupons(first: 20) { edges { node { code } } } } }"
WALLET_AND_RECOMMENDATIONS = """
query ($e: String!) {
  member(externalId: $e) {
    coupons(first: 20) { edges { node { code } } }
    recommendations(first: 10) { sku reason }
  }
}
"""


def product(sku: str, **overrides) -> dict:
    return {"sku": sku, "title": sku.title(), "category": "general", "price": 1_000, **overrides}


async def built(programme) -> None:
    await build(await Programme.get(id=programme.id))


async def shop_with_history(programme, make_member):
    await stock_shop(programme)
    for _ in range(4):
        await buy(
            programme, await make_member(programme, consent_profiling=True), "phone", "earbuds"
        )
    member = await make_member(programme, consent_profiling=True)
    await buy(programme, member, "phone")
    await built(programme)
    return member


async def test_an_admin_upserts_products_and_bad_rows_change_nothing(gql, programme, make_key):
    admin = await make_key(programme)
    ok = await gql(UPSERT, {"products": [product("a", replenishDays=30)], "k": "p1"}, auth=admin)
    assert ok["data"]["upsertProducts"]["products"] == [
        {"sku": "a", "price": 1_000, "replenishDays": 30, "active": True}
    ]
    bad = await gql(
        UPSERT,
        {
            "products": [
                product("a", price=5),
                product("b", price=-1),
                product("c", replenishDays=-7),
            ],
            "k": "p2",
        },
        auth=admin,
    )
    result = bad["data"]["upsertProducts"]
    assert result["__typename"] == "UpsertProductsError"
    assert {(e["field"], e["code"]) for e in result["errors"]} == {
        ("products.1.price", "VALIDATION"),
        ("products.2.replenishDays", "VALIDATION"),
    }
    listed = await gql("{ products(first: 10) { edges { node { sku price } } } }", auth=admin)
    assert [e["node"] for e in listed["data"]["products"]["edges"]] == [
        {"sku": "a", "price": 1_000}
    ]


async def test_a_storefront_may_not_change_the_catalogue(gql, programme, make_key):
    storefront = await make_key(programme, Role.STOREFRONT)
    body = await gql(UPSERT, {"products": [product("a")], "k": "p"}, auth=storefront)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_the_member_page_shows_recommendations_with_reasons_and_the_segment(
    gql, programme, make_member, make_key
):
    member = await shop_with_history(programme, make_member)
    storefront = await make_key(programme, Role.STOREFRONT)
    body = await gql(PAGE, {"e": member.external_id, "first": 3}, auth=storefront)
    page = body["data"]["member"]
    first = page["recommendations"][0]
    assert (first["sku"], first["reason"], first["title"]) == (
        "earbuds",
        "BOUGHT_TOGETHER",
        "Earbuds",
    )
    assert len(page["recommendations"]) == 3
    scores = [r["score"] for r in page["recommendations"]]
    assert scores == sorted(scores, reverse=True)
    assert page["segment"]["lifecycle"] == "NEW" and page["segment"]["ordersInWindow"] == 1
    assert all(1 <= page["segment"][k] <= 5 for k in ("recency", "frequency", "monetary"))


async def test_a_member_token_sees_its_own_recommendations_only(
    gql, programme, make_member, make_key
):
    member = await shop_with_history(programme, make_member)
    other = await make_member(programme, consent_profiling=True)
    storefront = await make_key(programme, Role.STOREFRONT)
    token = await token_for(gql, storefront, member.external_id)
    mine = await gql(PAGE, {"e": member.external_id, "first": 5}, auth=token)
    assert mine["data"]["member"]["recommendations"][0]["sku"] == "earbuds"
    theirs = await gql(PAGE, {"e": other.external_id, "first": 5}, auth=token)
    assert theirs["data"]["member"] is None


async def test_first_above_fifty_is_a_validation_error(gql, programme, make_member, make_key):
    member = await make_member(programme)
    body = await gql(PAGE, {"e": member.external_id, "first": 51}, auth=await make_key(programme))
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION"
    assert body["errors"][0]["path"][-1] == "recommendations"


async def test_admins_list_members_by_segment_and_an_unknown_segment_is_refused(
    gql, programme, make_member, make_key
):
    member = await shop_with_history(programme, make_member)
    admin = await make_key(programme)
    body = await gql(MEMBERS_IN, {"s": "NEW"}, auth=admin)
    listed = [e["node"]["externalId"] for e in body["data"]["members"]["edges"]]
    assert member.external_id in listed and len(listed) == 5
    assert (await gql(MEMBERS_IN, {"s": "ACTIVE"}, auth=admin))["data"]["members"]["edges"] == []
    unknown = await gql(MEMBERS_IN, {"s": "SLEEPY"}, auth=admin)
    assert unknown["errors"][0]["extensions"]["code"] == "VALIDATION"  # not a segment
    storefront = await make_key(programme, Role.STOREFRONT)
    refused = await gql(MEMBERS_IN, {"s": "NEW"}, auth=storefront)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_next_best_actions_come_in_their_documented_order(
    gql, programme, make_member, make_key
):
    # given a member with 500 points, a coupon it can buy with them, one it can claim
    from services.points import admin as points_admin
    from tests.fixtures.factories import admin_of

    member = await make_member(programme)
    await points_admin.adjust(
        admin_of(programme),
        member_external_id=member.external_id,
        amount=500,
        reason="welcome",
        idempotency_key=uuid.uuid4().hex,
    )
    dear = await make_template(
        programme, code=f"DEAR{uuid.uuid4().hex[:6].upper()}", points_price=400, claimable=False
    )
    await make_template(
        programme, code=f"TOODEAR{uuid.uuid4().hex[:4].upper()}", points_price=900, claimable=False
    )
    free = await make_template(programme, code=f"FREE{uuid.uuid4().hex[:6].upper()}")
    # when
    body = await gql(ACTIONS, {"e": member.external_id}, auth=await make_key(programme))
    actions = body["data"]["member"]["nextBestActions"]
    # then: redeem before claim before the next tier; the unaffordable one is not offered
    assert [a["__typename"] for a in actions] == [
        "RedeemPointsAction",
        "ClaimCouponAction",
        "ReachNextTierAction",
    ]
    assert actions[0]["template"]["code"] == dear.code and actions[0]["pointsPrice"] == 400
    assert actions[1]["template"]["code"] == free.code
    assert actions[2]["tier"]["code"] == "SILVER" and actions[2]["amountToNext"] == 10_000
    assert [a["priority"] for a in actions] == [1, 2, 3]


async def test_recommendations_add_at_most_two_statements_to_a_member_page(
    gql, programme, make_member, make_key
):
    member = await shop_with_history(programme, make_member)
    key = await make_key(programme, Role.STOREFRONT)
    await gql(WALLET, {"e": member.external_id}, auth=key)  # warm the tier cache
    with counting_statements() as without:
        await gql(WALLET, {"e": member.external_id}, auth=key)
    with counting_statements() as with_them:
        body = await gql(WALLET_AND_RECOMMENDATIONS, {"e": member.external_id}, auth=key)
    assert body["data"]["member"]["recommendations"]
    assert with_them["n"] - without["n"] <= 2


async def test_points_expiring_within_thirty_days_come_first(gql, programme, make_member, make_key):
    # given lots that expire a month after they are earned, and 25 days gone since
    from domain.points import ExpiryPolicy, PointsPolicy
    from services.points import admin as points_admin
    from tests.fixtures.factories import admin_of
    from tests.fixtures.points import advance

    programme.points_policy = PointsPolicy(
        expiry_policy=ExpiryPolicy.LOTS, expiry_months=1
    ).to_json()
    await programme.save(update_fields=["points_policy"])
    member = await make_member(programme)
    await points_admin.adjust(
        admin_of(programme),
        member_external_id=member.external_id,
        amount=80,
        reason="welcome",
        idempotency_key=uuid.uuid4().hex,
    )
    await make_template(programme, code=f"FREE{uuid.uuid4().hex[:6].upper()}")
    await advance(programme, days=25)
    # when
    body = await gql(ACTIONS, {"e": member.external_id}, auth=await make_key(programme))
    actions = body["data"]["member"]["nextBestActions"]
    # then the expiring points lead, before the coupon and the tier
    assert actions[0] == {"__typename": "UseExpiringPointsAction", "priority": 1, "points": 80}
    assert [a["__typename"] for a in actions[1:]] == ["ClaimCouponAction", "ReachNextTierAction"]


SET_POLICY = """
mutation ($i: SetSegmentPolicyInput!) {
  setSegmentPolicy(input: $i) {
    __typename
    ... on SetSegmentPolicySuccess { policy { windowDays activeDays intermittentDays newDays } }
    ... on SetSegmentPolicyError { errors { field code } }
  }
}
"""


async def test_the_segment_window_is_configurable_and_nonsense_is_refused(gql, programme, make_key):
    admin = await make_key(programme)
    # a window that leaves room for the lifecycle thresholds is taken
    ok = await gql(SET_POLICY, {"i": {"windowDays": 200, "idempotencyKey": "w1"}}, auth=admin)
    assert ok["data"]["setSegmentPolicy"]["policy"] == {
        "windowDays": 200,
        "activeDays": 60,
        "intermittentDays": 180,
        "newDays": 30,
    }
    # one shorter than the intermittent threshold is refused, and changes nothing
    bad = await gql(SET_POLICY, {"i": {"windowDays": 90, "idempotencyKey": "w2"}}, auth=admin)
    result = bad["data"]["setSegmentPolicy"]
    assert result["__typename"] == "SetSegmentPolicyError"
    assert result["errors"] == [{"field": "intermittentDays", "code": "VALIDATION"}]
    now = await gql("{ segmentPolicy { windowDays } }", auth=admin)
    assert now["data"]["segmentPolicy"]["windowDays"] == 200
    storefront = await make_key(programme, Role.STOREFRONT)
    refused = await gql(
        SET_POLICY, {"i": {"windowDays": 300, "idempotencyKey": "w3"}}, auth=storefront
    )
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
