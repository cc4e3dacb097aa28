"""A catch-up batch (PostgreSQL): many locked members taken through their due steps at once,
round by round — each round books the waiting members' new activity and reads all their
qualifying sums in one statement — and the results written at the end, a statement each, in
the order they were booked. The jobs' steps are batch_expiry's, batch_maturity's and
batch_tiers'; the state they share is batch_state's."""

from __future__ import annotations

from datetime import datetime

from db import tier_cache
from db.repositories import events as outbox_repo
from db.repositories.jobs import batch as jobs_batch
from db.repositories.jobs import ledger as jobs_ledger
from db.repositories.jobs import orders as jobs_orders
from db.repositories.jobs import tiers as jobs_tiers
from domain.lots import next_expiry_due
from services.catch_up.batch_expiry import _Expiry
from services.catch_up.batch_maturity import _Maturity
from services.catch_up.batch_state import _as_member, _Ask, _State
from services.catch_up.batch_tiers import _Tiers
from services.catch_up.steps import Kind
from services.clock import wall_now
from services.points import expiry
from services.tier_evaluation import measure as tier_measure


class _Batch(_Expiry, _Maturity, _Tiers):
    """catch_up for many locked members at once. Each member takes its steps in time order
    exactly as steps._next_step/_do do; what is pure (expiry, an order's ledger move, the tier
    rules) runs in Python, member by member. A step that must read qualifying sums (a period's
    end; the upgrade check after a completion, which reads the completion's own activity)
    waits: each round books the waiting members' new activity and reads all their sums in
    one statement each, then they go on. The ledger rows, lots, orders, members, tier history
    and events are written at the end, a statement each, in the order they were booked."""

    async def run(self, members: list[jobs_batch.DueMember]) -> None:
        self.tiers = await tier_cache.programme_tiers(self.programme.id)
        self.by_id = {t.id: t for t in self.tiers}
        ids = [m.id for m in members]
        ordering = [m.id for m in members if m.order_due]
        orders = await jobs_orders.lock_due_orders(ordering, self.now)
        with_lots = [
            m.id for m in members if m.order_due or expiry.expiry_is_due(_as_member(m), self.now)
        ]
        lots = await jobs_ledger.open_lots(with_lots)
        last = await jobs_tiers.last_event_ids(ids) if members else {}
        states = [
            _State(m, lots.get(m.id, []), orders.get(m.id, []), last.get(m.id, 0)) for m in members
        ]
        while states:
            asks = [ask for state in states if (ask := self._advance(state)) is not None]
            if not asks:
                break
            await self._book_activity()
            sums = await jobs_tiers.sums([w for ask in asks for w in ask.windows])
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
                since, after = tier_measure.retention_window(
                    member, self.policy, end=end, tz=self.tz
                )
                windows = [jobs_tiers.Window(member.id, since, end, after)]
                since, after = tier_measure.qualifying_window(member, self.policy, end, tz=self.tz)
                windows.append(jobs_tiers.Window(member.id, since, end, after))
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

    # ---- the batch's statements ------------------------------------------------------------

    async def _book_activity(self) -> None:
        """The completions' qualifying activity, before any sums read it."""
        if not self.activity:
            return
        ids = await jobs_tiers.add_activity(
            self.programme.id, self.booked_at, [a for _, a in self.activity]
        )
        for (state, _), event_id in zip(self.activity, ids, strict=True):
            state.last_event_id = event_id
        self.activity = []

    async def _write(self, members: list[jobs_batch.DueMember]) -> None:
        await jobs_ledger.add_ledger(self.programme.id, self.rows, list(self.new_lots.values()))
        await jobs_orders.complete_orders(self.completed)
        await jobs_batch.save_members(members)
        await jobs_tiers.add_changes(self.programme.id, self.changes)
        await outbox_repo.insert_many(self.programme.id, self.told, recorded_at=wall_now())
