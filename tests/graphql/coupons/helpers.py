"""Inputs for the coupon API tests, and calls that bring a wallet to a known state."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from typing import Any

from tests.graphql.coupons.documents import (
    CLAIM,
    COUPON,
    CREATE_TEMPLATE,
    EXCHANGE,
    GRANT,
    LOCK,
    REDEEM,
    RELEASE,
    TEMPLATE_NODE,
    TEMPLATES,
    VALIDATE,
    WALLET,
)
from tests.graphql.points.helpers import advance, mutate, parse, programme_now


def template_code() -> str:
    return f"T-{uuid.uuid4().hex[:12].upper()}"


def order_id() -> str:
    return f"co-{uuid.uuid4().hex[:10]}"


def global_id(type_name: str, row_id: int) -> str:
    return base64.b64encode(f"{type_name}:{row_id}".encode()).decode()


def errors_of(result: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in result.get("errors", [])]


def top_level_code(body: dict[str, Any]) -> str:
    return str(body["errors"][0]["extensions"]["code"])


def template_input(**overrides: Any) -> dict[str, Any]:
    """50 off a cart of 100 (minor units: 5,000 off 10,000), valid 30 days from issue."""
    return {
        "code": template_code(),
        "title": "50 off 100",
        "kind": "AMOUNT_OFF",
        "amountOff": 5_000,
        "threshold": 10_000,
        "validDays": 30,
        **overrides,
    }


async def create_result(gql, admin: str, **overrides: Any) -> dict[str, Any]:
    return await mutate(
        gql, CREATE_TEMPLATE, "createCouponTemplate", admin, **template_input(**overrides)
    )


async def create_template(gql, admin: str, **overrides: Any) -> dict[str, Any]:
    result = await create_result(gql, admin, **overrides)
    assert result["__typename"] == "CouponTemplateSuccess", result
    template: dict[str, Any] = result["template"]
    return template


async def template_state(gql, admin: str, template_id: str) -> tuple[int | None, int]:
    """(stockLeft, issued) of a template."""
    body = await gql(TEMPLATE_NODE, {"id": template_id}, auth=admin)
    node = body["data"]["node"]
    return node["stockLeft"], node["issued"]


async def template_codes(gql, auth: str) -> list[str]:
    body = await gql(TEMPLATES, {"first": 100}, auth=auth)
    assert "errors" not in body, body
    return [e["node"]["code"] for e in body["data"]["couponTemplates"]["edges"]]


def _member(external_id: str | None) -> dict[str, str]:
    return {"memberExternalId": external_id} if external_id is not None else {}


async def claim(
    gql, auth: str, template_id: str, external_id: str | None = None, **more: Any
) -> dict[str, Any]:
    return await mutate(
        gql, CLAIM, "claimCoupon", auth, templateId=template_id, **_member(external_id), **more
    )


async def claimed(gql, auth: str, template_id: str, external_id: str | None = None) -> dict:
    """A coupon claimed into the wallet."""
    result = await claim(gql, auth, template_id, external_id)
    assert result["__typename"] == "CouponSuccess", result
    coupon: dict[str, Any] = result["coupon"]
    return coupon


async def exchange(
    gql, auth: str, template_id: str, external_id: str | None = None, **more: Any
) -> dict[str, Any]:
    return await mutate(
        gql,
        EXCHANGE,
        "exchangePointsForCoupon",
        auth,
        templateId=template_id,
        **_member(external_id),
        **more,
    )


async def grant(gql, admin: str, template_id: str, external_ids: list[str], **more: Any) -> dict:
    return await mutate(
        gql,
        GRANT,
        "grantCoupons",
        admin,
        templateId=template_id,
        memberExternalIds=external_ids,
        **more,
    )


async def wallet(gql, auth: str, external_id: str, **args: Any) -> dict[str, Any]:
    body = await gql(WALLET, {"e": external_id, "first": 100, **args}, auth=auth)
    assert "errors" not in body, body
    connection: dict[str, Any] = body["data"]["member"]["coupons"]
    return connection


async def wallet_codes(gql, auth: str, external_id: str, **args: Any) -> list[str]:
    return [e["node"]["code"] for e in (await wallet(gql, auth, external_id, **args))["edges"]]


async def coupon_of(gql, auth: str, code: str) -> dict[str, Any] | None:
    body = await gql(COUPON, {"code": code}, auth=auth)
    assert "errors" not in body, body
    coupon: dict[str, Any] | None = body["data"]["coupon"]
    return coupon


def cart_line(
    sku: str = "sku-1", unit_price: int = 10_000, quantity: int = 1, *, category: str = "general"
) -> dict[str, Any]:
    return {"sku": sku, "category": category, "unitPrice": unit_price, "quantity": quantity}


async def validate(
    gql,
    auth: str,
    codes: list[str],
    lines: list[dict[str, Any]] | None = None,
    *,
    shipping_fee: int = 0,
    member: str | None = None,
) -> dict[str, Any]:
    cart = {
        "lines": [cart_line()] if lines is None else lines,
        "shippingFee": shipping_fee,
        **_member(member),
    }
    body = await gql(VALIDATE, {"cart": cart, "codes": codes}, auth=auth)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["validateCoupons"]
    return result


async def lock(
    gql, auth: str, code: str, order: str, *, cart: dict | None = None, **more: Any
) -> dict[str, Any]:
    extra = {"cart": cart} if cart is not None else {}
    return await mutate(gql, LOCK, "lockCoupon", auth, code=code, orderId=order, **extra, **more)


async def redeem(gql, auth: str, code: str, order: str, **more: Any) -> dict[str, Any]:
    return await mutate(gql, REDEEM, "redeemCoupon", auth, code=code, orderId=order, **more)


async def release(gql, auth: str, code: str, order: str, **more: Any) -> dict[str, Any]:
    return await mutate(gql, RELEASE, "releaseCoupon", auth, code=code, orderId=order, **more)


async def locked(gql, auth: str, code: str, order: str, **more: Any) -> dict[str, Any]:
    result = await lock(gql, auth, code, order, **more)
    assert result["__typename"] == "CouponSuccess", result
    coupon: dict[str, Any] = result["coupon"]
    return coupon


async def frozen_now(gql, admin: str) -> datetime:
    """A sandbox's clock follows the wall until it is first advanced; then it stands still."""
    await advance(gql, admin, seconds=1)
    return parse(await programme_now(gql, admin))


async def coupon_for(gql, keys: tuple[str, str], member: Any, **template: Any) -> str:
    """The code of a coupon of a new template, claimed into `member`'s wallet."""
    admin, storefront = keys
    made = await create_template(gql, admin, **template)
    return str((await claimed(gql, storefront, made["id"], member.external_id))["code"])
