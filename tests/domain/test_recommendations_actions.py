"""Next best actions without a database: the documented order, three of each kind at most,
what a member can afford and which free coupon ends soonest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from domain.recommendations.actions import PER_KIND, Action, ActionKind, Offer, next_best_actions

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
KIND_ORDER = [
    ActionKind.USE_EXPIRING_POINTS,
    ActionKind.REDEEM_POINTS,
    ActionKind.CLAIM_COUPON,
    ActionKind.REACH_NEXT_TIER,
]


def in_days(days: int) -> datetime:
    return NOW + timedelta(days=days)


def actions_for(
    *,
    expiring: list[tuple[datetime, int]] | None = None,
    offers: list[Offer] | None = None,
    spendable: int = 0,
    next_tier: tuple[int, int] | None = None,
) -> list[Action]:
    return next_best_actions(
        expiring=expiring or [], offers=offers or [], spendable=spendable, next_tier=next_tier
    )


def of_kind(actions: list[Action], kind: ActionKind) -> list[Action]:
    return [a for a in actions if a.kind is kind]


def test_every_kind_appears_in_the_documented_order_with_priorities_from_1():
    # given
    expiring = [(in_days(10), 200)]
    offers = [Offer(1, None, in_days(5)), Offer(2, 300, None)]
    # when
    result = actions_for(expiring=expiring, offers=offers, spendable=500, next_tier=(9, 1_200))
    # then
    assert [(a.kind, a.priority) for a in result] == [
        (ActionKind.USE_EXPIRING_POINTS, 1),
        (ActionKind.REDEEM_POINTS, 2),
        (ActionKind.CLAIM_COUPON, 3),
        (ActionKind.REACH_NEXT_TIER, 4),
    ]
    assert (result[0].points, result[0].expires_at) == (200, in_days(10))
    assert (result[1].template_id, result[1].points) == (2, 300)
    assert result[2].template_id == 1
    assert (result[3].tier_id, result[3].amount) == (9, 1_200)


def test_nothing_to_do_gives_no_actions():
    # given / when
    result = actions_for()
    # then
    assert result == []


def test_expiring_points_are_shown_soonest_first_three_at_most():
    # given
    expiring = [(in_days(20), 40), (in_days(3), 10), (in_days(29), 90), (in_days(7), 25)]
    # when
    result = actions_for(expiring=expiring)
    # then
    assert [(a.expires_at, a.points) for a in result] == [
        (in_days(3), 10),
        (in_days(7), 25),
        (in_days(20), 40),
    ]


def test_a_date_with_no_points_expiring_does_not_take_one_of_the_three_places():
    # given
    expiring = [(in_days(1), 0), (in_days(3), 10), (in_days(7), 25), (in_days(20), 40)]
    # when
    result = actions_for(expiring=expiring)
    # then
    assert [a.points for a in result] == [10, 25, 40]


def test_only_coupons_the_member_can_afford_are_offered_for_points_dearest_first():
    # given
    offers = [
        Offer(1, 100, None),
        Offer(2, 501, None),
        Offer(3, 500, None),
        Offer(4, 250, None),
        Offer(5, None, None),
    ]
    # when
    result = of_kind(actions_for(offers=offers, spendable=500), ActionKind.REDEEM_POINTS)
    # then
    assert [(a.template_id, a.points) for a in result] == [(3, 500), (4, 250), (1, 100)]


def test_equally_priced_coupons_are_offered_by_template_id_three_at_most():
    # given
    offers = [Offer(n, 200, None) for n in (8, 3, 5, 1)]
    # when
    result = of_kind(actions_for(offers=offers, spendable=1_000), ActionKind.REDEEM_POINTS)
    # then
    assert [a.template_id for a in result] == [1, 3, 5]


def test_a_member_without_points_is_offered_no_coupon_for_points():
    # given
    offers = [Offer(1, 1, None), Offer(2, 50, None)]
    # when
    result = actions_for(offers=offers, spendable=0)
    # then
    assert result == []


def test_free_coupons_are_claimed_soonest_ending_first_and_open_ended_last():
    # given
    offers = [
        Offer(1, None, None),
        Offer(2, None, in_days(20)),
        Offer(3, None, in_days(2)),
        Offer(4, None, in_days(9)),
    ]
    # when
    result = of_kind(actions_for(offers=offers), ActionKind.CLAIM_COUPON)
    # then
    assert [a.template_id for a in result] == [3, 4, 2]


def test_open_ended_free_coupons_are_claimed_by_template_id():
    # given
    offers = [Offer(7, None, None), Offer(2, None, None), Offer(4, None, in_days(300))]
    # when
    result = of_kind(actions_for(offers=offers), ActionKind.CLAIM_COUPON)
    # then
    assert [a.template_id for a in result] == [4, 2, 7]


def test_no_next_tier_action_without_an_amount_still_to_go():
    # given
    cases = [None, (9, 0)]
    # when
    results = [actions_for(next_tier=case) for case in cases]
    # then
    assert results == [[], []]


def test_the_next_tier_action_says_how_much_is_still_to_go():
    # given / when
    result = actions_for(next_tier=(9, 1))
    # then
    assert result == [Action(ActionKind.REACH_NEXT_TIER, priority=1, tier_id=9, amount=1)]


OFFERS = st.builds(
    Offer,
    template_id=st.integers(1, 50),
    points_price=st.none() | st.integers(0, 2_000),
    ends=st.none() | st.integers(0, 90).map(in_days),
)


@given(
    expiring=st.lists(st.tuples(st.integers(0, 30).map(in_days), st.integers(1, 500)), max_size=6),
    offers=st.lists(OFFERS, max_size=10),
    spendable=st.integers(0, 2_000),
    next_tier=st.none() | st.tuples(st.integers(1, 9), st.integers(0, 5_000)),
)
def test_actions_keep_the_kind_order_three_of_each_and_priorities_1_to_n(
    expiring, offers, spendable, next_tier
):
    # given / when
    result = next_best_actions(
        expiring=expiring, offers=offers, spendable=spendable, next_tier=next_tier
    )
    # then
    assert [a.priority for a in result] == list(range(1, len(result) + 1))
    kinds = [KIND_ORDER.index(a.kind) for a in result]
    assert kinds == sorted(kinds)
    assert all(len(of_kind(result, kind)) <= PER_KIND for kind in KIND_ORDER)
    for a in of_kind(result, ActionKind.REDEEM_POINTS):
        assert a.points is not None and a.points <= spendable
    affordable = [o for o in offers if o.points_price is not None and o.points_price <= spendable]
    assert len(of_kind(result, ActionKind.REDEEM_POINTS)) == min(len(affordable), PER_KIND)
