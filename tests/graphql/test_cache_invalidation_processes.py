"""Issue 16: two real server processes on one PostgreSQL and one Redis, each keeping keys,
programme rows and tiers in its own memory. A key revoked through one is refused by the other
within a second; a programme or tier change made through one is seen by the other within a
second (the local entries live five seconds, so only the published invalidation can do it)."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from db import invalidation
from domain.auth import Role
from services import keys as key_service
from tests.conftest import TEST_REDIS_URL, needs_postgres, needs_redis
from tests.graphql.coupons.helpers import global_id
from tests.graphql.test_two_processes import RENAME, ask, server

CODE = "{ programme { code } }"
NOW = "{ programme { now } }"
TIERS = "{ programme { tiers { code name } } }"
REVOKE = """mutation ($id: ID!) { revokeApiKey(input: {id: $id}) { __typename } }"""
ADVANCE = """mutation ($k: String!) { advanceTestClock(input: {days: 2, idempotencyKey: $k})
  { __typename } }"""


def post(base: str, key: str, query: str) -> dict:
    response = httpx.post(
        f"{base}/graphql",
        json={"query": query},
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


def key_lookups(base: str) -> float:
    """Lookups of the shared (Redis) key cache this process has made, hits and misses."""
    text = httpx.get(f"{base}/metrics", timeout=5).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("loyalty_cache_lookups_total{") and 'cache="keys"' in line
    )


def within_a_second(check: Callable[[], bool]) -> float:
    """Seconds until `check()` holds; fails after one."""
    began = time.monotonic()
    while not check():
        assert time.monotonic() - began < 1.0, "not within a second"
        time.sleep(0.01)
    return time.monotonic() - began


@needs_postgres
@needs_redis
async def test_a_key_revoked_through_one_process_is_refused_by_the_other_within_a_second(
    programme, make_key, tmp_path
):
    admin = await make_key(programme, Role.ADMIN)
    target = await key_service.create_key(programme.id, Role.STOREFRONT, label="two processes")
    with (
        server(TEST_REDIS_URL, tmp_path, "one") as (one, _),
        server(TEST_REDIS_URL, tmp_path, "two") as (two, _),
    ):
        # given both processes keep the key in memory
        for base in (one, two):
            for _ in range(2):
                assert ask(base, target.secret, CODE)["programme"]["code"] == programme.code
        lookups = key_lookups(two)
        assert lookups >= 1  # the first request asked the shared cache
        for _ in range(5):
            ask(two, target.secret, CODE)
        assert key_lookups(two) == lookups  # answered without asking Redis
        # when it is revoked through process one
        revoked = ask(one, admin, REVOKE, id=global_id("ApiKey", target.id))
        assert revoked["revokeApiKey"]["__typename"] == "RevokeApiKeySuccess"

        # then process two refuses it within a second (its entry would otherwise live 5 s)
        def refused() -> bool:
            errors = post(two, target.secret, CODE).get("errors") or [{}]
            return errors[0].get("extensions", {}).get("code") == "UNAUTHENTICATED"

        within_a_second(refused)
        assert invalidation.TTL_SECONDS > 1
        assert post(one, target.secret, CODE)["errors"][0]["extensions"]["code"] == (
            "UNAUTHENTICATED"
        )


@needs_postgres
@needs_redis
async def test_a_programme_or_tier_change_through_one_process_is_seen_by_the_other_within_a_second(
    programme, make_key, tmp_path
):
    key = await make_key(programme, Role.ADMIN)
    with (
        server(TEST_REDIS_URL, tmp_path, "one") as (one, _),
        server(TEST_REDIS_URL, tmp_path, "two") as (two, _),
    ):
        for base in (one, two):
            ask(base, key, TIERS)
            ask(base, key, NOW)
        before = ask(two, key, NOW)["programme"]["now"]
        # a tier renamed through one
        ask(one, key, RENAME, n="Argent", k="processes-rename")
        within_a_second(lambda: ask(two, key, TIERS)["programme"]["tiers"][1]["name"] == "Argent")
        # the programme's row changed through one (its test clock)
        moved = ask(one, key, ADVANCE, k="processes-clock")
        assert moved["advanceTestClock"]["__typename"] == "AdvanceTestClockSuccess"
        within_a_second(lambda: ask(two, key, NOW)["programme"]["now"] > before)
