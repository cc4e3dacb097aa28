"""Partners through the API: a partner with terms, its key, a linked member."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from db.models import Member, PartnerTransfer, PointTransaction
from tests.graphql.partners.documents import CREATE_PARTNER, ISSUE_KEY, LINK, MEMBER_POINTS


def new_key() -> str:
    return uuid.uuid4().hex


def codes(result: dict[str, Any]) -> list[str]:
    return [e["code"] for e in result.get("errors", [])]


def direction(
    source: int, target: int, *, min_points: int = 1, max_points: int = 100_000, **limits: Any
) -> dict[str, Any]:
    return {
        "rate": {"source": source, "target": target},
        "minPoints": min_points,
        "maxPoints": max_points,
        **limits,
    }


# An airline: 10 miles -> 1 point in; 1 point -> 8 miles out (10 x 1/8... product 0.8 <= 1).
DEFAULT_TERMS: dict[str, Any] = {
    "inbound": direction(10, 1),
    "outbound": direction(1, 8),
}


@dataclass
class PartnerSetup:
    code: str
    key: str  # the partner's lk_partner_ key


async def create_partner(
    gql, admin: str, *, terms: dict[str, Any] | None = None, **more: Any
) -> dict[str, Any]:
    code = more.pop("code", f"air-{uuid.uuid4().hex[:8]}")
    body = await gql(
        CREATE_PARTNER,
        {
            "input": {
                "code": code,
                "name": more.pop("name", "Sky Miles"),
                "terms": terms if terms is not None else DEFAULT_TERMS,
                "idempotencyKey": more.pop("idempotency_key", new_key()),
            }
        },
        auth=admin,
    )
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["createPartner"]
    return result


async def partner_with_key(gql, admin: str, **kwargs: Any) -> PartnerSetup:
    created = await create_partner(gql, admin, **kwargs)
    assert created["__typename"] == "PartnerSuccess", created
    code = created["partner"]["code"]
    issued = await gql(ISSUE_KEY, {"input": {"partnerCode": code, "label": "t"}}, auth=admin)
    secret = issued["data"]["issuePartnerKey"]["secret"]
    return PartnerSetup(code=code, key=secret)


async def link(
    gql,
    storefront: str,
    partner_code: str,
    member: Member,
    partner_member_id: str | None = None,
    *,
    share: bool = False,
) -> str:
    pmid = partner_member_id or f"FF-{uuid.uuid4().hex[:8]}"
    body = await gql(
        LINK,
        {
            "input": {
                "partnerCode": partner_code,
                "partnerMemberId": pmid,
                "memberExternalId": member.external_id,
                "shareBalance": share,
                "idempotencyKey": new_key(),
            }
        },
        auth=storefront,
    )
    assert body["data"]["linkPartnerAccount"]["__typename"] == "PartnerLinkSuccess", body
    return pmid


async def available(gql, key: str, external_id: str) -> int:
    body = await gql(MEMBER_POINTS, {"e": external_id}, auth=key)
    return int(body["data"]["member"]["points"]["available"])


async def ledger_rows(member: Member, kind: str) -> list[PointTransaction]:
    return await PointTransaction.filter(member_id=member.id, kind=kind).order_by("id")


async def transfers_of(member: Member) -> list[PartnerTransfer]:
    return await PartnerTransfer.filter(member_id=member.id).order_by("id")
