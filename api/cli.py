"""`loyalty` command line: serve, migrate, seed-demo, create-programme, create-key,
create-partner-key, partner-statement, revoke-key, run-jobs, rebuild-insights,
build-recommendations, audit-export, deliver-webhooks, worker, generate-webhook-key,
print-schema. This module parses the arguments, dispatches to the commands (api.commands, one
module per area) and reports a service's errors against the argument they are about."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime

from api import logs
from api import settings as settings_module
from api.commands.audit import cmd_audit_export
from api.commands.jobs import cmd_build_recommendations, cmd_rebuild_insights, cmd_run_jobs
from api.commands.keys import cmd_create_key, cmd_create_partner_key, cmd_revoke_key
from api.commands.partners import cmd_partner_statement
from api.commands.programmes import (
    cmd_create_programme,
    cmd_migrate,
    cmd_seed_demo,
    cmd_set_rate_limit,
)
from api.commands.server import cmd_print_schema, cmd_serve
from api.commands.webhooks import cmd_deliver_webhooks, cmd_generate_webhook_key, cmd_worker
from api.settings import SettingsError
from domain.auth import KEY_ROLES, Role
from domain.errors import DomainError


def _instant(text: str) -> datetime:
    """An ISO date or date-time; without a zone it is UTC."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date or date-time: {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


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
