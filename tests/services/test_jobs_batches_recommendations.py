"""build-recommendations reads and writes a page of members at a time: the lists and
segments built in pages of two members are those built in one page."""

from __future__ import annotations

import pytest

from db.models import MemberSegment, Programme, RecommendationList
from services.recommendations import build as build_service
from tests.fixtures.points import advance
from tests.fixtures.recommendations import buy, stock_shop

pytestmark = pytest.mark.asyncio


async def built(programme: Programme) -> tuple[object, ...]:
    report = await build_service.build(await Programme.get(id=programme.id))
    lists = {
        r.member_id: r.items for r in await RecommendationList.filter(programme_id=programme.id)
    }
    segments = {
        s.member_id: (
            s.recency_days,
            s.frequency,
            s.monetary,
            s.recency_score,
            s.frequency_score,
            s.monetary_score,
            s.lifecycle,
        )
        for s in await MemberSegment.filter(programme_id=programme.id)
    }
    return (report.members, report.lists, report.products, report.pairs), lists, segments


async def test_pages_of_two_members_build_what_one_page_builds(programme, make_member, monkeypatch):
    await stock_shop(programme)
    baskets = [
        ("phone", "earbuds"),
        ("phone", "case"),
        ("tv", "kettle"),
        ("shampoo",),
        ("phone", "earbuds", "case"),
        ("kettle",),
        ("conditioner", "shampoo"),
        (),
    ]
    for n, skus in enumerate(baskets):
        member = await make_member(programme, consent_profiling=n % 3 != 2)
        for sku in skus:
            await buy(programme, member, sku)
        await advance(programme, days=13)
    whole = await built(programme)
    monkeypatch.setattr(build_service, "PAGE", 2)
    paged = await built(programme)
    assert paged == whole
    assert whole[0][1] >= 4 and len(whole[2]) == len(baskets)
