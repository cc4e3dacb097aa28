"""CPU time of one recordOrder and one member page, layer by layer, in this process (a
script, not a test): how much each layer between the socket and the service costs, as a
figure that moves far less with a busy machine than requests per second do.

On a scratch PostgreSQL database seeded as `make bench` seeds it (2,000 members) and Redis
db 9, requests are sent one after another (or `--concurrency` at a time, as that many
connections would send them), straight into:

  app      the whole ASGI app (middlewares, router, GraphQL view), as uvicorn calls it;
  view     the GraphQL view alone (api/graphql_view.py: rate limit, auth, execution);
  execute  strawberry's Schema.execute with a ready context (recordOrder only: no HTTP,
           no rate limit, no key lookup); what it costs is the GraphQL execution with
           the service, audit and database calls below it;
  service  (recordOrder only) the service alone, called as its resolver calls it: what
           execute costs beyond it is the GraphQL execution and the audit wrapper;

and the user and system CPU time per request are printed for each, in interleaved rounds (medians).
Database and Redis time is not counted, only this process's CPU (asyncpg's and redis-py's
included).

    .venv/bin/python scripts/bench_layers.py [--requests 2000] [--rounds 3]
    .venv/bin/python scripts/bench_layers.py --concurrency 32 --layers app
    .venv/bin/python scripts/bench_layers.py --profile "recordOrder: execute" --sort tottime
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import resource
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from cryptography.fernet import Fernet

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_member_page import RECORD_ORDER, REDIS_URL, seed, sha
from redis.asyncio import Redis
from scratch import scratch_database

from api import logs
from api import settings as settings_module
from api.app import COLLECTOR_THRESHOLDS, create_app, tune_collector
from api.graphql_view import LoyaltyGraphQL
from api.member_page import MEMBER_PAGE
from api.rate_limit import RateLimiter
from db import invalidation
from db.cache import configure_cache, get_cache
from db.connection import close_database, open_database
from domain.points import OrderLine, Payment, PaymentMethod
from resolvers.context import Context, Loaders, request_id_of
from services import keys as key_service
from services.points import order_recording
from services.points.order_recording import OrderInput

MEMBERS = 2_000
Call = Callable[[int], Awaitable[Any]]


def order_variables(n: int, run: str, placed_at: str) -> dict[str, Any]:
    ref = f"{run}-{n}"
    return {
        "input": {
            "orderId": ref,
            "memberExternalId": f"m-{n % MEMBERS + 1}",
            "placedAt": placed_at,
            "lines": [
                {"sku": "coffee-01", "category": "coffee", "unitPrice": 4990, "quantity": 2},
                {"sku": "books-03", "category": "books", "unitPrice": 5990, "quantity": 1},
            ],
            "payments": [{"method": "CARD", "amount": 15970}],
            "idempotencyKey": ref,
        }
    }


class Asgi:
    """Calls an ASGI app as uvicorn would, with one request's body, and checks the answer."""

    def __init__(self, app: Any, key: str) -> None:
        self.app = app
        self.headers = [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {key}".encode()),
        ]

    async def post(self, body: dict[str, Any], expect: bytes) -> None:
        raw = orjson.dumps(body)
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": "POST", "scheme": "http", "path": "/graphql", "raw_path": b"/graphql",
            "root_path": "", "query_string": b"", "client": ("127.0.0.1", 5000),
            "server": ("127.0.0.1", 8000),
            "headers": [*self.headers, (b"content-length", str(len(raw)).encode())],
        }  # fmt: skip
        sent: list[bytes] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": raw, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body":
                sent.append(message.get("body", b""))

        await self.app(scope, receive, send)
        answer = b"".join(sent)
        if expect not in answer:
            raise SystemExit(f"unexpected answer: {answer[:300]!r}")


def persisted(document: str, variables: dict[str, Any]) -> dict[str, Any]:
    return {
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha(document)}},
        "variables": variables,
    }


