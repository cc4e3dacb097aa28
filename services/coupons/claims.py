"""Coupons a member takes: a claim of a claimable coupon, and an exchange of points for one.
Each runs once per idempotency key under the member's row lock, so the member's count of the
template's coupons (and, for an exchange, the points debited with the coupon) hold until
commit; the stock and the coupon go through `issuance`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from db.models import Coupon, CouponTemplate, Member
from db.repositories import coupon_claims as claim_repo
from db.repositories import programmes as programme_repo
from db.repositories.coupon_claims import CouponEvent
from db.repositories.members import LockedMember
from domain.auth import Principal, Role
from domain.coupons import Source, validity
from domain.errors import Collector, DomainError, ErrorCode
from domain.events import EventType, coupon_payload
from domain.idempotency import check_key
from domain.members import check_external_id
from domain.points import TxKind
from services import events as event_service
from services import members as member_service
from services.audit import recording as audit
from services.clock import now_of, wall_now
from services.coupons import issuance
from services.coupons.templates import rules_of
from services.coupons.wallet import CouponView, load, view
from services.events import new_event_id
from services.idempotency import nested_on_postgres, run_once, run_once_keyed, run_once_on_member
from services.points import expiry
from services.points.ledger import Entry, actor_of, debit_available, require_spendable
from services.points.spending import locked_member


class NotClaimable(DomainError):
    code = ErrorCode.NOT_CLAIMABLE


class NotForPoints(DomainError):
    code = ErrorCode.NOT_FOR_POINTS


def _check_member_arg(errors: Collector, external_id: str | None) -> None:
    if external_id is not None:
        check_external_id(errors, external_id)


async def _one_member_issue(
    principal: Principal, external_id: str | None, template_id: int
) -> tuple[Member, CouponTemplate, datetime]:
    """The member (row-locked, so its count of this template's coupons holds until commit)
    and an open template it may have, for a claim or an exchange."""
    found = await member_service.target(principal, external_id)
    programme = await programme_repo.get(principal.programme_id)
    now = now_of(programme)
    member = await expiry.lock(programme, found.id, at=now)
    template = await issuance.existing_template(principal, template_id)
    rules = rules_of(template)
    issuance.check_open(template, rules, now)
    await issuance.check_members(template, rules, [member], "templateId")
    return member, template, now


async def claim(
    principal: Principal, *, template_id: int, member_external_id: str | None, idempotency_key: str
) -> CouponView:
    """A member takes a claimable coupon (a storefront may claim for one of its members).

    Under the member's row lock (its count of this template's coupons holds until commit),
    taken with the key's claim when the externalId is given; then the stock, taken and the
    template read back in one statement; then the coupon with its event, the key's result
    and (on PostgreSQL through the API) its audit row in one more. A claim moves no points:
    locked with the key's claim, the member's due expiry is left for its next change of
    points (or the job) to book, as recordOrder leaves it; a member token's own lock goes
    through the ledger's, which books it."""
    errors = Collector()
    check_key(errors, idempotency_key)
    _check_member_arg(errors, member_external_id)
    errors.raise_if_any()

    written: list[CouponView] = []
    audited = audit.inline()
    # the member's lock taken with the key's claim (by externalId; a caller's transaction
    # would get no savepoint to undo the stock taken before a refusal: see run_once_on_member)
    with_claim = member_external_id is not None and not nested_on_postgres()

    async def act(key_id: int, locked: LockedMember | None) -> dict[str, Any]:
        programme = await programme_repo.get(principal.programme_id)
        now = now_of(programme)
        member: Member | LockedMember = (
            member_service.visible_locked(principal, locked, field="memberExternalId")
            if with_claim
            else await locked_member(principal, programme, member_external_id, at=now)
        )
        taken = await claim_repo.take_stock_of(
            principal.programme_id, template_id, 1, members_only=principal.role is Role.MEMBER
        )
        if taken is None:
            await _why_not_taken(principal, template_id, member, now)
        assert taken is not None
        template, coupon_id = taken
        rules = rules_of(template)
        # Any refusal below rolls the stock taken back with the rest of the transaction.
        issuance.check_open(template, rules, now)
        await issuance.check_members(template, rules, [member], "templateId")
        if not template.claimable:
            raise NotClaimable("this coupon is not claimed, it is given", field="templateId")
        coupon = await _issue_one(
            template,
            member,
            source=Source.CLAIM,
            now=now,
            coupon_id=coupon_id,
            key_id=key_id,
            audited=audited,
        )
        written.append(view(coupon, now))
        return {"couponId": coupon.id}

    payload = {"templateId": template_id, "member": member_external_id}

    async def replay(result: dict[str, Any]) -> dict[str, Any]:
        return result

    if with_claim:
        assert member_external_id is not None
        result = await run_once_on_member(
            principal,
            key=idempotency_key,
            operation="claimCoupon",
            payload=payload,
            member_external_id=member_external_id,
            action=act,
            replay=replay,
        )
    else:
        result = await run_once_keyed(
            principal,
            key=idempotency_key,
            operation="claimCoupon",
            payload=payload,
            action=lambda key_id: act(key_id, None),
        )
    if written and written[0].row.id == int(result["couponId"]):
        if audited:  # committed with it
            audited.wrote()
        return written[0]  # as written: no read back
    return (await load(principal.programme_id, [int(result["couponId"])]))[0]


