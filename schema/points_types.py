"""Ledger types shown on the member page and in mutation results."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from db.models import Order as OrderRow
from db.models import OrderLine as OrderLineRow
from db.models import PointHold as PointHoldRow
from db.models import PointTransaction as TransactionRow
from domain import campaigns as domain_campaigns
from domain import points as domain_points
from domain.campaigns import CampaignPoints
from domain.lots import Expiring
from domain.points import OrderPoints
from resolvers import points as points_resolvers
from resolvers.auth import ANYONE, require
from resolvers.ids import BIGINT_MAX
from schema.describe import describe_values
from services.points import queries

if TYPE_CHECKING:
    from schema.campaign_types import OrderChannel

TransactionKind = strawberry.enum(
    domain_points.TxKind, name="TransactionKind", description="What a ledger row records."
)
describe_values(
    TransactionKind,
    {
        "EARN": "Points earned (orders, check-ins, reviews, referrals).",
        "REDEEM": "Points spent (rewards, captured holds, coupons bought).",
        "EXPIRE": "Points that reached their expiry.",
        "REVERSE": "A correction of an earlier row (returns, cancellations, undone redemptions).",
        "ADJUST": "An admin's signed correction.",
        "TRANSFER_IN": "Points moved in from a partner or another member.",
        "TRANSFER_OUT": "Points moved out to a partner or another member.",
        "ERASE": "The balance forfeited when the member was erased, with the reason.",
    },
)
PointsBucket = strawberry.enum(
    domain_points.Bucket, name="PointsBucket", description="Which balance a ledger row moves."
)
describe_values(
    PointsBucket,
    {
        "AVAILABLE": "Points the member may spend.",
        "PENDING": "Points of orders whose return window is still open.",
    },
)
PaymentMethod = strawberry.enum(
    domain_points.PaymentMethod, name="PaymentMethod", description="How an order was paid."
)
describe_values(
    PaymentMethod,
    {
        "CASH": "Cash.",
        "CARD": "A bank card.",
        "GIFT_CARD": "A gift card: earns at the gift-card rate.",
        "POINTS": "Points (a captured hold): earns nothing.",
    },
)
EarnRule = strawberry.enum(
    domain_points.EarnRule, name="EarnRule", description="A rule by which an order line earns."
)
describe_values(
    EarnRule,
    {
        "FULL_PRICE": "The full-price rate on lines not on sale.",
        "DISCOUNTED": "The discounted rate on lines on sale.",
        "GIFT_CARD": "The gift-card rate on the part paid by gift card.",
        "TIER_MULTIPLIER": "The tier's POINTS_MULTIPLIER benefit.",
        "BIRTHDAY_MULTIPLIER": "The tier's BIRTHDAY_MULTIPLIER in the birthday month.",
        "CATEGORY_BONUS": "The category's bonus per item.",
        "ABUSE_CAP": "Points over an earning cap, taken off the line and held on an abuse flag.",
        "CAMPAIGN": "A campaign's share of the line (`campaignCode` names it).",
    },
)
CampaignNotApplied = strawberry.enum(
    domain_campaigns.NotApplied,
    name="CampaignNotApplied",
    description="Why a campaign gave an order nothing.",
)
describe_values(
    CampaignNotApplied,
    {
        "OUTSIDE_SCHEDULE": "The order's placedAt is outside the campaign's window or days.",
        "NOT_IN_AUDIENCE": "The member is not one the campaign rewards (tier, segment, ...).",
        "CONDITIONS_NOT_MET": "The order does not qualify (spend, categories, payment, channel).",
        "NOTHING_TO_ADD": "The order qualifies, but the campaign is worth 0 points to it.",
        "BUDGET_EXHAUSTED": "What is left of the campaign's budget does not cover its points.",
        "MEMBER_CAP_REACHED": "The member already has the most points the campaign gives.",
        "ORDER_LIMIT_REACHED": "The member already has the most rewarded orders it allows.",
        "OUTWEIGHED": "Stacking: another campaign (or set of them) was worth more.",
    },
)


def campaign_global_id(campaign_id: int | None) -> relay.GlobalID | None:
    return relay.GlobalID("Campaign", str(campaign_id)) if campaign_id is not None else None


# by value, as TxKind(value) and Bucket(value) find them (a page converts ten rows of each)
_KINDS = {k.value: k for k in domain_points.TxKind}
_BUCKETS = {b.value: b for b in domain_points.Bucket}
_CHANNELS = {c.value: c for c in domain_campaigns.Channel}


@strawberry.type(
    description="One ledger row. A correction is a new row whose `reverses` names the original."
)
class PointTransaction(relay.Node):
    """One ledger row. A correction is a new row whose `reverses` names the original."""

    max_id = BIGINT_MAX

    id: relay.NodeID[int]
    kind: TransactionKind = strawberry.field(description="What moved the points.")
    bucket: PointsBucket = strawberry.field(description="Which balance the row moved.")
    amount: int = strawberry.field(description="Signed: what this row added to its bucket.")
    available_after: int = strawberry.field(description="The available balance after this row.")
    pending_after: int = strawberry.field(description="The pending balance after this row.")
    reference_type: str = strawberry.field(
        description="What `reference` names (an order, a hold, a redemption, ...)."
    )
    reference: str = strawberry.field(
        description="The id of what caused the row (an order id, a hold id, ...)."
    )
    reason: str = strawberry.field(
        description="Why, in words (given by the caller for adjustments and redemptions)."
    )
    actor: str = strawberry.field(
        description="Who caused it (the credential or the system), as recorded."
    )
    shortfall: int = strawberry.field(
        description="Points a clawback could not take (CLAMP_AND_RECORD)."
    )
    created_at: datetime = strawberry.field(description="When the row was written.")
    reverses_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: TransactionRow) -> PointTransaction:
        return cls(
            id=row.id,
            kind=_KINDS.get(row.kind) or domain_points.TxKind(row.kind),
            bucket=_BUCKETS.get(row.bucket) or domain_points.Bucket(row.bucket),
            amount=row.amount,
            available_after=row.available_after,
            pending_after=row.pending_after,
            reference_type=row.reference_type,
            reference=row.reference,
            reason=row.reason,
            actor=row.actor,
            shortfall=row.shortfall,
            created_at=row.created_at,
            reverses_id=row.reverses_id,
        )

    @strawberry.field(description="The row this one reverses, if any.")
    def reverses(self) -> relay.GlobalID | None:
        return (
            relay.GlobalID("PointTransaction", str(self.reverses_id)) if self.reverses_id else None
        )

    @classmethod
    async def resolve_nodes(
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[PointTransaction | None]:
        ids = [int(i) for i in node_ids]
        found = await queries.transactions_by_ids(require(info, *ANYONE), ids)
        return [cls.from_row(found[i]) if i in found else None for i in ids]


@strawberry.type(description="Points that expire together.")
class ExpiringPoints:
    amount: int = strawberry.field(description="How many points.")
    expires_at: datetime = strawberry.field(description="When they expire.")

    @classmethod
    def from_domain(cls, item: Expiring) -> ExpiringPoints:
        return cls(amount=item.amount, expires_at=item.expires_at)


@strawberry.type(description="Points one earn rule gives.")
class RulePoints:
    rule: EarnRule = strawberry.field(description="The rule.")
    points: int = strawberry.field(description="Its points.")
    campaign_id: relay.GlobalID | None = strawberry.field(
        default=None, description="CAMPAIGN rules: the campaign that gave them."
    )
    campaign_code: str | None = strawberry.field(
        default=None, description="CAMPAIGN rules: that campaign's code."
    )

    @classmethod
    def from_domain(cls, rule: domain_points.RulePoints) -> RulePoints:
        return cls(
            rule=rule.rule,
            points=rule.points,
            campaign_id=campaign_global_id(rule.campaign_id),
            campaign_code=rule.campaign_code,
        )


@strawberry.type(description="What one order line would earn, rule by rule.")
class LinePoints:
    sku: str = strawberry.field(description="The line's sku.")
    quantity: int = strawberry.field(description="Items on the line.")
    amount: int = strawberry.field(description="What the line costs, in minor units.")
    points: int = strawberry.field(description="Points the line earns, rounded once.")
    rules: list[RulePoints] = strawberry.field(description="Each rule's share of the points.")


@strawberry.type(description="One active campaign for orders, as it would judge the order.")
class CampaignOnOrder:
    campaign_id: relay.GlobalID = strawberry.field(description="The campaign.")
    code: str = strawberry.field(description="The campaign's code.")
    applied: bool = strawberry.field(description="Whether it gives the order something.")
    points: int = strawberry.field(
        description="Points it adds to the order (0 when not applied), in the lines' CAMPAIGN "
        "rules."
    )
    capped: bool = strawberry.field(
        description="Applied, but cut down by the member's cap per campaign or per period."
    )
    coupon_template: str | None = strawberry.field(
        description="Applied with a coupon effect: the code of the template it issues from."
    )
    not_applied: CampaignNotApplied | None = strawberry.field(
        description="Not applied: why. Null when applied."
    )


@strawberry.type(description="What recordOrder would book, line by line.")
class OrderPointsPreview:
    lines: list[LinePoints] = strawberry.field(description="Per order line, in the order sent.")
    total: int = strawberry.field(description="Points the order would earn.")
    amount: int = strawberry.field(description="The order's amount, in minor units.")
    campaigns: list[CampaignOnOrder] = strawberry.field(
        description="Every active campaign for orders: applied ones first, then those that "
        "would not apply, with the reason; each in priority order. recordOrder books the "
        "same unless a budget runs out meanwhile."
    )

    @classmethod
    def from_domain(cls, preview: OrderPoints, campaigns: CampaignPoints) -> OrderPointsPreview:
        return cls(
            lines=[
                LinePoints(
                    sku=line.sku,
                    quantity=line.quantity,
                    amount=line.amount,
                    points=line.points,
                    rules=[RulePoints.from_domain(r) for r in line.rules],
                )
                for line in preview.lines
            ],
            total=preview.total,
            amount=preview.amount,
            campaigns=[
                CampaignOnOrder(
                    campaign_id=relay.GlobalID("Campaign", str(c.campaign_id)),
                    code=c.code,
                    applied=True,
                    points=c.points,
                    capped=c.capped,
                    coupon_template=c.coupon_template,
                    not_applied=None,
                )
                for c in campaigns.applied
            ]
            + [
                CampaignOnOrder(
                    campaign_id=relay.GlobalID("Campaign", str(c.campaign_id)),
                    code=c.code,
                    applied=False,
                    points=0,
                    capped=False,
                    coupon_template=None,
                    not_applied=c.reason,
                )
                for c in campaigns.skipped
            ],
        )


@strawberry.type(description="One line of an order and what it earned.")
class OrderLine:
    sku: str = strawberry.field(description="The product's sku.")
    category: str = strawberry.field(description="The product's category.")
    unit_price: int = strawberry.field(description="Per item, in minor units.")
    quantity: int = strawberry.field(description="Items bought.")
    discounted: bool = strawberry.field(description="Was it on sale.")
    points: int = strawberry.field(description="Points the line earned.")
    rules: list[RulePoints] = strawberry.field(description="Each earn rule's share.")
    returned_quantity: int = strawberry.field(description="Items returned.")
    points_reversed: int = strawberry.field(description="Points taken back for returned items.")

    @classmethod
    def from_row(cls, row: OrderLineRow) -> OrderLine:
        return cls(
            sku=row.sku,
            category=row.category,
            unit_price=row.unit_price,
            quantity=row.quantity,
            discounted=row.discounted,
            points=row.points,
            rules=[
                RulePoints.from_domain(domain_points.RulePoints.of_stored(r)) for r in row.rules
            ],
            returned_quantity=row.returned_quantity,
            points_reversed=row.points_reversed,
        )


@strawberry.enum(description="Where an order is in its life.")
class OrderStatus(Enum):
    PENDING = strawberry.enum_value(
        "PENDING", description="Booked; its points are pending until the return window closes."
    )
    COMPLETED = strawberry.enum_value(
        "COMPLETED", description="Final: its points are available (returns may still follow)."
    )
    CANCELLED = strawberry.enum_value(
        "CANCELLED", description="Cancelled while pending: it earned nothing."
    )
    RETURNED = strawberry.enum_value(
        "RETURNED", description="Every item came back: what it earned was taken back."
    )


@strawberry.enum(description="Where a checkout hold is in its life.")
class HoldStatus(Enum):
    HELD = strawberry.enum_value(
        "HELD", description="Points reserved; not yet spent or given back."
    )
    CAPTURED = strawberry.enum_value(
        "CAPTURED", description="Spent (all or part: `captured`); the rest went back."
    )
    RELEASED = strawberry.enum_value(
        "RELEASED", description="Given back: the checkout was abandoned."
    )
    EXPIRED = strawberry.enum_value(
        "EXPIRED", description="Given back: nobody captured it before `expiresAt`."
    )


@strawberry.type(description="An order recorded for points.")
class Order(relay.Node):
    max_id = BIGINT_MAX

    id: relay.NodeID[int]
    order_id: str = strawberry.field(description="The shop's own order id.")
    status: OrderStatus = strawberry.field(description="Where the order is in its life.")
    currency: str = strawberry.field(description="ISO 4217 code of its amounts.")
    amount: int = strawberry.field(description="What the lines cost, in minor units.")
    returned_amount: int = strawberry.field(description="What came back, in minor units.")
    points: int = strawberry.field(description="What the order earned when it was placed.")
    points_reversed: int = strawberry.field(
        description="Points taken back by returns and cancellation."
    )
    placed_at: datetime = strawberry.field(description="When the order was placed.")
    matures_at: datetime = strawberry.field(description="When the return window closes.")
    completed_at: datetime | None = strawberry.field(description="When it became final, if it has.")
    # schema.campaign_types defines the enum and imports this module: named lazily
    channel: Annotated[OrderChannel, strawberry.lazy("schema.campaign_types")] = strawberry.field(
        description="Where the order was placed."
    )
    row: strawberry.Private[OrderRow]

    @classmethod
    def from_row(cls, row: OrderRow) -> Order:
        return cls(
            id=row.id,
            order_id=row.order_ref,
            status=OrderStatus(row.status),
            currency=row.currency,
            amount=row.amount,
            returned_amount=row.returned_amount,
            points=row.points,
            points_reversed=row.points_reversed,
            placed_at=row.placed_at,
            matures_at=row.matures_at,
            completed_at=row.completed_at,
            channel=_CHANNELS[row.channel],
            row=row,
        )

    @strawberry.field(description="What was bought.")
    async def lines(self) -> list[OrderLine]:
        return [OrderLine.from_row(line) for line in await queries.order_lines(self.row)]

    @classmethod
    async def resolve_nodes(
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Order | None]:
        ids = [int(i) for i in node_ids]
        found = await queries.orders_by_ids(require(info, *ANYONE), ids)
        return [cls.from_row(found[i]) if i in found else None for i in ids]


@strawberry.type(description="Points reserved at checkout, to be captured or released.")
class PointHold(relay.Node):
    max_id = BIGINT_MAX

    id: relay.NodeID[int]
    order_id: str = strawberry.field(description="The order it pays for.")
    amount: int = strawberry.field(description="Points held.")
    captured: int = strawberry.field(description="Points spent from it.")
    status: HoldStatus = strawberry.field(description="Where the hold is in its life.")
    expires_at: datetime = strawberry.field(description="It lapses then if not captured.")

    @strawberry.field(
        description="What `amount` pays at checkout, in minor units, at the programme's "
        "redemption rate (`PointsPolicy.redemptionRate`) now, rounded down."
    )
    async def cash_value(self, info: strawberry.Info) -> int:
        return await points_resolvers.points_cash_value(info, self.amount)

    @classmethod
    def from_row(cls, row: PointHoldRow) -> PointHold:
        return cls(
            id=row.id,
            order_id=row.order_ref,
            amount=row.amount,
            captured=row.captured,
            status=HoldStatus(row.status),
            expires_at=row.expires_at,
        )

    @classmethod
    async def resolve_nodes(
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[PointHold | None]:
        ids = [int(i) for i in node_ids]
        found = await queries.holds_by_ids(require(info, *ANYONE), ids)
        return [cls.from_row(found[i]) if i in found else None for i in ids]


@strawberry.type(description="A page of a member's ledger.")
class PointTransactionConnection(relay.Connection[PointTransaction]):
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(
        description="Rows in the whole ledger (of the kinds asked for): one indexed count."
    )
    async def total_count(self) -> int:
        return await self.count()
