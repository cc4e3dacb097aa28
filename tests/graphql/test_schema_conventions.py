"""Schema conventions (issue 14, point 5): every element described, status-like fields as
enums, DateTime tied to RFC 3339, connections paged both ways within the page limit."""

from __future__ import annotations

import re
from typing import Any

from graphql import get_introspection_query, graphql_sync

from schema import build_schema, sdl

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
