from __future__ import annotations

from typing import Any

from db.models import Member
from domain.auth import Role
from resolvers.auth import require
from services import privacy as privacy_service
from services import privacy_export


async def erase_member(
    info: Any, external_id: str, *, reason: str, idempotency_key: str
) -> tuple[Member, int]:
    return await privacy_service.erase(
        require(info, Role.ADMIN),
        external_id=external_id,
        reason=reason,
        idempotency_key=idempotency_key,
    )


async def export_link(
    info: Any, *, member: Member | None = None, external_id: str | None = None
) -> privacy_export.ExportLink | None:
    principal = require(info, Role.ADMIN, Role.MEMBER)
    return await privacy_export.link(
        principal, info.context.tokens, member=member, external_id=external_id
    )
