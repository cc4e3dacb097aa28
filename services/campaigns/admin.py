"""Campaigns as data (issue 19.1): admins create, edit, activate, pause and end them.

Every change of a campaign commits, then forgets the programme's cached active campaigns
(db.campaign_cache), so the next order judges by what was just written. What may change
when is domain.campaign_edits' rule; here are the checks that need the database: tier
codes, the coupon template, the code's uniqueness, and the row lock."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from tortoise.transactions import in_transaction

from db import campaign_cache, tier_cache
from db.models import Campaign as CampaignRow
from db.repositories import campaigns as campaign_repo
from db.repositories import coupon_templates as template_repo
from db.repositories import programmes as programme_repo
from domain.auth import Principal
from domain.campaign_edits import (
    BLANK,
    Action,
    Editable,
    changed_paths,
    check_edit,
    check_not_over,
    edited,
    next_status,
    validate,
)
from domain.campaigns import CampaignStatus, campaign_of, rule_of
from domain.coupons import TemplateStatus
from domain.errors import AlreadyExists, CampaignEnded, Collector, NotFound
from domain.idempotency import check_key
from domain.paging import PageRequest, page_of
from services.clock import now_of
from services.coupons.issuance import TemplateRetired
from services.idempotency import run_once
from services.unique import created

Changes = Mapping[str, object]
ALREADY = "a campaign with this code exists in the programme"


def editable_of(row: CampaignRow) -> Editable:
    """A stored campaign as the domain edits and judges it."""
    stored = {name: getattr(row, name) for name in campaign_repo.STORED}
    return Editable(campaign_of(**stored), row.description)


def columns_of(editable: Editable) -> dict[str, Any]:
    """What the campaigns row stores of an edited campaign (not its status or stamps)."""
    c = editable.campaign
    return {
        "code": c.code,
        "name": c.name.strip(),
        "description": editable.description,
        "trigger": c.trigger.value,
        "stacking": c.stacking.value,
        "priority": c.priority,
        "starts_at": c.schedule.starts_at,
        "ends_at": c.schedule.ends_at,
        "budget": c.limits.budget,
        "rule": rule_of(c),
    }


TIERS, TEMPLATE = "audience.tiers", "effects.couponTemplate"


async def _check_references(
    programme_id: int, editable: Editable, paths: Collection[str] = (TIERS, TEMPLATE)
) -> None:
    """The tier codes and the coupon template a campaign names exist in its programme (of
    `paths`: an edit checks only what it changes, so a running campaign whose template was
    retired since may still change its safe fields; activation checks both again)."""
    errors = Collector()
    wanted = editable.campaign.audience.tiers if TIERS in paths else frozenset()
    if wanted:
        known = {t.code for t in await tier_cache.programme_tiers(programme_id)}
        unknown = sorted(wanted - known)
        if unknown:
            errors.add("audience.tiers", f"no such tiers: {', '.join(map(repr, unknown[:5]))}")
    errors.raise_if_any()
    code = editable.campaign.effects.coupon_template
    if code is None or TEMPLATE not in paths:
        return
    template = await template_repo.get_template_by_code(programme_id, code)
    if template is None:
        raise NotFound(f"no coupon template {code}", field="effects.couponTemplate")
    if template.status == TemplateStatus.RETIRED.value:
        raise TemplateRetired(f"coupon template {code} is retired", field="effects.couponTemplate")


async def create(principal: Principal, changes: Changes, *, idempotency_key: str) -> CampaignRow:
    """A DRAFT campaign; activateCampaign starts it."""
    errors = Collector()
    check_key(errors, idempotency_key)
    errors.raise_if_any()
    programme = await programme_repo.get(principal.programme_id)
    draft = edited(BLANK, changes)
    validate(draft, errors, timezone=programme.timezone)
    errors.raise_if_any()
    now = now_of(programme)
    fields = columns_of(draft)

    async def act() -> dict[str, Any]:
        # checks of what may change with time (the clock, templates, tiers) run only for the
        # first request: a replay answers what it answered, as every idempotent write does
        check_not_over(draft, now)
        await _check_references(principal.programme_id, draft)
        if await campaign_repo.get_by_code(principal.programme_id, draft.campaign.code):
            raise AlreadyExists(ALREADY, field="code")
        row = await created(
            campaign_repo.insert(
                programme_id=principal.programme_id,
                status=CampaignStatus.DRAFT.value,
                created_at=now,
                updated_at=now,
                **fields,
            ),
            ALREADY,
        )
        return {"campaignId": row.id}

    result = await run_once(
        principal, key=idempotency_key, operation="createCampaign", payload=fields, action=act
    )
    await campaign_cache.forget_campaigns(principal.programme_id)
    return await _fresh(principal, int(result["campaignId"]))


async def _locked(principal: Principal, code: str) -> CampaignRow:
    """The campaign's row, locked for the caller's transaction: an order spending its budget
    (a conditional UPDATE of the same row) waits for the change to commit and then reads it,
    so a budget cut below what was spent, or a pause racing an order, cannot slip between."""
    row = await campaign_repo.lock_by_code(principal.programme_id, code)
    if row is None:
        raise NotFound(f"no campaign {code}", field="campaignCode")
    return row


async def update(principal: Principal, code: str, changes: Changes) -> CampaignRow:
    """A DRAFT changes anything; an ACTIVE or PAUSED one only what is safe while it runs."""
    programme = await programme_repo.get(principal.programme_id)
    now = now_of(programme)
    async with in_transaction():
        row = await _locked(principal, code)
        status = CampaignStatus(row.status)
        if status is CampaignStatus.ENDED:
            raise CampaignEnded("the campaign has ended: it changes no more", field="campaignCode")
        before = editable_of(row)
        after = edited(before, changes)
        check_edit(before, after, status=status, budget_spent=row.budget_spent, now=now)
        errors = Collector()
        validate(after, errors, timezone=programme.timezone)
        errors.raise_if_any()
        await _check_references(principal.programme_id, after, changed_paths(before, after))
        fields = columns_of(after)
        if fields["code"] != row.code and await campaign_repo.get_by_code(
            principal.programme_id, fields["code"]
        ):
            raise AlreadyExists(ALREADY, field="code")
        for name, value in fields.items():
            setattr(row, name, value)
        row.updated_at = now
        await created(campaign_repo.save(row, *fields), ALREADY)
    await campaign_cache.forget_campaigns(principal.programme_id)
    return await _fresh(principal, row.id)


async def change_status(principal: Principal, code: str, action: Action) -> CampaignRow:
    """activate, pause or end (domain.campaign_edits.TRANSITIONS). Activating checks again
    what may have changed since the draft was written: the window, the tiers, the template."""
    programme = await programme_repo.get(principal.programme_id)
    now = now_of(programme)
    async with in_transaction():
        row = await _locked(principal, code)
        status = next_status(CampaignStatus(row.status), action)
        names = ["status"]
        if status is CampaignStatus.ACTIVE:
            current = editable_of(row)
            check_not_over(current, now)
            await _check_references(principal.programme_id, current)
            if row.activated_at is None:
                row.activated_at = now
                names.append("activated_at")
        if status is CampaignStatus.ENDED:
            row.ended_at = now
            names.append("ended_at")
        row.status = status.value
        row.updated_at = now
        await campaign_repo.save(row, *names)
    await campaign_cache.forget_campaigns(principal.programme_id)
    return await _fresh(principal, row.id)


async def _fresh(principal: Principal, campaign_id: int) -> CampaignRow:
    """A mutation answers with what the database holds now."""
    row = await campaign_repo.get(principal.programme_id, campaign_id)
    assert row is not None
    return row


async def find(principal: Principal, campaign_id: int) -> CampaignRow | None:
    return await campaign_repo.get(principal.programme_id, campaign_id)


async def find_by_code(principal: Principal, code: str) -> CampaignRow | None:
    return await campaign_repo.get_by_code(principal.programme_id, code)


async def by_ids(principal: Principal, ids: list[int]) -> dict[int, CampaignRow]:
    return {r.id: r for r in await campaign_repo.get_many(principal.programme_id, ids)}


async def page(
    principal: Principal, request: PageRequest, *, status: CampaignStatus | None
) -> tuple[list[CampaignRow], bool]:
    rows = await campaign_repo.page(principal.programme_id, request, status=status)
    return page_of(rows, request)
