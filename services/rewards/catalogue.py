"""The rewards catalogue as callers read it (issue 20.1).

A member (its token, or a staff key naming it) sees what it may redeem now: ACTIVE, in its
window on the programme's clock, in stock, open to its tier (domain Reward.redeemable), and
with `affordable` only what its spendable points cover. A storefront key naming nobody sees
the same shelf as a guest (no tier: only rewards open to every tier). An admin key naming
nobody sees every reward, retired ones too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from db import tier_cache
from db.models import Member
from db.repositories import programmes as programme_repo
from db.repositories import rewards as reward_repo
from db.repositories.rewards import Shelf
from domain.auth import Principal, Role
from domain.errors import invalid
from domain.paging import PageRequest, page_of, walks_descending
from domain.rewards import Reward, RewardStatus
from services import members as member_service
from services.clock import now_of
from services.points.ledger import spendable

# A member's shelf drops rewards SQL cannot judge (tiers): each read asks for this many more
# rows than the page still needs, so a page of mostly hidden rewards takes few reads.
SCAN_SLACK = 20


@dataclass(frozen=True)
class RewardView:
    """A reward with what its ids name, as the API shows it."""

    reward: Reward
    currency: str
    eligible_tier_codes: tuple[str, ...]
    coupon_template_code: str | None
    partner_code: str | None


@dataclass(frozen=True)
class Viewer:
    """Whose catalogue: a member's (its tier and points), a guest's, or staff's (everything)."""

    staff: bool
    member: Member | None = None

    @property
    def tier_id(self) -> int | None:
        return self.member.tier_id if self.member is not None else None


async def views_of(programme_id: int, rewards: list[Reward]) -> list[RewardView]:
    """The rewards with their currency, tier codes, template and partner codes: two reads at
    most for any number of rewards (tiers come from the tier cache)."""
    programme = await programme_repo.get(programme_id)
    tiers = {t.id: t.code for t in await tier_cache.programme_tiers(programme_id)}
    templates = await reward_repo.template_codes(
        {r.coupon_template_id for r in rewards if r.coupon_template_id is not None}
    )
    partners = await reward_repo.partner_codes(
        {r.partner_id for r in rewards if r.partner_id is not None}
    )
    return [
        RewardView(
            reward=r,
            currency=programme.currency,
            eligible_tier_codes=tuple(sorted(tiers[t] for t in r.eligible_tiers if t in tiers)),
            coupon_template_code=templates.get(r.coupon_template_id or 0),
            partner_code=partners.get(r.partner_id or 0),
        )
        for r in rewards
    ]


async def viewer_of(principal: Principal, member_external_id: str | None) -> Viewer:
    if principal.role is Role.MEMBER or member_external_id is not None:
        member = await member_service.target(principal, member_external_id)
        return Viewer(staff=False, member=member)
    return Viewer(staff=principal.role is Role.ADMIN)


async def page(
    principal: Principal,
    request: PageRequest,
    *,
    member_external_id: str | None,
    category: str | None,
    status: RewardStatus | None,
    affordable: bool,
) -> tuple[list[RewardView], bool]:
    """A page of the caller's shelf, by id (oldest first)."""
    viewer = await viewer_of(principal, member_external_id)
    if affordable and viewer.member is None:
        raise invalid("affordable", "needs a member: a member token, or memberExternalId")
    now = now_of(await programme_repo.get(principal.programme_id))
    shelf = Shelf(status=status, category=category)
    if not viewer.staff:
        if status not in (None, RewardStatus.ACTIVE):
            return [], False  # members see only active rewards
        shelf = Shelf(status=RewardStatus.ACTIVE, category=category, open_at=now)
    if affordable and viewer.member is not None:
        shelf = Shelf(
            status=shelf.status,
            category=category,
            open_at=shelf.open_at,
            max_points=max(spendable(viewer.member), 0),
        )
    found = await _walk(principal.programme_id, shelf, request, viewer, now)
    rewards, more = page_of(found, request)
    return await views_of(principal.programme_id, rewards), more


async def _walk(
    programme_id: int, shelf: Shelf, request: PageRequest, viewer: Viewer, now: datetime
) -> list[Reward]:
    """Up to one more than the page of rewards the viewer may see, walking away from the
    cursor; staff see every row read, a member what domain Reward.redeemable lets through."""
    wanted = request.size + 1
    descending = walks_descending(request, list_descending=False)
    past: int | None = request.cursor
    found: list[Reward] = []
    while len(found) < wanted:
        limit = wanted - len(found) + (0 if viewer.staff else SCAN_SLACK)
        batch = await reward_repo.scan(
            programme_id, shelf, past=past, descending=descending, limit=limit
        )
        found.extend(r for r in batch if viewer.staff or r.redeemable(now, viewer.tier_id))
        if len(batch) < limit:
            break
        past = batch[-1].id
    return found[:wanted]


async def find_by_code(principal: Principal, code: str) -> RewardView | None:
    """Admins see any reward of theirs; others only those not retired."""
    reward = await reward_repo.get_by_code(principal.programme_id, code)
    return await _visible(principal, reward)


async def by_ids(principal: Principal, ids: list[int]) -> dict[int, RewardView]:
    rewards = await reward_repo.get_many(principal.programme_id, ids)
    if principal.role is not Role.ADMIN:
        rewards = [r for r in rewards if r.status is RewardStatus.ACTIVE]
    return {v.reward.id: v for v in await views_of(principal.programme_id, rewards)}


async def redeemed_by_ids(principal: Principal, ids: list[int]) -> dict[int, RewardView]:
    """The rewards redemptions name: a redemption made stays readable with what it bought
    after the reward is retired (the redemption's own reader judged who may see it)."""
    rewards = await reward_repo.get_many(principal.programme_id, ids)
    return {v.reward.id: v for v in await views_of(principal.programme_id, rewards)}


async def _visible(principal: Principal, reward: Reward | None) -> RewardView | None:
    if reward is None:
        return None
    if principal.role is not Role.ADMIN and reward.status is not RewardStatus.ACTIVE:
        return None
    return (await views_of(principal.programme_id, [reward]))[0]
