"""The pure rules of redeeming a reward (domain.rewards.redemption)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from domain.rewards import LimitPeriod
from domain.rewards.redemption import CashMismatch, LimitReached, Quote, check_cash, period_start

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("period", "start"),
    [
        (LimitPeriod.DAY, datetime(2026, 3, 1, tzinfo=SHANGHAI)),
        (LimitPeriod.WEEK, datetime(2026, 2, 23, tzinfo=SHANGHAI)),  # a Monday
        (LimitPeriod.MONTH, datetime(2026, 3, 1, tzinfo=SHANGHAI)),
        (LimitPeriod.YEAR, datetime(2026, 1, 1, tzinfo=SHANGHAI)),
        (LimitPeriod.EVER, None),
    ],
)
def test_a_period_starts_on_the_programmes_calendar(period, start):
    # 2026-02-28 17:30 UTC is already Sunday 1 March 01:30 in Shanghai
    now = datetime(2026, 2, 28, 17, 30, tzinfo=UTC)
    assert period_start(period, now, SHANGHAI) == start


def test_the_limit_counts_what_was_redeemed_and_what_is_asked():
    from domain.rewards.redemption import check_limit

    class Limited:
        per_member_limit = 2
        limit_period = LimitPeriod.MONTH

    check_limit(Limited(), 1, 1)  # type: ignore[arg-type]
    with pytest.raises(LimitReached):
        check_limit(Limited(), 1, 2)  # type: ignore[arg-type]


def test_cash_must_be_the_quote_exactly():
    check_cash(Quote(200, 5_000, "CNY"), 5_000)
    for wrong in (None, 0, 4_999, 5_001):
        with pytest.raises(CashMismatch):
            check_cash(Quote(200, 5_000, "CNY"), wrong)
    check_cash(Quote(200, 0, "CNY"), None)


@pytest.mark.parametrize(
    ("points", "cash", "quantity", "refused"),
    [
        (10_000_000, 0, 100, False),  # 10^9 points: one operation's most
        (10_000_000, 0, 101, True),
        (100_000_000, 0, 11, True),
        (1, 21_474_836, 100, False),  # 2,147,483,600 minor units
        (1, 21_474_837, 100, True),  # past a 32-bit `cash`
    ],
)
def test_a_quote_whose_total_is_too_large_is_refused(points, cash, quantity, refused):
    from domain.errors import ValidationFailed
    from domain.rewards.redemption import quote

    class Priced:
        points_price = points
        cash_price = cash

    if refused:
        with pytest.raises(ValidationFailed):
            quote(Priced(), quantity, "CNY")  # type: ignore[arg-type]
    else:
        assert quote(Priced(), quantity, "CNY").points == points * quantity  # type: ignore[arg-type]


def test_a_coupon_or_code_reward_is_redeemed_one_item_at_a_time():
    from domain.errors import ValidationFailed
    from domain.rewards import RewardKind
    from domain.rewards.redemption import check_items

    class Kind:
        def __init__(self, kind: RewardKind) -> None:
            self.kind = kind

    for kind in RewardKind:
        check_items(Kind(kind), 1)  # type: ignore[arg-type]
    for kind in (RewardKind.PRODUCT, RewardKind.PARTNER):
        check_items(Kind(kind), 3)  # type: ignore[arg-type]
    for kind in (RewardKind.COUPON, RewardKind.DIGITAL):
        with pytest.raises(ValidationFailed):
            check_items(Kind(kind), 2)  # type: ignore[arg-type]
