"""Expected failures are data: `XError { errors { field code message } }`. This is the one place
where a domain error becomes a GraphQL error result."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import strawberry

from domain import errors as domain_errors
from domain.errors import DomainError

ErrorCode = strawberry.enum(domain_errors.ErrorCode, name="ErrorCode")


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
