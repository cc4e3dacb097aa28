"""Coupon queries and mutations: templates, the wallet, and the checkout flow."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry import relay

from domain import coupons as domain_coupons
from domain.coupons.templates import default_claimable
from domain.errors import invalid
from resolvers import coupons as resolvers
from schema.addressing import TEMPLATE_ID_DEPRECATED, then
from schema.coupon_types import (
    Coupon,
    CouponAutoIssue,
    CouponCheck,
    CouponKind,
    CouponTemplate,
    CouponTemplateConnection,
)
from schema.errors import MUTATION_INPUT, error_type, idempotency_key_field, result_of, result_union
from schema.members import Member
from schema.pagination import AFTER, BEFORE, FIRST, LAST, Edge, page_info
from schema.points import node_id, then_member
from services.coupons.checkout import Validation
from services.coupons.templates import TemplateInput


@strawberry.input(description="A new coupon template.")
class CreateCouponTemplateInput:
    code: str = strawberry.field(description="Unique in the programme: A-Z, 0-9, _ and -.")
    title: str = strawberry.field(description="Display name.")
    kind: CouponKind = strawberry.field(description="What the coupon takes off.")
    amount_off: int = strawberry.field(default=0, description="Minor units.")
    percent_off: int = strawberry.field(default=0, description="Basis points: 1500 = 15%.")
    cap: int | None = strawberry.field(
        default=None, description="Most a PERCENT_OFF coupon takes off, in minor units."
    )
    threshold: int = strawberry.field(
        default=0, description="Eligible lines must reach this, in minor units."
    )
    gift_sku: str | None = strawberry.field(default=None, description="The gift's sku (GIFT).")
    valid_from: datetime | None = strawberry.field(
        default=None, description="Coupons may be used from then."
    )
    valid_until: datetime | None = strawberry.field(
        default=None, description="Coupons may be used until then."
    )
    valid_days: int | None = strawberry.field(
        default=None, description="Instead of validFrom/validUntil: days from issue."
    )
    total_stock: int | None = strawberry.field(
        default=None, description="Most coupons to issue; null: no cap."
    )
    per_member_limit: int | None = strawberry.field(
        default=None, description="Most one member may hold; null: no limit."
    )
    eligible_tier_codes: list[str] = strawberry.field(
        description="Tiers that may use it; empty: every tier.", default_factory=list
    )
    eligible_categories: list[str] = strawberry.field(
        description="Categories it applies to; empty: every one.", default_factory=list
    )
    eligible_skus: list[str] = strawberry.field(
        description="Skus it applies to; empty: every sku.", default_factory=list
    )
    stackable: bool = strawberry.field(
        default=False, description="May combine with other stackable coupons."
    )
    points_price: int | None = strawberry.field(
        default=None, description="Sold for this many points; null: not for sale."
    )
    claimable: bool | None = strawberry.field(
        default=None,
        description="Members may claim it for free. Default: yes, unless it has a pointsPrice "
        "or an autoIssue (then it may not be).",
    )
    auto_issue: CouponAutoIssue = strawberry.field(
        default=domain_coupons.AutoIssue.NONE, description="Whether run-jobs issues it by itself."
    )
    idempotency_key: str = idempotency_key_field()

    def to_service(self) -> TemplateInput:
        rules = domain_coupons.Template(
            kind=domain_coupons.CouponKind(self.kind),
            amount=self.amount_off,
            percent=self.percent_off,
            cap=self.cap,
            threshold=self.threshold,
            gift_sku=self.gift_sku,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            valid_days=self.valid_days,
            total_stock=self.total_stock,
            per_member_limit=self.per_member_limit,
            eligible_categories=frozenset(self.eligible_categories),
            eligible_skus=frozenset(self.eligible_skus),
            stackable=self.stackable,
            points_price=self.points_price,
            claimable=self.claimable
            if self.claimable is not None
            else default_claimable(self.points_price, domain_coupons.AutoIssue(self.auto_issue)),
            auto_issue=domain_coupons.AutoIssue(self.auto_issue),
        )
        return TemplateInput(
            code=self.code,
            title=self.title,
            rules=rules,
            eligible_tier_codes=tuple(self.eligible_tier_codes),
        )


TEMPLATE_CODE = "The template, by the code it was created with."
TEMPLATE_ID = "The template, by its global id."


@strawberry.input(description="Which template to retire: templateCode (or templateId).")
class RetireCouponTemplateInput:
    template_code: str | None = strawberry.field(default=None, description=TEMPLATE_CODE)
    template_id: relay.GlobalID | None = strawberry.field(
        default=None, description=TEMPLATE_ID, deprecation_reason=TEMPLATE_ID_DEPRECATED
    )


@strawberry.input(description="A coupon for a member's wallet, from a template.")
class ClaimCouponInput:
    template_code: str | None = strawberry.field(default=None, description=TEMPLATE_CODE)
    template_id: relay.GlobalID | None = strawberry.field(
        default=None, description=TEMPLATE_ID, deprecation_reason=TEMPLATE_ID_DEPRECATED
    )
    member_external_id: str | None = strawberry.field(
        default=None, description="A member token may leave it out for itself."
    )
    idempotency_key: str = idempotency_key_field()


@strawberry.input(description="One coupon from a template to each of some members.")
class GrantCouponsInput:
    template_code: str | None = strawberry.field(default=None, description=TEMPLATE_CODE)
    template_id: relay.GlobalID | None = strawberry.field(
        default=None, description=TEMPLATE_ID, deprecation_reason=TEMPLATE_ID_DEPRECATED
    )
    member_external_ids: list[str] = strawberry.field(description="Who (1-1000 members).")
    idempotency_key: str = idempotency_key_field()


@strawberry.input(description="One cart line.")
class CartLineInput:
    sku: str = strawberry.field(description="The product's sku.")
    category: str = strawberry.field(description="The product's category.")
    unit_price: int = strawberry.field(description="Minor units per item.")
    quantity: int = strawberry.field(description="Items (1-10000).")


@strawberry.input(
    description="A cart's lines and fee (older lockCoupon input; CartInput is the one cart input)."
)
class CartContentsInput:
    lines: list[CartLineInput] = strawberry.field(description="What is in the cart (1-500 lines).")
    shipping_fee: int = strawberry.field(default=0, description="In minor units.")

    def to_domain(self) -> domain_coupons.Cart:
        return domain_coupons.Cart(
            tuple(
                domain_coupons.CartLine(x.sku, x.category, x.unit_price, x.quantity)
                for x in self.lines
            ),
            self.shipping_fee,
        )


@strawberry.input(
    description="A checkout cart: its lines, its shipping fee and whose it is. The one cart input."
)
class CartInput(CartContentsInput):
    member_external_id: str | None = strawberry.field(
        default=None, description="Whose cart; a member token may leave it out for itself."
    )


@strawberry.input(description="Reserve a coupon for one order.")
class LockCouponInput:
    code: str = strawberry.field(description="The coupon's code.")
    order_id: str = strawberry.field(description="The order to lock it to.")
    checkout_cart: CartInput | None = strawberry.field(
        default=None,
        description="When given, the coupon must apply to it (the cart validateCoupons takes; "
        "its memberExternalId, if given, must be the coupon's owner).",
    )
    cart: CartContentsInput | None = strawberry.field(
        default=None,
        description="When given, the coupon must apply to it.",
        deprecation_reason="Use checkoutCart: the one cart input (CartInput) every field takes.",
    )
    idempotency_key: str = idempotency_key_field()


@strawberry.input(description="A coupon and the order it is locked to.")
class CouponOrderInput:
    code: str = strawberry.field(description="The coupon's code.")
    order_id: str = strawberry.field(description="The order it is locked to.")
    idempotency_key: str = idempotency_key_field()


@strawberry.type(description="The template as it is now.")
class CouponTemplateSuccess:
    template: CouponTemplate = strawberry.field(description="The template.")


@strawberry.type(description="The coupon as the mutation left it.")
class CouponSuccess:
    coupon: Coupon = strawberry.field(description="The coupon.")


@strawberry.type(description="The coupon bought, and the member after paying.")
class ExchangePointsForCouponSuccess:
    coupon: Coupon = strawberry.field(description="The coupon.")
    member: Member = strawberry.field(description="The member as it is now.")


@strawberry.type(description="The coupons granted.")
class GrantCouponsSuccess:
    coupons: list[Coupon] = strawberry.field(description="One per member, in the order sent.")


@strawberry.type(description="Per code, in the order sent; totals over the codes that apply.")
class CouponValidation:
    results: list[CouponCheck] = strawberry.field(description="One per code, in the order sent.")
    discount: int = strawberry.field(
        description="Off the items, in minor units, over the codes that apply."
    )
    shipping_discount: int = strawberry.field(description="Off the shipping fee, in minor units.")

    @classmethod
    def from_service(cls, v: Validation) -> CouponValidation:
        return cls(
            results=[CouponCheck.from_domain(c) for c in v.checks],
            discount=v.discount,
            shipping_discount=v.shipping_discount,
        )


CreateCouponTemplateError = error_type("CreateCouponTemplateError")
RetireCouponTemplateError = error_type("RetireCouponTemplateError")
ClaimCouponError = error_type("ClaimCouponError")
ExchangePointsForCouponError = error_type("ExchangePointsForCouponError")
GrantCouponsError = error_type("GrantCouponsError")
ValidateCouponsError = error_type("ValidateCouponsError")
LockCouponError = error_type("LockCouponError")
RedeemCouponError = error_type("RedeemCouponError")
ReleaseCouponError = error_type("ReleaseCouponError")

CreateCouponTemplateResult = result_union(
    "CreateCouponTemplateResult", CouponTemplateSuccess, CreateCouponTemplateError
)
RetireCouponTemplateResult = result_union(
    "RetireCouponTemplateResult", CouponTemplateSuccess, RetireCouponTemplateError
)
ClaimCouponResult = result_union("ClaimCouponResult", CouponSuccess, ClaimCouponError)
ExchangePointsForCouponResult = result_union(
    "ExchangePointsForCouponResult", ExchangePointsForCouponSuccess, ExchangePointsForCouponError
)
GrantCouponsResult = result_union("GrantCouponsResult", GrantCouponsSuccess, GrantCouponsError)
ValidateCouponsResult = result_union(
    "ValidateCouponsResult", CouponValidation, ValidateCouponsError
)
LockCouponResult = result_union("LockCouponResult", CouponSuccess, LockCouponError)
RedeemCouponResult = result_union("RedeemCouponResult", CouponSuccess, RedeemCouponError)
ReleaseCouponResult = result_union("ReleaseCouponResult", CouponSuccess, ReleaseCouponError)


def _template(row: Any) -> CouponTemplateSuccess:
    return CouponTemplateSuccess(template=CouponTemplate.from_row(row))


def _coupon(view: Any) -> CouponSuccess:
    return CouponSuccess(coupon=Coupon.from_view(view))


async def _template_id(info: strawberry.Info, input: Any) -> int:
    """The template an input names, by templateCode or (deprecated) templateId."""
    given = input.template_id
    template_id = node_id(given, "CouponTemplate", "templateId") if given is not None else None
    return await resolvers.template_id_of(info, template_id, input.template_code)


def _lock_cart(input: Annotated[LockCouponInput, MUTATION_INPUT]) -> domain_coupons.Cart | None:
    if input.checkout_cart is not None and input.cart is not None:
        raise invalid("checkoutCart", "give checkoutCart or the deprecated cart, not both")
    given = input.checkout_cart or input.cart
    return given.to_domain() if given is not None else None


@strawberry.type
class CouponQuery:
    @strawberry.field(
        description="Coupon templates by id. Staff see all; a member token sees those it may "
        "claim or buy with points."
    )
    async def coupon_templates(
        self,
        info: strawberry.Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
        last: Annotated[int | None, strawberry.argument(description=LAST)] = None,
        before: Annotated[str | None, strawberry.argument(description=BEFORE)] = None,
    ) -> CouponTemplateConnection:
        rows, more = await resolvers.templates_page(info, first, after, last, before)
        edges = [Edge(CouponTemplate.from_row(r), r, resolvers.template_cursor) for r in rows]
        return CouponTemplateConnection(
            edges=edges,
            page_info=page_info(edges, more, after, last=last, before=before),
            count=lambda: resolvers.templates_count(info),
        )

    @strawberry.field(description="A coupon by its code; null when there is none you may see.")
    async def coupon(
        self,
        info: strawberry.Info,
        code: Annotated[
            str,
            strawberry.argument(description="The coupon's code, as the member types or scans it."),
        ],
    ) -> Coupon | None:
        found = await resolvers.coupon(info, code)
        return Coupon.from_view(found) if found else None

    @strawberry.field(
        description="Checkout: what each code does to this cart, or why it does not apply. "
        "Writes nothing."
    )
    async def validate_coupons(
        self,
        info: strawberry.Info,
        cart: Annotated[
            CartInput,
            strawberry.argument(description="The cart as it stands at checkout, and whose it is."),
        ],
        codes: Annotated[
            list[str],
            strawberry.argument(
                description="Codes to try on the cart together, in the order to apply them."
            ),
        ],
    ) -> ValidateCouponsResult:
        call = resolvers.validate(
            info, member_external_id=cart.member_external_id, cart=cart.to_domain(), codes=codes
        )
        return await result_of(call, CouponValidation.from_service, ValidateCouponsError)


@strawberry.type
class CouponMutation:
    @strawberry.mutation(description="Admin: a new coupon template.")
    async def create_coupon_template(
        self, info: strawberry.Info, input: Annotated[CreateCouponTemplateInput, MUTATION_INPUT]
    ) -> CreateCouponTemplateResult:
        call = resolvers.create_template(
            info, input.to_service(), idempotency_key=input.idempotency_key
        )
        return await result_of(call, _template, CreateCouponTemplateError)

    @strawberry.mutation(
        description="Admin: issue no more coupons from a template; issued ones stay usable."
    )
    async def retire_coupon_template(
        self, info: strawberry.Info, input: Annotated[RetireCouponTemplateInput, MUTATION_INPUT]
    ) -> RetireCouponTemplateResult:
        call = then(_template_id(info, input), lambda t: resolvers.retire_template(info, t))
        return await result_of(call, _template, RetireCouponTemplateError)

    @strawberry.mutation(description="A member claims a coupon into its wallet.")
    async def claim_coupon(
        self, info: strawberry.Info, input: Annotated[ClaimCouponInput, MUTATION_INPUT]
    ) -> ClaimCouponResult:
        call = then(
            _template_id(info, input),
            lambda template_id: resolvers.claim(
                info,
                template_id=template_id,
                member_external_id=input.member_external_id,
                idempotency_key=input.idempotency_key,
            ),
        )
        return await result_of(call, _coupon, ClaimCouponError)

    @strawberry.mutation(description="Buy a coupon with points (one transaction).")
    async def exchange_points_for_coupon(
        self, info: strawberry.Info, input: Annotated[ClaimCouponInput, MUTATION_INPUT]
    ) -> ExchangePointsForCouponResult:
        call = then(
            _template_id(info, input),
            lambda template_id: resolvers.exchange(
                info,
                template_id=template_id,
                member_external_id=input.member_external_id,
                idempotency_key=input.idempotency_key,
            ),
        )
        return await result_of(
            then_member(info, call, lambda c: c.row.member_id),
            lambda pair: ExchangePointsForCouponSuccess(
                coupon=Coupon.from_view(pair[0]), member=pair[1]
            ),
            ExchangePointsForCouponError,
        )

    @strawberry.mutation(description="Admin: one coupon each to up to 1,000 members, all or none.")
    async def grant_coupons(
        self, info: strawberry.Info, input: Annotated[GrantCouponsInput, MUTATION_INPUT]
    ) -> GrantCouponsResult:
        call = then(
            _template_id(info, input),
            lambda template_id: resolvers.grant(
                info,
                template_id=template_id,
                member_external_ids=input.member_external_ids,
                idempotency_key=input.idempotency_key,
            ),
        )
        return await result_of(
            call,
            lambda views: GrantCouponsSuccess(coupons=[Coupon.from_view(v) for v in views]),
            GrantCouponsError,
        )

    @strawberry.mutation(description="Checkout: reserve a coupon for an order (it expires).")
    async def lock_coupon(
        self, info: strawberry.Info, input: Annotated[LockCouponInput, MUTATION_INPUT]
    ) -> LockCouponResult:
        async def call() -> Any:
            return await resolvers.lock(
                info,
                code=input.code,
                order_ref=input.order_id,
                cart=_lock_cart(input),
                cart_owner=input.checkout_cart.member_external_id if input.checkout_cart else None,
                idempotency_key=input.idempotency_key,
            )

        return await result_of(call(), _coupon, LockCouponError)

    @strawberry.mutation(description="Checkout: the order went through; the coupon is used.")
    async def redeem_coupon(
        self, info: strawberry.Info, input: Annotated[CouponOrderInput, MUTATION_INPUT]
    ) -> RedeemCouponResult:
        call = resolvers.redeem(
            info, code=input.code, order_ref=input.order_id, idempotency_key=input.idempotency_key
        )
        return await result_of(call, _coupon, RedeemCouponError)

    @strawberry.mutation(description="Checkout abandoned or order cancelled: unlock the coupon.")
    async def release_coupon(
        self, info: strawberry.Info, input: Annotated[CouponOrderInput, MUTATION_INPUT]
    ) -> ReleaseCouponResult:
        call = resolvers.release(
            info, code=input.code, order_ref=input.order_id, idempotency_key=input.idempotency_key
        )
        return await result_of(call, _coupon, ReleaseCouponError)
