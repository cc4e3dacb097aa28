"""Abuse controls (issue 18.6): earning caps per source and period, an order velocity rule,
and an admin's decision on each flag.

Earning over a cap is not dropped: the part over it is held on the member's flag for that
rule and period, and an admin releases it (`approveFlag`) or refuses it (`rejectFlag`). The
sums are read under the member's row lock, which every earning holds, so parallel earnings
cannot jointly pass a cap."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from typing import Any

from db.models import AbuseFlag, Member, Programme
from db.repositories import abuse as abuse_repo
from db.repositories import programmes as programme_repo
from domain.abuse import (
    REFERRAL_RULE,
    RETURN_RULE,
    VELOCITY_RULE,
    AbusePolicy,
    FlagStatus,
    Period,
    Source,
    Verdict,
    check_policy,
    judge_earning,
    period_key,
    period_start,
    referrals_exceeded,
    return_ratio_exceeded,
    velocity_exceeded,
    velocity_window_start,
)
from domain.auth import Principal
from domain.errors import AlreadyDecided, Collector, NotFound
from domain.idempotency import check_key
from domain.points import TxKind
from services.clock import now_of, zone_of
from services.idempotency import run_once
from services.parsed import parsed
from services.points import expiry
from services.points.ledger import Entry, actor_of, credit_available
from services.points.spending import check_reason


def policy_of(programme: Programme) -> AbusePolicy:
    return parsed("abuse", programme.id, programme.abuse_policy, AbusePolicy.from_json)


def _period_began(programme: Programme, period: Period, now: datetime) -> datetime:
    zone = zone_of(programme)
    first = period_start(period, now.astimezone(zone).date())
    return datetime.combine(first, time(), tzinfo=zone)


async def capped(
    programme: Programme, member: Member, source: Source, amount: int, now: datetime
) -> int:
    """What of `amount` to credit now; the rest is held on the member's flag. The caller holds
    the member's row lock."""
    caps = policy_of(programme).caps_for(source)
    if not caps or amount <= 0:
        return amount
    earned = [
        (cap, await abuse_repo.earned_since(
            member.id, source.value, _period_began(programme, cap.period, now)
        ))
        for cap in caps
    ]  # fmt: skip
    verdict = judge_earning(amount, earned, now.astimezone(zone_of(programme)).date())
    if verdict.held and verdict.rule and verdict.period:
        await abuse_repo.hold(
            programme_id=programme.id,
            member_id=member.id,
            rule=verdict.rule,
            period=verdict.period,
            points=verdict.held,
            now=now,
        )
    return verdict.credit


@dataclass(frozen=True)
class OrderLimits:
    """What the abuse rules say of an order about to be written: the points to credit now,
    what to hold for review (`verdict`), and whether its velocity flags the member."""

    credit: int
    verdict: Verdict | None = None
    flag_velocity: bool = False


def without_held(limits: OrderLimits, points: int) -> OrderLimits:
    """`limits` holding `points` fewer for review: points the order no longer earns (a
    campaign's share a cap cut, services.points.order_recording)."""
    if limits.verdict is None or not points:
        return limits
    held = max(0, limits.verdict.held - points)
    return replace(limits, verdict=replace(limits.verdict, held=held))


def judges_orders(programme: Programme) -> bool:
    """Whether the programme's abuse policy has a rule for orders (a cap or the velocity)."""
    policy = policy_of(programme)
    return bool(policy.caps_for(Source.ORDER)) or policy.order_velocity is not None


async def judge_order(
    programme: Programme, member_id: int, amount: int, now: datetime
) -> OrderLimits:
    """`capped` and `check_order_velocity` for an order not yet written, read in one statement
    (none without an abuse policy for orders). The caller holds the member's row lock; it
    writes what is held with `apply_order_limits` once the order is written."""
    policy = policy_of(programme)
    caps = policy.caps_for(Source.ORDER) if amount > 0 else []
    velocity = policy.order_velocity
    if not caps and velocity is None:
        return OrderLimits(amount)
    earned, orders = await abuse_repo.order_sums(
        member_id,
        [_period_began(programme, cap.period, now) for cap in caps],
        velocity_window_start(velocity, now) if velocity is not None else None,
    )
    verdict = None
    if caps:
        verdict = judge_earning(
            amount, list(zip(caps, earned, strict=True)), now.astimezone(zone_of(programme)).date()
        )
    # the count is of orders before this one: it counts itself too
    flag = velocity is not None and velocity_exceeded(velocity, orders + 1)
    return OrderLimits(verdict.credit if verdict else amount, verdict, flag)


async def apply_order_limits(
    programme: Programme, member_id: int, limits: OrderLimits, now: datetime
) -> None:
    verdict = limits.verdict
    if verdict is not None and verdict.held and verdict.rule and verdict.period:
        await abuse_repo.hold(
            programme_id=programme.id,
            member_id=member_id,
            rule=verdict.rule,
            period=verdict.period,
            points=verdict.held,
            now=now,
        )
    if limits.flag_velocity:
        await _flag(programme, member_id, VELOCITY_RULE, now)


