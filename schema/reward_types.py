"""The rewards catalogue's types: a reward as callers read it, and its enums."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import strawberry
from strawberry import relay

from domain import rewards as domain
from resolvers import rewards as resolvers
from schema.describe import describe_values
from services.rewards.catalogue import RewardView

RewardKind = strawberry.enum(
    domain.RewardKind, name="RewardKind", description="What a member gets for a reward."
)
describe_values(
    RewardKind,
    {
        "PRODUCT": "Goods the shop ships to the member.",
        "COUPON": "A coupon from a coupon template, into the member's wallet.",
        "DIGITAL": "A code handed to the member (a voucher, a subscription).",
        "PARTNER": "Units credited at a partner (miles, hotel points).",
    },
)
RewardStatus = strawberry.enum(
    domain.RewardStatus, name="RewardStatus", description="Whether a reward may be redeemed."
)
describe_values(
    RewardStatus,
    {
        "ACTIVE": "In the catalogue: redeemable in its window, while stock lasts.",
        "RETIRED": "Out of the catalogue for good; redemptions made stay as they are.",
    },
)
RewardLimitPeriod = strawberry.enum(
    domain.LimitPeriod,
    name="RewardLimitPeriod",
    description="What a per-member limit counts over, on the programme's calendar.",
)
describe_values(
    RewardLimitPeriod,
    {
        "DAY": "A local day.",
        "WEEK": "Monday to Sunday.",
        "MONTH": "A calendar month.",
        "YEAR": "A calendar year.",
        "EVER": "For as long as the reward exists.",
    },
)


@strawberry.type(description="A reward in the catalogue (the points mall). Prices are per item.")
class Reward(relay.Node):
    id: relay.NodeID[int]
    code: str = strawberry.field(description="Unique in the programme.")
    title: str = strawberry.field(description="Display name.")
    description: str = strawberry.field(description="What it is, for the member.")
    image_url: str | None = strawberry.field(description="A picture of it (http or https).")
    category: str = strawberry.field(description="The catalogue's shelf it is on.")
    kind: RewardKind = strawberry.field(  # type: ignore[valid-type]
        description="What the member gets."
    )
    points_price: int = strawberry.field(description="Points per item.")
    cash_price: int = strawberry.field(
        description="Cash per item on top of the points, in minor units of `currency`; 0: "
        "points only."
    )
    currency: str = strawberry.field(description="ISO 4217 code of cashPrice (the programme's).")
    coupon_template_code: str | None = strawberry.field(
        description="COUPON: the coupon template it issues from."
    )
    partner_code: str | None = strawberry.field(description="PARTNER: the partner credited.")
    partner_units: int | None = strawberry.field(
        description="PARTNER: units credited at the partner per item."
    )
    total_stock: int | None = strawberry.field(description="Items there ever are; null: no limit.")
    stock_left: int | None = strawberry.field(description="Items left; null: no limit.")
    redeemed: int = strawberry.field(description="Items redeemed, net of cancellations.")
    per_member_limit: int | None = strawberry.field(
        description="Most items one member may redeem per limitPeriod; null: no limit."
    )
    limit_period: RewardLimitPeriod = strawberry.field(  # type: ignore[valid-type]
        description="What perMemberLimit counts over."
    )
    eligible_tiers: list[str] = strawberry.field(
        description="Codes of the tiers that may redeem it; empty: every tier."
    )
    valid_from: datetime | None = strawberry.field(
        description="Redeemable from then (inclusive); null: since it was created."
    )
    valid_until: datetime | None = strawberry.field(
        description="Redeemable until then (exclusive); null: no end."
    )
    status: RewardStatus = strawberry.field(  # type: ignore[valid-type]
        description="ACTIVE or RETIRED."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    retired_at: datetime | None = strawberry.field(description="When it was retired.")

    @classmethod
    def from_view(cls, view: RewardView) -> Reward:
        r = view.reward
        return cls(
            id=r.id,
            code=r.code,
            title=r.title,
            description=r.description,
            image_url=r.image_url,
            category=r.category,
            kind=r.kind,
            points_price=r.points_price,
            cash_price=r.cash_price,
            currency=view.currency,
            coupon_template_code=view.coupon_template_code,
            partner_code=view.partner_code,
            partner_units=r.partner_units,
            total_stock=r.total_stock,
            stock_left=r.stock_left,
            redeemed=r.redeemed,
            per_member_limit=r.per_member_limit,
            limit_period=r.limit_period,
            eligible_tiers=list(view.eligible_tier_codes),
            valid_from=r.valid_from,
            valid_until=r.valid_until,
            status=r.status,
            created_at=r.created_at,
            retired_at=r.retired_at,
        )

    @classmethod
    async def resolve_nodes(
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Reward | None]:
        ids = [int(i) for i in node_ids]
        found = await resolvers.by_ids(info, ids)
        return [cls.from_view(found[i]) if i in found else None for i in ids]


@strawberry.type(description="A page of rewards, oldest first.")
class RewardConnection(relay.Connection[Reward]):
    pass
