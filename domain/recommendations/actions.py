"""Next best actions for a member page, in this order (DESIGN.md §7):

1. USE_EXPIRING_POINTS — points that expire within 30 days (use them or lose them);
2. REDEEM_POINTS — coupons the member can buy with the points it has now, dearest first
   (the most value for points already earned);
3. REDEEM_REWARD — catalogue rewards it can afford now, dearest (then newest) first, for the
   same reason;
4. CLAIM_COUPON — free coupons it may claim, soonest-ending first;
5. COMPLETE_CHALLENGE — running challenges it is at least half-way through, nearest to done
   first (the largest share of the target), two at most;
6. REACH_NEXT_TIER — how much more spend (or orders, or growth) reaches the next tier.

At most three of each kind (two challenges); `priority` is the position, 1 first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from fractions import Fraction

from domain.rewards import Reward

EXPIRING_DAYS = 30
PER_KIND = 3
CLOSE_CHALLENGES = 2  # a page shows the nearest goals, not every running challenge
CLOSE_SHARE = Fraction(1, 2)  # of the target: "close to completion" from half-way on


class ActionKind(StrEnum):
    USE_EXPIRING_POINTS = "USE_EXPIRING_POINTS"
    REDEEM_POINTS = "REDEEM_POINTS"
    REDEEM_REWARD = "REDEEM_REWARD"
    CLAIM_COUPON = "CLAIM_COUPON"
    COMPLETE_CHALLENGE = "COMPLETE_CHALLENGE"
    REACH_NEXT_TIER = "REACH_NEXT_TIER"


@dataclass(frozen=True)
class Offer:
    """A template the member could get: its id, points price (None: free) and end."""

    template_id: int
    points_price: int | None
    ends: datetime | None


@dataclass(frozen=True)
class ChallengeStanding:
    """Where a member stands on a challenge it has not completed: `current` of `target`."""

    challenge_id: int
    code: str
    name: str
    current: int
    target: int
    starts_at: datetime
    ends_at: datetime

    def open(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at

    @property
    def share(self) -> Fraction:
        """How much of the target is done: exact, so equal shares tie (4/5 and 8/10)."""
        return Fraction(self.current, self.target) if self.target > 0 else Fraction(0)


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    priority: int = 0
    points: int | None = None
    expires_at: datetime | None = None
    template_id: int | None = None
    tier_id: int | None = None
    amount: int | None = None
    reward_id: int | None = None
    challenge_id: int | None = None
    current: int | None = None
    target: int | None = None


def next_best_actions(
    *,
    expiring: list[tuple[datetime, int]],
    offers: list[Offer],
    spendable: int,
    next_tier: tuple[int, int] | None,
    rewards: Sequence[Reward] = (),
    challenges: Sequence[ChallengeStanding] = (),
) -> list[Action]:
    """`expiring`: (date, points) within the window; `offers`: templates the member may get
    now (eligible, in stock, under its limit); `next_tier`: (tier id, amount still to go);
    `rewards`: catalogue rewards the member may redeem now (Reward.redeemable: active, in
    their window, in stock, open to its tier; its per-member limits are not judged here);
    `challenges`: its standings on challenges running now, not completed."""
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
    actions += [
        Action(ActionKind.REDEEM_REWARD, points=r.points_price, reward_id=r.id)
        for r in affordable_rewards(rewards, spendable)
    ]
    free = [o for o in offers if o.points_price is None]
    free.sort(key=lambda o: (o.ends is None, o.ends or datetime.max, o.template_id))
    actions += [Action(ActionKind.CLAIM_COUPON, template_id=o.template_id) for o in free[:PER_KIND]]
    actions += [
        Action(
            ActionKind.COMPLETE_CHALLENGE,
            challenge_id=c.challenge_id,
            current=c.current,
            target=c.target,
            expires_at=c.ends_at,
        )
        for c in close_challenges(challenges)
    ]
    if next_tier is not None and next_tier[1] > 0:
        actions.append(
            Action(ActionKind.REACH_NEXT_TIER, tier_id=next_tier[0], amount=next_tier[1])
        )
    return [replace(a, priority=n + 1) for n, a in enumerate(actions)]


def affordable_rewards(rewards: Sequence[Reward], spendable: int) -> list[Reward]:
    """The dearest rewards `spendable` points pay for (a cash part is paid apart), the newest
    (highest id) among equals; three at most. A reward of no points is no use of points."""
    affordable = [r for r in rewards if 0 < r.points_price <= spendable]
    affordable.sort(key=lambda r: (-r.points_price, -r.id))
    return affordable[:PER_KIND]


def close_challenges(challenges: Sequence[ChallengeStanding]) -> list[ChallengeStanding]:
    """Challenges at least CLOSE_SHARE done and not yet done, the largest share first, then
    the soonest to end (the one that will not wait), then by id; two at most."""
    close = [c for c in challenges if c.current < c.target and c.share >= CLOSE_SHARE]
    close.sort(key=lambda c: (-c.share, c.ends_at, c.challenge_id))
    return close[:CLOSE_CHALLENGES]
