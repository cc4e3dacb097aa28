"""Linked accounts: a partner may act only for members linked to it.

A member (or the storefront on the member's behalf) links with consent; a partner may ask for
a link by sending our member's externalId and a verifying attribute (e-mail or last name,
compared normalised). Five failed verifications per partner member id within an hour lock
further tries until the hour has passed."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from db.models import Member, Partner, PartnerLink
from db.repositories import partners as partner_repo
from db.repositories import programmes as programme_repo
from domain.auth import Principal
from domain.errors import AlreadyExists, Collector, DomainError, ErrorCode, NotFound
from domain.events import EventType, partner_link_payload
from domain.idempotency import check_key
from domain.members import check_external_id
from domain.partners import check_code, check_partner_id, normalised
from services import events as event_service
from services import members as member_service
from services.clock import now_of, wall_now
from services.idempotency import run_once
from services.partners.access import NotLinked, calling_partner, check_tier, require_active
from services.partners.admin import by_code

VERIFY_WINDOW = timedelta(hours=1)
VERIFY_ATTEMPTS = 5


class VerificationFailed(DomainError):
    code = ErrorCode.MEMBER_VERIFICATION_FAILED


class VerificationLocked(DomainError):
    code = ErrorCode.VERIFICATION_LOCKED


async def _create(
    principal: Principal, *, partner_id: int, member: Member, partner_member_id: str, share: bool
) -> PartnerLink:
    """One active link per (partner, member) and per (partner, partner member id): the unique
    keys refuse a second, also when two requests race."""
    if await partner_repo.active_link_of_member(partner_id, member.id) is not None:
        raise AlreadyExists("the member is already linked to this partner", field="partnerCode")
    if await partner_repo.active_link(partner_id, partner_member_id) is not None:
        raise AlreadyExists("this partner member id is linked to a member", field="partnerMemberId")
    programme = await programme_repo.get(principal.programme_id)
    link = await partner_repo.create_link(
        programme_id=principal.programme_id,
        partner_id=partner_id,
        member_id=member.id,
        partner_member_id=partner_member_id,
        share_balance=share,
        linked_by=principal.scope,
        now=now_of(programme),
    )
    await _record(link, member, EventType.PARTNER_LINK_CREATED, now_of(programme))
    return link


async def _record(link: PartnerLink, member: Member, type: EventType, at: datetime) -> None:
    partner = await Partner.get(id=link.partner_id)
    await event_service.record(
        link.programme_id,
        type,
        partner_link_payload(
            partner=partner.code,
            external_id=member.external_id,
            partner_member_id=link.partner_member_id,
            linked_by=link.linked_by,
            share_balance=link.share_balance,
        ),
        occurred_at=at,
        member_id=member.id,
    )


async def link_by_member(
    principal: Principal,
    *,
    partner_code: str,
    partner_member_id: str,
    member_external_id: str | None,
    share_balance: bool,
    idempotency_key: str,
) -> PartnerLink:
    """The member (token) or the storefront on its behalf links the member's partner account;
    the call itself is the member's consent, recorded with its time."""
    errors = Collector()
    check_key(errors, idempotency_key)
    check_code(errors, partner_code, "partnerCode")
    check_partner_id(errors, partner_member_id, "partnerMemberId")
    if member_external_id is not None:
        check_external_id(errors, member_external_id)
    errors.raise_if_any()

    async def act() -> dict[str, Any]:
        partner = require_active(await by_code(principal, partner_code))
        member = await member_service.locked_target(
            principal, member_external_id, field="memberExternalId"
        )
        await check_tier(partner, member)
        link = await _create(
            principal,
            partner_id=partner.id,
            member=member,
            partner_member_id=partner_member_id,
            share=share_balance,
        )
        return {"linkId": link.id}

    payload = {
        "partner": partner_code,
        "partnerMemberId": partner_member_id,
        "member": member_external_id,
        "share": share_balance,
    }
    result = await run_once(
        principal, key=idempotency_key, operation="linkPartnerAccount", payload=payload, action=act
    )
    return await PartnerLink.get(id=int(result["linkId"])).prefetch_related("partner", "member")


