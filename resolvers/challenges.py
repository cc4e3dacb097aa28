"""Challenges: admins create, end and list them; a member's page shows its own."""

from __future__ import annotations

from typing import Any

from db.models import Challenge as ChallengeRow
from db.models import Member, MemberBadge
from domain.auth import Role
from domain.challenges import Challenge, ChallengeStatus
from resolvers.auth import require
from resolvers.ids import encode_cursor, page_request_of
from services.challenges import admin
from services.challenges.members import MemberChallenge

CURSOR = "chl:"


def cursor(row: ChallengeRow) -> str:
    return encode_cursor(CURSOR, row.id)


async def create(info: Any, challenge: Challenge, *, idempotency_key: str) -> ChallengeRow:
    principal = require(info, Role.ADMIN)
    return await admin.create(principal, challenge, idempotency_key=idempotency_key)


async def end(info: Any, code: str) -> ChallengeRow:
    return await admin.end(require(info, Role.ADMIN), code)


async def page(
    info: Any, *, status: ChallengeStatus | None, first: int | None, after: str | None
) -> tuple[list[ChallengeRow], bool]:
    principal = require(info, Role.ADMIN)
    request = page_request_of(CURSOR, first=first, after=after, last=None, before=None)
    return await admin.page(principal, request, status=status)


async def of_member(info: Any, member: Member) -> list[MemberChallenge]:
    """The member row was read under the caller's rights (its own token, or a key of its
    programme); a page of members is read together (ChallengesByMemberLoader)."""
    found: list[MemberChallenge] = await info.context.loaders.member_challenges.load(member)
    return found


async def badges(info: Any, member: Member) -> list[MemberBadge]:
    found: list[MemberBadge] = await info.context.loaders.member_badges.load(member.id)
    return found
