"""Partner types: a partner and its terms, a linked account, a transfer."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import strawberry
from strawberry import relay

from db.models import Partner as PartnerRow
from db.models import PartnerTransfer as TransferRow
from domain import partners as domain_partners
from domain.partner_statement import TransferFacts
from domain.partners import DirectionTerms as DomainDirectionTerms
from domain.partners import PartnerTerms, Rate
from resolvers import partners as resolvers
from resolvers.ids import BIGINT_MAX
from schema.describe import describe_values

PartnerStatus = strawberry.enum(
    domain_partners.PartnerStatus,
    name="PartnerStatus",
    description="ACTIVE: may exchange points; SUSPENDED: every partner operation is refused.",
)
TransferDirection = strawberry.enum(
    domain_partners.Direction,
    name="TransferDirection",
    description="IN: partner units become our points; OUT: our points become partner units.",
)


PartnerTransferStatus = strawberry.enum(
    domain_partners.TransferStatus,
    name="PartnerTransferStatus",
    description="PENDING (out: points held, the partner to answer), COMPLETED, FAILED (out: "
    "rejected or timed out, points released), REVERSED (completed, then undone by a new row).",
)
describe_values(
    PartnerStatus,
    {
        "ACTIVE": "May link members and exchange points.",
        "SUSPENDED": "Every operation of the partner and its keys is refused.",
    },
)
describe_values(
    TransferDirection,
    {
        "IN": "Partner units converted into our points (creditFromPartner).",
        "OUT": "Our points converted into partner units (transferToPartner).",
    },
)
describe_values(
    PartnerTransferStatus,
    {
        "PENDING": "Out only: points held until the partner confirms or rejects, or it times out.",
        "COMPLETED": "Done: the ledger row is written.",
        "FAILED": "Out only: rejected or timed out; the held points are back.",
        "REVERSED": "Completed, then undone by an admin with a new ledger row.",
    },
)


@strawberry.type(description="An exact exchange rate: `source` units given are worth `target`.")
class ExchangeRate:
    source: int = strawberry.field(description="Units given (partner units in, points out).")
    target: int = strawberry.field(description="Units received for them, rounded down.")


@strawberry.input(description="An exact exchange rate as a ratio of two positive integers.")
class ExchangeRateInput:
    source: int = strawberry.field(description="Units given (partner units in, points out).")
    target: int = strawberry.field(description="Units received for them (1-1,000,000).")


@strawberry.type(description="One direction's rate and limits. Limits are in our points.")
class DirectionTerms:
    rate: ExchangeRate = strawberry.field(description="The conversion; rounding favours us.")
    min_points: int = strawberry.field(description="Smallest transfer, in points.")
    max_points: int = strawberry.field(description="Largest transfer, in points.")
    daily_points_per_member: int | None = strawberry.field(
        description="Points one member may move this way per local day; null: no limit."
    )
    daily_points_total: int | None = strawberry.field(
        description="Points all members may move this way per local day; null: no limit."
    )

    @classmethod
    def from_domain(cls, terms: DomainDirectionTerms | None) -> DirectionTerms | None:
        if terms is None:
            return None
        return cls(
            rate=ExchangeRate(source=terms.rate.source, target=terms.rate.target),
            min_points=terms.min_points,
            max_points=terms.max_points,
            daily_points_per_member=terms.daily_points_per_member,
            daily_points_total=terms.daily_points_total,
        )


@strawberry.input(description="One direction's rate and limits (limits in our points).")
class DirectionTermsInput:
    rate: ExchangeRateInput = strawberry.field(description="The conversion.")
    min_points: int = strawberry.field(default=1, description="Smallest transfer, in points.")
    max_points: int = strawberry.field(default=100_000, description="Largest transfer, in points.")
    daily_points_per_member: int | None = strawberry.field(
        default=None, description="Points one member may move per local day; null: no limit."
    )
    daily_points_total: int | None = strawberry.field(
        default=None, description="Points all members may move per local day; null: no limit."
    )

    def to_domain(self) -> DomainDirectionTerms:
        return DomainDirectionTerms(
            rate=Rate(self.rate.source, self.rate.target),
            min_points=self.min_points,
            max_points=self.max_points,
            daily_points_per_member=self.daily_points_per_member,
            daily_points_total=self.daily_points_total,
        )


@strawberry.input(description="What a partner may do; a direction left out is not allowed.")
class PartnerTermsInput:
    inbound: DirectionTermsInput | None = strawberry.field(
        default=None, description="Partner units into our points (creditFromPartner)."
    )
    outbound: DirectionTermsInput | None = strawberry.field(
        default=None, description="Our points out to partner units (transferToPartner)."
    )
    eligible_tiers: list[str] = strawberry.field(
        default_factory=list, description="Tier codes that may exchange; empty: every tier."
    )
    timeout_minutes: int = strawberry.field(
        default=domain_partners.DEFAULT_TIMEOUT_MINUTES,
        description="A transfer out left pending this long is failed by run-jobs.",
    )

    def to_domain(self) -> PartnerTerms:
        return PartnerTerms(
            inbound=self.inbound.to_domain() if self.inbound else None,
            outbound=self.outbound.to_domain() if self.outbound else None,
            eligible_tiers=tuple(self.eligible_tiers),
            timeout_minutes=self.timeout_minutes,
        )


@strawberry.type(description="A partner platform exchanging points with the programme.")
class Partner:
    code: str = strawberry.field(description="The programme's code for the partner.")
    name: str = strawberry.field(description="Display name.")
    status: PartnerStatus = strawberry.field(description="Whether it may exchange points now.")
    inbound: DirectionTerms | None = strawberry.field(
        description="Terms of transfers in; null: not allowed."
    )
    outbound: DirectionTerms | None = strawberry.field(
        description="Terms of transfers out; null: not allowed."
    )
    eligible_tiers: list[str] = strawberry.field(
        description="Tier codes that may exchange; empty: every tier."
    )
    timeout_minutes: int = strawberry.field(description="Pending transfers out fail after this.")
    created_at: datetime = strawberry.field(description="When the partner was created.")

    @classmethod
    def from_row(cls, row: PartnerRow) -> Partner:
        terms = PartnerTerms.from_json(row.terms)
        return cls(
            code=row.code,
            name=row.name,
            status=domain_partners.PartnerStatus(row.status),
            inbound=DirectionTerms.from_domain(terms.inbound),
            outbound=DirectionTerms.from_domain(terms.outbound),
            eligible_tiers=list(terms.eligible_tiers),
            timeout_minutes=terms.timeout_minutes,
            created_at=row.created_at,
        )


@strawberry.type(description="One exchange of points with a partner, either way.")
class PartnerTransfer(relay.Node):
    max_id = BIGINT_MAX

    id: relay.NodeID[int]
    direction: TransferDirection = strawberry.field(description="IN or OUT.")
    status: PartnerTransferStatus = strawberry.field(description="Where it stands.")
    partner_member_id: str = strawberry.field(description="The member's id at the partner.")
    partner_transfer_id: str | None = strawberry.field(
        description="IN: the partner's id of this transfer (unique per partner)."
    )
    partner_reference: str | None = strawberry.field(
        description="OUT: the partner's reference, given when it confirmed."
    )
    partner_units: int = strawberry.field(description="Units on the partner's side.")
    points: int = strawberry.field(description="Points on our side.")
    rate: ExchangeRate = strawberry.field(description="The rate this transfer was made at.")
    reason: str | None = strawberry.field(description="Why it failed or was reversed.")
    created_at: datetime = strawberry.field(description="Requested (programme clock).")
    expires_at: datetime | None = strawberry.field(
        description="OUT: fails if still pending at this moment."
    )
    closed_at: datetime | None = strawberry.field(description="Completed or failed.")
    reversed_at: datetime | None = strawberry.field(description="Reversed, if it was.")

    @classmethod
    def from_row(cls, row: TransferRow) -> PartnerTransfer:
        return cls(
            id=row.id,
            direction=domain_partners.Direction(row.direction),
            status=domain_partners.TransferStatus(row.status),
            partner_member_id=row.partner_member_id,
            partner_transfer_id=row.partner_transfer_id,
            partner_reference=row.partner_reference,
            partner_units=row.partner_units,
            points=row.points,
            rate=ExchangeRate(source=row.rate_source, target=row.rate_target),
            reason=row.reason,
            created_at=row.created_at,
            expires_at=row.expires_at,
            closed_at=row.closed_at,
            reversed_at=row.reversed_at,
        )

    @classmethod
    def from_facts(cls, t: TransferFacts) -> PartnerTransfer:
        return cls(
            id=t.id,
            direction=domain_partners.Direction(t.direction),
            status=domain_partners.TransferStatus(t.status),
            partner_member_id=t.partner_member_id,
            partner_transfer_id=t.partner_transfer_id,
            partner_reference=t.partner_reference,
            partner_units=t.partner_units,
            points=t.points,
            rate=ExchangeRate(source=t.rate[0], target=t.rate[1]),
            reason=t.reason,
            created_at=t.created_at,
            expires_at=None,
            closed_at=t.closed_at,
            reversed_at=t.reversed_at,
        )

    @classmethod
    async def resolve_nodes(
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[PartnerTransfer | None]:
        ids = [int(i) for i in node_ids]
        found = await resolvers.transfers_by_ids(info, ids)
        return [cls.from_row(found[i]) if i in found else None for i in ids]
