"""Every input type's planned conversion (schema/input_plans.py) builds what strawberry's own
`convert_argument` builds, for values made from the schema itself: every field given, only
the required ones, nullable ones sent as null, lists of none, one and two items."""

from __future__ import annotations

from typing import Any

import pytest
import strawberry
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    coerce_input_value,
)
from graphql.pyutils import Undefined
from strawberry.schema.config import StrawberryConfig
from strawberry.types import arguments
from strawberry.types.arguments import convert_argument
from strawberry.types.base import StrawberryObjectDefinition

from schema import build_schema
from schema.input_plans import install

SCHEMA = build_schema(production=True)
SAMPLES = {  # a value of each scalar, as a client sends it
    "String": "text",
    "ID": "UmV3YXJkUmVkZW1wdGlvbjox",  # a valid relay global id, RewardRedemption:1
    "Int": 7,
    "Float": 2.5,
    "Boolean": True,
    "DateTime": "2026-12-03T10:00:00+08:00",
    "Date": "2026-12-03",
    "JSON": {"a": [1, "b"]},
}
SHAPES = ("all", "required", "nulls", "empty lists", "one item")


def _definitions() -> dict[str, StrawberryObjectDefinition]:
    return {
        concrete.definition.name: concrete.definition
        for concrete in SCHEMA.schema_converter.type_map.values()
        if isinstance(concrete.definition, StrawberryObjectDefinition)
        and concrete.definition.is_input
    }


DEFINITIONS = _definitions()


def _value(type_: Any, shape: str, depth: int) -> Any:
    required = isinstance(type_, GraphQLNonNull)
    inner = type_.of_type if required else type_
    if not required and shape == "nulls":
        return None
    if isinstance(inner, GraphQLList):
        count = {"empty lists": 0, "one item": 1}.get(shape, 2)
        return [_value(inner.of_type, shape, depth) for _ in range(count)]
    if isinstance(inner, GraphQLInputObjectType):
        return _object(inner, shape, depth + 1)
    if isinstance(inner, GraphQLEnumType):
        return list(inner.values)[-1]
    assert isinstance(inner, GraphQLScalarType)
    assert inner.name in SAMPLES, f"add a sample value of the scalar {inner.name}"
    return SAMPLES[inner.name]


def _object(type_: GraphQLInputObjectType, shape: str, depth: int) -> dict[str, Any]:
    fields = {}
    for name, field in type_.fields.items():
        required = isinstance(field.type, GraphQLNonNull) and field.default_value is Undefined
        if shape == "required" and not required:
            continue
        if depth > 4 and not required:  # a recursive input stops here
            continue
        fields[name] = _value(field.type, shape, depth)
    return fields


def _converted(kind: type, value: Any) -> Any:
    return convert_argument(value, kind, SCHEMA.schema_converter.scalar_registry, SCHEMA.config)


CASES = [
    pytest.param(name, shape, id=f"{name}-{shape}")
    for name in sorted(DEFINITIONS)
    for shape in SHAPES
]


@pytest.mark.parametrize(("name", "shape"), CASES)
def test_planned_conversion_builds_what_strawberry_builds(name: str, shape: str) -> None:
    graphql_type = SCHEMA._schema.type_map[name]
    assert isinstance(graphql_type, GraphQLInputObjectType)
    value = coerce_input_value(_object(graphql_type, shape, 0), graphql_type)
    assert value is not Undefined  # a valid input: graphql-core took it
    kind = DEFINITIONS[name].origin
    planned = _converted(kind, value)
    saved = {n: d.from_input for n, d in DEFINITIONS.items()}
    try:
        for definition in DEFINITIONS.values():
            definition.from_input = None
        plain = _converted(kind, value)
    finally:
        for n, definition in DEFINITIONS.items():
            definition.from_input = saved[n]
    assert planned == plain
    assert type(planned) is type(plain)


def test_every_input_type_of_the_schema_is_planned() -> None:
    assert len(DEFINITIONS) > 50
    unplanned = sorted(n for n, d in DEFINITIONS.items() if d.from_input is None)
    assert unplanned == []


