"""A hypothesis state machine over the ledger: earn, complete, cancel, return, redeem, hold and
capture, reverse, check in, advance the clock (with the jobs, or quietly: then spending and
returns meet points that fell due before the job ran) — with RELIABILITY 8, 9 and 21 checked
after every step, and every refusal checked to be the one the state before it called for.

Hypothesis drives rules synchronously, so the machine runs in a worker thread and hands each
coroutine to the test's event loop (where the database connections live) and waits for it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from db.models import (
    CheckIn,
    LotMovement,
    Member,
    Order,
    OrderLine,
    PointHold,
    PointLot,
    PointTransaction,
    Programme,
)
from domain.errors import DomainError, ErrorCode
from domain.points import ExpiryPolicy, NegativePolicy, Payment, PaymentMethod, PointsPolicy
from services.clock import now_of, zone_of
from services.jobs import JobReport, run_programme
from services.points import captures, holds, order_returns, queries, redemption
from services.points import orders as order_service
from services.points.activity import check_ins
from services.points.order_returns import ReturnLine
from tests.fixtures.factories import add_tiers, create_member, create_programme
from tests.fixtures.points import advance, assert_ledger_consistent, line, place_order, staff

LOOP: asyncio.AbstractEventLoop | None = None


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    assert LOOP is not None
    return asyncio.run_coroutine_threadsafe(coro, LOOP).result(timeout=60)


def attempt(coro: Coroutine[Any, Any, Any], refusal: ErrorCode | None) -> Any:
    """Run a call whose outcome the state before it decides: `refusal` is the code it must be
    refused with, or None if it must go through. A wrong refusal, or none where one was due,
    fails the run (a rule that wrongly refused everything would pass otherwise)."""
    try:
        result = run(coro)
    except DomainError as error:
        assert error.code is refusal, f"refused with {error.code}, expected {refusal}"
        return None
    assert refusal is None, f"went through, expected {refusal}"
    return result


def spend_refusal(amount: int, spendable: int, pending: int) -> ErrorCode | None:
    """Pending points, once they mature, first repay a negative balance (ALLOW_NEGATIVE):
    they can cover a spend only beyond it."""
    if amount <= spendable:
        return None
    if amount <= spendable + pending:
        return ErrorCode.POINTS_PENDING
    return ErrorCode.INSUFFICIENT_POINTS


class LedgerMachine(RuleBasedStateMachine):
    orders = Bundle("orders")
    redemptions = Bundle("redemptions")

    @initialize(
        policy=st.sampled_from(list(NegativePolicy)),
        expiry=st.sampled_from(list(ExpiryPolicy)),
        months=st.sampled_from([1, 12]),
    )
    def start(self, policy: NegativePolicy, expiry: ExpiryPolicy, months: int) -> None:
        async def setup() -> tuple[Programme, Member]:
            programme = await create_programme()
            # tiers above the entry one are held for a validity period the clock can outrun
            await add_tiers(programme, [("BRONZE", 0), ("SILVER", 10_000), ("GOLD", 50_000)])
            programme.points_policy = PointsPolicy(
                negative_policy=policy, expiry_policy=expiry, expiry_months=months
            ).to_json()
            await programme.save(update_fields=["points_policy"])
            return programme, await create_member(programme)

        self.policy, self.months = policy, months
        self.programme, self.member = run(setup())
        self.clawed_back = False

    def _staff(self) -> Any:
        return staff(self.programme)

    def _spend_refusal(self, amount: int) -> ErrorCode | None:
        """What a spend of `amount` must meet: the balance as a read shows it now (points
        past their expiry gone, job or no job)."""

        async def balances() -> queries.Balances:
            programme = await Programme.get(id=self.programme.id)
            return await queries.balances(await Member.get(id=self.member.id), programme)

        now = run(balances())
        return spend_refusal(amount, now.spendable, now.pending)

    def _order(self, order_ref: str) -> tuple[Order, dict[str, OrderLine]]:
        async def read() -> tuple[Order, dict[str, OrderLine]]:
            order = await Order.get(programme_id=self.programme.id, order_ref=order_ref)
            lines = await OrderLine.filter(order_id=order.id)
            return order, {x.sku: x for x in lines}

        return run(read())

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
            ),
            None,
        )
        return order.order_ref if order else None

    @rule(order=orders)
    def complete(self, order: str | None) -> None:
        if order:
            status = self._order(order)[0].status
            attempt(
                order_service.complete(self._staff(), order, idempotency_key=uuid.uuid4().hex),
                None if status == "PENDING" else ErrorCode.ORDER_CLOSED,
            )

    @rule(order=orders)
    def cancel(self, order: str | None) -> None:
        if order:
            status = self._order(order)[0].status
            attempt(
                order_service.cancel(self._staff(), order, idempotency_key=uuid.uuid4().hex),
                None if status == "PENDING" else ErrorCode.ORDER_CLOSED,
            )

    @rule(order=orders, quantity=st.integers(1, 4), sku=st.sampled_from(["a", "b"]))
    def give_back(self, order: str | None, quantity: int, sku: str) -> None:
        if order:
            before, lines = self._order(order)
            left = lines[sku].quantity - lines[sku].returned_quantity
            refusal = (
                ErrorCode.ORDER_CLOSED
                if before.status not in ("PENDING", "COMPLETED")
                else ErrorCode.RETURN_EXCEEDS_PURCHASE
                if quantity > left
                else None
            )
            done = attempt(
                order_returns.return_lines(
                    self._staff(),
                    order,
                    [ReturnLine(sku, quantity)],
                    idempotency_key=uuid.uuid4().hex,
                ),
                refusal,
            )
            self.clawed_back |= done is not None

    @rule(
        order=orders,
        quantity=st.integers(1, 4),
        sku=st.sampled_from(["a", "b"]),
        with_jobs=st.booleans(),
    )
    def give_back_after_its_points_expired(
        self, order: str | None, quantity: int, sku: str, with_jobs: bool
    ) -> None:
        """The order completes, its points outlive their expiry (booked by the job, or not yet),
        and then it comes back."""
        if not order:
            return
        self.complete(order)
        run(advance(self.programme, days=self.months * 31 + 1))
        if with_jobs:
            self._jobs()
        self.give_back(order, quantity, sku)

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
            ),
            self._spend_refusal(amount),
        )
        return tx.id if tx else None

    @rule(target=redemptions)
    def redeem_everything(self) -> int | None:
        """Spending all that is spendable makes later clawbacks land in debt."""

        async def spendable() -> int:
            programme = await Programme.get(id=self.programme.id)
            member = await Member.get(id=self.member.id)
            return (await queries.balances(member, programme)).spendable

        left = run(spendable())
        return self._redeem(left) if left > 0 else None

    @rule(tx=redemptions)
    def reverse(self, tx: int | None) -> None:
        if tx:

            async def reversed_already() -> bool:
                return await PointTransaction.exists(reverses_id=tx)

            attempt(
                redemption.reverse_redemption(
                    self._staff(),
                    transaction_id=tx,
                    reason="undo",
                    idempotency_key=uuid.uuid4().hex,
                ),
                ErrorCode.ALREADY_REVERSED if run(reversed_already()) else None,
            )

    def _hold(self, amount: int, order_ref: str) -> PointHold | None:
        return attempt(  # type: ignore[no-any-return]
            holds.hold(
                self._staff(),
                member_external_id=self.member.external_id,
                amount=amount,
                order_ref=order_ref,
                idempotency_key=uuid.uuid4().hex,
            ),
            self._spend_refusal(amount),
        )

    def _capture(self, hold: PointHold, amount: int) -> None:
        """A capture right after its hold: the hold reserved the points (a clawback since may
        have taken them under ALLOW_NEGATIVE), and its order may have closed."""

        async def state() -> tuple[str | None, int]:
            order = await Order.get_or_none(
                programme_id=self.programme.id, order_ref=hold.order_ref
            )
            member = await Member.get(id=self.member.id)
            return order.status if order else None, member.points_available - member.points_held

        status, others_leave = run(state())
        refusal = (
            ErrorCode.ORDER_CLOSED
            if status in ("CANCELLED", "RETURNED")
            else spend_refusal(amount, others_leave + hold.amount, 0)
        )
        attempt(
            captures.capture(
                self._staff(), hold_id=hold.id, amount=amount, idempotency_key=uuid.uuid4().hex
            ),
            refusal,
        )

    @rule(amount=st.integers(1, 300), part=st.integers(0, 100))
    def hold_and_capture(self, amount: int, part: int) -> None:
        hold = self._hold(amount, f"h-{uuid.uuid4().hex[:8]}")
        if hold and part:
            self._capture(hold, max(1, amount * part // 100))

    @rule(order=orders, amount=st.integers(1, 300), part=st.integers(0, 100))
    def pay_order_with_points(self, order: str | None, amount: int, part: int) -> None:
        """A checkout hold for a real order: its later cancel or return must give back what
        was captured, and a capture after that must be refused."""
        if not order:
            return
        hold = self._hold(amount, order)
        if hold and part:
            self._capture(hold, max(1, amount * part // 100))

    @rule()
    def check_in(self) -> None:
        async def checked_in_today() -> bool:
            programme = await Programme.get(id=self.programme.id)
            today = now_of(programme).astimezone(zone_of(programme)).date()
            return await CheckIn.exists(member_id=self.member.id, day=today)

        attempt(
            check_ins.check_in(
                self._staff(),
                member_external_id=self.member.external_id,
                idempotency_key=uuid.uuid4().hex,
            ),
            ErrorCode.ALREADY_CHECKED_IN if run(checked_in_today()) else None,
        )

    def _jobs(self) -> JobReport:
        async def jobs() -> JobReport:
            report = JobReport()
            await run_programme(await Programme.get(id=self.programme.id), report)
            return report

        return run(jobs())

    @rule(
        step=st.sampled_from(
            [(0, 600), (1, 0), (10, 0), (31, 0), (100, 0), (200, 0), (370, 0), (800, 0)]
        )
    )
    def time_passes_quietly(self, step: tuple[int, int]) -> None:
        """No job runs: what falls due meanwhile meets spending, holds and returns first."""
        days, seconds = step
        run(advance(self.programme, days=days, seconds=seconds))

    @rule(
        step=st.sampled_from(
            [(0, 600), (1, 0), (10, 0), (31, 0), (100, 0), (200, 0), (370, 0), (800, 0)]
        )
    )
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
    def no_point_was_spent_after_it_expired(self) -> None:
        """A redemption never draws on a lot past its expiry (checkout captures may: the hold
        reserved those points before they expired)."""
        if not hasattr(self, "member"):
            return

        async def check() -> None:
            spent = await PointTransaction.filter(
                member_id=self.member.id, kind="REDEEM", reference_type="REWARD"
            )
            for tx in spent:
                for movement in await LotMovement.filter(transaction_id=tx.id, amount__gt=0):
                    lot = await PointLot.get(id=movement.lot_id)
                    assert lot.expires_at is None or lot.expires_at > tx.created_at, tx.id

        run(check())

    @invariant()
    def returns_never_take_back_points_that_expired(self) -> None:
        """What returns took back of an order's points, and what of them had expired when the
        last return ran, together never exceed what the order made available. (Expiry after
        the returns is left out: a rolled-back redemption puts its points back in their lot
        with the lot's expiry, and they then expire, RELIABILITY 20, even when some went to
        repay the debt the return made and a later earn had repaid part of it already.)"""
        if not hasattr(self, "member"):
            return

        async def check() -> None:
            earned = await PointTransaction.filter(
                member_id=self.member.id,
                kind="EARN",
                bucket="AVAILABLE",
                reference_type="ORDER",
                amount__gt=0,
            )
            for tx in earned:
                returns = await PointTransaction.filter(
                    member_id=self.member.id,
                    kind="REVERSE",
                    bucket="AVAILABLE",
                    reference_type="ORDER",
                    reference=tx.reference,
                    amount__lt=0,
                ).values_list("id", "amount")
                lot = await PointLot.get_or_none(source_id=tx.id)
                if not returns or lot is None:
                    continue
                last = max(i for i, _ in returns)
                expired = sum(
                    await LotMovement.filter(
                        lot_id=lot.id, transaction__kind="EXPIRE", transaction_id__lt=last
                    ).values_list("amount", flat=True)
                )
                assert -sum(a for _, a in returns) + expired <= tx.amount, tx.reference

        run(check())

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


def _a_spend_past_a_debt_with_pending_points(state: LedgerMachine) -> None:
    # found by the machine: pending points would only repay the debt a return left, so a
    # spend of them is refused as insufficient, not as pending
    state.start(policy=NegativePolicy.ALLOW_NEGATIVE, expiry=ExpiryPolicy.LOTS, months=1)
    order = state.place(discounted=False, points_share=0, price=976, quantity=1)
    state.complete(order=order)
    state.redeem(amount=20)
    state.give_back_after_its_points_expired(order=order, quantity=1, sku="a", with_jobs=False)
    state.place(discounted=False, points_share=0, price=1, quantity=1)
    state.hold_and_capture(amount=1, part=0)
    state.balances_equal_the_ledger()


def _a_rolled_back_redemption_after_a_return_and_expiry(state: LedgerMachine) -> None:
    # found by the machine: the rolled-back points go back to their expired lot (and expire)
    # after the part that repays the return's debt
    state.start(policy=NegativePolicy.ALLOW_NEGATIVE, expiry=ExpiryPolicy.LOTS, months=1)
    order = state.place(discounted=False, points_share=0, price=6535, quantity=4)
    state.complete(order=order)
    spent = state.redeem(amount=400)
    state.give_back_after_its_points_expired(order=order, quantity=1, sku="a", with_jobs=False)
    state.place(discounted=False, points_share=0, price=1, quantity=1)
    state.time_passes_quietly(step=(1, 0))
    state.time_passes(step=(800, 0))
    state.reverse(tx=spent)
    state.check_in()
    state.returns_never_take_back_points_that_expired()
    state.balances_equal_the_ledger()
    state.expiry_took_only_what_lots_held()


@pytest.mark.parametrize(
    "steps",
    [_a_spend_past_a_debt_with_pending_points, _a_rolled_back_redemption_after_a_return_and_expiry],
)
async def test_sequences_the_machine_found(steps: Any) -> None:
    global LOOP
    LOOP = asyncio.get_running_loop()
    await asyncio.to_thread(lambda: steps(LedgerMachine()))
