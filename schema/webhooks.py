"""Webhooks: endpoints an admin registers, and the deliveries of events to them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry import relay

from db.models import WebhookDelivery as DeliveryRow
from db.models import WebhookEndpoint as EndpointRow
from domain import webhooks as domain_webhooks
from resolvers import webhooks as resolvers
from resolvers.ids import BIGINT_MAX, INT4_MAX
from schema.errors import error_type, result_of, result_union
from schema.pagination import Edge, page_info
from schema.points import node_id
from services.webhooks.endpoints import EndpointChange, EndpointWithSecret

WebhookEndpointStatus = strawberry.enum(
    domain_webhooks.EndpointStatus,
    name="WebhookEndpointStatus",
    description="ENABLED endpoints receive events; DISABLED ones (by an admin, or after 5 days "
    "of failures) do not until enabled again.",
)
WebhookDeliveryStatus = strawberry.enum(
    domain_webhooks.DeliveryStatus,
    name="WebhookDeliveryStatus",
    description="PENDING: due or being retried; SUCCEEDED: a 2xx came back; FAILED: every "
    "attempt of the retry schedule failed.",
)


@strawberry.type(
    description="A URL a programme's events are pushed to, signed per Standard Webhooks."
)
class WebhookEndpoint(relay.Node):
    id: relay.NodeID[int]
    url: str = strawberry.field(description="Where events are POSTed.")
    description: str = strawberry.field(description="The admin's note on what it is for.")
    event_types: list[str] = strawberry.field(
        description="The event types it receives; empty: every type."
    )
    status: WebhookEndpointStatus = strawberry.field(description="Whether it receives events.")
    failing_since: datetime | None = strawberry.field(
        description="Since when every attempt has failed; null after a success."
    )
    disabled_at: datetime | None = strawberry.field(description="When it was disabled.")
    previous_secret_expires_at: datetime | None = strawberry.field(
        description="After a rotation, the old secret signs too until this moment."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it was last changed.")

    @classmethod
    def from_row(cls, row: EndpointRow) -> WebhookEndpoint:
        return cls(
            id=row.id,
            url=row.url,
            description=row.description,
            event_types=list(row.event_types),
            status=domain_webhooks.EndpointStatus(row.status),
            failing_since=row.failing_since,
            disabled_at=row.disabled_at,
            previous_secret_expires_at=row.previous_secret_until,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @classmethod
    async def resolve_nodes(
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[WebhookEndpoint | None]:
        ids = [int(i) for i in node_ids]
        found = await resolvers.endpoints_by_ids(info, ids)
        return [cls.from_row(found[i]) if i in found else None for i in ids]


@strawberry.type(description="One event sent to one endpoint, and how its last attempt went.")
class WebhookDelivery(relay.Node):
    max_id = BIGINT_MAX

    id: relay.NodeID[int]
    endpoint_id: relay.GlobalID = strawberry.field(description="The endpoint it goes to.")
    event_id: str = strawberry.field(description="The event's id, sent as `webhook-id`.")
    event_type: str = strawberry.field(description="The event's type.")
    status: WebhookDeliveryStatus = strawberry.field(description="Where it stands.")
    attempts: int = strawberry.field(description="Attempts made so far.")
    next_attempt_at: datetime | None = strawberry.field(
        description="When it is tried next (PENDING only)."
    )
    last_attempt_at: datetime | None = strawberry.field(description="When it was last tried.")
    status_code: int | None = strawberry.field(
        description="The HTTP status of the last attempt; null if none came back."
    )
    latency_ms: int | None = strawberry.field(description="Milliseconds the last attempt took.")
    response_excerpt: str = strawberry.field(
        description="At most 1 kB of the receiver's last answer."
    )
    error: str | None = strawberry.field(
        description="Why the last attempt got no answer (timeout, refused address, ...)."
    )
    created_at: datetime = strawberry.field(description="When it was queued.")

    @classmethod
    def from_row(cls, row: DeliveryRow) -> WebhookDelivery:
        return cls(
            id=row.id,
            endpoint_id=relay.GlobalID("WebhookEndpoint", str(row.endpoint_id)),
            event_id=str(row.event.event_id),
            event_type=row.event.type,
            status=domain_webhooks.DeliveryStatus(row.status),
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at
            if row.status == domain_webhooks.DeliveryStatus.PENDING
            else None,
            last_attempt_at=row.last_attempt_at,
            status_code=row.last_status_code,
            latency_ms=row.last_latency_ms,
            response_excerpt=row.last_response,
            error=row.last_error,
            created_at=row.created_at,
        )

    @classmethod
    async def resolve_nodes(
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[WebhookDelivery | None]:
        ids = [int(i) for i in node_ids]
        found = await resolvers.deliveries_by_ids(info, ids)
        for row in found.values():
            await row.fetch_related("event")
        return [cls.from_row(found[i]) if i in found else None for i in ids]


@strawberry.type(description="Webhook endpoints, oldest first.")
class WebhookEndpointConnection(relay.Connection[WebhookEndpoint]):
    pass


@strawberry.type(description="Webhook deliveries, newest first.")
class WebhookDeliveryConnection(relay.Connection[WebhookDelivery]):
    pass


@strawberry.input(description="A new endpoint.")
class CreateWebhookEndpointInput:
    url: str = strawberry.field(
        description="https in production, and not a private, loopback or link-local address."
    )
    event_types: list[str] = strawberry.field(
        default_factory=list, description="Event types to send, e.g. `tier.changed`; empty: all."
    )
    description: str = strawberry.field(default="", description="A note for admins.")
    idempotency_key: str = strawberry.field(description="A retry with it creates nothing more.")


@strawberry.input(description="What to change; fields left out stay as they are.")
class UpdateWebhookEndpointInput:
    endpoint_id: relay.GlobalID = strawberry.field(description="The endpoint.")
    url: str | None = strawberry.field(default=None, description="A new URL.")
    event_types: list[str] | None = strawberry.field(
        default=None, description="New event types; empty: all."
    )
    description: str | None = strawberry.field(default=None, description="A new note.")
    enabled: bool | None = strawberry.field(
        default=None, description="Enable (forgetting past failures) or disable it."
    )


@strawberry.input(description="An endpoint to act on.")
class WebhookEndpointInput:
    endpoint_id: relay.GlobalID = strawberry.field(description="The endpoint.")


@strawberry.input(description="An endpoint whose signing secret to replace.")
class RotateWebhookSecretInput:
    endpoint_id: relay.GlobalID = strawberry.field(description="The endpoint.")
    idempotency_key: str = strawberry.field(
        description="A retry with it answers the same new secret instead of rotating again."
    )


@strawberry.input(description="A delivery to send again.")
class RedeliverWebhookInput:
    delivery_id: relay.GlobalID = strawberry.field(description="The delivery.")


@strawberry.input(description="Events to send an endpoint again, by when they occurred.")
class ReplayEventsInput:
    endpoint_id: relay.GlobalID = strawberry.field(description="The endpoint.")
    from_: datetime = strawberry.field(
        name="from", description="From this moment (programme clock), inclusive."
    )
    to: datetime = strawberry.field(description="Until this moment, exclusive.")


@strawberry.type(description="The endpoint, with its signing secret: shown this once.")
class WebhookEndpointWithSecretSuccess:
    endpoint: WebhookEndpoint = strawberry.field(description="The endpoint.")
    secret: str = strawberry.field(
        description="`whsec_` + base64: the key receivers verify signatures with. Keep it; "
        "no query shows it again."
    )


@strawberry.type(description="The endpoint as it is now.")
class WebhookEndpointSuccess:
    endpoint: WebhookEndpoint = strawberry.field(description="The endpoint.")


@strawberry.type(description="The endpoint is gone, with its deliveries.")
class DeleteWebhookEndpointSuccess:
    deleted_id: relay.GlobalID = strawberry.field(description="The deleted endpoint's id.")


@strawberry.type(description="The delivery, due again now.")
class WebhookDeliverySuccess:
    delivery: WebhookDelivery = strawberry.field(description="The delivery.")


@strawberry.type(description="How many events were queued for the endpoint.")
class ReplayEventsSuccess:
    queued: int = strawberry.field(description="Events queued (at most 10,000).")


CreateWebhookEndpointError = error_type("CreateWebhookEndpointError")
UpdateWebhookEndpointError = error_type("UpdateWebhookEndpointError")
DeleteWebhookEndpointError = error_type("DeleteWebhookEndpointError")
RotateWebhookSecretError = error_type("RotateWebhookSecretError")
RedeliverWebhookError = error_type("RedeliverWebhookError")
ReplayEventsError = error_type("ReplayEventsError")

CreateWebhookEndpointResult = result_union(
    "CreateWebhookEndpointResult", WebhookEndpointWithSecretSuccess, CreateWebhookEndpointError
)
UpdateWebhookEndpointResult = result_union(
    "UpdateWebhookEndpointResult", WebhookEndpointSuccess, UpdateWebhookEndpointError
)
DeleteWebhookEndpointResult = result_union(
    "DeleteWebhookEndpointResult", DeleteWebhookEndpointSuccess, DeleteWebhookEndpointError
)
RotateWebhookSecretResult = result_union(
    "RotateWebhookSecretResult", WebhookEndpointWithSecretSuccess, RotateWebhookSecretError
)
RedeliverWebhookResult = result_union(
    "RedeliverWebhookResult", WebhookDeliverySuccess, RedeliverWebhookError
)
ReplayEventsResult = result_union("ReplayEventsResult", ReplayEventsSuccess, ReplayEventsError)


def _endpoint_id(value: relay.GlobalID) -> int:
    """Endpoint ids are 32-bit: a larger one names no endpoint (0 matches no row), rather
    than reaching the database as a number its column cannot compare with."""
    found = node_id(value, "WebhookEndpoint", "endpointId")
    return found if found <= INT4_MAX else 0


def _with_secret(found: EndpointWithSecret) -> WebhookEndpointWithSecretSuccess:
    return WebhookEndpointWithSecretSuccess(
        endpoint=WebhookEndpoint.from_row(found.endpoint), secret=found.secret
    )


@strawberry.type
class WebhookQuery:
    @strawberry.field(description="Admin: the programme's webhook endpoints.")
    async def webhook_endpoints(
        self,
        info: strawberry.Info,
        first: Annotated[int, strawberry.argument(description="How many, 1-100.")],
        after: Annotated[str | None, strawberry.argument(description="A cursor.")] = None,
    ) -> WebhookEndpointConnection:
        rows, has_next = await resolvers.endpoints_page(info, first, after)
        edges = [Edge(WebhookEndpoint.from_row(r), r, resolvers.endpoint_cursor) for r in rows]
        return WebhookEndpointConnection(edges=edges, page_info=page_info(edges, has_next, after))

    @strawberry.field(description="Admin: deliveries, newest first, with their last attempt.")
    async def webhook_deliveries(
        self,
        info: strawberry.Info,
        first: Annotated[int, strawberry.argument(description="How many, 1-100.")],
        endpoint_id: Annotated[
            relay.GlobalID | None, strawberry.argument(description="Only this endpoint's.")
        ] = None,
        status: Annotated[
            WebhookDeliveryStatus | None,
            strawberry.argument(description="Only those in this state."),
        ] = None,
        after: Annotated[str | None, strawberry.argument(description="A cursor.")] = None,
    ) -> WebhookDeliveryConnection:
        rows, has_next = await resolvers.deliveries_page(
            info,
            endpoint_id=_endpoint_id(endpoint_id) if endpoint_id else None,
            status=domain_webhooks.DeliveryStatus(status) if status else None,
            first=first,
            after=after,
        )
        edges = [Edge(WebhookDelivery.from_row(r), r, resolvers.delivery_cursor) for r in rows]
        return WebhookDeliveryConnection(edges=edges, page_info=page_info(edges, has_next, after))


@strawberry.type
class WebhookMutation:
    @strawberry.mutation(
        description="Admin: a new webhook endpoint; the answer carries its signing secret once."
    )
    async def create_webhook_endpoint(
        self, info: strawberry.Info, input: CreateWebhookEndpointInput
    ) -> CreateWebhookEndpointResult:
        call = resolvers.create_endpoint(
            info,
            url=input.url,
            event_types=input.event_types,
            description=input.description,
            idempotency_key=input.idempotency_key,
        )
        return await result_of(call, _with_secret, CreateWebhookEndpointError)

    @strawberry.mutation(description="Admin: change an endpoint's URL, types, note or state.")
    async def update_webhook_endpoint(
        self, info: strawberry.Info, input: UpdateWebhookEndpointInput
    ) -> UpdateWebhookEndpointResult:
        change = EndpointChange(
            url=input.url,
            event_types=input.event_types,
            description=input.description,
            enabled=input.enabled,
        )
        call = resolvers.update_endpoint(info, _endpoint_id(input.endpoint_id), change)
        return await result_of(
            call,
            lambda row: WebhookEndpointSuccess(endpoint=WebhookEndpoint.from_row(row)),
            UpdateWebhookEndpointError,
        )

    @strawberry.mutation(description="Admin: delete an endpoint; nothing more is sent to it.")
    async def delete_webhook_endpoint(
        self, info: strawberry.Info, input: WebhookEndpointInput
    ) -> DeleteWebhookEndpointResult:
        call = resolvers.delete_endpoint(info, _endpoint_id(input.endpoint_id))
        return await result_of(
            call,
            lambda i: DeleteWebhookEndpointSuccess(
                deleted_id=relay.GlobalID("WebhookEndpoint", str(i))
            ),
            DeleteWebhookEndpointError,
        )

    @strawberry.mutation(
        description="Admin: a new signing secret (shown once); the old one also signs for 24 h."
    )
    async def rotate_webhook_secret(
        self, info: strawberry.Info, input: RotateWebhookSecretInput
    ) -> RotateWebhookSecretResult:
        call = resolvers.rotate_secret(
            info, _endpoint_id(input.endpoint_id), idempotency_key=input.idempotency_key
        )
        return await result_of(call, _with_secret, RotateWebhookSecretError)

    @strawberry.mutation(description="Admin: send a delivery again now, on a fresh schedule.")
    async def redeliver_webhook(
        self, info: strawberry.Info, input: RedeliverWebhookInput
    ) -> RedeliverWebhookResult:
        delivery_id = node_id(input.delivery_id, "WebhookDelivery", "deliveryId")
        call = resolvers.redeliver(info, delivery_id)

        async def with_event() -> DeliveryRow:
            row = await call
            await row.fetch_related("event")
            return row

        return await result_of(
            with_event(),
            lambda row: WebhookDeliverySuccess(delivery=WebhookDelivery.from_row(row)),
            RedeliverWebhookError,
        )

    @strawberry.mutation(
        description="Admin: send an endpoint the events that occurred between two moments again."
    )
    async def replay_events(
        self, info: strawberry.Info, input: ReplayEventsInput
    ) -> ReplayEventsResult:
        call = resolvers.replay(info, _endpoint_id(input.endpoint_id), input.from_, input.to)
        return await result_of(call, lambda n: ReplayEventsSuccess(queued=n), ReplayEventsError)
