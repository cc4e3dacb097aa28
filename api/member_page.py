"""The member page without GraphQL: the same resolvers, services and repositories, the same
JSON as the `MEMBER_PAGE` query, hand-built and encoded with orjson. It exists to measure
what GraphQL costs (`make bench` serves it as a route beside /graphql); production does not
mount it. A test holds its JSON equal to the GraphQL answer."""

from __future__ import annotations

import asyncio
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from api.auth import authenticate
from resolvers import coupons as coupon_resolvers
from resolvers import members as member_resolvers
from resolvers import points as points_resolvers
from resolvers import recommendations as reco_resolvers
from resolvers import tier_engine as tier_resolvers
from resolvers.context import Context, Loaders

MEMBER_PAGE = """
query MemberPage($e: String!) {
  member(externalId: $e) {
    externalId displayName
    tier { code name }
    tierProgress { amountToNext nextTier { code } }
    benefits { code title kind value }
    points {
      available pending held spendable
      expiringWithin(days: 30) { amount expiresAt }
    }
    coupons(first: 20) {
      edges { node { code status expiresAt template { code title kind amountOff threshold } } }
    }
    transactions(first: 10) { edges { node { kind amount reason createdAt } } }
    recommendations(first: 10) { sku title price score reason }
  }
}
"""


def _at(value: datetime) -> str:
    return value.isoformat()


async def member_page(info: Any, external_id: str) -> dict[str, Any]:
    row = await member_resolvers.member(info, external_id)
    if row is None:
        return {"data": {"member": None}}
    # started together, as GraphQL resolves a member's fields: their reads go out as one batch
    (
        tier,
        progress,
        expiring,
        balances,
        (coupons, _),
        (transactions, _),
        recommended,
    ) = await asyncio.gather(
        member_resolvers.tier_of(info, row.tier_id),
        tier_resolvers.progress(info, row),
        points_resolvers.expiring(info, row, 30),
        points_resolvers.balances(info, row),
        coupon_resolvers.wallet_page(info, row, status=None, first=20, after=None),
        points_resolvers.transactions(info, row, first=10, after=None, kinds=None),
        reco_resolvers.recommendations(info, row, first=10),
    )
    return {
        "data": {
            "member": {
                "externalId": row.external_id,
                "displayName": row.display_name,
                "tier": {"code": tier.code, "name": tier.name} if tier else None,
                "tierProgress": {
                    "amountToNext": progress.amount_to_next,
                    "nextTier": {"code": progress.next_tier.code} if progress.next_tier else None,
                },
                "benefits": [
                    {"code": b.code, "title": b.title, "kind": b.kind.value, "value": b.value}
                    for b in (tier.benefits if tier else ())
                ],
                "points": {
                    "available": balances.available,
                    "pending": balances.pending,
                    "held": balances.held,
                    "spendable": balances.spendable,
                    "expiringWithin": [
                        {"amount": e.amount, "expiresAt": _at(e.expires_at)} for e in expiring
                    ],
                },
                "coupons": {
                    "edges": [
                        {
                            "node": {
                                "code": c.row.code,
                                "status": c.status.value,
                                "expiresAt": _at(c.row.ends_at),
                                "template": {
                                    "code": c.row.template.code,
                                    "title": c.row.template.title,
                                    "kind": c.row.template.kind,
                                    "amountOff": c.row.template.amount,
                                    "threshold": c.row.template.threshold,
                                },
                            }
                        }
                        for c in coupons
                    ]
                },
                "transactions": {
                    "edges": [
                        {
                            "node": {
                                "kind": t.kind,
                                "amount": t.amount,
                                "reason": t.reason,
                                "createdAt": _at(t.created_at),
                            }
                        }
                        for t in transactions
                    ]
                },
                "recommendations": [
                    {
                        "sku": r.product.sku,
                        "title": r.product.title,
                        "price": r.product.price,
                        "score": r.score,
                        "reason": r.reason.value,
                    }
                    for r in recommended
                ],
            }
        }
    }


async def member_page_route(request: Request) -> Response:
    settings = request.app.state.settings
    principal, error = await authenticate(request.headers.get("authorization"), settings.jwt)
    if principal is None:
        return Response(orjson.dumps({"error": error}), status_code=401)
    context = Context(
        principal=principal, auth_error=None, tokens=settings.jwt, loaders=Loaders(principal)
    )
    body = await member_page(SimpleNamespace(context=context), request.path_params["external_id"])
    return Response(orjson.dumps(body), media_type="application/json")
