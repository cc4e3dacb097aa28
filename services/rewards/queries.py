"""Reading redemptions: one by id, a member's newest first. Each page reads its rewards and
coupons in one query each, whatever its length."""

from __future__ import annotations

from dataclasses import dataclass

from db.models import RewardRedemption
from db.repositories import reward_redemptions as repo
from domain.auth import Principal
from domain.errors import Collector, check_page_size
from domain.members import check_external_id
from services import members as member_service

DEFAULT_PAGE = 20


@dataclass(frozen=True)
class RedemptionView:
    row: RewardRedemption
    reward_code: str
    reward_title: str
    coupon_code: str | None


async def views_of(rows: list[RewardRedemption]) -> list[RedemptionView]:
    rewards = await repo.rewards_by_ids(sorted({r.reward_id for r in rows}))
    coupon_ids = sorted({r.coupon_id for r in rows if r.coupon_id is not None})
    coupons = await repo.coupon_codes(coupon_ids) if coupon_ids else {}
    return [
        RedemptionView(
            row,
            rewards[row.reward_id].code,
            rewards[row.reward_id].title,
            coupons.get(row.coupon_id) if row.coupon_id is not None else None,
        )
        for row in rows
    ]


async def by_ids(principal: Principal, ids: list[int]) -> dict[int, RedemptionView]:
    """Only what the principal may see: its programme's, and a member token its own."""
    found = await repo.by_ids(principal.programme_id, ids)
    visible = [r for r in found.values() if member_service.can_see(principal, r.member_id)]
    return {view.row.id: view for view in await views_of(visible)}


async def page_of_member(
    principal: Principal,
    *,
    member_external_id: str | None,
    first: int | None,
    before_id: int | None,
    status: str | None,
) -> tuple[list[RedemptionView], bool]:
    """A member's redemptions, newest first, and whether more follow."""
    size = DEFAULT_PAGE if first is None else first
    check_page_size(size)
    errors = Collector()
    if member_external_id is not None:
        check_external_id(errors, member_external_id)
    errors.raise_if_any()
    member = await member_service.target(principal, member_external_id)
    rows = await repo.page_of_member(member.id, before_id=before_id, limit=size + 1, status=status)
    return await views_of(rows[:size]), len(rows) > size
