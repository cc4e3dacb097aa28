"""Next best actions without a database: the documented order, three of each kind at most,
what a member can afford, which free coupon ends soonest and which challenges are close."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from domain.recommendations.actions import (
    CLOSE_CHALLENGES,
    PER_KIND,
    Action,
    ActionKind,
    ChallengeStanding,
    Offer,
    next_best_actions,
)
from domain.rewards import LimitPeriod, Reward, RewardKind, RewardStatus

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
KIND_ORDER = [
    ActionKind.USE_EXPIRING_POINTS,
    ActionKind.REDEEM_POINTS,
    ActionKind.REDEEM_REWARD,
    ActionKind.CLAIM_COUPON,
    ActionKind.COMPLETE_CHALLENGE,
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


def reward(reward_id: int, points_price: int, **overrides) -> Reward:
    fields = {
        "id": reward_id,
        "programme_id": 1,
        "code": f"R{reward_id}",
        "title": f"Reward {reward_id}",
        "description": "",
        "image_url": None,
        "category": "gifts",
        "kind": RewardKind.PRODUCT,
        "points_price": points_price,
        "cash_price": 0,
        "coupon_template_id": None,
        "partner_id": None,
        "partner_units": None,
        "total_stock": None,
        "stock_left": None,
        "redeemed": 0,
        "per_member_limit": None,
        "limit_period": LimitPeriod.EVER,
        "eligible_tiers": frozenset(),
        "valid_from": None,
        "valid_until": None,
        "status": RewardStatus.ACTIVE,
        "created_at": NOW,
        "updated_at": NOW,
        "retired_at": None,
    }
    return Reward(**{**fields, **overrides})


def standing(challenge_id: int, current: int, target: int, ends_in: int = 10) -> ChallengeStanding:
    return ChallengeStanding(
        challenge_id,
        f"C{challenge_id}",
        f"Challenge {challenge_id}",
        current,
        target,
        in_days(-1),
        in_days(ends_in),
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


def test_rewards_and_challenges_take_their_places_between_the_other_kinds():
    # given something of every kind
    offers = [Offer(1, None, in_days(5)), Offer(2, 300, None)]
    # when
    result = next_best_actions(
        expiring=[(in_days(10), 200)],
        offers=offers,
        spendable=500,
        next_tier=(9, 1_200),
        rewards=[reward(7, 400)],
        challenges=[standing(3, 4, 5)],
    )
    # then
    assert [a.kind for a in result] == KIND_ORDER
    assert [a.priority for a in result] == [1, 2, 3, 4, 5, 6]
    assert (result[2].reward_id, result[2].points) == (7, 400)
    assert (result[4].challenge_id, result[4].current, result[4].target) == (3, 4, 5)
    assert result[4].expires_at == in_days(10)


def test_rewards_the_member_can_afford_are_offered_dearest_then_newest_first_three_at_most():
    # given
    rewards = [reward(1, 100), reward(2, 501), reward(3, 500), reward(4, 250), reward(5, 250)]
    rewards.append(reward(6, 50))
    # when
    result = of_kind(actions_for_rewards(rewards, spendable=500), ActionKind.REDEEM_REWARD)
    # then
    assert [(a.reward_id, a.points) for a in result] == [(3, 500), (5, 250), (4, 250)]


def test_a_reward_of_no_points_is_not_a_use_of_points():
    # given a cash-only reward and a member without points
    rewards = [reward(1, 0, cash_price=1_000)]
    # when / then
    assert actions_for_rewards(rewards, spendable=0) == []
    assert actions_for_rewards(rewards, spendable=100) == []


def test_challenges_from_half_way_are_close_the_largest_share_first_two_at_most():
    # given 4/5, 3/4, 1/2 (half-way), 49/100 (just short of half) and 5/5 (done)
    challenges = [
        standing(1, 1, 2),
        standing(2, 49, 100),
        standing(3, 3, 4),
        standing(4, 5, 5),
        standing(5, 4, 5),
    ]
    # when
    result = of_kind(actions_for_challenges(challenges), ActionKind.COMPLETE_CHALLENGE)
    # then
    assert [(a.challenge_id, a.current, a.target) for a in result] == [(5, 4, 5), (3, 3, 4)]
    assert len(result) == CLOSE_CHALLENGES


def test_half_way_is_close_enough_and_just_short_of_it_is_not():
    # given / when
    result = actions_for_challenges([standing(1, 1, 2), standing(2, 49, 100)])
    # then
    assert [a.challenge_id for a in result] == [1]


def test_equal_shares_go_soonest_ending_first_then_by_id():
    # given 4/5 and 8/10 (the same share), ending in 9, 3 and 3 days
    challenges = [standing(1, 4, 5, ends_in=9), standing(7, 8, 10, ends_in=3)]
    challenges.append(standing(4, 4, 5, ends_in=3))
    # when
    result = actions_for_challenges(challenges)
    # then
    assert [a.challenge_id for a in result] == [4, 7]


def test_a_challenge_without_a_target_is_never_close():
    # given / when / then
    assert actions_for_challenges([standing(1, 0, 0), standing(2, 3, 0)]) == []


def test_a_challenge_is_open_from_its_start_until_just_before_its_end():
    # given
    c = standing(1, 1, 2, ends_in=2)
    # when / then
    assert [c.open(at) for at in (in_days(-2), in_days(-1), NOW, in_days(2))] == [
        False,
        True,
        True,
        False,
    ]


def actions_for_rewards(rewards: list[Reward], *, spendable: int) -> list[Action]:
    return next_best_actions(
        expiring=[], offers=[], spendable=spendable, next_tier=None, rewards=rewards
    )


def actions_for_challenges(challenges: list[ChallengeStanding]) -> list[Action]:
    return next_best_actions(
        expiring=[], offers=[], spendable=0, next_tier=None, challenges=challenges
    )


OFFERS = st.builds(
    Offer,
    template_id=st.integers(1, 50),
    points_price=st.none() | st.integers(0, 2_000),
    ends=st.none() | st.integers(0, 90).map(in_days),
)


REWARDS = st.builds(reward, st.integers(1, 50), st.integers(0, 2_000))
STANDINGS = st.builds(
    standing, st.integers(1, 50), st.integers(0, 20), st.integers(0, 20), st.integers(1, 60)
)


@given(
    expiring=st.lists(st.tuples(st.integers(0, 30).map(in_days), st.integers(1, 500)), max_size=6),
    offers=st.lists(OFFERS, max_size=10),
    spendable=st.integers(0, 2_000),
    next_tier=st.none() | st.tuples(st.integers(1, 9), st.integers(0, 5_000)),
    rewards=st.lists(REWARDS, max_size=8),
    challenges=st.lists(STANDINGS, max_size=6),
)
def test_actions_keep_the_kind_order_three_of_each_and_priorities_1_to_n(
    expiring, offers, spendable, next_tier, rewards, challenges
):
    # given / when
    result = next_best_actions(
        expiring=expiring,
        offers=offers,
        spendable=spendable,
        next_tier=next_tier,
        rewards=rewards,
        challenges=challenges,
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
    for a in of_kind(result, ActionKind.REDEEM_REWARD):
        assert a.points is not None and 0 < a.points <= spendable
    payable = [r for r in rewards if 0 < r.points_price <= spendable]
    assert len(of_kind(result, ActionKind.REDEEM_REWARD)) == min(len(payable), PER_KIND)
    close = of_kind(result, ActionKind.COMPLETE_CHALLENGE)
    assert len(close) <= CLOSE_CHALLENGES
    for a in close:
        assert a.current is not None and a.target is not None
        assert a.target > a.current and 2 * a.current >= a.target
    shares = [a.current / a.target for a in close]  # type: ignore[operator]
    assert shares == sorted(shares, reverse=True)
