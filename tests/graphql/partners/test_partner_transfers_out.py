"""Point 4: transfers out, two-phase — hold, confirm/reject/timeout, exactly one outcome under
races, reversal by a new row; bad input and tenancy."""

from __future__ import annotations

import asyncio
from typing import Any

from db.models import PartnerTransfer, PointLot
from domain.auth import Role
from tests.conftest import needs_postgres
from tests.fixtures.points import assert_ledger_consistent, run_jobs
from tests.graphql.partners.documents import (
    CONFIRM,
    POINTS,
    REJECT,
    REVERSE,
    SUSPEND_PARTNER,
    TRANSFER_OUT,
    TRANSFERS,
)
from tests.graphql.partners.helpers import (
    codes,
    direction,
    ledger_rows,
    link,
    new_key,
    partner_with_key,
)
from tests.graphql.points.documents import ADVANCE_CLOCK
from tests.graphql.points.helpers import fund


async def send(
    gql, key: str, partner_code: str, external_id: str, points: int, **more: Any
) -> dict[str, Any]:
    body = await gql(
        TRANSFER_OUT,
        {
            "input": {
                "partnerCode": partner_code,
                "points": points,
                "memberExternalId": external_id,
                "idempotencyKey": more.pop("idempotency_key", new_key()),
            }
        },
        auth=key,
    )
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["transferToPartner"]
    return result


async def answer(gql, key: str, document: str, field: str, **input: Any) -> dict[str, Any]:
    body = await gql(document, {"input": input}, auth=key)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"][field]
    return result


async def points(gql, key: str, external_id: str) -> dict[str, int]:
    body = await gql(POINTS, {"e": external_id}, auth=key)
    return body["data"]["member"]["points"]


async def funded_link(gql, programme, keys, make_member, amount: int = 100, **partner: Any):
    admin, storefront = keys
    sky = await partner_with_key(gql, admin, **partner)
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, amount)
    await link(gql, storefront, sky.code, member, "FF-1")
    return sky, member


async def test_a_transfer_out_holds_the_points_until_the_partner_confirms(
    gql, programme, keys, make_member
):
    _, storefront = keys
    sky, member = await funded_link(gql, programme, keys, make_member)
    # when the storefront sends 40 of the member's 100 points (1 point -> 8 miles)
    sent = await send(gql, storefront, sky.code, member.external_id, 40)
    assert sent["__typename"] == "PartnerTransferSuccess", sent
    transfer = sent["transfer"]
    assert (transfer["status"], transfer["points"], transfer["partnerUnits"]) == (
        "PENDING",
        40,
        320,
    )
    assert transfer["partnerMemberId"] == "FF-1"
    # then the points are held: still on the balance, not spendable
    assert await points(gql, storefront, member.external_id) == {
        "available": 100,
        "held": 40,
        "spendable": 60,
    }
    # and the partner finds it by polling, and confirms it
    polled = await gql(TRANSFERS, {"first": 10, "status": "PENDING"}, auth=sky.key)
    assert [e["node"]["id"] for e in polled["data"]["partnerTransfers"]["edges"]] == [
        transfer["id"]
    ]
    done = await answer(
        gql, sky.key, CONFIRM, "confirmPartnerTransfer", id=transfer["id"], partnerReference="M-1"
    )
    assert done["transfer"]["status"] == "COMPLETED", done
    [row] = await ledger_rows(member, "TRANSFER_OUT")
    assert (row.amount, row.reference_type) == (-40, "PARTNER_OUT")
    assert await points(gql, storefront, member.external_id) == {
        "available": 60,
        "held": 0,
        "spendable": 60,
    }
    # confirming again with the same reference answers the same; another is refused
    again = await answer(
        gql, sky.key, CONFIRM, "confirmPartnerTransfer", id=transfer["id"], partnerReference="M-1"
    )
    other = await answer(
        gql, sky.key, CONFIRM, "confirmPartnerTransfer", id=transfer["id"], partnerReference="M-2"
    )
    rejected = await answer(
        gql, sky.key, REJECT, "rejectPartnerTransfer", id=transfer["id"], reason="late"
    )
    assert again == done
    assert codes(other) == ["TRANSFER_CLOSED"]
    assert codes(rejected) == ["TRANSFER_CLOSED"]
    assert len(await ledger_rows(member, "TRANSFER_OUT")) == 1
    await assert_ledger_consistent(member)


