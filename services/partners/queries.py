"""Reads: an admin sees every partner of its programme; a partner key only itself, its own
transfers and its linked members."""

from __future__ import annotations

from db.models import Partner, PartnerTransfer
from db.repositories import partners as partner_repo
from domain.auth import Principal, Role
from domain.errors import Collector, NotFound
from domain.partners import TransferStatus, check_code
from services.partners.access import calling_partner
from services.partners.admin import by_code


async def all_partners(principal: Principal) -> list[Partner]:
    return await partner_repo.all_of(principal.programme_id)


async def partner(principal: Principal, code: str) -> Partner | None:
    errors = Collector()
    check_code(errors, code)
    if errors.errors:
        return None
    found = await partner_repo.by_code(principal.programme_id, code)
    if found is None or (principal.role is Role.PARTNER and found.id != principal.partner_id):
        return None
    return found


async def _partner_of(principal: Principal, partner_code: str | None) -> Partner:
    if principal.role is Role.PARTNER:
        return await calling_partner(principal)
    if partner_code is None:
        raise NotFound("name the partner (partnerCode)", field="partnerCode")
    return await by_code(principal, partner_code)


async def transfers(
    principal: Principal,
    *,
    partner_code: str | None,
    status: str | None,
    first: int,
    after_id: int | None,
) -> tuple[list[PartnerTransfer], bool]:
    partner = await _partner_of(principal, partner_code)
    rows = await partner_repo.transfers_page(
        partner.id,
        status=TransferStatus(status).value if status else None,
        member_id=None,
        first=first,
        after_id=after_id,
    )
    return rows[:first], len(rows) > first


async def transfers_by_ids(principal: Principal, ids: list[int]) -> dict[int, PartnerTransfer]:
    rows = await partner_repo.transfers_by_ids(principal.programme_id, ids)
    if principal.role is Role.PARTNER:
        rows = [r for r in rows if r.partner_id == principal.partner_id]
    elif principal.role is Role.MEMBER:
        rows = [r for r in rows if r.member_id == principal.member_id]
    return {r.id: r for r in rows}
