from __future__ import annotations

from typing import Any

from resolvers.auth import STAFF, require
from services import tokens as token_service
from services.tokens import MemberToken


async def issue_member_token(info: Any, *, external_id: str, ttl_seconds: int) -> MemberToken:
    return await token_service.issue(
        require(info, *STAFF), info.context.tokens, external_id=external_id, ttl_seconds=ttl_seconds
    )
