"""The commands that need no database: serve (uvicorn on LOYALTY_HOST:LOYALTY_PORT, with
prometheus-client's multiprocess mode for several workers) and print-schema (the GraphQL
schema as SDL)."""

from __future__ import annotations

import argparse
import os
import sys

from api.settings import Settings


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    if settings.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # One scrape must see every worker: prometheus-client's multiprocess mode, set up
        # before the workers start (they inherit the environment).
        from api.metrics import prepare_multiprocess_dir

        prepare_multiprocess_dir(settings.data_dir / "prometheus")
    uvicorn.run(
        "api.app:create_app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level=settings.log_level.lower(),
        log_config=None,  # api/logs.py: ours, in every worker
        access_log=False,  # api/observe.py writes one line per request, in every mode
    )
    return 0


def cmd_print_schema(settings: Settings | None, args: argparse.Namespace) -> int:
    from schema import sdl

    sys.stdout.write(sdl())
    return 0
