"""Realistic purchase data, made deterministically from a seed (for the quality evaluation,
the benchmark and the demo). What it models:

- a catalogue of 25 categories of 20 products; 8 categories are consumables with a
  replenishment cycle (coffee 30 days, diapers 14, shampoo 45, ...), the rest are durable;
  within a category, popularity falls off as a power law (a few best sellers);
- category affinities: each member has three favourite categories, weighted 55/30/15, and
  one order in ten explores a random category;
- bundles: 80 product pairs from related categories (phone + earphones, camera + outdoor
  gear, ...): buying the first adds the second to the same order half the time;
- replenishment: a member keeps one product per consumable category and re-buys it near the
  end of its cycle (give or take 20%);
- member kinds: active (40%, an order every ~35 days), intermittent (30%, every ~110 days),
  lapsed (20%, active in their first year, silent for the last 8-14 months) and new (10%,
  joined in the last 30 days, one or two orders).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain.recommendations.model import Product

CONSUMABLES = {
    "coffee": 30,
    "tea": 40,
    "diapers": 14,
    "pet-food": 30,
    "shampoo": 45,
    "skincare": 60,
    "vitamins": 60,
    "detergent": 45,
}
DURABLES = [
    "phones", "audio", "laptops", "cameras", "outdoor", "appliances", "kitchen", "furniture",
    "bedding", "shoes", "sports", "womens-wear", "mens-wear", "kids-wear", "toys", "books",
    "beauty-devices",
]  # fmt: skip
RELATED = {
    "phones": "audio",
    "laptops": "audio",
    "cameras": "outdoor",
    "kitchen": "appliances",
    "shoes": "sports",
    "womens-wear": "shoes",
    "mens-wear": "shoes",
    "kids-wear": "toys",
    "furniture": "bedding",
    "beauty-devices": "skincare",
    "pet-food": "outdoor",
    "diapers": "kids-wear",
}
PER_CATEGORY = 20
KINDS = (("active", 0.4, 35), ("intermittent", 0.3, 110), ("lapsed", 0.2, 45), ("new", 0.1, 0))


@dataclass(frozen=True)
class SyntheticOrder:
    member: int
    placed_at: datetime
    lines: tuple[tuple[str, int, int], ...]  # sku, quantity, unit price


@dataclass
class Dataset:
    products: dict[str, Product]
    members: dict[int, tuple[str, datetime]]  # member -> (kind, joined at)
    orders: list[SyntheticOrder] = field(default_factory=list)

    @property
    def line_count(self) -> int:
        return sum(len(o.lines) for o in self.orders)


def _catalogue(rng: random.Random) -> dict[str, Product]:
    products = {}
    for category in [*CONSUMABLES, *DURABLES]:
        base = rng.choice([1_500, 3_000, 8_000, 20_000, 60_000, 200_000])
        for n in range(PER_CATEGORY):
            # One number for both: `outdoor-20` is "Outdoor 20" (numbered from 1).
            sku = _sku(category, n)
            products[sku] = Product(
                sku=sku,
                title=f"{category.replace('-', ' ').title()} {n + 1}",
                category=category,
                price=int(base * rng.uniform(0.5, 2.0)) // 100 * 100 + 90,
                replenish_days=CONSUMABLES.get(category),
            )
    return products


def _sku(category: str, rank: int) -> str:
    """The sku of a category's product of popularity `rank` (0 = most bought)."""
    return f"{category}-{rank + 1:02d}"


def _pick(rng: random.Random, category: str) -> str:
    weights = [1 / (rank + 1) ** 1.1 for rank in range(PER_CATEGORY)]
    return _sku(category, rng.choices(range(PER_CATEGORY), weights)[0])


def generate(*, members: int = 5_000, seed: int = 7, now: datetime) -> Dataset:
    rng = random.Random(seed)
    products = _catalogue(rng)
    categories = [*CONSUMABLES, *DURABLES]
    bundles: dict[str, str] = {}
    for anchor_category, partner_category in RELATED.items():
        for _ in range(80 // len(RELATED)):
            bundles[_pick(rng, anchor_category)] = _pick(rng, partner_category)
    data = Dataset(products, {})
    for member in range(1, members + 1):
        kind, _, gap = rng.choices(KINDS, [k[1] for k in KINDS])[0]
        if kind == "new":
            joined = now - timedelta(days=rng.uniform(1, 30))
        elif kind == "lapsed":  # joined well before they went quiet
            joined = now - timedelta(days=rng.uniform(500, 730))
        else:
            joined = now - timedelta(days=rng.uniform(400, 730))
        data.members[member] = (kind, joined)
        favourites = rng.sample(categories, 3)
        own = {c: _pick(rng, c) for c in CONSUMABLES}  # the brand this member re-buys
        stop = now - timedelta(days=rng.uniform(240, 420)) if kind == "lapsed" else now
        # The first order within ten days of joining, and before now (a new member's too).
        at = joined + (min(now, joined + timedelta(days=10)) - joined) * rng.uniform(0, 0.95)
        refills: dict[str, datetime] = {}  # consumable sku -> when it runs out
        for n in range(2 if kind == "new" else 10_000):
            if at >= stop:
                break
            lines: dict[str, int] = {}
            for sku, runs_out in list(refills.items()):
                if runs_out <= at and rng.random() < 0.8:
                    lines[sku] = 1
            for _ in range(rng.choice([1, 1, 1, 2])):
                explore = rng.random() < 0.1
                category = (
                    rng.choice(categories)
                    if explore
                    else rng.choices(favourites, [0.55, 0.3, 0.15])[0]
                )
                sku = own[category] if category in own else _pick(rng, category)
                lines[sku] = rng.choice([1, 1, 2])
                if sku in bundles and rng.random() < 0.5:
                    lines[bundles[sku]] = 1
            for sku in lines:
                days = products[sku].replenish_days
                if days:
                    refills[sku] = at + timedelta(days=days * rng.uniform(0.8, 1.2))
            data.orders.append(
                SyntheticOrder(
                    member,
                    at,
                    tuple((sku, qty, products[sku].price) for sku, qty in lines.items()),
                )
            )
            step = rng.uniform(1, 30) if kind == "new" else rng.expovariate(1 / gap)
            at += timedelta(days=max(step, 1.0))
            if kind == "new" and n == 0 and rng.random() < 0.5:
                break
    data.orders.sort(key=lambda o: (o.placed_at, o.member))
    return data
