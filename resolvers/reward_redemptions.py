"""Reward redemptions: who may call what, then one service call each."""

from __future__ import annotations

from typing import Any

from db.models import RewardRedemption
from domain.errors import NotFound
from resolvers.auth import ANYONE, STAFF, require
from resolvers.ids import BIGINT_MAX, decode_cursor, encode_cursor
from services.rewards import fulfilment, queries
from services.rewards import redemption as service
from services.rewards.queries import RedemptionView
from services.rewards.redemption import RewardQuote

CURSOR = "rr:"


def cursor_of(view: RedemptionView) -> str:
    return encode_cursor(CURSOR, view.row.id)


async def quote(info: Any, **kwargs: Any) -> RewardQuote | None:
    """None when no reward (or member) has this code: a read finds nothing, it fails not."""
    try:
        return await service.quote_for(require(info, *ANYONE), **kwargs)
    except NotFound:
        return None


async def redeem(info: Any, **kwargs: Any) -> RedemptionView:
    return await _view(info, service.redeem(require(info, *ANYONE), **kwargs))


async def fulfil(info: Any, **kwargs: Any) -> RedemptionView:
    return await _view(info, fulfilment.fulfil(require(info, *STAFF), **kwargs))


async def cancel(info: Any, **kwargs: Any) -> RedemptionView:
    return await _view(info, fulfilment.cancel(require(info, *ANYONE), **kwargs))


async def _view(info: Any, call: Any) -> RedemptionView:
    row: RewardRedemption = await call
    return (await queries.views_of([row]))[0]


async def by_ids(info: Any, ids: list[int]) -> dict[int, RedemptionView]:
    return await queries.by_ids(require(info, *ANYONE), ids)


async def page(
    info: Any,
    *,
    member_external_id: str | None,
    first: int | None,
    after: str | None,
    status: str | None,
) -> tuple[list[RedemptionView], bool]:
    return await queries.page_of_member(
        require(info, *ANYONE),
        member_external_id=member_external_id,
        first=first,
        before_id=decode_cursor(CURSOR, after, maximum=BIGINT_MAX),
        status=status,
    )
