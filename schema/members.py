from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry import relay

from db.models import Member as MemberRow
from resolvers import coupons as coupon_resolvers
from resolvers import members as resolvers
from resolvers import points
from resolvers import privacy as privacy_resolvers
from resolvers import recommendations as reco_resolvers
from resolvers import tier_engine as tier_resolvers
from schema.coupon_types import Coupon, CouponConnection, CouponStatus, CouponTemplate
from schema.errors import MutationError, result_of
from schema.pagination import Edge, page_info
from schema.points_types import (
    ExpiringPoints,
    PointTransaction,
    PointTransactionConnection,
    TransactionKind,
)
from schema.privacy_types import MemberExport
from schema.programmes import Benefit, Tier
from schema.recommendation_types import (
    LifecycleSegment,
    MemberSegment,
    NextBestAction,
    Recommendation,
    action_of,
)
from schema.tier_engine import TierChange, TierChangeConnection, TierChangeEdge, TierProgress
from services.members import ProfileInput


@strawberry.type
class Consent:
    marketing: bool
    profiling: bool = strawberry.field(
        description="May purchase history be used for recommendations."
    )


@strawberry.type
class MemberPoints:
    available: int = strawberry.field(description="Earned and matured; may be negative (a debt).")
    pending: int = strawberry.field(description="From orders whose return window is open.")
    held: int = strawberry.field(description="Reserved by checkout holds.")
    spendable: int = strawberry.field(description="available - held")
    shortfall: int = strawberry.field(description="Clawbacks that found too few points.")
    row: strawberry.Private[MemberRow]

    @strawberry.field(description="Points that expire in the next `days`, by date.")
    async def expiring_within(self, info: strawberry.Info, days: int) -> list[ExpiringPoints]:
        return [ExpiringPoints.from_domain(e) for e in await points.expiring(info, self.row, days)]


