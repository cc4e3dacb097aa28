"""Campaigns on the order path: which may apply, what they give an order (read under the
member's lock, so its caps hold against the member's racing orders), the budgets spent in the
order's transaction, and what returns and cancellations take back.

`evaluate` (domain.campaigns) decides; this module gathers what it reads and books what it
returns, so `previewOrderPoints` (which spends nothing) shows exactly what `recordOrder`
books unless a budget runs out between the two.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from db import campaign_cache
from db.models import Member, OrderLine, Programme
from db.repositories import campaign_awards as award_repo
from db.repositories.campaign_audience import Audience as AudienceRead
from db.repositories.members import LockedMember
from db.repositories.orders import OrderRecord
from domain.campaigns import (
    Campaign,
    CampaignPoints,
    Contribution,
    Judging,
    MemberFacts,
    NotApplied,
    OrderFact,
    Skipped,
    Trigger,
    Usage,
    could_reward,
    evaluate,
    kept_within,
    may_apply,
)
from domain.points import EarnRule, LinePoints, OrderPoints, RulePoints, points_to_reverse
from services.campaigns import common
from services.clock import now_of
from services.coupons.issuance import campaign_coupon_would_issue

ORDER = "ORDER"
NO_CAMPAIGN = CampaignPoints()
REASON_LENGTH = 200  # point_transactions.reason


async def order_campaigns(programme: Programme, at: datetime) -> tuple[Campaign, ...]:
    """The programme's active campaigns when one for orders runs at `at`, else none: the
    order then reads nothing more (the cache answers this from memory when warm)."""
    campaigns = await campaign_cache.active_campaigns(programme.id)
    if not may_apply(campaigns, Trigger.ORDER, at, programme.timezone):
        return ()
    return campaigns


async def book(
    programme: Programme,
    member: LockedMember,
    fact: OrderFact,
    at: datetime,
    campaigns: Sequence[Campaign],
) -> CampaignPoints:
    """What `order_campaigns` give the order, their budgets spent: in the order's
    transaction, the member's lock held. None of them: nothing, and nothing read."""
    if not campaigns:
        return NO_CAMPAIGN
    return await _judge(programme, member, fact, at, campaigns, spend=True)


async def would_give(
    programme: Programme,
    member: LockedMember,
    fact: OrderFact,
    at: datetime,
    campaigns: Sequence[Campaign],
    *,
    read: AudienceRead | None = None,
) -> bool:
    """Whether any of `campaigns` would give the order something, judged as `book` judges
    but with no use of caps or budgets counted (they can only take away, so True may be
    too many, never too few). False lets recordOrder keep its optimistic way without a lock;
    it reads nothing unless a campaign the order's conditions meet asks its audience for
    the member's segment, join date or orders."""
    running = common.running(campaigns, Trigger.ORDER, at, programme.timezone)
    running = _could_apply(running, fact, at, programme.timezone)
    if not running:
        return False
    facts = await common.member_facts(programme, member, running, at, read=read)
    return bool(evaluate(running, _judging(fact, at, programme.timezone, facts)).applied)


async def preview(
    programme: Programme, member: Member, fact: OrderFact, at: datetime
) -> CampaignPoints:
    """What every active campaign would give the order now, or why it would not; spends
    nothing (the budgets left are read as they are)."""
    campaigns = await campaign_cache.active_campaigns(programme.id)
    judged = await _judge(programme, member, fact, at, campaigns, spend=False)
    return await _coupons_as_booked(programme, judged)


async def _coupons_as_booked(programme: Programme, judged: CampaignPoints) -> CampaignPoints:
    """The preview shows a campaign's coupon only if booking could issue it now: one that
    cannot (retired, out of stock, closed) is left off, and a campaign giving nothing else
    then did not apply, as booking leaves no award for it."""
    now = now_of(programme)
    applied: list[Contribution] = []
    skipped = list(judged.skipped)
    for c in judged.applied:
        if c.coupon_template is None or await campaign_coupon_would_issue(
            programme.id, c.coupon_template, now=now
        ):
            applied.append(c)
        elif c.points:
            applied.append(replace(c, coupon_template=None))
        else:
            skipped.append(Skipped(c.campaign_id, c.code, NotApplied.NOTHING_TO_ADD))
    return CampaignPoints(applied=tuple(applied), skipped=tuple(skipped))


