from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry import relay

from db.models import Member as MemberRow
from resolvers import coupons as coupon_resolvers
from resolvers import members as resolvers
from resolvers import points
from resolvers import privacy as privacy_resolvers
from resolvers import recommendations as reco_resolvers
from resolvers import tier_engine as tier_resolvers
from schema.addressing import EXTERNAL_ID_DEPRECATED, either
from schema.challenge_types import MemberBadge, MemberChallenge, member_badges, member_challenges
from schema.coupon_types import Coupon, CouponConnection, CouponStatus, CouponTemplate
from schema.errors import (
    MUTATION_INPUT,
    MutationError,
    error_description,
    idempotency_key_field,
    result_of,
    union_description,
)
from schema.pagination import AFTER, BEFORE, FIRST, LAST, Edge, page_info
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


@strawberry.type(description="The member's consent flags.")
class Consent:
    marketing: bool = strawberry.field(description="May the shop send marketing messages.")
    profiling: bool = strawberry.field(
        description="May purchase history be used for recommendations."
    )


@strawberry.type(description="A member's balances, as of the programme's now.")
class MemberPoints:
    available: int = strawberry.field(description="Earned and matured; may be negative (a debt).")
    pending: int = strawberry.field(description="From orders whose return window is open.")
    held: int = strawberry.field(description="Reserved by checkout holds.")
    spendable: int = strawberry.field(description="Available minus held: what may be spent now.")
    shortfall: int = strawberry.field(description="Clawbacks that found too few points.")
    row: strawberry.Private[MemberRow]

    @strawberry.field(description="Points that expire in the next `days`, by date.")
    async def expiring_within(
        self,
        info: strawberry.Info,
        days: Annotated[
            int, strawberry.argument(description="Look this many days ahead (1-3650).")
        ],
    ) -> list[ExpiringPoints]:
        return [ExpiringPoints.from_domain(e) for e in await points.expiring(info, self.row, days)]


