"""`make bench`: the member page and the ledger writes against this stack's own ceilings.

Seeds a scratch PostgreSQL database (scripts/bench_seed.py: 10,000 members by default, each
with 20 coupons, 10 ledger rows with their lots, 10 orders of one or two lines and a stored
recommendation list; 500 products; pending orders for completeOrder), starts the service
(one uvicorn worker unless --workers, production mode, PostgreSQL + Redis) and drives it
with wrk from a separate process, 32 connections, several rounds in which every part runs
once in turn (so both sides of a ratio meet the same machine), printing medians, per-round
ratios and each of issue 16's targets as met or MISSED:

  (a) the raw member page: same resolvers and services, JSON built by hand (orjson);
  (b) the GraphQL member page (an automatic persisted query, as mobile clients send it);
  (c) recordOrder, a new order and idempotency key per request;
  (e) completeOrder, each request completing its own seeded pending order;
  (f) redeemPoints, one point of a random member, a new idempotency key per request;
  (d) pgbench running the SQL of one earn (BEGIN; UPDATE balance; INSERT ledger row; COMMIT);

then the same (a) and (b) on a second server whose page resolvers answer from memory (the
pure GraphQL layer against the raw route). After each mutation round the rows it wrote are
counted: an answer that wrote nothing (a GraphQL error is a 200) is counted as failed.

    make bench                  (needs wrk, pgbench and psql; LOYALTY_BENCH_PG_URL)
    make bench-scale            100,000 members and 1,000,000 ledger rows against 10,000,
                                paired round by round (--baseline-members)
    make bench-workers          (b) and (c) with LOYALTY_WORKERS=2
    python scripts/bench_member_page.py --seconds 10 --rounds 3 --connections 32
    python scripts/bench_member_page.py --members 100000 --ledger-rows 1000000 --seed-only

A script, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
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
from contextlib import AsyncExitStack, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from bench_campaigns import seed_campaigns
from bench_seed import seed_rows
from cryptography.fernet import Fernet
from redis.asyncio import Redis
from scratch import scratch_database

from api.member_page import MEMBER_PAGE
from db.connection import close_database, migrate, open_database
from domain.auth import Principal, Role
from domain.clock import ProgrammeMode
from domain.coupons import CouponKind, Template
from domain.points import DEMO_POLICY
from domain.recommendations.synthetic import generate
from domain.tiers import BenefitKind, TierDraft
from services import keys as key_service
from services import programmes as programme_service
from services import tiers as tier_service
from services.clock import now_of
from services.coupons import templates as coupon_templates
from services.coupons.templates import TemplateInput
from services.recommendations import catalogue

PROJECT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("LOYALTY_BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
# --baseline-members' server: its own Redis database, as its ids are the same as the main one's
BASELINE_REDIS_URL = os.environ.get("LOYALTY_BENCH_BASELINE_REDIS_URL", "redis://127.0.0.1:6379/10")
# Scratch databases are named this, then a random suffix (dropped at the end).
SCRATCH = os.environ.get("LOYALTY_BENCH_DB_PREFIX", "loyalty_bench_page")
RECORD_ORDER = """
mutation RecordOrder($input: RecordOrderInput!) {
  recordOrder(input: $input) { __typename ... on RecordOrderError { errors { code } } }
}
"""
COMPLETE_ORDER = """
mutation CompleteOrder($input: OrderActionInput!) {
  completeOrder(input: $input) { __typename ... on CompleteOrderError { errors { code } } }
}
"""
REDEEM_POINTS = """
mutation RedeemPoints($input: RedeemPointsInput!) {
  redeemPoints(input: $input) { __typename ... on RedeemPointsError { errors { code } } }
}
"""


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# ---------------------------------------------------------------- data


async def seed(
    url: str, members: int, ledger_rows: int, pending: int, campaigns: int = 0
) -> tuple[int, str]:
    """Everything the page shows for `members` members, `pending` orders for completeOrder
    and `campaigns` active campaigns (scripts/bench_campaigns.py); returns (programme id,
    storefront key)."""
    await migrate(url)
    await open_database(url)
    try:
        programme = await programme_service.create(
            code="bench", name="Bench", currency="CNY", timezone="Asia/Shanghai",
            mode=ProgrammeMode.SANDBOX,
            points_policy=DEMO_POLICY,
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
        products = list(generate(members=1, seed=11, now=now).products.values())  # 500
        await catalogue.upsert(admin, products, idempotency_key="products")
        tier = (await tier_service.programme_tiers(admin))[0]
        key = await key_service.create_key(programme.id, Role.STOREFRONT, label="bench")
        # One key sends thousands of pages a second here: its rate limit is not what is measured.
        await programme_service.set_rate_limit(
            "bench", "storefront", maximum=10**8, restore_rate=10**8
        )
        if campaigns:
            codes = await seed_campaigns(
                programme.id, now, count=campaigns, coupon="20OFF199", timezone=programme.timezone
            )
            print(f"campaigns: {', '.join(codes)}", flush=True)
    finally:
        await close_database()
    await seed_rows(
        dsn_of(url), programme_id=programme.id, tier_id=tier.id, template_id=template.id,
        members=members, ledger_rows=ledger_rows, pending=pending, now=now,
    )  # fmt: skip
    return programme.id, key.secret


def dsn_of(url: str) -> str:
    return url.split("?")[0].replace("postgres://", "postgresql://", 1)


# ---------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    url: str, *, memory: bool, log: Path, workers: int = 1, redis_url: str = REDIS_URL
) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOYALTY_", "PROMETHEUS_"))}
    env.update(
        LOYALTY_DATABASE_URL=url,
        LOYALTY_MODE="production",
        LOYALTY_WEBHOOK_KEYS=Fernet.generate_key().decode(),
        LOYALTY_JWT_SECRET="b" * 40,
        LOYALTY_DATA_DIR=str(log.parent),
        LOYALTY_LOG_LEVEL="WARNING",
        LOYALTY_WORKERS=str(workers),
    )
    if memory:
        env["LOYALTY_BENCH_MEMORY"] = "1"
    else:
        env["LOYALTY_REDIS_URL"] = redis_url
    if workers > 1:
        # As `loyalty serve` does: prometheus-client's multiprocess mode, set up before the
        # workers start, so one scrape sees them all.
        metrics = log.parent / f"prometheus-{log.stem}"
        shutil.rmtree(metrics, ignore_errors=True)
        metrics.mkdir(parents=True)
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench_app:create", "--factory", "--app-dir",
         str(PROJECT / "scripts"), "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers), "--log-level", "warning", "--no-access-log"],
        cwd=PROJECT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                time.sleep(1 if workers > 1 else 0)  # every worker up, not just the first
                return process, base
        except httpx.HTTPError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit(f"the server did not start: {log.read_text()}")


@contextmanager
def serving(
    url: str, *, memory: bool, log: Path, workers: int = 1, redis_url: str = REDIS_URL
) -> Iterator[tuple[subprocess.Popen, str]]:
    server, base = start_server(url, memory=memory, log=log, workers=workers, redis_url=redis_url)
    try:
        yield server, base
    finally:
        server.terminate()
        server.wait(timeout=20)


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


def psql(url: str, sql: str) -> int:
    out = subprocess.run(
        ["psql", "-tAq", "-d", dsn_of(url), "-c", sql], capture_output=True, text=True, check=True
    ).stdout
    return int(out.strip() or 0)


# ---------------------------------------------------------------- load


LUA_COMMON = """
local threads = 0
function setup(thread) thread:set("tid", threads); threads = threads + 1 end
function init(args)
  tid = tonumber(wrk.thread:get("tid")); counter = 0
  math.randomseed(os.time() * 1000 + tid * 7919)
