"""Reminder events the jobs send for a shop's mails: points about to expire, and a tier about
to drop at the end of its validity period. Each goes out once: the reminder row's unique key
(member, kind, what it is about) is written in the same transaction as the event, so a
second run-jobs — or two at once — sends nothing more."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from db import tier_cache
from db.connection import is_unique_violation
from db.models import Member, Programme
from db.repositories import event_reminders as reminder_repo
from db.repositories import points as points_repo
from db.repositories import tier_events as tier_event_repo
from domain.events import (
    EventPolicy,
    EventType,
    Expiring,
    balance_expiring,
    expiring_by_day,
    period_key,
    points_expiring_payload,
    tier_warning_payload,
    warning_due,
)
from domain.lots import rolling_expiry
from domain.points import ExpiryPolicy
from domain.tier_rules import retention_of
from services import events as event_service
from services.clock import now_of, zone_of
from services.points.ledger import policy_of as points_policy_of
from services.tier_evaluation import measure as tier_measure

BATCH = 500


@dataclass
class Sent:
    points_expiring: int = 0
    downgrade_warnings: int = 0


def policy_of(programme: Programme) -> EventPolicy:
    return EventPolicy.from_json(programme.event_policy)


async def send_due(programme: Programme) -> Sent:
    policy = policy_of(programme)
    now = now_of(programme)
    sent = Sent()
    if policy.expiring_days > 0:
        # a day more: reminders count whole local days, the index an instant
        until = now + timedelta(days=policy.expiring_days + 1)
        async for batch in _members(points_repo.members_with_expiry_due, programme, until):
            sent.points_expiring += await _points_expiring(programme, policy, batch, now)
    if policy.downgrade_warning_days > 0:
        until = now + timedelta(days=policy.downgrade_warning_days)
        async for batch in _members(tier_event_repo.due_for_period_end, programme, until):
            sent.downgrade_warnings += await _downgrade_warnings(programme, policy, batch, now)
    return sent


async def _members(
    source: Callable[..., Awaitable[list[int]]], programme: Programme, until: datetime
) -> AsyncIterator[list[Member]]:
    after_id = 0
    while True:
        ids = await source(programme.id, until, after_id=after_id, limit=BATCH)
        if not ids:
            return
        yield await Member.filter(programme_id=programme.id, id__in=ids).order_by("id")
        after_id = ids[-1]


async def _points_expiring(
    programme: Programme, policy: EventPolicy, members: list[Member], now: datetime
) -> int:
    kind = EventType.POINTS_EXPIRING.value
    sent_before = await reminder_repo.reminders_sent([m.id for m in members], kind)
    points_policy = points_policy_of(programme)
    tz = zone_of(programme)
    sent = 0
    for member in members:
        due: list[Expiring]
        if points_policy.expiry_policy is ExpiryPolicy.ROLLING_ACTIVITY:
            rolling = await _rolling_expiry(member, programme)
            one = balance_expiring(
                expires_at=rolling,
                available=int(member.points_available),
                now=now,
                days=policy.expiring_days,
                tz=tz,
            )
            due = [one] if one is not None else []
        else:
            lots = await points_repo.open_lots(member.id)
            due = expiring_by_day(
                [(lot.remaining, lot.expires_at) for lot in lots],
                now=now,
                days=policy.expiring_days,
                tz=tz,
            )
        for expiring in due:
            if (member.id, expiring.key) in sent_before:
                continue
            payload = points_expiring_payload(
                external_id=member.external_id,
                points=expiring.points,
                expires_at=expiring.first_at,
                expires_on=expiring.day,
                available=int(member.points_available),
            )
            sent += await _send_once(
                programme, member, kind, expiring.key, expiring.first_at, payload, now
            )
    return sent


async def _rolling_expiry(member: Member, programme: Programme) -> datetime | None:
    months = points_policy_of(programme).expiry_months
    return rolling_expiry(member.last_earned_at, months, zone_of(programme))


async def _downgrade_warnings(
    programme: Programme, policy: EventPolicy, members: list[Member], now: datetime
) -> int:
    kind = EventType.TIER_DOWNGRADE_WARNING.value
    sent_before = await reminder_repo.reminders_sent([m.id for m in members], kind)
    tiers = await tier_cache.programme_tiers(programme.id)
    metric = tier_measure.policy_of(programme).metric.value
    sent = 0
    for member in members:
        end = member.tier_valid_until
        if end is None or not warning_due(
            valid_until=end, now=now, days=policy.downgrade_warning_days
        ):
            continue
        key = period_key(end)
        current = next((t for t in tiers if t.id == member.tier_id), None)
        if current is None or (member.id, key) in sent_before:
            continue
        progress = await tier_measure.progress_of(programme, member)
        falls_to = progress.will_downgrade_to
        if falls_to is None:
            continue  # retention met (or the entry thresholds keep the tier anyway)
        needed = progress.amount_to_retain or 0
        payload = tier_warning_payload(
            external_id=member.external_id,
            tier=(current.code, current.name),
            falls_to=(falls_to.code, falls_to.name),
            valid_until=end,
            metric=metric,
            needed=needed,
            threshold=retention_of(current),
        )
        sent += await _send_once(programme, member, kind, key, end, payload, now)
    return sent


async def _send_once(
    programme: Programme,
    member: Member,
    kind: str,
    key: str,
    due_at: datetime,
    payload: dict[str, object],
    now: datetime,
) -> int:
    """The reminder's key and its event, together or not at all; 0 if the key was taken (by
    a run-jobs running beside this one)."""
    try:
        async with in_transaction():
            await reminder_repo.add_reminder(
                programme_id=programme.id,
                member_id=member.id,
                kind=kind,
                about=key,
                due_at=due_at,
                sent_at=now,
            )
            # Issue 18.4: reminders are still recorded (a shop may owe a notice of expiry),
            # but say whether the member consents to marketing; a shop's messaging must not
            # nudge one that does not. Read at sending time: a withdrawal acts on the next one.
            body = {**payload, "marketingConsent": member.consent_marketing}
            await event_service.record(
                programme.id, kind, body, occurred_at=now, member_id=member.id
            )
    except IntegrityError as error:
        if not is_unique_violation(error):
            raise
        return 0
    return 1
