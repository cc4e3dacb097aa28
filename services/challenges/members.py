"""What members see of challenges (issue 20.2): those open to them now, with their progress,
and those they completed; and the badges they hold. Read for a page of members at once (the
request's dataloaders, resolvers/context.py): a constant number of statements for the page."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from db import challenge_cache
from db.models import ChallengeProgress, Member, MemberBadge
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


async def challenges_of(members: Sequence[Member]) -> list[list[MemberChallenge]]:
    """For each member (of one programme): the challenges running now whose audience holds
    it, and every challenge it completed (still rewarded), soonest deadline first."""
    if not members:
        return []
    programme = await programme_repo.get(members[0].programme_id)
    now = now_of(programme)
    running = [
        c
        for c in await challenge_cache.active_challenges(programme.id)
        if c.starts_at <= now < c.ends_at
    ]
    progress: dict[int, dict[int, ChallengeProgress]] = defaultdict(dict)
    for p in await challenge_repo.progress_of_members([m.id for m in members]):
        progress[p.member_id][p.challenge_id] = p
    done_ids = {i for mine in progress.values() for i, p in mine.items() if p.completed_at}
    done = {
        row.id: challenge_repo.challenge_of(row)
        for row in (await challenge_repo.get_many(sorted(done_ids))).values()
    }
    found: list[list[MemberChallenge]] = []
    for member in members:
        mine = progress[member.id]
        shown: dict[int, Challenge] = {}
        if running:
            known = await audience_facts(programme, member, [c.audience for c in running], now)
            for c in running:
                if in_audience(c.audience, known, now, programme.timezone):
                    shown[c.id] = c
        for i, p in mine.items():
            if p.completed_at is not None and i not in shown:
                shown[i] = done[i]
        views = [
            MemberChallenge(
                c,
                mine[c.id].current if c.id in mine else 0,
                mine[c.id].completed_at if c.id in mine else None,
            )
            for c in shown.values()
        ]
        found.append(sorted(views, key=lambda v: (v.challenge.ends_at, v.challenge.id)))
    return found


async def badges_of(member_ids: Sequence[int]) -> list[list[MemberBadge]]:
    """The badges each member holds, first awarded first."""
    held: dict[int, list[MemberBadge]] = defaultdict(list)
    for badge in await challenge_repo.badges_of_members(list(member_ids)):
        held[badge.member_id].append(badge)
    return [held[i] for i in member_ids]
