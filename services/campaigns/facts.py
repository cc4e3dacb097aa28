"""Campaigns on the facts that are not orders: a check-in, a review, a referral reward, a
registration (issue 19). Each fact's service calls `reward_fact` inside its own transaction,
under the member's row lock, after booking the fact's own points; a reversal of the fact calls
`take_back_fact`. Each campaign's points are a ledger row of their own (reference type
CAMPAIGN, the reason naming the campaign) and a campaign_awards row tying them to the fact.

The lock is what makes the member's caps hold: the member's use of each campaign is read
under it, so two facts of one member are judged one after the other. Budgets are shared by
all members, so they are spent by a conditional UPDATE instead (db.repositories.campaigns)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from db import campaign_cache, tier_cache
from db.models import Member, Programme
from db.repositories import campaign_audience, fact_awards
from db.repositories import campaign_awards as award_repo
from db.repositories import campaigns as campaign_repo
from db.repositories import points as points_repo
from domain.campaigns import (
    Campaign,
    CampaignPoints,
    Contribution,
    Judging,
    MemberFacts,
    OtherFact,
    Trigger,
    Usage,
    evaluate,
    in_schedule,
    may_apply,
    period_bounds,
)
from domain.points import NegativePolicy, TxKind
from services.coupons.issuance import Holder, issue_for_campaign
from services.points.ledger import Entry, credit_available, expired_of, take_back

REFERENCE_TYPE = "CAMPAIGN"
_REFERENCE_MAX = 160  # point_transactions.reference

_BONUS = {
    Trigger.CHECK_IN: "check-in bonus",
    Trigger.REVIEW: "review bonus",
    Trigger.REFERRAL: "referral bonus",
    Trigger.REGISTRATION: "registration bonus",
}


@dataclass(frozen=True)
class FactAward:
    """What one campaign gave one fact."""

    campaign_id: int
    code: str
    name: str
    points: int
    coupon_id: int | None


@dataclass(frozen=True)
class Fact:
    """The fact being rewarded: what names it (as its own ledger row does), its moment, and
    who caused it (the ledger's actor and idempotency key)."""

    trigger: Trigger
    points: int  # the fact's own points, as credited: a multiplier multiplies these
    reference_type: str
    reference: str
    at: datetime
    actor: str
    idempotency_key: str | None


async def reward_fact(programme: Programme, member: Member, fact: Fact) -> tuple[FactAward, ...]:
    """Judge the programme's active campaigns of the fact's trigger and book what they give.
    The caller holds `member`'s row lock, in the transaction of the fact. No campaign running
    at the fact's moment: nothing is read beyond the (cached) campaign list."""
    campaigns = await campaign_cache.active_campaigns(programme.id)
    if not may_apply(campaigns, fact.trigger, fact.at, programme.timezone):
        return ()
    running = [
        c
        for c in campaigns
        if c.trigger is fact.trigger and in_schedule(c.schedule, fact.at, programme.timezone)
    ]
    judging = Judging(
        fact=OtherFact(fact.trigger, fact.points),
        at=fact.at,
        timezone=programme.timezone,
        member=await _member_facts(programme, member, running),
        usage=await _usage(member, running, fact.at, programme.timezone),
    )
    applied = await _spend(running, judging)
    by_id = {c.id: c for c in running}
    awards: list[FactAward] = []
    for contribution in applied:
        award = await _book(programme, member, fact, by_id[contribution.campaign_id], contribution)
        if award is not None:
            awards.append(award)
    return tuple(awards)


async def _member_facts(
    programme: Programme, member: Member, running: Sequence[Campaign]
) -> MemberFacts:
    """The member as the audiences of `running` see it; the segment and the order count are
    read only when one of them asks."""
    tier = await tier_cache.tier_by_id(programme.id, member.tier_id)
    segment, orders = None, 0
    if any(c.audience.segments or c.audience.nth_order is not None for c in running):
        found = await campaign_audience.audience_of(member.id)
        segment, orders = found.segment, found.orders
    return MemberFacts(
        tier_code=tier.code if tier else None,
        segment=segment,
        joined_at=member.joined_at,
        birthday_month=member.birthday_month,
        orders_before=orders,
    )


async def _usage(
    member: Member, running: Sequence[Campaign], at: datetime, timezone: str
) -> dict[int, Usage]:
    """Each campaign's budget left and the member's use of it, for those with such limits."""
    budgets = await campaign_repo.budgets_left(
        [c.id for c in running if c.limits.budget is not None]
    )
    periods = {
        c.id: (
            period_bounds(c.limits.cap_period, at, timezone)
            if c.limits.member_period_cap is not None and c.limits.cap_period is not None
            else None
        )
        for c in running
        if c.limits.member_cap is not None
        or c.limits.member_period_cap is not None
        or c.limits.max_rewarded_orders is not None
    }
    use = await award_repo.member_use(member.id, periods)
    usage: dict[int, Usage] = {}
    for campaign in running:
        mine = use.get(campaign.id)
        usage[campaign.id] = Usage(
            budget_left=budgets.get(campaign.id),
            member_points=mine.points if mine else 0,
            member_period_points=mine.period_points if mine else 0,
            member_rewarded=mine.rewarded if mine else 0,
        )
    return usage


async def _spend(running: Sequence[Campaign], judging: Judging) -> tuple[Contribution, ...]:
    """What applies, with the points of each campaign that has a budget taken from it. The
    budgets read for judging are only a hint: when a conditional UPDATE finds one gone
    (another member's fact took it since, or the campaign stopped), this attempt's spending is
    given back and the fact is judged again without that campaign, whose absence may let
    others apply. Budgets are spent in campaign id order, as orders spend them, so a fact and
    an order spending the same two campaigns cannot each hold one row the other waits for."""
    budgeted = {c.id for c in running if c.limits.budget is not None}
    while True:
        result: CampaignPoints = evaluate(running, judging)
        spent: list[Contribution] = []
        to_spend = sorted(
            (c for c in result.applied if c.campaign_id in budgeted and c.points > 0),
            key=lambda c: c.campaign_id,
        )
        for contribution in to_spend:
            if not await campaign_repo.spend_budget(contribution.campaign_id, contribution.points):
                for done in spent:
                    await campaign_repo.give_back_budget(done.campaign_id, done.points)
                judging = replace(judging, exhausted=judging.exhausted | {contribution.campaign_id})
                break
            spent.append(contribution)
        else:
            return result.applied


async def _book(
    programme: Programme,
    member: Member,
    fact: Fact,
    campaign: Campaign,
    contribution: Contribution,
) -> FactAward | None:
    """The campaign's points as their own ledger row, its coupon, and the award tying both to
    the fact. None when it gave nothing after all (0 points, and its template could not
    issue): no award then, so the member's count of rewarded facts does not move."""
    coupon_id = None
    if contribution.coupon_template is not None:
        coupon_id = await issue_for_campaign(
            programme.id,
            Holder(member.id, member.external_id),
            contribution.coupon_template,
            now=fact.at,
        )
    if contribution.points <= 0 and coupon_id is None:
        return None
    transaction_id = None
    if contribution.points > 0:
        entry = Entry(
            REFERENCE_TYPE,
            ledger_reference(campaign.code, fact.reference),
            f"campaign {campaign.code}: {_BONUS[fact.trigger]}",
            fact.actor,
            fact.idempotency_key,
            fact.at,
        )
        tx = await credit_available(member, entry, contribution.points, TxKind.EARN, programme)
        transaction_id = tx.id
    await award_repo.insert(
        programme_id=programme.id,
        campaign_id=campaign.id,
        member_id=member.id,
        order_id=None,
        reference_type=fact.reference_type,
        reference=fact.reference,
        points=contribution.points,
        lines=[],
        coupon_id=coupon_id,
        transaction_id=transaction_id,
        awarded_at=fact.at,
    )
    return FactAward(campaign.id, campaign.code, campaign.name, contribution.points, coupon_id)


def ledger_reference(code: str, reference: str) -> str:
    """`<campaign code>:<fact reference>`, cut to the column's length (a 64-character order id
    and sku reviewed by a long code would not fit). The award row keeps the fact's reference
    whole, and reversals find the ledger row through it, never by this text."""
    return f"{code}:{reference}"[:_REFERENCE_MAX]


async def take_back_fact(
    member: Member,
    *,
    reference_type: str,
    reference: str,
    entry: Entry,
    negative: NegativePolicy,
) -> int:
    """The fact was undone (a reviewed item returned, an invited member's order returned): the
    campaign points it earned go too, as its own points do — all of each award's credit but
    what of it expired — and a campaign with a budget gets back what was taken. The caller
    holds the member's row lock. A coupon the campaign issued stays with the member. Returns
    the points taken back."""
    given_back: dict[int, int] = {}
    awards = await fact_awards.of_fact(
        member.id, reference_type=reference_type, reference=reference
    )
    for award in awards:
        if award.transaction_id is None or award.points_reversed:
            continue
        earned = await points_repo.get_transaction(member.programme_id, award.transaction_id)
        if earned is None or await points_repo.reversal_of(earned.id) is not None:
            continue
        amount = earned.amount - await expired_of(earned)
        await take_back(
            member,
            Entry(
                REFERENCE_TYPE,
                earned.reference,
                entry.reason,
                entry.actor,
                entry.idempotency_key,
                entry.at,
            ),
            earned,
            amount,
            negative=negative,
        )
        await fact_awards.mark_reversed(award, amount)
        given_back[award.campaign_id] = given_back.get(award.campaign_id, 0) + amount
    # only budgets are spent (`_spend`), and in campaign id order, as orders give them back
    budgets = await campaign_repo.budgets_left(sorted(given_back))
    for campaign_id in sorted(given_back):
        if budgets.get(campaign_id) is not None and given_back[campaign_id]:
            await campaign_repo.give_back_budget(campaign_id, given_back[campaign_id])
    return sum(given_back.values())
