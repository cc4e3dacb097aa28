"""Campaign inputs: the same parts on create and update. A field left out is unchanged (on
create: its default); null sets it to its default (no limit, no template, every day...)."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any

import strawberry
from strawberry import UNSET

from domain.recommendations.rfm import Lifecycle
from schema.campaign_types import CampaignCapPeriod, CampaignStacking, CampaignTrigger, OrderChannel
from schema.errors import idempotency_key_field
from schema.points_types import PaymentMethod
from schema.recommendation_types import LifecycleSegment

LEFT_OUT = "Left out: unchanged (on create: the default)."


def _field(description: str) -> Any:
    return strawberry.field(default=UNSET, description=f"{description} {LEFT_OUT}")


@strawberry.input(description="Days within the window the campaign runs on; all that are given.")
class CampaignRecurrenceInput:
    weekdays: list[int] | None = _field("ISO weekdays, 1 Monday ... 7 Sunday; empty: any.")
    month_days: list[int] | None = _field("Days of the month, 1-31; empty: any (8: member day).")
    dates: list[date] | None = _field("Specific dates in the window; empty: any.")


@strawberry.input(description="Whom the campaign rewards: every criterion given must hold.")
class CampaignAudienceInput:
    tiers: list[str] | None = _field("Tier codes; empty: every tier.")
    segments: list[LifecycleSegment] | None = _field(  # type: ignore[valid-type]
        "Lifecycle segments; empty: every one."
    )
    joined_within_days: int | None = _field("Joined at most this many days before; null: any.")
    nth_order: int | None = _field("The member's Nth order (1: first order); null: any.")
    birthday_month: bool | None = _field("Only members in their birthday month.")


@strawberry.input(description="What an order must be (ORDER campaigns only).")
class CampaignConditionsInput:
    min_spend: int | None = _field("Eligible lines must reach this (minor units).")
    categories: list[str] | None = _field("Eligible categories; empty: every line.")
    skus: list[str] | None = _field("Eligible skus; empty: every line.")
    excluded_payment_methods: list[PaymentMethod] | None = _field(  # type: ignore[valid-type]
        "Orders paid (in part) with one of these do not qualify."
    )
    channels: list[OrderChannel] | None = _field(  # type: ignore[valid-type]
        "Channels that qualify; empty: any."
    )


@strawberry.input(description="What the campaign gives (at least one effect).")
class CampaignEffectsInput:
    multiplier: int | None = _field("Basis points on base points: 20000 doubles (10000-100000).")
    bonus_per_order: int | None = _field("Points per rewarded order (or fact).")
    bonus_per_item: int | None = _field("Points per eligible item (orders).")
    coupon_template: str | None = _field("A coupon template's code: one coupon per reward.")


@strawberry.input(description="How much the campaign may give; null: no limit.")
class CampaignLimitsInput:
    budget: int | None = _field("Total points, net of take-backs.")
    member_cap: int | None = _field("Points per member over the whole campaign.")
    member_period_cap: int | None = _field("Points per member per capPeriod.")
    cap_period: CampaignCapPeriod | None = _field(  # type: ignore[valid-type]
        "The period of memberPeriodCap."
    )
    max_rewarded_orders: int | None = _field("Most rewarded orders (or facts) per member.")


SECTIONS: dict[str, type] = {
    "recurrence": CampaignRecurrenceInput,
    "audience": CampaignAudienceInput,
    "conditions": CampaignConditionsInput,
    "effects": CampaignEffectsInput,
    "limits": CampaignLimitsInput,
}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _plain(value: Any) -> Any:
    """Lists become sets; lifecycle segments (text to the domain) their values."""
    if isinstance(value, list):
        return frozenset(str(v.value) if isinstance(v, Lifecycle) else v for v in value)
    return value


def _section_changes(name: str, section: Any) -> dict[str, object]:
    """A section's fields as edit paths: all to their defaults when the section is null."""
    fields = dataclasses.fields(SECTIONS[name])
    if section is None:
        return {f"{name}.{_camel(f.name)}": None for f in fields}
    return {
        f"{name}.{_camel(f.name)}": _plain(getattr(section, f.name))
        for f in fields
        if getattr(section, f.name) is not UNSET
    }


