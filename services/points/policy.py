"""A programme's points policy: read for the member page, changed by an admin."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from db.repositories import points as points_repo
from db.repositories import programmes as programme_repo
from domain.auth import Principal
from domain.errors import Collector, invalid
from domain.idempotency import check_key
from domain.lots import add_months
from domain.points import ExpiryPolicy, PointsPolicy, Rate, validate_policy
from services.clock import now_of, zone_of
from services.idempotency import run_once
from services.points.ledger import policy_of


async def current(principal: Principal) -> PointsPolicy:
    return policy_of(await programme_repo.get(principal.programme_id))


def _with_rates(changes: dict[str, Any]) -> dict[str, Any]:
    """Rates arrive as (points, per minor units); both must be usable before they are a rate."""
    given = dict(changes)
    for name, value in changes.items():
        if name.endswith("_rate"):
            points, per = value
            if not (0 <= points <= 1_000_000 and 1 <= per <= 1_000_000):
                field = "".join(w.title() if i else w for i, w in enumerate(name.split("_")))
                raise invalid(field, "points 0-1000000 per 1-1000000 minor units")
            given[name] = Rate(points, per)
    return given


async def change(
    principal: Principal, changes: dict[str, Any], *, idempotency_key: str
) -> PointsPolicy:
    """Apply the given fields over the current policy; the whole result must be valid."""
    errors = Collector()
    check_key(errors, idempotency_key)
    errors.raise_if_any()

    async def act() -> dict[str, Any]:
        programme = await programme_repo.lock(principal.programme_id)
        before = policy_of(programme)
        policy = replace(before, **_with_rates(changes))
        problems = Collector()
        validate_policy(policy, problems)
        problems.raise_if_any()
        programme.points_policy = policy.to_json()
        await programme.save(update_fields=["points_policy"])
        if (
            policy.expiry_policy is ExpiryPolicy.LOTS
            and before.expiry_policy is not ExpiryPolicy.LOTS
        ):
            # Lots earned under rolling expiry have no date of their own: give them the date
            # LOTS would have, or they would never expire.
            tz = zone_of(programme)
            await points_repo.date_undated_lots(
                programme.id, lambda earned_at: add_months(earned_at, policy.expiry_months, tz)
            )
        if (policy.expiry_policy, policy.expiry_months) != (
            before.expiry_policy,
            before.expiry_months,
        ):
            # What is due when changed with the rule: every holder is looked at again.
            await points_repo.recheck_expiry(programme.id, now_of(programme))
        return {"policy": programme.points_policy}

    payload = {k: str(v) for k, v in changes.items()}
    result = await run_once(
        principal, key=idempotency_key, operation="setPointsPolicy", payload=payload, action=act
    )
    return PointsPolicy.from_json(result["policy"])
