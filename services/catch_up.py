"""The periodic work, member by member, in the order it fell due: orders whose return window
closed complete, checkout holds that ran out release, points expire and tier validity periods
are judged — each dated when it was due. Work on one member changes what is due after it (a
completion renews a rolling balance and can upgrade the tier; a period's judgement counts the
orders completed within it), so doing it in time order makes the outcome the same however
often the job runs: once a day, or once after the clock jumped two years.

Each member is one transaction under its row lock (and its inviter's, whom a completion can
reward), so a killed run resumes where it stopped and a second run finds nothing to do.

On PostgreSQL the members come in batches of BATCH, each batch one transaction: the batch's
rows are locked and read in one statement, with their due orders and open lots, and each
member takes the same steps in the same time order as here (_Batch) — expiry booked as
expiry.settle books it, an order completed as order_service._complete completes it (the EARN
pair, lot, balances, spend, order, event, qualifying activity and upgrade), tier periods
judged as judge_period judges them — the rules run in Python on the member's state, and what
must be read (qualifying sums) is read for all waiting members at once, round by round. The
results are written in a few statements (ledger rows, lots, lot movements, orders, members,
tier history, qualifying activity, events): exactly the rows the member-by-member path writes,
each member's in the same order. A member with a hold lapsing, or whose completion would
reward an inviter (a pending referral), and such an inviter in the batch, is caught up on its
own (catch_up below) after its batch commits, in id order as this path takes them. A killed
run leaves every batch done or untouched; the next run resumes after them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from functools import partial
from typing import Any, cast

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
from domain.auth import Principal, Role
from domain.challenges import FactKind
from domain.events import EventType, points_payload
from domain.lots import ExpiryStep, Lot, Take, expiry_steps, next_expiry_due, rolling_expiry
from domain.points import ExpiryPolicy, TxKind
from domain.tier_rules import after_activity, at_period_end, valid_until
from domain.tiers import TierView
from services import tier_evaluation
from services.challenges import progress as challenge_progress
from services.challenges.progress import Fact as ChallengeFact
from services.clock import now_of, wall_now, zone_of
from services.events import new_event_id
from services.points import expiry, ledger, ledger_rows
from services.points import orders as order_service
from services.points.holds import EXPIRED, close_hold
from services.points.ledger import INSTANT, Entry, actor_of
from services.points.orders import ORDER

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
    """One batch (PostgreSQL), in one transaction: every member's due work in time order, as
    catch_up does it, the reads and writes shared by the batch (_Batch). Members with a hold
    lapsing, or whose completion can reward an inviter (a referral waiting for their first
    completed order), and such inviters in the batch, are caught up one by one after it, in
    id order."""
    one_by_one: list[int] = []
    async with in_transaction():
        members = await jobs_repo.lock_due(programme.id, member_ids, now)
        rewarding = {m.inviter_id for m in members if m.order_due and m.inviter_id is not None}
        batched: list[jobs_repo.DueMember] = []
        for member in members:
            if (
                member.hold_due
                or (member.order_due and member.inviter_id is not None)
                or member.id in rewarding
            ):
                one_by_one.append(member.id)
            else:
                batched.append(member)
        batch = _Batch(programme, now, done)
        await batch.run(batched)
        await _count_for_challenges(programme, batch.completed, batch.actor)
    for member_id in sorted(batch.tier_moved):
        await tier_cache.forget_member_tier(programme.id, member_id)
    for member_id in one_by_one:
        await catch_up(programme, member_id, now, done)


def _after(lots: list[Lot], takes: list[Take]) -> list[Lot]:
    taken: dict[int, int] = {}
    for take in takes:
        taken[take.lot_id] = taken.get(take.lot_id, 0) + take.amount
    return [
        Lot(lot.id, lot.remaining - taken.get(lot.id, 0), lot.earned_at, lot.expires_at)
        for lot in lots
    ]


@dataclass
class _State:
    """A batch member on its way: its row, open lots (new ones under placeholder ids) and the
    orders still to mature."""

    row: jobs_repo.DueMember
    lots: list[Lot]
    orders: list[jobs_repo.DueOrder]
    last_event_id: int  # its latest qualifying event
    expired: int = 0


@dataclass(frozen=True)
class _Ask:
    """What a member waits on: the sums of its windows, then the step's outcome."""

    state: _State
    kind: Kind
    at: datetime
    windows: list[jobs_repo.Window]
    counted_from: datetime | None = None


