"""Challenge queries and mutations (admin); a member's challenges and badges are fields of
Member (schema/challenge_types.py)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from db.models import Challenge as ChallengeRow
from domain.challenges import ChallengeStatus as DomainStatus
from resolvers import challenges as resolvers
from schema.challenge_inputs import ChallengeCodeInput, CreateChallengeInput, challenge_of
from schema.challenge_types import Challenge, ChallengeConnection, ChallengeStatus
from schema.errors import MUTATION_INPUT, error_type, result_of, result_union
from schema.pagination import AFTER, FIRST, Edge, page_info


@strawberry.type(description="The challenge as the mutation left it.")
class ChallengeSuccess:
    challenge: Challenge = strawberry.field(description="The challenge.")


CreateChallengeError = error_type("CreateChallengeError")
EndChallengeError = error_type("EndChallengeError")
CreateChallengeResult = result_union(
    "CreateChallengeResult", ChallengeSuccess, CreateChallengeError
)
EndChallengeResult = result_union("EndChallengeResult", ChallengeSuccess, EndChallengeError)


def _success(row: ChallengeRow) -> ChallengeSuccess:
    return ChallengeSuccess(challenge=Challenge.from_row(row))


@strawberry.type
class ChallengeQuery:
    @strawberry.field(description="Admin: the programme's challenges, oldest first.")
    async def challenges(
        self,
        info: strawberry.Info,
        status: Annotated[
            ChallengeStatus | None,  # type: ignore[valid-type]
            strawberry.argument(description="Only challenges in this status."),
        ] = None,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = 20,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
    ) -> ChallengeConnection:
        rows, more = await resolvers.page(
            info,
            status=DomainStatus(status.value) if status is not None else None,
            first=first,
            after=after,
        )
        edges = [Edge(Challenge.from_row(r), r, resolvers.cursor) for r in rows]
        return ChallengeConnection(edges=edges, page_info=page_info(edges, more, after))


@strawberry.type
class ChallengeMutation:
    @strawberry.mutation(
        description="Admin: a new challenge, ACTIVE at once (facts in its window count)."
    )
    async def create_challenge(
        self, info: strawberry.Info, input: Annotated[CreateChallengeInput, MUTATION_INPUT]
    ) -> CreateChallengeResult:
        call = resolvers.create(info, challenge_of(input), idempotency_key=input.idempotency_key)
        return await result_of(call, _success, CreateChallengeError)

    @strawberry.mutation(
        description="Admin: end a challenge: no fact counts from now; what it gave stays."
    )
    async def end_challenge(
        self, info: strawberry.Info, input: Annotated[ChallengeCodeInput, MUTATION_INPUT]
    ) -> EndChallengeResult:
        call = resolvers.end(info, input.challenge_code)
        return await result_of(call, _success, EndChallengeError)