async def check_order_velocity(programme: Programme, member: Member, now: datetime) -> None:
    """After an order is recorded (under the member's lock): more than N orders within M
    minutes flags the member, once per local day. Points are not held: orders are paid for."""
    velocity = policy_of(programme).order_velocity
    if velocity is None:
        return
    count = await abuse_repo.orders_since(member.id, velocity_window_start(velocity, now))
    if velocity_exceeded(velocity, count):
        await _flag(programme, member.id, VELOCITY_RULE, now)


async def _flag(programme: Programme, member_id: int, rule: str, now: datetime) -> None:
    day = now.astimezone(zone_of(programme)).date()
    await abuse_repo.hold(
        programme_id=programme.id,
        member_id=member_id,
        rule=rule,
        period=period_key(Period.DAY, day),
        points=0,
        now=now,
    )


async def check_referrals(programme: Programme, inviter: Member, now: datetime) -> None:
    """After a referral is accepted (the inviter locked): too many from one inviter today
    flags the inviter, once a day."""
    limit = policy_of(programme).referrals_per_day
    if limit is None:
        return
    today = await abuse_repo.referrals_since(inviter.id, _period_began(programme, Period.DAY, now))
    if referrals_exceeded(limit, today):
        await _flag(programme, inviter.id, REFERRAL_RULE, now)


async def check_returns(programme: Programme, member: Member, now: datetime) -> None:
    """After a return (the member locked): returns that took back more than the policy's
    share of the order points earned in its window flag the member, once a day."""
    ratio = policy_of(programme).return_ratio
    if ratio is None:
        return
    earned, taken = await abuse_repo.order_points_since(member.id, now - timedelta(days=ratio.days))
    if return_ratio_exceeded(ratio, earned=earned, taken_back=taken):
        await _flag(programme, member.id, RETURN_RULE, now)


async def set_policy(principal: Principal, policy: AbusePolicy) -> AbusePolicy:
    errors = Collector()
    check_policy(policy, errors)
    errors.raise_if_any()
    programme = await programme_repo.fresh(principal.programme_id)  # not the kept copy
    programme.abuse_policy = policy.to_json()
    await programme.save(update_fields=["abuse_policy"])
    return policy


async def current_policy(principal: Principal) -> AbusePolicy:
    return policy_of(await programme_repo.get(principal.programme_id))


async def page(
    principal: Principal, *, status: FlagStatus | None, first: int, before_id: int | None
) -> tuple[list[AbuseFlag], bool]:
    rows = await abuse_repo.page(
        principal.programme_id,
        status=status.value if status else None,
        first=first,
        before_id=before_id,
    )
    return rows[:first], len(rows) > first


async def find(principal: Principal, ids: list[int]) -> list[AbuseFlag]:
    return await abuse_repo.by_ids(principal.programme_id, ids)


async def _decide(
    principal: Principal,
    flag_id: int,
    *,
    status: FlagStatus,
    reason: str | None,
    idempotency_key: str,
) -> AbuseFlag:
    async def act() -> dict[str, Any]:
        seen = await abuse_repo.get(principal.programme_id, flag_id)
        if seen is None:
            raise NotFound("no flag with this id", field="id")
        programme = await programme_repo.get(principal.programme_id)
        # The member's row lock first, then the flag's: the order an earning takes them in
        # (it holds the member and adds to the flag). The other way round, an approval and
        # an earning of the same member deadlocked.
        member = await expiry.lock(programme, seen.member_id)
        flag = await abuse_repo.lock(principal.programme_id, flag_id)
        assert flag is not None  # flags are never deleted
        if flag.status != FlagStatus.OPEN.value:
            raise AlreadyDecided(f"this flag was {flag.status.lower()} already", field="id")
        now = now_of(programme)
        if status is FlagStatus.APPROVED and flag.points_held:
            entry = Entry(
                "ABUSE_REVIEW",
                f"flag-{flag.id}",
                f"held by {flag.rule}, released after review",
                actor_of(principal),
                idempotency_key,
                now,
            )
            await credit_available(member, entry, flag.points_held, TxKind.EARN, programme)
        flag.status, flag.decided_at = status.value, now
        flag.decided_by, flag.decision_reason = actor_of(principal), reason
        await flag.save(update_fields=["status", "decided_at", "decided_by", "decision_reason"])
        return {"flagId": flag.id}

    result = await run_once(
        principal,
        key=idempotency_key,
        operation=f"{status.value.lower()}Flag",
        payload={"id": flag_id, "reason": reason},
        action=act,
    )
    found = await abuse_repo.get(principal.programme_id, int(result["flagId"]))
    assert found is not None
    return found


async def approve(principal: Principal, flag_id: int, *, idempotency_key: str) -> AbuseFlag:
    """The held points are credited (an EARN row, reference ABUSE_REVIEW)."""
    errors = Collector()
    check_key(errors, idempotency_key)
    errors.raise_if_any()
    return await _decide(
        principal, flag_id, status=FlagStatus.APPROVED, reason=None,
        idempotency_key=idempotency_key,
    )  # fmt: skip


async def reject(
    principal: Principal, flag_id: int, *, reason: str, idempotency_key: str
) -> AbuseFlag:
    """The held points are never credited; the reason is kept on the flag."""
    errors = Collector()
    check_key(errors, idempotency_key)
    check_reason(errors, reason)
    errors.raise_if_any()
    return await _decide(
        principal, flag_id, status=FlagStatus.REJECTED, reason=reason.strip(),
        idempotency_key=idempotency_key,
    )  # fmt: skip
