"""Point 3: transfers in (creditFromPartner) — conversion, ledger row and lot, idempotency by
the partner's transfer id, limits under concurrency, bad input, tenancy."""

from __future__ import annotations

import asyncio
from typing import Any

from db.models import Member, PartnerTransfer, PointLot, PointTransaction, Tier
from domain.auth import Role
from tests.conftest import needs_postgres
from tests.fixtures.points import assert_ledger_consistent
from tests.graphql.partners.documents import CREDIT, SUSPEND_PARTNER
from tests.graphql.partners.helpers import (
    available,
    codes,
    direction,
    ledger_rows,
    link,
    partner_with_key,
    transfers_of,
)


def credit_input(transfer_id: str, partner_member_id: str, units: int) -> dict[str, Any]:
    return {
        "input": {
            "partnerTransferId": transfer_id,
            "partnerMemberId": partner_member_id,
            "partnerUnits": units,
        }
    }


async def credit(gql, key: str, transfer_id: str, pmid: str, units: int) -> dict[str, Any]:
    body = await gql(CREDIT, credit_input(transfer_id, pmid, units), auth=key)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["creditFromPartner"]
    return result


async def test_a_credit_converts_at_the_inbound_rate_into_a_transfer_in_row_with_its_own_lot(
    gql, programme, keys, make_member
):
    # given an airline at 10 miles -> 1 point and a member linked to it
    admin, storefront = keys
    sky = await partner_with_key(gql, admin)
    member = await make_member(programme)
    pmid = await link(gql, storefront, sky.code, member)
    # when it credits 105 miles
    result = await credit(gql, sky.key, "T-1", pmid, 105)
    # then 10 points (rounded down: the 5 spare miles buy nothing) are on the ledger
    assert result["__typename"] == "PartnerTransferSuccess", result
    transfer = result["transfer"]
    assert (transfer["direction"], transfer["status"]) == ("IN", "COMPLETED")
    assert (transfer["partnerUnits"], transfer["points"]) == (105, 10)
    assert transfer["rate"] == {"source": 10, "target": 1}
    [row] = await ledger_rows(member, "TRANSFER_IN")
    assert (row.amount, row.bucket, row.reference_type) == (10, "AVAILABLE", "PARTNER_IN")
    assert row.reference == f"{sky.code}/T-1"
    lot = await PointLot.get(source_id=row.id)
    assert lot.remaining == 10 and lot.expires_at is not None  # the points policy's expiry
    assert await available(gql, storefront, member.external_id) == 10
    await assert_ledger_consistent(member)


async def test_the_same_transfer_id_credits_once_and_with_other_values_is_reference_reused(
    gql, programme, keys, make_member
):
    admin, storefront = keys
    sky = await partner_with_key(gql, admin)
    member = await make_member(programme)
    pmid = await link(gql, storefront, sky.code, member)
    first = await credit(gql, sky.key, "T-1", pmid, 100)
    again = await credit(gql, sky.key, "T-1", pmid, 100)
    other = await credit(gql, sky.key, "T-1", pmid, 200)
    assert first == again
    assert other["__typename"] == "CreditFromPartnerError"
    assert [(e["field"], e["code"]) for e in other["errors"]] == [
        ("partnerTransferId", "REFERENCE_REUSED")
    ]
    assert len(await transfers_of(member)) == 1
    assert len(await ledger_rows(member, "TRANSFER_IN")) == 1
    assert (await assert_ledger_consistent(member)).points_available == 10


async def test_two_partners_may_use_the_same_transfer_id(gql, programme, keys, make_member):
    admin, storefront = keys
    sky, sea = await partner_with_key(gql, admin), await partner_with_key(gql, admin)
    member = await make_member(programme)
    sky_id = await link(gql, storefront, sky.code, member)
    sea_id = await link(gql, storefront, sea.code, member)
    assert (await credit(gql, sky.key, "abc", sky_id, 100))[
        "__typename"
    ] == "PartnerTransferSuccess"
    assert (await credit(gql, sea.key, "abc", sea_id, 100))[
        "__typename"
    ] == "PartnerTransferSuccess"
    assert (await assert_ledger_consistent(member)).points_available == 20


