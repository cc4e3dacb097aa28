"""The catalogue and the segment policy; the member page's recommendation fields live on
`Member` (schema/members.py)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain.recommendations.model import Product as DomainProduct
from domain.recommendations.rfm import SegmentPolicy as DomainPolicy
from resolvers import recommendations as resolvers
from schema.errors import MUTATION_INPUT, error_type, idempotency_key_field, result_of, result_union
from schema.pagination import AFTER, BEFORE, FIRST, LAST, page_info
from schema.recommendation_types import Product, ProductConnection, ProductEdge


@strawberry.input(description="A product, by sku: added if new, else changed.")
class ProductInput:
    sku: str = strawberry.field(description="The shop's id for it.")
    title: str = strawberry.field(description="Display name.")
    category: str = strawberry.field(description="Its category.")
    price: int = strawberry.field(description="Minor units.")
    replenish_days: int | None = strawberry.field(
        default=None, description="How long one lasts, for products bought again."
    )
    active: bool = strawberry.field(
        default=True, description="Whether it is sold (and recommended)."
    )


@strawberry.input(description="Products to add or change, by sku.")
class UpsertProductsInput:
    products: list[ProductInput] = strawberry.field(description="1-1000 products.")
    idempotency_key: str = idempotency_key_field()


@strawberry.type(description="The products as they are now.")
class UpsertProductsSuccess:
    products: list[Product] = strawberry.field(description="In the order sent.")


@strawberry.type(description="How members are segmented for recommendations.")
class SegmentPolicy:
    window_days: int = strawberry.field(description="RFM is counted over this many days.")
    new_days: int = strawberry.field(description="Joined within this many days: NEW.")
    active_days: int = strawberry.field(description="Ordered within this many days: ACTIVE.")
    intermittent_days: int = strawberry.field(
        description="Ordered within this many days: INTERMITTENT (else AT_RISK)."
    )

    @classmethod
    def from_domain(cls, p: DomainPolicy) -> SegmentPolicy:
        return cls(
            window_days=p.window_days,
            new_days=p.new_days,
            active_days=p.active_days,
            intermittent_days=p.intermittent_days,
        )


@strawberry.input(description="Fields left out keep their value.")
class SetSegmentPolicyInput:
    window_days: int | None = strawberry.field(default=None, description="RFM window, in days.")
    new_days: int | None = strawberry.field(
        default=None, description="Joined within this many days: NEW."
    )
    active_days: int | None = strawberry.field(
        default=None, description="Ordered within this many days: ACTIVE."
    )
    intermittent_days: int | None = strawberry.field(
        default=None, description="Ordered within this many days: INTERMITTENT."
    )
    idempotency_key: str = idempotency_key_field()

    def changes(self) -> dict[str, int]:
        given = {
            "window_days": self.window_days,
            "new_days": self.new_days,
            "active_days": self.active_days,
            "intermittent_days": self.intermittent_days,
        }
        return {k: v for k, v in given.items() if v is not None}


@strawberry.type(description="The segment policy after the change.")
class SetSegmentPolicySuccess:
    policy: SegmentPolicy = strawberry.field(description="The whole policy.")


UpsertProductsError = error_type("UpsertProductsError")
SetSegmentPolicyError = error_type("SetSegmentPolicyError")
UpsertProductsResult = result_union(
    "UpsertProductsResult", UpsertProductsSuccess, UpsertProductsError
)
SetSegmentPolicyResult = result_union(
    "SetSegmentPolicyResult", SetSegmentPolicySuccess, SetSegmentPolicyError
)


@strawberry.type
class RecommendationQuery:
    @strawberry.field(description="The catalogue in the order products were added. Staff keys.")
    async def products(
        self,
        info: strawberry.Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
        last: Annotated[int | None, strawberry.argument(description=LAST)] = None,
        before: Annotated[str | None, strawberry.argument(description=BEFORE)] = None,
        category: Annotated[
            str | None, strawberry.argument(description="Only products of this category.")
        ] = None,
    ) -> ProductConnection:
        rows, more = await resolvers.products_page(
            info, first=first, after=after, last=last, before=before, category=category
        )
        edges = [
            ProductEdge(cursor=resolvers.product_cursor(r), node=Product.from_row(r)) for r in rows
        ]
        return ProductConnection(
            edges=edges,
            page_info=page_info(edges, more, after, last=last, before=before),
            count=lambda: resolvers.products_count(info, category=category),
        )

    @strawberry.field(description="How members are segmented (staff keys).")
    async def segment_policy(self, info: strawberry.Info) -> SegmentPolicy:
        return SegmentPolicy.from_domain(await resolvers.segment_policy(info))


@strawberry.type
class RecommendationMutation:
    @strawberry.mutation(description="Admin: add or change up to 1,000 products, all or none.")
    async def upsert_products(
        self, info: strawberry.Info, input: Annotated[UpsertProductsInput, MUTATION_INPUT]
    ) -> UpsertProductsResult:
        products = [
            DomainProduct(p.sku, p.title, p.category, p.price, p.replenish_days, p.active)
            for p in input.products
        ]
        call = resolvers.upsert_products(info, products, idempotency_key=input.idempotency_key)
        return await result_of(
            call,
            lambda rows: UpsertProductsSuccess(products=[Product.from_row(r) for r in rows]),
            UpsertProductsError,
        )

    @strawberry.mutation(description="Admin: the RFM window and lifecycle thresholds.")
    async def set_segment_policy(
        self, info: strawberry.Info, input: Annotated[SetSegmentPolicyInput, MUTATION_INPUT]
    ) -> SetSegmentPolicyResult:
        call = resolvers.set_segment_policy(
            info, input.changes(), idempotency_key=input.idempotency_key
        )
        return await result_of(
            call,
            lambda p: SetSegmentPolicySuccess(policy=SegmentPolicy.from_domain(p)),
            SetSegmentPolicyError,
        )
