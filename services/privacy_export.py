"""A member's data as one JSON document (issue 18.2), streamed.

Everything is read in one read-only transaction (REPEATABLE READ on PostgreSQL: a snapshot,
so the document is consistent even while the member keeps shopping), section by section in
batches by id, and written out as it is read: a member with 100,000 ledger rows costs one
batch of memory, not the document."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from tortoise.transactions import in_transaction

from db.connection import is_postgres
from db.models import Member
from db.repositories import privacy as privacy_repo
from domain.auth import Principal, Role
from services import members as member_service
from services import tokens as token_service
from services.clock import wall_now
from services.tokens import TokenSettings

EXPORT_PATH = "/exports/members/"
PROFILE = (
    "id",
    "external_id",
    "display_name",
    "email",
    "phone",
    "birthday_month",
    "birthday_day",
    "consent_marketing",
    "consent_profiling",
    "joined_at",
    "tier_id",
    "tier_since",
    "tier_valid_until",
    "points_available",
    "points_pending",
    "points_held",
    "points_shortfall",
    "qualifying_spend",
    "erased_at",
)


@dataclass(frozen=True)
class ExportLink:
    path: str
    expires_at: datetime


def link_for(member: Member, principal: Principal, settings: TokenSettings) -> ExportLink:
    token, expires = token_service.sign_export(
        settings, programme_id=principal.programme_id, member_id=member.id
    )
    return ExportLink(path=EXPORT_PATH + token, expires_at=expires)


async def link(
    principal: Principal, settings: TokenSettings, *, member: Member | None, external_id: str | None
) -> ExportLink | None:
    """An admin's link for any member of its programme, a member token's for itself."""
    if member is None and external_id is not None:
        member = await member_service.find_by_external_id(principal, external_id)
    if member is None or member_service.visible_to(principal, member) is None:
        return None
    if principal.role not in (Role.ADMIN, Role.MEMBER):
        return None
    return link_for(member, principal, settings)


async def exists(programme_id: int, member_id: int) -> bool:
    return await Member.filter(programme_id=programme_id, id=member_id).exists()


def _plain(value: Any) -> Any:
    """What orjson does not know (asyncpg's own UUID, Decimal): as text."""
    return str(value)


def _json(value: Any) -> bytes:
    return orjson.dumps(value, default=_plain, option=orjson.OPT_NAIVE_UTC)


async def stream(
    programme_id: int, member_id: int, *, batch: int = privacy_repo.BATCH
) -> AsyncIterator[bytes]:
    """The document, in pieces. Empty when the member is not the programme's."""
    async with in_transaction() as connection:
        if is_postgres():
            await connection.execute_script(
                "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
            )
        member = await privacy_repo.member_row(connection, programme_id, member_id)
        if member is None:
            return
        profile = {name: member[name] for name in PROFILE}
        yield b'{"exportedAt":' + _json(wall_now()) + b',"member":' + _json(profile)
        yield b',"segment":' + _json(await privacy_repo.segment_row(connection, member_id))
        current: str | None = None
        first_row = True
        async for name, rows in privacy_repo.export_batches(connection, member_id, batch=batch):
            if name != current:
                yield (b"]" if current else b"") + b',"' + name.encode() + b'":['
                current, first_row = name, True
            if rows:
                body = b",".join(_json(row) for row in rows)
                yield (b"" if first_row else b",") + body
                first_row = False
        yield b"]" if current else b""
        yield b"}"
