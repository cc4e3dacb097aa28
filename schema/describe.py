"""Descriptions for the values of enums the schema takes from domain/ (where they are plain
Python enums): every value must have one, so a value added in domain/ without a description
fails at import rather than reaching clients undescribed."""

from __future__ import annotations

from typing import Any


def describe_values(enum: Any, descriptions: dict[str, str]) -> None:
    definition = enum.__strawberry_definition__
    names = {value.name for value in definition.values}
    if names != set(descriptions):
        raise ValueError(f"{definition.name}: describe exactly {sorted(names)}")
    for value in definition.values:
        value.description = descriptions[value.name]
