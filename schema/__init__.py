"""The root schema only composes the feature Query and Mutation classes."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from functools import cache
from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.types.base_scalars import DateTimeDefinition
from strawberry.tools import merge_types

from schema.abuse import AbuseMutation, AbuseQuery
from schema.audit import AuditQuery
from schema.audit import install as install_audit
from schema.campaigns import CampaignMutation, CampaignQuery
from schema.challenges import ChallengeMutation, ChallengeQuery
from schema.coupons import CouponMutation, CouponQuery
from schema.error_log import LoggedSchema
from schema.events import EventMutation, EventQuery
from schema.executor import PlannedExecutor
from schema.gifts import GiftMutation
from schema.input_checks import install as install_input_checks
from schema.input_plans import install as install_input_plans
from schema.insights import InsightsQuery
from schema.keys import KeyMutation, KeyQuery
from schema.limits import MAX_BATCH, extensions
from schema.members import MemberMutation, MemberQuery
from schema.nodes import resolve_node
from schema.partners import PartnerMutation, PartnerQuery
from schema.points import PointsMutation, PointsQuery
from schema.policy import PolicyMutation, PolicyQuery
from schema.privacy import PrivacyMutation, PrivacyQuery
from schema.programmes import ProgrammeMutation, ProgrammeQuery
from schema.recommendations import RecommendationMutation, RecommendationQuery
from schema.reward_redemptions import RewardRedemptionMutation, RewardRedemptionQuery
from schema.rewards import RewardMutation, RewardQuery
from schema.tier_engine import TierEngineMutation, TierEngineQuery
from schema.tokens import TokenMutation
from schema.variable_plans import install as install_variable_plans
from schema.webhooks import WebhookMutation, WebhookQuery


@strawberry.type
class NodeQuery:
    # A plain field rather than relay.node(): that one mutates the field when a schema is
    # built, so the development and production schemas could not both be built from it.
    @strawberry.field(description="Any object by its global id; null if you may not see it.")
    async def node(
        self,
        info: strawberry.Info,
        id: Annotated[
            strawberry.ID,
            strawberry.argument(description="A global id, as any `id` field gives it."),
        ],
    ) -> relay.Node | None:
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
        CampaignQuery,
        RewardQuery,
        ChallengeQuery,
        RecommendationQuery,
        AuditQuery,
        KeyQuery,
        PrivacyQuery,
        AbuseQuery,
        EventQuery,
        WebhookQuery,
        PartnerQuery,
        RewardRedemptionQuery,
        InsightsQuery,
    ),
)
Query.__strawberry_definition__.description = (
    "Reads. Every answer is scoped to the caller's programme (from its key or token)."
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
        CampaignMutation,
        RewardMutation,
        ChallengeMutation,
        RecommendationMutation,
        KeyMutation,
        PrivacyMutation,
        AbuseMutation,
        EventMutation,
        WebhookMutation,
        PartnerMutation,
        GiftMutation,
        RewardRedemptionMutation,
    ),
)
Mutation.__strawberry_definition__.description = (
    "Writes. Expected failures are data (an `XError` result); nothing changes when one is."
)


# strawberry's own DateTime, saying what it is: RFC 3339 with an offset (always UTC here).
DateTime = dataclasses.replace(
    DateTimeDefinition,
    description="An instant: RFC 3339 date-time with offset, e.g. 2026-05-01T08:30:00+00:00.",
    specified_by_url="https://www.rfc-editor.org/rfc/rfc3339#section-5.6",
)


@cache
def build_schema(*, production: bool) -> strawberry.Schema:
    built = LoggedSchema(
        query=Query,
        mutation=Mutation,
        extensions=extensions(production=production),
        execution_context_class=PlannedExecutor,
        scalar_overrides={datetime: DateTime},
        config=StrawberryConfig(
            disable_field_suggestions=production,
            batching_config={"max_operations": MAX_BATCH},
            relay_max_results=100,
        ),
    )
    install_input_plans(built)
    install_variable_plans()
    install_input_checks(built._schema)
    # After the input checks, so a mutation refused by them is audited too.
    install_audit(built._schema)
    return built


def sdl() -> str:
    """The schema as SDL, as checked in to schema.graphql."""
    return build_schema(production=False).as_str() + "\n"
