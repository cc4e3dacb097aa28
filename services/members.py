"""Member use cases. Reads are scoped to the caller; a member token sees only its member."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from db import tier_cache
from db.connection import is_unique_violation
from db.models import Member
from db.repositories import activity as activity_repo
from db.repositories import members as member_repo
from db.repositories import privacy as privacy_repo
from db.repositories import programmes as programme_repo
from db.repositories.members import LockedMember
from db.sql import page as page_sql
from domain.auth import Principal, Role
from domain.campaigns import Trigger
from domain.errors import AlreadyExists, Collector, NotFound, invalid
from domain.events import EventType, member_payload, member_updated_payload
from domain.idempotency import check_key
from domain.members import (
    Birthday,
    ProfileChanges,
    check_external_id,
    is_external_id,
    validate_profile,
)
from domain.paging import PageRequest, page_of
from domain.tiers import entry_tier
from services import events as event_service
from services.clock import now_of, programme_time
from services.idempotency import run_once
from services.tier_evaluation import changes as tier_changes
from services.unique import created


@dataclass(frozen=True)
class ProfileInput:
    """Raw profile fields as the caller sent them; `None` means not given."""

    display_name: str | None = None
    email: str | None = None
    phone: str | None = None
    birthday: str | None = None
    consent_marketing: bool | None = None
    consent_profiling: bool | None = None
    cleared: frozenset[str] = frozenset()


CLEARABLE = frozenset({"email", "phone", "birthday"})


def visible_to(principal: Principal, member: Member | None) -> Member | None:
    if member is None or member.programme_id != principal.programme_id:
        return None
    if not can_see(principal, member.id):
        return None
    if principal.role is Role.MEMBER and member.erased_at is not None:
        return None  # an erased member's tokens are refused
    return member


async def token_holder_active(principal: Principal) -> bool:
    """A member token's member still exists in its programme and is not erased: checked on
    every request, so an erased member's token reads nothing by any path (node(id:) too)."""
    return await Member.filter(
        programme_id=principal.programme_id, id=principal.member_id, erased_at__isnull=True
    ).exists()


def can_see(principal: Principal, member_id: int) -> bool:
    """For rows already read within the principal's programme: a member token sees only its own
    member's; keys see all."""
    return principal.role is not Role.MEMBER or member_id == principal.member_id


async def target(
    principal: Principal, external_id: str | None, *, field: str = "memberExternalId"
) -> Member:
    """The member a call is about: by externalId, or a member token's own when left out."""
    if external_id is None and principal.member_id is not None:
        member = await viewer(principal)
    else:
        member = await find_by_external_id(principal, external_id or "")
    if member is None:
        raise NotFound("no member with this externalId", field=field)
    return member


async def find_by_external_id(principal: Principal, external_id: str) -> Member | None:
    if not is_external_id(external_id):
        return None  # cannot exist; and NUL or a lone surrogate must not reach the database
    # by the hot path's own statement (db/sql/page.py): a model instance all the same
    found = await page_sql.member_by_external_id(principal.programme_id, external_id)
    return visible_to(principal, found)


async def find_by_ids(principal: Principal, ids: list[int]) -> dict[int, Member]:
    if principal.role is Role.MEMBER:
        ids = [i for i in ids if i == principal.member_id]
    rows = await member_repo.get_by_ids(principal.programme_id, ids) if ids else []
    if principal.role is Role.MEMBER:
        rows = [m for m in rows if m.erased_at is None]  # an erased member's tokens are refused
    return {m.id: m for m in rows}


async def all_by_external_ids(
    principal: Principal, external_ids: list[str], *, field: str = "memberExternalIds"
) -> list[Member]:
    """Every one of these members (for bulk admin calls), or NOT_FOUND naming the missing."""
    found = await member_repo.get_by_external_ids(principal.programme_id, external_ids)
    missing = sorted(set(external_ids) - {m.external_id for m in found})
    if missing:
        raise NotFound(
            f"no members {', '.join(missing[:10])}" + (" …" if len(missing) > 10 else ""),
            field=field,
        )
    return found


async def viewer(principal: Principal) -> Member | None:
    if principal.member_id is None:
        return None
    return (await find_by_ids(principal, [principal.member_id])).get(principal.member_id)


