"""Creating a row under a unique code (or external id): the service first looks the code up and
answers ALREADY_EXISTS; this is the same answer when a concurrent create took the code between
that look and the insert, and the unique index refused the second."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from tortoise.exceptions import IntegrityError

from db.connection import is_unique_violation
from domain.errors import AlreadyExists

T = TypeVar("T")


async def created(insert: Awaitable[T], message: str, *, field: str = "code") -> T:
    """What `insert` returns; AlreadyExists(message) naming `field` when a unique index refused
    it. Any other integrity error is not ours to explain, and is raised as it is."""
    try:
        return await insert
    except IntegrityError as error:
        if not is_unique_violation(error):
            raise
        raise AlreadyExists(message, field=field) from error
