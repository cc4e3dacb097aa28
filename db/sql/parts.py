"""What every batched page part is made of: a model row read as a JSON object, the
(PostgreSQL, SQLite) texts of a part, and the conversions JSON needs on both dialects.
db/sql/page.py builds the member page's parts with these; db/sql/page_catalogue.py its
rewards and challenges."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
from tortoise.fields import BooleanField, DatetimeField, JSONField
from tortoise.models import Model


def utc_at(value: Any) -> datetime | None:
    """A timestamp as JSON carries it (PostgreSQL's ISO text, SQLite's stored text)."""
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is UTC:  # both dialects write UTC: "+00:00" parses to this very object
        return parsed
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


class Mapping:
    """How one model's row is read as a JSON object and turned into an instance, once.
    Worked out on first use: a model's foreign-key columns are known only after Tortoise.init."""

    def __init__(self, model: type[Model]) -> None:
        self.model = model
        self.ready = False

    def _learn(self) -> None:
        meta = self.model._meta
        self.columns = sorted(meta.fields_db_projection.values())
        by_column = {
            meta.fields_db_projection[name]: meta.fields_map[name] for name in meta.db_fields
        }
        self.times = [c for c, f in by_column.items() if isinstance(f, DatetimeField)]
        self.flags = [c for c, f in by_column.items() if isinstance(f, BooleanField)]
        self.documents = [c for c, f in by_column.items() if isinstance(f, JSONField)]
        # The instance is made as _init_from_db makes it, minus its per-field calls (the values
        # are converted above): where every column is its attribute's name, by one update of
        # the instance's __dict__ (these models have no properties over their columns).
        self.plain = all(meta.fields_db_projection_reverse.get(c, c) == c for c in self.columns)
        self.generated_pk = meta.db_pk_column not in meta.generated_db_fields
        self.ready = True

    def object_sql(self, alias: str, postgres: bool) -> str:
        if not self.ready:
            self._learn()
        pairs = ", ".join(f"'{c}', {alias}.{c}" for c in self.columns)
        return f"json_build_object({pairs})" if postgres else f"json_object({pairs})"

    def instance(self, values: dict[str, Any]) -> Any:
        if not self.ready:
            self._learn()
        for c in self.times:
            values[c] = utc_at(values[c])
        for c in self.flags:
            values[c] = bool(values[c])
        for c in self.documents:
            if isinstance(values[c], str):
                values[c] = orjson.loads(values[c])
        if not self.plain:
            return self.model._init_from_db(**values)
        made = self.model.__new__(self.model)
        state = made.__dict__
        state.update(values)
        state["_partial"] = False
        state["_saved_in_db"] = True
        state["_custom_generated_pk"] = self.generated_pk
        state["_await_when_save"] = {}
        return made


AGG = ("json_agg", "json_group_array")


def in_order(pg: bool, keys: str) -> str:
    """PostgreSQL does not promise that json_agg keeps its subquery's order: the order is said
    in the aggregate. SQLite's json_group_array takes rows as the subquery yields them (its
    ORDER BY inside an aggregate needs 3.44, newer than some systems ship)."""
    return f" ORDER BY {keys}" if pg else ""


class Texts:
    """A part's (PostgreSQL, SQLite) statement texts, made on first use (see Mapping)."""

    def __init__(self, make: Callable[[bool], str]) -> None:
        self.make = make
        self.made: tuple[str, str] | None = None

    def get(self, postgres: bool) -> str:
        if self.made is None:
            self.made = (self.make(True), self.make(False))
        return self.made[0] if postgres else self.made[1]


def document(value: Any) -> Any:
    if value is None:
        return []
    return orjson.loads(value) if isinstance(value, (str, bytes)) else value


def as_array(value: Any) -> list[Any]:
    # SQLite nests json_array() results as arrays; a text column would come as a string
    return orjson.loads(value) if isinstance(value, str) else value  # type: ignore[no-any-return]


def as_object(value: Any) -> dict[str, Any]:
    # SQLite nests json_object() results as objects; a text column would come as a string
    return orjson.loads(value) if isinstance(value, str) else dict(value)
