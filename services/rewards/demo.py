"""The demo programme's points mall (services.seed calls it once, when it makes the programme):
a product for points, a coupon from one of the demo's templates, and a cash + points item.
Every figure is programme configuration; these are the demo's."""

from __future__ import annotations

from domain.auth import Principal
from domain.rewards import LimitPeriod, RewardKind
from domain.rewards.validation import RewardSpec
from services.rewards import admin

YUAN = 100  # minor units of the demo's currency (CNY)

DEMO_REWARDS = (
    RewardSpec(
        code="TUMBLER",
        title="Insulated steel tumbler",
        description="Keeps tea hot for six hours. Shipped with your next order.",
        category="home",
        kind=RewardKind.PRODUCT,
        points_price=1200,
        total_stock=100,
    ),
    RewardSpec(
        code="COUPON-10PCT",
        title="10% off coupon (up to 50)",
        description="A 10PCT coupon in your wallet, valid 14 days.",
        category="coupons",
        kind=RewardKind.COUPON,
        points_price=500,
        coupon_template_code="10PCT",
    ),
    RewardSpec(
        code="TEA-SET",
        title="Porcelain tea set",
        description="Pay 30.00 and 500 points; one a month per member.",
        category="home",
        kind=RewardKind.PRODUCT,
        points_price=500,
        cash_price=30 * YUAN,
        total_stock=50,
        per_member_limit=1,
        limit_period=LimitPeriod.MONTH,
    ),
)


async def seed_rewards(admin_principal: Principal) -> None:
    """The demo catalogue, each reward under its own idempotency key: run again, it is the
    same catalogue (the seed itself runs only once per programme)."""
    for spec in DEMO_REWARDS:
        await admin.create(admin_principal, spec, idempotency_key=f"seed-reward-{spec.code}")
