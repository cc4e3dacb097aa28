from __future__ import annotations

from datetime import datetime
from typing import Any

from strawberry import relay

from db.models import AuditEntry
from domain.auth import Role
from resolvers.auth import InvalidArgument, require
from resolvers.ids import BIGINT_MAX, decode_cursor, encode_cursor, parse_id
from services.audit import trail as audit_trail

CURSOR = "audit:"
MAX_PAGE = 100


def cursor_for(row: AuditEntry) -> str:
    return encode_cursor(CURSOR, row.id)


def key_id_of(value: str | None, *, field: str) -> int | None:
    """The row id in an ApiKey global id; VALIDATION for anything else."""
    if value is None:
        return None
    try:
        parsed = relay.GlobalID.from_id(value)
    except Exception:
        parsed = None
    found = parse_id(parsed.node_id) if parsed and parsed.type_name == "ApiKey" else None
    if found is None:
        raise InvalidArgument(f"`{field}` is not the id of an ApiKey")
    return found


async def audit_log(
    info: Any,
    *,
    first: int,
    after: str | None,
    actor_key_id: str | None,
    target_id: str | None,
    operation: str | None,
    since: datetime | None,
    until: datetime | None,
) -> tuple[list[AuditEntry], bool]:
    principal = require(info, Role.ADMIN)
    if not 1 <= first <= MAX_PAGE:
        raise InvalidArgument(f"`first` must be 1-{MAX_PAGE}")
    return await audit_trail.page(
        principal,
        first=first,
        before_id=decode_cursor(CURSOR, after, maximum=BIGINT_MAX),
        actor_key_id=key_id_of(actor_key_id, field="actorKeyId"),
        target_id=target_id,
        operation=operation,
        since=since,
        until=until,
    )
