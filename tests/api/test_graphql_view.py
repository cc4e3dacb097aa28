"""The /graphql view's rules around a request (issue 13, items 7, 8 and 11): the operation to
run is chosen as the spec says; the cost budget is per request, a batch included; every
answer carries `extensions.cost`; client errors make one INFO line, bugs an ERROR with the
traceback."""

from __future__ import annotations

import logging

import pytest

from db.models import Member as MemberRow
from domain.auth import Role
from services import members as member_service
from tests.fixtures.graphql import answer

RENAME = 'mutation Rename { updateMember(input: {externalId: "%s", displayName: "Renamed"}) { __typename } }'
READ = "query Read { programme { code } }"
# 1 + 100 x (edges 1 + node 1 + externalId 1) = 301 points
PAGE_FIELD = "members(first: 100) { edges { node { externalId } } }"
PAGE = f"query Page {{ {PAGE_FIELD} }}"


async def post(http, payload, key: str | None = None):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return await http.post("/graphql", json=payload, headers=headers)


async def name_of(member) -> str:
    return (await MemberRow.get(id=member.id)).display_name


# ------------------------------------------------------------ operation selection (item 7)


async def test_a_document_with_two_operations_and_no_name_runs_neither(
    http, programme, make_member, make_key
):
    # given a query and a mutation in one document, no operationName
    member = await make_member(programme, display_name="Before")
    key = await make_key(programme)
    document = f"{READ} {RENAME % member.external_id}"
    # when
    response = await post(http, {"query": document}, key)
    # then the spec's GetOperation error, and nothing ran
    body = response.json()
    assert response.status_code == 200
    assert "data" not in body  # nothing ran
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_REQUEST"]
    assert "operationName" in body["errors"][0]["message"]
    assert await name_of(member) == "Before"


async def test_an_operation_name_that_names_nothing_runs_nothing(
    http, programme, make_member, make_key
):
    member = await make_member(programme, display_name="Before")
    key = await make_key(programme)
    document = f"{READ} {RENAME % member.external_id}"
    response = await post(http, {"query": document, "operationName": "Other"}, key)
    body = response.json()
    assert response.status_code == 200  # a GraphQL request error, not a malformed HTTP one
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_REQUEST"]
    assert "operationName" in body["errors"][0]["message"]
    assert await name_of(member) == "Before"


async def test_an_empty_operation_name_is_no_name(http, programme, make_key):
    key = await make_key(programme)
    body = (await post(http, {"query": READ, "operationName": ""}, key)).json()
    assert answer(body) == {"data": {"programme": {"code": programme.code}}}


async def test_the_named_operation_runs_and_only_it(http, programme, make_member, make_key):
    member = await make_member(programme, display_name="Before")
    key = await make_key(programme)
    document = f"{READ} {RENAME % member.external_id}"
    read = (await post(http, {"query": document, "operationName": "Read"}, key)).json()
    assert answer(read) == {"data": {"programme": {"code": programme.code}}}
    assert await name_of(member) == "Before"
    renamed = (await post(http, {"query": document, "operationName": "Rename"}, key)).json()
    assert renamed["data"]["updateMember"]["__typename"] == "UpdateMemberSuccess"
    assert await name_of(member) == "Renamed"


# ------------------------------------------------------------------------ cost (item 8)


async def test_every_answer_carries_its_cost_in_shopifys_shape(http, programme, make_key):
    key = await make_key(programme, Role.ADMIN)
    answers = [
        await post(http, {"query": PAGE}, key),  # data
        await post(http, {"query": "{ members(first: 500) { edges { cursor } } }"}, key),  # domain
        await post(http, {"query": "{ programme { nope } }"}, key),  # invalid document
        await post(http, {"query": READ}),  # no credential
    ]
    for response in answers:
        cost = response.json()["extensions"]["cost"]
        assert set(cost) == {"requestedQueryCost", "actualQueryCost", "throttleStatus"}
        assert set(cost["throttleStatus"]) == {
            "maximumAvailable",
            "currentlyAvailable",
            "restoreRate",
        }
    page = answers[0].json()["extensions"]["cost"]
    assert page["requestedQueryCost"] == page["actualQueryCost"] == 301
    assert page["throttleStatus"] == {
        "maximumAvailable": 20_000,
        "currentlyAvailable": 20_000 - 301,
        "restoreRate": 1_000,
    }


