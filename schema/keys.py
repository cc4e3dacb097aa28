"""API keys over the API (issue 18.5): admins create (the secret is shown once), list and
revoke their programme's keys."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry import relay

from db.models import ApiKey as ApiKeyRow
from domain.auth import Role
from resolvers import keys as resolvers
from schema.errors import MUTATION_INPUT, error_type, result_of, result_union
from schema.pagination import Edge, page_info
from schema.points import node_id


@strawberry.enum(description="What a key may do: see the README's Keys section.")
class ApiKeyRole(Enum):
    ADMIN = strawberry.enum_value("admin", description="Everything in the programme.")
    STOREFRONT = strawberry.enum_value(
        "storefront", description="Members, orders, coupons and checkout."
    )
    PARTNER = strawberry.enum_value(
        "partner",
        description="One partner's linked members and transfers; issued by issuePartnerKey "
        "(createApiKey refuses it).",
    )


@strawberry.type(description="An API key of the programme. Its secret is never shown again.")
class ApiKey(relay.Node):
    id: relay.NodeID[int]
    prefix: str = strawberry.field(description="The first characters of the secret.")
    role: ApiKeyRole = strawberry.field(description="What it may do.")
    label: str = strawberry.field(description="Whatever its creator called it.")
    created_at: datetime = strawberry.field(description="When it was created.")
    last_used_at: datetime | None = strawberry.field(
        description="When it was last used, to the minute (written at most once a minute)."
    )
    expires_at: datetime | None = strawberry.field(
        description="From then on it is refused; null: it does not expire."
    )
    revoked_at: datetime | None = strawberry.field(description="When it was revoked.")

    @classmethod
    def from_row(cls, row: ApiKeyRow) -> ApiKey:
        return cls(
            id=row.id,
            prefix=row.display_prefix,
            role=ApiKeyRole(row.role),
            label=row.label,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: strawberry.Info, node_ids: list[str], required: bool = False
    ) -> list[ApiKey | None]:
        rows = await resolvers.api_keys_by_ids(info, [int(i) for i in node_ids])
        by_id = {str(r.id): r for r in rows}
        return [cls.from_row(by_id[i]) if i in by_id else None for i in node_ids]


@strawberry.type(description="One key of a page.")
class ApiKeyEdge:
    cursor: str = strawberry.field(description="Pass as `after` for the next page.")
    node: ApiKey = strawberry.field(description="The key.")


@strawberry.type(description="The programme's API keys, oldest first.")
class ApiKeyConnection:
    edges: list[ApiKeyEdge] = strawberry.field(description="The keys of this page.")
    page_info: relay.PageInfo = strawberry.field(description="Whether there is more.")


@strawberry.input(description="A new API key.")
class CreateApiKeyInput:
    role: ApiKeyRole = strawberry.field(description="What it may do.")
    label: str = strawberry.field(description="A name for people, e.g. 'web storefront'.")
    expires_at: datetime | None = strawberry.field(
        default=None, description="Refused from then on; leave out for a key that lasts."
    )
    idempotency_key: str = strawberry.field(
        description="A replay answers with the key, without its secret."
    )


@strawberry.type(description="The key, and its secret: shown this once.")
class CreateApiKeySuccess:
    api_key: ApiKey = strawberry.field(description="The key.")
    secret: str | None = strawberry.field(
        description="Send as `Authorization: Bearer <secret>`. Only its hash is kept: it is "
        "null when an idempotent replay answers."
    )


@strawberry.input(description="The key to revoke.")
class RevokeApiKeyInput:
    id: relay.GlobalID = strawberry.field(description="The key's global id.")


@strawberry.type(description="The key, revoked (at once in every process).")
class RevokeApiKeySuccess:
    api_key: ApiKey = strawberry.field(description="The key.")


CreateApiKeyError = error_type("CreateApiKeyError")
RevokeApiKeyError = error_type("RevokeApiKeyError")
CreateApiKeyResult = result_union("CreateApiKeyResult", CreateApiKeySuccess, CreateApiKeyError)
RevokeApiKeyResult = result_union("RevokeApiKeyResult", RevokeApiKeySuccess, RevokeApiKeyError)


@strawberry.type
class KeyQuery:
    @strawberry.field(description="Admin: the programme's API keys, oldest first.")
    async def api_keys(
        self,
        info: strawberry.Info,
        first: Annotated[int, strawberry.argument(description="Page size, 1-100.")],
        after: Annotated[
            str | None, strawberry.argument(description="The cursor of the last key seen.")
        ] = None,
    ) -> ApiKeyConnection:
        rows, has_next = await resolvers.api_keys(info, first=first, after=after)
        edges: list[Any] = [Edge(ApiKey.from_row(r), r, resolvers.cursor_for) for r in rows]
        return ApiKeyConnection(edges=edges, page_info=page_info(edges, has_next, after))


@strawberry.type
class KeyMutation:
    @strawberry.mutation(description="Admin: a new API key; its secret is shown once.")
    async def create_api_key(
        self, info: strawberry.Info, input: Annotated[CreateApiKeyInput, MUTATION_INPUT]
    ) -> CreateApiKeyResult:
        return await result_of(
            resolvers.create_api_key(
                info,
                Role(input.role.value),
                label=input.label,
                expires_at=input.expires_at,
                idempotency_key=input.idempotency_key,
            ),
            lambda c: CreateApiKeySuccess(api_key=ApiKey.from_row(c.key), secret=c.secret),
            CreateApiKeyError,
        )

    @strawberry.mutation(
        description="Admin: revoke a key; it is refused from now on. The last admin key "
        "cannot be revoked (LAST_ADMIN_KEY)."
    )
    async def revoke_api_key(
        self, info: strawberry.Info, input: Annotated[RevokeApiKeyInput, MUTATION_INPUT]
    ) -> RevokeApiKeyResult:
        return await result_of(
            resolvers.revoke_api_key(info, node_id(input.id, "ApiKey", "id")),
            lambda row: RevokeApiKeySuccess(api_key=ApiKey.from_row(row)),
            RevokeApiKeyError,
        )
