"""Logs an operator can run on (issue 14, point 2): one access line per request in every
mode, JSON or text, with the request id on every line the request causes and no secret."""

from __future__ import annotations

import io
import json
import logging
import uuid

import pytest

from api import logs
from tests.fixtures.graphql import WEBHOOK_KEY
from tests.fixtures.servers import loyalty, loyalty_env, loyalty_server

NAMED = "query MemberList { members(first: 1) { edges { node { externalId } } } }"
BAD_INPUT = "query Broken { member(externalId: 5) { externalId } }"


@pytest.fixture
def log_output():
    """The app's log lines, as the configured handler writes them, for the test's duration."""
    stream = io.StringIO()

    def lines() -> list[str]:
        return [line for line in stream.getvalue().splitlines() if line]

    def use(log_format: str) -> None:
        stream.seek(0)
        stream.truncate()
        logs.configure("INFO", log_format, stream=stream)

    yield use, lines
    logs.configure("INFO", "text")  # back to stderr for the tests after this one


async def test_a_json_access_line_carries_what_ran_and_who_asked(
    http, programme, make_key, log_output
):
    # given
    use, lines = log_output
    use("json")
    key = await make_key(programme)
    # when
    response = await http.post(
        "/graphql",
        json={"query": NAMED},
        headers={"Authorization": f"Bearer {key}", "X-Request-Id": "shop-7f3a"},
    )
    # then
    assert response.status_code == 200
    assert response.headers["X-Request-Id"] == "shop-7f3a"
    [line] = [json.loads(line) for line in lines() if '"loyalty.access"' in line]
    assert line["event"] == "request"
    assert line["request_id"] == "shop-7f3a"
    assert line["status"] == 200 and line["outcome"] == "ok"
    assert line["operation"] == ["MemberList"]
    assert line["principal"] == "admin" and line["programme_id"] == programme.id
    assert line["duration_ms"] > 0
    assert "error_codes" not in line
    assert key not in "\n".join(lines())


async def test_every_line_of_a_request_carries_its_id_and_codes_are_logged(
    http, programme, make_key, log_output
):
    # given a request the view writes a line of its own for (a client error)
    use, lines = log_output
    use("json")
    key = await make_key(programme)
    # when
    response = await http.post(
        "/graphql",
        json={"query": BAD_INPUT},
        headers={"Authorization": f"Bearer {key}", "X-Request-Id": "r-2"},
    )
    # then
    # (the test client's own line, written after the answer, is not the server's)
    written = [json.loads(line) for line in lines()]
    written = [line for line in written if line["logger"].startswith("loyalty.")]
    assert {line["logger"] for line in written} == {"loyalty.api", "loyalty.access"}
    assert {line.get("request_id") for line in written} == {"r-2"}
    access = next(line for line in written if line["logger"] == "loyalty.access")
    assert access["error_codes"] == [response.json()["errors"][0]["extensions"]["code"]]
    assert access["outcome"] == "errors"


async def test_a_request_id_is_made_when_none_or_an_unsafe_one_is_sent(http, log_output):
    use, lines = log_output
    use("json")
    made = await http.get("/healthz")
    unsafe = await http.get("/healthz", headers={"X-Request-Id": "a\tb" + "x" * 200})
    assert len(made.headers["X-Request-Id"]) == 32
    assert len(unsafe.headers["X-Request-Id"]) == 32
    assert made.headers["X-Request-Id"] != unsafe.headers["X-Request-Id"]
    # and probes are logged at DEBUG, below the INFO the handler is set to
    assert not [line for line in lines() if '"loyalty.access"' in line]


