"""Catalogue, segment and recommendation types shown on the member page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry import relay

from db.models import MemberSegment as SegmentRow
from db.models import Product as ProductRow
from domain.recommendations import ranking, rfm
from domain.recommendations.actions import ActionKind
from domain.tiers import TierView
from schema.coupon_types import CouponTemplate
from schema.describe import describe_values
from schema.programmes import Tier
from services.recommendations.page import NextAction, Recommended

LifecycleSegment = strawberry.enum(
    rfm.Lifecycle,
    name="LifecycleSegment",
    description="Where a member is in its life with the shop, by days since ordering.",
)
describe_values(
    LifecycleSegment,
    {
        "NEW": "Joined within `newDays`.",
        "ACTIVE": "Ordered within `activeDays`.",
        "INTERMITTENT": "Ordered within `intermittentDays`.",
        "AT_RISK": "Has ordered, but not within `intermittentDays`.",
        "INACTIVE": "Never ordered, and not new.",
    },
)
RecommendationReason = strawberry.enum(
    ranking.Reason, name="RecommendationReason", description="Why a product is suggested."
)
describe_values(
    RecommendationReason,
    {
        "BOUGHT_TOGETHER": "Often bought with what the member bought.",
        "POPULAR_IN_CATEGORY": "Popular in a category the member buys from.",
        "POPULAR": "Popular in the programme.",
        "REPLENISH": "Bought before and about to run out.",
    },
)


@strawberry.type(description="A product of the programme's catalogue.")
class Product:
    sku: str = strawberry.field(description="The shop's id for it: products are addressed by sku.")
    title: str = strawberry.field(description="Display name.")
    category: str = strawberry.field(description="Its category.")
    price: int = strawberry.field(description="Minor units.")
    replenish_days: int | None = strawberry.field(
        description="How long one lasts, for products bought again; null for the rest."
    )
    active: bool = strawberry.field(description="Whether it is sold (and recommended).")

    @classmethod
    def from_row(cls, row: ProductRow) -> Product:
        return cls(
            sku=row.sku,
            title=row.title,
            category=row.category,
            price=row.price,
            replenish_days=row.replenish_days,
            active=row.active,
        )


@strawberry.type(description="One product and its cursor.")
class ProductEdge:
    cursor: str = strawberry.field(description="Pass as `after` or `before` to page from here.")
    node: Product = strawberry.field(description="The product.")


@strawberry.type(description="A page of the catalogue.")
class ProductConnection:
    edges: list[ProductEdge] = strawberry.field(description="The products on this page.")
    page_info: relay.PageInfo = strawberry.field(description="Where this page lies.")
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="Products in the catalogue (of `category`): one indexed count.")
    async def total_count(self) -> int:
        return await self.count()


@strawberry.type(description="A product suggested to the member, and why.")
class Recommendation:
    sku: str = strawberry.field(description="The product's sku.")
    title: str = strawberry.field(description="The product's title.")
    category: str = strawberry.field(description="The product's category.")
    price: int = strawberry.field(description="The product's price, in minor units.")
    score: float = strawberry.field(
        description="Sorts like the list: REPLENISH 1-2, BOUGHT_TOGETHER 0.5-1, "
        "POPULAR_IN_CATEGORY 0.25-0.5, POPULAR 0-0.25."
    )
    reason: RecommendationReason = strawberry.field(description="Why it is suggested.")

    @classmethod
    def from_service(cls, r: Recommended) -> Recommendation:
        p = r.product
        return cls(
            sku=p.sku,
            title=p.title,
            category=p.category,
            price=p.price,
            score=r.score,
            reason=r.reason,
        )


@strawberry.type(description="RFM scores 1-5 by quintile, and the lifecycle, as of the last build.")
class MemberSegment:
    recency: int = strawberry.field(description="5: ordered most recently.")
    frequency: int = strawberry.field(description="5: most orders in the window.")
    monetary: int = strawberry.field(description="5: most spend in the window.")
    lifecycle: LifecycleSegment = strawberry.field(
        description="Where the member is in its life with the shop."
    )
    days_since_last_order: int | None = strawberry.field(
        description="Days since the last order; null without orders."
    )
    orders_in_window: int = strawberry.field(description="Orders in the RFM window.")
    spend_in_window: int = strawberry.field(description="Minor units, net of returns.")
    computed_at: datetime = strawberry.field(description="When the segment was built.")

    @classmethod
    def from_row(cls, row: SegmentRow) -> MemberSegment:
        return cls(
            recency=row.recency_score,
            frequency=row.frequency_score,
            monetary=row.monetary_score,
            lifecycle=rfm.Lifecycle(row.lifecycle),
            days_since_last_order=row.recency_days,
            orders_in_window=row.frequency,
            spend_in_window=row.monetary,
            computed_at=row.computed_at,
        )


@strawberry.type(description="Points that expire soon: spend them first.")
class UseExpiringPointsAction:
    priority: int = strawberry.field(description="Lower comes first.")
    points: int = strawberry.field(description="How many points expire.")
    expires_at: datetime = strawberry.field(description="When they expire.")


@strawberry.type(description="A coupon the member can buy with the points it has now.")
class RedeemPointsAction:
    priority: int = strawberry.field(description="Lower comes first.")
    points_price: int = strawberry.field(description="What the coupon costs in points.")
    template: CouponTemplate = strawberry.field(description="The coupon on offer.")


@strawberry.type(
    description="A catalogue reward the member can redeem with the points it has now, dearest "
    "first. Its per-member limit is not judged here: redeeming says when it is reached."
)
class RedeemRewardAction:
    priority: int = strawberry.field(description="Lower comes first.")
    reward_code: str = strawberry.field(description="The reward's code, to redeem it by.")
    title: str = strawberry.field(description="The reward's display name.")
    points_price: int = strawberry.field(description="What one costs in points.")
    cash_price: int = strawberry.field(
        description="What one costs in cash besides, in minor units; 0: points only."
    )


@strawberry.type(description="A free coupon the member may claim.")
class ClaimCouponAction:
    priority: int = strawberry.field(description="Lower comes first.")
    template: CouponTemplate = strawberry.field(description="The coupon on offer.")


@strawberry.type(
    description="A running challenge the member is at least half-way through, nearest to done "
    "first: what is left to do before it ends."
)
class CompleteChallengeAction:
    priority: int = strawberry.field(description="Lower comes first.")
    challenge_code: str = strawberry.field(description="The challenge's code.")
    name: str = strawberry.field(description="The challenge's display name.")
    current: int = strawberry.field(description="How far the member is, in the goal's unit.")
    target: int = strawberry.field(description="What completes it, in the goal's unit.")
    ends_at: datetime = strawberry.field(description="When the challenge ends: the deadline.")


@strawberry.type(description="How far the next tier is.")
class ReachNextTierAction:
    priority: int = strawberry.field(description="Lower comes first.")
    amount_to_next: int = strawberry.field(description="In the tier policy's metric.")
    tier: Tier = strawberry.field(description="The next tier.")


AnyAction = (
    UseExpiringPointsAction
    | RedeemPointsAction
    | RedeemRewardAction
    | ClaimCouponAction
    | CompleteChallengeAction
    | ReachNextTierAction
)
NextBestAction = Annotated[
    AnyAction,
    strawberry.union("NextBestAction", description="Something the member could do next."),
]


def action_of(item: NextAction, tiers: dict[int, TierView]) -> AnyAction:
    a = item.action
    if a.kind is ActionKind.USE_EXPIRING_POINTS:
        assert a.points is not None and a.expires_at is not None
        return UseExpiringPointsAction(
            priority=a.priority, points=a.points, expires_at=a.expires_at
        )
    if a.kind is ActionKind.REDEEM_POINTS:
        assert item.template is not None and a.points is not None
        return RedeemPointsAction(
            priority=a.priority,
            points_price=a.points,
            template=CouponTemplate.from_row(item.template),
        )
    if a.kind is ActionKind.REDEEM_REWARD:
        assert item.reward is not None
        return RedeemRewardAction(
            priority=a.priority,
            reward_code=item.reward.code,
            title=item.reward.title,
            points_price=item.reward.points_price,
            cash_price=item.reward.cash_price,
        )
    if a.kind is ActionKind.COMPLETE_CHALLENGE:
        assert item.challenge is not None
        c = item.challenge
        return CompleteChallengeAction(
            priority=a.priority,
            challenge_code=c.code,
            name=c.name,
            current=c.current,
            target=c.target,
            ends_at=c.ends_at,
        )
    if a.kind is ActionKind.CLAIM_COUPON:
        assert item.template is not None
        return ClaimCouponAction(
            priority=a.priority, template=CouponTemplate.from_row(item.template)
        )
    assert a.amount is not None and a.tier_id is not None
    return ReachNextTierAction(
        priority=a.priority, amount_to_next=a.amount, tier=Tier.from_view(tiers[a.tier_id])
    )
