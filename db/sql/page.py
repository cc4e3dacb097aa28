"""The member page's reads, batched: every part of the page that resolvers ask for in the same
turn of the event loop is read by ONE statement (a column of JSON per part), so a page with a
wallet, a ledger, lots, recommendation lists, purchases, tier sums and offers costs one round
trip after the member's own row; a query asking for one part pays for that part only.

A `PageReader` lives for one request (the GraphQL context holds it). Its methods register a
part at call time and return an awaitable of it; asking twice for the same part in one batch
(expiring points for the points field and for next best actions) reads it once. Nothing is
kept after its batch: a later ask reads again (the second mutation of a request sees what the
first one wrote). The SQL only reads: the
services above apply the rules (expiry, ranking, tier progress, offers).

Statements: PostgreSQL builds each part with json_agg/json_build_object, SQLite with
json_group_array/json_object; the texts are kept side by side per part below."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson
from tortoise import connections
from tortoise.fields import BooleanField, DatetimeField, JSONField
from tortoise.models import Model

from db.connection import is_postgres
from db.models import CouponTemplate, Member, RecommendationList
from domain.lots import Lot

M = TypeVar("M", bound=Model)


def _at(value: Any) -> datetime | None:
    """A timestamp as JSON carries it (PostgreSQL's ISO text, SQLite's stored text)."""
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is UTC:  # both dialects write UTC: "+00:00" parses to this very object
        return parsed
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


class _Mapping:
    """How one model's row is read as a JSON object and turned into an instance, once.
    Worked out on first use: a model's foreign-key columns are known only after Tortoise.init."""

    def __init__(self, model: type[Model]) -> None:
        self.model = model
        self.ready = False

    def _learn(self) -> None:
        meta = self.model._meta
        self.columns = sorted(meta.fields_db_projection.values())
        by_column = {
            meta.fields_db_projection[name]: meta.fields_map[name] for name in meta.db_fields
        }
        self.times = [c for c, f in by_column.items() if isinstance(f, DatetimeField)]
        self.flags = [c for c, f in by_column.items() if isinstance(f, BooleanField)]
        self.documents = [c for c, f in by_column.items() if isinstance(f, JSONField)]
        # The instance is made as _init_from_db makes it, minus its per-field calls (the values
        # are converted above): where every column is its attribute's name, by one update of
        # the instance's __dict__ (these models have no properties over their columns).
        self.plain = all(meta.fields_db_projection_reverse.get(c, c) == c for c in self.columns)
        self.generated_pk = meta.db_pk_column not in meta.generated_db_fields
        self.ready = True

    def object_sql(self, alias: str, postgres: bool) -> str:
        if not self.ready:
            self._learn()
        pairs = ", ".join(f"'{c}', {alias}.{c}" for c in self.columns)
        return f"json_build_object({pairs})" if postgres else f"json_object({pairs})"

    def instance(self, values: dict[str, Any]) -> Any:
        if not self.ready:
            self._learn()
        for c in self.times:
            values[c] = _at(values[c])
        for c in self.flags:
            values[c] = bool(values[c])
        for c in self.documents:
            if isinstance(values[c], str):
                values[c] = orjson.loads(values[c])
        if not self.plain:
            return self.model._init_from_db(**values)
        made = self.model.__new__(self.model)
        state = made.__dict__
        state.update(values)
        state["_partial"] = False
        state["_saved_in_db"] = True
        state["_custom_generated_pk"] = self.generated_pk
        state["_await_when_save"] = {}
        return made


_TEMPLATE, _LIST = _Mapping(CouponTemplate), _Mapping(RecommendationList)


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


class _Record:
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
                values[n] = _at(value)
        for n in self.flags:
            values[n] = bool(values[n])
        for n in self.documents:
            if isinstance(values[n], str):
                values[n] = orjson.loads(values[n])
        return self.kind(*values)


_COUPON = _Record(CouponRecord, unread=("template",))
_TEMPLATE_RECORD = _Record(TemplateRecord)
_TRANSACTION = _Record(TransactionRecord)


# --- the member's own row: the statement before the batch ------------------------------------

_MEMBER_PG = "SELECT * FROM members WHERE programme_id = $1 AND external_id = $2"
_MEMBER_LITE = "SELECT * FROM members WHERE programme_id = ? AND external_id = ?"


