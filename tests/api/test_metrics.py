"""/metrics an operator can run on (issue 14, point 3), read back with prometheus-client's
own text parser, as Prometheus would."""

from __future__ import annotations

import asyncio
import hashlib
import json

import httpx
from prometheus_client.parser import text_string_to_metric_families

from domain.auth import Role
from tests.conftest import TEST_REDIS_URL, needs_postgres, needs_redis
from tests.fixtures.servers import loyalty, loyalty_env, loyalty_server

MEMBER_PAGE = "query MemberPage { members(first: 1) { edges { node { externalId } } } }"
REGISTER = """
mutation ($input: RegisterMemberInput!) {
  registerMember(input: $input) { __typename }
}
"""


def parse(text: str) -> dict[tuple[str, frozenset], float]:
    """(sample name, labels) -> value, for every sample of the scrape."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def scrape(http) -> dict[tuple[str, frozenset], float]:
    response = await http.get("/metrics")
    assert response.status_code == 200
    return parse(response.text)


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def post(http, key: str, query: str, **extra) -> httpx.Response:
    return await http.post(
        "/graphql",
        json={"query": query, **extra},
        headers={"Authorization": f"Bearer {key}"},
    )


async def test_requests_are_timed_by_bounded_operation_name_and_outcome(http, programme, make_key):
    # given
    key = await make_key(programme)
    before = await scrape(http)
    # when: a known name, a name made up on the spot (twice), and a request with errors
    await post(http, key, MEMBER_PAGE)
    for n in range(2):
        await post(http, key, f"query Made{n}Up {{ programme {{ name }} }}")
    await post(http, key, "query MemberPage { member(externalId: 5) { externalId } }")
    after = await scrape(http)

    # then
    def grew(operation: str, outcome: str) -> float:
        name = "loyalty_request_duration_seconds_count"
        labels = {"operation": operation, "outcome": outcome}
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("MemberPage", "ok") == 1
    assert grew("other", "ok") == 2  # unknown names do not each make a series
    assert grew("MemberPage", "errors") == 1
    assert not [k for k in after if dict(k[1]).get("operation", "").startswith("Made")]


async def test_a_persisted_query_counts_under_its_name_and_as_a_cache_lookup(
    http, programme, make_key
):
    # given
    key = await make_key(programme)
    query = "query StorefrontTiers { programme { tiers { code } } }"
    extensions = {
        "persistedQuery": {"version": 1, "sha256Hash": hashlib.sha256(query.encode()).hexdigest()}
    }
    before = await scrape(http)
    # when: the hash alone (unknown: a miss), then with the query (registers), then alone (a hit)
    missed = await http.post(
        "/graphql", json={"extensions": extensions}, headers={"Authorization": f"Bearer {key}"}
    )
    await post(http, key, query, extensions=extensions)
    await http.post(
        "/graphql", json={"extensions": extensions}, headers={"Authorization": f"Bearer {key}"}
    )
    after = await scrape(http)
    # then
    assert missed.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    lookups = "loyalty_cache_lookups_total"
    for result in ("hit", "miss"):
        labels = {"cache": "persisted_queries", "result": result}
        assert value(after, lookups, **labels) - value(before, lookups, **labels) == 1
    count = "loyalty_request_duration_seconds_count"
    assert value(after, count, operation="StorefrontTiers", outcome="ok") >= 2


async def test_error_codes_and_throttled_requests_are_counted(http, programme, make_key):
    # given
    key = await make_key(programme)
    page = "members(first: 100) { edges { node { externalId tier { code benefits { code title } } } } }"
    expensive = "{ " + " ".join(f"p{n}: {page}" for n in range(15)) + " }"
    before = await scrape(http)
    # when
    throttled = await post(http, key, expensive)
    refused = await http.post(
        "/graphql",
        json={"query": "{ programme { name } }"},
        headers={"Authorization": "Bearer nope"},
    )
    after = await scrape(http)
    # then
    assert throttled.json()["errors"][0]["extensions"]["code"] == "THROTTLED"
    refused_code = refused.json()["errors"][0]["extensions"]["code"]

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("loyalty_throttled_requests_total") == 1
    assert grew("loyalty_graphql_errors_total", code="THROTTLED") == 1
    assert grew("loyalty_graphql_errors_total", code=refused_code) >= 1
    assert (
        grew("loyalty_request_duration_seconds_count", operation="other", outcome="throttled") == 1
    )


async def test_idempotent_replays_and_tier_cache_lookups_are_counted(http, programme, make_key):
    # given
    key = await make_key(programme, Role.STOREFRONT)
    registration = {"externalId": "m-1", "displayName": "M", "idempotencyKey": "once"}
    before = await scrape(http)
    # when the same registration is sent twice, and the member page is read twice
    for _ in range(2):
        await post(http, key, REGISTER, variables={"input": registration})
    for _ in range(2):
        await post(http, key, '{ member(externalId: "m-1") { tier { code } } }')
    after = await scrape(http)
    # then
    replays = "loyalty_idempotent_replays_total"
    assert (
        value(after, replays, operation="registerMember")
        - value(before, replays, operation="registerMember")
        == 1
    )
    lookups = "loyalty_cache_lookups_total"
    tiers = sum(
        value(after, lookups, cache="tiers", result=r)
        - value(before, lookups, cache="tiers", result=r)
        for r in ("hit", "miss")
    )
    assert tiers >= 1


async def test_job_runs_are_counted_and_timed(http, programme):
    from services.jobs import run_all

    before = await scrape(http)
    await run_all()
    after = await scrape(http)
    for job in ("catch_up", "coupon_issuance", "coupon_lock_release", "idempotency_key_pruning"):
        runs = value(after, "loyalty_job_runs_total", job=job, outcome="ok") - value(
            before, "loyalty_job_runs_total", job=job, outcome="ok"
        )
        assert runs >= 1, job
        assert value(after, "loyalty_job_duration_seconds_count", job=job) >= runs


@needs_postgres
async def test_the_database_pool_is_reported(http, programme, make_key):
    key = await make_key(programme)
    await post(http, key, MEMBER_PAGE)
    samples = await scrape(http)
    assert value(samples, "loyalty_db_pool_size") >= 1
    assert value(samples, "loyalty_db_pool_in_use") >= 0
    assert value(samples, "loyalty_db_pool_waiting") == 0


async def test_pool_waiters_are_counted_while_the_pool_is_exhausted():
    """asyncpg exposes no waiter count: what record_pool reads is checked on a real
    asyncio queue standing in for the pool's holder queue."""
    from db.metrics import DB_POOL_IN_USE, DB_POOL_SIZE, DB_POOL_WAITING, record_pool

    class Pool:
        def __init__(self) -> None:
            self._queue: asyncio.LifoQueue[int] = asyncio.LifoQueue(maxsize=2)

        def get_size(self) -> int:
            return 2

        def get_max_size(self) -> int:
            return 2

    pool = Pool()  # both connections lent out, so the queue is empty
    waiters = [asyncio.ensure_future(pool._queue.get()) for _ in range(3)]
    await asyncio.sleep(0)
    try:
        record_pool(pool)
        assert DB_POOL_WAITING._value.get() == 3
        assert DB_POOL_IN_USE._value.get() == 2
        assert DB_POOL_SIZE._value.get() == 2
    finally:
        for waiter in waiters:
            waiter.cancel()


