"""What the `loyalty` commands share: the database and the servers' cache opened around a
command's work, a programme looked up by the code an argument gives, and API keys printed once
and written to an owner-only file."""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from api.settings import Settings
from api.webhook_setup import configure_webhooks
from db.cache import configure_cache
from db.connection import close_database, open_database


def _print_keys(path: Path, keys: list[tuple[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{name}={secret}" for name, secret in keys]
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # owner-only from the start
    with os.fdopen(fd, "w") as keys_file:
        keys_file.write("\n".join(lines) + "\n")
    print(f"API keys (shown once; also written to {path}):")
    for line in lines:
        print("  " + line)


async def _with_db(settings: Settings, work: Callable[[], Awaitable[int]]) -> int:
    """The database and the servers' cache: a command's writes (a revoked key, a tier moved by
    run-jobs) must invalidate what the running servers hold in Redis."""
    await open_database(settings.database_url)
    cache = configure_cache(settings.redis_url)
    configure_webhooks(settings)
    try:
        return await work()
    finally:
        await cache.close()
        await close_database()


async def _programme_named(code: str, argument: str = "programme") -> Any:
    """The programme with this code, or None after saying which argument named none."""
    from services import programmes as programme_service

    programme = await programme_service.by_code(code)
    if programme is None:
        print(f"loyalty: argument {argument}: no programme {code!r}", file=sys.stderr)
    return programme
