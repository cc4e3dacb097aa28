"""Issue 16: the access line every request writes costs no more than it must — no caller
frame looked up, no process id asked of the system, its logger bound once per configuration
— and still goes where the last configuration sends it, with the request's id bound only
while the request runs."""

from __future__ import annotations

import io
import json
import os

import pytest
import structlog

from api import logs
from api.observe import ACCESS_LOGGER
from domain.auth import Role
from tests.graphql.test_audit import REGISTER, entries


def unconfigured() -> None:
    """Back to structlog's defaults, as before any test configured the logs (the access
    line then stays out of pytest's caplog, which tests of other files count)."""
    logs.configure("INFO", "text")
    structlog.reset_defaults()


@pytest.fixture
def json_stream():
    stream = io.StringIO()
    logs.configure("INFO", "json", stream=stream)
    yield stream
    unconfigured()


def access_lines(stream: io.StringIO) -> list[dict]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line]
    return [line for line in lines if line["logger"] == ACCESS_LOGGER]


async def test_an_access_line_walks_no_stack_and_asks_no_process_id(http, json_stream, monkeypatch):
    calls = {"find_caller": 0, "getpid": 0}
    find_caller, getpid = structlog.stdlib._FixedFindCallerLogger.findCaller, os.getpid

    def counted_find_caller(self, *args, **kwargs):
        calls["find_caller"] += 1
        return find_caller(self, *args, **kwargs)

    def counted_getpid():
        calls["getpid"] += 1
        return getpid()

    monkeypatch.setattr(structlog.stdlib._FixedFindCallerLogger, "findCaller", counted_find_caller)
    monkeypatch.setattr(os, "getpid", counted_getpid)
    response = await http.post("/graphql", content=b"{not json")
    assert response.status_code == 400
    [line] = access_lines(json_stream)
    assert line["request_id"] == response.headers["X-Request-Id"]
    assert line["timestamp"].endswith("Z")  # UTC, ISO 8601
    assert calls == {"find_caller": 0, "getpid": 0}


async def test_the_kept_access_logger_follows_a_new_configuration(http):
    first, second = io.StringIO(), io.StringIO()
    try:
        logs.configure("INFO", "json", stream=first)
        await http.post("/graphql", content=b"{not json")
        logs.configure("INFO", "json", stream=second)
        await http.post("/graphql", content=b"{not json")
    finally:
        unconfigured()
    assert len(access_lines(first)) == 1 and len(access_lines(second)) == 1


async def test_a_request_id_is_bound_only_while_its_request_runs(http, json_stream):
    outer = structlog.contextvars.bind_contextvars(request_id="outer")
    try:
        response = await http.post("/graphql", content=b"{not json")
        assert structlog.contextvars.get_contextvars()["request_id"] == "outer"
    finally:
        structlog.contextvars.reset_contextvars(**outer)
    assert "request_id" not in structlog.contextvars.get_contextvars()
    [line] = access_lines(json_stream)
    assert line["request_id"] == response.headers["X-Request-Id"] != "outer"


async def test_a_request_without_an_id_has_one_in_its_answer_and_its_audit_row(
    http, gql, programme, make_key
):
    # (the context made a second id of its own: the audit row could not be found from the log)
    admin = await make_key(programme, Role.ADMIN)
    response = await http.post(
        "/graphql",
        json={
            "query": REGISTER,
            "variables": {
                "input": {"externalId": "rid-1", "displayName": "R", "idempotencyKey": "rid-1"}
            },
        },
        headers={"Authorization": f"Bearer {admin}"},
    )
    assert response.json()["data"]["registerMember"]["__typename"] == "RegisterMemberSuccess"
    [row] = await entries(gql, admin, op="registerMember")
    assert row["requestId"] == response.headers["X-Request-Id"]
