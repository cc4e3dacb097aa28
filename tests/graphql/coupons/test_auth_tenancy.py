"""Who may do what with coupons: checkout is staff work, and a programme sees only its own."""

from __future__ import annotations

from domain.auth import Role
from tests.graphql.coupons.documents import COUPON_NODE, LOCK, REDEEM, RELEASE, TEMPLATE_NODE
from tests.graphql.coupons.helpers import (
    claim,
    claimed,
    coupon_of,
    create_template,
    errors_of,
    lock,
    order_id,
    top_level_code,
    validate,
    wallet_codes,
)
from tests.graphql.points.helpers import new_key
from tests.graphql.test_auth import token_for


async def test_a_member_token_cannot_lock_redeem_or_release_even_its_own_coupon(
    gql, programme, make_member, keys
):
    # given alice's coupon and her token
    admin, storefront = keys
    alice = await make_member(programme)
    template = await create_template(gql, admin)
    code = (await claimed(gql, storefront, template["id"], alice.external_id))["code"]
    token = await token_for(gql, storefront, alice.external_id)
    order = order_id()
    # when she locks, redeems and releases it herself
    for document in (LOCK, REDEEM, RELEASE):
        body = await gql(
            document,
            {"input": {"code": code, "orderId": order, "idempotencyKey": new_key()}},
            auth=token,
        )
        # then each is forbidden
        assert body["data"] is None
        assert top_level_code(body) == "FORBIDDEN"
    assert (await coupon_of(gql, storefront, code))["status"] == "AVAILABLE"


async def test_another_programme_can_neither_see_nor_use_a_programmes_coupons(
    gql, programme, make_programme, make_member, make_key, keys
):
    # given programme A's template and alice's coupon from it, and programme B with a member
    admin_a, storefront_a = keys
    other = await make_programme()
    admin_b = await make_key(other, Role.ADMIN)
    alice = await make_member(programme)
    bob = await make_member(other, external_id=alice.external_id)
    template = await create_template(gql, admin_a)
    coupon = await claimed(gql, storefront_a, template["id"], alice.external_id)
    code = coupon["code"]
    # when B's admin looks the coupon and the template up
    by_code = await coupon_of(gql, admin_b, code)
    coupon_node = await gql(COUPON_NODE, {"id": coupon["id"]}, auth=admin_b)
    template_node = await gql(TEMPLATE_NODE, {"id": template["id"]}, auth=admin_b)
    # then B sees nothing
    assert by_code is None
    assert "errors" not in coupon_node and coupon_node["data"]["node"] is None
    assert "errors" not in template_node and template_node["data"]["node"] is None
    # when B locks the coupon, validates it, and claims from A's template for its own member
    locking = await lock(gql, admin_b, code, order_id())
    checked = await validate(gql, admin_b, [code], member=bob.external_id)
    claiming = await claim(gql, admin_b, template["id"], bob.external_id)
    # then each is refused as if neither existed
    assert locking["__typename"] == "LockCouponError"
    assert errors_of(locking) == [("code", "NOT_FOUND")]
    assert [r["reasons"] for r in checked["results"]] == [["UNKNOWN_CODE"]]
    assert claiming["__typename"] == "ClaimCouponError"
    assert errors_of(claiming) == [("templateId", "NOT_FOUND")]
    # and A's coupon and template are untouched
    assert (await coupon_of(gql, storefront_a, code))["status"] == "AVAILABLE"
    assert await wallet_codes(gql, admin_b, bob.external_id) == []
    seen = await gql(TEMPLATE_NODE, {"id": template["id"]}, auth=admin_a)
    assert seen["data"]["node"]["issued"] == 1


async def test_a_member_token_sees_no_other_members_coupon_by_global_id(
    gql, programme, make_member, keys
):
    admin, storefront = keys
    alice, bob = await make_member(programme), await make_member(programme)
    template = await create_template(gql, admin)
    bobs = await claimed(gql, storefront, template["id"], bob.external_id)
    token = await token_for(gql, storefront, alice.external_id)
    body = await gql(COUPON_NODE, {"id": bobs["id"]}, auth=token)
    assert "errors" not in body and body["data"]["node"] is None
    own = await gql(COUPON_NODE, {"id": bobs["id"]}, auth=storefront)
    assert own["data"]["node"]["__typename"] == "Coupon"
