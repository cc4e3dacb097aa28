"""Real concurrent requests through the ASGI app on PostgreSQL (issue 5, point 5;
RELIABILITY 14-15)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

from db.models import Coupon, CouponTemplate, PointTransaction
from domain.auth import Role
from services.points import admin as points_admin
from tests.conftest import needs_postgres
from tests.fixtures.coupons import claim, make_template
from tests.fixtures.factories import admin_of
from tests.fixtures.points import assert_ledger_consistent

CLAIM = """
mutation ($t: ID!, $e: String!, $k: String!) {
  claimCoupon(input: {templateId: $t, memberExternalId: $e, idempotencyKey: $k}) {
    __typename
    ... on ClaimCouponError { errors { code } }
  }
}
"""
EXCHANGE = """
mutation ($t: ID!, $e: String!, $k: String!) {
  exchangePointsForCoupon(input: {templateId: $t, memberExternalId: $e, idempotencyKey: $k}) {
    __typename
    ... on ExchangePointsForCouponError { errors { code } }
  }
}
"""
LOCK = """
mutation ($c: String!, $o: String!, $k: String!) {
  lockCoupon(input: {code: $c, orderId: $o, idempotencyKey: $k}) {
    __typename
    ... on LockCouponError { errors { code } }
  }
}
"""
REDEEM = """
mutation ($c: String!, $o: String!, $k: String!) {
  redeemCoupon(input: {code: $c, orderId: $o, idempotencyKey: $k}) {
    __typename
    ... on RedeemCouponError { errors { code } }
  }
}
"""


def template_gid(template) -> str:
    import base64

    return base64.b64encode(f"CouponTemplate:{template.id}".encode()).decode()


def outcomes(bodies: list[dict], field: str) -> Counter[str]:
    """Success type names, and error codes for the refusals."""
    seen: Counter[str] = Counter()
    for body in bodies:
        result = body["data"][field]
        seen[result["errors"][0]["code"] if "errors" in result else result["__typename"]] += 1
    return seen


@needs_postgres
async def test_three_hundred_claims_on_a_stock_of_one_hundred_issue_exactly_one_hundred(
    gql, programme, make_member, make_key
):
    # given a template with 100 in stock and 300 members who want one
    template = await make_template(programme, total_stock=100)
    members = [await make_member(programme) for _ in range(300)]
    key = await make_key(programme, Role.STOREFRONT)
    # when all 300 claim at once
    bodies = await asyncio.gather(
        *(
            gql(CLAIM, {"t": template_gid(template), "e": m.external_id, "k": f"c-{n}"}, auth=key)
            for n, m in enumerate(members)
        )
    )
    # then exactly 100 are issued, the other 200 are told it is out of stock
    assert outcomes(bodies, "claimCoupon") == {"CouponSuccess": 100, "OUT_OF_STOCK": 200}
    assert await Coupon.filter(template_id=template.id).count() == 100
    row = await CouponTemplate.get(id=template.id)
    assert (row.stock_left, row.issued) == (0, 100)


@needs_postgres
async def test_twenty_parallel_claims_under_a_limit_of_one_issue_one(
    gql, programme, make_member, make_key
):
    template = await make_template(programme, per_member_limit=1)
    member = await make_member(programme)
    key = await make_key(programme, Role.STOREFRONT)
    bodies = await asyncio.gather(
        *(
            gql(
                CLAIM,
                {"t": template_gid(template), "e": member.external_id, "k": f"l-{n}"},
                auth=key,
            )
            for n in range(20)
        )
    )
    assert outcomes(bodies, "claimCoupon") == {"CouponSuccess": 1, "LIMIT_REACHED": 19}
    assert await Coupon.filter(template_id=template.id, member_id=member.id).count() == 1


@needs_postgres
async def test_one_code_redeemed_by_fifty_parallel_requests_succeeds_once(
    gql, programme, make_member, make_key
):
    # given a coupon locked to an order
    member = await make_member(programme)
    coupon = await claim(programme, await make_template(programme), member)
    key = await make_key(programme, Role.STOREFRONT)
    locked = await gql(LOCK, {"c": coupon.row.code, "o": "order-1", "k": "lock"}, auth=key)
    assert locked["data"]["lockCoupon"]["__typename"] == "CouponSuccess"
    # when 50 requests redeem it at once, each with its own idempotency key
    bodies = await asyncio.gather(
        *(
            gql(REDEEM, {"c": coupon.row.code, "o": "order-1", "k": f"r-{n}"}, auth=key)
            for n in range(50)
        )
    )
    # then one succeeds and 49 are told it was used
    assert outcomes(bodies, "redeemCoupon") == {"CouponSuccess": 1, "USED": 49}
    row = await Coupon.get(id=coupon.row.id)
    assert (row.status, row.order_ref) == ("USED", "order-1")


@needs_postgres
async def test_fifty_orders_racing_to_lock_one_coupon_leave_one_lock(
    gql, programme, make_member, make_key
):
    member = await make_member(programme)
    coupon = await claim(programme, await make_template(programme), member)
    key = await make_key(programme, Role.STOREFRONT)
    bodies = await asyncio.gather(
        *(
            gql(LOCK, {"c": coupon.row.code, "o": f"order-{n}", "k": f"k-{n}"}, auth=key)
            for n in range(50)
        )
    )
    assert outcomes(bodies, "lockCoupon") == {"CouponSuccess": 1, "LOCKED": 49}


@needs_postgres
async def test_parallel_exchanges_spend_each_point_once(gql, programme, make_member, make_key):
    # given 1,000 points and a coupon sold for 200
    template = await make_template(programme, points_price=200)
    member = await make_member(programme)
    await points_admin.adjust(
        admin_of(programme),
        member_external_id=member.external_id,
        amount=1_000,
        reason="seed",
        idempotency_key=uuid.uuid4().hex,
    )
    key = await make_key(programme, Role.STOREFRONT)
    # when 20 exchanges race
    bodies = await asyncio.gather(
        *(
            gql(
                EXCHANGE,
                {"t": template_gid(template), "e": member.external_id, "k": f"x-{n}"},
                auth=key,
            )
            for n in range(20)
        )
    )
    # then five coupons, five debits, a balance of 0, and the ledger adds up
    assert outcomes(bodies, "exchangePointsForCoupon") == {
        "ExchangePointsForCouponSuccess": 5,
        "INSUFFICIENT_POINTS": 15,
    }
    assert await Coupon.filter(member_id=member.id).count() == 5
    assert await PointTransaction.filter(member_id=member.id, reference_type="COUPON").count() == 5
    assert (await assert_ledger_consistent(member)).points_available == 0
