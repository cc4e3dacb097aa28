"""Member-to-member gifts: two ledger rows (TRANSFER_OUT from the giver, TRANSFER_IN to the
receiver) in one transaction, when the programme allows gifts, within a daily limit."""

from __future__ import annotations

from typing import Any

from db.models import PointTransaction
from db.repositories import members as member_repo
from db.repositories import points as points_repo
from db.repositories import programmes as programme_repo
from domain.auth import Principal
from domain.errors import Collector, DomainError, ErrorCode, NotFound, invalid
from domain.idempotency import check_key
from domain.members import is_external_id
from domain.partners import DailyLimitReached, local_day_bounds
from domain.points import TxKind
from services import members as member_service
from services.clock import now_of, zone_of
from services.idempotency import run_once
from services.points import expiry, ledger
from services.points.ledger import Entry, actor_of, policy_of, require_spendable
from services.points.spending import check_points

REFERENCE_TYPE = "GIFT"


class GiftsDisabled(DomainError):
    code = ErrorCode.GIFTS_DISABLED


async def give(
    principal: Principal,
    *,
    to_external_id: str,
    points: int,
    from_external_id: str | None,
    idempotency_key: str,
) -> PointTransaction:
    """Both members' row locks are taken together, in ascending id order (expiry.lock_many):
    A giving to B while B gives to A cannot deadlock. The giver's daily total is counted
    under the giver's lock."""
    errors = Collector()
    check_key(errors, idempotency_key)
    if not is_external_id(to_external_id):
        errors.add("toExternalId", "is not an externalId a member could have")
    check_points(errors, points, field="points")
    if from_external_id is not None and not is_external_id(from_external_id):
        errors.add("fromExternalId", "is not an externalId a member could have")
    errors.raise_if_any()

    async def act() -> dict[str, Any]:
        programme = await programme_repo.get(principal.programme_id)
        limit = policy_of(programme).gift_daily_points
        if limit == 0:
            raise GiftsDisabled("this programme does not allow gifts between members")
        giver = await member_service.target(principal, from_external_id, field="fromExternalId")
        # The receiver is named by the giver: looked up in the programme, whoever asks.
        receiver = (
            await member_repo.get_by_external_id(programme.id, to_external_id)
            if is_external_id(to_external_id)
            else None
        )
        if receiver is None:
            raise NotFound("no member with this externalId", field="toExternalId")
        if receiver.id == giver.id:
            raise invalid("toExternalId", "a member cannot give points to themselves")
        now = now_of(programme)
        locked = await expiry.lock_many(programme, {giver.id, receiver.id}, at=now)
        giver, receiver = locked[giver.id], locked[receiver.id]
        since, until = local_day_bounds(
            now.astimezone(zone_of(programme)).date(), zone_of(programme)
        )
        given_today = -await points_repo.moved_between(
            giver.id, kind="TRANSFER_OUT", reference_type=REFERENCE_TYPE, since=since, until=until
        )
        if given_today + points > limit:
            raise DailyLimitReached(
                f"the member may give {max(limit - given_today, 0)} more points today",
                field="points",
            )
        require_spendable(giver, points, field="points")
        actor = actor_of(principal)
        out = await ledger.debit_available(
            giver,
            Entry(
                REFERENCE_TYPE,
                receiver.external_id,
                "gift to a member",
                actor,
                idempotency_key,
                now,
            ),
            points,
            TxKind.TRANSFER_OUT,
        )
        await ledger.credit_available(
            receiver,
            Entry(
                REFERENCE_TYPE, giver.external_id, "gift from a member", actor, idempotency_key, now
            ),
            points,
            TxKind.TRANSFER_IN,
            programme,
        )
        return {"transactionId": out.id}

    payload = {"to": to_external_id, "points": points, "from": from_external_id}
    result = await run_once(
        principal, key=idempotency_key, operation="giftPoints", payload=payload, action=act
    )
    return await PointTransaction.get(id=int(result["transactionId"]))
