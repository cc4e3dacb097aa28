"""Schema conventions (issue 14, point 5): every element described, status-like fields as
enums, DateTime tied to RFC 3339, connections paged both ways within the page limit."""

from __future__ import annotations

import re
from typing import Any

import pytest
from graphql import get_introspection_query, graphql_sync

from domain.auth import Role
from schema import build_schema, sdl
from tests.graphql.coupons.helpers import claimed, create_template
from tests.graphql.points.helpers import fund

BUILT_IN = {"String", "Int", "Float", "Boolean", "ID"}


def _introspection() -> dict[str, Any]:
    result = graphql_sync(
        build_schema(production=False)._schema,
        get_introspection_query(
            descriptions=True, specified_by_url=True, input_value_deprecation=True
        ),
    )
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data["__schema"]


def _types() -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in _introspection()["types"]}


def undescribed(schema: dict[str, Any]) -> list[str]:
    """Every type, field, argument, input field and enum value without a description."""
    missing: list[str] = []

    def check(where: str, element: dict[str, Any]) -> None:
        if not (element.get("description") or "").strip():
            missing.append(where)

    for kind in schema["types"]:
        name = kind["name"]
        if name.startswith("__") or name in BUILT_IN:
            continue
        check(name, kind)
        for field in kind.get("fields") or []:
            check(f"{name}.{field['name']}", field)
            for argument in field["args"]:
                check(f"{name}.{field['name']}({argument['name']})", argument)
        for field in kind.get("inputFields") or []:
            check(f"{name}.{field['name']}", field)
        for value in kind.get("enumValues") or []:
            check(f"{name}.{value['name']}", value)
    return missing


def test_every_type_field_argument_input_field_and_enum_value_has_a_description():
    missing = undescribed(_introspection())
    assert missing == [], f"{len(missing)} without a description: {missing[:40]}"


def test_the_description_walk_finds_what_lacks_one():
    # the walk itself can fail: an element without a description is reported by its path
    schema = {
        "types": [
            {
                "name": "Thing",
                "description": "",
                "fields": [{"name": "size", "description": None, "args": []}],
                "inputFields": None,
                "enumValues": None,
            }
        ]
    }
    assert undescribed(schema) == ["Thing", "Thing.size"]


def _field_type(types: dict[str, Any], owner: str, field: str) -> dict[str, Any]:
    found = next(f for f in types[owner]["fields"] if f["name"] == field)["type"]
    while found["ofType"] is not None:
        found = found["ofType"]
    return found


def test_status_like_fields_are_enums():
    types = _types()
    for owner, field, enum in [
        ("Order", "status", "OrderStatus"),
        ("PointHold", "status", "HoldStatus"),
        ("TierChange", "reason", "TierChangeReason"),
    ]:
        assert _field_type(types, owner, field) == {
            "kind": "ENUM",
            "name": enum,
            "ofType": None,
        }, (owner, field)
    assert [v["name"] for v in types["OrderStatus"]["enumValues"]] == [
        "PENDING",
        "COMPLETED",
        "CANCELLED",
        "RETURNED",
    ]
    assert [v["name"] for v in types["HoldStatus"]["enumValues"]] == [
        "HELD",
        "CAPTURED",
        "RELEASED",
        "EXPIRED",
    ]


def test_datetime_is_specified_by_rfc_3339():
    types = _types()
    assert "rfc3339" in (types["DateTime"]["specifiedByURL"] or "")
    assert re.search(r'scalar DateTime @specifiedBy\(url: "https://[^"]*rfc3339[^"]*"\)', sdl())


RFC_3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


async def test_datetimes_go_out_as_rfc_3339_with_an_offset(gql, programme, make_key):
    body = await gql("{ programme { now } }", auth=await make_key(programme))
    assert RFC_3339.match(body["data"]["programme"]["now"]), body