@strawberry.type(description="A customer enrolled in the programme.")
class Member(relay.Node):
    id: relay.NodeID[int]
    external_id: str = strawberry.field(
        description="The shop's own customer id, unique in the programme."
    )
    display_name: str = strawberry.field(description="Name to show.")
    email: str | None = strawberry.field(description="Email address, if given.")
    phone: str | None = strawberry.field(description="Phone number, if given.")
    birthday: str | None = strawberry.field(description="MM-DD")
    joined_at: datetime = strawberry.field(description="When the member was registered.")
    consent: Consent = strawberry.field(description="What the member agreed to.")
    tier_since: datetime | None = strawberry.field(
        description="When the member reached its current tier."
    )
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

    @strawberry.field(description="The ledger, newest first (`last` alone: the oldest rows).")
    async def transactions(
        self,
        info: strawberry.Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
        last: Annotated[int | None, strawberry.argument(description=LAST)] = None,
        before: Annotated[str | None, strawberry.argument(description=BEFORE)] = None,
        kinds: Annotated[
            list[TransactionKind] | None,
            strawberry.argument(description="Only rows of these kinds; null: every kind."),
        ] = None,
    ) -> PointTransactionConnection:
        rows, more = await points.transactions(
            info, self.row, first=first, after=after, last=last, before=before, kinds=kinds
        )
        edges = [Edge(PointTransaction.from_row(r), r, points.tx_cursor) for r in rows]
        row = self.row
        return PointTransactionConnection(
            edges=edges,
            page_info=page_info(edges, more, after, last=last, before=before),
            count=lambda: points.transactions_count(info, row, kinds),
        )

    @strawberry.field(
        description="Products for this member, best first (1-50). Without profiling consent: "
        "the programme's popular products only."
    )
    async def recommendations(
        self,
        info: strawberry.Info,
        first: Annotated[int, strawberry.argument(description="How many (1-50).")] = 10,
    ) -> list[Recommendation]:
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
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
        last: Annotated[int | None, strawberry.argument(description=LAST)] = None,
        before: Annotated[str | None, strawberry.argument(description=BEFORE)] = None,
        status: Annotated[
            CouponStatus | None,
            strawberry.argument(description="Only coupons in this status now; null: all."),
        ] = None,
    ) -> CouponConnection:
        views, more = await coupon_resolvers.wallet_page(
            info, self.row, status=status, first=first, after=after, last=last, before=before
        )
        templates: dict[int, CouponTemplate] = {}
        cursor = coupon_resolvers.wallet_cursor
        edges = [Edge(Coupon.from_view(v, templates), v, cursor) for v in views]
        row = self.row
        return CouponConnection(
            edges=edges,
            page_info=page_info(edges, more, after, last=last, before=before),
            count=lambda: coupon_resolvers.wallet_count(info, row, status=status),
        )

    @strawberry.field(
        description="When the current tier's validity period ends (none for the entry tier)."
    )
    def tier_valid_until(self) -> datetime | None:
        return self.row.tier_valid_until

    @strawberry.field(description="How far the next tier is, and what keeps the current one.")
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

    @strawberry.field(description="Tier changes, newest first (`last` alone: the oldest).")
    async def tier_history(
        self,
        info: strawberry.Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
        last: Annotated[int | None, strawberry.argument(description=LAST)] = None,
        before: Annotated[str | None, strawberry.argument(description=BEFORE)] = None,
    ) -> TierChangeConnection:
        rows, more = await tier_resolvers.history(
            info, self.row, first=first, after=after, last=last, before=before
        )
        edges = [
            TierChangeEdge(cursor=tier_resolvers.cursor_for(r), node=TierChange.from_row(r))
            for r in rows
        ]
        row = self.row
        return TierChangeConnection(
            edges=edges,
            page_info=page_info(edges, more, after, last=last, before=before),
            count=lambda: tier_resolvers.history_count(info, row),
        )

    @strawberry.field(description="What the member's tier grants.")
    async def benefits(self, info: strawberry.Info) -> list[Benefit]:
        tier = await resolvers.tier_of(info, self.tier_id)
        return [Benefit.from_view(b) for b in tier.benefits] if tier else []

    @strawberry.field(description="The code this member shares to invite others.")
    async def invite_code(self, info: strawberry.Info) -> str:
        return await points.invite_code(info, self.row)

    challenges: list[MemberChallenge] = strawberry.field(
        resolver=member_challenges,
        description="Challenges open to the member now, and those it completed; by deadline.",
    )
    badges: list[MemberBadge] = strawberry.field(
        resolver=member_badges, description="Badges the member holds, first awarded first."
    )

    @strawberry.field(description="The current tier; null before the programme has tiers.")
    async def tier(self, info: strawberry.Info) -> Tier | None:
        tier = await resolvers.tier_of(info, self.tier_id)
        return Tier.from_view(tier) if tier else None

    @classmethod
    async def resolve_nodes(
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Member | None]:
        rows = await resolvers.members_by_ids(info, [int(i) for i in node_ids])
        return [cls.from_row(r) if r is not None else None for r in rows]


@strawberry.input(description="Consent flags.")
class ConsentInput:
    marketing: bool = strawberry.field(
        default=False, description="May the shop send marketing messages."
    )
    profiling: bool = strawberry.field(
        default=False, description="May purchase history be used for recommendations."
    )


@strawberry.input(description="A customer to enrol.")
class RegisterMemberInput:
    external_id: str = strawberry.field(
        description="The shop's own customer id, unique in the programme."
    )
    display_name: str = strawberry.field(description="Name to show (1-100 characters).")
    email: str | None = strawberry.field(default=None, description="Email address.")
    phone: str | None = strawberry.field(default=None, description="Phone number.")
    birthday: str | None = strawberry.field(default=None, description="MM-DD")
    consent: ConsentInput | None = strawberry.field(
        default=None, description="What the member agreed to; default: nothing."
    )
    idempotency_key: str = idempotency_key_field()


