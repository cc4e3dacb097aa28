"""The programme's points policy as GraphQL, and the admin mutation that changes it."""

from __future__ import annotations

from fractions import Fraction
from typing import Annotated, Any

import strawberry

from domain import points as domain_points
from domain.points import PointsPolicy as DomainPolicy
from resolvers import policy as resolvers
from schema.errors import MutationError, result_of

ExpiryPolicy = strawberry.enum(domain_points.ExpiryPolicy, name="ExpiryPolicy")
NegativePolicy = strawberry.enum(domain_points.NegativePolicy, name="NegativePolicy")
Rounding = strawberry.enum(domain_points.Rounding, name="Rounding")


@strawberry.type(description="`points` per `perMinorUnits` minor units: 2 per 100 = 2 per yuan.")
class Rate:
    points: int
    per_minor_units: int


@strawberry.input
class RateInput:
    points: int
    per_minor_units: int


@strawberry.type
class CategoryBonus:
    category: str
    points: int = strawberry.field(description="Per item, on top of the rates, unmultiplied.")


@strawberry.input
class CategoryBonusInput:
    category: str
    points: int


def _rate(value: Fraction) -> Rate:
    return Rate(points=value.numerator, per_minor_units=value.denominator)


@strawberry.type
class PointsPolicy:
    full_price_rate: Rate
    discounted_rate: Rate
    gift_card_rate: Rate
    category_bonuses: list[CategoryBonus]
    rounding: Rounding = strawberry.field(description="Applied once per order line.")
    return_window_days: int
    expiry_policy: ExpiryPolicy
    expiry_months: int
    negative_policy: NegativePolicy
    points_per_cash: int = strawberry.field(description="At checkout, this many points ...")
    cash_per_points: int = strawberry.field(description="... pay this many minor units.")
    hold_minutes: int
    checkin_points: int
    streak_every: int
    streak_bonus: int
    review_points: int
    referral_points: int
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
    full_price_rate: RateInput | None = None
    discounted_rate: RateInput | None = None
    gift_card_rate: RateInput | None = None
    category_bonuses: list[CategoryBonusInput] | None = None
    rounding: Rounding | None = None
    return_window_days: int | None = None
    expiry_policy: ExpiryPolicy | None = None
    expiry_months: int | None = None
    negative_policy: NegativePolicy | None = None
    points_per_cash: int | None = None
    cash_per_points: int | None = None
    hold_minutes: int | None = None
    checkin_points: int | None = None
    streak_every: int | None = None
    streak_bonus: int | None = None
    review_points: int | None = None
    referral_points: int | None = None
    gift_daily_points: int | None = strawberry.field(
        default=None, description="Points a member may give per local day; 0 turns gifts off."
    )
    idempotency_key: str

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
        return found


@strawberry.type
class SetPointsPolicySuccess:
    points_policy: PointsPolicy


@strawberry.type
class SetPointsPolicyError(MutationError):
    pass


SetPointsPolicyResult = Annotated[
    SetPointsPolicySuccess | SetPointsPolicyError, strawberry.union("SetPointsPolicyResult")
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
        self, info: strawberry.Info, input: SetPointsPolicyInput
    ) -> SetPointsPolicyResult:
        return await result_of(
            resolvers.change(info, input.changes(), idempotency_key=input.idempotency_key),
            lambda p: SetPointsPolicySuccess(points_policy=PointsPolicy.from_domain(p)),
            SetPointsPolicyError,
        )
