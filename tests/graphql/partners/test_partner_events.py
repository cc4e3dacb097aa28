"""Point 7: partner transfers write their events in the transaction of the change (outbox):
partner_transfer.requested|completed|failed|reversed and points.transferred_in|out."""

from __future__ import annotations

import pytest

from db.models import Event, Member, PartnerTransfer
from db.repositories import partners as partner_repo
from services.partners.transfers import global_id
from tests.graphql.partners.documents import CONFIRM, REJECT, REVERSE
from tests.graphql.partners.helpers import link, new_key, partner_with_key
from tests.graphql.partners.test_partner_credits import credit
from tests.graphql.partners.test_partner_transfers_out import answer, send
from tests.graphql.points.helpers import fund


async def types_of(member: Member) -> list[str]:
    return [
        e.type
        for e in await Event.filter(member_id=member.id).order_by("id")
        if e.type.startswith(("partner_transfer.", "points.transferred"))
    ]


async def test_each_step_of_a_transfer_is_an_event_with_both_sides_ids(
    gql, programme, keys, make_member
):
    admin, storefront = keys
    sky = await partner_with_key(gql, admin)
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 100)
    pmid = await link(gql, storefront, sky.code, member, "FF-1")
    await credit(gql, sky.key, "IN-1", pmid, 200)
    done = (await send(gql, storefront, sky.code, member.external_id, 30))["transfer"]["id"]
    await answer(gql, sky.key, CONFIRM, "confirmPartnerTransfer", id=done, partnerReference="R-1")
    failed = (await send(gql, storefront, sky.code, member.external_id, 10))["transfer"]["id"]
    await answer(gql, sky.key, REJECT, "rejectPartnerTransfer", id=failed, reason="closed account")
    await answer(
        gql,
        admin,
        REVERSE,
        "reversePartnerTransfer",
        id=done,
        reason="refund",
        idempotencyKey=new_key(),
    )
    assert await types_of(member) == [
        "points.transferred_in",
        "partner_transfer.completed",  # the credit in
        "partner_transfer.requested",
        "points.transferred_out",
        "partner_transfer.completed",
        "partner_transfer.requested",
        "partner_transfer.failed",
        "partner_transfer.reversed",
    ]
    requested = await Event.filter(member_id=member.id, type="partner_transfer.requested").first()
    assert requested is not None
    transfer = (
        await PartnerTransfer.filter(member_id=member.id, direction="OUT").order_by("id").first()
    )
    assert requested.payload == {
        "version": 1,
        "transfer": global_id(transfer.id),
        "partner": sky.code,
        "direction": "OUT",
        "status": "PENDING",
        "member": {"externalId": member.external_id, "partnerMemberId": "FF-1"},
        "partnerUnits": 240,
        "points": 30,
        "rate": {"source": 1, "target": 8},
        "expiresAt": requested.payload["expiresAt"],
    }
    assert requested.payload["transfer"] == done  # the id the API gave out
    reversed_ = await Event.get(member_id=member.id, type="partner_transfer.reversed")
    assert (reversed_.payload["status"], reversed_.payload["reason"]) == ("REVERSED", "refund")


async def test_a_transfer_that_rolls_back_leaves_no_event(
    gql, programme, keys, make_member, monkeypatch
):
    admin, storefront = keys
    sky = await partner_with_key(gql, admin)
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 100)
    pmid = await link(gql, storefront, sky.code, member)

    async def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(partner_repo, "save_transfer", fail)
    with pytest.raises(RuntimeError):
        from domain.auth import Principal, Role
        from services.partners import credits

        partner = await partner_repo.by_code(programme.id, sky.code)
        key = Principal(
            programme_id=programme.id, role=Role.PARTNER, key_id=-3, partner_id=partner.id
        )
        await credits.credit(
            key, partner_transfer_id="X", partner_member_id=pmid, partner_units=100
        )
    assert await types_of(member) == []
    assert await PartnerTransfer.filter(member_id=member.id).count() == 0
