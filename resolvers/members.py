from __future__ import annotations

import asyncio
from typing import Any

from db.models import Member
from domain.auth import Role
from domain.recommendations.rfm import Lifecycle
from domain.tiers import TierView
from resolvers.auth import ANYONE, STAFF, InvalidArgument, require
from resolvers.ids import encode_cursor, page_request_of
from services import members as member_service
from services.members import ProfileInput
from services.recommendations import page as recommendation_page

CURSOR_PREFIX = "member:"


def cursor_for(member: Member) -> str:
    return encode_cursor(CURSOR_PREFIX, member.id)


# Member fields whose resolvers need the programme's tiers (or whose names the selection
# cannot tell, behind a fragment): the tiers are fetched alongside the member row for them.
_NEEDS_TIERS = frozenset({"tier", "tierProgress", "benefits", "nextBestActions"})


def _wants_tiers(info: Any) -> bool:
    nodes = getattr(info, "field_nodes", None)
    if nodes is None:
        return True  # not GraphQL: the raw member page (api/member_page.py)
    for node in nodes:
        for selection in node.selection_set.selections if node.selection_set else ():
            name = getattr(selection, "name", None)
            if name is None or name.value in _NEEDS_TIERS:
                return True
    return False


async def member(info: Any, external_id: str) -> Member | None:
    """The member row, with the programme row (and the tiers, when the selection needs them)
    read alongside: the fields below then start together, and their reads go out as one
    batch (db/sql/page.py) rather than each behind its own wait for the programme."""
    principal = require(info, *ANYONE)
    loaders = info.context.loaders
    found, *_ = await asyncio.gather(
        member_service.find_for_reading(principal, external_id),
        loaders.programme(),
        *((loaders.tiers(),) if _wants_tiers(info) else ()),
    )
    return found  # type: ignore[no-any-return]


async def members_by_ids(info: Any, ids: list[int]) -> list[Member | None]:
    require(info, *ANYONE)
    return await info.context.loaders.member_by_id.load_many(ids)  # type: ignore[no-any-return]


async def members_page(
    info: Any,
    first: int | None,
    after: str | None,
    last: int | None = None,
    before: str | None = None,
    *,
    segment: Lifecycle | None = None,
) -> tuple[list[Member], bool]:
    request = page_request_of(CURSOR_PREFIX, first=first, after=after, last=last, before=before)
    if segment is not None:
        if request.backward:
            raise InvalidArgument("`segment` pages forward only: use `first` and `after`")
        return await recommendation_page.members_in_segment(
            require(info, Role.ADMIN), segment, first=request.size, after_id=request.cursor
        )
    return await member_service.page(require(info, *STAFF), request)


async def viewer(info: Any) -> Member | None:
    return await member_service.viewer(require(info, *ANYONE))


async def tier_of(info: Any, tier_id: int | None) -> TierView | None:
    tiers: list[TierView] = await info.context.loaders.tiers()
    return next((t for t in tiers if t.id == tier_id), None)


async def register(
    info: Any, *, external_id: str, profile: ProfileInput, idempotency_key: str
) -> Member:
    return await member_service.register(
        require(info, *STAFF),
        external_id=external_id,
        profile=profile,
        idempotency_key=idempotency_key,
    )


async def update(info: Any, *, external_id: str | None, profile: ProfileInput) -> Member:
    principal = require(info, Role.ADMIN, Role.STOREFRONT, Role.MEMBER)
    return await member_service.update(principal, external_id=external_id, profile=profile)
