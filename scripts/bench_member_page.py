"""`make bench`: the member page and recordOrder against this stack's own ceilings.

Seeds a scratch PostgreSQL database (10,000 members, each with 20 coupons, 10 ledger rows
and ~10 generated orders; 500 products; recommendations built), starts the service (one
uvicorn worker, production mode, PostgreSQL + Redis) and drives it with wrk from a separate
process, 32 connections, several rounds in which every part runs once in turn (so both
sides of a ratio meet the same machine), printing medians and per-round ratios:

  (a) the raw member page: same resolvers and services, JSON built by hand (orjson);
  (b) the GraphQL member page (an automatic persisted query, as mobile clients send it);
  (c) the recordOrder mutation;
  (d) pgbench running the SQL of one earn (BEGIN; UPDATE balance; INSERT ledger row; COMMIT);

then the same (a) and (b) on a second server whose page resolvers answer from memory (the
pure GraphQL layer against the raw route). A script, not a test.

    make bench                           (needs wrk and pgbench; LOYALTY_BENCH_PG_URL)
    python scripts/bench_member_page.py --seconds 10 --rounds 3 --connections 32
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import asyncpg
import httpx
from cryptography.fernet import Fernet
from redis.asyncio import Redis
from scratch import scratch_database

from api.member_page import MEMBER_PAGE
from db.connection import close_database, migrate, open_database
from db.models import CouponTemplate, Programme
from domain.auth import Principal, Role
from domain.clock import ProgrammeMode
from domain.coupons import CouponKind, Template
from domain.recommendations.synthetic import generate
from domain.tiers import BenefitKind, TierDraft
from services import keys as key_service
from services import programmes as programme_service
from services import tiers as tier_service
from services.clock import now_of
from services.coupons import templates as coupon_templates
from services.coupons.templates import TemplateInput
from services.recommendations import catalogue
from services.recommendations.build import build

PROJECT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("LOYALTY_BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
MEMBERS = 10_000
RECORD_ORDER = """
mutation RecordOrder($input: RecordOrderInput!) {
  recordOrder(input: $input) { __typename ... on RecordOrderError { errors { code } } }
}
"""


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# ---------------------------------------------------------------- data


async def seed(url: str) -> tuple[int, str]:
    """Everything the page shows, for 10,000 members; returns (programme id, storefront key)."""
    await migrate(url)
    await open_database(url)
    try:
        programme = await programme_service.create(
            code="bench", name="Bench", currency="CNY", timezone="Asia/Shanghai",
            mode=ProgrammeMode.SANDBOX,
        )  # fmt: skip
        admin = Principal(programme_id=programme.id, role=Role.ADMIN, key_id=-1)
        for rank, (code, threshold) in enumerate([("MEMBER", 0), ("SILVER", 10_000_00)]):
            await tier_service.upsert_tier(
                admin, TierDraft(code, code.title(), rank, threshold, None), idempotency_key=code
            )
        for n, kind in enumerate(list(BenefitKind)[:8]):
            await tier_service.upsert_benefit(
                admin, tier_code="MEMBER", code=f"PERK_{n}", title=f"Perk number {n}",
                kind=kind, value=10_000, description="", idempotency_key=f"perk-{n}",
            )  # fmt: skip
        template = await coupon_templates.create(
            admin,
            TemplateInput(
                code="20OFF199", title="20 off orders of 199",
                rules=Template(CouponKind.AMOUNT_OFF, amount=2_000, threshold=19_900, valid_days=90),
            ),
            idempotency_key="tpl",
        )  # fmt: skip
        now = now_of(programme)
        data = generate(members=MEMBERS, seed=11, now=now)
        await catalogue.upsert(admin, list(data.products.values()), idempotency_key="products")
        tier = (await tier_service.programme_tiers(admin))[0]
        await copy_rows(url, programme, template, tier.id, data, now)
        await build(await Programme.get(id=programme.id))
        key = await key_service.create_key(programme.id, Role.STOREFRONT, label="bench")
        # One key sends thousands of pages a second here: its rate limit is not what is measured.
        await programme_service.set_rate_limit(
            "bench", "storefront", maximum=10**8, restore_rate=10**8
        )
        return programme.id, key.secret
    finally:
        await close_database()


async def copy_rows(url, programme, template: CouponTemplate, tier_id, data, now) -> None:
    """Members, ledger rows with their lots, coupons and orders, straight into the tables."""
    rng = random.Random(5)
    pid = programme.id
    conn = await asyncpg.connect(url.split("?")[0].replace("postgres://", "postgresql://", 1))
    try:
        members, txs, lots, coupons = [], [], [], []
        tx_id = lot_id = coupon_id = 0
        for m in range(1, MEMBERS + 1):
            balance = 0
            for t in range(10):
                tx_id += 1
                amount = rng.randrange(10, 200)
                balance += amount
                at = now - timedelta(days=300 - 20 * t)
                txs.append((tx_id, pid, m, "EARN", "AVAILABLE", amount, balance, 0, "ORDER",
                            f"seed-{tx_id}", "order completed", "bench", 0, at))  # fmt: skip
                lot_id += 1
                lots.append((lot_id, pid, m, tx_id, amount, amount, at, at + timedelta(days=365)))
            joined = data.members[m][1]
            members.append((m, pid, f"m-{m}", f"Member {m}", False, m % 10 != 0, joined, tier_id,
                            joined, joined, 0, balance, 0, 0, 0, 0))  # fmt: skip
            for c in range(20):
                coupon_id += 1
                code = uuid.UUID(int=rng.getrandbits(128)).hex[:16].upper()
                coupons.append((coupon_id, pid, template.id, m, code, "AVAILABLE", "GRANT",
                                now, now, now + timedelta(days=10 + c)))  # fmt: skip
        await conn.copy_records_to_table(
            "members", records=members,
            columns=["id", "programme_id", "external_id", "display_name", "consent_marketing",
                     "consent_profiling", "joined_at", "tier_id", "tier_since", "tier_period_start",
                     "tier_event_id", "points_available", "points_pending", "points_held",
                     "points_shortfall", "qualifying_spend"],
        )  # fmt: skip
        await conn.copy_records_to_table(
            "point_transactions", records=txs,
            columns=["id", "programme_id", "member_id", "kind", "bucket", "amount",
                     "available_after", "pending_after", "reference_type", "reference", "reason",
                     "actor", "shortfall", "created_at"],
        )  # fmt: skip
        await conn.copy_records_to_table(
            "point_lots", records=lots,
            columns=["id", "programme_id", "member_id", "source_id", "amount", "remaining",
                     "earned_at", "expires_at"],
        )  # fmt: skip
        await conn.copy_records_to_table(
            "coupons", records=coupons,
            columns=["id", "programme_id", "template_id", "member_id", "code", "status", "source",
                     "issued_at", "starts_at", "ends_at"],
        )  # fmt: skip
        orders, lines = [], []
        for n, o in enumerate(data.orders, start=1):
            amount = sum(q * p for _, q, p in o.lines)
            orders.append((n, pid, o.member, f"seed-{n}", "COMPLETED", "CNY", o.placed_at,
                           o.placed_at, o.placed_at, amount, 0, 0, 0, 0))  # fmt: skip
            for sku, q, p in o.lines:
                lines.append((n, sku, data.products[sku].category, p, q, False, 0, "[]", 0, 0))
        await conn.copy_records_to_table(
            "orders", records=orders,
            columns=["id", "programme_id", "member_id", "order_ref", "status", "currency",
                     "placed_at", "recorded_at", "matures_at", "amount", "returned_amount",
                     "paid_with_points", "points", "points_reversed"],
        )  # fmt: skip
        await conn.copy_records_to_table(
            "order_lines", records=lines,
            columns=["order_id", "sku", "category", "unit_price", "quantity", "discounted",
                     "points", "rules", "returned_quantity", "points_reversed"],
        )  # fmt: skip
        for table in ("members", "point_transactions", "point_lots", "coupons", "orders"):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        await conn.execute("ANALYZE")
        print(f"seeded {MEMBERS} members: {len(txs)} ledger rows, {len(coupons)} coupons, "
              f"{len(orders)} orders, {len(lines)} order lines, 500 products")  # fmt: skip
    finally:
        await conn.close()


# ---------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, *, memory: bool, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOYALTY_")}
    env.update(
        LOYALTY_DATABASE_URL=url,
        LOYALTY_MODE="production",
        LOYALTY_WEBHOOK_KEYS=Fernet.generate_key().decode(),
        LOYALTY_JWT_SECRET="b" * 40,
        LOYALTY_DATA_DIR=str(log.parent),
        LOYALTY_LOG_LEVEL="WARNING",
    )
    if memory:
        env["LOYALTY_BENCH_MEMORY"] = "1"
    else:
        env["LOYALTY_REDIS_URL"] = REDIS_URL
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench_app:create", "--factory", "--app-dir",
         str(PROJECT / "scripts"), "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning", "--no-access-log"],
        cwd=PROJECT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit(f"the server did not start: {log.read_text()}")


@contextmanager
def serving(url: str, *, memory: bool, log: Path) -> Iterator[tuple[subprocess.Popen, str]]:
    server, base = start_server(url, memory=memory, log=log)
    try:
        yield server, base
    finally:
        server.terminate()
        server.wait(timeout=10)


def register(base: str, key: str, query: str, variables: dict) -> dict:
    """Send a document once with its hash (APQ), as a client does on its first call."""
    body = {
        "query": query,
        "variables": variables,
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha(query)}},
    }
    answer = httpx.post(f"{base}/graphql", json=body, headers={"Authorization": f"Bearer {key}"})
    result = answer.json()
    if "errors" in result:
        raise SystemExit(f"registering failed: {result}")
    return result


# ---------------------------------------------------------------- load


LUA_COMMON = """
local threads = 0
function setup(thread) thread:set("tid", threads); threads = threads + 1 end
function init(args)
  tid = tonumber(wrk.thread:get("tid")); counter = 0
  math.randomseed(os.time() * 1000 + tid * 7919)
