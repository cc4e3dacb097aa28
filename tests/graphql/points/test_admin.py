"""Admin corrections through the API: adjustments and grants."""

from __future__ import annotations

from domain.auth import Role
from services import keys as key_service
from tests.fixtures.points import assert_ledger_consistent
from tests.graphql.points.documents import ADJUST_POINTS, GRANT_POINTS
from tests.graphql.points.helpers import codes, fund, mutate, new_key, points_of


async def test_an_adjustment_needs_a_reason_and_records_its_actor(gql, programme, make_member):
    # given
    issued = await key_service.create_key(programme.id, Role.ADMIN, label="ops")
    member = await make_member(programme)
    # when
    blank = await mutate(
        gql,
        ADJUST_POINTS,
        "adjustPoints",
        issued.secret,
        memberExternalId=member.external_id,
        amount=50,
        reason="  ",
    )
    done = await mutate(
        gql,
        ADJUST_POINTS,
        "adjustPoints",
        issued.secret,
        memberExternalId=member.external_id,
        amount=50,
        reason="goodwill",
    )
    # then
    assert blank["__typename"] == "AdjustPointsError"
    assert [(e["field"], e["code"]) for e in blank["errors"]] == [("reason", "VALIDATION")]
    assert done["__typename"] == "TransactionSuccess", done
    tx = done["transaction"]
    assert (tx["kind"], tx["amount"], tx["reason"]) == ("ADJUST", 50, "goodwill")
    assert tx["actor"] == f"key:{issued.id}"
    assert done["member"]["points"]["available"] == 50


async def test_a_negative_adjustment_beyond_the_balance_is_insufficient_points(
    gql, programme, make_member, keys
):
    admin, storefront = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 50)
    result = await mutate(
        gql,
        ADJUST_POINTS,
        "adjustPoints",
        admin,
        memberExternalId=member.external_id,
        amount=-60,
        reason="clawback",
    )
    assert result["__typename"] == "AdjustPointsError"
    assert codes(result) == ["INSUFFICIENT_POINTS"]
    assert (await points_of(gql, storefront, member.external_id))["available"] == 50


async def test_a_storefront_key_cannot_adjust_or_grant(gql, programme, make_member, keys):
    _, storefront = keys
    member = await make_member(programme)
    adjust = await gql(
        ADJUST_POINTS,
        {
            "input": {
                "memberExternalId": member.external_id,
                "amount": 10,
                "reason": "r",
                "idempotencyKey": new_key(),
            }
        },
        auth=storefront,
    )
    grant = await gql(
        GRANT_POINTS,
        {
            "input": {
                "memberExternalIds": [member.external_id],
                "amount": 10,
                "reason": "r",
                "idempotencyKey": new_key(),
            }
        },
        auth=storefront,
    )
    assert adjust["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert grant["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await points_of(gql, storefront, member.external_id))["available"] == 0


async def test_a_grant_reaches_every_member_once_per_key(gql, programme, make_member, keys):
    # given three members
    admin, storefront = keys
    members = [await make_member(programme) for _ in range(3)]
    ids = [m.external_id for m in members]
    grant = {"memberExternalIds": ids, "amount": 25, "reason": "launch", "idempotencyKey": "g-1"}
    # when the grant is sent twice with one key
    first = await mutate(gql, GRANT_POINTS, "grantPoints", admin, **grant)
    second = await mutate(gql, GRANT_POINTS, "grantPoints", admin, **grant)
    # then each member has the points once
    assert first["__typename"] == second["__typename"] == "GrantPointsSuccess"
    assert sorted(m["externalId"] for m in first["members"]) == sorted(ids)
    assert all(m["points"]["available"] == 25 for m in first["members"])
    for external_id in ids:
        assert (await points_of(gql, storefront, external_id))["available"] == 25
    for member in members:
        await assert_ledger_consistent(member)


async def test_a_grant_naming_an_unknown_member_grants_nobody(gql, programme, make_member, keys):
    admin, storefront = keys
    members = [await make_member(programme) for _ in range(2)]
    ids = [m.external_id for m in members]
    result = await mutate(
        gql,
        GRANT_POINTS,
        "grantPoints",
        admin,
        memberExternalIds=[*ids, "nobody-here"],
        amount=25,
        reason="launch",
    )
    assert result["__typename"] == "GrantPointsError"
    assert [(e["field"], e["code"]) for e in result["errors"]] == [
        ("memberExternalIds", "NOT_FOUND")
    ]
    for external_id in ids:
        assert (await points_of(gql, storefront, external_id))["available"] == 0
