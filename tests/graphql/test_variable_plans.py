"""Variables coerced by plan (schema/variable_plans.py) come out exactly as graphql-core's own
coercion gives them, and whatever the plan does not take plainly gets graphql-core's answer,
errors included."""

from __future__ import annotations

import enum
from typing import Any

import graphql.execution.executor as graphql_executor
import strawberry
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    Undefined,
    is_input_type,
    parse,
    type_from_ast,
)
from graphql.execution.values import get_variable_values
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import REGISTRY

from schema import build_schema
from schema.variable_plans import planned_variable_values

SCHEMA = build_schema(production=False)._schema

RECORD_ORDER = parse(
    "mutation ($input: RecordOrderInput!) { recordOrder(input: $input) { __typename } }"
)
PAGE = parse(
    "query ($e: String!, $n: Int, $skus: [String!]) { member(externalId: $e) { externalId } }"
)


def definitions(document: Any) -> Any:
    return document.definitions[0].variable_definitions


def as_graphql_core(schema: Any, document: Any, inputs: Any) -> Any:
    return get_variable_values(schema, definitions(document), inputs, max_errors=50)


def as_planned(schema: Any, document: Any, inputs: Any) -> Any:
    return planned_variable_values(schema, definitions(document), inputs, max_errors=50)


def same(planned: Any, expected: Any) -> None:
    if isinstance(expected, list):  # errors
        assert isinstance(planned, list), planned
        assert [e.message for e in planned] == [e.message for e in expected]
        return
    assert not isinstance(planned, list), planned
    assert planned.coerced == expected.coerced
    assert type_names(planned.coerced) == type_names(expected.coerced)
    assert sources(planned) == sources(expected)


def sources(values: Any) -> dict[str, Any]:
    # a signature is made afresh by graphql-core per request (no equality of its own)
    return {
        name: (s.signature.name, str(s.signature.type), s.signature.default, s.value)
        for name, s in values.sources.items()
    }


def type_names(value: Any) -> Any:
    """The value's shape with each leaf's type: equal values of other types (1 and True,
    an enum member and its value) must not pass for each other."""
    if isinstance(value, dict):
        return {k: type_names(v) for k, v in value.items()}
    if isinstance(value, list):
        return [type_names(v) for v in value]
    return type(value).__name__


def coercions() -> dict[str, float]:
    return {
        how: REGISTRY.get_sample_value("loyalty_graphql_variable_coercions_total", {"how": how})
        or 0.0
        for how in ("planned", "graphql-core")
    }


def an_order() -> dict[str, Any]:
    return {
        "orderId": "o-1",
        "memberExternalId": "m-1",
        "placedAt": "2026-12-01T10:00:00+00:00",
        "lines": [
            {"sku": "coffee-01", "category": "coffee", "unitPrice": 4990, "quantity": 2},
            {"sku": "books-03", "category": "books", "unitPrice": 5990, "quantity": 1},
        ],
        "payments": [{"method": "CARD", "amount": 15970}],
        "idempotencyKey": "k-1",
    }


def test_a_plain_order_is_coerced_by_plan_as_graphql_core_coerces_it():
    # given an order as a client sends it (defaults left out: discounted, channel, currency)
    inputs = {"input": an_order()}
    before = coercions()
    # when its variables are coerced by plan
    planned = as_planned(SCHEMA, RECORD_ORDER, inputs)
    # then the plan took it, and gave graphql-core's values: defaults filled in, the enum
    # as the enum's member, the instant as a datetime
    assert coercions()["planned"] == before["planned"] + 1
    same(planned, as_graphql_core(SCHEMA, RECORD_ORDER, inputs))
    order = planned.coerced["input"]
    assert order["channel"] == "ONLINE" or getattr(order["channel"], "name", None) == "ONLINE"
    assert [line["discounted"] for line in order["lines"]] == [False, False]


def test_graphql_core_answers_what_the_plan_does_not_take():
    # given values the plan refuses: a required field missing, a null where it is required,
    # an unknown field, a scalar of the wrong kind, an enum value that is not one
    broken = []
    for change in (
        lambda o: o.pop("orderId"),
        lambda o: o.update(orderId=None),
        lambda o: o.update(surprise=1),
        lambda o: o["lines"][0].update(quantity="two"),
        lambda o: o["payments"][0].update(method="CHEQUE"),
        lambda o: o.update(placedAt="yesterday"),
        lambda o: o.update(lines=None),
    ):
        order = an_order()
        change(order)
        broken.append({"input": order})
    broken.append({})
    broken.append({"input": "an order"})
    for inputs in broken:
        before = coercions()
        # when each is coerced
        planned = as_planned(SCHEMA, RECORD_ORDER, inputs)
        # then graphql-core coerced it, with its own errors
        assert coercions()["graphql-core"] == before["graphql-core"] + 1, inputs
        assert isinstance(planned, list) and planned, inputs
        same(planned, as_graphql_core(SCHEMA, RECORD_ORDER, inputs))