async def member_by_external_id(programme_id: int, external_id: str) -> Member | None:
    sql = _MEMBER_PG if is_postgres() else _MEMBER_LITE
    rows = await connections.get("default").execute_query_dict(sql, [programme_id, external_id])
    return Member._init_from_db(**rows[0]) if rows else None


# --- the parts: (PostgreSQL, SQLite) texts with {p} for the next parameter's placeholder ------

_AGG = ("json_agg", "json_group_array")


def _in_order(pg: bool, keys: str) -> str:
    """PostgreSQL does not promise that json_agg keeps its subquery's order: the order is said
    in the aggregate. SQLite's json_group_array takes rows as the subquery yields them (its
    ORDER BY inside an aggregate needs 3.44, newer than some systems ship)."""
    return f" ORDER BY {keys}" if pg else ""


class _Texts:
    """A part's (PostgreSQL, SQLite) statement texts, made on first use (see _Mapping)."""

    def __init__(self, make: Callable[[bool], str]) -> None:
        self.make = make
        self.made: tuple[str, str] | None = None

    def get(self, postgres: bool) -> str:
        if self.made is None:
            self.made = (self.make(True), self.make(False))
        return self.made[0] if postgres else self.made[1]


_texts = _Texts


def _lots_sql(pg: bool) -> str:
    arr = "json_build_array" if pg else "json_array"
    return (
        f"(SELECT {_AGG[not pg]}({arr}(l.id, l.remaining, l.earned_at, l.expires_at)) "
        "FROM point_lots l WHERE l.member_id = {p} AND l.remaining > 0)"
    )


def _wallet_sql(pg: bool) -> str:
    arr = "json_build_array" if pg else "json_array"
    return (
        f"(SELECT {_AGG[not pg]}({arr}(w.c, w.t){_in_order(pg, 'w.k1, w.k2')}) FROM ("
        f"SELECT {_COUPON.array_sql('c', pg)} AS c, {_TEMPLATE_RECORD.array_sql('t', pg)} AS t, "
        "c.ends_at AS k1, c.id AS k2 "
        "FROM coupons c JOIN coupon_templates t ON t.id = c.template_id "
        "WHERE c.member_id = {p} ORDER BY c.ends_at, c.id LIMIT {p}) w)"
    )


def _history_sql(pg: bool) -> str:
    return (
        f"(SELECT {_AGG[not pg]}(h.x{_in_order(pg, 'h.k DESC')}) FROM (SELECT "
        f"{_TRANSACTION.array_sql('x', pg)} AS x, x.id AS k "
        "FROM point_transactions x WHERE x.programme_id = {p} AND x.member_id = {p} "
        "ORDER BY x.id DESC LIMIT {p}) h)"
    )


def _lists_sql(pg: bool) -> str:
    # the member's own list (when given), else the programme's popular one: the service reads
    # the popular list only when the member has none of its own, so it is not sent otherwise
    return (
        f"(SELECT {_AGG[not pg]}({_LIST.object_sql('r', pg)}) FROM recommendation_lists r "
        "WHERE r.programme_id = {p} AND (r.member_id = {p} OR r.member_id IS NULL AND NOT EXISTS "
        "(SELECT 1 FROM recommendation_lists o WHERE o.programme_id = {p} AND o.member_id = {p})))"
    )


def _purchases_sql(pg: bool) -> str:
    arr = "json_build_array" if pg else "json_array"
    return (
        f"(SELECT {_AGG[not pg]}({arr}(b.sku, b.last)) FROM ("
        "SELECT l.sku AS sku, max(o.placed_at) AS last FROM order_lines l "
        "JOIN orders o ON o.id = l.order_id "
        "WHERE o.member_id = {p} AND o.status <> 'CANCELLED' GROUP BY l.sku) b)"
    )


def _sums_sql(pg: bool, *, until: bool) -> str:
    arr = "json_build_array" if pg else "json_array"
    bound = " AND q.at < {p}" if until else ""
    return (
        f"(SELECT {arr}(coalesce(sum(q.spend), 0), coalesce(sum(q.orders), 0), "
        "coalesce(sum(q.growth), 0)) FROM qualifying_events q WHERE q.member_id = {p} "
        "AND (q.at > {p} OR (q.at = {p} AND q.id > {p}))" + bound + ")"
    )


