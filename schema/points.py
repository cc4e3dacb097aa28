"""Ledger mutations and queries: orders, redemption, holds, activity, admin corrections."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

import strawberry
from strawberry import relay

from db.models import Member as MemberRow
from domain.campaigns import Channel
from domain.points import OrderLine as DomainOrderLine
from domain.points import Payment
from resolvers import points as resolvers
from resolvers.auth import InvalidArgument
from resolvers.ids import parse_id
from schema.campaign_facts import CampaignBonus
from schema.campaign_types import OrderChannel
from schema.errors import MUTATION_INPUT, error_type, idempotency_key_field, result_of, result_union
from schema.members import Member
from schema.points_types import (
    BIGINT_MAX,
    Order,
    OrderPointsPreview,
    PaymentMethod,
    PointHold,
    PointTransaction,
)
from services.points.order_recording import OrderInput
from services.points.order_returns import ReturnLine

T = TypeVar("T")


def node_id(value: relay.GlobalID, type_name: str, field: str) -> int:
    """The row id inside a global id of the expected type; VALIDATION otherwise."""
    found = parse_id(value.node_id, maximum=BIGINT_MAX) if value.type_name == type_name else None
    if found is None:
        raise InvalidArgument(f"`{field}` is not the id of a {type_name}")
    return found


async def then_member(
    info: strawberry.Info, call: Awaitable[T], member_id: Callable[[T], int]
) -> tuple[T, Member]:
    value = await call
    return value, Member.from_row(await resolvers.fresh_member(info, member_id(value)))


@strawberry.input(description="One line of an order.")
class OrderLineInput:
    sku: str = strawberry.field(description="The product's sku.")
    category: str = strawberry.field(
        description="The product's category (category bonuses, coupon eligibility)."
    )
    unit_price: int = strawberry.field(description="Minor units (fen) per item.")
    quantity: int = strawberry.field(description="Items (1-10000).")
    discounted: bool = strawberry.field(default=False, description="Already on sale.")


@strawberry.input(description="One payment of an order.")
class PaymentInput:
    method: PaymentMethod = strawberry.field(description="How it was paid.")
    amount: int = strawberry.field(description="Minor units.")


@strawberry.input(description="An order, as recordOrder takes it (without the idempotency key).")
class PreviewOrderInput:
    order_id: str = strawberry.field(
        description="The shop's own order id, unique in the programme."
    )
    member_external_id: str = strawberry.field(description="Whose order.")
    placed_at: datetime | None = strawberry.field(
        default=None,
        description="When the order was placed; left out: now, by the programme's clock.",
    )
    currency: str | None = strawberry.field(
        default=None, description="ISO 4217; when given, it must be the programme's."
    )
    lines: list[OrderLineInput] = strawberry.field(description="What was bought (1-500 lines).")
    payments: list[PaymentInput] = strawberry.field(
        description="How it was paid; the amounts add up to the lines'."
    )
    channel: OrderChannel = strawberry.field(
        default=Channel.ONLINE,
        description="Where it was placed (campaigns may reward one channel only).",
    )

    def to_domain(self) -> OrderInput:
        return OrderInput(
            order_ref=self.order_id,
            member_external_id=self.member_external_id,
            placed_at=self.placed_at,
            currency=self.currency,
            lines=[
                DomainOrderLine(x.sku, x.category, x.unit_price, x.quantity, x.discounted)
                for x in self.lines
            ],
            payments=[Payment(p.method, p.amount) for p in self.payments],
            channel=Channel(self.channel),
        )


@strawberry.input(description="An order to book; its points are pending until it completes.")
class RecordOrderInput(PreviewOrderInput):
    idempotency_key: str = idempotency_key_field()


@strawberry.input(description="Which order to act on.")
class OrderActionInput:
    order_id: str = strawberry.field(description="The shop's own order id.")
    idempotency_key: str = idempotency_key_field()


@strawberry.input(description="Returned items of one sku.")
class ReturnLineInput:
    sku: str = strawberry.field(description="The line's sku.")
    quantity: int = strawberry.field(
        description="Items returned (at most those bought and not yet returned)."
    )


@strawberry.input(description="Items that came back.")
class ReturnOrderLinesInput:
    order_id: str = strawberry.field(description="The shop's own order id.")
    lines: list[ReturnLineInput] = strawberry.field(description="By sku, how many of each.")
    idempotency_key: str = idempotency_key_field()


@strawberry.input(description="Points to spend on a reward.")
class RedeemPointsInput:
    member_external_id: str | None = strawberry.field(
        default=None, description="A member token may leave it out for itself."
    )
    amount: int = strawberry.field(description="Points to spend (positive).")
    reason: str = strawberry.field(description="What for, in words.")
    reward: str | None = strawberry.field(
        default=None, description="The reward's id in your catalogue."
    )
    idempotency_key: str = idempotency_key_field()


@strawberry.input(description="A redemption to undo.")
class ReverseRedemptionInput:
    transaction_id: relay.GlobalID = strawberry.field(
        description="The REDEEM row, by its global id."
    )
    reason: str = strawberry.field(description="Why, in words.")
    idempotency_key: str = idempotency_key_field()


@strawberry.input(description="Points to reserve for an order at checkout.")
class HoldPointsInput:
    member_external_id: str | None = strawberry.field(
        default=None, description="Whose points; a member token may leave it out for itself."
    )
    amount: int = strawberry.field(
        description="Points to hold (positive; PointHold.cashValue says what they pay)."
    )
    order_id: str = strawberry.field(description="The order they pay for.")
    idempotency_key: str = idempotency_key_field()


@strawberry.input(description="A hold to spend.")
class CaptureHoldInput:
    hold_id: relay.GlobalID = strawberry.field(description="The hold, by its global id.")
    amount: int = strawberry.field(
        description="Points to spend, at most the hold's; the rest is released."
    )
    idempotency_key: str = idempotency_key_field()


@strawberry.input(description="A hold to give back.")
class ReleaseHoldInput:
    hold_id: relay.GlobalID = strawberry.field(description="The hold, by its global id.")
    idempotency_key: str = idempotency_key_field()


@strawberry.input(description="A daily check-in.")
class CheckInInput:
    member_external_id: str | None = strawberry.field(
        default=None, description="Who checks in; a member token may leave it out for itself."
    )
    idempotency_key: str = idempotency_key_field()


@strawberry.input(description="A reviewed order line to reward.")
class RewardReviewInput:
    order_id: str = strawberry.field(description="The order, by the shop's order id.")
    sku: str = strawberry.field(description="The reviewed line's sku.")
    idempotency_key: str = idempotency_key_field()


@strawberry.input(description="Who invited a member.")
class AcceptReferralInput:
    invitee_external_id: str = strawberry.field(description="The invited member.")
    invite_code: str = strawberry.field(description="The inviter's invite code.")
    idempotency_key: str = idempotency_key_field()


@strawberry.input(description="An admin's correction.")
class AdjustPointsInput:
    member_external_id: str = strawberry.field(description="Whose points.")
    amount: int = strawberry.field(description="Signed.")
    reason: str = strawberry.field(description="Why, in words (kept on the ledger row).")
    idempotency_key: str = idempotency_key_field()


@strawberry.input(description="The same points to many members, all or none.")
class GrantPointsInput:
    member_external_ids: list[str] = strawberry.field(description="Who (1-1000 members).")
    amount: int = strawberry.field(description="Points each (positive).")
    reason: str = strawberry.field(description="Why, in words.")
    idempotency_key: str = idempotency_key_field()


@strawberry.type(description="The order as the mutation left it.")
class OrderSuccess:
    order: Order = strawberry.field(description="The order.")


@strawberry.type(description="The ledger row written, and the member after it.")
class TransactionSuccess:
    transaction: PointTransaction = strawberry.field(description="The row.")
    member: Member = strawberry.field(description="The member as it is now.")


@strawberry.type(description="The hold, and the member after it.")
class HoldSuccess:
    hold: PointHold = strawberry.field(description="The hold as it is now.")
    member: Member = strawberry.field(description="The member as it is now.")


@strawberry.type(description="The check-in and what it earned.")
class CheckInSuccess:
    member: Member = strawberry.field(description="The member as it is now.")
    streak: int = strawberry.field(description="Consecutive days checked in, today included.")
    points: int = strawberry.field(description="Points earned by this check-in.")
    campaign_points: int = strawberry.field(
        description="Points campaigns added to this check-in, on top of `points`."
    )
    campaigns: list[CampaignBonus] = strawberry.field(
        description="The campaigns that rewarded this check-in, each with what it added."
    )


@strawberry.type(description="The member after the change.")
class MemberSuccess:
    member: Member = strawberry.field(description="The member as it is now.")


@strawberry.type(description="The members as the grant left them.")
class GrantPointsSuccess:
    members: list[Member] = strawberry.field(description="In the order sent.")


RecordOrderError = error_type("RecordOrderError")
CompleteOrderError = error_type("CompleteOrderError")
CancelOrderError = error_type("CancelOrderError")
ReturnOrderLinesError = error_type("ReturnOrderLinesError")
RedeemPointsError = error_type("RedeemPointsError")
ReverseRedemptionError = error_type("ReverseRedemptionError")
HoldPointsError = error_type("HoldPointsError")
CaptureHoldError = error_type("CaptureHoldError")
ReleaseHoldError = error_type("ReleaseHoldError")
CheckInError = error_type("CheckInError")
RewardReviewError = error_type("RewardReviewError")
AcceptReferralError = error_type("AcceptReferralError")
AdjustPointsError = error_type("AdjustPointsError")
GrantPointsError = error_type("GrantPointsError")


RecordOrderResult = result_union("RecordOrderResult", OrderSuccess, RecordOrderError)
CompleteOrderResult = result_union("CompleteOrderResult", OrderSuccess, CompleteOrderError)
CancelOrderResult = result_union("CancelOrderResult", OrderSuccess, CancelOrderError)
ReturnOrderLinesResult = result_union("ReturnOrderLinesResult", OrderSuccess, ReturnOrderLinesError)
RedeemPointsResult = result_union("RedeemPointsResult", TransactionSuccess, RedeemPointsError)
ReverseRedemptionResult = result_union(
    "ReverseRedemptionResult", TransactionSuccess, ReverseRedemptionError
)
HoldPointsResult = result_union("HoldPointsResult", HoldSuccess, HoldPointsError)
CaptureHoldResult = result_union("CaptureHoldResult", HoldSuccess, CaptureHoldError)
ReleaseHoldResult = result_union("ReleaseHoldResult", HoldSuccess, ReleaseHoldError)
CheckInResult = result_union("CheckInResult", CheckInSuccess, CheckInError)
RewardReviewResult = result_union("RewardReviewResult", MemberSuccess, RewardReviewError)
AcceptReferralResult = result_union("AcceptReferralResult", MemberSuccess, AcceptReferralError)
AdjustPointsResult = result_union("AdjustPointsResult", TransactionSuccess, AdjustPointsError)
GrantPointsResult = result_union("GrantPointsResult", GrantPointsSuccess, GrantPointsError)


async def _member_row(call: Awaitable[tuple[T, MemberRow]]) -> tuple[T, Member]:
    """A mutation's row and its member (which the mutation returned as it left it)."""
    value, member = await call
    return value, Member.from_row(member)


