from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry

from domain.auth import MEMBER_TOKEN_MAX_SECONDS
from domain.errors import invalid
from resolvers import tokens as resolvers
from schema.addressing import EXTERNAL_ID_DEPRECATED, either
from schema.errors import (
    MUTATION_INPUT,
    MutationError,
    error_description,
    result_of,
    union_description,
)


@strawberry.input(description="Which member a token is for, and for how long.")
class IssueMemberTokenInput:
    member_external_id: str | None = strawberry.field(
        default=None, description="The signed-in member, by the shop's id."
    )
    external_id: str | None = strawberry.field(
        default=None,
        description="The signed-in member (the older name of memberExternalId).",
        deprecation_reason=EXTERNAL_ID_DEPRECATED,
    )
    ttl_seconds: int = strawberry.field(
        default=MEMBER_TOKEN_MAX_SECONDS, description="Lifetime in seconds, at most 900."
    )


@strawberry.type(description="A member token.")
class IssueMemberTokenSuccess:
    token: str = strawberry.field(description="Send as `Authorization: Bearer <token>`.")
    expires_at: datetime = strawberry.field(description="When it stops working.")


@strawberry.type(description=error_description("IssueMemberTokenError"))
class IssueMemberTokenError(MutationError):
    pass


IssueMemberTokenResult = Annotated[
    IssueMemberTokenSuccess | IssueMemberTokenError,
    strawberry.union(
        "IssueMemberTokenResult", description=union_description("IssueMemberTokenResult")
    ),
]


@strawberry.type
class TokenMutation:
    @strawberry.mutation(
        description="Storefront: mint a token (at most 15 minutes) for a signed-in member."
    )
    async def issue_member_token(
        self, info: strawberry.Info, input: Annotated[IssueMemberTokenInput, MUTATION_INPUT]
    ) -> IssueMemberTokenResult:
        async def call() -> Any:
            member = either(
                input.member_external_id,
                input.external_id,
                new_name="memberExternalId",
                old_name="externalId",
            )
            if member is None:
                raise invalid("memberExternalId", "which member the token is for")
            return await resolvers.issue_member_token(
                info, external_id=member, ttl_seconds=input.ttl_seconds
            )

        return await result_of(
            call(),
            lambda t: IssueMemberTokenSuccess(token=t.token, expires_at=t.expires_at),
            IssueMemberTokenError,
        )
