"""The two media types a GraphQL answer is sent as (GraphQL over HTTP), chosen from the
request's Accept header.

`application/graphql-response+json` lets the status say what happened: a request refused
before anything ran is a 4xx. `application/json` is what older clients understand: every
GraphQL answer is a 200. A client gets the new one only by asking for it by name (Apollo
Client, graphql-http and urql do) and preferring it at least as much as plain JSON; no
Accept, `*/*`, `application/*` or an Accept naming neither type gets `application/json`, as
the graphql-http audit expects, rather than a 406."""

from __future__ import annotations

from functools import lru_cache

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
CONTENT_TYPES = {
    GRAPHQL_RESPONSE: "application/graphql-response+json; charset=utf-8",
    JSON: "application/json",
}

# How closely a media range names a type: a range that names it exactly decides its q over
# `application/*`, which decides it over `*/*` (RFC 9110, 12.5.1).
_EXACT, _SUBTYPE_WILDCARD, _WILDCARD, _UNNAMED = 3, 2, 1, 0


def _q(params: list[str]) -> float:
    for param in params:
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return min(max(float(value), 0.0), 1.0)
            except ValueError:
                return 0.0
    return 1.0


def _preference(accept: str, media_type: str) -> tuple[float, int]:
    """`media_type`'s q in `accept`, and how closely the range that gave it names it."""
    q, closeness = 0.0, _UNNAMED
    for media_range in accept.split(","):
        mime, *params = media_range.split(";")
        mime = mime.strip().lower()
        if mime == media_type:
            match = _EXACT
        elif mime == "application/*":
            match = _SUBTYPE_WILDCARD
        elif mime == "*/*":
            match = _WILDCARD
        else:
            continue
        if match > closeness:
            q, closeness = _q(params), match
    return q, closeness


@lru_cache(maxsize=64)
def negotiate(accept: str | None) -> str:
    """GRAPHQL_RESPONSE or JSON, for this Accept header."""
    if not accept:
        return JSON
    new_q, new_named = _preference(accept, GRAPHQL_RESPONSE)
    old_q, _ = _preference(accept, JSON)
    if new_q > old_q or (new_q == old_q > 0 and new_named == _EXACT):
        return GRAPHQL_RESPONSE
    return JSON
