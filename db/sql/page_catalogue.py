"""The member page's rewards and challenges parts (issue 20), read in the page's batch
(db/sql/page.py): the rewards the member could redeem with the points it has, and its
standings on the challenges running now.

Unlike the page's other parts these narrow in SQL by what the domain judges, so that a part
stays a few rows however large the catalogue grows: the service judges each row again
(domain.rewards.Reward.redeemable, ChallengeStanding.open), so SQL may only leave out, never
let in, what the domain would refuse.
"""

from __future__ import annotations

from typing import Any

from db.models import Reward as RewardRow
from db.repositories.rewards import reward_of
from db.sql.parts import AGG, Mapping, Texts, as_array, as_object, document, in_order, utc_at
from domain.recommendations.actions import ChallengeStanding
from domain.rewards import Reward

_REWARD = Mapping(RewardRow)


def _rewards_sql(pg: bool) -> str:
    # the dearest (then newest) first, as the ranking takes them: the index (programme, status,
    # points_price, id) is read backwards from the member's points and stops at the limit
    if pg:
        tiered = "r.eligible_tiers @> to_jsonb({p}::int)"
        untiered = "jsonb_array_length(r.eligible_tiers) = 0"
    else:
        tiered = "EXISTS (SELECT 1 FROM json_each(r.eligible_tiers) e WHERE e.value = {p})"
        untiered = "json_array_length(r.eligible_tiers) = 0"
    return (
        f"(SELECT {AGG[not pg]}(w.r{in_order(pg, 'w.k1 DESC, w.k2 DESC')}) FROM (SELECT "
        f"{_REWARD.object_sql('r', pg)} AS r, r.points_price AS k1, r.id AS k2 FROM rewards r "
        "WHERE r.programme_id = {p} AND r.status = 'ACTIVE' AND r.points_price <= {p} "
        "AND (r.valid_from IS NULL OR r.valid_from <= {p}) "
        "AND (r.valid_until IS NULL OR r.valid_until > {p}) "
        "AND (r.stock_left IS NULL OR r.stock_left > 0) "
        f"AND ({untiered} OR {tiered}) "
        "ORDER BY r.points_price DESC, r.id DESC LIMIT {p}) w)"
    )


def _challenges_sql(pg: bool) -> str:
    # the member's progress rows not completed, on challenges running now
    arr = "json_build_array" if pg else "json_array"
    return (
        f"(SELECT {AGG[not pg]}({arr}(c.id, c.code, c.name, p.current, c.target, c.starts_at, "
        "c.ends_at)) FROM challenge_progress p JOIN challenges c ON c.id = p.challenge_id "
        "WHERE p.member_id = {p} AND p.completed_at IS NULL AND c.status = 'ACTIVE' "
        "AND c.starts_at <= {p} AND c.ends_at > {p})"
    )


REWARDS, CHALLENGES = Texts(_rewards_sql), Texts(_challenges_sql)


def rewards(value: Any) -> list[Reward]:
    return [reward_of(_REWARD.instance(as_object(r))) for r in document(value)]


def challenges(value: Any) -> list[ChallengeStanding]:
    standings = []
    for row in document(value):
        challenge_id, code, name, current, target, starts_at, ends_at = as_array(row)
        standings.append(
            ChallengeStanding(
                int(challenge_id),
                str(code),
                str(name),
                int(current),
                int(target),
                utc_at(starts_at),  # type: ignore[arg-type]  # not null columns
                utc_at(ends_at),  # type: ignore[arg-type]
            )
        )
    return standings
