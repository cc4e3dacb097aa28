from __future__ import annotations

from typing import Any

from db.models import Member, MemberSegment
from db.models import Product as ProductRow
from domain.auth import Role
from domain.recommendations.model import Product
from domain.recommendations.rfm import Lifecycle, SegmentPolicy
from resolvers.auth import ANYONE, STAFF, require
from resolvers.ids import encode_cursor, page_request_of
from services.recommendations import catalogue, page, policy
from services.recommendations.page import NextAction, Recommended

PRODUCT_CURSOR = "prd:"


def product_cursor(row: ProductRow) -> str:
    return encode_cursor(PRODUCT_CURSOR, row.id)


async def products_page(
    info: Any,
    *,
    first: int | None,
    after: str | None,
    last: int | None = None,
    before: str | None = None,
    category: str | None,
) -> tuple[list[ProductRow], bool]:
    request = page_request_of(PRODUCT_CURSOR, first=first, after=after, last=last, before=before)
    return await catalogue.page(require(info, *STAFF), request, category=category)


async def products_count(info: Any, *, category: str | None) -> int:
    return await catalogue.count(require(info, *STAFF), category=category)


async def upsert_products(
    info: Any, products: list[Product], *, idempotency_key: str
) -> list[ProductRow]:
    return await catalogue.upsert(
        require(info, Role.ADMIN), products, idempotency_key=idempotency_key
    )


async def recommendations(info: Any, member: Member, *, first: int) -> list[Recommended]:
    principal = require(info, *ANYONE)
    programme = await info.context.loaders.programme()
    reader = info.context.loaders.page
    return await page.recommendations(principal, member, programme, first=first, reader=reader)


async def segment(info: Any, member: Member) -> MemberSegment | None:
    return await page.segment(require(info, *ANYONE), member)


async def members_in_segment(
    info: Any, lifecycle: Lifecycle, *, first: int, after_id: int | None
) -> tuple[list[Member], bool]:
    return await page.members_in_segment(
        require(info, Role.ADMIN), lifecycle, first=first, after_id=after_id
    )


async def next_actions(info: Any, member: Member) -> list[NextAction]:
    principal = require(info, *ANYONE)
    loaders = info.context.loaders
    programme, tiers = await loaders.programme(), await loaders.tiers()
    return await page.next_actions(principal, member, programme, reader=loaders.page, tiers=tiers)


async def segment_policy(info: Any) -> SegmentPolicy:
    return await policy.current(require(info, *STAFF))


async def set_segment_policy(
    info: Any, changes: dict[str, int], *, idempotency_key: str
) -> SegmentPolicy:
    return await policy.change(require(info, Role.ADMIN), changes, idempotency_key=idempotency_key)