async def link_by_partner(
    principal: Principal,
    *,
    partner_member_id: str,
    member_external_id: str,
    verify_email: str | None,
    verify_last_name: str | None,
    share_balance: bool,
) -> PartnerLink:
    """A partner asks for a link, proving it knows the member by one verifying attribute.
    Naturally idempotent: the same link again is answered with the link already made."""
    errors = Collector()
    check_partner_id(errors, partner_member_id, "partnerMemberId")
    check_external_id(errors, member_external_id)
    given = [v for v in (verify_email, verify_last_name) if v is not None]
    if len(given) != 1 or not 1 <= len(given[0]) <= 254 or not given[0].isprintable():
        errors.add("verifyEmail", "send exactly one of verifyEmail and verifyLastName")
    errors.raise_if_any()
    partner = await calling_partner(principal)
    existing = await partner_repo.active_link(partner.id, partner_member_id)
    member = await member_service.find_by_external_id(principal, member_external_id)
    if existing is not None and member is not None and existing.member_id == member.id:
        return await PartnerLink.get(id=existing.id).prefetch_related("partner", "member")
    now = wall_now()
    since = now - VERIFY_WINDOW
    if (
        await partner_repo.verification_failures_since(partner.id, partner_member_id, since)
        >= VERIFY_ATTEMPTS
    ):
        raise VerificationLocked(
            f"{VERIFY_ATTEMPTS} failed verifications within an hour; try again later",
            field="partnerMemberId",
        )
    if member is None or not _verified(member, verify_email, verify_last_name):
        # Written outside any transaction: a refused attempt must still count.
        await partner_repo.record_verification_failure(partner.id, partner_member_id, now)
        raise VerificationFailed(
            "no member matches this externalId and verifying attribute",
            field="verifyEmail" if verify_email is not None else "verifyLastName",
        )
    async with in_transaction():
        locked = await member_service.locked_target(principal, member_external_id)
        await check_tier(partner, locked)
        link = await _create(
            principal,
            partner_id=partner.id,
            member=locked,
            partner_member_id=partner_member_id,
            share=share_balance,
        )
    return await PartnerLink.get(id=link.id).prefetch_related("partner", "member")


def _verified(member: Member, email: str | None, last_name: str | None) -> bool:
    if email is not None:
        return member.email is not None and normalised(member.email) == normalised(email)
    assert last_name is not None
    words = normalised(member.display_name).split()
    return bool(words) and words[-1] == normalised(last_name)


async def unlink(
    principal: Principal,
    *,
    partner_code: str | None,
    member_external_id: str | None,
    partner_member_id: str | None,
) -> PartnerLink:
    """By the member or storefront (partnerCode + member), or by the partner (its member id)."""
    errors = Collector()
    if partner_code is not None:
        check_code(errors, partner_code, "partnerCode")
    if partner_member_id is not None:
        check_partner_id(errors, partner_member_id, "partnerMemberId")
    if member_external_id is not None:
        check_external_id(errors, member_external_id)
    errors.raise_if_any()
    async with in_transaction():
        if principal.partner_id is not None:
            partner = await calling_partner(principal)
            link = await partner_repo.active_link(partner.id, partner_member_id or "")
        else:
            partner = await by_code(principal, partner_code or "")
            member = await member_service.locked_target(
                principal, member_external_id, field="memberExternalId"
            )
            link = await partner_repo.active_link_of_member(partner.id, member.id)
        if link is None:
            raise NotLinked("no such link", field="partnerMemberId")
        at = now_of(await programme_repo.get(principal.programme_id))
        await partner_repo.unlink(link, at)
        await _record(link, await Member.get(id=link.member_id), EventType.PARTNER_LINK_REMOVED, at)
    return await PartnerLink.get(id=link.id).prefetch_related("partner", "member")


async def cut_for_erasure(member: Member, links: list[PartnerLink], at: datetime) -> None:
    """An erased member's links (services/privacy.py, in its transaction, after the profile
    is forgotten): each partner still linked hears `partner_link.removed` (naming the
    pseudonym, never the old id), then every link row goes, so no partner can move points
    for the member again. Transfers stay, like the ledger."""
    for link in links:
        if link.unlinked_at is None:
            await _record(link, member, EventType.PARTNER_LINK_REMOVED, at)


async def linked_members(
    principal: Principal, *, first: int, after_id: int | None
) -> tuple[list[PartnerLink], bool]:
    """A partner key's view of the programme: its linked members, nothing else."""
    partner = await calling_partner(principal)
    rows = await partner_repo.active_links_page(partner.id, first=first, after_id=after_id)
    return rows[:first], len(rows) > first


async def links_of(principal: Principal, member: Member) -> list[PartnerLink]:
    if not member_service.can_see(principal, member.id):
        raise NotFound("member not found")
    return await partner_repo.links_of_member(member.id)
