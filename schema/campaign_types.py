"""Campaign types: a campaign as an admin reads it back, its parts, and its results."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import strawberry
from strawberry import relay

from db.models import Campaign as CampaignRow
from domain import campaigns as domain
from domain.recommendations.rfm import Lifecycle
from resolvers import campaigns as resolvers
from schema.describe import describe_values
from schema.points_types import PaymentMethod
from schema.recommendation_types import LifecycleSegment
from services.campaigns.admin import editable_of
from services.campaigns.results import CampaignResults as Results
from services.campaigns.results import results_of

CampaignStatus = strawberry.enum(
    domain.CampaignStatus, name="CampaignStatus", description="Where a campaign is in its life."
)
describe_values(
    CampaignStatus,
    {
        "DRAFT": "Written, not yet running: every field may change (activateCampaign starts it).",
        "ACTIVE": "Applies to facts in its window; only safe fields may change.",
        "PAUSED": "Applies to nothing until activated again; only safe fields may change.",
        "ENDED": "Over for good: it changes no more.",
    },
)
CampaignTrigger = strawberry.enum(
    domain.Trigger, name="CampaignTrigger", description="The fact a campaign rewards."
)
describe_values(
    CampaignTrigger,
    {
        "ORDER": "An order recorded; its points follow the order (pending, completed, returned).",
        "CHECK_IN": "A daily check-in.",
        "REVIEW": "A review of a bought line.",
        "REFERRAL": "The referrer's reward, when the referred member's order completes.",
        "REGISTRATION": "A member's registration.",
    },
)
CampaignStacking = strawberry.enum(
    domain.Stacking, name="CampaignStacking", description="How a campaign combines with others."
)
describe_values(
    CampaignStacking,
    {
        "EXCLUSIVE": "Applies alone: the exclusive campaign worth most to the member wins "
        "(ties: higher priority), unless the stackable ones together are worth more.",
        "STACKABLE": "Adds to the other stackable campaigns.",
    },
)
CampaignCapPeriod = strawberry.enum(
    domain.CapPeriod,
    name="CampaignCapPeriod",
    description="The period of a member's per-period cap, in the programme's time zone.",
)
describe_values(
    CampaignCapPeriod,
    {"DAY": "A local day.", "WEEK": "Monday to Sunday.", "MONTH": "A calendar month."},
)
OrderChannel = strawberry.enum(
    domain.Channel, name="OrderChannel", description="Where an order was placed."
)
describe_values(OrderChannel, {"ONLINE": "Online.", "OFFLINE": "In a physical store."})


@strawberry.type(description="Days a campaign runs on, within its window; empty: every day.")
class CampaignRecurrence:
    weekdays: list[int] = strawberry.field(description="ISO weekdays: 1 Monday ... 7 Sunday.")
    month_days: list[int] = strawberry.field(description="Days of the month, 1-31 (8: the 8th).")
    dates: list[date] = strawberry.field(description="Specific dates.")


@strawberry.type(description="Whom a campaign rewards: every criterion given must hold.")
class CampaignAudience:
    tiers: list[str] = strawberry.field(description="Tier codes; empty: every tier.")
    segments: list[LifecycleSegment] = strawberry.field(  # type: ignore[valid-type]
        description="Lifecycle segments; empty: every segment."
    )
    joined_within_days: int | None = strawberry.field(
        description="Members who joined at most this many days before the fact."
    )
    nth_order: int | None = strawberry.field(description="The member's Nth order (1: first).")
    birthday_month: bool = strawberry.field(description="Members in their birthday month.")


@strawberry.type(description="What an order must be (orders only).")
class CampaignConditions:
    min_spend: int = strawberry.field(description="Eligible lines reach this (minor units).")
    categories: list[str] = strawberry.field(description="Eligible categories; empty: all.")
    skus: list[str] = strawberry.field(description="Eligible skus; empty: all.")
    excluded_payment_methods: list[PaymentMethod] = strawberry.field(  # type: ignore[valid-type]
        description="The order qualifies only if it uses none of these."
    )
    channels: list[OrderChannel] = strawberry.field(  # type: ignore[valid-type]
        description="Where the order was placed; empty: anywhere."
    )


@strawberry.type(description="What a campaign gives.")
class CampaignEffects:
    multiplier: int = strawberry.field(
        description="Basis points on eligible lines' base points: 20000 = double (adds 1x)."
    )
    bonus_per_order: int = strawberry.field(description="Points per rewarded order (or fact).")
    bonus_per_item: int = strawberry.field(description="Points per eligible item.")
    coupon_template: str | None = strawberry.field(
        description="The code of the coupon template issued per rewarded order (or fact)."
    )


@strawberry.type(description="How much a campaign may give; null: no limit.")
class CampaignLimits:
    budget: int | None = strawberry.field(description="Total points, net of take-backs.")
    member_cap: int | None = strawberry.field(description="Points per member, whole campaign.")
    member_period_cap: int | None = strawberry.field(description="Points per member per period.")
    cap_period: CampaignCapPeriod | None = strawberry.field(  # type: ignore[valid-type]
        description="The period of memberPeriodCap."
    )
    max_rewarded_orders: int | None = strawberry.field(
        description="Most rewarded orders (or facts) per member."
    )


@strawberry.type(description="What a campaign has given so far, for evaluating its effect.")
class CampaignResults:
    points_awarded: int = strawberry.field(
        description="Every point it gave: pointsPending + pointsAvailable + pointsReversed."
    )
    points_pending: int = strawberry.field(
        description="Of orders still pending (their return window open), net of returns."
    )
    points_available: int = strawberry.field(
        description="Of completed orders and other facts, net of returns."
    )
    points_reversed: int = strawberry.field(
        description="Taken back by returns, and the awards of cancelled orders."
    )
    orders_rewarded: int = strawberry.field(description="Orders it rewarded, not cancelled.")
    members_rewarded: int = strawberry.field(description="Members with an award not cancelled.")
    budget: int | None = strawberry.field(description="Its budget; null: none.")
    budget_spent: int = strawberry.field(description="Points spent of it, net of take-backs.")
    budget_left: int | None = strawberry.field(description="What is left; null: no budget.")
    spend_of_rewarded_orders: int = strawberry.field(
        description="The amount of the orders it rewarded, not cancelled (minor units)."
    )
    coupons_issued: int = strawberry.field(description="Coupons it issued.")

    @classmethod
    def from_service(cls, r: Results) -> CampaignResults:
        t = r.totals
        return cls(
            points_awarded=t.awarded,
            points_pending=t.pending,
            points_available=t.available,
            points_reversed=t.reversed,
            orders_rewarded=t.orders_rewarded,
            members_rewarded=t.members_rewarded,
            budget=r.budget,
            budget_spent=r.budget_spent,
            budget_left=r.budget_left,
            spend_of_rewarded_orders=t.spend,
            coupons_issued=t.coupons_issued,
        )


def _sorted(values: Iterable[object]) -> list[object]:
    return sorted(values, key=str)


@strawberry.type(description="A time-boxed earning rule: when, who, on what, what it gives.")
class Campaign(relay.Node):
    id: relay.NodeID[int]
    code: str = strawberry.field(description="Unique in the programme; what campaignCode names.")
    name: str = strawberry.field(description="Display name.")
    description: str = strawberry.field(description="Notes for staff.")
    status: CampaignStatus = strawberry.field(  # type: ignore[valid-type]
        description="DRAFT, ACTIVE, PAUSED or ENDED."
    )
    trigger: CampaignTrigger = strawberry.field(  # type: ignore[valid-type]
        description="The fact it rewards."
    )
    stacking: CampaignStacking = strawberry.field(  # type: ignore[valid-type]
        description="Alone or with others."
    )
    priority: int = strawberry.field(description="Higher first, among exclusive ones that tie.")
    starts_at: datetime = strawberry.field(description="Its window starts (inclusive).")
    ends_at: datetime = strawberry.field(description="Its window ends (exclusive).")
    recurrence: CampaignRecurrence = strawberry.field(description="Days within the window.")
    audience: CampaignAudience = strawberry.field(description="Whom it rewards.")
    conditions: CampaignConditions = strawberry.field(description="What an order must be.")
    effects: CampaignEffects = strawberry.field(description="What it gives.")
    limits: CampaignLimits = strawberry.field(description="How much it may give.")
    budget_spent: int = strawberry.field(description="Budget points spent, net of take-backs.")
    budget_left: int | None = strawberry.field(description="Budget left; null: no budget.")
    created_at: datetime = strawberry.field(description="When it was created.")
    activated_at: datetime | None = strawberry.field(description="When it was first activated.")
    ended_at: datetime | None = strawberry.field(description="When it was ended.")
    row: strawberry.Private[CampaignRow]

    @classmethod
    def from_row(cls, row: CampaignRow) -> Campaign:
        e = editable_of(row)
        c = e.campaign
        s, a, k, f, lim = c.schedule, c.audience, c.conditions, c.effects, c.limits
        found = results_of(row, None)
        return cls(
            id=row.id,
            code=c.code,
            name=c.name,
            description=e.description,
            status=c.status,
            trigger=c.trigger,
            stacking=c.stacking,
            priority=c.priority,
            starts_at=s.starts_at,
            ends_at=s.ends_at,
            recurrence=CampaignRecurrence(
                weekdays=sorted(s.weekdays), month_days=sorted(s.month_days), dates=sorted(s.dates)
            ),
            audience=CampaignAudience(
                tiers=sorted(a.tiers),
                segments=[Lifecycle(v) for v in sorted(a.segments)],
                joined_within_days=a.joined_within_days,
                nth_order=a.nth_order,
                birthday_month=a.birthday_month,
            ),
            conditions=CampaignConditions(
                min_spend=k.min_spend,
                categories=sorted(k.categories),
                skus=sorted(k.skus),
                excluded_payment_methods=_sorted(k.excluded_payment_methods),
                channels=_sorted(k.channels),
            ),
            effects=CampaignEffects(
                multiplier=f.multiplier,
                bonus_per_order=f.bonus_per_order,
                bonus_per_item=f.bonus_per_item,
                coupon_template=f.coupon_template,
            ),
            limits=CampaignLimits(
                budget=lim.budget,
                member_cap=lim.member_cap,
                member_period_cap=lim.member_period_cap,
                cap_period=lim.cap_period,
                max_rewarded_orders=lim.max_rewarded_orders,
            ),
            budget_spent=row.budget_spent,
            budget_left=found.budget_left,
            created_at=row.created_at,
            activated_at=row.activated_at,
            ended_at=row.ended_at,
            row=row,
        )

    @strawberry.field(
        description="Points it gave (pending, available, reversed), orders and members "
        "rewarded, its budget, and the spend of the orders it rewarded. One query for a page "
        "of campaigns."
    )
    async def results(self, info: strawberry.Info) -> CampaignResults:
        totals = await info.context.loaders.campaign_totals.load(self.row.id)
        return CampaignResults.from_service(results_of(self.row, totals))

    @classmethod
    async def resolve_nodes(
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Campaign | None]:
        ids = [int(i) for i in node_ids]
        found = await resolvers.by_ids(info, ids)
        return [cls.from_row(found[i]) if i in found else None for i in ids]


@strawberry.type(description="A page of campaigns, oldest first.")
class CampaignConnection(relay.Connection[Campaign]):
    pass
