"""The commands that set a programme up: migrate, seed-demo, create-programme and
set-rate-limit."""

from __future__ import annotations

import argparse

from api.commands.common import _print_keys, _with_db
from api.settings import Settings
from db.connection import migrate
from domain.auth import Role
from domain.clock import ProgrammeMode


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
