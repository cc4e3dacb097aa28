"""The GraphQL shape of a reward redemption (not the ORM row)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import Enum

import strawberry
from strawberry import relay

from resolvers import reward_redemptions as resolvers
from resolvers.ids import BIGINT_MAX
from schema.reward_types import Reward
from services.rewards.queries import RedemptionView
from services.rewards.redemption import RewardQuote as QuoteView


@strawberry.enum(description="Where a reward redemption is in its life.")
class RewardRedemptionStatus(Enum):
    REQUESTED = strawberry.enum_value(
        "REQUESTED",
        description="Points spent (or, cash + points, held for the order); the reward is owed.",
    )
    FULFILLED = strawberry.enum_value(
        "FULFILLED", description="Handed over: coupon or code delivered, parcel on its way."
    )
    CANCELLED = strawberry.enum_value(
        "CANCELLED", description="Called off: its points and stock were given back once."
    )


@strawberry.type(description="One member's redemption of a reward from the catalogue.")
class RewardRedemption(relay.Node):
    max_id = BIGINT_MAX

    id: relay.NodeID[int]
    reward_id: strawberry.Private[int]
    reward_code: str = strawberry.field(description="The reward's code.")
    reward_title: str = strawberry.field(description="The reward's title.")
    quantity: int = strawberry.field(description="Items redeemed.")
    points: int = strawberry.field(description="Points paid for them in all.")
    cash: int = strawberry.field(description="Cash paid in all, minor units (0: points only).")
    status: RewardRedemptionStatus = strawberry.field(description="Where it is in its life.")
    order_id: str | None = strawberry.field(
        description="Cash + points: the shop's order that pays the cash."
    )
    hold_id: relay.GlobalID | None = strawberry.field(
        description="Cash + points: the PointHold of its points (captureHold spends it)."
    )
    coupon_code: str | None = strawberry.field(
        description="A COUPON reward: the code of the coupon put in the wallet."
    )
    digital_code: str | None = strawberry.field(description="A DIGITAL reward: its code.")
    tracking_ref: str | None = strawberry.field(
        description="Set at fulfilment: a parcel's tracking number or a partner's reference."
    )
    cancel_reason: str | None = strawberry.field(description="Why it was cancelled.")
    requested_at: datetime = strawberry.field(description="When it was redeemed.")
    fulfilled_at: datetime | None = strawberry.field(description="When it was handed over.")
    cancelled_at: datetime | None = strawberry.field(description="When it was called off.")

    @strawberry.field(
        description="The catalogue entry redeemed, as it reads now (retired ones included)."
    )
    async def reward(self, info: strawberry.Info) -> Reward | None:
        view = await info.context.loaders.redeemed_reward.load(self.reward_id)
        return None if view is None else Reward.from_view(view)

    @classmethod
    def from_view(cls, view: RedemptionView) -> RewardRedemption:
        row = view.row
        return cls(
            id=row.id,
            reward_id=row.reward_id,
            reward_code=view.reward_code,
            reward_title=view.reward_title,
            quantity=row.quantity,
            points=row.points,
            cash=row.cash,
            status=RewardRedemptionStatus(row.status),
            order_id=row.order_ref,
            hold_id=relay.GlobalID("PointHold", str(row.hold_id)) if row.hold_id else None,
            coupon_code=view.coupon_code,
            digital_code=row.digital_code,
            tracking_ref=row.tracking_ref,
            cancel_reason=row.cancel_reason,
            requested_at=row.requested_at,
            fulfilled_at=row.fulfilled_at,
            cancelled_at=row.cancelled_at,
        )

    @classmethod
    async def resolve_nodes(
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[RewardRedemption | None]:
        ids = [int(i) for i in node_ids]
        found = await resolvers.by_ids(info, ids)
        return [cls.from_view(found[i]) if i in found else None for i in ids]


@strawberry.type(description="A page of a member's reward redemptions, newest first.")
class RewardRedemptionConnection(relay.Connection[RewardRedemption]):
    pass


@strawberry.type(description="What some items of a reward cost, and whether the member can pay.")
class RewardQuote:
    points: int = strawberry.field(description="Points in all.")
    cash: int = strawberry.field(description="Cash in all, minor units; 0 for a points-only one.")
    currency: str = strawberry.field(description="ISO 4217 code of `cash`.")
    affordable: bool = strawberry.field(
        description="Whether the member's spendable points cover `points` now."
    )

    @classmethod
    def from_quote(cls, found: QuoteView) -> RewardQuote:
        q = found.quote
        return cls(points=q.points, cash=q.cash, currency=q.currency, affordable=found.affordable)
