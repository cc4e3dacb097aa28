"""`make run` on the embedded default (SQLite) delivers webhooks from the server process itself:
a newcomer sees them without starting a second command."""

from __future__ import annotations

import re
import time

import httpx
from standardwebhooks import Webhook

from tests.fixtures.receiver import receiver
from tests.fixtures.servers import loyalty, loyalty_env, loyalty_server

CREATE = """mutation($url: String!) { createWebhookEndpoint(input: {url: $url,
  idempotencyKey: "k1"}) { __typename ... on WebhookEndpointWithSecretSuccess { secret } } }"""
REGISTER = """mutation { registerMember(input: {externalId: "c-1", displayName: "Ann",
  idempotencyKey: "k2"}) { __typename } }"""


def test_serve_on_sqlite_delivers_webhooks_in_process(tmp_path):
    env = loyalty_env(
        LOYALTY_DATA_DIR=str(tmp_path / "data"),
        LOYALTY_DATABASE_URL=f"sqlite://{tmp_path / 'db.sqlite3'}",
    )
    loyalty(env, "migrate")
    created = loyalty(env, "create-programme", "hooks", "--name", "Hooks")
    key = re.search(r"admin key \(shown once\): (\S+)", created).group(1)  # type: ignore[union-attr]
    headers = {"Authorization": f"Bearer {key}"}
    with receiver() as rx, loyalty_server(env, tmp_path / "server.log") as base:
        # given an endpoint
        answer = httpx.post(
            f"{base}/graphql", json={"query": CREATE, "variables": {"url": rx.url}}, headers=headers
        ).json()
        secret = answer["data"]["createWebhookEndpoint"]["secret"]
        # when a member registers
        done = httpx.post(f"{base}/graphql", json={"query": REGISTER}, headers=headers).json()
        assert done["data"]["registerMember"]["__typename"] == "RegisterMemberSuccess", done
        # then the server itself delivers the event, signed
        deadline = time.monotonic() + 15
        while not rx.received and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(rx.received) == 1, (tmp_path / "server.log").read_text()
        body = Webhook(secret).verify(rx.received[0].body, rx.received[0].headers)
        assert body["type"] == "member.registered"
