"""Pages either way (domain/paging.py) and earn rates kept as set (domain/points.py Rate)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import ValidationFailed
from domain.paging import page_of, page_request, walks_descending
from domain.points import DEMO_POLICY, NEUTRAL_POLICY, PointsPolicy, Rate, rate_terms


def test_first_reads_forward_and_last_reads_backward():
    assert page_request(first=10, after=7) == page_request(first=10, after=7)
    forward, backward = page_request(first=10, after=7), page_request(last=3, before=9, first=None)
    assert (forward.size, forward.backward, forward.cursor) == (10, False, 7)
    assert (backward.size, backward.backward, backward.cursor) == (3, True, 9)
    assert walks_descending(backward, list_descending=True) is False
    assert walks_descending(forward, list_descending=True) is True


@pytest.mark.parametrize(
    "arguments",
    [
        {"first": None},
        {"first": 1, "last": 1},
        {"first": 0},
        {"first": 101},
        {"first": None, "last": 101},
        {"first": 5, "before": 3},
        {"first": None, "last": 5, "after": 3},
    ],
)
def test_a_page_needs_one_size_of_1_to_100_and_its_own_cursor(arguments):
    with pytest.raises(ValidationFailed):
        page_request(**arguments)


@given(st.lists(st.integers(), max_size=12), st.integers(1, 10), st.booleans())
def test_a_page_is_at_most_its_size_in_list_order(rows, size, backward):
    request = page_request(first=None, last=size) if backward else page_request(first=size)
    page, more = page_of(rows, request)
    assert more == (len(rows) > size)
    assert page == (list(reversed(rows[:size])) if backward else rows[:size])


def test_a_rate_keeps_its_terms_and_computes_as_its_value():
    rate = Rate(2, 100)
    assert rate_terms(rate) == (2, 100)
    assert rate == Rate(1, 50) and rate * 300 == 6
    stored = PointsPolicy(full_price_rate=Rate(4, 200)).to_json()
    assert stored["full_price_rate"] == [4, 200]
    assert rate_terms(PointsPolicy.from_json(stored).full_price_rate) == (4, 200)


def test_the_neutral_policy_is_not_the_demos():
    assert dict(NEUTRAL_POLICY.category_bonus) == {}
    assert dict(DEMO_POLICY.category_bonus) == {"appliances": 5}
    assert rate_terms(NEUTRAL_POLICY.full_price_rate) == (1, 100)
    assert (NEUTRAL_POLICY.points_per_cash, NEUTRAL_POLICY.cash_per_points) == (100, 100)
