"""The root schema only composes the feature Query and Mutation classes."""

from __future__ import annotations

import strawberry
from strawberry import relay
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from schema.limits import MAX_BATCH, extensions
from schema.members import MemberMutation, MemberQuery
from schema.programmes import ProgrammeMutation, ProgrammeQuery
from schema.tokens import TokenMutation


@strawberry.type
class NodeQuery:
    node: relay.Node | None = relay.node(description="Any object by its global id; null if you may not see it.")


Query = merge_types("Query", (NodeQuery, ProgrammeQuery, MemberQuery))
Mutation = merge_types("Mutation", (MemberMutation, ProgrammeMutation, TokenMutation))


def build_schema(*, production: bool) -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        extensions=extensions(production=production),
        config=StrawberryConfig(
            disable_field_suggestions=production,
            batching_config={"max_operations": MAX_BATCH},
            relay_max_results=100,
        ),
    )


def sdl() -> str:
    """The schema as SDL, as checked in to schema.graphql."""
    return build_schema(production=False).as_str() + "\n"
