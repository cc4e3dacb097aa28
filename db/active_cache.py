"""What every order or check-in reads of a programme's live configuration (its ACTIVE campaigns,
its ACTIVE challenges): kept in this process while it listens for invalidations, and in the
shared cache stamped with a generation that `forget` bumps after a write commits. Rows travel
through the shared cache as JSON; their `starts_at`/`ends_at` come back as datetimes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

import orjson

from db import invalidation
from db.cache import again_after_commit, generation_key, get_cache, stamped

T = TypeVar("T")
Row = dict[str, Any]


def _decode(raw: bytes) -> list[Row]:
    rows: list[Row] = orjson.loads(raw)
    for row in rows:
        row["starts_at"] = datetime.fromisoformat(row["starts_at"])
        row["ends_at"] = datetime.fromisoformat(row["ends_at"])
    return rows


async def read(
    key: str,
    rows: Callable[[], Awaitable[list[Row]]],
    build: Callable[[Row], T],
    *,
    metric: str,
) -> tuple[T, ...]:
    """The built rows under `key`: no round trip when warm (`metric` names the cache's
    hit/miss counter)."""
    found = invalidation.local.get(key)
    if found is not invalidation.MISS:
        return found  # type: ignore[no-any-return]
    epoch = invalidation.local.epoch
    loaded = await stamped(get_cache(), key, rows, orjson.dumps, _decode, name=metric)
    built = tuple(build(row) for row in loaded)
    invalidation.local.put(key, built, epoch)
    return built


async def forget(key: str) -> None:
    """Call after a write under `key` commits (inside an audited mutation it runs again once
    the outer transaction ends)."""
    generation = generation_key(key)

    async def bump() -> None:
        await get_cache().incr(generation)
        await invalidation.publish_now([key])  # after the shared bump

    await bump()
    again_after_commit(bump)
