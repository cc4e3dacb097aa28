"""Partners: admin set-up and keys, linked accounts, transfers in and out, statements."""

from __future__ import annotations

from datetime import date as datetime_date
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry import relay

from db.models import PartnerLink as LinkRow
from domain.partners import Direction, TransferStatus
from resolvers import partners as resolvers
from schema.errors import error_type, result_of, result_union
from schema.pagination import Edge, page_info
from schema.partner_types import (
    Partner,
    PartnerTermsInput,
    PartnerTransfer,
    PartnerTransferStatus,
    TransferDirection,
)
from schema.points import node_id
from services.partners import statements


@strawberry.type(description="A member's account at a partner, as the link records it.")
class PartnerLink:
    partner_code: str = strawberry.field(description="The partner's code.")
    partner_member_id: str = strawberry.field(description="The member's id at the partner.")
    member_external_id: str = strawberry.field(description="Our externalId of the member.")
    share_balance: bool = strawberry.field(
        description="The member consented to the partner seeing their available points."
    )
    linked_by: str = strawberry.field(description="Who made the link (member, key).")
    consented_at: datetime = strawberry.field(description="When the member's consent was given.")
    unlinked_at: datetime | None = strawberry.field(description="When unlinked, if it was.")

    @classmethod
    def from_row(cls, row: LinkRow) -> PartnerLink:
        return cls(
            partner_code=row.partner.code,
            partner_member_id=row.partner_member_id,
            member_external_id=row.member.external_id,
            share_balance=row.share_balance,
            linked_by=row.linked_by,
            consented_at=row.consented_at,
            unlinked_at=row.unlinked_at,
        )


@strawberry.type(description="What a partner key sees of a member linked to it, and no more.")
class LinkedMember:
    partner_member_id: str = strawberry.field(description="The member's id on your side.")
    display_name: str = strawberry.field(description="The member's display name.")
    tier_code: str | None = strawberry.field(description="The member's tier code.")
    available_points: int | None = strawberry.field(
        description="Available points; null unless the member consented to share them."
    )
    linked_at: datetime = strawberry.field(description="When the link was made.")

    @classmethod
    def from_row(cls, row: LinkRow, tier_codes: dict[int, str]) -> LinkedMember:
        member = row.member
        return cls(
            partner_member_id=row.partner_member_id,
            display_name=member.display_name,
            tier_code=tier_codes.get(member.tier_id) if member.tier_id else None,
            available_points=member.points_available if row.share_balance else None,
            linked_at=row.consented_at,
        )


@strawberry.type(description="A page of linked members.")
class LinkedMemberConnection(relay.Connection[LinkedMember]):
    pass


@strawberry.type(description="A page of partner transfers.")
class PartnerTransferConnection(relay.Connection[PartnerTransfer]):
    pass


@strawberry.type(description="One thing that happened to a transfer on the statement's day.")
class StatementLine:
    at: datetime = strawberry.field(description="When it happened.")
    status: PartnerTransferStatus = strawberry.field(
        description="The status the transfer reached at `at` (PENDING: requested)."
    )
    transfer: PartnerTransfer = strawberry.field(description="The transfer as it is now.")
    member_external_id: str = strawberry.field(description="Our externalId of the member.")


@strawberry.type(description="Lines of one direction and status, summed.")
class StatementTotal:
    direction: TransferDirection = strawberry.field(description="IN or OUT.")
    status: PartnerTransferStatus = strawberry.field(description="The lines' status.")
    count: int = strawberry.field(description="How many lines.")
    points: int = strawberry.field(description="Their points, summed.")
    partner_units: int = strawberry.field(description="Their partner units, summed.")


@strawberry.type(description="A partner's settlement statement for one day of the programme.")
class PartnerStatement:
    partner_code: str = strawberry.field(description="The partner.")
    date: datetime_date = strawberry.field(description="The day, in the programme's time zone.")
    timezone: str = strawberry.field(description="The programme's time zone.")
    lines: list[StatementLine] = strawberry.field(description="In time order.")
    totals: list[StatementTotal] = strawberry.field(description="Per direction and status.")

    @classmethod
    def from_service(cls, found: statements.Statement) -> PartnerStatement:
        return cls(
            partner_code=found.partner.code,
            date=found.day,
            timezone=found.timezone,
            lines=[
                StatementLine(
                    at=line.at,
                    status=TransferStatus(line.status),
                    transfer=PartnerTransfer.from_facts(line.transfer),
                    member_external_id=line.transfer.member_external_id,
                )
                for line in found.lines
            ],
            totals=[
                StatementTotal(
                    direction=Direction(t.direction),
                    status=TransferStatus(t.status),
                    count=t.count,
                    points=t.points,
                    partner_units=t.partner_units,
                )
                for t in found.totals
            ],
        )


# ---- inputs -------------------------------------------------------------------------------------


@strawberry.input(description="A new partner and its terms.")
class CreatePartnerInput:
    code: str = strawberry.field(description="1-32 letters, digits, '-' or '_'.")
    name: str = strawberry.field(description="Display name.")
    terms: PartnerTermsInput = strawberry.field(description="Rates, limits, directions.")
    idempotency_key: str = strawberry.field(description="Retry with the same key: created once.")