def _tx(pair: tuple[Any, Member]) -> TransactionSuccess:
    return TransactionSuccess(transaction=PointTransaction.from_row(pair[0]), member=pair[1])


def _hold(pair: tuple[Any, Member]) -> HoldSuccess:
    return HoldSuccess(hold=PointHold.from_row(pair[0]), member=pair[1])


def _order(row: Any) -> OrderSuccess:
    return OrderSuccess(order=Order.from_row(row))


def _member(row: MemberRow) -> MemberSuccess:
    return MemberSuccess(member=Member.from_row(row))


@strawberry.type
class PointsQuery:
    @strawberry.field(description="What recordOrder would book, rule by rule; writes nothing.")
    async def preview_order_points(
        self, info: strawberry.Info, input: Annotated[PreviewOrderInput, MUTATION_INPUT]
    ) -> OrderPointsPreview:
        preview = await resolvers.preview_order(info, input.to_domain())
        return OrderPointsPreview.from_domain(preview.earned, preview.campaigns)

    @strawberry.field(description="An order by the shop's order id.")
    async def order(
        self,
        info: strawberry.Info,
        order_id: Annotated[str, strawberry.argument(description="The shop's own order id.")],
    ) -> Order | None:
        row = await resolvers.order(info, order_id)
        return Order.from_row(row) if row else None


