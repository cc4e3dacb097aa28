"""The edge check on every argument and input field (issue 13, items 2-4; schema/input_checks.py):
dates out of range, oversized or unclean text and malformed global ids are VALIDATION on their
field, in the mutation's union; never a database error, never an echo of the value."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from graphql import GraphQLInputObjectType, GraphQLList, GraphQLNonNull, GraphQLScalarType

from db.models import Order
from domain.auth import Role
from schema import build_schema
from tests.graphql.points.documents import PREVIEW_ORDER, RECORD_ORDER
from tests.graphql.points.helpers import line, order_input, preview_of

CREATE_TEMPLATE = """
mutation ($input: CreateCouponTemplateInput!) {
  createCouponTemplate(input: $input) {
    __typename ... on CreateCouponTemplateError { errors { field code message } }
  }
}
"""
ADVANCE = """
mutation ($to: DateTime) { advanceTestClock(input: {to: $to, idempotencyKey: "adv"}) {
  __typename ... on AdvanceTestClockError { errors { field code } } } }
"""
REGISTER = """
mutation ($input: RegisterMemberInput!) {
  registerMember(input: $input) {
    __typename ... on RegisterMemberError { errors { field code message } }
  }
}
"""
GRANT = """
mutation ($ids: [String!]!) { grantPoints(input: {memberExternalIds: $ids, amount: 5,
  reason: "r", idempotencyKey: "g"}) { __typename ... on GrantPointsError { errors { field code } } } }
