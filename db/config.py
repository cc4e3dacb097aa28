"""Tortoise configuration from a database URL (SQLite file by default, PostgreSQL via asyncpg)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tortoise.backends.base.config_generator import expand_db_url

DEFAULT_DATABASE_URL = "sqlite://.loyalty/loyalty.sqlite3"
MODEL_MODULES = ["db.models", "aerich.models"]


def normalise_url(url: str) -> str:
    """Accept the common `postgresql://` spelling; tortoise knows it as `postgres://`."""
    if url.startswith("postgresql://"):
        return "postgres://" + url[len("postgresql://") :]
    return url


async def keep_session(connection: Any) -> None:
    """What asyncpg's pool does to a connection it takes back, instead of its default.

    The default sends `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`
    on every release, and tortoise takes a pool connection per statement outside a
    transaction, so every such statement cost two round trips (py-spy put 13% of the raw
    member page's samples there). We leave nothing in a session to reset: settings are SET
    LOCAL, advisory locks are transaction-scoped, and we neither LISTEN nor hold cursors.
    The pool still rolls back a transaction left open before it calls this."""


def tortoise_config(url: str) -> dict[str, Any]:
    url = normalise_url(url)
    connection: str | dict[str, Any] = url
    if url.startswith("sqlite://") and url != "sqlite://:memory:":
        Path(url[len("sqlite://") :]).parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("postgres://"):
        connection = expand_db_url(url)
        connection["credentials"]["reset"] = keep_session
    return {
        "connections": {"default": connection},
        "apps": {"models": {"models": MODEL_MODULES, "default_connection": "default"}},
        "use_tz": True,
        "timezone": "UTC",
    }


def dialect(url: str) -> str:
    return "postgres" if normalise_url(url).startswith("postgres://") else "sqlite"


# For the aerich command line (`aerich migrate` when writing a new migration).
TORTOISE_ORM = tortoise_config(os.environ.get("LOYALTY_DATABASE_URL", DEFAULT_DATABASE_URL))
