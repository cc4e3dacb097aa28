"""The ASGI app: /graphql (GraphiQL in development), /healthz, /readyz, /metrics."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import orjson
from graphql import GraphQLError
from prometheus_client import CONTENT_TYPE_LATEST, Counter, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult

from api import content_type
from api import settings as settings_module
from api.auth import authenticate
from api.persisted import PersistedQueries, PersistedQueryError
from api.settings import Settings
from db.cache import configure_cache, get_cache
from db.connection import close_database, open_database, ping
from resolvers.context import Context, Loaders
from schema import build_schema

log = logging.getLogger("loyalty.api")
content_type.install()
AUTH_FAILURES = Counter("loyalty_auth_failures_total", "Requests with a credential we refused")


class LoyaltyGraphQL(GraphQL):  # type: ignore[type-arg]
    def __init__(self, settings: Settings) -> None:
        super().__init__(
            build_schema(production=settings.production),
            graphql_ide=None if settings.production else "graphiql",
            allow_queries_via_get=False,
        )
        self.settings = settings
        self.persisted = PersistedQueries()

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    async def execute_single(  # type: ignore[override]
        self,
        request: Any,
        request_adapter: Any,
        sub_response: Any,
        context: Any,
        root_value: Any,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Resolve an automatic persisted query first (api/persisted.py)."""
        try:
            query, register = await self.persisted.resolve(
                request_data.query, request_data.extensions
            )
        except PersistedQueryError as error:
            return ExecutionResult(
                data=None,
                errors=[GraphQLError(error.message, extensions={"code": error.code})],
            )
        request_data = replace(request_data, query=query)
        result = await super().execute_single(
            request, request_adapter, sub_response, context, root_value, request_data
        )
        refused = any(e.path is None for e in result.errors or ())
        principal = context.principal
        if register and query is not None and not refused and principal is not None:
            caller = f"{principal.programme_id}:{principal.scope}"
            await self.persisted.register(register, query, caller=caller)
        return result

    async def get_context(self, request: Any, response: Any) -> Context:
        principal, error = await authenticate(
            request.headers.get("authorization"), self.settings.jwt
        )
        if error:
            AUTH_FAILURES.inc()
        return Context(
            principal=principal,
            auth_error=error,
            tokens=self.settings.jwt,
            loaders=Loaders(principal),
            request=request,
            response=response,
        )


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    checks = {"database": await ping()}
    if settings.redis_url:
        checks["redis"] = await get_cache().ping()
    ready = all(checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )


async def metrics(request: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def create_app(settings: Settings | None = None, *, manage_database: bool = True) -> Starlette:
    """`manage_database=False` when the caller (a test) has opened the database already."""
    settings = settings or settings_module.load()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if manage_database:
            await open_database(settings.database_url)
            configure_cache(settings.redis_url)
        # Start-up objects live for the whole process: keep the collector from rescanning them.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            if manage_database:
                await get_cache().close()
                await close_database()

    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            Route("/graphql", LoyaltyGraphQL(settings), methods=["GET", "POST"]),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    return app


def create_app_from_env() -> Starlette:
    """Factory for `uvicorn --factory` (one per worker process)."""
    return create_app()
