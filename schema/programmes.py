from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry import relay

from db.models import Programme as ProgrammeRow
from domain import clock as domain_clock
from domain import tiers as domain_tiers
from domain.tier_rules import Metric
from domain.tiers import BenefitView, TierDraft, TierView
from resolvers import programmes as resolvers
from schema.errors import (
    MUTATION_INPUT,
    MutationError,
    error_description,
    idempotency_key_field,
    result_of,
    union_description,
)

ProgrammeMode = strawberry.enum(domain_clock.ProgrammeMode, name="ProgrammeMode")
BenefitKind = strawberry.enum(domain_tiers.BenefitKind, name="BenefitKind")


@strawberry.type
class Benefit(relay.Node):
    id: relay.NodeID[int]
    code: str
    title: str
    kind: BenefitKind
    value: int = strawberry.field(
        description=(
            "Basis points for MEMBER_PRICE and multipliers (9800 = pay 98%, 15000 = 1.5x);"
            " a count for MONTHLY_COUPONS."
        )
    )
    description: str

    @classmethod
    def from_view(cls, b: BenefitView) -> Benefit:
        return cls(
            id=b.id,
            code=b.code,
            title=b.title,
            kind=b.kind,
            value=b.value,
            description=b.description,
        )

    @classmethod
    async def resolve_nodes(
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Benefit | None]:
        found = {b.id: b for t in await resolvers.tiers(info) for b in t.benefits}
        return [cls.from_view(found[int(i)]) if int(i) in found else None for i in node_ids]


@strawberry.enum(description="What a tier threshold counts; it follows the tier policy's metric.")
class ThresholdUnit(Enum):
    MINOR_UNITS = strawberry.enum_value(
        "MINOR_UNITS", description="SPEND: money spent, in the currency's minor units (fen)."
    )
    ORDERS = strawberry.enum_value("ORDERS", description="ORDER_COUNT: completed orders.")
    GROWTH_POINTS = strawberry.enum_value(
        "GROWTH_POINTS",
        description="GROWTH: growth points, 1 per major unit spent plus activity (reviews).",
    )


UNIT_OF_METRIC = {
    Metric.SPEND: ThresholdUnit.MINOR_UNITS,
    Metric.ORDER_COUNT: ThresholdUnit.ORDERS,
    Metric.GROWTH: ThresholdUnit.GROWTH_POINTS,
}


@strawberry.type
class Tier(relay.Node):
    id: relay.NodeID[int]
    code: str
    name: str
    rank: int = strawberry.field(description="0 is the entry tier; higher ranks are better.")
    entry_threshold: int = strawberry.field(
        description="Qualifying amount to reach the tier, in `thresholdUnit`: minor units under "
        "SPEND, orders under ORDER_COUNT, growth points under GROWTH."
    )
    retention_threshold: int | None = strawberry.field(
        description="Qualifying amount to keep it for another period, in `thresholdUnit`."
    )
    benefits: list[Benefit]

    @strawberry.field(description="What the thresholds count, by the tier policy's metric.")
    async def threshold_unit(self, info: strawberry.Info) -> ThresholdUnit:
        return UNIT_OF_METRIC[await resolvers.tier_metric(info)]

    @classmethod
    def from_view(cls, t: TierView) -> Tier:
        return cls(
            id=t.id,
            code=t.code,
            name=t.name,
            rank=t.rank,
            entry_threshold=t.entry_threshold,
            retention_threshold=t.retention_threshold,
            benefits=[Benefit.from_view(b) for b in t.benefits],
        )

    @classmethod
    async def resolve_nodes(
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Tier | None]:
        found = {t.id: t for t in await resolvers.tiers(info)}
        return [cls.from_view(found[int(i)]) if int(i) in found else None for i in node_ids]


@strawberry.type
class Programme(relay.Node):
    id: relay.NodeID[int]
    code: str
    name: str
    currency: str = strawberry.field(description="ISO 4217; every amount is in its minor unit.")
    timezone: str
    mode: ProgrammeMode
    now: datetime = strawberry.field(
        description="The programme clock: a sandbox's test clock, else real time."
    )

    @classmethod
    def from_row(cls, row: ProgrammeRow) -> Programme:
        return cls(
            id=row.id,
            code=row.code,
            name=row.name,
            currency=row.currency,
            timezone=row.timezone,
            mode=row.mode,
            now=resolvers.now_of(row),
        )

    @strawberry.field(description="Tiers in rank order, each with its benefits.")
    async def tiers(self, info: strawberry.Info) -> list[Tier]:
        return [Tier.from_view(t) for t in await resolvers.tiers(info)]

    @classmethod
    async def resolve_nodes(
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Programme | None]:
        row = await resolvers.programme(info)
        return [cls.from_row(row) if int(i) == row.id else None for i in node_ids]


