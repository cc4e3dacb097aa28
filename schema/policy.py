"""The programme's points policy as GraphQL, and the admin mutation that changes it."""

from __future__ import annotations

from fractions import Fraction
from typing import Annotated, Any

import strawberry

from domain import points as domain_points
from domain.points import PointsPolicy as DomainPolicy
from domain.points import rate_terms
from resolvers import policy as resolvers
from schema.addressing import either
from schema.describe import describe_values
from schema.errors import (
    MUTATION_INPUT,
    MutationError,
    error_description,
    idempotency_key_field,
    result_of,
    union_description,
)

ExpiryPolicy = strawberry.enum(
    domain_points.ExpiryPolicy, name="ExpiryPolicy", description="How points expire."
)
describe_values(
    ExpiryPolicy,
    {
        "LOTS": "Each earning expires `expiryMonths` after it was earned.",
        "ROLLING_ACTIVITY": "All points expire `expiryMonths` after the member last earned.",
    },
)
NegativePolicy = strawberry.enum(
    domain_points.NegativePolicy,
    name="NegativePolicy",
    description="What a clawback does when the member has too few points.",
)
describe_values(
    NegativePolicy,
    {
        "ALLOW_NEGATIVE": "The balance goes negative (a debt later earnings repay).",
        "CLAMP_AND_RECORD": "Takes what is there; the rest is recorded as `shortfall`.",
    },
)
Rounding = strawberry.enum(
    domain_points.Rounding,
    name="Rounding",
    description="How a line's fractional points are rounded.",
)
describe_values(
    Rounding,
    {
        "HALF_DOWN": "To the nearest; halves down.",
        "HALF_UP": "To the nearest; halves up.",
        "DOWN": "Always down.",
    },
)


@strawberry.type(description="`points` per `perMinorUnits` minor units: 2 per 100 = 2 per yuan.")
class Rate:
    points: int = strawberry.field(description="This many points ...")
    per_minor_units: int = strawberry.field(description="... per this many minor units paid.")


@strawberry.input(
    description="An earn rate: `points` per `perMinorUnits` minor units; kept as given."
)
class RateInput:
    points: int = strawberry.field(description="This many points (0-1000000) ...")
    per_minor_units: int = strawberry.field(
        description="... per this many minor units (1-1000000)."
    )


@strawberry.type(description="Bonus points per item of a category.")
class CategoryBonus:
    category: str = strawberry.field(description="The category.")
    points: int = strawberry.field(description="Per item, on top of the rates, unmultiplied.")


@strawberry.input(description="Bonus points per item of a category.")
class CategoryBonusInput:
    category: str = strawberry.field(description="The category.")
    points: int = strawberry.field(description="Points per item (0-100000).")


def _rate(value: Fraction) -> Rate:
    points, per = rate_terms(value)  # as the admin set it: 2 per 100 stays 2 per 100
    return Rate(points=points, per_minor_units=per)


@strawberry.type(
    description="How points pay at checkout: `points` points pay `cashValue` minor units "
    "(100 and 200: 100 points pay 2.00). Shown as it was set, never reduced."
)
class RedemptionRate:
    points: int = strawberry.field(description="This many points ...")
    cash_value: int = strawberry.field(description="... pay this many minor units.")


@strawberry.input(description="How points pay at checkout; both sides positive.")
class RedemptionRateInput:
    points: int = strawberry.field(description="This many points ...")
    cash_value: int = strawberry.field(description="... pay this many minor units.")


CASH_PAIR_DEPRECATED = "Use redemptionRate { points cashValue }: the same pair, named as one rate."


@strawberry.type(description="How a programme earns, spends and expires points.")
class PointsPolicy:
    full_price_rate: Rate = strawberry.field(description="Earned on full-price lines, as set.")
    discounted_rate: Rate = strawberry.field(description="Earned on lines on sale, as set.")
    gift_card_rate: Rate = strawberry.field(description="Earned on what gift cards paid, as set.")
    category_bonuses: list[CategoryBonus] = strawberry.field(
        description="Bonus points per item, by category."
    )
    rounding: Rounding = strawberry.field(description="Applied once per order line.")
    return_window_days: int = strawberry.field(
        description="Days an order's points stay pending (returns allowed)."
    )
    expiry_policy: ExpiryPolicy = strawberry.field(description="How points expire.")
    expiry_months: int = strawberry.field(description="Months until points expire.")
    negative_policy: NegativePolicy = strawberry.field(
        description="What a clawback does when too few points are left."
    )
    redemption_rate: RedemptionRate = strawberry.field(
        description="How points pay at checkout (holdPoints, PointHold.cashValue)."
    )
    points_per_cash: int = strawberry.field(
        description="Points side of the redemption rate.", deprecation_reason=CASH_PAIR_DEPRECATED
    )
    cash_per_points: int = strawberry.field(
        description="Minor-units side of the redemption rate.",
        deprecation_reason=CASH_PAIR_DEPRECATED,
    )
    hold_minutes: int = strawberry.field(description="How long a checkout hold lasts.")
    checkin_points: int = strawberry.field(description="Points per daily check-in.")
    streak_every: int = strawberry.field(
        description="Every this many consecutive check-ins earn the streak bonus; 0: never."
    )
    streak_bonus: int = strawberry.field(description="Points on top for a streak.")
    review_points: int = strawberry.field(description="Points per reviewed order line.")
    referral_points: int = strawberry.field(
        description="Points to the inviter when an invitee's first order completes."
    )
    gift_daily_points: int = strawberry.field(
        description="Points a member may give other members per local day; 0: gifts are off."
    )

    @classmethod
    def from_domain(cls, p: DomainPolicy) -> PointsPolicy:
        return cls(
            full_price_rate=_rate(p.full_price_rate),
            discounted_rate=_rate(p.discounted_rate),
            gift_card_rate=_rate(p.gift_card_rate),
            category_bonuses=[
                CategoryBonus(category=c, points=n) for c, n in p.category_bonus.items()
            ],
            rounding=p.rounding,
            return_window_days=p.return_window_days,
            expiry_policy=p.expiry_policy,
            expiry_months=p.expiry_months,
            negative_policy=p.negative_policy,
            redemption_rate=RedemptionRate(points=p.points_per_cash, cash_value=p.cash_per_points),
            points_per_cash=p.points_per_cash,
            cash_per_points=p.cash_per_points,
            hold_minutes=p.hold_minutes,
            checkin_points=p.checkin_points,
            streak_every=p.streak_every,
            streak_bonus=p.streak_bonus,
            review_points=p.review_points,
            referral_points=p.referral_points,
            gift_daily_points=p.gift_daily_points,
        )


