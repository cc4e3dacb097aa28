from __future__ import annotations

from datetime import datetime
from typing import Any

from db.models import Programme
from domain.auth import Role
from domain.tier_rules import Metric
from domain.tiers import BenefitKind, BenefitView, TierDraft, TierView
from resolvers.auth import ANYONE, require
from services import clock as clock_service
from services import programmes as programme_service
from services import tiers as tier_service
from services.tier_evaluation import measure as tier_measure


async def programme(info: Any) -> Programme:
    return await programme_service.current(require(info, *ANYONE))


def now_of(programme: Programme) -> datetime:
    return clock_service.now_of(programme)


async def tiers(info: Any) -> list[TierView]:
    require(info, *ANYONE)
    result: list[TierView] = await info.context.loaders.tiers()
    return result


async def upsert_tier(info: Any, draft: TierDraft, *, idempotency_key: str) -> TierView:
    return await tier_service.upsert_tier(
        require(info, Role.ADMIN), draft, idempotency_key=idempotency_key
    )


async def upsert_benefit(
    info: Any,
    *,
    tier_code: str,
    code: str,
    title: str,
    kind: BenefitKind,
    value: int,
    description: str,
    idempotency_key: str,
) -> BenefitView:
    return await tier_service.upsert_benefit(
        require(info, Role.ADMIN),
        tier_code=tier_code,
        code=code,
        title=title,
        kind=kind,
        value=value,
        description=description,
        idempotency_key=idempotency_key,
    )


async def advance_test_clock(
    info: Any, *, days: int, seconds: int, to: datetime | None, idempotency_key: str
) -> Programme:
    return await programme_service.advance_test_clock(
        require(info, Role.ADMIN),
        days=days,
        seconds=seconds,
        to=to,
        idempotency_key=idempotency_key,
    )


async def tier_metric(info: Any) -> Metric:
    """What the programme's tier thresholds count (its tier policy's metric)."""
    require(info, *ANYONE)
    return tier_measure.policy_of(await info.context.loaders.programme()).metric
