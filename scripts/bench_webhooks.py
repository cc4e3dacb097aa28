"""Webhook delivery throughput and latency (issue 15): 10,000 events through one deliverer to a
local receiver, on a scratch PostgreSQL database.

Three processes, as in production: this one writes the events (transactions of `--per-commit`,
noting when each committed), one `loyalty deliver-webhooks`, and a receiver on loopback that
notes when each `webhook-id` arrived. Prints events/s (first commit to last receipt) and the
percentiles of commit-to-receipt. A script, not a test.

    python scripts/bench_webhooks.py --events 10000
    python scripts/bench_webhooks.py --events 2000 --rate 40 --per-commit 1  # latency, no backlog
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography.fernet import Fernet
from scratch import scratch_database

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))


def receive(port: int, out: Path) -> None:
    """The receiver process: 200 to everything; `id time` per request, written at SIGTERM."""
    import signal

    lines: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver behind a proxy
        # Headers and body go out in two writes; with Nagle on, the second waits for the
        # client's delayed ACK (40 ms a request). Real servers write once or set this.
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            lines.append(f"{self.headers['webhook-id']} {time.time()}")
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True

    def stop(*_: object) -> None:
        out.write_text("\n".join(lines) + "\n")
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    server.serve_forever()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def received(out: Path) -> int:
    return len(out.read_text().splitlines()) if out.exists() else 0


async def bench(events: int, per_commit: int, rate: float | None) -> None:
    from tortoise.transactions import in_transaction

    from db.connection import close_database, migrate, open_database
    from domain.auth import Principal, Role
    from domain.clock import ProgrammeMode
    from services import events as event_service
    from services import programmes as programme_service
    from services.clock import wall_now
    from services.webhooks import config as webhook_config
    from services.webhooks import endpoints

    key = Fernet.generate_key().decode()
    async with scratch_database("bench_webhooks") as url:
        await migrate(url)
        await open_database(url)
        webhook_config.configure(webhook_config.DeliveryConfig(), secret_keys=[key])
        tmp = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
        port, out = free_port(), tmp / "received.txt"
        receiver = subprocess.Popen([sys.executable, __file__, "--receive", str(port), str(out)])
        programme = await programme_service.create(
            code=f"bench-{uuid.uuid4().hex[:6]}",
            name="Bench",
            currency="CNY",
            timezone="UTC",
            mode=ProgrammeMode.SANDBOX,
        )
        admin = Principal(programme_id=programme.id, role=Role.ADMIN, key_id=-1)
        await endpoints.create(
            admin,
            url=f"http://127.0.0.1:{port}/hooks",
            event_types=[],
            description="bench",
            idempotency_key="bench",
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("LOYALTY_")}
        env.update(
            LOYALTY_DATABASE_URL=url,
            LOYALTY_WEBHOOK_KEYS=key,
            LOYALTY_DATA_DIR=str(tmp),
            LOYALTY_LOG_LEVEL="WARNING",
        )
        deliverer = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "deliver-webhooks"], cwd=PROJECT, env=env
        )
        time.sleep(2)  # let both start
        committed: dict[str, float] = {}
        started = time.time()
        for first in range(0, events, per_commit):
            ids = []
            async with in_transaction():
                for n in range(first, min(first + per_commit, events)):
                    event_id = await event_service.record(
                        programme.id,
                        "member.updated",
                        {"version": 1, "n": n},
                        occurred_at=wall_now(),
                    )
                    ids.append(str(event_id))
            at = time.time()
            committed.update(dict.fromkeys(ids, at))
            if rate:  # paced: the next commit when this many events a second say so
                await asyncio.sleep(max(0.0, started + len(committed) / rate - time.time()))
        written = time.time() - started
        # wait until the receiver has them all (it writes its log when stopped: poll the DB)
        from db.models import WebhookDelivery

        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            done = await WebhookDelivery.filter(status="succeeded").count()
            if done >= events:
                break
            await asyncio.sleep(0.2)
        deliverer.terminate()
        deliverer.wait(timeout=60)
        receiver.terminate()
        receiver.wait(timeout=30)
        arrivals: dict[str, float] = {}
        for line in out.read_text().split("\n"):
            if line:
                webhook_id, at_text = line.split()
                arrivals.setdefault(webhook_id, float(at_text))
        latencies = sorted((arrivals[i] - committed[i]) * 1000 for i in committed if i in arrivals)
        last = max(arrivals.values())
        print(
            f"events written: {events} in {written:.2f} s ({events / written:.0f}/s, "
            f"{per_commit} per commit)"
        )
        requests = len(out.read_text().splitlines())
        print(f"received: {len(arrivals)} distinct webhook-ids ({requests} requests)")
        print(
            f"throughput: {len(arrivals) / (last - started):.0f} events/s "
            f"(first commit to last receipt, one deliverer)"
        )
        q = statistics.quantiles(latencies, n=100)
        print(
            f"commit to receipt: p50 {q[49]:.0f} ms, p90 {q[89]:.0f} ms, p99 {q[98]:.0f} ms, "
            f"max {latencies[-1]:.0f} ms"
        )
        await close_database()


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--receive":
        receive(int(sys.argv[2]), Path(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--per-commit", type=int, default=20)
    parser.add_argument(
        "--rate", type=float, help="write this many events a second (default: as fast as it can)"
    )
    args = parser.parse_args()
    asyncio.run(bench(args.events, args.per_commit, args.rate))


if __name__ == "__main__":
    main()
