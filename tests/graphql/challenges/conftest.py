"""Fixtures of the challenge API tests."""

from __future__ import annotations

import pytest

from domain.auth import Role


@pytest.fixture
async def admin(programme, make_key) -> str:
    return await make_key(programme, Role.ADMIN)


@pytest.fixture
async def storefront(programme, make_key) -> str:
    return await make_key(programme, Role.STOREFRONT)
