"""Next best actions for a member page, in this order (DESIGN.md §7):

1. USE_EXPIRING_POINTS — points that expire within 30 days (use them or lose them);
2. REDEEM_POINTS — coupons the member can buy with the points it has now, dearest first
   (the most value for points already earned);
3. CLAIM_COUPON — free coupons it may claim, soonest-ending first;
4. REACH_NEXT_TIER — how much more spend (or orders, or growth) reaches the next tier.

At most three of each kind; `priority` is the position, 1 first."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

EXPIRING_DAYS = 30
PER_KIND = 3


class ActionKind(StrEnum):
    USE_EXPIRING_POINTS = "USE_EXPIRING_POINTS"
    REDEEM_POINTS = "REDEEM_POINTS"
    CLAIM_COUPON = "CLAIM_COUPON"
    REACH_NEXT_TIER = "REACH_NEXT_TIER"


@dataclass(frozen=True)
class Offer:
    """A template the member could get: its id, points price (None: free) and end."""

    template_id: int
    points_price: int | None
    ends: datetime | None


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    priority: int = 0
    points: int | None = None
    expires_at: datetime | None = None
    template_id: int | None = None
    tier_id: int | None = None
    amount: int | None = None


def next_best_actions(
    *,
    expiring: list[tuple[datetime, int]],
    offers: list[Offer],
    spendable: int,
    next_tier: tuple[int, int] | None,
) -> list[Action]:
    """`expiring`: (date, points) within the window; `offers`: templates the member may get
    now (eligible, in stock, under its limit); `next_tier`: (tier id, amount still to go)."""
    soonest = sorted((at, points) for at, points in expiring if points > 0)[:PER_KIND]
    actions = [
        Action(ActionKind.USE_EXPIRING_POINTS, points=points, expires_at=at)
        for at, points in soonest
    ]
    affordable = [o for o in offers if o.points_price is not None and o.points_price <= spendable]
    affordable.sort(key=lambda o: (-(o.points_price or 0), o.template_id))
    actions += [
        Action(ActionKind.REDEEM_POINTS, points=o.points_price, template_id=o.template_id)
        for o in affordable[:PER_KIND]
    ]
    free = [o for o in offers if o.points_price is None]
    free.sort(key=lambda o: (o.ends is None, o.ends or datetime.max, o.template_id))
    actions += [Action(ActionKind.CLAIM_COUPON, template_id=o.template_id) for o in free[:PER_KIND]]
    if next_tier is not None and next_tier[1] > 0:
        actions.append(
            Action(ActionKind.REACH_NEXT_TIER, tier_id=next_tier[0], amount=next_tier[1])
        )
    return [replace(a, priority=n + 1) for n, a in enumerate(actions)]
