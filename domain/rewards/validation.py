"""What a catalogue entry may be, before the database is asked anything: the shape of each
field, the fields each kind needs or refuses, the window, and how a change of stock moves what
is left. References (template, partner, tiers) and the code's uniqueness are the service's."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from urllib.parse import urlsplit

from domain.coupons.templates import TEMPLATE_CODE_RE
from domain.errors import Collector, DomainError, ErrorCode, invalid
from domain.rewards.model import LimitPeriod, Reward, RewardKind, RewardStatus
from domain.text import is_clean

TITLE_MAX = 100
DESCRIPTION_MAX = 1000
IMAGE_URL_MAX = 500
CATEGORY_MAX = 64
MAX_POINTS = 100_000_000
MAX_CASH = 10_000_000_000  # minor units: a hundred million of the currency
MAX_STOCK = 100_000_000
MAX_PER_MEMBER = 10_000
MAX_PARTNER_UNITS = 100_000_000


class RewardRetired(DomainError):
    code = ErrorCode.REWARD_RETIRED


@dataclass(frozen=True, slots=True)
class RewardSpec:
    """A catalogue entry as an admin writes it: references by code, tiers by code."""

    code: str
    title: str
    category: str
    kind: RewardKind
    points_price: int
    description: str = ""
    image_url: str | None = None
    cash_price: int = 0
    coupon_template_code: str | None = None
    partner_code: str | None = None
    partner_units: int | None = None
    total_stock: int | None = None
    per_member_limit: int | None = None
    limit_period: LimitPeriod = LimitPeriod.EVER
    eligible_tier_codes: tuple[str, ...] = ()
    valid_from: datetime | None = None
    valid_until: datetime | None = None


# What updateReward may change; the code, the kind and what the kind points at stay.
EDITABLE = frozenset(
    {
        "title",
        "description",
        "image_url",
        "category",
        "points_price",
        "cash_price",
        "total_stock",
        "per_member_limit",
        "limit_period",
        "eligible_tier_codes",
        "valid_from",
        "valid_until",
    }
)
SPEC_FIELDS = frozenset(f.name for f in fields(RewardSpec))


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _check_text(errors: Collector, spec: RewardSpec) -> None:
    if not TEMPLATE_CODE_RE.match(spec.code):
        errors.add("code", "1-32 of A-Z, 0-9, _ and -, starting with a letter or digit")
    if not (1 <= len(spec.title.strip()) <= TITLE_MAX and is_clean(spec.title)):
        errors.add("title", f"must be 1-{TITLE_MAX} characters, no control characters")
    if len(spec.description) > DESCRIPTION_MAX or not is_clean(spec.description, multiline=True):
        errors.add("description", f"at most {DESCRIPTION_MAX} characters")
    if not (1 <= len(spec.category.strip()) <= CATEGORY_MAX and is_clean(spec.category)):
        errors.add("category", f"must be 1-{CATEGORY_MAX} characters")
    if spec.image_url is not None:
        _check_image_url(errors, spec.image_url)


def _check_image_url(errors: Collector, url: str) -> None:
    if not 1 <= len(url) <= IMAGE_URL_MAX or not url.isprintable() or " " in url:
        errors.add("imageUrl", f"must be 1-{IMAGE_URL_MAX} printable characters")
        return
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        errors.add("imageUrl", "must be an http or https URL")


def _check_amounts(errors: Collector, spec: RewardSpec) -> None:
    if not 1 <= spec.points_price <= MAX_POINTS:
        errors.add("pointsPrice", f"must be 1-{MAX_POINTS:,} points per item")
    if not 0 <= spec.cash_price <= MAX_CASH:
        errors.add("cashPrice", "must be 0 (points only) or more, in minor units")
    if spec.total_stock is not None and not 0 <= spec.total_stock <= MAX_STOCK:
        errors.add("totalStock", f"must be 0-{MAX_STOCK:,}, or null for unlimited")
    if spec.per_member_limit is not None and not 1 <= spec.per_member_limit <= MAX_PER_MEMBER:
        errors.add("perMemberLimit", f"must be 1-{MAX_PER_MEMBER:,}, or null for no limit")
    if spec.per_member_limit is None and spec.limit_period is not LimitPeriod.EVER:
        errors.add("limitPeriod", "a period needs a perMemberLimit")


def _check_kind(errors: Collector, spec: RewardSpec) -> None:
    """A COUPON names its template and a PARTNER its partner and units; no other kind does."""
    if spec.kind is RewardKind.COUPON:
        if spec.coupon_template_code is None:
            errors.add("couponTemplateCode", "a COUPON reward names its coupon template")
    elif spec.coupon_template_code is not None:
        errors.add("couponTemplateCode", "only a COUPON reward names a coupon template")
    if spec.kind is RewardKind.PARTNER:
        if spec.partner_code is None:
            errors.add("partnerCode", "a PARTNER reward names its partner")
        if spec.partner_units is None:
            errors.add("partnerUnits", "a PARTNER reward says how many units it credits")
        elif not 1 <= spec.partner_units <= MAX_PARTNER_UNITS:
            errors.add("partnerUnits", f"must be 1-{MAX_PARTNER_UNITS:,} per item")
    else:
        if spec.partner_code is not None:
            errors.add("partnerCode", "only a PARTNER reward names a partner")
        if spec.partner_units is not None:
            errors.add("partnerUnits", "only a PARTNER reward credits partner units")


def validate(spec: RewardSpec, errors: Collector) -> None:
    """Every shape problem of `spec`, each on its (camelCase) field."""
    _check_text(errors, spec)
    _check_amounts(errors, spec)
    _check_kind(errors, spec)
    if len(set(spec.eligible_tier_codes)) != len(spec.eligible_tier_codes):
        errors.add("eligibleTierCodes", "each tier once")
    if (
        spec.valid_from is not None
        and spec.valid_until is not None
        and spec.valid_from >= spec.valid_until
    ):
        errors.add("validUntil", "must be after validFrom")


def edited(spec: RewardSpec, changes: dict[str, object]) -> RewardSpec:
    """`spec` with `changes` (snake_case names of EDITABLE fields) applied."""
    refused = sorted(set(changes) - EDITABLE)
    if refused:
        raise invalid(_camel(refused[0]), "may not change")
    values = {name: getattr(spec, name) for name in SPEC_FIELDS}
    values.update(changes)
    return RewardSpec(**values)


def check_editable(reward: Reward) -> None:
    if reward.status is RewardStatus.RETIRED:
        raise RewardRetired("the reward is retired: it changes no more", field="rewardCode")


def stock_left_after(reward: Reward, total_stock: int | None) -> int | None:
    """What is left once the total becomes `total_stock`: it moves by the difference (a
    reward that had no limit has its total less what was redeemed left). A total below what
    members already redeemed is refused."""
    if total_stock is None:
        return None
    if total_stock < reward.redeemed:
        raise invalid(
            "totalStock", f"{reward.redeemed} already redeemed: the total may not go below that"
        )
    if reward.total_stock is None or reward.stock_left is None:
        return total_stock - reward.redeemed
    return max(0, reward.stock_left + total_stock - reward.total_stock)
