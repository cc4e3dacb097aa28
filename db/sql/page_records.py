"""Rows the member page only shows, read as light records instead of model instances."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import orjson

from db.sql.parts import utc_at

# --- rows the page only shows: light records instead of model instances -----------------------
# Each has every column of its table (a test holds them to the models), so whatever reads a
# model's column reads the record's; they are sent as JSON arrays in field order (no keys to
# decode, no dict per row) and made by one call each.


@dataclass(slots=True, eq=False)
class TemplateRecord:
    """A coupon template as the page reads it: db.models.CouponTemplate's columns."""

    id: int
    programme_id: int
    code: str
    title: str
    kind: str
    amount: int
    percent: int
    cap: int | None
    threshold: int
    gift_sku: str | None
    valid_from: datetime | None
    valid_until: datetime | None
    valid_days: int | None
    total_stock: int | None
    stock_left: int | None
    issued: int
    per_member_limit: int | None
    eligible_tiers: list[int]
    eligible_categories: list[str]
    eligible_skus: list[str]
    stackable: bool
    points_price: int | None
    claimable: bool
    auto_issue: str
    status: str
    created_at: datetime
    retired_at: datetime | None


@dataclass(slots=True, eq=False)
class CouponRecord:
    """A wallet coupon as the page reads it: db.models.Coupon's columns, and its template."""

    id: int
    programme_id: int
    template_id: int
    member_id: int
    code: str
    status: str
    source: str
    period: str | None
    period_seq: int | None
    issued_at: datetime
    starts_at: datetime | None
    ends_at: datetime
    order_ref: str | None
    locked_at: datetime | None
    lock_expires_at: datetime | None
    discount: int | None
    used_at: datetime | None
    points_transaction_id: int | None
    template: TemplateRecord = None  # type: ignore[assignment]  # set once read


@dataclass(slots=True, eq=False)
class TransactionRecord:
    """A ledger row as the page reads it: db.models.PointTransaction's columns."""

    id: int
    programme_id: int
    member_id: int
    kind: str
    bucket: str
    amount: int
    available_after: int
    pending_after: int
    reference_type: str
    reference: str
    reason: str
    actor: str
    idempotency_key: str | None
    reverses_id: int | None
    shortfall: int
    created_at: datetime


class Record:
    """How one record type is read: its columns as a JSON array, and the few conversions
    JSON needs (timestamps come as text; SQLite gives flags as 0/1 and documents as text)."""

    def __init__(self, kind: type[Any], *, unread: tuple[str, ...] = ()) -> None:
        names = [f.name for f in fields(kind) if f.name not in unread]
        self.kind = kind
        self.columns = names
        types = {f.name: str(f.type) for f in fields(kind)}
        self.times = [n for n, c in enumerate(names) if "datetime" in types[c]]
        self.flags = [n for n, c in enumerate(names) if types[c] == "bool"]
        self.documents = [n for n, c in enumerate(names) if types[c].startswith("list[")]

    def array_sql(self, alias: str, postgres: bool) -> str:
        listed = ", ".join(f"{alias}.{c}" for c in self.columns)
        return f"json_build_array({listed})" if postgres else f"json_array({listed})"

    def make(self, values: list[Any]) -> Any:
        for n in self.times:
            value = values[n]
            if value is not None:
                values[n] = utc_at(value)
        for n in self.flags:
            values[n] = bool(values[n])
        for n in self.documents:
            if isinstance(values[n], str):
                values[n] = orjson.loads(values[n])
        return self.kind(*values)


COUPON = Record(CouponRecord, unread=("template",))
TEMPLATE_RECORD = Record(TemplateRecord)
TRANSACTION = Record(TransactionRecord)
