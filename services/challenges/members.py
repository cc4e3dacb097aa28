"""What a member sees of challenges (issue 20.2): those open to it now, with its progress, and
those it completed; and the badges it holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from db import challenge_cache
from db.models import Member, MemberBadge
from db.repositories import challenges as challenge_repo
from db.repositories import programmes as programme_repo
from domain.campaigns import in_audience
from domain.challenges import Challenge, describe_reward
from services.campaigns.common import audience_facts
from services.clock import now_of


@dataclass(frozen=True)
class MemberChallenge:
    challenge: Challenge
    current: int
    completed_at: datetime | None

    @property
    def reward(self) -> str:
        return describe_reward(self.challenge.reward)


async def challenges_of(member: Member) -> list[MemberChallenge]:
    """The challenges running now whose audience holds the member, and every challenge it
    completed (still rewarded), soonest deadline first."""
    programme = await programme_repo.get(member.programme_id)
    now = now_of(programme)
    running = [
        c
        for c in await challenge_cache.active_challenges(programme.id)
        if c.starts_at <= now < c.ends_at
    ]
    if running:
        known = await audience_facts(programme, member, [c.audience for c in running], now)
        running = [c for c in running if in_audience(c.audience, known, now, programme.timezone)]
    progress = {p.challenge_id: p for p in await challenge_repo.member_progress(member.id)}
    shown = {c.id: c for c in running}
    done = [i for i, p in progress.items() if p.completed_at is not None and i not in shown]
    for row in (await challenge_repo.get_many(done)).values():
        shown[row.id] = challenge_repo.challenge_of(row)
    views = [
        MemberChallenge(
            c,
            progress[c.id].current if c.id in progress else 0,
            progress[c.id].completed_at if c.id in progress else None,
        )
        for c in shown.values()
    ]
    return sorted(views, key=lambda v: (v.challenge.ends_at, v.challenge.id))


async def badges_of(member: Member) -> list[MemberBadge]:
    return await challenge_repo.member_badges(member.id)
