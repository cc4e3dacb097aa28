"""What an admin may do to a campaign (issue 19.1): its status machine, an edit of it by
GraphQL field path, and which fields may change while it runs. Pure: `now` is an argument.

Statuses: DRAFT -> ACTIVE (activate), ACTIVE -> PAUSED (pause), PAUSED -> ACTIVE (activate),
DRAFT/ACTIVE/PAUSED -> ENDED (end). An ENDED campaign changes no more (CAMPAIGN_ENDED); any
other move is INVALID_TRANSITION.

Edits: a DRAFT may change everything. An ACTIVE or PAUSED campaign has judged orders already,
so only what cannot change their meaning may change: its name, description and priority, its
end (not into the past), and its budget (not below what it has spent). Anything else is
CAMPAIGN_RUNNING on the field's path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from domain.campaigns import Campaign, CampaignStatus, Schedule, Trigger, validate_campaign
from domain.errors import CampaignEnded, CampaignRunning, Collector, InvalidTransition, invalid
from domain.text import is_clean

MAX_DESCRIPTION = 500


class Action(StrEnum):
    ACTIVATE = "ACTIVATE"
    PAUSE = "PAUSE"
    END = "END"


_S = CampaignStatus
TRANSITIONS: dict[tuple[CampaignStatus, Action], CampaignStatus] = {
    (_S.DRAFT, Action.ACTIVATE): _S.ACTIVE,
    (_S.PAUSED, Action.ACTIVATE): _S.ACTIVE,
    (_S.ACTIVE, Action.PAUSE): _S.PAUSED,
    (_S.DRAFT, Action.END): _S.ENDED,
    (_S.ACTIVE, Action.END): _S.ENDED,
    (_S.PAUSED, Action.END): _S.ENDED,
}


def next_status(status: CampaignStatus, action: Action) -> CampaignStatus:
    """The status `action` leads to from `status`, or the DomainError that refuses it."""
    if status is CampaignStatus.ENDED:
        raise CampaignEnded("the campaign has ended: it changes no more")
    found = TRANSITIONS.get((status, action))
    if found is None:
        raise InvalidTransition(f"a {status.value} campaign cannot be {_DONE[action]}")
    return found


_DONE = {Action.ACTIVATE: "activated", Action.PAUSE: "paused", Action.END: "ended"}


@dataclass(frozen=True)
class Editable:
    """What an admin writes: the campaign as the domain judges it, and its description."""

    campaign: Campaign
    description: str = ""


# GraphQL input path -> (the Campaign attribute holding it, or "" for the campaign itself,
# None for the description) and the attribute's name.
PATHS: dict[str, tuple[str | None, str]] = {
    "code": ("", "code"),
    "name": ("", "name"),
    "description": (None, "description"),
    "trigger": ("", "trigger"),
    "stacking": ("", "stacking"),
    "priority": ("", "priority"),
    "startsAt": ("schedule", "starts_at"),
    "endsAt": ("schedule", "ends_at"),
    "recurrence.weekdays": ("schedule", "weekdays"),
    "recurrence.monthDays": ("schedule", "month_days"),
    "recurrence.dates": ("schedule", "dates"),
    "audience.tiers": ("audience", "tiers"),
    "audience.segments": ("audience", "segments"),
    "audience.joinedWithinDays": ("audience", "joined_within_days"),
    "audience.nthOrder": ("audience", "nth_order"),
    "audience.birthdayMonth": ("audience", "birthday_month"),
    "conditions.minSpend": ("conditions", "min_spend"),
    "conditions.categories": ("conditions", "categories"),
    "conditions.skus": ("conditions", "skus"),
    "conditions.excludedPaymentMethods": ("conditions", "excluded_payment_methods"),
    "conditions.channels": ("conditions", "channels"),
    "effects.multiplier": ("effects", "multiplier"),
    "effects.bonusPerOrder": ("effects", "bonus_per_order"),
    "effects.bonusPerItem": ("effects", "bonus_per_item"),
    "effects.couponTemplate": ("effects", "coupon_template"),
    "limits.budget": ("limits", "budget"),
    "limits.memberCap": ("limits", "member_cap"),
    "limits.memberPeriodCap": ("limits", "member_period_cap"),
    "limits.capPeriod": ("limits", "cap_period"),
    "limits.maxRewardedOrders": ("limits", "max_rewarded_orders"),
}
SAFE_WHILE_RUNNING = frozenset({"name", "description", "priority", "endsAt", "limits.budget"})
# Paths with no default: a create must give them, and an edit may not clear them.
REQUIRED = frozenset({"code", "name", "trigger", "startsAt", "endsAt"})
# Paths where null is a value of its own (no limit, no template); elsewhere null is the default.
NULLABLE = frozenset(
    {
        "audience.joinedWithinDays",
        "audience.nthOrder",
        "effects.couponTemplate",
        "limits.budget",
        "limits.memberCap",
        "limits.memberPeriodCap",
        "limits.capPeriod",
        "limits.maxRewardedOrders",
    }
)
# validate_campaign names the recurrence's fields without their section
_RENAMED = {
    "weekdays": "recurrence.weekdays",
    "monthDays": "recurrence.monthDays",
    "dates": "recurrence.dates",
}

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
BLANK = Editable(
    Campaign(
        id=0,
        code="",
        name="",
        status=CampaignStatus.DRAFT,
        trigger=Trigger.ORDER,
        schedule=Schedule(starts_at=_EPOCH, ends_at=_EPOCH),
    )
)


def value_at(editable: Editable, path: str) -> object:
    section, name = PATHS[path]
    if section is None:
        return getattr(editable, name)
    owner = getattr(editable.campaign, section) if section else editable.campaign
    return getattr(owner, name)


def _with(editable: Editable, path: str, value: object) -> Editable:
    section, name = PATHS[path]
    given: dict[str, Any] = {name: value}
    if section is None:
        return replace(editable, **given)
    campaign = editable.campaign
    if not section:
        return replace(editable, campaign=replace(campaign, **given))
    part = replace(getattr(campaign, section), **given)
    return replace(editable, campaign=replace(campaign, **{section: part}))


def edited(editable: Editable, changes: Mapping[str, object]) -> Editable:
    """`editable` with `changes` (path -> value) made. A null clears a NULLABLE path and sets
    any other to its default; a REQUIRED path may not be null (VALIDATION)."""
    errors = Collector()
    for path, value in changes.items():
        if value is None and path in REQUIRED:
            errors.add(path, "may not be null")
        elif value is None and path not in NULLABLE:
            editable = _with(editable, path, value_at(BLANK, path))
        else:
            editable = _with(editable, path, value)
    errors.raise_if_any()
    return editable


def changed_paths(before: Editable, after: Editable) -> list[str]:
    return [p for p in PATHS if value_at(before, p) != value_at(after, p)]


def validate(editable: Editable, errors: Collector, *, timezone: str) -> None:
    """Shape and sense of the whole campaign (domain.campaigns.validate_campaign, with the
    recurrence's fields under `recurrence.`), and its description."""
    found = Collector()
    validate_campaign(editable.campaign, found, timezone=timezone)
    for error in found.errors:
        field = error.field or ""
        errors.add(_RENAMED.get(field, field), error.message)
    text = editable.description
    if len(text) > MAX_DESCRIPTION or not is_clean(text, multiline=True):
        errors.add("description", f"at most {MAX_DESCRIPTION} characters, no control characters")


def check_not_over(editable: Editable, now: datetime) -> None:
    """A campaign whose window has ended would never apply: refused on create and activate."""
    if editable.campaign.schedule.ends_at <= now:
        raise invalid("endsAt", "the campaign's window has already ended")


def check_edit(
    before: Editable,
    after: Editable,
    *,
    status: CampaignStatus,
    budget_spent: int,
    now: datetime,
) -> None:
    """Whether a campaign in `status` may go from `before` to `after` (see the module)."""
    if status is CampaignStatus.ENDED:
        raise CampaignEnded("the campaign has ended: it changes no more")
    changed = changed_paths(before, after)
    if status is not CampaignStatus.DRAFT:
        unsafe = [p for p in changed if p not in SAFE_WHILE_RUNNING]
        if unsafe:
            raise CampaignRunning(
                f"{', '.join(unsafe)} may not change while the campaign is {status.value}; "
                f"only {', '.join(sorted(SAFE_WHILE_RUNNING))} may",
                field=unsafe[0],
            )
        if "endsAt" in changed and after.campaign.schedule.ends_at <= now:
            raise invalid("endsAt", "a running campaign's end may not move into the past")
        if before.campaign.limits.budget is None and after.campaign.limits.budget is not None:
            # awards booked without a budget were never spent from one: a budget added while
            # it runs would be given back, by their returns, points it never spent
            raise CampaignRunning(
                "a running campaign without a budget cannot be given one; end it and start "
                "another with a budget",
                field="limits.budget",
            )
    budget = after.campaign.limits.budget
    if "limits.budget" in changed and budget is not None and budget < budget_spent:
        raise invalid("limits.budget", f"below what the campaign has spent ({budget_spent})")