async def test_an_edge_refusal_is_logged_with_its_status_and_code(http, log_output):
    use, lines = log_output
    use("json")
    response = await http.post(
        "/graphql", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    [access] = [json.loads(line) for line in lines() if '"loyalty.access"' in line]
    assert access["status"] == 400
    assert access["error_codes"] == ["BAD_REQUEST"] and access["outcome"] == "refused"
    assert access["request_id"] == response.headers["X-Request-Id"]


async def test_text_format_is_one_key_value_line(http, programme, make_key, log_output):
    use, lines = log_output
    use("text")
    key = await make_key(programme)
    await http.post(
        "/graphql",
        json={"query": NAMED},
        headers={"Authorization": f"Bearer {key}", "X-Request-Id": "t-1"},
    )
    [line] = [line for line in lines() if "loyalty.access" in line]
    assert "request_id=t-1" in line and "status=200" in line and "principal=admin" in line
    assert not line.lstrip().startswith("{")


def test_log_format_is_checked_and_defaults_by_mode(tmp_path):
    from api.settings import SettingsError, load

    base = {
        "LOYALTY_DATA_DIR": str(tmp_path),
        "LOYALTY_JWT_SECRET": "s" * 32,
        "LOYALTY_WEBHOOK_KEYS": WEBHOOK_KEY,
    }
    assert load(base).log_format == "text"
    assert load({**base, "LOYALTY_MODE": "production"}).log_format == "json"
    assert load({**base, "LOYALTY_LOG_FORMAT": "json"}).log_format == "json"
    with pytest.raises(SettingsError, match="LOYALTY_LOG_FORMAT"):
        load({**base, "LOYALTY_LOG_FORMAT": "xml"})


def test_a_production_server_logs_every_request_as_json(tmp_path):
    # given a real `loyalty serve` in production mode
    env = loyalty_env(
        LOYALTY_DATA_DIR=str(tmp_path),
        LOYALTY_MODE="production",
        LOYALTY_JWT_SECRET="p" * 40,
        LOYALTY_WEBHOOK_KEYS=WEBHOOK_KEY,
    )
    loyalty(env, "migrate")
    created = loyalty(env, "create-programme", "logs", "--name", "Logs")
    key = created.split("admin key (shown once): ")[1].strip()
    log = tmp_path / "server.log"
    import httpx

    with loyalty_server(env, log) as base:
        # when
        response = httpx.post(
            f"{base}/graphql",
            json={"query": NAMED},
            headers={"Authorization": f"Bearer {key}", "X-Request-Id": "prod-1"},
        )
        assert response.status_code == 200
    # then every line is JSON, and the request has its one access line
    written = [json.loads(line) for line in log.read_text().splitlines()]
    [access] = [line for line in written if line.get("request_id") == "prod-1"]
    assert access["logger"] == "loyalty.access" and access["operation"] == ["MemberList"]
    assert access["principal"] == "admin" and access["status"] == 200
    assert key not in log.read_text()
    assert not [line for line in written if line["logger"] == "uvicorn.access"]


def test_the_root_logger_keeps_other_handlers():
    # a test runner's handler (pytest's) is not removed by configure
    marker = logging.NullHandler()
    logging.getLogger().addHandler(marker)
    try:
        logs.configure("INFO", "json", stream=io.StringIO())
        assert marker in logging.getLogger().handlers
    finally:
        logging.getLogger().removeHandler(marker)
        logs.configure("INFO", "text")


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_traceback_shows_no_local_variable(log_output, log_format):
    """structlog's text renderer draws tracebacks with rich when rich is installed (the dev
    tools pull it in) and then prints every frame's local variables: a key, a token or a
    member's e-mail in any frame of a bug's traceback would be written to the log."""
    # given
    use, lines = log_output
    use(log_format)

    def charge(authorization: str) -> None:
        secret = authorization.removeprefix("Bearer ")  # noqa: F841 - a local, as in a bug
        raise ZeroDivisionError("a bug")

    key = "lk_" + uuid.uuid4().hex  # not in this file's text, which a traceback may quote
    # when
    try:
        charge(f"Bearer {key}")
    except ZeroDivisionError:
        logging.getLogger("loyalty.api").exception("unexpected error")
    # then: the traceback is there, its frames' variables are not
    written = "\n".join(lines())
    assert "ZeroDivisionError" in written and "charge" in written
    assert key not in written
