"""The only place the wall clock is read. Everything else asks for a programme's `now`."""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from db.models import Programme
from db.repositories import programmes as programme_repo
from domain.auth import Principal
from domain.clock import advanced_clock, programme_now


def wall_now() -> datetime:
    """Real time, for infrastructure only (key retention, token expiry, audit stamps)."""
    return datetime.now(UTC)


def now_of(programme: Programme) -> datetime:
    return programme_now(programme.mode, programme.test_clock_at, wall=wall_now())


async def programme_time(programme_id: int) -> datetime:
    return now_of(await programme_repo.get(programme_id))


async def advance_test_clock(
    principal: Principal, *, days: int, seconds: int, to: datetime | None
) -> Programme:
    # The row lock makes two advances queue, so each moves from where the other left it.
    async with in_transaction():
        programme = await programme_repo.lock(principal.programme_id)
        target = advanced_clock(
            programme.mode, now_of(programme), days=days, seconds=seconds, to=to
        )
        await programme_repo.set_test_clock(programme, target)
    return programme
