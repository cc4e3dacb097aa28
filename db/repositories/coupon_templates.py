"""Every query of coupon templates: reads by id, code and page, the auto-issue list, and the
stock take (one conditional UPDATE keeping the cap across processes), with the template's status
and stock read back after a take fails. Issued coupons live in `coupons`, the claim's one-statement
hot path in `coupon_claims`."""

from __future__ import annotations

from typing import Any

from tortoise.expressions import F, Q
from tortoise.queryset import QuerySet

from db.models import CouponTemplate
from db.repositories.paging import keyset
from domain.paging import PageRequest


async def create_template(**fields: Any) -> CouponTemplate:
    return await CouponTemplate.create(**fields)


def _templates(programme_id: int, *, members_only: bool) -> QuerySet[CouponTemplate]:
    query = CouponTemplate.filter(programme_id=programme_id)
    if members_only:  # what a member may get by itself: claim for free, or buy with points
        query = query.filter(Q(claimable=True) | Q(points_price__isnull=False), status="ACTIVE")
    return query


async def get_template(
    programme_id: int, template_id: int, *, members_only: bool = False
) -> CouponTemplate | None:
    return await _templates(programme_id, members_only=members_only).get_or_none(id=template_id)


async def get_templates(
    programme_id: int, ids: list[int], *, members_only: bool = False
) -> list[CouponTemplate]:
    return await _templates(programme_id, members_only=members_only).filter(id__in=ids)


async def get_template_by_code(programme_id: int, code: str) -> CouponTemplate | None:
    return await CouponTemplate.get_or_none(programme_id=programme_id, code=code)


async def open_to_members(programme_id: int) -> list[CouponTemplate]:
    return await _templates(programme_id, members_only=True).order_by("id")


async def templates_page(
    programme_id: int, request: PageRequest, *, members_only: bool
) -> list[CouponTemplate]:
    query = _templates(programme_id, members_only=members_only)
    return await keyset(query, request, list_descending=False)


async def templates_count(programme_id: int, *, members_only: bool) -> int:
    return int(await _templates(programme_id, members_only=members_only).count())


async def auto_issue_templates(programme_id: int) -> list[CouponTemplate]:
    return (
        await CouponTemplate.filter(programme_id=programme_id, status="ACTIVE")
        .exclude(auto_issue="NONE")
        .order_by("id")
    )


async def save_template(template: CouponTemplate, *fields: str) -> None:
    await template.save(update_fields=list(fields))


async def take_stock(template_id: int, count: int) -> bool:
    """Count coupons' worth of stock, all or none, by one conditional UPDATE: concurrent takers
    queue on the row and each re-reads `stock_left` after the one before commits, so the cap
    holds across processes. A template without a cap only counts what it issued. False when
    the stock is short or the template is no longer active."""
    active = {"id": template_id, "status": "ACTIVE"}  # a retire that just committed wins
    capped = await CouponTemplate.filter(**active, stock_left__gte=count).update(
        stock_left=F("stock_left") - count, issued=F("issued") + count
    )
    if capped:
        return True
    uncapped = await CouponTemplate.filter(**active, stock_left__isnull=True).update(
        issued=F("issued") + count
    )
    return bool(uncapped)


async def template_status(template_id: int) -> str:
    row = await CouponTemplate.get(id=template_id).only("id", "status")
    return row.status


async def stock_left(template_id: int) -> int | None:
    row = await CouponTemplate.get(id=template_id).only("id", "stock_left")
    return row.stock_left
