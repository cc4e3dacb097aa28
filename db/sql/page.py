"""The member page's reads, batched: every part of the page that resolvers ask for in the same
turn of the event loop is read by ONE statement (a column of JSON per part), so a page with a
wallet, a ledger, lots, recommendation lists, purchases, tier sums, offers, rewards and
challenges (db/sql/page_catalogue.py) costs one round trip after the member's own row; a
query asking for one part pays for that part only.

A `PageReader` lives for one request (the GraphQL context holds it). Its methods register a
part at call time and return an awaitable of it; asking twice for the same part in one batch
(expiring points for the points field and for next best actions) reads it once. Nothing is
kept after its batch: a later ask reads again (the second mutation of a request sees what the
first one wrote). The SQL only reads: the services above apply the rules (expiry, ranking,
tier progress, offers; the rewards and challenges parts also narrow by them, and say why).

Statements: PostgreSQL builds each part with json_agg/json_build_object, SQLite with
json_group_array/json_object; the texts are kept side by side per part below."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from tortoise import connections

from db.connection import is_postgres
from db.models import CouponTemplate, Member, RecommendationList
from db.sql import page_catalogue
from db.sql.page_records import COUPON, TEMPLATE_RECORD, TRANSACTION
from db.sql.page_records import CouponRecord as CouponRecord  # the page's records, shown here
from db.sql.page_records import TemplateRecord as TemplateRecord
from db.sql.page_records import TransactionRecord as TransactionRecord
from db.sql.parts import AGG, Mapping, Texts, as_array, as_object, document, in_order, utc_at
from domain.lots import Lot
from domain.recommendations.actions import ChallengeStanding
from domain.rewards import Reward

_TEMPLATE, _LIST = Mapping(CouponTemplate), Mapping(RecommendationList)


# --- the member's own row: the statement before the batch ------------------------------------

_MEMBER_PG = "SELECT * FROM members WHERE programme_id = $1 AND external_id = $2"
_MEMBER_LITE = "SELECT * FROM members WHERE programme_id = ? AND external_id = ?"


async def member_by_external_id(programme_id: int, external_id: str) -> Member | None:
    sql = _MEMBER_PG if is_postgres() else _MEMBER_LITE
    rows = await connections.get("default").execute_query_dict(sql, [programme_id, external_id])
    return Member._init_from_db(**rows[0]) if rows else None


# --- the parts: (PostgreSQL, SQLite) texts with {p} for the next parameter's placeholder ------


def _lots_sql(pg: bool) -> str:
    arr = "json_build_array" if pg else "json_array"
    return (
        f"(SELECT {AGG[not pg]}({arr}(l.id, l.remaining, l.earned_at, l.expires_at)) "
        "FROM point_lots l WHERE l.member_id = {p} AND l.remaining > 0)"
    )


def _wallet_sql(pg: bool) -> str:
    arr = "json_build_array" if pg else "json_array"
    return (
        f"(SELECT {AGG[not pg]}({arr}(w.c, w.t){in_order(pg, 'w.k1, w.k2')}) FROM ("
        f"SELECT {COUPON.array_sql('c', pg)} AS c, {TEMPLATE_RECORD.array_sql('t', pg)} AS t, "
        "c.ends_at AS k1, c.id AS k2 "
        "FROM coupons c JOIN coupon_templates t ON t.id = c.template_id "
        "WHERE c.member_id = {p} ORDER BY c.ends_at, c.id LIMIT {p}) w)"
    )


def _history_sql(pg: bool) -> str:
    return (
        f"(SELECT {AGG[not pg]}(h.x{in_order(pg, 'h.k DESC')}) FROM (SELECT "
        f"{TRANSACTION.array_sql('x', pg)} AS x, x.id AS k "
        "FROM point_transactions x WHERE x.programme_id = {p} AND x.member_id = {p} "
        "ORDER BY x.id DESC LIMIT {p}) h)"
    )


def _lists_sql(pg: bool) -> str:
    # the member's own list (when given), else the programme's popular one: the service reads
    # the popular list only when the member has none of its own, so it is not sent otherwise
    return (
        f"(SELECT {AGG[not pg]}({_LIST.object_sql('r', pg)}) FROM recommendation_lists r "
        "WHERE r.programme_id = {p} AND (r.member_id = {p} OR r.member_id IS NULL AND NOT EXISTS "
        "(SELECT 1 FROM recommendation_lists o WHERE o.programme_id = {p} AND o.member_id = {p})))"
    )


def _purchases_sql(pg: bool) -> str:
    arr = "json_build_array" if pg else "json_array"
    return (
        f"(SELECT {AGG[not pg]}({arr}(b.sku, b.last)) FROM ("
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
    # the templates a member may get by itself (as coupon_templates.open_to_members), id order
    return (
        f"(SELECT {AGG[not pg]}(o.t{in_order(pg, 'o.k')}) FROM (SELECT "
        f"{_TEMPLATE.object_sql('t', pg)} AS t, t.id AS k FROM coupon_templates t "
        "WHERE t.programme_id = {p} AND t.status = 'ACTIVE' "
        "AND (t.claimable OR t.points_price IS NOT NULL) ORDER BY t.id) o)"
    )


def _held_sql(pg: bool) -> str:
    arr = "json_build_array" if pg else "json_array"
    return (
        f"(SELECT {AGG[not pg]}({arr}(h.template_id, h.n)) FROM (SELECT template_id, "
        "count(*) AS n FROM coupons WHERE member_id = {p} GROUP BY template_id) h)"
    )


LOTS, WALLET, HISTORY = Texts(_lots_sql), Texts(_wallet_sql), Texts(_history_sql)
LISTS, PURCHASES = Texts(_lists_sql), Texts(_purchases_sql)
SUMS = Texts(lambda pg: _sums_sql(pg, until=False))
SUMS_UNTIL = Texts(lambda pg: _sums_sql(pg, until=True))
OFFERS, HELD = Texts(_offers_sql), Texts(_held_sql)


def _lots(value: Any) -> list[Lot]:
    return [Lot(i, int(r), utc_at(e), utc_at(x)) for i, r, e, x in document(value)]  # type: ignore[arg-type]


def _wallet(value: Any) -> list[CouponRecord]:
    templates: dict[int, TemplateRecord] = {}
    make_coupon, make_template = COUPON.make, TEMPLATE_RECORD.make
    rows = []
    for c, t in document(value):
        coupon = make_coupon(as_array(c))
        template = templates.get(coupon.template_id)
        if template is None:  # converted once per template: a wallet holds a few
            template = templates[coupon.template_id] = make_template(as_array(t))
        coupon.template = template
        rows.append(coupon)
    return rows


def _history(value: Any) -> list[TransactionRecord]:
    make = TRANSACTION.make
    return [make(as_array(x)) for x in document(value)]


def _lists(value: Any) -> list[RecommendationList]:
    return [_LIST.instance(as_object(x)) for x in document(value)]


def _purchases(value: Any) -> dict[str, datetime]:
    return {str(sku): utc_at(at) for sku, at in document(value)}  # type: ignore[misc]


def _sums(value: Any) -> dict[str, int]:
    spend, orders, growth = document(value) or (0, 0, 0)
    return {"SPEND": int(spend), "ORDER_COUNT": int(orders), "GROWTH": int(growth)}


def _offers(value: Any) -> list[CouponTemplate]:
    return [_TEMPLATE.instance(as_object(t)) for t in document(value)]


def _held(value: Any) -> dict[int, int]:
    return {int(t): int(n) for t, n in document(value)}


Key = tuple[Any, ...]  # a part and its parameters: asked twice, read once

# The batch statement of each sequence of parts, with its placeholders numbered: the same few
# sequences come back on every page (a part's texts always take as many parameters).
_STATEMENTS: dict[tuple[tuple[Texts, ...], bool], str] = {}
_STATEMENTS_MAX = 256


def _statement(parts: tuple[Texts, ...], postgres: bool) -> str:
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
        self._queued: list[tuple[Key, Texts, Sequence[Any], Callable[[Any], Any]]] = []
        self._grew = False
        self.statements = 0  # batches run, for tests and the benchmark

    def _part(
        self,
        key: Key,
        texts: Texts,
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
        self, queued: list[tuple[Key, Texts, Sequence[Any], Callable[[Any], Any]]]
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

    def rewards(
        self, programme_id: int, *, points: int, now: datetime, tier_id: int | None, limit: int
    ) -> Awaitable[list[Reward]]:
        """The dearest `limit` rewards of at most `points` that are active, in their window at
        `now`, in stock and open to `tier_id` (db/sql/page_catalogue.py)."""
        params = (programme_id, points, now, now, tier_id, limit)
        return self._part(
            ("rewards", *params), page_catalogue.REWARDS, params, page_catalogue.rewards
        )

    def challenges(self, member_id: int, now: datetime) -> Awaitable[list[ChallengeStanding]]:
        """The member's standings on the active challenges open at `now` it has not completed."""
        params = (member_id, now, now)
        return self._part(
            ("challenges", *params), page_catalogue.CHALLENGES, params, page_catalogue.challenges
        )
