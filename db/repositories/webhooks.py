"""Webhook endpoints, deliveries and the fan-out position: every query of the feature."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tortoise import connections
from tortoise.expressions import F

from db.connection import is_postgres
from db.models import (
    Event,
    Partner,
    Programme,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookFanOut,
)
from domain.webhooks import DeliveryStatus, EndpointStatus

FAN_OUT_LOCK = 0x10F2  # advisory lock namespace: one fan-out at a time across deliverers

# --- endpoints ---


async def create_endpoint(**fields: Any) -> WebhookEndpoint:
    return await WebhookEndpoint.create(**fields)


def _owned(programme_id: int, partner_id: int | None, **more: Any) -> Any:
    """The programme's endpoints; with `partner_id`, only that partner's own."""
    query = WebhookEndpoint.filter(programme_id=programme_id, **more)
    return query if partner_id is None else query.filter(partner_id=partner_id)


async def get_endpoint(
    programme_id: int, endpoint_id: int, *, partner_id: int | None = None
) -> WebhookEndpoint | None:
    found: WebhookEndpoint | None = await _owned(programme_id, partner_id, id=endpoint_id).first()
    return found


async def lock_endpoint(
    programme_id: int, endpoint_id: int, *, partner_id: int | None = None
) -> WebhookEndpoint | None:
    found: WebhookEndpoint | None = (
        await _owned(programme_id, partner_id, id=endpoint_id)
        .select_for_update(no_key=True)
        .first()
    )
    return found


async def count_endpoints(programme_id: int) -> int:
    return await WebhookEndpoint.filter(programme_id=programme_id).count()


async def endpoints_page(
    programme_id: int, *, after_id: int | None, limit: int, partner_id: int | None = None
) -> list[WebhookEndpoint]:
    query = _owned(programme_id, partner_id)
    if after_id is not None:
        query = query.filter(id__gt=after_id)
    rows: list[WebhookEndpoint] = await query.order_by("id").limit(limit)
    return rows


async def endpoints_by_ids(ids: list[int]) -> dict[int, WebhookEndpoint]:
    return {e.id: e for e in await WebhookEndpoint.filter(id__in=ids)}


async def save_endpoint(endpoint: WebhookEndpoint, *fields: str) -> None:
    await endpoint.save(update_fields=list(fields))


async def delete_endpoint(
    programme_id: int, endpoint_id: int, *, partner_id: int | None = None
) -> int:
    deleted: int = await _owned(programme_id, partner_id, id=endpoint_id).delete()
    return deleted


async def partner_codes(partner_ids: list[int]) -> dict[int, str]:
    rows = await Partner.filter(id__in=partner_ids).values_list("id", "code")
    return {int(i): str(c) for i, c in rows}


async def enabled_endpoints(programme_ids: list[int]) -> list[WebhookEndpoint]:
    return await WebhookEndpoint.filter(
        programme_id__in=programme_ids, status=EndpointStatus.ENABLED.value
    ).order_by("id")


async def mark_endpoints_healthy(endpoint_ids: list[int]) -> None:
    """After their 2xx answers; conditional, so the usual case writes nothing."""
    if endpoint_ids:
        await WebhookEndpoint.filter(id__in=endpoint_ids, failing_since__isnull=False).update(
            failing_since=None
        )


async def mark_endpoint_failing(endpoint_id: int, now: datetime) -> WebhookEndpoint | None:
    """Since when it has been failing (set now if it was healthy), the row locked."""
    await WebhookEndpoint.filter(id=endpoint_id, failing_since__isnull=True).update(
        failing_since=now
    )
    return await WebhookEndpoint.filter(id=endpoint_id).select_for_update(no_key=True).first()


# --- fan-out ---


async def take_fan_out_lock() -> bool:
    """Inside a transaction: whether this deliverer may fan out now (another is at it)."""
    if not is_postgres():
        return True
    rows = await connections.get("default").execute_query_dict(
        "SELECT pg_try_advisory_xact_lock($1, 0) AS got", [FAN_OUT_LOCK]
    )
    return bool(rows[0]["got"])


async def fan_out_position() -> WebhookFanOut:
    """Read without a row lock: the fan-out lock already keeps other deliverers out."""
    row = await WebhookFanOut.filter(id=1).first()
    if row is None:
        await WebhookFanOut.bulk_create([WebhookFanOut(id=1)], ignore_conflicts=True)
        row = await WebhookFanOut.filter(id=1).first()
    assert row is not None
    return row


async def save_fan_out_position(row: WebhookFanOut, *, txid: int, event_id: int) -> None:
    row.txid, row.event_id = txid, event_id
    await row.save(update_fields=["txid", "event_id"])


async def add_deliveries(rows: list[dict[str, Any]]) -> None:
    """New deliveries; one that exists already (endpoint, event) is left as it is."""
    if rows:
        await WebhookDelivery.bulk_create(
            [WebhookDelivery(**r) for r in rows], ignore_conflicts=True, batch_size=500
        )


# --- claiming and recording ---


async def claim_due(
    now: datetime, lease_until: datetime, *, limit: int, busy_endpoints: list[int]
) -> list[WebhookDelivery]:
    """Due deliveries of enabled endpoints, held until `lease_until`. On PostgreSQL the rows
    another deliverer is claiming are skipped (SKIP LOCKED), so two never claim the same one;
    only the delivery rows are locked, not their endpoint's, so two deliverers can work on
    one endpoint's backlog at once."""
    query = WebhookDelivery.filter(
        status=DeliveryStatus.PENDING.value,
        next_attempt_at__lte=now,
        endpoint__status=EndpointStatus.ENABLED.value,
    )
    if busy_endpoints:
        query = query.exclude(endpoint_id__in=busy_endpoints)
    rows = (
        await query.order_by("next_attempt_at", "id")
        .limit(limit)
        .select_for_update(skip_locked=True, of=("webhook_deliveries",), no_key=True)
    )
    if rows:
        await WebhookDelivery.filter(id__in=[r.id for r in rows]).update(
            next_attempt_at=lease_until
        )
    return list(rows)


