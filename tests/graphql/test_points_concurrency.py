"""Real concurrent requests through the ASGI app on PostgreSQL (issue 3, point 9)."""

from __future__ import annotations

import asyncio

from db.models import PointTransaction
from domain.auth import Role
from tests.conftest import needs_postgres
from tests.fixtures.points import assert_ledger_consistent, complete, line, place_order

REDEEM = """
mutation ($e: String!, $k: String!) {
  redeemPoints(input: {memberExternalId: $e, amount: 10, reason: "reward", idempotencyKey: $k}) {
    __typename
    ... on RedeemPointsError { errors { code } }
  }
}
"""
CHECK_IN = """
mutation ($e: String!, $k: String!) {
  checkIn(input: {memberExternalId: $e, idempotencyKey: $k}) {
    __typename
    ... on CheckInSuccess { points streak }
    ... on CheckInError { errors { code } }
  }
}
"""
ADJUST = """
mutation ($e: String!) {
  adjustPoints(input: {memberExternalId: $e, amount: 25, reason: "goodwill", idempotencyKey: "once"}) {
    __typename
    ... on TransactionSuccess { transaction { id amount availableAfter } }
    ... on AdjustPointsError { errors { code } }
  }
}
"""


@needs_postgres
async def test_fifty_redemptions_racing_on_a_balance_of_one_hundred(
    gql, programme, make_member, make_key
):
    # given a balance of exactly 100
    member = await make_member(programme)
    await complete(programme, await place_order(programme, member, line(price=5_000)))
    assert (await assert_ledger_consistent(member)).points_available == 100
    key = await make_key(programme, Role.STOREFRONT)
    # when 50 requests each try to spend 10 at once
    bodies = await asyncio.gather(
        *(gql(REDEEM, {"e": member.external_id, "k": f"race-{n}"}, auth=key) for n in range(50))
    )
    # then exactly 10 succeed, the rest are refused for want of points, and the balance is 0
    kinds = [b["data"]["redeemPoints"]["__typename"] for b in bodies]
    assert kinds.count("TransactionSuccess") == 10
    refused = [
        b["data"]["redeemPoints"]["errors"][0]["code"]
        for b in bodies
        if b["data"]["redeemPoints"]["__typename"] != "TransactionSuccess"
    ]
    assert refused == ["INSUFFICIENT_POINTS"] * 40
    row = await assert_ledger_consistent(member)
    assert row.points_available == 0
    assert await PointTransaction.filter(member_id=member.id, kind="REDEEM").count() == 10


@needs_postgres
async def test_twenty_parallel_check_ins_credit_once(gql, programme, make_member, make_key):
    member = await make_member(programme)
    key = await make_key(programme, Role.STOREFRONT)
    bodies = await asyncio.gather(
        *(gql(CHECK_IN, {"e": member.external_id, "k": f"ci-{n}"}, auth=key) for n in range(20))
    )
    results = [b["data"]["checkIn"] for b in bodies]
    assert [r["__typename"] for r in results].count("CheckInSuccess") == 1
    assert {r["errors"][0]["code"] for r in results if r["__typename"] == "CheckInError"} == {
        "ALREADY_CHECKED_IN"
    }
    row = await assert_ledger_consistent(member)
    assert row.points_available == 5
    assert await PointTransaction.filter(member_id=member.id).count() == 1


@needs_postgres
async def test_one_key_sent_21_times_at_once_books_one_row_and_answers_alike(
    gql, programme, make_member, make_key
):
    member = await make_member(programme)
    key = await make_key(programme)
    bodies = await asyncio.gather(
        *(gql(ADJUST, {"e": member.external_id}, auth=key) for _ in range(21))
    )
    results = [b["data"]["adjustPoints"] for b in bodies]
    assert all(r == results[0] for r in results), results
    assert results[0]["__typename"] == "TransactionSuccess"
    assert await PointTransaction.filter(member_id=member.id).count() == 1
    assert (await assert_ledger_consistent(member)).points_available == 25
