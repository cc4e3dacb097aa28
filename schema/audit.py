"""The audit trail in the schema: `auditLog` for admins, and the wrapper that puts every
mutation of a staff credential through services.audit.recording.run_audited (installed on the built
schema, so a mutation added later is audited without being listed anywhere)."""

from __future__ import annotations

import base64
import functools
import inspect
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated, Any

import strawberry
from graphql import GraphQLSchema
from strawberry import relay
from strawberry.scalars import JSON

from db.connection import is_postgres
from db.models import AuditEntry as AuditRow
from domain.audit import SUCCESS, is_audited, redact_input, unpack_targets
from resolvers import audit as resolvers
from resolvers.ids import parse_id
from schema.errors import MutationError
from schema.pagination import Edge, page_info
from services.audit import recording as audit_recording
from services.audit.recording import Request
from services.audit.snapshots import Subject

MAX_TARGETS = 50


@strawberry.type(description="Who did it: an API key, or a member token.")
class AuditActor:
    role: str = strawberry.field(description="What acted: admin, storefront, partner or member.")
    key_id: strawberry.ID | None = strawberry.field(
        description="The API key's global id (see `apiKeys`); null for a member token."
    )
    key_prefix: str | None = strawberry.field(description="The API key's display prefix.")
    key_label: str | None = strawberry.field(description="The API key's label.")
    member_id: strawberry.ID | None = strawberry.field(
        description="The member's global id, for a member token."
    )


@strawberry.type(description="One staff action, as it was recorded. Never changes.")
class AuditEntry:
    id: strawberry.ID = strawberry.field(description="The entry's id (also its cursor).")
    at: datetime = strawberry.field(description="When, in real (not test-clock) time.")
    actor: AuditActor = strawberry.field(description="The credential that acted.")
    operation: str = strawberry.field(description="The mutation's name, e.g. adjustPoints.")
    target_ids: list[strawberry.ID] = strawberry.field(description="Global ids of what it touched.")
    outcome: str = strawberry.field(description="SUCCESS, or the error code it ended with.")
    input: JSON = strawberry.field(
        description="The input, with personal data and secrets masked as ***."
    )
    before: JSON | None = strawberry.field(
        description="Configuration changes: the configuration before."
    )
    after: JSON | None = strawberry.field(
        description="Configuration changes: the configuration after."
    )
    request_id: str = strawberry.field(description="The request's X-Request-ID (or ours).")

    @classmethod
    def from_row(cls, row: AuditRow) -> AuditEntry:
        return cls(
            id=strawberry.ID(resolvers.cursor_for(row)),
            at=row.created_at,
            actor=AuditActor(
                role=row.actor_role,
                key_id=_global("ApiKey", row.actor_key_id),
                key_prefix=row.actor_key_prefix,
                key_label=row.actor_key_label,
                member_id=_global("Member", row.actor_member_id),
            ),
            operation=row.operation,
            target_ids=[strawberry.ID(t) for t in unpack_targets(row.target_ids)],
            outcome=row.outcome,
            input=row.input,
            before=row.before,
            after=row.after,
            request_id=row.request_id,
        )


def _global(type_name: str, row_id: int | None) -> strawberry.ID | None:
    if row_id is None or row_id < 1:
        return None
    return strawberry.ID(relay.to_base64(type_name, row_id))


@strawberry.type(description="A page of audit entries.")
class AuditEntryEdge:
    cursor: str = strawberry.field(description="Pass as `after` for the next page.")
    node: AuditEntry = strawberry.field(description="The entry.")


@strawberry.type(description="Audit entries, newest first.")
class AuditEntryConnection:
    edges: list[AuditEntryEdge] = strawberry.field(description="The entries of this page.")
    page_info: relay.PageInfo = strawberry.field(description="Whether there is more.")


@strawberry.type
class AuditQuery:
    @strawberry.field(
        description="Admin: the programme's audit trail, newest first, filtered by any of "
        "actor key, target, operation and time (`from` inclusive, `to` exclusive)."
    )
    async def audit_log(
        self,
        info: strawberry.Info,
        first: Annotated[int, strawberry.argument(description="Page size, 1-100.")],
        after: Annotated[
            str | None, strawberry.argument(description="The cursor of the last entry seen.")
        ] = None,
        actor_key_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="An API key's global id.")
        ] = None,
        target_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Entries that touched this global id."),
        ] = None,
        operation: Annotated[
            str | None,
            strawberry.argument(description="A mutation name, e.g. setPointsPolicy."),
        ] = None,
        from_: Annotated[
            datetime | None,
            strawberry.argument(name="from", description="At or after this time."),
        ] = None,
        to: Annotated[datetime | None, strawberry.argument(description="Before this time.")] = None,
    ) -> AuditEntryConnection:
        rows, has_next = await resolvers.audit_log(
            info,
            first=first,
            after=after,
            actor_key_id=actor_key_id,
            target_id=target_id,
            operation=operation,
            since=from_,
            until=to,
        )
        edges: list[Any] = [Edge(AuditEntry.from_row(r), r, resolvers.cursor_for) for r in rows]
        return AuditEntryConnection(edges=edges, page_info=page_info(edges, has_next, after))


