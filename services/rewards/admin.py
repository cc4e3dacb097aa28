"""The catalogue's admin side (issue 20.1): create, change and retire rewards.

Shape checks are domain.rewards.validation's; here are those that need the database: the
coupon template (active, of the programme), the partner, the tier codes, the code's
uniqueness, and the row lock under which a change of stock is worked out."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from tortoise.transactions import in_transaction

from db import tier_cache
from db.repositories import coupon_templates as template_repo
from db.repositories import partners as partner_repo
from db.repositories import programmes as programme_repo
from db.repositories import rewards as reward_repo
from domain.auth import Principal
from domain.coupons import TemplateStatus
from domain.errors import AlreadyExists, Collector, NotFound
from domain.idempotency import check_key
from domain.rewards import Reward, RewardStatus
from domain.rewards.validation import (
    RewardSpec,
    check_editable,
    edited,
    stock_left_after,
    validate,
)
from services.clock import now_of
from services.coupons.issuance import TemplateRetired
from services.idempotency import run_once
from services.rewards.catalogue import RewardView, views_of
from services.unique import created

ALREADY = "a reward with this code exists in the programme"


async def _tier_ids(programme_id: int, codes: tuple[str, ...]) -> list[int]:
    tiers = {t.code: t.id for t in await tier_cache.programme_tiers(programme_id)}
    unknown = [c for c in codes if c not in tiers]
    if unknown:
        raise NotFound(
            f"no such tiers: {', '.join(map(repr, unknown[:5]))}", field="eligibleTierCodes"
        )
    return sorted(tiers[c] for c in codes)


async def _template_id(programme_id: int, code: str | None) -> int | None:
    if code is None:
        return None
    template = await template_repo.get_template_by_code(programme_id, code)
    if template is None:
        raise NotFound(f"no coupon template {code}", field="couponTemplateCode")
    if template.status == TemplateStatus.RETIRED.value:
        raise TemplateRetired(f"coupon template {code} is retired", field="couponTemplateCode")
    return int(template.id)


async def _partner_id(programme_id: int, code: str | None) -> int | None:
    if code is None:
        return None
    partner = await partner_repo.by_code(programme_id, code)
    if partner is None:
        raise NotFound(f"no partner {code}", field="partnerCode")
    return int(partner.id)


def _columns(spec: RewardSpec, tier_ids: list[int]) -> dict[str, Any]:
    """What the row stores of an admin's spec (references resolved apart)."""
    return {
        "title": spec.title.strip(),
        "description": spec.description,
        "image_url": spec.image_url,
        "category": spec.category.strip(),
        "points_price": spec.points_price,
        "cash_price": spec.cash_price,
        "per_member_limit": spec.per_member_limit,
        "limit_period": spec.limit_period.value,
        "eligible_tiers": tier_ids,
        "valid_from": spec.valid_from,
        "valid_until": spec.valid_until,
    }


async def create(principal: Principal, spec: RewardSpec, *, idempotency_key: str) -> RewardView:
    """A new ACTIVE reward: members see it once its window opens."""
    errors = Collector()
    check_key(errors, idempotency_key)
    validate(spec, errors)
    errors.raise_if_any()
    programme_id = principal.programme_id

    async def act() -> dict[str, Any]:
        # references are judged on the first request only: a replay answers what it answered
        tier_ids = await _tier_ids(programme_id, spec.eligible_tier_codes)
        template_id = await _template_id(programme_id, spec.coupon_template_code)
        partner_id = await _partner_id(programme_id, spec.partner_code)
        if await reward_repo.get_by_code(programme_id, spec.code):
            raise AlreadyExists(ALREADY, field="code")
        now = now_of(await programme_repo.get(programme_id))
        reward = await created(
            reward_repo.insert(
                programme_id=programme_id,
                code=spec.code,
                kind=spec.kind.value,
                coupon_template_id=template_id,
                partner_id=partner_id,
                partner_units=spec.partner_units,
                total_stock=spec.total_stock,
                stock_left=spec.total_stock,
                redeemed=0,
                status=RewardStatus.ACTIVE.value,
                created_at=now,
                updated_at=now,
                **_columns(spec, tier_ids),
            ),
            ALREADY,
        )
        return {"rewardId": reward.id}

    result = await run_once(
        principal,
        key=idempotency_key,
        operation="createReward",
        payload=asdict(spec),
        action=act,
    )
    return await _fresh(principal, int(result["rewardId"]))


async def _locked(principal: Principal, code: str) -> Reward:
    reward = await reward_repo.lock_by_code(principal.programme_id, code)
    if reward is None:
        raise NotFound(f"no reward {code}", field="rewardCode")
    return reward


async def spec_of(reward: Reward) -> RewardSpec:
    """A stored reward as an admin would have written it (its references by code)."""
    view = (await views_of(reward.programme_id, [reward]))[0]
    return RewardSpec(
        code=reward.code,
        title=reward.title,
        description=reward.description,
        image_url=reward.image_url,
        category=reward.category,
        kind=reward.kind,
        points_price=reward.points_price,
        cash_price=reward.cash_price,
        coupon_template_code=view.coupon_template_code,
        partner_code=view.partner_code,
        partner_units=reward.partner_units,
        total_stock=reward.total_stock,
        per_member_limit=reward.per_member_limit,
        limit_period=reward.limit_period,
        eligible_tier_codes=view.eligible_tier_codes,
        valid_from=reward.valid_from,
        valid_until=reward.valid_until,
    )


async def update(principal: Principal, code: str, changes: dict[str, object]) -> RewardView:
    """Change what may change (domain.rewards.validation.EDITABLE). A new total stock moves
    what is left by the difference, worked out under the row lock so no redemption slips
    between the read and the write."""
    programme = await programme_repo.get(principal.programme_id)
    async with in_transaction():
        reward = await _locked(principal, code)
        check_editable(reward)
        after = edited(await spec_of(reward), changes)
        errors = Collector()
        validate(after, errors)
        errors.raise_if_any()
        fields = _columns(after, await _tier_ids(principal.programme_id, after.eligible_tier_codes))
        if "total_stock" in changes:
            fields["total_stock"] = after.total_stock
            fields["stock_left"] = stock_left_after(reward, after.total_stock)
        await reward_repo.update(reward.id, updated_at=now_of(programme), **fields)
    return await _fresh(principal, reward.id)


async def retire(principal: Principal, code: str) -> RewardView:
    """No more redemptions of it; those made stay as they are. Retiring twice is retiring
    once: the second call answers the reward as the first left it."""
    programme = await programme_repo.get(principal.programme_id)
    async with in_transaction():
        reward = await _locked(principal, code)
        if reward.status is not RewardStatus.RETIRED:
            now = now_of(programme)
            await reward_repo.update(
                reward.id, status=RewardStatus.RETIRED.value, retired_at=now, updated_at=now
            )
    return await _fresh(principal, reward.id)


async def _fresh(principal: Principal, reward_id: int) -> RewardView:
    """A mutation answers with what the database holds now."""
    reward = await reward_repo.get(principal.programme_id, reward_id)
    assert reward is not None
    return (await views_of(principal.programme_id, [reward]))[0]
