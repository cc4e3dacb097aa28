"""Requests refused at the HTTP edge, as GraphQL error documents with a code, and the pure-ASGI
layer that answers them: whatever is raised below it becomes a JSON answer the caller can
act on — the request's own fault (4xx), a database outage (503 with Retry-After: retry, with
the same idempotency key), or a bug (500, logged with its traceback)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.media_types import CONTENT_TYPES, negotiate
from db.connection import is_unavailable

log = logging.getLogger("loyalty.api")

BAD_REQUEST = "BAD_REQUEST"
SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
OUTAGE_RETRY_AFTER_SECONDS = 5
UNEXPECTED = "Unexpected error."
CODES_BY_STATUS = {
    400: BAD_REQUEST,
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    503: SERVICE_UNAVAILABLE,
}


class EdgeError(Exception):
    """A request answered without running it: the HTTP status, a code, a message that is
    safe to show (it never repeats what the caller sent)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or CODES_BY_STATUS.get(status, BAD_REQUEST)
        self.headers = dict(headers or {})


class BadRequest(EdgeError):
    def __init__(self, message: str) -> None:
        super().__init__(400, message)


class ServiceUnavailable(EdgeError):
    def __init__(self) -> None:
        super().__init__(
            503,
            "the database is unavailable; retry shortly (with the same idempotency key: "
            "a retried mutation is never applied twice)",
            headers={"Retry-After": str(OUTAGE_RETRY_AFTER_SECONDS)},
        )


def error_document(message: str, code: str, **extensions: Any) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}


async def send_json(
    send: Send,
    status: int,
    body: object,
    headers: Mapping[str, str],
    *,
    content_type: str = "application/json",
) -> None:
    payload = orjson.dumps(body)
    raw = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(payload)).encode()),
        *((name.lower().encode(), value.encode()) for name, value in headers.items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


def classify(error: Exception) -> EdgeError:
    """What the caller is told, and the one log line (or traceback) the operator gets."""
    if isinstance(error, EdgeError):
        log.info("request refused: %s %s", error.status, error.code)
        return error
    if is_unavailable(error):
        log.warning("database unavailable: %s", type(error).__name__)
        return ServiceUnavailable()
    log.error("unexpected error at the edge", exc_info=error)
    return EdgeError(500, UNEXPECTED, code="INTERNAL_SERVER_ERROR")


class EdgeErrors:
    """Outermost layer of the app: turns an exception raised below into a JSON answer, as
    long as no response has started (a started one cannot be taken back)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_tracked)
        except Exception as error:
            if started:
                raise
            edge = classify(error)
            accept = Headers(scope=scope).get("accept")
            await send_json(
                send,
                edge.status,
                error_document(edge.message, edge.code),
                # a refusal is about this request: no cache may answer another with it
                {"Cache-Control": "no-store", **edge.headers},
                content_type=CONTENT_TYPES[negotiate(accept)],
            )
