"""Coupon templates: admins create and retire them; every issue path reads them through here."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from db import tier_cache
from db.models import CouponTemplate
from db.repositories import coupon_templates as template_repo
from domain.auth import Principal, Role
from domain.coupons import AutoIssue, CouponKind, Template, TemplateStatus, validate_template
from domain.coupons.templates import check_template_code, check_title
from domain.errors import AlreadyExists, Collector, NotFound, invalid
from domain.idempotency import check_key
from domain.paging import PageRequest, page_of
from services.clock import programme_time
from services.idempotency import run_once
from services.unique import created


@dataclass(frozen=True)
class TemplateInput:
    """A template as an admin sends it: the rules, with eligible tiers by code (the rules'
    `eligible_tiers` is filled in from them)."""

    code: str
    title: str
    rules: Template
    eligible_tier_codes: tuple[str, ...] = ()


def columns_of(rules: Template) -> dict[str, Any]:
    """The rules as the template row stores them (`rules_of` reads them back)."""
    return {
        "kind": rules.kind.value,
        "amount": rules.amount,
        "percent": rules.percent,
        "cap": rules.cap,
        "threshold": rules.threshold,
        "gift_sku": rules.gift_sku,
        "valid_from": rules.valid_from,
        "valid_until": rules.valid_until,
        "valid_days": rules.valid_days,
        "total_stock": rules.total_stock,
        "stock_left": rules.total_stock,
        "per_member_limit": rules.per_member_limit,
        "eligible_tiers": sorted(rules.eligible_tiers),
        "eligible_categories": sorted(rules.eligible_categories),
        "eligible_skus": sorted(rules.eligible_skus),
        "stackable": rules.stackable,
        "points_price": rules.points_price,
        "claimable": rules.claimable,
        "auto_issue": rules.auto_issue.value,
    }


def rules_of(row: CouponTemplate) -> Template:
    """The stored template as the domain reads it."""
    return Template(
        kind=CouponKind(row.kind),
        amount=row.amount,
        percent=row.percent,
        cap=row.cap,
        threshold=row.threshold,
        gift_sku=row.gift_sku,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        valid_days=row.valid_days,
        total_stock=row.total_stock,
        per_member_limit=row.per_member_limit,
        eligible_tiers=frozenset(row.eligible_tiers),
        eligible_categories=frozenset(row.eligible_categories),
        eligible_skus=frozenset(row.eligible_skus),
        stackable=row.stackable,
        points_price=row.points_price,
        claimable=row.claimable,
        auto_issue=AutoIssue(row.auto_issue),
    )


async def _tier_ids(principal: Principal, codes: tuple[str, ...], errors: Collector) -> list[int]:
    tiers = {t.code: t.id for t in await tier_cache.programme_tiers(principal.programme_id)}
    unknown = [c for c in codes if c not in tiers]
    if unknown:
        errors.add("eligibleTierCodes", f"no such tiers: {', '.join(map(repr, unknown[:5]))}")
    if len(set(codes)) != len(codes):
        errors.add("eligibleTierCodes", "each tier once")
    return sorted({tiers[c] for c in codes if c in tiers})


async def create(
    principal: Principal, data: TemplateInput, *, idempotency_key: str
) -> CouponTemplate:
    errors = Collector()
    check_key(errors, idempotency_key)
    check_template_code(errors, data.code)
    check_title(errors, data.title)
    tier_ids = await _tier_ids(principal, data.eligible_tier_codes, errors)
    rules = replace(data.rules, eligible_tiers=frozenset(tier_ids))
    validate_template(rules, errors)
    errors.raise_if_any()
    fields = {"code": data.code, "title": data.title.strip(), **columns_of(rules)}

    async def act() -> dict[str, Any]:
        if await template_repo.get_template_by_code(principal.programme_id, data.code):
            raise AlreadyExists("a coupon template with this code exists", field="code")
        row = await created(
            template_repo.create_template(
                programme_id=principal.programme_id,
                status=TemplateStatus.ACTIVE.value,
                created_at=await programme_time(principal.programme_id),
                **fields,
            ),
            "a coupon template with this code exists",
        )
        return {"templateId": row.id}

    result = await run_once(
        principal,
        key=idempotency_key,
        operation="createCouponTemplate",
        payload=fields,
        action=act,
    )
    return await CouponTemplate.get(id=int(result["templateId"]))


async def id_of(principal: Principal, template_id: int | None, code: str | None) -> int:
    """A template's id from its id or its code (one of them); NOT_FOUND for an unknown code.
    Whether the caller may use the template is decided where it is used, as for an id."""
    if (template_id is None) == (code is None):
        raise invalid("templateCode", "give templateCode (or the deprecated templateId)")
    if template_id is not None:
        return template_id
    assert code is not None
    found = await template_repo.get_template_by_code(principal.programme_id, code)
    if found is None:
        raise NotFound(f"no coupon template {code}", field="templateCode")
    return int(found.id)


async def retire(principal: Principal, template_id: int) -> CouponTemplate:
    """No more coupons from it; coupons already issued stay usable until they expire.
    Retiring twice is retiring once."""
    template = await find(principal, template_id)
    if template is None:
        raise NotFound("no coupon template with this id", field="templateId")
    if template.status != TemplateStatus.RETIRED.value:
        template.status = TemplateStatus.RETIRED.value
        template.retired_at = await programme_time(principal.programme_id)
        await template_repo.save_template(template, "status", "retired_at")
    return template


async def find(principal: Principal, template_id: int) -> CouponTemplate | None:
    """Staff see every template of their programme; a member sees those it may get by itself
    (claim for free, or buy with points)."""
    return await template_repo.get_template(
        principal.programme_id, template_id, members_only=principal.role is Role.MEMBER
    )


async def by_ids(principal: Principal, ids: list[int]) -> dict[int, CouponTemplate]:
    rows = await template_repo.get_templates(
        principal.programme_id, ids, members_only=principal.role is Role.MEMBER
    )
    return {r.id: r for r in rows}


async def page(principal: Principal, request: PageRequest) -> tuple[list[CouponTemplate], bool]:
    rows = await template_repo.templates_page(
        principal.programme_id, request, members_only=principal.role is Role.MEMBER
    )
    return page_of(rows, request)


async def count(principal: Principal) -> int:
    """The templates the caller may list (a programme has tens, not millions)."""
    return await template_repo.templates_count(
        principal.programme_id, members_only=principal.role is Role.MEMBER
    )