end
"""


def lua_raw(key: str, members: int) -> str:
    return (
        LUA_COMMON
        + f"""
request = function()
  return wrk.format("GET", "/raw/member/m-" .. math.random(1, {members}),
    {{["Authorization"] = "Bearer {key}"}})
end
"""
    )


def lua_page(key: str, members: int) -> str:
    return (
        LUA_COMMON
        + f"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {key}"
request = function()
  local body = '{{"extensions":{{"persistedQuery":{{"version":1,"sha256Hash":"{sha(MEMBER_PAGE)}"}}}},' ..
    '"variables":{{"e":"m-' .. math.random(1, {members}) .. '"}}}}'
  return wrk.format(nil, "/graphql", nil, body)
end
"""
    )


def lua_order(key: str, run: str, placed_at: str) -> str:
    return (
        LUA_COMMON
        + f"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {key}"
request = function()
  counter = counter + 1
  local ref = "{run}-" .. tid .. "-" .. counter
  local body = '{{"extensions":{{"persistedQuery":{{"version":1,"sha256Hash":"{sha(RECORD_ORDER)}"}}}},' ..
    '"variables":{{"input":{{"orderId":"' .. ref .. '","memberExternalId":"m-' ..
    math.random(1, {MEMBERS}) .. '","placedAt":"{placed_at}","lines":[{{"sku":"coffee-01",' ..
    '"category":"coffee","unitPrice":4990,"quantity":2}},{{"sku":"books-03","category":"books",' ..
    '"unitPrice":5990,"quantity":1}}],"payments":[{{"method":"CARD","amount":15970}}],' ..
    '"idempotencyKey":"' .. ref .. '"}}}}}}'
  return wrk.format(nil, "/graphql", nil, body)
end
"""
    )


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse_wrk(output: str) -> tuple[float, float, float, int]:
    """req/s, p50 ms, p99 ms, non-2xx responses."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]

    def pct(p: str) -> float:
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        return float(m.group(1)) * UNITS[m.group(2)] if m else float("nan")

    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return rps, pct("50"), pct("99"), int(bad.group(1)) if bad else 0


def wrk(base: str, script: str, *, seconds: int, connections: int, tmp: Path) -> tuple:
    path = tmp / f"s{uuid.uuid4().hex[:6]}.lua"
    path.write_text(script)
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(path), base],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return parse_wrk(out)