async def _judge(
    programme: Programme,
    member: LockedMember | Member,
    fact: OrderFact,
    at: datetime,
    campaigns: Sequence[Campaign],
    *,
    spend: bool,
) -> CampaignPoints:
    """What `campaigns` give the order placed at `at`. With `spend` (the caller holds the
    member's lock, inside the order's transaction), each applied campaign's budget is spent by
    a conditional UPDATE; when one is gone, what this attempt spent is given back and the
    order is judged again without that campaign, until every budget spent holds. Without it
    (the preview), the budgets left now are only read."""
    running = common.running(campaigns, Trigger.ORDER, at, programme.timezone)
    # Booking reads the member's facts and use only for campaigns this order could get at
    # all; the preview reads them for every running one, so each reason it shows is the
    # true one. Both apply the same campaigns.
    if spend:
        running = _could_apply(running, fact, at, programme.timezone)
    if not running:
        return evaluate(
            campaigns, _judging(fact, at, programme.timezone, common.known_facts(member, at))
        )
    judging = _judging(
        fact,
        at,
        programme.timezone,
        await common.member_facts(programme, member, running, at),
        await common.usage(member.id, running, at, programme.timezone),
    )
    if not spend:
        return evaluate(campaigns, judging)
    return await common.judge_spending(campaigns, judging)


def _judging(
    fact: OrderFact,
    at: datetime,
    timezone: str,
    member: MemberFacts,
    usage: dict[int, Usage] | None = None,
) -> Judging:
    return Judging(fact=fact, at=at, timezone=timezone, member=member, usage=usage or {})


def _could_apply(
    running: list[Campaign], fact: OrderFact, at: datetime, timezone: str
) -> list[Campaign]:
    """The running campaigns that would give this order something for some member: its
    conditions met and something to add, judged without audience, limits or stacking (none
    of which can make a campaign apply). Pure; the others need no reads."""
    return [c for c in running if could_reward(c, fact)]


# ---- booking ------------------------------------------------------------------------------


def with_campaigns(earned: OrderPoints, booked: CampaignPoints) -> OrderPoints:
    """The order's earning with each applied campaign's share added to its lines, as CAMPAIGN
    rules naming the campaign: a line's points (what returns take back per item) include its
    campaign points, and its rules still add up to them."""
    if not booked.total:
        return earned
    extra: dict[str, list[RulePoints]] = {}
    for contribution in booked.applied:
        for share in contribution.lines:
            extra.setdefault(share.sku, []).append(
                RulePoints(
                    EarnRule.CAMPAIGN, share.points, contribution.campaign_id, contribution.code
                )
            )
    lines = tuple(
        LinePoints(
            sku=line.sku,
            quantity=line.quantity,
            amount=line.amount,
            points=line.points + sum(r.points for r in extra.get(line.sku, ())),
            rules=(*line.rules, *extra.get(line.sku, ())),
        )
        for line in earned.lines
    )
    return OrderPoints(lines=lines, total=sum(x.points for x in lines), amount=earned.amount)


def reason_of(base: str, booked: CampaignPoints) -> str:
    """The ledger row's reason, naming the campaigns that added points:
    "order placed; campaigns DOUBLE-WEEKEND +120, MEMBER-DAY +50" (cut to the column's size)."""
    named = [f"{c.code} +{c.points}" for c in booked.applied if c.points]
    if not named:
        return base
    reason = f"{base}; campaigns {', '.join(named)}"
    return reason if len(reason) <= REASON_LENGTH else reason[: REASON_LENGTH - 1] + "…"