end
"""


def lua_post(key: str, document: str, variables: str) -> str:
    """A persisted query per request; `variables` is a Lua expression of the JSON variables
    (it may use `tid`, `counter` and math.random)."""
    return (
        LUA_COMMON
        + f"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {key}"
request = function()
  counter = counter + 1
  local body = '{{"extensions":{{"persistedQuery":{{"version":1,"sha256Hash":"{sha(document)}"}}}},' ..
    '"variables":' .. {variables} .. '}}'
  return wrk.format(nil, "/graphql", nil, body)
end
"""
    )


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
    return lua_post(key, MEMBER_PAGE, f"""'{{"e":"m-' .. math.random(1, {members}) .. '"}}'""")


def lua_order(key: str, run: str, placed_at: str, members: int) -> str:
    """recordOrder: a new order (and idempotency key) per request."""
    return lua_post(
        key,
        RECORD_ORDER,
        f"""'{{"input":{{"orderId":"{run}-' .. tid .. '-' .. counter .. '","memberExternalId":"m-' ..
    math.random(1, {members}) .. '","placedAt":"{placed_at}","lines":[{{"sku":"coffee-01",' ..
    '"category":"coffee","unitPrice":4990,"quantity":2}},{{"sku":"books-03","category":"books",' ..
    '"unitPrice":5990,"quantity":1}}],"payments":[{{"method":"CARD","amount":15970}}],' ..
    '"idempotencyKey":"{run}-' .. tid .. '-' .. counter .. '"}}}}'""",
    )


