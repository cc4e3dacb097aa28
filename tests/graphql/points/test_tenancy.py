"""Tenancy through the API: a member's ledger is seen by its programme and member only."""

from __future__ import annotations

from domain.auth import Role
from tests.graphql.points.documents import COMPLETE_ORDER, NODE, ORDER, RELEASE_HOLD
from tests.graphql.points.helpers import codes, fund, history, hold, mutate, placed_order, points_of
from tests.graphql.test_auth import token_for


async def test_another_programme_and_another_member_see_none_of_a_members_ledger(
    gql, make_programme, make_member, make_key
):
    # given programme B with a member's order, hold and ledger row, and a second member in B
    a, b = await make_programme(), await make_programme()
    key_a = await make_key(a, Role.STOREFRONT)
    admin_b, key_b = await make_key(b, Role.ADMIN), await make_key(b, Role.STOREFRONT)
    alice, bob = await make_member(b), await make_member(b)
    await fund(gql, admin_b, alice.external_id, 100)
    order = await placed_order(gql, key_b, alice.external_id)
    held = await hold(gql, key_b, alice.external_id, 30)
    [edge] = (await history(gql, key_b, alice.external_id, kinds=["ADJUST"]))["edges"]
    ids = {
        "PointTransaction": edge["node"]["id"],
        "Order": order["id"],
        "PointHold": held["hold"]["id"],
    }
    bob_token = await token_for(gql, key_b, bob.external_id)
    alice_token = await token_for(gql, key_b, alice.external_id)
    # B's own key and alice herself see all three
    for typename, global_id in ids.items():
        for auth in (key_b, alice_token):
            seen = await gql(NODE, {"id": global_id}, auth=auth)
            assert seen["data"]["node"]["__typename"] == typename, seen
    # when programme A's key and bob's token ask
    for auth in (key_a, bob_token):
        for global_id in ids.values():
            body = await gql(NODE, {"id": global_id}, auth=auth)
            # then they see nothing
            assert "errors" not in body, body
            assert body["data"]["node"] is None
    by_ref = await gql(ORDER, {"o": order["orderId"]}, auth=key_a)
    assert "errors" not in by_ref and by_ref["data"]["order"] is None
    complete = await mutate(gql, COMPLETE_ORDER, "completeOrder", key_a, orderId=order["orderId"])
    assert complete["__typename"] == "CompleteOrderError"
    assert codes(complete) == ["NOT_FOUND"]
    release = await mutate(gql, RELEASE_HOLD, "releaseHold", key_a, holdId=ids["PointHold"])
    assert codes(release) == ["NOT_FOUND"]
    # and B's order and hold are untouched
    shown = (await gql(ORDER, {"o": order["orderId"]}, auth=key_b))["data"]["order"]
    assert shown["status"] == "PENDING"
    points = await points_of(gql, key_b, alice.external_id)
    assert (points["available"], points["pending"], points["held"]) == (100, 200, 30)
