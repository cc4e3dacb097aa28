"""The issuing job: each period's tier allowances (monthly coupons) and birthday coupons, for
every member owed them, in batches under the template's advisory lock so two runs never take
stock twice for the same coupons; the stock and the coupons go through `issuance`."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from db import tier_cache
from db.connection import serialise
from db.models import CouponTemplate, Programme
from db.repositories import coupon_templates as template_repo
from db.repositories import coupons as coupon_repo
from db.repositories import points as points_repo
from domain.coupons import AutoIssue, Source, Template, issuable
from domain.coupons.wallet import allowance_period, birthday_period
from domain.tiers import BenefitKind
from services.clock import now_of
from services.coupons import issuance
from services.coupons.templates import rules_of

JOB_BATCH = 500
COUPON_JOB_LOCK = 0xC0F0  # advisory lock namespace: the issuing job, per template


async def issue_due(programme: Programme) -> int:
    """Job: this period's tier allowances and birthday coupons, for every member owed them.

    Once per period by the unique (template, member, period, seq); the template's advisory lock
    keeps two job runs from taking stock twice for the same coupons. Stock that runs out stops
    a template's issuing for this run (members not reached get theirs if stock is added).
    """
    now = now_of(programme)
    local_now = now.astimezone(ZoneInfo(programme.timezone))
    issued = 0
    for template in await template_repo.auto_issue_templates(programme.id):
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
                left = await template_repo.stock_left(template.id)
                if left is not None and left < len(due):
                    due = due[:left]
                if not due:
                    return issued
                try:
                    await issuance.issue(
                        template,
                        [m for m, _ in due],
                        source=source,
                        now=now,
                        period=period,
                        seqs=[s for _, s in due],
                    )
                except issuance.OutOfStock:
                    continue
                except issuance.TemplateRetired:
                    return issued
                issued += len(due)
                break