# Configuration mutations store the configuration before and after them (issue 18.1).
def _input(args: dict[str, Any]) -> dict[str, Any]:
    value = args.get("input")
    return value if isinstance(value, dict) else {}


def _text_node_id(value: str) -> int | None:
    """`_node_id` of a global id as sent: what relay.GlobalID.from_id reads of it (the same
    lenient base64, split at the first colon), without building the GlobalID and its chained
    ValueError for every text of every audited input (an order's skus, its key)."""
    try:
        decoded = base64.b64decode(value.encode()).decode()
    except Exception:  # not a global id: the input checks answer it
        return None
    type_name, colon, node_id = decoded.partition(":")
    if not colon or not type_name.isidentifier():
        return None
    return parse_id(node_id)


def _node_id(value: Any) -> int | None:
    """The row id in a global id (as sent, or parsed), in the id columns' range; else None."""
    if isinstance(value, str):
        return _text_node_id(value)
    node_id = getattr(value, "node_id", None)
    type_name = getattr(value, "type_name", "")
    if not isinstance(node_id, str) or not type_name.isidentifier():
        return None
    return parse_id(node_id)


SUBJECTS: dict[str, Callable[[dict[str, Any]], Subject]] = {
    "setPointsPolicy": lambda a: Subject("policies"),
    "setTierPolicy": lambda a: Subject("policies"),
    "setSegmentPolicy": lambda a: Subject("policies"),
    "setAbusePolicy": lambda a: Subject("policies"),
    "setEventPolicy": lambda a: Subject("policies"),
    "advanceTestClock": lambda a: Subject("policies"),
    "upsertTier": lambda a: Subject("tiers"),
    "upsertBenefit": lambda a: Subject("tiers"),
    "createCouponTemplate": lambda a: Subject("coupon_template", _input(a).get("code")),
    "retireCouponTemplate": lambda a: Subject(
        "coupon_template", _node_id(_input(a).get("templateId"))
    ),
    "createApiKey": lambda a: Subject("api_keys"),
    "revokeApiKey": lambda a: Subject("api_keys", _node_id(_input(a).get("id"))),
    "createWebhookEndpoint": lambda a: Subject("webhook_endpoints"),
    "updateWebhookEndpoint": lambda a: Subject(
        "webhook_endpoints", _node_id(_input(a).get("endpointId"))
    ),
    "deleteWebhookEndpoint": lambda a: Subject(
        "webhook_endpoints", _node_id(_input(a).get("endpointId"))
    ),
    "rotateWebhookSecret": lambda a: Subject(
        "webhook_endpoints", _node_id(_input(a).get("endpointId"))
    ),
    # A partner by its code (its terms, status and name); its keys are API keys like others.
    "createPartner": lambda a: Subject("partner", _input(a).get("code")),
    "updatePartner": lambda a: Subject("partner", _input(a).get("code")),
    "suspendPartner": lambda a: Subject("partner", _input(a).get("code")),
    # A campaign by its code (createCampaign's `code`, the others' `campaignCode`).
    "createCampaign": lambda a: Subject("campaign", _input(a).get("code")),
    # An update may give the draft a new code: the snapshot after it finds it by that one.
    "updateCampaign": lambda a: Subject(
        "campaign", (_input(a).get("campaignCode"), _input(a).get("code"))
    ),
    "activateCampaign": lambda a: Subject("campaign", _input(a).get("campaignCode")),
    "pauseCampaign": lambda a: Subject("campaign", _input(a).get("campaignCode")),
    "endCampaign": lambda a: Subject("campaign", _input(a).get("campaignCode")),
    # A reward by its code (createReward's `code`, the others' `rewardCode`).
    "createReward": lambda a: Subject("reward", _input(a).get("code")),
    "updateReward": lambda a: Subject("reward", _input(a).get("rewardCode")),
    "retireReward": lambda a: Subject("reward", _input(a).get("rewardCode")),
    "createChallenge": lambda a: Subject("challenge", _input(a).get("code")),
    "endChallenge": lambda a: Subject("challenge", _input(a).get("challengeCode")),
    "issuePartnerKey": lambda a: Subject("api_keys"),
    "revokePartnerKey": lambda a: Subject("api_keys"),
}


