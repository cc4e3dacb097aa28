"""Reading wallets: a member's coupons by status, soonest-expiring first, and coupons by code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from db.models import Coupon, Member
from db.repositories import coupons as coupon_repo
from db.sql.page import CouponRecord, PageReader
from domain.auth import Principal
from domain.coupons import CouponState, CouponStatus, effective_status
from domain.coupons.wallet import looks_like_code, normalise_code
from domain.paging import PageRequest, page_of
from services import members as member_service
from services.clock import programme_time


@dataclass(frozen=True)
class CouponView:
    """A coupon row with its status as judged at the programme's `now` (the member page's
    first wallet page gives records, not model instances: the same columns, and its template)."""

    row: Coupon | CouponRecord
    status: CouponStatus


# by value, as CouponStatus(value) finds them (a wallet page converts twenty)
_STATUSES = {s.value: s for s in CouponStatus}


def state_of(row: Coupon | CouponRecord) -> CouponState:
    return CouponState(
        status=_STATUSES.get(row.status) or CouponStatus(row.status),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        order_ref=row.order_ref,
        lock_expires_at=row.lock_expires_at,
    )


def view(row: Coupon | CouponRecord, now: datetime) -> CouponView:
    return CouponView(row, effective_status(state_of(row), now))


async def page(
    principal: Principal,
    member: Member,
    request: PageRequest,
    *,
    status: CouponStatus | None,
    now: datetime,
    reader: PageReader | None = None,
) -> tuple[list[CouponView], bool]:
    """`now`: the programme's, which the caller has at hand (the page reads it once);
    `reader`: the first page of the whole wallet is read with the rest of the member page."""
    if member_service.visible_to(principal, member) is None:
        return [], False
    if reader is not None and status is None and request.cursor is None and not request.backward:
        records, more = page_of(await reader.wallet(member.id, request.size + 1), request)
        return [view(r, now) for r in records], more
    rows = await coupon_repo.wallet_page(member.id, request, status=status, now=now)
    found, more = page_of(rows, request)
    return [view(r, now) for r in found], more


async def count(
    principal: Principal, member: Member, *, status: CouponStatus | None, now: datetime
) -> int:
    """Coupons in the wallet (in `status` as of `now`): one count on the member's coupons."""
    if member_service.visible_to(principal, member) is None:
        return 0
    return await coupon_repo.wallet_count(member.id, status=status, now=now)


async def by_code(principal: Principal, code: str) -> CouponView | None:
    code = normalise_code(code)
    if not looks_like_code(code):
        return None
    row = await coupon_repo.get_by_code(principal.programme_id, code)
    if row is None or not member_service.can_see(principal, row.member_id):
        return None
    return view(row, await programme_time(principal.programme_id))


async def by_ids(principal: Principal, ids: list[int]) -> dict[int, CouponView]:
    rows = await coupon_repo.get_by_ids(principal.programme_id, ids)
    visible = [r for r in rows if member_service.can_see(principal, r.member_id)]
    if not visible:
        return {}
    now = await programme_time(principal.programme_id)
    return {r.id: view(r, now) for r in visible}


async def load(programme_id: int, ids: list[int]) -> list[CouponView]:
    """Coupons a mutation just wrote (or replays), as they are now, in the order of `ids`."""
    rows = {r.id: r for r in await coupon_repo.get_by_ids(programme_id, ids)}
    now = await programme_time(programme_id)
    return [view(rows[i], now) for i in ids]
