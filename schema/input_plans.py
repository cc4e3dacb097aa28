"""Input values converted by a plan made once per input type, not worked out per request.

strawberry turns a mutation's `input` (a dict, as graphql-core coerced it) into our input
classes with `convert_argument`, which for every field of every value asks again what the
field's type is: its annotation resolved, its GraphQL name converted, a dozen isinstance
checks (ABCs among them). recordOrder's input of two lines and a payment made 26 such calls
and ~800 isinstance checks a request: about 170 us of a mutation on a slow box (6%).

strawberry lets a type build itself from its input value (`from_input` on its definition,
the hook `strawberry.pydantic` uses). `install` gives every input type of the schema one:
the fields' GraphQL names, Python names and how to convert each, decided the first time the
type is converted. Kept identical to `convert_argument`:

- leaves (scalars, enums) are taken as graphql-core gave them; a list of leaves is copied
  (graphql-core hands every request the same default list);
- null (and strawberry's UNSET) stays as it is; a field absent from the value is None
  unless the class gives it a default;
- an input type nested in a field or a list is built by its own plan;
- anything else (a relay GlobalID, a lazy or generic type) goes through strawberry's own
  conversion, with its path. A type with a `Maybe` field is left to strawberry entirely
  (its validation of explicit nulls skips types that build themselves).

tests/graphql/test_input_plans.py holds every input type's plan equal to strawberry's
conversion on generated values."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import MISSING
from typing import Any

from strawberry.relay import GlobalID
from strawberry.scalars import is_scalar
from strawberry.types.arguments import InputContext
from strawberry.types.base import (
    StrawberryList,
    StrawberryMaybe,
    StrawberryObjectDefinition,
    StrawberryOptional,
    StrawberryType,
    has_object_definition,
)
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition
from strawberry.types.lazy_type import LazyType
from strawberry.types.unset import UNSET

# (value, context, its key: a GraphQL name or a list index) -> value
Convert = Callable[[Any, InputContext, Any], Any]
Plan = Callable[[type, Mapping[str, Any], InputContext], Any]


def install(schema: Any) -> None:
    """Give every input type of a built strawberry schema its planned conversion. A type
    shared by several schemas (the production and the development one share all of theirs)
    keeps one plan per schema configuration: names and scalars are the converting schema's."""
    for concrete in schema.schema_converter.type_map.values():
        definition = concrete.definition
        if (
            isinstance(definition, StrawberryObjectDefinition)
            and definition.is_input
            and definition.from_input is None
            and not any(isinstance(f.type, StrawberryMaybe) for f in definition.fields)
        ):
            definition.from_input = _planned(definition)


def _planned(definition: StrawberryObjectDefinition) -> Plan:
    """The type's from_input: a plan per schema configuration, made on its first use (every
    type of the schema is known by then, so forward references resolve)."""
    made: dict[tuple[int, int], Plan] = {}

    def from_input(cls: type, value: Mapping[str, Any], context: InputContext) -> Any:
        config, registry = context.config, context.scalar_registry
        key = (id(config), id(registry))
        found = made.get(key)
        if found is None:
            found = made[key] = plan(definition, registry, config)
        return found(cls, value, context)

    return from_input


def plan(definition: StrawberryObjectDefinition, registry: Any, config: Any) -> Plan:
    absent = {
        f.python_name: None
        for f in definition.fields
        if f.default_value is MISSING and f.default_factory is MISSING
    }
    fields = [
        (
            config.name_converter.from_field(f),
            f.python_name,
            _converter(f.resolve_type(type_definition=definition), registry),
        )
        for f in definition.fields
    ]

    def build(cls: type, value: Mapping[str, Any], context: InputContext) -> Any:
        kwargs = dict(absent)
        for name, python_name, convert in fields:
            if name in value:
                given = value[name]
                kwargs[python_name] = (
                    given
                    if convert is None or given is None or given is UNSET
                    else convert(given, context, name)
                )
        return cls(**kwargs)

    return build


def _is_leaf(type_: Any, registry: Any) -> bool:
    return type_ is not GlobalID and (
        is_scalar(type_, registry)
        or isinstance(type_, StrawberryEnumDefinition)
        or has_enum_definition(type_)
    )


def _converter(type_: Any, registry: Any) -> Convert | None:
    """How to convert a field's non-null value; None: taken as it is."""
    if isinstance(type_, StrawberryOptional) and not isinstance(type_, StrawberryMaybe):
        return _converter(type_.of_type, registry)
    if _is_leaf(type_, registry):
        return None
    if isinstance(type_, StrawberryList):
        item = type_.of_type
        if isinstance(item, StrawberryOptional) and not isinstance(item, StrawberryMaybe):
            item = item.of_type
        if _is_leaf(item, registry):
            return lambda value, context, name: list(value)
        if _nested(item) is not None:
            convert_item = _converter(item, registry)
            assert convert_item is not None  # a nested input always converts

            def items(value: Any, context: InputContext, name: Any) -> list[Any]:
                inner = _within(context, name)
                return [x if x is None else convert_item(x, inner, i) for i, x in enumerate(value)]

            return items
    elif (kind := _nested(type_)) is not None:
        definition = kind.__strawberry_definition__
        return lambda value, context, name: definition.from_input(  # type: ignore[misc]
            kind, value, _within(context, name)
        )
    return _strawberry(type_)


def _within(context: InputContext, key: str | int) -> InputContext:
    """The context of a value nested at `key` (its path one longer), as strawberry passes it."""
    return InputContext(context.info, context.config, context.scalar_registry, (*context.path, key))


def _nested(type_: Any) -> type | None:
    """An input class (not optional, not a list) that builds itself; None otherwise."""
    if isinstance(type_, StrawberryOptional) and not isinstance(type_, StrawberryMaybe):
        type_ = type_.of_type
    if isinstance(type_, (StrawberryType, LazyType)) or not has_object_definition(type_):
        return None
    definition = type_.__strawberry_definition__
    return type_ if definition.is_input and definition.from_input is not None else None


def _strawberry(type_: Any) -> Convert:
    """strawberry's own conversion, for a field the plans do not cover."""

    def convert(value: Any, context: InputContext, key: Any) -> Any:
        return context.convert(value, type_, key)

    return convert
