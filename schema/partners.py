"""Partners: admin set-up and keys, linked accounts, transfers in and out, statements."""

from __future__ import annotations

from datetime import date as datetime_date
from typing import Annotated

import strawberry

from resolvers import partners as resolvers
from schema.errors import MUTATION_INPUT, result_of
from schema.pagination import Edge, page_info
from schema.partner_inputs import (
    ConfirmPartnerTransferInput,
    CreatePartnerInput,
    CreditFromPartnerInput,
    IssuePartnerKeyInput,
    LinkPartnerAccountInput,
    RejectPartnerTransferInput,
    RequestPartnerLinkInput,
    ReversePartnerTransferInput,
    RevokePartnerKeyInput,
    SuspendPartnerInput,
    TransferToPartnerInput,
    UnlinkPartnerAccountInput,
    UpdatePartnerInput,
)
from schema.partner_results import (
    ConfirmPartnerTransferError,
    ConfirmPartnerTransferResult,
    CreatePartnerError,
    CreatePartnerResult,
    CreditFromPartnerError,
    CreditFromPartnerResult,
    IssuePartnerKeyError,
    IssuePartnerKeyResult,
    IssuePartnerKeySuccess,
    LinkPartnerAccountError,
    LinkPartnerAccountResult,
    PartnerLinkSuccess,
    PartnerSuccess,
    PartnerTransferSuccess,
    RejectPartnerTransferError,
    RejectPartnerTransferResult,
    RequestPartnerLinkError,
    RequestPartnerLinkResult,
    ReversePartnerTransferError,
    ReversePartnerTransferResult,
    RevokePartnerKeyError,
    RevokePartnerKeyResult,
    RevokePartnerKeySuccess,
    SuspendPartnerError,
    SuspendPartnerResult,
    TransferToPartnerError,
    TransferToPartnerResult,
    UnlinkPartnerAccountError,
    UnlinkPartnerAccountResult,
    UpdatePartnerError,
    UpdatePartnerResult,
)
from schema.partner_types import Partner, PartnerTransfer, PartnerTransferStatus
from schema.partner_views import (
    LinkedMember,
    LinkedMemberConnection,
    PartnerLink,
    PartnerStatement,
    PartnerTransferConnection,
)
from schema.points import node_id


def _partner(row: object) -> PartnerSuccess:
    return PartnerSuccess(partner=Partner.from_row(row))  # type: ignore[arg-type]


def _transfer(row: object) -> PartnerTransferSuccess:
    return PartnerTransferSuccess(transfer=PartnerTransfer.from_row(row))  # type: ignore[arg-type]


def _link(row: object) -> PartnerLinkSuccess:
    return PartnerLinkSuccess(link=PartnerLink.from_row(row))  # type: ignore[arg-type]


