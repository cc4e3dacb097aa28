from __future__ import annotations

from typing import Any

from db.models import Member
from domain.auth import Role
from resolvers.auth import require
from services import privacy as privacy_service


async def erase_member(
    info: Any, external_id: str, *, reason: str, idempotency_key: str
) -> tuple[Member, int]:
    return await privacy_service.erase(
        require(info, Role.ADMIN),
        external_id=external_id,
        reason=reason,
        idempotency_key=idempotency_key,
    )
