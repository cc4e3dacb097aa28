"""Programme insights' reads (issue 21.1): a handful of aggregate statements over one
programme's rows (texts in db/sql/insights_texts.py), run side by side on tortoise's pool and
returned as plain records. Nothing here loops over members: every figure is a GROUP BY."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import orjson
from tortoise import connections

from db.connection import is_postgres
from db.sql import insights_texts as texts
from domain.insights import (
    BucketDays,
    Granularity,
    InsightsRange,
    LedgerGroup,
    bucket_start,
    cover,
)

_MARK = re.compile(r"\{p\}")
T = TypeVar("T")


def numbered(text: str, postgres: bool) -> str:
    """A text's `{p}` marks as the dialect's placeholders."""
    if not postgres:
        return text.replace("{p}", "?")
    counter = iter(range(1, 1000))
    return _MARK.sub(lambda _: f"${next(counter)}", text)


_MADE: dict[tuple[str, bool], str] = {}


# At most this many of one request's statements at a time: the rest of the pool stays free for
# other requests while an admin reads a year.
SIDE_BY_SIDE = 2


async def _rows(name: str, text: str, params: list[Any]) -> list[dict[str, Any]]:
    postgres = is_postgres()
    sql = _MADE.get((name, postgres))
    if sql is None:
        sql = _MADE[(name, postgres)] = numbered(text, postgres)
    return list(await connections.get("default").execute_query_dict(sql, params))


async def _in_turn(turns: asyncio.Semaphore, read: Awaitable[T]) -> T:
    async with turns:
        return await read


def _int(value: Any) -> int:
    return int(value) if value is not None else 0


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _lite_instant(value: datetime) -> str:
    """An instant as SQLite stores it (db/connection.py's adapter), so text compares as time."""
    return value.astimezone(UTC).isoformat(" ")


@dataclass(frozen=True)
class DayGroup:
    """A ledger group (domain.insights.LedgerGroup) within one bucket, by the bucket's start."""

    start: date
    group: LedgerGroup


@dataclass(frozen=True)
class MemberTotals:
    total: int
    new: int
    active: int
    available: int  # at the end of the range
    pending: int


@dataclass(frozen=True)
class TierRow:
    id: int
    code: str
    name: str
    rank: int
    members: int


@dataclass(frozen=True)
class TierOrders:
    tier_id: int | None
    orders: int
    members: int
    value: int
    repeaters: int


@dataclass(frozen=True)
class Facts:
    """Everything the insights are computed from, as the statements returned it."""

    ledger: list[DayGroup]
    active_by_bucket: dict[date, int]
    members: MemberTotals
    segments: list[tuple[str, int]]
    tiers: list[TierRow]
    migrations: list[tuple[int | None, int | None, int]]
    by_tier: list[TierOrders]
    referrals: tuple[int, int]
    coupons: list[dict[str, Any]]
    campaigns: list[dict[str, Any]]
    rewards: list[dict[str, Any]]


async def _lite_by_bucket(
    name: str,
    text: str,
    programme_id: int,
    span: InsightsRange,
    bounds: list[tuple[date, datetime, datetime]],
) -> list[dict[str, Any]]:
    """A SQLite statement whose rows carry their bucket's number (`day`: 1, 2, ...); returned
    with `day` as the bucket's first day."""
    buckets = orjson.dumps([[_lite_instant(lo), _lite_instant(hi)] for _d, lo, hi in bounds])
    rows = await _rows(name, text, [buckets.decode(), programme_id, span.starts, span.ends])
    return [
        {**r, "day": bounds[int(r["day"]) - 1][0] if r["day"] is not None else None} for r in rows
    ]


async def _ledger(
    programme_id: int, span: InsightsRange, bounds: list[tuple[date, datetime, datetime]]
) -> list[dict[str, Any]]:
    """The AVAILABLE points by bucket (`day`: its first day), kind, reference type and sign."""
    if not is_postgres():
        return await _lite_by_bucket("ledger", texts.LEDGER_LITE, programme_id, span, bounds)
    rows = await _rows("ledger", texts.LEDGER_DAYS_PG, [programme_id, span.first, span.last])
    return [{**r, "day": bucket_start(_day(r["day"]), span.granularity)} for r in rows]


# member_activity's period letter for each granularity (migration 15)
PERIOD = {Granularity.DAY: "D", Granularity.WEEK: "W", Granularity.MONTH: "M"}


async def _active(
    programme_id: int,
    span: InsightsRange,
    bounds: list[tuple[date, datetime, datetime]],
    days: list[BucketDays],
) -> list[dict[str, Any]]:
    """Active members per bucket, `day` the bucket's start: on PostgreSQL from member_activity,
    on SQLite from the ledger."""
    if not is_postgres():
        return await _lite_by_bucket("active", texts.ACTIVE_LITE, programme_id, span, bounds)
    whole = [d.start for d in days if d.whole]
    cut = [d for d in days if not d.whole]
    params = [
        programme_id,
        PERIOD[span.granularity],
        whole[0] if whole else None,
        whole[-1] if whole else None,
        programme_id,
        [d.start for d in cut],
        [d.lo for d in cut],
        [d.hi for d in cut],
    ]
    return await _rows("active_rollup", texts.ACTIVE_ROLLUP_PG, params)


async def _active_members(programme_id: int, span: InsightsRange) -> list[dict[str, Any]]:
    """Members active anywhere in the range (one row: `active`)."""
    if is_postgres():
        pieces = cover(span.first, span.last)
        params: list[Any] = [programme_id, pieces.years, pieces.months, pieces.days]
        return await _rows("active_members", texts.ACTIVE_MEMBERS_PG, params)
    params = [programme_id, span.starts, span.ends]
    return await _rows("active_members", texts.ACTIVE_MEMBERS_LITE, params)


async def facts(
    programme_id: int,
    span: InsightsRange,
    bounds: list[tuple[date, datetime, datetime]],
    days: list[BucketDays],
) -> Facts:
    """Read every figure's rows for `span`, the statements side by side on the pool."""
    p, start, end = programme_id, span.starts, span.ends
    turns = asyncio.Semaphore(SIDE_BY_SIDE)
    # the costliest first (active members by bucket; orders by tier: each reads a row per
    # member and period), so the short ones fill in beside them
    reads: list[Awaitable[Any]] = [
        _active(p, span, bounds, days),
        _rows("by_tier", texts.BY_TIER, [p, end, p, p, start, end]),
        _ledger(p, span, bounds),
        _active_members(p, span),
        _rows("members", texts.MEMBERS, [end, end, start, end, end, p, end, p, end, p]),
        _rows("segments", texts.SEGMENTS, [p]),
        _rows("distribution", texts.DISTRIBUTION, [p, end, p, end, end, p]),
        _rows("migrations", texts.MIGRATIONS, [p, start, end]),
        _rows("referrals", texts.REFERRALS, [end, p, start, end]),
        _rows("coupons", texts.COUPONS, [start, end, start, end, start, end, start, end, p, end]),
        _rows("campaigns", texts.CAMPAIGNS, [start, end, p, end, end, start]),
        _rows("rewards", texts.REWARDS, [p, start, end]),
    ]
    gathered: list[Any] = await asyncio.gather(*(_in_turn(turns, read) for read in reads))
    (
        active, by_tier, ledger, active_members, members, segments, tiers, migrations, referrals,
        coupons, campaigns, rewards,
    ) = gathered  # fmt: skip
    totals = members[0]
    active_by_bucket = {_day(r["day"]): _int(r["active"]) for r in active}
    active_in_range = _int(active_members[0]["active"])
    return Facts(
        ledger=[
            DayGroup(
                _day(r["day"]),
                LedgerGroup(r["kind"], r["reference_type"], bool(r["credit"]), _int(r["points"])),
            )
            for r in ledger
        ],
        active_by_bucket=active_by_bucket,
        members=MemberTotals(
            _int(totals["total"]),
            _int(totals["new"]),
            active_in_range,
            _int(totals["available"]),
            _int(totals["pending"]),
        ),
        segments=[(r["segment"], _int(r["members"])) for r in segments],
        tiers=[
            TierRow(r["id"], r["code"], r["name"], _int(r["rank"]), _int(r["members"]))
            for r in tiers
        ],
        migrations=[(r["from_tier"], r["to_tier"], _int(r["members"])) for r in migrations],
        by_tier=[
            TierOrders(
                r["tier_id"],
                _int(r["orders"]),
                _int(r["members"]),
                _int(r["value"]),
                _int(r["repeaters"]),
            )
            for r in by_tier
        ],
        referrals=(_int(referrals[0]["invited"]), _int(referrals[0]["rewarded"])),
        coupons=[
            {
                "code": r["code"],
                "title": r["title"],
                "issued": _int(r["issued"]),
                "redeemed": _int(r["redeemed"]),
            }
            for r in coupons
        ],
        campaigns=[
            {
                "code": r["code"],
                "name": r["name"],
                "status": r["status"],
                "awards": _int(r["awards"]),
                "members": _int(r["members"]),
                "points": _int(r["points"]),
            }
            for r in campaigns
        ],
        rewards=[
            {
                "code": r["code"],
                "title": r["title"],
                "redemptions": _int(r["redemptions"]),
                "quantity": _int(r["quantity"]),
                "points": _int(r["points"]),
            }
            for r in rewards
        ],
    )