TOP = ("code", "name", "description", "trigger", "stacking", "priority", "starts_at", "ends_at")


def changes_of(given: Any) -> dict[str, object]:
    """An input's fields as domain.campaign_edits paths (left-out fields are absent)."""
    changes: dict[str, object] = {
        _camel(name): getattr(given, name)
        for name in TOP
        if getattr(given, name, UNSET) is not UNSET
    }
    for name in SECTIONS:
        section = getattr(given, name)
        if section is not UNSET:
            changes.update(_section_changes(name, section))
    return changes


@strawberry.input(description="A new campaign. It starts as a DRAFT: activateCampaign runs it.")
class CreateCampaignInput:
    code: str = strawberry.field(description="Unique in the programme: A-Z, 0-9, _ and -.")
    name: str = strawberry.field(description="Display name (1-100 characters).")
    description: str = strawberry.field(default="", description="Notes for staff.")
    trigger: CampaignTrigger = strawberry.field(  # type: ignore[valid-type]
        description="The fact it rewards."
    )
    stacking: CampaignStacking = strawberry.field(  # type: ignore[valid-type]
        default=CampaignStacking.STACKABLE, description="Alone or with others."
    )
    priority: int = strawberry.field(default=0, description="-1000 to 1000; higher first.")
    starts_at: datetime = strawberry.field(description="Its window starts (inclusive).")
    ends_at: datetime = strawberry.field(description="Its window ends (exclusive); in the future.")
    recurrence: CampaignRecurrenceInput | None = _field("Days within the window.")
    audience: CampaignAudienceInput | None = _field("Whom it rewards; default: every member.")
    conditions: CampaignConditionsInput | None = _field("What an order must be.")
    effects: CampaignEffectsInput = strawberry.field(description="What it gives.")
    limits: CampaignLimitsInput | None = _field("How much it may give; default: no limits.")
    idempotency_key: str = idempotency_key_field()


@strawberry.input(
    description="Change a campaign: what is left out stays; a part given changes only the "
    "fields given in it; null sets a field to its default. A DRAFT may change anything. An "
    "ACTIVE or PAUSED campaign may change only name, description, priority, endsAt (not into "
    "the past) and limits.budget (not below budgetSpent, and only of a campaign that has "
    "one): anything else is CAMPAIGN_RUNNING on that field. An ENDED campaign changes no "
    "more: CAMPAIGN_ENDED."
)
class UpdateCampaignInput:
    campaign_code: str = strawberry.field(description="The campaign to change, by its code.")
    code: str | None = _field("A new code (drafts).")
    name: str | None = _field("Display name.")
    description: str | None = _field("Notes for staff.")
    trigger: CampaignTrigger | None = _field("The fact it rewards.")  # type: ignore[valid-type]
    stacking: CampaignStacking | None = _field("Alone or with others.")  # type: ignore[valid-type]
    priority: int | None = _field("Higher first.")
    starts_at: datetime | None = _field("Its window starts.")
    ends_at: datetime | None = _field("Its window ends.")
    recurrence: CampaignRecurrenceInput | None = _field("Days within the window.")
    audience: CampaignAudienceInput | None = _field("Whom it rewards.")
    conditions: CampaignConditionsInput | None = _field("What an order must be.")
    effects: CampaignEffectsInput | None = _field("What it gives.")
    limits: CampaignLimitsInput | None = _field("How much it may give.")


@strawberry.input(description="A campaign, by its code.")
class CampaignCodeInput:
    campaign_code: str = strawberry.field(description="The code it was created with.")
