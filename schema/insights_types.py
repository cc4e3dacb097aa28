"""The parts of ProgrammeInsights (schema/insights.py): members, points, tiers, behaviour, the
per-template, per-campaign and per-reward lists, and the series' buckets."""

from __future__ import annotations

from datetime import date

import strawberry

from services import insights as service


@strawberry.type(description="How many members are in a lifecycle segment (last segment build).")
class SegmentCount:
    segment: str = strawberry.field(description="The lifecycle segment, e.g. NEW, AT_RISK.")
    members: int = strawberry.field(description="Members in it now (erased ones left out).")


@strawberry.type(description="Members of the programme and how many took part in the range.")
class MemberInsights:
    total: int = strawberry.field(
        description="Members registered by the end of the range and not erased by then."
    )
    new: int = strawberry.field(description="Of them, those registered within the range.")
    active: int = strawberry.field(
        description="Members who earned or spent points in the range (an order recorded, a "
        "check-in, a review, a redemption, a transfer...)."
    )
    participation_rate: float = strawberry.field(description="active / total (0 when total is 0).")
    by_segment: list[SegmentCount] = strawberry.field(
        description="Members per lifecycle segment, as the last segment build left them."
    )

    @classmethod
    def from_service(cls, found: service.MemberInsights) -> MemberInsights:
        return cls(
            total=found.total,
            new=found.new,
            active=found.active,
            participation_rate=found.participation_rate,
            by_segment=[SegmentCount(segment=s, members=n) for s, n in found.by_segment],
        )


@strawberry.type(description="Points earned from one source in the range, net of take-backs.")
class PointsBySource:
    source: str = strawberry.field(
        description="ORDERS, CHECK_IN, REVIEWS, REFERRALS, CAMPAIGNS, PARTNERS_IN, ADJUSTMENTS "
        "or OTHER (challenges, gifts received, released abuse holds)."
    )
    points: int = strawberry.field(description="Points made available from this source.")


@strawberry.type(description="Points spent on one use in the range, net of cancellations.")
class PointsByUse:
    use: str = strawberry.field(
        description="REWARDS, COUPONS, CHECKOUT (points paid at checkout), PARTNERS_OUT or OTHER "
        "(gifts given)."
    )
    points: int = strawberry.field(description="Points spent on this use.")


@strawberry.type(description="What the programme owes its members at the end of the range.")
class PointsLiability:
    available: int = strawberry.field(description="Available points, all members together.")
    pending: int = strawberry.field(description="Pending points (return windows still open).")
    cash_value: int = strawberry.field(
        description="(available + pending) at the checkout rate, in minor units of `currency`, "
        "rounded down."
    )


@strawberry.type(description="Points moved in the range.")
class PointsInsights:
    earned: int = strawberry.field(
        description="Points made available in the range (an order's when its return window "
        "closed), less points taken back by returns."
    )
    earned_by_source: list[PointsBySource] = strawberry.field(description="`earned` by source.")
    spent: int = strawberry.field(
        description="Points spent in the range, less spends cancelled (points given back)."
    )
    spent_by_use: list[PointsByUse] = strawberry.field(description="`spent` by use.")
    expired: int = strawberry.field(description="Points that expired in the range.")
    forfeited: int = strawberry.field(
        description="Points erased members gave up in the range (not in spent or expired)."
    )
    redemption_rate: float = strawberry.field(description="spent / earned (0 when earned is 0).")
    breakage: float = strawberry.field(description="expired / earned (0 when earned is 0).")
    liability: PointsLiability = strawberry.field(description="Owed at the end of the range.")

    @classmethod
    def from_service(cls, found: service.PointsInsights) -> PointsInsights:
        return cls(
            earned=found.earned,
            earned_by_source=[
                PointsBySource(source=s, points=n) for s, n in found.earned_by_source
            ],
            spent=found.spent,
            spent_by_use=[PointsByUse(use=u, points=n) for u, n in found.spent_by_use],
            expired=found.expired,
            forfeited=found.forfeited,
            redemption_rate=found.redemption_rate,
            breakage=found.breakage,
            liability=PointsLiability(
                available=found.available, pending=found.pending, cash_value=found.cash_value
            ),
        )


@strawberry.type(description="How many members were in a tier at the end of the range.")
class TierCount:
    code: str = strawberry.field(description="The tier's code.")
    name: str = strawberry.field(description="The tier's name.")
    members: int = strawberry.field(description="Members in it at the end of the range.")


@strawberry.type(description="Members who moved from one tier to another in the range.")
class TierMigration:
    from_code: str = strawberry.field(description="The tier left (NONE: no tier).")
    to_code: str = strawberry.field(description="The tier entered (NONE: no tier).")
    direction: str = strawberry.field(description="UP to a higher rank, DOWN to a lower one.")
    members: int = strawberry.field(description="Members who made this move in the range.")


