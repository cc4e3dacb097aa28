"""Transfers in: a partner credits our points for its units, once per its transfer id."""

from __future__ import annotations

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from db.connection import is_unique_violation
from db.models import PartnerTransfer
from db.repositories import partners as partner_repo
from db.repositories import programmes as programme_repo
from domain.abuse import Source
from domain.auth import Principal
from domain.errors import Collector, DomainError, ErrorCode
from domain.events import EventType
from domain.partners import (
    Direction,
    check_amount,
    check_daily,
    check_partner_id,
    local_day_bounds,
    points_for_units,
)
from domain.points import MAX_POINTS, TxKind
from services import abuse
from services.clock import now_of, zone_of
from services.partners.access import calling_partner, check_tier, linked_member, terms_of
from services.partners.transfers import record_event
from services.points import expiry, ledger
from services.points.ledger import Entry, actor_of

REFERENCE_TYPE = "PARTNER_IN"


class ReferenceReused(DomainError):
    code = ErrorCode.REFERENCE_REUSED


def _replay(found: PartnerTransfer, partner_member_id: str, partner_units: int) -> PartnerTransfer:
    """The same transfer id again: the stored transfer if it is the same credit, else refused."""
    if (found.partner_member_id, found.partner_units) != (partner_member_id, partner_units):
        raise ReferenceReused(
            "this partnerTransferId was used for another credit", field="partnerTransferId"
        )
    return found


async def credit(
    principal: Principal, *, partner_transfer_id: str, partner_member_id: str, partner_units: int
) -> PartnerTransfer:
    """Convert at the inbound rate and credit a TRANSFER_IN ledger row (its own lot, with the
    points policy's expiry) in one transaction with the transfer.

    Idempotent by (partner, partnerTransferId): the unique index makes a concurrent twin wait
    for the first to commit and then fail its insert, and it replays what the first stored.
    The day's limits are counted under the member's row lock (and the partner's, when the
    partner has a daily total), so parallel credits admit exactly what fits."""
    errors = Collector()
    check_partner_id(errors, partner_transfer_id, "partnerTransferId")
    check_partner_id(errors, partner_member_id, "partnerMemberId")
    if not 1 <= partner_units <= MAX_POINTS:
        errors.add("partnerUnits", f"must be 1-{MAX_POINTS}")
    errors.raise_if_any()
    partner = await calling_partner(principal)
    found = await partner_repo.inbound_by_partner_id(partner.id, partner_transfer_id)
    if found is not None:
        return _replay(found, partner_member_id, partner_units)
    try:
        async with in_transaction():
            transfer_id = await _credit(
                principal, partner_transfer_id, partner_member_id, partner_units
            )
    except IntegrityError as error:
        if not is_unique_violation(error):
            raise
        found = await partner_repo.inbound_by_partner_id(partner.id, partner_transfer_id)
        if found is None:
            raise
        return _replay(found, partner_member_id, partner_units)
    return await PartnerTransfer.get(id=transfer_id)


async def _credit(
    principal: Principal, partner_transfer_id: str, partner_member_id: str, partner_units: int
) -> int:
    partner = await calling_partner(principal)
    terms = terms_of(partner)
    inbound = terms.direction(Direction.IN)
    if inbound.daily_points_total is not None:
        partner = await calling_partner(principal, lock=True)  # before the member: see lock()
    _, member = await linked_member(partner, partner_member_id)
    await check_tier(partner, member)
    points = points_for_units(terms, partner_units)
    check_amount(inbound, points, "partnerUnits")
    programme = await programme_repo.get(principal.programme_id)
    now = now_of(programme)
    transfer = await partner_repo.create_transfer(
        programme_id=programme.id,
        partner_id=partner.id,
        member_id=member.id,
        direction=Direction.IN.value,
        status="COMPLETED",
        partner_member_id=partner_member_id,
        partner_transfer_id=partner_transfer_id,
        partner_units=partner_units,
        points=points,
        rate_source=inbound.rate.source,
        rate_target=inbound.rate.target,
        created_at=now,
        closed_at=now,
    )
    locked = await expiry.lock(programme, member.id, at=now)
    since, until = local_day_bounds(now.astimezone(zone_of(programme)).date(), zone_of(programme))
    check_daily(
        inbound,
        points,
        member_today=await partner_repo.points_moved(
            partner.id, "IN", since=since, until=until, member_id=member.id
        )
        - points,  # this transfer is already counted
        total_today=await partner_repo.points_moved(partner.id, "IN", since=since, until=until)
        - points,
        field="partnerUnits",
    )
    entry = Entry(
        REFERENCE_TYPE,
        f"{partner.code}/{partner_transfer_id}",
        f"transfer from {partner.name}"[:200],
        actor_of(principal),
        None,
        now,
    )
    # Over an abuse cap on partner credits, the excess waits on the member's flag (an admin
    # releases or refuses it); the transfer itself is done for the partner either way.
    credited = await abuse.capped(programme, locked, Source.PARTNER_IN, points, now)
    if credited:
        tx = await ledger.credit_available(locked, entry, credited, TxKind.TRANSFER_IN, programme)
        transfer.transaction_id = tx.id
        await partner_repo.save_transfer(transfer, "transaction_id")
    await record_event(transfer, partner, locked, EventType.PARTNER_TRANSFER_COMPLETED, now)
    return int(transfer.id)