@strawberry.type
class Member(relay.Node):
    id: relay.NodeID[int]
    external_id: str = strawberry.field(
        description="The shop's own customer id, unique in the programme."
    )
    display_name: str
    email: str | None
    phone: str | None
    birthday: str | None = strawberry.field(description="MM-DD")
    joined_at: datetime
    consent: Consent
    tier_since: datetime | None
    tier_id: strawberry.Private[int | None]
    row: strawberry.Private[MemberRow]

    @classmethod
    def from_row(cls, row: MemberRow) -> Member:
        birthday = (
            f"{row.birthday_month:02d}-{row.birthday_day:02d}"
            if row.birthday_month is not None and row.birthday_day is not None
            else None
        )
        return cls(
            id=row.id,
            external_id=row.external_id,
            display_name=row.display_name,
            email=row.email,
            phone=row.phone,
            birthday=birthday,
            joined_at=row.joined_at,
            consent=Consent(marketing=row.consent_marketing, profiling=row.consent_profiling),
            tier_since=row.tier_since,
            tier_id=row.tier_id,
            row=row,
        )

    @strawberry.field(description="As of the programme's now: points past their expiry are gone.")
    async def points(self, info: strawberry.Info) -> MemberPoints:
        now = await points.balances(info, self.row)
        return MemberPoints(
            available=now.available,
            pending=now.pending,
            held=now.held,
            spendable=now.spendable,
            shortfall=now.shortfall,
            row=self.row,
        )

    @strawberry.field(description="The ledger, newest first.")
    async def transactions(
        self,
        info: strawberry.Info,
        first: int,
        after: str | None = None,
        kinds: list[TransactionKind] | None = None,
    ) -> PointTransactionConnection:
        rows, has_next = await points.transactions(
            info, self.row, first=first, after=after, kinds=kinds
        )
        edges = [Edge(PointTransaction.from_row(r), r, points.tx_cursor) for r in rows]
        return PointTransactionConnection(edges=edges, page_info=page_info(edges, has_next, after))

    @strawberry.field(
        description="Products for this member, best first (1-50). Without profiling consent: "
        "the programme's popular products only."
    )
    async def recommendations(self, info: strawberry.Info, first: int = 10) -> list[Recommendation]:
        found = await reco_resolvers.recommendations(info, self.row, first=first)
        return [Recommendation.from_service(r) for r in found]

    @strawberry.field(description="RFM scores and lifecycle, as of the last build.")
    async def segment(self, info: strawberry.Info) -> MemberSegment | None:
        row = await reco_resolvers.segment(info, self.row)
        return MemberSegment.from_row(row) if row else None

    @strawberry.field(description="What the member could do next, most pressing first.")
    async def next_best_actions(self, info: strawberry.Info) -> list[NextBestAction]:
        actions = await reco_resolvers.next_actions(info, self.row)
        tiers = {t.id: t for t in await info.context.loaders.tiers()}
        return [action_of(a, tiers) for a in actions]

    @strawberry.field(description="The coupon wallet, soonest-expiring first.")
    async def coupons(
        self,
        info: strawberry.Info,
        first: int,
        after: str | None = None,
        status: CouponStatus | None = None,
    ) -> CouponConnection:
        views, has_next = await coupon_resolvers.wallet_page(
            info, self.row, status=status, first=first, after=after
        )
        templates: dict[int, CouponTemplate] = {}
        cursor = coupon_resolvers.wallet_cursor
        edges = [Edge(Coupon.from_view(v, templates), v, cursor) for v in views]
        return CouponConnection(edges=edges, page_info=page_info(edges, has_next, after))

    @strawberry.field(
        description="When the current tier's validity period ends (none for the entry tier)."
    )
    def tier_valid_until(self) -> datetime | None:
        return self.row.tier_valid_until

    @strawberry.field
    async def tier_progress(self, info: strawberry.Info) -> TierProgress:
        p = await tier_resolvers.progress(info, self.row)
        view = Tier.from_view
        return TierProgress(
            next_tier=view(p.next_tier) if p.next_tier else None,
            amount_to_next=p.amount_to_next,
            amount_to_retain=p.amount_to_retain,
            will_downgrade_to=view(p.will_downgrade_to) if p.will_downgrade_to else None,
        )

    @strawberry.field(
        description="A link to everything held about this member, as one JSON document: "
        "for the member's own token (`viewer { export { url } }`) and admins."
    )
    async def export(self, info: strawberry.Info) -> MemberExport | None:
        return MemberExport.from_link(await privacy_resolvers.export_link(info, member=self.row))

    @strawberry.field(description="Tier changes, newest first.")
    async def tier_history(
        self, info: strawberry.Info, first: int, after: str | None = None
    ) -> TierChangeConnection:
        rows, has_next = await tier_resolvers.history(info, self.row, first=first, after=after)
        edges = [
            TierChangeEdge(cursor=tier_resolvers.cursor_for(r), node=TierChange.from_row(r))
            for r in rows
        ]
        return TierChangeConnection(edges=edges, page_info=page_info(edges, has_next, after))

    @strawberry.field(description="What the member's tier grants.")
    async def benefits(self, info: strawberry.Info) -> list[Benefit]:
        tier = await resolvers.tier_of(info, self.tier_id)
        return [Benefit.from_view(b) for b in tier.benefits] if tier else []

    @strawberry.field(description="The code this member shares to invite others.")
    async def invite_code(self, info: strawberry.Info) -> str:
        return await points.invite_code(info, self.row)

    @strawberry.field
    async def tier(self, info: strawberry.Info) -> Tier | None:
        tier = await resolvers.tier_of(info, self.tier_id)
        return Tier.from_view(tier) if tier else None

    @classmethod
    async def resolve_nodes(
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Member | None]:
        rows = await resolvers.members_by_ids(info, [int(i) for i in node_ids])
        return [cls.from_row(r) if r is not None else None for r in rows]


@strawberry.input
class ConsentInput:
    marketing: bool = False
    profiling: bool = False


@strawberry.input
class RegisterMemberInput:
    external_id: str
    display_name: str
    email: str | None = None
    phone: str | None = None
    birthday: str | None = strawberry.field(default=None, description="MM-DD")
    consent: ConsentInput | None = None
    idempotency_key: str


