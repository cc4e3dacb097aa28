"""Webhook endpoints and deliveries through the API: admins only, secrets shown once, bad input
answered with codes, and nothing of one programme visible to another."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from standardwebhooks import Webhook

from db.models import WebhookEndpoint
from domain.auth import Role
from services.webhooks.worker import Deliverer
from tests.fixtures.receiver import receiver
from tests.fixtures.webhooks import configure, record_events, until_idle

ENDPOINT_FIELDS = "id url description eventTypes status previousSecretExpiresAt"
CREATE = f"""mutation($input: CreateWebhookEndpointInput!) {{ createWebhookEndpoint(input: $input) {{
  __typename
  ... on WebhookEndpointWithSecretSuccess {{ secret endpoint {{ {ENDPOINT_FIELDS} }} }}
  ... on CreateWebhookEndpointError {{ errors {{ field code message }} }} }} }}"""
UPDATE = f"""mutation($input: UpdateWebhookEndpointInput!) {{ updateWebhookEndpoint(input: $input) {{
  __typename
  ... on WebhookEndpointSuccess {{ endpoint {{ {ENDPOINT_FIELDS} }} }}
  ... on UpdateWebhookEndpointError {{ errors {{ field code message }} }} }} }}"""
DELETE = """mutation($input: WebhookEndpointInput!) { deleteWebhookEndpoint(input: $input) {
  __typename
  ... on DeleteWebhookEndpointSuccess { deletedId }
  ... on DeleteWebhookEndpointError { errors { field code message } } } }"""
ROTATE = f"""mutation($input: RotateWebhookSecretInput!) {{ rotateWebhookSecret(input: $input) {{
  __typename
  ... on WebhookEndpointWithSecretSuccess {{ secret endpoint {{ {ENDPOINT_FIELDS} }} }}
  ... on RotateWebhookSecretError {{ errors {{ field code message }} }} }} }}"""
REDELIVER = """mutation($input: RedeliverWebhookInput!) { redeliverWebhook(input: $input) {
  __typename
  ... on WebhookDeliverySuccess { delivery { id status attempts } }
  ... on RedeliverWebhookError { errors { field code message } } } }"""
REPLAY = """mutation($input: ReplayEventsInput!) { replayEvents(input: $input) {
  __typename
  ... on ReplayEventsSuccess { queued }
  ... on ReplayEventsError { errors { field code message } } } }"""
ENDPOINTS = (
    f"""query {{ webhookEndpoints(first: 10) {{ edges {{ node {{ {ENDPOINT_FIELDS} }} }} }} }}"""
)
DELIVERIES = """query($endpointId: ID, $status: WebhookDeliveryStatus) {
  webhookDeliveries(first: 50, endpointId: $endpointId, status: $status) {
    edges { node { id endpointId eventId eventType status attempts statusCode latencyMs
      responseExcerpt error lastAttemptAt } } } }"""


@pytest.fixture(autouse=True)
async def clean_endpoints() -> AsyncIterator[None]:
    yield
    await WebhookEndpoint.all().delete()


@pytest.fixture
async def admin(programme, make_key) -> str:
    return await make_key(programme, Role.ADMIN)


async def create(gql, key: str, **input: Any) -> dict[str, Any]:
    variables = {
        "input": {"idempotencyKey": uuid.uuid4().hex, "url": "https://shop.example/hooks", **input}
    }
    body = await gql(CREATE, variables, auth=key)
    assert "errors" not in body, body
    return body["data"]["createWebhookEndpoint"]


async def run(gql, document: str, field: str, key: str, **input: Any) -> dict[str, Any]:
    body = await gql(document, {"input": input}, auth=key)
    assert "errors" not in body, body
    return body["data"][field]


async def test_an_admin_creates_an_endpoint_and_sees_its_secret_once(gql, admin):
    # when
    result = await create(
        gql, admin, eventTypes=["tier.changed", "points.expiring"], description="CRM"
    )
    # then
    assert result["__typename"] == "WebhookEndpointWithSecretSuccess", result
    assert result["secret"].startswith("whsec_")
    endpoint = result["endpoint"]
    assert (endpoint["url"], endpoint["status"], endpoint["description"]) == (
        "https://shop.example/hooks",
        "ENABLED",
        "CRM",
    )
    assert endpoint["eventTypes"] == ["tier.changed", "points.expiring"]
    # and the list shows the endpoint but has no field that could carry the secret
    listed = await gql(ENDPOINTS, auth=admin)
    assert [e["node"]["id"] for e in listed["data"]["webhookEndpoints"]["edges"]] == [
        endpoint["id"]
    ]
    assert result["secret"] not in str(listed)


@pytest.mark.parametrize(
    ("input", "field"),
    [
        ({"url": "ftp://shop.example/x"}, "url"),
        ({"url": "https://user:pw@shop.example/x"}, "url"),
        ({"eventTypes": ["points.earned", "no.such_type"]}, "eventTypes"),
        ({"description": "x" * 501}, "description"),
    ],
)
async def test_bad_input_is_refused_with_a_code_and_creates_nothing(gql, admin, input, field):
    result = await create(gql, admin, **input)
    assert result["__typename"] == "CreateWebhookEndpointError"
    assert [(e["field"], e["code"]) for e in result["errors"]] == [(field, "VALIDATION")]
    listed = await gql(ENDPOINTS, auth=admin)
    assert listed["data"]["webhookEndpoints"]["edges"] == []


async def test_production_refuses_http_and_private_addresses(production_gql, programme, make_key):
    admin = await make_key(programme, Role.ADMIN)
    for url in (
        "http://shop.example/hooks",
        "https://127.0.0.1/x",
        "https://169.254.169.254/x",
        "https://localhost/x",
    ):
        result = await create(production_gql, admin, url=url)
        assert result["__typename"] == "CreateWebhookEndpointError", (url, result)
        assert result["errors"][0]["field"] == "url"
    # restore the development configuration the other tests expect
    configure()


async def test_the_same_idempotency_key_creates_one_endpoint(gql, admin):
    key = uuid.uuid4().hex
    first = await create(gql, admin, idempotencyKey=key)
    again = await create(gql, admin, idempotencyKey=key)
    assert first == again
    listed = await gql(ENDPOINTS, auth=admin)
    assert len(listed["data"]["webhookEndpoints"]["edges"]) == 1


async def test_update_rotate_and_delete(gql, admin):
    created = await create(gql, admin)
    endpoint_id = created["endpoint"]["id"]
    # update: only what is given changes
    updated = await run(
        gql,
        UPDATE,
        "updateWebhookEndpoint",
        admin,
        endpointId=endpoint_id,
        enabled=False,
        eventTypes=["tier.changed"],
    )
    assert updated["__typename"] == "WebhookEndpointSuccess", updated
    assert (updated["endpoint"]["status"], updated["endpoint"]["eventTypes"]) == (
        "DISABLED",
        ["tier.changed"],
    )
    assert updated["endpoint"]["url"] == "https://shop.example/hooks"
    # rotate: a new secret, the old one still valid for a day
    rotated = await run(
        gql, ROTATE, "rotateWebhookSecret", admin, endpointId=endpoint_id, idempotencyKey="r1"
    )
    assert rotated["__typename"] == "WebhookEndpointWithSecretSuccess", rotated
    assert rotated["secret"] != created["secret"]
    assert rotated["endpoint"]["previousSecretExpiresAt"] is not None
    # delete
    deleted = await run(gql, DELETE, "deleteWebhookEndpoint", admin, endpointId=endpoint_id)
    assert deleted == {"__typename": "DeleteWebhookEndpointSuccess", "deletedId": endpoint_id}
    again = await run(gql, DELETE, "deleteWebhookEndpoint", admin, endpointId=endpoint_id)
    assert [e["code"] for e in again["errors"]] == ["NOT_FOUND"]


async def test_a_storefront_key_may_not_manage_endpoints(gql, programme, make_key):
    storefront = await make_key(programme, Role.STOREFRONT)
    body = await gql(
        CREATE, {"input": {"url": "https://x.example", "idempotencyKey": "k"}}, auth=storefront
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = await gql(DELIVERIES, auth=storefront)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_deliveries_are_listed_redelivered_and_replayed(gql, admin, programme):
    configure()
    with receiver() as rx:
        created = await create(gql, admin, url=rx.url)
        endpoint_id = created["endpoint"]["id"]
        await record_events(programme, 2)
        await until_idle(Deliverer(configure()))
        listed = await gql(DELIVERIES, {"endpointId": endpoint_id}, auth=admin)
        nodes = [e["node"] for e in listed["data"]["webhookDeliveries"]["edges"]]
        assert [
            (n["status"], n["attempts"], n["statusCode"], n["responseExcerpt"]) for n in nodes
        ] == [("SUCCEEDED", 1, 200, "ok")] * 2
        assert all(n["endpointId"] == endpoint_id and n["latencyMs"] is not None for n in nodes)
        # redeliver one: the same webhook-id arrives again
        again = await run(gql, REDELIVER, "redeliverWebhook", admin, deliveryId=nodes[0]["id"])
        assert again["delivery"]["status"] == "PENDING", again
        await until_idle(Deliverer(configure()))
        assert rx.ids().count(nodes[0]["eventId"]) == 2
        # replay a window that holds both events
        replayed = await run(
            gql,
            REPLAY,
            "replayEvents",
            admin,
            endpointId=endpoint_id,
            **{"from": "2000-01-01T00:00:00Z", "to": "2099-01-01T00:00:00Z"},
        )
        assert replayed == {"__typename": "ReplayEventsSuccess", "queued": 2}
        await until_idle(Deliverer(configure()))
        assert len(rx.received) == 5
        for got in rx.received:
            Webhook(created["secret"]).verify(got.body, got.headers)


async def test_programme_a_s_admin_cannot_see_or_touch_b_s_webhooks(gql, make_programme, make_key):
    a, b = await make_programme(), await make_programme()
    admin_a, admin_b = await make_key(a, Role.ADMIN), await make_key(b, Role.ADMIN)
    configure()
    with receiver() as rx:
        b_endpoint = (await create(gql, admin_b, url=rx.url))["endpoint"]["id"]
        await record_events(b, 1)
        await until_idle(Deliverer(configure()))
        b_delivery = (await gql(DELIVERIES, auth=admin_b))["data"]["webhookDeliveries"]["edges"][0][
            "node"
        ]["id"]
        # A sees none of B's endpoints or deliveries, even by id
        assert (await gql(ENDPOINTS, auth=admin_a))["data"]["webhookEndpoints"]["edges"] == []
        assert (await gql(DELIVERIES, auth=admin_a))["data"]["webhookDeliveries"]["edges"] == []
        assert (await gql(DELIVERIES, {"endpointId": b_endpoint}, auth=admin_a))["data"][
            "webhookDeliveries"
        ]["edges"] == []
        node = await gql(
            "query($id: ID!) { node(id: $id) { id } }", {"id": b_delivery}, auth=admin_a
        )
        assert node["data"]["node"] is None
        # and can change none of them
        for document, field, input in [
            (
                UPDATE,
                "updateWebhookEndpoint",
                {"endpointId": b_endpoint, "url": "https://evil.example"},
            ),
            (ROTATE, "rotateWebhookSecret", {"endpointId": b_endpoint, "idempotencyKey": "x"}),
            (DELETE, "deleteWebhookEndpoint", {"endpointId": b_endpoint}),
            (REDELIVER, "redeliverWebhook", {"deliveryId": b_delivery}),
            (
                REPLAY,
                "replayEvents",
                {
                    "endpointId": b_endpoint,
                    "from": "2000-01-01T00:00:00Z",
                    "to": "2099-01-01T00:00:00Z",
                },
            ),
        ]:
            result = await run(gql, document, field, admin_a, **input)
            assert [e["code"] for e in result["errors"]] == ["NOT_FOUND"], (field, result)
        still = await gql(ENDPOINTS, auth=admin_b)
        assert [e["node"]["url"] for e in still["data"]["webhookEndpoints"]["edges"]] == [rx.url]
        assert len(rx.received) == 1


async def test_an_id_past_the_column_s_range_is_not_found(gql, admin):
    huge = "V2ViaG9va0VuZHBvaW50Ojk5OTk5OTk5OTk5"  # WebhookEndpoint:99999999999
    for document, field, input in [
        (DELETE, "deleteWebhookEndpoint", {"endpointId": huge}),
        (UPDATE, "updateWebhookEndpoint", {"endpointId": huge, "description": "x"}),
    ]:
        result = await run(gql, document, field, admin, **input)
        assert [e["code"] for e in result["errors"]] == ["NOT_FOUND"], result
    body = await gql(DELIVERIES, {"endpointId": huge}, auth=admin)
    assert body["data"]["webhookDeliveries"]["edges"] == [], body