@strawberry.input(description="Fields left out keep their value.")
class SetPointsPolicyInput:
    full_price_rate: RateInput | None = strawberry.field(
        default=None, description="Earned on full-price lines."
    )
    discounted_rate: RateInput | None = strawberry.field(
        default=None, description="Earned on lines on sale."
    )
    gift_card_rate: RateInput | None = strawberry.field(
        default=None, description="Earned on what gift cards paid."
    )
    category_bonuses: list[CategoryBonusInput] | None = strawberry.field(
        default=None, description="Replaces every category bonus."
    )
    rounding: Rounding | None = strawberry.field(
        default=None, description="How a line's points are rounded."
    )
    return_window_days: int | None = strawberry.field(
        default=None, description="Days points stay pending (0-365)."
    )
    expiry_policy: ExpiryPolicy | None = strawberry.field(
        default=None, description="How points expire."
    )
    expiry_months: int | None = strawberry.field(
        default=None, description="Months until points expire (1-120)."
    )
    negative_policy: NegativePolicy | None = strawberry.field(
        default=None, description="What a clawback does when too few points are left."
    )
    redemption_rate: RedemptionRateInput | None = strawberry.field(
        default=None, description="How points pay at checkout."
    )
    points_per_cash: int | None = strawberry.field(
        default=None,
        description="Points side of the redemption rate.",
        deprecation_reason=CASH_PAIR_DEPRECATED,
    )
    cash_per_points: int | None = strawberry.field(
        default=None,
        description="Minor-units side of the redemption rate.",
        deprecation_reason=CASH_PAIR_DEPRECATED,
    )
    hold_minutes: int | None = strawberry.field(
        default=None, description="How long a checkout hold lasts (1-10080)."
    )
    checkin_points: int | None = strawberry.field(
        default=None, description="Points per daily check-in."
    )
    streak_every: int | None = strawberry.field(
        default=None, description="Streak length that earns the bonus; 0: none."
    )
    streak_bonus: int | None = strawberry.field(
        default=None, description="Points on top for a streak."
    )
    review_points: int | None = strawberry.field(
        default=None, description="Points per reviewed order line."
    )
    referral_points: int | None = strawberry.field(
        default=None, description="Points to an inviter."
    )
    gift_daily_points: int | None = strawberry.field(
        default=None, description="Points a member may give per local day; 0 turns gifts off."
    )
    idempotency_key: str = idempotency_key_field()

    def changes(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name in DomainPolicy.__dataclass_fields__:
            source = "category_bonuses" if name == "category_bonus" else name
            value = getattr(self, source, None)
            if value is None:
                continue
            if isinstance(value, RateInput):
                value = (value.points, value.per_minor_units)
            elif source == "category_bonuses":
                value = {b.category: b.points for b in value}
            found[name] = value
        if self.redemption_rate is not None:
            # Given both ways, the two spellings must agree (schema/addressing.py's rule).
            for name, old_name, side in (
                ("points_per_cash", "pointsPerCash", self.redemption_rate.points),
                ("cash_per_points", "cashPerPoints", self.redemption_rate.cash_value),
            ):
                found[name] = either(
                    side, found.get(name), new_name="redemptionRate", old_name=old_name
                )
        return found


@strawberry.type(description="The policy after the change.")
class SetPointsPolicySuccess:
    points_policy: PointsPolicy = strawberry.field(description="The whole policy.")


@strawberry.type(description=error_description("SetPointsPolicyError"))
class SetPointsPolicyError(MutationError):
    pass


SetPointsPolicyResult = Annotated[
    SetPointsPolicySuccess | SetPointsPolicyError,
    strawberry.union(
        "SetPointsPolicyResult", description=union_description("SetPointsPolicyResult")
    ),
]


@strawberry.type
class PolicyQuery:
    @strawberry.field(description="How the caller's programme earns, spends and expires points.")
    async def points_policy(self, info: strawberry.Info) -> PointsPolicy:
        return PointsPolicy.from_domain(await resolvers.current(info))


@strawberry.type
class PolicyMutation:
    @strawberry.mutation(description="Admin: change the points policy (expiry, rates, returns...).")
    async def set_points_policy(
        self, info: strawberry.Info, input: Annotated[SetPointsPolicyInput, MUTATION_INPUT]
    ) -> SetPointsPolicyResult:
        async def call() -> DomainPolicy:
            # input.changes() may refuse the input: inside result_of, so as data
            changes = input.changes()
            return await resolvers.change(info, changes, idempotency_key=input.idempotency_key)

        return await result_of(
            call(),
            lambda p: SetPointsPolicySuccess(points_policy=PointsPolicy.from_domain(p)),
            SetPointsPolicyError,
        )
