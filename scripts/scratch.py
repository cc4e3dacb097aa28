"""A PostgreSQL database that exists for one script run (benchmarks, migration writing)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

ADMIN_URL = os.environ.get("LOYALTY_BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")


@asynccontextmanager
async def scratch_database(prefix: str, *, query: str = "") -> AsyncIterator[str]:
    """Create a fresh database, yield its URL (with `query` appended), drop it afterwards."""
    base = ADMIN_URL.rsplit("/", 1)[0]
    name = f"{prefix}_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(ADMIN_URL.replace("postgres://", "postgresql://", 1))
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}{query}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