def _nodes(value: Any, depth: int = 0) -> Iterator[str]:
    """Global ids of the relay nodes in a mutation's success payload (one level of lists)."""
    if isinstance(value, relay.Node):
        cls = type(value)
        yield relay.to_base64(
            cls.__strawberry_definition__.name, getattr(value, cls.resolve_id_attr())
        )  # type: ignore[attr-defined]
    elif isinstance(value, list | tuple) and depth == 0:
        for item in value[:MAX_TARGETS]:
            yield from _nodes(item, depth + 1)


def _input_ids(value: Any) -> Iterator[str]:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, relay.GlobalID):
            yield str(item)
        elif isinstance(item, str) and _node_id(item) is not None:
            yield item  # a global id as the client sent it
        elif isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item[:MAX_TARGETS])


def _describe(args: dict[str, Any]) -> Callable[[Any], tuple[str, list[str]]]:
    def describe(result: Any) -> tuple[str, list[str]]:
        targets = list(_input_ids(args))
        if isinstance(result, MutationError):
            return (result.errors[0].code.value if result.errors else "ERROR"), targets
        for name in getattr(result, "__dataclass_fields__", {}) or vars(result):
            targets.extend(_nodes(getattr(result, name, None)))
        return SUCCESS, targets[:MAX_TARGETS]

    return describe


def _order_targets(describe: Callable[[Any], tuple[str, list[str]]]) -> Callable[[Any], list[str]]:
    def targets(row: Any) -> list[str]:
        from schema.points import Order, OrderSuccess

        return describe(OrderSuccess(order=Order.from_row(row)))[1]

    return targets


def _with_member(
    success: Callable[[Any, Any], Any],
) -> Callable[[Callable[[Any], tuple[str, list[str]]]], Callable[[Any], list[str]]]:
    """For a service that returns (its row, the member): the success payload `success` makes
    of the two, whose targets `_describe` finds."""

    def of(describe: Callable[[Any], tuple[str, list[str]]]) -> Callable[[Any], list[str]]:
        def targets(pair: Any) -> list[str]:
            from schema.members import Member

            row, member = pair
            return describe(success(row, Member.from_row(member)))[1]

        return targets

    return of


def _spent(tx: Any, member: Any) -> Any:
    from schema.points import PointTransaction, TransactionSuccess

    return TransactionSuccess(transaction=PointTransaction.from_row(tx), member=member)


def _held(hold: Any, member: Any) -> Any:
    from schema.points import HoldSuccess, PointHold

    return HoldSuccess(hold=PointHold.from_row(hold), member=member)


def _coupon_targets(
    describe: Callable[[Any], tuple[str, list[str]]],
) -> Callable[[Any], list[str]]:
    def targets(view: Any) -> list[str]:
        from schema.coupons import Coupon, CouponSuccess

        return describe(CouponSuccess(coupon=Coupon.from_view(view)))[1]

    return targets


# Mutations that write their audit row themselves with their change on PostgreSQL, in its
# statement or its transaction (services.audit.recording.run_audited_inline): the targets of a
# success, given what the service returns, as `_describe` finds them in the success payload
# it makes of it.
INLINE: dict[
    str, Callable[[Callable[[Any], tuple[str, list[str]]]], Callable[[Any], list[str]]]
] = {
    "recordOrder": _order_targets,
    "completeOrder": _order_targets,
    "cancelOrder": _order_targets,
    "returnOrderLines": _order_targets,
    "redeemPoints": _with_member(_spent),
    "holdPoints": _with_member(_held),
    "captureHold": _with_member(_held),
    "claimCoupon": _coupon_targets,
}


def _audited(operation: str, resolve: Callable[..., Any]) -> Callable[..., Any]:
    subject_of = SUBJECTS.get(operation)
    inline_of = INLINE.get(operation)

    @functools.wraps(resolve)
    async def audited(source: Any, info: Any, **args: Any) -> Any:
        principal = info.context.principal
        if not is_audited(principal):
            result = resolve(source, info, **args)
            return await result if inspect.isawaitable(result) else result

        async def action() -> Any:
            result = resolve(source, info, **args)
            return await result if inspect.isawaitable(result) else result

        request = Request(
            operation=operation,
            summary=redact_input(args),
            request_id=info.context.request_id,
            subject=subject_of(args) if subject_of else None,
        )
        describe = _describe(args)
        if inline_of is not None and is_postgres():
            return await audit_recording.run_audited_inline(
                principal,
                request,
                action,
                describe,
                inline_of(describe),
                lambda: list(_input_ids(args))[:MAX_TARGETS],
            )
        return await audit_recording.run_audited(principal, request, action, describe)

    return audited


def install(schema: GraphQLSchema) -> int:
    """Wraps every mutation field; returns how many."""
    mutation = schema.mutation_type
    if mutation is None:
        return 0
    for name, field in mutation.fields.items():
        if field.resolve is not None:
            field.resolve = _audited(name, field.resolve)
    return len(mutation.fields)
