"""Point 5: the settlement statement of a local day (query and CLI), stable once the day has
ended, summing to the ledger."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.functions import Sum

from api.commands.partners import write_statement_csv
from db.models import Member, Partner, PointTransaction, Programme
from domain.auth import Principal, Role
from domain.partners import local_day_bounds
from services.clock import now_of
from services.partners import credits, links, statements, transfers
from tests.conftest import needs_postgres
from tests.fixtures.points import advance
from tests.graphql.partners.documents import CONFIRM, REVERSE, STATEMENT
from tests.graphql.partners.helpers import DEFAULT_TERMS, link, new_key, partner_with_key
from tests.graphql.partners.test_partner_credits import credit
from tests.graphql.partners.test_partner_transfers_out import answer, send
from tests.graphql.points.helpers import fund


async def local_day(programme: Programme) -> date:
    fresh = await Programme.get(id=programme.id)
    return now_of(fresh).astimezone(ZoneInfo(fresh.timezone)).date()


async def statement(gql, key: str, code: str, day: date) -> dict[str, Any]:
    body = await gql(STATEMENT, {"code": code, "date": day.isoformat()}, auth=key)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["partnerStatement"]
    return result


async def test_a_days_statement_lists_every_event_and_stays_the_same_after_the_day(
    gql, programme, keys, make_member
):
    # given on day D: a credit in, a transfer out confirmed, and one still pending
    admin, storefront = keys
    sky = await partner_with_key(gql, admin, terms={**DEFAULT_TERMS, "timeoutMinutes": 2 * 1440})
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 100)
    pmid = await link(gql, storefront, sky.code, member)
    await credit(gql, sky.key, "IN-1", pmid, 250)
    done = (await send(gql, storefront, sky.code, member.external_id, 30))["transfer"]["id"]
    await answer(gql, sky.key, CONFIRM, "confirmPartnerTransfer", id=done, partnerReference="R-1")
    later = (await send(gql, storefront, sky.code, member.external_id, 20))["transfer"]["id"]
    day = await local_day(programme)
    first = await statement(gql, admin, sky.code, day)
    # then the statement has a line per event, with both sides' ids, and totals
    assert (first["partnerCode"], first["date"], first["timezone"]) == (
        sky.code,
        day.isoformat(),
        "Asia/Shanghai",
    )
    assert [
        (x["transfer"]["direction"], x["status"], x["transfer"]["points"]) for x in first["lines"]
    ] == [
        ("IN", "COMPLETED", 25),
        ("OUT", "PENDING", 30),
        ("OUT", "COMPLETED", 30),
        ("OUT", "PENDING", 20),
    ]
    assert first["lines"][0]["transfer"]["partnerTransferId"] == "IN-1"
    assert first["lines"][2]["transfer"]["partnerReference"] == "R-1"
    assert {x["memberExternalId"] for x in first["lines"]} == {member.external_id}
    assert first["totals"] == [
        {"direction": "IN", "status": "COMPLETED", "count": 1, "points": 25, "partnerUnits": 250},
        {"direction": "OUT", "status": "COMPLETED", "count": 1, "points": 30, "partnerUnits": 240},
        {"direction": "OUT", "status": "PENDING", "count": 2, "points": 50, "partnerUnits": 400},
    ]
    # when, the next day, the pending one is confirmed and the first one reversed
    await advance(programme, days=1)
    await answer(gql, sky.key, CONFIRM, "confirmPartnerTransfer", id=later, partnerReference="R-2")
    await answer(
        gql,
        admin,
        REVERSE,
        "reversePartnerTransfer",
        id=done,
        reason="refund",
        idempotencyKey=new_key(),
    )
    # then day D's statement is unchanged and the next day's holds the new events
    again = await statement(gql, admin, sky.code, day)
    assert [(x["at"], x["status"]) for x in again["lines"]] == [
        (x["at"], x["status"]) for x in first["lines"]
    ]
    assert again["totals"] == first["totals"]
    following = await statement(gql, sky.key, sky.code, await local_day(programme))
    # (the test clock stood still that day: lines of one moment are in transfer id order)
    assert [(x["status"], x["transfer"]["points"]) for x in following["lines"]] == [
        ("REVERSED", 30),
        ("COMPLETED", 20),
    ]


async def test_a_partner_sees_only_its_own_statement(
    gql, programme, keys, make_programme, make_key
):
    admin, storefront = keys
    sky, sea = await partner_with_key(gql, admin), await partner_with_key(gql, admin)
    other_admin = await make_key(await make_programme(), Role.ADMIN)
    day = await local_day(programme)
    theirs = await gql(STATEMENT, {"code": sea.code, "date": day.isoformat()}, auth=sky.key)
    foreign = await gql(STATEMENT, {"code": sky.code, "date": day.isoformat()}, auth=other_admin)
    by_store = await gql(STATEMENT, {"code": sky.code, "date": day.isoformat()}, auth=storefront)
    assert theirs["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert foreign["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert by_store["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@needs_postgres
async def test_a_statement_of_a_day_with_1000_transfers_sums_to_the_ledger(
    gql, programme, keys, make_member
):
    # given 800 credits in and 200 transfers out (100 confirmed, 50 rejected, 50 pending)
    admin, _ = keys
    sky = await partner_with_key(gql, admin)
    partner = await Partner.get(programme_id=programme.id, code=sky.code)
    key = Principal(programme_id=programme.id, role=Role.PARTNER, key_id=-3, partner_id=partner.id)
    store = Principal(programme_id=programme.id, role=Role.STOREFRONT, key_id=-2)
    members = [await make_member(programme) for _ in range(20)]
    for n, member in enumerate(members):
        await links.link_by_member(
            store,
            partner_code=sky.code,
            partner_member_id=f"P-{n}",
            member_external_id=member.external_id,
            share_balance=False,
            idempotency_key=uuid.uuid4().hex,
        )
    for n in range(800):
        await credits.credit(
            key,
            partner_transfer_id=f"T-{n}",
            partner_member_id=f"P-{n % 20}",
            partner_units=100 + n,
        )
    for n in range(200):
        out = await transfers.request(
            store,
            partner_code=sky.code,
            points=5,
            member_external_id=members[n % 20].external_id,
            idempotency_key=uuid.uuid4().hex,
        )
        if n < 100:
            await transfers.confirm(key, transfer_id=out.id, partner_reference=f"R-{n}")
        elif n < 150:
            await transfers.reject(key, transfer_id=out.id, reason="no")
    # when the day's statement is read
    day = await local_day(programme)
    found = await statement(gql, admin, sky.code, day)
    totals = {(t["direction"], t["status"]): t for t in found["totals"]}
    # then it has every event, and its totals are the ledger's for that partner and day
    assert len({x["transfer"]["id"] for x in found["lines"]}) == 1_000
    since, until = local_day_bounds(day, ZoneInfo("Asia/Shanghai"))

    async def ledger(kind: str, reference_type: str) -> int:
        rows = (
            await PointTransaction.filter(
                programme_id=programme.id,
                kind=kind,
                reference_type=reference_type,
                reference__startswith=f"{sky.code}/",
                created_at__gte=since,
                created_at__lt=until,
            )
            .annotate(total=Sum("amount"))
            .values("total")
        )
        return int(rows[0]["total"] or 0)

    assert totals[("IN", "COMPLETED")]["count"] == 800
    assert totals[("IN", "COMPLETED")]["points"] == await ledger("TRANSFER_IN", "PARTNER_IN")
    assert totals[("OUT", "COMPLETED")]["points"] == -await ledger("TRANSFER_OUT", "PARTNER_OUT")
    assert (totals[("OUT", "FAILED")]["count"], totals[("OUT", "PENDING")]["count"]) == (50, 200)
    held = sum([(await Member.get(id=m.id)).points_held for m in members])
    assert held == 50 * 5  # the 50 still pending hold their points


async def test_the_statement_as_csv_has_a_row_per_line(gql, programme, keys, make_member):
    admin, storefront = keys
    sky = await partner_with_key(gql, admin)
    member = await make_member(programme)
    pmid = await link(gql, storefront, sky.code, member, "FF-7")
    await credit(gql, sky.key, "IN-1", pmid, 120)
    found = await statements.statement(
        Principal(programme_id=programme.id, role=Role.ADMIN, key_id=-1),
        partner_code=sky.code,
        day=await local_day(programme),
    )
    out = io.StringIO()
    write_statement_csv(found, out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(rows) == 1
    row = rows[0]
    assert (row["direction"], row["status"], row["partner_transfer_id"]) == (
        "IN",
        "COMPLETED",
        "IN-1",
    )
    assert (row["member_external_id"], row["partner_member_id"]) == (member.external_id, "FF-7")
    assert (row["partner_units"], row["points"], row["rate_source"], row["rate_target"]) == (
        "120",
        "12",
        "10",
        "1",
    )
