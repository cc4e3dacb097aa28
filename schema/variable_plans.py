"""Variables coerced by plan: the same values graphql-core's coercion gives, in less than half
its time.

graphql-core coerces each request's variables by walking their types afresh: a type test per
value (non-null? list? input object? leaf?), a nesting-depth walk before it, the variable's
signature rebuilt from its AST. An order of two lines and one payment is ~40 such steps:
29.7 us by graphql-core, 12.7 us by plan (BENCHMARKS.md, 2026-12-03 late night), of the
~400 us a recordOrder spends in GraphQL execution. A persisted operation's variable definitions are
the same objects on every request (the parser cache hands back the same document), so the
walk is worked out once per (schema, definitions) into closures, and a request calls them.

Narrow road only, and never a different answer: a plan coerces a value only when every step
succeeds plainly. Anything else - a missing or null required value, an unknown field, a
scalar refusing its value, a list given as an iterable other than a list or tuple (a
generator read by the plan would reach graphql-core exhausted), an operation default, a
@oneOf input or one with its own out type - is handed, whole, to graphql-core's own
`get_variable_values`, which then reports exactly the errors it always did. Coercion
changes nothing, so doing it twice is safe.

graphql-core looks `get_variable_values` up as a global of its executor module when it
builds an executor; `install()` puts `planned_variable_values` there (the only such patch:
tests/graphql/test_variable_plans.py fails if graphql-core stops calling it).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

import graphql.execution.executor as graphql_executor
from graphql import (
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    VariableDefinitionNode,
    is_leaf_type,
)
from graphql.execution.get_variable_signature import get_variable_signature
from graphql.execution.values import VariableValues, VariableValueSource, get_variable_values
from graphql.pyutils import Undefined, is_iterable
from graphql.type.definition import is_required_input_field
from graphql.utilities.coerce_input_value import coerce_default_value
from prometheus_client import Counter

from schema.identity_cache import IdentityCache

VARIABLE_PLAN_CACHE_SIZE = 512
COERCIONS = Counter(
    "loyalty_graphql_variable_coercions_total",
    "Requests' variables by how they were coerced: planned, or by graphql-core (no plan for "
    "the operation's variables, or a value the plan does not take plainly); operations "
    "without variables are not counted",
    ["how"],
)
PLANNED, BY_GRAPHQL_CORE = (COERCIONS.labels(h) for h in ("planned", "graphql-core"))

Coercer = Callable[[Any], Any]


class Refused(Exception):
    """A value the plan does not take plainly: graphql-core coerces the request instead."""


class Unplannable(Exception):
    """A type or definition the plan does not handle: graphql-core coerces such operations."""


def _non_null(inner: Coercer) -> Coercer:
    def coerce(value: Any) -> Any:
        if value is None or value is Undefined:
            raise Refused
        return inner(value)

    return coerce


def _list(item: Coercer) -> Coercer:
    def coerce(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, (list, tuple)):
            return [item(each) for each in value]
        if is_iterable(value):  # a generator, a set: graphql-core must get it unread
            raise Refused
        return [item(value)]  # a non-list value is a list of one

    return coerce


def _input_object(type_: GraphQLInputObjectType, planner: _Planner) -> Coercer:
    if type_.is_one_of or type_.out_type is not GraphQLInputObjectType.out_type:
        raise Unplannable(type_.name)
    fields = []
    for name, field in type_.fields.items():
        required = is_required_input_field(field)
        # a field left out takes its default: the very object graphql-core would give
        default = Undefined if required else coerce_default_value(field)
        fields.append(
            (name, field.out_name or name, planner.coercer(field.type), required, default)
        )
    known = frozenset(type_.fields)

    def coerce(value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, dict) or not known.issuperset(value):
            raise Refused  # not an object, or a field the type does not have
        coerced: dict[str, Any] = {}
        for name, out, field_coercer, required, default in fields:
            given = value.get(name, Undefined)
            if given is not Undefined:
                coerced[out] = field_coercer(given)
            elif required:
                raise Refused
            elif default is not Undefined:
                coerced[out] = default
        return coerced

    return coerce


def _leaf(type_: Any) -> Coercer:
    parse = type_.coerce_input_value

    def coerce(value: Any) -> Any:
        if value is None:
            return None
        try:
            coerced = parse(value)
        except Exception as error:  # graphql-core turns it into the request's error
            raise Refused from error
        if coerced is Undefined:
            raise Refused
        return coerced

    return coerce


class _Planner:
    def __init__(self) -> None:
        self.visiting: set[str] = set()

    def coercer(self, type_: GraphQLInputType) -> Coercer:
        if isinstance(type_, GraphQLNonNull):
            return _non_null(self.coercer(type_.of_type))
        if isinstance(type_, GraphQLList):
            return _list(self.coercer(type_.of_type))
        if isinstance(type_, GraphQLInputObjectType):
            if type_.name in self.visiting:  # a recursive input: its depth is the value's
                raise Unplannable(type_.name)
            self.visiting.add(type_.name)
            try:
                return _input_object(type_, self)
            finally:
                self.visiting.discard(type_.name)
        if is_leaf_type(type_):
            return _leaf(type_)
        raise Unplannable(str(type_))


class VariablePlan:
    """Per variable: its signature (as graphql-core makes it) and its value's coercer."""

    def __init__(
        self, schema: GraphQLSchema, definitions: Collection[VariableDefinitionNode]
    ) -> None:
        planner = _Planner()
        self.variables = []
        for definition in definitions:
            signature = get_variable_signature(schema, definition)
            if isinstance(signature, GraphQLError) or definition.default_value:
                raise Unplannable("an invalid variable, or one with a default")
            nullable = not isinstance(signature.type, GraphQLNonNull)
            self.variables.append(
                (signature.name, signature, planner.coercer(signature.type), nullable)
            )

    def coerce(self, inputs: dict[str, Any]) -> VariableValues:
        sources: dict[str, VariableValueSource] = {}
        coerced: dict[str, Any] = {}
        for name, signature, coercer, nullable in self.variables:
            value = inputs.get(name, Undefined)
            if value is Undefined:
                if not nullable:
                    raise Refused
                sources[name] = VariableValueSource(signature)
                continue
            sources[name] = VariableValueSource(signature, value)
            coerced[name] = coercer(value)
        return VariableValues(sources, coerced)


