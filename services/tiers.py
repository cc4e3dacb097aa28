"""Tier and benefit administration. Every write drops the programme's cached tier list."""

from __future__ import annotations

from typing import Any

from db import tier_cache
from db.repositories import tiers as tier_repo
from domain.auth import Principal
from domain.errors import Collector, invalid
from domain.idempotency import check_key
from domain.tiers import (
    BenefitKind,
    BenefitView,
    TierDraft,
    TierView,
    check_code,
    validate_benefit,
    validate_ladder,
    validate_tier,
)
from services.idempotency import run_once


async def programme_tiers(principal: Principal) -> list[TierView]:
    return await tier_cache.programme_tiers(principal.programme_id)


async def tier_by_id(principal: Principal, tier_id: int | None) -> TierView | None:
    return await tier_cache.tier_by_id(principal.programme_id, tier_id)


async def upsert_tier(principal: Principal, draft: TierDraft, *, idempotency_key: str) -> TierView:
    errors = Collector()
    check_key(errors, idempotency_key)
    validate_tier(draft, errors)
    errors.raise_if_any()

    async def save() -> dict[str, Any]:
        # The ladder is checked against the locked rows, so concurrent edits cannot
        # together produce thresholds that no longer increase with rank.
        existing = await tier_repo.drafts_for_update(principal.programme_id)
        ladder = [
            TierDraft(t.code, t.name, t.rank, t.entry_threshold, t.retention_threshold)
            for t in existing
            if t.code != draft.code
        ]
        ladder_errors = Collector()
        validate_ladder([*ladder, draft], ladder_errors)
        ladder_errors.raise_if_any()
        current = next((t for t in existing if t.code == draft.code), None)
        tier = await tier_repo.save_tier(principal.programme_id, draft, current)
        return {"tierId": tier.id}

    result = await run_once(
        principal,
        key=idempotency_key,
        operation="upsertTier",
        payload=draft.__dict__,
        action=save,
    )
    await tier_cache.forget_programme_tiers(principal.programme_id)
    return await _tier(principal, int(result["tierId"]))


async def upsert_benefit(
    principal: Principal,
    *,
    tier_code: str,
    code: str,
    title: str,
    kind: BenefitKind,
    value: int,
    description: str,
    idempotency_key: str,
) -> BenefitView:
    errors = Collector()
    check_key(errors, idempotency_key)
    check_code(errors, "tierCode", tier_code)
    validate_benefit(code=code, title=title, value=value, description=description, errors=errors)
    errors.raise_if_any()
    payload = dict(
        tierCode=tier_code,
        code=code,
        title=title,
        kind=kind.value,
        value=value,
        description=description,
    )

    async def save() -> dict[str, Any]:
        tier = await tier_repo.get_by_code(principal.programme_id, tier_code)
        if tier is None:
            raise invalid("tierCode", f"no tier with code {tier_code}")
        benefit = await tier_repo.save_benefit(
            programme_id=principal.programme_id,
            tier_id=tier.id,
            code=code,
            title=title.strip(),
            kind=kind,
            value=value,
            description=description,
        )
        return {"tierId": tier.id, "benefitId": benefit.id}

    result = await run_once(
        principal, key=idempotency_key, operation="upsertBenefit", payload=payload, action=save
    )
    await tier_cache.forget_programme_tiers(principal.programme_id)
    tier = await _tier(principal, int(result["tierId"]))
    return next(b for b in tier.benefits if b.id == int(result["benefitId"]))


async def _tier(principal: Principal, tier_id: int) -> TierView:
    tier = await tier_cache.tier_by_id(principal.programme_id, tier_id)
    assert tier is not None, "a tier just written must be listed"
    return tier
