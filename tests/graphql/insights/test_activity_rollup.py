"""The rollups of migration 15 (PostgreSQL), kept by a trigger on the ledger whatever path wrote
the ledger row: member_activity, one row per member per active day, week, month and year of the
programme's zone, by the same rule the ledger is read by on SQLite (db/sql/insights_texts.py's
ACTIVE); ledger_day_sums, the AVAILABLE points by day, kind, reference type and sign, appended
and folded by the jobs without changing a sum."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta

import pytest
from tortoise import connections

from db.sql.insights_rollup import fold_ledger_days
from db.sql.insights_texts import ACTIVE
from domain.auth import Role
from domain.errors import NotFound
from services.insights import rebuild_rollups
from tests.conftest import ON_POSTGRES
from tests.graphql.coupons.helpers import frozen_now
from tests.graphql.insights.scenario import ZONE, build, check_in
from tests.graphql.points.helpers import advance, completed_order, line

pytestmark = pytest.mark.skipif(
    not ON_POSTGRES,
    reason="member_activity is PostgreSQL's (SQLite counts active members from the ledger: "
    "the embedded pass checks those figures in test_figures.py)",
)


async def _pairs(sql: str, *params: object) -> set[tuple[str, date, int]]:
    rows = await connections.get("default").execute_query_dict(sql, list(params))
    return {(r["period"].strip(), r["starts"], r["member_id"]) for r in rows}


async def test_the_trigger_keeps_each_active_day_week_and_month(
    gql, programme, make_member, make_key
):
    # given the scenario's year: orders, a check-in, spends, a coupon bought, a reward, a
    # return, expiry by the jobs, a pending order
    await build(gql, programme, make_member, make_key)
    # when the active days are read off the ledger by the rule itself, each day worked out in
    # Python in the programme's zone (not by PostgreSQL, whose reading of a zone is the thing
    # being checked)
    rows = await connections.get("default").execute_query_dict(
        "SELECT t.created_at, t.member_id FROM point_transactions t "
        f"WHERE t.programme_id = $1 AND {ACTIVE}",
        [programme.id],
    )
    days = {("D", r["created_at"].astimezone(ZONE).date(), r["member_id"]) for r in rows}
    assert len(days) >= 4  # Alice and Bob on day 0, Bob and Carol on day 370
    expected = set(days)
    for _, day, member in days:
        expected.add(("W", day - timedelta(days=day.weekday()), member))
        expected.add(("M", day.replace(day=1), member))
        expected.add(("Y", day.replace(month=1, day=1), member))
    # then member_activity holds exactly those rows: no more, no fewer
    kept = await _pairs(
        "SELECT period, starts, member_id FROM member_activity WHERE programme_id = $1",
        programme.id,
    )
    assert kept == expected


async def test_a_day_is_the_programmes_day_not_utcs(gql, programme, make_member, make_key):
    # given a member who checks in at half past midnight in Shanghai (the evening before in UTC)
    admin = await make_key(programme, Role.ADMIN)
    storefront = await make_key(programme, Role.STOREFRONT)
    member = await make_member(programme)
    now = await frozen_now(gql, admin)
    local = now.astimezone(ZONE).date() + timedelta(days=1)
    target = datetime.combine(local, time(0, 30), ZONE)
    await advance(gql, admin, seconds=int((target - now).total_seconds()))
    await check_in(gql, storefront, member.external_id)
    assert target.astimezone(UTC).date() == local - timedelta(days=1)
    # then the day noted is Shanghai's, and the week and month are those of that day
    kept = await _pairs(
        "SELECT period, starts, member_id FROM member_activity WHERE member_id = $1", member.id
    )
    assert kept == {
        ("D", local, member.id),
        ("W", local - timedelta(days=local.weekday()), member.id),
        ("M", local.replace(day=1), member.id),
        ("Y", local.replace(month=1, day=1), member.id),
    }
    # and the points it earned are in Shanghai's day too
    sums = await connections.get("default").execute_query_dict(
        "SELECT day, kind, SUM(points) AS points FROM ledger_day_sums WHERE programme_id = $1 "
        "GROUP BY day, kind",
        [programme.id],
    )
    assert [(r["day"], r["kind"], r["points"]) for r in sums] == [(local, "EARN", 5)]


# The AVAILABLE rows, to be summed by day in Python (the day in the programme's zone).
LEDGER_ROWS = (
    "SELECT t.created_at, t.kind, t.reference_type, t.amount FROM point_transactions t "
    "WHERE t.programme_id = $1 AND t.bucket = 'AVAILABLE'"
)
SUMS_KEPT = (
    "SELECT day, kind, reference_type, credit, SUM(points) AS points, COUNT(*) AS n "
    "FROM ledger_day_sums WHERE programme_id = $1 GROUP BY 1, 2, 3, 4"
)


async def _sums(sql: str, *params: object) -> dict[tuple, int]:
    rows = await connections.get("default").execute_query_dict(sql, list(params))
    return {(r["day"], r["kind"], r["reference_type"], r["credit"]): r["points"] for r in rows}


async def _ledger_sums(programme_id: int) -> dict[tuple, int]:
    rows = await connections.get("default").execute_query_dict(LEDGER_ROWS, [programme_id])
    sums: dict[tuple, int] = {}
    for r in rows:
        key = (r["created_at"].astimezone(ZONE).date(), r["kind"], r["reference_type"])
        key = (*key, r["amount"] > 0)
        sums[key] = sums.get(key, 0) + r["amount"]
    return sums


async def test_the_day_sums_are_the_ledgers(gql, programme, make_member, make_key):
    # given the scenario's year: earning, spending, a return, expiry by the jobs
    await build(gql, programme, make_member, make_key)
    expected = await _ledger_sums(programme.id)
    assert len(expected) >= 5 and any(v < 0 for v in expected.values())
    # then the day sums kept are the ledger's, day by day
    assert await _sums(SUMS_KEPT, programme.id) == expected


async def test_folding_the_day_sums_changes_no_sum(gql, programme, make_member, make_key):
    # given three members whose orders complete on the same day: one group of three rows
    admin = await make_key(programme, Role.ADMIN)
    for _ in range(3):
        member = await make_member(programme)
        await completed_order(gql, admin, member.external_id, lines=[line("item", 1_000)])
    expected = await _ledger_sums(programme.id)
    before = await connections.get("default").execute_query_dict(SUMS_KEPT, [programme.id])
    assert max(r["n"] for r in before) == 3
    # when the jobs fold them, twice (the second has nothing left to fold)
    first = await fold_ledger_days(programme.id)
    again = await fold_ledger_days(programme.id)
    # then each group is one row, the sums unchanged
    assert (first, again) == (sum(r["n"] - 1 for r in before), 0)
    after = await connections.get("default").execute_query_dict(SUMS_KEPT, [programme.id])
    assert {r["n"] for r in after} == {1}
    assert await _sums(SUMS_KEPT, programme.id) == expected


async def test_a_rebuild_makes_the_rollups_the_ledger_gives(gql, programme, make_member, make_key):
    # given the scenario's year, and rollups gone wrong: activity lost, a day sum that is no sum
    await build(gql, programme, make_member, make_key)
    db = connections.get("default")
    kept = "SELECT period, starts, member_id FROM member_activity WHERE programme_id = $1"
    before = await _pairs(kept, programme.id)
    expected_sums = await _ledger_sums(programme.id)
    await db.execute_query("DELETE FROM member_activity WHERE programme_id = $1", [programme.id])
    await db.execute_query(
        "INSERT INTO ledger_day_sums (programme_id, day, kind, reference_type, credit, points) "
        "VALUES ($1, '2001-01-01', 'EARN', 'ORDER', true, 999)",
        [programme.id],
    )
    # when the operator rebuilds this programme's rollups
    done = await rebuild_rollups(programme.code)
    # then they are what the trigger had made, and say so
    assert await _pairs(kept, programme.id) == before and len(before) >= 16
    assert await _sums(SUMS_KEPT, programme.id) == expected_sums
    assert [(d.programme, d.activity_rows) for d in done] == [(programme.code, len(before))]
    # and an unknown programme is named
    with pytest.raises(NotFound):
        await rebuild_rollups("no-such-programme")


async def test_folds_run_at_once_beside_new_rows_count_each_row_once(
    gql, programme, make_member, make_key
):
    # given a day with rows to fold
    admin = await make_key(programme, Role.ADMIN)
    members = [await make_member(programme) for _ in range(4)]
    for member in members[:2]:
        await completed_order(gql, admin, member.external_id, lines=[line("item", 1_000)])

    async def more_orders() -> None:
        for member in members[2:]:
            await completed_order(gql, admin, member.external_id, lines=[line("item", 1_000)])

    # when three folds run at once while more orders complete
    await asyncio.gather(
        fold_ledger_days(programme.id),
        fold_ledger_days(programme.id),
        more_orders(),
        fold_ledger_days(programme.id),
    )
    # then the sums are still the ledger's, each row counted once, and a last fold leaves one
    # row per group
    assert await _sums(SUMS_KEPT, programme.id) == await _ledger_sums(programme.id)
    await fold_ledger_days(programme.id)
    rows = await connections.get("default").execute_query_dict(SUMS_KEPT, [programme.id])
    assert {r["n"] for r in rows} == {1}
    assert await _sums(SUMS_KEPT, programme.id) == await _ledger_sums(programme.id)
