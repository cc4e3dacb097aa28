"""Issuing coupons into wallets: a member's claim, an admin's grant, an exchange for points,
and the job's monthly allowances and birthday coupons. Every path takes stock with one
conditional UPDATE and counts a member's coupons under that member's row lock, so caps hold
under any concurrency."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from db import tier_cache
from db.connection import serialise
from db.models import Coupon, CouponTemplate, Member, Programme
from db.repositories import coupons as coupon_repo
from db.repositories import points as points_repo
from db.repositories import programmes as programme_repo
from db.repositories.coupons import CouponEvent
from db.repositories.members import LockedMember
from domain.auth import Principal, Role
from domain.coupons import AutoIssue, Source, Template, TemplateStatus, issuable, validity
from domain.coupons.wallet import (
    CODE_ALPHABET,
    CODE_LENGTH,
    allowance_period,
    birthday_period,
    format_code,
)
from domain.errors import Collector, DomainError, ErrorCode, NotFound
from domain.events import EventType, coupon_payload
from domain.idempotency import check_key
from domain.members import check_external_id, check_external_id_list
from domain.points import TxKind
from domain.tiers import BenefitKind
from services import audit
from services import events as event_service
from services import members as member_service
from services.clock import now_of, wall_now
from services.coupons.templates import find, rules_of
from services.coupons.wallet import CouponView, load, view
from services.events import new_event_id
from services.idempotency import nested_on_postgres, run_once, run_once_keyed, run_once_on_member
from services.points import ledger
from services.points.ledger import Entry, actor_of, debit_available, require_spendable
from services.points.spending import locked_member

GRANT_MAX = 1_000
JOB_BATCH = 500
COUPON_JOB_LOCK = 0xC0F0  # advisory lock namespace: the issuing job, per template


class OutOfStock(DomainError):
    code = ErrorCode.OUT_OF_STOCK


class LimitReached(DomainError):
    code = ErrorCode.LIMIT_REACHED


class NotClaimable(DomainError):
    code = ErrorCode.NOT_CLAIMABLE


class NotForPoints(DomainError):
    code = ErrorCode.NOT_FOR_POINTS


class TemplateRetired(DomainError):
    code = ErrorCode.TEMPLATE_RETIRED


class TemplateExpired(DomainError):
    code = ErrorCode.EXPIRED


class NotEligibleTier(DomainError):
    code = ErrorCode.NOT_ELIGIBLE_TIER


def new_code() -> str:
    return format_code("".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)))


def _names(members: Sequence[Member | LockedMember]) -> str:
    shown = ", ".join(m.external_id for m in members[:10])
    return shown + (" …" if len(members) > 10 else "")


def _check_open(template: CouponTemplate, rules: Template, now: datetime) -> None:
    if template.status != TemplateStatus.ACTIVE.value:
        raise TemplateRetired("this coupon template is retired", field="templateId")
    if not issuable(rules, now):
        raise TemplateExpired("this coupon template's validity has ended", field="templateId")


async def _check_members(
    template: CouponTemplate,
    rules: Template,
    members: Sequence[Member | LockedMember],
    field: str,
) -> None:
    """Tier eligibility, and the per-member limit counted under the members' row locks."""
    if rules.eligible_tiers:
        outside = [m for m in members if m.tier_id not in rules.eligible_tiers]
        if outside:
            raise NotEligibleTier(f"not open to the tier of {_names(outside)}", field=field)
    if rules.per_member_limit is not None:
        held = await coupon_repo.held([template.id], [m.id for m in members])
        full = [m for m in members if held.get((template.id, m.id), 0) >= rules.per_member_limit]
        if full:
            raise LimitReached(
                f"at most {rules.per_member_limit} per member: {_names(full)} has it already",
                field=field,
            )