@strawberry.input(description="Change a partner; what is left out stays.")
class UpdatePartnerInput:
    code: str = strawberry.field(description="The partner's code.")
    name: str | None = strawberry.field(default=None, description="New display name.")
    terms: PartnerTermsInput | None = strawberry.field(
        default=None, description="New terms, replacing the old whole; for transfers from now on."
    )


@strawberry.input(description="Suspend a partner, or lift the suspension.")
class SuspendPartnerInput:
    code: str = strawberry.field(description="The partner's code.")
    suspended: bool = strawberry.field(default=True, description="False lifts the suspension.")


@strawberry.input(description="Issue an API key for a partner.")
class IssuePartnerKeyInput:
    partner_code: str = strawberry.field(description="The partner's code.")
    label: str = strawberry.field(default="", description="A note for the key list.")


@strawberry.input(description="Revoke a partner's key.")
class RevokePartnerKeyInput:
    display_prefix: str = strawberry.field(description="The key's displayed prefix.")


@strawberry.input(description="A partner credits points to a member linked to it.")
class CreditFromPartnerInput:
    partner_transfer_id: str = strawberry.field(
        description="Your id of this transfer: a retry with it credits once."
    )
    partner_member_id: str = strawberry.field(description="The member's id on your side.")
    partner_units: int = strawberry.field(description="Your units to convert at the inbound rate.")


@strawberry.input(description="Link the member's account at a partner (the member's consent).")
class LinkPartnerAccountInput:
    partner_code: str = strawberry.field(description="The partner's code.")
    partner_member_id: str = strawberry.field(description="The member's id at the partner.")
    member_external_id: str | None = strawberry.field(
        default=None, description="The member; a member token may leave it out for itself."
    )
    share_balance: bool = strawberry.field(
        default=False, description="Let the partner see the member's available points."
    )
    idempotency_key: str = strawberry.field(description="Retry with the same key: linked once.")


@strawberry.input(description="A partner asks to link one of our members, verifying them.")
class RequestPartnerLinkInput:
    partner_member_id: str = strawberry.field(description="The member's id on your side.")
    member_external_id: str = strawberry.field(description="Our externalId of the member.")
    verify_email: str | None = strawberry.field(
        default=None, description="The member's e-mail (one of this and verifyLastName)."
    )
    verify_last_name: str | None = strawberry.field(
        default=None, description="The member's last name (one of this and verifyEmail)."
    )
    share_balance: bool = strawberry.field(
        default=False, description="The member agreed to share their available points."
    )


@strawberry.input(description="End a link: by the member or storefront, or by the partner.")
class UnlinkPartnerAccountInput:
    partner_code: str | None = strawberry.field(
        default=None, description="Member or storefront: the partner's code."
    )
    member_external_id: str | None = strawberry.field(
        default=None, description="Storefront: the member; a member token leaves it out."
    )
    partner_member_id: str | None = strawberry.field(
        default=None, description="Partner key: the member's id on your side."
    )


@strawberry.input(description="Send the member's points to their linked partner account.")
class TransferToPartnerInput:
    partner_code: str = strawberry.field(description="The partner's code.")
    points: int = strawberry.field(
        description="Our points to send (held until the partner answers)."
    )
    member_external_id: str | None = strawberry.field(
        default=None, description="The member; a member token may leave it out for itself."
    )
    idempotency_key: str = strawberry.field(description="Retry with the same key: sent once.")


@strawberry.input(description="Partner key: you credited your side of a transfer out.")
class ConfirmPartnerTransferInput:
    id: relay.GlobalID = strawberry.field(description="The transfer's id.")
    partner_reference: str = strawberry.field(description="Your id of the credit on your side.")


@strawberry.input(description="Partner key: you could not credit your side of a transfer out.")
class RejectPartnerTransferInput:
    id: relay.GlobalID = strawberry.field(description="The transfer's id.")
    reason: str = strawberry.field(description="Why (1-200 characters).")


@strawberry.input(description="Admin: undo a completed transfer out by a new ledger row.")
class ReversePartnerTransferInput:
    id: relay.GlobalID = strawberry.field(description="The transfer's id.")
    reason: str = strawberry.field(description="Why (1-200 characters).")
    idempotency_key: str = strawberry.field(description="Retry with the same key: reversed once.")


# ---- results ------------------------------------------------------------------------------------


@strawberry.type(description="The partner as it now is.")
class PartnerSuccess:
    partner: Partner = strawberry.field(description="The partner.")


@strawberry.type(description="A partner key, shown once.")
class IssuePartnerKeySuccess:
    secret: str = strawberry.field(description="The key (lk_partner_…); only its hash is kept.")
    display_prefix: str = strawberry.field(description="What key lists show; revoke by it.")


@strawberry.type(description="How many keys were revoked.")
class RevokePartnerKeySuccess:
    revoked: int = strawberry.field(description="1, or 0 when no active key had the prefix.")