PGBENCH_EARN = """\\set id random(1, {members})
BEGIN;
UPDATE members SET points_available = points_available + 10 WHERE id = :id;
INSERT INTO point_transactions (programme_id, member_id, kind, bucket, amount, available_after,
  pending_after, reference_type, reference, reason, actor, shortfall, created_at)
  VALUES ({pid}, :id, 'EARN', 'AVAILABLE', 10, 0, 0, 'BENCH', 'pgbench', 'bench', 'bench', 0, now());
COMMIT;
"""


def pgbench(url: str, pid: int, *, seconds: int, connections: int, tmp: Path) -> tuple:
    script = tmp / "earn.sql"
    script.write_text(PGBENCH_EARN.format(members=MEMBERS, pid=pid))
    logs = tmp / f"pgb{uuid.uuid4().hex[:6]}"
    logs.mkdir()
    dsn = url.split("?")[0].replace("postgres://", "postgresql://", 1)
    out = subprocess.run(
        ["pgbench", "-n", "-M", "prepared", f"-c{connections}", "-j2", f"-T{seconds}",
         "-f", str(script), "-l", f"--log-prefix={logs}/log", dsn],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    tps = float(re.search(r"tps = ([\d.]+)", out).group(1))  # type: ignore[union-attr]
    latencies = sorted(
        int(line.split()[2]) / 1000 for f in logs.iterdir() for line in f.read_text().splitlines()
    )
    return tps, latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99)], 0


