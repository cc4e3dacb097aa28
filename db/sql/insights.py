"""Programme insights' reads (issue 21.1): a handful of aggregate statements over one
programme's rows (texts in db/sql/insights_texts.py), run side by side on tortoise's pool and
returned as plain records. Nothing here loops over members: every figure is a GROUP BY."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import orjson
from tortoise import connections

from db.connection import is_postgres
from db.sql import insights_texts as texts
from domain.insights import Granularity, InsightsRange, LedgerGroup

_MARK = re.compile(r"\{p\}")


def _numbered(text: str, postgres: bool) -> str:
    if not postgres:
        return text.replace("{p}", "?")
    counter = iter(range(1, 1000))
    return _MARK.sub(lambda _: f"${next(counter)}", text)


_MADE: dict[tuple[str, bool], str] = {}


async def _rows(name: str, text: str, params: list[Any]) -> list[dict[str, Any]]:
    postgres = is_postgres()
    sql = _MADE.get((name, postgres))
    if sql is None:
        sql = _MADE[(name, postgres)] = _numbered(text, postgres)
    return list(await connections.get("default").execute_query_dict(sql, params))


def _int(value: Any) -> int:
    return int(value) if value is not None else 0


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _lite_instant(value: datetime) -> str:
    """An instant as SQLite stores it (db/connection.py's adapter), so text compares as time."""
    return value.astimezone(UTC).isoformat(" ")


@dataclass(frozen=True)
class BucketRow:
    start: date
    earned: int
    spent: int
    expired: int
    active: int


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

    ledger: list[LedgerGroup]
    buckets: list[BucketRow]
    members: MemberTotals
    segments: list[tuple[str, int]]
    tiers: list[TierRow]
    migrations: list[tuple[int | None, int | None, int]]
    by_tier: list[TierOrders]
    referrals: tuple[int, int]
    coupons: list[dict[str, Any]]
    campaigns: list[dict[str, Any]]
    rewards: list[dict[str, Any]]


async def _series(
    programme_id: int, span: InsightsRange, zone: str, bounds: list[tuple[date, datetime, datetime]]
) -> list[BucketRow]:
    where = [programme_id, span.starts, span.ends]
    if is_postgres():
        unit = {Granularity.DAY: "day", Granularity.WEEK: "week", Granularity.MONTH: "month"}
        rows = await _rows("series", texts.SERIES_PG, [unit[span.granularity], zone, *where])
    else:
        buckets = orjson.dumps(
            [[d.isoformat(), _lite_instant(lo), _lite_instant(hi)] for d, lo, hi in bounds]
        ).decode()
        rows = await _rows("series", texts.SERIES_LITE, [buckets, *where])
    return [
        BucketRow(
            _day(r["day"]),
            _int(r["earned"]),
            _int(r["spent"]),
            _int(r["expired"]),
            _int(r["active"]),
        )
        for r in rows
    ]


async def facts(
    programme_id: int,
    span: InsightsRange,
    zone: str,
    bounds: list[tuple[date, datetime, datetime]],
) -> Facts:
    """Read every figure's rows for `span`, the statements side by side on the pool."""
    p, start, end = programme_id, span.starts, span.ends
    gathered: list[Any] = await asyncio.gather(
        _rows("ledger", texts.LEDGER, [p, start, end]),
        _series(p, span, zone, bounds),
        _rows("active", texts.ACTIVE_MEMBERS, [p, start, end]),
        _rows("members", texts.MEMBERS, [end, end, start, end, end, p, end, p, end, p]),
        _rows("segments", texts.SEGMENTS, [p]),
        _rows("distribution", texts.DISTRIBUTION, [p, end, p, end, end, p]),
        _rows("migrations", texts.MIGRATIONS, [p, start, end]),
        _rows("by_tier", texts.BY_TIER, [p, end, p, p, start, end]),
        _rows("referrals", texts.REFERRALS, [end, p, start, end]),
        _rows("coupons", texts.COUPONS, [start, end, start, end, start, end, start, end, p, end]),
        _rows("campaigns", texts.CAMPAIGNS, [start, end, p, end, end, start]),
        _rows("rewards", texts.REWARDS, [p, start, end]),
    )
    (
        ledger, buckets, active, members, segments, tiers, migrations, by_tier, referrals,
        coupons, campaigns, rewards,
    ) = gathered  # fmt: skip
    totals = members[0]
    return Facts(
        ledger=[
            LedgerGroup(r["kind"], r["reference_type"], bool(r["credit"]), _int(r["points"]))
            for r in ledger
        ],
        buckets=buckets,
        members=MemberTotals(
            _int(totals["total"]),
            _int(totals["new"]),
            _int(active[0]["active"]),
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