MEMBERS = """
query ($first: Int, $after: String, $last: Int, $before: String) {
  members(first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { externalId } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""
LEDGER = """
query ($e: String!, $first: Int, $after: String, $last: Int, $before: String) {
  member(externalId: $e) {
    transactions(first: $first, after: $after, last: $last, before: $before) {
      totalCount
      edges { node { amount } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
    tierHistory(last: 5) { totalCount edges { node { reason } } }
  }
}
"""


async def test_members_page_backwards_with_last_and_before(gql, programme, make_member, make_key):
    admin = await make_key(programme, Role.ADMIN)
    joined = [(await make_member(programme)).external_id for _ in range(5)]
    # the last two members, in join order
    tail = (await gql(MEMBERS, {"last": 2}, auth=admin))["data"]["members"]
    assert [e["node"]["externalId"] for e in tail["edges"]] == joined[3:]
    assert tail["pageInfo"]["hasPreviousPage"] is True
    assert tail["pageInfo"]["hasNextPage"] is False
    # and the two before those, from the page's start cursor
    before = tail["pageInfo"]["startCursor"]
    middle = (await gql(MEMBERS, {"last": 2, "before": before}, auth=admin))["data"]["members"]
    assert [e["node"]["externalId"] for e in middle["edges"]] == joined[1:3]
    assert (middle["pageInfo"]["hasPreviousPage"], middle["pageInfo"]["hasNextPage"]) == (
        True,
        True,
    )
    # forward from the start meets the same cursors
    head = (await gql(MEMBERS, {"first": 3}, auth=admin))["data"]["members"]
    assert [e["node"]["externalId"] for e in head["edges"]] == joined[:3]
    assert head["edges"][1]["cursor"] == middle["pageInfo"]["startCursor"]
    first = await gql(MEMBERS, {"last": 3, "before": middle["pageInfo"]["startCursor"]}, auth=admin)
    assert [e["node"]["externalId"] for e in first["data"]["members"]["edges"]] == joined[:1]
    assert first["data"]["members"]["pageInfo"]["hasPreviousPage"] is False


async def test_the_ledger_pages_both_ways_and_counts_itself(gql, programme, make_member, make_key):
    admin = await make_key(programme, Role.ADMIN)
    member = await make_member(programme)
    for amount in (1, 2, 3, 4, 5):
        await fund(gql, admin, member.external_id, amount)
    # newest first: 5 4 | 3 2 | 1; `last` reads from the oldest end
    oldest = await gql(LEDGER, {"e": member.external_id, "last": 2}, auth=admin)
    page = oldest["data"]["member"]["transactions"]
    assert [e["node"]["amount"] for e in page["edges"]] == [2, 1]
    assert page["totalCount"] == 5
    assert page["pageInfo"]["hasPreviousPage"] is True
    newer = await gql(
        LEDGER,
        {"e": member.external_id, "last": 2, "before": page["pageInfo"]["startCursor"]},
        auth=admin,
    )
    assert [e["node"]["amount"] for e in newer["data"]["member"]["transactions"]["edges"]] == [4, 3]
    assert newer["data"]["member"]["tierHistory"]["totalCount"] == len(
        newer["data"]["member"]["tierHistory"]["edges"]
    )


@pytest.mark.parametrize(
    "variables",
    [
        {},
        {"first": 2, "last": 2},
        {"last": 101},
        {"first": 101},
        {"last": 0},
        {"first": 2, "before": "x"},
    ],
)
async def test_a_page_needs_one_of_first_or_last_up_to_a_hundred(
    gql, programme, make_key, variables
):
    admin = await make_key(programme, Role.ADMIN)
    body = await gql(MEMBERS, variables, auth=admin)
    assert body["data"] is None, body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["VALIDATION"]


UPSERT_PRODUCTS = """
mutation ($input: UpsertProductsInput!) { upsertProducts(input: $input) { __typename } }
"""
PRODUCTS = """
query ($last: Int, $before: String) {
  products(last: $last, before: $before) {
    totalCount edges { node { sku } } pageInfo { hasPreviousPage startCursor }
  }
  couponTemplates(last: 1) { totalCount edges { node { code } } }
}
"""


async def test_catalogue_and_templates_page_backwards_and_count(gql, programme, make_key):
    admin = await make_key(programme, Role.ADMIN)
    products = [
        {"sku": f"sku-{n}", "title": f"Item {n}", "category": "misc", "price": 100 * n}
        for n in range(1, 4)
    ]
    done = await gql(
        UPSERT_PRODUCTS, {"input": {"products": products, "idempotencyKey": "p-1"}}, auth=admin
    )
    assert done["data"]["upsertProducts"]["__typename"] == "UpsertProductsSuccess", done
    body = await gql(PRODUCTS, {"last": 2}, auth=admin)
    page = body["data"]["products"]
    assert [e["node"]["sku"] for e in page["edges"]] == ["sku-2", "sku-3"]
    assert (page["totalCount"], page["pageInfo"]["hasPreviousPage"]) == (3, True)
    earlier = await gql(
        PRODUCTS, {"last": 2, "before": page["pageInfo"]["startCursor"]}, auth=admin
    )
    assert [e["node"]["sku"] for e in earlier["data"]["products"]["edges"]] == ["sku-1"]
    assert earlier["data"]["couponTemplates"]["totalCount"] == 0


WALLET = """
query ($e: String!, $last: Int, $before: String) {
  member(externalId: $e) {
    coupons(last: $last, before: $before) {
      totalCount edges { node { code } } pageInfo { hasPreviousPage hasNextPage startCursor }
    }
  }
}
"""


async def test_the_wallet_pages_backwards_and_counts(gql, programme, make_member, make_key):
    admin = await make_key(programme, Role.ADMIN)
    storefront = await make_key(programme, Role.STOREFRONT)
    member = await make_member(programme)
    template = await create_template(gql, admin)
    codes = [
        (await claimed(gql, storefront, template["id"], member.external_id))["code"]
        for _ in range(3)
    ]
    body = await gql(WALLET, {"e": member.external_id, "last": 2}, auth=admin)
    page = body["data"]["member"]["coupons"]
    assert [e["node"]["code"] for e in page["edges"]] == codes[1:]
    assert page["totalCount"] == 3
    assert (page["pageInfo"]["hasPreviousPage"], page["pageInfo"]["hasNextPage"]) == (True, False)
    earlier = await gql(
        WALLET,
        {"e": member.external_id, "last": 2, "before": page["pageInfo"]["startCursor"]},
        auth=admin,
    )
    assert [e["node"]["code"] for e in earlier["data"]["member"]["coupons"]["edges"]] == codes[:1]
