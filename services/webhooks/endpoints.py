"""Webhook endpoints: an admin creates, changes, deletes them and rotates their secrets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise.transactions import in_transaction

from db.models import WebhookEndpoint
from db.repositories import webhooks as webhook_repo
from domain.auth import Principal, Role
from domain.errors import (
    Collector,
    DomainError,
    ErrorCode,
    NotFound,
    check_page_size,
    invalid,
)
from domain.events import EventType
from domain.idempotency import check_key
from domain.webhooks import (
    ENDPOINTS_MAX,
    ROTATION_OVERLAP,
    EndpointStatus,
    check_description,
    check_event_types,
    check_url,
)
from services.clock import wall_now
from services.idempotency import run_once
from services.partners.access import calling_partner
from services.webhooks import http, secrets
from services.webhooks.config import current

KNOWN_TYPES = frozenset(t.value for t in EventType)


class TooManyEndpoints(DomainError):
    code = ErrorCode.LIMIT_REACHED


@dataclass(frozen=True)
class EndpointWithSecret:
    """An endpoint and its signing secret, which is shown this once."""

    endpoint: WebhookEndpoint
    secret: str


@dataclass(frozen=True)
class EndpointChange:
    url: str | None = None
    event_types: list[str] | None = None
    description: str | None = None
    enabled: bool | None = None


async def _check_address(errors: Collector, url: str) -> None:
    """In production, a host that resolves to a private address is refused now, not only at
    delivery (where it is checked again, on the address actually connected to)."""
    if not current().production or errors.errors:
        return
    try:
        await http.resolve(url, allow_private=False)
    except http.PrivateAddress:
        errors.add("url", "may not point at a private, loopback or link-local address")
    except http.Refused:
        pass  # a name that does not resolve yet may well by the time events come


async def _checked(
    *, url: str | None, event_types: list[str] | None, description: str | None
) -> None:
    errors = Collector()
    if url is not None:
        check_url(errors, url, production=current().production)
        await _check_address(errors, url)
    if event_types is not None:
        check_event_types(errors, event_types, KNOWN_TYPES)
    if description is not None:
        check_description(errors, description)
    errors.raise_if_any()


PARTNER_TYPES = tuple(
    t.value for t in EventType if t.value.startswith(("partner_transfer.", "partner_link."))
)


def owner(principal: Principal) -> int | None:
    """A partner key manages only the partner's own endpoints; an admin key all of them."""
    return principal.partner_id if principal.role is Role.PARTNER else None


def _for_partner(event_types: list[str]) -> list[str]:
    """A partner's endpoint gets its transfers' events: all of them unless it names some."""
    if not event_types:
        return list(PARTNER_TYPES)
    if any(t not in PARTNER_TYPES for t in event_types):
        raise invalid(
            "eventTypes", "a partner's endpoint takes partner_transfer.* and partner_link.* only"
        )
    return event_types


async def create(
    principal: Principal,
    *,
    url: str,
    event_types: list[str],
    description: str,
    idempotency_key: str,
) -> EndpointWithSecret:
    key_errors = Collector()
    check_key(key_errors, idempotency_key)
    key_errors.raise_if_any()
    partner_id = owner(principal)
    if partner_id is not None:
        await calling_partner(principal)  # an active partner
        event_types = _for_partner(event_types)
    await _checked(url=url, event_types=event_types, description=description)
    payload = {"url": url, "eventTypes": event_types, "description": description}

    async def act() -> dict[str, Any]:
        if await webhook_repo.count_endpoints(principal.programme_id) >= ENDPOINTS_MAX:
            raise TooManyEndpoints(f"a programme has at most {ENDPOINTS_MAX} endpoints")
        now = wall_now()
        row = await webhook_repo.create_endpoint(
            programme_id=principal.programme_id,
            url=url,
            event_types=event_types,
            description=description,
            status=EndpointStatus.ENABLED.value,
            secret_sealed=secrets.seal(secrets.new_secret()),
            created_at=now,
            updated_at=now,
            partner_id=partner_id,
        )
        # Only the id is stored with the key: the secret never rests in the clear.
        return {"endpointId": row.id}

    result = await run_once(
        principal,
        key=idempotency_key,
        operation="createWebhookEndpoint",
        payload=payload,
        action=act,
    )
    endpoint = await _find(principal, int(result["endpointId"]))
    return EndpointWithSecret(endpoint, secrets.unseal(endpoint.secret_sealed))


