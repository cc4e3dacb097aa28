"""Deliveries: events become one delivery per interested endpoint (fan-out), deliverers claim
due ones, and each attempt's outcome is recorded; admins look at them and send them again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from db.models import WebhookDelivery, WebhookEndpoint
from db.repositories import events as event_repo
from db.repositories import webhooks as webhook_repo
from domain.auth import Principal
from domain.errors import NotFound, check_page_size, invalid
from domain.events import Event, EventType, Position
from domain.webhooks import (
    Attempt,
    DeliveryStatus,
    EndpointStatus,
    delay_before_attempt,
    should_disable,
    wants,
)
from services import events as event_service
from services.clock import programme_time, wall_now

FAN_OUT_BATCH = 1000
REPLAY_MAX = 10_000


def about_partner(event: Event, partner_code: str) -> bool:
    """A partner's own endpoint gets the events about its transfers and links, nothing else."""
    return event.type.startswith(("partner_transfer.", "partner_link.")) and (
        event.payload.get("partner") == partner_code
    )


async def fan_out(limit: int = FAN_OUT_BATCH) -> int:
    """One delivery per (event, enabled endpoint that wants its type), for events committed
    since the last fan-out, in commit order. One deliverer at a time does it (an advisory
    lock; the others carry on delivering); the position moves in the same transaction as the
    deliveries it made, so a crash repeats a fan-out rather than losing one. Returns how many
    events it read."""
    async with in_transaction():
        if not await webhook_repo.take_fan_out_lock():
            return 0
        position = await webhook_repo.fan_out_position()
        # Read before this transaction writes: the events' commit-order read is below the
        # snapshot's oldest running transaction, which must not be held back by this one.
        events = await event_service.committed_after(
            Position(position.txid, position.event_id), limit=limit
        )
        if not events:
            return 0
        programmes = sorted({e.programme_id for e in events})
        endpoints: dict[int, list[WebhookEndpoint]] = {}
        for endpoint in await webhook_repo.enabled_endpoints(programmes):
            endpoints.setdefault(endpoint.programme_id, []).append(endpoint)
        partners = await webhook_repo.partner_codes(
            sorted({e.partner_id for found in endpoints.values() for e in found if e.partner_id})
        )
        now = wall_now()
        rows = [
            {
                "programme_id": event.programme_id,
                "endpoint_id": endpoint.id,
                "event_id": event.position.id,
                "status": DeliveryStatus.PENDING.value,
                "next_attempt_at": now,
                "created_at": now,
            }
            for event in events
            for endpoint in endpoints.get(event.programme_id, [])
            if wants(endpoint.event_types, event.type)
            and (endpoint.partner_id is None or about_partner(event, partners[endpoint.partner_id]))
        ]
        await webhook_repo.add_deliveries(rows)
        last = events[-1].position
        await webhook_repo.save_fan_out_position(position, txid=last.txid, event_id=last.id)
        return len(events)


@dataclass(frozen=True)
class Claimed:
    """A delivery a deliverer holds, with what it needs to send it."""

    delivery_id: int
    attempt: int  # the number of this attempt, 1-based
    endpoint: WebhookEndpoint
    event: Event
    programme_code: str


async def claim(
    *, limit: int, lease: timedelta, busy_endpoints: list[int], now: datetime | None = None
) -> list[Claimed]:
    now = now or wall_now()
    async with in_transaction():
        rows = await webhook_repo.claim_due(
            now, now + lease, limit=limit, busy_endpoints=busy_endpoints
        )
    if not rows:
        return []
    endpoints = await webhook_repo.endpoints_by_ids(sorted({r.endpoint_id for r in rows}))
    events = await event_repo.by_ids(sorted({r.event_id for r in rows}))
    codes = await webhook_repo.programme_codes(sorted({r.programme_id for r in rows}))
    return [
        Claimed(
            r.id,
            r.attempts + 1,
            endpoints[r.endpoint_id],
            events[r.event_id],
            codes[r.programme_id],
        )
        for r in rows
        if r.endpoint_id in endpoints and r.event_id in events
    ]


async def release(delivery_ids: list[int]) -> None:
    await webhook_repo.release(delivery_ids, wall_now())


