"""What the audit row costs a storefront's recordOrder: the same orders recorded through the
ASGI app with the audit wrapper on and off (member tokens are never audited). PostgreSQL,
one process, sequential requests. A script, not a test: it prints what it measured.

    .venv/bin/python scripts/bench_audit.py [--orders 400]   (LOYALTY_BENCH_PG_URL)
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid

import httpx
from scratch import scratch_database

import schema.audit as audit_schema
from api.app import create_app
from api.settings import load
from db.cache import configure_cache
from db.connection import close_database, migrate, open_database
from db.models import AuditEntry
from domain.auth import Principal, Role
from domain.clock import ProgrammeMode
from services import keys as key_service
from services import members as member_service
from services import programmes as programme_service
from services.members import ProfileInput

RECORD = """mutation ($input: RecordOrderInput!) { recordOrder(input: $input) {
  __typename ... on OrderSuccess { order { id points } } } }"""


async def run(orders: int) -> None:
    async with scratch_database("loyalty_bench_audit") as url:
        await migrate(url)
        await open_database(url)
        configure_cache(None)
        try:
            programme = await programme_service.create(
                code="bench", name="Bench", currency="CNY", timezone="UTC",
                mode=ProgrammeMode.SANDBOX,
            )  # fmt: skip
            key = await key_service.create_key(programme.id, Role.STOREFRONT, label="bench")
            staff = Principal(programme_id=programme.id, role=Role.ADMIN, key_id=-1)
            member = await member_service.register(
                staff, external_id="m-1", profile=ProfileInput(display_name="M"),
                idempotency_key="m-1",
            )  # fmt: skip
            settings = load(
                {"LOYALTY_JWT_SECRET": "b" * 32, "LOYALTY_DATA_DIR": "/tmp/bench-audit"}
            )
            app = create_app(settings, manage_database=False)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://b") as client:

                async def one() -> float:
                    body = {
                        "query": RECORD,
                        "variables": {"input": {
                            "orderId": uuid.uuid4().hex, "memberExternalId": member.external_id,
                            "placedAt": "2026-11-30T10:00:00+08:00",
                            "lines": [{"sku": "a", "category": "c", "unitPrice": 10_000,
                                       "quantity": 1}],
                            "payments": [{"method": "CARD", "amount": 10_000}],
                            "idempotencyKey": uuid.uuid4().hex}},
                    }  # fmt: skip
                    started = time.perf_counter()
                    response = await client.post(
                        "/graphql", json=body, headers={"Authorization": f"Bearer {key.secret}"}
                    )
                    elapsed = time.perf_counter() - started
                    assert response.json()["data"]["recordOrder"]["__typename"] == "OrderSuccess"
                    return elapsed

                real = audit_schema.is_audited
                results: dict[str, list[float]] = {"audited": [], "not audited": []}
                for _ in range(50):  # warm-up
                    await one()
                for round_ in range(orders):
                    on = round_ % 2 == 0  # interleaved, so drift hits both alike
                    audit_schema.is_audited = real if on else (lambda principal: False)  # type: ignore[assignment]
                    results["audited" if on else "not audited"].append(await one())
                audit_schema.is_audited = real
            rows = await AuditEntry.filter(programme_id=programme.id).count()
            for name, times in results.items():
                ms = sorted(t * 1000 for t in times)
                print(
                    f"{name:12} recordOrder: median {statistics.median(ms):.2f} ms, "
                    f"p95 {ms[int(len(ms) * 0.95)]:.2f} ms over {len(ms)} requests"
                )
            print(f"audit rows written: {rows}")
        finally:
            await close_database()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=400)
    asyncio.run(run(parser.parse_args().orders))


if __name__ == "__main__":
    main()