async def _find(principal: Principal, endpoint_id: int) -> WebhookEndpoint:
    endpoint = await webhook_repo.get_endpoint(
        principal.programme_id, endpoint_id, partner_id=owner(principal)
    )
    if endpoint is None:
        raise NotFound("no webhook endpoint with this id", field="endpointId")
    return endpoint


async def update(principal: Principal, endpoint_id: int, change: EndpointChange) -> WebhookEndpoint:
    """Only the fields given change. Enabling a disabled endpoint forgets its failures."""
    await _checked(url=change.url, event_types=change.event_types, description=change.description)
    async with in_transaction():
        endpoint = await webhook_repo.lock_endpoint(
            principal.programme_id, endpoint_id, partner_id=owner(principal)
        )
        if endpoint is None:
            raise NotFound("no webhook endpoint with this id", field="endpointId")
        if change.url is not None:
            endpoint.url = change.url
        if change.event_types is not None:
            endpoint.event_types = change.event_types
        if change.description is not None:
            endpoint.description = change.description
        if change.enabled is True and endpoint.status != EndpointStatus.ENABLED.value:
            endpoint.status = EndpointStatus.ENABLED.value
            endpoint.failing_since = None
            endpoint.disabled_at = None
        elif change.enabled is False and endpoint.status != EndpointStatus.DISABLED.value:
            endpoint.status = EndpointStatus.DISABLED.value
            endpoint.disabled_at = wall_now()
        endpoint.updated_at = wall_now()
        await webhook_repo.save_endpoint(
            endpoint,
            "url",
            "event_types",
            "description",
            "status",
            "failing_since",
            "disabled_at",
            "updated_at",
        )
    return endpoint


async def delete(principal: Principal, endpoint_id: int) -> int:
    """The endpoint and its deliveries; nothing more is sent to it. Returns its id."""
    if not await webhook_repo.delete_endpoint(
        principal.programme_id, endpoint_id, partner_id=owner(principal)
    ):
        raise NotFound("no webhook endpoint with this id", field="endpointId")
    return endpoint_id


async def rotate_secret(
    principal: Principal, endpoint_id: int, *, idempotency_key: str
) -> EndpointWithSecret:
    """A new secret signs from now on; the one it replaces signs as well for 24 hours, so a
    receiver can switch without rejecting a delivery. A retry with the same key answers the
    same secret rather than rotating twice (which would drop the secret receivers hold)."""
    key_errors = Collector()
    check_key(key_errors, idempotency_key)
    key_errors.raise_if_any()

    async def act() -> dict[str, Any]:
        endpoint = await webhook_repo.lock_endpoint(
            principal.programme_id, endpoint_id, partner_id=owner(principal)
        )
        if endpoint is None:
            raise NotFound("no webhook endpoint with this id", field="endpointId")
        now = wall_now()
        endpoint.previous_secret_sealed = endpoint.secret_sealed
        endpoint.previous_secret_until = now + ROTATION_OVERLAP
        endpoint.secret_sealed = secrets.seal(secrets.new_secret())
        endpoint.updated_at = now
        await webhook_repo.save_endpoint(
            endpoint,
            "previous_secret_sealed",
            "previous_secret_until",
            "secret_sealed",
            "updated_at",
        )
        return {"endpointId": endpoint.id}

    result = await run_once(
        principal,
        key=idempotency_key,
        operation="rotateWebhookSecret",
        payload={"endpointId": endpoint_id},
        action=act,
    )
    endpoint = await _find(principal, int(result["endpointId"]))
    return EndpointWithSecret(endpoint, secrets.unseal(endpoint.secret_sealed))


async def page(
    principal: Principal, *, first: int, after_id: int | None
) -> tuple[list[WebhookEndpoint], bool]:
    check_page_size(first)
    rows = await webhook_repo.endpoints_page(
        principal.programme_id, after_id=after_id, limit=first + 1, partner_id=owner(principal)
    )
    return rows[:first], len(rows) > first


async def find(principal: Principal, endpoint_id: int) -> WebhookEndpoint | None:
    return await webhook_repo.get_endpoint(
        principal.programme_id, endpoint_id, partner_id=owner(principal)
    )
