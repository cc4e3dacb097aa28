"""A programme's points, abuse and tier policies are parsed once per stored value, not on every
request (services.parsed), and a changed value is never served from what was parsed before."""

from __future__ import annotations

from db.repositories import programmes as programme_repo
from domain.points import PointsPolicy
from services import abuse
from services.parsed import parsed
from services.points import ledger
from services.points import policy as points_policy_service
from services.tier_evaluation import measure as tier_measure
from tests.conftest import needs_redis
from tests.fixtures.factories import admin_of


@needs_redis
async def test_copies_of_the_kept_row_share_one_parsed_policy(programme, listening):
    first = await programme_repo.get(programme.id)
    second = await programme_repo.get(programme.id)
    assert first is not second
    assert ledger.policy_of(first) is ledger.policy_of(second)
    assert abuse.policy_of(first) is abuse.policy_of(second)
    assert tier_measure.policy_of(first) is tier_measure.policy_of(second)
    assert ledger.policy_of(first) == PointsPolicy.from_json(first.points_policy)


@needs_redis
async def test_a_changed_policy_is_parsed_again(programme, listening):
    before = ledger.policy_of(await programme_repo.get(programme.id))
    await points_policy_service.change(
        admin_of(programme), {"hold_minutes": before.hold_minutes + 7}, idempotency_key="k1"
    )
    after = ledger.policy_of(await programme_repo.get(programme.id))
    assert ledger.policy_of(await programme_repo.get(programme.id)) is after
    assert after.hold_minutes == before.hold_minutes + 7


def test_a_value_changed_in_place_is_parsed_again():
    raw = {"hold_minutes": 30}
    assert parsed("points", -1, raw, PointsPolicy.from_json).hold_minutes == 30
    raw["hold_minutes"] = 45
    assert parsed("points", -1, raw, PointsPolicy.from_json).hold_minutes == 45


def test_an_equal_value_of_another_type_is_not_served_from_the_old_one():
    first = parsed("points", -2, {"hold_minutes": 1}, PointsPolicy.from_json)
    second = parsed("points", -2, {"hold_minutes": True}, PointsPolicy.from_json)
    assert first.hold_minutes is not True and second.hold_minutes is True


def test_each_programme_and_kind_has_its_own():
    raw = {"hold_minutes": 30}
    assert parsed("points", -3, raw, PointsPolicy.from_json) is not parsed(
        "points", -4, raw, PointsPolicy.from_json
    )
    assert parsed("points", -3, raw, PointsPolicy.from_json) is not parsed(
        "other", -3, raw, lambda value: PointsPolicy.from_json(value)
    )