def _offers_sql(pg: bool) -> str:
    # the templates a member may get by itself (as coupons.open_to_members), id order
    return (
        f"(SELECT {_AGG[not pg]}(o.t{_in_order(pg, 'o.k')}) FROM (SELECT "
        f"{_TEMPLATE.object_sql('t', pg)} AS t, t.id AS k FROM coupon_templates t "
        "WHERE t.programme_id = {p} AND t.status = 'ACTIVE' "
        "AND (t.claimable OR t.points_price IS NOT NULL) ORDER BY t.id) o)"
    )


def _held_sql(pg: bool) -> str:
    arr = "json_build_array" if pg else "json_array"
    return (
        f"(SELECT {_AGG[not pg]}({arr}(h.template_id, h.n)) FROM (SELECT template_id, "
        "count(*) AS n FROM coupons WHERE member_id = {p} GROUP BY template_id) h)"
    )


LOTS, WALLET, HISTORY = _texts(_lots_sql), _texts(_wallet_sql), _texts(_history_sql)
LISTS, PURCHASES = _texts(_lists_sql), _texts(_purchases_sql)
SUMS = _texts(lambda pg: _sums_sql(pg, until=False))
SUMS_UNTIL = _texts(lambda pg: _sums_sql(pg, until=True))
OFFERS, HELD = _texts(_offers_sql), _texts(_held_sql)


def _document(value: Any) -> Any:
    if value is None:
        return []
    return orjson.loads(value) if isinstance(value, (str, bytes)) else value


def _lots(value: Any) -> list[Lot]:
    return [Lot(i, int(r), _at(e), _at(x)) for i, r, e, x in _document(value)]  # type: ignore[arg-type]


def _wallet(value: Any) -> list[CouponRecord]:
    templates: dict[int, TemplateRecord] = {}
    make_coupon, make_template = _COUPON.make, _TEMPLATE_RECORD.make
    rows = []
    for c, t in _document(value):
        coupon = make_coupon(_array(c))
        template = templates.get(coupon.template_id)
        if template is None:  # converted once per template: a wallet holds a few
            template = templates[coupon.template_id] = make_template(_array(t))
        coupon.template = template
        rows.append(coupon)
    return rows


def _array(value: Any) -> list[Any]:
    # SQLite nests json_array() results as arrays; a text column would come as a string
    return orjson.loads(value) if isinstance(value, str) else value  # type: ignore[no-any-return]


def _object(value: Any) -> dict[str, Any]:
    # SQLite nests json_object() results as objects; a text column would come as a string
    return orjson.loads(value) if isinstance(value, str) else dict(value)


def _history(value: Any) -> list[TransactionRecord]:
    make = _TRANSACTION.make
    return [make(_array(x)) for x in _document(value)]


def _lists(value: Any) -> list[RecommendationList]:
    return [_LIST.instance(_object(x)) for x in _document(value)]


def _purchases(value: Any) -> dict[str, datetime]:
    return {str(sku): _at(at) for sku, at in _document(value)}  # type: ignore[misc]


def _sums(value: Any) -> dict[str, int]:
    spend, orders, growth = _document(value) or (0, 0, 0)
    return {"SPEND": int(spend), "ORDER_COUNT": int(orders), "GROWTH": int(growth)}


def _offers(value: Any) -> list[CouponTemplate]:
    return [_TEMPLATE.instance(_object(t)) for t in _document(value)]


def _held(value: Any) -> dict[int, int]:
    return {int(t): int(n) for t, n in _document(value)}


Key = tuple[Any, ...]  # a part and its parameters: asked twice, read once

# The batch statement of each sequence of parts, with its placeholders numbered: the same few
# sequences come back on every page (a part's texts always take as many parameters).
_STATEMENTS: dict[tuple[tuple[_Texts, ...], bool], str] = {}
_STATEMENTS_MAX = 256


def _statement(parts: tuple[_Texts, ...], postgres: bool) -> str:
    made = _STATEMENTS.get((parts, postgres))
    if made is None:
        columns, n = [], 0
        for index, texts in enumerate(parts):
            text = texts.get(postgres)
            while "{p}" in text:
                n += 1
                text = text.replace("{p}", f"${n}" if postgres else "?", 1)
            columns.append(f"{text} AS p{index}")
        made = "SELECT " + ", ".join(columns)
        if len(_STATEMENTS) >= _STATEMENTS_MAX:
            _STATEMENTS.clear()
        _STATEMENTS[(parts, postgres)] = made
    return made