@strawberry.type(description="The transfer, as stored.")
class PartnerTransferSuccess:
    transfer: PartnerTransfer = strawberry.field(description="The transfer.")


@strawberry.type(description="The link, as stored.")
class PartnerLinkSuccess:
    link: PartnerLink = strawberry.field(description="The link.")


CreatePartnerError = error_type("CreatePartnerError")
UpdatePartnerError = error_type("UpdatePartnerError")
SuspendPartnerError = error_type("SuspendPartnerError")
IssuePartnerKeyError = error_type("IssuePartnerKeyError")
RevokePartnerKeyError = error_type("RevokePartnerKeyError")
CreditFromPartnerError = error_type("CreditFromPartnerError")
LinkPartnerAccountError = error_type("LinkPartnerAccountError")
RequestPartnerLinkError = error_type("RequestPartnerLinkError")
UnlinkPartnerAccountError = error_type("UnlinkPartnerAccountError")
TransferToPartnerError = error_type("TransferToPartnerError")
ConfirmPartnerTransferError = error_type("ConfirmPartnerTransferError")
RejectPartnerTransferError = error_type("RejectPartnerTransferError")
ReversePartnerTransferError = error_type("ReversePartnerTransferError")
TransferToPartnerResult = result_union(
    "TransferToPartnerResult", PartnerTransferSuccess, TransferToPartnerError
)
ConfirmPartnerTransferResult = result_union(
    "ConfirmPartnerTransferResult", PartnerTransferSuccess, ConfirmPartnerTransferError
)
RejectPartnerTransferResult = result_union(
    "RejectPartnerTransferResult", PartnerTransferSuccess, RejectPartnerTransferError
)
ReversePartnerTransferResult = result_union(
    "ReversePartnerTransferResult", PartnerTransferSuccess, ReversePartnerTransferError
)
CreatePartnerResult = result_union("CreatePartnerResult", PartnerSuccess, CreatePartnerError)
UpdatePartnerResult = result_union("UpdatePartnerResult", PartnerSuccess, UpdatePartnerError)
SuspendPartnerResult = result_union("SuspendPartnerResult", PartnerSuccess, SuspendPartnerError)
IssuePartnerKeyResult = result_union(
    "IssuePartnerKeyResult", IssuePartnerKeySuccess, IssuePartnerKeyError
)
RevokePartnerKeyResult = result_union(
    "RevokePartnerKeyResult", RevokePartnerKeySuccess, RevokePartnerKeyError
)
CreditFromPartnerResult = result_union(
    "CreditFromPartnerResult", PartnerTransferSuccess, CreditFromPartnerError
)
LinkPartnerAccountResult = result_union(
    "LinkPartnerAccountResult", PartnerLinkSuccess, LinkPartnerAccountError
)
RequestPartnerLinkResult = result_union(
    "RequestPartnerLinkResult", PartnerLinkSuccess, RequestPartnerLinkError
)
UnlinkPartnerAccountResult = result_union(
    "UnlinkPartnerAccountResult", PartnerLinkSuccess, UnlinkPartnerAccountError
)


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
        self, info: strawberry.Info, input: CreatePartnerInput
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
        self, info: strawberry.Info, input: UpdatePartnerInput
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
        self, info: strawberry.Info, input: SuspendPartnerInput
    ) -> SuspendPartnerResult:
        return await result_of(
            resolvers.suspend_partner(info, code=input.code, suspended=input.suspended),
            _partner,
            SuspendPartnerError,
        )

    @strawberry.mutation(description="Admin: issue a partner API key, shown once.")
    async def issue_partner_key(
        self, info: strawberry.Info, input: IssuePartnerKeyInput
    ) -> IssuePartnerKeyResult:
        return await result_of(
            resolvers.issue_partner_key(info, code=input.partner_code, label=input.label),
            lambda k: IssuePartnerKeySuccess(secret=k.secret, display_prefix=k.display_prefix),
            IssuePartnerKeyError,
        )

    @strawberry.mutation(description="Admin: revoke a partner API key.")
    async def revoke_partner_key(
        self, info: strawberry.Info, input: RevokePartnerKeyInput
    ) -> RevokePartnerKeyResult:
        return await result_of(
            resolvers.revoke_partner_key(info, display_prefix=input.display_prefix),
            lambda n: RevokePartnerKeySuccess(revoked=n),
            RevokePartnerKeyError,
        )

    @strawberry.mutation(description="Partner key: credit points for your units, once per id.")
    async def credit_from_partner(
        self, info: strawberry.Info, input: CreditFromPartnerInput
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
        self, info: strawberry.Info, input: LinkPartnerAccountInput
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
        self, info: strawberry.Info, input: RequestPartnerLinkInput
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
        self, info: strawberry.Info, input: UnlinkPartnerAccountInput
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
        self, info: strawberry.Info, input: TransferToPartnerInput
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
        self, info: strawberry.Info, input: ConfirmPartnerTransferInput
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
        self, info: strawberry.Info, input: RejectPartnerTransferInput
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
        self, info: strawberry.Info, input: ReversePartnerTransferInput
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
