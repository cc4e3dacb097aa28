"""Ledger types shown on the member page and in mutation results."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from enum import Enum

import strawberry
from strawberry import relay

from db.models import Order as OrderRow
from db.models import OrderLine as OrderLineRow
from db.models import PointHold as PointHoldRow
from db.models import PointTransaction as TransactionRow
from domain import points as domain_points
from domain.lots import Expiring
from domain.points import OrderPoints
from resolvers import points as points_resolvers
from resolvers.auth import ANYONE, require
from resolvers.ids import BIGINT_MAX
from services.points import queries

TransactionKind = strawberry.enum(domain_points.TxKind, name="TransactionKind")
PointsBucket = strawberry.enum(domain_points.Bucket, name="PointsBucket")
PaymentMethod = strawberry.enum(domain_points.PaymentMethod, name="PaymentMethod")
EarnRule = strawberry.enum(domain_points.EarnRule, name="EarnRule")


@strawberry.type
class PointTransaction(relay.Node):
    """One ledger row. A correction is a new row whose `reverses` names the original."""

    max_id = BIGINT_MAX

    id: relay.NodeID[int]
    kind: TransactionKind
    bucket: PointsBucket
    amount: int = strawberry.field(description="Signed: what this row added to its bucket.")
    available_after: int
    pending_after: int
    reference_type: str
    reference: str
    reason: str
    actor: str
    shortfall: int = strawberry.field(
        description="Points a clawback could not take (CLAMP_AND_RECORD)."
    )
    created_at: datetime
    reverses_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: TransactionRow) -> PointTransaction:
        return cls(
            id=row.id,
            kind=domain_points.TxKind(row.kind),
            bucket=domain_points.Bucket(row.bucket),
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


@strawberry.type
class ExpiringPoints:
    amount: int
    expires_at: datetime

    @classmethod
    def from_domain(cls, item: Expiring) -> ExpiringPoints:
        return cls(amount=item.amount, expires_at=item.expires_at)


@strawberry.type
class RulePoints:
    rule: EarnRule
    points: int


@strawberry.type
class LinePoints:
    sku: str
    quantity: int
    amount: int
    points: int
    rules: list[RulePoints]


@strawberry.type
class OrderPointsPreview:
    lines: list[LinePoints]
    total: int
    amount: int

    @classmethod
    def from_domain(cls, preview: OrderPoints) -> OrderPointsPreview:
        return cls(
            lines=[
                LinePoints(
                    sku=line.sku,
                    quantity=line.quantity,
                    amount=line.amount,
                    points=line.points,
                    rules=[RulePoints(rule=r.rule, points=r.points) for r in line.rules],
                )
                for line in preview.lines
            ],
            total=preview.total,
            amount=preview.amount,
        )


@strawberry.type
class OrderLine:
    sku: str
    category: str
    unit_price: int
    quantity: int
    discounted: bool
    points: int
    rules: list[RulePoints]
    returned_quantity: int
    points_reversed: int

    @classmethod
    def from_row(cls, row: OrderLineRow) -> OrderLine:
        return cls(
            sku=row.sku,
            category=row.category,
            unit_price=row.unit_price,
            quantity=row.quantity,
            discounted=row.discounted,
            points=row.points,
            rules=[RulePoints(rule=domain_points.EarnRule(r), points=p) for r, p in row.rules],
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


@strawberry.type
class Order(relay.Node):
    max_id = BIGINT_MAX

    id: relay.NodeID[int]
    order_id: str = strawberry.field(description="The shop's own order id.")
    status: OrderStatus = strawberry.field(description="Where the order is in its life.")
    currency: str
    amount: int
    returned_amount: int
    points: int = strawberry.field(description="What the order earned when it was placed.")
    points_reversed: int
    placed_at: datetime
    matures_at: datetime = strawberry.field(description="When the return window closes.")
    completed_at: datetime | None
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
            row=row,
        )

    @strawberry.field
    async def lines(self) -> list[OrderLine]:
        return [OrderLine.from_row(line) for line in await queries.order_lines(self.row)]

    @classmethod
    async def resolve_nodes(
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Order | None]:
        ids = [int(i) for i in node_ids]
        found = await queries.orders_by_ids(require(info, *ANYONE), ids)
        return [cls.from_row(found[i]) if i in found else None for i in ids]


@strawberry.type
class PointHold(relay.Node):
    max_id = BIGINT_MAX

    id: relay.NodeID[int]
    order_id: str
    amount: int
    captured: int
    status: HoldStatus = strawberry.field(description="Where the hold is in its life.")
    expires_at: datetime

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
