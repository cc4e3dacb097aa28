"""Every Prometheus metric the service records, in one place (README, "Metrics").

Here rather than in api/ because the layers below the API record too (caches, idempotency,
jobs) and may not import from it. Label values are bounded: operation names go through
`operation_label`, error codes are the schema's own, caches and jobs are fixed names.

With several worker processes, `PROMETHEUS_MULTIPROC_DIR` makes prometheus-client keep the
values in files one scrape reads together (api/metrics.py); the gauges below say how the
workers' values combine (`livesum`: the sum over live workers)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

REQUEST_SECONDS = Histogram(
    "loyalty_request_duration_seconds",
    "GraphQL requests by operation name (persisted or known names, else `other`) and outcome",
    ["operation", "outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
GRAPHQL_ERRORS = Counter(
    "loyalty_graphql_errors_total",
    "Errors in `errors` of GraphQL answers (and requests refused at the edge) by "
    "`extensions.code`; union error results are data, not counted here",
    ["code"],
)
THROTTLED_REQUESTS = Counter(
    "loyalty_throttled_requests_total", "Requests refused (in whole) by the rate limit"
)
DB_POOL_SIZE = Gauge(
    "loyalty_db_pool_size",
    "PostgreSQL connections open in the pool",
    multiprocess_mode="livesum",
)
DB_POOL_IN_USE = Gauge(
    "loyalty_db_pool_in_use",
    "PostgreSQL connections lent out by the pool",
    multiprocess_mode="livesum",
)
DB_POOL_WAITING = Gauge(
    "loyalty_db_pool_waiting",
    "Tasks waiting for a PostgreSQL connection from the pool",
    multiprocess_mode="livesum",
)
CACHE_LOOKUPS = Counter(
    "loyalty_cache_lookups_total",
    "Cache lookups by cache (tiers, member_tiers, keys, persisted_queries) and result "
    "(hit or miss)",
    ["cache", "result"],
)
IDEMPOTENT_REPLAYS = Counter(
    "loyalty_idempotent_replays_total",
    "Mutations answered from a stored result because their idempotency key was used before",
    ["operation"],
)
JOB_RUNS = Counter(
    "loyalty_job_runs_total", "`loyalty run-jobs` parts run, by job and outcome", ["job", "outcome"]
)
JOB_SECONDS = Histogram(
    "loyalty_job_duration_seconds",
    "How long each `loyalty run-jobs` part took (one programme at a time)",
    ["job"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0),
)


def cache_lookup(cache: str, hit: bool) -> None:
    CACHE_LOOKUPS.labels(cache, "hit" if hit else "miss").inc()


@contextmanager
def job(name: str) -> Iterator[None]:
    """Times one part of run-jobs and counts it as ok or failed (the error goes on up)."""
    started = time.perf_counter()
    outcome = "failed"
    try:
        yield
        outcome = "ok"
    finally:
        JOB_SECONDS.labels(name).observe(time.perf_counter() - started)
        JOB_RUNS.labels(name, outcome).inc()


OTHER = "other"
MAX_OPERATION_NAMES = 200
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_named: set[str] = set()
_named_lock = threading.Lock()


def operation_label(name: str | None, *, known: bool) -> str:
    """The operation's own name when the server knows the document (a persisted query, or a
    name seen before while there was room), else `other`: a client sending ever new names
    cannot grow the series without bound (at most MAX_OPERATION_NAMES per process)."""
    if not name or not _NAME.fullmatch(name):
        return OTHER
    if name in _named:
        return name
    if not known:
        return OTHER
    with _named_lock:
        if len(_named) >= MAX_OPERATION_NAMES:
            return OTHER
        _named.add(name)
    return name


def record_pool(pool: Any) -> None:
    """The asyncpg pool's figures now. asyncpg has no public count of waiters: they are the
    getters of its holder queue (checked with the asyncpg version pyproject pins)."""
    queue = getattr(pool, "_queue", None)
    if queue is None:  # not initialised, or closed
        return
    DB_POOL_SIZE.set(pool.get_size())
    DB_POOL_IN_USE.set(pool.get_max_size() - queue.qsize())
    getters = getattr(queue, "_getters", ())
    DB_POOL_WAITING.set(sum(1 for getter in getters if not getter.done()))
