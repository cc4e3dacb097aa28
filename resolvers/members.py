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


# What the fields under `member` read besides its row, so that it is fetched alongside the row
# (the fields below then start together, and their reads go out as one batch): the tiers for
# these; the programme row for any field not named here (a fragment: both).
_TIERS = frozenset({"tier", "benefits", "tierProgress", "nextBestActions"})
_NO_PROGRAMME = frozenset(
    {"__typename", "id", "externalId", "displayName", "email", "phone", "birthday", "joinedAt"}
    | {"consent", "tierSince", "tierValidUntil", "tier", "benefits"}
)


def _needs(info: Any) -> tuple[bool, bool]:
    """(the programme row, the tiers): what the selection under `member` will want."""
    raw = getattr(info, "_raw_info", None)  # strawberry's Info over graphql-core's
    nodes = getattr(raw, "field_nodes", None)
    if nodes is None:
        return True, True  # not GraphQL: the raw member page (api/member_page.py)
    programme = tiers = False
    for node in nodes:
        for selection in node.selection_set.selections if node.selection_set else ():
            name = getattr(selection, "name", None)
            if name is None:
                return True, True
            programme = programme or name.value not in _NO_PROGRAMME
            tiers = tiers or name.value in _TIERS
    return programme, tiers


async def member(info: Any, external_id: str) -> Member | None:
    """The member row, with the programme row (and the tiers, when the selection needs them)
    read alongside: the fields below then start together, and their reads go out as one
    batch (db/sql/page.py) rather than each behind its own wait for the programme."""
    principal = require(info, *ANYONE)
    loaders = info.context.loaders
    programme, tiers = _needs(info)
    if not programme and not tiers:
        return await member_service.find_by_external_id(principal, external_id)
    # the row's read goes out first; the programme and tiers (in process when warm) are had
    # while it is in flight: one task rather than a gather of three
    finding = asyncio.ensure_future(member_service.find_by_external_id(principal, external_id))
    try:
        if programme:
            await loaders.programme()
        if tiers:
            await loaders.tiers()
    except BaseException:
        finding.cancel()
        raise
    return await finding


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
