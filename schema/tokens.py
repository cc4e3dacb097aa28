from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from domain.auth import MEMBER_TOKEN_MAX_SECONDS
from resolvers import tokens as resolvers
from schema.errors import MutationError, result_of


@strawberry.input
class IssueMemberTokenInput:
    external_id: str
    ttl_seconds: int = MEMBER_TOKEN_MAX_SECONDS


@strawberry.type
class IssueMemberTokenSuccess:
    token: str = strawberry.field(description="Send as `Authorization: Bearer <token>`.")
    expires_at: datetime


@strawberry.type
class IssueMemberTokenError(MutationError):
    pass


IssueMemberTokenResult = Annotated[
    IssueMemberTokenSuccess | IssueMemberTokenError, strawberry.union("IssueMemberTokenResult")
]


@strawberry.type
class TokenMutation:
    @strawberry.mutation(
        description="Storefront: mint a token (at most 15 minutes) for a signed-in member."
    )
    async def issue_member_token(
        self, info: strawberry.Info, input: IssueMemberTokenInput
    ) -> IssueMemberTokenResult:
        return await result_of(
            resolvers.issue_member_token(
                info, external_id=input.external_id, ttl_seconds=input.ttl_seconds
            ),
            lambda t: IssueMemberTokenSuccess(token=t.token, expires_at=t.expires_at),
            IssueMemberTokenError,
        )
