"""Programme insights as GraphQL (issue 21.1): the admin's query and its types. The figures
are defined in the README's "Insights" section; each description here says it in short."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from domain import insights as domain
from resolvers import insights as resolvers
from schema.describe import describe_values
from schema.insights_types import (
    BehaviourInsights,
    CampaignInsight,
    CouponInsight,
    InsightsBucket,
    MemberInsights,
    PointsInsights,
    RewardInsight,
    TierInsights,
)
from services.insights import Insights

InsightsGranularity = strawberry.enum(
    domain.Granularity,
    name="InsightsGranularity",
    description="The length of the series' buckets, on the programme's calendar.",
)
describe_values(
    InsightsGranularity,
    {
        "DAY": "One bucket per day.",
        "WEEK": "One bucket per week, starting Monday.",
        "MONTH": "One bucket per calendar month.",
    },
)


@strawberry.type(
    description="A programme's figures for a range of its days (README: Insights). Points are "
    "net of reversals; money is in minor units of `currency`."
)
class ProgrammeInsights:
    from_: date = strawberry.field(name="from", description="The first day of the range.")
    to: date = strawberry.field(description="The last day of the range (inclusive).")
    granularity: InsightsGranularity = strawberry.field(  # type: ignore[valid-type]
        description="The length of the buckets of `series`."
    )
    currency: str = strawberry.field(description="The programme's currency (ISO 4217).")
    members: MemberInsights = strawberry.field(description="Members and their participation.")
    points: PointsInsights = strawberry.field(
        description="Points earned, spent and expired, and what is owed at the end."
    )
    tiers: TierInsights = strawberry.field(description="Tier distribution and moves.")
    behaviour: BehaviourInsights = strawberry.field(
        description="Purchases by tier and referral conversion."
    )
    coupons: list[CouponInsight] = strawberry.field(
        description="Per coupon template made by the end of the range, by code."
    )
    campaigns: list[CampaignInsight] = strawberry.field(
        description="Per campaign that ran at some time in the range, by code."
    )
    rewards: list[RewardInsight] = strawberry.field(
        description="Per reward with redemptions in the range, by code."
    )
    series: list[InsightsBucket] = strawberry.field(
        description="One bucket per day, week or month touching the range, in order; empty "
        "ones included (zeros)."
    )

    @classmethod
    def from_service(cls, found: Insights) -> ProgrammeInsights:
        return cls(
            from_=found.first,
            to=found.last,
            granularity=found.granularity,
            currency=found.currency,
            members=MemberInsights.from_service(found.members),
            points=PointsInsights.from_service(found.points),
            tiers=TierInsights.from_service(found.tiers, found.migrations),
            behaviour=BehaviourInsights.from_service(found.behaviour),
            coupons=[CouponInsight(**c) for c in found.coupons],  # type: ignore[arg-type]
            campaigns=[CampaignInsight(**c) for c in found.campaigns],  # type: ignore[arg-type]
            rewards=[RewardInsight(**r) for r in found.rewards],  # type: ignore[arg-type]
            series=[
                InsightsBucket(
                    start=b.start,
                    earned=b.earned,
                    spent=b.spent,
                    expired=b.expired,
                    active_members=b.active_members,
                )
                for b in found.series
            ],
        )


@strawberry.type
class InsightsQuery:
    @strawberry.field(
        description="Admin only (a storefront or member credential: FORBIDDEN): the "
        "programme's figures for the days `from` to `to` (inclusive) of its time zone. "
        "`from` after `to`, or a range over 3 years (1096 days): VALIDATION."
    )
    async def programme_insights(
        self,
        info: strawberry.Info,
        from_: Annotated[
            date,
            strawberry.argument(name="from", description="The first day (programme's time zone)."),
        ],
        to: Annotated[
            date, strawberry.argument(description="The last day, inclusive (programme's zone).")
        ],
        granularity: Annotated[
            InsightsGranularity,  # type: ignore[valid-type]
            strawberry.argument(description="The length of the series' buckets."),
        ] = domain.Granularity.MONTH,
    ) -> ProgrammeInsights:
        found = await resolvers.programme_insights(
            info, first=from_, last=to, granularity=domain.Granularity(granularity).value
        )
        return ProgrammeInsights.from_service(found)
