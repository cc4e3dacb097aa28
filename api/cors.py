"""CORS for browser apps that call /graphql with a member token or a storefront key:
starlette's middleware, with an allow-list from LOYALTY_CORS_ORIGINS and nothing allowed
by default. Credentials travel in the `Authorization` header, never in cookies, so
`allow_credentials` stays off: a page from another origin cannot make the browser attach
anything the page itself does not hold."""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

METHODS = ["GET", "POST"]
# What a browser app sends beyond the safelisted headers: its credential, a JSON body's
# Content-Type, a request id of its own (echoed in logs).
REQUEST_HEADERS = ["Authorization", "Content-Type", "X-Request-Id"]
# What it may read beyond the safelisted ones: when to retry, and the request id to quote.
RESPONSE_HEADERS = ["Retry-After", "X-Request-Id"]
PREFLIGHT_SECONDS = 600


def cors(origins: tuple[str, ...]) -> Middleware:
    return Middleware(
        CORSMiddleware,
        allow_origins=list(origins),
        allow_methods=METHODS,
        allow_headers=REQUEST_HEADERS,
        expose_headers=RESPONSE_HEADERS,
        allow_credentials=False,
        max_age=PREFLIGHT_SECONDS,
    )
