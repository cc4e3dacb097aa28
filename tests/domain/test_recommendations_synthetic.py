"""The synthetic purchase data: deterministic for a seed, and shaped as its docstring says."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from domain.recommendations.synthetic import (
    CONSUMABLES,
    DURABLES,
    PER_CATEGORY,
    Dataset,
    generate,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def small() -> Dataset:
    return generate(members=300, seed=11, now=NOW)


@pytest.fixture(scope="module")
def full() -> Dataset:
    return generate(now=NOW)


def orders_per_member(data: Dataset) -> Counter[int]:
    return Counter(order.member for order in data.orders)


def members_of_kind(data: Dataset, kind: str) -> list[int]:
    return [member for member, (k, _) in data.members.items() if k == kind]


def test_the_same_seed_makes_the_same_data():
    # given / when
    first = generate(members=300, seed=11, now=NOW)
    second = generate(members=300, seed=11, now=NOW)
    # then
    assert first.products == second.products
    assert first.members == second.members
    assert first.orders == second.orders
    assert first.line_count > 0


def test_another_seed_makes_other_data(small):
    # given / when
    other = generate(members=300, seed=12, now=NOW)
    # then
    assert other.orders != small.orders
    assert other.members != small.members


def test_the_catalogue_has_20_products_in_each_of_25_categories_with_cycles_for_consumables(
    small,
):
    # given
    by_category = Counter(p.category for p in small.products.values())
    # when
    cycles = {p.category: p.replenish_days for p in small.products.values()}
    # then
    assert len(by_category) == len(CONSUMABLES) + len(DURABLES) == 25
    assert set(by_category.values()) == {PER_CATEGORY}
    assert {c: d for c, d in cycles.items() if d is not None} == CONSUMABLES
    assert all(cycles[c] is None for c in DURABLES)


def test_every_products_title_carries_its_skus_number(small):
    # `outdoor-19` titled "Outdoor 20" was a demo catalogue a newcomer could not trust
    for sku, product in small.products.items():
        category, _, number = sku.rpartition("-")
        assert product.title == f"{category.replace('-', ' ').title()} {int(number)}", sku
    numbers = sorted({int(sku.rpartition("-")[2]) for sku in small.products})
    assert numbers == list(range(1, PER_CATEGORY + 1))


def test_every_line_names_a_catalogue_product_at_its_price_with_a_positive_quantity(small):
    # given
    lines = [line for order in small.orders for line in order.lines]
    # when
    unknown = [sku for sku, _, _ in lines if sku not in small.products]
    # then
    assert lines
    assert unknown == []
    assert all(quantity >= 1 for _, quantity, _ in lines)
    assert all(price == small.products[sku].price for sku, _, price in lines)


def test_no_order_is_placed_after_now_nor_before_its_member_joined(small):
    # given / when
    late = [o for o in small.orders if o.placed_at > NOW]
    early = [o for o in small.orders if o.placed_at < small.members[o.member][1]]
    # then
    assert late == []
    assert early == []


def test_orders_are_listed_by_time(small):
    # given / when
    times = [o.placed_at for o in small.orders]
    # then
    assert times == sorted(times)


def test_new_members_joined_within_the_last_30_days_and_the_others_long_before(small):
    # given
    joined = {member: NOW - at for member, (_, at) in small.members.items()}
    new = set(members_of_kind(small, "new"))
    # when / then
    assert new
    assert all(timedelta(0) <= joined[m] <= timedelta(days=30) for m in new)
    assert all(joined[m] >= timedelta(days=400) for m in small.members if m not in new)


def test_lapsed_members_placed_no_order_in_the_last_8_months(full):
    # given
    lapsed = set(members_of_kind(full, "lapsed"))
    # when
    recent = [o for o in full.orders if o.member in lapsed and o.placed_at > NOW - timedelta(240)]
    # then
    assert lapsed
    assert recent == []


def test_every_new_member_placed_one_or_two_orders(small):
    # given: the module docstring says new members have "one or two orders"
    counts = orders_per_member(small)
    # when
    placed = Counter(counts[m] for m in members_of_kind(small, "new"))
    # then
    assert set(placed) <= {1, 2}


def test_every_lapsed_member_was_active_before_going_silent(full):
    # given: the module docstring says lapsed members were "active in their first year"
    counts = orders_per_member(full)
    # when
    never_ordered = [m for m in members_of_kind(full, "lapsed") if counts[m] == 0]
    # then
    assert never_ordered == []


def test_the_default_data_has_at_least_50_000_order_lines(full):
    # given / when
    lines = full.line_count
    # then
    assert len(full.members) == 5_000
    assert lines >= 50_000
