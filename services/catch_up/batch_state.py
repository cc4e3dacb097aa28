"""What a catch-up batch carries (PostgreSQL): each member on its way (_State: its locked row,
open lots, orders still to mature), what a member waits on (_Ask: the qualifying sums of its
windows), and _BatchBase — the programme's policies and the rows, lots, completions, activity,
tier changes and events booked so far, which the jobs' steps (batch_expiry, batch_maturity,
batch_tiers) add to and batch._Batch writes at the end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from db.models import Member, Programme
from db.repositories import events as outbox_repo
from db.repositories.jobs import batch as jobs_batch
from db.repositories.jobs import ledger as jobs_ledger
from db.repositories.jobs import orders as jobs_orders
from db.repositories.jobs import tiers as jobs_tiers
from domain.auth import Principal, Role
from domain.events import EventType
from domain.lots import Lot
from domain.tiers import TierView
from services.catch_up.steps import Done, Kind
from services.clock import now_of, zone_of
from services.events import new_event_id
from services.points import ledger
from services.points.ledger import actor_of
from services.tier_evaluation import measure as tier_measure


@dataclass
class _State:
    """A batch member on its way: its row, open lots (new ones under placeholder ids) and the
    orders still to mature."""

    row: jobs_batch.DueMember
    lots: list[Lot]
    orders: list[jobs_orders.DueOrder]
    last_event_id: int  # its latest qualifying event
    expired: int = 0


@dataclass(frozen=True)
class _Ask:
    """What a member waits on: the sums of its windows, then the step's outcome."""

    state: _State
    kind: Kind
    at: datetime
    windows: list[jobs_tiers.Window]
    counted_from: datetime | None = None


class _BatchBase:
    """The batch's state, shared by the jobs' steps (see the module's docstring)."""

    def __init__(self, programme: Programme, now: datetime, done: Done) -> None:
        self.programme, self.now, self.done = programme, now, done
        self.points = ledger.policy_of(programme)
        self.policy = tier_measure.policy_of(programme)
        self.tz = zone_of(programme)
        self.booked_at = now_of(programme)
        self.actor = actor_of(Principal(programme_id=programme.id, role=Role.ADMIN, key_id=0))
        self.tiers: list[TierView] = []
        self.by_id: dict[int, TierView] = {}
        self.rows: list[jobs_ledger.LedgerRow] = []
        self.new_lots: dict[int, jobs_ledger.NewLot] = {}
        self.completed: list[tuple[int, datetime]] = []
        self.activity: list[tuple[_State, jobs_tiers.Activity]] = []
        self.changes: list[jobs_tiers.TierChangeRow] = []
        self.told: list[outbox_repo.NewEvent] = []
        self.tier_moved: set[int] = set()

    def _tell(self, member_id: int, type: EventType, at: datetime, payload: dict[str, Any]) -> None:
        self.told.append(outbox_repo.NewEvent(new_event_id(), member_id, str(type), at, payload))


def _as_member(member: jobs_batch.DueMember) -> Member:
    """A batch row where the ledger's pure helpers take a Member: they read and move only the
    balances, last_earned_at, expiry_due_at and external_id, which the row has."""
    return cast(Member, member)