async def test_a_rejected_transfer_gives_the_points_back_with_their_lots(
    gql, programme, keys, make_member
):
    _, storefront = keys
    sky, member = await funded_link(gql, programme, keys, make_member)
    lots_before = await PointLot.filter(member_id=member.id).values_list(
        "id", "remaining", "expires_at"
    )
    sent = await send(gql, storefront, sky.code, member.external_id, 70)
    rejected = await answer(
        gql,
        sky.key,
        REJECT,
        "rejectPartnerTransfer",
        id=sent["transfer"]["id"],
        reason="no such account",
    )
    assert rejected["transfer"] == {
        "id": sent["transfer"]["id"],
        "status": "FAILED",
        "reason": "no such account",
    }
    assert await points(gql, storefront, member.external_id) == {
        "available": 100,
        "held": 0,
        "spendable": 100,
    }
    assert (
        await PointLot.filter(member_id=member.id).values_list("id", "remaining", "expires_at")
        == lots_before
    )
    assert await ledger_rows(member, "TRANSFER_OUT") == []
    confirm = await answer(
        gql,
        sky.key,
        CONFIRM,
        "confirmPartnerTransfer",
        id=sent["transfer"]["id"],
        partnerReference="x",
    )
    assert codes(confirm) == ["TRANSFER_CLOSED"]


async def test_run_jobs_fails_a_transfer_left_pending_past_the_partners_timeout(
    gql, programme, keys, make_member
):
    admin, storefront = keys
    sky, member = await funded_link(
        gql, programme, keys, make_member, terms={"outbound": direction(1, 8), "timeoutMinutes": 60}
    )
    late = await send(gql, storefront, sky.code, member.external_id, 30)
    lapsed = await send(gql, storefront, sky.code, member.external_id, 20)
    # when the clock passes the timeout: a confirm then fails the transfer itself ...
    await gql(ADVANCE_CLOCK, {"seconds": 3601, "key": new_key()}, auth=admin)
    confirm = await answer(
        gql,
        sky.key,
        CONFIRM,
        "confirmPartnerTransfer",
        id=late["transfer"]["id"],
        partnerReference="r",
    )
    assert codes(confirm) == ["TRANSFER_CLOSED"]
    # ... and run-jobs fails the other; running it again changes nothing
    report = await run_jobs(programme)
    again = await run_jobs(programme)
    assert (report.partner_transfers_failed, again.partner_transfers_failed) == (1, 0)
    rows = await PartnerTransfer.filter(member_id=member.id).order_by("id")
    assert [(r.status, r.reason is not None) for r in rows] == [("FAILED", True), ("FAILED", True)]
    assert await points(gql, storefront, member.external_id) == {
        "available": 100,
        "held": 0,
        "spendable": 100,
    }
    assert lapsed["transfer"]["expiresAt"] is not None


