"""Campaigns on the facts that are not orders: a check-in, a review, a referral reward, a
registration (issue 19). Each fact's service calls `reward_fact` inside its own transaction,
under the member's row lock, after booking the fact's own points; a reversal of the fact calls
`take_back_fact`. Each campaign's points are a ledger row of their own (reference type
CAMPAIGN, the reason naming the campaign) and a campaign_awards row tying them to the fact.
The lock is what makes the member's caps hold (services.campaigns.common, shared with orders,
reads the member's use under it and spends the budgets)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from db import campaign_cache
from db.models import Member, Programme
from db.repositories import campaign_awards as award_repo
from db.repositories import points as points_repo
from domain.campaigns import (
    Campaign,
    Contribution,
    Judging,
    OtherFact,
    Trigger,
)
from domain.points import NegativePolicy, TxKind
from services.campaigns import common
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
    running = common.running(campaigns, fact.trigger, fact.at, programme.timezone)
    if not running:
        return ()
    judging = Judging(
        fact=OtherFact(fact.trigger, fact.points),
        at=fact.at,
        timezone=programme.timezone,
        member=await common.member_facts(programme, member, running, fact.at),
        usage=await common.usage(member.id, running, fact.at, programme.timezone),
    )
    result = await common.judge_spending(running, judging)
    by_id = {c.id: c for c in running}
    awards: list[FactAward] = []
    for contribution in result.applied:
        award = await _book(programme, member, fact, by_id[contribution.campaign_id], contribution)
        if award is not None:
            awards.append(award)
    return tuple(awards)


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
    coupon_id = await common.coupon_of(programme.id, member, contribution, fact.at)
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
    awards = await award_repo.of_fact(member.id, reference_type=reference_type, reference=reference)
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
        award.points_reversed += amount
        await award_repo.save(award, "points_reversed")
        given_back[award.campaign_id] = given_back.get(award.campaign_id, 0) + amount
    await common.give_back(given_back)
    return sum(given_back.values())
