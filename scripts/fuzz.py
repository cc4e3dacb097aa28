"""`make fuzz`: schemathesis over every query and mutation of a real server (RELIABILITY 28).

Starts `loyalty serve` in production mode on a free port, on a fresh SQLite file (or, with
`--postgres URL`, on a scratch database it creates on that PostgreSQL and drops afterwards),
seeds the demo programme, lifts the demo programme's rate limits out of the way, then sends
every operation of schema.graphql, as schemathesis generates it (valid documents with random
arguments, and invalid ones), with the storefront key and with the admin key. Prints the
requests sent, the answers with HTTP 5xx and the errors without `extensions.code`; exits
non-zero if either is not 0.

    make fuzz                          (about four minutes)
    .venv/bin/python scripts/fuzz.py --examples 5 --postgres postgres://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import requests
import schemathesis
from cryptography.fernet import Fernet
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode

ROOT = Path(__file__).resolve().parent.parent
LIFTED = ("--maximum", "100000000", "--restore-rate", "100000000")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def loyalty(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=600,
    )


@contextmanager
def scratch_database(postgres: str | None, data_dir: Path) -> Iterator[str]:
    if postgres is None:
        yield f"sqlite://{data_dir / 'fuzz.sqlite3'}"
        return
    name = f"loyalty_fuzz_{uuid.uuid4().hex[:8]}"
    admin = postgres.replace("postgres://", "postgresql://", 1)

    async def run(statement: str) -> None:
        connection = await asyncpg.connect(admin)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    try:
        yield postgres.rsplit("/", 1)[0] + "/" + name
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def server(env: dict[str, str], log: Path) -> Iterator[str]:
    port = free_port()
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve"],
            cwd=ROOT,
            env={**env, "LOYALTY_PORT": str(port), "LOYALTY_HOST": "127.0.0.1"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(150):
                try:
                    if requests.get(f"{base}/healthz", timeout=1).ok:
                        break
                except requests.ConnectionError:
                    time.sleep(0.2)
            else:
                raise SystemExit(f"the server did not start; see {log}")
            yield base
        finally:
            process.terminate()
            process.wait(timeout=10)


def read_keys(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {name: value for name, value in pairs}


class Tally:
    def __init__(self) -> None:
        self.sent = 0
        self.server_errors = 0
        self.without_code = 0
        self.codes: Counter[str] = Counter()
        self.examples: list[str] = []

    def record(self, label: str, case: Any, response: Any) -> None:
        self.sent += 1
        if response.status_code >= 500:
            self.server_errors += 1
            self._example(label, case, f"HTTP {response.status_code}: {response.text[:300]}")
        try:
            body = response.json()
        except ValueError:
            self.without_code += 1
            self._example(label, case, f"not JSON: {response.text[:300]}")
            return
        for error in (body.get("errors") if isinstance(body, dict) else None) or []:
            code = (error.get("extensions") or {}).get("code")
            if code:
                self.codes[code] += 1
            else:
                self.without_code += 1
                self._example(label, case, f"no code: {error}")

    def _example(self, label: str, case: Any, what: str) -> None:
        if len(self.examples) < 20:
            self.examples.append(f"{label}: {what}\n    body: {str(case.body)[:400]}")


def fuzz(base: str, keys: dict[str, str], examples: int, tally: Tally) -> None:
    schema = schemathesis.graphql.from_path(ROOT / "schema.graphql")
    operations = [result.ok() for result in schema.get_all_operations()]
    session = requests.Session()

    def run(operation: Any, mode: GenerationMode, label: str) -> None:
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def send(case: Any) -> None:
            response = case.call(base_url=f"{base}/graphql", headers=headers, session=session)
            tally.record(label, case, response)

        send()

    for role, key in keys.items():
        headers = {"Authorization": f"Bearer {key}"}
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                run(operation, mode, f"{role} {operation.label} {mode.value}")
        print(f"  {role}: {tally.sent} requests so far", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=25, help="per operation, key and mode")
    parser.add_argument("--postgres", help="a PostgreSQL URL to make a scratch database on")
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="loyalty-fuzz-") as tmp:
        data_dir = Path(tmp)
        with scratch_database(args.postgres, data_dir) as database_url:
            env = {k: v for k, v in os.environ.items() if not k.startswith("LOYALTY_")}
            env.update(
                LOYALTY_DATABASE_URL=database_url,
                LOYALTY_DATA_DIR=str(data_dir),
                LOYALTY_MODE="production",
                LOYALTY_WEBHOOK_KEYS=Fernet.generate_key().decode(),
                LOYALTY_JWT_SECRET=uuid.uuid4().hex * 2,
                LOYALTY_LOG_LEVEL="WARNING",
            )
            print(f"database: {database_url.split('@')[-1]}; seeding the demo programme")
            loyalty(env, "migrate")
            loyalty(env, "seed-demo", "--members", "10")
            for role in ("admin", "storefront"):
                loyalty(env, "set-rate-limit", "demo", role, *LIFTED)
            demo = read_keys(data_dir / "demo-keys.env")
            keys = {
                "storefront": demo["LOYALTY_STOREFRONT_KEY"],
                "admin": demo["LOYALTY_ADMIN_KEY"],
            }
            tally = Tally()
            log = data_dir / "server.log"
            with server(env, log) as base:
                fuzz(base, keys, args.examples, tally)
            server_log = log.read_text()
    print(f"\nrequests sent: {tally.sent} in {time.monotonic() - started:.0f} s")
    print(f"responses with HTTP 5xx: {tally.server_errors}")
    print(f"errors without extensions.code: {tally.without_code}")
    print("error codes seen: " + ", ".join(f"{c} {n}" for c, n in tally.codes.most_common()))
    print(f"server log: {server_log.count(' ERROR ')} ERROR lines")
    for example in tally.examples:
        print("  " + example)
    return 1 if tally.server_errors or tally.without_code else 0


if __name__ == "__main__":
    sys.exit(main())
