"""Ranking products for one member.

Built in two steps so the member page stays cheap. The job ranks candidates from the whole
purchase history (`candidates`): products similar to what the member bought (BOUGHT_TOGETHER),
then the most popular products of the member's categories (POPULAR_IN_CATEGORY), then the
most popular overall (POPULAR). The page (`recommend`) then applies what has happened since:
products bought within their replenishment cycle are left out, replenishable products whose
cycle is due come first (REPLENISH), and a member who has not consented to profiling gets
the overall popular list only.

Scores are bands, so they sort like the list: REPLENISH 1-2 (more overdue, higher),
BOUGHT_TOGETHER 0.5-1, POPULAR_IN_CATEGORY 0.25-0.5, POPULAR 0-0.25.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.recommendations.model import Model, Product

CANDIDATES = 60  # kept per member: room for what the page leaves out
RECENCY_HALF_LIFE_DAYS = 180  # an older purchase says half as much about what comes next
DUE_AT = 0.85  # a replenishment is due at 85% of its cycle (before the member runs out)
STALE_AFTER = 3.0  # ... and no longer suggested after three cycles (they moved on)
PAGE_MAX = 50


class Reason(StrEnum):
    BOUGHT_TOGETHER = "BOUGHT_TOGETHER"
    POPULAR_IN_CATEGORY = "POPULAR_IN_CATEGORY"
    POPULAR = "POPULAR"
    REPLENISH = "REPLENISH"


@dataclass(frozen=True)
class Suggestion:
    sku: str
    score: float
    reason: Reason


def _band(value: float, top: float, low: float, high: float) -> float:
    return low + (high - low) * (value / top if top > 0 else 1.0)


def candidates(
    history: Mapping[str, datetime],
    *,
    model: Model,
    products: Mapping[str, Product],
    popular_in: Mapping[str, Sequence[str]],
    popular: Sequence[str],
    now: datetime,
    limit: int = CANDIDATES,
) -> list[Suggestion]:
    """`history`: each product the member bought, with when they last bought it. Products
    already bought are not candidates (replenishment is the page's business)."""
    chosen: dict[str, Suggestion] = {}

    def usable(sku: str) -> bool:
        product = products.get(sku)
        return product is not None and product.active and sku not in history

    similar: defaultdict[str, float] = defaultdict(float)
    for sku, bought_at in history.items():
        age_days = max((now - bought_at).total_seconds() / 86_400, 0.0)
        weight = 0.5 ** (age_days / RECENCY_HALF_LIFE_DAYS)
        for other, similarity in model.neighbours.get(sku, ()):
            if usable(other):
                similar[other] += weight * similarity
    top = max(similar.values(), default=0.0)
    for sku, value in sorted(similar.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]:
        chosen[sku] = Suggestion(sku, _band(value, top, 0.5, 1.0), Reason.BOUGHT_TOGETHER)

    # The member's categories' favourites, most-bought category first; then the overall
    # favourites. Each band is scored over its whole run, so scores fall down the list.
    categories = Counter(products[s].category for s in history if s in products)
    in_categories = [
        s
        for category, _ in sorted(categories.items(), key=lambda kv: (-kv[1], kv[0]))
        for s in popular_in.get(category, ())
        if usable(s) and s not in chosen
    ]
    taken = set(in_categories)
    overall = [s for s in popular if usable(s) and s not in chosen and s not in taken]
    for run, low, high, reason in (
        (in_categories, 0.25, 0.5, Reason.POPULAR_IN_CATEGORY),
        (overall, 0.0, 0.25, Reason.POPULAR),
    ):
        run = run[: max(limit - len(chosen), 0)]
        for n, sku in enumerate(run):
            chosen[sku] = Suggestion(sku, _band(len(run) - n, len(run), low, high), reason)
    return list(chosen.values())


def bought_recently(sku: str, last: datetime, product: Product | None, now: datetime) -> bool:
    """Within its replenishment cycle ("no shampoo for who just bought shampoo"); a product
    that is not replenished was bought for good."""
    if product is None or product.replenish_days is None:
        return True
    return now - last < timedelta(days=product.replenish_days)


def due(last: datetime, product: Product, now: datetime) -> float | None:
    """How far into its cycle a replenishable product is (1.0 = exactly one cycle), when
    it is due and not stale; None otherwise."""
    if product.replenish_days is None or not product.active:
        return None
    cycles = (now - last) / timedelta(days=product.replenish_days)
    return cycles if DUE_AT <= cycles <= STALE_AFTER else None


def recommend(
    stored: Sequence[Suggestion],
    *,
    purchases: Mapping[str, datetime],
    replenishable: Mapping[str, Product],
    now: datetime,
    first: int,
) -> list[Suggestion]:
    """The page's list: due replenishments first (most overdue first), then the stored
    candidates minus what was bought within its cycle. `purchases` is the member's products
    with their latest purchase, as the database has them now; `replenishable` describes the
    replenishable ones among them."""
    refills = []
    for sku, last in purchases.items():
        product = replenishable.get(sku)
        cycles = due(last, product, now) if product else None
        if cycles is not None:
            refills.append(
                Suggestion(sku, 1.0 + min(cycles, STALE_AFTER) / STALE_AFTER, Reason.REPLENISH)
            )
    refills.sort(key=lambda s: (-s.score, s.sku))
    picked = {s.sku for s in refills}
    rest = [
        s
        for s in stored
        if s.sku not in picked
        and not (
            s.sku in purchases
            and bought_recently(s.sku, purchases[s.sku], replenishable.get(s.sku), now)
        )
    ]
    return (refills + rest)[:first]


def popular_suggestions(popular: Sequence[str], limit: int) -> list[Suggestion]:
    """The overall list: for members without consent, or not yet in a build."""
    shown = list(popular[:limit])
    return [
        Suggestion(s, _band(len(shown) - n, len(shown), 0.0, 0.25), Reason.POPULAR)
        for n, s in enumerate(shown)
    ]
