"""The writes of an erasure, and what it must reach: every row about one member."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from tortoise import BaseDBAsyncClient
from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from db.models import (
    ChallengeContribution,
    ChallengeProgress,
    CheckIn,
    Coupon,
    Event,
    Member,
    MemberBadge,
    MemberSegment,
    Order,
    OrderLine,
    PartnerLink,
    PartnerTransfer,
    PointHold,
    PointLot,
    PointTransaction,
    RecommendationList,
    Referral,
    Review,
    RewardRedemption,
    TierChange,
    WebhookDelivery,
)

BATCH = 500


async def forget_profile(member: Member, **fields: Any) -> None:
    for name, value in fields.items():
        setattr(member, name, value)
    await member.save(update_fields=list(fields))


async def open_holds(member_id: int) -> list[PointHold]:
    return await PointHold.filter(member_id=member_id, status="HELD").order_by("id")


async def partner_links(member_id: int) -> list[PartnerLink]:
    """Every link of the member, active or not (an unlinked one still names its account)."""
    return await PartnerLink.filter(member_id=member_id).order_by("id")


async def delete_partner_links(member_id: int) -> int:
    return await PartnerLink.filter(member_id=member_id).delete()


async def delete_personalisation(member_id: int) -> None:
    """The member's segment and recommendation list (both rebuilt from purchases nightly)."""
    await RecommendationList.filter(member_id=member_id).delete()
    await MemberSegment.filter(member_id=member_id).delete()


async def rewrite_event_payloads(
    member_id: int,
    rewrite: Callable[[dict[str, Any]], dict[str, Any]],
    *,
    types: list[str] | None = None,
) -> int:
    """Rewrites the payloads of the member's events (of `types`, or all) in batches by id (a
    member with 100,000 events holds one batch at a time). Only `payload` changes: ids, order
    and sequence stay."""
    after_id, changed = 0, 0
    while True:
        query = Event.filter(member_id=member_id, id__gt=after_id)
        if types is not None:
            query = query.filter(type__in=types)
        rows = await query.order_by("id").limit(BATCH)
        if not rows:
            return changed
        dirty = []
        for row in rows:
            new = rewrite(row.payload)
            if new != row.payload:
                row.payload = new
                dirty.append(row)
        if dirty:
            await Event.bulk_update(dirty, fields=["payload"])
            changed += len(dirty)
        after_id = rows[-1].id


async def forget_delivery_answers(member_id: int, *, types: tuple[str, ...] | None = None) -> int:
    """Empties what receivers answered to deliveries of the member's events (of `types`, or
    all): a receiver may echo the payload, old id and name with it. One statement; the
    deliveries themselves (status, attempts, codes) stay."""
    events = Event.filter(member_id=member_id)
    if types is not None:
        events = events.filter(type__in=types)
    return await WebhookDelivery.filter(
        event_id__in=Subquery(events.values("id")), last_response__not=""
    ).update(last_response="")


# What an export reads (issue 18.2): each section's rows about one member, in id order.
def _sections(member_id: int) -> list[tuple[str, QuerySet[Any]]]:
    return [
        ("tierHistory", TierChange.filter(member_id=member_id)),
        ("ledger", PointTransaction.filter(member_id=member_id)),
        ("lots", PointLot.filter(member_id=member_id)),
        ("orders", Order.filter(member_id=member_id)),
        ("orderLines", OrderLine.filter(order__member_id=member_id)),
        ("holds", PointHold.filter(member_id=member_id)),
        ("coupons", Coupon.filter(member_id=member_id)),
        ("rewardRedemptions", RewardRedemption.filter(member_id=member_id)),
        ("checkIns", CheckIn.filter(member_id=member_id)),
        ("reviews", Review.filter(line__order__member_id=member_id)),
        ("referrals", Referral.filter(Q(inviter_id=member_id) | Q(invitee_id=member_id))),
        ("recommendations", RecommendationList.filter(member_id=member_id)),
        ("events", Event.filter(member_id=member_id)),
        ("webhookDeliveries", WebhookDelivery.filter(event__member_id=member_id)),
        ("partnerLinks", PartnerLink.filter(member_id=member_id)),
        ("partnerTransfers", PartnerTransfer.filter(member_id=member_id)),
        ("challengeProgress", ChallengeProgress.filter(member_id=member_id)),
        ("challengeContributions", ChallengeContribution.filter(progress__member_id=member_id)),
        ("badges", MemberBadge.filter(member_id=member_id)),
    ]


SECTION_NAMES = (
    "tierHistory",
    "ledger",
    "lots",
    "orders",
    "orderLines",
    "holds",
    "coupons",
    "rewardRedemptions",
    "checkIns",
    "reviews",
    "referrals",
    "recommendations",
    "events",
    "webhookDeliveries",
    "partnerLinks",
    "partnerTransfers",
    "challengeProgress",
    "challengeContributions",
    "badges",
)


async def member_row(
    connection: BaseDBAsyncClient, programme_id: int, member_id: int
) -> dict[str, Any] | None:
    rows = (
        await Member.filter(programme_id=programme_id, id=member_id).using_db(connection).values()
    )
    return rows[0] if rows else None


async def segment_row(connection: BaseDBAsyncClient, member_id: int) -> dict[str, Any] | None:
    rows = await MemberSegment.filter(member_id=member_id).using_db(connection).values()
    return rows[0] if rows else None


async def export_batches(
    connection: BaseDBAsyncClient, member_id: int, *, batch: int = BATCH
) -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """(section, rows) in batches by id on the caller's transaction: a member with 100,000
    ledger rows is read 500 at a time, never all at once."""
    for name, query in _sections(member_id):
        after_id = 0
        while True:
            rows = (
                await query.filter(id__gt=after_id)
                .using_db(connection)
                .order_by("id")
                .limit(batch)
                .values()
            )
            yield name, rows
            if len(rows) < batch:
                break
            after_id = rows[-1]["id"]
