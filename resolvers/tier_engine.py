from __future__ import annotations

from typing import Any

from db.models import Member, TierChange
from domain.auth import Role
from domain.pricing import PriceLine, Quote
from domain.tier_rules import Progress, TierPolicy
from resolvers.auth import ANYONE, STAFF, require
from resolvers.ids import BIGINT_MAX, encode_cursor, page_request_of
from services import tier_policy

CURSOR = "tierchange:"


def cursor_for(change: TierChange) -> str:
    return encode_cursor(CURSOR, change.id)


async def policy(info: Any) -> TierPolicy:
    return await tier_policy.current(require(info, *ANYONE))


async def set_policy(info: Any, changes: dict[str, Any], *, idempotency_key: str) -> TierPolicy:
    return await tier_policy.change(
        require(info, Role.ADMIN), changes, idempotency_key=idempotency_key
    )


async def progress(info: Any, member: Member) -> Progress:
    principal = require(info, *ANYONE)
    loaders = info.context.loaders
    programme, tiers = await loaders.programme(), await loaders.tiers()
    # the tiers the request has, the sums read with the rest of the member page
    sums = loaders.page.sums if loaders.page is not None else None
    return await tier_policy.progress(
        principal, member, programme=programme, tiers=tiers, sums=sums
    )


async def history(
    info: Any,
    member: Member,
    *,
    first: int | None,
    after: str | None,
    last: int | None = None,
    before: str | None = None,
) -> tuple[list[TierChange], bool]:
    request = page_request_of(
        CURSOR, first=first, after=after, last=last, before=before, maximum=BIGINT_MAX
    )
    return await tier_policy.history(require(info, *ANYONE), member, request)


async def history_count(info: Any, member: Member) -> int:
    return await tier_policy.history_count(require(info, *ANYONE), member)


async def quote(
    info: Any, *, member_external_id: str, lines: list[PriceLine], shipping_fee: int
) -> Quote:
    return await tier_policy.member_price(
        require(info, *STAFF),
        member_external_id=member_external_id,
        lines=lines,
        shipping_fee=shipping_fee,
    )
