"""The partner-statement command: a partner's settlement statement for one local day, as
text or as CSV lines."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from api.commands.common import _programme_named, _with_db
from api.settings import Settings
from domain.auth import Principal, Role


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
