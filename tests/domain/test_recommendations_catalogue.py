"""What a catalogue upsert may say, without a database: each bad field names its row."""

from __future__ import annotations

from typing import Any

import pytest

from domain.errors import Collector, ErrorCode
from domain.points import MAX_MONEY
from domain.recommendations.catalogue import MAX_REPLENISH_DAYS, UPSERT_MAX, validate_products
from domain.recommendations.model import Product


def product(n: int = 0, **overrides: Any) -> Product:
    fields: dict[str, Any] = {
        "sku": f"sku-{n}",
        "title": f"Product {n}",
        "category": "general",
        "price": 1_990,
        "replenish_days": None,
    }
    return Product(**{**fields, **overrides})


def errors_for(products: list[Product]) -> Collector:
    errors = Collector()
    validate_products(products, errors)
    return errors


def fields_of(errors: Collector) -> list[str | None]:
    return [e.field for e in errors.errors]


def test_a_valid_catalogue_reports_nothing():
    # given
    products = [
        product(0),
        product(1, price=0, replenish_days=1),
        product(2, price=MAX_MONEY, replenish_days=MAX_REPLENISH_DAYS),
    ]
    # when
    errors = errors_for(products)
    # then
    assert errors.errors == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"price": -1}, "products.2.price"),
        ({"price": MAX_MONEY + 1}, "products.2.price"),
        ({"replenish_days": 0}, "products.2.replenishDays"),
        ({"replenish_days": -30}, "products.2.replenishDays"),
        ({"replenish_days": MAX_REPLENISH_DAYS + 1}, "products.2.replenishDays"),
        ({"title": ""}, "products.2.title"),
        ({"title": "   "}, "products.2.title"),
        ({"title": "x" * 201}, "products.2.title"),
        ({"title": "Tea\x00"}, "products.2.title"),
        ({"title": "Tea \ud800"}, "products.2.title"),
        ({"category": ""}, "products.2.category"),
        ({"category": "c" * 65}, "products.2.category"),
        ({"category": "tea\n"}, "products.2.category"),
        ({"sku": ""}, "products.2.sku"),
        ({"sku": "s" * 65}, "products.2.sku"),
        ({"sku": "sku\t2"}, "products.2.sku"),
    ],
)
def test_a_bad_field_is_reported_on_its_row(overrides, field):
    # given
    products = [product(0), product(1), product(2, **overrides)]
    # when
    errors = errors_for(products)
    # then
    assert fields_of(errors) == [field]
    assert {e.code for e in errors.errors} == {ErrorCode.VALIDATION}


def test_a_negative_price_on_the_first_row_is_reported_as_products_0_price():
    # given
    products = [product(0, price=-100), product(1)]
    # when
    errors = errors_for(products)
    # then
    assert fields_of(errors) == ["products.0.price"]


def test_every_bad_field_of_every_row_is_reported_at_once():
    # given
    products = [product(0, price=-1, replenish_days=0), product(1), product(2, title="")]
    # when
    errors = errors_for(products)
    # then
    assert fields_of(errors) == [
        "products.0.price",
        "products.0.replenishDays",
        "products.2.title",
    ]


def test_a_sku_given_twice_is_reported_on_the_list():
    # given
    products = [product(0), product(1), product(2, sku="sku-0")]
    # when
    errors = errors_for(products)
    # then
    assert fields_of(errors) == ["products"]


@pytest.mark.parametrize("count", [0, UPSERT_MAX + 1])
def test_an_empty_list_or_more_than_1000_products_is_refused(count):
    # given
    products = [product(n) for n in range(count)]
    # when
    errors = errors_for(products)
    # then
    assert fields_of(errors) == ["products"]


def test_exactly_1000_products_are_accepted():
    # given
    products = [product(n) for n in range(UPSERT_MAX)]
    # when
    errors = errors_for(products)
    # then
    assert errors.errors == []
