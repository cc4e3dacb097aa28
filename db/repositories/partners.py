"""Every query of partners: the partner rows, links, verification failures and transfers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tortoise.expressions import Q
from tortoise.functions import Coalesce, Sum

from db.models import Partner, PartnerLink, PartnerTransfer, PartnerVerificationFailure

COUNTED_IN = ("COMPLETED", "REVERSED")  # what a day's limits count: moved, even if undone later
COUNTED_OUT = ("PENDING", "COMPLETED", "REVERSED")


async def create(
    *, programme_id: int, code: str, name: str, terms: dict[str, Any], now: datetime
) -> Partner:
    return await Partner.create(
        programme_id=programme_id,
        code=code,
        name=name,
        status="ACTIVE",
        terms=terms,
        created_at=now,
        updated_at=now,
    )


async def by_code(programme_id: int, code: str) -> Partner | None:
    return await Partner.get_or_none(programme_id=programme_id, code=code)


async def get(programme_id: int, partner_id: int) -> Partner | None:
    return await Partner.get_or_none(programme_id=programme_id, id=partner_id)


async def lock(programme_id: int, partner_id: int) -> Partner | None:
    """The partner's row lock: what a partner's daily total is counted under. Taken before any
    member's lock, on every path, so the two never wait on each other in opposite orders."""
    return (
        await Partner.filter(programme_id=programme_id, id=partner_id)
        .select_for_update(no_key=True)
        .first()
    )


async def all_of(programme_id: int) -> list[Partner]:
    return await Partner.filter(programme_id=programme_id).order_by("code")


async def save(partner: Partner, *fields: str) -> None:
    await partner.save(update_fields=list(fields))


# ---- links ------------------------------------------------------------------------------------


def member_key(partner_id: int, member_id: int) -> str:
    return f"{partner_id}:m:{member_id}"


def account_key(partner_id: int, partner_member_id: str) -> str:
    return f"{partner_id}:a:{partner_member_id}"


async def create_link(
    *,
    programme_id: int,
    partner_id: int,
    member_id: int,
    partner_member_id: str,
    share_balance: bool,
    linked_by: str,
    now: datetime,
) -> PartnerLink:
    return await PartnerLink.create(
        programme_id=programme_id,
        partner_id=partner_id,
        member_id=member_id,
        partner_member_id=partner_member_id,
        active_member_key=member_key(partner_id, member_id),
        active_account_key=account_key(partner_id, partner_member_id),
        share_balance=share_balance,
        linked_by=linked_by,
        consented_at=now,
    )


async def active_link(partner_id: int, partner_member_id: str) -> PartnerLink | None:
    return await PartnerLink.get_or_none(
        active_account_key=account_key(partner_id, partner_member_id)
    )


async def active_link_of_member(partner_id: int, member_id: int) -> PartnerLink | None:
    return await PartnerLink.get_or_none(active_member_key=member_key(partner_id, member_id))


async def unlink(link: PartnerLink, now: datetime) -> None:
    link.active_member_key = None
    link.active_account_key = None
    link.unlinked_at = now
    await link.save(update_fields=["active_member_key", "active_account_key", "unlinked_at"])


async def active_links_page(
    partner_id: int, *, first: int, after_id: int | None
) -> list[PartnerLink]:
    query = PartnerLink.filter(partner_id=partner_id, unlinked_at=None)
    if after_id is not None:
        query = query.filter(id__gt=after_id)
    return await query.order_by("id").limit(first + 1).prefetch_related("member")


async def links_of_member(member_id: int) -> list[PartnerLink]:
    return (
        await PartnerLink.filter(member_id=member_id, unlinked_at=None)
        .order_by("id")
        .prefetch_related("partner")
    )


async def record_verification_failure(
    partner_id: int, partner_member_id: str, at: datetime
) -> None:
    await PartnerVerificationFailure.create(
        partner_id=partner_id, partner_member_id=partner_member_id, at=at
    )


async def verification_failures_since(
    partner_id: int, partner_member_id: str, since: datetime
) -> int:
    return await PartnerVerificationFailure.filter(
        partner_id=partner_id, partner_member_id=partner_member_id, at__gt=since
    ).count()


# ---- transfers ---------------------------------------------------------------------------------


async def create_transfer(**fields: Any) -> PartnerTransfer:
    return await PartnerTransfer.create(**fields)


async def inbound_by_partner_id(
    partner_id: int, partner_transfer_id: str
) -> PartnerTransfer | None:
    return await PartnerTransfer.get_or_none(
        partner_id=partner_id, direction="IN", partner_transfer_id=partner_transfer_id
    )


async def get_transfer(programme_id: int, transfer_id: int) -> PartnerTransfer | None:
    return await PartnerTransfer.get_or_none(programme_id=programme_id, id=transfer_id)


async def transfers_by_ids(programme_id: int, ids: list[int]) -> list[PartnerTransfer]:
    return await PartnerTransfer.filter(programme_id=programme_id, id__in=ids) if ids else []


async def lock_transfer(programme_id: int, transfer_id: int) -> PartnerTransfer | None:
    return (
        await PartnerTransfer.filter(programme_id=programme_id, id=transfer_id)
        .select_for_update(no_key=True)
        .first()
    )


async def save_transfer(transfer: PartnerTransfer, *fields: str) -> None:
    await transfer.save(update_fields=list(fields))


async def points_moved(
    partner_id: int,
    direction: str,
    *,
    since: datetime,
    until: datetime,
    member_id: int | None = None,
) -> int:
    """Points a partner moved one way in [since, until): for one member, or in total."""
    statuses = COUNTED_IN if direction == "IN" else COUNTED_OUT
    query = PartnerTransfer.filter(
        partner_id=partner_id,
        direction=direction,
        status__in=statuses,
        created_at__gte=since,
        created_at__lt=until,
    )
    if member_id is not None:
        query = query.filter(member_id=member_id)
    rows = await query.annotate(total=Coalesce(Sum("points"), 0)).values("total")
    return int(rows[0]["total"]) if rows else 0


async def transfers_page(
    partner_id: int,
    *,
    status: str | None,
    member_id: int | None,
    first: int,
    after_id: int | None,
) -> list[PartnerTransfer]:
    query = PartnerTransfer.filter(partner_id=partner_id)
    if status is not None:
        query = query.filter(status=status)
    if member_id is not None:
        query = query.filter(member_id=member_id)
    if after_id is not None:
        query = query.filter(id__gt=after_id)
    return await query.order_by("id").limit(first + 1)


async def pending_lapsed(programme_id: int, now: datetime, *, limit: int) -> list[int]:
    rows = (
        await PartnerTransfer.filter(
            programme_id=programme_id, status="PENDING", expires_at__lte=now
        )
        .order_by("expires_at", "id")
        .limit(limit)
        .values_list("id", flat=True)
    )
    return [int(r) for r in rows]  # type: ignore[call-overload]


async def touched_between(
    partner_id: int, since: datetime, until: datetime
) -> list[tuple[PartnerTransfer, str]]:
    """The partner's transfers made, closed or reversed in [since, until), each with its
    member's externalId (one query)."""
    rows = (
        await PartnerTransfer.filter(partner_id=partner_id)
        .filter(
            Q(created_at__gte=since, created_at__lt=until)
            | Q(closed_at__gte=since, closed_at__lt=until)
            | Q(reversed_at__gte=since, reversed_at__lt=until)
        )
        .order_by("id")
        .select_related("member")
    )
    return [(row, row.member.external_id) for row in rows]
