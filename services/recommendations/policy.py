"""The programme's segment policy: the RFM window and the lifecycle day thresholds."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from db.repositories import programmes as programme_repo
from domain.auth import Principal
from domain.errors import Collector
from domain.idempotency import check_key
from domain.recommendations.rfm import SegmentPolicy, validate_policy
from services.idempotency import run_once


async def current(principal: Principal) -> SegmentPolicy:
    return SegmentPolicy.from_json(
        (await programme_repo.get(principal.programme_id)).segment_policy
    )


async def change(
    principal: Principal, changes: dict[str, int], *, idempotency_key: str
) -> SegmentPolicy:
    """The given fields over the current policy; the whole result must be valid. The next
    build uses it."""
    errors = Collector()
    check_key(errors, idempotency_key)
    errors.raise_if_any()

    async def act() -> dict[str, Any]:
        programme = await programme_repo.lock(principal.programme_id)
        policy = replace(SegmentPolicy.from_json(programme.segment_policy), **changes)
        problems = Collector()
        validate_policy(policy, problems)
        problems.raise_if_any()
        programme.segment_policy = policy.to_json()
        await programme.save(update_fields=["segment_policy"])
        return {"policy": programme.segment_policy}

    result = await run_once(
        principal, key=idempotency_key, operation="setSegmentPolicy", payload=changes, action=act
    )
    return SegmentPolicy.from_json(result["policy"])
