"""`loyalty run-jobs`: the periodic work, each part safe to run twice."""

from __future__ import annotations

from dataclasses import dataclass

from db.metrics import job
from db.models import Programme
from db.sql.insights_rollup import fold_ledger_days
from domain.audit import DEFAULT_RETENTION_DAYS
from services import event_reminders
from services import events as event_service
from services.audit.trail import prune_expired as prune_audit
from services.catch_up import runner as catch_up
from services.catch_up.steps import Done
from services.clock import now_of
from services.coupons.allowances import issue_due
from services.coupons.checkout import release_lapsed
from services.idempotency import prune_expired_keys
from services.partners import transfers as partner_transfers
from services.programmes import every_or_one


@dataclass
class JobReport(Done):
    keys_pruned: int = 0
    audit_rows_pruned: int = 0
    coupons_issued: int = 0
    coupon_locks_released: int = 0
    points_expiring_reminders: int = 0
    tier_downgrade_warnings: int = 0
    events_pruned: int = 0
    partner_transfers_failed: int = 0
    ledger_day_rows_folded: int = 0


async def run_programme(programme: Programme, report: JobReport) -> None:
    # Partner transfers out still pending past their timeout fail first: their held points
    # are then spendable (and expirable) again for the member-by-member pass below.
    with job("partner_transfer_timeouts"):
        report.partner_transfers_failed += await partner_transfers.fail_lapsed(programme)
    # Orders past their return window, lapsed holds, expiry and tier periods: member by
    # member, each in the order it fell due (services/catch_up/).
    with job("catch_up"):
        await catch_up.run(programme, report)
    # After the tier job, so allowances follow the tiers members hold now.
    with job("coupon_issuance"):
        report.coupons_issued += await issue_due(programme)
    with job("coupon_lock_release"):
        report.coupon_locks_released += await release_lapsed(programme.id, now_of(programme))
    # After expiry and the tier job: reminders are about what is still to come.
    with job("event_reminders"):
        sent = await event_reminders.send_due(programme)
    report.points_expiring_reminders += sent.points_expiring
    report.tier_downgrade_warnings += sent.downgrade_warnings
    with job("event_pruning"):
        report.events_pruned += await event_service.prune(programme)
    # Last, so the day sums the jobs above appended are folded too (insights read them).
    with job("ledger_day_folding"):
        report.ledger_day_rows_folded += await fold_ledger_days(programme.id)


async def run_all(
    programme_code: str | None = None, *, audit_retention_days: int = DEFAULT_RETENTION_DAYS
) -> JobReport:
    """Every programme's jobs, or one programme's (by code). Pruning idempotency keys and
    audit rows spans programmes, so it runs only with the others."""
    report = JobReport()
    for programme in await every_or_one(programme_code):
        await run_programme(programme, report)
    if programme_code is None:
        with job("idempotency_key_pruning"):
            report.keys_pruned = await prune_expired_keys()
        with job("audit_pruning"):
            report.audit_rows_pruned = await prune_audit(audit_retention_days)
    return report
