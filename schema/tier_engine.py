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
from schema.describe import describe_values
from schema.errors import (
    MUTATION_INPUT,
    MutationError,
    error_description,
    idempotency_key_field,
    result_of,
    union_description,
)
from schema.programmes import Tier

Metric = strawberry.enum(
    tier_rules.Metric, name="TierMetric", description="What counts towards tiers."
)
describe_values(
    Metric,
    {
        "SPEND": "Money spent on completed orders, in minor units, net of returns.",
        "ORDER_COUNT": "Completed orders.",
        "GROWTH": "Growth points: 1 per major unit spent, plus activity (reviews).",
    },
)
Window = strawberry.enum(
    tier_rules.Window, name="TierWindow", description="Over what time the metric counts."
)
describe_values(
    Window,
    {
        "LIFETIME": "Since joining.",
        "ROLLING_MONTHS": "The last `windowMonths` months.",
        "VALIDITY": "The current validity period; tiers are judged again at its end.",
    },
)


@strawberry.type(description="How a programme qualifies members for tiers.")
class TierPolicy:
    metric: Metric = strawberry.field(description="SPEND (minor units), ORDER_COUNT or GROWTH.")
    window: Window = strawberry.field(description="LIFETIME, ROLLING_MONTHS or VALIDITY.")
    window_months: int = strawberry.field(description="ROLLING_MONTHS: the window's length.")
    validity_months: int = strawberry.field(
        description="VALIDITY: how long a tier lasts before it is judged again."
    )
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
    metric: Metric | None = strawberry.field(default=None, description="What counts.")
    window: Window | None = strawberry.field(default=None, description="Over what time.")
    window_months: int | None = strawberry.field(
        default=None, description="ROLLING_MONTHS: the window's length."
    )
    validity_months: int | None = strawberry.field(
        default=None, description="VALIDITY: how long a tier lasts."
    )
    reset_on_change: bool | None = strawberry.field(
        default=None, description="Count from the last tier change only."
    )
    idempotency_key: str = idempotency_key_field()

    def changes(self) -> dict[str, Any]:
        names = ("metric", "window", "window_months", "validity_months", "reset_on_change")
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}


@strawberry.type(description="The tier policy after the change.")
class SetTierPolicySuccess:
    tier_policy: TierPolicy = strawberry.field(description="The whole policy.")


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


@strawberry.type(description="A member moving from one tier to another.")
class TierChange:
    from_tier_id: strawberry.Private[int | None]
    to_tier_id: strawberry.Private[int | None]
    reason: TierChangeReason = strawberry.field(description="Why the tier changed.")
    qualifying_total: int = strawberry.field(
        description="The qualifying amount when it changed, in the tier policy's unit."
    )
    at: datetime = strawberry.field(description="When, by the programme's clock.")

    @classmethod
    def from_row(cls, row: TierChangeRow) -> TierChange:
        return cls(
            from_tier_id=row.from_tier_id,
            to_tier_id=row.to_tier_id,
            reason=TierChangeReason(row.reason),
            qualifying_total=row.qualifying_total,
            at=row.at,
        )

    @strawberry.field(description="The tier before; null when the member had none.", name="from")
    async def from_tier(self, info: strawberry.Info) -> Tier | None:
        return await tier_of(info, self.from_tier_id)

    @strawberry.field(description="The tier after.", name="to")
    async def to_tier(self, info: strawberry.Info) -> Tier | None:
        return await tier_of(info, self.to_tier_id)


async def tier_of(info: strawberry.Info, tier_id: int | None) -> Tier | None:
    found = await resolvers_members.tier_of(info, tier_id)
    return Tier.from_view(found) if found else None


@strawberry.type(description="How far the member is from the next tier, and from keeping its own.")
class TierProgress:
    next_tier: Tier | None = strawberry.field(description="The tier above; null at the top.")
    amount_to_next: int | None = strawberry.field(description="Qualifying amount still needed.")
    amount_to_retain: int | None = strawberry.field(
        description="Still needed in this validity period to keep the tier."
    )
    will_downgrade_to: Tier | None = strawberry.field(
        description="Where the member goes when the period ends, if nothing changes."
    )


@strawberry.type(description="One tier change and its cursor.")
class TierChangeEdge:
    cursor: str = strawberry.field(description="Pass as `after` or `before` to page from here.")
    node: TierChange = strawberry.field(description="The change.")


@strawberry.type(description="A page of a member's tier history.")
class TierChangeConnection:
    edges: list[TierChangeEdge] = strawberry.field(description="The changes on this page.")
    page_info: relay.PageInfo = strawberry.field(description="Where this page lies.")
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="Changes in the whole history: one indexed count.")
    async def total_count(self) -> int:
        return await self.count()


@strawberry.input(description="One line to price.")
class PriceLineInput:
    sku: str = strawberry.field(description="The product's sku.")
    unit_price: int = strawberry.field(description="List price per item, in minor units.")
    quantity: int = strawberry.field(description="Items (1-10000).")
    discounted: bool = strawberry.field(
        default=False, description="Already on sale: no member price on it."
    )


@strawberry.input(description="A member and a cart to price.")
class QuoteMemberPriceInput:
    member_external_id: str = strawberry.field(description="Whose price.")
    lines: list[PriceLineInput] = strawberry.field(description="The cart (1-500 lines).")
    shipping_fee: int = strawberry.field(default=0, description="In minor units.")


@strawberry.type(description="One line at list and member price.")
class QuotedLine:
    sku: str = strawberry.field(description="The line's sku.")
    quantity: int = strawberry.field(description="Items.")
    amount: int = strawberry.field(description="At list price, in minor units.")
    member_amount: int = strawberry.field(description="At member price, in minor units.")


@strawberry.type(description="What a member pays for a cart: member price and free shipping.")
class MemberPriceQuote:
    lines: list[QuotedLine] = strawberry.field(description="Per line, in the order sent.")
    subtotal: int = strawberry.field(description="The lines at list price, in minor units.")
    member_subtotal: int = strawberry.field(
        description="The lines at member price, in minor units."
    )
    shipping_fee: int = strawberry.field(description="The shipping fee sent.")
    member_shipping_fee: int = strawberry.field(description="The shipping fee the member pays.")
    member_price_rate: int = strawberry.field(description="Basis points paid on full-price lines.")
    total: int = strawberry.field(
        description="What the member pays: memberSubtotal + memberShippingFee."
    )

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
