"""Challenges as data (issue 20.3): admins create them (ACTIVE at once: a fact in their window
counts from then on) and end them. Every change commits, then forgets the programme's cached
active challenges (db.challenge_cache), so the next fact is judged by what was just written.
What a challenge may say is domain.challenges' rule; here are the checks that need the
database: tier codes, the coupon template, the code's uniqueness."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tortoise.transactions import in_transaction

from db import challenge_cache, tier_cache
from db.models import Challenge as ChallengeRow
from db.repositories import challenges as challenge_repo
from db.repositories import coupon_templates as template_repo
from db.repositories import programmes as programme_repo
from domain.auth import Principal
from domain.campaigns import audience_rule
from domain.challenges import Challenge, ChallengeStatus, reward_rule, validate_challenge
from domain.coupons import TemplateStatus
from domain.errors import AlreadyExists, Collector, InvalidTransition, NotFound
from domain.idempotency import check_key
from domain.paging import PageRequest, page_of
from services.clock import now_of
from services.coupons.issuance import TemplateRetired
from services.idempotency import run_once
from services.unique import created

challenge_of = challenge_repo.challenge_of  # a row as the domain reads it
ALREADY = "a challenge with this code exists in the programme"


def columns_of(challenge: Challenge) -> dict[str, Any]:
    """What the challenges row stores (not its status or stamps)."""
    return {
        "code": challenge.code,
        "name": challenge.name.strip(),
        "description": challenge.description,
        "starts_at": challenge.starts_at,
        "ends_at": challenge.ends_at,
        "goal": challenge.goal.value,
        "target": challenge.target,
        "audience": audience_rule(challenge.audience),
        "reward": reward_rule(challenge.reward),
        "undo_on_return": challenge.undo_on_return,
    }


async def _check_references(programme_id: int, challenge: Challenge) -> None:
    """The tier codes and the coupon template the challenge names exist in its programme."""
    errors = Collector()
    if challenge.audience.tiers:
        known = {t.code for t in await tier_cache.programme_tiers(programme_id)}
        unknown = sorted(challenge.audience.tiers - known)
        if unknown:
            errors.add("audience.tiers", f"no such tiers: {', '.join(map(repr, unknown[:5]))}")
    errors.raise_if_any()
    code = challenge.reward.coupon_template
    if code is None:
        return
    template = await template_repo.get_template_by_code(programme_id, code)
    if template is None:
        raise NotFound(f"no coupon template {code}", field="reward.couponTemplate")
    if template.status == TemplateStatus.RETIRED.value:
        raise TemplateRetired(f"coupon template {code} is retired", field="reward.couponTemplate")


async def create(
    principal: Principal, challenge: Challenge, *, idempotency_key: str
) -> ChallengeRow:
    """An ACTIVE challenge: facts from its start (and from now) count."""
    errors = Collector()
    check_key(errors, idempotency_key)
    errors.raise_if_any()
    programme = await programme_repo.get(principal.programme_id)
    now = now_of(programme)
    challenge = replace(challenge, status=ChallengeStatus.ACTIVE)
    fields = columns_of(challenge)

    async def act() -> dict[str, Any]:
        # what may change with time (the clock, templates, tiers) is checked by the first
        # request only: a replay answers what it answered
        errors = Collector()
        validate_challenge(challenge, errors, now=now)
        errors.raise_if_any()
        await _check_references(principal.programme_id, challenge)
        if await challenge_repo.get_by_code(principal.programme_id, challenge.code):
            raise AlreadyExists(ALREADY, field="code")
        row = await created(
            challenge_repo.insert(
                programme_id=principal.programme_id,
                status=ChallengeStatus.ACTIVE.value,
                created_at=now,
                updated_at=now,
                **fields,
            ),
            ALREADY,
        )
        return {"challengeId": row.id}

    payload = {**fields, "starts_at": str(challenge.starts_at), "ends_at": str(challenge.ends_at)}
    result = await run_once(
        principal, key=idempotency_key, operation="createChallenge", payload=payload, action=act
    )
    await challenge_cache.forget_challenges(principal.programme_id)
    return await _fresh(principal, int(result["challengeId"]))


async def end(principal: Principal, code: str) -> ChallengeRow:
    """No fact counts from now on; what was rewarded stays (returns still undo it)."""
    programme = await programme_repo.get(principal.programme_id)
    now = now_of(programme)
    async with in_transaction():
        row = await challenge_repo.lock_by_code(principal.programme_id, code)
        if row is None:
            raise NotFound(f"no challenge {code}", field="challengeCode")
        if row.status == ChallengeStatus.ENDED.value:
            raise InvalidTransition("the challenge has ended already", field="challengeCode")
        row.status, row.updated_at = ChallengeStatus.ENDED.value, now
        await challenge_repo.save(row, "status")
    await challenge_cache.forget_challenges(principal.programme_id)
    return await _fresh(principal, row.id)


async def _fresh(principal: Principal, challenge_id: int) -> ChallengeRow:
    row = await challenge_repo.get(principal.programme_id, challenge_id)
    assert row is not None
    return row


async def page(
    principal: Principal, request: PageRequest, *, status: ChallengeStatus | None
) -> tuple[list[ChallengeRow], bool]:
    rows = await challenge_repo.page(principal.programme_id, request, status=status)
    return page_of(rows, request)
