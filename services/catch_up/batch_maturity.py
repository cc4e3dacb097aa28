"""Order maturity in a catch-up batch: an order past its return window completed as
order_service._complete completes it — the EARN pair and the lot it opens (under a placeholder
id until written), the order, the qualifying activity — with the upgrade check left waiting on
the sums of its window."""

from __future__ import annotations

from typing import cast

from db.models import Order
from db.repositories import events as outbox_repo
from db.repositories.jobs import ledger as jobs_ledger
from db.repositories.jobs import orders as jobs_orders
from db.repositories.jobs import tiers as jobs_tiers
from domain.lots import Lot
from domain.points import TxKind
from services.catch_up.batch_state import _as_member, _Ask, _BatchBase, _State
from services.catch_up.steps import Kind
from services.points import ledger_rows
from services.points import orders as order_service
from services.points.ledger import INSTANT, Entry
from services.points.orders import ORDER
from services.tier_evaluation import measure as tier_measure
from services.tier_evaluation import qualifying_activity

_PLACEHOLDER = 1 << 62  # new lots' ids until written: above every real id, in order opened


class _Maturity(_BatchBase):
    """The batch's ORDER_MATURES steps, on the state _BatchBase holds."""

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
                    self.new_lots[lot] = jobs_ledger.NewLot(
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
                    jobs_ledger.LedgerRow(
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
        activity = qualifying_activity.order_activity(0, spend)
        self.activity.append(
            (
                state,
                jobs_tiers.Activity(
                    member.id, at, activity["spend"], 1, activity["growth"], order.order_ref
                ),
            )
        )
        if not self.tiers:
            return None
        when = max(at, member.tier_since) if member.tier_since is not None else at
        since, after = tier_measure.qualifying_window(member, self.policy, when, tz=self.tz)
        return _Ask(
            state,
            Kind.ORDER_MATURES,
            when,
            [jobs_tiers.Window(member.id, since, when + INSTANT, after)],
            counted_from=tier_measure.window_from(member, self.policy, when, self.tz),
        )


def _as_order(order: jobs_orders.DueOrder) -> Order:
    """A due order where qualifying_spend takes an Order (it reads amount, paid_with_points)."""
    return cast(Order, order)
