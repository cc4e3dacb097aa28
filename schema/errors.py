"""Expected failures are data: `XError { errors { field code message } }`. This is the one place
where a domain error becomes a GraphQL error result."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import strawberry

from domain import errors as domain_errors
from domain.errors import DomainError

ErrorCode = strawberry.enum(domain_errors.ErrorCode, name="ErrorCode")


@strawberry.type
class UserError:
    field: str | None = strawberry.field(
        description="Input field at fault, camelCase; null when the whole input is."
    )
    code: ErrorCode
    message: str


@strawberry.type
class MutationError:
    errors: list[UserError]


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


def error_type(name: str) -> Any:
    """`<Mutation>Error { errors }`: one type per mutation, so each union is its own."""
    return strawberry.type(type(name, (MutationError,), {}))


def result_union(name: str, success: type, error: Any) -> Any:
    return Annotated[success | error, strawberry.union(name)]
