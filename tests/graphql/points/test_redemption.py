"""Redeeming points through the API, and an admin reversing a redemption."""

from __future__ import annotations

import pytest

from tests.fixtures.points import assert_ledger_consistent
from tests.graphql.points.documents import REDEEM, REVERSE_REDEMPTION
from tests.graphql.points.helpers import (
    codes,
    fund,
    mutate,
    new_key,
    placed_order,
    points_of,
    redeem,
)
from tests.graphql.test_auth import token_for


async def test_redeeming_takes_the_points_and_returns_the_transaction_and_member(
    gql, programme, make_member, keys
):
    # given
    admin, storefront = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 100)
    # when
    result = await redeem(
        gql, storefront, memberExternalId=member.external_id, amount=30, reward="mug-1"
    )
    # then
    assert result["__typename"] == "TransactionSuccess", result
    assert (result["transaction"]["kind"], result["transaction"]["amount"]) == ("REDEEM", -30)
    assert result["transaction"]["reference"] == "mug-1"
    assert result["member"]["points"]["available"] == 70
    assert (await points_of(gql, storefront, member.external_id))["available"] == 70


async def test_a_redemption_retried_with_its_key_is_booked_once(gql, programme, make_member, keys):
    # given
    admin, storefront = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 100)
    once = {"memberExternalId": member.external_id, "amount": 30, "idempotencyKey": "r-1"}
    # when sent twice, then with the key reused for another amount
    first = await redeem(gql, storefront, **once)
    second = await redeem(gql, storefront, **once)
    reused = await redeem(gql, storefront, **{**once, "amount": 31})
    # then
    assert first["__typename"] == second["__typename"] == "TransactionSuccess"
    assert first["transaction"]["id"] == second["transaction"]["id"]
    assert reused["__typename"] == "RedeemPointsError"
    assert codes(reused) == ["IDEMPOTENCY_KEY_REUSED"]
    assert (await points_of(gql, storefront, member.external_id))["available"] == 70


async def test_redeeming_more_than_spendable_is_insufficient_points(
    gql, programme, make_member, keys
):
    admin, storefront = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 100)
    result = await redeem(gql, storefront, memberExternalId=member.external_id, amount=101)
    assert result["__typename"] == "RedeemPointsError"
    assert codes(result) == ["INSUFFICIENT_POINTS"]
    assert (await points_of(gql, storefront, member.external_id))["available"] == 100


async def test_redeeming_pending_points_is_points_pending(gql, programme, make_member, keys):
    # given 200 points pending and none available
    _, storefront = keys
    member = await make_member(programme)
    await placed_order(gql, storefront, member.external_id)
    # when
    result = await redeem(gql, storefront, memberExternalId=member.external_id, amount=50)
    # then
    assert result["__typename"] == "RedeemPointsError"
    assert codes(result) == ["POINTS_PENDING"]
    points = await points_of(gql, storefront, member.external_id)
    assert (points["available"], points["pending"]) == (0, 200)


@pytest.mark.parametrize("amount", [0, -5, 1_000_000_001])
async def test_redeeming_an_out_of_range_amount_is_a_validation_error(
    gql, programme, make_member, keys, amount
):
    admin, storefront = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 100)
    result = await redeem(gql, storefront, memberExternalId=member.external_id, amount=amount)
    assert result["__typename"] == "RedeemPointsError"
    assert [(e["field"], e["code"]) for e in result["errors"]] == [("amount", "VALIDATION")]
    assert (await points_of(gql, storefront, member.external_id))["available"] == 100


@pytest.mark.parametrize("reason", ["", "   "])
async def test_redeeming_without_a_reason_is_a_validation_error(
    gql, programme, make_member, keys, reason
):
    admin, storefront = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 100)
    result = await redeem(
        gql, storefront, memberExternalId=member.external_id, amount=10, reason=reason
    )
    assert result["__typename"] == "RedeemPointsError"
    assert [(e["field"], e["code"]) for e in result["errors"]] == [("reason", "VALIDATION")]
    assert (await points_of(gql, storefront, member.external_id))["available"] == 100


async def test_redeeming_with_the_reason_left_out_is_refused_before_it_runs(
    gql, programme, make_member, keys
):
    # given
    admin, storefront = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 100)
    # when `reason` is not sent at all (it is required by the schema)
    body = await gql(
        REDEEM,
        {"input": {"memberExternalId": member.external_id, "amount": 10, "idempotencyKey": "k"}},
        auth=storefront,
    )
    # then the schema refuses it before any resolver runs, naming the field (a variable
    # coercion error is a top-level error: GraphQL gives it no union member to be)
    assert body.get("data") is None
    [error] = body["errors"]
    assert "reason" in error["message"] and "path" not in error
    assert (await points_of(gql, storefront, member.external_id))["available"] == 100


async def test_a_member_token_redeems_its_own_points_but_not_another_members(
    gql, programme, make_member, keys
):
    # given two members with 100 points each, and a token for the first
    admin, storefront = keys
    alice, bob = await make_member(programme), await make_member(programme)
    await fund(gql, admin, alice.external_id, 100)
    await fund(gql, admin, bob.external_id, 100)
    token = await token_for(gql, storefront, alice.external_id)
    # when the token redeems without naming a member, then names the other member
    own = await redeem(gql, token, amount=40)
    other = await redeem(gql, token, memberExternalId=bob.external_id, amount=40)
    # then
    assert own["__typename"] == "TransactionSuccess", own
    assert own["member"]["externalId"] == alice.external_id
    assert own["member"]["points"]["available"] == 60
    assert other["__typename"] == "RedeemPointsError"
    assert codes(other) == ["NOT_FOUND"]
    assert (await points_of(gql, storefront, bob.external_id))["available"] == 100


async def test_an_admin_reverses_a_redemption_once(gql, programme, make_member, keys):
    # given a redemption of 40 out of 100
    admin, storefront = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 100)
    redeemed = await redeem(gql, storefront, memberExternalId=member.external_id, amount=40)
    tx_id = redeemed["transaction"]["id"]
    # when the storefront tries, then the admin, then the admin again
    by_storefront = await gql(
        REVERSE_REDEMPTION,
        {"input": {"transactionId": tx_id, "reason": "mistake", "idempotencyKey": new_key()}},
        auth=storefront,
    )
    first = await mutate(
        gql, REVERSE_REDEMPTION, "reverseRedemption", admin, transactionId=tx_id, reason="mistake"
    )
    second = await mutate(
        gql, REVERSE_REDEMPTION, "reverseRedemption", admin, transactionId=tx_id, reason="again"
    )
    # then the storefront is forbidden, the points come back once
    assert by_storefront["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert first["__typename"] == "TransactionSuccess", first
    assert (first["transaction"]["kind"], first["transaction"]["amount"]) == ("REVERSE", 40)
    assert first["transaction"]["reverses"] == tx_id
    assert first["member"]["points"]["available"] == 100
    assert second["__typename"] == "ReverseRedemptionError"
    assert codes(second) == ["ALREADY_REVERSED"]
    assert (await points_of(gql, storefront, member.external_id))["available"] == 100
    await assert_ledger_consistent(member)
