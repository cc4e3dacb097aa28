"""Every query of the abuse controls: earned sums under the member's lock, and the flags."""

from __future__ import annotations

from datetime import datetime

from tortoise import connections
from tortoise.expressions import F
from tortoise.functions import Sum

from db.connection import is_postgres
from db.models import AbuseFlag, Order, PointTransaction, Referral


async def earned_since(member_id: int, reference_type: str, since: datetime) -> int:
    """Points the member earned from one source since an instant (credited rows only: what
    was held back for review is on the flags)."""
    rows = (
        await PointTransaction.filter(
            member_id=member_id,
            reference_type=reference_type,
            # a partner's credits are TRANSFER_IN rows; every other source earns
            kind="TRANSFER_IN" if reference_type == "PARTNER_IN" else "EARN",
            amount__gt=0,
            created_at__gte=since,
            # an order's points are earned when booked pending; maturing them is no new earning
            bucket="PENDING" if reference_type == "ORDER" else "AVAILABLE",
        )
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return int(rows[0]["total"] or 0) if rows else 0


async def order_points_since(member_id: int, since: datetime) -> tuple[int, int]:
    """(earned, taken back) by the member's orders' ledger rows since an instant."""
    rows = await PointTransaction.filter(
        member_id=member_id, reference_type="ORDER", created_at__gte=since
    ).values_list("kind", "bucket", "amount")
    # booked pending when the order was recorded; maturing moves it with a negative PENDING
    # row and a positive AVAILABLE one, which are not new earning
    earned = sum(a for kind, bucket, a in rows if kind == "EARN" and bucket == "PENDING" and a > 0)
    taken = sum(-a for kind, _, a in rows if kind == "REVERSE" and a < 0)
    return earned, taken


async def referrals_since(inviter_id: int, since: datetime) -> int:
    return await Referral.filter(inviter_id=inviter_id, created_at__gte=since).count()


async def orders_since(member_id: int, since: datetime) -> int:
    return await Order.filter(member_id=member_id, recorded_at__gte=since).count()


async def order_sums(
    member_id: int, cap_starts: list[datetime], velocity_since: datetime | None
) -> tuple[list[int], int]:
    """For an order about to be recorded: what the member earned from orders since each cap's
    period began (`earned_since`), and its orders since the velocity window began (0 when
    None). One statement on PostgreSQL."""
    if not is_postgres():
        earned = [await earned_since(member_id, "ORDER", since) for since in cap_starts]
        count = await orders_since(member_id, velocity_since) if velocity_since else 0
        return earned, count
    sums = [
        "(SELECT coalesce(sum(amount), 0) FROM point_transactions WHERE member_id = $1"
        " AND reference_type = 'ORDER' AND kind = 'EARN' AND bucket = 'PENDING'"
        f" AND amount > 0 AND created_at >= ${n})"
        for n in range(2, len(cap_starts) + 2)
    ]
    values: list[object] = [member_id, *cap_starts]
    if velocity_since is not None:
        values.append(velocity_since)
        sums.append(
            f"(SELECT count(*) FROM orders WHERE member_id = $1 AND recorded_at >= ${len(values)})"
        )
    _, rows = await connections.get("default").execute_query(
        f"SELECT {', '.join(f'{s} AS s{n}' for n, s in enumerate(sums))}", values
    )
    found = [int(rows[0][f"s{n}"]) for n in range(len(sums))]
    if velocity_since is None:
        return found, 0
    return found[:-1], found[-1]


async def hold(
    *, programme_id: int, member_id: int, rule: str, period: str, points: int, now: datetime
) -> AbuseFlag:
    """The member's flag for this rule and period, created once; `points` more held on it.
    Under the member's row lock, so two earnings cannot both create it."""
    flag = await AbuseFlag.get_or_none(member_id=member_id, rule=rule, period=period)
    if flag is None:
        return await AbuseFlag.create(
            programme_id=programme_id,
            member_id=member_id,
            rule=rule,
            period=period,
            points_held=points,
            status="OPEN",
            created_at=now,
        )
    if points and flag.status != "OPEN":
        # Decided already (its points released or refused): what is held now needs a decision
        # of its own, so the flag opens again holding only it. Added to the decided flag, it
        # would be neither credited nor reversed, ever. The earlier decision stays in the
        # audit log (and an approval's points in the ledger).
        await AbuseFlag.filter(id=flag.id).update(
            status="OPEN",
            points_held=points,
            decided_at=None,
            decided_by=None,
            decision_reason=None,
        )
        flag.status, flag.points_held = "OPEN", points
        flag.decided_at = flag.decided_by = flag.decision_reason = None
        return flag
    if points:
        await AbuseFlag.filter(id=flag.id).update(points_held=F("points_held") + points)
        flag.points_held += points
    return flag


async def page(
    programme_id: int, *, status: str | None, first: int, before_id: int | None
) -> list[AbuseFlag]:
    query = AbuseFlag.filter(programme_id=programme_id)
    if status is not None:
        query = query.filter(status=status)
    if before_id is not None:
        query = query.filter(id__lt=before_id)
    return await query.order_by("-id").limit(first + 1)


async def lock(programme_id: int, flag_id: int) -> AbuseFlag | None:
    return await AbuseFlag.filter(programme_id=programme_id, id=flag_id).select_for_update().first()


async def get(programme_id: int, flag_id: int) -> AbuseFlag | None:
    return await AbuseFlag.get_or_none(programme_id=programme_id, id=flag_id)


async def by_ids(programme_id: int, ids: list[int]) -> list[AbuseFlag]:
    return await AbuseFlag.filter(programme_id=programme_id, id__in=ids)
