from __future__ import annotations

from datetime import datetime
from typing import Any

from db.models import ApiKey
from domain.auth import Role
from resolvers.auth import InvalidArgument, require
from resolvers.ids import decode_cursor, encode_cursor
from services import keys as key_service

CURSOR = "key:"
MAX_PAGE = 100


def cursor_for(row: ApiKey) -> str:
    return encode_cursor(CURSOR, row.id)


async def create_api_key(
    info: Any, role: Role, *, label: str, expires_at: datetime | None, idempotency_key: str
) -> key_service.CreatedKey:
    return await key_service.create_over_api(
        require(info, Role.ADMIN),
        role,
        label=label,
        expires_at=expires_at,
        idempotency_key=idempotency_key,
    )


async def revoke_api_key(info: Any, key_id: int) -> ApiKey:
    return await key_service.revoke_by_id(require(info, Role.ADMIN), key_id)


async def api_keys(info: Any, *, first: int, after: str | None) -> tuple[list[ApiKey], bool]:
    principal = require(info, Role.ADMIN)
    if not 1 <= first <= MAX_PAGE:
        raise InvalidArgument(f"`first` must be 1-{MAX_PAGE}")
    return await key_service.page(principal, first=first, after_id=decode_cursor(CURSOR, after))


async def api_keys_by_ids(info: Any, ids: list[int]) -> list[ApiKey]:
    """For `node(id:)`: null, not an error, for whoever may not see them."""
    principal = require(info)
    if principal.role is not Role.ADMIN:
        return []
    return await key_service.find(principal, ids)
