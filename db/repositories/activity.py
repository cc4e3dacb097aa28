from __future__ import annotations

from datetime import date, datetime

from db.models import CheckIn, InviteCode, Member, Referral, Review


async def check_in(
    *, programme_id: int, member_id: int, day: date, streak: int, points: int
) -> CheckIn:
    """Raises IntegrityError when the member checked in that day already (unique index)."""
    return await CheckIn.create(
        programme_id=programme_id, member_id=member_id, day=day, streak=streak, points=points
    )


async def check_in_on(member_id: int, day: date) -> CheckIn | None:
    return await CheckIn.get_or_none(member_id=member_id, day=day)


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
