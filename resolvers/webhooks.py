"""Webhook endpoints (admins, and partners for their own) and deliveries (admins only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from db.models import WebhookDelivery, WebhookEndpoint
from domain.auth import Role
from domain.webhooks import DeliveryStatus
from resolvers.auth import require
from resolvers.ids import BIGINT_MAX, decode_cursor, encode_cursor
from services.webhooks import deliveries, endpoints
from services.webhooks.endpoints import EndpointChange, EndpointWithSecret

# A partner key manages its own endpoints (services/webhooks/endpoints.py `owner`).
OWNERS = (Role.ADMIN, Role.PARTNER)
ENDPOINT_CURSOR = "whe:"
DELIVERY_CURSOR = "whd:"


def endpoint_cursor(row: WebhookEndpoint) -> str:
    return encode_cursor(ENDPOINT_CURSOR, row.id)


def delivery_cursor(row: WebhookDelivery) -> str:
    return encode_cursor(DELIVERY_CURSOR, row.id)


async def endpoints_page(
    info: Any, first: int, after: str | None
) -> tuple[list[WebhookEndpoint], bool]:
    return await endpoints.page(
        require(info, *OWNERS), first=first, after_id=decode_cursor(ENDPOINT_CURSOR, after)
    )


async def endpoints_by_ids(info: Any, ids: list[int]) -> dict[int, WebhookEndpoint]:
    principal = require(info, *OWNERS)
    found = [await endpoints.find(principal, i) for i in ids]
    return {e.id: e for e in found if e is not None}


async def deliveries_page(
    info: Any,
    *,
    endpoint_id: int | None,
    status: DeliveryStatus | None,
    first: int,
    after: str | None,
) -> tuple[list[WebhookDelivery], bool]:
    return await deliveries.page(
        require(info, Role.ADMIN),
        endpoint_id=endpoint_id,
        status=status,
        first=first,
        before_id=decode_cursor(DELIVERY_CURSOR, after, maximum=BIGINT_MAX),
    )


async def deliveries_by_ids(info: Any, ids: list[int]) -> dict[int, WebhookDelivery]:
    principal = require(info, Role.ADMIN)
    found = [await deliveries.find(principal, i) for i in ids]
    return {d.id: d for d in found if d is not None}


async def create_endpoint(info: Any, **kwargs: Any) -> EndpointWithSecret:
    return await endpoints.create(require(info, *OWNERS), **kwargs)


async def update_endpoint(info: Any, endpoint_id: int, change: EndpointChange) -> WebhookEndpoint:
    return await endpoints.update(require(info, *OWNERS), endpoint_id, change)


async def delete_endpoint(info: Any, endpoint_id: int) -> int:
    return await endpoints.delete(require(info, *OWNERS), endpoint_id)


async def rotate_secret(info: Any, endpoint_id: int, *, idempotency_key: str) -> EndpointWithSecret:
    return await endpoints.rotate_secret(
        require(info, *OWNERS), endpoint_id, idempotency_key=idempotency_key
    )


async def redeliver(info: Any, delivery_id: int) -> WebhookDelivery:
    return await deliveries.redeliver(require(info, Role.ADMIN), delivery_id)


async def replay(info: Any, endpoint_id: int, start: datetime, end: datetime) -> int:
    return await deliveries.replay(require(info, Role.ADMIN), endpoint_id, start, end)
