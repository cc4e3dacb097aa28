"""The catalogue's inputs: a new reward, a change to one, a reward by its code."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry import UNSET

from domain import rewards as domain
from domain.errors import Collector
from domain.rewards.validation import RewardSpec
from schema.errors import idempotency_key_field
from schema.reward_types import RewardKind, RewardLimitPeriod

LEFT_OUT = "Left out: unchanged."


@strawberry.input(description="A new reward, ACTIVE at once (members see it in its window).")
class CreateRewardInput:
    code: str = strawberry.field(description="Unique in the programme: A-Z, 0-9, _ and -.")
    title: str = strawberry.field(description="Display name (1-100 characters).")
    description: str = strawberry.field(default="", description="For members (1,000 at most).")
    image_url: str | None = strawberry.field(default=None, description="An http(s) picture URL.")
    category: str = strawberry.field(description="The shelf it goes on (1-64 characters).")
    kind: RewardKind = strawberry.field(  # type: ignore[valid-type]
        description="What the member gets."
    )
    points_price: int = strawberry.field(description="Points per item (1 or more).")
    cash_price: int = strawberry.field(
        default=0, description="Cash per item on top, in minor units; 0: points only."
    )
    coupon_template_code: str | None = strawberry.field(
        default=None, description="COUPON (only): an active coupon template of the programme."
    )
    partner_code: str | None = strawberry.field(
        default=None, description="PARTNER (only): a partner of the programme."
    )
    partner_units: int | None = strawberry.field(
        default=None, description="PARTNER (only): units credited per item (1 or more)."
    )
    total_stock: int | None = strawberry.field(
        default=None, description="Items there are; null: no limit."
    )
    per_member_limit: int | None = strawberry.field(
        default=None, description="Most items per member per limitPeriod; null: no limit."
    )
    limit_period: RewardLimitPeriod = strawberry.field(  # type: ignore[valid-type]
        default=domain.LimitPeriod.EVER, description="What perMemberLimit counts over."
    )
    eligible_tier_codes: list[str] = strawberry.field(
        default_factory=list, description="Tiers that may redeem it; empty: every tier."
    )
    valid_from: datetime | None = strawberry.field(
        default=None, description="Redeemable from then; null: at once."
    )
    valid_until: datetime | None = strawberry.field(
        default=None, description="Redeemable until then (after validFrom); null: no end."
    )
    idempotency_key: str = idempotency_key_field()

    def to_spec(self) -> RewardSpec:
        return RewardSpec(
            code=self.code,
            title=self.title,
            description=self.description,
            image_url=self.image_url,
            category=self.category,
            kind=domain.RewardKind(self.kind),
            points_price=self.points_price,
            cash_price=self.cash_price,
            coupon_template_code=self.coupon_template_code,
            partner_code=self.partner_code,
            partner_units=self.partner_units,
            total_stock=self.total_stock,
            per_member_limit=self.per_member_limit,
            limit_period=domain.LimitPeriod(self.limit_period),
            eligible_tier_codes=tuple(self.eligible_tier_codes),
            valid_from=self.valid_from,
            valid_until=self.valid_until,
        )


def _field(description: str) -> Any:
    return strawberry.field(default=UNSET, description=f"{description} {LEFT_OUT}")


@strawberry.input(
    description="Change a reward: what is left out stays. Its code, kind, coupon template and "
    "partner never change (retire it and create another). A new totalStock moves stockLeft by "
    "the difference and may not go below `redeemed`. A RETIRED reward changes no more."
)
class UpdateRewardInput:
    reward_code: str = strawberry.field(description="The reward to change, by its code.")
    title: str | None = _field("Display name.")
    description: str | None = _field("For members.")
    image_url: str | None = _field("An http(s) picture URL; null: none.")
    category: str | None = _field("The shelf it goes on.")
    points_price: int | None = _field("Points per item.")
    cash_price: int | None = _field("Cash per item on top, in minor units.")
    total_stock: int | None = _field("Items there are; null: no limit.")
    per_member_limit: int | None = _field("Most items per member per limitPeriod; null: none.")
    limit_period: RewardLimitPeriod | None = _field(  # type: ignore[valid-type]
        "What perMemberLimit counts over."
    )
    eligible_tier_codes: list[str] | None = _field("Tiers that may redeem it; empty: every tier.")
    valid_from: datetime | None = _field("Redeemable from then; null: at once.")
    valid_until: datetime | None = _field("Redeemable until then; null: no end.")

    def changes(self) -> dict[str, object]:
        """The fields given, by their domain names; null only where null means something."""
        errors = Collector()
        found: dict[str, object] = {}
        for name in NULLABLE | REQUIRED:
            value = getattr(self, name)
            if value is UNSET:
                continue
            if value is None and name in REQUIRED:
                errors.add(_camel(name), "may not be null (leave it out to keep it)")
            found[name] = CONVERT.get(name, _same)(value)
        errors.raise_if_any()
        return found


NULLABLE = frozenset({"image_url", "total_stock", "per_member_limit", "valid_from", "valid_until"})
REQUIRED = frozenset(
    {
        "title",
        "description",
        "category",
        "points_price",
        "cash_price",
        "limit_period",
        "eligible_tier_codes",
    }
)


def _same(value: Any) -> Any:
    return value


CONVERT: dict[str, Any] = {
    "limit_period": lambda v: None if v is None else domain.LimitPeriod(v),
    "eligible_tier_codes": lambda v: None if v is None else tuple(v),
}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@strawberry.input(description="A reward, by its code.")
class RewardCodeInput:
    reward_code: str = strawberry.field(description="The code it was created with.")
