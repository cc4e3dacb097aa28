"""Points expiry in a catch-up batch: a member's open lots, the expiry steps due (not past a
pending order that matured, under rolling expiry) and each step booked as expiry.settle books
it — a ledger row and an event dated when it fell due, the lots taken from, the next bound."""

from __future__ import annotations

from datetime import datetime

from db.repositories.jobs import batch as jobs_batch
from db.repositories.jobs import ledger as jobs_ledger
from domain.events import EventType, points_payload
from domain.lots import ExpiryStep, Lot, expiry_steps, lots_after, next_expiry_due, rolling_expiry
from domain.points import ExpiryPolicy
from services.catch_up.batch_state import _BatchBase, _State
from services.points.ledger import INSTANT


class _Expiry(_BatchBase):
    """The batch's POINTS_EXPIRE steps, on the state _BatchBase holds."""

    def _open(self, state: _State) -> list[Lot]:
        state.lots = [lot for lot in state.lots if lot.remaining > 0]  # as open_lots reads
        return state.lots

    def _rolling(self, member: jobs_batch.DueMember) -> datetime | None:
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
                jobs_ledger.LedgerRow(
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
            lots = lots_after(lots, step.takes)
            for take in step.takes:
                if take.lot_id in self.new_lots:
                    self.new_lots[take.lot_id].remaining -= take.amount
        state.lots = lots
        member.expiry_due_at = next_expiry_due(
            lots, policy=self.points.expiry_policy, rolling_expires_at=self._rolling(member)
        )