async def record(
    claimed: Claimed,
    outcome: Attempt,
    *,
    schedule: tuple[timedelta, ...],
    now: datetime | None = None,
) -> DeliveryStatus:
    """Done after a 2xx; otherwise due again on the schedule, or failed after its last
    attempt. An endpoint failing without a success for 5 days is disabled, and a
    `webhook_endpoint.disabled` event records it in the same transaction."""
    now = now or wall_now()
    if outcome.succeeded:
        status, next_at = DeliveryStatus.SUCCEEDED, None
    else:
        delay = delay_before_attempt(claimed.attempt + 1, schedule)
        status = DeliveryStatus.FAILED if delay is None else DeliveryStatus.PENDING
        next_at = None if delay is None else now + delay
    async with in_transaction():
        await webhook_repo.record_attempt(
            claimed.delivery_id,
            status=status.value,
            next_attempt_at=next_at,
            last_attempt_at=now,
            last_status_code=outcome.status_code,
            last_latency_ms=outcome.latency_ms,
            last_response=outcome.excerpt,
            last_error=outcome.error,
        )
        if outcome.succeeded:
            # Not judged by the claim's copy of the endpoint: another delivery may have
            # failed since. The update is conditional, so the usual case writes nothing.
            await webhook_repo.mark_endpoints_healthy([claimed.endpoint.id])
        else:
            await _after_failure(claimed.endpoint.id, now)
    return status


async def record_successes(done: list[tuple[Claimed, Attempt, datetime]]) -> None:
    """Several 2xx answers at once: one statement for the deliveries, and the endpoints that
    were failing are failing no more."""
    async with in_transaction():
        await webhook_repo.record_successes(
            [
                (c.delivery_id, a.status_code or 200, a.latency_ms, a.excerpt, at)
                for c, a, at in done
            ],
            status=DeliveryStatus.SUCCEEDED.value,
        )
        # Every endpoint answered, whatever the claim's copy said (a delivery claimed with
        # these may have failed since): one conditional statement.
        await webhook_repo.mark_endpoints_healthy(sorted({c.endpoint.id for c, _, _ in done}))


async def _after_failure(endpoint_id: int, now: datetime) -> None:
    endpoint = await webhook_repo.mark_endpoint_failing(endpoint_id, now)
    if endpoint is None or endpoint.status != EndpointStatus.ENABLED.value:
        return
    if not should_disable(endpoint.failing_since, now):
        return
    endpoint.status = EndpointStatus.DISABLED.value
    endpoint.disabled_at = now
    await webhook_repo.save_endpoint(endpoint, "status", "disabled_at")
    await event_service.record(
        endpoint.programme_id,
        EventType.WEBHOOK_ENDPOINT_DISABLED,
        {
            "version": 1,
            "endpoint": {"id": endpoint.id, "url": endpoint.url},
            "failingSince": endpoint.failing_since.isoformat() if endpoint.failing_since else None,
            "reason": "no successful delivery for 5 days",
        },
        occurred_at=await programme_time(endpoint.programme_id),
    )


# --- the admin's view ---


async def page(
    principal: Principal,
    *,
    endpoint_id: int | None,
    status: DeliveryStatus | None,
    first: int,
    before_id: int | None,
) -> tuple[list[WebhookDelivery], bool]:
    check_page_size(first)
    rows = await webhook_repo.deliveries_page(
        principal.programme_id,
        endpoint_id=endpoint_id,
        status=status.value if status else None,
        before_id=before_id,
        limit=first + 1,
    )
    return rows[:first], len(rows) > first


async def find(principal: Principal, delivery_id: int) -> WebhookDelivery | None:
    return await webhook_repo.get_delivery(principal.programme_id, delivery_id)


async def redeliver(principal: Principal, delivery_id: int) -> WebhookDelivery:
    """Due again now, with a fresh schedule, whatever its state (the same webhook-id)."""
    if not await webhook_repo.requeue(principal.programme_id, [delivery_id], wall_now()):
        raise NotFound("no webhook delivery with this id", field="deliveryId")
    found = await find(principal, delivery_id)
    assert found is not None
    return found


async def replay(principal: Principal, endpoint_id: int, start: datetime, end: datetime) -> int:
    """The endpoint's events that occurred in [start, end) (programme clock) are delivered
    again, or for the first time; at most 10,000. Returns how many were queued."""
    if end <= start:
        raise invalid("to", "must be after `from`")
    endpoint = await webhook_repo.get_endpoint(principal.programme_id, endpoint_id)
    if endpoint is None:
        raise NotFound("no webhook endpoint with this id", field="endpointId")
    event_ids = await webhook_repo.events_between(
        principal.programme_id, start, end, types=endpoint.event_types, limit=REPLAY_MAX
    )
    if not event_ids:
        return 0
    now = wall_now()
    async with in_transaction():
        existing = await webhook_repo.deliveries_for(endpoint.id, event_ids)
        await webhook_repo.requeue(principal.programme_id, existing, now)
        await webhook_repo.add_deliveries(
            [
                {
                    "programme_id": principal.programme_id,
                    "endpoint_id": endpoint.id,
                    "event_id": event_id,
                    "status": DeliveryStatus.PENDING.value,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for event_id in event_ids
            ]
        )
    return len(event_ids)
