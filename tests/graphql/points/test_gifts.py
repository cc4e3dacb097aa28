"""Issue 17, point 6: member-to-member gifts — off by default, two rows in one transaction,
a daily limit per member, both row locks in id order (no deadlock), tenancy."""

from __future__ import annotations

import asyncio
from typing import Any

from db.models import Event, PointTransaction, Programme
from domain.auth import Role
from domain.points import PointsPolicy
from tests.conftest import needs_postgres
from tests.fixtures.points import assert_ledger_consistent
from tests.graphql.points.helpers import codes, fund, new_key, points_of
from tests.graphql.test_auth import token_for

GIFT = """
mutation ($input: GiftPointsInput!) {
  giftPoints(input: $input) {
    __typename
    ... on GiftPointsSuccess { transaction { kind amount reference referenceType } }
    ... on GiftPointsError { errors { field code message } }
  }
}
"""


async def allow_gifts(programme: Programme, per_day: int) -> None:
    programme.points_policy = PointsPolicy(gift_daily_points=per_day).to_json()
    await programme.save(update_fields=["points_policy"])


async def gift(gql, key: str, to: str, points: int, **more: Any) -> dict[str, Any]:
    body = await gql(
        GIFT,
        {"input": {"toExternalId": to, "points": points, "idempotencyKey": new_key(), **more}},
        auth=key,
    )
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["giftPoints"]
    return result


async def test_gifts_are_off_by_default(gql, programme, keys, make_member):
    admin, storefront = keys
    giver, receiver = await make_member(programme), await make_member(programme)
    await fund(gql, admin, giver.external_id, 100)
    refused = await gift(
        gql, storefront, receiver.external_id, 10, fromExternalId=giver.external_id
    )
    assert codes(refused) == ["GIFTS_DISABLED"]
    assert await PointTransaction.filter(member_id=receiver.id).count() == 0


async def test_a_member_gives_points_in_two_rows_once_per_key(gql, programme, keys, make_member):
    admin, storefront = keys
    await allow_gifts(programme, 100)
    giver, receiver = await make_member(programme), await make_member(programme)
    await fund(gql, admin, giver.external_id, 100)
    token = await token_for(gql, storefront, giver.external_id)
    key = new_key()
    given = await gift(gql, token, receiver.external_id, 30, idempotencyKey=key)
    again = await gift(gql, token, receiver.external_id, 30, idempotencyKey=key)
    assert given["__typename"] == "GiftPointsSuccess", given
    assert given == again
    assert given["transaction"] == {
        "kind": "TRANSFER_OUT",
        "amount": -30,
        "reference": receiver.external_id,
        "referenceType": "GIFT",
    }
    [received] = await PointTransaction.filter(member_id=receiver.id, kind="TRANSFER_IN")
    assert (received.amount, received.reference) == (30, giver.external_id)
    assert (await points_of(gql, storefront, giver.external_id))["available"] == 70
    assert (await points_of(gql, storefront, receiver.external_id))["available"] == 30
    await assert_ledger_consistent(giver)
    await assert_ledger_consistent(receiver)
    assert await Event.filter(member_id=giver.id, type="points.transferred_out").count() == 1
    assert await Event.filter(member_id=receiver.id, type="points.transferred_in").count() == 1


async def test_bad_gifts_are_union_errors_and_move_nothing(
    gql, programme, keys, make_member, make_programme, make_key
):
    admin, storefront = keys
    await allow_gifts(programme, 50)
    giver, receiver = await make_member(programme), await make_member(programme)
    await fund(gql, admin, giver.external_id, 40)
    foreign = await make_member(await make_programme())
    token = await token_for(gql, storefront, giver.external_id)
    found = {
        "zero": codes(await gift(gql, token, receiver.external_id, 0)),
        "self": codes(await gift(gql, token, giver.external_id, 10)),
        "unknown": codes(await gift(gql, token, "nobody", 10)),
        "other programme": codes(await gift(gql, token, foreign.external_id, 10)),
        "more than spendable": codes(await gift(gql, token, receiver.external_id, 45)),
    }
    assert found == {
        "zero": ["VALIDATION"],
        "self": ["VALIDATION"],
        "unknown": ["NOT_FOUND"],
        "other programme": ["NOT_FOUND"],
        "more than spendable": ["INSUFFICIENT_POINTS"],
    }
    # the daily limit: 30 then 30 more of 50 a day
    assert (await gift(gql, token, receiver.external_id, 30))["__typename"] == "GiftPointsSuccess"
    await fund(gql, admin, giver.external_id, 100)
    assert codes(await gift(gql, token, receiver.external_id, 30)) == ["DAILY_LIMIT_REACHED"]
    by_admin = await gql(
        GIFT,
        {
            "input": {
                "toExternalId": receiver.external_id,
                "points": 1,
                "idempotencyKey": new_key(),
                "fromExternalId": giver.external_id,
            }
        },
        auth=admin,
    )
    other = await make_programme()
    await allow_gifts(other, 50)
    other_store = await make_key(other, Role.STOREFRONT)
    cross = await gift(gql, other_store, receiver.external_id, 1, fromExternalId=giver.external_id)
    assert by_admin["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert codes(cross) == ["NOT_FOUND"]  # B's storefront cannot move A's member's points
    assert (await assert_ledger_consistent(receiver)).points_available == 30


@needs_postgres
async def test_gifts_both_ways_at_once_a_hundred_times_never_deadlock(
    gql, programme, keys, make_member
):
    admin, storefront = keys
    await allow_gifts(programme, 1_000_000)
    a, b = await make_member(programme), await make_member(programme)
    await fund(gql, admin, a.external_id, 1_000)
    await fund(gql, admin, b.external_id, 1_000)
    results = []
    for _ in range(100):
        results += await asyncio.gather(
            gift(gql, storefront, b.external_id, 3, fromExternalId=a.external_id),
            gift(gql, storefront, a.external_id, 2, fromExternalId=b.external_id),
        )
    assert [r["__typename"] for r in results] == ["GiftPointsSuccess"] * 200
    assert (await assert_ledger_consistent(a)).points_available == 1_000 - 100
    assert (await assert_ledger_consistent(b)).points_available == 1_000 + 100
