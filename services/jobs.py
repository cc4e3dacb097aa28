"""`loyalty run-jobs`: the periodic work, each part safe to run twice."""

from __future__ import annotations

from dataclasses import dataclass

from db.models import Programme
from services import catch_up, event_reminders
from services import events as event_service
from services.clock import now_of
from services.coupons.checkout import release_lapsed
from services.coupons.issuance import issue_due
from services.idempotency import prune_expired_keys
from services.partners import transfers as partner_transfers


@dataclass
class JobReport(catch_up.Done):
    keys_pruned: int = 0
    coupons_issued: int = 0
    coupon_locks_released: int = 0
    points_expiring_reminders: int = 0
    tier_downgrade_warnings: int = 0
    events_pruned: int = 0
    partner_transfers_failed: int = 0


async def run_programme(programme: Programme, report: JobReport) -> None:
    # Orders past their return window, lapsed holds, expiry and tier periods: member by
    # member, each in the order it fell due (services/catch_up.py).
    # Partner transfers out still pending past their timeout fail first: their held points
    # are then spendable (and expirable) again for the member-by-member pass below.
    report.partner_transfers_failed += await partner_transfers.fail_lapsed(programme)
    await catch_up.run(programme, report)
    # After the tier job, so allowances follow the tiers members hold now.
    report.coupons_issued += await issue_due(programme)
    report.coupon_locks_released += await release_lapsed(programme.id, now_of(programme))
    # After expiry and the tier job: reminders are about what is still to come.
    sent = await event_reminders.send_due(programme)
    report.points_expiring_reminders += sent.points_expiring
    report.tier_downgrade_warnings += sent.downgrade_warnings
    report.events_pruned += await event_service.prune(programme)


async def run_all() -> JobReport:
    report = JobReport()
    for programme in await Programme.all().order_by("id"):
        await run_programme(programme, report)
    report.keys_pruned = await prune_expired_keys()
    return report
