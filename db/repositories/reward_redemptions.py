"""Reward redemption rows, and the reward's stock as redemptions take and give it back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tortoise.expressions import F, Q
from tortoise.functions import Sum

from db.models import Coupon, RewardRedemption
from db.models import Reward as RewardRow

REQUESTED, FULFILLED, CANCELLED = "REQUESTED", "FULFILLED", "CANCELLED"


async def take_stock(reward_id: int, quantity: int) -> bool:
    """Take `quantity` items of an active reward in one conditional UPDATE: it holds across
    processes without a lock of ours, and a null `stock_left` (unlimited) stays null."""
    taken = await RewardRow.filter(
        Q(id=reward_id, status="ACTIVE")
        & (Q(stock_left__isnull=True) | Q(stock_left__gte=quantity))
    ).update(stock_left=F("stock_left") - quantity, redeemed=F("redeemed") + quantity)
    return bool(taken)


async def give_back_stock(reward_id: int, quantity: int) -> None:
    await RewardRow.filter(id=reward_id).update(
        stock_left=F("stock_left") + quantity, redeemed=F("redeemed") - quantity
    )


async def redeemed_since(reward_id: int, member_id: int, since: datetime | None) -> int:
    """Items of the reward the member redeemed from `since` (None: ever), cancelled ones left
    out. The caller holds the member's row lock, so no twin of this member counts at once."""
    query = RewardRedemption.filter(reward_id=reward_id, member_id=member_id).exclude(
        status=CANCELLED
    )
    if since is not None:
        query = query.filter(requested_at__gte=since)
    rows = await query.annotate(total=Sum("quantity")).values("total")
    return int(rows[0]["total"] or 0) if rows else 0


async def pays_a_redemption(programme_id: int, transaction_id: int, reference: str) -> bool:
    """Whether the REWARD debit `transaction_id` paid a redemption: its reference is then the
    redemption's id (a plain redeemPoints' reference is the caller's own text)."""
    if not (reference.isascii() and reference.isdigit() and len(reference) <= 18):
        return False
    return await RewardRedemption.filter(
        programme_id=programme_id, id=int(reference), transaction_id=transaction_id
    ).exists()


async def insert(**fields: Any) -> RewardRedemption:
    return await RewardRedemption.create(**fields)


async def save(row: RewardRedemption, *fields: str) -> None:
    await row.save(update_fields=list(fields))


async def get(programme_id: int, redemption_id: int) -> RewardRedemption | None:
    return await RewardRedemption.get_or_none(programme_id=programme_id, id=redemption_id)


async def lock(programme_id: int, redemption_id: int) -> RewardRedemption | None:
    """The row with its lock (the caller holds its member's first, as every path orders them)."""
    return (
        await RewardRedemption.filter(programme_id=programme_id, id=redemption_id)
        .select_for_update(no_key=True)
        .first()
    )


async def requested_of_hold(hold_id: int) -> RewardRedemption | None:
    """The still REQUESTED redemption a checkout hold pays for, locked; None for other holds."""
    return (
        await RewardRedemption.filter(hold_id=hold_id, status=REQUESTED)
        .select_for_update(no_key=True)
        .first()
    )


async def requested_of_order(
    programme_id: int, member_id: int, order_ref: str
) -> list[RewardRedemption]:
    return (
        await RewardRedemption.filter(
            programme_id=programme_id, member_id=member_id, order_ref=order_ref, status=REQUESTED
        )
        .select_for_update(no_key=True)
        .order_by("id")
    )


async def requested_of_member(member_id: int) -> list[RewardRedemption]:
    """The member's REQUESTED redemptions, locked (the caller holds the member's lock)."""
    return (
        await RewardRedemption.filter(member_id=member_id, status=REQUESTED)
        .select_for_update(no_key=True)
        .order_by("id")
    )


async def by_ids(programme_id: int, ids: list[int]) -> dict[int, RewardRedemption]:
    rows = await RewardRedemption.filter(programme_id=programme_id, id__in=ids)
    return {row.id: row for row in rows}


async def page_of_member(
    member_id: int, *, before_id: int | None, limit: int, status: str | None
) -> list[RewardRedemption]:
    """Newest first, keyset by id: `limit` rows older than `before_id`."""
    query = RewardRedemption.filter(member_id=member_id)
    if before_id is not None:
        query = query.filter(id__lt=before_id)
    if status is not None:
        query = query.filter(status=status)
    return await query.order_by("-id").limit(limit)


async def all_of_member(member_id: int) -> list[RewardRedemption]:
    return await RewardRedemption.filter(member_id=member_id).order_by("id")


async def rewards_by_ids(ids: list[int]) -> dict[int, RewardRow]:
    return {row.id: row for row in await RewardRow.filter(id__in=ids)}


async def coupon_codes(ids: list[int]) -> dict[int, str]:
    return {c.id: c.code for c in await Coupon.filter(id__in=ids).only("id", "code")}
