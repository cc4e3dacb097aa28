"""Tier and benefit administration. Every write bumps the programme's tier-cache generation."""

from __future__ import annotations

from typing import Any

from tortoise.exceptions import IntegrityError

from db import tier_cache
from db.connection import is_unique_violation
from db.repositories import members as member_repo
from db.repositories import programmes as programme_repo
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
    entry_tier,
    normalised,
    validate_benefit,
    validate_ladder,
    validate_tier,
)
from services.clock import programme_time
from services.idempotency import run_once


async def programme_tiers(principal: Principal) -> list[TierView]:
    return await tier_cache.programme_tiers(principal.programme_id)


async def upsert_tier(principal: Principal, draft: TierDraft, *, idempotency_key: str) -> TierView:
    draft = normalised(draft)
    errors = Collector()
    check_key(errors, idempotency_key)
    validate_tier(draft, errors)
    errors.raise_if_any()

    async def save() -> dict[str, Any]:
        # The programme row lock queues ladder edits one behind the other: locking only the
        # tier rows would miss a tier a concurrent edit is inserting.
        await programme_repo.lock(principal.programme_id)
        existing = await tier_repo.all_of(principal.programme_id)
        ladder = [
            TierDraft(t.code, t.name, t.rank, t.entry_threshold, t.retention_threshold)
            for t in existing
            if t.code != draft.code
        ]
        ladder_errors = Collector()
        validate_ladder([*ladder, draft], ladder_errors)
        ladder_errors.raise_if_any()
        current = next((t for t in existing if t.code == draft.code), None)
        try:
            tier = await tier_repo.save_tier(principal.programme_id, draft, current)
        except IntegrityError as error:
            if not is_unique_violation(error):
                raise
            raise invalid("rank", "another tier already has this rank") from error
        await _place_untiered(principal.programme_id)
        return {"tierId": tier.id}

    result = await run_once(
        principal, key=idempotency_key, operation="upsertTier", payload=draft.__dict__, action=save
    )
    await tier_cache.forget_programme_tiers(principal.programme_id)
    return await _fresh_tier(principal, int(result["tierId"]))


async def _place_untiered(programme_id: int) -> None:
    """Members who joined before the programme had tiers start in its entry tier."""
    tiers = await tier_repo.list_views(programme_id)
    start = entry_tier(tiers)
    if start is not None:
        now = await programme_time(programme_id)
        await member_repo.place_untiered(programme_id, tier_id=start.id, at=now)


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
    title = title.strip()
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
        await programme_repo.lock(principal.programme_id)
        tier = await tier_repo.get_by_code(principal.programme_id, tier_code)
        if tier is None:
            raise invalid("tierCode", f"no tier with code {tier_code}")
        benefit = await tier_repo.save_benefit(
            programme_id=principal.programme_id,
            tier_id=tier.id,
            code=code,
            title=title,
            kind=kind,
            value=value,
            description=description,
        )
        return {"tierId": tier.id, "benefitId": benefit.id}

    result = await run_once(
        principal, key=idempotency_key, operation="upsertBenefit", payload=payload, action=save
    )
    await tier_cache.forget_programme_tiers(principal.programme_id)
    tier = await _fresh_tier(principal, int(result["tierId"]))
    return next(b for b in tier.benefits if b.id == int(result["benefitId"]))


async def _fresh_tier(principal: Principal, tier_id: int) -> TierView:
    """A mutation answers with what the database holds now, never with a cache entry."""
    tiers = await tier_repo.list_views(principal.programme_id)
    return next(t for t in tiers if t.id == tier_id)
