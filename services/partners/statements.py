"""Settlement: every transfer event of one local day, with totals, for line-by-line
reconciliation by both companies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from db.models import Partner, PartnerTransfer
from db.repositories import partners as partner_repo
from db.repositories import programmes as programme_repo
from domain.auth import Principal, Role
from domain.errors import NotFound
from domain.partner_statement import (
    StatementLine,
    StatementTotal,
    TransferFacts,
    statement_lines,
    statement_totals,
)
from domain.partners import local_day_bounds
from services.clock import zone_of
from services.partners.admin import by_code


@dataclass(frozen=True)
class Statement:
    partner: Partner
    day: date
    timezone: str
    lines: list[StatementLine]
    totals: list[StatementTotal]


def facts_of(row: PartnerTransfer, external_id: str) -> TransferFacts:
    return TransferFacts(
        id=row.id,
        direction=row.direction,
        status=row.status,
        member_external_id=external_id,
        partner_member_id=row.partner_member_id,
        partner_transfer_id=row.partner_transfer_id,
        partner_reference=row.partner_reference,
        partner_units=row.partner_units,
        points=row.points,
        rate=(row.rate_source, row.rate_target),
        reason=row.reason,
        created_at=row.created_at,
        closed_at=row.closed_at,
        reversed_at=row.reversed_at,
    )


async def statement(principal: Principal, *, partner_code: str, day: date) -> Statement:
    """Admin: any partner of the programme; a partner key: its own only."""
    partner = await by_code(principal, partner_code)
    if principal.role is Role.PARTNER and partner.id != principal.partner_id:
        raise NotFound("no partner with this code", field="partnerCode")
    programme = await programme_repo.get(principal.programme_id)
    zone = zone_of(programme)
    since, until = local_day_bounds(day, zone)
    rows = await partner_repo.touched_between(partner.id, since, until)
    lines = statement_lines([facts_of(r, e) for r, e in rows], since, until)
    return Statement(partner, day, programme.timezone, lines, statement_totals(lines))
