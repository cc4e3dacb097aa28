"""One member's catch-up, in the order its work fell due: orders whose return window closed
complete, checkout holds that ran out release, points expire and tier validity periods are
judged — each dated when it was due. Work on one member changes what is due after it (a
completion renews a rolling balance and can upgrade the tier; a period's judgement counts the
orders completed within it), so doing it in time order makes the outcome the same however
often the job runs: once a day, or once after the clock jumped two years.

Each member is one transaction under its row lock (and its inviter's, whom a completion can
reward), so a killed run resumes where it stopped and a second run finds nothing to do. Kind
(what is due) and Done (what a run did) are shared with the batch path."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum

from tortoise.transactions import in_transaction

from db import tier_cache
from db.models import Member, Order, PointHold, Programme
from db.repositories import holds as hold_repo
from db.repositories import orders as order_repo
from db.repositories import points as points_repo
from services.points import expiry
from services.points import orders as order_service
from services.points.holds import EXPIRED, close_hold
from services.tier_evaluation import periods as tier_periods


class Kind(IntEnum):
    """What is due; at one instant they are done in this order (the order the job always had)."""

    ORDER_MATURES = 0
    HOLD_LAPSES = 1
    POINTS_EXPIRE = 2
    PERIOD_ENDS = 3


@dataclass(frozen=True)
class Step:
    at: datetime
    kind: Kind
    ref: int = 0  # the order's or the hold's id
    order: Order | None = field(default=None, compare=False)
    hold: PointHold | None = field(default=None, compare=False)


@dataclass
class Done:
    """What a run did (the job's report extends it)."""

    orders_matured: int = 0
    holds_expired: int = 0
    members_expired: int = 0
    points_expired: int = 0
    tier_periods_ended: int = 0
    tier_changes: int = 0


async def catch_up(programme: Programme, member_id: int, now: datetime, done: Done) -> None:
    tier_changed = False
    async with in_transaction():
        involved = await order_service.touched_by_orders(member_id)
        members = await points_repo.lock_members(programme.id, involved)
        member = members[member_id]
        expired_before = done.points_expired
        last: Step | None = None
        while (step := await _next_step(member, programme, now)) is not None:
            if step == last:  # every step moves the member on; one that did not is a bug
                raise RuntimeError(f"member {member_id}: {step.kind.name} at {step.at} again")
            tier_changed |= await _do(step, member, programme, done)
            last = step
        if done.points_expired > expired_before:
            done.members_expired += 1
    if tier_changed:
        await tier_cache.forget_member_tier(programme.id, member_id)


async def _next_step(member: Member, programme: Programme, now: datetime) -> Step | None:
    due: list[Step] = []
    order = await order_repo.first_due_of(member.id, now)
    if order is not None:
        due.append(Step(order.matures_at, Kind.ORDER_MATURES, order.id, order=order))
    hold = await hold_repo.first_lapsed_of(member.id, now)
    if hold is not None:
        due.append(Step(hold.expires_at, Kind.HOLD_LAPSES, hold.id, hold=hold))
    if expiry.expiry_is_due(member, now):
        _, steps = await expiry.due_expiry(member, programme, now)
        if steps:
            due.append(Step(steps[0][0], Kind.POINTS_EXPIRE))
        else:
            await expiry.settle(member, programme, now)  # nothing takeable: narrow the bound
    if member.tier_valid_until is not None and member.tier_valid_until <= now:
        due.append(Step(member.tier_valid_until, Kind.PERIOD_ENDS))
    return min(due, key=lambda step: (step.at, step.kind), default=None)


async def _do(step: Step, member: Member, programme: Programme, done: Done) -> bool:
    """Do one step; True when it moved the member's tier."""
    if step.kind is Kind.ORDER_MATURES:
        assert step.order is not None
        tier = member.tier_id
        done.orders_matured += await order_service.mature(programme, step.order, member)
        return member.tier_id != tier
    if step.kind is Kind.HOLD_LAPSES:
        assert step.hold is not None
        await close_hold(step.hold, member, EXPIRED, step.at)
        done.holds_expired += 1
        return False
    if step.kind is Kind.POINTS_EXPIRE:
        done.points_expired += await expiry.settle(member, programme, step.at)
        return False
    changed = await tier_periods.judge_period(member, programme, step.at)
    done.tier_periods_ended += 1
    done.tier_changes += bool(changed)
    return bool(changed)