async def release(ids: list[int], now: datetime) -> None:
    """Claimed but not started: due again at once."""
    if ids:
        await WebhookDelivery.filter(id__in=ids).update(next_attempt_at=now)


async def programme_codes(ids: list[int]) -> dict[int, str]:
    rows = await Programme.filter(id__in=ids).values("id", "code")
    return {int(r["id"]): str(r["code"]) for r in rows}


async def record_attempt(delivery_id: int, **fields: Any) -> None:
    await WebhookDelivery.filter(id=delivery_id).update(attempts=F("attempts") + 1, **fields)


_SUCCESSES = """
UPDATE webhook_deliveries AS d
SET status = $1, attempts = d.attempts + 1, next_attempt_at = NULL, last_attempt_at = v.at,
    last_status_code = v.code, last_latency_ms = v.ms, last_response = v.answer, last_error = NULL
FROM unnest($2::bigint[], $3::int[], $4::int[], $5::text[], $6::timestamptz[])
    AS v(id, code, ms, answer, at)
WHERE d.id = v.id
"""


async def record_successes(rows: list[tuple[int, int, int, str, datetime]], *, status: str) -> None:
    """(delivery id, status code, latency, answer excerpt, when) for each; on PostgreSQL one
    statement for all of them."""
    if not rows:
        return
    if is_postgres():
        ids, codes, latencies, answers, moments = (
            list(column) for column in zip(*rows, strict=True)
        )
        await connections.get("default").execute_query(
            _SUCCESSES, [status, ids, codes, latencies, answers, moments]
        )
        return
    for delivery_id, code, latency, answer, at in rows:
        await record_attempt(
            delivery_id,
            status=status,
            next_attempt_at=None,
            last_attempt_at=at,
            last_status_code=code,
            last_latency_ms=latency,
            last_response=answer,
            last_error=None,
        )


# --- the admin's view ---


async def get_delivery(programme_id: int, delivery_id: int) -> WebhookDelivery | None:
    return await WebhookDelivery.get_or_none(programme_id=programme_id, id=delivery_id)


async def deliveries_page(
    programme_id: int,
    *,
    endpoint_id: int | None,
    status: str | None,
    before_id: int | None,
    limit: int,
) -> list[WebhookDelivery]:
    """Newest first."""
    query = WebhookDelivery.filter(programme_id=programme_id)
    if endpoint_id is not None:
        query = query.filter(endpoint_id=endpoint_id)
    if status is not None:
        query = query.filter(status=status)
    if before_id is not None:
        query = query.filter(id__lt=before_id)
    return await query.order_by("-id").limit(limit).prefetch_related("event")


async def requeue(programme_id: int, delivery_ids: list[int], now: datetime) -> int:
    return await WebhookDelivery.filter(programme_id=programme_id, id__in=delivery_ids).update(
        status=DeliveryStatus.PENDING.value, attempts=0, next_attempt_at=now
    )


async def events_between(
    programme_id: int, start: datetime, end: datetime, *, types: list[str], limit: int
) -> list[int]:
    """Ids of the programme's events that occurred in [start, end), oldest first."""
    query = Event.filter(programme_id=programme_id, occurred_at__gte=start, occurred_at__lt=end)
    if types:
        query = query.filter(type__in=types)
    rows = await query.order_by("occurred_at", "id").limit(limit).values("id")
    return [int(r["id"]) for r in rows]


async def deliveries_for(endpoint_id: int, event_ids: list[int]) -> list[int]:
    rows = await WebhookDelivery.filter(endpoint_id=endpoint_id, event_id__in=event_ids).values(
        "id"
    )
    return [int(r["id"]) for r in rows]
