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
from schema.describe import describe_values
from schema.errors import (
    MUTATION_INPUT,
    MutationError,
    error_description,
    idempotency_key_field,
    result_of,
    union_description,
)

ProgrammeMode = strawberry.enum(
    domain_clock.ProgrammeMode,
    name="ProgrammeMode",
    description="Whether a programme runs on real time or on a test clock.",
)
describe_values(
    ProgrammeMode,
    {
        "LIVE": "Real time; the clock cannot be moved.",
        "SANDBOX": "A test clock that advanceTestClock moves forward.",
    },
)
BenefitKind = strawberry.enum(
    domain_tiers.BenefitKind, name="BenefitKind", description="What a benefit does."
)
describe_values(
    BenefitKind,
    {
        "MEMBER_PRICE": "Full-price lines cost `value` basis points of the price (9800 = 98%).",
        "POINTS_MULTIPLIER": "Earned points times `value` basis points (15000 = 1.5x).",
        "FREE_SHIPPING": "No shipping fee on member prices.",
        "BIRTHDAY_GIFT": "A gift in the birthday month (fulfilled by the shop).",
        "BIRTHDAY_MULTIPLIER": "Points times `value` basis points in the birthday month.",
        "MEMBER_DAY": "Member-day offers (shown; applied by the shop).",
        "PRIORITY_SERVICE": "Priority customer service (shown; given by the shop).",
        "EARLY_ACCESS": "Early access to sales (shown; given by the shop).",
        "MONTHLY_COUPONS": "`value` coupons a month from MONTHLY_ALLOWANCE templates.",
    },
)


@strawberry.type(description="Something a tier grants.")
class Benefit(relay.Node):
    id: relay.NodeID[int]
    code: str = strawberry.field(description="Unique within its tier.")
    title: str = strawberry.field(description="Display name.")
    kind: BenefitKind = strawberry.field(
        description="What the benefit does; `value` is read by kind."
    )
    value: int = strawberry.field(
        description=(
            "Basis points for MEMBER_PRICE and multipliers (9800 = pay 98%, 15000 = 1.5x);"
            " a count for MONTHLY_COUPONS."
        )
    )
    description: str = strawberry.field(description="Free text for members.")

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


@strawberry.type(
    description=(
        "A membership level members reach by qualifying amount (tierPolicy) and its benefits."
    )
)
class Tier(relay.Node):
    id: relay.NodeID[int]
    code: str = strawberry.field(
        description="Unique in the programme: what upsertTier and coupon eligibility name it by."
    )
    name: str = strawberry.field(description="Display name.")
    rank: int = strawberry.field(description="0 is the entry tier; higher ranks are better.")
    entry_threshold: int = strawberry.field(
        description="Qualifying amount to reach the tier, in `thresholdUnit`: minor units under "
        "SPEND, orders under ORDER_COUNT, growth points under GROWTH."
    )
    retention_threshold: int | None = strawberry.field(
        description="Qualifying amount to keep it for another period, in `thresholdUnit`."
    )
    benefits: list[Benefit] = strawberry.field(description="What members of this tier get.")

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


@strawberry.type(description="A loyalty programme: one shop's members, points, tiers and coupons.")
class Programme(relay.Node):
    id: relay.NodeID[int]
    code: str = strawberry.field(
        description="Unique short name, as `loyalty create-programme` was given it."
    )
    name: str = strawberry.field(description="Display name.")
    currency: str = strawberry.field(description="ISO 4217; every amount is in its minor unit.")
    timezone: str = strawberry.field(
        description="IANA time zone: days (check-ins, birthdays, expiry dates) end at its midnight."
    )
    mode: ProgrammeMode = strawberry.field(description="LIVE, or SANDBOX with a test clock.")
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


@strawberry.input(description="A tier, by code: created if new, else changed.")
class UpsertTierInput:
    code: str = strawberry.field(description="Unique in the programme: A-Z, 0-9, _ and -.")
    name: str = strawberry.field(description="Display name.")
    rank: int = strawberry.field(description="0 for the entry tier; higher ranks are better.")
    entry_threshold: int = strawberry.field(
        description=(
            "Qualifying amount to reach it, in the tier policy's unit "
            "(minor units under SPEND: 10000 = 100.00)."
        )
    )
    retention_threshold: int | None = strawberry.field(
        default=None, description="Qualifying amount to keep it (VALIDITY window); null: none."
    )
    idempotency_key: str = idempotency_key_field()


@strawberry.type(description="The tier created or changed.")
class UpsertTierSuccess:
    tier: Tier = strawberry.field(description="The tier as it is now.")


@strawberry.type(description=error_description("UpsertTierError"))
class UpsertTierError(MutationError):
    pass


@strawberry.input(description="A benefit of a tier, by code: created if new, else changed.")
class UpsertBenefitInput:
    tier_code: str = strawberry.field(description="The tier it belongs to.")
    code: str = strawberry.field(description="Unique within the tier.")
    title: str = strawberry.field(description="Display name.")
    kind: BenefitKind = strawberry.field(description="What it does.")
    value: int = strawberry.field(
        default=0, description="Read by kind: basis points (9800, 15000) or a count."
    )
    description: str = strawberry.field(default="", description="Free text for members.")
    idempotency_key: str = idempotency_key_field()


@strawberry.type(description="The benefit created or changed.")
class UpsertBenefitSuccess:
    benefit: Benefit = strawberry.field(description="The benefit as it is now.")


@strawberry.type(description=error_description("UpsertBenefitError"))
class UpsertBenefitError(MutationError):
    pass


@strawberry.input(description="How far to move a sandbox's clock (forward only).")
class AdvanceTestClockInput:
    days: int = strawberry.field(default=0, description="Days forward.")
    seconds: int = strawberry.field(default=0, description="Seconds forward.")
    to: datetime | None = strawberry.field(
        default=None, description="Instead of days/seconds: move to this instant."
    )
    idempotency_key: str = idempotency_key_field()


@strawberry.type(description="The clock moved.")
class AdvanceTestClockSuccess:
    programme: Programme = strawberry.field(description="The programme, with its new `now`.")


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
