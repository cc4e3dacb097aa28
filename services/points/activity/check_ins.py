"""Daily check-in: one per member per local day, with a streak bonus every so many days."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.exceptions import IntegrityError

from db.connection import is_unique_violation
from db.models import Member
from db.repositories import activity as activity_repo
from db.repositories import programmes as programme_repo
from domain.abuse import Source
from domain.auth import Principal
from domain.challenges import FactKind
from domain.errors import DomainError, ErrorCode
from domain.points import PointsPolicy
from services.campaigns.facts import FactAward
from services.clock import now_of
from services.idempotency import run_once
from services.points.activity.credits import _count, _earn, _key_errors
from services.points.ledger import Entry, actor_of, policy_of
from services.points.spending import locked_member


class AlreadyCheckedIn(DomainError):
    code = ErrorCode.ALREADY_CHECKED_IN


def streak_points(streak: int, policy: PointsPolicy) -> int:
    bonus = policy.streak_bonus if policy.streak_every and streak % policy.streak_every == 0 else 0
    return policy.checkin_points + bonus


@dataclass(frozen=True)
class CheckedIn:
    member: Member
    streak: int
    points: int  # the check-in's own points
    campaigns: tuple[FactAward, ...]  # what campaigns added, each on its own ledger row

    @property
    def campaign_points(self) -> int:
        return sum(c.points for c in self.campaigns)


async def check_in(
    principal: Principal, *, member_external_id: str | None, idempotency_key: str
) -> CheckedIn:
    """One per member per local day: the unique index decides, so twenty parallel check-ins
    credit once (and their campaigns reward once)."""
    _key_errors(idempotency_key, member_external_id)

    written: list[Member] = []

    async def act() -> dict[str, Any]:
        programme = await programme_repo.get(principal.programme_id)
        # The member's lock first: the streak read below is then the last word on it.
        member = await locked_member(principal, programme, member_external_id)
        now = now_of(programme)
        today = now.astimezone(ZoneInfo(programme.timezone)).date()
        yesterday = await activity_repo.streak_on(member.id, today - timedelta(days=1))
        streak = yesterday + 1 if yesterday is not None else 1
        policy = policy_of(programme)
        points = streak_points(streak, policy)
        try:
            await activity_repo.add_check_in(
                programme_id=programme.id,
                member_id=member.id,
                day=today,
                streak=streak,
                points=points,
            )
        except IntegrityError as error:
            if not is_unique_violation(error):
                raise
            raise AlreadyCheckedIn(f"already checked in on {today.isoformat()}") from error
        entry = Entry(
            "CHECK_IN",
            today.isoformat(),
            f"daily check-in, day {streak}",
            actor_of(principal),
            idempotency_key,
            now,
        )
        points, awards = await _earn(programme, member, Source.CHECK_IN, points, entry)
        await _count(programme, member, FactKind.CHECK_IN, entry)
        written.append(member)
        return {
            "memberId": member.id,
            "streak": streak,
            "points": points,
            "campaigns": [asdict(a) for a in awards],
        }

    payload = {"member": member_external_id}
    result = await run_once(
        principal, key=idempotency_key, operation="checkIn", payload=payload, action=act
    )
    if written and written[0].id == int(result["memberId"]):
        member = written[0]  # as the check-in left it: no read back
    else:
        member = await Member.get(id=int(result["memberId"]))
    return CheckedIn(
        member,
        int(result["streak"]),
        int(result["points"]),
        tuple(FactAward(**a) for a in result.get("campaigns", [])),
    )