def lua_complete(key: str, run: str, first: int, per_thread: int) -> str:
    """completeOrder: each request completes its own seeded pending order (`pend-N`, thread
    t taking N from first + t * per_thread on) with its own idempotency key."""
    n = f"({first} + tid * {per_thread} + counter)"
    return lua_post(
        key,
        COMPLETE_ORDER,
        f"""'{{"input":{{"orderId":"pend-' .. {n} .. '","idempotencyKey":"{run}-' .. {n} .. '"}}}}'""",
    )


def lua_redeem(key: str, run: str, members: int) -> str:
    """redeemPoints: one point of a random member, a new idempotency key per request; the
    reason carries the run, so the rows written can be counted."""
    return lua_post(
        key,
        REDEEM_POINTS,
        f"""'{{"input":{{"memberExternalId":"m-' .. math.random(1, {members}) ..
    '","amount":1,"reason":"{run}","idempotencyKey":"{run}-' .. tid .. '-' .. counter .. '"}}}}'""",
    )


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse_wrk(output: str) -> tuple[float, float, float, int, int]:
    """req/s, p50 ms, p99 ms, non-2xx responses, requests answered."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]

    def pct(p: str) -> float:
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        return float(m.group(1)) * UNITS[m.group(2)] if m else float("nan")

    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    done = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    return rps, pct("50"), pct("99"), int(bad.group(1)) if bad else 0, done


def wrk(base: str, script: str, *, seconds: int, connections: int, tmp: Path) -> tuple:
    path = tmp / f"s{uuid.uuid4().hex[:6]}.lua"
    path.write_text(script)
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(path), base],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return parse_wrk(out)


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its worker processes so far (/proc; Linux).
    A worker restarted during a round drops out of the sum, and the round's figure reads low:
    the server's log says when uvicorn restarted one."""
    total = 0.0
    for p in [pid, *_children(pid)]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime
    return total


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def with_cpu(pid: int, measure) -> tuple:
    """`measure`'s figures and the server's CPU milliseconds per request answered: a figure
    that moves far less than req/s when the machine is busy (wrk, PostgreSQL and Redis are
    not counted, only the server's processes)."""
    before = cpu_seconds(pid)
    figures = measure()
    spent = cpu_seconds(pid) - before
    return (*figures, spent * 1000 / figures[4] if figures[4] else float("nan"))


def checked(measure, written) -> tuple:
    """`measure`'s figures with its failures: requests answered that wrote nothing (a
    GraphQL error answers 200, so wrk cannot tell). `written()` counts what this run wrote;
    requests still in flight when wrk stops may add rows it did not count, hence max(0, ...)."""
    rps, p50, p99, bad, done = measure()
    return rps, p50, p99, bad + max(0, done - written()), done


PGBENCH_EARN = """\\set id random(1, {members})
BEGIN;
UPDATE members SET points_available = points_available + 10 WHERE id = :id;
INSERT INTO point_transactions (programme_id, member_id, kind, bucket, amount, available_after,
  pending_after, reference_type, reference, reason, actor, shortfall, created_at)
  VALUES ({pid}, :id, 'EARN', 'AVAILABLE', 10, 0, 0, 'BENCH', 'pgbench', 'bench', 'bench', 0, now());
COMMIT;
"""


