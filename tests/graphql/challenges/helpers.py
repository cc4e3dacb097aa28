"""Documents and calls of the challenge API tests."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from db.models import Member
from tests.graphql.points.documents import ACCEPT_REFERRAL, INVITE_CODE
from tests.graphql.points.helpers import mutate, new_key, parse, programme_now

ERRORS = "errors { field code message }"
CHALLENGE_FIELDS = """
  code name description status startsAt endsAt goal target undoOnReturn
  audience { tiers segments joinedWithinDays birthdayMonth }
  reward { points couponTemplate badge { code title imageUrl } description }
"""
CREATE = f"""
mutation ($input: CreateChallengeInput!) {{
  createChallenge(input: $input) {{
    __typename
    ... on ChallengeSuccess {{ challenge {{ {CHALLENGE_FIELDS} }} }}
    ... on CreateChallengeError {{ {ERRORS} }}
  }}
}}
"""
END = f"""
mutation ($input: ChallengeCodeInput!) {{
  endChallenge(input: $input) {{
    __typename
    ... on ChallengeSuccess {{ challenge {{ code status }} }}
    ... on EndChallengeError {{ {ERRORS} }}
  }}
}}
"""
LIST = """
query ($status: ChallengeStatus, $first: Int, $after: String) {
  challenges(status: $status, first: $first, after: $after) {
    edges { cursor node { code status goal } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
MEMBER = """
query ($e: String!) {
  member(externalId: $e) {
    challenges { code name goal current target deadline completedAt reward }
    badges { code title imageUrl awardedAt }
  }
}
"""
CHECK_IN = """
mutation ($input: CheckInInput!) {
  checkIn(input: $input) { __typename ... on CheckInError { errors { code } } }
}
"""


def challenge_code() -> str:
    return f"CH-{uuid.uuid4().hex[:10].upper()}"


async def challenge_input(gql, key: str, **overrides: Any) -> dict[str, Any]:
    """Three completed orders for 100 points, from an hour before the programme's now for 30
    days."""
    now = parse(await programme_now(gql, key))
    return {
        "code": challenge_code(),
        "name": "Three orders",
        "startsAt": (now - timedelta(hours=1)).isoformat(),
        "endsAt": (now + timedelta(days=30)).isoformat(),
        "goal": "ORDERS",
        "target": 3,
        "reward": {"points": 100},
        "idempotencyKey": new_key(),
        **overrides,
    }


async def create_result(gql, admin: str, **overrides: Any) -> dict[str, Any]:
    return await mutate(
        gql, CREATE, "createChallenge", admin, **await challenge_input(gql, admin, **overrides)
    )


async def create_challenge(gql, admin: str, **overrides: Any) -> dict[str, Any]:
    result = await create_result(gql, admin, **overrides)
    assert result["__typename"] == "ChallengeSuccess", result
    challenge: dict[str, Any] = result["challenge"]
    return challenge


async def end_challenge(gql, admin: str, code: str) -> dict[str, Any]:
    body = await gql(END, {"input": {"challengeCode": code}}, auth=admin)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["endChallenge"]
    return result


async def member_view(gql, key: str, external_id: str) -> dict[str, Any]:
    body = await gql(MEMBER, {"e": external_id}, auth=key)
    assert "errors" not in body, body
    member: dict[str, Any] = body["data"]["member"]
    return member


async def progress_of(gql, key: str, external_id: str, code: str) -> dict[str, Any] | None:
    found = [
        c for c in (await member_view(gql, key, external_id))["challenges"] if c["code"] == code
    ]
    return found[0] if found else None


async def check_in(gql, key: str, external_id: str) -> None:
    body = await gql(
        CHECK_IN,
        {"input": {"memberExternalId": external_id, "idempotencyKey": new_key()}},
        auth=key,
    )
    assert body["data"]["checkIn"]["__typename"] == "CheckInSuccess", body


async def invite(gql, key: str, inviter: Member, invitee: Member) -> None:
    body = await gql(INVITE_CODE, {"e": inviter.external_id}, auth=key)
    code = body["data"]["member"]["inviteCode"]
    accepted = await mutate(
        gql,
        ACCEPT_REFERRAL,
        "acceptReferral",
        key,
        inviteeExternalId=invitee.external_id,
        inviteCode=code,
    )
    assert accepted["__typename"] == "MemberSuccess", accepted
