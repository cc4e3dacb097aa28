"""Tier policy, member tier progress and history, member prices."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry import relay

from db.models import TierChange as TierChangeRow
from domain import tier_rules
from domain.pricing import PriceLine, Quote
from domain.tier_rules import TierPolicy as DomainTierPolicy
from resolvers import members as resolvers_members
from resolvers import tier_engine as resolvers
from schema.errors import (
    MUTATION_INPUT,
    MutationError,
    error_description,
    idempotency_key_field,
    result_of,
    union_description,
)
from schema.programmes import Tier

Metric = strawberry.enum(tier_rules.Metric, name="TierMetric")
Window = strawberry.enum(tier_rules.Window, name="TierWindow")


@strawberry.type
class TierPolicy:
    metric: Metric = strawberry.field(description="SPEND (minor units), ORDER_COUNT or GROWTH.")
    window: Window = strawberry.field(description="LIFETIME, ROLLING_MONTHS or VALIDITY.")
    window_months: int
    validity_months: int
    reset_on_change: bool = strawberry.field(description="Count from the last tier change only.")

    @classmethod
    def from_domain(cls, p: DomainTierPolicy) -> TierPolicy:
        return cls(
            metric=p.metric,
            window=p.window,
            window_months=p.window_months,
            validity_months=p.validity_months,
            reset_on_change=p.reset_on_change,
        )


@strawberry.input(description="Fields left out keep their value.")
class SetTierPolicyInput:
    metric: Metric | None = None
    window: Window | None = None
    window_months: int | None = None
    validity_months: int | None = None
    reset_on_change: bool | None = None
    idempotency_key: str = idempotency_key_field()

    def changes(self) -> dict[str, Any]:
        names = ("metric", "window", "window_months", "validity_months", "reset_on_change")
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}


@strawberry.type
class SetTierPolicySuccess:
    tier_policy: TierPolicy


@strawberry.type(description=error_description("SetTierPolicyError"))
class SetTierPolicyError(MutationError):
    pass


SetTierPolicyResult = Annotated[
    SetTierPolicySuccess | SetTierPolicyError,
    strawberry.union("SetTierPolicyResult", description=union_description("SetTierPolicyResult")),
]


@strawberry.enum(description="Why a member's tier changed.")
class TierChangeReason(Enum):
    ORDER_COMPLETED = strawberry.enum_value(
        "ORDER_COMPLETED", description="A completed order took the member to the tier."
    )
    ORDER_RETURNED = strawberry.enum_value(
        "ORDER_RETURNED", description="A return took the qualifying total below the tier."
    )
    PERIOD_ENDED = strawberry.enum_value(
        "PERIOD_ENDED", description="The validity period ended; the member was judged again."
    )
    ADMIN = strawberry.enum_value("ADMIN", description="An admin set the tier.")


@strawberry.type
class TierChange:
    from_tier_id: strawberry.Private[int | None]
    to_tier_id: strawberry.Private[int | None]
    reason: TierChangeReason = strawberry.field(description="Why the tier changed.")
    qualifying_total: int
    at: datetime

    @classmethod
    def from_row(cls, row: TierChangeRow) -> TierChange:
        return cls(
            from_tier_id=row.from_tier_id,
            to_tier_id=row.to_tier_id,
            reason=TierChangeReason(row.reason),
            qualifying_total=row.qualifying_total,
            at=row.at,
        )

    @strawberry.field(name="from")
    async def from_tier(self, info: strawberry.Info) -> Tier | None:
        return await tier_of(info, self.from_tier_id)

    @strawberry.field(name="to")
    async def to_tier(self, info: strawberry.Info) -> Tier | None:
        return await tier_of(info, self.to_tier_id)


async def tier_of(info: strawberry.Info, tier_id: int | None) -> Tier | None:
    found = await resolvers_members.tier_of(info, tier_id)
    return Tier.from_view(found) if found else None


@strawberry.type
class TierProgress:
    next_tier: Tier | None
    amount_to_next: int | None = strawberry.field(description="Qualifying amount still needed.")
    amount_to_retain: int | None = strawberry.field(
        description="Still needed in this validity period to keep the tier."
    )
    will_downgrade_to: Tier | None = strawberry.field(
        description="Where the member goes when the period ends, if nothing changes."
    )


@strawberry.type
class TierChangeEdge:
    cursor: str
    node: TierChange


@strawberry.type(description="A page of a member's tier history.")
class TierChangeConnection:
    edges: list[TierChangeEdge] = strawberry.field(description="The changes on this page.")
    page_info: relay.PageInfo = strawberry.field(description="Where this page lies.")
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="Changes in the whole history: one indexed count.")
    async def total_count(self) -> int:
        return await self.count()


@strawberry.input
class PriceLineInput:
    sku: str
    unit_price: int
    quantity: int
    discounted: bool = False


@strawberry.input
class QuoteMemberPriceInput:
    member_external_id: str
    lines: list[PriceLineInput]
    shipping_fee: int = 0


@strawberry.type
class QuotedLine:
    sku: str
    quantity: int
    amount: int
    member_amount: int


@strawberry.type
class MemberPriceQuote:
    lines: list[QuotedLine]
    subtotal: int
    member_subtotal: int
    shipping_fee: int
    member_shipping_fee: int
    member_price_rate: int = strawberry.field(description="Basis points paid on full-price lines.")
    total: int

    @classmethod
    def from_domain(cls, q: Quote) -> MemberPriceQuote:
        return cls(
            lines=[
                QuotedLine(
                    sku=x.sku, quantity=x.quantity, amount=x.amount, member_amount=x.member_amount
                )
                for x in q.lines
            ],
            subtotal=q.subtotal,
            member_subtotal=q.member_subtotal,
            shipping_fee=q.shipping_fee,
            member_shipping_fee=q.member_shipping_fee,
            member_price_rate=q.member_price_rate,
            total=q.total,
        )


@strawberry.type
class TierEngineQuery:
    @strawberry.field(description="How the caller's programme qualifies members for tiers.")
    async def tier_policy(self, info: strawberry.Info) -> TierPolicy:
        return TierPolicy.from_domain(await resolvers.policy(info))

    @strawberry.field(description="Staff: what a member pays: member price, free shipping.")
    async def quote_member_price(
        self, info: strawberry.Info, input: Annotated[QuoteMemberPriceInput, MUTATION_INPUT]
    ) -> MemberPriceQuote:
        lines = [PriceLine(x.sku, x.unit_price, x.quantity, x.discounted) for x in input.lines]
        return MemberPriceQuote.from_domain(
            await resolvers.quote(
                info,
                member_external_id=input.member_external_id,
                lines=lines,
                shipping_fee=input.shipping_fee,
            )
        )


@strawberry.type
class TierEngineMutation:
    @strawberry.mutation(description="Admin: change how members qualify for tiers.")
    async def set_tier_policy(
        self, info: strawberry.Info, input: Annotated[SetTierPolicyInput, MUTATION_INPUT]
    ) -> SetTierPolicyResult:
        return await result_of(
            resolvers.set_policy(info, input.changes(), idempotency_key=input.idempotency_key),
            lambda p: SetTierPolicySuccess(tier_policy=TierPolicy.from_domain(p)),
            SetTierPolicyError,
        )