async def _issue(
    template: CouponTemplate,
    members: Sequence[Member | Holder],
    *,
    source: Source,
    now: datetime,
    period: str | None = None,
    seqs: Sequence[int] | None = None,
    points_transaction_id: int | None = None,
    code: str | None = None,
) -> list[Coupon]:
    """One coupon for each member (with its period seq when the job issues), stock taken
    first, all or none."""
    if not await coupon_repo.take_stock(template.id, len(members)):
        if await coupon_repo.template_status(template.id) != TemplateStatus.ACTIVE.value:
            raise TemplateRetired("this coupon template is retired", field="templateId")
        raise OutOfStock("this coupon is out of stock", field="templateId")
    starts, ends = validity(rules_of(template), now)
    assert ends is not None  # every template's coupons expire (validate_template)
    codes = [code] if code else await _fresh_codes(template.programme_id, len(members))
    rows: list[dict[str, Any]] = [
        {
            "programme_id": template.programme_id,
            "template_id": template.id,
            "member_id": member.id,
            "code": codes[n],
            "status": "AVAILABLE",
            "source": source.value,
            "period": period,
            "period_seq": seqs[n] if seqs is not None else None,
            "issued_at": now,
            "starts_at": starts,
            "ends_at": ends,
            "points_transaction_id": points_transaction_id,
        }
        for n, member in enumerate(members)
    ]
    coupons = await coupon_repo.insert(rows)
    external_ids = {m.id: m.external_id for m in members}
    await event_service.record_many(  # the callers hold these members' row locks
        template.programme_id,
        [
            (
                coupon.member_id,
                EventType.COUPON_ISSUED,
                coupon_payload(
                    external_id=external_ids[coupon.member_id],
                    code=coupon.code,
                    template=template.code,
                    title=template.title,
                    source=source.value,
                    ends_at=coupon.ends_at,
                ),
            )
            for coupon in coupons
        ],
        occurred_at=now,
    )
    return coupons


@dataclass(frozen=True)
class Holder:
    """Who a coupon goes to, when the caller holds the member's row lock but not its model."""

    id: int
    external_id: str


async def issue_for_campaign(
    programme_id: int,
    holder: Holder,
    template_code: str,
    *,
    now: datetime,
    source: Source = Source.CAMPAIGN,
) -> int | None:
    """A campaign's coupon effect, inside the transaction of the fact that earned it (the
    caller holds the member's lock): the new coupon's id, or None when the template is gone,
    retired, not yet or no longer valid, or out of stock — the fact then keeps its points
    and the campaign its other effects, as an exhausted budget would. A challenge's reward
    issues the same way (`source` CHALLENGE)."""
    template = await coupon_repo.get_template_by_code(programme_id, template_code)
    if template is None or template.status != TemplateStatus.ACTIVE.value:
        return None
    try:
        _check_open(template, rules_of(template), now)
        coupons = await _issue(template, [holder], source=source, now=now)
    except DomainError:
        return None
    return int(coupons[0].id)


async def issue_for_reward(
    programme_id: int,
    holder: Holder,
    template_id: int,
    *,
    now: datetime,
    points_transaction_id: int | None,
) -> int:
    """A COUPON reward's coupon, inside the redemption's transaction (the caller holds the
    member's lock). Unlike a campaign's, a refusal (template retired, closed or out of stock)
    is raised: the redemption then writes nothing."""
    template = await coupon_repo.get_template(programme_id, template_id)
    if template is None or template.status != TemplateStatus.ACTIVE.value:
        raise TemplateRetired("the reward's coupon template is retired", field="code")
    _check_open(template, rules_of(template), now)
    coupons = await _issue(
        template,
        [holder],
        source=Source.EXCHANGE,
        now=now,
        points_transaction_id=points_transaction_id,
    )
    return int(coupons[0].id)


async def check_reward_coupon(programme_id: int, member: Member, template_id: int) -> None:
    """A COUPON reward's template keeps its own rules for the member (its tiers, its per-member
    limit), counted under the member's lock: a reward is one more way to get the coupon, not
    a way around them. A retired or closed template is refused when the coupon is issued."""
    template = await coupon_repo.get_template(programme_id, template_id)
    if template is not None:
        await _check_members(template, rules_of(template), [member], "code")


