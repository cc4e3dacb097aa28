"""Campaigns: admin only, every operation (the storefront and members never see the rules)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from db.models import Campaign as CampaignRow
from db.repositories.campaigns import AwardTotals
from domain.auth import Role
from domain.campaign_edits import Action
from domain.campaigns import CampaignStatus
from resolvers.auth import require
from resolvers.ids import encode_cursor, page_request_of
from services.campaigns import admin, results

CURSOR = "cmp:"


def cursor(row: CampaignRow) -> str:
    return encode_cursor(CURSOR, row.id)


async def create(info: Any, changes: Mapping[str, object], *, idempotency_key: str) -> Any:
    principal = require(info, Role.ADMIN)
    return await admin.create(principal, changes, idempotency_key=idempotency_key)


async def update(info: Any, code: str, changes: Mapping[str, object]) -> CampaignRow:
    return await admin.update(require(info, Role.ADMIN), code, changes)


async def change_status(info: Any, code: str, action: Action) -> CampaignRow:
    return await admin.change_status(require(info, Role.ADMIN), code, action)


async def page(
    info: Any,
    *,
    status: CampaignStatus | None,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> tuple[list[CampaignRow], bool]:
    principal = require(info, Role.ADMIN)
    request = page_request_of(CURSOR, first=first, after=after, last=last, before=before)
    return await admin.page(principal, request, status=status)


async def by_code(info: Any, code: str) -> CampaignRow | None:
    return await admin.find_by_code(require(info, Role.ADMIN), code)


async def by_ids(info: Any, ids: list[int]) -> dict[int, CampaignRow]:
    return await admin.by_ids(require(info, Role.ADMIN), ids)


async def award_totals(info: Any, campaign_ids: list[int]) -> dict[int, AwardTotals]:
    return await results.totals_by_ids(require(info, Role.ADMIN), campaign_ids)