@needs_redis
def test_one_scrape_sees_every_worker(tmp_path):
    # given `loyalty serve` with two workers (multiprocess mode set up by serve itself)
    env = loyalty_env(
        LOYALTY_DATA_DIR=str(tmp_path),
        LOYALTY_REDIS_URL=TEST_REDIS_URL or "",
        LOYALTY_WORKERS="2",
    )
    loyalty(env, "migrate")
    created = loyalty(env, "create-programme", "metrics", "--name", "Metrics")
    key = created.split("admin key (shown once): ")[1].strip()
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    histograms = tmp_path / "prometheus"
    sent = 0
    with loyalty_server(env, tmp_path / "server.log") as base:

        async def round_of_requests() -> None:
            async def one_connection() -> None:
                async with httpx.AsyncClient(base_url=base) as client:
                    for _ in range(5):
                        body = json.dumps({"query": MEMBER_PAGE})
                        response = await client.post("/graphql", content=body, headers=headers)
                        assert response.status_code == 200

            await asyncio.gather(*(one_connection() for _ in range(8)))

        # when requests are sent on 8 connections at once until both workers answered some
        for _ in range(25):
            asyncio.run(round_of_requests())
            sent += 40
            if len(list(histograms.glob("histogram_*.db"))) == 2:
                break
        # then one scrape counts them all, whichever worker answers it
        counts = [
            value(
                parse(httpx.get(f"{base}/metrics").text),
                "loyalty_request_duration_seconds_count",
                operation="MemberPage",
                outcome="ok",
            )
            for _ in range(4)
        ]
    assert len(list(histograms.glob("histogram_*.db"))) == 2
    assert counts == [float(sent)] * 4


