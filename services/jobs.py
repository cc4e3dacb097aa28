"""`loyalty run-jobs`: the periodic work, each part safe to run twice."""

from __future__ import annotations

from dataclasses import dataclass

from db.models import Programme
from services import catch_up
from services.clock import now_of
from services.coupons.checkout import release_lapsed
from services.coupons.issuance import issue_due
from services.idempotency import prune_expired_keys


@dataclass
class JobReport:
    orders_matured: int = 0
    holds_expired: int = 0
    members_expired: int = 0
    points_expired: int = 0
    keys_pruned: int = 0
    tier_periods_ended: int = 0
    tier_changes: int = 0
    coupons_issued: int = 0
    coupon_locks_released: int = 0


async def run_programme(programme: Programme, report: JobReport) -> None:
    # Orders past their return window, lapsed holds, expiry and tier periods: member by
    # member, each in the order it fell due (services/catch_up.py).
    done = await catch_up.run(programme)
    report.orders_matured += done.orders_matured
    report.holds_expired += done.holds_expired
    report.members_expired += done.members_expired
    report.points_expired += done.points_expired
    report.tier_periods_ended += done.tier_periods_ended
    report.tier_changes += done.tier_changes
    # After the tier job, so allowances follow the tiers members hold now.
    report.coupons_issued += await issue_due(programme)
    report.coupon_locks_released += await release_lapsed(programme.id, now_of(programme))


async def run_all() -> JobReport:
    report = JobReport()
    for programme in await Programme.all().order_by("id"):
        await run_programme(programme, report)
    report.keys_pruned = await prune_expired_keys()
    return report
