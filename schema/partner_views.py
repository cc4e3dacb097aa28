"""What partners and admins read: a link, a linked member, pages, the day's statement."""

from __future__ import annotations

from datetime import date as datetime_date
from datetime import datetime

import strawberry
from strawberry import relay

from db.models import PartnerLink as LinkRow
from domain.partners import Direction, TransferStatus
from schema.partner_types import PartnerTransfer, PartnerTransferStatus, TransferDirection
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
