"""/metrics: Prometheus' text format.

One process: the default registry (with the process and platform collectors). Several
workers (`PROMETHEUS_MULTIPROC_DIR` set, which `loyalty serve` does when LOYALTY_WORKERS > 1):
each worker writes its values to files in that directory and any worker's scrape reads all
of them, so one scrape sees every worker (prometheus-client's multiprocess mode; it has no
per-process CPU or memory metrics). `loyalty run-jobs` run with the same directory adds its
job metrics to what the servers show."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from starlette.requests import Request
from starlette.responses import Response
from tortoise import connections

from db.metrics import record_pool

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def prepare_multiprocess_dir(path: Path) -> None:
    """Before the workers start: an empty directory, so no dead process's gauges linger."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(path)


def record_database_pool() -> None:
    try:
        client = connections.get("default")
    except Exception:  # not opened (yet)
        return
    pool = getattr(client, "_pool", None)  # asyncpg only; SQLite has one connection
    if pool is not None:
        record_pool(pool)


def worker_stopped() -> None:
    """Drop this worker's live gauges from the multiprocess files."""
    if multiprocess_dir():
        multiprocess.mark_process_dead(os.getpid())


async def metrics(request: Request) -> Response:
    record_database_pool()
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
