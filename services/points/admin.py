"""Admin corrections: adjustments need a reason and record who made them; grants go to many."""

from __future__ import annotations

from typing import Any

from db.models import Member, PointTransaction
from db.repositories import members as member_repo
from db.repositories import programmes as programme_repo
from domain.auth import Principal
from domain.errors import Collector, NotFound
from domain.idempotency import check_key
from domain.members import check_external_id, check_external_id_list
from domain.points import MAX_POINTS, TxKind
from services import members as member_service
from services.clock import now_of
from services.idempotency import run_once
from services.points import expiry
from services.points.ledger import (
    Entry,
    actor_of,
    credit_available,
    debit_available,
    require_spendable,
)
from services.points.spending import check_points, check_reason

GRANT_MAX = 1_000


async def adjust(
    principal: Principal, *, member_external_id: str, amount: int, reason: str, idempotency_key: str
) -> PointTransaction:
    """A signed correction. Taking points away never goes below what the member can spend."""
    errors = Collector()
    check_key(errors, idempotency_key)
    check_external_id(errors, member_external_id)
    check_reason(errors, reason)
    if amount == 0 or not -MAX_POINTS <= amount <= MAX_POINTS:
        errors.add("amount", f"must be non-zero, at most {MAX_POINTS} either way")
    errors.raise_if_any()

    async def act() -> dict[str, Any]:
        found = await member_repo.get_by_external_id(principal.programme_id, member_external_id)
        if found is None:
            raise NotFound("no member with this externalId", field="memberExternalId")
        programme = await programme_repo.get(principal.programme_id)
        member = await expiry.lock(programme, found.id)
        entry = Entry(
            "ADJUSTMENT",
            idempotency_key,
            reason.strip(),
            actor_of(principal),
            idempotency_key,
            now_of(programme),
        )
        if amount > 0:
            tx = await credit_available(
                member, entry, amount, TxKind.ADJUST, programme, renews=False
            )
        else:
            require_spendable(member, -amount)
            tx = await debit_available(member, entry, -amount, TxKind.ADJUST)
        return {"transactionId": tx.id}

    payload = {"member": member_external_id, "amount": amount, "reason": reason}
    result = await run_once(
        principal, key=idempotency_key, operation="adjustPoints", payload=payload, action=act
    )
    return await PointTransaction.get(id=int(result["transactionId"]))


async def grant(
    principal: Principal,
    *,
    member_external_ids: list[str],
    amount: int,
    reason: str,
    idempotency_key: str,
) -> list[Member]:
    """The same points to up to 1,000 members, all or none, once per key."""
    errors = Collector()
    check_key(errors, idempotency_key)
    check_points(errors, amount)
    check_reason(errors, reason)
    check_external_id_list(errors, member_external_ids, limit=GRANT_MAX)
    errors.raise_if_any()

    async def act() -> dict[str, Any]:
        found = await member_service.all_by_external_ids(principal, member_external_ids)
        programme = await programme_repo.get(principal.programme_id)
        now = now_of(programme)
        # Locks in id order, so two grants over overlapping members cannot deadlock.
        for member_id in sorted(m.id for m in found):
            member = await expiry.lock(programme, member_id, at=now)
            entry = Entry(
                "GRANT", idempotency_key, reason.strip(), actor_of(principal), idempotency_key, now
            )
            await credit_available(member, entry, amount, TxKind.EARN, programme)
        return {"memberIds": sorted(m.id for m in found)}

    payload = {"members": sorted(member_external_ids), "amount": amount, "reason": reason}
    result = await run_once(
        principal, key=idempotency_key, operation="grantPoints", payload=payload, action=act
    )
    return await Member.filter(id__in=result["memberIds"]).order_by("id")
