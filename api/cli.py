"""`loyalty` command line: serve, migrate, seed-demo, create-programme, create-key,
create-partner-key, partner-statement, revoke-key, run-jobs, rebuild-insights,
build-recommendations, audit-export, deliver-webhooks, worker, generate-webhook-key,
print-schema."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from api import logs
from api import settings as settings_module
from api.settings import Settings, SettingsError
from api.webhook_setup import configure_webhooks
from db.cache import configure_cache
from db.connection import close_database, migrate, open_database
from domain.auth import KEY_ROLES, Principal, Role
from domain.clock import ProgrammeMode
from domain.errors import DomainError


def _print_keys(path: Path, keys: list[tuple[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{name}={secret}" for name, secret in keys]
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # owner-only from the start
    with os.fdopen(fd, "w") as keys_file:
        keys_file.write("\n".join(lines) + "\n")
    print(f"API keys (shown once; also written to {path}):")
    for line in lines:
        print("  " + line)


async def _with_db(settings: Settings, work: Callable[[], Awaitable[int]]) -> int:
    """The database and the servers' cache: a command's writes (a revoked key, a tier moved by
    run-jobs) must invalidate what the running servers hold in Redis."""
    await open_database(settings.database_url)
    cache = configure_cache(settings.redis_url)
    configure_webhooks(settings)
    try:
        return await work()
    finally:
        await cache.close()
        await close_database()


async def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    applied = await migrate(settings.database_url)
    print(f"migrations applied: {', '.join(applied) if applied else 'none (up to date)'}")
    return 0


async def cmd_seed_demo(settings: Settings, args: argparse.Namespace) -> int:
    from services.seed import seed_demo

    async def work() -> int:
        result = await seed_demo(member_count=args.members)
        if not result.created:
            keys_file = settings.data_dir / "demo-keys.env"
            print(f"demo programme already seeded (its keys were written to {keys_file})")
            return 0
        print(f"seeded demo programme {result.programme_id}: 6 tiers, {result.members} members")
        _print_keys(
            settings.data_dir / "demo-keys.env",
            [(f"LOYALTY_{k.role.name}_KEY", k.secret) for k in result.keys],
        )
        return 0

    return await _with_db(settings, work)


async def cmd_create_programme(settings: Settings, args: argparse.Namespace) -> int:
    from services import keys as key_service
    from services import programmes as programme_service

    async def work() -> int:
        programme = await programme_service.create(
            code=args.code,
            name=args.name,
            currency=args.currency,
            timezone=args.timezone,
            mode=ProgrammeMode.SANDBOX if args.sandbox else ProgrammeMode.LIVE,
        )
        key = await key_service.create_key(programme.id, Role.ADMIN, label="first admin key")
        print(f"created programme {programme.code} (id {programme.id}, {programme.mode.value})")
        print(f"admin key (shown once): {key.secret}")
        return 0

    return await _with_db(settings, work)


async def _programme_named(code: str, argument: str = "programme") -> Any:
    """The programme with this code, or None after saying which argument named none."""
    from services import programmes as programme_service

    programme = await programme_service.by_code(code)
    if programme is None:
        print(f"loyalty: argument {argument}: no programme {code!r}", file=sys.stderr)
    return programme


async def cmd_create_key(settings: Settings, args: argparse.Namespace) -> int:
    from services import keys as key_service

    async def work() -> int:
        programme = await _programme_named(args.programme)
        if programme is None:
            return 1
        key = await key_service.create_key(programme.id, Role(args.role), label=args.label)
        print(f"{key.role.value} key for {programme.code} (shown once): {key.secret}")
        print(f"revoke it with: loyalty revoke-key {programme.code} {key.display_prefix}")
        return 0

    return await _with_db(settings, work)


async def cmd_create_partner_key(settings: Settings, args: argparse.Namespace) -> int:
    from services.partners import admin as partner_admin

    async def work() -> int:
        programme = await _programme_named(args.programme)
        if programme is None:
            return 1
        staff = Principal(programme_id=programme.id, role=Role.ADMIN, key_id=0)
        key = await partner_admin.issue_key(staff, code=args.partner, label=args.label)
        print(f"partner key for {args.partner} in {programme.code} (shown once): {key.secret}")
        print(f"revoke it with: loyalty revoke-key {programme.code} {key.display_prefix}")
        return 0

    return await _with_db(settings, work)


def write_statement_csv(found: Any, out: TextIO) -> None:
    """A statement as CSV: a header, then one row per line (services.partners.statements)."""
    import csv

    from domain.partner_statement import CSV_HEADER, csv_row
    from services.partners.transfers import global_id

    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for line in found.lines:
        writer.writerow(csv_row(line, global_id(line.transfer.id)))


async def cmd_partner_statement(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import date

    from services.partners import statements
    from services.partners.transfers import global_id

    try:
        day = date.fromisoformat(args.date)
    except ValueError:
        print(f"not a date (YYYY-MM-DD): {args.date!r}", file=sys.stderr)
        return 2

    async def work() -> int:
        programme = await _programme_named(args.programme)
        if programme is None:
            return 1
        staff = Principal(programme_id=programme.id, role=Role.ADMIN, key_id=0)
        found = await statements.statement(staff, partner_code=args.partner, day=day)
        if args.csv:
            write_statement_csv(found, sys.stdout)
            return 0
        print(
            f"{found.partner.code} statement for {day} ({found.timezone}): {len(found.lines)} lines"
        )
        for line in found.lines:
            t = line.transfer
            print(
                f"  {line.at.isoformat()} {global_id(t.id)} {t.direction:<3} {line.status:<9} "
                f"{t.member_external_id} / {t.partner_member_id} "
                f"{t.partner_transfer_id or t.partner_reference or '-'} "
                f"{t.partner_units} units = {t.points} points at {t.rate[0]}:{t.rate[1]}"
            )
        for total in found.totals:
            print(
                f"total {total.direction} {total.status}: {total.count} lines, "
                f"{total.points} points, {total.partner_units} units"
            )
        return 0

    return await _with_db(settings, work)


async def cmd_revoke_key(settings: Settings, args: argparse.Namespace) -> int:
    from services import keys as key_service

    async def work() -> int:
        programme = await _programme_named(args.programme)
        if programme is None:
            return 1
        revoked = await key_service.revoke_key(programme.id, args.prefix)
        print(f"revoked {revoked} key" if revoked else "no active key with that prefix")
        if revoked and not settings.redis_url:
            print(
                "note: LOYALTY_REDIS_URL is not set here; servers that cache keys in Redis "
                "accept this key until their entry expires (60 s). Run this command with "
                "the servers' LOYALTY_REDIS_URL.",
                file=sys.stderr,
            )
        return 0 if revoked else 1

    return await _with_db(settings, work)


async def cmd_set_rate_limit(settings: Settings, args: argparse.Namespace) -> int:
    from services import programmes as programme_service

    async def work() -> int:
        await programme_service.set_rate_limit(
            args.programme, args.role, maximum=args.maximum, restore_rate=args.restore_rate
        )
        if args.maximum is None:
            print(f"{args.programme}: {args.role} keys and tokens are back on the default limit")
        else:
            print(
                f"{args.programme}: each {args.role} credential may hold {args.maximum} cost "
                f"points and regains {args.restore_rate} a second (servers see it within a minute)"
            )
        return 0

    return await _with_db(settings, work)


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


def _instant(text: str) -> datetime:
    """An ISO date or date-time; without a zone it is UTC."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date or date-time: {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def cmd_audit_export(settings: Settings, args: argparse.Namespace) -> int:
    import orjson

    from services import audit as audit_service

    async def work() -> int:
        programme_id = None
        if args.programme:
            programme = await _programme_named(args.programme, "--programme")
            if programme is None:
                return 1
            programme_id = programme.id
        out = sys.stdout.buffer
        async for row in audit_service.export(
            since=args.since, until=args.until, programme_id=programme_id
        ):
            out.write(orjson.dumps(row) + b"\n")
        out.flush()
        return 0

    return await _with_db(settings, work)


