"""What each request leaves for the operator: one access-log line and the request metrics.

The outermost layer of the app. It takes the caller's `X-Request-Id` (or makes one), binds
it for every log line the request causes, and echoes it in the response. The GraphQL view
tells it what ran (`graphql_request`): operation names, persisted-query hashes, who called
(the principal's kind and programme, never a credential, a member or a query's variables)
and the error codes; a request refused before that is known by its status alone.

Access lines of probes and scrapes (/healthz, /readyz, /metrics) are at DEBUG."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import structlog
from graphql import GraphQLError, OperationDefinitionNode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import CODES_BY_STATUS
from api.logs import bound_logger
from api.metrics import record_database_pool
from db.metrics import GRAPHQL_ERRORS, REQUEST_SECONDS, THROTTLED_REQUESTS, operation_label
from domain.auth import Principal
from schema.limits import parse_document
from services.privacy_export import EXPORT_PATH

HEADER = "x-request-id"
_ACCEPTED_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
THROTTLED = "THROTTLED"
# Operation names the README and GraphiQL use: known without being persisted.
KNOWN_OPERATIONS = frozenset({"MemberPage"})

ACCESS_LOGGER = "loyalty.access"


@dataclass
class RequestFacts:
    """Filled in by the GraphQL view while the request runs."""

    operations: list[str | None] = field(default_factory=list)
    persisted: list[str] = field(default_factory=list)
    known_names: set[str] = field(default_factory=set)  # of documents the server keeps
    principal: str | None = None
    programme_id: int | None = None
    codes: list[str] = field(default_factory=list)
    ran: bool = False
    request_id: str | None = None  # what the log lines and the response carry


_facts: ContextVar[RequestFacts | None] = ContextVar("loyalty_request_facts", default=None)


def request_id() -> str | None:
    """The request id this layer bound for the request being served (None outside one)."""
    facts = _facts.get()
    return facts.request_id if facts is not None else None


def graphql_request(
    principal: Principal | None,
    requests: Sequence[Any],
    results: Sequence[Any],
    known_names: Sequence[str] = (),
) -> None:
    """Called by the view with each operation's request data and its result, and the names
    of the operations whose documents the server keeps (persisted queries it found or
    registered): only those may name a metrics series."""
    facts = _facts.get()
    if facts is None:
        return
    facts.ran = True
    facts.known_names.update(known_names)
    if principal is not None:
        facts.principal = principal.role.value
        facts.programme_id = principal.programme_id
    for data in requests:
        facts.operations.append(data.operation_name or _only_name(data.query))
        persisted = (data.extensions or {}).get("persistedQuery")
        digest = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
        if isinstance(digest, str) and len(digest) == 64:
            facts.persisted.append(digest)
    for result in results:
        for error in result.errors or ():
            code = (error.extensions or {}).get("code")
            facts.codes.append(code if isinstance(code, str) else "INTERNAL_SERVER_ERROR")


def _only_name(query: str | None) -> str | None:
    """The name of a document's one operation (from the parser cache: already parsed)."""
    if not query:
        return None
    try:
        document = parse_document(query)
    except GraphQLError:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) == 1 and operations[0].name is not None:
        return operations[0].name.value
    return None


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if _ACCEPTED_ID.fullmatch(candidate):
                return candidate
            break
    return uuid.uuid4().hex


def _outcome(status: int, codes: list[str]) -> str:
    if status == 429 or THROTTLED in codes:
        return "throttled"
    if status == 503:
        return "unavailable"
    if status >= 500:
        return "server_error"
    if status >= 400:
        return "refused"
    return "errors" if codes else "ok"


class RequestObserver:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        facts = RequestFacts(request_id=request_id)
        token = _facts.set(facts)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        # (bind and reset by token: structlog's bound_contextvars copies the whole context)
        bound = structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            try:
                self._finish(scope, facts, status, time.perf_counter() - started)
            finally:
                structlog.contextvars.reset_contextvars(**bound)
                _facts.reset(token)

    @staticmethod
    def _finish(scope: Scope, facts: RequestFacts, status: int, seconds: float) -> None:
        # With several workers a scrape sums what each worker last wrote: each keeps its
        # pool figures current itself (a few attribute reads), not only when scraped.
        record_database_pool()
        path = scope["path"]
        if path.startswith(EXPORT_PATH):
            # An export link's token is a bearer credential for the member's whole record.
            path = EXPORT_PATH + "<token>"
        codes = facts.codes
        if not facts.ran and status >= 400:
            codes = [CODES_BY_STATUS.get(status, "INTERNAL_SERVER_ERROR")]
        outcome = _outcome(status, codes)
        # GraphQL requests only: not a CORS preflight, nor a browser opening GraphiQL (a GET
        # that never reached the view and was not refused); both still get their log line.
        if (
            path == "/graphql"
            and scope["method"] in ("GET", "POST")
            and (facts.ran or status >= 400)
        ):
            names = {
                operation_label(name, known=name in facts.known_names or name in KNOWN_OPERATIONS)
                for name in facts.operations
            }
            label = names.pop() if len(names) == 1 else "batch" if names else "other"
            REQUEST_SECONDS.labels(label, outcome).observe(seconds)
            for code in codes:
                GRAPHQL_ERRORS.labels(code).inc()
            if outcome == "throttled":
                THROTTLED_REQUESTS.inc()
        fields: dict[str, Any] = {
            "method": scope["method"],
            "path": path,
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
            "outcome": outcome,
        }
        if facts.operations:
            fields["operation"] = [name or "(anonymous)" for name in facts.operations]
        if facts.persisted:
            fields["persisted_query"] = facts.persisted
        if facts.principal is not None:
            fields["principal"] = facts.principal
            fields["programme_id"] = facts.programme_id
        if codes:
            fields["error_codes"] = sorted(set(codes))
        log = bound_logger(ACCESS_LOGGER)
        if path in QUIET_PATHS:
            log.debug("request", **fields)
        else:
            log.info("request", **fields)
