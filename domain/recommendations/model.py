"""The item-to-item co-purchase model: which products the same members buy.

Similarity is the cosine of two products' buyer sets, |A ∩ B| / sqrt(|A| |B|), over members'
distinct purchases (a member counts once per product however often they bought it). Each
product keeps its `top_k` most similar products; a pair bought together by fewer than
`min_support` members is noise and is dropped."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import combinations

TOP_K = 40
MIN_SUPPORT = 2
# A member's most recent distinct products counted for pairs: bounds the work for the rare
# member with hundreds of products (pairs grow with the square).
MAX_ITEMS_PER_MEMBER = 60


@dataclass(frozen=True)
class Product:
    sku: str
    title: str
    category: str
    price: int
    replenish_days: int | None = None
    active: bool = True


@dataclass
class Model:
    neighbours: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    buyers: Counter[str] = field(default_factory=Counter)  # distinct members per product

    def popular(self, skus: Iterable[str] | None = None) -> list[str]:
        """Most-bought first (ties by sku, so the order is stable)."""
        pool = self.buyers if skus is None else {s: self.buyers[s] for s in skus}
        return sorted(pool, key=lambda s: (-pool[s], s))


def build_model(
    baskets: Iterable[Iterable[str]],
    *,
    top_k: int = TOP_K,
    min_support: int = MIN_SUPPORT,
) -> Model:
    """`baskets`: each member's products, most recent first (repeats are fine)."""
    buyers: Counter[str] = Counter()
    together: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for basket in baskets:
        distinct = list(dict.fromkeys(basket))[:MAX_ITEMS_PER_MEMBER]
        buyers.update(distinct)
        for a, b in combinations(sorted(distinct), 2):
            together[a][b] += 1
            together[b][a] += 1
    neighbours: dict[str, list[tuple[str, float]]] = {}
    for sku, counts in together.items():
        scored = [
            (other, n / math.sqrt(buyers[sku] * buyers[other]))
            for other, n in counts.items()
            if n >= min_support
        ]
        scored.sort(key=lambda pair: (-pair[1], pair[0]))
        neighbours[sku] = scored[:top_k]
    return Model(neighbours=neighbours, buyers=buyers)


def popular_by_category(
    model: Model, products: Mapping[str, Product], *, per_category: int = 30
) -> dict[str, list[str]]:
    """Each category's most-bought active products, then the ones nobody bought yet (a new
    shop's shelves are not empty)."""
    by_category: defaultdict[str, list[str]] = defaultdict(list)
    for sku in model.popular(products):
        product = products.get(sku)
        if product is not None and product.active:
            shelf = by_category[product.category]
            if len(shelf) < per_category:
                shelf.append(sku)
    return dict(by_category)
