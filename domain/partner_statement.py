"""A partner's settlement statement for one local day: one line per thing that happened to a
transfer that day (made, closed, reversed), so a day's statement never changes once the day
is over — a later confirmation or reversal is a line on the later day."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class TransferFacts:
    id: int
    direction: str  # IN | OUT
    status: str  # now: PENDING | COMPLETED | FAILED | REVERSED
    member_external_id: str
    partner_member_id: str
    partner_transfer_id: str | None
    partner_reference: str | None
    partner_units: int
    points: int
    rate: tuple[int, int]
    reason: str | None
    created_at: datetime
    closed_at: datetime | None
    reversed_at: datetime | None


@dataclass(frozen=True)
class StatementLine:
    transfer: TransferFacts
    status: str  # what this line records: the status the transfer reached at `at`
    at: datetime


@dataclass(frozen=True)
class StatementTotal:
    direction: str
    status: str
    count: int
    points: int
    partner_units: int


def _closing_status(transfer: TransferFacts) -> str:
    """What closing made it: a reversed transfer had been completed."""
    return "COMPLETED" if transfer.status == "REVERSED" else transfer.status


def statement_lines(
    transfers: Iterable[TransferFacts], since: datetime, until: datetime
) -> list[StatementLine]:
    """The day [since, until)'s lines, in time order (then transfer id)."""

    def within(moment: datetime | None) -> bool:
        return moment is not None and since <= moment < until

    lines: list[StatementLine] = []
    for t in transfers:
        # A credit in is made and completed at once (one line); a transfer out is requested
        # (PENDING) and closed later, perhaps on another day.
        if within(t.created_at) and t.direction == "OUT":
            lines.append(StatementLine(t, "PENDING", t.created_at))
        if within(t.closed_at):
            assert t.closed_at is not None
            lines.append(StatementLine(t, _closing_status(t), t.closed_at))
        if within(t.reversed_at):
            assert t.reversed_at is not None
            lines.append(StatementLine(t, "REVERSED", t.reversed_at))
    order = {"PENDING": 0, "COMPLETED": 1, "FAILED": 1, "REVERSED": 2}
    return sorted(lines, key=lambda line: (line.at, line.transfer.id, order[line.status]))


def statement_totals(lines: Iterable[StatementLine]) -> list[StatementTotal]:
    """Per direction and status: how many lines, and their points and partner units."""
    sums: dict[tuple[str, str], tuple[int, int, int]] = {}
    for line in lines:
        key = (line.transfer.direction, line.status)
        count, points, units = sums.get(key, (0, 0, 0))
        sums[key] = (count + 1, points + line.transfer.points, units + line.transfer.partner_units)
    return [
        StatementTotal(direction, status, *sums[(direction, status)])
        for direction, status in sorted(sums)
    ]


CSV_HEADER = (
    "at",
    "transfer_id",
    "direction",
    "status",
    "member_external_id",
    "partner_member_id",
    "partner_transfer_id",
    "partner_reference",
    "partner_units",
    "points",
    "rate_source",
    "rate_target",
    "created_at",
)


def csv_row(line: StatementLine, transfer_id: str) -> tuple[str, ...]:
    t = line.transfer
    return (
        line.at.isoformat(),
        transfer_id,
        t.direction,
        line.status,
        t.member_external_id,
        t.partner_member_id,
        t.partner_transfer_id or "",
        t.partner_reference or "",
        str(t.partner_units),
        str(t.points),
        str(t.rate[0]),
        str(t.rate[1]),
        t.created_at.isoformat(),
    )
