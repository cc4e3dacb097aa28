"""`loyalty run-jobs`: the periodic work, each part safe to run twice."""

from __future__ import annotations

from dataclasses import dataclass

from db.models import Programme
from services.clock import now_of
from services.coupons.checkout import release_lapsed
from services.coupons.issuance import issue_due
from services.idempotency import prune_expired_keys
from services.points.expiry import expire_due
from services.points.orders import mature_due
from services.points.redemption import expire_holds
from services.tier_evaluation import end_periods


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
    report.orders_matured += await mature_due(programme)
    report.holds_expired += await expire_holds(programme)
    members, points = await expire_due(programme)
    report.members_expired += members
    report.points_expired += points
    judged, moved = await end_periods(programme)
    report.tier_periods_ended += judged
    report.tier_changes += moved
    # After the tier job, so allowances follow the tiers members hold now.
    report.coupons_issued += await issue_due(programme)
    report.coupon_locks_released += await release_lapsed(programme.id, now_of(programme))


async def run_all() -> JobReport:
    report = JobReport()
    for programme in await Programme.all().order_by("id"):
        await run_programme(programme, report)
    report.keys_pruned = await prune_expired_keys()
    return report