async def campaign_coupon_would_issue(
    programme_id: int, template_code: str, *, now: datetime
) -> bool:
    """What `issue_for_campaign` would find now, read only: the preview's question."""
    template = await coupon_repo.get_template_by_code(programme_id, template_code)
    if template is None or template.status != TemplateStatus.ACTIVE.value:
        return False
    if not issuable(rules_of(template), now):
        return False
    return template.stock_left is None or template.stock_left > 0


async def _fresh_codes(programme_id: int, count: int) -> list[str]:
    """Random codes (~80 bits each); any that happen to exist already are drawn again."""
    codes: list[str] = []
    while len(codes) < count:
        drawn = list({new_code() for _ in range(count - len(codes))} - set(codes))
        taken = await coupon_repo.codes_taken(programme_id, drawn)
        codes.extend(c for c in drawn if c not in taken)
    return codes


def _check_member_arg(errors: Collector, external_id: str | None) -> None:
    if external_id is not None:
        check_external_id(errors, external_id)


async def _template(principal: Principal, template_id: int) -> CouponTemplate:
    template = await find(principal, template_id)
    if template is None:
        raise NotFound("no coupon template with this id", field="templateId")
    return template


async def _one_member_issue(
    principal: Principal, external_id: str | None, template_id: int
) -> tuple[Member, CouponTemplate, datetime]:
    """The member (row-locked, so its count of this template's coupons holds until commit)
    and an open template it may have, for a claim or an exchange."""
    found = await member_service.target(principal, external_id)
    programme = await programme_repo.get(principal.programme_id)
    now = now_of(programme)
    member = await ledger.lock(programme, found.id, at=now)
    template = await _template(principal, template_id)
    rules = rules_of(template)
    _check_open(template, rules, now)
    await _check_members(template, rules, [member], "templateId")
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
        taken = await coupon_repo.take_stock_of(
            principal.programme_id, template_id, 1, members_only=principal.role is Role.MEMBER
        )
        if taken is None:
            await _why_not_taken(principal, template_id, member, now)
        assert taken is not None
        template, coupon_id = taken
        rules = rules_of(template)
        # Any refusal below rolls the stock taken back with the rest of the transaction.
        _check_open(template, rules, now)
        await _check_members(template, rules, [member], "templateId")
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
    template = await _template(principal, template_id)
    rules = rules_of(template)
    _check_open(template, rules, now)
    await _check_members(template, rules, [member], "templateId")
    if not template.claimable:
        raise NotClaimable("this coupon is not claimed, it is given", field="templateId")
    raise OutOfStock("this coupon is out of stock", field="templateId")


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
    """`_issue` for one member whose stock is taken already: the coupon inserted with a
    fresh code (drawn again in the unlikely case it exists), its event, the result of the
    idempotency key (`key_id`) and, with `audited`, its audit row."""
    starts, ends = validity(rules_of(template), now)
    assert ends is not None  # every template's coupons expire (validate_template)
    while True:
        code = new_code()
        payload = coupon_payload(
            external_id=member.external_id,
            code=code,
            template=template.code,
            title=template.title,
            source=source.value,
            ends_at=ends,
        )
        event = CouponEvent(new_event_id(), str(EventType.COUPON_ISSUED), payload, wall_now())
        coupon = coupon_repo.new_coupon(
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
        inserted, told = await coupon_repo.insert_one(
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
        code = (await _fresh_codes(member.programme_id, 1))[0]
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
            await _issue(
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


async def grant(
    principal: Principal, *, template_id: int, member_external_ids: list[str], idempotency_key: str
) -> list[CouponView]:
    """Admin: one coupon each to up to 1,000 members, all or none, once per key."""
    errors = Collector()
    check_key(errors, idempotency_key)
    check_external_id_list(errors, member_external_ids, limit=GRANT_MAX)
    errors.raise_if_any()

    async def act() -> dict[str, Any]:
        template = await _template(principal, template_id)
        found = await member_service.all_by_external_ids(principal, member_external_ids)
        locked = await points_repo.lock_members(principal.programme_id, {m.id for m in found})
        members = [locked[i] for i in sorted(locked)]
        programme = await programme_repo.get(principal.programme_id)
        rules, now = rules_of(template), now_of(programme)
        _check_open(template, rules, now)
        await _check_members(template, rules, members, "memberExternalIds")
        coupons = await _issue(template, members, source=Source.GRANT, now=now)
        return {"couponIds": [c.id for c in coupons]}

    payload = {"templateId": template_id, "members": sorted(member_external_ids)}
    result = await run_once(
        principal, key=idempotency_key, operation="grantCoupons", payload=payload, action=act
    )
    return await load(principal.programme_id, [int(i) for i in result["couponIds"]])


async def issue_due(programme: Programme) -> int:
    """Job: this period's tier allowances and birthday coupons, for every member owed them.

    Once per period by the unique (template, member, period, seq); the template's advisory lock
    keeps two job runs from taking stock twice for the same coupons. Stock that runs out stops
    a template's issuing for this run (members not reached get theirs if stock is added).
    """
    now = now_of(programme)
    local_now = now.astimezone(ZoneInfo(programme.timezone))
    issued = 0
    for template in await coupon_repo.auto_issue_templates(programme.id):
        rules = rules_of(template)
        if not issuable(rules, now):
            continue
        owed = await _owed_per_member(programme, rules)
        if not owed:
            continue
        kind = AutoIssue(template.auto_issue)
        period = (
            allowance_period(local_now)
            if kind is AutoIssue.MONTHLY_ALLOWANCE
            else (birthday_period(local_now))
        )
        issued += await _issue_template(
            programme,
            template,
            owed,
            period=period,
            birthday_month=local_now.month if kind is AutoIssue.BIRTHDAY else None,
            source=Source(kind.value),
            now=now,
        )
    return issued


async def _owed_per_member(programme: Programme, rules: Template) -> dict[int, int]:
    """Tier id -> coupons per period a member of that tier is owed by this template."""
    tiers = await tier_cache.programme_tiers(programme.id)
    owed: dict[int, int] = {}
    for tier in tiers:
        if rules.eligible_tiers and tier.id not in rules.eligible_tiers:
            continue
        if rules.auto_issue is AutoIssue.BIRTHDAY:
            owed[tier.id] = 1
            continue
        count = sum(b.value for b in tier.benefits if b.kind is BenefitKind.MONTHLY_COUPONS)
        if count > 0:
            owed[tier.id] = min(count, 100)
    return owed


async def _issue_template(
    programme: Programme,
    template: CouponTemplate,
    owed: dict[int, int],
    *,
    period: str,
    birthday_month: int | None,
    source: Source,
    now: datetime,
) -> int:
    issued, after_id = 0, 0
    while True:
        async with in_transaction():
            await serialise(COUPON_JOB_LOCK, template.id)
            batch = await coupon_repo.members_page(
                programme.id,
                tier_ids=sorted(owed),
                birthday_month=birthday_month,
                after_id=after_id,
                limit=JOB_BATCH,
            )
            if not batch:
                return issued
            after_id = batch[-1].id
            have = await coupon_repo.issued_in_period(template.id, [m.id for m in batch], period)
            due = [
                (member, seq)
                for member in batch
                for seq in range(1, owed.get(member.tier_id or 0, 0) + 1)
                if (member.id, seq) not in have
            ]
            # Members before stock (the order claims and exchanges take them in): each
            # coupon's event takes its member's next number under that member's row lock.
            await points_repo.lock_members(programme.id, {m.id for m, _ in due})
            while due:
                # A claim may take stock between this read and the take: read again then.
                left = await coupon_repo.stock_left(template.id)
                if left is not None and left < len(due):
                    due = due[:left]
                if not due:
                    return issued
                try:
                    await _issue(
                        template,
                        [m for m, _ in due],
                        source=source,
                        now=now,
                        period=period,
                        seqs=[s for _, s in due],
                    )
                except OutOfStock:
                    continue
                except TemplateRetired:
                    return issued
                issued += len(due)
                break
