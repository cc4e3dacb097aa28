"""A hypothesis state machine over two-phase transfers out (issue 17, point 4): random
interleavings of request, confirm, reject, the timeout (clock + run-jobs) and reversal keep
the balance equal to the ledger, the held points equal to what is pending, and every transfer
in exactly one state, reached only by the moves the state machine allows.

As in test_ledger_machine.py, hypothesis drives the rules from a worker thread and each
coroutine runs on the test's event loop."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from db.models import Member, PartnerTransfer, PointTransaction, Programme
from domain.auth import Principal, Role
from domain.errors import DomainError, ErrorCode
from domain.partners import DirectionTerms, PartnerTerms, Rate
from services.partners import admin as partner_admin
from services.partners import links, reversals, transfers
from services.points import admin as points_admin
from tests.fixtures.factories import admin_of, create_member, create_programme
from tests.fixtures.points import advance, assert_ledger_consistent, run_jobs, staff

LOOP: asyncio.AbstractEventLoop | None = None
TIMEOUT_MINUTES = 30


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    assert LOOP is not None
    return asyncio.run_coroutine_threadsafe(coro, LOOP).result(timeout=60)


def attempt(coro: Coroutine[Any, Any, Any], refusal: ErrorCode | None) -> Any:
    try:
        result = run(coro)
    except DomainError as error:
        assert error.code is refusal, f"refused with {error.code}, expected {refusal}"
        return None
    assert refusal is None, f"went through, expected {refusal}"
    return result


class TransferMachine(RuleBasedStateMachine):
    transfers = Bundle("transfers")

    @initialize()
    def start(self) -> None:
        async def setup() -> tuple[Programme, Member, Principal]:
            programme = await create_programme()
            member = await create_member(programme)
            admin = admin_of(programme)
            await points_admin.adjust(
                admin,
                member_external_id=member.external_id,
                amount=500,
                reason="funds",
                idempotency_key=uuid.uuid4().hex,
            )
            terms = PartnerTerms(
                outbound=DirectionTerms(Rate(1, 8), max_points=1_000),
                timeout_minutes=TIMEOUT_MINUTES,
            )
            partner = await partner_admin.create(
                admin, code="sky", name="Sky", terms=terms, idempotency_key=uuid.uuid4().hex
            )
            await links.link_by_member(
                staff(programme),
                partner_code="sky",
                partner_member_id="FF-1",
                member_external_id=member.external_id,
                share_balance=False,
                idempotency_key=uuid.uuid4().hex,
            )
            key = Principal(
                programme_id=programme.id, role=Role.PARTNER, key_id=-3, partner_id=partner.id
            )
            return programme, member, key

        self.programme, self.member, self.partner = run(setup())
        self.admin = admin_of(self.programme)
        self.status: dict[int, str] = {}
        self.spendable = 500

    @rule(target=transfers, points=st.integers(1, 300))
    def request(self, points: int) -> int | None:
        refusal = None if points <= self.spendable else ErrorCode.INSUFFICIENT_POINTS
        made = attempt(
            transfers.request(
                staff(self.programme),
                partner_code="sky",
                points=points,
                member_external_id=self.member.external_id,
                idempotency_key=uuid.uuid4().hex,
            ),
            refusal,
        )
        if made is None:
            return None
        self.status[made.id] = "PENDING"
        self.spendable -= points
        return int(made.id)

    def _points(self, transfer_id: int) -> int:
        async def read() -> int:
            return int((await PartnerTransfer.get(id=transfer_id)).points)

        return int(run(read()))

    @rule(transfer_id=transfers)
    def confirm(self, transfer_id: int | None) -> None:
        if transfer_id is None:
            return
        state = self.status[transfer_id]
        # closed (a completed one too: each confirm here sends another reference)
        refusal = None if state == "PENDING" else ErrorCode.TRANSFER_CLOSED
        done = attempt(
            transfers.confirm(
                self.partner,
                transfer_id=transfer_id,
                partner_reference=f"ref-{uuid.uuid4().hex[:6]}",
            ),
            refusal,
        )
        if done is not None:
            self.status[transfer_id] = "COMPLETED"

    @rule(transfer_id=transfers)
    def reject(self, transfer_id: int | None) -> None:
        if transfer_id is None:
            return
        state = self.status[transfer_id]
        done = attempt(
            transfers.reject(
                self.partner, transfer_id=transfer_id, reason=f"no {uuid.uuid4().hex[:4]}"
            ),
            None if state == "PENDING" else ErrorCode.TRANSFER_CLOSED,
        )
        if done is not None:
            self.status[transfer_id] = "FAILED"
            self.spendable += self._points(transfer_id)

    @rule(transfer_id=transfers)
    def reverse(self, transfer_id: int | None) -> None:
        if transfer_id is None:
            return
        state = self.status[transfer_id]
        refusal = {
            "COMPLETED": None,
            "REVERSED": ErrorCode.ALREADY_REVERSED,
        }.get(state, ErrorCode.TRANSFER_CLOSED)
        done = attempt(
            reversals.reverse(
                self.admin,
                transfer_id=transfer_id,
                reason="refund",
                idempotency_key=uuid.uuid4().hex,
            ),
            refusal,
        )
        if done is not None:
            self.status[transfer_id] = "REVERSED"
            self.spendable += self._points(transfer_id)

    @rule()
    def time_out(self) -> None:
        async def lapse() -> None:
            await advance(self.programme, seconds=TIMEOUT_MINUTES * 60 + 1)
            await run_jobs(await Programme.get(id=self.programme.id))

        run(lapse())
        for transfer_id, status in self.status.items():
            if status == "PENDING":
                self.status[transfer_id] = "FAILED"
                self.spendable += self._points(transfer_id)

    @invariant()
    def ledger_and_states_agree(self) -> None:
        if not hasattr(self, "member"):
            return

        async def check() -> None:
            member = await assert_ledger_consistent(self.member)
            rows = {t.id: t for t in await PartnerTransfer.filter(member_id=member.id)}
            assert {i: t.status for i, t in rows.items()} == self.status
            pending = sum(t.points for t in rows.values() if t.status == "PENDING")
            assert member.points_held == pending
            assert member.points_available - member.points_held == self.spendable
            outs = await PointTransaction.filter(member_id=member.id, kind="TRANSFER_OUT").count()
            backs = await PointTransaction.filter(member_id=member.id, kind="REVERSE").count()
            moved = [t for t in rows.values() if t.status in ("COMPLETED", "REVERSED")]
            assert outs == len(moved)
            assert backs == sum(1 for t in rows.values() if t.status == "REVERSED")

        run(check())


async def test_two_phase_transfer_state_machine() -> None:
    global LOOP
    LOOP = asyncio.get_running_loop()
    TransferMachine.TestCase.settings = settings(
        max_examples=25,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        database=None,
    )
    await asyncio.to_thread(TransferMachine.TestCase().runTest)
