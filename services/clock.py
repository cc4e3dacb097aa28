"""The only place the wall clock is read. Everything else asks for a programme's `now`."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from db.models import Programme
from db.repositories import programmes as programme_repo
from domain.clock import programme_now


def wall_now() -> datetime:
    """Real time, for infrastructure only (key retention, token expiry, audit stamps)."""
    return datetime.now(UTC)


def now_of(programme: Programme) -> datetime:
    return programme_now(programme.mode, programme.test_clock_at, wall=wall_now())


async def programme_time(programme_id: int) -> datetime:
    return now_of(await programme_repo.get(programme_id))


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone_of(programme: Programme) -> ZoneInfo:
    """The programme's time zone: its days and months are counted on its calendar."""
    return _zone(programme.timezone)