async def cmd_deliver_webhooks(settings: Settings, args: argparse.Namespace) -> int:
    from services.webhooks.worker import Deliverer

    async def work() -> int:
        configure_webhooks(settings, **_delivery_options(args))
        await _until_signalled(lambda stop: Deliverer().run(stop))
        return 0

    return await _with_db(settings, work)


async def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    from services.schedule import run_scheduled
    from services.webhooks.worker import Deliverer

    async def work() -> int:
        configure_webhooks(settings, **_delivery_options(args))

        async def both(stop: asyncio.Event) -> None:
            await asyncio.gather(
                Deliverer().run(stop),
                run_scheduled(stop, settings.database_url, jobs_every=args.jobs_every),
            )

        await _until_signalled(both)
        return 0

    return await _with_db(settings, work)


def _delivery_options(args: argparse.Namespace) -> dict[str, object]:
    return {
        "lease_seconds": args.lease_seconds,
        "concurrency": args.concurrency,
        "per_endpoint": args.per_endpoint,
    }


async def _until_signalled(run: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Until SIGINT or SIGTERM; then the requests in flight finish (at most the timeout)."""
    import signal

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    print("delivering webhooks; stop with Ctrl-C", flush=True)
    await run(stop)


def cmd_generate_webhook_key(settings: Settings | None, args: argparse.Namespace) -> int:
    from services.webhooks.secrets import generate_key

    print(generate_key())
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    if settings.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # One scrape must see every worker: prometheus-client's multiprocess mode, set up
        # before the workers start (they inherit the environment).
        from api.metrics import prepare_multiprocess_dir

        prepare_multiprocess_dir(settings.data_dir / "prometheus")
    uvicorn.run(
        "api.app:create_app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level=settings.log_level.lower(),
        log_config=None,  # api/logs.py: ours, in every worker
        access_log=False,  # api/observe.py writes one line per request, in every mode
    )
    return 0


def cmd_print_schema(settings: Settings | None, args: argparse.Namespace) -> int:
    from schema import sdl

    sys.stdout.write(sdl())
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="loyalty", description="Headless loyalty API")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="serve /graphql on LOYALTY_HOST:LOYALTY_PORT")
    sub.add_parser("migrate", help="apply database migrations")
    seed = sub.add_parser("seed-demo", help="create the demo programme once")
    seed.add_argument("--members", type=int, default=50)
    prog = sub.add_parser("create-programme", help="create a programme and its first admin key")
    prog.add_argument("code")
    prog.add_argument("--name", required=True)
    prog.add_argument("--currency", default="CNY")
    prog.add_argument("--timezone", default="UTC")
    prog.add_argument("--sandbox", action="store_true", help="give it a test clock")
    key = sub.add_parser("create-key", help="create an API key; prints it once")
    key.add_argument("programme", help="programme code")
    key.add_argument("role", choices=[r.value for r in KEY_ROLES])
    key.add_argument("--label", default="")
    partner_key = sub.add_parser(
        "create-partner-key",
        help="create an API key (role partner) for one partner; prints it once",
    )
    partner_key.add_argument("programme", help="programme code")
    partner_key.add_argument("partner", help="partner code")
    partner_key.add_argument("--label", default="")
    statement = sub.add_parser(
        "partner-statement", help="a partner's settlement statement for one local day"
    )
    statement.add_argument("programme", help="programme code")
    statement.add_argument("partner", help="partner code")
    statement.add_argument("date", help="YYYY-MM-DD, in the programme's time zone")
    statement.add_argument("--csv", action="store_true", help="CSV lines on stdout")
    revoke = sub.add_parser("revoke-key", help="revoke a key by the prefix create-key printed")
    revoke.add_argument("programme", help="programme code")
    revoke.add_argument("prefix")
    limit = sub.add_parser(
        "set-rate-limit",
        help="one programme's rate limit for one role; without numbers, back to the default",
    )
    limit.add_argument("programme", help="programme code")
    limit.add_argument("role", choices=[r.value for r in Role])
    limit.add_argument("--maximum", type=int, help="cost points a credential's bucket holds")
    limit.add_argument("--restore-rate", type=int, help="cost points it regains a second")
    jobs = sub.add_parser(
        "run-jobs",
        help="periodic jobs: complete orders past their return window, expire holds and points, "
        "judge tier periods, issue monthly and birthday coupons, prune idempotency keys",
    )
    jobs.add_argument(
        "--programme",
        metavar="CODE",
        help="only this programme's jobs (idempotency keys are then not pruned)",
    )
    rebuild = sub.add_parser(
        "rebuild-insights",
        help="redo the insights rollups (PostgreSQL) from the ledger: after a restore or a bulk "
        "load that skipped the ledger's trigger",
    )
    rebuild.add_argument("--programme", metavar="CODE", help="only this programme")
    sub.add_parser(
        "build-recommendations",
        help="nightly: member segments (RFM), the co-purchase model and each member's ranked "
        "recommendations",
    )
    export = sub.add_parser(
        "audit-export", help="audit rows from --from (inclusive) to --to (exclusive), JSON lines"
    )
    export.add_argument("--from", dest="since", type=_instant, required=True)
    export.add_argument("--to", dest="until", type=_instant, required=True)
    export.add_argument("--programme", help="one programme's rows (by code); default all")
    sub.add_parser("print-schema", help="print the GraphQL schema as SDL")
    deliver = sub.add_parser(
        "deliver-webhooks",
        help="long-running: push events to webhook endpoints (several may run on PostgreSQL)",
    )
    worker = sub.add_parser(
        "worker",
        help="long-running: deliver webhooks and run the periodic jobs on a schedule, each job "
        "once at a time across workers",
    )
    worker.add_argument(
        "--jobs-every", type=int, default=300, help="seconds between run-jobs rounds (300)"
    )
    for command in (deliver, worker):
        command.add_argument(
            "--lease-seconds",
            type=float,
            default=45.0,
            help="a claimed delivery is due again this long after a deliverer died (45)",
        )
        command.add_argument("--concurrency", type=int, default=64, help="requests in flight")
        command.add_argument(
            "--per-endpoint", type=int, default=8, help="requests in flight to one endpoint"
        )
    sub.add_parser("generate-webhook-key", help="print a new key for LOYALTY_WEBHOOK_KEYS")
    return p


ASYNC_COMMANDS = {
    "migrate": cmd_migrate,
    "seed-demo": cmd_seed_demo,
    "create-programme": cmd_create_programme,
    "create-key": cmd_create_key,
    "create-partner-key": cmd_create_partner_key,
    "partner-statement": cmd_partner_statement,
    "revoke-key": cmd_revoke_key,
    "set-rate-limit": cmd_set_rate_limit,
    "run-jobs": cmd_run_jobs,
    "rebuild-insights": cmd_rebuild_insights,
    "build-recommendations": cmd_build_recommendations,
    "audit-export": cmd_audit_export,
    "deliver-webhooks": cmd_deliver_webhooks,
    "worker": cmd_worker,
}


# Where a service names a field differently from the command's argument.
FIELD_ALIASES = {"maximumAvailable": "maximum", "code": "programme"}


def _argument_of(p: argparse.ArgumentParser, command: str, field: str | None) -> str | None:
    """The command-line argument a service's error field stands for, as argparse names it in
    its own errors (`--timezone`, `code`); None when the error is not about one argument."""
    if not field:
        return None
    subparsers = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
    actions = subparsers.choices[command]._actions
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in field)
    for dest in (snake, FIELD_ALIASES.get(field, "")):
        for action in actions:
            if action.dest == dest:
                return "/".join(action.option_strings) or action.metavar or action.dest
    return None


def _report(p: argparse.ArgumentParser, command: str, error: DomainError) -> None:
    for each in error.errors:
        argument = _argument_of(p, command, each.field)
        where = f"argument {argument}: " if argument else ""
        print(f"loyalty {command}: error: {where}{each.message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if args.command == "print-schema":
        return cmd_print_schema(None, args)
    if args.command == "generate-webhook-key":
        return cmd_generate_webhook_key(None, args)
    try:
        settings = settings_module.load()
    except SettingsError as error:
        print(f"loyalty: configuration error: {error}", file=sys.stderr)
        return 2
    logs.configure(settings.log_level, settings.log_format)
    if args.command == "serve":
        return cmd_serve(settings, args)
    try:
        return asyncio.run(ASYNC_COMMANDS[args.command](settings, args))
    except DomainError as error:
        _report(p, args.command, error)
        return 1


if __name__ == "__main__":
    sys.exit(main())
