"""The configuration snapshots of the audit trail: what a mutation's `Subject` names (policies,
tiers, a coupon template, API keys, webhook endpoints, a partner, a campaign, a reward, a
challenge) read as plain dicts before and after the change, for the row's `before` and `after`.
Columns that move on their own (stock, spend, redemptions) and secrets are left out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.models import Model

from db.models import (
    ApiKey,
    Benefit,
    Campaign,
    Challenge,
    CouponTemplate,
    Partner,
    Programme,
    Reward,
    Tier,
    WebhookEndpoint,
)
from domain.coupons.templates import TEMPLATE_CODE_RE


@dataclass(frozen=True)
class Subject:
    """The configuration a mutation changes, snapshotted before and after it: `kind` names
    what (policies, tiers, a coupon template, API keys, a partner), `key` which one where it
    matters."""

    kind: str
    key: str | int | tuple[object, ...] | None = None


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _row(row: Model, *, leave_out: frozenset[str] = frozenset()) -> dict[str, Any]:
    return {
        name: _plain(getattr(row, name))
        for name in row._meta.db_fields
        if name not in leave_out and name != "programme_id"
    }


async def _policies(programme_id: int, _: Any) -> Any:
    row = await Programme.get(id=programme_id)
    return _row(row, leave_out=frozenset({"id", "code", "created_at"}))


async def _tiers(programme_id: int, _: Any) -> Any:
    tiers = await Tier.filter(programme_id=programme_id).order_by("rank")
    benefits = await Benefit.filter(programme_id=programme_id).order_by("id")
    return [
        {**_row(t), "benefits": [_row(b) for b in benefits if b.tier_id == t.id]} for t in tiers
    ]


async def _template(programme_id: int, key: Any) -> Any:
    field = "code" if isinstance(key, str) else "id"
    row = await CouponTemplate.get_or_none(programme_id=programme_id, **{field: key})
    return None if row is None else _row(row, leave_out=frozenset({"issued", "stock_left"}))


async def _campaign(programme_id: int, codes: Any) -> Any:
    """The campaign of the first of `codes` (a code, or the code an update names and the new
    code it gives) that names one. The snapshot runs before the input checks: a text no
    campaign code can be (one longer than the column, say) names none, and never reaches the
    ORM's length check."""
    for code in codes if isinstance(codes, tuple) else (codes,):
        if not isinstance(code, str) or not TEMPLATE_CODE_RE.match(code):
            continue
        row = await Campaign.get_or_none(programme_id=programme_id, code=code)
        if row is not None:
            # what orders spend changes on its own; the configuration is the rest
            return _row(row, leave_out=frozenset({"budget_spent"}))
    return None


async def _challenge(programme_id: int, code: Any) -> Any:
    if not isinstance(code, str) or not TEMPLATE_CODE_RE.match(code):
        return None
    row = await Challenge.get_or_none(programme_id=programme_id, code=code)
    return None if row is None else _row(row)


async def _keys(programme_id: int, key: Any) -> Any:
    query = ApiKey.filter(programme_id=programme_id)
    if key is not None:
        query = query.filter(id=key)
    rows = await query.order_by("id")
    return [_row(r, leave_out=frozenset({"secret_hash"})) for r in rows]


async def _webhook_endpoints(programme_id: int, key: Any) -> Any:
    query = WebhookEndpoint.filter(programme_id=programme_id)
    if key is not None:
        query = query.filter(id=key)
    rows = await query.order_by("id")
    # Signing secrets are sealed, but even sealed they have no place in the audit log.
    sealed = frozenset({"secret_sealed", "previous_secret_sealed"})
    return [_row(r, leave_out=sealed) for r in rows]


async def _partner(programme_id: int, code: Any) -> Any:
    if not isinstance(code, str):
        return None
    row = await Partner.get_or_none(programme_id=programme_id, code=code)
    return None if row is None else _row(row)


async def _reward(programme_id: int, code: Any) -> Any:
    """A reward's configuration by its code (checked as campaign codes are: the snapshot runs
    before the input checks)."""
    if not isinstance(code, str) or not TEMPLATE_CODE_RE.match(code):
        return None
    row = await Reward.get_or_none(programme_id=programme_id, code=code)
    # `redeemed` moves with redemptions only; stock_left shows what a new totalStock did
    return None if row is None else _row(row, leave_out=frozenset({"redeemed"}))


SNAPSHOTS: dict[str, Callable[[int, Any], Awaitable[Any]]] = {
    "policies": _policies,
    "tiers": _tiers,
    "coupon_template": _template,
    "api_keys": _keys,
    "webhook_endpoints": _webhook_endpoints,
    "partner": _partner,
    "campaign": _campaign,
    "reward": _reward,
    "challenge": _challenge,
}
