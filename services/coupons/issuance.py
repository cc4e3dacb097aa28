"""Issuing coupons into wallets: the core every issue path shares (stock taken with one
conditional UPDATE, the checks of an open template and of its members' tiers and per-member
limit counted under their row locks, fresh codes, the coupons with their events), an admin's
grant, and the coupons campaigns, challenges and rewards issue inside their own transactions.
A member's claim or exchange for points is in `claims`, the job's allowances in `allowances`."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from db.models import Coupon, CouponTemplate, Member
from db.repositories import coupon_templates as template_repo
from db.repositories import coupons as coupon_repo
from db.repositories import points as points_repo
from db.repositories import programmes as programme_repo
from db.repositories.members import LockedMember
from domain.auth import Principal
from domain.coupons import Source, Template, TemplateStatus, issuable, validity
from domain.coupons.wallet import CODE_ALPHABET, CODE_LENGTH, format_code
from domain.errors import Collector, DomainError, ErrorCode, NotFound
from domain.events import EventType, coupon_payload
from domain.idempotency import check_key
from domain.members import check_external_id_list
from services import events as event_service
from services import members as member_service
from services.clock import now_of
from services.coupons.templates import find, rules_of
from services.coupons.wallet import CouponView, load
from services.idempotency import run_once

GRANT_MAX = 1_000


class OutOfStock(DomainError):
    code = ErrorCode.OUT_OF_STOCK


class LimitReached(DomainError):
    code = ErrorCode.LIMIT_REACHED


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


def check_open(template: CouponTemplate, rules: Template, now: datetime) -> None:
    if template.status != TemplateStatus.ACTIVE.value:
        raise TemplateRetired("this coupon template is retired", field="templateId")
    if not issuable(rules, now):
        raise TemplateExpired("this coupon template's validity has ended", field="templateId")


async def check_members(
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


async def issue(
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
    if not await template_repo.take_stock(template.id, len(members)):
        if await template_repo.template_status(template.id) != TemplateStatus.ACTIVE.value:
            raise TemplateRetired("this coupon template is retired", field="templateId")
        raise OutOfStock("this coupon is out of stock", field="templateId")
    starts, ends = validity(rules_of(template), now)
    assert ends is not None  # every template's coupons expire (validate_template)
    codes = [code] if code else await fresh_codes(template.programme_id, len(members))
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
    template = await template_repo.get_template_by_code(programme_id, template_code)
    if template is None or template.status != TemplateStatus.ACTIVE.value:
        return None
    try:
        check_open(template, rules_of(template), now)
        coupons = await issue(template, [holder], source=source, now=now)
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
    template = await template_repo.get_template(programme_id, template_id)
    if template is None or template.status != TemplateStatus.ACTIVE.value:
        raise TemplateRetired("the reward's coupon template is retired", field="code")
    check_open(template, rules_of(template), now)
    coupons = await issue(
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
    template = await template_repo.get_template(programme_id, template_id)
    if template is not None:
        await check_members(template, rules_of(template), [member], "code")


async def campaign_coupon_would_issue(
    programme_id: int, template_code: str, *, now: datetime
) -> bool:
    """What `issue_for_campaign` would find now, read only: the preview's question."""
    template = await template_repo.get_template_by_code(programme_id, template_code)
    if template is None or template.status != TemplateStatus.ACTIVE.value:
        return False
    if not issuable(rules_of(template), now):
        return False
    return template.stock_left is None or template.stock_left > 0


async def fresh_codes(programme_id: int, count: int) -> list[str]:
    """Random codes (~80 bits each); any that happen to exist already are drawn again."""
    codes: list[str] = []
    while len(codes) < count:
        drawn = list({new_code() for _ in range(count - len(codes))} - set(codes))
        taken = await coupon_repo.codes_taken(programme_id, drawn)
        codes.extend(c for c in drawn if c not in taken)
    return codes


async def existing_template(principal: Principal, template_id: int) -> CouponTemplate:
    template = await find(principal, template_id)
    if template is None:
        raise NotFound("no coupon template with this id", field="templateId")
    return template


async def grant(
    principal: Principal, *, template_id: int, member_external_ids: list[str], idempotency_key: str
) -> list[CouponView]:
    """Admin: one coupon each to up to 1,000 members, all or none, once per key."""
    errors = Collector()
    check_key(errors, idempotency_key)
    check_external_id_list(errors, member_external_ids, limit=GRANT_MAX)
    errors.raise_if_any()

    async def act() -> dict[str, Any]:
        template = await existing_template(principal, template_id)
        found = await member_service.all_by_external_ids(principal, member_external_ids)
        locked = await points_repo.lock_members(principal.programme_id, {m.id for m in found})
        members = [locked[i] for i in sorted(locked)]
        programme = await programme_repo.get(principal.programme_id)
        rules, now = rules_of(template), now_of(programme)
        check_open(template, rules, now)
        await check_members(template, rules, members, "memberExternalIds")
        coupons = await issue(template, members, source=Source.GRANT, now=now)
        return {"couponIds": [c.id for c in coupons]}

    payload = {"templateId": template_id, "members": sorted(member_external_ids)}
    result = await run_once(
        principal, key=idempotency_key, operation="grantCoupons", payload=payload, action=act
    )
    return await load(principal.programme_id, [int(i) for i in result["couponIds"]])
