"""The per-request context every resolver receives as `info.context`."""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from strawberry.dataloader import DataLoader

from db.models import Member, MemberBadge, Programme
from db.repositories.campaigns import AwardTotals
from db.sql.page import PageReader
from domain.auth import Principal
from domain.tiers import TierView
from services import members as member_service
from services import programmes as programme_service
from services import tiers as tier_service
from services.campaigns import results as campaign_results
from services.challenges import members as challenge_members
from services.challenges.members import MemberChallenge
from services.rewards import catalogue
from services.rewards.catalogue import RewardView
from services.tokens import TokenSettings

REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def request_id_of(header: str | None) -> str:
    return header if header and REQUEST_ID.fullmatch(header) else uuid.uuid4().hex


class Loaders:
    """Created per request, so nothing cached here outlives one response."""

    def __init__(self, principal: Principal | None) -> None:
        self._principal = principal
        self.member_by_id: DataLoader[int, Member | None] = DataLoader(self._members)
        # a page of campaigns' results in one statement
        self.campaign_totals: DataLoader[int, AwardTotals | None] = DataLoader(
            self._campaign_totals
        )
        # the rewards a page of redemptions names, retired ones included, in one read
        self.redeemed_reward: DataLoader[int, RewardView | None] = DataLoader(self._rewards)
        # a page of members' challenges and badges, each in a constant number of statements
        self.member_challenges: DataLoader[Member, list[MemberChallenge]] = DataLoader(
            challenge_members.challenges_of, cache_key_fn=lambda m: m.id
        )
        self.member_badges: DataLoader[int, list[MemberBadge]] = DataLoader(
            challenge_members.badges_of
        )
        self._tiers: asyncio.Task[list[TierView]] | None = None
        self._programme: asyncio.Task[Programme] | None = None
        # the member page's parts, read together (db/sql/page.py)
        self.page = PageReader()

    async def _members(self, ids: list[int]) -> list[Member | None]:
        assert self._principal is not None
        found = await member_service.find_by_ids(self._principal, list(ids))
        return [found.get(i) for i in ids]

    async def _campaign_totals(self, ids: list[int]) -> list[AwardTotals | None]:
        assert self._principal is not None
        found = await campaign_results.totals_by_ids(self._principal, list(ids))
        return [found.get(i) for i in ids]

    async def _rewards(self, ids: list[int]) -> list[RewardView | None]:
        assert self._principal is not None
        found = await catalogue.redeemed_by_ids(self._principal, list(ids))
        return [found.get(i) for i in ids]

    async def tiers(self) -> list[TierView]:
        """The programme's tier list, read from the tier cache at most once per request.

        The first caller's lookup is shared as a task: the `tier` fields of a member list
        resolve concurrently, and each would otherwise start its own lookup on a cold cache.
        """
        if self._tiers is None:
            assert self._principal is not None
            self._tiers = asyncio.ensure_future(tier_service.programme_tiers(self._principal))
        return await self._tiers

    async def programme(self) -> Programme:
        """The caller's programme row (its clock, its policies), read once per request."""
        if self._programme is None:
            assert self._principal is not None
            self._programme = asyncio.ensure_future(programme_service.current(self._principal))
        return await self._programme


@dataclass
class Context:
    principal: Principal | None
    auth_error: str | None
    tokens: TokenSettings
    loaders: Loaders
    request: Any = field(default=None, repr=False)
    response: Any = field(default=None, repr=False)
    # The caller's X-Request-ID when it is a sane one, else our own: audit rows carry it.
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
