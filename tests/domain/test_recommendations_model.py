"""The item-to-item co-purchase model without a database: cosine values, support, top-k and
the popularity lists."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from domain.recommendations.model import (
    MAX_ITEMS_PER_MEMBER,
    Model,
    Product,
    build_model,
    popular_by_category,
)

# Four members: a and b go together twice, a and c twice, b and c once.
BASKETS = [["a", "b"], ["a", "b", "c"], ["a", "c"], ["b"]]


def product(sku: str, category: str = "general", *, active: bool = True) -> Product:
    return Product(sku, sku.title(), category, 1_000, active=active)


# ---- build_model ----------------------------------------------------------------------------


def test_similarity_is_the_cosine_of_the_two_products_buyer_sets():
    # given: buyers a=3, b=3, c=2; a&b=2, a&c=2, b&c=1
    # when
    model = build_model(BASKETS, min_support=1)
    # then
    assert dict(model.neighbours["a"]) == pytest.approx({"b": 2 / 3, "c": 2 / math.sqrt(6)})
    assert dict(model.neighbours["b"]) == pytest.approx({"a": 2 / 3, "c": 1 / math.sqrt(6)})
    assert dict(model.neighbours["c"]) == pytest.approx(
        {"a": 2 / math.sqrt(6), "b": 1 / math.sqrt(6)}
    )
    assert model.buyers == Counter({"a": 3, "b": 3, "c": 2})


def test_neighbours_are_listed_most_similar_first():
    # given / when
    model = build_model(BASKETS, min_support=1)
    # then
    assert [sku for sku, _ in model.neighbours["a"]] == ["c", "b"]
    assert [sku for sku, _ in model.neighbours["c"]] == ["a", "b"]


def test_a_pair_bought_together_by_fewer_members_than_min_support_is_dropped():
    # given: b and c are bought together by one member only
    # when
    model = build_model(BASKETS)
    # then
    assert [sku for sku, _ in model.neighbours["b"]] == ["a"]
    assert [sku for sku, _ in model.neighbours["c"]] == ["a"]
    assert {sku for sku, _ in model.neighbours["a"]} == {"b", "c"}


def test_a_higher_min_support_drops_every_pair_below_it():
    # given / when
    model = build_model(BASKETS, min_support=3)
    # then
    assert all(pairs == [] for pairs in model.neighbours.values())


def test_top_k_keeps_only_the_most_similar_neighbours():
    # given / when
    model = build_model(BASKETS, min_support=1, top_k=1)
    # then
    assert model.neighbours["a"] == [("c", pytest.approx(2 / math.sqrt(6)))]
    assert model.neighbours["b"] == [("a", pytest.approx(2 / 3))]


def test_equally_similar_neighbours_are_ordered_by_sku():
    # given: x goes with z and y equally
    baskets = [["x", "z", "y"], ["x", "y", "z"]]
    # when
    model = build_model(baskets, top_k=1)
    # then
    assert model.neighbours["x"] == [("y", pytest.approx(1.0))]


def test_a_member_counts_once_per_product_however_often_they_bought_it():
    # given
    baskets = [["a", "a", "b", "a"], ["b", "a", "b"]]
    # when
    model = build_model(baskets)
    # then
    assert model.buyers == Counter({"a": 2, "b": 2})
    assert model.neighbours["a"] == [("b", pytest.approx(1.0))]


def test_only_a_members_most_recent_products_are_paired():
    # given: two members with the same long history, most recent first
    history = [f"p{n:03d}" for n in range(MAX_ITEMS_PER_MEMBER + 1)]
    oldest = history[-1]
    # when
    model = build_model([history, history], top_k=100)
    # then
    assert oldest not in model.neighbours
    assert all(oldest not in dict(pairs) for pairs in model.neighbours.values())
    assert len(model.neighbours[history[0]]) == MAX_ITEMS_PER_MEMBER - 1


def test_no_baskets_build_an_empty_model():
    # given / when
    model = build_model([])
    # then
    assert model.neighbours == {}
    assert model.popular() == []


# ---- Model.popular --------------------------------------------------------------------------


def test_popular_lists_the_most_bought_first_and_ties_by_sku():
    # given
    model = Model(buyers=Counter({"m": 2, "z": 5, "b": 2, "a": 1, "k": 5}))
    # when
    result = model.popular()
    # then
    assert result == ["k", "z", "b", "m", "a"]


def test_popular_among_given_skus_ranks_only_those_and_unbought_ones_last():
    # given
    model = Model(buyers=Counter({"m": 2, "z": 5, "b": 2, "a": 1, "k": 5}))
    # when
    result = model.popular(["a", "never", "z", "m"])
    # then
    assert result == ["z", "m", "a", "never"]


# ---- popular_by_category --------------------------------------------------------------------


def test_each_category_lists_its_most_bought_active_products():
    # given
    model = Model(buyers=Counter({"tea-1": 9, "tea-2": 4, "tea-3": 7, "cup-1": 5, "cup-2": 6}))
    products = {
        "tea-1": product("tea-1", "tea"),
        "tea-2": product("tea-2", "tea"),
        "tea-3": product("tea-3", "tea", active=False),
        "cup-1": product("cup-1", "cups"),
        "cup-2": product("cup-2", "cups"),
    }
    # when
    result = popular_by_category(model, products)
    # then
    assert result == {"tea": ["tea-1", "tea-2"], "cups": ["cup-2", "cup-1"]}


def test_products_missing_from_the_catalogue_are_not_on_any_shelf():
    # given
    model = Model(buyers=Counter({"gone": 50, "tea-1": 1}))
    products = {"tea-1": product("tea-1", "tea")}
    # when
    result = popular_by_category(model, products)
    # then
    assert result == {"tea": ["tea-1"]}


def test_a_shelf_holds_at_most_per_category_products():
    # given
    model = Model(buyers=Counter({f"tea-{n}": 10 - n for n in range(6)}))
    products = {sku: product(sku, "tea") for sku in model.buyers}
    # when
    result = popular_by_category(model, products, per_category=3)
    # then
    assert result == {"tea": ["tea-0", "tea-1", "tea-2"]}