"""
OUT_OF_RANGE = [
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "1999-12-31T23:59:59+00:00",
    "2100-01-01T00:00:01+00:00",
]
HUGE = "x" * 1_000_000
UNCLEAN = {"NUL": "a\x00b", "lone surrogate": "a\ud800b", "bell": "a\x07b", "too long": "x" * 65}


def gid(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def field_errors(result: dict) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in result["errors"]]


def top_codes(body: dict) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors") or []]


@pytest.fixture
async def keys(programme, make_key) -> tuple[str, str]:
    return await make_key(programme, Role.ADMIN), await make_key(programme, Role.STOREFRONT)


# ------------------------------------------------------------------------ dates (item 2)


@pytest.mark.parametrize("placed_at", OUT_OF_RANGE)
async def test_an_order_placed_outside_the_sane_range_is_refused_on_its_field(
    gql, programme, make_member, keys, placed_at
):
    member = await make_member(programme)
    order = order_input(member.external_id, placed_at)
    # when it is recorded, or previewed
    recorded = (await gql(RECORD_ORDER, {"input": order}, auth=keys[1]))["data"]["recordOrder"]
    preview = await gql(PREVIEW_ORDER, {"input": preview_of(order)}, auth=keys[1])
    # then
    assert recorded["__typename"] == "RecordOrderError"
    assert field_errors(recorded) == [("placedAt", "VALIDATION")]
    assert top_codes(preview) == ["VALIDATION"]
    assert "placedAt" in preview["errors"][0]["message"]
    assert not await Order.filter(programme_id=programme.id).exists()


@pytest.mark.parametrize("field", ["validFrom", "validUntil"])
@pytest.mark.parametrize("moment", OUT_OF_RANGE)
async def test_a_coupon_template_valid_outside_the_sane_range_is_refused(gql, keys, field, moment):
    template = {"code": "FAR", "title": "Far", "kind": "NO_THRESHOLD", "amountOff": 100}
    body = await gql(
        CREATE_TEMPLATE,
        {"input": {**template, field: moment, "idempotencyKey": uuid.uuid4().hex}},
        auth=keys[0],
    )
    result = body["data"]["createCouponTemplate"]
    assert result["__typename"] == "CreateCouponTemplateError"
    assert field_errors(result) == [(field, "VALIDATION")]


async def test_the_test_clock_cannot_be_moved_past_2100(gql, keys):
    body = await gql(ADVANCE, {"to": "2100-06-01T00:00:00+00:00"}, auth=keys[0])
    assert field_errors(body["data"]["advanceTestClock"]) == [("to", "VALIDATION")]


async def test_a_date_inside_the_range_is_accepted(gql, programme, make_member, keys):
    member = await make_member(programme)
    body = await gql(
        PREVIEW_ORDER,
        {"input": preview_of(order_input(member.external_id, "2026-11-30T10:00:00+14:00"))},
        auth=keys[1],
    )
    assert "errors" not in body, body


# ------------------------------------------------------------- text arguments (item 3)


@pytest.mark.parametrize("value", UNCLEAN.values(), ids=UNCLEAN.keys())
@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("query ($v: String!) { order(orderId: $v) { orderId } }", "orderId"),
        (
            "query ($v: String) { products(first: 5, category: $v) { edges { cursor } } }",
            "category",
        ),
        ("query ($v: String!) { coupon(code: $v) { code } }", "code"),
    ],
)
async def test_a_lookup_with_unclean_text_is_validation_not_a_database_error(
    gql, keys, query, name, value
):
    body = await gql(query, {"v": value}, auth=keys[0])
    assert top_codes(body) == ["VALIDATION"], body
    assert name in body["errors"][0]["message"]


async def test_a_huge_lookup_argument_is_not_echoed(http, keys):
    response = await http.post(
        "/graphql",
        json={
            "query": "query ($v: String!) { order(orderId: $v) { orderId } }",
            "variables": {"v": HUGE},
        },
        headers={"Authorization": f"Bearer {keys[0]}"},
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "VALIDATION"
    assert len(response.content) < 1_000


@pytest.mark.parametrize(
    "value", ["a\x00b", "a\ud800b", "a\x07b", "x" * 101, HUGE], ids=[*UNCLEAN.keys(), "1 MB"]
)
async def test_a_mutation_with_unclean_text_is_validation_on_the_field(http, gql, keys, value):
    registration = {"externalId": "ok-1", "displayName": value, "idempotencyKey": "reg"}
    response = await http.post(
        "/graphql",
        content=json.dumps({"query": REGISTER, "variables": {"input": registration}}),
        headers={"Authorization": f"Bearer {keys[1]}", "Content-Type": "application/json"},
    )
    result = response.json()["data"]["registerMember"]
    assert result["__typename"] == "RegisterMemberError"
    assert field_errors(result) == [("displayName", "VALIDATION")]
    assert len(response.content) < 1_000


async def test_nested_and_listed_fields_are_named_by_their_path(gql, programme, make_member, keys):
    member = await make_member(programme)
    order = order_input(
        member.external_id, "2026-11-30T10:00:00+08:00", lines=[line(), line("a\x00")]
    )
    recorded = (await gql(RECORD_ORDER, {"input": order}, auth=keys[1]))["data"]["recordOrder"]
    granted = (await gql(GRANT, {"ids": ["fine", "x" * 129]}, auth=keys[0]))["data"]["grantPoints"]
    assert field_errors(recorded) == [("lines.1.sku", "VALIDATION")]
    assert field_errors(granted) == [("memberExternalIds.1", "VALIDATION")]


def _checked_leaves(type_, seen=frozenset()):
    """Does an argument of this type carry text, ids or dates anywhere inside?"""
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    if isinstance(type_, GraphQLScalarType):
        return type_.name in ("String", "ID", "DateTime")
    if isinstance(type_, GraphQLInputObjectType) and type_.name not in seen:
        return any(_checked_leaves(f.type, seen | {type_.name}) for f in type_.fields.values())
    return False


@pytest.mark.parametrize("production", [False, True])
def test_every_field_taking_text_ids_or_dates_is_guarded(production):
    schema = build_schema(production=production)._schema
    taking = {
        f"{type_.name}.{name}": field
        for type_ in schema.type_map.values()
        if hasattr(type_, "fields") and not type_.name.startswith("__")
        and not isinstance(type_, GraphQLInputObjectType)
        for name, field in type_.fields.items()
        if any(_checked_leaves(argument.type) for argument in field.args.values())
    }  # fmt: skip
    assert len(taking) > 40  # every mutation, and the lookups
    unguarded = [name for name, field in taking.items() if field.resolve.__name__ != "checked"]
    assert unguarded == []


# ------------------------------------------------------ malformed global ids (item 4)

ID_MUTATIONS = {
    "captureHold": ('holdId: $id, amount: 1, idempotencyKey: "k"', "holdId"),
    "releaseHold": ('holdId: $id, idempotencyKey: "k"', "holdId"),
    "claimCoupon": ('templateId: $id, memberExternalId: "m", idempotencyKey: "k"', "templateId"),
    "exchangePointsForCoupon": (
        'templateId: $id, memberExternalId: "m", idempotencyKey: "k"',
        "templateId",
    ),
    "grantCoupons": (
        'templateId: $id, memberExternalIds: ["m"], idempotencyKey: "k"',
        "templateId",
    ),
    "retireCouponTemplate": ("templateId: $id", "templateId"),
    "reverseRedemption": ('transactionId: $id, reason: "r", idempotencyKey: "k"', "transactionId"),
}


@pytest.mark.parametrize(
    "bad_id",
    [
        "!!!",
        "",
        gid("Member:1"),
        gid("PointHold:x"),
        gid("PointHold:99999999999999999999"),
        "a" * 20_000,
    ],
    ids=["not base64", "empty", "another type", "not a number", "past bigint", "huge"],
)
@pytest.mark.parametrize("mutation", ID_MUTATIONS)
async def test_a_malformed_global_id_is_validation_in_the_mutations_union(
    gql, keys, mutation, bad_id
):
    arguments, field = ID_MUTATIONS[mutation]
    error_type = mutation[0].upper() + mutation[1:] + "Error"
    document = (
        f"mutation ($id: ID!) {{ {mutation}(input: {{{arguments}}}) {{ __typename "
        f"... on {error_type} {{ errors {{ field code }} }} }} }}"
    )
    body = await gql(document, {"id": bad_id}, auth=keys[0])
    assert "errors" not in body, body
    result = body["data"][mutation]
    assert result == {"__typename": error_type, "errors": [{"field": field, "code": "VALIDATION"}]}
