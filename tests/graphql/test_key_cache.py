"""Authenticated keys are cached in Redis, and a revocation, from a request's process or from
the `loyalty revoke-key` command, is honoured on the very next request."""

from __future__ import annotations

from db import key_cache
from db.cache import generation_key, get_cache
from db.repositories import keys as key_repo
from domain.auth import Role, hash_api_key
from services import keys as key_service
from tests.conftest import DATABASE_URL, TEST_REDIS_URL, needs_postgres, needs_redis
from tests.fixtures.servers import loyalty_env, run_loyalty

PROGRAMME = "{ programme { id } }"


def count_key_reads(monkeypatch) -> dict[str, int]:
    reads = {"n": 0}
    original = key_repo.find_active

    async def find_active(secret_hash):
        reads["n"] += 1
        return await original(secret_hash)

    monkeypatch.setattr(key_repo, "find_active", find_active)
    return reads


@needs_redis
async def test_a_known_key_is_read_from_the_database_once(gql, programme, monkeypatch):
    issued = await key_service.create_key(programme.id, Role.ADMIN, label="cached")
    reads = count_key_reads(monkeypatch)
    for _ in range(3):
        assert (await gql(PROGRAMME, auth=issued.secret))["data"]["programme"]["id"]
    assert reads["n"] == 1


async def test_without_a_shared_cache_every_request_reads_the_key(gql, programme, monkeypatch):
    # the embedded default: `revoke-key` runs in another process, which no local cache hears
    if get_cache().shared:
        monkeypatch.setattr(key_cache, "get_cache", lambda: type("Local", (), {"shared": False}))
    issued = await key_service.create_key(programme.id, Role.ADMIN, label="uncached")
    reads = count_key_reads(monkeypatch)
    for _ in range(3):
        assert (await gql(PROGRAMME, auth=issued.secret))["data"]["programme"]["id"]
    assert reads["n"] == 3


@needs_redis
async def test_an_unknown_secret_is_not_cached(gql):
    secret = "lk_admin_" + "0" * 64
    body = await gql(PROGRAMME, auth=secret)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await get_cache().get(key_cache._key(hash_api_key(secret))) is None


@needs_redis
async def test_a_key_read_just_before_its_revocation_is_not_trusted_after_it(
    programme, monkeypatch
):
    # given a reader that loads the key row, and the key is revoked before it caches the row
    issued = await key_service.create_key(programme.id, Role.ADMIN, label="raced")
    original = key_repo.find_active

    async def find_then_revoke(secret_hash):
        row = await original(secret_hash)
        monkeypatch.setattr(key_repo, "find_active", original)
        await key_service.revoke_key(programme.id, issued.display_prefix)
        return row

    monkeypatch.setattr(key_repo, "find_active", find_then_revoke)
    # when
    raced = await key_service.authenticate_key(issued.secret)
    # then the racing request got in (it began before the revocation); the next one does not
    assert raced is not None
    assert await key_service.authenticate_key(issued.secret) is None


@needs_redis
async def test_a_revocation_holds_when_redis_later_loses_the_generation(gql, programme):
    # given a cached key, revoked
    issued = await key_service.create_key(programme.id, Role.ADMIN, label="evicted")
    assert (await gql(PROGRAMME, auth=issued.secret))["data"]["programme"]["id"]
    await key_service.revoke_key(programme.id, issued.display_prefix)
    # when Redis drops the generation counter (evicted under memory pressure, a failover)
    entry = key_cache._key(hash_api_key(issued.secret))
    await get_cache().delete(generation_key(entry))
    # then
    body = await gql(PROGRAMME, auth=issued.secret)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@needs_postgres
@needs_redis
async def test_a_key_revoked_by_the_command_line_is_refused_on_the_next_request(
    gql, programme, tmp_path
):
    # given a key the servers have cached
    issued = await key_service.create_key(programme.id, Role.STOREFRONT, label="cli")
    for _ in range(2):
        assert (await gql(PROGRAMME, auth=issued.secret))["data"]["programme"]["id"]
    # when an operator revokes it with the command line (its own process)
    env = loyalty_env(
        LOYALTY_DATABASE_URL=DATABASE_URL,
        LOYALTY_REDIS_URL=TEST_REDIS_URL or "",
        LOYALTY_DATA_DIR=str(tmp_path),
    )
    revoked = run_loyalty(env, "revoke-key", programme.code, issued.display_prefix)
    assert revoked.returncode == 0, revoked.stderr
    # then
    body = await gql(PROGRAMME, auth=issued.secret)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
