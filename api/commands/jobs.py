"""The batch commands run on a schedule or by hand: run-jobs (the periodic jobs),
rebuild-insights (the rollups from the ledger) and build-recommendations (the nightly model)."""

from __future__ import annotations

import argparse

from api.commands.common import _with_db
from api.settings import Settings


async def cmd_run_jobs(settings: Settings, args: argparse.Namespace) -> int:
    import time

    from services.jobs import run_all

    async def work() -> int:
        started = time.perf_counter()
        report = await run_all(args.programme, audit_retention_days=settings.audit_retention_days)
        one = "skipped (one programme)" if args.programme else None
        print(
            f"orders completed: {report.orders_matured}; holds expired: {report.holds_expired}; "
            f"points expired: {report.points_expired} from {report.members_expired} members; "
            f"tier periods ended: {report.tier_periods_ended} ({report.tier_changes} moved); "
            f"coupons issued: {report.coupons_issued}; "
            f"coupon locks released: {report.coupon_locks_released}; "
            f"reminders: {report.points_expiring_reminders} points expiring, "
            f"{report.tier_downgrade_warnings} tier downgrade warnings; "
            f"events pruned: {report.events_pruned}; "
            f"partner transfers timed out: {report.partner_transfers_failed}; "
            f"ledger day sums folded: {report.ledger_day_rows_folded}; "
            f"idempotency keys pruned: {one or report.keys_pruned}; "
            f"audit rows pruned: {one or report.audit_rows_pruned} "
            f"({time.perf_counter() - started:.2f} s)"
        )
        return 0

    return await _with_db(settings, work)


async def cmd_rebuild_insights(settings: Settings, args: argparse.Namespace) -> int:
    from db.connection import is_postgres
    from services.insights import rebuild_rollups

    async def work() -> int:
        if not is_postgres():
            print("nothing to rebuild: on SQLite insights read the ledger itself")
            return 0
        for done in await rebuild_rollups(args.programme):
            print(
                f"{done.programme}: {done.activity_rows} member activity rows, "
                f"{done.day_sums} day sums, from its ledger"
            )
        return 0

    return await _with_db(settings, work)


async def cmd_build_recommendations(settings: Settings, args: argparse.Namespace) -> int:
    from services.recommendations.build import build_all

    async def work() -> int:
        for code, report in await build_all():
            print(
                f"{code}: {report.members} members segmented, {report.lists} lists, "
                f"{report.products} products bought, {report.pairs} similar pairs "
                f"({report.seconds:.2f} s)"
            )
        return 0

    return await _with_db(settings, work)
