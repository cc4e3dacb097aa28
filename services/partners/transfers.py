"""Transfers out, two-phase: the member's points are held and a PENDING transfer is made; the
partner confirms (COMPLETED: a TRANSFER_OUT row spends the held points) or rejects (FAILED:
the hold is released, the points keep their lots and expiry); run-jobs fails what is still
pending past the partner's timeout; an admin may reverse a completed one by a new row.

Exactly one outcome: every path that closes a transfer takes the member's row lock and then
the transfer's, and acts only on a transfer it finds PENDING under them. A confirm racing a
reject or the timeout queues behind it and then finds the transfer closed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from db.models import Member, Partner, PartnerTransfer, Programme
from db.repositories import partners as partner_repo
from db.repositories import points as points_repo
from db.repositories import programmes as programme_repo
from domain.auth import Principal, Role
from domain.errors import Collector, DomainError, ErrorCode, NotFound
from domain.events import EventType, node_id, partner_transfer_payload
from domain.idempotency import check_key
from domain.members import check_external_id
from domain.partners import (
    Direction,
    TransferStatus,
    check_amount,
    check_code,
    check_daily,
    check_partner_id,
    local_day_bounds,
    units_for_points,
)
from domain.points import TxKind
from services import events as event_service
from services import members as member_service
from services.clock import now_of, zone_of
from services.idempotency import run_once
from services.partners.access import (
    NotLinked,
    calling_partner,
    check_tier,
    require_active,
    terms_of,
)
from services.partners.admin import by_code
from services.points import expiry, ledger
from services.points.ledger import Entry, actor_of, require_spendable
from services.points.spending import check_points, check_reason

REFERENCE_TYPE = "PARTNER_OUT"
TIMED_OUT = "timed out: the partner did not answer in time"


class TransferClosed(DomainError):
    code = ErrorCode.TRANSFER_CLOSED


def global_id(transfer_id: int) -> str:
    """The transfer's global id, as the API gives it out (relay: base64 "PartnerTransfer:<id>")."""
    return node_id("PartnerTransfer", transfer_id)


async def record_event(
    transfer: PartnerTransfer, partner: Partner, member: Member, type: EventType, at: datetime
) -> None:
    await event_service.record(
        transfer.programme_id,
        type,
        partner_transfer_payload(
            transfer_id=global_id(transfer.id),
            partner=partner.code,
            direction=transfer.direction,
            status=transfer.status,
            external_id=member.external_id,
            partner_member_id=transfer.partner_member_id,
            partner_transfer_id=transfer.partner_transfer_id,
            partner_reference=transfer.partner_reference,
            partner_units=transfer.partner_units,
            points=transfer.points,
            rate=(transfer.rate_source, transfer.rate_target),
            reason=transfer.reason,
            expires_at=transfer.expires_at if transfer.status == "PENDING" else None,
        ),
        occurred_at=at,
        member_id=member.id,
    )


# ---- request ------------------------------------------------------------------------------


async def request(
    principal: Principal,
    *,
    partner_code: str,
    points: int,
    member_external_id: str | None,
    idempotency_key: str,
) -> PartnerTransfer:
    """Hold `points` of the member's for the partner and open a PENDING transfer."""
    errors = Collector()
    check_key(errors, idempotency_key)
    check_code(errors, partner_code, "partnerCode")
    check_points(errors, points, field="points")
    if member_external_id is not None:
        check_external_id(errors, member_external_id)
    errors.raise_if_any()

    async def act() -> dict[str, Any]:
        partner = require_active(await by_code(principal, partner_code))
        outbound = terms_of(partner).direction(Direction.OUT)
        if outbound.daily_points_total is not None:
            # The partner's row before the member's, as on every path (daily totals).
            await partner_repo.lock(principal.programme_id, partner.id)
        found = await member_service.target(principal, member_external_id)
        programme = await programme_repo.get(principal.programme_id)
        now = now_of(programme)
        member = await expiry.lock(programme, found.id, at=now)
        link = await partner_repo.active_link_of_member(partner.id, member.id)
        if link is None:
            raise NotLinked("the member has no account linked to this partner", field="partnerCode")
        await check_tier(partner, member)
        check_amount(outbound, points, "points")
        since, until = local_day_bounds(
            now.astimezone(zone_of(programme)).date(), zone_of(programme)
        )
        check_daily(
            outbound,
            points,
            member_today=await partner_repo.points_moved(
                partner.id, "OUT", since=since, until=until, member_id=member.id
            ),
            total_today=await partner_repo.points_moved(
                partner.id, "OUT", since=since, until=until
            ),
            field="points",
        )
        require_spendable(member, points, field="points")
        member.points_held += points
        await points_repo.save_balances(member)
        transfer = await partner_repo.create_transfer(
            programme_id=programme.id,
            partner_id=partner.id,
            member_id=member.id,
            direction=Direction.OUT.value,
            status=TransferStatus.PENDING.value,
            partner_member_id=link.partner_member_id,
            partner_units=units_for_points(terms_of(partner), points),
            points=points,
            rate_source=outbound.rate.source,
            rate_target=outbound.rate.target,
            created_at=now,
            expires_at=now + timedelta(minutes=terms_of(partner).timeout_minutes),
        )
        await record_event(transfer, partner, member, EventType.PARTNER_TRANSFER_REQUESTED, now)
        return {"transferId": transfer.id}

    payload = {"partner": partner_code, "points": points, "member": member_external_id}
    result = await run_once(
        principal, key=idempotency_key, operation="transferToPartner", payload=payload, action=act
    )
    return await PartnerTransfer.get(id=int(result["transferId"]))


