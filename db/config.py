"""Tortoise configuration from a database URL (SQLite file by default, PostgreSQL via asyncpg)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

DEFAULT_DATABASE_URL = "sqlite://.loyalty/loyalty.sqlite3"
MODEL_MODULES = ["db.models", "aerich.models"]


def normalise_url(url: str) -> str:
    """Accept the common `postgresql://` spelling; tortoise knows it as `postgres://`."""
    if url.startswith("postgresql://"):
        return "postgres://" + url[len("postgresql://") :]
    return url


def tortoise_config(url: str) -> dict[str, Any]:
    url = normalise_url(url)
    if url.startswith("sqlite://") and url != "sqlite://:memory:":
        Path(url[len("sqlite://") :]).parent.mkdir(parents=True, exist_ok=True)
    return {
        "connections": {"default": url},
        "apps": {"models": {"models": MODEL_MODULES, "default_connection": "default"}},
        "use_tz": True,
        "timezone": "UTC",
    }


def dialect(url: str) -> str:
    return "postgres" if normalise_url(url).startswith("postgres://") else "sqlite"


# For the aerich command line (`aerich migrate` when writing a new migration).
TORTOISE_ORM = tortoise_config(os.environ.get("LOYALTY_DATABASE_URL", DEFAULT_DATABASE_URL))