async def page(principal: Principal, request: PageRequest) -> tuple[list[Member], bool]:
    """One page plus whether more lie beyond it (one extra row is read to know)."""
    if principal.role is Role.MEMBER:
        own = await viewer(principal)
        cursor = request.cursor
        beyond = cursor is None or (own is not None and (own.id < cursor) == request.backward)
        return ([own] if own is not None and beyond else []), False
    return page_of(await member_repo.page(principal.programme_id, request), request)


def _validated(profile: ProfileInput, errors: Collector) -> ProfileChanges:
    return validate_profile(
        display_name=profile.display_name,
        email=profile.email,
        phone=profile.phone,
        birthday=profile.birthday,
        consent_marketing=profile.consent_marketing,
        consent_profiling=profile.consent_profiling,
        cleared=profile.cleared,
        errors=errors,
    )


def _row_fields(changes: ProfileChanges) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name in ("display_name", "email", "phone", "consent_marketing", "consent_profiling"):
        value = getattr(changes, name)
        if value is not None:
            fields[name] = value
    if changes.birthday is not None:
        fields["birthday_month"] = changes.birthday.month
        fields["birthday_day"] = changes.birthday.day
    for name in changes.cleared & CLEARABLE:
        if name == "birthday":
            fields["birthday_month"] = fields["birthday_day"] = None
        else:
            fields[name] = None
    return fields


async def register(
    principal: Principal, *, external_id: str, profile: ProfileInput, idempotency_key: str
) -> Member:
    errors = Collector()
    check_key(errors, idempotency_key)
    check_external_id(errors, external_id)
    if profile.display_name is None:
        errors.add("displayName", "is required")
    changes = _validated(profile, errors)
    errors.raise_if_any()
    payload = {"externalId": external_id, **_row_fields(changes)}

    async def create() -> dict[str, Any]:
        programme = await programme_repo.get(principal.programme_id)
        now = now_of(programme)
        if await member_repo.get_by_external_id(principal.programme_id, external_id):
            raise AlreadyExists("a member with this externalId exists", field="externalId")
        start = entry_tier(await tier_cache.programme_tiers(principal.programme_id))
        member = await created(
            member_repo.create(
                programme_id=principal.programme_id,
                external_id=external_id,
                joined_at=now,
                tier_id=start.id if start else None,
                tier_since=now if start else None,
                tier_period_start=now if start else None,
                **_row_fields(changes),
            ),
            "a member with this externalId exists",
            field="externalId",
        )
        await give_invite_code(member)
        await event_service.record(
            principal.programme_id,
            EventType.MEMBER_REGISTERED,
            member_payload(
                external_id=member.external_id,
                display_name=member.display_name,
                tier=start.name if start else None,
                joined_at=now,
            ),
            occurred_at=now,
            member_id=member.id,
        )
        # Here, not at the top: campaigns issue coupons, and the coupons' module needs this one.
        from services.campaigns.facts import Fact, reward_fact

        # the new row is this transaction's alone until it commits: as good as locked
        await reward_fact(
            programme,
            member,
            Fact(
                trigger=Trigger.REGISTRATION,
                points=0,  # a registration earns nothing itself: only bonuses apply
                reference_type="REGISTRATION",
                reference=member.external_id,
                at=now,
                actor=principal.scope,
                idempotency_key=idempotency_key,
            ),
        )
        return {"memberId": member.id}

    result = await run_once(
        principal, key=idempotency_key, operation="registerMember", payload=payload, action=create
    )
    return await _load(principal, int(result["memberId"]))


async def give_invite_code(member: Member) -> str:
    """A member's referral code, drawn at random; a clash with another code draws again."""
    for _ in range(5):
        existing = await activity_repo.invite_code_of(member.id)
        if existing:
            return existing
        try:
            async with in_transaction():  # a savepoint inside a caller's transaction
                code = secrets.token_hex(4).upper()
                await activity_repo.add_invite_code(
                    programme_id=member.programme_id, member_id=member.id, code=code
                )
            return code
        except IntegrityError as error:
            if not is_unique_violation(error):
                raise
    raise RuntimeError("could not draw an unused invite code")