_PLACEHOLDER = 1 << 62  # new lots' ids until written: above every real id, in order opened


class _Batch:
    """catch_up for many locked members at once. Each member takes its steps in time order
    exactly as _next_step/_do do; what is pure (expiry, an order's ledger move, the tier
    rules) runs in Python, member by member. A step that must read qualifying sums (a period's
    end; the upgrade check after a completion, which reads the completion's own activity)
    waits: each round books the waiting members' new activity and reads all their sums in
    one statement each, then they go on. The ledger rows, lots, orders, members, tier history
    and events are written at the end, a statement each, in the order they were booked."""

    def __init__(self, programme: Programme, now: datetime, done: Done) -> None:
        self.programme, self.now, self.done = programme, now, done
        self.points = ledger.policy_of(programme)
        self.policy = tier_evaluation.policy_of(programme)
        self.tz = zone_of(programme)
        self.booked_at = now_of(programme)
        self.actor = actor_of(Principal(programme_id=programme.id, role=Role.ADMIN, key_id=0))
        self.tiers: list[TierView] = []
        self.by_id: dict[int, TierView] = {}
        self.rows: list[jobs_repo.LedgerRow] = []
        self.new_lots: dict[int, jobs_repo.NewLot] = {}
        self.completed: list[tuple[int, datetime]] = []
        self.activity: list[tuple[_State, jobs_repo.Activity]] = []
        self.changes: list[jobs_repo.TierChangeRow] = []
        self.told: list[outbox_repo.NewEvent] = []
        self.tier_moved: set[int] = set()

    async def run(self, members: list[jobs_repo.DueMember]) -> None:
        self.tiers = await tier_cache.programme_tiers(self.programme.id)
        self.by_id = {t.id: t for t in self.tiers}
        ids = [m.id for m in members]
        ordering = [m.id for m in members if m.order_due]
        orders = await jobs_repo.lock_due_orders(ordering, self.now)
        with_lots = [
            m.id for m in members if m.order_due or expiry.expiry_is_due(_as_member(m), self.now)
        ]
        lots = await jobs_repo.open_lots(with_lots)
        last = await jobs_repo.last_event_ids(ids) if members else {}
        states = [
            _State(m, lots.get(m.id, []), orders.get(m.id, []), last.get(m.id, 0)) for m in members
        ]
        while states:
            asks = [ask for state in states if (ask := self._advance(state)) is not None]
            if not asks:
                break
            await self._book_activity()
            sums = await jobs_repo.sums([w for ask in asks for w in ask.windows])
            n = 0
            for ask in asks:
                self._answer(ask, sums[n : n + len(ask.windows)])
                n += len(ask.windows)
            states = [ask.state for ask in asks]
        await self._book_activity()  # no tiers: completions wait on nothing
        await self._write(members)

    # ---- one member's steps --------------------------------------------------------------

    def _advance(self, state: _State) -> _Ask | None:
        """Take the member's steps until one waits on sums (returned) or nothing is due."""
        last: tuple[datetime, Kind] | None = None
        while (step := self._next(state)) is not None:
            if step == last and step[1] is not Kind.ORDER_MATURES:
                raise RuntimeError(f"member {state.row.id}: {step[1].name} at {step[0]} again")
            last = step
            at, kind = step
            if kind is Kind.POINTS_EXPIRE:
                self._settle(state, at)
            elif kind is Kind.ORDER_MATURES:
                ask = self._mature(state)
                if ask is not None:
                    return ask
            else:
                self.done.tier_periods_ended += 1
                member = state.row
                if member.tier_id not in self.by_id:
                    member.tier_valid_until = None  # a tier no longer on the ladder
                    continue
                end = member.tier_valid_until
                assert end is not None
                since, after = tier_evaluation.retention_window(
                    member, self.policy, end=end, tz=self.tz
                )
                windows = [jobs_repo.Window(member.id, since, end, after)]
                since, after = tier_evaluation.qualifying_window(
                    member, self.policy, end, tz=self.tz
                )
                windows.append(jobs_repo.Window(member.id, since, end, after))
                return _Ask(state, Kind.PERIOD_ENDS, end, windows)
        if state.expired:
            self.done.members_expired += 1
            state.expired = 0
        return None

    def _next(self, state: _State) -> tuple[datetime, Kind] | None:
        """_next_step, on the member's state."""
        member = state.row
        due: list[tuple[datetime, Kind]] = []
        if state.orders:
            due.append((state.orders[0].matures_at, Kind.ORDER_MATURES))
        if member.expiry_due_at is not None and member.expiry_due_at <= self.now:
            steps = self._expiry_steps(state, self.now)
            if steps:
                due.append((steps[0].due_at, Kind.POINTS_EXPIRE))
            else:  # nothing takeable: narrow the bound, as settle does
                member.expiry_due_at = next_expiry_due(
                    self._open(state),
                    policy=self.points.expiry_policy,
                    rolling_expires_at=self._rolling(member),
                )
        if member.tier_valid_until is not None and member.tier_valid_until <= self.now:
            due.append((member.tier_valid_until, Kind.PERIOD_ENDS))
        return min(due, default=None)

    def _open(self, state: _State) -> list[Lot]:
        state.lots = [lot for lot in state.lots if lot.remaining > 0]  # as open_lots reads
        return state.lots

    def _rolling(self, member: jobs_repo.DueMember) -> datetime | None:
        if self.points.expiry_policy is not ExpiryPolicy.ROLLING_ACTIVITY:
            return None
        return rolling_expiry(member.last_earned_at, self.points.expiry_months, self.tz)

    def _expiry_steps(self, state: _State, until: datetime) -> list[ExpiryStep]:
        """expiry.due_expiry: not past a pending order that matured, under rolling expiry."""
        if self.points.expiry_policy is ExpiryPolicy.ROLLING_ACTIVITY and state.orders:
            matures = state.orders[0].matures_at
            if matures <= until:
                until = matures - INSTANT
        member = state.row
        return expiry_steps(
            self._open(state),
            until,
            policy=self.points.expiry_policy,
            rolling_expires_at=self._rolling(member),
            spendable=member.points_available - member.points_held,
        )

    def _settle(self, state: _State, until: datetime) -> None:
        """expiry.settle up to `until`: each step a ledger row dated when it fell due."""
        member = state.row
        if member.expiry_due_at is None or member.expiry_due_at > until:
            return
        lots = self._open(state)
        for step in self._expiry_steps(state, until):
            total = sum(t.amount for t in step.takes)
            member.points_available -= total
            state.expired += total
            self.done.points_expired += total
            reference = step.due_at.astimezone(self.tz).date().isoformat()
            self.rows.append(
                jobs_repo.LedgerRow(
                    member.id,
                    "EXPIRE",
                    "AVAILABLE",
                    -total,
                    member.points_available,
                    member.points_pending,
                    "EXPIRY",
                    reference,
                    "points expired",
                    "system:expiry",
                    step.due_at,
                    step.takes,
                )
            )
            payload = points_payload(
                external_id=member.external_id,
                points=-total,
                available_after=member.points_available,
                pending_after=member.points_pending,
                source="EXPIRY",
                reference=reference,
                reason="points expired",
            )
            self._tell(member.id, EventType.POINTS_EXPIRED, step.due_at, payload)
            lots = _after(lots, step.takes)
            for take in step.takes:
                if take.lot_id in self.new_lots:
                    self.new_lots[take.lot_id].remaining -= take.amount
        state.lots = lots
        member.expiry_due_at = next_expiry_due(
            lots, policy=self.points.expiry_policy, rolling_expires_at=self._rolling(member)
        )

    def _mature(self, state: _State) -> _Ask | None:
        """order_service.mature -> _complete: the move, the order, the activity; the upgrade
        check waits on the sums (None when there is no ladder)."""
        order = state.orders.pop(0)
        member = state.row
        at = order.matures_at
        self.done.orders_matured += 1
        left = order.points - order.points_reversed
        entry = Entry(ORDER, order.order_ref, "return window closed", self.actor, None, at)
        if left:
            move = ledger_rows.maturing(
                _as_member(member), entry, left, TxKind.EARN, self.programme
            )
            for row in (move.debit, move.credit):
                lot = None
                if row is move.credit and move.lot_amount > 0:
                    lot = _PLACEHOLDER + len(self.new_lots)
                    self.new_lots[lot] = jobs_repo.NewLot(
                        lot,
                        member.id,
                        move.lot_amount,
                        move.lot_amount,
                        row.created_at,
                        move.lot_expires_at,
                    )
                    state.lots.append(
                        Lot(lot, move.lot_amount, row.created_at, move.lot_expires_at)
                    )
                self.rows.append(
                    jobs_repo.LedgerRow(
                        member.id,
                        row.kind,
                        row.bucket,
                        row.amount,
                        row.available_after,
                        row.pending_after,
                        row.reference_type,
                        row.reference,
                        row.reason,
                        row.actor,
                        row.created_at,
                        [],
                        row.idempotency_key,
                        lot,
                    )
                )
            event = move.event
            self.told.append(
                outbox_repo.NewEvent(
                    event.event_id, member.id, event.type, event.occurred_at, event.payload
                )
            )
        self.completed.append((order.id, at))
        spend = order_service.qualifying_spend(_as_order(order), order.returned_amount)
        member.qualifying_spend += spend
        activity = tier_evaluation.order_activity(0, spend)
        self.activity.append(
            (
                state,
                jobs_repo.Activity(
                    member.id, at, activity["spend"], 1, activity["growth"], order.order_ref
                ),
            )
        )
        if not self.tiers:
            return None
        when = max(at, member.tier_since) if member.tier_since is not None else at
        since, after = tier_evaluation.qualifying_window(member, self.policy, when, tz=self.tz)
        return _Ask(
            state,
            Kind.ORDER_MATURES,
            when,
            [jobs_repo.Window(member.id, since, when + INSTANT, after)],
            counted_from=tier_evaluation.window_from(member, self.policy, when, self.tz),
        )

    def _answer(self, ask: _Ask, sums: list[dict[str, int]]) -> None:
        member = ask.state.row
        metric = self.policy.metric.value
        if ask.kind is Kind.ORDER_MATURES:  # tier_evaluation.record_activity's upgrade
            total = sums[0][metric]
            current = self.by_id.get(member.tier_id)  # type: ignore[arg-type]
            earned = after_activity(current, self.tiers, total)
            if earned is not None and (current is None or earned.rank > current.rank):
                self._change(ask, current, earned, tier_evaluation.UPGRADE, total, ask.counted_from)
            return
        current = self.by_id[member.tier_id]  # type: ignore[index]
        period_total, total = sums[0][metric], sums[1][metric]
        kept = at_period_end(current, self.tiers, period_total=period_total, qualifying_total=total)
        end = ask.at
        if kept.id == current.id:
            member.tier_period_start = end
            # periods are counted from the tier change (not chained), so month ends hold
            member.tier_valid_until = valid_until(
                self.policy, now=end, tier_since=member.tier_since or end, tz=self.tz
            )
            return
        self._change(
            ask,
            current,
            kept,
            tier_evaluation.PERIOD_ENDED,
            period_total,
            member.tier_period_start,
        )
        self.done.tier_changes += 1

    def _change(
        self,
        ask: _Ask,
        current: TierView | None,
        tier: TierView,
        reason: str,
        total: int,
        counted_from: datetime | None,
    ) -> None:
        """tier_evaluation.change_tier (a period's end moves the member as it does)."""
        member, at = ask.state.row, ask.at
        previous = member.tier_id
        member.tier_id = tier.id
        member.tier_since = member.tier_period_start = at
        member.tier_event_id = ask.state.last_event_id
        member.tier_valid_until = tier_evaluation.new_valid_until(
            tier, self.tiers, self.programme, at
        )
        self.changes.append(
            jobs_repo.TierChangeRow(
                member.id,
                previous,
                tier.id,
                reason,
                total,
                member.tier_event_id,
                counted_from,
                at,
            )
        )
        payload = tier_evaluation.changed_payload(
            member.external_id,
            current,
            tier,
            reason=reason,
            valid_until=member.tier_valid_until,
            total=total,
        )
        self._tell(member.id, EventType.TIER_CHANGED, at, payload)
        self.tier_moved.add(member.id)

    def _tell(self, member_id: int, type: EventType, at: datetime, payload: dict[str, Any]) -> None:
        self.told.append(outbox_repo.NewEvent(new_event_id(), member_id, str(type), at, payload))

    # ---- the batch's statements ------------------------------------------------------------

    async def _book_activity(self) -> None:
        """The completions' qualifying activity, before any sums read it."""
        if not self.activity:
            return
        ids = await jobs_repo.add_activity(
            self.programme.id, self.booked_at, [a for _, a in self.activity]
        )
        for (state, _), event_id in zip(self.activity, ids, strict=True):
            state.last_event_id = event_id
        self.activity = []

    async def _write(self, members: list[jobs_repo.DueMember]) -> None:
        await jobs_repo.add_ledger(self.programme.id, self.rows, list(self.new_lots.values()))
        await jobs_repo.complete_orders(self.completed)
        await jobs_repo.save_members(members)
        await jobs_repo.add_changes(self.programme.id, self.changes)
        await outbox_repo.insert_many(self.programme.id, self.told, recorded_at=wall_now())


