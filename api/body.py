"""Request bodies: a size limit enforced while the body streams in (a 1 GB upload is refused
after the first megabyte, not buffered first), and strict JSON decoding."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import BadRequest, EdgeError

DEFAULT_MAX_BODY_BYTES = 1024 * 1024


class BodyTooLarge(EdgeError):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


class BodyLimit:
    """Pure ASGI: a declared Content-Length over the limit is refused before reading; a body
    without one is counted as it arrives, and refused as soon as it passes the limit (the
    app reading it gets BodyTooLarge, which EdgeErrors answers with 413)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit():
                    raise BadRequest("Content-Length is not a number")
                if int(value) > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
        received = 0

        async def receive_limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, receive_limited, send)


def decode_json(body: str | bytes) -> Any:
    """The body (or a query parameter) as JSON, or BadRequest: not UTF-8, not JSON, or nested
    past what the decoder can follow. Escaped lone surrogates (`"\\ud800"`) decode, as JSON
    allows; the schema's input checks refuse them where a field would store them."""
    try:
        return json.loads(body.decode("utf-8") if isinstance(body, bytes) else body)
    except UnicodeDecodeError:
        raise BadRequest("the request body is not UTF-8") from None
    except RecursionError:
        raise BadRequest("the request body is nested too deeply") from None
    except ValueError:
        raise BadRequest("the request body is not JSON") from None
