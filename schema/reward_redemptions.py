"""Redeeming rewards: quote, redeem, fulfil, cancel, and reading redemptions back."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from resolvers import reward_redemptions as resolvers
from schema.errors import MUTATION_INPUT, error_type, idempotency_key_field, result_of, result_union
from schema.pagination import AFTER, FIRST, Edge, page_info
from schema.points import node_id
from schema.reward_redemption_types import (
    RewardQuote,
    RewardRedemption,
    RewardRedemptionConnection,
    RewardRedemptionStatus,
)
from services.rewards.queries import RedemptionView

MEMBER = "Whose; a member token may leave it out for itself."


@strawberry.input(description="Items of a reward to redeem for a member.")
class RedeemRewardInput:
    code: str = strawberry.field(description="The reward's code.")
    quantity: int = strawberry.field(default=1, description="Items (1-100).")
    member_external_id: str | None = strawberry.field(default=None, description=MEMBER)
    order_id: str | None = strawberry.field(
        default=None,
        description="Cash + points only: the shop's order that pays the cash (required then).",
    )
    cash: int | None = strawberry.field(
        default=None,
        description="Cash + points only: the cash part, minor units, exactly as quoteReward "
        "gave it (else CASH_MISMATCH).",
    )
    idempotency_key: str = idempotency_key_field()


@strawberry.input(description="A redemption handed over.")
class FulfilRewardRedemptionInput:
    id: relay.GlobalID = strawberry.field(description="The RewardRedemption, by its global id.")
    tracking_ref: str | None = strawberry.field(
        default=None, description="A parcel's tracking number or the partner's reference."
    )
    idempotency_key: str = idempotency_key_field()


@strawberry.input(description="A redemption to call off.")
class CancelRewardRedemptionInput:
    id: relay.GlobalID = strawberry.field(description="The RewardRedemption, by its global id.")
    reason: str = strawberry.field(description="Why, in words (1-200 characters).")
    idempotency_key: str = idempotency_key_field()


@strawberry.type(description="The redemption as the mutation left it.")
class RewardRedemptionSuccess:
    redemption: RewardRedemption = strawberry.field(description="The redemption as it is now.")


RedeemRewardError = error_type("RedeemRewardError")
FulfilRewardRedemptionError = error_type("FulfilRewardRedemptionError")
CancelRewardRedemptionError = error_type("CancelRewardRedemptionError")
RedeemRewardResult = result_union("RedeemRewardResult", RewardRedemptionSuccess, RedeemRewardError)
FulfilRewardRedemptionResult = result_union(
    "FulfilRewardRedemptionResult", RewardRedemptionSuccess, FulfilRewardRedemptionError
)
CancelRewardRedemptionResult = result_union(
    "CancelRewardRedemptionResult", RewardRedemptionSuccess, CancelRewardRedemptionError
)


def _success(view: RedemptionView) -> RewardRedemptionSuccess:
    return RewardRedemptionSuccess(redemption=RewardRedemption.from_view(view))


def _id(value: relay.GlobalID) -> int:
    return node_id(value, "RewardRedemption", "id")


@strawberry.type
class RewardRedemptionQuery:
    @strawberry.field(
        description="What items of a reward cost (points, and cash for a cash + points one) "
        "and whether the member's points cover them now; null if no such reward."
    )
    async def quote_reward(
        self,
        info: strawberry.Info,
        code: Annotated[str, strawberry.argument(description="The reward's code.")],
        quantity: Annotated[int, strawberry.argument(description="Items (1-100).")] = 1,
        member_external_id: Annotated[str | None, strawberry.argument(description=MEMBER)] = None,
    ) -> RewardQuote | None:
        found = await resolvers.quote(
            info, code=code, quantity=quantity, member_external_id=member_external_id
        )
        return RewardQuote.from_quote(found) if found is not None else None

    @strawberry.field(description="A reward redemption by its global id; null if not yours.")
    async def reward_redemption(
        self,
        info: strawberry.Info,
        id: Annotated[relay.GlobalID, strawberry.argument(description="Its global id.")],
    ) -> RewardRedemption | None:
        found = await resolvers.by_ids(info, [_id(id)])
        view = next(iter(found.values()), None)
        return RewardRedemption.from_view(view) if view is not None else None

    @strawberry.field(description="A member's reward redemptions, newest first.")
    async def reward_redemptions(
        self,
        info: strawberry.Info,
        member_external_id: Annotated[str | None, strawberry.argument(description=MEMBER)] = None,
        status: Annotated[
            RewardRedemptionStatus | None,
            strawberry.argument(description="Only these; null: every status."),
        ] = None,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
    ) -> RewardRedemptionConnection:
        views, more = await resolvers.page(
            info,
            member_external_id=member_external_id,
            first=first,
            after=after,
            status=status.value if status is not None else None,
        )
        edges = [Edge(RewardRedemption.from_view(v), v, resolvers.cursor_of) for v in views]
        return RewardRedemptionConnection(edges=edges, page_info=page_info(edges, more, after))


@strawberry.type
class RewardRedemptionMutation:
    @strawberry.mutation(
        description="Redeem a reward: checks, stock and points in one transaction. Points "
        "only: spent now. Cash + points: held for `orderId` (captureHold at payment)."
    )
    async def redeem_reward(
        self, info: strawberry.Info, input: Annotated[RedeemRewardInput, MUTATION_INPUT]
    ) -> RedeemRewardResult:
        call = resolvers.redeem(
            info,
            code=input.code,
            quantity=input.quantity,
            idempotency_key=input.idempotency_key,
            member_external_id=input.member_external_id,
            order_ref=input.order_id,
            cash=input.cash,
        )
        return await result_of(call, _success, RedeemRewardError)

    @strawberry.mutation(description="Staff: a REQUESTED redemption was handed over.")
    async def fulfil_reward_redemption(
        self,
        info: strawberry.Info,
        input: Annotated[FulfilRewardRedemptionInput, MUTATION_INPUT],
    ) -> FulfilRewardRedemptionResult:
        call = resolvers.fulfil(
            info,
            redemption_id=_id(input.id),
            tracking_ref=input.tracking_ref,
            idempotency_key=input.idempotency_key,
        )
        return await result_of(call, _success, FulfilRewardRedemptionError)

    @strawberry.mutation(
        description="Call a REQUESTED redemption off: points (original expiry) and stock back, "
        "once. Staff, or a member for its own points-only one."
    )
    async def cancel_reward_redemption(
        self,
        info: strawberry.Info,
        input: Annotated[CancelRewardRedemptionInput, MUTATION_INPUT],
    ) -> CancelRewardRedemptionResult:
        call = resolvers.cancel(
            info,
            redemption_id=_id(input.id),
            reason=input.reason,
            idempotency_key=input.idempotency_key,
        )
        return await result_of(call, _success, CancelRewardRedemptionError)