def test_nullable_variables_left_out_or_null_and_a_single_value_for_a_list():
    for inputs in (
        {"e": "m-1"},
        {"e": "m-1", "n": None, "skus": None},
        {"e": "m-1", "n": 3, "skus": "one"},  # a list of one
        {"e": "m-1", "skus": ["a", "b"]},
    ):
        same(as_planned(SCHEMA, PAGE, inputs), as_graphql_core(SCHEMA, PAGE, inputs))
    assert as_planned(SCHEMA, PAGE, {"e": "m-1", "skus": "one"}).coerced["skus"] == ["one"]


# any JSON a client could send, and orders with one part of them replaced by it
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
ORDER_FIELDS = [*an_order(), "currency", "channel", "discounted", "unitPrice", "method"]


@st.composite
def orders(draw: st.DrawFn) -> dict[str, Any]:
    order = an_order()
    parts = [order, order["lines"][0], order["lines"][1], order["payments"][0]]
    for _ in range(draw(st.integers(0, 3))):
        target = draw(st.sampled_from(parts))
        field = draw(st.sampled_from(ORDER_FIELDS))
        if draw(st.booleans()):
            target.pop(field, None)
        else:
            target[field] = draw(
                json_values
                | st.sampled_from(["ONLINE", "STORE", "CARD", "EUR", "2026-12-01T10:00:00Z"])
            )
    return {"input": order}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inputs=orders() | st.dictionaries(st.sampled_from(["input", "other"]), json_values))
def test_any_order_comes_out_as_graphql_core_gives_it(inputs):
    same(as_planned(SCHEMA, RECORD_ORDER, inputs), as_graphql_core(SCHEMA, RECORD_ORDER, inputs))


@strawberry.input(one_of=True)
class Either:
    a: int | None = strawberry.UNSET
    b: str | None = strawberry.UNSET


@strawberry.enum
class Size(enum.Enum):
    S = "s"
    L = "l"


@strawberry.input
class Nested:
    size: Size = Size.S
    either: Either | None = None


@strawberry.type
class Query:
    @strawberry.field
    def echo(self, nested: Nested | None = None, size: Size | None = None) -> str:
        return "ok"


def test_a_one_of_input_and_a_variable_default_go_to_graphql_core():
    schema = strawberry.Schema(query=Query)._schema
    one_of = parse("query ($n: Nested) { echo(nested: $n) }")
    with_default = parse("query ($s: Size = L) { echo(size: $s) }")
    for document, inputs in (
        (one_of, {"n": {"either": {"a": 1}}}),
        (one_of, {"n": {"either": {"a": 1, "b": "x"}}}),
        (one_of, {"n": {}}),
        (with_default, {}),
        (with_default, {"s": "S"}),
    ):
        before = coercions()
        planned = as_planned(schema, document, inputs)
        assert coercions()["graphql-core"] == before["graphql-core"] + 1
        same(planned, as_graphql_core(schema, document, inputs))


async def test_graphql_core_coerces_a_requests_variables_through_the_plan(gql, programme):
    # given the plan installed by the schema's build
    assert graphql_executor.get_variable_values is planned_variable_values
    before = coercions()
    # when a request with variables runs (without an API key it is refused, but only after
    # graphql-core built its executor, variables coerced)
    await gql("query ($e: String!) { member(externalId: $e) { externalId } }", {"e": "m-1"})
    # then graphql-core's executor coerced them by plan
    assert coercions()["planned"] == before["planned"] + 1


def test_a_one_shot_iterable_for_a_list_reaches_graphql_core_unread():
    # given list variables given as iterables other than a list (a Python caller's, not
    # JSON): a generator whose second item the plan does not take, a generator, an
    # iterator, a set. Were the plan to read a generator before refusing, graphql-core
    # would coerce an exhausted one (an empty list) instead of the caller's value
    for make in (
        lambda: (sku for sku in ["a", 1]),
        lambda: (sku for sku in ["a", "b"]),
        lambda: iter(["a"]),
        lambda: {"a"},
    ):
        # when coerced by plan and by graphql-core, each its own unread iterable
        given, expected_given = make(), make()
        planned = as_planned(SCHEMA, PAGE, {"e": "m-1", "skus": given})
        expected = as_graphql_core(SCHEMA, PAGE, {"e": "m-1", "skus": expected_given})
        # then the plan gives graphql-core's answer (the source: the caller's own value)
        assert not isinstance(planned, list) and not isinstance(expected, list)
        assert planned.coerced == expected.coerced
        assert type_names(planned.coerced) == type_names(expected.coerced)
        assert planned.sources["skus"].value is given


