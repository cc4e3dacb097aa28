"""The rewards catalogue: admins write it; members, storefronts and admins read it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.auth import Role
from domain.rewards.validation import RewardSpec
from resolvers.auth import ANYONE, require
from resolvers.ids import encode_cursor, page_request_of
from services.rewards import admin, catalogue
from services.rewards.catalogue import RewardView

CURSOR = "rwd:"


def cursor(view: RewardView) -> str:
    return encode_cursor(CURSOR, view.reward.id)


async def create(info: Any, spec: RewardSpec, *, idempotency_key: str) -> RewardView:
    principal = require(info, Role.ADMIN)
    return await admin.create(principal, spec, idempotency_key=idempotency_key)


async def update(info: Any, code: str, changes: Callable[[], dict[str, object]]) -> RewardView:
    """`changes` are read once the caller is known to be an admin."""
    principal = require(info, Role.ADMIN)
    return await admin.update(principal, code, changes())


async def retire(info: Any, code: str) -> RewardView:
    return await admin.retire(require(info, Role.ADMIN), code)


async def page(
    info: Any,
    *,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    **filters: Any,
) -> tuple[list[RewardView], bool]:
    principal = require(info, *ANYONE)
    request = page_request_of(CURSOR, first=first, after=after, last=last, before=before)
    return await catalogue.page(principal, request, **filters)


async def by_code(info: Any, code: str) -> RewardView | None:
    return await catalogue.find_by_code(require(info, *ANYONE), code)


async def by_ids(info: Any, ids: list[int]) -> dict[int, RewardView]:
    return await catalogue.by_ids(require(info, *ANYONE), ids)
