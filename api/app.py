"""The ASGI app: /graphql (GraphiQL in development), `/`, /healthz, /readyz, /metrics."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from api import content_type, logs
from api import demo as demo_pages
from api import settings as settings_module
from api.body import BodyLimit
from api.cors import cors
from api.errors import EdgeErrors
from api.exports import member_export
from api.graphiql import GraphiQLPage, assets, root
from api.graphql_view import LoyaltyGraphQL
from api.metrics import metrics, worker_stopped
from api.observe import RequestObserver
from api.rate_limit import RateLimiter
from api.settings import Settings
from api.webhook_setup import configure_webhooks
from db import invalidation
from db.cache import configure_cache, get_cache
from db.config import dialect
from db.connection import close_database, open_database, ping

content_type.install()


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Ready means able to serve, which takes the database only: without Redis requests still
    succeed (caches and rate limits fall back to the process), so a Redis outage is reported
    as `degraded` with 200 rather than taking every instance out of the load balancer."""
    settings: Settings = request.app.state.settings
    checks = {"database": await ping()}
    if settings.redis_url:
        checks["redis"] = await get_cache().ping()
    if not checks["database"]:
        status = "unavailable"
    else:
        status = "ready" if all(checks.values()) else "degraded"
    return JSONResponse(
        {"status": status, "checks": checks}, status_code=503 if status == "unavailable" else 200
    )


# The cyclic collector's thresholds. A request allocates thousands of containers, and with 32
# requests in flight most are still alive when a young collection runs, so they are scanned,
# promoted and scanned again. Young collections a third as often cut the collector's time per
# request by about a quarter and its longest pause by a third (BENCHMARKS.md, 2026-12-03
# night); full collections stay about as frequent as Python's (700, 10, 10) makes them, so
# cyclic garbage (a request leaves ~100 objects of it) is freed as soon as before. Rarer full
# collections saved no more here, and in a test of heavy cyclic garbage grew memory 9-fold.
COLLECTOR_THRESHOLDS = (2000, 10, 4)


def tune_collector(*thresholds: int) -> None:
    """Start-up objects live for the whole process: the collector stops rescanning them
    (freeze). Then its thresholds (COLLECTOR_THRESHOLDS unless given)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*(thresholds or COLLECTOR_THRESHOLDS))


def create_app(settings: Settings | None = None, *, manage_database: bool = True) -> Starlette:
    """`manage_database=False` when the caller (a test) has opened the database already."""
    settings = settings or settings_module.load()
    configure_webhooks(settings)
    embedded = dialect(settings.database_url) == "sqlite"

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if manage_database:
            await open_database(settings.database_url)
            configure_cache(settings.redis_url)
            # Keys, programme rows and tiers are then kept in this process while it hears
            # every invalidation published through Redis (db.invalidation).
            invalidation.start(settings.redis_url)
        tune_collector()
        # The embedded default delivers webhooks in-process, so `make run` shows them without a
        # second command; on PostgreSQL that is `loyalty worker`'s job.
        delivering = in_process_deliverer() if manage_database and embedded else None
        try:
            yield
        finally:
            worker_stopped()
            if delivering is not None:
                await delivering()
            if manage_database:
                await invalidation.stop()
                await get_cache().close()
                await close_database()

    graphql: ASGIApp = LoyaltyGraphQL(settings, RateLimiter(settings.redis_url))
    ide: list[BaseRoute] = []
    if not settings.production:
        graphql = GraphiQLPage(graphql, settings)
        ide = assets()
    app = Starlette(
        routes=[
            Route("/", root),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            Route("/exports/members/{token}", member_export, methods=["GET"]),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            *ide,
            *demo_pages.routes(settings),
        ],
        middleware=[
            # Outermost first: the access log and request metrics see every answer, preflights
            # included; CORS headers go on every answer, errors included, so a browser app can
            # read why it was refused; EdgeErrors answers whatever the layers inside it raise.
            Middleware(RequestObserver),
            cors(settings.cors_origins),
            Middleware(EdgeErrors),
            Middleware(BodyLimit, max_bytes=settings.max_body_bytes),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    return app


def in_process_deliverer() -> Callable[[], Awaitable[None]]:
    """Start a deliverer in this process; returns what stops it."""
    from services.webhooks.worker import Deliverer

    stop = asyncio.Event()
    task = asyncio.create_task(Deliverer().run(stop))

    async def stopping() -> None:
        stop.set()
        await task

    return stopping


def create_app_from_env() -> Starlette:
    """Factory for `uvicorn --factory` (one per worker process, each configuring its logs)."""
    settings = settings_module.load()
    logs.configure(settings.log_level, settings.log_format)
    return create_app(settings)
