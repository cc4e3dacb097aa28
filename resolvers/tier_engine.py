from __future__ import annotations

import base64
from typing import Any

from db.models import Member, TierChange
from domain.auth import Role
from domain.pricing import PriceLine, Quote
from domain.tier_rules import Progress, TierPolicy
from resolvers.auth import ANYONE, STAFF, InvalidArgument, require
from resolvers.ids import parse_id
from services import tier_policy

CURSOR = "tierchange:"
BIGINT_MAX = 2**63 - 1


def cursor_for(change: TierChange) -> str:
    return base64.urlsafe_b64encode(f"{CURSOR}{change.id}".encode()).decode()


def _before_id(after: str | None) -> int | None:
    if after is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(after.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raw = ""
    found = parse_id(raw[len(CURSOR) :], maximum=BIGINT_MAX) if raw.startswith(CURSOR) else None
    if found is None:
        raise InvalidArgument("`after` is not a cursor this connection gave out")
    return found


async def policy(info: Any) -> TierPolicy:
    return await tier_policy.current(require(info, *ANYONE))


async def set_policy(info: Any, changes: dict[str, Any], *, idempotency_key: str) -> TierPolicy:
    return await tier_policy.change(
        require(info, Role.ADMIN), changes, idempotency_key=idempotency_key
    )


async def progress(info: Any, member: Member) -> Progress:
    return await tier_policy.progress(require(info, *ANYONE), member)


async def history(
    info: Any, member: Member, *, first: int, after: str | None
) -> tuple[list[TierChange], bool]:
    return await tier_policy.history(
        require(info, *ANYONE), member, first=first, before_id=_before_id(after)
    )


async def quote(
    info: Any, *, member_external_id: str, lines: list[PriceLine], shipping_fee: int
) -> Quote:
    return await tier_policy.member_price(
        require(info, *STAFF),
        member_external_id=member_external_id,
        lines=lines,
        shipping_fee=shipping_fee,
    )