@strawberry.input(
    description="Fields left out stay as they are; null clears email, phone or birthday."
)
class UpdateMemberInput:
    member_external_id: str | None = strawberry.field(
        default=None, description="Which member; a member token may leave it out for itself."
    )
    external_id: str | None = strawberry.field(
        default=None,
        description="Which member (the older name of memberExternalId).",
        deprecation_reason=EXTERNAL_ID_DEPRECATED,
    )
    display_name: str | None = strawberry.field(
        default=strawberry.UNSET, description="New name to show."
    )
    email: str | None = strawberry.field(
        default=strawberry.UNSET, description="New email; null clears it."
    )
    phone: str | None = strawberry.field(
        default=strawberry.UNSET, description="New phone; null clears it."
    )
    birthday: str | None = strawberry.field(
        default=strawberry.UNSET, description="New birthday, MM-DD; null clears it."
    )
    marketing_consent: bool | None = strawberry.field(
        default=strawberry.UNSET, description="New marketing consent."
    )
    profiling_consent: bool | None = strawberry.field(
        default=strawberry.UNSET, description="New profiling consent."
    )


@strawberry.type(description="The member registered.")
class RegisterMemberSuccess:
    member: Member = strawberry.field(
        description="The new member (or the one the same key registered)."
    )


@strawberry.type(description=error_description("RegisterMemberError"))
class RegisterMemberError(MutationError):
    pass


@strawberry.type(description="The member changed.")
class UpdateMemberSuccess:
    member: Member = strawberry.field(description="The member as it is now.")


@strawberry.type(description=error_description("UpdateMemberError"))
class UpdateMemberError(MutationError):
    pass


RegisterMemberResult = Annotated[
    RegisterMemberSuccess | RegisterMemberError,
    strawberry.union("RegisterMemberResult", description=union_description("RegisterMemberResult")),
]
UpdateMemberResult = Annotated[
    UpdateMemberSuccess | UpdateMemberError,
    strawberry.union("UpdateMemberResult", description=union_description("UpdateMemberResult")),
]


def _given(value: object) -> bool:
    return value is not strawberry.UNSET


def _update_profile(input: Annotated[UpdateMemberInput, MUTATION_INPUT]) -> ProfileInput:
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


@strawberry.type(
    description=(
        "A page of members, in join order. No totalCount: counting a "
        "programme's members reads every one of them."
    )
)
class MemberConnection(relay.Connection[Member]):
    pass


@strawberry.type
class MemberQuery:
    @strawberry.field(description="A member by the shop's id; null when there is none you may see.")
    async def member(
        self,
        info: strawberry.Info,
        external_id: Annotated[str, strawberry.argument(description="The shop's own customer id.")],
    ) -> Member | None:
        row = await resolvers.member(info, external_id)
        return Member.from_row(row) if row else None

    @strawberry.field(
        description="Members in the order they joined. Staff keys only; `segment` (admin "
        "keys) keeps those in one lifecycle segment as of the last build."
    )
    async def members(
        self,
        info: strawberry.Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
        last: Annotated[int | None, strawberry.argument(description=LAST)] = None,
        before: Annotated[str | None, strawberry.argument(description=BEFORE)] = None,
        segment: Annotated[
            LifecycleSegment | None,
            strawberry.argument(description="Admin keys: only members in this segment (forward)."),
        ] = None,
    ) -> MemberConnection:
        rows, more = await resolvers.members_page(info, first, after, last, before, segment=segment)
        edges = [Edge(Member.from_row(r), r, resolvers.cursor_for) for r in rows]
        return MemberConnection(
            edges=edges, page_info=page_info(edges, more, after, last=last, before=before)
        )

    @strawberry.field(description="The member a member token belongs to; null for API keys.")
    async def viewer(self, info: strawberry.Info) -> Member | None:
        row = await resolvers.viewer(info)
        return Member.from_row(row) if row else None


@strawberry.type
class MemberMutation:
    @strawberry.mutation(description="Storefront or admin: enrol a customer in the programme.")
    async def register_member(
        self, info: strawberry.Info, input: Annotated[RegisterMemberInput, MUTATION_INPUT]
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
        self, info: strawberry.Info, input: Annotated[UpdateMemberInput, MUTATION_INPUT]
    ) -> UpdateMemberResult:
        async def call() -> Any:
            member = either(
                input.member_external_id,
                input.external_id,
                new_name="memberExternalId",
                old_name="externalId",
            )
            return await resolvers.update(info, external_id=member, profile=_update_profile(input))

        return await result_of(
            call(), lambda m: UpdateMemberSuccess(member=Member.from_row(m)), UpdateMemberError
        )