# every input type, enum and scalar of the schema, as a variable of several wrappings, with
# values drawn from its type (each field left out, null, any JSON, or a value of its type)
INPUT_TYPES = sorted(
    name for name, t in SCHEMA.type_map.items() if not name.startswith("__") and is_input_type(t)
)
LEAVES: dict[str, st.SearchStrategy[Any]] = {
    "Int": st.integers(-(2**31), 2**31 - 1) | st.sampled_from([2**31, 1.0, 2.5, True, "1"]),
    "Float": st.floats() | st.integers(-(2**60), 2**60) | st.sampled_from([True, "1.5"]),
    "String": st.text(max_size=4) | st.sampled_from([1, True]),
    "ID": st.text(max_size=4) | st.integers() | st.sampled_from([1.0, True]),
    "Boolean": st.booleans() | st.sampled_from([0, 1, "true"]),
    "DateTime": st.sampled_from(
        ["2026-12-01T10:00:00+00:00", "2026-12-01T11:00:00+01:00", "2026-12-01", "x", 5]
    ),
    "Date": st.sampled_from(["2026-12-01", "2026-12-01T10:00:00", "2026-W48-1", 5]),
}


def values_of(type_: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    if isinstance(type_, GraphQLNonNull):
        return values_of(type_.of_type, depth)
    if isinstance(type_, GraphQLList):
        item = values_of(type_.of_type, depth + 1)
        return st.none() | item | st.lists(item, max_size=3) | st.lists(item, max_size=2).map(tuple)
    if isinstance(type_, GraphQLInputObjectType):
        if depth > 5:
            return st.none()
        fields = {
            name: st.sampled_from([Undefined, None]) | json_values | values_of(f.type, depth + 1)
            for name, f in type_.fields.items()
        }
        objects = st.fixed_dictionaries(fields).map(
            lambda d: {k: v for k, v in d.items() if v is not Undefined}
        )
        return st.none() | objects
    if isinstance(type_, GraphQLEnumType):
        return st.sampled_from(list(type_.values)) | json_values
    return st.none() | LEAVES.get(type_.name, json_values)


@st.composite
def variables(draw: st.DrawFn) -> tuple[Any, dict[str, Any]]:
    name = draw(st.sampled_from(INPUT_TYPES))
    wrapped = draw(st.sampled_from(["{}", "{}!", "[{}]", "[{}!]!", "[[{}]]"])).format(name)
    document = parse(f"query ($v: {wrapped}, $w: String) {{ __typename }}")
    type_ = type_from_ast(SCHEMA, definitions(document)[0].type)
    inputs = draw(
        st.fixed_dictionaries(
            {}, optional={"v": values_of(type_) | json_values, "w": st.none() | st.text(max_size=2)}
        )
    )
    return document, inputs


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=variables())
def test_any_variable_of_any_input_type_comes_out_as_graphql_core_gives_it(case):
    document, inputs = case
    same(as_planned(SCHEMA, document, inputs), as_graphql_core(SCHEMA, document, inputs))


def test_an_input_field_with_an_out_name_is_keyed_by_it_as_graphql_core_keys_it():
    # given a field with its own out name (none in our schema: strawberry does not set one)
    from graphql import (
        GraphQLField,
        GraphQLInputField,
        GraphQLInt,
        GraphQLObjectType,
        GraphQLSchema,
        GraphQLString,
    )

    page = GraphQLInputObjectType(
        "Page",
        {
            "pageSize": GraphQLInputField(GraphQLInt, out_name="page_size"),
            "after": GraphQLInputField(GraphQLString, default_value="0", out_name="after_"),
        },
    )
    query = GraphQLObjectType("Query", {"n": GraphQLField(GraphQLInt, {"p": page})})  # type: ignore[dict-item]
    schema = GraphQLSchema(query)
    document = parse("query ($p: [Page!]) { n(p: $p) }")
    for inputs in ({"p": {"pageSize": 3}}, {"p": [{"after": "x"}, {}]}, {"p": {"page_size": 3}}):
        # when coerced, then keyed by out name, the default too (or refused alike)
        same(as_planned(schema, document, inputs), as_graphql_core(schema, document, inputs))
    assert as_planned(schema, document, {"p": {"pageSize": 3}}).coerced == {
        "p": [{"page_size": 3, "after_": "0"}]
    }
