from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from db.models import CouponTemplate, Member
from domain.auth import Role
from domain.coupons import Cart, CouponStatus
from domain.paging import page_request
from resolvers.auth import ANYONE, STAFF, require
from resolvers.ids import (
    BIGINT_MAX,
    NotOurCursor,
    decode_pair_cursor,
    encode_cursor,
    encode_pair_cursor,
    page_request_of,
)
from services.clock import now_of
from services.coupons import checkout, claims, issuance, templates, wallet
from services.coupons.checkout import Validation
from services.coupons.templates import TemplateInput
from services.coupons.wallet import CouponView

WALLET_CURSOR = "cpn:"
TEMPLATE_CURSOR = "ctp:"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def wallet_cursor(coupon: CouponView) -> str:
    micros = (coupon.row.ends_at - EPOCH) // timedelta(microseconds=1)
    return encode_pair_cursor(WALLET_CURSOR, micros, coupon.row.id)


def template_cursor(row: CouponTemplate) -> str:
    return encode_cursor(TEMPLATE_CURSOR, row.id)


def _wallet_position(cursor: str | None, argument: str) -> tuple[datetime, int] | None:
    pair = decode_pair_cursor(WALLET_CURSOR, cursor, maximum=BIGINT_MAX, argument=argument)
    try:
        return (EPOCH + timedelta(microseconds=pair[0]), pair[1]) if pair else None
    except OverflowError as error:  # digits a cursor of ours never has
        raise NotOurCursor(argument) from error


async def wallet_page(
    info: Any,
    member: Member,
    *,
    status: CouponStatus | None,
    first: int | None,
    after: str | None,
    last: int | None = None,
    before: str | None = None,
) -> tuple[list[CouponView], bool]:
    request = page_request(
        first=first,
        after=_wallet_position(after, "after"),
        last=last,
        before=_wallet_position(before, "before"),
    )
    principal = require(info, *ANYONE)
    now = now_of(await info.context.loaders.programme())
    reader = info.context.loaders.page
    return await wallet.page(principal, member, request, status=status, now=now, reader=reader)


async def wallet_count(info: Any, member: Member, *, status: CouponStatus | None) -> int:
    principal = require(info, *ANYONE)
    now = now_of(await info.context.loaders.programme())
    return await wallet.count(principal, member, status=status, now=now)


async def coupon(info: Any, code: str) -> CouponView | None:
    return await wallet.by_code(require(info, *ANYONE), code)


async def coupons_by_ids(info: Any, ids: list[int]) -> dict[int, CouponView]:
    return await wallet.by_ids(require(info, *ANYONE), ids)


async def templates_page(
    info: Any, first: int | None, after: str | None, last: int | None, before: str | None
) -> tuple[list[CouponTemplate], bool]:
    request = page_request_of(TEMPLATE_CURSOR, first=first, after=after, last=last, before=before)
    return await templates.page(require(info, *ANYONE), request)


async def templates_count(info: Any) -> int:
    return await templates.count(require(info, *ANYONE))


async def templates_by_ids(info: Any, ids: list[int]) -> dict[int, CouponTemplate]:
    return await templates.by_ids(require(info, *ANYONE), ids)


async def create_template(info: Any, data: TemplateInput, *, idempotency_key: str) -> Any:
    return await templates.create(require(info, Role.ADMIN), data, idempotency_key=idempotency_key)


async def template_id_of(info: Any, template_id: int | None, code: str | None) -> int:
    return await templates.id_of(require(info, *ANYONE), template_id, code)


async def retire_template(info: Any, template_id: int) -> CouponTemplate:
    return await templates.retire(require(info, Role.ADMIN), template_id)


async def claim(info: Any, **kwargs: Any) -> CouponView:
    return await claims.claim(require(info, *ANYONE), **kwargs)


async def exchange(info: Any, **kwargs: Any) -> CouponView:
    return await claims.exchange_points(require(info, *ANYONE), **kwargs)


async def grant(info: Any, **kwargs: Any) -> list[CouponView]:
    return await issuance.grant(require(info, Role.ADMIN), **kwargs)


async def validate(
    info: Any, *, member_external_id: str | None, cart: Cart, codes: list[str]
) -> Validation:
    return await checkout.validate(
        require(info, *ANYONE), member_external_id=member_external_id, cart=cart, codes=codes
    )


async def lock(info: Any, **kwargs: Any) -> CouponView:
    return await checkout.lock(require(info, *STAFF), **kwargs)


async def redeem(info: Any, **kwargs: Any) -> CouponView:
    return await checkout.redeem(require(info, *STAFF), **kwargs)


async def release(info: Any, **kwargs: Any) -> CouponView:
    return await checkout.release(require(info, *STAFF), **kwargs)