# ---- closing: confirm, reject, time out ------------------------------------------------------


@dataclass
class Locked:
    transfer: PartnerTransfer
    member: Member
    programme: Programme
    partner: Partner
    now: datetime


async def locked(
    programme_id: int, transfer_id: int, visible: Callable[[PartnerTransfer], bool]
) -> Locked:
    """The member's row lock, then the transfer's (the order every closing path uses)."""
    found = await partner_repo.get_transfer(programme_id, transfer_id)
    if found is None or not visible(found) or found.direction != Direction.OUT.value:
        raise NotFound("no transfer out with this id", field="id")
    programme = await programme_repo.get(programme_id)
    now = now_of(programme)
    member = await expiry.lock(programme, found.member_id, at=now)
    transfer = await partner_repo.lock_transfer(programme_id, transfer_id)
    assert transfer is not None
    partner = await Partner.get(id=transfer.partner_id)
    return Locked(transfer, member, programme, partner, now)


async def _release(state: Locked, status: TransferStatus, reason: str) -> None:
    transfer, member = state.transfer, state.member
    member.points_held -= transfer.points
    await points_repo.save_balances(member)
    transfer.status, transfer.reason, transfer.closed_at = status.value, reason, state.now
    await partner_repo.save_transfer(transfer, "status", "reason", "closed_at")
    await record_event(
        transfer, state.partner, member, EventType.PARTNER_TRANSFER_FAILED, state.now
    )


async def _in_transaction(work: Callable[[], Awaitable[PartnerTransfer]]) -> PartnerTransfer:
    async with in_transaction():
        return await work()


def _own(principal: Principal) -> Callable[[PartnerTransfer], bool]:
    return lambda t: principal.role is not Role.PARTNER or t.partner_id == principal.partner_id


async def confirm(
    principal: Principal, *, transfer_id: int, partner_reference: str
) -> PartnerTransfer:
    """The partner credited its side: spend the held points. Confirming again with the same
    reference answers the same; anything else on a closed transfer is TRANSFER_CLOSED."""
    errors = Collector()
    check_partner_id(errors, partner_reference, "partnerReference")
    errors.raise_if_any()
    await calling_partner(principal)
    timed_out = False

    async def work() -> PartnerTransfer:
        nonlocal timed_out
        state = await locked(principal.programme_id, transfer_id, _own(principal))
        transfer = state.transfer
        if transfer.status == "COMPLETED" and transfer.partner_reference == partner_reference:
            return transfer
        if transfer.status != "PENDING":
            raise TransferClosed(f"this transfer is {transfer.status.lower()}", field="id")
        if transfer.expires_at is not None and transfer.expires_at <= state.now:
            await _release(state, TransferStatus.FAILED, TIMED_OUT)
            timed_out = True
            return transfer
        member = state.member
        member.points_held -= transfer.points
        entry = Entry(
            REFERENCE_TYPE,
            f"{state.partner.code}/{transfer.id}",
            f"transfer to {state.partner.name}"[:200],
            actor_of(principal),
            None,
            state.now,
        )
        tx = await ledger.debit_available(member, entry, transfer.points, TxKind.TRANSFER_OUT)
        transfer.status, transfer.closed_at = "COMPLETED", state.now
        transfer.partner_reference, transfer.transaction_id = partner_reference, tx.id
        await partner_repo.save_transfer(
            transfer, "status", "closed_at", "partner_reference", "transaction_id"
        )
        await record_event(
            transfer, state.partner, member, EventType.PARTNER_TRANSFER_COMPLETED, state.now
        )
        return transfer

    transfer = await _in_transaction(work)
    if timed_out:  # the failure is committed; the confirm is refused
        raise TransferClosed("this transfer timed out before it was confirmed", field="id")
    return transfer


async def reject(principal: Principal, *, transfer_id: int, reason: str) -> PartnerTransfer:
    """The partner could not credit its side: release the held points."""
    errors = Collector()
    check_reason(errors, reason)
    errors.raise_if_any()
    await calling_partner(principal)

    async def work() -> PartnerTransfer:
        state = await locked(principal.programme_id, transfer_id, _own(principal))
        transfer = state.transfer
        if transfer.status == "FAILED" and transfer.reason == reason.strip():
            return transfer
        if transfer.status != "PENDING":
            raise TransferClosed(f"this transfer is {transfer.status.lower()}", field="id")
        await _release(state, TransferStatus.FAILED, reason.strip())
        return transfer

    return await _in_transaction(work)


async def fail_lapsed(programme: Programme, *, limit: int = 500) -> int:
    """run-jobs: fail the transfers still pending past their partner's timeout."""
    failed = 0
    for transfer_id in await partner_repo.pending_lapsed(
        programme.id, now_of(programme), limit=limit
    ):

        async def work(transfer_id: int = transfer_id) -> bool:
            state = await locked(programme.id, transfer_id, lambda t: True)
            transfer = state.transfer
            if (
                transfer.status != "PENDING"
                or transfer.expires_at is None
                or transfer.expires_at > state.now
            ):
                return False  # closed meanwhile
            await _release(state, TransferStatus.FAILED, TIMED_OUT)
            return True

        async with in_transaction():
            failed += await work()
    return failed
