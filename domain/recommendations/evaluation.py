"""How good the recommendations are: each member's last order is held out, the model is
built from everything else, and we count how often the ten products we would have shown
just before that order include one of its products (hit rate@10), and how high (NDCG@10,
binary relevance). The baseline shows everyone the ten most popular products."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from domain.recommendations.model import build_model, popular_by_category
from domain.recommendations.ranking import candidates, recommend
from domain.recommendations.synthetic import Dataset

K = 10


def hit(ranked: list[str], relevant: set[str]) -> float:
    return 1.0 if relevant.intersection(ranked[:K]) else 0.0


def ndcg(ranked: list[str], relevant: set[str]) -> float:
    gain = sum(1 / math.log2(n + 2) for n, sku in enumerate(ranked[:K]) if sku in relevant)
    ideal = sum(1 / math.log2(n + 2) for n in range(min(len(relevant), K)))
    return gain / ideal if ideal else 0.0


@dataclass(frozen=True)
class Scores:
    members: int
    hit_rate: float
    ndcg: float


@dataclass(frozen=True)
class Evaluation:
    ours: Scores
    baseline: Scores

    @property
    def lift(self) -> float:
        return self.ours.hit_rate / self.baseline.hit_rate if self.baseline.hit_rate else math.inf


def evaluate(data: Dataset) -> Evaluation:
    by_member: defaultdict[int, list[tuple[datetime, list[str]]]] = defaultdict(list)
    for order in data.orders:
        by_member[order.member].append((order.placed_at, [sku for sku, _, _ in order.lines]))
    held_out: dict[int, tuple[datetime, set[str]]] = {}
    history: dict[int, dict[str, datetime]] = {}
    for member, orders in by_member.items():
        if len(orders) < 2:
            continue
        orders.sort()
        held_out[member] = (orders[-1][0], set(orders[-1][1]))
        last: dict[str, datetime] = {}
        for at, skus in orders[:-1]:
            last.update(dict.fromkeys(skus, at))
        history[member] = last
    model = build_model(sorted(h, key=lambda s: h[s], reverse=True) for h in history.values())
    popular = model.popular()
    popular_in = popular_by_category(model, data.products)
    replenishable = {s: p for s, p in data.products.items() if p.replenish_days}
    ours, base = [], []
    for member, (at, relevant) in held_out.items():
        stored = candidates(
            history[member],
            model=model,
            products=data.products,
            popular_in=popular_in,
            popular=popular,
            now=at,
        )
        shown = recommend(
            stored, purchases=history[member], replenishable=replenishable, now=at, first=K
        )
        ranked = [s.sku for s in shown]
        ours.append((hit(ranked, relevant), ndcg(ranked, relevant)))
        base.append((hit(popular, relevant), ndcg(popular, relevant)))

    def scores(rows: list[tuple[float, float]]) -> Scores:
        n = len(rows)
        return Scores(n, sum(h for h, _ in rows) / n, sum(g for _, g in rows) / n)

    return Evaluation(scores(ours), scores(base))
