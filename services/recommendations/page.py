"""What a member page reads: recommendations, the segment, next best actions."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from db.models import CouponTemplate, Member, MemberSegment, Programme
from db.repositories import coupon_templates as template_repo
from db.repositories import coupons as coupon_repo
from db.repositories import recommendations as repo
from db.sql.page import PageReader
from domain.auth import Principal, Role
from domain.coupons import issuable
from domain.errors import check_page_size
from domain.recommendations.actions import (
    EXPIRING_DAYS,
    PER_KIND,
    Action,
    ChallengeStanding,
    Offer,
    next_best_actions,
)
from domain.recommendations.model import Product
from domain.recommendations.ranking import PAGE_MAX as RECOMMENDATIONS_MAX
from domain.recommendations.ranking import Reason, Suggestion, recommend
from domain.recommendations.rfm import Lifecycle
from domain.rewards import Reward
from domain.tiers import TierView
from services import members as member_service
from services.clock import now_of
from services.coupons.templates import rules_of
from services.points import queries as points_queries
from services.points.ledger import spendable
from services.tier_evaluation.measure import progress_of


@dataclass(frozen=True)
class Recommended:
    product: Product
    score: float
    reason: Reason


_REASONS = {r.value: r for r in Reason}  # by value, as Reason(value) finds them


def _stored(items: list[list[Any]]) -> tuple[list[Suggestion], dict[str, Product]]:
    shown = {}
    suggestions = []
    for sku, title, category, price, score, reason in items:
        shown[sku] = Product(sku, title, category, price)
        suggestions.append(Suggestion(sku, float(score), _REASONS.get(reason) or Reason(reason)))
    return suggestions, shown


async def recommendations(
    principal: Principal,
    member: Member,
    programme: Programme,
    *,
    first: int,
    reader: PageReader | None = None,
) -> list[Recommended]:
    """At most two statements: the stored lists (the member's and the popular one), then the
    member's purchases since. Without profiling consent: the popular list, one statement.
    With the page's `reader`: both read at once, with the rest of the page."""
    check_page_size(first, RECOMMENDATIONS_MAX)
    if member_service.visible_to(principal, member) is None:
        return []
    personal = member.consent_profiling
    bought = reader.purchases(member.id) if reader is not None and personal else None
    if reader is not None:
        lists = await reader.lists(programme.id, member.id if personal else None)
    else:
        lists = await repo.lists_for(programme.id, member.id if personal else None)
    own = next((row for row in lists if row.member_id is not None), None)
    popular = next((row for row in lists if row.member_id is None), None)
    if own is None:
        suggestions, shown = _stored(popular.items["c"] if popular else [])
        return [Recommended(shown[s.sku], s.score, s.reason) for s in suggestions[:first]]
    suggestions, shown = _stored(own.items["c"])
    replenishable = {
        sku: Product(sku, title, category, price, days)
        for sku, title, category, price, days in own.items.get("r", [])
    }
    shown.update(replenishable)
    ranked = recommend(
        suggestions,
        purchases=await (bought if bought is not None else repo.last_purchases(member.id)),
        replenishable=replenishable,
        now=now_of(programme),
        first=first,
    )
    return [Recommended(shown[s.sku], s.score, s.reason) for s in ranked]


async def segment(principal: Principal, member: Member) -> MemberSegment | None:
    if member_service.visible_to(principal, member) is None:
        return None
    return await repo.segment_of(member.id)


async def members_in_segment(
    principal: Principal, lifecycle: Lifecycle, *, first: int, after_id: int | None
) -> tuple[list[Member], bool]:
    check_page_size(first)
    if principal.role is not Role.ADMIN:
        return [], False
    rows = await repo.members_in_segment(
        principal.programme_id, lifecycle.value, after_id=after_id, limit=first + 1
    )
    return rows[:first], len(rows) > first


async def _offers(
    member: Member, now: datetime, reader: PageReader | None = None
) -> list[tuple[CouponTemplate, Offer]]:
    """Templates this member could get now: open to its tier, in stock, under its limit."""
    if reader is not None:
        offered, counts = reader.offers(member.programme_id), reader.held(member.id)
        templates = await offered
        held = {(t, member.id): n for t, n in (await counts).items()}
    else:
        templates = await template_repo.open_to_members(member.programme_id)
        ids = [t.id for t in templates]
        held = await coupon_repo.held(ids, [member.id]) if templates else {}
    found = []
    for t in templates:
        rules = rules_of(t)
        if (
            issuable(rules, now)
            and (not rules.eligible_tiers or member.tier_id in rules.eligible_tiers)
            and (t.stock_left is None or t.stock_left > 0)
            and (
                rules.per_member_limit is None
                or held.get((t.id, member.id), 0) < rules.per_member_limit
            )
        ):
            found.append((t, Offer(t.id, t.points_price, t.valid_until)))
    return found


@dataclass(frozen=True)
class NextAction:
    action: Action
    template: CouponTemplate | None
    reward: Reward | None = None
    challenge: ChallengeStanding | None = None


async def _rewards(member: Member, now: datetime, reader: PageReader) -> list[Reward]:
    """Catalogue rewards this member may redeem now with its points: active, in their window,
    in stock, open to its tier, and priced within its spendable points; the dearest few. Its
    per-member limits are not looked at: a reward it has had its fill of may be shown, and
    redeeming it says so (each reward counts over its own period in the programme's time
    zone; that count is the redemption's to make, not the page's)."""
    found = await reader.rewards(
        member.programme_id,
        points=spendable(member),
        now=now,
        tier_id=member.tier_id,
        limit=PER_KIND,
    )
    return [r for r in found if r.redeemable(now, member.tier_id)]


async def _challenges(member: Member, now: datetime, reader: PageReader) -> list[ChallengeStanding]:
    """The member's standings on challenges running now that it has not completed."""
    return [c for c in await reader.challenges(member.id, now) if c.open(now)]


async def next_actions(
    principal: Principal,
    member: Member,
    programme: Programme,
    *,
    reader: PageReader | None = None,
    tiers: list[TierView] | None = None,
) -> list[NextAction]:
    """With the page's `reader` (and its `tiers`): lots, offers, tier sums, rewards and
    challenges are read at once, with the rest of the page. Without it: the rewards and
    challenges by a reader of their own, in one statement."""
    if member_service.visible_to(principal, member) is None:
        return []
    now = now_of(programme)
    soon = points_queries.expiring(
        principal, member, EXPIRING_DAYS, programme=programme, reader=reader
    )
    if reader is not None:
        sums = reader.sums
        expiring, offers, progress, rewards, challenges = await asyncio.gather(
            soon,
            _offers(member, now, reader),
            progress_of(programme, member, tiers=tiers, sums=sums),
            _rewards(member, now, reader),
            _challenges(member, now, reader),
        )
    else:
        expiring = await soon
        offers = await _offers(member, now)
        progress = await progress_of(programme, member)
        own = PageReader()
        rewards, challenges = await asyncio.gather(
            _rewards(member, now, own), _challenges(member, now, own)
        )
    actions = next_best_actions(
        expiring=[(e.expires_at, e.amount) for e in expiring],
        offers=[o for _, o in offers],
        spendable=spendable(member),
        next_tier=(progress.next_tier.id, progress.amount_to_next)
        if progress.next_tier is not None and progress.amount_to_next is not None
        else None,
        rewards=rewards,
        challenges=challenges,
    )
    templates = {t.id: t for t, _ in offers}
    by_reward = {r.id: r for r in rewards}
    by_challenge = {c.challenge_id: c for c in challenges}
    return [
        NextAction(
            a,
            templates.get(a.template_id) if a.template_id else None,
            by_reward.get(a.reward_id) if a.reward_id else None,
            by_challenge.get(a.challenge_id) if a.challenge_id else None,
        )
        for a in actions
    ]
