"""Fixtures of the campaign API tests."""

from __future__ import annotations

import pytest

from domain.auth import Role


@pytest.fixture
async def admin(programme, make_key) -> str:
    """An admin key of the `programme` (three tiers: BRONZE, SILVER, GOLD)."""
    return await make_key(programme, Role.ADMIN)
