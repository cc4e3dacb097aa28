"""A hypothesis state machine over the ledger: earn, complete, cancel, return, redeem, hold and
capture, reverse, check in, advance the clock and run the jobs — with RELIABILITY 8, 9 and 21
checked after every step.

Hypothesis drives rules synchronously, so the machine runs in a worker thread and hands each
coroutine to the test's event loop (where the database connections live) and waits for it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from db.models import LotMovement, Member, PointTransaction, Programme
from domain.errors import DomainError
from domain.points import NegativePolicy, Payment, PaymentMethod, PointsPolicy
from services.jobs import JobReport, run_programme
from services.points import activity, redemption
from services.points import orders as order_service
from services.points.orders import ReturnLine
from tests.fixtures.factories import create_member, create_programme
from tests.fixtures.points import advance, assert_ledger_consistent, line, place_order, staff

LOOP: asyncio.AbstractEventLoop | None = None


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    assert LOOP is not None
    return asyncio.run_coroutine_threadsafe(coro, LOOP).result(timeout=60)


def attempt(coro: Coroutine[Any, Any, Any]) -> Any:
    """Expected refusals (a DomainError) are part of the game; anything else fails the run."""
    try:
        return run(coro)
    except DomainError:
        return None


class LedgerMachine(RuleBasedStateMachine):
    orders = Bundle("orders")
    redemptions = Bundle("redemptions")

    @initialize(policy=st.sampled_from(list(NegativePolicy)))
    def start(self, policy: NegativePolicy) -> None:
        async def setup() -> tuple[Programme, Member]:
            programme = await create_programme()
            programme.points_policy = PointsPolicy(negative_policy=policy).to_json()
            await programme.save(update_fields=["points_policy"])
            return programme, await create_member(programme)

        self.policy = policy
        self.programme, self.member = run(setup())
        self.clawed_back = False

    def _staff(self) -> Any:
        return staff(self.programme)

    @rule(
        target=orders,
        price=st.integers(1, 50_000),
        quantity=st.integers(1, 4),
        discounted=st.booleans(),
        points_share=st.integers(0, 3),
    )
    def place(self, price: int, quantity: int, discounted: bool, points_share: int) -> str | None:
        total = price * quantity + 1_000  # line "b" below
        by_points = total * points_share // 10
        payments = [Payment(PaymentMethod.CARD, total - by_points)]
        if by_points:
            payments.append(Payment(PaymentMethod.POINTS, by_points))
        payments = [p for p in payments if p.amount > 0]
        order = attempt(
            place_order(
                self.programme,
                self.member,
                line("a", price, quantity, discounted=discounted),
                line("b", 1_000, 1),
                payments=payments,
            )
        )
        return order.order_ref if order else None

    @rule(order=orders)
    def complete(self, order: str | None) -> None:
        if order:
            attempt(order_service.complete(self._staff(), order, idempotency_key=uuid.uuid4().hex))

    @rule(order=orders)
    def cancel(self, order: str | None) -> None:
        if order:
            attempt(order_service.cancel(self._staff(), order, idempotency_key=uuid.uuid4().hex))

    @rule(order=orders, quantity=st.integers(1, 4), sku=st.sampled_from(["a", "b"]))
    def give_back(self, order: str | None, quantity: int, sku: str) -> None:
        if order:
            done = attempt(
                order_service.return_lines(
                    self._staff(),
                    order,
                    [ReturnLine(sku, quantity)],
                    idempotency_key=uuid.uuid4().hex,
                )
            )
            self.clawed_back |= done is not None

    @rule(target=redemptions, amount=st.integers(1, 400))
    def redeem(self, amount: int) -> int | None:
        return self._redeem(amount)

    def _redeem(self, amount: int) -> int | None:
        tx = attempt(
            redemption.redeem(
                self._staff(),
                member_external_id=self.member.external_id,
                amount=amount,
                reason="reward",
                reward="r",
                idempotency_key=uuid.uuid4().hex,
            )
        )
        return tx.id if tx else None

    @rule(target=redemptions)
    def redeem_everything(self) -> int | None:
        """Spending all that is spendable makes later clawbacks land in debt."""

        async def fresh() -> Member:
            return await Member.get(id=self.member.id)

        row = run(fresh())
        spendable = row.points_available - row.points_held
        return self._redeem(spendable) if spendable > 0 else None

    @rule(tx=redemptions)
    def reverse(self, tx: int | None) -> None:
        if tx:
            attempt(
                redemption.reverse_redemption(
                    self._staff(),
                    transaction_id=tx,
                    reason="undo",
                    idempotency_key=uuid.uuid4().hex,
                )
            )

    @rule(amount=st.integers(1, 300), part=st.integers(0, 100))
    def hold_and_capture(self, amount: int, part: int) -> None:
        hold = attempt(
            redemption.hold(
                self._staff(),
                member_external_id=self.member.external_id,
                amount=amount,
                order_ref=f"h-{uuid.uuid4().hex[:8]}",
                idempotency_key=uuid.uuid4().hex,
            )
        )
        if hold and part:
            attempt(
                redemption.capture(
                    self._staff(),
                    hold_id=hold.id,
                    amount=max(1, amount * part // 100),
                    idempotency_key=uuid.uuid4().hex,
                )
            )

    @rule(order=orders, amount=st.integers(1, 300), part=st.integers(0, 100))
    def pay_order_with_points(self, order: str | None, amount: int, part: int) -> None:
        """A checkout hold for a real order: its later cancel or return must give back what
        was captured, and a capture after that must be refused."""
        if not order:
            return
        hold = attempt(
            redemption.hold(
                self._staff(),
                member_external_id=self.member.external_id,
                amount=amount,
                order_ref=order,
                idempotency_key=uuid.uuid4().hex,
            )
        )
        if hold and part:
            attempt(
                redemption.capture(
                    self._staff(),
                    hold_id=hold.id,
                    amount=max(1, amount * part // 100),
                    idempotency_key=uuid.uuid4().hex,
                )
            )

    @rule()
    def check_in(self) -> None:
        attempt(
            activity.check_in(
                self._staff(),
                member_external_id=self.member.external_id,
                idempotency_key=uuid.uuid4().hex,
            )
        )

    def _jobs(self) -> JobReport:
        async def jobs() -> JobReport:
            report = JobReport()
            await run_programme(await Programme.get(id=self.programme.id), report)
            return report

        return run(jobs())

    @rule(step=st.sampled_from([(0, 600), (1, 0), (10, 0), (31, 0), (100, 0), (200, 0), (370, 0)]))
    def time_passes(self, step: tuple[int, int]) -> None:
        days, seconds = step
        run(advance(self.programme, days=days, seconds=seconds))
        self._jobs()
        # RELIABILITY 21: a second run right after changes nothing
        before = run(assert_ledger_consistent(self.member))
        again = self._jobs()
        after = run(assert_ledger_consistent(self.member))
        assert (again.points_expired, again.orders_matured) == (0, 0)
        assert (before.points_available, before.points_pending) == (
            after.points_available,
            after.points_pending,
        )

    @invariant()
    def balances_equal_the_ledger(self) -> None:
        if not hasattr(self, "member"):
            return
        row = run(assert_ledger_consistent(self.member))  # RELIABILITY 8
        # RELIABILITY 9: only a clawback under ALLOW_NEGATIVE can leave a debt, or leave less
        # than the holds reserved
        if row.points_available - row.points_held < 0:
            assert self.policy is NegativePolicy.ALLOW_NEGATIVE and self.clawed_back

    @invariant()
    def expiry_took_only_what_lots_held(self) -> None:
        if not hasattr(self, "member"):
            return

        async def check() -> None:
            for tx in await PointTransaction.filter(member_id=self.member.id, kind="EXPIRE"):
                taken = await LotMovement.filter(transaction_id=tx.id).values_list(
                    "amount", flat=True
                )
                assert -tx.amount == sum(taken) > 0

        run(check())


async def test_ledger_state_machine() -> None:
    global LOOP
    LOOP = asyncio.get_running_loop()
    LedgerMachine.TestCase.settings = settings(
        max_examples=40,
        stateful_step_count=30,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        database=None,
    )
    await asyncio.to_thread(LedgerMachine.TestCase().runTest)
