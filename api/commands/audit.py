"""The audit-export command: audit rows of a period, of one programme or all, as JSON lines
on stdout."""

from __future__ import annotations

import argparse
import sys

from api.commands.common import _programme_named, _with_db
from api.settings import Settings


async def cmd_audit_export(settings: Settings, args: argparse.Namespace) -> int:
    import orjson

    from services.audit import trail as audit_trail

    async def work() -> int:
        programme_id = None
        if args.programme:
            programme = await _programme_named(args.programme, "--programme")
            if programme is None:
                return 1
            programme_id = programme.id
        out = sys.stdout.buffer
        async for row in audit_trail.export(
            since=args.since, until=args.until, programme_id=programme_id
        ):
            out.write(orjson.dumps(row) + b"\n")
        out.flush()
        return 0

    return await _with_db(settings, work)