def test_run_jobs_leaves_its_metrics_for_the_servers_scrape(tmp_path):
    """`loyalty run-jobs` with the servers' PROMETHEUS_MULTIPROC_DIR: its job figures are
    read by the same collector /metrics uses in multiprocess mode."""
    from prometheus_client import CollectorRegistry, generate_latest, multiprocess

    shared = tmp_path / "prometheus"
    shared.mkdir()
    env = loyalty_env(LOYALTY_DATA_DIR=str(tmp_path), PROMETHEUS_MULTIPROC_DIR=str(shared))
    loyalty(env, "migrate")
    loyalty(env, "create-programme", "jobs", "--name", "Jobs")
    loyalty(env, "run-jobs")
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(shared))
    samples = parse(generate_latest(registry).decode())
    for job in ("catch_up", "coupon_issuance", "coupon_lock_release", "idempotency_key_pruning"):
        assert value(samples, "loyalty_job_runs_total", job=job, outcome="ok") == 1, job
        assert value(samples, "loyalty_job_duration_seconds_count", job=job) == 1, job


@needs_redis
async def test_api_key_lookups_count_hits_and_misses(http, programme, make_key):
    # given a key no process has seen yet (keys are cached only in a shared cache)
    key = await make_key(programme)
    before = await scrape(http)
    # when it is used twice
    for _ in range(2):
        await post(http, key, "{ programme { name } }")
    after = await scrape(http)

    # then the first use missed and the second hit
    def grew(result: str) -> float:
        labels = {"cache": "keys", "result": result}
        return value(after, "loyalty_cache_lookups_total", **labels) - value(
            before, "loyalty_cache_lookups_total", **labels
        )

    assert grew("miss") == 1
    assert grew("hit") == 1


async def test_a_made_up_persisted_hash_does_not_make_its_operation_name_a_series(http):
    """Only a document the server keeps names a series: a hash it does not know (or a hash
    sent with a document nobody registered) would otherwise let any caller, without a
    credential, fill the bounded set of names with its own and push every real operation
    into `other` until the process restarts."""
    # given
    unknown = {"persistedQuery": {"version": 1, "sha256Hash": "ab" * 32}}
    query = "query SentAlongNotKept { __typename }"
    sent_along = {
        "persistedQuery": {"version": 1, "sha256Hash": hashlib.sha256(query.encode()).hexdigest()}
    }
    # when: a hash nobody registered, with a name; a document and its hash, not registered
    # (no credential)
    await http.post("/graphql", json={"operationName": "MadeUpName", "extensions": unknown})
    await http.post("/graphql", json={"query": query, "extensions": sent_along})
    after = await scrape(http)
    # then
    operations = {dict(labels).get("operation") for _, labels in after}
    assert "MadeUpName" not in operations
    assert "SentAlongNotKept" not in operations


async def test_preflights_and_the_graphiql_page_are_not_counted_as_graphql_requests(http):
    """A browser's CORS preflight (refused: no origin is allowed by default) and a browser
    opening GraphiQL reach /graphql but are not GraphQL requests: counted, they would show
    as BAD_REQUEST errors (an alert on those would fire for any page that tries) and pull
    the `other` latency down."""
    # given
    before = await scrape(http)
    # when
    preflight = await http.options(
        "/graphql",
        headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"},
    )
    graphiql = await http.get("/graphql", headers={"Accept": "text/html"})
    after = await scrape(http)
    # then
    assert preflight.status_code == 400
    assert graphiql.status_code == 200 and "GraphiQL" in graphiql.text

    def total(samples, name: str) -> float:
        return sum(v for (sample, _), v in samples.items() if sample == name)

    for name in ("loyalty_request_duration_seconds_count", "loyalty_graphql_errors_total"):
        assert total(after, name) == total(before, name), name


@needs_postgres
async def test_the_pool_figures_are_kept_current_without_a_scrape(http, programme, make_key):
    """With several workers a scrape is answered by one of them and sums what every worker
    last wrote: a worker that records its pool only when it answers a scrape itself shows
    figures from its last scrape (or none). Each request leaves them current."""
    from db.metrics import DB_POOL_SIZE

    # given a worker whose pool figures were last written as nothing
    key = await make_key(programme)
    DB_POOL_SIZE.set(0)
    # when it answers a request (and no scrape)
    await post(http, key, MEMBER_PAGE)
    # then
    assert DB_POOL_SIZE._value.get() >= 1
