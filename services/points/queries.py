"""Reads of the points ledger for the member page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from db.models import Member, Order, OrderLine, PointHold, PointTransaction, Programme
from db.repositories import orders as order_repo
from db.repositories import points as points_repo
from db.repositories import programmes as programme_repo
from db.sql.page import PageReader, TransactionRecord
from domain.auth import Principal, Role
from domain.errors import Collector
from domain.lots import Expiring, expiring_within, rolling_expiry
from domain.paging import PageRequest, page_of
from domain.points import TxKind
from services.clock import now_of, zone_of
from services.points.expiry import due_expiry, expiry_is_due
from services.points.ledger import policy_of

_Row = TypeVar("_Row", PointTransaction, Order, PointHold)


async def expiring(
    principal: Principal,
    member: Member,
    days: int,
    *,
    programme: Programme | None = None,
    reader: PageReader | None = None,
) -> list[Expiring]:
    """`programme`: the caller's row when it has it already (a page reads it once);
    `reader`: the request's page reader, which reads the lots with the rest of the page."""
    errors = Collector()
    if not 1 <= days <= 3660:
        errors.add("days", "must be 1-3660")
    errors.raise_if_any()
    programme = programme or await programme_repo.get(principal.programme_id)
    policy = policy_of(programme)
    lots = await (reader.lots(member.id) if reader else points_repo.open_lots(member.id))
    return expiring_within(
        lots,
        now_of(programme),
        days,
        policy=policy.expiry_policy,
        rolling_expires_at=rolling_expiry(
            member.last_earned_at, policy.expiry_months, zone_of(programme)
        ),
    )


@dataclass(frozen=True)
class Balances:
    available: int
    pending: int
    held: int
    shortfall: int

    @property
    def spendable(self) -> int:
        return self.available - self.held


async def balances(member: Member, programme: Programme) -> Balances:
    """The member's points as of the programme's now: what fell due to expire is gone, even
    before the job (or the member's next change) books it. One look at the lots, and only
    when the member row says something may have expired."""
    now = now_of(programme)
    gone = 0
    if expiry_is_due(member, now):
        _, steps = await due_expiry(member, programme, now)
        gone = sum(take.amount for _, takes in steps for take in takes)
    return Balances(
        available=int(member.points_available) - gone,
        pending=int(member.points_pending),
        held=int(member.points_held),
        shortfall=int(member.points_shortfall),
    )


async def history(
    principal: Principal,
    member: Member,
    request: PageRequest,
    *,
    kinds: list[TxKind] | None,
    reader: PageReader | None = None,
) -> tuple[list[PointTransaction] | list[TransactionRecord], bool]:
    """`reader`: the first page of every kind is read with the rest of the member page (as
    records: a model's columns, not a model instance)."""
    if reader is not None and not kinds and request.cursor is None and not request.backward:
        found = await reader.history(principal.programme_id, member.id, request.size + 1)
        return page_of(found, request)
    rows = await points_repo.history_page(
        principal.programme_id,
        member.id,
        kinds=[k.value for k in kinds] if kinds else None,
        request=request,
    )
    return page_of(rows, request)


async def history_count(principal: Principal, member: Member, kinds: list[TxKind] | None) -> int:
    """How many rows the member's ledger has (of those kinds): one indexed count."""
    wanted = [k.value for k in kinds] if kinds else None
    return await points_repo.history_count(principal.programme_id, member.id, kinds=wanted)


def _visible(principal: Principal, rows: list[_Row]) -> list[_Row]:
    if principal.role is Role.MEMBER:
        return [r for r in rows if r.member_id == principal.member_id]
    return rows


async def transactions_by_ids(principal: Principal, ids: list[int]) -> dict[int, PointTransaction]:
    rows = await PointTransaction.filter(programme_id=principal.programme_id, id__in=ids)
    return {r.id: r for r in _visible(principal, rows)}


async def orders_by_ids(principal: Principal, ids: list[int]) -> dict[int, Order]:
    rows = await Order.filter(programme_id=principal.programme_id, id__in=ids)
    return {r.id: r for r in _visible(principal, rows)}


async def holds_by_ids(principal: Principal, ids: list[int]) -> dict[int, PointHold]:
    rows = await PointHold.filter(programme_id=principal.programme_id, id__in=ids)
    return {r.id: r for r in _visible(principal, rows)}


async def order_lines(order: Order) -> list[OrderLine]:
    return await order_repo.lines_of(order.id)