def interleaved(measures: dict, n: int, results: dict) -> None:
    """n rounds, each running every measure once in turn, so the two sides of a ratio see the
    same machine round by round (on a shared box throughput drifts by a third between
    minutes). Medians per part; each round's figures are kept for paired ratios."""
    runs: dict[str, list] = {part: [] for part in measures}
    for _ in range(n):
        for part, measure in measures.items():
            runs[part].append(measure())
    for part, figures in runs.items():
        results[part] = (
            statistics.median(r[0] for r in figures),
            statistics.median(r[1] for r in figures),
            statistics.median(r[2] for r in figures),
            sum(r[3] for r in figures),
        )
        results.setdefault("rounds", {})[part] = [r[0] for r in figures]


def profile(pid: int, base: str, script: str, load: dict, out: Path) -> None:
    """py-spy's collapsed stacks of the server while wrk drives it."""
    spy_bin = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    spy = subprocess.Popen(
        [spy_bin, "record", "-p", str(pid), "-d", str(load["seconds"]), "-r", "200",
         "-f", "raw", "-o", str(out), "--nonblocking"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wrk(base, script, **load)
    spy.wait()
    print(f"profile: {out}")


# ---------------------------------------------------------------- main


async def main(args: argparse.Namespace) -> None:
    for tool in ("wrk", "pgbench"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed (Debian: apt-get install {tool})")
    redis = Redis.from_url(REDIS_URL)
    await redis.flushdb()
    await redis.aclose()
    tmp = Path(tempfile.mkdtemp(prefix="loyalty-bench-"))
    async with scratch_database("loyalty_bench_page", query=f"?maxsize={args.pool}") as url:
        started = time.perf_counter()
        pid, key = await seed(url)
        print(f"seed: {time.perf_counter() - started:.0f} s (not measured)")
        load = {"seconds": args.seconds, "connections": args.connections, "tmp": tmp}
        parts = set(args.parts.split(","))
        if (
            args.profile
            and ("memory" if args.profile_part == "b'" else args.profile_part) not in parts
        ):
            raise SystemExit(f"--profile-part {args.profile_part} is not among --parts")
        results: dict = {}
        if parts & {"a", "b", "c", "d"}:
            with serving(url, memory=False, log=tmp / "server.log") as (server, base):
                earns = lambda: pgbench(url, pid, **load)  # noqa: E731 (the server idles)
                measure_database(server, base, key, args, load, parts, results, earns)
        if "memory" in parts:
            with serving(url, memory=True, log=tmp / "memory.log") as (server, base):
                measure_memory(server, base, key, args, load, results)
    report(args, results)


def measure_database(
    server, base: str, key: str, args, load: dict, parts: set, results: dict, earns
) -> None:
    page = register(base, key, MEMBER_PAGE, {"e": "m-1"})
    raw = httpx.get(f"{base}/raw/member/m-1", headers={"Authorization": f"Bearer {key}"})
    assert raw.json() == page, "the raw page and the GraphQL page differ"
    print(f"member page: {len(raw.content)} bytes of JSON")
    placed = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 60))
    warm = {
        "orderId": "warm-1",
        "memberExternalId": "m-1",
        "placedAt": placed,
        "lines": [{"sku": "coffee-01", "category": "coffee", "unitPrice": 100, "quantity": 1}],
        "payments": [{"method": "CARD", "amount": 100}],
        "idempotencyKey": "warm-1",
    }
    register(base, key, RECORD_ORDER, {"input": warm})
    wrk(base, lua_page(key, MEMBERS), seconds=3, connections=args.connections, tmp=load["tmp"])
    scripts = {
        "a": lambda: lua_raw(key, MEMBERS),
        "b": lambda: lua_page(key, MEMBERS),
        "c": lambda: lua_order(key, uuid.uuid4().hex[:8], placed),  # fresh order ids each run
    }
    chosen = {part: script for part, script in scripts.items() if part in parts}
    measures = {part: lambda s=script: wrk(base, s(), **load) for part, script in chosen.items()}
    if "d" in parts:
        measures["d"] = earns
    interleaved(measures, args.rounds, results)
    if args.profile and args.profile_part in chosen:
        profile(server.pid, base, chosen[args.profile_part](), load, Path(args.profile))


def measure_memory(server, base: str, key: str, args, load: dict, results: dict) -> None:
    hot = 200  # the in-memory server keeps this many members' pages
    register(base, key, MEMBER_PAGE, {"e": "m-1"})
    for m in range(1, hot + 1):
        httpx.get(f"{base}/raw/member/m-{m}", headers={"Authorization": f"Bearer {key}"})
    wrk(base, lua_page(key, hot), seconds=3, connections=args.connections, tmp=load["tmp"])
    measures = {
        "a'": lambda: wrk(base, lua_raw(key, hot), **load),
        "b'": lambda: wrk(base, lua_page(key, hot), **load),
    }
    interleaved(measures, args.rounds, results)
    if args.profile and args.profile_part == "b'":
        profile(server.pid, base, lua_page(key, hot), load, Path(args.profile))


def report(args, results: dict) -> None:
    names = {
        "a": "(a) raw member page, orjson",
        "b": "(b) GraphQL member page (APQ)",
        "c": "(c) recordOrder mutation",
        "d": "(d) pgbench: one earn's SQL",
        "a'": "(a') raw page, data in memory",
        "b'": "(b') GraphQL page, data in memory",
    }
    print(f"\n{args.connections} connections, {args.rounds} interleaved rounds of {args.seconds} s, "
          "medians; one uvicorn worker; PostgreSQL + Redis")  # fmt: skip
    print(f"{'':36}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}")
    for k, name in names.items():
        if k in results:
            rps, p50, p99, bad = results[k]
            print(f"{name:36}{rps:10.0f}{p50:9.1f}{p99:9.1f}{bad:9d}")
    targets = [("b", "a", "b/a ", 0.5), ("b'", "a'", "b'/a'", 0.25), ("c", "d", "c/d ", 0.3)]
    print()
    for x, y, label, target in targets:
        if x in results and y in results:
            paired = [
                n / d for n, d in zip(results["rounds"][x], results["rounds"][y], strict=False)
            ]
            print(
                f"{label} = {statistics.median(paired):.2f}   (target >= {target}; "
                f"rounds {min(paired):.2f}-{max(paired):.2f})"
            )
    if "b" in results:
        print(f"member page p99 = {results['b'][2]:.1f} ms   (target <= 25 ms)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--pool", type=int, default=10)
    parser.add_argument(
        "--parts", default="a,b,c,d,memory", help="what to measure: a, b, c, d and/or memory"
    )
    parser.add_argument("--profile", help="write py-spy's collapsed stacks of one part here")
    parser.add_argument(
        "--profile-part", default="b'", choices=["a", "b", "c", "b'"], help="the part profiled"
    )
    asyncio.run(main(parser.parse_args()))
