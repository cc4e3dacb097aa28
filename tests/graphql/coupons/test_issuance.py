"""Issuing coupons through the API: a member's claim, and buying one with points."""

from __future__ import annotations

from datetime import timedelta

from tests.graphql.coupons.helpers import (
    claim,
    create_template,
    errors_of,
    exchange,
    frozen_now,
    global_id,
    template_state,
    wallet_codes,
)
from tests.graphql.points.helpers import (
    advance,
    completed_order,
    fund,
    history,
    new_key,
    parse,
    points_of,
)
from tests.graphql.test_auth import token_for


async def test_a_storefront_claims_a_coupon_into_a_members_wallet(
    gql, programme, make_member, keys
):
    # given a template of 3, valid 7 days from issue
    admin, storefront = keys
    member = await make_member(programme)
    template = await create_template(gql, admin, validDays=7, totalStock=3)
    # when
    result = await claim(gql, storefront, template["id"], member.external_id)
    # then
    assert result["__typename"] == "CouponSuccess", result
    coupon = result["coupon"]
    assert (coupon["status"], coupon["source"]) == ("AVAILABLE", "CLAIM")
    assert coupon["template"]["code"] == template["code"]
    assert parse(coupon["expiresAt"]) - parse(coupon["issuedAt"]) == timedelta(days=7)
    assert (coupon["orderId"], coupon["lockedUntil"], coupon["usedAt"]) == (None, None, None)
    assert await wallet_codes(gql, storefront, member.external_id) == [coupon["code"]]
    assert await template_state(gql, admin, template["id"]) == (2, 1)


async def test_a_member_token_claims_for_itself_but_not_for_another_member(
    gql, programme, make_member, keys
):
    # given
    admin, storefront = keys
    alice, bob = await make_member(programme), await make_member(programme)
    token = await token_for(gql, storefront, alice.external_id)
    template = await create_template(gql, admin)
    # when the token claims without naming a member, then naming bob
    own = await claim(gql, token, template["id"])
    other = await claim(gql, token, template["id"], bob.external_id)
    # then
    assert own["__typename"] == "CouponSuccess", own
    assert await wallet_codes(gql, storefront, alice.external_id) == [own["coupon"]["code"]]
    assert other["__typename"] == "ClaimCouponError"
    assert errors_of(other) == [("memberExternalId", "NOT_FOUND")]
    assert await wallet_codes(gql, storefront, bob.external_id) == []


async def test_a_claim_retried_with_its_key_issues_one_coupon(gql, programme, make_member, keys):
    # given
    admin, storefront = keys
    member = await make_member(programme)
    template = await create_template(gql, admin)
    key = new_key()
    # when sent twice with one key, then with that key for another member
    first = await claim(gql, storefront, template["id"], member.external_id, idempotencyKey=key)
    second = await claim(gql, storefront, template["id"], member.external_id, idempotencyKey=key)
    other = await make_member(programme)
    reused = await claim(gql, storefront, template["id"], other.external_id, idempotencyKey=key)
    # then
    assert first["__typename"] == second["__typename"] == "CouponSuccess"
    assert first["coupon"]["id"] == second["coupon"]["id"]
    assert errors_of(reused) == [("idempotencyKey", "IDEMPOTENCY_KEY_REUSED")]
    assert await wallet_codes(gql, storefront, member.external_id) == [first["coupon"]["code"]]
    assert await template_state(gql, admin, template["id"]) == (None, 1)


async def test_claiming_an_unknown_template_is_not_found(gql, programme, make_member, keys):
    _, storefront = keys
    member = await make_member(programme)
    unknown = global_id("CouponTemplate", 2_000_000_000)
    result = await claim(gql, storefront, unknown, member.external_id)
    assert result["__typename"] == "ClaimCouponError"
    assert errors_of(result) == [("templateId", "NOT_FOUND")]


async def test_a_template_that_is_only_given_is_not_claimable(gql, programme, make_member, keys):
    admin, storefront = keys
    member = await make_member(programme)
    template = await create_template(gql, admin, claimable=False)
    result = await claim(gql, storefront, template["id"], member.external_id)
    assert result["__typename"] == "ClaimCouponError"
    assert errors_of(result) == [("templateId", "NOT_CLAIMABLE")]
    assert await wallet_codes(gql, storefront, member.external_id) == []


async def test_the_last_coupon_goes_to_one_member_and_the_next_is_out_of_stock(
    gql, programme, make_member, keys
):
    # given a template of one
    admin, storefront = keys
    alice, bob = await make_member(programme), await make_member(programme)
    template = await create_template(gql, admin, totalStock=1)
    # when both claim
    first = await claim(gql, storefront, template["id"], alice.external_id)
    second = await claim(gql, storefront, template["id"], bob.external_id)
    # then
    assert first["__typename"] == "CouponSuccess", first
    assert second["__typename"] == "ClaimCouponError"
    assert errors_of(second) == [("templateId", "OUT_OF_STOCK")]
    assert await template_state(gql, admin, template["id"]) == (0, 1)
    assert await wallet_codes(gql, storefront, bob.external_id) == []


