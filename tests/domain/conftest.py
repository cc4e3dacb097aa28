"""Domain tests are pure: they replace the session's database and cache with nothing, so
`pytest tests/domain` (and `make mutation`, which runs them once per mutant) needs neither."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

# `make mutation` (--hypothesis-profile=mutation): the same examples for every mutant, and no
# failure but a wrong answer, so a mutant is killed by the tests' assertions, never by luck,
# a slow box (deadline, health checks) or an example another mutant left in the database.
settings.register_profile(
    "mutation",
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="session", autouse=True)
def database() -> None:
    return None


@pytest.fixture(scope="session", autouse=True)
def cache() -> None:
    return None
