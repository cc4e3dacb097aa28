"""Spending points on a reward (`redeem`), and undoing such a spend (`reverse_redemption`):
the points return exactly once, into their lots. A spend on PostgreSQL through the API takes
the optimistic way of services.points.spending, else the member's row lock."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from db.models import Member, PointTransaction, Programme
from db.repositories import points as points_repo
from db.repositories import programmes as programme_repo
from db.repositories import reward_redemptions as reward_redemption_repo
from db.repositories import spending as spend_repo
from db.repositories.spending import Seen
from domain.auth import Principal
from domain.errors import Collector, DomainError, ErrorCode, NotFound
from domain.idempotency import check_key
from domain.members import check_external_id
from domain.points import TxKind
from domain.text import is_clean
from services.audit import recording as audit
from services.clock import now_of
from services.idempotency import run_once
from services.points import expiry, ledger_rows
from services.points.ledger import Entry, actor_of, debit_available, require_spendable, restore
from services.points.spending import (
    _locked_member,
    _member_read,
    _unlocked,
    _Written,
    check_points,
    check_reason,
)


class NotEligible(DomainError):
    code = ErrorCode.NOT_ELIGIBLE


class AlreadyReversed(DomainError):
    code = ErrorCode.ALREADY_REVERSED


async def redeem(
    principal: Principal,
    *,
    member_external_id: str | None,
    amount: int,
    reason: str,
    reward: str | None,
    idempotency_key: str,
) -> PointTransaction:
    """Spend points on a reward, soonest-expiring lots first. Under the member's row lock, so
    fifty racing redemptions of a balance that covers ten leave exactly ten standing."""
    tx, _ = await redeem_with_member(
        principal,
        member_external_id=member_external_id,
        amount=amount,
        reason=reason,
        reward=reward,
        idempotency_key=idempotency_key,
    )
    return tx


async def redeem_with_member(
    principal: Principal,
    *,
    member_external_id: str | None,
    amount: int,
    reason: str,
    reward: str | None,
    idempotency_key: str,
) -> tuple[PointTransaction, Member | None]:
    """`redeem`, and the member as it left it (None on a replay: read it then). On
    PostgreSQL through the API in two statements (`_unlocked`): the read, then the key, the
    ledger row, the lots and their movements, the balance, the event and the audit row."""
    errors = Collector()
    check_key(errors, idempotency_key)
    check_points(errors, amount)
    check_reason(errors, reason)
    if reward is not None and not (1 <= len(reward) <= 128 and is_clean(reward)):
        errors.add("reward", "must be 1-128 characters, no control characters")
    if member_external_id is not None:
        check_external_id(errors, member_external_id)
    errors.raise_if_any()

    payload = {"member": member_external_id, "amount": amount, "reason": reason, "reward": reward}
    audited = audit.inline()

    def entry_at(at: datetime) -> Entry:
        return Entry(
            "REWARD", reward or "", reason.strip(), actor_of(principal), idempotency_key, at
        )

    async def replay(result: dict[str, Any]) -> tuple[PointTransaction, Member | None]:
        return await PointTransaction.get(id=int(result["transactionId"])), None

    async def write(
        member: Member, seen: Seen, programme: Programme, claim: list[Any], _: Any
    ) -> tuple[PointTransaction, Member | None] | None:
        assert seen.version is not None and seen.new_id is not None
        require_spendable(member, amount)
        row, event, takes = ledger_rows.available_debit(
            member, entry_at(now_of(programme)), amount, TxKind.REDEEM, seen.lots
        )
        tx = spend_repo.transaction_of(member, seen.new_id, row)
        before = (member.points_available, member.event_seq)
        member.points_available = row.available_after
        if event is not None:
            member.event_seq += 1
        sequence = await spend_repo.debit_unless_changed(
            member,
            version=seen.version,
            transaction_id=seen.new_id,
            claim=claim,
            row=row,
            event=event,
            takes=takes,
            audit=audited.row((tx, member)) if audited else None,
        )
        if sequence is None:
            member.points_available, member.event_seq = before
            return None
        if audited:
            audited.wrote()
        return tx, member

    done = await _unlocked(
        principal,
        idempotency_key=idempotency_key,
        operation="redeemPoints",
        payload=payload,
        read=_member_read(principal, member_external_id, writes="point_transactions", lots=True),
        write=write,
        replay=replay,
    )
    if done is not None:
        return done

    written: _Written[PointTransaction] = _Written()

    async def act() -> dict[str, Any]:
        member, programme = await _locked_member(principal, member_external_id)
        require_spendable(member, amount)
        tx = await debit_available(member, entry_at(now_of(programme)), amount, TxKind.REDEEM)
        written.value = (tx, member)
        if audited:  # in this transaction, with the spend
            await audit.write_inline(audited, written.value)
        return {"transactionId": tx.id}

    result = await run_once(
        principal, key=idempotency_key, operation="redeemPoints", payload=payload, action=act
    )
    return written.kept(int(result["transactionId"]), audited) or await replay(result)


async def reverse_redemption(
    principal: Principal, *, transaction_id: int, reason: str, idempotency_key: str
) -> PointTransaction:
    """Undo a redemption: the points return exactly once, into their lots, original expiry kept."""
    errors = Collector()
    check_key(errors, idempotency_key)
    check_reason(errors, reason)
    errors.raise_if_any()

    async def act() -> dict[str, Any]:
        original = await points_repo.get_transaction(principal.programme_id, transaction_id)
        if original is None or original.kind != TxKind.REDEEM.value:
            raise NotFound("no redemption with this id", field="transactionId")
        if original.reference_type == "COUPON":
            # The coupon it bought would stay in the wallet: points back and the coupon kept.
            raise NotEligible(
                f"this redemption bought coupon {original.reference}; it cannot be reversed",
                field="transactionId",
            )
        if original.reference_type == "REWARD" and await reward_redemption_repo.pays_a_redemption(
            original.programme_id, original.id, original.reference
        ):
            # Its cancel gives the points and the stock back, once: a reversal here would
            # leave the reward bought and let that cancel give the points back again.
            raise NotEligible(
                "this redemption paid for a reward: cancel the reward redemption instead",
                field="transactionId",
            )
        programme = await programme_repo.get(principal.programme_id)
        member = await expiry.lock(programme, original.member_id)
        if await points_repo.reversal_of(original.id) is not None:
            raise AlreadyReversed("this redemption was reversed already", field="transactionId")
        entry = Entry(
            original.reference_type,
            original.reference,
            reason.strip(),
            actor_of(principal),
            idempotency_key,
            now_of(programme),
        )
        tx = await restore(member, entry, original, TxKind.REVERSE)
        return {"transactionId": tx.id}

    payload = {"transactionId": transaction_id, "reason": reason}
    result = await run_once(
        principal, key=idempotency_key, operation="reverseRedemption", payload=payload, action=act
    )
    return await PointTransaction.get(id=int(result["transactionId"]))
