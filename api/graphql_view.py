"""/graphql: strawberry's ASGI view, with the edge's rules around each request.

Before anything runs, each operation of the request (a batch is one request) is read: its
persisted query resolved (api/persisted.py), its document parsed (from the parser cache the
schema uses too), its operation chosen as the spec says (a document with several needs an
`operationName`), its cost added up. The whole request then either fits the per-request
budget and the caller's bucket (api/rate_limit.py), or nothing of it runs and every
operation answers THROTTLED. Every answer carries `extensions.cost`, Shopify's shape.

After it ran: an error caused by an unavailable database turns the whole answer into a 503
(api/errors.py); a retry with the same idempotency keys is safe. Client errors make one INFO
line; bugs were logged with their traceback by the schema (schema/error_log.py)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from typing import Any

import orjson
from cross_web import HTTPException
from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSyntaxError,
    OperationDefinitionNode,
    OperationType,
)
from prometheus_client import Counter
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult

from api import observe
from api.auth import authenticate
from api.body import decode_json
from api.cache_control import VARY, cache_control_for_get
from api.content_type import parse_content_type
from api.errors import BadRequest, EdgeError
from api.media_types import CONTENT_TYPES, GRAPHQL_RESPONSE, JSON, negotiate
from api.persisted import NOT_FOUND, PersistedQueries, PersistedQueryError
from api.rate_limit import RateLimiter, ThrottleStatus
from api.settings import Settings
from db.connection import is_unavailable
from resolvers.context import Context, Loaders, request_id_of
from schema import build_schema
from schema.cost import BUDGET, operation_cost
from schema.limits import is_readable, parse_document

log = logging.getLogger("loyalty.api")
AUTH_FAILURES = Counter("loyalty_auth_failures_total", "Requests with a credential we refused")
THROTTLED = "THROTTLED"
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"


@dataclass
class Operation:
    """One operation of a request, read before anything runs."""

    data: GraphQLRequestData
    cost: int = 1
    register: str | None = None  # the APQ hash to keep the document under once it ran
    refusal: ExecutionResult | None = None  # the answer, when it is answered without running
    persisted: bool = False  # named by an APQ hash
    # The server keeps the document (found by its hash, or registered once it ran): its
    # operation's name may name a metrics series. Not so for a hash the caller made up.
    kept: bool = False
    document: DocumentNode | None = None
    chosen: OperationDefinitionNode | None = None


def _refused(message: str, code: str, **extensions: Any) -> ExecutionResult:
    error = GraphQLError(message, extensions={"code": code, **extensions})
    return ExecutionResult(data=None, errors=[error])


def _cost(requested: int, actual: int | None, status: ThrottleStatus) -> dict[str, Any]:
    """`extensions.cost`, Shopify's names. A request that was let through costs what it asked
    (what a page did not fill is not given back); a throttled one costs nothing."""
    return {
        "requestedQueryCost": requested,
        "actualQueryCost": actual,
        "throttleStatus": status.as_extension(),
    }


def _request_data(item: object) -> GraphQLRequestData:
    """One operation's JSON object, checked field by field (GraphQL-over-HTTP)."""
    if not isinstance(item, dict):
        raise BadRequest("a GraphQL request is a JSON object (or a list of them, a batch)")
    for name, kind in (("query", str), ("operationName", str)):
        if not isinstance(item.get(name), kind | None):
            raise BadRequest(f"`{name}` must be a string or null")
    for name in ("variables", "extensions"):
        if not isinstance(item.get(name), dict | None):
            raise BadRequest(f"`{name}` must be an object or null")
    return GraphQLRequestData(
        query=item.get("query"),
        variables=item.get("variables"),
        operation_name=item.get("operationName"),
        extensions=item.get("extensions"),
        protocol="http",
    )


def _choose(operations: list[OperationDefinitionNode], name: str | None) -> Any:
    """The operation to run, or why there is none (GraphQL spec, GetOperation)."""
    if name is None:
        if len(operations) > 1:
            return "the document has several operations: name the one to run in `operationName`"
        return operations[0] if operations else "the document has no operation"
    for operation in operations:
        if operation.name is not None and operation.name.value == name:
            return operation
    return "`operationName` names no operation of the document"


def _refuse_changes_over_get(operations: list[Operation]) -> None:
    """GET is for reading (GraphQL over HTTP): a mutation sent with it, as text or as a
    persisted query's hash, is refused with 405 before anything runs."""
    for operation in operations:
        if operation.chosen is not None and operation.chosen.operation != OperationType.QUERY:
            raise EdgeError(
                405,
                "only queries may be sent with GET; send mutations with POST",
                headers={"Allow": "POST"},
            )


