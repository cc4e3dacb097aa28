"""What each event's payload carries: `{"version": 1, ...}`, everything a mail needs without
a second call. Personal data stays out but the display name a greeting needs."""

from __future__ import annotations

import base64
from datetime import date, datetime
from typing import Any

from domain.events.types import EventType


def node_id(type_name: str, row_id: int) -> str:
    """A row's global id, as the GraphQL API gives it out (relay: base64 "<Type>:<id>")."""
    return base64.b64encode(f"{type_name}:{row_id}".encode()).decode()


PAYLOAD_VERSION = 1


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


def challenge_payload(
    *,
    external_id: str,
    code: str,
    name: str,
    goal: str,
    target: int,
    reward: str,
    points: int,
) -> dict[str, Any]:
    return {
        "version": PAYLOAD_VERSION,
        "member": {"externalId": external_id},
        "challenge": {"code": code, "name": name, "goal": goal, "target": target},
        "reward": reward,
        "points": points,
    }


def reward_redemption_payload(
    *,
    external_id: str,
    redemption_id: int,
    reward_code: str,
    quantity: int,
    points: int,
    cash: int,
    status: str,
    order_id: str | None,
) -> dict[str, Any]:
    """`reward.redeemed`, `reward.fulfilled`, `reward.cancelled`: the redemption as it is now."""
    return {
        "version": PAYLOAD_VERSION,
        "member": {"externalId": external_id},
        "redemption": node_id("RewardRedemption", redemption_id),
        "reward": {"code": reward_code},
        "quantity": quantity,
        "points": points,
        "cash": cash,
        "status": status,
        "orderId": order_id,
    }


def badge_payload(
    *, external_id: str, code: str, title: str, image_url: str | None, challenge: str
) -> dict[str, Any]:
    return {
        "version": PAYLOAD_VERSION,
        "member": {"externalId": external_id},
        "badge": {"code": code, "title": title, "imageUrl": image_url},
        "challenge": challenge,
    }


# ---- which ledger rows are which event --------------------------------------------------------


def points_event_type(*, kind: str, bucket: str, amount: int, reference_type: str) -> str | None:
    """The event a ledger row is, or None for a row that is half of a move already told (an
    order's points leaving the pending bucket as they become available)."""
    if kind == "EARN":
        if bucket == "PENDING":
            return EventType.POINTS_EARNED if amount > 0 else None
        return EventType.POINTS_AVAILABLE if reference_type == "ORDER" else EventType.POINTS_EARNED
    if kind == "ERASE":
        return None  # `member.erased` tells the forfeit (forfeitedPoints), in the same transaction
    return {
        "REDEEM": EventType.POINTS_REDEEMED,
        "REVERSE": EventType.POINTS_REVERSED,
        "ADJUST": EventType.POINTS_ADJUSTED,
        "EXPIRE": EventType.POINTS_EXPIRED,
        "TRANSFER_IN": EventType.POINTS_TRANSFERRED_IN,
        "TRANSFER_OUT": EventType.POINTS_TRANSFERRED_OUT,
    }.get(kind, f"points.{kind.lower()}")
