"""A member's right to be forgotten (issue 18.3), keeping the ledger whole.

Erasure is in place (the row keeps its id, so orders, ledger rows and coupons still point at
it): the profile is emptied, the externalId becomes a random pseudonym, segments and
recommendations go, the member's event payloads lose its old id and name, and the spendable
balance is forfeited by an ERASE ledger row. Orders, amounts and ledger rows stay: they are
the programme's financial records, and every total still adds up."""

from __future__ import annotations

import secrets
from typing import Any

from db import invalidation
from db.models import Member
from db.repositories import activity as activity_repo
from db.repositories import members as member_repo
from db.repositories import privacy as privacy_repo
from db.repositories import programmes as programme_repo
from domain.auth import Principal
from domain.errors import Collector, NotFound
from domain.events import EventType
from domain.idempotency import check_key
from domain.members import check_external_id
from domain.points import TxKind
from domain.privacy import ERASED_NAME, erased_payload, forgotten, invitee_forgotten, pseudonym
from services import events as event_service
from services.clock import now_of, wall_now
from services.idempotency import run_once
from services.partners import links as partner_links
from services.points import expiry
from services.points.holds import RELEASED, close_hold
from services.points.ledger import Entry, actor_of, debit_available, spendable
from services.points.spending import check_reason
from services.rewards import fulfilment as reward_fulfilment
from services.rewards.redemption import REWARD

ERASURE = "ERASURE"


async def erase(
    principal: Principal, *, external_id: str, reason: str, idempotency_key: str
) -> tuple[Member, int]:
    """The erased member and the points it forfeited. Idempotent by key; the old externalId
    no longer names anyone afterwards (a later call with another key: NOT_FOUND)."""
    errors = Collector()
    check_key(errors, idempotency_key)
    check_external_id(errors, external_id)
    check_reason(errors, reason)
    errors.raise_if_any()

    async def act() -> dict[str, Any]:
        found = await member_repo.get_by_external_id(principal.programme_id, external_id)
        if found is None:
            raise NotFound("no member with this externalId", field="externalId")
        programme = await programme_repo.get(principal.programme_id)
        # The row lock: no earning, spending or job runs on the member while it is erased.
        member = await expiry.lock(programme, found.id)
        now = now_of(programme)
        # Open checkout holds end: an erased member checks out no more, and what they held
        # is forfeited with the rest.
        for open_hold in await privacy_repo.open_holds(member.id):
            await close_hold(open_hold, member, RELEASED, now)
        # So are rewards still owed: stock back, and their points forfeited with the rest.
        await reward_fulfilment.cancel_for_erasure(
            member, Entry(REWARD, "", reason.strip(), actor_of(principal), idempotency_key, now)
        )
        forfeited = max(spendable(member), 0)
        if forfeited:
            entry = Entry(
                ERASURE, ERASURE, reason.strip(), actor_of(principal), idempotency_key, now
            )
            await debit_available(member, entry, forfeited, TxKind.ERASE)
        new_id = pseudonym(secrets.token_hex(10))
        old = {
            value: replacement
            for value, replacement in (
                (member.external_id, new_id),
                (member.display_name, ERASED_NAME),
                (member.email, ""),
                (member.phone, ""),
            )
            if value
        }
        await privacy_repo.forget_profile(
            member,
            external_id=new_id,
            display_name=ERASED_NAME,
            email=None,
            phone=None,
            birthday_month=None,
            birthday_day=None,
            consent_marketing=False,
            consent_profiling=False,
            erased_at=wall_now(),
        )
        await privacy_repo.delete_personalisation(member.id)
        await privacy_repo.rewrite_event_payloads(
            member.id, lambda p: forgotten(p, old, pseudonym=new_id)
        )
        # The inviter's reward event names this member too (by its old externalId).
        referral = await activity_repo.referral_of(member.id)
        if referral is not None:
            await privacy_repo.rewrite_event_payloads(
                referral.inviter_id,
                lambda p: invitee_forgotten(p, new_id),
                types=[EventType.REFERRAL_REWARDED.value],
            )
        # Webhook receivers' stored answers may echo those payloads (old id, name): emptied.
        await privacy_repo.forget_delivery_answers(member.id)
        if referral is not None:
            await privacy_repo.forget_delivery_answers(
                referral.inviter_id, types=(EventType.REFERRAL_REWARDED.value,)
            )
        # Partner links are cut: no partner can move points for the member again; its
        # transfers stay, like the ledger.
        links = await privacy_repo.partner_links(member.id)
        await partner_links.cut_for_erasure(member, links, now)
        await privacy_repo.delete_partner_links(member.id)
        await event_service.record(
            principal.programme_id,
            EventType.MEMBER_ERASED,
            erased_payload(pseudonym=new_id, forfeited=forfeited),
            occurred_at=now,
            member_id=member.id,
        )
        return {"memberId": member.id, "forfeited": forfeited}

    result = await run_once(
        principal,
        key=idempotency_key,
        operation="eraseMember",
        payload={"externalId": external_id, "reason": reason},
        action=act,
    )
    # after the commit: every process stops accepting the member's tokens from its own cache
    await invalidation.publish(
        [invalidation.member_active_name(principal.programme_id, int(result["memberId"]))]
    )
    member = await member_repo.get_by_ids(principal.programme_id, [int(result["memberId"])])
    return member[0], int(result["forfeited"])
