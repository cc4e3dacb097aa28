"""Fixtures of the rewards catalogue tests."""

from __future__ import annotations

import pytest

from domain.auth import Role


@pytest.fixture
async def keys(programme, make_key) -> tuple[str, str]:
    """(admin, storefront) keys of the `programme` (three tiers: BRONZE, SILVER, GOLD)."""
    return await make_key(programme, Role.ADMIN), await make_key(programme, Role.STOREFRONT)
