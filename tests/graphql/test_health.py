"""Liveness, readiness and metrics endpoints."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from api.app import create_app
from tests.fixtures.graphql import test_settings as settings_with

UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


class StubCache:
    """Stands in for the Redis cache; only readiness asks it anything."""

    def __init__(self, *, healthy: bool) -> None:
        self.healthy = healthy

    async def ping(self) -> bool:
        return self.healthy


@pytest.fixture
async def redis_http() -> AsyncIterator[httpx.AsyncClient]:
    """An app configured with a Redis URL (the test replaces the cache it would talk to)."""
    app = create_app(settings_with(LOYALTY_REDIS_URL=UNREACHABLE_REDIS), manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_healthz_answers(http):
    # when
    response = await http.get("/healthz")
    # then
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_ready_with_a_reachable_database(http):
    # when
    response = await http.get("/readyz")
    # then
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"]["database"] is True


async def test_metrics_are_prometheus_text(http):
    # when
    response = await http.get("/metrics")
    # then
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "# TYPE loyalty_" in response.text


async def test_readyz_is_unavailable_when_the_database_ping_fails(http, monkeypatch):
    # given
    async def failing_ping() -> bool:
        return False

    monkeypatch.setattr("api.app.ping", failing_ping)
    # when
    response = await http.get("/readyz")
    # then
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] is False


async def test_readyz_is_ready_when_configured_redis_answers(redis_http, monkeypatch):
    # given
    monkeypatch.setattr("api.app.get_cache", lambda: StubCache(healthy=True))
    # when
    response = await redis_http.get("/readyz")
    # then
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": True, "redis": True}


async def test_readyz_is_ready_but_degraded_when_configured_redis_fails(redis_http, monkeypatch):
    """Requests still succeed from the database without Redis: a load balancer must keep
    the instance (RELIABILITY 30)."""
    # given
    monkeypatch.setattr("api.app.get_cache", lambda: StubCache(healthy=False))
    # when
    response = await redis_http.get("/readyz")
    # then
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"] == {"database": True, "redis": False}


async def test_readyz_is_unavailable_when_the_database_fails_whatever_redis_says(
    redis_http, monkeypatch
):
    # given
    async def failing_ping() -> bool:
        return False

    monkeypatch.setattr("api.app.ping", failing_ping)
    monkeypatch.setattr("api.app.get_cache", lambda: StubCache(healthy=True))
    # when
    response = await redis_http.get("/readyz")
    # then
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": False, "redis": True},
    }
