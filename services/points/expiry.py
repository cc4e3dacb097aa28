"""Expiry, both policies. Running it twice changes nothing the second time: it takes only what
is left in lots whose time has come, and a lot emptied by expiry is not found again."""

from __future__ import annotations

from datetime import timedelta

from tortoise.transactions import in_transaction

from db.models import Programme
from db.repositories import points as points_repo
from domain.lots import add_months, expired, first_of, rolling_expiry
from domain.points import ExpiryPolicy
from services.clock import now_of
from services.points.ledger import Entry, policy_of, record_expiry, spendable

BATCH = 500


async def expire_due(programme: Programme) -> tuple[int, int]:
    """(members touched, points expired) for one programme at its clock's now."""
    policy = policy_of(programme)
    now = now_of(programme)
    members, points, after_id = 0, 0, 0
    while True:
        if policy.expiry_policy is ExpiryPolicy.LOTS:
            candidates = await points_repo.members_with_lots_expired(
                programme.id, now, after_id=after_id, limit=BATCH
            )
        else:
            # a day's slack: month arithmetic clamps month ends; the exact check is per member
            before = add_months(now, -policy.expiry_months) + timedelta(days=1)
            candidates = await points_repo.members_inactive_since(
                programme.id, before, after_id=after_id, limit=BATCH
            )
        if not candidates:
            return members, points
        for member_id in candidates:
            after_id = member_id
            async with in_transaction():
                member = await points_repo.lock_member(programme.id, member_id)
                due = expired(
                    await points_repo.open_lots(member.id),
                    now,
                    policy=policy.expiry_policy,
                    rolling_expires_at=rolling_expiry(member.last_earned_at, policy.expiry_months),
                )
                # Points a checkout hold reserved do not expire under it: a capture spends
                # them (soonest-expiring lots first); a release leaves them for the next run.
                takes = first_of(due, spendable(member))
                total = sum(t.amount for t in takes)
                if total:
                    entry = Entry(
                        "EXPIRY", now.date().isoformat(), "points expired", "system:jobs", None, now
                    )
                    await record_expiry(member, entry, takes)
                    members += 1
                    points += total
