"""The periodic work, member by member, in the order it fell due: orders whose return window
closed complete, checkout holds that ran out release, points expire and tier validity periods
are judged — each dated when it was due. Work on one member changes what is due after it (a
completion renews a rolling balance and can upgrade the tier; a period's judgement counts the
orders completed within it), so doing it in time order makes the outcome the same however
often the job runs: once a day, or once after the clock jumped two years.

Each member is one transaction under its row lock (and its inviter's, whom a completion can
reward), so a killed run resumes where it stopped and a second run finds nothing to do.

On PostgreSQL the members come in batches of BATCH, each batch one transaction: the batch's
rows are locked and read in one statement, and members with no order maturing and no hold
lapsing (the bulk of a nightly run) are done together — their expiry booked step by step as
ledger.settle books it, their tier periods judged round by round (activity summed in one
statement per round, the domain judging each member in Python), and the results written in a
few statements (ledger rows, lot movements, lots, members, tier history, events): exactly the
rows the member-by-member path writes, each member's events in the same order. A member with
an order maturing or a hold lapsing is caught up on its own (catch_up below) after its batch
commits: a completion renews balances and moves tiers, so its steps interleave, in time
order. A killed run leaves every batch done or untouched; the next run resumes after them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum

from tortoise.transactions import in_transaction

from db import tier_cache
from db.connection import is_postgres
from db.models import Member, Order, PointHold, Programme
from db.repositories import events as outbox_repo
from db.repositories import holds as hold_repo
from db.repositories import jobs as jobs_repo
from db.repositories import orders as order_repo
from db.repositories import points as points_repo
from db.repositories import tier_events as event_repo
from domain.events import EventType, points_payload
from domain.lots import Lot, Take, expiry_steps, next_expiry_due, rolling_expiry
from domain.points import ExpiryPolicy
from domain.tier_rules import at_period_end, valid_until
from services import tier_evaluation
from services.clock import now_of, wall_now, zone_of
from services.events import new_event_id
from services.points import ledger
from services.points import orders as order_service
from services.points.redemption import EXPIRED, close_hold

BATCH = 500


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


async def run(programme: Programme, done: Done) -> None:
    """Everything due by the programme's now, for every member it is due for."""
    now = now_of(programme)
    if not is_postgres():
        async for member_id in _members_due(programme.id, now):
            await catch_up(programme, member_id, now, done)
        return
    after_id = 0
    while ids := await jobs_repo.members_due(programme.id, now, after_id=after_id, limit=BATCH):
        await run_batch(programme, ids, now, done)
        after_id = ids[-1]


async def run_batch(programme: Programme, member_ids: list[int], now: datetime, done: Done) -> None:
    """One batch (PostgreSQL): expiry and tier periods of members with nothing else due, in
    one transaction; then the members with an order maturing or a hold lapsing caught up one
    by one."""
    one_by_one: list[int] = []
    async with in_transaction():
        members = await jobs_repo.lock_due(programme.id, member_ids, now)
        expiring: list[jobs_repo.DueMember] = []
        periods: list[jobs_repo.DueMember] = []
        for member in members:
            if member.order_due or member.hold_due:
                one_by_one.append(member.id)
                continue
            # as ledger.expiry_is_due, from the row alone
            if member.expiry_due_at is not None and member.expiry_due_at <= now:
                expiring.append(member)
            if member.tier_valid_until is not None and member.tier_valid_until <= now:
                periods.append(member)
        told: list[tuple[datetime, Kind, int, outbox_repo.NewEvent]] = []
        await _expire(programme, expiring, now, done, told)
        changed = await _judge_periods(programme, periods, now, done, told)
        await jobs_repo.save_members(list({m.id: m for m in expiring + periods}.values()))
        # each member's events in the order the member-by-member path writes them
        told.sort(key=lambda t: (t[0], t[1], t[2]))
        await outbox_repo.insert_many(programme.id, [t[3] for t in told], recorded_at=wall_now())
    for member_id in changed:
        await tier_cache.forget_member_tier(programme.id, member_id)
    for member_id in one_by_one:
        await catch_up(programme, member_id, now, done)


