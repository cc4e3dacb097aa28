"""Tier ladder edits hold their rules under concurrency (PostgreSQL)."""

from __future__ import annotations

import asyncio

import pytest

from db.models import Tier
from domain.errors import DomainError
from domain.tiers import TierDraft
from services import members as member_service
from services import tiers as tier_service
from tests.conftest import needs_postgres
from tests.fixtures.factories import admin_of


async def _upsert(programme, draft: TierDraft, key: str):
    try:
        return await tier_service.upsert_tier(admin_of(programme), draft, idempotency_key=key)
    except DomainError as error:
        return error


@needs_postgres
async def test_concurrent_ladder_edits_cannot_break_the_ladder(make_programme):
    # given BRONZE(0) only
    programme = await make_programme()
    await _upsert(programme, TierDraft("BRONZE", "Bronze", 0, 0, None), "b")
    # when two edits that are each fine alone, but not together, race (and two first tiers)
    results = await asyncio.gather(
        _upsert(programme, TierDraft("A", "A", 1, 500, None), "a"),
        _upsert(programme, TierDraft("B", "B", 2, 100, None), "bb"),
    )
    # then exactly one lands and the ladder still increases with rank
    assert sum(not isinstance(r, DomainError) for r in results) == 1
    ladder = await Tier.filter(programme_id=programme.id).order_by("rank")
    thresholds = [t.entry_threshold for t in ladder]
    assert thresholds == sorted(set(thresholds)) and thresholds[0] == 0


@needs_postgres
async def test_concurrent_first_tiers_on_an_empty_programme(make_programme):
    programme = await make_programme()
    results = await asyncio.gather(
        _upsert(programme, TierDraft("X", "X", 0, 0, None), "x"),
        _upsert(programme, TierDraft("Y", "Y", 0, 0, None), "y"),
        _upsert(programme, TierDraft("Z", "Z", 1, 0, None), "z"),
    )
    assert sum(not isinstance(r, DomainError) for r in results) == 1
    assert all(
        isinstance(r, DomainError) and r.code.value == "VALIDATION"
        for r in results
        if isinstance(r, DomainError)
    )
    assert await Tier.filter(programme_id=programme.id).count() == 1


async def test_change_tier_refuses_another_programmes_member_or_tier(
    make_programme, make_member, programme
):
    other = await make_programme()
    from tests.fixtures.factories import add_tiers

    await add_tiers(other, [("ELSEWHERE", 0)])
    foreign_member = await make_member(other)
    own_member = await make_member(programme)
    foreign_tier = (await tier_service.programme_tiers(admin_of(other)))[0]
    own_tier = (await tier_service.programme_tiers(admin_of(programme)))[1]
    with pytest.raises(DomainError):
        await member_service.change_tier(
            admin_of(programme), foreign_member, tier_id=own_tier.id, at=own_member.joined_at
        )
    with pytest.raises(DomainError):
        await member_service.change_tier(
            admin_of(programme), own_member, tier_id=foreign_tier.id, at=own_member.joined_at
        )