def _as_member(member: jobs_repo.DueMember) -> Member:
    """A batch row where the ledger's pure helpers take a Member: they read and move only the
    balances, last_earned_at, expiry_due_at and external_id, which the row has."""
    return cast(Member, member)


def _as_order(order: jobs_repo.DueOrder) -> Order:
    """A due order where qualifying_spend takes an Order (it reads amount, paid_with_points)."""
    return cast(Order, order)


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


async def _count_for_challenges(
    programme: Programme, completed: list[tuple[int, datetime]], actor: str
) -> None:
    """The batch's completed orders, each counted for the challenges it moves, in the batch's
    transaction (its members' rows are locked by it, and written already): as _complete
    counts one. Nothing is read when no challenge of orders ran at any of their moments."""
    moments = [at for _, at in completed]
    if not moments or not await challenge_progress.orders_may_count(programme.id, moments):
        return
    for order_id, at in completed:
        order = await Order.get(id=order_id)
        member = await Member.get(id=order.member_id)
        spend = order_service.qualifying_spend(order, order.returned_amount)
        fact = ChallengeFact(FactKind.ORDER, order.order_ref, at, actor)
        await challenge_progress.count(
            programme,
            member,
            fact,
            lines=partial(order_repo.lines_of, order_id),
            spend=spend,
        )


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
    changed = await tier_evaluation.judge_period(member, programme, step.at)
    done.tier_periods_ended += 1
    done.tier_changes += bool(changed)
    return bool(changed)
