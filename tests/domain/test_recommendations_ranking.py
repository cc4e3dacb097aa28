"""Ranking for one member without a database: the stored candidates, the page's list with
replenishment, and the popular list for members without consent."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.recommendations.model import Model, Product
from domain.recommendations.ranking import (
    RECENCY_HALF_LIFE_DAYS,
    Reason,
    Suggestion,
    bought_recently,
    candidates,
    due,
    popular_suggestions,
    recommend,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
REASON_ORDER = [Reason.BOUGHT_TOGETHER, Reason.POPULAR_IN_CATEGORY, Reason.POPULAR]
BANDS = {
    Reason.REPLENISH: (1.0, 2.0),
    Reason.BOUGHT_TOGETHER: (0.5, 1.0),
    Reason.POPULAR_IN_CATEGORY: (0.25, 0.5),
    Reason.POPULAR: (0.0, 0.25),
}


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def product(
    sku: str, category: str, *, active: bool = True, replenish_days: int | None = None
) -> Product:
    return Product(sku, sku.title(), category, 1_000, replenish_days=replenish_days, active=active)


# A phone shop with a shampoo aisle; the old phone is no longer sold.
SHOP = {
    p.sku: p
    for p in [
        product("phone", "phones"),
        product("case", "phones"),
        product("charger", "phones"),
        product("old-phone", "phones", active=False),
        product("earbuds", "audio"),
        product("speaker", "audio"),
        product("headphones", "audio"),
        product("tv", "appliances"),
        product("kettle", "appliances"),
        product("shampoo", "shampoo", replenish_days=30),
        product("conditioner", "shampoo", replenish_days=30),
    ]
}
SHAMPOO = SHOP["shampoo"]
CONDITIONER = SHOP["conditioner"]


def rank(
    history: Mapping[str, datetime],
    *,
    neighbours: dict[str, list[tuple[str, float]]] | None = None,
    popular_in: Mapping[str, Sequence[str]] | None = None,
    popular: Sequence[str] = (),
    products: Mapping[str, Product] = SHOP,
    limit: int = 60,
) -> list[Suggestion]:
    return candidates(
        history,
        model=Model(neighbours=neighbours or {}),
        products=products,
        popular_in=popular_in or {},
        popular=popular,
        now=NOW,
        limit=limit,
    )


def skus(suggestions: Sequence[Suggestion]) -> list[str]:
    return [s.sku for s in suggestions]


def suggestion(
    sku: str, score: float = 0.75, reason: Reason = Reason.BOUGHT_TOGETHER
) -> Suggestion:
    return Suggestion(sku, score, reason)


# ---- candidates -----------------------------------------------------------------------------


def test_bought_together_comes_first_then_the_members_categories_then_popular_overall():
    # given
    history = {"phone": days_ago(1)}
    neighbours = {"phone": [("earbuds", 0.8), ("case", 0.6)]}
    popular_in = {"phones": ["phone", "case", "charger"], "audio": ["speaker"]}
    popular = ["tv", "phone", "earbuds", "kettle"]
    # when
    result = rank(history, neighbours=neighbours, popular_in=popular_in, popular=popular)
    # then
    assert [(s.sku, s.reason) for s in result] == [
        ("earbuds", Reason.BOUGHT_TOGETHER),
        ("case", Reason.BOUGHT_TOGETHER),
        ("charger", Reason.POPULAR_IN_CATEGORY),
        ("tv", Reason.POPULAR),
        ("kettle", Reason.POPULAR),
    ]


def test_a_product_already_bought_is_never_proposed():
    # given
    history = {"phone": days_ago(3), "earbuds": days_ago(400)}
    neighbours = {"phone": [("earbuds", 0.9)], "earbuds": [("phone", 0.9)]}
    popular_in = {"phones": ["phone"], "audio": ["earbuds"]}
    # when
    result = rank(
        history, neighbours=neighbours, popular_in=popular_in, popular=["phone", "earbuds"]
    )
    # then
    assert result == []


def test_inactive_and_unknown_products_are_never_proposed():
    # given
    history = {"phone": days_ago(1)}
    neighbours = {"phone": [("old-phone", 0.9), ("ghost", 0.9), ("case", 0.1)]}
    popular_in = {"phones": ["old-phone", "ghost", "charger"]}
    # when
    result = rank(
        history, neighbours=neighbours, popular_in=popular_in, popular=["ghost", "old-phone", "tv"]
    )
    # then
    assert skus(result) == ["case", "charger", "tv"]


def test_similar_products_are_ranked_by_similarity_summed_over_the_history():
    # given: speaker is similar to both purchases, earbuds to one
    history = {"phone": days_ago(0), "case": days_ago(0)}
    neighbours = {
        "phone": [("earbuds", 0.5), ("speaker", 0.3)],
        "case": [("speaker", 0.3), ("charger", 0.1)],
    }
    # when
    result = rank(history, neighbours=neighbours)
    # then
    assert skus(result) == ["speaker", "earbuds", "charger"]
    assert [s.score for s in result] == pytest.approx([1.0, 0.5 + 0.5 * 0.5 / 0.6, 0.5 + 0.5 / 6])


def test_a_purchase_half_a_life_ago_says_half_as_much():
    # given
    history = {"phone": days_ago(0), "case": days_ago(RECENCY_HALF_LIFE_DAYS)}
    neighbours = {"phone": [("earbuds", 0.4)], "case": [("charger", 0.4)]}
    # when
    result = rank(history, neighbours=neighbours)
    # then
    assert skus(result) == ["earbuds", "charger"]
    assert [s.score for s in result] == pytest.approx([1.0, 0.75])


def test_the_fill_starts_with_the_category_the_member_bought_most():
    # given: two audio products, one phone
    history = {"earbuds": days_ago(5), "speaker": days_ago(5), "phone": days_ago(1)}
    popular_in = {"phones": ["case", "charger"], "audio": ["headphones"]}
    # when
    result = rank(history, popular_in=popular_in)
    # then
    assert skus(result) == ["headphones", "case", "charger"]
    assert {s.reason for s in result} == {Reason.POPULAR_IN_CATEGORY}


def test_categories_bought_equally_often_fill_in_name_order():
    # given
    history = {"phone": days_ago(1), "earbuds": days_ago(1)}
    popular_in = {"phones": ["case"], "audio": ["headphones"]}
    # when
    result = rank(history, popular_in=popular_in)
    # then
    assert skus(result) == ["headphones", "case"]


@pytest.mark.parametrize("limit", [0, 1, 2, 3, 5])
def test_no_more_candidates_than_the_limit_are_kept_best_first(limit):
    # given
    history = {"phone": days_ago(1)}
    neighbours = {"phone": [("earbuds", 0.8), ("case", 0.6)]}
    popular_in = {"phones": ["charger"]}
    popular = ["tv", "kettle", "speaker"]
    everything = ["earbuds", "case", "charger", "tv", "kettle", "speaker"]
    # when
    result = rank(
        history, neighbours=neighbours, popular_in=popular_in, popular=popular, limit=limit
    )
    # then
    assert skus(result) == everything[:limit]


def test_a_member_with_no_history_gets_the_popular_products():
    # given / when
    result = rank({}, neighbours={"phone": [("case", 0.9)]}, popular=["tv", "kettle"])
    # then
    assert [(s.sku, s.reason) for s in result] == [
        ("tv", Reason.POPULAR),
        ("kettle", Reason.POPULAR),
    ]
    assert [s.score for s in result] == pytest.approx([0.25, 0.125])


def test_scores_sort_like_the_list_when_the_member_has_several_categories():
    # given: the module docstring promises "Scores are bands, so they sort like the list"
    history = {"earbuds": days_ago(5), "phone": days_ago(1)}
    popular_in = {"audio": ["speaker", "headphones"], "phones": ["case", "charger"]}
    # when
    result = rank(history, popular_in=popular_in, popular=["tv"])
    # then
    assert skus(result) == ["speaker", "headphones", "case", "charger", "tv"]
    scores = [s.score for s in result]
    assert scores == sorted(scores, reverse=True)


POOL = [*sorted(SHOP), "ghost", "gone"]


@st.composite
def ranking_inputs(draw: st.DrawFn) -> dict[str, object]:
    pool = st.sampled_from(POOL)
    history = {
        sku: days_ago(age)
        for sku, age in draw(st.dictionaries(pool, st.integers(0, 900), max_size=5)).items()
    }
    neighbours = draw(
        st.dictionaries(
            pool,
            st.lists(st.tuples(pool, st.floats(0.01, 1.0)), max_size=6, unique_by=lambda t: t[0]),
            max_size=8,
        )
    )
    categories = [*sorted({p.category for p in SHOP.values()}), "nowhere"]
    popular_in = draw(
        st.dictionaries(st.sampled_from(categories), st.lists(pool, unique=True), max_size=6)
    )
    popular = draw(st.lists(pool, unique=True))
    limit = draw(st.integers(0, 12))
    return {
        "history": history,
        "neighbours": neighbours,
        "popular_in": popular_in,
        "popular": popular,
        "limit": limit,
    }


@given(ranking_inputs())
def test_candidates_are_unbought_active_distinct_within_the_limit_and_in_band(inputs):
    # given
    history = inputs["history"]
    # when
    result = rank(**inputs)
    # then
    assert len(result) <= inputs["limit"]
    assert len(set(skus(result))) == len(result)
    for s in result:
        assert s.sku not in history
        assert s.sku in SHOP and SHOP[s.sku].active
        low, high = BANDS[s.reason]
        assert low <= s.score <= high
    reasons = [REASON_ORDER.index(s.reason) for s in result]
    assert reasons == sorted(reasons)


# ---- due / bought_recently ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age_days", "expected"),
    [
        (25, None),
        (25.5, 0.85),
        (30, 1.0),
        (60, 2.0),
        (90, 3.0),
        (91, None),
    ],
)
def test_a_replenishment_is_due_from_85_percent_of_its_cycle_until_three_cycles(age_days, expected):
    # given
    last = days_ago(age_days)
    # when
    result = due(last, SHAMPOO, NOW)
    # then
    assert result == (None if expected is None else pytest.approx(expected))


@pytest.mark.parametrize(
    "item",
    [product("tv", "appliances"), product("shampoo", "shampoo", replenish_days=30, active=False)],
)
def test_a_product_not_replenished_or_no_longer_sold_is_never_due(item):
    # given / when
    result = due(days_ago(30), item, NOW)
    # then
    assert result is None


@pytest.mark.parametrize(
    ("age_days", "expected"), [(0, True), (29.9, True), (30, False), (200, False)]
)
def test_a_replenishable_product_is_recent_within_its_cycle(age_days, expected):
    # given / when
    result = bought_recently("shampoo", days_ago(age_days), SHAMPOO, NOW)
    # then
    assert result is expected


@pytest.mark.parametrize("item", [None, product("tv", "appliances")])
def test_a_product_that_is_not_replenished_was_bought_for_good(item):
    # given / when
    result = bought_recently("tv", days_ago(3_000), item, NOW)
    # then
    assert result is True


# ---- recommend ------------------------------------------------------------------------------


def test_a_due_replenishment_comes_before_the_stored_candidates():
    # given
    stored = [suggestion("earbuds", 0.9), suggestion("tv", 0.2, Reason.POPULAR)]
    purchases = {"shampoo": days_ago(26)}
    # when
    result = recommend(
        stored, purchases=purchases, replenishable={"shampoo": SHAMPOO}, now=NOW, first=10
    )
    # then
    assert [(s.sku, s.reason) for s in result] == [
        ("shampoo", Reason.REPLENISH),
        ("earbuds", Reason.BOUGHT_TOGETHER),
        ("tv", Reason.POPULAR),
    ]


@pytest.mark.parametrize("age_days", [25, 91])
def test_a_replenishment_is_not_offered_before_85_percent_or_after_three_cycles(age_days):
    # given
    stored = [suggestion("earbuds")]
    # when
    result = recommend(
        stored,
        purchases={"shampoo": days_ago(age_days)},
        replenishable={"shampoo": SHAMPOO},
        now=NOW,
        first=10,
    )
    # then
    assert skus(result) == ["earbuds"]


def test_the_most_overdue_replenishment_comes_first_with_a_higher_score():
    # given
    purchases = {"shampoo": days_ago(27), "conditioner": days_ago(60)}
    replenishable = {"shampoo": SHAMPOO, "conditioner": CONDITIONER}
    # when
    result = recommend([], purchases=purchases, replenishable=replenishable, now=NOW, first=10)
    # then
    assert skus(result) == ["conditioner", "shampoo"]
    assert [s.score for s in result] == pytest.approx([1 + 2 / 3, 1 + 0.9 / 3])
    assert all(1.0 <= s.score <= 2.0 for s in result)


def test_a_product_bought_within_its_cycle_is_left_out():
    # given: the member bought shampoo after the candidates were stored
    stored = [suggestion("shampoo", 0.9), suggestion("earbuds", 0.8)]
    # when
    result = recommend(
        stored,
        purchases={"shampoo": days_ago(10)},
        replenishable={"shampoo": SHAMPOO},
        now=NOW,
        first=10,
    )
    # then
    assert skus(result) == ["earbuds"]


def test_a_product_that_is_not_replenished_and_bought_since_is_left_out():
    # given
    stored = [suggestion("tv", 0.9), suggestion("earbuds", 0.8)]
    # when
    result = recommend(stored, purchases={"tv": days_ago(500)}, replenishable={}, now=NOW, first=10)
    # then
    assert skus(result) == ["earbuds"]


def test_a_replenishable_product_past_its_cycle_keeps_its_stored_place():
    # given: bought four cycles ago, too stale to be a replenishment
    stored = [suggestion("earbuds", 0.9), suggestion("shampoo", 0.6)]
    # when
    result = recommend(
        stored,
        purchases={"shampoo": days_ago(120)},
        replenishable={"shampoo": SHAMPOO},
        now=NOW,
        first=10,
    )
    # then
    assert result == stored


def test_a_due_replenishment_is_not_repeated_from_the_stored_candidates():
    # given
    stored = [suggestion("shampoo", 0.9), suggestion("earbuds", 0.8)]
    # when
    result = recommend(
        stored,
        purchases={"shampoo": days_ago(40)},
        replenishable={"shampoo": SHAMPOO},
        now=NOW,
        first=10,
    )
    # then
    assert [(s.sku, s.reason) for s in result] == [
        ("shampoo", Reason.REPLENISH),
        ("earbuds", Reason.BOUGHT_TOGETHER),
    ]


@pytest.mark.parametrize("first", [1, 2, 3])
def test_the_page_shows_at_most_first_suggestions(first):
    # given
    stored = [suggestion("earbuds"), suggestion("tv"), suggestion("kettle")]
    # when
    result = recommend(
        stored,
        purchases={"shampoo": days_ago(30)},
        replenishable={"shampoo": SHAMPOO},
        now=NOW,
        first=first,
    )
    # then
    assert skus(result) == ["shampoo", "earbuds", "tv", "kettle"][:first]


# ---- popular_suggestions --------------------------------------------------------------------


def test_the_popular_list_keeps_its_order_with_falling_scores_up_to_the_limit():
    # given
    popular = ["tv", "kettle", "phone", "case", "earbuds"]
    # when
    result = popular_suggestions(popular, 4)
    # then
    assert skus(result) == ["tv", "kettle", "phone", "case"]
    assert {s.reason for s in result} == {Reason.POPULAR}
    assert [s.score for s in result] == pytest.approx([0.25, 0.1875, 0.125, 0.0625])


def test_a_limit_above_the_popular_list_shows_all_of_it():
    # given / when
    result = popular_suggestions(["tv"], 10)
    # then
    assert result == [Suggestion("tv", 0.25, Reason.POPULAR)]
