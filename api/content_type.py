"""A Content-Type parser for the GraphQL view. strawberry parses the header with
`email.message.Message`, which was about 6% of a member page request in the profile; this
gives the same answer for the headers clients send (a test holds the two together)."""

from __future__ import annotations

from functools import lru_cache

from strawberry.http import async_base_view


@lru_cache(maxsize=64)
def parse_content_type(content_type: str) -> tuple[str, dict[str, str]]:
    mime, *parts = content_type.split(";")
    params: dict[str, str] = {}
    for part in parts:
        name, sep, value = part.strip().partition("=")
        if sep:
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            params[name.strip().lower()] = value
    return (mime.strip() or "text/plain"), params


def install() -> None:
    # The view looks the function up in its module at each request: replacing it there is
    # enough, and leaves the rest of strawberry as it is.
    async_base_view.parse_content_type = parse_content_type  # type: ignore[attr-defined]
