"""Events a shop cares about: their types, the stored event and its JSON document, the filter
and the policy of how long they are kept and how early reminders go out. Pure:
services/events.py writes them. What each payload carries is in `payloads`, when reminders
are due in `reminders`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.errors import Collector
from domain.events.payloads import (
    PAYLOAD_VERSION,
    badge_payload,
    challenge_payload,
    coupon_payload,
    member_payload,
    member_updated_payload,
    node_id,
    partner_link_payload,
    partner_transfer_payload,
    points_event_type,
    points_expiring_payload,
    points_payload,
    referral_payload,
    reward_redemption_payload,
    tier_changed_payload,
    tier_direction,
    tier_warning_payload,
)
from domain.events.reminders import (
    Expiring,
    balance_expiring,
    expiring_by_day,
    period_key,
    warning_due,
)
from domain.events.types import EventType


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
    """The member's global id: an event's subject."""
    if member_id is None:
        return None
    return node_id("Member", member_id)


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


__all__ = [
    "PAYLOAD_VERSION",
    "START",
    "Event",
    "EventPolicy",
    "EventType",
    "Expiring",
    "Position",
    "badge_payload",
    "balance_expiring",
    "challenge_payload",
    "check_types",
    "coupon_payload",
    "envelope",
    "expiring_by_day",
    "member_payload",
    "member_updated_payload",
    "node_id",
    "partner_link_payload",
    "partner_transfer_payload",
    "period_key",
    "points_event_type",
    "points_expiring_payload",
    "points_payload",
    "referral_payload",
    "reward_redemption_payload",
    "subject_of",
    "tier_changed_payload",
    "tier_direction",
    "tier_warning_payload",
    "warning_due",
]