_plans: IdentityCache[VariablePlan | None] = IdentityCache(VARIABLE_PLAN_CACHE_SIZE)


def _plan(schema: GraphQLSchema, definitions: Collection[VariableDefinitionNode]) -> Any:
    try:
        return VariablePlan(schema, definitions)
    except Unplannable:
        return None


def planned_variable_values(
    schema: GraphQLSchema,
    var_def_nodes: Collection[VariableDefinitionNode],
    inputs: dict[str, Any],
    max_errors: int | None = None,
    hide_suggestions: bool = False,
) -> Any:
    """`get_variable_values`, by plan when the operation's variables have one and the values
    are taken plainly; otherwise graphql-core's own, with its errors."""
    if not var_def_nodes:  # nothing to coerce (not counted)
        return get_variable_values(schema, var_def_nodes, inputs, max_errors, hide_suggestions)
    plan = _plans.get(schema, var_def_nodes, lambda: _plan(schema, var_def_nodes))
    if plan is not None:
        try:
            values = plan.coerce(inputs)
        except Refused:
            pass
        else:
            PLANNED.inc()
            return values
    BY_GRAPHQL_CORE.inc()
    return get_variable_values(schema, var_def_nodes, inputs, max_errors, hide_suggestions)


def install() -> None:
    """graphql-core's executor coerces variables by plan from now on (idempotent)."""
    graphql_executor.get_variable_values = planned_variable_values  # type: ignore[attr-defined]
