"""claimCoupon writes its coupon, its event, its idempotency key's result and (on PostgreSQL
through the API) its audit row in one statement, after the key's claim with the member's
lock and the stock's take: the same rows as before either way, and a claim refused or
failed after the stock was taken leaves nothing behind, the stock included."""

from __future__ import annotations

import uuid
from typing import Any

from db.models import AuditEntry, Coupon, Event, IdempotencyKey
from domain.auth import Role
from tests.fixtures.audit import fail_success_rows
from tests.graphql.coupons.helpers import claim, create_template, global_id, template_state
from tests.graphql.test_auth import token_for


async def _rows(programme: Any) -> list[AuditEntry]:
    return list(
        await AuditEntry.filter(programme_id=programme.id, operation="claimCoupon").order_by("id")
    )


async def test_a_claim_its_replay_and_a_refusal_each_leave_one_row(
    gql, programme, make_member, make_key
):
    admin = await make_key(programme, Role.ADMIN)
    storefront = await make_key(programme, Role.STOREFRONT)
    member = await make_member(programme)
    template = await create_template(gql, admin, totalStock=5, perMemberLimit=1)
    once = uuid.uuid4().hex
    # when a claim is made, replayed, and made again under another key (over the limit)
    done = await claim(gql, storefront, template["id"], member.external_id, idempotencyKey=once)
    again = await claim(gql, storefront, template["id"], member.external_id, idempotencyKey=once)
    refused = await claim(gql, storefront, template["id"], member.external_id)
    # then one coupon, its event and its key's result; the stock taken once
    assert done["__typename"] == again["__typename"] == "CouponSuccess", (done, again)
    assert done["coupon"] == again["coupon"]
    assert refused["errors"][0]["code"] == "LIMIT_REACHED", refused
    coupons = await Coupon.filter(member_id=member.id)
    assert [global_id("Coupon", c.id) for c in coupons] == [done["coupon"]["id"]]
    assert coupons[0].code == done["coupon"]["code"]
    events = await Event.filter(member_id=member.id, type="coupon.issued")
    assert [e.payload["coupon"]["code"] for e in events] == [done["coupon"]["code"]]
    stored = await IdempotencyKey.get(programme_id=programme.id, key=once)
    assert stored.result == {"couponId": coupons[0].id}
    assert await template_state(gql, admin, template["id"]) == (4, 1)
    # and a row each: two successes naming the template and the coupon, then the refusal
    rows = await _rows(programme)
    assert [r.outcome for r in rows] == ["SUCCESS", "SUCCESS", "LIMIT_REACHED"]
    targets = {template["id"], done["coupon"]["id"]}
    assert [set(r.target_ids.split()) for r in rows[:2]] == [targets, targets]
    assert rows[2].target_ids.split() == [template["id"]]
    assert {r.actor_role for r in rows} == {"storefront"}
    assert rows[0].input["input"]["idempotencyKey"] == once


async def test_a_member_claims_for_itself_and_the_key_keeps_the_coupon(
    gql, programme, make_member, make_key
):
    admin = await make_key(programme, Role.ADMIN)
    storefront = await make_key(programme, Role.STOREFRONT)
    member = await make_member(programme)
    token = await token_for(gql, storefront, member.external_id)
    template = await create_template(gql, admin, totalStock=5)
    once = uuid.uuid4().hex
    # when a member token claims without naming itself, twice under one key
    first = await claim(gql, token, template["id"], idempotencyKey=once)
    second = await claim(gql, token, template["id"], idempotencyKey=once)
    # then one coupon in its wallet, and the key's result names it
    assert first["__typename"] == "CouponSuccess", first
    assert second["coupon"] == first["coupon"]
    coupons = await Coupon.filter(member_id=member.id)
    assert [global_id("Coupon", c.id) for c in coupons] == [first["coupon"]["id"]]
    stored = await IdempotencyKey.get(programme_id=programme.id, key=once)
    assert stored.result == {"couponId": coupons[0].id}
    assert await template_state(gql, admin, template["id"]) == (4, 1)


async def test_a_claim_refused_after_the_stock_was_taken_gives_it_back(
    gql, programme, make_member, make_key
):
    admin = await make_key(programme, Role.ADMIN)
    storefront = await make_key(programme, Role.STOREFRONT)
    member = await make_member(programme)
    given_only = await create_template(gql, admin, totalStock=3, claimable=False)
    once = uuid.uuid4().hex
    # when a template that is only given is claimed (its stock is taken, then the claim refused)
    refused = await claim(
        gql, storefront, given_only["id"], member.external_id, idempotencyKey=once
    )
    # then the stock is back, and neither coupon nor key nor event is left
    assert refused["errors"][0]["code"] == "NOT_CLAIMABLE", refused
    assert await template_state(gql, admin, given_only["id"]) == (3, 0)
    assert not await Coupon.filter(member_id=member.id).exists()
    assert not await Event.filter(member_id=member.id, type="coupon.issued").exists()
    assert not await IdempotencyKey.filter(programme_id=programme.id, key=once).exists()
    assert [r.outcome for r in await _rows(programme)] == ["NOT_CLAIMABLE"]


async def test_an_audit_row_that_cannot_be_written_undoes_the_claim(
    gql, programme, make_member, make_key, monkeypatch
):
    admin = await make_key(programme, Role.ADMIN)
    storefront = await make_key(programme, Role.STOREFRONT)
    member = await make_member(programme)
    template = await create_template(gql, admin, totalStock=3)
    fail_success_rows(monkeypatch)
    # when the claim's audit row fails to be written
    body = await gql(
        "mutation ($input: ClaimCouponInput!) { claimCoupon(input: $input) { __typename } }",
        {
            "input": {
                "templateId": template["id"],
                "memberExternalId": member.external_id,
                "idempotencyKey": "K-undone",
            }
        },
        auth=storefront,
    )
    # then the caller sees the failure, and nothing of the claim is left
    assert body["errors"][0]["message"], body
    assert not await Coupon.filter(member_id=member.id).exists()
    assert not await Event.filter(member_id=member.id, type="coupon.issued").exists()
    assert not await IdempotencyKey.filter(programme_id=programme.id, key="K-undone").exists()
    assert await template_state(gql, admin, template["id"]) == (3, 0)
    assert [r.outcome for r in await _rows(programme)] == ["INTERNAL_ERROR"]