async def test_an_admin_reverses_a_completed_transfer_by_a_new_row(
    gql, programme, keys, make_member
):
    admin, storefront = keys
    sky, member = await funded_link(gql, programme, keys, make_member)
    sent = await send(gql, storefront, sky.code, member.external_id, 40)
    transfer_id = sent["transfer"]["id"]
    pending = await answer(
        gql,
        admin,
        REVERSE,
        "reversePartnerTransfer",
        id=transfer_id,
        reason="r",
        idempotencyKey=new_key(),
    )
    await answer(
        gql, sky.key, CONFIRM, "confirmPartnerTransfer", id=transfer_id, partnerReference="M"
    )
    key = new_key()
    reversed_ = await answer(
        gql,
        admin,
        REVERSE,
        "reversePartnerTransfer",
        id=transfer_id,
        reason="partner refunded",
        idempotencyKey=key,
    )
    replay = await answer(
        gql,
        admin,
        REVERSE,
        "reversePartnerTransfer",
        id=transfer_id,
        reason="partner refunded",
        idempotencyKey=key,
    )
    twice = await answer(
        gql,
        admin,
        REVERSE,
        "reversePartnerTransfer",
        id=transfer_id,
        reason="again",
        idempotencyKey=new_key(),
    )
    by_partner = await gql(
        REVERSE,
        {"input": {"id": transfer_id, "reason": "x", "idempotencyKey": new_key()}},
        auth=sky.key,
    )
    assert codes(pending) == ["TRANSFER_CLOSED"]
    assert reversed_["transfer"]["status"] == "REVERSED"
    assert replay == reversed_
    assert codes(twice) == ["ALREADY_REVERSED"]
    assert by_partner["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    [out] = await ledger_rows(member, "TRANSFER_OUT")
    [back] = await ledger_rows(member, "REVERSE")
    assert (out.amount, back.amount, back.reverses_id) == (-40, 40, out.id)
    assert (await assert_ledger_consistent(member)).points_available == 100


async def test_bad_transfers_out_are_union_errors_and_hold_nothing(
    gql, programme, keys, make_member
):
    admin, storefront = keys
    sky, member = await funded_link(
        gql,
        programme,
        keys,
        make_member,
        terms={"outbound": direction(1, 8, min_points=10, max_points=50, dailyPointsPerMember=60)},
    )
    in_only = await partner_with_key(gql, admin, terms={"inbound": direction(1, 1)})
    unlinked = await partner_with_key(gql, admin)
    assert (await send(gql, storefront, sky.code, member.external_id, 50))[
        "__typename"
    ] == "PartnerTransferSuccess"
    cases = {
        "zero": (sky.code, 0),
        "negative": (sky.code, -5),
        "below min": (sky.code, 5),
        "above max": (sky.code, 51),
        "over the day's limit": (sky.code, 20),
        "unknown partner": ("nobody", 10),
        "direction not allowed": (in_only.code, 10),
        "not linked": (unlinked.code, 10),
    }
    found = {
        name: codes(await send(gql, storefront, code, member.external_id, n))
        for name, (code, n) in cases.items()
    }
    assert found == {
        "zero": ["VALIDATION"],
        "negative": ["VALIDATION"],
        "below min": ["TRANSFER_OUT_OF_RANGE"],
        "above max": ["TRANSFER_OUT_OF_RANGE"],
        "over the day's limit": ["DAILY_LIMIT_REACHED"],
        "unknown partner": ["NOT_FOUND"],
        "direction not allowed": ["DIRECTION_NOT_ALLOWED"],
        "not linked": ["NOT_LINKED"],
    }
    # more than the member can spend; a suspended partner
    poor = await partner_with_key(gql, admin)
    await link(gql, storefront, poor.code, member, "P-1")
    assert codes(await send(gql, storefront, poor.code, member.external_id, 60)) == [
        "INSUFFICIENT_POINTS"
    ]
    await gql(SUSPEND_PARTNER, {"input": {"code": poor.code}}, auth=admin)
    assert codes(await send(gql, storefront, poor.code, member.external_id, 10)) == [
        "PARTNER_SUSPENDED"
    ]
    assert await PartnerTransfer.filter(member_id=member.id).count() == 1
    assert (await points(gql, storefront, member.external_id))["held"] == 50


async def test_other_partners_and_programmes_cannot_see_or_answer_a_transfer(
    gql, programme, keys, make_member, make_programme, make_key
):
    admin, storefront = keys
    sky, member = await funded_link(gql, programme, keys, make_member)
    sea = await partner_with_key(gql, admin)
    sent = await send(gql, storefront, sky.code, member.external_id, 40)
    transfer_id = sent["transfer"]["id"]
    other_admin = await make_key(await make_programme(), Role.ADMIN)
    foreign = await partner_with_key(gql, other_admin, code=sky.code)
    for key in (sea.key, foreign.key):
        confirm = await answer(
            gql, key, CONFIRM, "confirmPartnerTransfer", id=transfer_id, partnerReference="x"
        )
        reject = await answer(gql, key, REJECT, "rejectPartnerTransfer", id=transfer_id, reason="x")
        polled = await gql(TRANSFERS, {"first": 10}, auth=key)
        node = await gql("query ($id: ID!) { node(id: $id) { id } }", {"id": transfer_id}, auth=key)
        assert codes(confirm) == ["NOT_FOUND"] and codes(reject) == ["NOT_FOUND"]
        assert polled["data"]["partnerTransfers"]["edges"] == []
        assert node["data"]["node"] is None
    reverse = await answer(
        gql,
        other_admin,
        REVERSE,
        "reversePartnerTransfer",
        id=transfer_id,
        reason="x",
        idempotencyKey=new_key(),
    )
    assert codes(reverse) == ["NOT_FOUND"]
    assert (await PartnerTransfer.get(id=int(await _pk(transfer_id)))).status == "PENDING"
    assert (await points(gql, storefront, member.external_id))["held"] == 40


async def _pk(global_id: str) -> str:
    import base64

    return base64.b64decode(global_id).decode().split(":")[1]


@needs_postgres
async def test_confirm_and_reject_racing_leave_exactly_one_outcome(
    gql, programme, keys, make_member
):
    _, storefront = keys
    sky, member = await funded_link(gql, programme, keys, make_member, amount=1_000)
    outcomes = []
    for _ in range(20):
        sent = await send(gql, storefront, sky.code, member.external_id, 10)
        transfer_id = sent["transfer"]["id"]
        confirm, reject = await asyncio.gather(
            answer(
                gql,
                sky.key,
                CONFIRM,
                "confirmPartnerTransfer",
                id=transfer_id,
                partnerReference="r",
            ),
            answer(gql, sky.key, REJECT, "rejectPartnerTransfer", id=transfer_id, reason="no"),
        )
        won = [r for r in (confirm, reject) if r["__typename"] == "PartnerTransferSuccess"]
        lost = [codes(r) for r in (confirm, reject) if r["__typename"] != "PartnerTransferSuccess"]
        assert len(won) == 1 and lost == [["TRANSFER_CLOSED"]], (confirm, reject)
        outcomes.append(won[0]["transfer"]["status"])
    completed = outcomes.count("COMPLETED")
    row = await assert_ledger_consistent(member)
    assert row.points_held == 0
    assert row.points_available == 1_000 - 10 * completed
    assert len(await ledger_rows(member, "TRANSFER_OUT")) == completed


@needs_postgres
async def test_a_confirm_racing_the_timeout_job_leaves_exactly_one_outcome(
    gql, programme, keys, make_member
):
    admin, storefront = keys
    sky, member = await funded_link(
        gql,
        programme,
        keys,
        make_member,
        amount=1_000,
        terms={"outbound": direction(1, 8), "timeoutMinutes": 1},
    )
    ids = [
        (await send(gql, storefront, sky.code, member.external_id, 10))["transfer"]["id"]
        for _ in range(10)
    ]
    # the partner answers each exactly at the timeout, while run-jobs sweeps
    await gql(ADVANCE_CLOCK, {"seconds": 60, "key": new_key()}, auth=admin)
    results = await asyncio.gather(
        run_jobs(programme),
        *(
            answer(gql, sky.key, CONFIRM, "confirmPartnerTransfer", id=i, partnerReference="r")
            for i in ids
        ),
    )
    confirms = results[1:]
    assert all(codes(c) == ["TRANSFER_CLOSED"] for c in confirms)  # at the timeout: too late
    rows = await PartnerTransfer.filter(member_id=member.id)
    assert {r.status for r in rows} == {"FAILED"}
    row = await assert_ledger_consistent(member)
    assert (row.points_held, row.points_available) == (0, 1_000)
