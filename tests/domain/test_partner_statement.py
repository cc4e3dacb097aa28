"""A day's statement without a database: a line per event of the day, totals, stability."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from domain.partner_statement import TransferFacts, statement_lines, statement_totals

DAY = datetime(2026, 3, 1, tzinfo=UTC)
NEXT = DAY + timedelta(days=1)


def transfer(n: int, direction: str, status: str, **moments: datetime | None) -> TransferFacts:
    return TransferFacts(
        id=n,
        direction=direction,
        status=status,
        member_external_id=f"m{n}",
        partner_member_id=f"p{n}",
        partner_transfer_id=None,
        partner_reference=None,
        partner_units=n * 10,
        points=n,
        rate=(10, 1),
        reason=None,
        created_at=moments.get("created_at") or DAY + timedelta(hours=n),
        closed_at=moments.get("closed_at"),
        reversed_at=moments.get("reversed_at"),
    )


def test_each_event_is_a_line_on_the_day_it_happened():
    credit = transfer(1, "IN", "COMPLETED", closed_at=DAY + timedelta(hours=1))
    out = transfer(
        2,
        "OUT",
        "REVERSED",
        closed_at=NEXT + timedelta(hours=1),
        reversed_at=NEXT + timedelta(hours=2),
    )
    failed = transfer(3, "OUT", "FAILED", closed_at=DAY + timedelta(hours=5))
    day = statement_lines([credit, out, failed], DAY, NEXT)
    later = statement_lines([credit, out, failed], NEXT, NEXT + timedelta(days=1))
    assert [(x.transfer.id, x.status) for x in day] == [
        (1, "COMPLETED"),  # a credit is made and completed at once: one line
        (2, "PENDING"),
        (3, "PENDING"),
        (3, "FAILED"),
    ]
    assert [(x.transfer.id, x.status) for x in later] == [(2, "COMPLETED"), (2, "REVERSED")]
    totals = statement_totals(day)
    assert [(t.direction, t.status, t.count, t.points, t.partner_units) for t in totals] == [
        ("IN", "COMPLETED", 1, 1, 10),
        ("OUT", "FAILED", 1, 3, 30),
        ("OUT", "PENDING", 2, 5, 50),
    ]


def test_a_days_lines_do_not_change_when_its_transfers_close_later():
    pending = transfer(1, "OUT", "PENDING")
    before = statement_lines([pending], DAY, NEXT)
    closed = replace(pending, status="REVERSED", closed_at=NEXT, reversed_at=NEXT + timedelta(1))
    after = statement_lines([closed], DAY, NEXT)
    assert [(x.status, x.at) for x in before] == [(x.status, x.at) for x in after]
