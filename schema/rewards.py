"""The rewards catalogue (points mall): admins write it, everyone with a key reads it."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain import rewards as domain
from resolvers import rewards as resolvers
from schema.errors import MUTATION_INPUT, error_type, result_of, result_union
from schema.pagination import AFTER, BEFORE, FIRST, LAST, Edge, page_info
from schema.reward_inputs import CreateRewardInput, RewardCodeInput, UpdateRewardInput
from schema.reward_types import Reward, RewardConnection, RewardStatus
from services.rewards.catalogue import RewardView


@strawberry.type(description="The reward as the mutation left it.")
class RewardSuccess:
    reward: Reward = strawberry.field(description="The reward.")


CreateRewardError = error_type("CreateRewardError")
UpdateRewardError = error_type("UpdateRewardError")
RetireRewardError = error_type("RetireRewardError")

CreateRewardResult = result_union("CreateRewardResult", RewardSuccess, CreateRewardError)
UpdateRewardResult = result_union("UpdateRewardResult", RewardSuccess, UpdateRewardError)
RetireRewardResult = result_union("RetireRewardResult", RewardSuccess, RetireRewardError)


def _success(view: RewardView) -> RewardSuccess:
    return RewardSuccess(reward=Reward.from_view(view))


@strawberry.type
class RewardQuery:
    @strawberry.field(
        description="The catalogue, oldest first. A member token (or a staff key with "
        "memberExternalId) sees what the member may redeem now: ACTIVE, in its window on the "
        "programme's clock, in stock, open to its tier. A storefront key naming nobody sees "
        "that shelf as a guest (rewards open to every tier). An admin key naming nobody sees "
        "every reward, RETIRED ones too."
    )
    async def rewards(
        self,
        info: strawberry.Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
        last: Annotated[int | None, strawberry.argument(description=LAST)] = None,
        before: Annotated[str | None, strawberry.argument(description=BEFORE)] = None,
        category: Annotated[
            str | None, strawberry.argument(description="Only rewards on this shelf.")
        ] = None,
        affordable: Annotated[
            bool,
            strawberry.argument(
                description="Only rewards whose pointsPrice the member's spendable points "
                "cover (needs a member)."
            ),
        ] = False,
        status: Annotated[
            RewardStatus | None,  # type: ignore[valid-type]
            strawberry.argument(description="Only rewards in this status (members: ACTIVE)."),
        ] = None,
        member_external_id: Annotated[
            str | None,
            strawberry.argument(
                description="Staff keys: the member whose catalogue to show. A member token "
                "may leave it out for itself."
            ),
        ] = None,
    ) -> RewardConnection:
        views, more = await resolvers.page(
            info,
            first=first,
            after=after,
            last=last,
            before=before,
            member_external_id=member_external_id,
            category=category,
            status=domain.RewardStatus(status.value) if status is not None else None,
            affordable=affordable,
        )
        edges = [Edge(Reward.from_view(v), v, resolvers.cursor) for v in views]
        return RewardConnection(
            edges=edges, page_info=page_info(edges, more, after, last=last, before=before)
        )

    @strawberry.field(
        description="One reward by its code; null when there is none you may see (only admins "
        "see RETIRED ones)."
    )
    async def reward(
        self,
        info: strawberry.Info,
        code: Annotated[str, strawberry.argument(description="The reward's code.")],
    ) -> Reward | None:
        view = await resolvers.by_code(info, code)
        return Reward.from_view(view) if view else None


@strawberry.type
class RewardMutation:
    @strawberry.mutation(description="Admin: a new reward in the catalogue, ACTIVE at once.")
    async def create_reward(
        self, info: strawberry.Info, input: Annotated[CreateRewardInput, MUTATION_INPUT]
    ) -> CreateRewardResult:
        async def call() -> RewardView:
            spec = input.to_spec()
            return await resolvers.create(info, spec, idempotency_key=input.idempotency_key)

        return await result_of(call(), _success, CreateRewardError)

    @strawberry.mutation(description="Admin: change a reward (see UpdateRewardInput).")
    async def update_reward(
        self, info: strawberry.Info, input: Annotated[UpdateRewardInput, MUTATION_INPUT]
    ) -> UpdateRewardResult:
        async def call() -> RewardView:
            return await resolvers.update(info, input.reward_code, input.changes)

        return await result_of(call(), _success, UpdateRewardError)

    @strawberry.mutation(
        description="Admin: take a reward out of the catalogue for good; redemptions made stay "
        "as they are. Retiring a RETIRED reward changes nothing and answers it."
    )
    async def retire_reward(
        self, info: strawberry.Info, input: Annotated[RewardCodeInput, MUTATION_INPUT]
    ) -> RetireRewardResult:
        return await result_of(
            resolvers.retire(info, input.reward_code), _success, RetireRewardError
        )
