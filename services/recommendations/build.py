"""`loyalty build-recommendations`: segments, the co-purchase model and each member's
ranked candidates, rebuilt from the purchase history. Run it nightly; the member page reads
what it stored (one statement) and applies what happened since.

Members without profiling consent are left out of the model and get no list of their own
(the page shows them the overall popular list); segments are computed for every member, as
the shop's own reading of its orders."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from db.models import MemberSegment, Programme, RecommendationList
from db.repositories import recommendation_batches as batch_repo
from db.repositories import recommendations as repo
from domain.recommendations.model import Model, Product, build_model, popular_by_category
from domain.recommendations.ranking import CANDIDATES as KEPT
from domain.recommendations.ranking import Suggestion, candidates, popular_suggestions
from domain.recommendations.rfm import Activity, Segment, SegmentPolicy, segments
from services.clock import now_of
from services.recommendations.catalogue import product_of

PAGE = 2_000  # members read, judged and written at a time

Lines = list[tuple[int, datetime, str]]


@dataclass
class BuildReport:
    members: int = 0
    lists: int = 0
    products: int = 0
    pairs: int = 0
    seconds: float = 0.0


def segment_policy_of(programme: Programme) -> SegmentPolicy:
    return SegmentPolicy.from_json(programme.segment_policy)


def _item(s: Suggestion, p: Product) -> list[Any]:
    return [s.sku, p.title, p.category, p.price, round(s.score, 4), s.reason.value]


def _activities(
    members: list[tuple[int, datetime, bool]],
    orders: list[tuple[int, datetime, int]],
    window_start: datetime,
) -> list[Activity]:
    last: dict[int, datetime] = {}
    ever: defaultdict[int, int] = defaultdict(int)
    count: defaultdict[int, int] = defaultdict(int)
    spend: defaultdict[int, int] = defaultdict(int)
    for member, at, amount in orders:
        ever[member] += 1
        if member not in last or at > last[member]:
            last[member] = at
        if at >= window_start:
            count[member] += 1
            spend[member] += amount
    return [
        Activity(m, joined, last.get(m), count[m], spend[m], ever[m]) for m, joined, _ in members
    ]


async def _pages(
    programme_id: int, *, with_orders: bool
) -> AsyncIterator[tuple[list[tuple[int, datetime, bool]], list[tuple[int, datetime, int]], Lines]]:
    """The members a page at a time, each page with its members' orders (if asked) and
    purchase lines."""
    after_id = 0
    while members := await batch_repo.members_page(programme_id, after_id=after_id, limit=PAGE):
        first, last = members[0][0], members[-1][0]
        orders = await batch_repo.order_totals_of(programme_id, first, last) if with_orders else []
        yield members, orders, await batch_repo.purchase_lines_of(programme_id, first, last)
        after_id = last


def _histories(
    members: list[tuple[int, datetime, bool]], lines: Lines
) -> dict[int, dict[str, datetime]]:
    """Each consenting member's products, with when they last bought each."""
    consenting = {m for m, _, consent in members if consent}
    history: defaultdict[int, dict[str, datetime]] = defaultdict(dict)
    for member, at, sku in sorted(lines, key=lambda row: row[1]):
        if member in consenting:
            history[member][sku] = at  # later lines overwrite: the latest purchase
    return history


async def build(programme: Programme) -> BuildReport:
    """Two passes over the members, a page at a time: the first gathers each member's order
    activity and the products they bought (a tuple of shared strings each) for the segments
    and the model; the second, in the transaction that replaces the last build, reads each
    page's purchases again and writes its lists. So memory holds a page of history and rows,
    and a few small values per member, never the programme's whole history."""
    started = time.perf_counter()
    now = now_of(programme)
    policy = segment_policy_of(programme)
    products = {r.sku: product_of(r) for r in await repo.all_products(programme.id)}
    window_start = now - timedelta(days=policy.window_days)

    activities: list[Activity] = []
    baskets: list[tuple[str, ...]] = []
    shared: dict[str, str] = {}
    async for members, orders, lines in _pages(programme.id, with_orders=True):
        activities.extend(_activities(members, orders, window_start))
        for h in _histories(members, lines).values():
            ordered = sorted(h, key=lambda s: h[s], reverse=True)
            baskets.append(tuple(shared.setdefault(sku, sku) for sku in ordered))
    scored = segments(activities, policy, now)
    del activities
    model = build_model(baskets)
    del baskets
    popular = model.popular(s for s, p in products.items() if p.active)
    popular_in = popular_by_category(model, products)

    lists = 0
    async with in_transaction():
        await batch_repo.forget_built(programme.id)
        await batch_repo.add_lists(
            [
                RecommendationList(
                    programme_id=programme.id,
                    member_id=None,
                    items={
                        "c": [_item(s, products[s.sku]) for s in popular_suggestions(popular, KEPT)]
                    },
                    computed_at=now,
                )
            ]
        )
        for n in range(0, len(scored), PAGE):
            await batch_repo.add_segments(
                [_segment_row(s, programme.id, now) for s in scored[n : n + PAGE]]
            )
        async for members, _, lines in _pages(programme.id, with_orders=False):
            rows = [
                _list_row(programme.id, member, bought, model, products, popular_in, popular, now)
                for member, bought in _histories(members, lines).items()
            ]
            await batch_repo.add_lists(rows)
            lists += len(rows)
    return BuildReport(
        members=len(scored),
        lists=lists,
        products=len(model.buyers),
        pairs=sum(len(n) for n in model.neighbours.values()),
        seconds=time.perf_counter() - started,
    )


def _segment_row(s: Segment, programme_id: int, now: datetime) -> MemberSegment:
    return MemberSegment(
        member_id=s.member_id,
        programme_id=programme_id,
        recency_days=s.recency_days,
        frequency=s.frequency,
        monetary=s.monetary,
        recency_score=s.recency_score,
        frequency_score=s.frequency_score,
        monetary_score=s.monetary_score,
        lifecycle=s.lifecycle.value,
        computed_at=now,
    )


def _list_row(
    programme_id: int,
    member: int,
    bought: dict[str, datetime],
    model: Model,
    products: dict[str, Product],
    popular_in: dict[str, list[str]],
    popular: list[str],
    now: datetime,
) -> RecommendationList:
    ranked = candidates(
        bought, model=model, products=products, popular_in=popular_in, popular=popular, now=now
    )
    refills = [
        [p.sku, p.title, p.category, p.price, p.replenish_days]
        for p in (products.get(s) for s in bought)
        if p is not None and p.active and p.replenish_days
    ]
    return RecommendationList(
        programme_id=programme_id,
        member_id=member,
        items={"c": [_item(s, products[s.sku]) for s in ranked], "r": refills},
        computed_at=now,
    )


async def build_all() -> list[tuple[str, BuildReport]]:
    return [(p.code, await build(p)) for p in await Programme.all().order_by("id")]
