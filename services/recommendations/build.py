"""`loyalty build-recommendations`: segments, the co-purchase model and each member's
ranked candidates, rebuilt from the purchase history. Run it nightly; the member page reads
what it stored (one statement) and applies what happened since.

Members without profiling consent are left out of the model and get no list of their own
(the page shows them the overall popular list); segments are computed for every member, as
the shop's own reading of its orders."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from db.models import MemberSegment, Programme, RecommendationList
from db.repositories import recommendations as repo
from domain.recommendations.model import Product, build_model, popular_by_category
from domain.recommendations.ranking import CANDIDATES as KEPT
from domain.recommendations.ranking import Suggestion, candidates, popular_suggestions
from domain.recommendations.rfm import Activity, SegmentPolicy, segments
from services.clock import now_of
from services.recommendations.catalogue import product_of


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


async def build(programme: Programme) -> BuildReport:
    started = time.perf_counter()
    now = now_of(programme)
    policy = segment_policy_of(programme)
    members = await repo.members_for_build(programme.id)
    orders = await repo.order_totals(programme.id)
    lines = await repo.purchase_lines(programme.id)
    products = {r.sku: product_of(r) for r in await repo.all_products(programme.id)}

    scored = segments(
        _activities(members, orders, now - timedelta(days=policy.window_days)), policy, now
    )
    consenting = {m for m, _, consent in members if consent}
    history: defaultdict[int, dict[str, datetime]] = defaultdict(dict)
    for member, at, sku in sorted(lines, key=lambda row: row[1]):
        if member in consenting:
            history[member][sku] = at  # later lines overwrite: the latest purchase
    model = build_model(sorted(h, key=lambda s: h[s], reverse=True) for h in history.values())
    popular = model.popular(s for s, p in products.items() if p.active)
    popular_in = popular_by_category(model, products)

    lists = [
        RecommendationList(
            programme_id=programme.id,
            member_id=None,
            items={"c": [_item(s, products[s.sku]) for s in popular_suggestions(popular, KEPT)]},
            computed_at=now,
        )
    ]
    for member, bought in history.items():
        ranked = candidates(
            bought, model=model, products=products, popular_in=popular_in, popular=popular, now=now
        )
        refills = [
            [p.sku, p.title, p.category, p.price, p.replenish_days]
            for p in (products.get(s) for s in bought)
            if p is not None and p.active and p.replenish_days
        ]
        lists.append(
            RecommendationList(
                programme_id=programme.id,
                member_id=member,
                items={"c": [_item(s, products[s.sku]) for s in ranked], "r": refills},
                computed_at=now,
            )
        )
    rows = [
        MemberSegment(
            member_id=s.member_id,
            programme_id=programme.id,
            recency_days=s.recency_days,
            frequency=s.frequency,
            monetary=s.monetary,
            recency_score=s.recency_score,
            frequency_score=s.frequency_score,
            monetary_score=s.monetary_score,
            lifecycle=s.lifecycle.value,
            computed_at=now,
        )
        for s in scored
    ]
    async with in_transaction():
        await repo.replace_segments(programme.id, rows)
        await repo.replace_lists(programme.id, lists)
    return BuildReport(
        members=len(rows),
        lists=len(lists) - 1,
        products=len(model.buyers),
        pairs=sum(len(n) for n in model.neighbours.values()),
        seconds=time.perf_counter() - started,
    )


async def build_all() -> list[tuple[str, BuildReport]]:
    return [(p.code, await build(p)) for p in await Programme.all().order_by("id")]