@strawberry.type
class PartnerQuery:
    @strawberry.field(description="Admin: the programme's partners, by code.")
    async def partners(self, info: strawberry.Info) -> list[Partner]:
        return [Partner.from_row(p) for p in await resolvers.partners(info)]

    @strawberry.field(description="Admin: a partner by code; a partner key: itself only.")
    async def partner(
        self,
        info: strawberry.Info,
        code: Annotated[str, strawberry.argument(description="Its code.")],
    ) -> Partner | None:
        row = await resolvers.partner(info, code)
        return Partner.from_row(row) if row else None

    @strawberry.field(description="Partner key: the members linked to you, oldest link first.")
    async def linked_members(
        self,
        info: strawberry.Info,
        first: Annotated[int, strawberry.argument(description="Page size, 1-100.")],
        after: Annotated[str | None, strawberry.argument(description="Cursor.")] = None,
    ) -> LinkedMemberConnection:
        rows, has_next = await resolvers.linked_members(info, first=first, after=after)
        tiers = await resolvers.tier_codes(info)
        edges = [Edge(LinkedMember.from_row(r, tiers), r, resolvers.link_cursor) for r in rows]
        return LinkedMemberConnection(edges=edges, page_info=page_info(edges, has_next, after))

    @strawberry.field(
        description="Transfers, oldest first. Partner key: yours only; admin: name the partner."
    )
    async def partner_transfers(
        self,
        info: strawberry.Info,
        first: Annotated[int, strawberry.argument(description="Page size, 1-100.")],
        after: Annotated[str | None, strawberry.argument(description="Cursor.")] = None,
        status: Annotated[
            PartnerTransferStatus | None,
            strawberry.argument(description="Only this status (e.g. PENDING, to poll)."),
        ] = None,
        partner_code: Annotated[
            str | None, strawberry.argument(description="Admin: whose transfers.")
        ] = None,
    ) -> PartnerTransferConnection:
        rows, has_next = await resolvers.transfers(
            info,
            partner_code=partner_code,
            status=status.value if status else None,
            first=first,
            after=after,
        )
        edges = [Edge(PartnerTransfer.from_row(r), r, resolvers.transfer_cursor) for r in rows]
        return PartnerTransferConnection(edges=edges, page_info=page_info(edges, has_next, after))

    @strawberry.field(
        description="Admin, or the partner for itself: every transfer event of one local day, "
        "with totals, for settlement. Stable once the day has ended."
    )
    async def partner_statement(
        self,
        info: strawberry.Info,
        partner_code: Annotated[str, strawberry.argument(description="The partner's code.")],
        date: Annotated[
            datetime_date, strawberry.argument(description="The day (programme's time zone).")
        ],
    ) -> PartnerStatement:
        found = await resolvers.statement(info, partner_code=partner_code, day=date)
        return PartnerStatement.from_service(found)


