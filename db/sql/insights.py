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
from domain.insights import InsightsRange, LedgerGroup

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


async def _by_bucket(
    name: str,
    texts_of: tuple[str, str],
    programme_id: int,
    span: InsightsRange,
    bounds: list[tuple[date, datetime, datetime]],
) -> list[dict[str, Any]]:
    """A statement whose rows carry their bucket's number (`day`: 1, 2, ...), found in the
    dialect's way; returned with `day` as the bucket's first day."""
    where = [programme_id, span.starts, span.ends]
    if is_postgres():
        rows = await _rows(name, texts_of[0], [[lo for _d, lo, _hi in bounds], *where])
    else:
        buckets = orjson.dumps(
            [[_lite_instant(lo), _lite_instant(hi)] for _d, lo, hi in bounds]
        ).decode()
        rows = await _rows(name, texts_of[1], [buckets, *where])
    return [
        {**r, "day": bounds[int(r["day"]) - 1][0] if r["day"] is not None else None} for r in rows
    ]


async def facts(
    programme_id: int,
    span: InsightsRange,
    bounds: list[tuple[date, datetime, datetime]],
) -> Facts:
    """Read every figure's rows for `span`, the statements side by side on the pool."""
    p, start, end = programme_id, span.starts, span.ends
    turns = asyncio.Semaphore(SIDE_BY_SIDE)
    reads: list[Awaitable[Any]] = [
        _by_bucket("ledger", (texts.LEDGER_PG, texts.LEDGER_LITE), p, span, bounds),
        _by_bucket("active", (texts.ACTIVE_PG, texts.ACTIVE_LITE), p, span, bounds),
        _rows("active_members", texts.ACTIVE_MEMBERS, [p, start, end]),
        _rows("members", texts.MEMBERS, [end, end, start, end, end, p, end, p, end, p]),
        _rows("segments", texts.SEGMENTS, [p]),
        _rows("distribution", texts.DISTRIBUTION, [p, end, p, end, end, p]),
        _rows("migrations", texts.MIGRATIONS, [p, start, end]),
        _rows("by_tier", texts.BY_TIER, [p, end, p, p, start, end]),
        _rows("referrals", texts.REFERRALS, [end, p, start, end]),
        _rows("coupons", texts.COUPONS, [start, end, start, end, start, end, start, end, p, end]),
        _rows("campaigns", texts.CAMPAIGNS, [start, end, p, end, end, start]),
        _rows("rewards", texts.REWARDS, [p, start, end]),
    ]
    # the costliest first (the ledger's three), so the short ones fill in beside them
    gathered: list[Any] = await asyncio.gather(*(_in_turn(turns, read) for read in reads))
    (
        ledger, active, active_members, members, segments, tiers, migrations, by_tier, referrals,
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
