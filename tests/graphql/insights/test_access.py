"""programmeInsights refuses bad ranges and non-admin callers, and shows a programme's own
facts only."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.auth import Role
from tests.graphql.insights.documents import INSIGHTS
from tests.graphql.insights.scenario import build, figures, insights
from tests.graphql.test_auth import token_for

DAY = date(2027, 3, 1)


def code_of(body: dict) -> str:
    assert body.get("data") is None, body
    return str(body["errors"][0]["extensions"]["code"])


@pytest.mark.parametrize(
    ("first", "last", "field"),
    [
        (DAY, DAY - timedelta(days=1), "`from`"),  # from after to
        (DAY, DAY + timedelta(days=1096), "`to`"),  # 1097 days: over three years
    ],
)
async def test_a_bad_range_is_a_validation_error_naming_the_field(
    gql, programme, make_key, first, last, field
):
    body = await insights(gql, await make_key(programme, Role.ADMIN), first, last)
    assert code_of(body) == "VALIDATION"
    assert field in body["errors"][0]["message"]


async def test_three_years_to_the_day_are_allowed(gql, programme, make_key):
    admin = await make_key(programme, Role.ADMIN)
    found = await figures(gql, admin, DAY, DAY + timedelta(days=1095), "DAY")
    assert len(found["series"]) == 1096
    assert len((await figures(gql, admin, DAY, DAY + timedelta(days=1095)))["series"]) == 36


async def test_an_unknown_granularity_is_validation_and_nothing_runs(gql, programme, make_key):
    admin = await make_key(programme, Role.ADMIN)
    # sent as a variable: GraphQL refuses a value the enum does not have while reading it
    body = await gql(INSIGHTS, {"from": "2027-01-01", "to": "2027-01-31", "g": "YEAR"}, auth=admin)
    assert code_of(body) == "VALIDATION" and "data" not in body
    assert "YEAR" in body["errors"][0]["message"]
    assert "InsightsGranularity" in body["errors"][0]["message"]
    # written in the document: the same answer
    written = INSIGHTS.replace(", $g: InsightsGranularity! = MONTH", "")
    written = written.replace("granularity: $g", "granularity: YEAR")
    assert written != INSIGHTS
    body = await gql(written, {"from": "2027-01-01", "to": "2027-01-31"}, auth=admin)
    assert code_of(body) == "VALIDATION" and "data" not in body
    # and so are a quoted string written for it, and a number sent for it
    quoted = written.replace("granularity: YEAR", 'granularity: "MONTH"')
    body = await gql(quoted, {"from": "2027-01-01", "to": "2027-01-31"}, auth=admin)
    assert code_of(body) == "VALIDATION" and "data" not in body
    body = await gql(INSIGHTS, {"from": "2027-01-01", "to": "2027-01-31", "g": 3}, auth=admin)
    assert code_of(body) == "VALIDATION" and "data" not in body
    # while a document that is wrong in itself is still GRAPHQL_VALIDATION_FAILED
    body = await gql("{ programmeInsights { noSuchFigure } }", auth=admin)
    assert code_of(body) == "GRAPHQL_VALIDATION_FAILED"


async def test_a_storefront_key_or_a_member_token_is_forbidden(
    gql, programme, make_key, make_member
):
    storefront = await make_key(programme, Role.STOREFRONT)
    member = await make_member(programme)
    token = await token_for(gql, storefront, member.external_id)
    for auth in (storefront, token):
        body = await insights(gql, auth, DAY, DAY)
        assert code_of(body) == "FORBIDDEN"
    # and bad input from them is still FORBIDDEN: the role is checked first
    assert code_of(await insights(gql, storefront, DAY, DAY - timedelta(days=1))) == "FORBIDDEN"


async def test_programme_b_sees_none_of_programme_a(
    gql, programme, make_programme, make_member, make_key
):
    # given programme A with the scenario's facts, and programme B with one member of its own
    shop = await build(gql, programme, make_member, make_key)
    other = await make_programme()
    await make_member(other)
    admin_b = await make_key(other, Role.ADMIN)
    # when B's admin reads the same range
    found = await figures(gql, admin_b, shop.day0, shop.day0 + timedelta(days=371))
    # then none of A's facts are in it
    assert found["members"]["total"] == 1 and found["members"]["active"] == 0
    points = found["points"]
    assert (points["earned"], points["spent"], points["expired"]) == (0, 0, 0)
    assert points["liability"] == {"available": 0, "pending": 0, "cashValue": 0}
    assert found["tiers"] == {"distribution": [], "migrations": []}
    assert found["coupons"] == found["rewards"] == found["campaigns"] == []
    assert found["behaviour"]["byTier"] == [] and found["behaviour"]["repeatPurchaseRate"] == 0
    assert all(b["earned"] == b["activeMembers"] == 0 for b in found["series"])
    # and a range of B's ending before A's facts: the liability at its end is worked back from
    # balances now through the ledger moved since, which must be B's ledger alone
    before = await figures(gql, admin_b, shop.day0 - timedelta(days=30), shop.day0)
    assert before["points"]["liability"] == {"available": 0, "pending": 0, "cashValue": 0}
    # and A's admin still sees A's
    admin_a = await make_key(programme, Role.ADMIN)
    mine = await figures(gql, admin_a, shop.day0, shop.day0 + timedelta(days=371))
    assert mine["members"]["total"] == 3 and mine["points"]["earned"] == 150
