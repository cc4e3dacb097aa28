"""The product catalogue: admins upsert it in bulk; the build and the page read it."""

from __future__ import annotations

from typing import Any

from tortoise.exceptions import IntegrityError

from db.connection import is_unique_violation
from db.models import Product as ProductRow
from db.repositories import recommendations as repo
from domain.auth import Principal
from domain.errors import AlreadyExists, Collector
from domain.idempotency import check_key
from domain.paging import PageRequest, page_of
from domain.recommendations.catalogue import validate_products
from domain.recommendations.model import Product
from services.clock import programme_time
from services.idempotency import run_once


async def upsert(
    principal: Principal, products: list[Product], *, idempotency_key: str
) -> list[ProductRow]:
    """Create the new skus and overwrite the known ones, all or none."""
    errors = Collector()
    check_key(errors, idempotency_key)
    validate_products(products, errors)
    errors.raise_if_any()
    payload = {
        "products": [
            [p.sku, p.title.strip(), p.category, p.price, p.replenish_days, p.active]
            for p in products
        ]
    }

    async def act() -> dict[str, Any]:
        now = await programme_time(principal.programme_id)
        skus = [p.sku for p in products]
        known = {r.sku: r for r in await repo.products_by_skus(principal.programme_id, skus)}
        new: list[ProductRow] = []
        changed: list[ProductRow] = []
        for p in products:
            row = known.get(p.sku) or ProductRow(programme_id=principal.programme_id, sku=p.sku)
            row.title, row.category, row.price = p.title.strip(), p.category, p.price
            row.replenish_days, row.active, row.updated_at = p.replenish_days, p.active, now
            (changed if p.sku in known else new).append(row)
        if new:
            try:
                await repo.create_products(new)
            except IntegrityError as error:
                if not is_unique_violation(error):
                    raise
                raise AlreadyExists(
                    "another upsert added some of these skus just now; send this one again",
                    field="products",
                ) from error
        if changed:
            await repo.update_products(changed)
        return {"skus": skus}

    result = await run_once(
        principal, key=idempotency_key, operation="upsertProducts", payload=payload, action=act
    )
    rows = {r.sku: r for r in await repo.products_by_skus(principal.programme_id, result["skus"])}
    return [rows[s] for s in result["skus"]]


async def page(
    principal: Principal, request: PageRequest, *, category: str | None
) -> tuple[list[ProductRow], bool]:
    rows = await repo.products_page(principal.programme_id, request, category=category)
    return page_of(rows, request)


async def count(principal: Principal, *, category: str | None) -> int:
    return await repo.products_count(principal.programme_id, category=category)


def product_of(row: ProductRow) -> Product:
    return Product(row.sku, row.title, row.category, row.price, row.replenish_days, row.active)
