"""The planned executor (schema/executor.py) answers exactly as graphql-core does: the same
data and the same errors, planned where it can be, graphql-core where it cannot."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
import strawberry
from prometheus_client import REGISTRY
from strawberry.dataloader import DataLoader

from api.member_page import MEMBER_PAGE
from domain.auth import Role
from schema.executor import PLAN_CACHE_SIZE, PlannedExecutor, Planner
from tests.fixtures.graphql import answer
from tests.graphql.test_query_counts import member_with


def runs() -> dict[str, float]:
    return {
        outcome: REGISTRY.get_sample_value("loyalty_graphql_plan_runs_total", {"outcome": outcome})
        or 0.0
        for outcome in ("planned", "unplanned", "abandoned")
    }


def grew(before: dict[str, float]) -> dict[str, float]:
    after = runs()
    return {k: after[k] - before[k] for k in after if after[k] != before[k]}


# ---------------------------------------------------------------- a small schema


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"


batches: list[list[int]] = []


async def load_details(keys: list[int]) -> list[str]:
    batches.append(list(keys))
    return [f"detail {k}" for k in keys]


@strawberry.type
class Item:
    id: int
    label: str | None
    colour: Colour
    tags: list[str]

    @strawberry.field
    async def detail(self, info: strawberry.Info) -> str:
        return await info.context["details"].load(self.id)

    @strawberry.field
    def broken(self) -> str:
        if self.id == 2:
            raise ValueError("item 2 is broken")
        return "fine"


@strawberry.interface
class Animal:
    name: str


@strawberry.type
class Dog(Animal):
    barks: bool


@strawberry.type
class Query:
    name: str = "shop"
    numbers: list[int] = strawberry.field(default_factory=lambda: [1, 2, 3])
    nothing: str | None = None
    when: datetime = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    shelf: list[Item] = strawberry.field(
        default_factory=lambda: [
            Item(id=n, label=None, colour=Colour.GREEN, tags=[]) for n in (7, 8)
        ]
    )

    @strawberry.field
    async def items(self, first: int = 3) -> list[Item]:
        return [
            Item(id=n, label=None if n % 2 else f"item {n}", colour=Colour.RED, tags=["a", "b"])
            for n in range(1, first + 1)
        ]

    @strawberry.field
    def greeting(self, who: str, punctuation: str = "!") -> str:
        return f"hello {who}{punctuation}"

    @strawberry.field
    def painted(self, colour: Colour = Colour.GREEN) -> str:
        return f"painted {colour.value}"

    @strawberry.field
    def tint(self, colour: Colour | None = None) -> str:
        return "none" if colour is None else f"tint {colour.value}"

    @strawberry.field
    def must(self) -> str:
        return None  # type: ignore[return-value]  # a bug: null for a non-null field

    @strawberry.field
    def big(self) -> int:
        return 2**40  # not a GraphQL Int

    @strawberry.field
    async def fails(self) -> str | None:
        raise ValueError("no")

    @strawberry.field
    def pet(self) -> Animal:
        return Dog(name="rex", barks=True)


@strawberry.type
class Mutation:
    @strawberry.mutation
    def touch(self) -> str:
        return "touched"


PLANNED_SCHEMA = strawberry.Schema(
    query=Query, mutation=Mutation, types=[Dog], execution_context_class=PlannedExecutor
)
STOCK_SCHEMA = strawberry.Schema(query=Query, mutation=Mutation, types=[Dog])


async def both(query: str, variables: dict | None = None) -> tuple[dict, dict, dict]:
    """(planned answer, graphql-core's answer, how the planned one ran)."""
    answers = []
    before = runs()
    for schema in (PLANNED_SCHEMA, STOCK_SCHEMA):
        context = {"details": DataLoader(load_fn=load_details)}
        result = await schema.execute(
            query, variable_values=variables, context_value=context, root_value=Query()
        )
        if schema is PLANNED_SCHEMA:
            how = grew(before)
        answers.append({"data": result.data, "errors": [e.formatted for e in result.errors or ()]})
    return answers[0], answers[1], how


async def test_fields_aliases_fragments_and_lists_answer_as_graphql_core():
    query = """
    query ($who: String!) {
      __typename
      name shopName: name numbers nothing when
      hi: greeting(who: $who) bye: greeting(who: "you", punctuation: ".")
      items(first: 4) { ...ItemBits id tags colour ... on Item { alsoLabel: label } }
      few: items(first: 1) { id __typename }
    }
    fragment ItemBits on Item { id label detail }
    """
    planned, stock, how = await both(query, {"who": "ann"})
    assert answer(planned) == answer(stock)
    assert planned["data"]["items"][1] == {
        "id": 2,
        "label": "item 2",
        "detail": "detail 2",
        "tags": ["a", "b"],
        "colour": "RED",
        "alsoLabel": "item 2",
    }
    assert how == {"planned": 1}


async def test_a_loader_still_batches_the_items_of_a_list():
    batches.clear()
    planned, stock, how = await both("{ items(first: 5) { detail } }")
    assert planned == stock and how == {"planned": 1}
    assert batches == [[1, 2, 3, 4, 5], [1, 2, 3, 4, 5]]  # once each: planned, then stock


@pytest.mark.parametrize(
    "query",
    [
        "{ name must }",  # null for a non-null field: the null reaches the root
        "{ name big }",  # an Int out of range
        "{ name fails }",  # an async resolver raises
        "{ items { id broken } }",  # one item's field raises inside a list
    ],
)
async def test_errors_are_graphql_cores_own(query):
    planned, stock, how = await both(query)
    assert answer(planned) == answer(stock)
    assert planned["errors"]
    assert how == {"abandoned": 1}


@pytest.mark.parametrize(
    "query",
    [
        "query ($x: Boolean!) { name numbers @include(if: $x) }",
        "{ pet { name ... on Dog { barks } } }",
        "{ __schema { queryType { name } } }",
        '{ __type(name: "Item") { name } }',
    ],
)
async def test_directives_interfaces_and_introspection_run_on_graphql_core(query):
    planned, stock, how = await both(query, {"x": False})
    assert answer(planned) == answer(stock)
    assert not planned["errors"]
    assert how == {"unplanned": 1}


async def test_mutations_never_take_the_plan():
    planned, stock, how = await both("mutation { touch }")
    assert planned == stock == {"data": {"touch": "touched"}, "errors": []}
    assert how == {}


async def test_the_plan_cache_is_bounded():
    for n in range(PLAN_CACHE_SIZE + 20):
        result = await PLANNED_SCHEMA.execute(f"{{ a{n}: name }}", root_value=Query())
        assert result.data == {f"a{n}": "shop"}
    assert len(PlannedExecutor.plans) <= PLAN_CACHE_SIZE


async def test_a_document_from_the_parser_cache_is_planned_once(monkeypatch):
    from strawberry.extensions import ParserCache

    from schema import executor

    cached = strawberry.Schema(
        query=Query, extensions=[ParserCache(maxsize=8)], execution_context_class=PlannedExecutor
    )
    planned = []
    original = executor.Planner.root
    monkeypatch.setattr(executor.Planner, "root", lambda self: planned.append(1) or original(self))
    for _ in range(3):
        result = await cached.execute("{ name numbers } # planned once", root_value=Query())
        assert result.data == {"name": "shop", "numbers": [1, 2, 3]}
    assert len(planned) == 1


# ---------------------------------------------------------------- the real member page


async def test_the_member_page_takes_the_plan_and_answers_as_graphql_core(
    gql, programme, make_member, make_key, monkeypatch
):
    member = await member_with(programme, make_member, 3)
    key = await make_key(programme, Role.STOREFRONT)
    variables = {"e": member.external_id}
    await gql(MEMBER_PAGE, variables, auth=key)  # the first sight plans it
    before = runs()
    planned = await gql(MEMBER_PAGE, variables, auth=key)
    assert grew(before) == {"planned": 1}
    monkeypatch.setattr(PlannedExecutor, "plan_for", lambda self, operation: None)
    stock = await gql(MEMBER_PAGE, variables, auth=key)
    assert answer(planned) == answer(stock)
    page = planned["data"]["member"]
    assert len(page["benefits"]) == 3 and len(page["coupons"]["edges"]) == 3
    assert [e["node"]["amount"] for e in page["transactions"]["edges"]] == [5, 5, 5]


async def test_a_refused_query_is_refused_as_graphql_core_refuses_it(
    gql, programme, make_member, make_key, monkeypatch
):
    # given a member token asking for the staff-only member list
    from tests.graphql.test_auth import token_for

    member = await make_member(programme)
    token = await token_for(gql, await make_key(programme, Role.STOREFRONT), member.external_id)
    query = "{ members(first: 5) { edges { node { externalId } } } }"
    before = runs()
    planned = await gql(query, auth=token)
    assert grew(before) == {"abandoned": 1}
    monkeypatch.setattr(PlannedExecutor, "plan_for", lambda self, operation: None)
    assert answer(planned) == answer(await gql(query, auth=token))
    assert planned["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_plain_resolvers_are_called_directly_and_the_others_through_strawberry():
    # given resolvers with built-in scalar arguments, info, and one with an enum argument,
    # asked with the enum given and left to its default
    query = """{ items(first: 2) { id detail } greeting(who: "ann") painted(colour: RED)
                 plain: painted }"""
    # when the query runs planned and on graphql-core
    planned, stock, how = await both(query)
    # then the answers are the same, planned: the enum given was converted by strawberry
    assert planned == stock and how == {"planned": 1}
    assert planned["data"]["painted"] == "painted red"
    assert planned["data"]["plain"] == "painted green"
    # and the resolvers are called directly (a given enum through strawberry's wrapper)
    fields = PLANNED_SCHEMA._schema.query_type.fields
    planner = Planner(SimpleNamespace(schema=PLANNED_SCHEMA._schema))  # type: ignore[arg-type]
    assert planner.direct(fields["items"]) and planner.direct(fields["greeting"])
    assert planner.direct(fields["painted"]) is not None
    detail = PLANNED_SCHEMA._schema.type_map["Item"].fields["detail"]  # type: ignore[union-attr]
    assert planner.direct(detail) is not None


async def test_an_optional_enum_argument_left_out_null_or_given_answers_as_graphql_core():
    # given a resolver with an optional enum argument, asked without it, with null and a value
    query = (
        "query ($c: Colour) { tint a: tint(colour: null) b: tint(colour: RED) c: tint(colour: $c) }"
    )
    for colour in (None, "GREEN"):
        # when the query runs planned and on graphql-core
        planned, stock, how = await both(query, {"c": colour})
        # then the answers are the same, planned
        assert planned == stock and how == {"planned": 1}
        assert planned["data"]["tint"] == planned["data"]["a"] == "none"
        assert planned["data"]["b"] == "tint red"
        assert planned["data"]["c"] == ("none" if colour is None else "tint green")


def test_guarded_member_fields_are_called_directly_behind_the_same_checks():
    # given the real schema: fields with text arguments have the input checks in front
    from schema import build_schema
    from schema.input_checks import unguarded

    real = build_schema(production=True)._schema
    fields = real.type_map["Member"].fields  # type: ignore[union-attr]
    planner = Planner(SimpleNamespace(schema=real))  # type: ignore[arg-type]
    # then the planner reaches the resolvers behind the guard and calls them directly
    assert unguarded(fields["coupons"].resolve) is not None
    assert planner.direct(fields["coupons"]) is not None
    assert planner.direct(fields["transactions"]) is not None
    member = real.query_type.fields["member"]  # type: ignore[union-attr]
    assert unguarded(member.resolve) is not None and planner.direct(member) is not None
    assert planner.direct(fields["points"]) is not None
    assert planner.direct(fields["recommendations"]) is not None


def test_literal_arguments_are_worked_out_once_and_variables_on_every_request():
    # given a plan with a field of literal arguments and one of a variable
    from graphql import parse

    from schema.executor import _has_variables

    document = parse('query ($w: String!) { a: greeting(who: "ann") b: greeting(who: $w) }')
    a, b = document.definitions[0].selection_set.selections  # type: ignore[attr-defined]
    # then only the literal one is kept with its plan
    assert not _has_variables(a) and _has_variables(b)
    nested = parse("{ f(x: [{y: $v}]) }").definitions[0].selection_set.selections[0]  # type: ignore[attr-defined]
    assert _has_variables(nested)


async def test_a_plan_with_literal_arguments_answers_each_requests_variables():
    # given one document, with literal and variable arguments, asked with two variables
    query = 'query ($w: String!) { a: greeting(who: "ann") b: greeting(who: $w) items(first: 2) { id } }'
    for who in ("bob", "cy"):
        # when it runs planned (the second time on a plan already made) and on graphql-core
        planned, stock, how = await both(query, {"w": who})
        # then both say the same, for this request's variable
        assert planned == stock and how == {"planned": 1}
        assert planned["data"]["a"] == "hello ann!" and planned["data"]["b"] == f"hello {who}!"


async def test_lists_completed_with_and_without_awaiting_answer_as_graphql_core():
    # given lists completed without awaiting (ids, tags) and lists whose items await (detail),
    # from resolvers and from plain attributes
    query = """{
      items(first: 3) { id tags colour } again: items(first: 2) { id detail }
      shelf { id colour } awaited: shelf { id detail }
    }"""
    # when it runs planned and on graphql-core
    planned, stock, how = await both(query)
    # then the answers are the same, planned
    assert planned == stock and how == {"planned": 1}
    assert planned["data"]["again"][1] == {"id": 2, "detail": "detail 2"}
    assert planned["data"]["awaited"] == [
        {"id": 7, "detail": "detail 7"},
        {"id": 8, "detail": "detail 8"},
    ]


async def test_guarded_fields_answer_as_graphql_core_with_good_and_bad_arguments(
    gql, programme, make_member, make_key, monkeypatch
):
    # given a member with coupons and ledger rows, and the member page's fields asked with
    # enum arguments (converted by strawberry), cursors, and a text argument too long
    member = await member_with(programme, make_member, 3)
    key = await make_key(programme, Role.STOREFRONT)
    page = """query ($e: String!, $after: String) { member(externalId: $e) {
      externalId
      coupons(first: 2, status: AVAILABLE) { edges { cursor node { code status } } }
      all: coupons(first: 5, after: $after) { edges { node { code } } }
      transactions(first: 2, kinds: [ADJUST]) { edges { node { kind amount } } }
      none: transactions(first: 2, kinds: [EARN]) { edges { node { kind } } }
    } }"""
    cases = [
        {"e": member.external_id},
        {"e": "x" * 129},  # over externalId's 128: the check refuses it
        {"e": member.external_id, "after": "\x00"},  # a control character in a cursor
        {"e": member.external_id, "after": "not a cursor of ours"},  # the resolver refuses it
    ]
    answers = []
    for variables in cases:
        await gql(page, variables, auth=key)  # the first sight plans it
        before = runs()
        answers.append((await gql(page, variables, auth=key), grew(before)))
    # when graphql-core answers the same
    monkeypatch.setattr(PlannedExecutor, "plan_for", lambda self, operation: None)
    for variables, (planned, how) in zip(cases, answers, strict=True):
        stock = await gql(page, variables, auth=key)
        # then planned and graphql-core say the same; good arguments stay on the plan
        assert answer(planned) == answer(stock)
        assert how == ({"abandoned": 1} if planned.get("errors") else {"planned": 1})
    good, too_long, control, foreign = (a for a, _ in answers)
    assert len(good["data"]["member"]["coupons"]["edges"]) == 2
    assert good["data"]["member"]["none"]["edges"] == []
    assert [e["node"]["kind"] for e in good["data"]["member"]["transactions"]["edges"]] == [
        "ADJUST",
        "ADJUST",
    ]
    for refused in (too_long, control, foreign):
        assert refused["errors"][0]["extensions"]["code"] == "VALIDATION", refused
