"""Two real server processes on one PostgreSQL and one Redis (issue 4, point 6): a tier change
made through one is seen through the other on its next request; with Redis gone, requests
still succeed, and the fallback is logged and counted."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from domain.auth import Role
from tests.conftest import DATABASE_URL, TEST_REDIS_URL, needs_postgres, needs_redis
from tests.fixtures.servers import PROJECT, free_port, wait_for_health

TIERS = "{ programme { tiers { code name } } }"
RENAME = """mutation ($n: String!, $k: String!) { upsertTier(input: {code: "SILVER", name: $n, rank: 1,
  entryThreshold: 10000, idempotencyKey: $k}) { __typename } }"""


@contextmanager
def server(redis_url: str, tmp: Path, name: str) -> Iterator[tuple[str, Path]]:
    port = free_port()
    log = tmp / f"{name}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOYALTY_")}
    env.update(
        LOYALTY_DATABASE_URL=DATABASE_URL,
        LOYALTY_REDIS_URL=redis_url,
        LOYALTY_JWT_SECRET="s" * 40,
        LOYALTY_DATA_DIR=str(tmp / name),
        LOYALTY_LOG_LEVEL="WARNING",
    )
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "api.app:create_app_from_env",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            cwd=PROJECT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for_health(base, log)
            yield base, log
        finally:
            process.terminate()
            process.wait(timeout=10)


def ask(base: str, key: str, query: str, **variables) -> dict:
    response = httpx.post(
        f"{base}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


@needs_postgres
@needs_redis
async def test_a_tier_change_through_one_process_is_seen_through_the_other(
    programme, make_key, tmp_path
):
    key = await make_key(programme, Role.ADMIN)
    with (
        server(TEST_REDIS_URL, tmp_path, "one") as (one, _),
        server(TEST_REDIS_URL, tmp_path, "two") as (two, _),
    ):
        # both warm their view of the tiers
        for base in (one, two):
            assert ask(base, key, TIERS)["programme"]["tiers"][1]["name"] == "Silver"
        # when process one renames a tier
        ask(one, key, RENAME, n="Argent", k="rename-1")
        # then process two's next request shows it
        assert ask(two, key, TIERS)["programme"]["tiers"][1]["name"] == "Argent"
        ask(two, key, RENAME, n="Plata", k="rename-2")
        assert ask(one, key, TIERS)["programme"]["tiers"][1]["name"] == "Plata"


@needs_postgres
@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs the redis-server binary")
async def test_with_redis_gone_requests_succeed_and_the_fallback_is_logged_and_counted(
    programme, make_key, tmp_path
):
    key = await make_key(programme, Role.ADMIN)
    port = free_port()
    redis = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        time.sleep(0.5)
        with server(f"redis://127.0.0.1:{port}/0", tmp_path, "alone") as (base, log):
            assert ask(base, key, TIERS)["programme"]["tiers"][0]["code"] == "BRONZE"
            # when Redis goes away
            redis.terminate()
            redis.wait(timeout=10)
            # then the next requests still answer, from the database
            for _ in range(3):
                assert ask(base, key, TIERS)["programme"]["tiers"][0]["code"] == "BRONZE"
            ask(base, key, RENAME, n="Silber", k="while-down")
            assert ask(base, key, TIERS)["programme"]["tiers"][1]["name"] == "Silber"
            metrics = httpx.get(f"{base}/metrics", timeout=5).text
            fallbacks = [
                line
                for line in metrics.splitlines()
                if line.startswith("loyalty_cache_fallbacks_total{")
            ]
            assert fallbacks and any(float(line.rsplit(" ", 1)[1]) > 0 for line in fallbacks), (
                metrics
            )
            # readiness follows the database only (issue 13, item 10): Redis gone is degraded
            ready = httpx.get(f"{base}/readyz", timeout=5)
            assert ready.status_code == 200
            assert ready.json() == {
                "status": "degraded",
                "checks": {"database": True, "redis": False},
            }
        assert "using the database instead" in log.read_text()
    finally:
        if redis.poll() is None:
            redis.terminate()


REDEEM = """mutation ($e: String!, $k: String!) { redeemPoints(input: {memberExternalId: $e,
  amount: 10, reason: "reward", idempotencyKey: $k}) { __typename
  ... on RedeemPointsError { errors { code } } } }"""


@needs_postgres
@needs_redis
async def test_two_hundred_redemptions_split_across_two_processes_spend_each_point_once(
    programme, make_member, make_key, tmp_path
):
    """Issue 7, point 4: correctness holds across processes, not just inside one."""
    import asyncio
    import uuid
    from collections import Counter

    from db.models import PointTransaction
    from services.points import admin as points_admin
    from tests.fixtures.factories import admin_of
    from tests.fixtures.points import assert_ledger_consistent

    # given one member with 1,000 points
    member = await make_member(programme)
    await points_admin.adjust(
        admin_of(programme),
        member_external_id=member.external_id,
        amount=1_000,
        reason="seed",
        idempotency_key=uuid.uuid4().hex,
    )
    key = await make_key(programme, Role.STOREFRONT)
    with (
        server(TEST_REDIS_URL, tmp_path, "one") as (one, _),
        server(TEST_REDIS_URL, tmp_path, "two") as (two, _),
    ):
        # when 200 redemptions of 10 arrive at once, half through each process
        async with httpx.AsyncClient(timeout=60) as client:

            async def redeem(n: int) -> str:
                response = await client.post(
                    f"{(one, two)[n % 2]}/graphql",
                    json={"query": REDEEM, "variables": {"e": member.external_id, "k": f"r{n}"}},
                    headers={"Authorization": f"Bearer {key}"},
                )
                result = (response.json().get("data") or {}).get("redeemPoints")
                if result is None:
                    return "TOP_LEVEL_ERROR"
                return result["errors"][0]["code"] if "errors" in result else result["__typename"]

            outcomes = Counter(await asyncio.gather(*(redeem(n) for n in range(200))))
    # then exactly 100 succeed, the balance is 0 and the ledger adds up to it
    assert outcomes == {"TransactionSuccess": 100, "INSUFFICIENT_POINTS": 100}
    row = await assert_ledger_consistent(member)
    assert row.points_available == 0
    assert await PointTransaction.filter(member_id=member.id, kind="REDEEM").count() == 100
