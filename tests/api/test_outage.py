"""A database outage is retryable and says so (RELIABILITY 30): a server on a PostgreSQL of the
test's own, stopped in the middle of a mutation, answers 503 with Retry-After and
SERVICE_UNAVAILABLE; once the database is back, the same request with the same idempotency
key is applied exactly once."""

from __future__ import annotations

import asyncio
import re

import asyncpg
import httpx

from tests.fixtures.servers import (
    loyalty,
    loyalty_env,
    loyalty_server,
    needs_postgres_binaries,
    scratch_postgres,
)

REGISTER = """mutation ($e: String!) { registerMember(input: {externalId: $e, displayName: "Ann",
  idempotencyKey: $e}) { __typename } }"""
ADJUST = """mutation { adjustPoints(input: {memberExternalId: "ann", amount: 70, reason: "goodwill",
  idempotencyKey: "adjust-1"}) { __typename ... on TransactionSuccess { transaction { id }
  member { points { available } } } } }"""
BALANCE = '{ member(externalId: "ann") { points { available } } }'


async def wait_for_a_lock_wait(connection: asyncpg.Connection) -> None:
    for _ in range(100):
        waiting = await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        )
        if waiting:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the mutation never waited on the member's row lock")


@needs_postgres_binaries
async def test_a_database_stopped_mid_request_answers_a_retryable_503(tmp_path):
    with scratch_postgres() as pg:
        # given a migrated database, a programme, a member, and a server in production mode
        env = loyalty_env(
            LOYALTY_JWT_SECRET="s" * 40,
            LOYALTY_DATABASE_URL=pg.url,
            LOYALTY_MODE="production",
            LOYALTY_WEBHOOK_KEYS="hTV6SPggFu70yTMS9Jv5TD1v4r5KMbYBkMZlHIju6DU=",
            LOYALTY_DATA_DIR=str(tmp_path / "data"),
        )
        loyalty(env, "migrate")
        created = loyalty(env, "create-programme", "outage", "--name", "Outage")
        key = re.search(r"admin key \(shown once\): (\S+)", created).group(1)  # type: ignore[union-attr]
        headers = {"Authorization": f"Bearer {key}"}
        log = tmp_path / "server.log"
        with loyalty_server(env, log) as base:
            async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:

                async def ask(query: str, **variables: str) -> httpx.Response:
                    return await client.post(
                        "/graphql", json={"query": query, "variables": variables}
                    )

                registered = (await ask(REGISTER, e="ann")).json()
                assert registered["data"]["registerMember"]["__typename"] == "RegisterMemberSuccess"
                # and a transaction of our own holding the member's row, so the mutation waits
                holder = await asyncpg.connect(pg.url.replace("postgres://", "postgresql://"))
                await holder.execute("BEGIN")
                await holder.execute("SELECT 1 FROM members WHERE external_id = 'ann' FOR UPDATE")
                pending = asyncio.create_task(ask(ADJUST))
                await wait_for_a_lock_wait(holder)
                # when the database stops under it
                await asyncio.to_thread(pg.stop)
                response = await pending
                # then the caller is told to retry, and when
                assert response.status_code == 503, response.text
                assert int(response.headers["Retry-After"]) > 0
                [error] = response.json()["errors"]
                assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
                assert "idempotency key" in error["message"]
                # and so is every request while it is down; readiness says so too
                down = await ask(BALANCE)
                assert down.status_code == 503, down.text
                assert down.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
                assert (await client.get("/readyz")).status_code == 503
                # when it is back
                await asyncio.to_thread(pg.start)
                assert (await client.get("/readyz")).status_code == 200
                # then the same mutation with the same key is applied, once
                retried = await ask(ADJUST)
                again = await ask(ADJUST)
                assert retried.status_code == again.status_code == 200, retried.text
                success = retried.json()["data"]["adjustPoints"]
                assert success["__typename"] == "TransactionSuccess", success
                assert success["member"]["points"]["available"] == 70
                assert again.json()["data"]["adjustPoints"]["transaction"] == success["transaction"]
                balance = (await ask(BALANCE)).json()["data"]["member"]["points"]["available"]
                assert balance == 70
        # and the outage was logged as such: one line a request, no traceback, no ERROR
        lines = log.read_text().splitlines()
        ours = [n for n, line in enumerate(lines) if "loyalty.api database unavailable" in line]
        assert ours, lines
        assert not any(lines[n + 1].startswith("Traceback") for n in ours if n + 1 < len(lines))
        assert not any(" ERROR " in line for line in lines), lines
