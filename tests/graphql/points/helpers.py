"""Inputs for the points API tests, and calls that bring a member to a known state."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from tests.graphql.points.documents import (
    ADJUST_POINTS,
    ADVANCE_CLOCK,
    COMPLETE_ORDER,
    HOLD_POINTS,
    MEMBER_POINTS,
    PROGRAMME_NOW,
    RECORD_ORDER,
    REDEEM,
    TRANSACTIONS,
)


def new_key() -> str:
    return uuid.uuid4().hex


def codes(result: dict[str, Any]) -> list[str]:
    return [e["code"] for e in result.get("errors", [])]


def parse(moment: str) -> datetime:
    return datetime.fromisoformat(moment)


async def programme_now(gql, key: str) -> str:
    body = await gql(PROGRAMME_NOW, auth=key)
    return str(body["data"]["programme"]["now"])


def line(
    sku: str = "sku-1",
    unit_price: int = 10_000,
    quantity: int = 1,
    *,
    category: str = "general",
    discounted: bool = False,
) -> dict[str, Any]:
    return {
        "sku": sku,
        "category": category,
        "unitPrice": unit_price,
        "quantity": quantity,
        "discounted": discounted,
    }


def order_input(
    member_external_id: str,
    placed_at: str,
    *,
    lines: list[dict] | None = None,
    payments: list[dict] | None = None,
    order_id: str | None = None,
    key: str | None = None,
    **more: Any,
) -> dict[str, Any]:
    lines = lines or [line()]
    total = sum(item["unitPrice"] * item["quantity"] for item in lines)
    return {
        "orderId": order_id or f"o-{uuid.uuid4().hex[:10]}",
        "memberExternalId": member_external_id,
        "placedAt": placed_at,
        "lines": lines,
        "payments": payments or [{"method": "CARD", "amount": total}],
        "idempotencyKey": key or new_key(),
        **more,
    }


def preview_of(order: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in order.items() if k != "idempotencyKey"}


async def mutate(gql, document: str, field: str, auth: str, **input: Any) -> dict[str, Any]:
    """Run a mutation whose input is `input` (with a fresh idempotency key unless given)."""
    body = await gql(document, {"input": {"idempotencyKey": new_key(), **input}}, auth=auth)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"][field]
    return result


async def record_order(gql, key: str, order: dict[str, Any]) -> dict[str, Any]:
    body = await gql(RECORD_ORDER, {"input": order}, auth=key)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["recordOrder"]
    return result


async def placed_order(gql, key: str, member_external_id: str, **kwargs: Any) -> dict[str, Any]:
    """An order recorded through the API; its points are pending."""
    result = await record_order(
        gql, key, order_input(member_external_id, await programme_now(gql, key), **kwargs)
    )
    assert result["__typename"] == "OrderSuccess", result
    order: dict[str, Any] = result["order"]
    return order


async def completed_order(gql, key: str, member_external_id: str, **kwargs: Any) -> dict:
    order = await placed_order(gql, key, member_external_id, **kwargs)
    done = await mutate(gql, COMPLETE_ORDER, "completeOrder", key, orderId=order["orderId"])
    assert done["__typename"] == "OrderSuccess", done
    completed: dict[str, Any] = done["order"]
    return completed


async def points_of(gql, key: str, external_id: str) -> dict[str, int]:
    body = await gql(MEMBER_POINTS, {"e": external_id}, auth=key)
    points: dict[str, int] = body["data"]["member"]["points"]
    return points


async def fund(gql, admin: str, external_id: str, amount: int) -> None:
    """Available points, by an admin adjustment."""
    result = await mutate(
        gql,
        ADJUST_POINTS,
        "adjustPoints",
        admin,
        memberExternalId=external_id,
        amount=amount,
        reason="test funds",
    )
    assert result["__typename"] == "TransactionSuccess", result


async def advance(gql, admin: str, *, days: int = 0, seconds: int = 0) -> None:
    body = await gql(
        ADVANCE_CLOCK, {"days": days, "seconds": seconds, "key": new_key()}, auth=admin
    )
    assert body["data"]["advanceTestClock"]["__typename"] == "AdvanceTestClockSuccess", body


async def history(gql, key: str, external_id: str, **args: Any) -> dict[str, Any]:
    body = await gql(TRANSACTIONS, {"e": external_id, "first": 100, **args}, auth=key)
    assert "errors" not in body, body
    connection: dict[str, Any] = body["data"]["member"]["transactions"]
    return connection


async def redeem(gql, auth: str, **input: Any) -> dict[str, Any]:
    return await mutate(gql, REDEEM, "redeemPoints", auth, **{"reason": "a mug", **input})


async def hold(gql, auth: str, external_id: str, amount: int) -> dict[str, Any]:
    result = await mutate(
        gql,
        HOLD_POINTS,
        "holdPoints",
        auth,
        memberExternalId=external_id,
        amount=amount,
        orderId=f"checkout-{uuid.uuid4().hex[:8]}",
    )
    assert result["__typename"] == "HoldSuccess", result
    return result
