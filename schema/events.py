"""Events as GraphQL: the admin's pull connection in commit order, and the event policy."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from domain.events import Event as DomainEvent
from domain.events import EventPolicy as DomainPolicy
from resolvers import events as resolvers
from schema.errors import MutationError, result_of
from schema.pagination import Edge, page_info
from schema.points import node_id


@strawberry.type(
    description="Something that happened in the programme, written in the same transaction as "
    "the change itself: it exists if and only if the change committed."
)
class Event:
    id: strawberry.ID = strawberry.field(
        description="Globally unique and stable (a UUID); the `webhook-id` of its deliveries."
    )
    type: str = strawberry.field(
        description="What happened, e.g. `points.earned`, `tier.changed` (see the README)."
    )
    occurred_at: datetime = strawberry.field(
        description="When it happened, on the programme's clock (a sandbox's test clock)."
    )
    subject: strawberry.ID | None = strawberry.field(
        description="The global id of the member it is about; null for programme events."
    )
    sequence: int | None = strawberry.field(
        description="The member's event number, 1, 2, 3, ... in the order the member's "
        "changes committed; null for programme events."
    )
    payload: JSON = strawberry.field(
        description='What a mail needs, by type, versioned: `{"version": 1, ...}`.'
    )

    @classmethod
    def from_domain(cls, event: DomainEvent) -> Event:
        return cls(
            id=strawberry.ID(event.event_id),
            type=event.type,
            occurred_at=event.occurred_at,
            subject=strawberry.ID(event.subject) if event.subject else None,
            sequence=event.sequence,
            payload=event.payload,
        )


@strawberry.type(description="Events in commit order; `endCursor` resumes after the last.")
class EventConnection(relay.Connection[Event]):
    pass


@strawberry.type(description="How long events are kept, and how early reminders go out.")
class EventPolicy:
    retention_days: int = strawberry.field(
        description="Events older than this many days are pruned by run-jobs (default 30)."
    )
    expiring_days: int = strawberry.field(
        description="`points.expiring` goes out this many days before points expire (0: never)."
    )
    downgrade_warning_days: int = strawberry.field(
        description="`tier.downgrade_warning` goes out this many days before a validity period "
        "ends, when retention is not met yet (0: never)."
    )

    @classmethod
    def from_domain(cls, policy: DomainPolicy) -> EventPolicy:
        return cls(
            retention_days=policy.retention_days,
            expiring_days=policy.expiring_days,
            downgrade_warning_days=policy.downgrade_warning_days,
        )


@strawberry.input(description="Fields left out keep their value.")
class SetEventPolicyInput:
    retention_days: int | None = strawberry.field(
        default=None, description="1-3650 days events are kept."
    )
    expiring_days: int | None = strawberry.field(
        default=None, description="0-366 days before expiry that `points.expiring` goes out."
    )
    downgrade_warning_days: int | None = strawberry.field(
        default=None,
        description="0-366 days before a period's end that `tier.downgrade_warning` goes out.",
    )
    idempotency_key: str = strawberry.field(description="Makes a retry safe: 1-255 characters.")

    def changes(self) -> dict[str, int]:
        given = {
            "retentionDays": self.retention_days,
            "expiringDays": self.expiring_days,
            "downgradeWarningDays": self.downgrade_warning_days,
        }
        return {name: value for name, value in given.items() if value is not None}


@strawberry.type(description="The event policy as it now is.")
class SetEventPolicySuccess:
    event_policy: EventPolicy = strawberry.field(description="The policy after the change.")


@strawberry.type(description="Why the event policy was not changed.")
class SetEventPolicyError(MutationError):
    pass


SetEventPolicyResult = Annotated[
    SetEventPolicySuccess | SetEventPolicyError, strawberry.union("SetEventPolicyResult")
]


@strawberry.type
class EventQuery:
    @strawberry.field(
        description="Admin: the programme's events in commit order, oldest first. Keep "
        "`endCursor` and pass it as `after` to read what committed since: no event is skipped "
        "or repeated. Kept for the event policy's retention."
    )
    async def events(
        self,
        info: strawberry.Info,
        first: Annotated[int, strawberry.argument(description="1-100 events.")],
        after: Annotated[
            str | None, strawberry.argument(description="An `endCursor` of this connection.")
        ] = None,
        types: Annotated[
            list[str] | None,
            strawberry.argument(description="Only these event types, e.g. `tier.changed`."),
        ] = None,
        member_id: Annotated[
            relay.GlobalID | None,
            strawberry.argument(description="Only the events about this member."),
        ] = None,
    ) -> EventConnection:
        rows, has_next = await resolvers.events_page(
            info,
            first=first,
            after=after,
            types=types,
            member_id=node_id(member_id, "Member", "memberId") if member_id else None,
        )
        edges = [Edge(Event.from_domain(r), r, resolvers.event_cursor) for r in rows]
        return EventConnection(edges=edges, page_info=page_info(edges, has_next, after))

    @strawberry.field(description="Admin: how long events are kept, and reminder lead times.")
    async def event_policy(self, info: strawberry.Info) -> EventPolicy:
        return EventPolicy.from_domain(await resolvers.policy(info))


@strawberry.type
class EventMutation:
    @strawberry.mutation(
        description="Admin: change how long events are kept and how early reminders go out."
    )
    async def set_event_policy(
        self, info: strawberry.Info, input: SetEventPolicyInput
    ) -> SetEventPolicyResult:
        return await result_of(
            resolvers.change_policy(info, input.changes(), idempotency_key=input.idempotency_key),
            lambda p: SetEventPolicySuccess(event_policy=EventPolicy.from_domain(p)),
            SetEventPolicyError,
        )
