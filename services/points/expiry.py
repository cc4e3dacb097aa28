"""Expiry booked when it fell due, and the member row locks that book it: `lock` (and
`settle`, for a member locked some other way) writes whatever expired up to the moment of a
change before anything else touches the balance, each step dated when it was due, and keeps
`expiry_due_at` a lower bound of the next. So a point past its expiry is never spent, held,
clawed back or renewed, whether or not the job has run since."""

from __future__ import annotations

from datetime import datetime

from db.models import Member, Programme
from db.repositories import orders as order_repo
from db.repositories import points as points_repo
from domain.lots import Lot, Take, expiry_steps, lots_after, next_expiry_due
from domain.points import ExpiryPolicy
from services.clock import now_of, zone_of
from services.points.ledger import (
    INSTANT,
    Entry,
    policy_of,
    record_expiry,
    rolling_due,
    spendable,
)


def _unbooked_expiry(
    member: Member, programme: Programme, lots: list[Lot], until: datetime
) -> list[tuple[datetime, list[Take]]]:
    """Expiry that fell due up to `until` and is not on the ledger yet, step by step."""
    policy = policy_of(programme)
    return [
        (step.due_at, step.takes)
        for step in expiry_steps(
            lots,
            until,
            policy=policy.expiry_policy,
            rolling_expires_at=rolling_due(member, programme, policy),
            spendable=spendable(member),
        )
    ]


def expiry_is_due(member: Member, until: datetime) -> bool:
    """From the member row alone: might some of its points have expired by `until`?"""
    return member.expiry_due_at is not None and member.expiry_due_at <= until


async def due_expiry(
    member: Member, programme: Programme, until: datetime
) -> tuple[list[Lot], list[tuple[datetime, list[Take]]]]:
    """The member's open lots, and the expiry due up to `until` not booked yet. Under rolling
    expiry, not past a pending order whose return window closed: the job completes it first
    (dated when it closed), and that earning renews the balance."""
    if policy_of(programme).expiry_policy is ExpiryPolicy.ROLLING_ACTIVITY:
        matures = await order_repo.first_maturity_of(member.id)
        if matures is not None and matures <= until:
            until = matures - INSTANT
    lots = await points_repo.open_lots(member.id)
    return lots, _unbooked_expiry(member, programme, lots, until)


async def settle(member: Member, programme: Programme, until: datetime) -> int:
    """Book the expiry that fell due up to `until` (the locked member's), each step dated when
    it was due, and narrow `expiry_due_at` to what is left. Returns the points expired."""
    if not expiry_is_due(member, until):
        return 0
    lots, steps = await due_expiry(member, programme, until)
    expired = 0
    for due_at, takes in steps:
        local_day = due_at.astimezone(zone_of(programme)).date().isoformat()
        entry = Entry("EXPIRY", local_day, "points expired", "system:expiry", None, due_at)
        await record_expiry(member, entry, takes)
        expired += sum(t.amount for t in takes)
        lots = lots_after(lots, takes)
    policy = policy_of(programme)
    member.expiry_due_at = next_expiry_due(
        lots,
        policy=policy.expiry_policy,
        rolling_expires_at=rolling_due(member, programme, policy),
    )
    await points_repo.save_balances(member)
    return expired


async def lock(programme: Programme, member_id: int, *, at: datetime | None = None) -> Member:
    """The member's row lock, with its expiry booked up to `at` (the programme's now): what
    every change to a member's points starts with."""
    member = await points_repo.lock_member(programme.id, member_id)
    await settle(member, programme, at or now_of(programme))
    return member


async def lock_many(
    programme: Programme, member_ids: set[int], *, at: datetime | None = None
) -> dict[int, Member]:
    """Several members, locked in ascending id order (no two paths can wait on each other),
    each with its expiry booked."""
    members = await points_repo.lock_members(programme.id, member_ids)
    moment = at or now_of(programme)
    for member in members.values():
        await settle(member, programme, moment)
    return members
