"""CPU time the access log and the request metrics (api/observe.py) add to one request (a
script, not a test): the observer around a bare ASGI app that answers at once, its JSON
lines written to /dev/null, against the bare app alone.

    .venv/bin/python scripts/bench_observe.py [--requests 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from types import SimpleNamespace
from typing import Any

from strawberry.http import GraphQLRequestData

from api import logs
from api.observe import RequestObserver, graphql_request

OPERATION = GraphQLRequestData(
    query="query MemberPage { __typename }",
    variables=None,
    operation_name=None,
    extensions=None,
    protocol="http",
)
SCOPE = {
    "type": "http",
    "method": "POST",
    "path": "/graphql",
    "headers": [(b"x-request-id", b"bench-1")],
    "query_string": b"",
}


async def bare(scope: Any, receive: Any, send: Any) -> None:
    graphql_request(None, [OPERATION], [SimpleNamespace(errors=None)])
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def send(message: Any) -> None:
    return None


async def cpu_per_request(app: Any, requests: int) -> float:
    started = time.process_time()
    for _ in range(requests):
        await app(dict(SCOPE), receive, send)
    return (time.process_time() - started) / requests * 1e6


async def main(requests: int) -> None:
    with open(os.devnull, "w") as sink:
        logs.configure("INFO", "json", stream=sink)
        observed = RequestObserver(bare)
        for _ in range(3):
            alone = await cpu_per_request(bare, requests)
            around = await cpu_per_request(observed, requests)
            print(f"bare app {alone:6.1f} us, with the observer {around:6.1f} us (CPU a request)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=20_000)
    asyncio.run(main(parser.parse_args().requests))
