"""Privacy (issue 18.2-18.4): erasing a member."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers import privacy as resolvers
from schema.errors import MUTATION_INPUT, error_type, result_of, result_union
from schema.members import Member
from schema.privacy_types import MemberExport


@strawberry.input(description="Whom to erase, and why (kept on the ERASE ledger row).")
class EraseMemberInput:
    external_id: str = strawberry.field(description="The member's current externalId.")
    reason: str = strawberry.field(description="Why, 1-200 characters; no personal data.")
    idempotency_key: str = strawberry.field(description="A retry with it changes nothing.")


@strawberry.type(description="The member as erasure left it: a pseudonym and no profile.")
class EraseMemberSuccess:
    member: Member = strawberry.field(description="The erased member (same global id).")
    forfeited_points: int = strawberry.field(
        description="The spendable balance it forfeited (an ERASE ledger row)."
    )


@strawberry.type
class PrivacyQuery:
    @strawberry.field(
        description="Admin: a link to everything held about a member (profile, consents, tier "
        "history, ledger, orders, holds, coupons, referrals, check-ins, reviews, segment, "
        "recommendations, events); null if no such member."
    )
    async def export_member(
        self,
        info: strawberry.Info,
        external_id: Annotated[str, strawberry.argument(description="The member's externalId.")],
    ) -> MemberExport | None:
        return MemberExport.from_link(await resolvers.export_link(info, external_id=external_id))


EraseMemberError = error_type("EraseMemberError")
EraseMemberResult = result_union("EraseMemberResult", EraseMemberSuccess, EraseMemberError)


@strawberry.type
class PrivacyMutation:
    @strawberry.mutation(
        description="Admin: erase a member. Its name, e-mail, phone, birthday and consents go, "
        "its externalId becomes a pseudonym (the old one may register again, as someone new), "
        "its tokens are refused, its segment and recommendations are deleted, and its "
        "spendable balance is forfeited. Orders and the ledger stay, so totals still add up."
    )
    async def erase_member(
        self, info: strawberry.Info, input: Annotated[EraseMemberInput, MUTATION_INPUT]
    ) -> EraseMemberResult:
        return await result_of(
            resolvers.erase_member(
                info,
                input.external_id,
                reason=input.reason,
                idempotency_key=input.idempotency_key,
            ),
            lambda done: EraseMemberSuccess(
                member=Member.from_row(done[0]), forfeited_points=done[1]
            ),
            EraseMemberError,
        )
