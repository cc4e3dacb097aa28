"""Coupon types: templates, coupons in a wallet, and what a coupon does to a cart."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime

import strawberry
from strawberry import relay

from db.models import CouponTemplate as TemplateRow
from domain import coupons as domain_coupons
from domain.coupons.wallet import Source
from resolvers import coupons as resolvers
from resolvers.ids import BIGINT_MAX
from schema.describe import describe_values
from services.coupons.checkout import CodeCheck
from services.coupons.wallet import CouponView

CouponKind = strawberry.enum(
    domain_coupons.CouponKind, name="CouponKind", description="What a coupon takes off."
)
describe_values(
    CouponKind,
    {
        "AMOUNT_OFF": "`amountOff` minor units off eligible lines that reach `threshold`.",
        "PERCENT_OFF": "`percentOff` basis points off eligible lines, at most `cap`.",
        "NO_THRESHOLD": "`amountOff` minor units off, whatever the cart.",
        "FREE_SHIPPING": "The shipping fee.",
        "GIFT": "A free `giftSku`.",
    },
)
CouponStatus = strawberry.enum(
    domain_coupons.CouponStatus,
    name="CouponStatus",
    description="Where a coupon is in its life, as of the programme's clock.",
)
describe_values(
    CouponStatus,
    {
        "AVAILABLE": "May be used.",
        "LOCKED": "Reserved for an order (lockCoupon) until `lockedUntil`.",
        "USED": "Used on an order.",
        "EXPIRED": "Past `expiresAt`, unused.",
    },
)
CouponSource = strawberry.enum(
    Source, name="CouponSource", description="How a member got a coupon."
)
describe_values(
    CouponSource,
    {
        "CLAIM": "Claimed for free.",
        "GRANT": "Granted by an admin.",
        "EXCHANGE": "Bought with points.",
        "MONTHLY_ALLOWANCE": "The tier's monthly allowance.",
        "BIRTHDAY": "A birthday coupon.",
        "CAMPAIGN": "Given by a campaign for an order or another fact that qualified.",
        "CHALLENGE": "The reward of a challenge the member completed.",
    },
)
CouponAutoIssue = strawberry.enum(
    domain_coupons.AutoIssue,
    name="CouponAutoIssue",
    description="Whether run-jobs issues a template by itself.",
)
describe_values(
    CouponAutoIssue,
    {
        "NONE": "Only by claim, exchange or grant.",
        "MONTHLY_ALLOWANCE": "Each month, to tiers with MONTHLY_COUPONS.",
        "BIRTHDAY": "In each member's birthday month.",
    },
)
CouponTemplateStatus = strawberry.enum(
    domain_coupons.TemplateStatus,
    name="CouponTemplateStatus",
    description="Whether a template still issues coupons.",
)
describe_values(
    CouponTemplateStatus,
    {
        "ACTIVE": "Issues coupons.",
        "RETIRED": "Issues none; issued coupons stay usable.",
    },
)
CouponReason = strawberry.enum(
    domain_coupons.Reason, name="CouponReason", description="Why a coupon does not apply."
)
describe_values(
    CouponReason,
    {
        "BELOW_THRESHOLD": "Eligible lines fall short of the threshold.",
        "NOT_ELIGIBLE_TIER": "The member's tier may not use it.",
        "CATEGORY_MISMATCH": "No line is eligible.",
        "NOT_STARTED": "It may not be used yet.",
        "EXPIRED": "It has expired.",
        "NOT_STACKABLE": "It does not combine with the other codes.",
        "USED": "It was used.",
        "LOCKED": "It is locked to another order.",
        "NOT_OWNER": "It is another member's.",
        "NO_SHIPPING_FEE": "A FREE_SHIPPING coupon on a cart without a fee.",
        "UNKNOWN_CODE": "No coupon has this code.",
    },
)


@strawberry.type(description="What a coupon is worth, who may have it and how it is issued.")
class CouponTemplate(relay.Node):
    id: relay.NodeID[int]
    code: str = strawberry.field(description="Unique in the programme; what templateCode names.")
    title: str = strawberry.field(description="Display name.")
    kind: CouponKind = strawberry.field(description="What the coupon takes off.")
    amount_off: int = strawberry.field(description="Minor units (AMOUNT_OFF, NO_THRESHOLD).")
    percent_off: int = strawberry.field(description="Basis points: 1500 = 15% (PERCENT_OFF).")
    cap: int | None = strawberry.field(description="Most a PERCENT_OFF coupon takes off.")
    threshold: int = strawberry.field(description="Eligible lines must reach this (minor units).")
    gift_sku: str | None = strawberry.field(description="The gift's sku (GIFT).")
    valid_from: datetime | None = strawberry.field(description="Coupons may be used from then.")
    valid_until: datetime | None = strawberry.field(description="Coupons may be used until then.")
    valid_days: int | None = strawberry.field(description="Or: valid this many days from issue.")
    total_stock: int | None = strawberry.field(description="Null: no cap.")
    stock_left: int | None = strawberry.field(description="Coupons left to issue; null: no cap.")
    issued: int = strawberry.field(description="Coupons issued so far.")
    per_member_limit: int | None = strawberry.field(
        description="Most coupons one member may hold from it; null: no limit."
    )
    eligible_categories: list[str] = strawberry.field(description="Empty: every category.")
    eligible_skus: list[str] = strawberry.field(description="Empty: every sku.")
    stackable: bool = strawberry.field(description="May be used with other stackable coupons.")
    points_price: int | None = strawberry.field(description="Sold for this many points.")
    claimable: bool = strawberry.field(description="Members may claim it for free.")
    auto_issue: CouponAutoIssue = strawberry.field(
        description="Whether run-jobs issues it by itself."
    )
    status: CouponTemplateStatus = strawberry.field(description="ACTIVE or RETIRED.")
    created_at: datetime = strawberry.field(description="When it was created.")
    retired_at: datetime | None = strawberry.field(description="When it was retired, if it was.")
    tier_ids: strawberry.Private[list[int]]

    @classmethod
    def from_row(cls, row: TemplateRow) -> CouponTemplate:
        return cls(
            id=row.id,
            code=row.code,
            title=row.title,
            kind=domain_coupons.CouponKind(row.kind),
            amount_off=row.amount,
            percent_off=row.percent,
            cap=row.cap,
            threshold=row.threshold,
            gift_sku=row.gift_sku,
            valid_from=row.valid_from,
            valid_until=row.valid_until,
            valid_days=row.valid_days,
            total_stock=row.total_stock,
            stock_left=row.stock_left,
            issued=row.issued,
            per_member_limit=row.per_member_limit,
            eligible_categories=list(row.eligible_categories),
            eligible_skus=list(row.eligible_skus),
            stackable=row.stackable,
            points_price=row.points_price,
            claimable=row.claimable,
            auto_issue=domain_coupons.AutoIssue(row.auto_issue),
            status=domain_coupons.TemplateStatus(row.status),
            created_at=row.created_at,
            retired_at=row.retired_at,
            tier_ids=list(row.eligible_tiers),
        )

    @strawberry.field(description="Tiers that may use it, by code; empty: every tier.")
    async def eligible_tier_codes(self, info: strawberry.Info) -> list[str]:
        if not self.tier_ids:
            return []
        tiers = {t.id: t.code for t in await info.context.loaders.tiers()}
        return [tiers[i] for i in self.tier_ids if i in tiers]

    @classmethod
    async def resolve_nodes(
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[CouponTemplate | None]:
        ids = [int(i) for i in node_ids]
        found = await resolvers.templates_by_ids(info, ids)
        return [cls.from_row(found[i]) if i in found else None for i in ids]


@strawberry.type(description="A page of coupon templates.")
class CouponTemplateConnection(relay.Connection[CouponTemplate]):
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(
        description="Templates the caller may list, on every page (a programme has tens)."
    )
    async def total_count(self) -> int:
        return await self.count()


_SOURCES = {s.value: s for s in Source}  # by value, as Source(value) finds them


@strawberry.type(description="One coupon in a member's wallet.")
class Coupon(relay.Node):
    max_id = BIGINT_MAX

    id: relay.NodeID[int]
    code: str = strawberry.field(description="What the member types or scans at checkout.")
    status: CouponStatus = strawberry.field(description="As of the programme's clock now.")
    source: CouponSource = strawberry.field(description="How the member got it.")
    issued_at: datetime = strawberry.field(description="When it was issued.")
    starts_at: datetime | None = strawberry.field(
        description="It may be used from then; null: at once."
    )
    expires_at: datetime = strawberry.field(description="It may be used until then.")
    order_id: str | None = strawberry.field(description="The order it is locked to or used on.")
    locked_until: datetime | None = strawberry.field(
        description="When a lock on it lapses, if locked."
    )
    discount: int | None = strawberry.field(
        description="What it took off the cart it was locked with (minor units)."
    )
    used_at: datetime | None = strawberry.field(description="When it was used, if it was.")
    template: CouponTemplate = strawberry.field(description="What the coupon is.")

    @classmethod
    def from_view(
        cls, coupon: CouponView, templates: dict[int, CouponTemplate] | None = None
    ) -> Coupon:
        """`templates`: shared by the coupons of one page, so a wallet of 20 coupons of one
        template converts that template once."""
        row = coupon.row
        template = templates.get(row.template_id) if templates is not None else None
        if template is None:
            template = CouponTemplate.from_row(row.template)
            if templates is not None:
                templates[row.template_id] = template
        live_lock = coupon.status is domain_coupons.CouponStatus.LOCKED
        used = coupon.status is domain_coupons.CouponStatus.USED
        return cls(
            id=row.id,
            code=row.code,
            status=coupon.status,
            source=_SOURCES.get(row.source) or Source(row.source),
            issued_at=row.issued_at,
            starts_at=row.starts_at,
            expires_at=row.ends_at,
            order_id=row.order_ref if live_lock or used else None,
            locked_until=row.lock_expires_at if live_lock else None,
            discount=row.discount if live_lock or used else None,
            used_at=row.used_at,
            template=template,
        )

    @classmethod
    async def resolve_nodes(
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Coupon | None]:
        ids = [int(i) for i in node_ids]
        found = await resolvers.coupons_by_ids(info, ids)
        return [cls.from_view(found[i]) if i in found else None for i in ids]


@strawberry.type(description="A page of a member's coupon wallet.")
class CouponConnection(relay.Connection[Coupon]):
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(
        description="Coupons in the wallet (in `status`, as of now): one count on the "
        "member's coupons."
    )
    async def total_count(self) -> int:
        return await self.count()


@strawberry.type(description="What one code does to the cart, or every reason it does not.")
class CouponCheck:
    code: str = strawberry.field(description="The code tried.")
    applies: bool = strawberry.field(description="Whether it applies to the cart.")
    discount: int = strawberry.field(description="Off the items (minor units).")
    shipping_discount: int = strawberry.field(description="Off the shipping fee, in minor units.")
    gift_sku: str | None = strawberry.field(
        description="The gift's sku, for a GIFT coupon that applies."
    )
    reasons: list[CouponReason] = strawberry.field(
        description="Why it does not apply; empty when it does."
    )
    coupon: Coupon | None = strawberry.field(
        description="The member's coupon; null for an unknown code or another member's."
    )

    @classmethod
    def from_domain(cls, check: CodeCheck) -> CouponCheck:
        o = check.outcome
        return cls(
            code=check.code,
            applies=o.applies,
            discount=o.discount,
            shipping_discount=o.shipping_discount,
            gift_sku=o.gift_sku,
            reasons=list(o.reasons),
            coupon=Coupon.from_view(check.coupon) if check.coupon else None,
        )
