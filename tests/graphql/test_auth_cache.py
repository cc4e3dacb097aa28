"""Issue 16: a warm request reads its key, programme and tiers (and a member token's erased
check) from this process, with no round trip to PostgreSQL or Redis, while the process listens
for invalidations; writes are published to it, and a lost subscription drops what it kept."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from db import invalidation
from domain.auth import Role
from tests.conftest import needs_redis
from tests.fixtures.servers import free_port
from tests.graphql.test_auth import token_for
from tests.graphql.test_privacy import ERASE, erase_input
from tests.graphql.test_query_counts import counting_statements

WARM = "{ programme { code now tiers { code benefits { code } } } }"
VIEWER = "{ viewer { externalId } }"
TIERS = "{ programme { tiers { code name } } }"
RENAME = """mutation ($n: String!, $k: String!) { upsertTier(input: {code: "SILVER", name: $n, rank: 1,
  entryThreshold: 10000, idempotencyKey: $k}) { __typename } }"""


@contextmanager
def counting_redis() -> Iterator[dict[str, int]]:
    """Every command any Redis client of this process sends, pipelines included (the
    subscriber's own connection is a PubSub, whose once-a-second ping is not a request's)."""
    counted = {"n": 0}
    command, execute = Redis.execute_command, Pipeline.execute

    async def counted_command(self, *args, **kwargs):
        counted["n"] += 1
        return await command(self, *args, **kwargs)

    async def counted_execute(self, *args, **kwargs):
        counted["n"] += len(self.command_stack)
        return await execute(self, *args, **kwargs)

    Redis.execute_command = counted_command  # type: ignore[method-assign]
    Pipeline.execute = counted_execute  # type: ignore[method-assign]
    try:
        yield counted
    finally:
        Redis.execute_command = command  # type: ignore[method-assign]
        Pipeline.execute = execute  # type: ignore[method-assign]


@needs_redis
async def test_a_warm_request_reads_key_programme_and_tiers_with_no_round_trip(
    gql, programme, make_key, listening
):
    key = await make_key(programme, Role.STOREFRONT)
    await gql(WARM, auth=key)  # warms this process's entries
    with counting_statements() as sql, counting_redis() as redis:
        body = await gql(WARM, auth=key)
    assert body["data"]["programme"]["tiers"][0]["code"] == "BRONZE"
    assert (sql["n"], redis["n"]) == (0, 0)


@needs_redis
async def test_without_the_subscription_the_same_request_goes_to_redis_and_postgres(
    gql, programme, make_key
):
    # the layer is used only while this process hears invalidations: here it does not
    key = await make_key(programme, Role.STOREFRONT)
    await gql(WARM, auth=key)
    with counting_statements() as sql, counting_redis() as redis:
        await gql(WARM, auth=key)
    assert sql["n"] >= 1  # the programme row
    assert redis["n"] >= 2  # the key's and the tiers' shared entries


@needs_redis
async def test_a_warm_member_token_request_does_not_read_the_member_row(
    gql, programme, make_member, make_key, listening
):
    member = await make_member(programme)
    token = await token_for(gql, await make_key(programme, Role.STOREFRONT), member.external_id)
    assert (await gql(VIEWER, auth=token))["data"]["viewer"]["externalId"] == member.external_id
    await gql("{ programme { code } }", auth=token)  # and the programme row
    with counting_statements() as sql:
        body = await gql("{ programme { code } }", auth=token)
    assert body["data"]["programme"]["code"] == programme.code
    assert sql["n"] == 0


@needs_redis
async def test_an_erased_member_s_cached_token_is_refused_at_once(
    gql, programme, make_member, make_key, listening
):
    member = await make_member(programme)
    admin = await make_key(programme, Role.ADMIN)
    token = await token_for(gql, await make_key(programme, Role.STOREFRONT), member.external_id)
    assert (await gql(VIEWER, auth=token))["data"]["viewer"]  # cached as active
    erased = await gql(ERASE, {"input": erase_input(member.external_id)}, auth=admin)
    assert erased["data"]["eraseMember"]["__typename"] == "EraseMemberSuccess"
    body = await gql(VIEWER, auth=token)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@needs_redis
async def test_a_tier_change_is_seen_by_the_next_request(gql, programme, make_key, listening):
    key = await make_key(programme, Role.ADMIN)
    assert (await gql(TIERS, auth=key))["data"]["programme"]["tiers"][1]["name"] == "Silver"
    await gql(RENAME, {"n": "Argent", "k": "local-rename"}, auth=key)
    assert (await gql(TIERS, auth=key))["data"]["programme"]["tiers"][1]["name"] == "Argent"


@needs_redis
async def test_a_programme_change_is_seen_by_the_next_request(gql, programme, make_key, listening):
    key = await make_key(programme, Role.ADMIN)
    before = (await gql("{ programme { now } }", auth=key))["data"]["programme"]["now"]
    moved = await gql(
        'mutation { advanceTestClock(input: {days: 3, idempotencyKey: "local-clock"}) '
        "{ __typename } }",
        auth=key,
    )
    assert moved["data"]["advanceTestClock"]["__typename"] == "AdvanceTestClockSuccess"
    after = (await gql("{ programme { now } }", auth=key))["data"]["programme"]["now"]
    assert after > before


async def _wait_until(done, *, seconds: float = 1.0) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, "not within the second"
        await asyncio.sleep(0.005)


# --- the subscription itself: lost, silent, back ---------------------------------------------


@contextmanager
def redis_server(port: int) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


needs_redis_server = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="needs the redis-server binary"
)


@needs_redis_server
async def test_a_lost_subscription_drops_every_entry_and_a_new_one_starts_empty():
    port = free_port()
    with redis_server(port) as first:
        invalidation.start(f"redis://127.0.0.1:{port}/0")
        try:
            assert await invalidation.until_listening()
            connections = invalidation._subscriber.connections
            invalidation.local.put("entry", "kept", invalidation.local.epoch)
            assert invalidation.local.get("entry") == "kept"
            # when Redis goes away
            first.kill()
            first.wait(timeout=10)
            # then nothing kept is served, at once (the read fails), and nothing is kept
            await _wait_until(lambda: not invalidation.listening(), seconds=1.0)
            assert invalidation.local.get("entry") is invalidation.MISS
            invalidation.local.put("entry", "while-down", invalidation.local.epoch)
            assert invalidation.local.get("entry") is invalidation.MISS
            # when it is back, the subscriber reconnects by itself and starts empty
            with redis_server(port):
                assert await invalidation.until_listening(seconds=10)
                assert invalidation._subscriber.connections == connections + 1
                assert invalidation.local.get("entry") is invalidation.MISS
                # and hears what is published again
                invalidation.local.put("entry", "kept", invalidation.local.epoch)
                client = Redis.from_url(f"redis://127.0.0.1:{port}/0")
                await client.publish(invalidation.CHANNEL, b'["entry"]')
                await client.aclose()
                await _wait_until(lambda: invalidation.local.get("entry") is invalidation.MISS)
        finally:
            await invalidation.stop()


@needs_redis_server
async def test_a_silent_redis_stops_the_entries_being_served_within_live_for():
    # a connection that fails no read (Redis frozen, a half-open TCP connection)
    port = free_port()
    with redis_server(port) as server:
        invalidation.start(f"redis://127.0.0.1:{port}/0")
        try:
            assert await invalidation.until_listening()
            invalidation.local.put("entry", "kept", invalidation.local.epoch)
            server.send_signal(subprocess.signal.SIGSTOP)
            frozen = time.monotonic()
            await _wait_until(
                lambda: invalidation.local.get("entry") is invalidation.MISS,
                seconds=invalidation.LIVE_FOR + 1,
            )
            assert time.monotonic() - frozen <= invalidation.LIVE_FOR + 1
            server.send_signal(subprocess.signal.SIGCONT)
            assert await invalidation.until_listening(seconds=10)
            assert invalidation.local.get("entry") is invalidation.MISS
        finally:
            await invalidation.stop()


@needs_redis
async def test_stop_ends_the_subscriber_even_when_its_read_swallows_the_cancellation(monkeypatch):
    # A bench run once hung at shutdown: the subscriber lost its cancellation (cancelling() 1)
    # and looped on. Here every read swallows it, as that one did.
    from redis.asyncio.client import PubSub

    from tests.conftest import TEST_REDIS_URL

    read = PubSub.get_message
    swallowed = []

    async def deaf(self, *args, **kwargs):
        try:
            return await read(self, *args, **kwargs)
        except asyncio.CancelledError:
            swallowed.append(asyncio.current_task().cancelling())
            return None

    monkeypatch.setattr(PubSub, "get_message", deaf)
    invalidation.start(TEST_REDIS_URL)
    assert await invalidation.until_listening()
    task = invalidation._subscriber._task
    began = time.monotonic()
    stopping = asyncio.ensure_future(invalidation.stop())
    try:
        await asyncio.wait({stopping}, timeout=6.0)  # not wait_for: it would cancel stop()
        assert stopping.done(), "stop() did not return"
        assert swallowed, "the read never saw the cancellation: the test proves nothing"
        assert task.done() and time.monotonic() - began < invalidation.PING_EVERY + 1
        assert not invalidation.listening()
    finally:
        if not task.done():  # it failed: end the task for the tests after this one
            monkeypatch.undo()
            task.cancel()
            await stopping


@needs_redis
async def test_an_unreadable_message_drops_every_entry_and_the_subscription_goes_on(listening):
    from tests.conftest import TEST_REDIS_URL

    connections = invalidation._subscriber.connections
    client = Redis.from_url(TEST_REDIS_URL)
    try:
        for message in (b"null", b"1", b'"entry"', b"[1]", b"{not json"):
            invalidation.local.put("entry", "kept", invalidation.local.epoch)
            assert invalidation.local.get("entry") == "kept"
            await client.publish(invalidation.CHANNEL, message)
            await _wait_until(lambda: invalidation.local.get("entry") is invalidation.MISS)
        # the same subscription still hears a proper message
        invalidation.local.put("entry", "kept", invalidation.local.epoch)
        await client.publish(invalidation.CHANNEL, b'["other", "entry"]')
        await _wait_until(lambda: invalidation.local.get("entry") is invalidation.MISS)
        assert invalidation.listening()
        assert invalidation._subscriber.connections == connections
    finally:
        await client.aclose()