@strawberry.input(
    description="Fields left out stay as they are; null clears email, phone or birthday."
)
class UpdateMemberInput:
    external_id: str | None = strawberry.field(
        default=None, description="Which member; a member token may leave it out for itself."
    )
    display_name: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    birthday: str | None = strawberry.UNSET
    marketing_consent: bool | None = strawberry.UNSET
    profiling_consent: bool | None = strawberry.UNSET


@strawberry.type
class RegisterMemberSuccess:
    member: Member


@strawberry.type
class RegisterMemberError(MutationError):
    pass


@strawberry.type
class UpdateMemberSuccess:
    member: Member


@strawberry.type
class UpdateMemberError(MutationError):
    pass


RegisterMemberResult = Annotated[
    RegisterMemberSuccess | RegisterMemberError, strawberry.union("RegisterMemberResult")
]
UpdateMemberResult = Annotated[
    UpdateMemberSuccess | UpdateMemberError, strawberry.union("UpdateMemberResult")
]


def _given(value: object) -> bool:
    return value is not strawberry.UNSET


def _update_profile(input: UpdateMemberInput) -> ProfileInput:
    clearable = {"email": input.email, "phone": input.phone, "birthday": input.birthday}
    cleared = frozenset(
        name for name, value in clearable.items() if _given(value) and value is None
    )
    return ProfileInput(
        # A null displayName is not a clear: it reaches validation as an empty name.
        display_name=("" if input.display_name is None else input.display_name)
        if _given(input.display_name)
        else None,
        email=input.email if _given(input.email) else None,
        phone=input.phone if _given(input.phone) else None,
        birthday=input.birthday if _given(input.birthday) else None,
        consent_marketing=input.marketing_consent if _given(input.marketing_consent) else None,
        consent_profiling=input.profiling_consent if _given(input.profiling_consent) else None,
        cleared=cleared,
    )


@strawberry.type
class MemberConnection(relay.Connection[Member]):
    pass


@strawberry.type
class MemberQuery:
    @strawberry.field(description="A member by the shop's id; null when there is none you may see.")
    async def member(self, info: strawberry.Info, external_id: str) -> Member | None:
        row = await resolvers.member(info, external_id)
        return Member.from_row(row) if row else None

    @strawberry.field(
        description="Members in the order they joined. Staff keys only; `segment` (admin "
        "keys) keeps those in one lifecycle segment as of the last build."
    )
    async def members(
        self,
        info: strawberry.Info,
        first: int,
        after: str | None = None,
        segment: LifecycleSegment | None = None,
    ) -> MemberConnection:
        rows, has_next = await resolvers.members_page(info, first, after, segment=segment)
        edges = [Edge(Member.from_row(r), r, resolvers.cursor_for) for r in rows]
        return MemberConnection(edges=edges, page_info=page_info(edges, has_next, after))

    @strawberry.field(description="The member a member token belongs to; null for API keys.")
    async def viewer(self, info: strawberry.Info) -> Member | None:
        row = await resolvers.viewer(info)
        return Member.from_row(row) if row else None


@strawberry.type
class MemberMutation:
    @strawberry.mutation(description="Storefront or admin: enrol a customer in the programme.")
    async def register_member(
        self, info: strawberry.Info, input: RegisterMemberInput
    ) -> RegisterMemberResult:
        consent = input.consent or ConsentInput()
        profile = ProfileInput(
            display_name=input.display_name,
            email=input.email,
            phone=input.phone,
            birthday=input.birthday,
            consent_marketing=consent.marketing,
            consent_profiling=consent.profiling,
        )
        return await result_of(
            resolvers.register(
                info,
                external_id=input.external_id,
                profile=profile,
                idempotency_key=input.idempotency_key,
            ),
            lambda m: RegisterMemberSuccess(member=Member.from_row(m)),
            RegisterMemberError,
        )

    @strawberry.mutation(description="Change a member's profile or consent flags.")
    async def update_member(
        self, info: strawberry.Info, input: UpdateMemberInput
    ) -> UpdateMemberResult:
        return await result_of(
            resolvers.update(info, external_id=input.external_id, profile=_update_profile(input)),
            lambda m: UpdateMemberSuccess(member=Member.from_row(m)),
            UpdateMemberError,
        )
