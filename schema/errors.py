"""Expected failures are data: `XError { errors { field code message } }`. This is the one place
where a domain error becomes a GraphQL error result."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import strawberry

from domain import errors as domain_errors
from domain.errors import DomainError
from schema.describe import describe_values

ErrorCode = strawberry.enum(
    domain_errors.ErrorCode, name="ErrorCode", description="What went wrong, in a UserError."
)
describe_values(
    ErrorCode,
    {
        "VALIDATION": "A field's value is not allowed; the message says why.",
        "NOT_FOUND": "Nothing you may see has this id, code or key.",
        "ALREADY_EXISTS": "Something with this unique key exists.",
        "IDEMPOTENCY_KEY_REUSED": "The key was used with another input.",
        "IDEMPOTENCY_KEY_IN_PROGRESS": "The first request with this key is still running; retry.",
        "LIVE_PROGRAMME": "Only a sandbox programme allows this.",
        "INSUFFICIENT_POINTS": "Not enough spendable points.",
        "POINTS_PENDING": "The points are still pending.",
        "REFERENCE_REUSED": "The order id (or other reference) was used before.",
        "ORDER_CLOSED": "The order is cancelled, returned or otherwise past this action.",
        "RETURN_EXCEEDS_PURCHASE": "More items returned than bought.",
        "CURRENCY_MISMATCH": "Not the programme's currency.",
        "HOLD_CLOSED": "The hold was captured or released already.",
        "HOLD_EXPIRED": "The hold expired.",
        "ALREADY_REVERSED": "The row was reversed already.",
        "ALREADY_CHECKED_IN": "The member checked in today already.",
        "ALREADY_REVIEWED": "The line was rewarded for a review already.",
        "SELF_REFERRAL": "A member may not invite itself.",
        "REFERRAL_CYCLE": "The invite would make a referral cycle.",
        "ALREADY_REFERRED": "The member has an inviter already.",
        "NOT_ELIGIBLE": "The member may not do this.",
        "BALANCE_LIMIT": "The balance would pass the most a member may hold.",
        "OUT_OF_STOCK": "The coupon template (or reward) has too few items left.",
        "LIMIT_REACHED": "The member holds the most coupons it may from the template (or has "
        "redeemed the most of a reward its limit allows in the period).",
        "NOT_CLAIMABLE": "The template may not be claimed for free.",
        "NOT_FOR_POINTS": "The template is not sold for points.",
        "TEMPLATE_RETIRED": "The template was retired.",
        "NOT_OWNER": "The coupon is another member's.",
        "USED": "The coupon was used.",
        "LOCKED": "The coupon is locked to another order.",
        "NOT_LOCKED": "The coupon is not locked to this order.",
        "LOCK_EXPIRED": "The coupon's lock lapsed.",
        "EXPIRED": "The coupon has expired.",
        "NOT_STARTED": "The coupon may not be used yet.",
        "NOT_ELIGIBLE_TIER": "The member's tier may not use the coupon.",
        "BELOW_THRESHOLD": "Eligible lines fall short of the coupon's threshold.",
        "CATEGORY_MISMATCH": "No line is eligible for the coupon.",
        "NO_SHIPPING_FEE": "A FREE_SHIPPING coupon on a cart without a fee.",
        "NOT_STACKABLE": "The coupon does not combine with those already on the order.",
        "LAST_ADMIN_KEY": "The programme's last admin key may not be revoked.",
        "ALREADY_DECIDED": "The flag was approved or rejected already.",
        "PARTNER_SUSPENDED": "The partner is suspended: no links or transfers.",
        "DIRECTION_NOT_ALLOWED": "The partner's terms do not allow transfers this way.",
        "TRANSFER_OUT_OF_RANGE": "Below the partner's minimum or above its maximum per transfer.",
        "DAILY_LIMIT_REACHED": "A daily limit (per member or in total) would be exceeded.",
        "NOT_LINKED": "The member has no account linked with this partner.",
        "MEMBER_VERIFICATION_FAILED": "The verifying attribute did not match the member.",
        "VERIFICATION_LOCKED": "Too many failed verifications for this partner member; later.",
        "TRANSFER_CLOSED": "The transfer is no longer pending (or no longer reversible).",
        "GIFTS_DISABLED": "Gifts between members are off in this programme.",
        "CAMPAIGN_ENDED": "The campaign has ended: it changes no more.",
        "CAMPAIGN_RUNNING": "The field may not change while the campaign is active or paused.",
        "INVALID_TRANSITION": "The campaign's status does not allow this change of status.",
        "REWARD_RETIRED": "The reward was retired: it changes no more and is no longer redeemed.",
        "NOT_AVAILABLE": "The reward is outside its window (not yet, or no longer).",
        "CASH_MISMATCH": "The cash sent is not what quoteReward says the reward costs.",
        "ALREADY_CANCELLED": "The redemption was cancelled already; nothing was given back again.",
        "ALREADY_FULFILLED": "The redemption was fulfilled: it may not be fulfilled or cancelled.",
        "NOT_PAID": "The cash + points redemption's hold is not captured yet.",
        "WHOLE_HOLD_REQUIRED": "A reward's hold is captured whole or released, never in part.",
    },
)


@strawberry.type(description="One problem with a request, as data: nothing was changed.")
class UserError:
    field: str | None = strawberry.field(
        description="Input field at fault, camelCase; null when the whole input is."
    )
    code: ErrorCode = strawberry.field(description="What went wrong, for programs to branch on.")
    message: str = strawberry.field(description="What went wrong, in English, for people.")


@strawberry.type
class MutationError:
    errors: list[UserError] = strawberry.field(
        description="Every problem found (at least one); the request changed nothing."
    )


T = TypeVar("T")
S = TypeVar("S")
E = TypeVar("E", bound=MutationError)


async def result_of(call: Awaitable[T], success: Callable[[T], S], error: type[E]) -> S | E:
    try:
        value = await call
    except DomainError as failure:
        return error(
            errors=[
                UserError(field=e.field, code=e.code, message=e.message) for e in failure.errors
            ]
        )
    return success(value)


def error_description(name: str) -> str:
    """`RecordOrderError` -> why recordOrder changed nothing."""
    operation = name.removesuffix("Error")
    return f"Why {operation[0].lower()}{operation[1:]} changed nothing: the problems it found."


def union_description(name: str) -> str:
    operation = name.removesuffix("Result")
    return (
        f"What {operation[0].lower()}{operation[1:]} answers: its success type, or "
        f"{operation}Error when it changed nothing."
    )


def error_type(name: str) -> Any:
    """`<Mutation>Error { errors }`: one type per mutation, so each union is its own."""
    return strawberry.type(type(name, (MutationError,), {}), description=error_description(name))


def result_union(name: str, success: type, error: Any) -> Any:
    return Annotated[success | error, strawberry.union(name, description=union_description(name))]


def idempotency_key_field() -> Any:
    """The `idempotencyKey` input field every value-moving mutation has."""
    return strawberry.field(
        description="Your id for this request (at most 255 characters): sent again with the "
        "same input, it answers what the first did; with another input, "
        "IDEMPOTENCY_KEY_REUSED."
    )


# The `input` argument of every mutation.
MUTATION_INPUT = strawberry.argument(description="What to do; see the input type's fields.")