async def _expire(
    programme: Programme,
    members: list[jobs_repo.DueMember],
    now: datetime,
    done: Done,
    told: list[tuple[datetime, Kind, int, outbox_repo.NewEvent]],
) -> None:
    """ledger.settle, step by step as catch_up takes it, for many locked members with no
    order maturing: each step dated when it fell due, the ledger rows written together."""
    if not members:
        return
    policy = ledger.policy_of(programme)
    tz = zone_of(programme)
    lots_of = await jobs_repo.open_lots([m.id for m in members])
    rows: list[jobs_repo.ExpiryRow] = []
    for member in members:
        lots = lots_of[member.id]
        rolling = (
            rolling_expiry(member.last_earned_at, policy.expiry_months, tz)
            if policy.expiry_policy is ExpiryPolicy.ROLLING_ACTIVITY
            else None
        )
        expired = 0
        while member.expiry_due_at is not None and member.expiry_due_at <= now:
            steps = expiry_steps(
                lots,
                now,
                policy=policy.expiry_policy,
                rolling_expires_at=rolling,
                spendable=member.points_available - member.points_held,
            )
            if steps:
                step = steps[0]
                total = sum(t.amount for t in step.takes)
                member.points_available -= total
                expired += total
                rows.append(
                    jobs_repo.ExpiryRow(
                        member.id,
                        -total,
                        member.points_available,
                        member.points_pending,
                        step.due_at.astimezone(tz).date().isoformat(),
                        step.due_at,
                        step.takes,
                    )
                )
                lots = _after(lots, step.takes)
            member.expiry_due_at = next_expiry_due(
                lots, policy=policy.expiry_policy, rolling_expires_at=rolling
            )
            if not steps:
                break  # nothing takeable (held): the bound narrowed, as settle leaves it
        done.points_expired += expired
        done.members_expired += expired > 0
    await jobs_repo.add_expiries(programme.id, rows)
    external_ids = {m.id: m.external_id for m in members}
    for n, row in enumerate(rows):
        event = outbox_repo.NewEvent(
            new_event_id(),
            row.member_id,
            str(EventType.POINTS_EXPIRED),
            row.at,
            points_payload(
                external_id=external_ids[row.member_id],
                points=row.amount,
                available_after=row.available_after,
                pending_after=row.pending_after,
                source="EXPIRY",
                reference=row.reference,
                reason="points expired",
            ),
        )
        told.append((row.at, Kind.POINTS_EXPIRE, n, event))


def _after(lots: list[Lot], takes: list[Take]) -> list[Lot]:
    taken: dict[int, int] = {}
    for take in takes:
        taken[take.lot_id] = taken.get(take.lot_id, 0) + take.amount
    return [
        Lot(lot.id, lot.remaining - taken.get(lot.id, 0), lot.earned_at, lot.expires_at)
        for lot in lots
    ]


