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
from schema.programmes import Tier
from services.recommendations.page import NextAction, Recommended

LifecycleSegment = strawberry.enum(rfm.Lifecycle, name="LifecycleSegment")
RecommendationReason = strawberry.enum(ranking.Reason, name="RecommendationReason")


@strawberry.type(description="A product of the programme's catalogue.")
class Product:
    sku: str
    title: str
    category: str
    price: int = strawberry.field(description="Minor units.")
    replenish_days: int | None = strawberry.field(
        description="How long one lasts, for products bought again; null for the rest."
    )
    active: bool

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


@strawberry.type
class ProductEdge:
    cursor: str
    node: Product


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
    sku: str
    title: str
    category: str
    price: int
    score: float = strawberry.field(
        description="Sorts like the list: REPLENISH 1-2, BOUGHT_TOGETHER 0.5-1, "
        "POPULAR_IN_CATEGORY 0.25-0.5, POPULAR 0-0.25."
    )
    reason: RecommendationReason

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
    lifecycle: LifecycleSegment
    days_since_last_order: int | None
    orders_in_window: int
    spend_in_window: int = strawberry.field(description="Minor units, net of returns.")
    computed_at: datetime

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
    priority: int
    points: int
    expires_at: datetime


@strawberry.type(description="A coupon the member can buy with the points it has now.")
class RedeemPointsAction:
    priority: int
    points_price: int
    template: CouponTemplate


@strawberry.type(description="A free coupon the member may claim.")
class ClaimCouponAction:
    priority: int
    template: CouponTemplate


@strawberry.type(description="How far the next tier is.")
class ReachNextTierAction:
    priority: int
    amount_to_next: int = strawberry.field(description="In the tier policy's metric.")
    tier: Tier


NextBestAction = Annotated[
    UseExpiringPointsAction | RedeemPointsAction | ClaimCouponAction | ReachNextTierAction,
    strawberry.union("NextBestAction"),
]


def action_of(
    item: NextAction, tiers: dict[int, TierView]
) -> UseExpiringPointsAction | RedeemPointsAction | ClaimCouponAction | ReachNextTierAction:
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
    if a.kind is ActionKind.CLAIM_COUPON:
        assert item.template is not None
        return ClaimCouponAction(
            priority=a.priority, template=CouponTemplate.from_row(item.template)
        )
    assert a.amount is not None and a.tier_id is not None
    return ReachNextTierAction(
        priority=a.priority, amount_to_next=a.amount, tier=Tier.from_view(tiers[a.tier_id])
    )
