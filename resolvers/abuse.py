from __future__ import annotations

from typing import Any

from db.models import AbuseFlag, Member
from domain.abuse import AbusePolicy, FlagStatus
from domain.auth import Role
from resolvers.auth import InvalidArgument, require
from resolvers.ids import BIGINT_MAX, decode_cursor, encode_cursor
from services import abuse as abuse_service

CURSOR = "flag:"
MAX_PAGE = 100


def cursor_for(row: AbuseFlag) -> str:
    return encode_cursor(CURSOR, row.id)


async def policy(info: Any) -> AbusePolicy:
    return await abuse_service.current_policy(require(info, Role.ADMIN))


async def set_policy(info: Any, policy: AbusePolicy) -> AbusePolicy:
    return await abuse_service.set_policy(require(info, Role.ADMIN), policy)


async def flags(
    info: Any, *, status: FlagStatus | None, first: int, after: str | None
) -> tuple[list[AbuseFlag], bool]:
    principal = require(info, Role.ADMIN)
    if not 1 <= first <= MAX_PAGE:
        raise InvalidArgument(f"`first` must be 1-{MAX_PAGE}")
    return await abuse_service.page(
        principal,
        status=status,
        first=first,
        before_id=decode_cursor(CURSOR, after, maximum=BIGINT_MAX),
    )


async def member_of(info: Any, flag: AbuseFlag) -> Member | None:
    require(info, Role.ADMIN)
    member: Member | None = await info.context.loaders.member_by_id.load(flag.member_id)
    return member


async def approve(info: Any, flag_id: int, *, idempotency_key: str) -> AbuseFlag:
    return await abuse_service.approve(
        require(info, Role.ADMIN), flag_id, idempotency_key=idempotency_key
    )


async def reject(info: Any, flag_id: int, *, reason: str, idempotency_key: str) -> AbuseFlag:
    return await abuse_service.reject(
        require(info, Role.ADMIN), flag_id, reason=reason, idempotency_key=idempotency_key
    )


async def flags_by_ids(info: Any, ids: list[int]) -> list[AbuseFlag]:
    """For `node(id:)`: null, not an error, for whoever may not see them."""
    principal = require(info)
    if principal.role is not Role.ADMIN:
        return []
    return await abuse_service.find(principal, ids)
