"""How recommendation quality is measured: hit rate and NDCG at 10, and that the recommender
beats showing everyone the most popular products on generated data."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from domain.recommendations.evaluation import Evaluation, K, Scores, evaluate, hit, ndcg
from domain.recommendations.synthetic import generate

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
TEN = [f"p{n}" for n in range(1, 13)]  # p1 .. p12, ranked in that order


@pytest.mark.parametrize(
    ("relevant", "expected"),
    [({"p1"}, 1.0), ({"p10"}, 1.0), ({"p11"}, 0.0), ({"x", "p4"}, 1.0), (set(), 0.0)],
)
def test_a_hit_is_a_relevant_product_among_the_first_ten(relevant, expected):
    # given / when
    result = hit(TEN, relevant)
    # then
    assert result == expected


@pytest.mark.parametrize(
    ("relevant", "expected"),
    [
        ({"p1"}, 1.0),
        ({"p2"}, 1 / math.log2(3)),
        ({"p10"}, 1 / math.log2(11)),
        ({"p11"}, 0.0),
        ({"p1", "p3"}, (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))),
        ({"p2", "x"}, (1 / math.log2(3)) / (1 + 1 / math.log2(3))),
        (set(), 0.0),
    ],
)
def test_ndcg_discounts_a_relevant_product_by_the_log_of_its_rank(relevant, expected):
    # given / when
    result = ndcg(TEN, relevant)
    # then
    assert result == pytest.approx(expected)


def test_ndcg_is_1_when_the_first_ten_are_all_relevant_even_if_more_are():
    # given
    relevant = set(TEN)
    # when
    result = ndcg(TEN, relevant)
    # then
    assert len(relevant) > K
    assert result == pytest.approx(1.0)


def test_lift_is_our_hit_rate_over_the_baselines_and_infinite_over_nothing():
    # given
    better = Evaluation(Scores(10, 0.5, 0.3), Scores(10, 0.2, 0.1))
    against_nothing = Evaluation(Scores(10, 0.5, 0.3), Scores(10, 0.0, 0.0))
    # when / then
    assert better.lift == pytest.approx(2.5)
    assert against_nothing.lift == math.inf


def test_our_recommendations_beat_the_popular_baseline_on_generated_data():
    # given
    data = generate(members=600, seed=3, now=NOW)
    # when
    result = evaluate(data)
    # then
    assert result.ours.members == result.baseline.members > 400
    assert result.ours.hit_rate > result.baseline.hit_rate
    assert result.ours.ndcg > result.baseline.ndcg
    assert 0.0 <= result.ours.ndcg <= result.ours.hit_rate <= 1.0
