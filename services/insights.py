"""Programme insights (issue 21.1): the admin's figures for a range of the programme's days,
read by db/sql/insights.py's aggregates and put together by domain/insights.py's rules.
Reads only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from db.repositories import programmes as programme_repo
from db.sql import insights as insights_sql
from db.sql import insights_rollup
from domain.auth import Principal
from domain.insights import (
    Granularity,
    LedgerGroup,
    bucket_bounds,
    bucket_days,
    cash_value,
    check_range,
    direction,
    point_flows,
    rate,
)
from services.clock import zone_of
from services.points.ledger import policy_of
from services.programmes import every_or_one


@dataclass(frozen=True)
class MemberInsights:
    total: int
    new: int
    active: int
    participation_rate: float
    by_segment: list[tuple[str, int]]


@dataclass(frozen=True)
class PointsInsights:
    earned: int
    earned_by_source: list[tuple[str, int]]
    spent: int
    spent_by_use: list[tuple[str, int]]
    expired: int
    forfeited: int
    redemption_rate: float
    breakage: float
    available: int
    pending: int
    cash_value: int


@dataclass(frozen=True)
class TierCount:
    code: str
    name: str
    members: int


@dataclass(frozen=True)
class TierMigration:
    from_code: str
    to_code: str
    direction: str
    members: int


@dataclass(frozen=True)
class TierBehaviour:
    code: str
    name: str
    orders: int
    members: int
    average_order_value: int
    orders_per_member: float


@dataclass(frozen=True)
class Behaviour:
    repeat_purchase_rate: float
    by_tier: list[TierBehaviour]
    invited: int
    rewarded: int
    conversion_rate: float


@dataclass(frozen=True)
class Bucket:
    start: date
    earned: int
    spent: int
    expired: int
    active_members: int


@dataclass(frozen=True)
class Insights:
    first: date
    last: date
    granularity: Granularity
    currency: str
    members: MemberInsights
    points: PointsInsights
    tiers: list[TierCount]
    migrations: list[TierMigration]
    behaviour: Behaviour
    coupons: list[dict[str, object]]
    campaigns: list[dict[str, object]]
    rewards: list[dict[str, object]]
    series: list[Bucket]


NO_TIER = "NONE"


async def programme_insights(
    principal: Principal, first: date, last: date, granularity: str
) -> Insights:
    programme = await programme_repo.get(principal.programme_id)
    zone = zone_of(programme)
    span = check_range(first, last, granularity, zone)
    bounds = bucket_bounds(span, zone)
    facts = await insights_sql.facts(programme.id, span, bounds, bucket_days(span))
    policy = policy_of(programme)

    flows = point_flows([g.group for g in facts.ledger])
    totals = facts.members
    points = PointsInsights(
        earned=flows.earned,
        earned_by_source=[(s.value, n) for s, n in flows.earned_by_source.items()],
        spent=flows.spent,
        spent_by_use=[(u.value, n) for u, n in flows.spent_by_use.items()],
        expired=flows.expired,
        forfeited=flows.forfeited,
        redemption_rate=rate(flows.spent, flows.earned),
        breakage=rate(flows.expired, flows.earned),
        available=totals.available,
        pending=totals.pending,
        cash_value=cash_value(totals.available + totals.pending, policy),
    )
    members = MemberInsights(
        total=totals.total,
        new=totals.new,
        active=totals.active,
        participation_rate=rate(totals.active, totals.total),
        by_segment=facts.segments,
    )
    tiers_by_id = {t.id: t for t in facts.tiers}
    migrations = []
    for from_id, to_id, count in facts.migrations:
        before, after = tiers_by_id.get(from_id or -1), tiers_by_id.get(to_id or -1)
        migrations.append(
            TierMigration(
                before.code if before else NO_TIER,
                after.code if after else NO_TIER,
                direction(before.rank if before else None, after.rank if after else None),
                count,
            )
        )
    migrations.sort(key=lambda m: (m.from_code, m.to_code))
    return Insights(
        first=span.first,
        last=span.last,
        granularity=span.granularity,
        currency=programme.currency,
        members=members,
        points=points,
        tiers=[TierCount(t.code, t.name, t.members) for t in facts.tiers],
        migrations=migrations,
        behaviour=_behaviour(facts, tiers_by_id),
        coupons=[
            {**c, "redemption_rate": rate(int(c["redeemed"]), int(c["issued"]))}
            for c in facts.coupons
        ],
        campaigns=facts.campaigns,
        rewards=facts.rewards,
        series=_series(bounds, facts),
    )


def _behaviour(facts: insights_sql.Facts, tiers: dict[int, insights_sql.TierRow]) -> Behaviour:
    buyers = sum(t.members for t in facts.by_tier)
    repeaters = sum(t.repeaters for t in facts.by_tier)
    found = {t.tier_id: t for t in facts.by_tier}
    by_tier = []
    for tier in sorted(tiers.values(), key=lambda t: t.rank):
        row = found.get(tier.id)
        orders, members, value = (row.orders, row.members, row.value) if row else (0, 0, 0)
        by_tier.append(
            TierBehaviour(
                tier.code,
                tier.name,
                orders,
                members,
                value // orders if orders else 0,
                rate(orders, members),
            )
        )
    invited, rewarded = facts.referrals
    return Behaviour(rate(repeaters, buyers), by_tier, invited, rewarded, rate(rewarded, invited))


def _series(
    bounds: list[tuple[date, datetime, datetime]], facts: insights_sql.Facts
) -> list[Bucket]:
    """Every bucket of the range, the empty ones with zeros; each classified as the totals are."""
    groups: dict[date, list[LedgerGroup]] = {}
    for row in facts.ledger:
        groups.setdefault(row.start, []).append(row.group)
    series = []
    for start, _lo, _hi in bounds:
        flows = point_flows(groups.get(start, []))
        series.append(
            Bucket(
                start,
                flows.earned,
                flows.spent,
                flows.expired,
                facts.active_by_bucket.get(start, 0),
            )
        )
    return series


@dataclass(frozen=True)
class Rebuilt:
    programme: str
    activity_rows: int
    day_sums: int


async def rebuild_rollups(programme_code: str | None = None) -> list[Rebuilt]:
    """Redo every programme's insights rollups from its ledger, or one programme's (by code):
    for after a restore or a bulk load that skipped the ledger's trigger. PostgreSQL only
    (SQLite keeps none: each programme reports 0 and 0)."""
    done = []
    for programme in await every_or_one(programme_code):
        activity, sums = await insights_rollup.rebuild(programme.id)
        done.append(Rebuilt(programme.code, activity, sums))
    return done
