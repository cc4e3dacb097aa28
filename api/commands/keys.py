"""The commands that hand out and take back API keys: create-key, create-partner-key (a key
for one partner) and revoke-key."""

from __future__ import annotations

import argparse
import sys

from api.commands.common import _programme_named, _with_db
from api.settings import Settings
from domain.auth import Principal, Role


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