async def update(principal: Principal, *, external_id: str | None, profile: ProfileInput) -> Member:
    errors = Collector()
    if external_id is not None:
        check_external_id(errors, external_id)
    changes = _validated(profile, errors)
    errors.raise_if_any()
    async with in_transaction():
        member = await locked_target(principal, external_id)
        fields = {
            name: value
            for name, value in _row_fields(changes).items()
            if getattr(member, name) != value
        }
        if fields:
            await member_repo.update(member, **fields)
            if fields.get("consent_profiling") is False:
                # Issue 18.4: withdrawn profiling consent removes the member's segment and
                # personal list at once, not at the next nightly build.
                await privacy_repo.delete_personalisation(member.id)
            now = await programme_time(principal.programme_id)
            await event_service.record(
                principal.programme_id,
                EventType.MEMBER_UPDATED,
                member_updated_payload(
                    external_id=member.external_id,
                    display_name=member.display_name,
                    changed=sorted({PROFILE_FIELDS[name] for name in fields}),
                ),
                occurred_at=now,
                member_id=member.id,
            )
    return member


# Member columns by the profile field a client names (events say which changed, not to what).
PROFILE_FIELDS = {
    "display_name": "displayName",
    "email": "email",
    "phone": "phone",
    "birthday_month": "birthday",
    "birthday_day": "birthday",
    "consent_marketing": "consentMarketing",
    "consent_profiling": "consentProfiling",
}


async def locked_target(
    principal: Principal, external_id: str | None, *, field: str = "externalId"
) -> Member:
    """`target`, read with its row lock (inside a transaction): one statement when the
    externalId is given, a read and then the lock when a member token leaves it out."""
    if external_id is None and principal.role is Role.MEMBER and principal.member_id is not None:
        member = (await find_by_ids(principal, [principal.member_id])).get(principal.member_id)
        external_id = member.external_id if member else None
    if external_id is None:
        raise invalid(field, "is required (only a member token may leave it out)")
    member = None
    if is_external_id(external_id):  # NUL or a lone surrogate must not reach the database
        member = visible_to(
            principal, await member_repo.lock_by_external_id(principal.programme_id, external_id)
        )
    if member is None:
        raise NotFound("no member with this externalId", field=field)
    return member


def visible_locked(
    principal: Principal, member: LockedMember | None, *, field: str
) -> LockedMember:
    """`locked_target`'s refusals for a member row locked by another statement (with the
    idempotency key's claim): NOT_FOUND unless the principal may see it."""
    if member is None or member.programme_id != principal.programme_id:
        raise NotFound("no member with this externalId", field=field)
    if not can_see(principal, member.id) or (
        principal.role is Role.MEMBER and member.erased_at is not None
    ):
        raise NotFound("no member with this externalId", field=field)
    return member


async def _load(principal: Principal, member_id: int) -> Member:
    member = (await find_by_ids(principal, [member_id])).get(member_id)
    if member is None:
        raise NotFound("member not found")
    return member


async def change_tier(principal: Principal, member: Member, *, tier_id: int, at: datetime) -> None:
    """An admin's move of a member to another tier of its programme, under the member's row
    lock and with a history row; every process sees it on its next read."""
    if member.programme_id != principal.programme_id:
        raise NotFound("member not found")
    tiers = await tier_cache.programme_tiers(principal.programme_id)
    tier = next((t for t in tiers if t.id == tier_id), None)
    if tier is None:
        raise invalid("tier", "no such tier in this programme")
    async with in_transaction():
        locked = await member_repo.lock_by_external_id(principal.programme_id, member.external_id)
        assert locked is not None
        programme = await programme_repo.get(principal.programme_id)
        await tier_changes.change_tier(
            locked,
            tier,
            programme,
            reason="ADMIN",
            total=0,
            at=at,
            tiers=tiers,
            counted_from=None,
        )
    await tier_cache.forget_member_tier(principal.programme_id, member.id)


def birthday_of(member: Member) -> Birthday | None:
    if member.birthday_month is None or member.birthday_day is None:
        return None
    return Birthday(member.birthday_month, member.birthday_day)
