"""Point 7, last sentence: a partner registers its own webhook endpoint with its key; it
receives only the events about that partner's transfers, and it manages only its own."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from db.models import WebhookEndpoint
from services.webhooks.worker import Deliverer
from tests.fixtures.receiver import receiver
from tests.fixtures.webhooks import configure, until_idle
from tests.graphql.partners.documents import CONFIRM
from tests.graphql.partners.helpers import codes, link, partner_with_key
from tests.graphql.partners.test_partner_credits import credit
from tests.graphql.partners.test_partner_transfers_out import answer, send
from tests.graphql.points.helpers import fund
from tests.graphql.test_webhooks import CREATE, DELETE, ENDPOINTS


@pytest.fixture(autouse=True)
async def clean_endpoints() -> AsyncIterator[None]:
    configure()
    yield
    await WebhookEndpoint.all().delete()


async def create(gql, key: str, url: str, **input: Any) -> dict[str, Any]:
    body = await gql(
        CREATE, {"input": {"idempotencyKey": uuid.uuid4().hex, "url": url, **input}}, auth=key
    )
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["createWebhookEndpoint"]
    return result


async def test_a_partners_endpoint_gets_only_its_own_transfers_events(
    gql, programme, keys, make_member
):
    admin, storefront = keys
    sky, sea = await partner_with_key(gql, admin), await partner_with_key(gql, admin)
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 100)
    await link(gql, storefront, sky.code, member, "S-1")
    await link(gql, storefront, sea.code, member, "X-1")
    with receiver() as sky_rx, receiver() as shop_rx:
        mine = await create(gql, sky.key, sky_rx.url)
        shop = await create(gql, admin, shop_rx.url)
        assert mine["__typename"] == "WebhookEndpointWithSecretSuccess", mine
        assert mine["endpoint"]["eventTypes"] == [
            "partner_transfer.requested",
            "partner_transfer.completed",
            "partner_transfer.failed",
            "partner_transfer.reversed",
            "partner_link.created",
            "partner_link.removed",
        ]
        # when both partners move points for the member
        await credit(gql, sky.key, "IN-1", "S-1", 100)
        await credit(gql, sea.key, "IN-1", "X-1", 100)
        out = (await send(gql, storefront, sky.code, member.external_id, 20))["transfer"]["id"]
        await answer(gql, sky.key, CONFIRM, "confirmPartnerTransfer", id=out, partnerReference="R")
        await send(gql, storefront, sea.code, member.external_id, 20)
        await until_idle(Deliverer(configure()))
        # then sky's endpoint heard of sky's transfers only; the shop's endpoint of everything
        heard = [json.loads(r.body) for r in sky_rx.received]
        assert sorted((b["type"], b["data"]["partner"]) for b in heard) == sorted(
            [
                ("partner_link.created", sky.code),  # made before the endpoint, delivered after
                ("partner_transfer.completed", sky.code),
                ("partner_transfer.requested", sky.code),
                ("partner_transfer.completed", sky.code),
            ]
        )
        shop_types = [json.loads(r.body)["type"] for r in shop_rx.received]
        assert shop_types.count("partner_transfer.requested") == 2
        assert "points.transferred_in" in shop_types
        assert shop["__typename"] == "WebhookEndpointWithSecretSuccess"


async def test_a_partner_manages_only_its_own_endpoints(gql, programme, keys):
    admin, _ = keys
    sky, sea = await partner_with_key(gql, admin), await partner_with_key(gql, admin)
    mine = await create(gql, sky.key, "https://sky.example/hooks")
    await create(gql, admin, "https://shop.example/hooks")
    wrong_type = await create(
        gql, sky.key, "https://sky.example/other", eventTypes=["member.updated"]
    )
    listed = await gql(ENDPOINTS, auth=sky.key)
    by_sea = await gql(ENDPOINTS, auth=sea.key)
    by_admin = await gql(ENDPOINTS, auth=admin)
    deleted_by_sea = await gql(
        DELETE, {"input": {"endpointId": mine["endpoint"]["id"]}}, auth=sea.key
    )
    assert codes(wrong_type) == ["VALIDATION"]
    assert [e["node"]["url"] for e in listed["data"]["webhookEndpoints"]["edges"]] == [
        "https://sky.example/hooks"
    ]
    assert by_sea["data"]["webhookEndpoints"]["edges"] == []
    assert len(by_admin["data"]["webhookEndpoints"]["edges"]) == 2
    assert codes(deleted_by_sea["data"]["deleteWebhookEndpoint"]) == ["NOT_FOUND"]
    assert await WebhookEndpoint.filter(programme_id=programme.id).count() == 2
