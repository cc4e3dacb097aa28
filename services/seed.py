"""The demo programme: the six Taobao-shop tiers with benefits, about fifty members, a
coupon catalogue with a few coupons already in wallets, and a year of their activity on the
sandbox's test clock (services/seed_history.py), which ends at the real now."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from db.models import Programme
from domain.auth import Principal, Role
from domain.campaign_edits import Action
from domain.campaigns import CapPeriod, Trigger
from domain.clock import ProgrammeMode
from domain.coupons import AutoIssue, CouponKind, Template
from domain.points import DEMO_POLICY
from domain.recommendations.synthetic import generate
from domain.tier_rules import Window
from domain.tiers import BenefitKind, TierDraft
from services import keys as key_service
from services import members as member_service
from services import programmes as programme_service
from services import tier_policy
from services import tiers as tier_service
from services.campaigns import admin as campaign_admin
from services.challenges.seed import seed_challenges
from services.clock import now_of, wall_now
from services.coupons import issuance as coupon_issuance
from services.coupons import templates as coupon_templates
from services.coupons.templates import TemplateInput
from services.keys import IssuedKey
from services.members import ProfileInput
from services.recommendations import catalogue
from services.recommendations.build import build
from services.rewards.demo import seed_rewards
from services.seed_history import Year, external_id, plan_year, year_start
from services.seed_partners import DemoPartner

DEMO_CODE = "demo"
YUAN = 100  # minor units

# code, name, entry threshold in yuan of qualifying spend (DESIGN.md §3)
DEMO_TIERS = [
    ("MEMBER", "Member", 0),
    ("SILVER", "Silver", 100),
    ("GOLD", "Gold", 500),
    ("DIAMOND", "Diamond", 1_000),
    ("CROWN", "Crown", 3_000),
    ("SUPER", "Super", 10_000),
]

# Judged every quarter on the last six months' qualifying spend.
DEMO_TIER_POLICY = {"window": Window.ROLLING_MONTHS, "window_months": 6, "validity_months": 3}

# tier code -> (benefit code, title, kind, value); values in basis points or counts
DEMO_BENEFITS: dict[str, list[tuple[str, str, BenefitKind, int]]] = {
    "MEMBER": [
        (
            "BIRTHDAY_POINTS",
            "Double points in your birthday month",
            BenefitKind.BIRTHDAY_MULTIPLIER,
            20000,
        )
    ],
    "SILVER": [
        ("POINTS", "1.2x points on every order", BenefitKind.POINTS_MULTIPLIER, 12000),
        (
            "BIRTHDAY_POINTS",
            "Double points in your birthday month",
            BenefitKind.BIRTHDAY_MULTIPLIER,
            20000,
        ),
        ("MONTHLY_COUPONS", "One coupon every month", BenefitKind.MONTHLY_COUPONS, 1),
    ],
    "GOLD": [
        ("MEMBER_PRICE", "Member price: 98% on full-price items", BenefitKind.MEMBER_PRICE, 9800),
        ("POINTS", "1.5x points on every order", BenefitKind.POINTS_MULTIPLIER, 15000),
        (
            "BIRTHDAY_POINTS",
            "Double points in your birthday month",
            BenefitKind.BIRTHDAY_MULTIPLIER,
            20000,
        ),
        ("MONTHLY_COUPONS", "Two coupons every month", BenefitKind.MONTHLY_COUPONS, 2),
    ],
    "DIAMOND": [
        ("MEMBER_PRICE", "Member price: 97% on full-price items", BenefitKind.MEMBER_PRICE, 9700),
        ("POINTS", "1.5x points on every order", BenefitKind.POINTS_MULTIPLIER, 15000),
        ("FREE_SHIPPING", "Free shipping", BenefitKind.FREE_SHIPPING, 0),
        ("BIRTHDAY_GIFT", "A birthday gift", BenefitKind.BIRTHDAY_GIFT, 0),
        ("MONTHLY_COUPONS", "Three coupons every month", BenefitKind.MONTHLY_COUPONS, 3),
    ],
    "CROWN": [
        ("MEMBER_PRICE", "Member price: 95% on full-price items", BenefitKind.MEMBER_PRICE, 9500),
        ("POINTS", "2x points on every order", BenefitKind.POINTS_MULTIPLIER, 20000),
        ("FREE_SHIPPING", "Free shipping", BenefitKind.FREE_SHIPPING, 0),
        ("BIRTHDAY_GIFT", "A birthday gift", BenefitKind.BIRTHDAY_GIFT, 0),
        ("MEMBER_DAY", "Member-day offers", BenefitKind.MEMBER_DAY, 0),
        ("MONTHLY_COUPONS", "Four coupons every month", BenefitKind.MONTHLY_COUPONS, 4),
    ],
    "SUPER": [
        ("MEMBER_PRICE", "Member price: 92% on full-price items", BenefitKind.MEMBER_PRICE, 9200),
        ("POINTS", "2x points on every order", BenefitKind.POINTS_MULTIPLIER, 20000),
        ("FREE_SHIPPING", "Free shipping", BenefitKind.FREE_SHIPPING, 0),
        ("BIRTHDAY_GIFT", "A birthday gift", BenefitKind.BIRTHDAY_GIFT, 0),
        ("MEMBER_DAY", "Member-day offers", BenefitKind.MEMBER_DAY, 0),
        ("PRIORITY_SERVICE", "Priority customer service", BenefitKind.PRIORITY_SERVICE, 0),
        ("EARLY_ACCESS", "Early access to new collections", BenefitKind.EARLY_ACCESS, 0),
        ("MONTHLY_COUPONS", "Six coupons every month", BenefitKind.MONTHLY_COUPONS, 6),
    ],
}

# code, title, kind, template fields (amounts in yuan are converted below). Every figure is
# programme configuration; these are the demo's.
DEMO_COUPONS: list[tuple[str, str, CouponKind, dict[str, Any]]] = [
    (
        "20OFF199",
        "20 off orders of 199",
        CouponKind.AMOUNT_OFF,
        {
            "amount": 20 * YUAN,
            "threshold": 199 * YUAN,
            "valid_days": 30,
            "total_stock": 10_000,
            "per_member_limit": 1,
        },
    ),
    (
        "10PCT",
        "10% off, up to 50",
        CouponKind.PERCENT_OFF,
        {"percent": 1000, "cap": 50 * YUAN, "valid_days": 14, "per_member_limit": 1},
    ),
    (
        "FREESHIP",
        "Free shipping",
        CouponKind.FREE_SHIPPING,
        {"valid_days": 7, "per_member_limit": 3, "stackable": True},
    ),
    (
        "APPLIANCE50",
        "50 off appliances over 500 (Gold and up)",
        CouponKind.AMOUNT_OFF,
        {
            "amount": 50 * YUAN,
            "threshold": 500 * YUAN,
            "valid_days": 30,
            "eligible_categories": ("appliances",),
            "eligible_tier_codes": ("GOLD", "DIAMOND", "CROWN", "SUPER"),
            "per_member_limit": 1,
        },
    ),
    (
        "POINTS5",
        "5 off, for 250 points",
        CouponKind.NO_THRESHOLD,
        {"amount": 5 * YUAN, "valid_days": 30, "points_price": 250, "claimable": False},
    ),
    (
        "MONTHLY10",
        "Member coupon: 10 off 99",
        CouponKind.AMOUNT_OFF,
        {
            "amount": 10 * YUAN,
            "threshold": 99 * YUAN,
            "valid_days": 30,
            "claimable": False,
            "auto_issue": AutoIssue.MONTHLY_ALLOWANCE,
        },
    ),
    (
        "BIRTHDAY20",
        "Happy birthday: 20 off",
        CouponKind.NO_THRESHOLD,
        {
            "amount": 20 * YUAN,
            "valid_days": 31,
            "claimable": False,
            "auto_issue": AutoIssue.BIRTHDAY,
        },
    ),
]
# The first members start with these in their wallets.
DEMO_WALLET = {"20OFF199": 10, "FREESHIP": 5}

GIVEN = ["Wei", "Fang", "Lei", "Min", "Jing", "Yan", "Hao", "Xin", "Ting", "Jun", "Mei", "Bo"]
FAMILY = ["Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou"]


@dataclass(frozen=True)
class SeedResult:
    created: bool
    programme_id: int
    keys: list[IssuedKey]
    members: int


async def seed_demo(*, member_count: int = 50) -> SeedResult:
    """Idempotent: a second run finds the programme and changes nothing.

    One transaction: a run that dies half-way leaves nothing, so the next run seeds afresh
    (and prints the keys) instead of finding a half-made programme whose keys were never shown.
    """
    existing = await programme_service.by_code(DEMO_CODE)
    if existing is not None:
        return SeedResult(False, existing.id, [], 0)
    try:
        async with in_transaction():
            return await _seed(member_count)
    except IntegrityError:
        # Another seed run won the race for the programme code.
        winner = await programme_service.by_code(DEMO_CODE)
        if winner is None:
            raise
        return SeedResult(False, winner.id, [], 0)


async def _seed(member_count: int) -> SeedResult:
    wall = wall_now()
    programme = await programme_service.create(
        code=DEMO_CODE,
        name="Demo Shop",
        currency="CNY",
        timezone="Asia/Shanghai",
        mode=ProgrammeMode.SANDBOX,
        points_policy=DEMO_POLICY,
        clock_at=year_start(wall),
    )
    admin_key = await key_service.create_key(programme.id, Role.ADMIN, label="demo admin")
    storefront_key = await key_service.create_key(
        programme.id, Role.STOREFRONT, label="demo storefront"
    )
    admin = Principal(programme_id=programme.id, role=Role.ADMIN, key_id=admin_key.id)
    await _seed_tiers(admin)
    data = generate(members=member_count, seed=20261122, now=wall)
    await catalogue.upsert(admin, list(data.products.values()), idempotency_key="seed-products")
    await _seed_coupons(admin)
    await seed_rewards(admin)
    await _seed_campaigns(admin, programme, wall)
    rng = random.Random(20261122)
    profiles = {n: _profile(rng, n) for n in range(1, member_count + 1)}

    async def register(n: int) -> None:
        await member_service.register(
            admin,
            external_id=external_id(n),
            profile=profiles[n],
            idempotency_key=f"seed-member-{n}",
        )

    year = Year(admin, programme, end=wall)
    linked = [n for n in range(1, min(member_count, 3) + 1) if data.members[n][1] <= year.start]
    plan_year(year, data, register, DemoPartner(linked))
    await year.run()
    await _seed_wallets(admin, member_count)
    programme = await Programme.get(id=programme.id)
    await seed_challenges(admin, programme, coupon_code="10PCT")
    # a first build, so recommendations and segments show at once
    await build(programme)
    return SeedResult(True, programme.id, [admin_key, storefront_key], member_count)


def _profile(rng: random.Random, n: int) -> ProfileInput:
    given, family = rng.choice(GIVEN), rng.choice(FAMILY)
    return ProfileInput(
        display_name=f"{family} {given}",
        email=f"{given.lower()}.{family.lower()}{n}@example.com",
        phone=f"+86 138 {rng.randrange(1000, 9999)} {rng.randrange(1000, 9999)}",
        birthday=f"{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
        consent_marketing=rng.random() < 0.6,
        consent_profiling=rng.random() < 0.7,
    )


async def _seed_tiers(admin: Principal) -> None:
    """The six tiers with their benefits, judged every quarter on the last six months' spend
    (so members who lapse move down within the demo's year)."""
    for rank, (code, name, yuan) in enumerate(DEMO_TIERS):
        draft = TierDraft(code, name, rank, yuan * YUAN, yuan * YUAN if rank else None)
        await tier_service.upsert_tier(admin, draft, idempotency_key=f"seed-tier-{code}")
        for benefit_code, title, kind, value in DEMO_BENEFITS[code]:
            await tier_service.upsert_benefit(
                admin,
                tier_code=code,
                code=benefit_code,
                title=title,
                kind=kind,
                value=value,
                description="",
                idempotency_key=f"seed-benefit-{code}-{benefit_code}",
            )
    await tier_policy.change(admin, DEMO_TIER_POLICY, idempotency_key="seed-tier-policy")


async def _seed_campaigns(admin: Principal, programme: Programme, wall: datetime) -> None:
    """The member day (double points on the 8th, at most 500 extra points a month) and double
    check-in points at weekends, running through the demo's year and a year beyond, so its
    orders and check-ins show campaigns at work."""
    window = {
        "startsAt": now_of(programme) - timedelta(days=1),
        "endsAt": wall + timedelta(days=365),
    }
    for code, changes in (
        (
            "MEMBER-DAY",
            {
                "name": "Member day: double points on the 8th",
                "trigger": Trigger.ORDER,
                "recurrence.monthDays": frozenset({8}),
                "effects.multiplier": 20_000,
                "limits.memberPeriodCap": 500,
                "limits.capPeriod": CapPeriod.MONTH,
            },
        ),
        (
            "WEEKEND-CHECK-IN",
            {
                "name": "Double check-in points at weekends",
                "trigger": Trigger.CHECK_IN,
                "recurrence.weekdays": frozenset({6, 7}),
                "effects.multiplier": 20_000,
            },
        ),
    ):
        await campaign_admin.create(
            admin, {"code": code, **window, **changes}, idempotency_key=f"seed-campaign-{code}"
        )
        await campaign_admin.change_status(admin, code, Action.ACTIVATE)


async def _seed_coupons(admin: Principal) -> None:
    made = {}
    for code, title, kind, fields in DEMO_COUPONS:
        rules = {k: v for k, v in fields.items() if k != "eligible_tier_codes"}
        if "eligible_categories" in rules:
            rules["eligible_categories"] = frozenset(rules["eligible_categories"])
        made[code] = await coupon_templates.create(
            admin,
            TemplateInput(
                code=code,
                title=title,
                rules=Template(kind=kind, **rules),
                eligible_tier_codes=fields.get("eligible_tier_codes", ()),
            ),
            idempotency_key=f"seed-coupon-{code}",
        )


async def _seed_wallets(admin: Principal, member_count: int) -> None:
    """The first coupons in the first wallets, at the end of the year (valid from now)."""
    for code, count in DEMO_WALLET.items():
        members = [external_id(n) for n in range(1, min(count, member_count) + 1)]
        await coupon_issuance.grant(
            admin,
            template_id=await coupon_templates.id_of(admin, None, code),
            member_external_ids=members,
            idempotency_key=f"seed-wallet-{code}",
        )