class Collections:
    """Wall time the cyclic garbage collector runs (gc.callbacks), in total and its longest
    pause: what each request pays for it, and what one unlucky request waits; and how many
    full collections ran (the rarer they are, the longer cyclic garbage waits in memory)."""

    def __init__(self) -> None:
        self.total = self.longest = 0.0
        self.full = 0
        self._began = 0.0
        gc.callbacks.append(self._heard)

    def _heard(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        else:
            pause = time.perf_counter() - self._began
            self.total += pause
            self.longest = max(self.longest, pause)
            self.full += info["generation"] == 2


COLLECTIONS = Collections()


async def cpu_per_call(
    call: Call, start: int, requests: int, concurrency: int = 1
) -> tuple[float, float, float, float, float]:
    """(user, system) CPU microseconds per call (getrusage: microsecond resolution): a machine
    whose system calls are slow (a busy host) moves the second far more than the first; then
    the collector's time per call, its longest pause (ms) and its full collections. With
    `concurrency`, that many callers send the requests at once (as connections would)."""
    numbers = iter(range(start, start + requests))

    async def caller() -> None:
        for n in numbers:
            await call(n)

    collected, full, COLLECTIONS.longest = COLLECTIONS.total, COLLECTIONS.full, 0.0
    began = resource.getrusage(resource.RUSAGE_SELF)
    await asyncio.gather(*(caller() for _ in range(concurrency)))
    ended = resource.getrusage(resource.RUSAGE_SELF)
    return (
        (ended.ru_utime - began.ru_utime) / requests * 1e6,
        (ended.ru_stime - began.ru_stime) / requests * 1e6,
        (COLLECTIONS.total - collected) / requests * 1e6,
        COLLECTIONS.longest * 1e3,
        COLLECTIONS.full - full,
    )


def thresholds(given: str) -> tuple[int, ...]:
    if given == "app":
        return COLLECTOR_THRESHOLDS
    return (700, 10, 10) if given == "python" else tuple(int(n) for n in given.split(","))


async def main(args: argparse.Namespace) -> None:
    redis = Redis.from_url(REDIS_URL)
    await redis.flushdb()
    await redis.aclose()
    pool = max(4, min(args.concurrency, 16))
    async with scratch_database("loyalty_bench_layers", query=f"?maxsize={pool}") as url:
        _, key = await seed(url, MEMBERS, MEMBERS * 10, 0)
        settings = settings_module.load(
            {
                "LOYALTY_DATABASE_URL": url,
                "LOYALTY_REDIS_URL": REDIS_URL,
                "LOYALTY_MODE": "production",
                "LOYALTY_JWT_SECRET": "b" * 40,
                "LOYALTY_LOG_LEVEL": "WARNING",
                "LOYALTY_WEBHOOK_KEYS": Fernet.generate_key().decode(),
            }
        )
        logs.configure(settings.log_level, settings.log_format)
        await open_database(url)
        configure_cache(REDIS_URL)
        invalidation.start(REDIS_URL)
        try:
            await measure(args, settings, key)
        finally:
            await invalidation.stop()
            await get_cache().close()
            await close_database()


async def measure(args: argparse.Namespace, settings: Any, key: str) -> None:
    app = create_app(settings, manage_database=False)
    view = LoyaltyGraphQL(settings, RateLimiter(settings.redis_url))
    run = uuid.uuid4().hex[:8]
    placed_at = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    ok = b'"OrderSuccess"'
    whole, alone = Asgi(app, key), Asgi(view, key)
    # register the persisted documents once, as a client's first call does
    await whole.post({**persisted(RECORD_ORDER, order_variables(0, run, placed_at)),
                      "query": RECORD_ORDER}, ok)  # fmt: skip
    await whole.post({**persisted(MEMBER_PAGE, {"e": "m-1"}), "query": MEMBER_PAGE}, b'"member"')
    principal = await key_service.authenticate_key(key)
    schema = view.schema

    def context() -> Context:
        return Context(principal=principal, auth_error=None, tokens=settings.jwt,
                       loaders=Loaders(principal), request=None, response=None,
                       request_id=request_id_of(None))  # fmt: skip

    async def by_app(n: int) -> None:
        await whole.post(persisted(RECORD_ORDER, order_variables(n, run, placed_at)), ok)

    async def by_view(n: int) -> None:
        await alone.post(persisted(RECORD_ORDER, order_variables(n, run, placed_at)), ok)

    async def by_execute(n: int) -> None:
        result = await schema.execute(
            RECORD_ORDER, variable_values=order_variables(n, run, placed_at),
            context_value=context(),
        )  # fmt: skip
        if result.errors or result.data["recordOrder"]["__typename"] != "OrderSuccess":
            raise SystemExit(f"unexpected result: {result}")

    async def by_service(n: int) -> None:
        # the service alone, as the resolver calls it: what execute costs beyond it is GraphQL's
        ref = f"{run}-s{n}"
        data = OrderInput(
            order_ref=ref, member_external_id=f"m-{n % MEMBERS + 1}",
            placed_at=datetime.fromisoformat(placed_at), currency=None,
            lines=[OrderLine("coffee-01", "coffee", 4990, 2, False),
                   OrderLine("books-03", "books", 5990, 1, False)],
            payments=[Payment(PaymentMethod.CARD, 15970)],
        )  # fmt: skip
        await order_recording.record(principal, data, idempotency_key=ref)

    async def page_app(n: int) -> None:
        await whole.post(persisted(MEMBER_PAGE, {"e": f"m-{n % MEMBERS + 1}"}), b'"member"')

    async def page_view(n: int) -> None:
        await alone.post(persisted(MEMBER_PAGE, {"e": f"m-{n % MEMBERS + 1}"}), b'"member"')

    layers: dict[str, Call] = {
        "recordOrder: app": by_app,
        "recordOrder: view": by_view,
        "recordOrder: execute": by_execute,
        "recordOrder: service": by_service,
        "member page: app": page_app,
        "member page: view": page_view,
    }
    if args.profile:
        import cProfile
        import pstats

        call = layers[args.profile]
        await cpu_per_call(call, 1, 200, args.concurrency)
        profiler = cProfile.Profile()
        profiler.enable()
        await cpu_per_call(call, 1000, args.requests, args.concurrency)
        profiler.disable()
        stats = pstats.Stats(profiler).sort_stats(args.sort)
        if args.callers:
            stats.print_callers(args.callers)
        else:
            stats.print_stats(args.top)
        return
    if args.layers:
        wanted = args.layers.split(",")
        layers = {n: c for n, c in layers.items() if n.split(": ")[1] in wanted}
    # as the server's start-up does (api/app.py), unless told otherwise for a comparison
    tune_collector(*thresholds(args.gc_threshold))
    figures: dict[str, list[tuple[float, ...]]] = {name: [] for name in layers}
    start = 1
    for _ in range(args.rounds):
        for name, call in layers.items():
            await cpu_per_call(call, start, args.requests // 10, args.concurrency)  # warm
            start += args.requests // 10
            figures[name].append(await cpu_per_call(call, start, args.requests, args.concurrency))
            start += args.requests
    print(f"CPU per request, medians of {args.rounds} rounds of {args.requests} requests, "
          f"{args.concurrency} at a time (user time: range); the collector "
          f"{gc.get_threshold()}: its time per request, its longest pause, full collections "
          f"in all rounds)")  # fmt: skip
    for name, values in figures.items():
        user = [u for u, *_ in values]
        system, collector, pause = (statistics.median(v[i] for v in values) for i in (1, 2, 3))
        full = sum(v[4] for v in values)
        print(f"  {name:24} user {statistics.median(user):6.0f} us ({min(user):.0f}-"
              f"{max(user):.0f})   system {system:6.0f} us   gc {collector:5.0f} us"
              f"   longest {pause:5.1f} ms   full {full:3.0f}")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--concurrency", type=int, default=1, help="requests in flight at once (default 1)"
    )
    parser.add_argument("--layers", help="only these layers, comma-separated (e.g. 'app')")
    parser.add_argument("--profile", help="cProfile one layer (its name as printed)")
    parser.add_argument("--sort", default="cumulative", help="pstats order: cumulative, tottime")
    parser.add_argument("--top", type=int, default=60)
    parser.add_argument("--callers", help="with --profile: who calls functions matching this")
    parser.add_argument(
        "--gc-threshold",
        default="app",
        help="the collector's thresholds for the run: 'app' (the server's), 'python' "
        "(700,10,10) or three numbers, e.g. 5000,20,100",
    )
    asyncio.run(main(parser.parse_args()))
