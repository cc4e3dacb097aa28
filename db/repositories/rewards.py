"""Reward rows, read as domain.rewards.Reward."""

from __future__ import annotations

from typing import Any

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
