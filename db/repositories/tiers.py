from __future__ import annotations

from db.models import Benefit, Member, Tier
from domain.tiers import BenefitKind, BenefitView, TierDraft, TierView


async def list_views(programme_id: int) -> list[TierView]:
    """Tiers in rank order with their benefits: two queries whatever the counts."""
    tiers = await Tier.filter(programme_id=programme_id).order_by("rank")
    benefits = await Benefit.filter(programme_id=programme_id).order_by("id")
    by_tier: dict[int, list[BenefitView]] = {}
    for b in benefits:
        by_tier.setdefault(b.tier_id, []).append(
            BenefitView(
                id=b.id,
                tier_id=b.tier_id,
                code=b.code,
                title=b.title,
                kind=BenefitKind(b.kind),
                value=b.value,
                description=b.description,
            )
        )
    return [
        TierView(
            id=t.id,
            code=t.code,
            name=t.name,
            rank=t.rank,
            entry_threshold=t.entry_threshold,
            retention_threshold=t.retention_threshold,
            benefits=tuple(by_tier.get(t.id, ())),
        )
        for t in tiers
    ]


async def all_of(programme_id: int) -> list[Tier]:
    return await Tier.filter(programme_id=programme_id).order_by("rank")


async def save_tier(programme_id: int, draft: TierDraft, existing: Tier | None) -> Tier:
    if existing is None:
        return await Tier.create(
            programme_id=programme_id,
            code=draft.code,
            name=draft.name,
            rank=draft.rank,
            entry_threshold=draft.entry_threshold,
            retention_threshold=draft.retention_threshold,
        )
    existing.name = draft.name
    existing.rank = draft.rank
    existing.entry_threshold = draft.entry_threshold
    existing.retention_threshold = draft.retention_threshold
    await existing.save()
    return existing


async def get_by_code(programme_id: int, code: str) -> Tier | None:
    return await Tier.get_or_none(programme_id=programme_id, code=code)


async def save_benefit(
    *,
    programme_id: int,
    tier_id: int,
    code: str,
    title: str,
    kind: BenefitKind,
    value: int,
    description: str,
) -> Benefit:
    benefit = await Benefit.get_or_none(tier_id=tier_id, code=code)
    if benefit is None:
        return await Benefit.create(
            programme_id=programme_id,
            tier_id=tier_id,
            code=code,
            title=title,
            kind=kind.value,
            value=value,
            description=description,
        )
    benefit.title, benefit.kind, benefit.value = title, kind.value, value
    benefit.description = description
    await benefit.save()
    return benefit


async def member_tier_id(programme_id: int, member_id: int) -> int | None:
    row = await Member.filter(programme_id=programme_id, id=member_id).first().values("tier_id")
    return int(row["tier_id"]) if row and row["tier_id"] is not None else None