@strawberry.input
class Tags:
    names: list[str] = strawberry.field(default_factory=lambda: ["a"])
    nested: list[Tags] | None = None
    note: str | None  # no default: None when omitted, as strawberry does


@strawberry.input
class Inner:
    id: strawberry.relay.GlobalID


@strawberry.input
class Outer:
    items: list[Inner]


@strawberry.input
class Named:
    first_name: str


@strawberry.type
class SmallQuery:
    """A schema of the three input types above, each taken by a field."""

    @strawberry.field
    def tags(self, value: Tags) -> int:
        return len(value.names)

    @strawberry.field
    def count(self, value: Outer) -> int:
        return len(value.items)

    @strawberry.field
    def hello(self, value: Named) -> str:
        return value.first_name


def test_a_list_of_leaves_is_a_copy_of_what_graphql_core_gave() -> None:
    """graphql-core hands every request the same default list: a change to one request's
    list must not reach the next."""
    schema = strawberry.Schema(query=SmallQuery)
    install(schema)
    definition = Tags.__strawberry_definition__  # type: ignore[attr-defined]
    assert definition.from_input is not None
    sent = {"names": ["x", "y"], "nested": [{"names": ["z"]}, None]}
    built = convert_argument(sent, Tags, schema.schema_converter.scalar_registry, schema.config)
    assert built == Tags(names=["x", "y"], nested=[Tags(names=["z"], note=None), None], note=None)
    assert built.names is not sent["names"]
    assert built.nested[0].names is not sent["nested"][0]["names"]  # type: ignore[index]


def test_paths_are_passed_on_as_strawberry_passes_them(monkeypatch) -> None:
    """Each nested input is told where it is, and so is a relay GlobalID, which goes through
    strawberry's own conversion: what a type building itself from its input would read."""
    nested: list[tuple[Any, ...]] = []
    fallback: list[tuple[Any, ...]] = []
    schema = strawberry.Schema(query=SmallQuery)
    install(schema)
    inner = Inner.__strawberry_definition__  # type: ignore[attr-defined]
    planned = inner.from_input

    def spy(cls: type, value: Any, context: Any) -> Any:
        nested.append(context.path)
        return planned(cls, value, context)

    strawberry_conversion = arguments.convert_argument

    def spy_fallback(value: Any, type_: Any, *args: Any, **kwargs: Any) -> Any:
        if type_ is strawberry.relay.GlobalID:
            fallback.append(kwargs["path"])
        return strawberry_conversion(value, type_, *args, **kwargs)

    monkeypatch.setattr(inner, "from_input", spy)
    monkeypatch.setattr(arguments, "convert_argument", spy_fallback)
    sent = {"items": [{"id": "UmV3YXJkUmVkZW1wdGlvbjox"}, {"id": "UmV3YXJkUmVkZW1wdGlvbjoy"}]}
    built = strawberry_conversion(
        sent, Outer, schema.schema_converter.scalar_registry, schema.config, path=("value",)
    )
    assert [item.id.node_id for item in built.items] == ["1", "2"]
    assert nested == [("value", "items", 0), ("value", "items", 1)]
    assert fallback == [("value", "items", 0, "id"), ("value", "items", 1, "id")]


def test_a_type_shared_by_two_schemas_converts_by_each_ones_names() -> None:
    """The production and development schemas share their input classes: a plan follows the
    configuration of the schema converting, not of the first one that used it."""
    camel = strawberry.Schema(query=SmallQuery)
    snake = strawberry.Schema(query=SmallQuery, config=StrawberryConfig(auto_camel_case=False))
    install(camel)
    install(snake)
    for schema, sent in ((camel, {"firstName": "Ada"}), (snake, {"first_name": "Grace"})):
        built = convert_argument(
            sent, Named, schema.schema_converter.scalar_registry, schema.config
        )
        assert built == Named(first_name=next(iter(sent.values())))
