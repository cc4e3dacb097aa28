"""Who a partner key is, and which of the programme's members it may act for."""

from __future__ import annotations

from db.models import Member, Partner, PartnerLink, Tier
from db.repositories import partners as partner_repo
from domain.auth import Principal, Role
from domain.errors import DomainError, ErrorCode, NotFound
from domain.partners import PartnerStatus, PartnerSuspended, PartnerTerms


class NotLinked(DomainError):
    code = ErrorCode.NOT_LINKED


class NotEligibleTier(DomainError):
    code = ErrorCode.NOT_ELIGIBLE_TIER


def terms_of(partner: Partner) -> PartnerTerms:
    return PartnerTerms.from_json(partner.terms)


def require_active(partner: Partner) -> Partner:
    if partner.status != PartnerStatus.ACTIVE.value:
        raise PartnerSuspended("this partner is suspended", field="partnerCode")
    return partner


async def calling_partner(principal: Principal, *, lock: bool = False) -> Partner:
    """The partner a partner key was issued to (locked when asked), if it is active."""
    if principal.role is not Role.PARTNER or principal.partner_id is None:
        raise NotFound("this credential is not a partner's")
    get = partner_repo.lock if lock else partner_repo.get
    partner = await get(principal.programme_id, principal.partner_id)
    if partner is None:
        raise NotFound("this partner no longer exists")
    return require_active(partner)


async def linked_member(partner: Partner, partner_member_id: str) -> tuple[PartnerLink, Member]:
    """The member behind the partner's member id: only through an active link."""
    link = await partner_repo.active_link(partner.id, partner_member_id)
    if link is None:
        raise NotLinked("no member is linked to this partner member id", field="partnerMemberId")
    member = await Member.get(id=link.member_id)
    return link, member


async def check_tier(partner: Partner, member: Member) -> None:
    eligible = terms_of(partner).eligible_tiers
    if not eligible:
        return
    tier = await Tier.get_or_none(id=member.tier_id) if member.tier_id is not None else None
    if tier is None or tier.code not in eligible:
        raise NotEligibleTier("the member's tier may not exchange points with this partner")
