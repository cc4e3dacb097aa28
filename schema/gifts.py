"""Member-to-member gifts of points (when the programme's points policy allows them)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers import points as resolvers
from schema.errors import MUTATION_INPUT, error_type, result_of, result_union
from schema.points_types import PointTransaction


@strawberry.input(description="Give some of a member's points to another member.")
class GiftPointsInput:
    to_external_id: str = strawberry.field(description="The receiving member's externalId.")
    points: int = strawberry.field(description="Points to give.")
    from_external_id: str | None = strawberry.field(
        default=None, description="The giving member; a member token leaves it out for itself."
    )
    idempotency_key: str = strawberry.field(description="Retry with the same key: given once.")


@strawberry.type(description="The gift, as the giver's ledger row.")
class GiftPointsSuccess:
    transaction: PointTransaction = strawberry.field(description="The giver's TRANSFER_OUT row.")


GiftPointsError = error_type("GiftPointsError")
GiftPointsResult = result_union("GiftPointsResult", GiftPointsSuccess, GiftPointsError)


@strawberry.type
class GiftMutation:
    @strawberry.mutation(
        description="Member or storefront: give points to another member of the programme "
        "(off unless the points policy's giftDailyPoints is above 0)."
    )
    async def gift_points(
        self, info: strawberry.Info, input: Annotated[GiftPointsInput, MUTATION_INPUT]
    ) -> GiftPointsResult:
        return await result_of(
            resolvers.gift_points(
                info,
                to_external_id=input.to_external_id,
                points=input.points,
                from_external_id=input.from_external_id,
                idempotency_key=input.idempotency_key,
            ),
            lambda tx: GiftPointsSuccess(transaction=PointTransaction.from_row(tx)),
            GiftPointsError,
        )