@strawberry.type
class PartnerMutation:
    @strawberry.mutation(description="Admin: add a partner platform with its terms.")
    async def create_partner(
        self, info: strawberry.Info, input: Annotated[CreatePartnerInput, MUTATION_INPUT]
    ) -> CreatePartnerResult:
        return await result_of(
            resolvers.create_partner(
                info,
                code=input.code,
                name=input.name,
                terms=input.terms.to_domain(),
                idempotency_key=input.idempotency_key,
            ),
            _partner,
            CreatePartnerError,
        )

    @strawberry.mutation(description="Admin: change a partner's name or terms.")
    async def update_partner(
        self, info: strawberry.Info, input: Annotated[UpdatePartnerInput, MUTATION_INPUT]
    ) -> UpdatePartnerResult:
        return await result_of(
            resolvers.update_partner(
                info,
                code=input.code,
                name=input.name,
                terms=input.terms.to_domain() if input.terms else None,
            ),
            _partner,
            UpdatePartnerError,
        )

    @strawberry.mutation(description="Admin: suspend a partner (or lift it).")
    async def suspend_partner(
        self, info: strawberry.Info, input: Annotated[SuspendPartnerInput, MUTATION_INPUT]
    ) -> SuspendPartnerResult:
        return await result_of(
            resolvers.suspend_partner(info, code=input.code, suspended=input.suspended),
            _partner,
            SuspendPartnerError,
        )

    @strawberry.mutation(description="Admin: issue a partner API key, shown once.")
    async def issue_partner_key(
        self, info: strawberry.Info, input: Annotated[IssuePartnerKeyInput, MUTATION_INPUT]
    ) -> IssuePartnerKeyResult:
        return await result_of(
            resolvers.issue_partner_key(
                info, code=input.partner_code, label=input.label, expires_at=input.expires_at
            ),
            lambda k: IssuePartnerKeySuccess(secret=k.secret, display_prefix=k.display_prefix),
            IssuePartnerKeyError,
        )

    @strawberry.mutation(description="Admin: revoke a partner API key.")
    async def revoke_partner_key(
        self, info: strawberry.Info, input: Annotated[RevokePartnerKeyInput, MUTATION_INPUT]
    ) -> RevokePartnerKeyResult:
        return await result_of(
            resolvers.revoke_partner_key(info, display_prefix=input.display_prefix),
            lambda n: RevokePartnerKeySuccess(revoked=n),
            RevokePartnerKeyError,
        )

    @strawberry.mutation(description="Partner key: credit points for your units, once per id.")
    async def credit_from_partner(
        self, info: strawberry.Info, input: Annotated[CreditFromPartnerInput, MUTATION_INPUT]
    ) -> CreditFromPartnerResult:
        return await result_of(
            resolvers.credit_from_partner(
                info,
                partner_transfer_id=input.partner_transfer_id,
                partner_member_id=input.partner_member_id,
                partner_units=input.partner_units,
            ),
            _transfer,
            CreditFromPartnerError,
        )

    @strawberry.mutation(description="Member or storefront: link the member's partner account.")
    async def link_partner_account(
        self, info: strawberry.Info, input: Annotated[LinkPartnerAccountInput, MUTATION_INPUT]
    ) -> LinkPartnerAccountResult:
        return await result_of(
            resolvers.link_account(
                info,
                partner_code=input.partner_code,
                partner_member_id=input.partner_member_id,
                member_external_id=input.member_external_id,
                share_balance=input.share_balance,
                idempotency_key=input.idempotency_key,
            ),
            _link,
            LinkPartnerAccountError,
        )

    @strawberry.mutation(description="Partner key: link a member, verifying one attribute.")
    async def request_partner_link(
        self, info: strawberry.Info, input: Annotated[RequestPartnerLinkInput, MUTATION_INPUT]
    ) -> RequestPartnerLinkResult:
        return await result_of(
            resolvers.request_link(
                info,
                partner_member_id=input.partner_member_id,
                member_external_id=input.member_external_id,
                verify_email=input.verify_email,
                verify_last_name=input.verify_last_name,
                share_balance=input.share_balance,
            ),
            _link,
            RequestPartnerLinkError,
        )

    @strawberry.mutation(description="End a link (member, storefront or the partner).")
    async def unlink_partner_account(
        self, info: strawberry.Info, input: Annotated[UnlinkPartnerAccountInput, MUTATION_INPUT]
    ) -> UnlinkPartnerAccountResult:
        return await result_of(
            resolvers.unlink_account(
                info,
                partner_code=input.partner_code,
                member_external_id=input.member_external_id,
                partner_member_id=input.partner_member_id,
            ),
            _link,
            UnlinkPartnerAccountError,
        )

    @strawberry.mutation(description="Member or storefront: send points to the linked partner.")
    async def transfer_to_partner(
        self, info: strawberry.Info, input: Annotated[TransferToPartnerInput, MUTATION_INPUT]
    ) -> TransferToPartnerResult:
        return await result_of(
            resolvers.transfer_to_partner(
                info,
                partner_code=input.partner_code,
                points=input.points,
                member_external_id=input.member_external_id,
                idempotency_key=input.idempotency_key,
            ),
            _transfer,
            TransferToPartnerError,
        )

    @strawberry.mutation(description="Partner key: confirm a pending transfer out (COMPLETED).")
    async def confirm_partner_transfer(
        self, info: strawberry.Info, input: Annotated[ConfirmPartnerTransferInput, MUTATION_INPUT]
    ) -> ConfirmPartnerTransferResult:
        return await result_of(
            resolvers.confirm_transfer(
                info,
                transfer_id=node_id(input.id, "PartnerTransfer", "id"),
                partner_reference=input.partner_reference,
            ),
            _transfer,
            ConfirmPartnerTransferError,
        )

    @strawberry.mutation(description="Partner key: reject a pending transfer out (FAILED).")
    async def reject_partner_transfer(
        self, info: strawberry.Info, input: Annotated[RejectPartnerTransferInput, MUTATION_INPUT]
    ) -> RejectPartnerTransferResult:
        return await result_of(
            resolvers.reject_transfer(
                info, transfer_id=node_id(input.id, "PartnerTransfer", "id"), reason=input.reason
            ),
            _transfer,
            RejectPartnerTransferError,
        )

    @strawberry.mutation(description="Admin: reverse a completed transfer out, within 30 days.")
    async def reverse_partner_transfer(
        self, info: strawberry.Info, input: Annotated[ReversePartnerTransferInput, MUTATION_INPUT]
    ) -> ReversePartnerTransferResult:
        return await result_of(
            resolvers.reverse_transfer(
                info,
                transfer_id=node_id(input.id, "PartnerTransfer", "id"),
                reason=input.reason,
                idempotency_key=input.idempotency_key,
            ),
            _transfer,
            ReversePartnerTransferError,
        )
