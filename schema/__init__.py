"""The root schema only composes the feature Query and Mutation classes."""

from __future__ import annotations

from functools import cache

import strawberry
from strawberry import relay
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from schema.coupons import CouponMutation, CouponQuery
from schema.error_log import LoggedSchema
from schema.events import EventMutation, EventQuery
from schema.executor import PlannedExecutor
from schema.gifts import GiftMutation
from schema.input_checks import install as install_input_checks
from schema.limits import MAX_BATCH, extensions
from schema.members import MemberMutation, MemberQuery
from schema.nodes import resolve_node
from schema.partners import PartnerMutation, PartnerQuery
from schema.points import PointsMutation, PointsQuery
from schema.policy import PolicyMutation, PolicyQuery
from schema.programmes import ProgrammeMutation, ProgrammeQuery
from schema.recommendations import RecommendationMutation, RecommendationQuery
from schema.tier_engine import TierEngineMutation, TierEngineQuery
from schema.tokens import TokenMutation
from schema.webhooks import WebhookMutation, WebhookQuery


@strawberry.type
class NodeQuery:
    # A plain field rather than relay.node(): that one mutates the field when a schema is
    # built, so the development and production schemas could not both be built from it.
    @strawberry.field(description="Any object by its global id; null if you may not see it.")
    async def node(self, info: strawberry.Info, id: strawberry.ID) -> relay.Node | None:
        return await resolve_node(info, id)


Query = merge_types(
    "Query",
    (
        NodeQuery,
        ProgrammeQuery,
        MemberQuery,
        PointsQuery,
        PolicyQuery,
        TierEngineQuery,
        CouponQuery,
        RecommendationQuery,
        EventQuery,
        WebhookQuery,
        PartnerQuery,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        MemberMutation,
        ProgrammeMutation,
        TokenMutation,
        PointsMutation,
        PolicyMutation,
        TierEngineMutation,
        CouponMutation,
        RecommendationMutation,
        EventMutation,
        WebhookMutation,
        PartnerMutation,
        GiftMutation,
    ),
)


@cache
def build_schema(*, production: bool) -> strawberry.Schema:
    built = LoggedSchema(
        query=Query,
        mutation=Mutation,
        extensions=extensions(production=production),
        execution_context_class=PlannedExecutor,
        config=StrawberryConfig(
            disable_field_suggestions=production,
            batching_config={"max_operations": MAX_BATCH},
            relay_max_results=100,
        ),
    )
    install_input_checks(built._schema)
    return built


def sdl() -> str:
    """The schema as SDL, as checked in to schema.graphql."""
    return build_schema(production=False).as_str() + "\n"
