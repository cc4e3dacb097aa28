"""Admin grants through the API: one coupon each to many members, all or none."""

from __future__ import annotations

from tests.graphql.coupons.documents import GRANT
from tests.graphql.coupons.helpers import (
    claimed,
    create_template,
    errors_of,
    grant,
    template_state,
    top_level_code,
    wallet_codes,
)
from tests.graphql.points.helpers import new_key


async def test_a_grant_gives_each_member_one_coupon_once_per_key(gql, programme, make_member, keys):
    # given three members and a template members cannot claim themselves
    admin, storefront = keys
    members = [await make_member(programme) for _ in range(3)]
    ids = [m.external_id for m in members]
    template = await create_template(gql, admin, claimable=False, perMemberLimit=1)
    key = new_key()
    # when the grant is sent twice with one key
    first = await grant(gql, admin, template["id"], ids, idempotencyKey=key)
    second = await grant(gql, admin, template["id"], ids, idempotencyKey=key)
    # then each member has one coupon, and the replay answers with the same coupons
    assert first["__typename"] == second["__typename"] == "GrantCouponsSuccess", first
    assert len(first["coupons"]) == 3
    assert {c["source"] for c in first["coupons"]} == {"GRANT"}
    assert [c["id"] for c in first["coupons"]] == [c["id"] for c in second["coupons"]]
    for external_id in ids:
        assert len(await wallet_codes(gql, storefront, external_id)) == 1
    assert await template_state(gql, admin, template["id"]) == (None, 3)


async def test_a_grant_naming_an_unknown_member_gives_nobody_a_coupon(
    gql, programme, make_member, keys
):
    admin, storefront = keys
    members = [await make_member(programme) for _ in range(2)]
    ids = [m.external_id for m in members]
    template = await create_template(gql, admin, totalStock=10)
    result = await grant(gql, admin, template["id"], [*ids, "nobody-here"])
    assert result["__typename"] == "GrantCouponsError"
    assert errors_of(result) == [("memberExternalIds", "NOT_FOUND")]
    for external_id in ids:
        assert await wallet_codes(gql, storefront, external_id) == []
    assert await template_state(gql, admin, template["id"]) == (10, 0)


async def test_a_grant_reaching_a_member_at_the_limit_gives_nobody_a_coupon(
    gql, programme, make_member, keys
):
    # given bob already holds the one coupon a member may have
    admin, storefront = keys
    alice, bob, carol = [await make_member(programme) for _ in range(3)]
    template = await create_template(gql, admin, perMemberLimit=1)
    await claimed(gql, storefront, template["id"], bob.external_id)
    # when all three are granted one
    ids = [alice.external_id, bob.external_id, carol.external_id]
    result = await grant(gql, admin, template["id"], ids)
    # then nobody gets one
    assert result["__typename"] == "GrantCouponsError"
    assert errors_of(result) == [("memberExternalIds", "LIMIT_REACHED")]
    assert await wallet_codes(gql, storefront, alice.external_id) == []
    assert await wallet_codes(gql, storefront, carol.external_id) == []
    assert len(await wallet_codes(gql, storefront, bob.external_id)) == 1
    assert await template_state(gql, admin, template["id"]) == (None, 1)


async def test_a_grant_larger_than_the_stock_left_gives_nobody_a_coupon(
    gql, programme, make_member, keys
):
    admin, storefront = keys
    members = [await make_member(programme) for _ in range(3)]
    template = await create_template(gql, admin, totalStock=2)
    result = await grant(gql, admin, template["id"], [m.external_id for m in members])
    assert result["__typename"] == "GrantCouponsError"
    assert errors_of(result) == [("templateId", "OUT_OF_STOCK")]
    for member in members:
        assert await wallet_codes(gql, storefront, member.external_id) == []
    assert await template_state(gql, admin, template["id"]) == (2, 0)


async def test_only_an_admin_grants_coupons(gql, programme, make_member, keys):
    admin, storefront = keys
    member = await make_member(programme)
    template = await create_template(gql, admin)
    body = await gql(
        GRANT,
        {
            "input": {
                "templateId": template["id"],
                "memberExternalIds": [member.external_id],
                "idempotencyKey": new_key(),
            }
        },
        auth=storefront,
    )
    assert top_level_code(body) == "FORBIDDEN"
    assert await wallet_codes(gql, storefront, member.external_id) == []