def pgbench(
    url: str, pid: int, members: int, *, seconds: int, connections: int, tmp: Path
) -> tuple:
    script = tmp / "earn.sql"
    script.write_text(PGBENCH_EARN.format(members=members, pid=pid))
    logs = tmp / f"pgb{uuid.uuid4().hex[:6]}"
    logs.mkdir()
    out = subprocess.run(
        ["pgbench", "-n", "-M", "prepared", f"-c{connections}", "-j2", f"-T{seconds}",
         "-f", str(script), "-l", f"--log-prefix={logs}/log", dsn_of(url)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    tps = float(re.search(r"tps = ([\d.]+)", out).group(1))  # type: ignore[union-attr]
    latencies = sorted(
        int(line.split()[2]) / 1000 for f in logs.iterdir() for line in f.read_text().splitlines()
    )
    return tps, latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99)], 0, 0


def interleaved(measures: dict, n: int, results: dict) -> None:
    """n rounds, each running every measure once in turn, so the two sides of a ratio see the
    same machine round by round (on a shared box throughput drifts by a third between
    minutes). Medians per part; each round's figures are kept for paired ratios."""
    runs: dict[str, list] = {part: [] for part in measures}
    for r in range(n):
        for part, measure in measures.items():
            runs[part].append(measure())
            print(f"  round {r + 1} {part}: {runs[part][-1][0]:.0f} req/s", flush=True)
    for part, figures in runs.items():
        results[part] = (
            statistics.median(r[0] for r in figures),
            statistics.median(r[1] for r in figures),
            statistics.median(r[2] for r in figures),
            sum(r[3] for r in figures),
            statistics.median(r[5] if len(r) > 5 else float("nan") for r in figures),
        )
        results.setdefault("rounds", {})[part] = [r[0] for r in figures]


