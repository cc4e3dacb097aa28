"""Start-up settles the cyclic garbage collector: what start-up built is frozen out of its
scans, and its thresholds are the server's (api/app.py COLLECTOR_THRESHOLDS, measured in
BENCHMARKS.md)."""

from __future__ import annotations

import gc

from api.app import COLLECTOR_THRESHOLDS, create_app
from tests.fixtures.graphql import test_settings as settings_with


async def test_start_up_freezes_what_it_built_and_sets_the_server_s_thresholds():
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    gc.unfreeze()
    app = create_app(settings_with(), manage_database=False)
    try:
        async with app.router.lifespan_context(app):
            assert gc.get_threshold() == COLLECTOR_THRESHOLDS != (700, 10, 10)
            assert gc.get_freeze_count() > 1000
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