async def _judge_periods(
    programme: Programme,
    members: list[jobs_repo.DueMember],
    now: datetime,
    done: Done,
    told: list[tuple[datetime, Kind, int, outbox_repo.NewEvent]],
) -> list[int]:
    """tier_evaluation.judge_period for many locked members with nothing else due, round by
    round while a period ended by `now`; returns the members whose tier moved."""
    tiers = await tier_cache.programme_tiers(programme.id)
    by_id = {t.id: t for t in tiers}
    policy = tier_evaluation.policy_of(programme)
    tz = zone_of(programme)
    metric = policy.metric.value
    last_events: dict[int, int] = {}
    changes: list[jobs_repo.TierChangeRow] = []
    pending = members
    while pending:
        judged = []
        for member in pending:
            done.tier_periods_ended += 1
            if member.tier_id in by_id:
                judged.append(member)
            else:
                member.tier_valid_until = None  # a tier no longer on the ladder
        windows = []
        for member in judged:
            end = member.tier_valid_until
            assert end is not None
            since, after = tier_evaluation.retention_window(member, policy, end=end, tz=tz)
            windows.append(jobs_repo.Window(member.id, since, end, after))
            since, after = tier_evaluation.qualifying_window(member, policy, end, tz=tz)
            windows.append(jobs_repo.Window(member.id, since, end, after))
        sums = await jobs_repo.sums(windows)
        outcomes = []
        for n, member in enumerate(judged):
            current = by_id[member.tier_id]  # type: ignore[index]
            period_total, total = sums[2 * n][metric], sums[2 * n + 1][metric]
            kept = at_period_end(current, tiers, period_total=period_total, qualifying_total=total)
            outcomes.append((member, current, kept, period_total))
        moving = [m.id for m, current, kept, _ in outcomes if kept.id != current.id]
        last_events.update(
            await jobs_repo.last_event_ids([i for i in moving if i not in last_events])
        )
        for member, current, kept, period_total in outcomes:
            end = member.tier_valid_until
            assert end is not None
            if kept.id == current.id:
                member.tier_period_start = end
                # periods are counted from the tier change (not chained), so month ends hold
                member.tier_valid_until = valid_until(
                    policy, now=end, tier_since=member.tier_since or end, tz=tz
                )
                continue
            counted_from = member.tier_period_start
            member.tier_id = kept.id
            member.tier_since = member.tier_period_start = end
            member.tier_event_id = last_events[member.id]
            member.tier_valid_until = tier_evaluation.new_valid_until(kept, tiers, programme, end)
            changes.append(
                jobs_repo.TierChangeRow(
                    member.id,
                    current.id,
                    kept.id,
                    tier_evaluation.PERIOD_ENDED,
                    period_total,
                    member.tier_event_id,
                    counted_from,
                    end,
                )
            )
            told.append(
                (
                    end,
                    Kind.PERIOD_ENDS,
                    len(told),
                    outbox_repo.NewEvent(
                        new_event_id(),
                        member.id,
                        str(EventType.TIER_CHANGED),
                        end,
                        tier_evaluation.changed_payload(
                            member.external_id,
                            current,
                            kept,
                            reason=tier_evaluation.PERIOD_ENDED,
                            valid_until=member.tier_valid_until,
                            total=period_total,
                        ),
                    ),
                )
            )
            done.tier_changes += 1
        pending = [
            m for m in judged if m.tier_valid_until is not None and m.tier_valid_until <= now
        ]
    await jobs_repo.add_changes(programme.id, changes)
    return sorted({c.member_id for c in changes})


async def _members_due(programme_id: int, now: datetime) -> AsyncIterator[int]:
    """Members with anything due, in id order: the union of four indexed lists, read a page
    at a time; a page goes only as far as the shortest full list reaches, so none is skipped."""
    sources = (
        order_repo.members_with_orders_due,
        hold_repo.members_with_holds_lapsed,
        points_repo.members_with_expiry_due,
        event_repo.due_for_period_end,
    )
    after_id = 0
    while True:
        pages = [
            await source(programme_id, now, after_id=after_id, limit=BATCH) for source in sources
        ]
        found = sorted({member_id for page in pages for member_id in page})
        if not found:
            return
        reach = min((page[-1] for page in pages if len(page) == BATCH), default=found[-1])
        for member_id in found:
            if member_id > reach:
                break
            yield member_id
        after_id = reach


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
    if ledger.expiry_is_due(member, now):
        _, steps = await ledger.due_expiry(member, programme, now)
        if steps:
            due.append(Step(steps[0][0], Kind.POINTS_EXPIRE))
        else:
            await ledger.settle(member, programme, now)  # nothing takeable: narrow the bound
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
        done.points_expired += await ledger.settle(member, programme, step.at)
        return False
    changed = await tier_evaluation.judge_period(member, programme, step.at)
    done.tier_periods_ended += 1
    done.tier_changes += bool(changed)
    return bool(changed)