@strawberry.input
class UpsertTierInput:
    code: str
    name: str
    rank: int
    entry_threshold: int
    retention_threshold: int | None = None
    idempotency_key: str = idempotency_key_field()


@strawberry.type
class UpsertTierSuccess:
    tier: Tier


@strawberry.type(description=error_description("UpsertTierError"))
class UpsertTierError(MutationError):
    pass


@strawberry.input
class UpsertBenefitInput:
    tier_code: str
    code: str
    title: str
    kind: BenefitKind
    value: int = 0
    description: str = ""
    idempotency_key: str = idempotency_key_field()


@strawberry.type
class UpsertBenefitSuccess:
    benefit: Benefit


@strawberry.type(description=error_description("UpsertBenefitError"))
class UpsertBenefitError(MutationError):
    pass


@strawberry.input
class AdvanceTestClockInput:
    days: int = 0
    seconds: int = 0
    to: datetime | None = strawberry.field(
        default=None, description="Instead of days/seconds: move to this instant."
    )
    idempotency_key: str = idempotency_key_field()


@strawberry.type
class AdvanceTestClockSuccess:
    programme: Programme


@strawberry.type(description=error_description("AdvanceTestClockError"))
class AdvanceTestClockError(MutationError):
    pass


UpsertTierResult = Annotated[
    UpsertTierSuccess | UpsertTierError,
    strawberry.union("UpsertTierResult", description=union_description("UpsertTierResult")),
]
UpsertBenefitResult = Annotated[
    UpsertBenefitSuccess | UpsertBenefitError,
    strawberry.union("UpsertBenefitResult", description=union_description("UpsertBenefitResult")),
]
AdvanceTestClockResult = Annotated[
    AdvanceTestClockSuccess | AdvanceTestClockError,
    strawberry.union(
        "AdvanceTestClockResult", description=union_description("AdvanceTestClockResult")
    ),
]


@strawberry.type
class ProgrammeQuery:
    @strawberry.field(description="The caller's programme (from its credential).")
    async def programme(self, info: strawberry.Info) -> Programme:
        return Programme.from_row(await resolvers.programme(info))


@strawberry.type
class ProgrammeMutation:
    @strawberry.mutation(description="Admin: create or change a tier, by code.")
    async def upsert_tier(
        self, info: strawberry.Info, input: Annotated[UpsertTierInput, MUTATION_INPUT]
    ) -> UpsertTierResult:
        draft = TierDraft(
            code=input.code,
            name=input.name,
            rank=input.rank,
            entry_threshold=input.entry_threshold,
            retention_threshold=input.retention_threshold,
        )
        return await result_of(
            resolvers.upsert_tier(info, draft, idempotency_key=input.idempotency_key),
            lambda t: UpsertTierSuccess(tier=Tier.from_view(t)),
            UpsertTierError,
        )

    @strawberry.mutation(description="Admin: create or change a benefit of a tier, by code.")
    async def upsert_benefit(
        self, info: strawberry.Info, input: Annotated[UpsertBenefitInput, MUTATION_INPUT]
    ) -> UpsertBenefitResult:
        return await result_of(
            resolvers.upsert_benefit(
                info,
                tier_code=input.tier_code,
                code=input.code,
                title=input.title,
                kind=input.kind,
                value=input.value,
                description=input.description,
                idempotency_key=input.idempotency_key,
            ),
            lambda b: UpsertBenefitSuccess(benefit=Benefit.from_view(b)),
            UpsertBenefitError,
        )

    @strawberry.mutation(
        description="Admin, sandbox only: move the programme's test clock forward."
    )
    async def advance_test_clock(
        self, info: strawberry.Info, input: Annotated[AdvanceTestClockInput, MUTATION_INPUT]
    ) -> AdvanceTestClockResult:
        return await result_of(
            resolvers.advance_test_clock(
                info,
                days=input.days,
                seconds=input.seconds,
                to=input.to,
                idempotency_key=input.idempotency_key,
            ),
            lambda p: AdvanceTestClockSuccess(programme=Programme.from_row(p)),
            AdvanceTestClockError,
        )
