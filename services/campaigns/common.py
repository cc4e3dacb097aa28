"""What judging a fact's campaigns asks, whatever the fact (an order: services.campaigns.judging;
another fact: services.campaigns.facts): the member as the audiences see it, the member's use
of each campaign and the budgets left, the budgets spent with the fact judged again when one
is gone, and giving budgets back.

The caller holds the member's row lock, inside the fact's transaction: the member's use is read
under it, so two facts of one member are judged one after the other and its caps hold. Budgets
are shared by all members, so they are spent by a conditional UPDATE instead
(db.repositories.campaigns), always in campaign id order: a fact and an order spending the same
two campaigns cannot each hold one row the other waits for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from db import tier_cache
from db.models import Member, Programme
from db.repositories import campaign_audience
from db.repositories import campaign_awards as award_repo
from db.repositories import campaigns as campaign_repo
from db.repositories.members import LockedMember
from domain.campaigns import (
    Audience,
    Campaign,
    CampaignPoints,
    CampaignStatus,
    Contribution,
    Judging,
    MemberFacts,
    Trigger,
    Usage,
    evaluate,
    in_schedule,
    period_bounds,
)
from services.coupons.issuance import Holder, issue_for_campaign


def most_orders_asked(campaigns: Sequence[Campaign]) -> int:
    """How far a member's orders must be counted for these campaigns' Nth-order audiences."""
    return max((c.audience.nth_order or 0 for c in campaigns), default=0)


def running(
    campaigns: Sequence[Campaign], trigger: Trigger, at: datetime, timezone: str
) -> list[Campaign]:
    """The active campaigns of the fact's trigger whose schedule holds `at`."""
    return [
        c
        for c in campaigns
        if c.status is CampaignStatus.ACTIVE
        and c.trigger is trigger
        and in_schedule(c.schedule, at, timezone)
    ]


def known_facts(
    member: LockedMember | Member, at: datetime, tier_code: str | None = None
) -> MemberFacts:
    """The facts known without a read; the others stand in for facts no campaign judged asks
    for (no segment, no order before; joined now when the row at hand does not say)."""
    return MemberFacts(
        tier_code=tier_code,
        segment=None,
        joined_at=member.joined_at if isinstance(member, Member) else at,
        birthday_month=member.birthday_month,
        orders_before=0,
    )


async def member_facts(
    programme: Programme,
    member: LockedMember | Member,
    campaigns: Sequence[Campaign],
    at: datetime,
    *,
    read: campaign_audience.Audience | None = None,
) -> MemberFacts:
    """What the campaigns' audiences ask of the member: its tier and birthday month as held,
    the rest in one read, made only when an audience asks for what the row at hand lacks
    (none when the caller `read` it already, with orders counted far enough)."""
    return await audience_facts(programme, member, [c.audience for c in campaigns], at, read=read)


async def audience_facts(
    programme: Programme,
    member: LockedMember | Member,
    audiences: Sequence[Audience],
    at: datetime,
    *,
    read: campaign_audience.Audience | None = None,
) -> MemberFacts:
    """`member_facts` for any audiences (campaigns' or challenges')."""
    tier = await tier_cache.tier_by_id(programme.id, member.tier_id)
    known = known_facts(member, at, tier.code if tier else None)
    joined_unknown = not isinstance(member, Member)
    if not any(
        a.segments
        or a.nth_order is not None
        or (joined_unknown and a.joined_within_days is not None)
        for a in audiences
    ):
        return known
    orders_up_to = max((a.nth_order or 0 for a in audiences), default=0)
    found = read or await campaign_audience.audience_of(member.id, orders_up_to=orders_up_to)
    return replace(
        known, segment=found.segment, joined_at=found.joined_at, orders_before=found.orders
    )


async def usage(
    member_id: int, campaigns: Sequence[Campaign], at: datetime, timezone: str
) -> dict[int, Usage]:
    """Each campaign's budget left (a hint: only the spend decides) and the member's use of it,
    read only for campaigns with a budget or a member limit."""
    budgets = await campaign_repo.budgets_left(
        [c.id for c in campaigns if c.limits.budget is not None]
    )
    periods: dict[int, tuple[datetime, datetime] | None] = {}
    for c in campaigns:
        lim = c.limits
        if lim.member_period_cap is not None and lim.cap_period is not None:
            periods[c.id] = period_bounds(lim.cap_period, at, timezone)
        elif lim.member_cap is not None or lim.max_rewarded_orders is not None:
            periods[c.id] = None
    use = await award_repo.member_use(member_id, periods)
    found: dict[int, Usage] = {}
    for campaign_id in budgets.keys() | use.keys():
        mine = use.get(campaign_id)
        found[campaign_id] = Usage(
            budget_left=budgets.get(campaign_id),
            member_points=mine.points if mine else 0,
            member_period_points=mine.period_points if mine else 0,
            member_rewarded=mine.rewarded if mine else 0,
        )
    return found


async def judge_spending(campaigns: Sequence[Campaign], judging: Judging) -> CampaignPoints:
    """What `campaigns` give the fact, with each applied campaign's points taken from its
    budget. The budgets read for judging are only a hint: when a conditional UPDATE finds one
    gone (another member's fact took it since, or the campaign stopped), what this attempt
    spent is given back and the fact is judged again without that campaign, whose absence may
    let others apply, until every budget spent holds (the transaction goes on: nothing of a
    failed attempt stays spent)."""
    budgeted = {c.id for c in campaigns if c.limits.budget is not None}
    while True:
        result = evaluate(campaigns, judging)
        gone = await _spend(
            sorted(
                (c for c in result.applied if c.campaign_id in budgeted and c.points > 0),
                key=lambda c: c.campaign_id,
            )
        )
        if gone is None:
            return result
        judging = replace(judging, exhausted=judging.exhausted | {gone})


async def _spend(contributions: list[Contribution]) -> int | None:
    """Spend each contribution's points from its campaign's budget: None when all held, else
    the id of the first campaign whose budget was gone, with what was spent before it given
    back."""
    spent: list[Contribution] = []
    for contribution in contributions:
        if not await campaign_repo.spend_budget(contribution.campaign_id, contribution.points):
            for done in spent:
                await campaign_repo.give_back_budget(done.campaign_id, done.points)
            return contribution.campaign_id
        spent.append(contribution)
    return None


async def give_back(points: dict[int, int]) -> None:
    """Points (campaign id -> points) back to the budgets of the campaigns that have one, in
    campaign id order, as they are spent."""
    points = {campaign_id: p for campaign_id, p in points.items() if p}
    if not points:
        return
    budgets = await campaign_repo.budgets_left(sorted(points))
    for campaign_id in sorted(points):
        if budgets.get(campaign_id) is not None:
            await campaign_repo.give_back_budget(campaign_id, points[campaign_id])


async def coupon_of(
    programme_id: int, member: LockedMember | Member, contribution: Contribution, at: datetime
) -> int | None:
    """The coupon the campaign's effect issues to the member, when it has one and it could
    issue (None otherwise): a campaign that gives neither points nor coupon rewarded nothing,
    so it leaves no award."""
    if contribution.coupon_template is None:
        return None
    return await issue_for_campaign(
        programme_id,
        Holder(member.id, member.external_id),
        contribution.coupon_template,
        now=at,
    )
