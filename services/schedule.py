"""`loyalty worker`'s periodic jobs: each on its interval, and each at most once at a time across
every worker. On PostgreSQL a session advisory lock, taken with try (a worker that does not get
it skips that round) on a connection of its own: if the worker dies, its connection closes and
the lock goes with it. On SQLite (one process) a lock in the process does."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg

from db.config import dialect, normalise_url

log = logging.getLogger("loyalty.worker")

JOBS_LOCK = 0x10F3  # advisory lock namespace: one key per periodic job


@dataclass(frozen=True)
class Job:
    name: str
    key: int  # its advisory lock key
    every: float  # seconds between the starts of two runs
    run: Callable[[], Awaitable[object]]


class JobLocks:
    def __init__(self, database_url: str) -> None:
        self._url = normalise_url(database_url).replace("postgres://", "postgresql://", 1)
        self._postgres = dialect(database_url) == "postgres"
        # One connection per job: the lock lives in its session, and two jobs' lock calls
        # must not share a connection.
        self._connections: dict[int, asyncpg.Connection] = {}
        self._local: dict[int, asyncio.Lock] = {}

    async def run_alone(self, job: Job) -> bool:
        """Run the job unless another worker (or this one) is running it; whether it ran."""
        # In this process first: a session advisory lock is re-entrant for its own session.
        local = self._local.setdefault(job.key, asyncio.Lock())
        if local.locked():
            return False
        async with local:
            if not self._postgres:
                await job.run()
                return True
            connection = self._connections.get(job.key)
            if connection is None or connection.is_closed():
                connection = self._connections[job.key] = await asyncpg.connect(self._url)
            got = await connection.fetchval(
                "SELECT pg_try_advisory_lock($1, $2)", JOBS_LOCK, job.key
            )
            if not got:
                return False
            try:
                await job.run()
            finally:
                await connection.execute("SELECT pg_advisory_unlock($1, $2)", JOBS_LOCK, job.key)
            return True

    async def close(self) -> None:
        for connection in self._connections.values():
            await connection.close()


def default_jobs(jobs_every: float) -> list[Job]:
    from services.jobs import run_all
    from services.recommendations.build import build_all

    async def run_jobs() -> None:
        report = await run_all()
        log.info("run-jobs: %s", report)

    return [
        Job("run-jobs", 1, jobs_every, run_jobs),
        Job("build-recommendations", 2, 24 * 3600, build_all),
    ]


async def run_scheduled(
    stop: asyncio.Event,
    database_url: str,
    *,
    jobs_every: float = 300,
    jobs: list[Job] | None = None,
    tick: float = 1.0,
) -> None:
    """Start each job when it is due, until `stop`; a run that fails is logged and retried at
    its next turn."""
    locks = JobLocks(database_url)
    plan = jobs if jobs is not None else default_jobs(jobs_every)
    due = dict.fromkeys((j.name for j in plan), time.monotonic())
    running: set[asyncio.Task[None]] = set()

    async def attempt(job: Job) -> None:
        try:
            if not await locks.run_alone(job):
                log.info("%s: running in another worker; skipped", job.name)
        except Exception:
            log.exception("%s failed; it runs again at its next turn", job.name)

    try:
        while not stop.is_set():
            now = time.monotonic()
            for job in plan:
                if now >= due[job.name]:
                    due[job.name] = now + job.every
                    task = asyncio.create_task(attempt(job))
                    running.add(task)
                    task.add_done_callback(running.discard)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), tick)
        if running:
            await asyncio.wait(running)
    finally:
        await locks.close()
