"""What a catalogue row may say."""

from __future__ import annotations

from domain.errors import Collector
from domain.points import MAX_MONEY, check_sku
from domain.recommendations.model import Product
from domain.text import is_clean

UPSERT_MAX = 1_000
MAX_REPLENISH_DAYS = 3_650


def validate_products(products: list[Product], errors: Collector) -> None:
    if not 1 <= len(products) <= UPSERT_MAX:
        errors.add("products", f"1-{UPSERT_MAX} products at a time")
    skus = [p.sku for p in products]
    if len(set(skus)) != len(skus):
        errors.add("products", "each sku once")
    for n, p in enumerate(products):
        check_sku(errors, p.sku, f"products.{n}.sku")
        if not (1 <= len(p.title.strip()) <= 200 and is_clean(p.title)):
            errors.add(f"products.{n}.title", "must be 1-200 characters, no control characters")
        if not 1 <= len(p.category) <= 64 or not p.category.isprintable():
            errors.add(f"products.{n}.category", "must be 1-64 printable characters")
        if not 0 <= p.price <= MAX_MONEY:
            errors.add(f"products.{n}.price", f"must be 0-{MAX_MONEY} minor units")
        if p.replenish_days is not None and not 1 <= p.replenish_days <= MAX_REPLENISH_DAYS:
            errors.add(
                f"products.{n}.replenishDays",
                f"must be 1-{MAX_REPLENISH_DAYS} days, or null for a product not re-bought",
            )