async def record_awards(
    programme: Programme,
    member: LockedMember,
    order: OrderRecord,
    booked: CampaignPoints,
    now: datetime,
) -> None:
    """One award per applied campaign, with its coupon when its effect has one, in the order's
    transaction (the member's lock held): the member's caps and the results read these."""
    awards = []
    for contribution in booked.applied:
        coupon_id = await common.coupon_of(programme.id, member, contribution, now)
        if not contribution.points and coupon_id is None:
            continue  # its coupon could not issue: it gave nothing, so it rewarded nothing
        awards.append(
            {
                "programme_id": programme.id,
                "campaign_id": contribution.campaign_id,
                "member_id": member.id,
                "order_id": order.id,
                "reference_type": ORDER,
                "reference": order.order_ref,
                "points": contribution.points,
                "points_reversed": 0,
                "lines": [[share.sku, share.points, 0] for share in contribution.lines],
                "spend": order.amount,
                "coupon_id": coupon_id,
                "awarded_at": order.placed_at,
            }
        )
    if awards:
        await award_repo.insert_many(awards)


# ---- take-backs ---------------------------------------------------------------------------


def _has_campaign_points(rules: list[list[object]]) -> bool:
    """Whether an order line's stored rules hold a campaign's share."""
    return any(rule[0] == EarnRule.CAMPAIGN.value for rule in rules)


async def take_back_returned(order_id: int, lines: list[tuple[OrderLine, int]]) -> None:
    """A return of the order's lines (each line as it was before, and how many of it return):
    each award takes back its lines' shares as the lines take back theirs
    (`points_to_reverse`), and the budget gets them back. Nothing is read when no returning
    line holds a campaign's share. The caller holds the order's lock."""
    # sku -> (bought, returned before, returning)
    returned = {
        line.sku: (line.quantity, line.returned_quantity, quantity)
        for line, quantity in lines
        if _has_campaign_points(line.rules)
    }
    if not returned:
        return
    given_back: dict[int, int] = {}
    for award in await award_repo.of_order(order_id):
        taken = 0
        for entry in award.lines:
            sku, points = str(entry[0]), int(entry[1])
            if sku in returned:
                quantity, before, returning = returned[sku]
                share = points_to_reverse(points, quantity, before, returning)
                entry[2] = int(entry[2]) + share
                taken += share
        if taken:
            award.points_reversed += taken
            await award_repo.save(award, "lines", "points_reversed")
            given_back[award.campaign_id] = given_back.get(award.campaign_id, 0) + taken
    await common.give_back(given_back)


async def cancel_awards(order_id: int) -> None:
    """A cancelled order: its awards no longer count for the member's limits, and what they
    still held goes back to the budgets. The caller holds the order's lock."""
    given_back: dict[int, int] = {}
    for award in await award_repo.of_order(order_id):
        left = award.points - award.points_reversed
        award.cancelled = True
        await award_repo.save(award, "cancelled")
        if left:
            given_back[award.campaign_id] = given_back.get(award.campaign_id, 0) + left
    await common.give_back(given_back)


async def kept_by_cap(booked: CampaignPoints, room: int) -> CampaignPoints:
    """An abuse cap left the order `room` points beyond its base: the campaigns keep only
    that (domain.campaigns.kept_within), and what they no longer give goes back to their
    budgets, so awards and budgets count only what the member was credited. The points the
    cap holds back for review are the order's, not a campaign's."""
    kept = kept_within(booked, room)
    after = {c.campaign_id: c.points for c in kept.applied}
    await common.give_back(
        {
            c.campaign_id: c.points - after.get(c.campaign_id, 0)
            for c in booked.applied
            if c.points > after.get(c.campaign_id, 0)
        }
    )
    return kept


async def give_back(booked: CampaignPoints) -> None:
    """Undo `book`'s spending when the order is refused after it (its id taken)."""
    await common.give_back({c.campaign_id: c.points for c in booked.applied})