def _ran(result: ExecutionResult) -> bool:
    """False when the operation was refused before it ran (syntax, validation, variables,
    persisted query, cost, rate limit): such errors have no path. An operation that ran
    and failed at its root has `data: null` and errors with a path."""
    return result.data is not None or any(e.path is not None for e in result.errors or ())


def _status_before_running(response: dict[str, Any]) -> int:
    """The 4xx of an answer in which nothing ran (application/graphql-response+json)."""
    codes = {(e.get("extensions") or {}).get("code") for e in response.get("errors") or ()}
    # Apollo Client 3 turns persisted queries off for good after a 400 or a 500 on a hash,
    # so an unknown hash is a 404 (as the Apollo Router answers it), and the client sends
    # the document with its hash, as the protocol means it to.
    return 404 if codes == {NOT_FOUND} else 400


class LoyaltyGraphQL(GraphQL):  # type: ignore[type-arg]
    def __init__(self, settings: Settings, limiter: RateLimiter) -> None:
        super().__init__(
            build_schema(production=settings.production),
            graphql_ide=None,  # api/graphiql.py serves GraphiQL from local files
            allow_queries_via_get=True,
        )
        self.settings = settings
        self.limiter = limiter
        self.persisted = PersistedQueries()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope, receive))
        except HTTPException as error:  # strawberry's own refusals, as JSON with a code
            allow = {"Allow": "GET, POST"} if error.status_code == 405 else None
            raise EdgeError(error.status_code, error.reason, headers=allow) from None
        await response(scope, receive, send)

    def should_render_graphql_ide(self, request: Any) -> bool:
        # A GET carrying only a persisted query's hash (`extensions`) is a query, not a
        # browser asking for GraphiQL, whatever its Accept says.
        return super().should_render_graphql_ide(request) and (
            "extensions" not in request.query_params
        )

    async def get_sub_response(self, request: Any) -> Response:
        sub_response: Response = await super().get_sub_response(request)
        # The media type the answer is sent as, chosen once from the request's Accept.
        sub_response.media_type = negotiate(request.headers.get("accept"))
        return sub_response

    async def process_result(self, request: Any, result: ExecutionResult) -> Any:
        for error in result.errors or ():
            # strawberry answers a syntax error itself, without the code every error has
            if isinstance(error, GraphQLSyntaxError) and not error.extensions:
                error.extensions = {"code": PARSE_FAILED}
        response = await super().process_result(request, result)
        if not _ran(result):
            del response["data"]  # the GraphQL spec: no `data` when execution never began
        return response

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        response: Response = super().create_response(response_data, sub_response)
        media_type = sub_response.media_type or JSON
        response.headers["content-type"] = CONTENT_TYPES[media_type]
        if media_type == GRAPHQL_RESPONSE and sub_response.status_code is None:
            answers = response_data if isinstance(response_data, list) else [response_data]
            if not any("data" in answer for answer in answers):
                response.status_code = _status_before_running(answers[0])
        return response

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        return decode_json(data)

    async def parse_http_body(self, request: Any) -> GraphQLRequestData | list[GraphQLRequestData]:
        if request.method == "GET":
            data = self.parse_query_params(request.query_params)
        else:
            content_type, _ = parse_content_type(request.content_type or "")
            if "application/json" not in content_type:
                raise BadRequest("send the request as application/json")
            data = self.parse_json(await request.get_body())
        if isinstance(data, list):
            if not data:
                raise BadRequest("a batch needs at least one operation")
            self._validate_batch_request(data, protocol="http")
            return [_request_data(item) for item in data]
        return _request_data(data)

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
            # the id of the request's log lines and its X-Request-Id answer, when the
            # context accepts it (none made twice, the audit row's id the same)
            request_id=request_id_of(observe.request_id() or request.headers.get("x-request-id")),
        )

    async def execute_operation(  # type: ignore[override]
        self,
        request: Request,
        request_adapter: Any,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: Any,
        sub_response: Any,
    ) -> ExecutionResult | list[ExecutionResult]:
        batch = request_data if isinstance(request_data, list) else [request_data]
        operations = [await self._read(data) for data in batch]
        if request.method == "GET":
            _refuse_changes_over_get(operations)
        cost = sum(operation.cost for operation in operations)
        client = request.client.host if request.client else "unknown"
        name, bucket = await self.limiter.bucket_for(context.principal, client)
        most = min(BUDGET, bucket.maximum)
        if cost > most:
            refusal = (
                f"this request would cost {cost}, over the {most} one request may cost; ask "
                "for less (smaller `first`, fewer fields or operations)"
            )
            status = await self.limiter.status(name, bucket)
        elif not (status := await self.limiter.charge(name, bucket, cost)).allowed:
            refusal = (
                f"rate limited: this request costs {cost} and {status.currently_available} "
                f"is available; retry in {status.retry_after} s"
            )
            sub_response.status_code = 429
            sub_response.headers["Retry-After"] = str(status.retry_after)
        else:
            # The charge answered what is left in the bucket too (one round trip).
            refusal = None
            results = await self._run_all(
                operations, request, request_adapter, context, root_value, sub_response
            )
        if refusal is not None:
            spent = _cost(cost, None, status)
            results = [_refused(refusal, THROTTLED, cost=spent) for _ in operations]
        cost_extension = _cost(cost, cost if refusal is None else None, status)
        for result in results:
            result.extensions = {**(result.extensions or {}), "cost": cost_extension}
        self._log_client_errors(results)
        if request.method == "GET":
            # A GET is one operation (query parameters cannot carry a batch).
            sub_response.headers["Cache-Control"] = cache_control_for_get(
                persisted=operations[0].persisted,
                document=operations[0].document,
                operation=operations[0].chosen,
                answered=results[0].data is not None and not results[0].errors,
                credential="authorization" in request.headers,
            )
            sub_response.headers["Vary"] = VARY
        kept = [o.chosen.name.value for o in operations if o.kept and o.chosen and o.chosen.name]
        observe.graphql_request(
            context.principal, [o.data for o in operations], results, known_names=kept
        )
        return results if isinstance(request_data, list) else results[0]

    async def _read(self, data: GraphQLRequestData) -> Operation:
        try:
            query, register = await self.persisted.resolve(data.query, data.extensions)
        except PersistedQueryError as error:
            return Operation(data, refusal=_refused(error.message, error.code))
        # Some clients send "" for no operation name.
        named = data.operation_name or None
        operation = Operation(
            replace(data, query=query, operation_name=named),
            register=register,
            persisted="persistedQuery" in (data.extensions or {}),
        )
        if not query:
            raise BadRequest("no GraphQL query found in the request")
        try:
            document = parse_document(query)
        except GraphQLSyntaxError:
            return operation  # strawberry answers with the syntax error
        chosen = _choose(
            [d for d in document.definitions if isinstance(d, OperationDefinitionNode)],
            named,
        )
        if isinstance(chosen, str):
            operation.refusal = _refused(chosen, "BAD_REQUEST")
        else:
            operation.cost = max(1, operation_cost(document, chosen))
            operation.document, operation.chosen = document, chosen
            operation.kept = operation.persisted and data.query is None
        return operation

    async def _run_all(
        self,
        operations: list[Operation],
        request: Request,
        request_adapter: Any,
        context: Context,
        root_value: Any,
        sub_response: Any,
    ) -> list[ExecutionResult]:
        async def run(operation: Operation) -> ExecutionResult:
            if operation.refusal is not None:
                return operation.refusal
            result = await self.execute_single(
                request, request_adapter, sub_response, context, root_value, operation.data
            )
            await self._register(operation, result, context)
            return result

        if len(operations) == 1:
            results = [await run(operations[0])]
        else:
            results = list(await asyncio.gather(*(run(o) for o in operations)))
        for result in results:
            for error in result.errors or ():
                if is_unavailable(error.original_error):
                    raise error.original_error  # type: ignore[misc]  # EdgeErrors: 503
        return results

    async def _register(
        self, operation: Operation, result: ExecutionResult, context: Context
    ) -> None:
        """Keep a persisted query's document once it ran without being refused."""
        principal = context.principal
        refused = any(e.path is None for e in result.errors or ())
        if operation.register and operation.data.query and not refused and principal is not None:
            caller = f"{principal.programme_id}:{principal.scope}"
            operation.kept = await self.persisted.register(
                operation.register, operation.data.query, caller=caller
            )

    @staticmethod
    def _log_client_errors(results: list[ExecutionResult]) -> None:
        """At most one line per request for what the caller got wrong; bugs are not here."""
        codes = sorted(
            {
                str((error.extensions or {}).get("code"))
                for result in results
                for error in result.errors or ()
                if is_readable(error)
            }
        )
        if codes:
            log.info("request answered with client errors: %s", ", ".join(codes))
