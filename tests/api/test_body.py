"""Request bodies (issue 13, item 1): anything that is not a GraphQL request is a 400 with
BAD_REQUEST, never a 500; a body over LOYALTY_MAX_BODY_BYTES is a 413, refused while it
streams in rather than after it was buffered."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from api.app import create_app
from tests.fixtures.graphql import test_settings as settings_with

NOT_A_REQUEST = {
    "null": b"null",
    "number": b"5",
    "string": b'"x"',
    "boolean": b"true",
    "list of number": b"[1]",
    "list of null": b"[null]",
    "list of list": b"[[]]",
    "empty batch": b"[]",
    "one bad item in a batch": b'[{"query": "{ __typename }"}, 7]',
    "query not a string": b'{"query": 5}',
    "variables not an object": b'{"query": "{ __typename }", "variables": [1]}',
    "operationName not a string": b'{"query": "{ __typename }", "operationName": 3}',
    "extensions not an object": b'{"query": "{ __typename }", "extensions": "x"}',
    "no query": b'{"variables": {}}',
    "invalid UTF-8": b"\xff",
    "invalid UTF-8 in a string": b'{"query": "\xff"}',
    "not JSON": b"{query",
    "100,000 [": b"[" * 100_000,
    "100,000 {": b'{"a":' * 100_000,
}


async def post(client: httpx.AsyncClient, body: bytes, **headers: str) -> httpx.Response:
    return await client.post(
        "/graphql", content=body, headers={"Content-Type": "application/json", **headers}
    )


@pytest.mark.parametrize("body", NOT_A_REQUEST.values(), ids=NOT_A_REQUEST.keys())
async def test_a_body_that_is_not_a_graphql_request_is_a_400_with_a_code(http, body):
    # when
    response = await post(http, body)
    # then
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert len(response.content) < 300  # says what is wrong without repeating the body


async def test_a_body_that_is_not_json_typed_is_a_400_with_a_code(http):
    response = await post(http, b"{ __typename }", **{"Content-Type": "text/plain"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


@pytest.fixture
async def small_bodies() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings_with(LOYALTY_MAX_BODY_BYTES="2048"), manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


def padded(size: int) -> bytes:
    """A valid request of exactly `size` bytes."""
    body = json.dumps({"query": "{ __typename }"}).encode()
    return body[:-1] + b" " * (size - len(body)) + b"}"


async def test_a_body_at_the_limit_is_read(small_bodies):
    response = await post(small_bodies, padded(2048))
    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"__typename": "Query"}


async def test_a_body_over_the_limit_is_a_413(small_bodies):
    response = await post(small_bodies, padded(2049))
    assert response.status_code == 413, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def call(app: Any, headers: list[tuple[bytes, bytes]], chunks: int) -> tuple[list, int]:
    """Drive the app as a server would, with a body of `chunks` 64 KiB chunks; what it sent
    back, and how many chunks it read."""
    chunk = b" " * 65_536
    pulled = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": chunk, "more_body": pulled < chunks}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("test", 80),
    }
    await app(scope, receive, send)
    return sent, pulled


async def test_a_body_without_a_length_is_refused_once_past_the_limit_not_read_to_its_end():
    # given a 1 GiB body in 64 KiB chunks with no Content-Length (chunked encoding)
    app = create_app(settings_with(), manage_database=False)
    # when
    sent, pulled = await call(app, [(b"transfer-encoding", b"chunked")], chunks=16_384)
    # then it stopped reading just past the default 1 MiB
    assert sent[0]["status"] == 413
    assert pulled == 1024 * 1024 // 65_536 + 1
    assert json.loads(sent[1]["body"])["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_a_declared_length_over_the_limit_is_refused_before_reading_a_byte():
    app = create_app(settings_with(), manage_database=False)
    sent, pulled = await call(app, [(b"content-length", str(2**30).encode())], chunks=16_384)
    assert (sent[0]["status"], pulled) == (413, 0)


async def test_a_content_length_that_is_not_a_number_is_a_400(http):
    response = await http.post(
        "/graphql",
        content=b'{"query": "{ __typename }"}',
        headers={"Content-Type": "application/json", "Content-Length": "12x"},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
