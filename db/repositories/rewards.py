"""Reward rows, read as domain.rewards.Reward."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from db.models import CouponTemplate, Partner
from db.models import Reward as RewardRow
from domain.rewards import LimitPeriod, Reward, RewardKind, RewardStatus


def reward_of(row: RewardRow) -> Reward:
    return Reward(
        id=row.id,
        programme_id=row.programme_id,
        code=row.code,
        title=row.title,
        description=row.description,
        image_url=row.image_url,
        category=row.category,
        kind=RewardKind(row.kind),
        points_price=row.points_price,
        cash_price=row.cash_price,
        coupon_template_id=row.coupon_template_id,
        partner_id=row.partner_id,
        partner_units=row.partner_units,
        total_stock=row.total_stock,
        stock_left=row.stock_left,
        redeemed=row.redeemed,
        per_member_limit=row.per_member_limit,
        limit_period=LimitPeriod(row.limit_period),
        eligible_tiers=frozenset(int(t) for t in row.eligible_tiers),
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        status=RewardStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        retired_at=row.retired_at,
    )


async def get_by_code(programme_id: int, code: str) -> Reward | None:
    row = await RewardRow.get_or_none(programme_id=programme_id, code=code)
    return None if row is None else reward_of(row)


async def get(programme_id: int, reward_id: int) -> Reward | None:
    row = await RewardRow.get_or_none(programme_id=programme_id, id=reward_id)
    return None if row is None else reward_of(row)


async def insert(**fields: Any) -> Reward:
    return reward_of(await RewardRow.create(**fields))


async def get_many(programme_id: int, ids: list[int]) -> list[Reward]:
    if not ids:
        return []
    return [reward_of(r) for r in await RewardRow.filter(programme_id=programme_id, id__in=ids)]


async def lock_by_code(programme_id: int, code: str) -> Reward | None:
    """The row as it is, locked until the caller's transaction ends: a redemption taking stock
    (a conditional UPDATE of the same row) waits for an admin's change, and the change reads
    the stock the last redemption left."""
    row = (
        await RewardRow.filter(programme_id=programme_id, code=code)
        .select_for_update(no_key=True)
        .first()
    )
    return None if row is None else reward_of(row)


async def update(reward_id: int, **fields: Any) -> None:
    await RewardRow.filter(id=reward_id).update(**fields)


@dataclass(frozen=True)
class Shelf:
    """Which rewards a catalogue scan reads (what SQL can narrow; the domain judges the rest)."""

    status: RewardStatus | None = None
    category: str | None = None
    open_at: datetime | None = None  # in their window at this instant, with stock left
    max_points: int | None = None  # pointsPrice at most this


def _shelf_query(programme_id: int, shelf: Shelf) -> QuerySet[RewardRow]:
    query = RewardRow.filter(programme_id=programme_id)
    if shelf.status is not None:
        query = query.filter(status=shelf.status.value)
    if shelf.category is not None:
        query = query.filter(category=shelf.category)
    if shelf.open_at is not None:
        at = shelf.open_at
        query = query.filter(
            Q(valid_from__isnull=True) | Q(valid_from__lte=at),
            Q(valid_until__isnull=True) | Q(valid_until__gt=at),
            Q(stock_left__isnull=True) | Q(stock_left__gt=0),
        )
    if shelf.max_points is not None:
        query = query.filter(points_price__lte=shelf.max_points)
    return query


async def scan(
    programme_id: int, shelf: Shelf, *, past: int | None, descending: bool, limit: int
) -> list[Reward]:
    """Up to `limit` rewards on the shelf, by id, walking away from the id `past`."""
    query = _shelf_query(programme_id, shelf)
    if past is not None:
        query = query.filter(id__lt=past) if descending else query.filter(id__gt=past)
    rows = await query.order_by("-id" if descending else "id").limit(limit)
    return [reward_of(r) for r in rows]


async def template_codes(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await CouponTemplate.filter(id__in=ids).values("id", "code")
    return {r["id"]: r["code"] for r in rows}


async def partner_codes(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await Partner.filter(id__in=ids).values("id", "code")
    return {r["id"]: r["code"] for r in rows}
