from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from db.models import Member, Order, PointTransaction
from db.repositories.holds import Hold
from db.repositories.orders import OrderRecord
from domain.auth import Role
from domain.lots import Expiring
from domain.points import TxKind, cash_value
from resolvers.auth import ANYONE, STAFF, require
from resolvers.ids import BIGINT_MAX, encode_cursor, page_request_of
from services import members as member_service
from services.points import (
    admin,
    captures,
    gifts,
    holds,
    order_recording,
    order_returns,
    queries,
    redemption,
)
from services.points import orders as order_service
from services.points.activity import check_ins, referrals, reviews
from services.points.ledger import policy_of
from services.points.order_recording import OrderInput, OrderPreview
from services.points.order_returns import ReturnLine

TX_CURSOR = "tx:"
# A gift is the giving member's act: by its token, or the storefront on its behalf.
ANYONE_BUT_ADMIN = (Role.STOREFRONT, Role.MEMBER)


def tx_cursor(tx: PointTransaction) -> str:
    return encode_cursor(TX_CURSOR, tx.id)


async def expiring(info: Any, member: Member, days: int) -> list[Expiring]:
    principal = require(info, *ANYONE)
    programme = await info.context.loaders.programme()
    reader = info.context.loaders.page
    return await queries.expiring(principal, member, days, programme=programme, reader=reader)


async def balances(info: Any, member: Member) -> queries.Balances:
    require(info, *ANYONE)
    return await queries.balances(member, await info.context.loaders.programme())


async def transactions(
    info: Any,
    member: Member,
    *,
    first: int | None,
    after: str | None,
    last: int | None = None,
    before: str | None = None,
    kinds: list[TxKind] | None,
) -> tuple[list[PointTransaction], bool]:
    request = page_request_of(
        TX_CURSOR, first=first, after=after, last=last, before=before, maximum=BIGINT_MAX
    )
    reader = info.context.loaders.page
    return await queries.history(
        require(info, *ANYONE), member, request, kinds=kinds, reader=reader
    )


async def transactions_count(info: Any, member: Member, kinds: list[TxKind] | None) -> int:
    return await queries.history_count(require(info, *ANYONE), member, kinds)


async def invite_code(info: Any, member: Member) -> str:
    return await referrals.invite_code(require(info, *ANYONE), member)


async def preview_order(info: Any, data: OrderInput) -> OrderPreview:
    return await order_recording.preview(require(info, *STAFF), data)


async def order(info: Any, order_ref: str) -> Order | None:
    return await order_service.find(require(info, *STAFF), order_ref)


async def record_order(info: Any, data: OrderInput, *, idempotency_key: str) -> OrderRecord:
    return await order_recording.record(
        require(info, *STAFF), data, idempotency_key=idempotency_key
    )


async def complete_order(info: Any, order_ref: str, *, idempotency_key: str) -> Order:
    return await order_service.complete(
        require(info, *STAFF), order_ref, idempotency_key=idempotency_key
    )


async def cancel_order(info: Any, order_ref: str, *, idempotency_key: str) -> Order:
    return await order_service.cancel(
        require(info, *STAFF), order_ref, idempotency_key=idempotency_key
    )


async def return_order_lines(
    info: Any, order_ref: str, lines: list[ReturnLine], *, idempotency_key: str
) -> Order:
    return await order_returns.return_lines(
        require(info, *STAFF), order_ref, lines, idempotency_key=idempotency_key
    )


async def redeem(info: Any, **kwargs: Any) -> tuple[PointTransaction, Member]:
    tx, member = await redemption.redeem_with_member(require(info, *ANYONE), **kwargs)
    return tx, member or await fresh_member(info, tx.member_id)


async def reverse_redemption(
    info: Any, *, transaction_id: int, reason: str, idempotency_key: str
) -> PointTransaction:
    return await redemption.reverse_redemption(
        require(info, Role.ADMIN),
        transaction_id=transaction_id,
        reason=reason,
        idempotency_key=idempotency_key,
    )


async def points_cash_value(info: Any, points: int) -> int:
    """Minor units `points` pay at checkout at the programme's redemption rate now."""
    require(info, *ANYONE)
    programme = await info.context.loaders.programme()
    return cash_value(points, policy_of(programme))


async def hold(info: Any, **kwargs: Any) -> tuple[Hold, Member]:
    return await _with_member(info, holds.hold_with_member(require(info, *STAFF), **kwargs))


async def capture(info: Any, **kwargs: Any) -> tuple[Hold, Member]:
    call = captures.capture_with_member(require(info, *STAFF), **kwargs)
    return await _with_member(info, call)


async def release(info: Any, **kwargs: Any) -> tuple[Hold, Member]:
    call = holds.release_with_member(require(info, *STAFF), **kwargs)
    return await _with_member(info, call)


async def _with_member(
    info: Any, call: Awaitable[tuple[Hold, Member | None]]
) -> tuple[Hold, Member]:
    """The hold and its member as the mutation left it: as written, or read on a replay."""
    held, member = await call
    return held, member or await fresh_member(info, held.member_id)


async def check_in(info: Any, **kwargs: Any) -> check_ins.CheckedIn:
    return await check_ins.check_in(require(info, *ANYONE), **kwargs)


async def reward_review(info: Any, **kwargs: Any) -> Member:
    return await reviews.reward_review(require(info, *STAFF), **kwargs)


async def accept_referral(info: Any, **kwargs: Any) -> Member:
    return await referrals.accept_referral(require(info, *STAFF), **kwargs)


async def adjust(info: Any, **kwargs: Any) -> PointTransaction:
    return await admin.adjust(require(info, Role.ADMIN), **kwargs)


async def grant(info: Any, **kwargs: Any) -> list[Member]:
    return await admin.grant(require(info, Role.ADMIN), **kwargs)


async def fresh_member(info: Any, member_id: int) -> Member:
    """The member as the mutation left it (not through the request's loader, which may hold
    a row read before the change)."""
    principal = require(info, *ANYONE)
    found = await member_service.find_by_ids(principal, [member_id])
    return found[member_id]


async def gift_points(info: Any, **kwargs: Any) -> PointTransaction:
    return await gifts.give(require(info, *ANYONE_BUT_ADMIN), **kwargs)
