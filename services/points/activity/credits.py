"""How an activity is credited: its points as far as the abuse caps let them through, the
ledger row, what its campaigns add, and the challenges it moves. Also what every activity
checks of its input (idempotency key, member id) and the refusal of what is not eligible.
"""

from __future__ import annotations

from db.models import Member, Programme
from domain.abuse import Source
from domain.campaigns import Trigger
from domain.challenges import FactKind
from domain.errors import Collector, DomainError, ErrorCode
from domain.idempotency import check_key
from domain.members import check_external_id
from domain.points import TxKind
from services import abuse
from services.campaigns.facts import Fact, FactAward, reward_fact
from services.challenges import progress as challenge_progress
from services.challenges.progress import Fact as ChallengeFact
from services.points.ledger import Entry, credit_available


class NotEligible(DomainError):
    code = ErrorCode.NOT_ELIGIBLE


def _key_errors(key: str, external_id: str | None) -> None:
    errors = Collector()
    check_key(errors, key)
    if external_id is not None:
        check_external_id(errors, external_id)
    errors.raise_if_any()


_TRIGGERS = {
    Source.CHECK_IN: Trigger.CHECK_IN,
    Source.REVIEW: Trigger.REVIEW,
    Source.REFERRAL: Trigger.REFERRAL,
}


async def _earn(
    programme: Programme, member: Member, source: Source, points: int, entry: Entry
) -> tuple[int, tuple[FactAward, ...]]:
    """An activity's points, as far as the abuse caps let them through now (the rest waits on
    the member's flag), then what its campaigns add, judged on the points credited: neither a
    multiplier nor a bonus pays for earning the caps held back in full."""
    credit = await abuse.capped(programme, member, source, points, entry.at)
    if credit:
        await credit_available(member, entry, credit, TxKind.EARN, programme)
    if points and not credit:
        return 0, ()
    fact = Fact(
        trigger=_TRIGGERS[source],
        points=credit,
        reference_type=entry.reference_type,
        reference=entry.reference,
        at=entry.at,
        actor=entry.actor,
        idempotency_key=entry.idempotency_key,
    )
    return credit, await reward_fact(programme, member, fact)


async def _count(programme: Programme, member: Member, kind: FactKind, entry: Entry) -> None:
    """The fact, for the challenges it moves (its ledger row's reference names it)."""
    fact = ChallengeFact(kind, entry.reference, entry.at, entry.actor)
    await challenge_progress.count(programme, member, fact)