class PageReader:
    """One request's batched reads of member pages (module docstring)."""

    def __init__(self) -> None:
        self._parts: dict[Key, asyncio.Future[Any]] = {}
        self._queued: list[tuple[Key, _Texts, Sequence[Any], Callable[[Any], Any]]] = []
        self._grew = False
        self.statements = 0  # batches run, for tests and the benchmark

    def _part(
        self,
        key: Key,
        texts: _Texts,
        params: Sequence[Any],
        convert: Callable[[Any], Any],
    ) -> Awaitable[Any]:
        found = self._parts.get(key)
        if found is None:
            loop = asyncio.get_running_loop()
            found = self._parts[key] = loop.create_future()
            if not self._queued:
                loop.call_soon(self._dispatch)
            self._queued.append((key, texts, params, convert))
            self._grew = True
        return found

    def _dispatch(self) -> None:
        """Runs once a turn of the loop has passed without a new part: resolvers started
        together (a gather) reach their first read a turn after the one that started them."""
        if self._grew:
            self._grew = False
            asyncio.get_running_loop().call_soon(self._dispatch)
            return
        queued, self._queued = self._queued, []
        task = asyncio.ensure_future(self._run(queued))
        task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)

    async def _run(
        self, queued: list[tuple[Key, _Texts, Sequence[Any], Callable[[Any], Any]]]
    ) -> None:
        futures = [self._parts[key] for key, *_ in queued]
        try:
            postgres = is_postgres()
            params = [value for _, _, values, _ in queued for value in values]
            self.statements += 1
            rows = await connections.get("default").execute_query(
                _statement(tuple(texts for _, texts, _, _ in queued), postgres), params
            )
            row = rows[1][0]
            for n, (future, (*_, convert)) in enumerate(zip(futures, queued, strict=True)):
                if not future.done():
                    future.set_result(convert(row[n]))
            self._forget(queued)
        except BaseException as error:
            self._forget(queued)
            for future in futures:
                if not future.done():
                    future.set_exception(error)
                    future.exception()  # retrieved: the awaiting resolver reports it
            if not isinstance(error, Exception):
                raise

    def _forget(self, queued: list[Any]) -> None:
        for key, *_ in queued:
            self._parts.pop(key, None)

    def lots(self, member_id: int) -> Awaitable[list[Lot]]:
        """The member's open lots (remaining > 0), as points_repo.open_lots reads them."""
        return self._part(("lots", member_id), LOTS, (member_id,), _lots)

    def wallet(self, member_id: int, limit: int) -> Awaitable[list[CouponRecord]]:
        """The first `limit` coupons of the wallet, soonest-expiring first, with templates."""
        return self._part(("wallet", member_id, limit), WALLET, (member_id, limit), _wallet)

    def history(
        self, programme_id: int, member_id: int, limit: int
    ) -> Awaitable[list[TransactionRecord]]:
        """The newest `limit` ledger rows."""
        params = (programme_id, member_id, limit)
        return self._part(("history", *params), HISTORY, params, _history)

    def lists(
        self, programme_id: int, member_id: int | None
    ) -> Awaitable[list[RecommendationList]]:
        """The member's stored list (when `member_id` and it has one), else the programme's
        popular list."""
        whose = member_id if member_id is not None else 0
        params = (programme_id, whose, programme_id, whose)
        return self._part(("lists", programme_id, whose), LISTS, params, _lists)

    def purchases(self, member_id: int) -> Awaitable[dict[str, datetime]]:
        """Each sku the member bought in an order not cancelled, with the latest time."""
        return self._part(("purchases", member_id), PURCHASES, (member_id,), _purchases)

    def sums(
        self,
        member_id: int,
        *,
        since: datetime,
        until: datetime | None = None,
        after_event_id: int = 0,
    ) -> Awaitable[dict[str, int]]:
        """Qualifying sums as tier_events.sums reads them."""
        params: tuple[Any, ...] = (member_id, since, since, after_event_id)
        if until is None:
            return self._part(("sums", *params), SUMS, params, _sums)
        params = (*params, until)
        return self._part(("sums", *params), SUMS_UNTIL, params, _sums)

    def offers(self, programme_id: int) -> Awaitable[list[CouponTemplate]]:
        """The templates open to members, by id."""
        return self._part(("offers", programme_id), OFFERS, (programme_id,), _offers)

    def held(self, member_id: int) -> Awaitable[dict[int, int]]:
        """How many coupons of each template the member has, any status."""
        return self._part(("held", member_id), HELD, (member_id,), _held)