@strawberry.type(description="Tiers at the end of the range and the moves within it.")
class TierInsights:
    distribution: list[TierCount] = strawberry.field(description="Every tier, by rank.")
    migrations: list[TierMigration] = strawberry.field(
        description="Each from -> to move made in the range, by from and to code."
    )

    @classmethod
    def from_service(
        cls, tiers: list[service.TierCount], moves: list[service.TierMigration]
    ) -> TierInsights:
        return cls(
            distribution=[TierCount(code=t.code, name=t.name, members=t.members) for t in tiers],
            migrations=[
                TierMigration(
                    from_code=m.from_code,
                    to_code=m.to_code,
                    direction=m.direction,
                    members=m.members,
                )
                for m in moves
            ],
        )


@strawberry.type(description="Orders placed in the range by members of one tier (at its end).")
class TierBehaviour:
    code: str = strawberry.field(description="The tier's code.")
    name: str = strawberry.field(description="The tier's name.")
    orders: int = strawberry.field(description="Orders placed in the range, not cancelled.")
    members: int = strawberry.field(description="Members who placed them.")
    average_order_value: int = strawberry.field(
        description="What the orders kept (amount less returns) / orders, minor units, rounded "
        "down (0 with no orders)."
    )
    orders_per_member: float = strawberry.field(description="orders / members (0 with none).")


@strawberry.type(description="Invitations made in the range and how many were rewarded.")
class ReferralInsights:
    invited: int = strawberry.field(description="Members invited (referrals made) in the range.")
    rewarded: int = strawberry.field(
        description="Of them, those whose first order completed by the end of the range."
    )
    conversion_rate: float = strawberry.field(description="rewarded / invited (0 when none).")


@strawberry.type(description="How members bought and brought others in.")
class BehaviourInsights:
    repeat_purchase_rate: float = strawberry.field(
        description="Members with 2 or more orders in the range / members with 1 or more."
    )
    by_tier: list[TierBehaviour] = strawberry.field(description="Every tier, by rank.")
    referrals: ReferralInsights = strawberry.field(description="Referral conversion.")

    @classmethod
    def from_service(cls, found: service.Behaviour) -> BehaviourInsights:
        return cls(
            repeat_purchase_rate=found.repeat_purchase_rate,
            by_tier=[
                TierBehaviour(
                    code=t.code,
                    name=t.name,
                    orders=t.orders,
                    members=t.members,
                    average_order_value=t.average_order_value,
                    orders_per_member=t.orders_per_member,
                )
                for t in found.by_tier
            ],
            referrals=ReferralInsights(
                invited=found.invited,
                rewarded=found.rewarded,
                conversion_rate=found.conversion_rate,
            ),
        )


@strawberry.type(description="One coupon template's coupons in the range.")
class CouponInsight:
    code: str = strawberry.field(description="The template's code.")
    title: str = strawberry.field(description="The template's title.")
    issued: int = strawberry.field(description="Coupons issued in the range.")
    redeemed: int = strawberry.field(description="Coupons used at checkout in the range.")
    redemption_rate: float = strawberry.field(description="redeemed / issued (0 when none).")


@strawberry.type(description="What one campaign gave in the range.")
class CampaignInsight:
    code: str = strawberry.field(description="The campaign's code.")
    name: str = strawberry.field(description="The campaign's name.")
    status: str = strawberry.field(description="Its status now (ACTIVE, PAUSED, ENDED...).")
    awards: int = strawberry.field(
        description="Facts it rewarded in the range (orders cancelled since left out)."
    )
    members: int = strawberry.field(description="Members it rewarded in the range.")
    points: int = strawberry.field(
        description="Points it gave in the range, orders' bonuses included, less take-backs."
    )


@strawberry.type(description="One reward's redemptions in the range.")
class RewardInsight:
    code: str = strawberry.field(description="The reward's code.")
    title: str = strawberry.field(description="The reward's title.")
    redemptions: int = strawberry.field(description="Redemptions requested, not cancelled.")
    quantity: int = strawberry.field(description="Items in them.")
    points: int = strawberry.field(description="Points they cost.")


@strawberry.type(description="One day, week or month of the series.")
class InsightsBucket:
    start: date = strawberry.field(
        description="Its first day (a Monday for weeks, the 1st for months); it counts only "
        "what falls within the range."
    )
    earned: int = strawberry.field(description="Points earned in it (as `points.earned`).")
    spent: int = strawberry.field(description="Points spent in it (as `points.spent`).")
    expired: int = strawberry.field(description="Points expired in it.")
    active_members: int = strawberry.field(description="Members active in it (as `active`).")
