"""Campaign queries and mutations (admin only): campaigns as data, and their results."""

from __future__ import annotations

from typing import Annotated

import strawberry

from db.models import Campaign as CampaignRow
from domain.campaign_edits import Action
from domain.campaigns import CampaignStatus as DomainStatus
from resolvers import campaigns as resolvers
from resolvers.auth import InvalidArgument
from schema.campaign_inputs import (
    CampaignCodeInput,
    CreateCampaignInput,
    UpdateCampaignInput,
    changes_of,
)
from schema.campaign_types import Campaign, CampaignConnection, CampaignStatus
from schema.errors import MUTATION_INPUT, error_type, result_of, result_union
from schema.nodes import resolve_node
from schema.pagination import AFTER, BEFORE, FIRST, LAST, Edge, page_info


@strawberry.type(description="The campaign as the mutation left it.")
class CampaignSuccess:
    campaign: Campaign = strawberry.field(description="The campaign.")


CreateCampaignError = error_type("CreateCampaignError")
UpdateCampaignError = error_type("UpdateCampaignError")
ActivateCampaignError = error_type("ActivateCampaignError")
PauseCampaignError = error_type("PauseCampaignError")
EndCampaignError = error_type("EndCampaignError")

CreateCampaignResult = result_union("CreateCampaignResult", CampaignSuccess, CreateCampaignError)
UpdateCampaignResult = result_union("UpdateCampaignResult", CampaignSuccess, UpdateCampaignError)
ActivateCampaignResult = result_union(
    "ActivateCampaignResult", CampaignSuccess, ActivateCampaignError
)
PauseCampaignResult = result_union("PauseCampaignResult", CampaignSuccess, PauseCampaignError)
EndCampaignResult = result_union("EndCampaignResult", CampaignSuccess, EndCampaignError)


def _success(row: CampaignRow) -> CampaignSuccess:
    return CampaignSuccess(campaign=Campaign.from_row(row))


@strawberry.type
class CampaignQuery:
    @strawberry.field(description="Admin: the programme's campaigns, oldest first.")
    async def campaigns(
        self,
        info: strawberry.Info,
        status: Annotated[
            CampaignStatus | None,  # type: ignore[valid-type]
            strawberry.argument(description="Only campaigns in this status."),
        ] = None,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
        last: Annotated[int | None, strawberry.argument(description=LAST)] = None,
        before: Annotated[str | None, strawberry.argument(description=BEFORE)] = None,
    ) -> CampaignConnection:
        rows, more = await resolvers.page(
            info,
            status=DomainStatus(status.value) if status is not None else None,
            first=first,
            after=after,
            last=last,
            before=before,
        )
        edges = [Edge(Campaign.from_row(r), r, resolvers.cursor) for r in rows]
        return CampaignConnection(
            edges=edges, page_info=page_info(edges, more, after, last=last, before=before)
        )

    @strawberry.field(
        description="Admin: one campaign, by its global id or its code (one of them); null "
        "when the programme has none."
    )
    async def campaign(
        self,
        info: strawberry.Info,
        id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Its global id.")
        ] = None,
        code: Annotated[str | None, strawberry.argument(description="Its code.")] = None,
    ) -> Campaign | None:
        if (id is None) == (code is None):
            raise InvalidArgument("give `id` or `code`")
        if code is not None:
            row = await resolvers.by_code(info, code)
            return Campaign.from_row(row) if row else None
        found = await resolve_node(info, str(id))
        return found if isinstance(found, Campaign) else None


@strawberry.type
class CampaignMutation:
    @strawberry.mutation(description="Admin: a new campaign, as a DRAFT.")
    async def create_campaign(
        self, info: strawberry.Info, input: Annotated[CreateCampaignInput, MUTATION_INPUT]
    ) -> CreateCampaignResult:
        call = resolvers.create(info, changes_of(input), idempotency_key=input.idempotency_key)
        return await result_of(call, _success, CreateCampaignError)

    @strawberry.mutation(
        description="Admin: change a campaign (see UpdateCampaignInput for what may change when)."
    )
    async def update_campaign(
        self, info: strawberry.Info, input: Annotated[UpdateCampaignInput, MUTATION_INPUT]
    ) -> UpdateCampaignResult:
        call = resolvers.update(info, input.campaign_code, changes_of(input))
        return await result_of(call, _success, UpdateCampaignError)

    @strawberry.mutation(
        description="Admin: run a DRAFT or PAUSED campaign (its window must not have ended, "
        "its coupon template must exist)."
    )
    async def activate_campaign(
        self, info: strawberry.Info, input: Annotated[CampaignCodeInput, MUTATION_INPUT]
    ) -> ActivateCampaignResult:
        call = resolvers.change_status(info, input.campaign_code, Action.ACTIVATE)
        return await result_of(call, _success, ActivateCampaignError)

    @strawberry.mutation(description="Admin: stop an ACTIVE campaign until activated again.")
    async def pause_campaign(
        self, info: strawberry.Info, input: Annotated[CampaignCodeInput, MUTATION_INPUT]
    ) -> PauseCampaignResult:
        call = resolvers.change_status(info, input.campaign_code, Action.PAUSE)
        return await result_of(call, _success, PauseCampaignError)

    @strawberry.mutation(
        description="Admin: end a campaign for good (DRAFT, ACTIVE or PAUSED). What it gave "
        "stays; returns still take back its points."
    )
    async def end_campaign(
        self, info: strawberry.Info, input: Annotated[CampaignCodeInput, MUTATION_INPUT]
    ) -> EndCampaignResult:
        call = resolvers.change_status(info, input.campaign_code, Action.END)
        return await result_of(call, _success, EndCampaignError)