async def test_the_budget_is_per_request_so_a_batch_cannot_multiply_it(
    http, programme, make_member, make_key
):
    # given a batch of nine double pages (602 points each, well under the 5,000 budget
    # alone) and a rename: 5,419 points; and one of single pages and a rename: 2,710
    member = await make_member(programme, display_name="Before")
    key = await make_key(programme, Role.ADMIN)
    rename = {"query": RENAME % member.external_id}
    double_page = {"query": f"query {{ a: {PAGE_FIELD} b: {PAGE_FIELD} }}"}
    # when
    refused = await post(http, [double_page] * 9 + [rename], key)
    # then nothing of the batch ran, and each operation says why
    assert refused.status_code == 200
    assert "Retry-After" not in refused.headers  # waiting would not help
    for body in refused.json():
        assert "data" not in body
        [error] = body["errors"]
        assert error["extensions"]["code"] == "THROTTLED"
        assert error["extensions"]["cost"]["requestedQueryCost"] == 9 * 602 + 1
        assert error["extensions"]["cost"]["actualQueryCost"] is None
    assert await name_of(member) == "Before"
    # when a batch within the budget is sent, it all runs
    allowed = await post(http, [{"query": PAGE}] * 9 + [rename], key)
    assert [b["data"] is not None for b in allowed.json()] == [True] * 10
    assert allowed.json()[0]["extensions"]["cost"]["requestedQueryCost"] == 9 * 301 + 1
    assert await name_of(member) == "Renamed"


def test_a_fragment_spread_many_times_is_costed_once(monkeypatch):
    """Fragments that each spread the next twice: 2^40 walks if each spread were costed anew."""
    from graphql import parse

    from schema import cost

    fragments = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(40))
    document = parse(
        "query { ...F0 } " + fragments + " fragment F40 on Query { programme { code } }"
    )
    walks = 0
    walk = cost._Costing.selection_set

    def counted(self, selection_set):
        nonlocal walks
        walks += 1
        assert walks < 1_000, "fragments are walked again for every spread"
        return walk(self, selection_set)

    monkeypatch.setattr(cost._Costing, "selection_set", counted)
    assert cost.operation_cost(document, document.definitions[0]) == 2**40 * 2


# ------------------------------------------------------------------------- logs (item 11)


@pytest.mark.parametrize(
    ("payload", "auth"),
    [
        ({"query": READ}, None),  # UNAUTHENTICATED
        ({"query": READ}, "lk_admin_" + "0" * 64),  # a key we do not know
        ({"query": "{ programme { code "}, "key"),  # syntax
        ({"query": "{ programme { nope } }"}, "key"),  # validation
        ({"query": "{ members(first: 500) { edges { cursor } } }"}, "key"),  # VALIDATION
        ({"query": "{ " + " ".join(f"p{n}: {PAGE_FIELD}" for n in range(17)) + " }"}, "key"),
        ({"query": 5}, "key"),  # BAD_REQUEST
    ],
    ids=["no key", "unknown key", "syntax", "validation", "page size", "cost", "bad body"],
)
async def test_a_client_error_is_one_info_line_without_a_traceback(
    http, programme, make_key, caplog, payload, auth
):
    key = await make_key(programme) if auth == "key" else auth
    caplog.set_level(logging.INFO)
    await post(http, payload, key)
    records = [
        r for r in caplog.records if r.levelno >= logging.WARNING or r.name.startswith("loyalty")
    ]
    assert [(r.levelno, r.exc_info) for r in records] == [(logging.INFO, None)], [
        (r.name, r.getMessage()) for r in records
    ]
    assert len(records[0].getMessage()) < 200


async def test_a_bug_is_an_error_with_its_traceback(
    production_http, programme, make_member, make_key, caplog, monkeypatch
):
    async def boom(principal, external_id):
        raise RuntimeError("a bug")

    monkeypatch.setattr(member_service, "find_by_external_id", boom)
    member = await make_member(programme)
    key = await make_key(programme)
    caplog.set_level(logging.INFO)
    query = f'query {{ member(externalId: "{member.external_id}") {{ externalId }} }}'
    body = (await post(production_http, {"query": query}, key)).json()
    assert body["errors"][0]["message"] == "Unexpected error."
    errors = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.levelno for r in errors] == [logging.ERROR]
    assert errors[0].exc_info is not None and "a bug" in str(errors[0].exc_info[1])
