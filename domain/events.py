"""Events a shop cares about: their types, what each payload carries, and the policy of how long
they are kept and how early reminders go out. Pure: services/events.py writes them."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Any

from domain.errors import Collector

PAYLOAD_VERSION = 1


class EventType(StrEnum):
    MEMBER_REGISTERED = "member.registered"
    MEMBER_UPDATED = "member.updated"
    POINTS_EARNED = "points.earned"
    POINTS_AVAILABLE = "points.available"
    POINTS_REDEEMED = "points.redeemed"
    POINTS_REVERSED = "points.reversed"
    POINTS_ADJUSTED = "points.adjusted"
    POINTS_EXPIRED = "points.expired"
    POINTS_EXPIRING = "points.expiring"
    TIER_CHANGED = "tier.changed"
    TIER_DOWNGRADE_WARNING = "tier.downgrade_warning"
    COUPON_ISSUED = "coupon.issued"
    COUPON_REDEEMED = "coupon.redeemed"
    REFERRAL_REWARDED = "referral.rewarded"
    WEBHOOK_ENDPOINT_DISABLED = "webhook_endpoint.disabled"
    POINTS_TRANSFERRED_IN = "points.transferred_in"
    POINTS_TRANSFERRED_OUT = "points.transferred_out"
    PARTNER_TRANSFER_REQUESTED = "partner_transfer.requested"
    PARTNER_TRANSFER_COMPLETED = "partner_transfer.completed"
    PARTNER_TRANSFER_FAILED = "partner_transfer.failed"
    PARTNER_TRANSFER_REVERSED = "partner_transfer.reversed"
    PARTNER_LINK_CREATED = "partner_link.created"
    PARTNER_LINK_REMOVED = "partner_link.removed"


@dataclass(frozen=True)
class Position:
    """Where an event stands in commit order. On PostgreSQL `txid` is the writing
    transaction's id; on SQLite it is 0 and `id` alone is commit order. Compare as a tuple."""

    txid: int
    id: int

    def key(self) -> tuple[int, int]:
        return (self.txid, self.id)


START = Position(0, 0)


@dataclass(frozen=True)
class Event:
    """One stored event, as read back in commit order."""

    position: Position
    event_id: str  # a UUID: globally unique, never changes
    programme_id: int
    type: str
    member_id: int | None
    sequence: int | None  # the member's event number: 1, 2, 3, ... in commit order
    occurred_at: datetime  # the programme's clock
    payload: dict[str, Any]

    @property
    def subject(self) -> str | None:
        return subject_of(self.member_id)


def subject_of(member_id: int | None) -> str | None:
    """The member's global id, as the GraphQL API gives it out (relay: base64 "Member:<id>")."""
    if member_id is None:
        return None
    return base64.b64encode(f"Member:{member_id}".encode()).decode()


def envelope(event: Event, *, programme_code: str) -> dict[str, Any]:
    """The JSON document of one event, the same for the pull query and a webhook body."""
    return {
        "id": event.event_id,
        "type": event.type,
        "programme": programme_code,
        "timestamp": event.occurred_at.isoformat(),
        "subject": event.subject,
        "sequence": event.sequence,
        "data": event.payload,
    }


# ---- payloads: each `{"version": 1, ...}`, everything a mail needs without a second call ------