async def test_a_member_claims_up_to_the_per_member_limit(gql, programme, make_member, keys):
    # given a limit of two per member
    admin, storefront = keys
    member = await make_member(programme)
    template = await create_template(gql, admin, perMemberLimit=2, totalStock=10)
    # when claiming three times
    results = [await claim(gql, storefront, template["id"], member.external_id) for _ in range(3)]
    # then
    assert [r["__typename"] for r in results] == [
        "CouponSuccess",
        "CouponSuccess",
        "ClaimCouponError",
    ]
    assert errors_of(results[2]) == [("templateId", "LIMIT_REACHED")]
    assert len(await wallet_codes(gql, storefront, member.external_id)) == 2
    assert await template_state(gql, admin, template["id"]) == (8, 2)


async def test_a_tier_only_template_is_claimed_once_the_member_reaches_the_tier(
    gql, programme, make_member, keys
):
    # given a Silver-only template and a Bronze member
    admin, storefront = keys
    member = await make_member(programme)
    template = await create_template(gql, admin, eligibleTierCodes=["SILVER", "GOLD"])
    # when the Bronze member claims
    refused = await claim(gql, storefront, template["id"], member.external_id)
    # then
    assert refused["__typename"] == "ClaimCouponError"
    assert errors_of(refused) == [("templateId", "NOT_ELIGIBLE_TIER")]
    # when the member spends 100 and so reaches Silver
    await completed_order(gql, storefront, member.external_id)
    allowed = await claim(gql, storefront, template["id"], member.external_id)
    # then
    assert allowed["__typename"] == "CouponSuccess", allowed


async def test_a_fixed_window_that_has_ended_is_expired(gql, programme, make_member, keys):
    # given a template valid for one day, and the clock two days on
    admin, storefront = keys
    member = await make_member(programme)
    now = await frozen_now(gql, admin)
    template = await create_template(
        gql,
        admin,
        validDays=None,
        validFrom=now.isoformat(),
        validUntil=(now + timedelta(days=1)).isoformat(),
    )
    await advance(gql, admin, days=2)
    # when
    result = await claim(gql, storefront, template["id"], member.external_id)
    # then
    assert result["__typename"] == "ClaimCouponError"
    assert errors_of(result) == [("templateId", "EXPIRED")]
    assert await template_state(gql, admin, template["id"]) == (None, 0)


async def test_exchanging_points_debits_the_ledger_and_issues_the_coupon(
    gql, programme, make_member, keys
):
    # given 500 points and a coupon sold for 300
    admin, storefront = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 500)
    template = await create_template(gql, admin, claimable=False, pointsPrice=300)
    # when
    result = await exchange(gql, storefront, template["id"], member.external_id)
    # then
    assert result["__typename"] == "ExchangePointsForCouponSuccess", result
    coupon = result["coupon"]
    assert (coupon["status"], coupon["source"]) == ("AVAILABLE", "EXCHANGE")
    assert result["member"] == {"externalId": member.external_id, "points": {"available": 200}}
    [edge] = (await history(gql, storefront, member.external_id, kinds=["REDEEM"]))["edges"]
    tx = edge["node"]
    assert (tx["amount"], tx["referenceType"], tx["reference"]) == (-300, "COUPON", coupon["code"])
    assert await wallet_codes(gql, storefront, member.external_id) == [coupon["code"]]


async def test_an_exchange_retried_with_its_key_spends_the_points_once(
    gql, programme, make_member, keys
):
    # given 500 points and a coupon for 200
    admin, storefront = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 500)
    template = await create_template(gql, admin, claimable=False, pointsPrice=200)
    key = new_key()
    # when the exchange is sent twice with one key
    first = await exchange(gql, storefront, template["id"], member.external_id, idempotencyKey=key)
    again = await exchange(gql, storefront, template["id"], member.external_id, idempotencyKey=key)
    # then one coupon was bought, once
    assert first["__typename"] == again["__typename"] == "ExchangePointsForCouponSuccess", again
    assert first["coupon"]["id"] == again["coupon"]["id"]
    assert again["member"]["points"]["available"] == 300
    assert len((await history(gql, storefront, member.external_id, kinds=["REDEEM"]))["edges"]) == 1
    assert await wallet_codes(gql, storefront, member.external_id) == [first["coupon"]["code"]]


async def test_a_member_token_buys_a_coupon_with_its_own_points(gql, programme, make_member, keys):
    admin, storefront = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 100)
    token = await token_for(gql, storefront, member.external_id)
    template = await create_template(gql, admin, claimable=False, pointsPrice=100)
    result = await exchange(gql, token, template["id"])
    assert result["__typename"] == "ExchangePointsForCouponSuccess", result
    assert result["member"]["points"]["available"] == 0
    assert (await points_of(gql, storefront, member.external_id))["available"] == 0


async def test_a_template_without_a_points_price_is_not_for_points(
    gql, programme, make_member, keys
):
    admin, storefront = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 500)
    template = await create_template(gql, admin)
    result = await exchange(gql, storefront, template["id"], member.external_id)
    assert result["__typename"] == "ExchangePointsForCouponError"
    assert errors_of(result) == [("templateId", "NOT_FOR_POINTS")]
    assert (await points_of(gql, storefront, member.external_id))["available"] == 500
    assert await wallet_codes(gql, storefront, member.external_id) == []
