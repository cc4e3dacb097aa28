"""Abuse controls (issue 18.6): earning caps, the order velocity rule, flags and decisions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry import relay

from db.models import AbuseFlag as FlagRow
from domain import abuse as domain
from resolvers import abuse as resolvers
from schema.describe import describe_values
from schema.errors import MUTATION_INPUT, error_type, result_of, result_union
from schema.members import Member
from schema.pagination import Edge, page_info
from schema.points import node_id

AbuseSource = strawberry.enum(
    domain.Source, name="AbuseSource", description="Where earned points come from."
)
CapPeriod = strawberry.enum(
    domain.Period, name="CapPeriod", description="A local day, or a week from Monday."
)
FlagStatus = strawberry.enum(
    domain.FlagStatus, name="FlagStatus", description="Waiting, released or refused."
)
describe_values(
    AbuseSource,
    {
        "ORDER": "Points earned by orders.",
        "CHECK_IN": "Points earned by daily check-ins.",
        "REVIEW": "Points earned by reviews.",
        "REFERRAL": "Points earned by referring members.",
        "PARTNER_IN": "Points credited by partners (creditFromPartner); the excess is held.",
    },
)
describe_values(
    CapPeriod,
    {
        "DAY": "The programme's local day.",
        "WEEK": "The programme's local week, from Monday.",
    },
)
describe_values(
    FlagStatus,
    {
        "OPEN": "Waiting for an admin; any held points are not credited.",
        "APPROVED": "An admin released the held points.",
        "REJECTED": "An admin refused the held points; they stay uncredited.",
    },
)


@strawberry.type(description="At most `points` from `source` per `period` for one member.")
class AbuseCap:
    source: AbuseSource = strawberry.field(description="Which earnings count.")
    period: CapPeriod = strawberry.field(description="Over which period.")
    points: int = strawberry.field(description="The most credited; the rest waits for review.")


@strawberry.type(description="More than `orders` orders within `minutes` flags the member.")
class OrderVelocity:
    orders: int = strawberry.field(description="Orders allowed in the window.")
    minutes: int = strawberry.field(description="The window, in minutes.")


@strawberry.type(description="Returns taking back over `percent` of `days` days' order points.")
class ReturnRatio:
    percent: int = strawberry.field(description="Share of earned order points, 1-100.")
    days: int = strawberry.field(description="The window, in days.")


@strawberry.type(description="The programme's abuse controls.")
class AbusePolicy:
    caps: list[AbuseCap] = strawberry.field(description="Earning caps.")
    order_velocity: OrderVelocity | None = strawberry.field(
        description="The order velocity rule; null: none."
    )
    referrals_per_day: int | None = strawberry.field(
        description="More referrals than this from one inviter in a day flags the inviter."
    )
    return_ratio: ReturnRatio | None = strawberry.field(description="The returns rule; null: none.")

    @classmethod
    def from_domain(cls, policy: domain.AbusePolicy) -> AbusePolicy:
        velocity = policy.order_velocity
        return cls(
            caps=[AbuseCap(source=c.source, period=c.period, points=c.points) for c in policy.caps],
            order_velocity=None
            if velocity is None
            else OrderVelocity(orders=velocity.orders, minutes=velocity.minutes),
            referrals_per_day=policy.referrals_per_day,
            return_ratio=None
            if policy.return_ratio is None
            else ReturnRatio(percent=policy.return_ratio.percent, days=policy.return_ratio.days),
        )


@strawberry.input(description="One earning cap.")
class AbuseCapInput:
    source: AbuseSource = strawberry.field(description="Which earnings count.")
    period: CapPeriod = strawberry.field(description="Over which period.")
    points: int = strawberry.field(description="The most credited, 0 or more.")


@strawberry.input(description="The order velocity rule.")
class OrderVelocityInput:
    orders: int = strawberry.field(description="Orders allowed in the window, 1-1000.")
    minutes: int = strawberry.field(description="The window in minutes, 1-10080.")


@strawberry.input(description="The returns rule.")
class ReturnRatioInput:
    percent: int = strawberry.field(description="Share of earned order points, 1-100.")
    days: int = strawberry.field(default=30, description="The window in days, 1-365.")


@strawberry.input(description="The whole abuse policy; it replaces the one before.")
class SetAbusePolicyInput:
    caps: list[AbuseCapInput] = strawberry.field(description="Earning caps (may be empty).")
    order_velocity: OrderVelocityInput | None = strawberry.field(
        default=None, description="Leave out for no velocity rule."
    )
    referrals_per_day: int | None = strawberry.field(
        default=None, description="Referrals one inviter may bring in a day before a flag."
    )
    return_ratio: ReturnRatioInput | None = strawberry.field(
        default=None, description="Leave out for no returns rule."
    )

    def to_domain(self) -> domain.AbusePolicy:
        velocity = self.order_velocity
        return domain.AbusePolicy(
            caps=tuple(
                domain.Cap(domain.Source(c.source), domain.Period(c.period), c.points)
                for c in self.caps
            ),
            order_velocity=None
            if velocity is None
            else domain.OrderVelocity(velocity.orders, velocity.minutes),
            referrals_per_day=self.referrals_per_day,
            return_ratio=None
            if self.return_ratio is None
            else domain.ReturnRatio(self.return_ratio.percent, self.return_ratio.days),
        )


@strawberry.type(description="A member flagged by a rule, once per rule and period.")
class AbuseFlag(relay.Node):
    id: relay.NodeID[int]
    rule: str = strawberry.field(
        description="The rule that fired, e.g. CAP_REVIEW_DAY or ORDER_VELOCITY."
    )
    period: str = strawberry.field(
        description="The period it covers, e.g. DAY:2026-12-02 or WEEK:2026-11-30."
    )
    points_held: int = strawberry.field(description="Earned over the cap, waiting.")
    status: FlagStatus = strawberry.field(description="OPEN until an admin decides.")
    decision_reason: str | None = strawberry.field(description="Why it was rejected.")
    created_at: datetime = strawberry.field(description="When the rule first fired.")
    decided_at: datetime | None = strawberry.field(description="When an admin decided.")
    row: strawberry.Private[FlagRow]

    @classmethod
    def from_row(cls, row: FlagRow) -> AbuseFlag:
        return cls(
            id=row.id,
            rule=row.rule,
            period=row.period,
            points_held=row.points_held,
            status=domain.FlagStatus(row.status),
            decision_reason=row.decision_reason,
            created_at=row.created_at,
            decided_at=row.decided_at,
            row=row,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: strawberry.Info, node_ids: list[str], required: bool = False
    ) -> list[AbuseFlag | None]:
        rows = await resolvers.flags_by_ids(info, [int(i) for i in node_ids])
        by_id = {str(r.id): r for r in rows}
        return [cls.from_row(by_id[i]) if i in by_id else None for i in node_ids]

    @strawberry.field(description="The flagged member.")
    async def member(self, info: strawberry.Info) -> Member | None:
        found = await resolvers.member_of(info, self.row)
        return None if found is None else Member.from_row(found)


@strawberry.type(description="One flag of a page.")
class AbuseFlagEdge:
    cursor: str = strawberry.field(description="Pass as `after` for the next page.")
    node: AbuseFlag = strawberry.field(description="The flag.")


@strawberry.type(description="Flags, newest first.")
class AbuseFlagConnection:
    edges: list[AbuseFlagEdge] = strawberry.field(description="The flags of this page.")
    page_info: relay.PageInfo = strawberry.field(description="Whether there is more.")


@strawberry.input(description="The flag to release.")
class ApproveFlagInput:
    id: relay.GlobalID = strawberry.field(description="The flag's global id.")
    idempotency_key: str = strawberry.field(description="A retry with it changes nothing.")


@strawberry.input(description="The flag to refuse, and why.")
class RejectFlagInput:
    id: relay.GlobalID = strawberry.field(description="The flag's global id.")
    reason: str = strawberry.field(description="Why, 1-200 characters.")
    idempotency_key: str = strawberry.field(description="A retry with it changes nothing.")


@strawberry.type(description="The decided flag.")
class FlagSuccess:
    flag: AbuseFlag = strawberry.field(description="The flag, decided.")


@strawberry.type(description="The policy now in force.")
class SetAbusePolicySuccess:
    policy: AbusePolicy = strawberry.field(description="The policy.")


ApproveFlagError = error_type("ApproveFlagError")
RejectFlagError = error_type("RejectFlagError")
SetAbusePolicyError = error_type("SetAbusePolicyError")
ApproveFlagResult = result_union("ApproveFlagResult", FlagSuccess, ApproveFlagError)
RejectFlagResult = result_union("RejectFlagResult", FlagSuccess, RejectFlagError)
SetAbusePolicyResult = result_union(
    "SetAbusePolicyResult", SetAbusePolicySuccess, SetAbusePolicyError
)


@strawberry.type
class AbuseQuery:
    @strawberry.field(description="Admin: the programme's earning caps and velocity rule.")
    async def abuse_policy(self, info: strawberry.Info) -> AbusePolicy:
        return AbusePolicy.from_domain(await resolvers.policy(info))

    @strawberry.field(description="Admin: members flagged by abuse rules, newest first.")
    async def abuse_flags(
        self,
        info: strawberry.Info,
        first: Annotated[int, strawberry.argument(description="Page size, 1-100.")],
        after: Annotated[
            str | None, strawberry.argument(description="The cursor of the last flag seen.")
        ] = None,
        status: Annotated[
            FlagStatus | None, strawberry.argument(description="Only flags in this status.")
        ] = None,
    ) -> AbuseFlagConnection:
        rows, has_next = await resolvers.flags(info, status=status, first=first, after=after)
        edges: list[Any] = [Edge(AbuseFlag.from_row(r), r, resolvers.cursor_for) for r in rows]
        return AbuseFlagConnection(edges=edges, page_info=page_info(edges, has_next, after))


@strawberry.type
class AbuseMutation:
    @strawberry.mutation(description="Admin: replace the programme's abuse controls.")
    async def set_abuse_policy(
        self, info: strawberry.Info, input: Annotated[SetAbusePolicyInput, MUTATION_INPUT]
    ) -> SetAbusePolicyResult:
        return await result_of(
            resolvers.set_policy(info, input.to_domain()),
            lambda p: SetAbusePolicySuccess(policy=AbusePolicy.from_domain(p)),
            SetAbusePolicyError,
        )

    @strawberry.mutation(description="Admin: release a flag's held points to the member.")
    async def approve_flag(
        self, info: strawberry.Info, input: Annotated[ApproveFlagInput, MUTATION_INPUT]
    ) -> ApproveFlagResult:
        return await result_of(
            resolvers.approve(
                info, node_id(input.id, "AbuseFlag", "id"), idempotency_key=input.idempotency_key
            ),
            lambda row: FlagSuccess(flag=AbuseFlag.from_row(row)),
            ApproveFlagError,
        )

    @strawberry.mutation(description="Admin: refuse a flag's held points; the reason is kept.")
    async def reject_flag(
        self, info: strawberry.Info, input: Annotated[RejectFlagInput, MUTATION_INPUT]
    ) -> RejectFlagResult:
        return await result_of(
            resolvers.reject(
                info,
                node_id(input.id, "AbuseFlag", "id"),
                reason=input.reason,
                idempotency_key=input.idempotency_key,
            ),
            lambda row: FlagSuccess(flag=AbuseFlag.from_row(row)),
            RejectFlagError,
        )