async def test_bad_credits_are_union_errors_with_codes_and_write_nothing(
    gql, programme, keys, make_member
):
    # given a partner taking 10-50 points a transfer, GOLD members only, and one not taking
    # transfers in at all
    admin, storefront = keys
    sky = await partner_with_key(
        gql,
        admin,
        terms={
            "inbound": direction(10, 1, min_points=10, max_points=50),
            "eligibleTiers": ["GOLD"],
        },
    )
    out_only = await partner_with_key(gql, admin, terms={"outbound": direction(1, 1)})
    gold, dropped = await make_member(programme), await make_member(programme)
    await Member.filter(id__in=[gold.id, dropped.id]).update(
        tier_id=await _tier_id(programme.id, "GOLD")
    )
    pmid = await link(gql, storefront, sky.code, gold)
    dropped_id = await link(gql, storefront, sky.code, dropped)
    await Member.filter(id=dropped.id).update(tier_id=await _tier_id(programme.id, "BRONZE"))
    cases = {
        "zero": (sky.key, "t-zero", pmid, 0),
        "negative": (sky.key, "t-neg", pmid, -10),
        "over max units": (sky.key, "t-huge", pmid, 2_000_000_000),
        "below min points": (sky.key, "t-small", pmid, 99),
        "above max points": (sky.key, "t-big", pmid, 510),
        "unlinked member": (sky.key, "t-unl", "nobody", 100),
        "direction not allowed": (out_only.key, "t-dir", pmid, 100),
        "bad id": (sky.key, "", pmid, 100),
        "tier not eligible": (sky.key, "t-tier", dropped_id, 100),
    }
    found = {}
    for name, (key, transfer_id, partner_member_id, units) in cases.items():
        found[name] = codes(await credit(gql, key, transfer_id, partner_member_id, units))
    assert found == {
        "zero": ["VALIDATION"],
        "negative": ["VALIDATION"],
        "over max units": ["VALIDATION"],
        "below min points": ["TRANSFER_OUT_OF_RANGE"],
        "above max points": ["TRANSFER_OUT_OF_RANGE"],
        "unlinked member": ["NOT_LINKED"],
        "direction not allowed": ["DIRECTION_NOT_ALLOWED"],
        "bad id": ["VALIDATION"],
        "tier not eligible": ["NOT_ELIGIBLE_TIER"],
    }
    # a suspended partner is refused too
    await gql(SUSPEND_PARTNER, {"input": {"code": sky.code}}, auth=admin)
    assert codes(await credit(gql, sky.key, "t-susp", pmid, 100)) == ["PARTNER_SUSPENDED"]
    assert await PartnerTransfer.filter(programme_id=programme.id).count() == 0
    assert await PointTransaction.filter(programme_id=programme.id, kind="TRANSFER_IN").count() == 0


async def _tier_id(programme_id: int, code: str) -> int:
    return (await Tier.get(programme_id=programme_id, code=code)).id


async def test_partner_keys_cannot_credit_members_linked_elsewhere(
    gql, programme, keys, make_member, make_programme, make_key
):
    # given a member linked to sky in programme A
    admin, storefront = keys
    sky = await partner_with_key(gql, admin)
    sea = await partner_with_key(gql, admin)
    member = await make_member(programme)
    pmid = await link(gql, storefront, sky.code, member)
    other_admin = await make_key(await make_programme(), Role.ADMIN)
    foreign = await partner_with_key(gql, other_admin, code=sky.code)  # same code, programme B
    # when another partner of A, and B's partner of the same code, credit that member id
    by_sea = await credit(gql, sea.key, "x-1", pmid, 100)
    by_foreign = await credit(gql, foreign.key, "x-2", pmid, 100)
    by_admin = await gql(CREDIT, credit_input("x-3", pmid, 100), auth=admin)
    # then neither finds the member, staff keys may not credit, and nothing moved
    assert codes(by_sea) == ["NOT_LINKED"]
    assert codes(by_foreign) == ["NOT_LINKED"]
    assert by_admin["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await assert_ledger_consistent(member)).points_available == 0


@needs_postgres
async def test_twenty_one_identical_concurrent_credits_make_one_row(
    gql, programme, keys, make_member
):
    admin, storefront = keys
    sky = await partner_with_key(gql, admin)
    member = await make_member(programme)
    pmid = await link(gql, storefront, sky.code, member)
    results = await asyncio.gather(*(credit(gql, sky.key, "same", pmid, 100) for _ in range(21)))
    assert all(r["__typename"] == "PartnerTransferSuccess" for r in results), results
    assert len({r["transfer"]["id"] for r in results}) == 1
    assert len(await transfers_of(member)) == 1
    assert len(await ledger_rows(member, "TRANSFER_IN")) == 1
    assert (await assert_ledger_consistent(member)).points_available == 10


@needs_postgres
async def test_fifty_parallel_credits_against_a_daily_member_limit_admit_exactly_what_fits(
    gql, programme, keys, make_member
):
    # given a limit of 100 points per member per day, and 50 credits of 10 points each at once
    admin, storefront = keys
    sky = await partner_with_key(
        gql, admin, terms={"inbound": direction(10, 1, dailyPointsPerMember=100)}
    )
    member = await make_member(programme)
    pmid = await link(gql, storefront, sky.code, member)
    results = await asyncio.gather(*(credit(gql, sky.key, f"c-{n}", pmid, 100) for n in range(50)))
    kinds = [r["__typename"] for r in results]
    # then exactly ten fit, the other forty are refused with the limit's code
    assert kinds.count("PartnerTransferSuccess") == 10
    assert sorted({c for r in results for c in codes(r)}) == ["DAILY_LIMIT_REACHED"]
    assert len(await transfers_of(member)) == 10
    assert (await assert_ledger_consistent(member)).points_available == 100


@needs_postgres
async def test_parallel_credits_to_many_members_respect_the_partners_daily_total(
    gql, programme, keys, make_member
):
    admin, storefront = keys
    sky = await partner_with_key(
        gql, admin, terms={"inbound": direction(10, 1, dailyPointsTotal=70)}
    )
    members = [await make_member(programme) for _ in range(5)]
    ids = [await link(gql, storefront, sky.code, m) for m in members]
    results = await asyncio.gather(
        *(credit(gql, sky.key, f"c-{n}", ids[n % 5], 100) for n in range(30))
    )
    assert [r["__typename"] for r in results].count("PartnerTransferSuccess") == 7
    total = 0
    for m in members:
        total += (await assert_ledger_consistent(m)).points_available
    assert total == 70
