"""Issue 16: charging a request to its bucket is one round trip to Redis (one script that
takes the cost and answers what is left for `throttleStatus`), on the same keys and with the
same arithmetic as `limits`' sliding window, and still falls back to the process."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from api.rate_limit import Bucket, RateLimiter
from tests.api.test_rate_limit import VIEWER, app_client, post
from tests.conftest import TEST_REDIS_URL, needs_redis
from tests.graphql.test_auth_cache import counting_redis


@pytest.fixture
async def shared() -> AsyncIterator[httpx.AsyncClient]:
    async for client in app_client(TEST_REDIS_URL or ""):
        yield client


@needs_redis
async def test_a_warm_request_costs_one_redis_command(shared, programme, make_key, listening):
    key = await make_key(programme)
    await post(shared, VIEWER, key)  # warms the key, the programme and its limits
    with counting_redis() as redis:
        response = await post(shared, VIEWER, key)
    assert response.status_code == 200, response.text
    throttle = response.json()["extensions"]["cost"]["throttleStatus"]
    assert throttle["currentlyAvailable"] < throttle["maximumAvailable"]
    assert redis["n"] == 1


@needs_redis
async def test_a_charge_sees_the_bucket_as_limits_does():
    limiter = RateLimiter(TEST_REDIS_URL)
    bucket = Bucket(10, 1)
    first = await limiter.charge("same-keys", bucket, 4)
    assert first.allowed and first.currently_available == 6
    assert (await limiter.status("same-keys", bucket)).currently_available == 6
    assert await limiter.take("same-keys", bucket, 4)  # limits' own take, on the same keys
    refused = await limiter.charge("same-keys", bucket, 4)
    assert not refused.allowed
    assert (refused.currently_available, refused.retry_after) == (2, 2)
    assert (await limiter.status("same-keys", bucket)).currently_available == 2


@needs_redis
async def test_a_cost_over_the_whole_bucket_is_refused_and_takes_nothing():
    limiter = RateLimiter(TEST_REDIS_URL)
    bucket = Bucket(10, 1)
    refused = await limiter.charge("too-big", bucket, 11)
    assert not refused.allowed and refused.currently_available == 10


async def test_without_redis_a_charge_is_counted_in_process():
    limiter = RateLimiter(None)
    bucket = Bucket(10, 1)
    assert (await limiter.charge("local", bucket, 6)).currently_available == 4
    refused = await limiter.charge("local", bucket, 6)
    assert not refused.allowed and (refused.currently_available, refused.retry_after) == (4, 2)
