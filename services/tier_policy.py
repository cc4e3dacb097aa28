"""The programme's tier policy (metric, window, validity), and member-facing tier reads."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from db import tier_cache
from db.models import Member, Programme, TierChange
from db.repositories import programmes as programme_repo
from db.repositories import tier_events as event_repo
from domain.auth import Principal
from domain.errors import Collector
from domain.idempotency import check_key
from domain.members import check_external_id
from domain.paging import PageRequest, page_of
from domain.points import MAX_MONEY, check_sku
from domain.pricing import PriceLine, Quote, quote
from domain.tier_rules import Progress, TierPolicy, validate_tier_policy
from domain.tiers import TierView
from services import members as member_service
from services.idempotency import run_once
from services.tier_evaluation.measure import Sums, policy_of, progress_of


async def current(principal: Principal) -> TierPolicy:
    return policy_of(await programme_repo.get(principal.programme_id))


async def change(
    principal: Principal, changes: dict[str, Any], *, idempotency_key: str
) -> TierPolicy:
    errors = Collector()
    check_key(errors, idempotency_key)
    errors.raise_if_any()

    async def act() -> dict[str, Any]:
        programme = await programme_repo.lock(principal.programme_id)
        policy = replace(policy_of(programme), **changes)
        problems = Collector()
        validate_tier_policy(policy, problems)
        problems.raise_if_any()
        programme.tier_policy = policy.to_json()
        await programme.save(update_fields=["tier_policy"])
        return {"policy": programme.tier_policy}

    payload = {k: str(v) for k, v in changes.items()}
    result = await run_once(
        principal, key=idempotency_key, operation="setTierPolicy", payload=payload, action=act
    )
    return TierPolicy.from_json(result["policy"])


async def progress(
    principal: Principal,
    member: Member,
    *,
    programme: Programme | None = None,
    tiers: list[TierView] | None = None,
    sums: Sums | None = None,
) -> Progress:
    """`programme`, `tiers`: the caller's when it has them already (a page reads them once);
    `sums`: the member page's batched reader (db/sql/page.py)."""
    programme = programme or await programme_repo.get(principal.programme_id)
    return await progress_of(programme, member, tiers=tiers, sums=sums)


async def history(
    principal: Principal, member: Member, request: PageRequest
) -> tuple[list[TierChange], bool]:
    return page_of(await event_repo.history_page(member.id, request), request)


async def history_count(principal: Principal, member: Member) -> int:
    return await event_repo.history_count(member.id)


async def member_price(
    principal: Principal, *, member_external_id: str, lines: list[PriceLine], shipping_fee: int
) -> Quote:
    """What the member pays: the tier's member price on full-price lines, free shipping."""
    errors = Collector()
    check_external_id(errors, member_external_id)
    if not 1 <= len(lines) <= 500:
        errors.add("lines", "quote 1-500 lines")
    for n, line in enumerate(lines):
        check_sku(errors, line.sku, f"lines.{n}.sku")
        if not 0 <= line.unit_price <= MAX_MONEY or not 1 <= line.quantity <= 10_000:
            errors.add(f"lines.{n}", "unit price 0-2000000000, quantity 1-10000")
    if not 0 <= shipping_fee <= MAX_MONEY:
        errors.add("shippingFee", "must be 0-2000000000")
    if sum(line.unit_price * line.quantity for line in lines) > MAX_MONEY:
        errors.add("lines", "the total is too large")
    errors.raise_if_any()
    member = await member_service.target(principal, member_external_id)
    tier = await tier_cache.tier_by_id(principal.programme_id, member.tier_id)
    return quote(tier, lines, shipping_fee)