@strawberry.type
class PointsMutation:
    @strawberry.mutation(description="Book an order: its points are pending until it completes.")
    async def record_order(
        self, info: strawberry.Info, input: Annotated[RecordOrderInput, MUTATION_INPUT]
    ) -> RecordOrderResult:
        call = resolvers.record_order(
            info, input.to_domain(), idempotency_key=input.idempotency_key
        )
        return await result_of(call, _order, RecordOrderError)

    @strawberry.mutation(description="The order is final: its pending points become available.")
    async def complete_order(
        self, info: strawberry.Info, input: Annotated[OrderActionInput, MUTATION_INPUT]
    ) -> CompleteOrderResult:
        call = resolvers.complete_order(info, input.order_id, idempotency_key=input.idempotency_key)
        return await result_of(call, _order, CompleteOrderError)

    @strawberry.mutation(
        description="Cancel a pending order: its points go, points paid come back."
    )
    async def cancel_order(
        self, info: strawberry.Info, input: Annotated[OrderActionInput, MUTATION_INPUT]
    ) -> CancelOrderResult:
        call = resolvers.cancel_order(info, input.order_id, idempotency_key=input.idempotency_key)
        return await result_of(call, _order, CancelOrderError)

    @strawberry.mutation(description="Return items: exactly what those lines earned is taken back.")
    async def return_order_lines(
        self, info: strawberry.Info, input: Annotated[ReturnOrderLinesInput, MUTATION_INPUT]
    ) -> ReturnOrderLinesResult:
        lines = [ReturnLine(line.sku, line.quantity) for line in input.lines]
        call = resolvers.return_order_lines(
            info, input.order_id, lines, idempotency_key=input.idempotency_key
        )
        return await result_of(call, _order, ReturnOrderLinesError)

    @strawberry.mutation(description="Spend points on a reward.")
    async def redeem_points(
        self, info: strawberry.Info, input: Annotated[RedeemPointsInput, MUTATION_INPUT]
    ) -> RedeemPointsResult:
        call = resolvers.redeem(
            info,
            member_external_id=input.member_external_id,
            amount=input.amount,
            reason=input.reason,
            reward=input.reward,
            idempotency_key=input.idempotency_key,
        )
        return await result_of(_member_row(call), _tx, RedeemPointsError)

    @strawberry.mutation(
        description="Admin: undo a redemption; the points return with their expiry."
    )
    async def reverse_redemption(
        self, info: strawberry.Info, input: Annotated[ReverseRedemptionInput, MUTATION_INPUT]
    ) -> ReverseRedemptionResult:
        call = resolvers.reverse_redemption(
            info,
            transaction_id=node_id(input.transaction_id, "PointTransaction", "transactionId"),
            reason=input.reason,
            idempotency_key=input.idempotency_key,
        )
        return await result_of(
            then_member(info, call, lambda t: t.member_id), _tx, ReverseRedemptionError
        )

    @strawberry.mutation(description="Checkout: reserve points to pay with.")
    async def hold_points(
        self, info: strawberry.Info, input: Annotated[HoldPointsInput, MUTATION_INPUT]
    ) -> HoldPointsResult:
        call = resolvers.hold(
            info,
            member_external_id=input.member_external_id,
            amount=input.amount,
            order_ref=input.order_id,
            idempotency_key=input.idempotency_key,
        )
        return await result_of(_member_row(call), _hold, HoldPointsError)

    @strawberry.mutation(description="Checkout: spend (part of) a hold; the rest is released.")
    async def capture_hold(
        self, info: strawberry.Info, input: Annotated[CaptureHoldInput, MUTATION_INPUT]
    ) -> CaptureHoldResult:
        call = resolvers.capture(
            info,
            hold_id=node_id(input.hold_id, "PointHold", "holdId"),
            amount=input.amount,
            idempotency_key=input.idempotency_key,
        )
        return await result_of(_member_row(call), _hold, CaptureHoldError)

    @strawberry.mutation(description="Checkout abandoned: give a hold's points back.")
    async def release_hold(
        self, info: strawberry.Info, input: Annotated[ReleaseHoldInput, MUTATION_INPUT]
    ) -> ReleaseHoldResult:
        call = resolvers.release(
            info,
            hold_id=node_id(input.hold_id, "PointHold", "holdId"),
            idempotency_key=input.idempotency_key,
        )
        return await result_of(_member_row(call), _hold, ReleaseHoldError)

    @strawberry.mutation(description="Daily check-in (one per day in the programme's time zone).")
    async def check_in(
        self, info: strawberry.Info, input: Annotated[CheckInInput, MUTATION_INPUT]
    ) -> CheckInResult:
        call = resolvers.check_in(
            info,
            member_external_id=input.member_external_id,
            idempotency_key=input.idempotency_key,
        )
        return await result_of(
            call,
            lambda r: CheckInSuccess(
                member=Member.from_row(r.member),
                streak=r.streak,
                points=r.points,
                campaign_points=r.campaign_points,
                campaigns=[CampaignBonus.of(a) for a in r.campaigns],
            ),
            CheckInError,
        )

    @strawberry.mutation(description="Points for reviewing a purchased item, once per order line.")
    async def reward_review(
        self, info: strawberry.Info, input: Annotated[RewardReviewInput, MUTATION_INPUT]
    ) -> RewardReviewResult:
        call = resolvers.reward_review(
            info, order_ref=input.order_id, sku=input.sku, idempotency_key=input.idempotency_key
        )
        return await result_of(call, _member, RewardReviewError)

    @strawberry.mutation(description="Record who invited a member (by the inviter's code).")
    async def accept_referral(
        self, info: strawberry.Info, input: Annotated[AcceptReferralInput, MUTATION_INPUT]
    ) -> AcceptReferralResult:
        call = resolvers.accept_referral(
            info,
            invitee_external_id=input.invitee_external_id,
            invite_code=input.invite_code,
            idempotency_key=input.idempotency_key,
        )
        return await result_of(call, _member, AcceptReferralError)

    @strawberry.mutation(
        description="Admin: a signed correction, with a reason; the actor is kept."
    )
    async def adjust_points(
        self, info: strawberry.Info, input: Annotated[AdjustPointsInput, MUTATION_INPUT]
    ) -> AdjustPointsResult:
        call = resolvers.adjust(
            info,
            member_external_id=input.member_external_id,
            amount=input.amount,
            reason=input.reason,
            idempotency_key=input.idempotency_key,
        )
        return await result_of(
            then_member(info, call, lambda t: t.member_id), _tx, AdjustPointsError
        )

    @strawberry.mutation(description="Admin: the same points to up to 1,000 members, all or none.")
    async def grant_points(
        self, info: strawberry.Info, input: Annotated[GrantPointsInput, MUTATION_INPUT]
    ) -> GrantPointsResult:
        call = resolvers.grant(
            info,
            member_external_ids=input.member_external_ids,
            amount=input.amount,
            reason=input.reason,
            idempotency_key=input.idempotency_key,
        )
        return await result_of(
            call,
            lambda rows: GrantPointsSuccess(members=[Member.from_row(r) for r in rows]),
            GrantPointsError,
        )