def profile(pid: int, base: str, script: str, load: dict, out: Path) -> None:
    """py-spy's collapsed stacks of the server (all its worker processes) while wrk drives it."""
    spy_bin = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    spy = subprocess.Popen(
        [spy_bin, "record", "-p", str(pid), "--subprocesses", "-d", str(load["seconds"]),
         "-r", "200", "-f", "raw", "-o", str(out), "--nonblocking"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wrk(base, script, **load)
    spy.wait()
    print(f"profile: {out}")


# ---------------------------------------------------------------- main


@dataclass
class Target:
    """One database, seeded, and what a bench needs to drive it."""

    label: str  # "" for the main one, "@10000" for a --baseline-members one
    url: str
    members: int
    redis_url: str
    campaigns: int = 0  # active campaigns seeded (--campaigns: the main one only)
    pid: int = 0
    key: str = ""
    pending_next: int = 1  # the next pending order completeOrder may take


async def seeded(target: Target, args: argparse.Namespace, ledger_rows: int) -> None:
    # one block of pending orders per round, one for a profile of (e), one to spare
    pending = (args.rounds + 2) * args.seconds * COMPLETIONS_PER_SECOND
    started = time.perf_counter()
    print(f"seeding {target.members:,} members, {ledger_rows:,} ledger rows{target.label}")
    # A task of its own: tortoise keeps its context in a context variable, which a task
    # copies, so a second seeding in this process starts from a clean one.
    seeding = asyncio.create_task(
        seed(target.url, target.members, ledger_rows, pending, target.campaigns)
    )
    target.pid, target.key = await seeding
    print(f"seed{target.label}: {time.perf_counter() - started:.0f} s (not measured)", flush=True)


async def main(args: argparse.Namespace) -> None:
    for tool in ("wrk", "pgbench", "psql"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed (Debian: apt-get install {tool})")
    for redis_url in (REDIS_URL, BASELINE_REDIS_URL) if args.baseline_members else (REDIS_URL,):
        redis = Redis.from_url(redis_url)
        await redis.flushdb()
        await redis.aclose()
    tmp = Path(tempfile.mkdtemp(prefix="loyalty-bench-"))
    ledger_rows = args.ledger_rows or args.members * 10
    parts = set(args.parts.split(","))
    if args.profile and ("memory" if args.profile_part == "b'" else args.profile_part) not in parts:
        raise SystemExit(f"--profile-part {args.profile_part} is not among --parts")
    query = f"?maxsize={args.pool}"
    async with AsyncExitStack() as stack:
        url = await stack.enter_async_context(scratch_database(SCRATCH, query=query))
        targets = [Target("", url, args.members, REDIS_URL, campaigns=args.campaigns)]
        await seeded(targets[0], args, ledger_rows)
        if args.baseline_members:
            other = await stack.enter_async_context(scratch_database(SCRATCH, query=query))
            targets.append(
                Target(
                    f"@{args.baseline_members}", other, args.baseline_members, BASELINE_REDIS_URL
                )
            )
            await seeded(targets[1], args, args.baseline_members * 10)
        if args.seed_only:
            return
        load = {"seconds": args.seconds, "connections": args.connections, "tmp": tmp}
        results: dict = {}
        if parts & set(DATABASE_PARTS):
            with ExitStack() as servers:
                for target in targets:
                    log = tmp / f"server{target.label.strip('@')}.log"
                    server, base = servers.enter_context(
                        serving(
                            target.url,
                            memory=False,
                            log=log,
                            workers=args.workers,
                            redis_url=target.redis_url,
                        )
                    )
                    target_measures = prepare_database(target, base, args, load, parts, server.pid)
                    if not target.label:
                        main_server, main_base, measures = server, base, target_measures
                    else:
                        measures.update(target_measures)
                interleaved(measures, args.rounds, results)
                if args.profile and args.profile_part in parts - {"memory"}:
                    script = SCRIPTS[args.profile_part](targets[0], args, "profile")
                    profile(main_server.pid, main_base, script, load, Path(args.profile))
        if "memory" in parts:
            with serving(url, memory=True, log=tmp / "memory.log") as (server, base):
                measure_memory(server, base, targets[0].key, args, load, results)
    report(args, results, ledger_rows)


COMPLETIONS_PER_SECOND = 2_500  # pending orders seeded per second of completeOrder rounds
DATABASE_PARTS = ("a", "b", "c", "d", "e", "f")
NAMES = {
    "a": "(a) raw member page, orjson",
    "b": "(b) GraphQL member page (APQ)",
    "c": "(c) recordOrder mutation",
    "e": "(e) completeOrder mutation",
    "f": "(f) redeemPoints mutation",
    "d": "(d) pgbench: one earn's SQL",
    "a'": "(a') raw page, data in memory",
    "b'": "(b') GraphQL page, data in memory",
}


def placed_at() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 60))


def next_pending(target: Target, args) -> tuple[int, int]:
    """A block of pending orders for one round of completeOrder: (first, per thread)."""
    per_thread = args.seconds * COMPLETIONS_PER_SECOND // 2
    first = target.pending_next - 1
    target.pending_next += 2 * per_thread
    return first, per_thread


# Each part's wrk script for a target; `run` names what one round writes.
SCRIPTS = {
    "a": lambda t, args, run: lua_raw(t.key, t.members),
    "b": lambda t, args, run: lua_page(t.key, t.members),
    "c": lambda t, args, run: lua_order(t.key, run, placed_at(), t.members),
    "e": lambda t, args, run: lua_complete(t.key, run, *next_pending(t, args)),
    "f": lambda t, args, run: lua_redeem(t.key, run, t.members),
}
# What a mutation's round wrote: (SQL counting it, counted before and after the round?)
WRITTEN = {
    "c": ("SELECT count(*) FROM orders WHERE order_ref LIKE '{run}-%'", False),
    "e": (
        "SELECT count(*) FROM orders WHERE order_ref LIKE 'pend-%' AND status = 'COMPLETED'",
        True,
    ),
    "f": (
        "SELECT count(*) FROM point_transactions WHERE kind = 'REDEEM' AND reason = '{run}'",
        False,
    ),
}


def prepare_database(
    target: Target, base: str, args, load: dict, parts: set, server_pid: int
) -> dict:
    """Warm the server up (documents registered, caches filled) and return this target's
    measures, each checked against what it wrote where a mutation is measured."""
    key, url = target.key, target.url
    page = register(base, key, MEMBER_PAGE, {"e": "m-1"})
    raw = httpx.get(f"{base}/raw/member/m-1", headers={"Authorization": f"Bearer {key}"})
    if raw.json() != {k: v for k, v in page.items() if k != "extensions"}:  # (the cost)
        raise SystemExit(f"the raw page and the GraphQL page differ: {raw.text} {page}")
    print(f"member page{target.label}: {len(raw.content)} bytes of JSON")
    warm = {
        "orderId": "warm-1",
        "memberExternalId": "m-1",
        "placedAt": placed_at(),
        "lines": [{"sku": "coffee-01", "category": "coffee", "unitPrice": 100, "quantity": 1}],
        "payments": [{"method": "CARD", "amount": 100}],
        "idempotencyKey": "warm-1",
    }
    register(base, key, RECORD_ORDER, {"input": warm})
    done = register(
        base, key, COMPLETE_ORDER, {"input": {"orderId": "warm-1", "idempotencyKey": "warm-2"}}
    )
    assert done["data"]["completeOrder"]["__typename"] == "OrderSuccess", done
    spent = register(
        base,
        key,
        REDEEM_POINTS,
        {
            "input": {
                "memberExternalId": "m-1",
                "amount": 1,
                "reason": "warm",
                "idempotencyKey": "warm-3",
            }
        },
    )
    assert spent["data"]["redeemPoints"]["__typename"] == "TransactionSuccess", spent
    wrk(
        base,
        lua_page(key, target.members),
        seconds=3,
        connections=args.connections,
        tmp=load["tmp"],
    )
    measures: dict = {}
    for part in DATABASE_PARTS:
        if part not in parts:
            continue
        name = part + target.label
        if part == "d":
            measures[name] = lambda: pgbench(url, target.pid, target.members, **load)
        elif part in WRITTEN:
            measures[name] = lambda p=part: with_cpu(
                server_pid, lambda: _written(base, target, args, load, p)
            )
        else:
            measures[name] = lambda p=part: with_cpu(
                server_pid, lambda: wrk(base, SCRIPTS[p](target, args, ""), **load)
            )
    return measures


def _written(base: str, target: Target, args, load: dict, part: str) -> tuple:
    """A mutation's round, with the rows it wrote counted."""
    run = uuid.uuid4().hex[:8]
    script = SCRIPTS[part](target, args, run)
    sql, difference = WRITTEN[part]
    sql = sql.format(run=run)
    before = psql(target.url, sql) if difference else 0
    return checked(lambda: wrk(base, script, **load), lambda: psql(target.url, sql) - before)


def measure_memory(server, base: str, key: str, args, load: dict, results: dict) -> None:
    hot = 200  # the in-memory server keeps this many members' pages
    register(base, key, MEMBER_PAGE, {"e": "m-1"})
    for m in range(1, hot + 1):
        httpx.get(f"{base}/raw/member/m-{m}", headers={"Authorization": f"Bearer {key}"})
    wrk(base, lua_page(key, hot), seconds=3, connections=args.connections, tmp=load["tmp"])
    measures = {
        "a'": lambda: with_cpu(server.pid, lambda: wrk(base, lua_raw(key, hot), **load)),
        "b'": lambda: with_cpu(server.pid, lambda: wrk(base, lua_page(key, hot), **load)),
    }
    interleaved(measures, args.rounds, results)
    if args.profile and args.profile_part == "b'":
        profile(server.pid, base, lua_page(key, hot), load, Path(args.profile))


# (numerator, denominator, label, target): the ratios (b/a is kept for its history)
RATIOS = [
    ("b'", "a'", "b'/a'", 0.35),
    ("c", "d", "c/d  ", 0.15),
    ("e", "d", "e/d  ", None),
    ("f", "d", "f/d  ", None),
    ("b", "a", "b/a  ", None),
]
# (part, what, target, higher is better)
ABSOLUTE = [
    ("b", "req/s", 600, True),
    ("b", "p99 ms", 100, False),
    ("c", "req/s", 1_200, True),
]


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def paired(results: dict, x: str, y: str) -> list[float]:
    rounds = results["rounds"]
    return [n / d for n, d in zip(rounds[x], rounds[y], strict=False) if d]


def report(args, results: dict, ledger_rows: int) -> None:
    workers = (
        f"{args.workers} uvicorn workers ((a') and (b'): one)"
        if args.workers > 1
        else "one uvicorn worker"
    )
    print(f"\n{args.connections} connections, {args.rounds} interleaved rounds of {args.seconds} s, "
          f"medians; {workers}; PostgreSQL + Redis; {args.members:,} members, "
          f"{ledger_rows:,} ledger rows")  # fmt: skip
    print(f"{'':40}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'failed':>9}{'CPU ms':>9}")
    labels = [""] + ([f"@{args.baseline_members}"] if args.baseline_members else [])
    for label in labels:
        for k, name in NAMES.items():
            if k + label in results:
                rps, p50, p99, bad, cpu = results[k + label]
                print(f"{name + label:40}{rps:10.0f}{p50:9.1f}{p99:9.1f}{bad:9d}{cpu:9.2f}")
    print(
        "(failed: non-2xx answers, and mutations answered that wrote nothing; CPU ms: the "
        "server's CPU time per request answered, its worker processes included)\n"
    )
    for x, y, label, target in RATIOS:
        if x in results and y in results:
            ratios = paired(results, x, y)
            aim = (
                f"target >= {target}: {verdict(statistics.median(ratios) >= target)}; "
                if target
                else ""
            )
            print(f"{label} = {statistics.median(ratios):.3f}   ({aim}rounds "
                  f"{min(ratios):.3f}-{max(ratios):.3f})")  # fmt: skip
    for part, what, target, higher in ABSOLUTE:
        if part in results:
            rps, _, p99, _, _ = results[part]
            value = rps if what == "req/s" else p99
            met = value >= target if higher else value <= target
            sign = ">=" if higher else "<="
            print(f"({part}) {what} = {value:.1f}   (target {sign} {target}: {verdict(met)})")
    if args.baseline_members and args.campaigns:
        print(f"\ncampaigns: {args.campaigns} active campaigns against none (@{args.baseline_members}), "
              "paired by round (target: within 15%, i.e. >= 0.85)")  # fmt: skip
    elif args.baseline_members:
        print(f"\nscale: {args.members:,} members against {args.baseline_members:,}, paired "
              "by round (target: within 15%, i.e. >= 0.85)")  # fmt: skip
    if args.baseline_members:
        for part in DATABASE_PARTS:
            other = f"{part}@{args.baseline_members}"
            if part in results and other in results:
                ratios = paired(results, part, other)
                ratio = statistics.median(ratios)
                print(f"({part}) {ratio:.2f}   ({verdict(ratio >= 0.85)}; rounds "
                      f"{min(ratios):.3f}-{max(ratios):.3f})")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--pool", type=int, default=10, help="database pool per worker")
    parser.add_argument(
        "--parts", default="a,b,c,d,e,f,memory",
        help="what to measure: a, b, c, d, e, f and/or memory (a' and b')",
    )  # fmt: skip
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument(
        "--ledger-rows", type=int, default=0, help="ledger rows in all (default: 10 a member)"
    )
    parser.add_argument(
        "--baseline-members", type=int, default=0,
        help="also seed this many members (10 ledger rows each) in a second database and "
        "measure the same parts on it in the same rounds: the scale ratios",
    )  # fmt: skip
    parser.add_argument(
        "--workers", type=int, default=1, help="uvicorn workers (LOYALTY_WORKERS) of the server"
    )
    parser.add_argument(
        "--campaigns", type=int, default=0,
        help="active campaigns in the main database (scripts/bench_campaigns.py; up to 22, the "
        "last two reward the bench's orders); with --baseline-members, that one has none",
    )  # fmt: skip
    parser.add_argument("--seed-only", action="store_true", help="seed, time it, and stop")
    parser.add_argument("--profile", help="write py-spy's collapsed stacks of one part here")
    parser.add_argument(
        "--profile-part", default="b'", choices=["a", "b", "c", "e", "f", "b'"],
        help="the part profiled",
    )  # fmt: skip
    asyncio.run(main(parser.parse_args()))