def _iso(moment: datetime | date | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def member_payload(
    *, external_id: str, display_name: str, tier: str | None, joined_at: datetime
) -> dict[str, Any]:
    return {
        "version": PAYLOAD_VERSION,
        "member": {"externalId": external_id, "displayName": display_name},
        "tier": tier,
        "joinedAt": _iso(joined_at),
    }


def member_updated_payload(
    *, external_id: str, display_name: str, changed: list[str]
) -> dict[str, Any]:
    """`changed` names the profile fields the update set (never their values: PII stays here)."""
    return {
        "version": PAYLOAD_VERSION,
        "member": {"externalId": external_id, "displayName": display_name},
        "changed": sorted(changed),
    }


def points_payload(
    *,
    external_id: str,
    points: int,
    available_after: int,
    pending_after: int,
    source: str,
    reference: str,
    reason: str,
    expires_at: datetime | None = None,
    shortfall: int = 0,
) -> dict[str, Any]:
    """A movement of points. `points` is signed as it moved the balance it names; `source` and
    `reference` say what caused it (ORDER and the shop's order id, CHECK_IN and the day, ...)."""
    body: dict[str, Any] = {
        "version": PAYLOAD_VERSION,
        "member": {"externalId": external_id},
        "points": points,
        "balance": {"available": available_after, "pending": pending_after},
        "source": source,
        "reference": reference,
        "reason": reason,
    }
    if expires_at is not None:
        body["expiresAt"] = _iso(expires_at)
    if shortfall:
        body["shortfall"] = shortfall
    return body


def points_expiring_payload(
    *, external_id: str, points: int, expires_at: datetime, expires_on: date, available: int
) -> dict[str, Any]:
    """`expiresOn` is the programme's local day; `expiresAt` the first instant of it that
    points go."""
    return {
        "version": PAYLOAD_VERSION,
        "member": {"externalId": external_id},
        "points": points,
        "expiresAt": _iso(expires_at),
        "expiresOn": _iso(expires_on),
        "balance": {"available": available},
    }


# ---- reminders: what is due, and the key that makes each one go out once ----------------------


@dataclass(frozen=True)
class Expiring:
    """Points that expire on one local day: one reminder."""

    day: date
    first_at: datetime
    points: int
    scope: str = "lots"  # or "balance" (rolling expiry)

    @property
    def key(self) -> str:
        return f"{self.scope}:{self.day.isoformat()}"


def expiring_by_day(
    lots: list[tuple[int, datetime | None]], *, now: datetime, days: int, tz: tzinfo
) -> list[Expiring]:
    """Lots (remaining, expires_at) that expire after `now` and on or before the local day
    `days` days ahead, grouped by local day. Whole days, so a day's lots come due together
    whatever the hour the job runs, and its one reminder covers all of them."""
    if days <= 0:
        return []
    last_day = now.astimezone(tz).date() + timedelta(days=days)
    found: dict[date, Expiring] = {}
    for remaining, expires_at in lots:
        if expires_at is None or remaining <= 0 or expires_at <= now:
            continue
        day = expires_at.astimezone(tz).date()
        if day > last_day:
            continue
        seen = found.get(day)
        if seen is None:
            found[day] = Expiring(day, expires_at, remaining)
        else:
            found[day] = Expiring(day, min(seen.first_at, expires_at), seen.points + remaining)
    return [found[day] for day in sorted(found)]


def balance_expiring(
    *, expires_at: datetime | None, available: int, now: datetime, days: int, tz: tzinfo
) -> Expiring | None:
    """Rolling expiry: the whole balance goes at once; a new earning moves the date (and so
    the key: the next reminder is for the new date)."""
    if days <= 0 or expires_at is None or available <= 0 or expires_at <= now:
        return None
    day = expires_at.astimezone(tz).date()
    if day > now.astimezone(tz).date() + timedelta(days=days):
        return None
    return Expiring(day, expires_at, available, "balance")


def warning_due(*, valid_until: datetime | None, now: datetime, days: int) -> bool:
    """The tier's validity period ends within `days` (and has not ended yet)."""
    return days > 0 and valid_until is not None and now < valid_until <= now + timedelta(days=days)


def period_key(valid_until: datetime) -> str:
    return f"period:{valid_until.isoformat()}"


def tier_changed_payload(
    *,
    external_id: str,
    from_tier: tuple[str, str] | None,
    to_tier: tuple[str, str] | None,
    direction: str,
    reason: str,
    valid_until: datetime | None,
    qualifying_total: int,
) -> dict[str, Any]:
    """Tiers as (code, name). `direction` is UP, DOWN or SAME (a renewal keeps the tier)."""
    return {
        "version": PAYLOAD_VERSION,
        "member": {"externalId": external_id},
        "from": _tier(from_tier),
        "to": _tier(to_tier),
        "direction": direction,
        "reason": reason,
        "validUntil": _iso(valid_until),
        "qualifyingTotal": qualifying_total,
    }


def tier_warning_payload(
    *,
    external_id: str,
    tier: tuple[str, str],
    falls_to: tuple[str, str] | None,
    valid_until: datetime,
    metric: str,
    needed: int,
    threshold: int,
) -> dict[str, Any]:
    """`needed` is how much more of `metric` (SPEND in minor units, ORDER_COUNT, GROWTH) within
    the period keeps the tier past `validUntil`; `threshold` is the tier's retention
    threshold."""
    return {
        "version": PAYLOAD_VERSION,
        "member": {"externalId": external_id},
        "tier": _tier(tier),
        "fallsTo": _tier(falls_to),
        "validUntil": _iso(valid_until),
        "metric": metric,
        "needed": needed,
        "retentionThreshold": threshold,
    }


def tier_direction(before_rank: int | None, after_rank: int) -> str:
    """UP (also a first tier), DOWN, or SAME."""
    if before_rank is None or after_rank > before_rank:
        return "UP"
    return "DOWN" if after_rank < before_rank else "SAME"


def _tier(tier: tuple[str, str] | None) -> dict[str, str] | None:
    return {"code": tier[0], "name": tier[1]} if tier is not None else None


def coupon_payload(
    *,
    external_id: str,
    code: str,
    template: str,
    title: str,
    source: str | None = None,
    ends_at: datetime | None = None,
    order_ref: str | None = None,
    discount: int | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "version": PAYLOAD_VERSION,
        "member": {"externalId": external_id},
        "coupon": {"code": code, "template": template, "title": title},
    }
    if source is not None:
        body["source"] = source
    if ends_at is not None:
        body["endsAt"] = _iso(ends_at)
    if order_ref is not None:
        body["orderId"] = order_ref
    if discount is not None:
        body["discount"] = discount
    return body


def partner_transfer_payload(
    *,
    transfer_id: str,
    partner: str,
    direction: str,
    status: str,
    external_id: str,
    partner_member_id: str,
    partner_transfer_id: str | None,
    partner_reference: str | None,
    partner_units: int,
    points: int,
    rate: tuple[int, int],
    reason: str | None,
    expires_at: datetime | None,
) -> dict[str, Any]:
    """A partner transfer changed state. `transfer` is its global id, as the API gives it."""
    body: dict[str, Any] = {
        "version": PAYLOAD_VERSION,
        "transfer": transfer_id,
        "partner": partner,
        "direction": direction,
        "status": status,
        "member": {"externalId": external_id, "partnerMemberId": partner_member_id},
        "partnerUnits": partner_units,
        "points": points,
        "rate": {"source": rate[0], "target": rate[1]},
    }
    if partner_transfer_id is not None:
        body["partnerTransferId"] = partner_transfer_id
    if partner_reference is not None:
        body["partnerReference"] = partner_reference
    if reason is not None:
        body["reason"] = reason
    if expires_at is not None:
        body["expiresAt"] = _iso(expires_at)
    return body


def partner_link_payload(
    *, partner: str, external_id: str, partner_member_id: str, linked_by: str, share_balance: bool
) -> dict[str, Any]:
    """A member's account at a partner was linked or unlinked."""
    return {
        "version": PAYLOAD_VERSION,
        "partner": partner,
        "member": {"externalId": external_id, "partnerMemberId": partner_member_id},
        "linkedBy": linked_by,
        "shareBalance": share_balance,
    }


def referral_payload(
    *, inviter_external_id: str, invitee_external_id: str, points: int, order_ref: str
) -> dict[str, Any]:
    return {
        "version": PAYLOAD_VERSION,
        "member": {"externalId": inviter_external_id},
        "invitee": {"externalId": invitee_external_id},
        "points": points,
        "orderId": order_ref,
    }


# ---- which ledger rows are which event --------------------------------------------------------


def points_event_type(*, kind: str, bucket: str, amount: int, reference_type: str) -> str | None:
    """The event a ledger row is, or None for a row that is half of a move already told (an
    order's points leaving the pending bucket as they become available)."""
    if kind == "EARN":
        if bucket == "PENDING":
            return EventType.POINTS_EARNED if amount > 0 else None
        return EventType.POINTS_AVAILABLE if reference_type == "ORDER" else EventType.POINTS_EARNED
    return {
        "REDEEM": EventType.POINTS_REDEEMED,
        "REVERSE": EventType.POINTS_REVERSED,
        "ADJUST": EventType.POINTS_ADJUSTED,
        "EXPIRE": EventType.POINTS_EXPIRED,
        "TRANSFER_IN": EventType.POINTS_TRANSFERRED_IN,
        "TRANSFER_OUT": EventType.POINTS_TRANSFERRED_OUT,
    }.get(kind, f"points.{kind.lower()}")


MAX_TYPES = 50


def check_types(errors: Collector, types: list[str]) -> None:
    """A filter names event types this API writes (1-50 of them)."""
    if not 1 <= len(types) <= MAX_TYPES:
        errors.add("types", f"name 1-{MAX_TYPES} event types, or leave it out")
        return
    known = {t.value for t in EventType}
    unknown = [t for t in types if t not in known]
    if unknown:
        shown = ", ".join(repr(t[:48]) for t in unknown[:5])
        errors.add("types", f"not an event type: {shown}")


# ---- policy -----------------------------------------------------------------------------------

MAX_RETENTION_DAYS = 3650
MAX_LEAD_DAYS = 366


@dataclass(frozen=True)
class EventPolicy:
    """How long events are kept, and how many days ahead the two reminders go out (0: never)."""

    retention_days: int = 30
    expiring_days: int = 7
    downgrade_warning_days: int = 14

    @staticmethod
    def from_json(data: dict[str, Any] | None) -> EventPolicy:
        data = data or {}
        default = EventPolicy()
        return EventPolicy(
            retention_days=int(data.get("retentionDays", default.retention_days)),
            expiring_days=int(data.get("expiringDays", default.expiring_days)),
            downgrade_warning_days=int(
                data.get("downgradeWarningDays", default.downgrade_warning_days)
            ),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "retentionDays": self.retention_days,
            "expiringDays": self.expiring_days,
            "downgradeWarningDays": self.downgrade_warning_days,
        }

    def check(self, errors: Collector) -> None:
        if not 1 <= self.retention_days <= MAX_RETENTION_DAYS:
            errors.add("retentionDays", f"must be 1-{MAX_RETENTION_DAYS}")
        if not 0 <= self.expiring_days <= MAX_LEAD_DAYS:
            errors.add("expiringDays", f"must be 0-{MAX_LEAD_DAYS}")
        if not 0 <= self.downgrade_warning_days <= MAX_LEAD_DAYS:
            errors.add("downgradeWarningDays", f"must be 0-{MAX_LEAD_DAYS}")
