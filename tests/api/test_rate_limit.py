"""Rate limits per credential (issue 13, item 8; RELIABILITY 29): over its bucket a request is
refused whole with THROTTLED, its cost and Retry-After, and nothing of it runs; buckets are
per key, per member, per client address without a credential; set per programme and role;
shared through Redis, and per process when Redis is gone."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from api.app import create_app
from api.rate_limit import DEFAULT_BUCKETS, Bucket, RateLimiter
from db.models import Member as MemberRow
from domain.auth import Role
from services import programmes as programme_service
from tests.conftest import TEST_REDIS_URL, needs_redis
from tests.fixtures.graphql import test_settings as settings_with
from tests.graphql.test_auth import token_for

PAGE = "{ members(first: 100) { edges { node { externalId } } } }"  # 301 points
VIEWER = "{ viewer { externalId } }"  # 2 points


def rename(member, name: str) -> str:
    return (
        f'mutation {{ updateMember(input: {{externalId: "{member.external_id}", '
        f'displayName: "{name}"}}) {{ __typename }} }}'
    )


async def post(client, query: str, key: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return await client.post("/graphql", json={"query": query}, headers=headers)


async def limit(programme, role: str, maximum: int, restore_rate: int) -> None:
    await programme_service.set_rate_limit(
        programme.code, role, maximum=maximum, restore_rate=restore_rate
    )


def throttled(response: httpx.Response) -> bool:
    errors = response.json().get("errors") or []
    return bool(errors) and errors[0]["extensions"]["code"] == "THROTTLED"


async def test_over_its_bucket_a_request_is_throttled_with_retry_after_and_runs_nothing(
    http, programme, make_member, make_key
):
    # given a programme whose storefront keys hold 700 points and regain 10 a second
    await limit(programme, "storefront", 700, 10)
    member = await make_member(programme, display_name="Before")
    key = await make_key(programme, Role.STOREFRONT)
    # when two pages (602 points) leave 98, and a rename arrives with a third page
    assert not throttled(await post(http, PAGE, key))
    assert not throttled(await post(http, PAGE, key))
    mutation = rename(member, "After").replace("mutation {", "mutation { " + PAGE[2:-2])
    response = await post(http, mutation, key)
    # then it is refused whole: 429, when to retry, the cost object, and no rename
    assert response.status_code == 429, response.text
    body = response.json()
    assert "data" not in body  # nothing ran
    [error] = body["errors"]
    assert error["extensions"]["code"] == "THROTTLED"
    cost = error["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 302 and cost["actualQueryCost"] is None
    status = cost["throttleStatus"]
    assert status["maximumAvailable"] == 700 and status["restoreRate"] == 10
    assert 98 <= status["currentlyAvailable"] < 302
    assert body["extensions"]["cost"] == cost
    wait = int(response.headers["Retry-After"])
    assert (302 - status["currentlyAvailable"]) / 10 <= wait <= 21
    assert (await MemberRow.get(id=member.id)).display_name == "Before"


async def test_a_request_costing_more_than_its_bucket_holds_is_over_budget_not_rate_limited(
    http, programme, make_key
):
    await limit(programme, "admin", 200, 10)
    response = await post(http, PAGE, await make_key(programme, Role.ADMIN))
    assert response.status_code == 200  # no Retry-After: waiting would not help
    assert "Retry-After" not in response.headers
    assert throttled(response)
    assert "200" in response.json()["errors"][0]["message"]


async def test_each_key_has_its_own_bucket(http, programme, make_key):
    await limit(programme, "admin", 400, 1)
    first, second = await make_key(programme), await make_key(programme)
    assert not throttled(await post(http, PAGE, first))
    assert throttled(await post(http, PAGE, first))
    assert not throttled(await post(http, PAGE, second))


async def test_member_tokens_are_limited_per_member_across_tokens(
    http, gql, programme, make_member, make_key
):
    # given two tokens of alice and one of bob, in a programme whose members hold 3 points
    await limit(programme, "member", 3, 1)
    storefront = await make_key(programme, Role.STOREFRONT)
    alice, bob = await make_member(programme), await make_member(programme)
    alice_1 = await token_for(gql, storefront, alice.external_id)
    alice_2 = await token_for(gql, storefront, alice.external_id, ttl=600)
    bobs = await token_for(gql, storefront, bob.external_id)
    # when alice spends her bucket with one token
    assert not throttled(await post(http, VIEWER, alice_1))
    # then her other token finds it spent, and bob's is untouched
    assert throttled(await post(http, VIEWER, alice_2))
    assert not throttled(await post(http, VIEWER, bobs))


async def test_without_a_credential_the_bucket_is_the_client_address(http, monkeypatch):
    monkeypatch.setitem(DEFAULT_BUCKETS, "anonymous", Bucket(5, 1))
    # each anonymous request is refused (no credential) but still costs: 2, 2, then 2 > 1
    answers = [await post(http, VIEWER) for _ in range(3)]
    codes = [r.json()["errors"][0]["extensions"]["code"] for r in answers]
    assert codes == ["UNAUTHENTICATED", "UNAUTHENTICATED", "THROTTLED"]


async def test_the_default_limits_are_the_documented_ones(http, programme, make_key):
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for role, bucket in DEFAULT_BUCKETS.items():
        assert f"| {role} | {bucket.maximum:,} | {bucket.restore_rate:,} |" in readme, role
    key = await make_key(programme, Role.STOREFRONT)
    status = (await post(http, PAGE, key)).json()["extensions"]["cost"]["throttleStatus"]
    assert status["maximumAvailable"] == DEFAULT_BUCKETS["storefront"].maximum


@pytest.mark.parametrize(
    ("role", "maximum", "restore_rate", "field"),
    [
        ("superuser", 10, 1, "role"),
        ("admin", 10, None, "restoreRate"),
        ("admin", 200_000_000, 1, "maximumAvailable"),
        ("admin", 10, 11, "restoreRate"),
    ],
)
async def test_a_limit_that_makes_no_sense_is_refused(
    programme, role, maximum, restore_rate, field
):
    from domain.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as refused:
        await programme_service.set_rate_limit(
            programme.code, role, maximum=maximum, restore_rate=restore_rate
        )
    assert [e.field for e in refused.value.errors] == [field]
    assert await programme_service.rate_limits(programme.id) == {}


async def test_an_operator_may_restore_a_roles_default(programme):
    await limit(programme, "storefront", 700, 10)
    await programme_service.set_rate_limit(
        programme.code, "storefront", maximum=None, restore_rate=None
    )
    assert await programme_service.rate_limits(programme.id) == {}


async def app_client(redis_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings_with(LOYALTY_REDIS_URL=redis_url), manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@pytest.fixture
async def shared_a() -> AsyncIterator[httpx.AsyncClient]:
    async for client in app_client(TEST_REDIS_URL or ""):
        yield client


@pytest.fixture
async def shared_b() -> AsyncIterator[httpx.AsyncClient]:
    async for client in app_client(TEST_REDIS_URL or ""):
        yield client


@needs_redis
async def test_the_bucket_is_shared_through_redis_by_every_process(
    shared_a, shared_b, programme, make_key
):
    # given two app instances (as two processes would be) on one Redis
    await limit(programme, "admin", 400, 1)
    key = await make_key(programme)
    # when one spends the key's bucket
    assert not throttled(await post(shared_a, PAGE, key))
    # then the other finds it spent
    assert throttled(await post(shared_b, PAGE, key))


@pytest.fixture
async def redis_down() -> AsyncIterator[httpx.AsyncClient]:
    async for client in app_client("redis://127.0.0.1:1/0"):
        yield client


async def test_with_redis_down_requests_succeed_and_are_still_limited_in_process(
    redis_down, programme, make_key
):
    await limit(programme, "admin", 400, 1)
    key = await make_key(programme)
    first = await post(redis_down, PAGE, key)
    assert first.status_code == 200 and "errors" not in first.json(), first.text
    assert throttled(await post(redis_down, PAGE, key))


async def test_a_limiter_falls_back_for_a_pause_then_tries_redis_again():
    limiter = RateLimiter("redis://127.0.0.1:1/0", pause_after_error=0.0)
    bucket = Bucket(10, 1)
    assert (await limiter.charge("k", bucket, 4)).allowed
    assert (await limiter.charge("k", bucket, 4)).allowed
    assert not (await limiter.charge("k", bucket, 4)).allowed  # counted in-process meanwhile