async def _why_not_taken(
    principal: Principal, template_id: int, member: Member | LockedMember, now: datetime
) -> None:
    """No stock was taken: raise what the template says, in the order a claim checks it."""
    template = await issuance.existing_template(principal, template_id)
    rules = rules_of(template)
    issuance.check_open(template, rules, now)
    await issuance.check_members(template, rules, [member], "templateId")
    if not template.claimable:
        raise NotClaimable("this coupon is not claimed, it is given", field="templateId")
    raise issuance.OutOfStock("this coupon is out of stock", field="templateId")


async def _issue_one(
    template: CouponTemplate,
    member: Member | LockedMember,
    *,
    source: Source,
    now: datetime,
    coupon_id: int | None,
    key_id: int,
    audited: audit.Inline | None,
) -> Coupon:
    """`issuance.issue` for one member whose stock is taken already: the coupon inserted with a
    fresh code (drawn again in the unlikely case it exists), its event, the result of the
    idempotency key (`key_id`) and, with `audited`, its audit row."""
    starts, ends = validity(rules_of(template), now)
    assert ends is not None  # every template's coupons expire (validate_template)
    while True:
        code = issuance.new_code()
        payload = coupon_payload(
            external_id=member.external_id,
            code=code,
            template=template.code,
            title=template.title,
            source=source.value,
            ends_at=ends,
        )
        event = CouponEvent(new_event_id(), str(EventType.COUPON_ISSUED), payload, wall_now())
        coupon = claim_repo.new_coupon(
            template,
            coupon_id=coupon_id,
            member_id=member.id,
            code=code,
            source=source.value,
            issued_at=now,
            starts_at=starts,
            ends_at=ends,
        )
        # its row in the coupon's statement when the coupon's id is known before (PostgreSQL)
        in_statement = audited is not None and coupon_id is not None
        inserted, told = await claim_repo.insert_one(
            coupon,
            event=event,
            key_id=key_id,
            audit=audited.row(view(coupon, now)) if audited and in_statement else None,
        )
        if inserted is not None:
            break
    if not told:  # SQLite: the event on its own
        await event_service.record_many(  # the caller holds the member's row lock
            template.programme_id,
            [(member.id, EventType.COUPON_ISSUED, payload)],
            occurred_at=now,
        )
    if audited and not in_statement:
        await audit.write_inline(audited, view(inserted, now))
    return inserted


async def exchange_points(
    principal: Principal, *, template_id: int, member_external_id: str | None, idempotency_key: str
) -> CouponView:
    """Buy a coupon with points: the ledger debit and the coupon are one transaction, under
    the member's row lock, so the points are spent exactly when the coupon exists."""
    errors = Collector()
    check_key(errors, idempotency_key)
    _check_member_arg(errors, member_external_id)
    errors.raise_if_any()

    async def act() -> dict[str, Any]:
        member, template, now = await _one_member_issue(principal, member_external_id, template_id)
        if template.points_price is None:
            raise NotForPoints("this coupon is not sold for points", field="templateId")
        require_spendable(member, template.points_price, field="templateId")
        code = (await issuance.fresh_codes(member.programme_id, 1))[0]
        entry = Entry(
            "COUPON",
            code,
            f"coupon {template.code} for points",
            actor_of(principal),
            idempotency_key,
            now,
        )
        tx = await debit_available(member, entry, template.points_price, TxKind.REDEEM)
        coupon = (
            await issuance.issue(
                template,
                [member],
                source=Source.EXCHANGE,
                now=now,
                points_transaction_id=tx.id,
                code=code,
            )
        )[0]
        return {"couponId": coupon.id}

    payload = {"templateId": template_id, "member": member_external_id}
    result = await run_once(
        principal,
        key=idempotency_key,
        operation="exchangePointsForCoupon",
        payload=payload,
        action=act,
    )
    return (await load(principal.programme_id, [int(result["couponId"])]))[0]
