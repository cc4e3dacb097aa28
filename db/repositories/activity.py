from __future__ import annotations

from datetime import date, datetime

from tortoise import connections

from db.connection import is_postgres
from db.models import InviteCode, Member, Referral, Review

_ADD_CHECK_IN = {
    "postgres": "INSERT INTO check_ins (programme_id, member_id, day, streak, points)"
    " VALUES ($1, $2, $3, $4, $5)",
    "sqlite": "INSERT INTO check_ins (programme_id, member_id, day, streak, points)"
    " VALUES (?, ?, ?, ?, ?)",
}
_STREAK_ON = {
    "postgres": "SELECT streak FROM check_ins WHERE member_id = $1 AND day = $2",
    "sqlite": "SELECT streak FROM check_ins WHERE member_id = ? AND day = ?",
}


def _sql(texts: dict[str, str]) -> str:
    return texts["postgres" if is_postgres() else "sqlite"]


async def add_check_in(
    *, programme_id: int, member_id: int, day: date, streak: int, points: int
) -> None:
    """Raises IntegrityError when the member checked in that day already (unique index)."""
    await connections.get("default").execute_query(
        _sql(_ADD_CHECK_IN), [programme_id, member_id, day, streak, points]
    )


async def streak_on(member_id: int, day: date) -> int | None:
    """The streak of the member's check-in that day, if it checked in."""
    rows = await connections.get("default").execute_query_dict(_sql(_STREAK_ON), [member_id, day])
    return int(rows[0]["streak"]) if rows else None


async def review(*, programme_id: int, line_id: int, at: datetime) -> Review:
    """Raises IntegrityError when the line was reviewed already (unique index)."""
    return await Review.create(programme_id=programme_id, line_id=line_id, created_at=at)


async def referral_of(invitee_id: int) -> Referral | None:
    return await Referral.get_or_none(invitee_id=invitee_id)


async def referral_for_order(order_id: int) -> Referral | None:
    return await Referral.get_or_none(order_id=order_id)


async def create_referral(
    *, programme_id: int, inviter_id: int, invitee_id: int, at: datetime
) -> Referral:
    return await Referral.create(
        programme_id=programme_id,
        inviter_id=inviter_id,
        invitee_id=invitee_id,
        status="PENDING",
        created_at=at,
    )


async def save_referral(referral: Referral, *fields: str) -> None:
    await referral.save(update_fields=list(fields))


async def member_by_invite_code(programme_id: int, code: str) -> Member | None:
    row = await InviteCode.get_or_none(programme_id=programme_id, code=code)
    return await Member.get(id=row.member_id) if row else None


async def invite_code_of(member_id: int) -> str | None:
    row = await InviteCode.get_or_none(member_id=member_id)
    return row.code if row else None


async def add_invite_code(*, programme_id: int, member_id: int, code: str) -> None:
    """Raises IntegrityError if the member has a code or the code is taken (unique indexes)."""
    await InviteCode.create(programme_id=programme_id, member_id=member_id, code=code)
