"""services.unique.created: a create that loses a race for its code answers ALREADY_EXISTS, as
the look-up before it would have; any other integrity error is raised as it was."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tortoise.exceptions import IntegrityError

from db.repositories import members as member_repo
from domain.errors import AlreadyExists
from services.unique import created

NOW = datetime(2026, 12, 3, tzinfo=UTC)


async def test_a_code_the_unique_index_refuses_is_already_exists(programme):
    # given a member made under an external id (as the look-up would not have seen: no look-up)
    await member_repo.create(
        programme_id=programme.id, external_id="race-1", joined_at=NOW, display_name="A"
    )
    # when a second create under the same external id reaches the index
    with pytest.raises(AlreadyExists) as refused:
        await created(
            member_repo.create(
                programme_id=programme.id, external_id="race-1", joined_at=NOW, display_name="B"
            ),
            "a member with this externalId exists",
            field="externalId",
        )
    # then the answer names the field, and the row made first is the only one
    assert refused.value.field == "externalId"
    assert str(refused.value) == "a member with this externalId exists"
    assert await member_repo.get_by_external_id(programme.id, "race-1") is not None


async def test_any_other_integrity_error_is_not_explained_away():
    async def insert() -> None:
        raise IntegrityError("NOT NULL constraint failed: members.external_id")

    with pytest.raises(IntegrityError):
        await created(insert(), "never said")
