"""createChallenge, endChallenge and challenges through the API (issue 20.3): what is stored is
read back; bad input is a union error with a code on its field and writes nothing; a programme
sees and changes only its own challenges; only admins may call them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from db.models import Challenge as ChallengeRow
from domain.auth import Role
from tests.graphql.challenges.helpers import (
    CREATE,
    END,
    LIST,
    challenge_input,
    create_challenge,
    create_result,
    end_challenge,
)
from tests.graphql.coupons.helpers import create_template
from tests.graphql.points.helpers import parse, programme_now
from tests.graphql.test_auth import token_for


def _errors(result: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in result.get("errors", [])]


async def test_a_challenge_is_created_active_and_read_back(gql, programme, admin):
    # given a coupon template
    template = await create_template(gql, admin)
    # when a challenge with every part is created
    challenge = await create_challenge(
        gql,
        admin,
        name="Regular",
        description="Three orders this month",
        goal="ORDERS",
        target=3,
        audience={"tiers": [], "birthdayMonth": False, "joinedWithinDays": 365},
        reward={
            "points": 100,
            "couponTemplate": template["code"],
            "badge": {"code": "REGULAR", "title": "Regular", "imageUrl": "https://x.test/r.png"},
        },
        undoOnReturn=True,
    )
    # then it is ACTIVE, with what was sent
    assert challenge["status"] == "ACTIVE"
    assert (challenge["goal"], challenge["target"], challenge["undoOnReturn"]) == (
        "ORDERS",
        3,
        True,
    )
    assert challenge["audience"]["joinedWithinDays"] == 365
    assert challenge["reward"]["badge"] == {
        "code": "REGULAR",
        "title": "Regular",
        "imageUrl": "https://x.test/r.png",
    }
    assert challenge["reward"]["description"] == (
        f"100 points, a coupon ({template['code']}), the badge Regular"
    )
    # and it is listed, and ends
    body = await gql(LIST, {"status": "ACTIVE", "first": 10}, auth=admin)
    assert [e["node"]["code"] for e in body["data"]["challenges"]["edges"]] == [challenge["code"]]
    ended = await end_challenge(gql, admin, challenge["code"])
    assert ended["__typename"] == "ChallengeSuccess", ended
    assert ended["challenge"]["status"] == "ENDED"
    again = await end_challenge(gql, admin, challenge["code"])
    assert _errors(again) == [("challengeCode", "INVALID_TRANSITION")]
    body = await gql(LIST, {"status": "ACTIVE", "first": 10}, auth=admin)
    assert body["data"]["challenges"]["edges"] == []


async def test_the_same_key_replays_and_a_taken_code_is_refused(gql, programme, admin):
    sent = await challenge_input(gql, admin)
    first = (await gql(CREATE, {"input": sent}, auth=admin))["data"]["createChallenge"]
    replay = (await gql(CREATE, {"input": sent}, auth=admin))["data"]["createChallenge"]
    assert first == replay
    again = await create_result(gql, admin, code=sent["code"])
    assert _errors(again) == [("code", "ALREADY_EXISTS")]
    assert await ChallengeRow.filter(programme_id=programme.id).count() == 1


def _past(days: int) -> str:
    return f"2020-01-{days:02d}T00:00:00+00:00"


BAD: list[tuple[str, dict[str, Any], str, str]] = [
    ("code", {"code": "bad code"}, "code", "VALIDATION"),
    ("name", {"name": "  "}, "name", "VALIDATION"),
    ("description", {"description": "x" * 501}, "description", "VALIDATION"),
    ("ends before it starts", {"endsAt": _past(1)}, "endsAt", "VALIDATION"),
    ("no time zone", {"startsAt": "2027-01-01T00:00:00"}, "startsAt", "VALIDATION"),
    ("too long", {"endsAt": "2099-01-01T00:00:00+00:00"}, "endsAt", "VALIDATION"),
    ("over", {"startsAt": _past(1), "endsAt": _past(2)}, "endsAt", "VALIDATION"),
    ("tiers", {"audience": {"tiers": ["NOPE"]}}, "audience.tiers", "VALIDATION"),
    ("joined", {"audience": {"joinedWithinDays": 0}}, "audience.joinedWithinDays", "VALIDATION"),
    ("nth order", {"audience": {"nthOrder": 1}}, "audience.nthOrder", "VALIDATION"),
    ("target", {"target": 0}, "target", "VALIDATION"),
    ("spend target", {"goal": "SPEND", "target": -5}, "target", "VALIDATION"),
    ("streak", {"goal": "CHECK_IN_STREAK", "target": 400}, "target", "VALIDATION"),
    ("points", {"reward": {"points": -1}}, "reward.points", "VALIDATION"),
    ("nothing", {"reward": {"points": 0}}, "reward", "VALIDATION"),
    ("template", {"reward": {"couponTemplate": "NO-SUCH"}}, "reward.couponTemplate", "NOT_FOUND"),
    ("template code", {"reward": {"couponTemplate": "x y"}}, "reward.couponTemplate", "VALIDATION"),
    (
        "badge code",
        {"reward": {"badge": {"code": "bad badge", "title": "B"}}},
        "reward.badge.code",
        "VALIDATION",
    ),
    (
        "badge title",
        {"reward": {"badge": {"code": "B", "title": ""}}},
        "reward.badge.title",
        "VALIDATION",
    ),
    (
        "badge image",
        {"reward": {"badge": {"code": "B", "title": "B", "imageUrl": "http://x"}}},
        "reward.badge.imageUrl",
        "VALIDATION",
    ),
    ("key", {"idempotencyKey": ""}, "idempotencyKey", "VALIDATION"),
]


@pytest.mark.parametrize(("case", "overrides", "field", "code"), BAD, ids=[b[0] for b in BAD])
async def test_bad_input_is_refused_on_its_field_and_writes_nothing(
    gql, programme, admin, case, overrides, field, code
):
    if case == "ends before it starts":
        now = parse(await programme_now(gql, admin))
        overrides = {
            "startsAt": (now + timedelta(days=2)).isoformat(),
            "endsAt": (now + timedelta(days=1)).isoformat(),
        }
    result = await create_result(gql, admin, **overrides)
    assert result["__typename"] == "CreateChallengeError", result
    assert (field, code) in _errors(result), result
    assert await ChallengeRow.filter(programme_id=programme.id).count() == 0


async def test_another_programmes_admin_neither_sees_nor_ends_its_challenges(
    gql, programme, admin, make_programme, make_key
):
    # given a challenge of programme A, and B's admin
    ours = await create_challenge(gql, admin)
    other = await make_key(await make_programme(), Role.ADMIN)
    # then B lists none, and ending A's code is NOT_FOUND, A's challenge untouched
    body = await gql(LIST, {"first": 10}, auth=other)
    assert body["data"]["challenges"]["edges"] == []
    ended = await end_challenge(gql, other, ours["code"])
    assert _errors(ended) == [("challengeCode", "NOT_FOUND")]
    row = await ChallengeRow.get(programme_id=programme.id, code=ours["code"])
    assert row.status == "ACTIVE"
    # and B may use the same code in its own programme
    theirs = await create_challenge(gql, other, code=ours["code"])
    assert theirs["code"] == ours["code"]


async def test_storefront_keys_and_member_tokens_may_not_call_the_admin_operations(
    gql, programme, admin, storefront, make_member
):
    member = await make_member(programme)
    token = await token_for(gql, storefront, member.external_id)
    ours = await create_challenge(gql, admin)
    sent = await challenge_input(gql, admin)
    for auth in (storefront, token):
        for document, variables in (
            (CREATE, {"input": sent}),
            (END, {"input": {"challengeCode": ours["code"]}}),
            (LIST, {"first": 10}),
        ):
            body = await gql(document, variables, auth=auth)
            assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
    assert await ChallengeRow.filter(programme_id=programme.id).count() == 1
    assert (await ChallengeRow.get(code=ours["code"], programme_id=programme.id)).status == "ACTIVE"


async def test_the_audit_keeps_a_challenge_before_and_after_each_change(gql, programme, admin):
    from tests.graphql.test_audit import entries

    challenge = await create_challenge(gql, admin)
    await end_challenge(gql, admin, challenge["code"])
    [created] = await entries(gql, admin, op="createChallenge")
    assert created["before"] is None and created["after"]["status"] == "ACTIVE"
    [ended] = await entries(gql, admin, op="endChallenge")
    assert (ended["before"]["status"], ended["after"]["status"]) == ("ACTIVE", "ENDED")
