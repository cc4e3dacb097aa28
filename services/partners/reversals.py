"""Admin: undo a completed transfer out, within a window, by a new ledger row."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from db.models import PartnerTransfer, PointTransaction
from db.repositories import partners as partner_repo
from domain.auth import Principal
from domain.errors import Collector, DomainError, ErrorCode
from domain.events import EventType
from domain.idempotency import check_key
from domain.points import TxKind
from services.idempotency import run_once
from services.partners.transfers import REFERENCE_TYPE, TransferClosed, locked, record_event
from services.points import ledger
from services.points.ledger import Entry, actor_of
from services.points.spending import check_reason

REVERSAL_WINDOW = timedelta(days=30)


class AlreadyReversed(DomainError):
    code = ErrorCode.ALREADY_REVERSED


async def reverse(
    principal: Principal, *, transfer_id: int, reason: str, idempotency_key: str
) -> PartnerTransfer:
    """Admin: undo a completed transfer out within the window, by a new ledger row that gives
    the points back into the lots they came from (with their expiry). Never an edit of a row."""
    errors = Collector()
    check_key(errors, idempotency_key)
    check_reason(errors, reason)
    errors.raise_if_any()

    async def act() -> dict[str, Any]:
        state = await locked(principal.programme_id, transfer_id, lambda t: True)
        transfer = state.transfer
        if transfer.status == "REVERSED":
            raise AlreadyReversed("this transfer was reversed already", field="id")
        if transfer.status != "COMPLETED" or transfer.transaction_id is None:
            raise TransferClosed("only a completed transfer can be reversed", field="id")
        if transfer.closed_at is None or state.now - transfer.closed_at > REVERSAL_WINDOW:
            raise TransferClosed(
                f"transfers can be reversed within {REVERSAL_WINDOW.days} days", field="id"
            )
        original = await PointTransaction.get(id=transfer.transaction_id)
        entry = Entry(
            REFERENCE_TYPE,
            f"{state.partner.code}/{transfer.id}",
            reason.strip(),
            actor_of(principal),
            idempotency_key,
            state.now,
        )
        await ledger.restore(state.member, entry, original, TxKind.REVERSE)
        transfer.status, transfer.reason, transfer.reversed_at = (
            "REVERSED",
            reason.strip(),
            state.now,
        )
        await partner_repo.save_transfer(transfer, "status", "reason", "reversed_at")
        await record_event(
            transfer, state.partner, state.member, EventType.PARTNER_TRANSFER_REVERSED, state.now
        )
        return {"transferId": transfer.id}

    payload = {"id": transfer_id, "reason": reason}
    result = await run_once(
        principal,
        key=idempotency_key,
        operation="reversePartnerTransfer",
        payload=payload,
        action=act,
    )
    return await PartnerTransfer.get(id=int(result["transferId"]))
