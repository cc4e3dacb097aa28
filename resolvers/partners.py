from __future__ import annotations

from datetime import date, datetime
from typing import Any

from db.models import Partner, PartnerLink, PartnerTransfer
from domain.auth import Role
from domain.errors import check_page_size
from domain.partners import PartnerTerms
from resolvers.auth import STAFF, require
from resolvers.ids import BIGINT_MAX, decode_cursor, encode_cursor
from services.keys import IssuedKey
from services.partners import admin, credits, links, queries, reversals, statements
from services.partners import transfers as transfers_out

LINK_CURSOR = "link:"
TRANSFER_CURSOR = "ptx:"
LINKERS = (Role.ADMIN, Role.STOREFRONT, Role.MEMBER)


def link_cursor(link: PartnerLink) -> str:
    return encode_cursor(LINK_CURSOR, link.id)


def transfer_cursor(transfer: PartnerTransfer) -> str:
    return encode_cursor(TRANSFER_CURSOR, transfer.id)


async def partners(info: Any) -> list[Partner]:
    return await queries.all_partners(require(info, Role.ADMIN))


async def partner(info: Any, code: str) -> Partner | None:
    return await queries.partner(require(info, Role.ADMIN, Role.PARTNER), code)


async def create_partner(
    info: Any, *, code: str, name: str, terms: PartnerTerms, idempotency_key: str
) -> Partner:
    return await admin.create(
        require(info, Role.ADMIN),
        code=code,
        name=name,
        terms=terms,
        idempotency_key=idempotency_key,
    )


async def update_partner(
    info: Any, *, code: str, name: str | None, terms: PartnerTerms | None
) -> Partner:
    return await admin.update(require(info, Role.ADMIN), code=code, name=name, terms=terms)


async def suspend_partner(info: Any, *, code: str, suspended: bool) -> Partner:
    return await admin.set_status(require(info, Role.ADMIN), code=code, suspended=suspended)


async def issue_partner_key(
    info: Any, *, code: str, label: str, expires_at: datetime | None = None
) -> IssuedKey:
    return await admin.issue_key(
        require(info, Role.ADMIN), code=code, label=label, expires_at=expires_at
    )


async def revoke_partner_key(info: Any, *, display_prefix: str) -> int:
    return await admin.revoke_key(require(info, Role.ADMIN), display_prefix=display_prefix)


async def credit_from_partner(info: Any, **kwargs: Any) -> PartnerTransfer:
    return await credits.credit(require(info, Role.PARTNER), **kwargs)


async def link_account(info: Any, **kwargs: Any) -> PartnerLink:
    return await links.link_by_member(require(info, *LINKERS), **kwargs)


async def request_link(info: Any, **kwargs: Any) -> PartnerLink:
    return await links.link_by_partner(require(info, Role.PARTNER), **kwargs)


async def unlink_account(info: Any, **kwargs: Any) -> PartnerLink:
    return await links.unlink(require(info, *LINKERS, Role.PARTNER), **kwargs)


async def linked_members(
    info: Any, *, first: int, after: str | None
) -> tuple[list[PartnerLink], bool]:
    check_page_size(first)
    return await links.linked_members(
        require(info, Role.PARTNER),
        first=first,
        after_id=decode_cursor(LINK_CURSOR, after, maximum=BIGINT_MAX),
    )


async def transfers(
    info: Any, *, partner_code: str | None, status: str | None, first: int, after: str | None
) -> tuple[list[PartnerTransfer], bool]:
    check_page_size(first)
    return await queries.transfers(
        require(info, Role.ADMIN, Role.PARTNER),
        partner_code=partner_code,
        status=status,
        first=first,
        after_id=decode_cursor(TRANSFER_CURSOR, after, maximum=BIGINT_MAX),
    )


async def transfers_by_ids(info: Any, ids: list[int]) -> dict[int, PartnerTransfer]:
    return await queries.transfers_by_ids(require(info, *STAFF, Role.MEMBER, Role.PARTNER), ids)


async def tier_codes(info: Any) -> dict[int, str]:
    return {t.id: t.code for t in await info.context.loaders.tiers()}


async def transfer_to_partner(info: Any, **kwargs: Any) -> PartnerTransfer:
    return await transfers_out.request(require(info, *LINKERS), **kwargs)


async def confirm_transfer(info: Any, **kwargs: Any) -> PartnerTransfer:
    return await transfers_out.confirm(require(info, Role.PARTNER), **kwargs)


async def reject_transfer(info: Any, **kwargs: Any) -> PartnerTransfer:
    return await transfers_out.reject(require(info, Role.PARTNER), **kwargs)


async def reverse_transfer(info: Any, **kwargs: Any) -> PartnerTransfer:
    return await reversals.reverse(require(info, Role.ADMIN), **kwargs)


async def statement(info: Any, *, partner_code: str, day: date) -> statements.Statement:
    return await statements.statement(
        require(info, Role.ADMIN, Role.PARTNER), partner_code=partner_code, day=day
    )
