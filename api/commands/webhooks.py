"""The long-running commands: deliver-webhooks, and worker (webhook deliveries and the periodic
jobs on a schedule) until SIGINT or SIGTERM; and generate-webhook-key, which prints a key for
LOYALTY_WEBHOOK_KEYS."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable

from api.commands.common import _with_db
from api.settings import Settings
from api.webhook_setup import configure_webhooks


async def cmd_deliver_webhooks(settings: Settings, args: argparse.Namespace) -> int:
    from services.webhooks.worker import Deliverer

    async def work() -> int:
        configure_webhooks(settings, **_delivery_options(args))
        await _until_signalled(lambda stop: Deliverer().run(stop))
        return 0

    return await _with_db(settings, work)


async def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    from services.schedule import run_scheduled
    from services.webhooks.worker import Deliverer

    async def work() -> int:
        configure_webhooks(settings, **_delivery_options(args))

        async def both(stop: asyncio.Event) -> None:
            await asyncio.gather(
                Deliverer().run(stop),
                run_scheduled(stop, settings.database_url, jobs_every=args.jobs_every),
            )

        await _until_signalled(both)
        return 0

    return await _with_db(settings, work)


def _delivery_options(args: argparse.Namespace) -> dict[str, object]:
    return {
        "lease_seconds": args.lease_seconds,
        "concurrency": args.concurrency,
        "per_endpoint": args.per_endpoint,
    }


async def _until_signalled(run: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Until SIGINT or SIGTERM; then the requests in flight finish (at most the timeout)."""
    import signal

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    print("delivering webhooks; stop with Ctrl-C", flush=True)
    await run(stop)


def cmd_generate_webhook_key(settings: Settings | None, args: argparse.Namespace) -> int:
    from services.webhooks.secrets import generate_key

    print(generate_key())
    return 0
