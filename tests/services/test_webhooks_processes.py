"""Deliverers as operators run them, in processes of their own, on PostgreSQL: killed mid-batch,
two at once, and the worker's jobs once at a time across workers."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from db.models import WebhookDelivery, WebhookEndpoint
from services.schedule import Job, run_scheduled
from tests.conftest import DATABASE_URL, needs_postgres
from tests.fixtures.graphql import JWT_SECRET, WEBHOOK_KEY
from tests.fixtures.receiver import Receiver, receiver
from tests.fixtures.servers import PROJECT, loyalty_env
from tests.fixtures.webhooks import configure, make_endpoint, record_events

pytestmark = needs_postgres


@pytest.fixture(autouse=True)
async def clean_endpoints() -> AsyncIterator[None]:
    configure()
    yield
    await WebhookEndpoint.all().delete()


@contextmanager
def deliverer(tmp_path: Path, name: str, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    env = loyalty_env(
        LOYALTY_DATABASE_URL=DATABASE_URL,
        LOYALTY_JWT_SECRET=JWT_SECRET,
        LOYALTY_WEBHOOK_KEYS=WEBHOOK_KEY,
        LOYALTY_DATA_DIR=str(tmp_path / "data"),
        LOYALTY_LOG_LEVEL="WARNING",
    )
    log = (tmp_path / f"{name}.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", *args], cwd=PROJECT, env=env, stdout=log, stderr=log
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)
        log.close()


async def wait_until(rx: Receiver, unique: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while len(set(rx.ids())) < unique and time.monotonic() < deadline:
        await asyncio.sleep(0.1)


async def test_a_deliverer_killed_mid_batch_loses_nothing(programme, tmp_path) -> None:
    with receiver() as rx:
        rx.delay = 0.01  # so the batch is still going when the deliverer dies
        made = await make_endpoint(programme, rx.url)
        ids = await record_events(programme, 500)
        # given a deliverer halfway through 500 events
        with deliverer(tmp_path, "first", "deliver-webhooks", "--lease-seconds", "3") as first:
            await wait_until(rx, 150, seconds=60)
            # when it is killed without warning
            os.kill(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
        received_before = len(set(rx.ids()))
        assert 150 <= received_before < 500, received_before
        # and another process starts (the worker, which also delivers)
        with deliverer(
            tmp_path, "second", "worker", "--lease-seconds", "3", "--jobs-every", "3600"
        ):
            await wait_until(rx, 500, seconds=90)
        # then every event arrived at least once, and de-duplication by webhook-id leaves 500
        assert set(rx.ids()) == set(ids)
        assert len(set(rx.ids())) == 500
        assert len(rx.received) >= 500
        statuses = await WebhookDelivery.filter(endpoint_id=made.endpoint.id).values_list(
            "status", flat=True
        )
        assert statuses == ["succeeded"] * 500


async def test_two_deliverers_deliver_1000_events_none_twice(programme, tmp_path) -> None:
    with receiver() as rx:
        await make_endpoint(programme, rx.url)
        ids = await record_events(programme, 1000)
        with (
            deliverer(tmp_path, "one", "deliver-webhooks") as one,
            deliverer(tmp_path, "two", "deliver-webhooks") as two,
        ):
            await wait_until(rx, 1000, seconds=120)
            await asyncio.sleep(1)  # time for a second copy to arrive, if one were coming
            assert one.poll() is None and two.poll() is None  # both healthy throughout
        assert sorted(rx.ids()) == sorted(ids)  # each once: no id twice, none missing


async def test_a_periodic_job_runs_once_at_a_time_across_workers() -> None:
    running, most, runs = 0, 0, 0

    async def slow_job() -> None:
        nonlocal running, most, runs
        running += 1
        runs += 1
        most = max(most, running)
        await asyncio.sleep(0.3)
        running -= 1

    job = Job("slow", 99, 0.05, slow_job)
    stop = asyncio.Event()
    workers = [
        asyncio.create_task(run_scheduled(stop, DATABASE_URL, jobs=[job], tick=0.02))
        for _ in range(3)
    ]
    await asyncio.sleep(1.5)
    stop.set()
    await asyncio.gather(*workers)
    assert runs >= 3
    assert most == 1
