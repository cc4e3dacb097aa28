"""redeemPoints, holdPoints and captureHold on PostgreSQL in 2 round trips in total, counted on the driver
(BEGIN and COMMIT would count; there are none): one statement reads the member with its row
version, its open lots and the key; one more writes the spend or the hold, the audit row
included, only if the member is unchanged (services/points/spending.py). And what that
must not cost: no lost update, no spend of points that have expired, no second spend for
one key."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from strawberry.relay import GlobalID, to_base64

from domain.auth import Role
from tests.conftest import needs_postgres, needs_redis
from tests.fixtures.points import assert_ledger_consistent
from tests.graphql.points.documents import CAPTURE_HOLD, REDEEM
from tests.graphql.points.helpers import fund, hold, mutate, redeem
from tests.graphql.test_auth import token_for
from tests.graphql.test_order_round_trips import round_trips, warm

pytestmark = needs_postgres


@pytest.fixture
async def funded(gql, programme, make_member, make_key) -> tuple[Any, str]:
    """A member with two lots of 500 available points, and the programme's admin key."""
    admin = await make_key(programme, Role.ADMIN)
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 500)
    await fund(gql, admin, member.external_id, 500)
    return member, admin


async def _audit_rows(programme: Any, operation: str = "redeemPoints") -> list[Any]:
    from db.models import AuditEntry

    return list(
        await AuditEntry.filter(programme_id=programme.id, operation=operation).order_by("id")
    )


@needs_redis
@pytest.mark.parametrize("role", [Role.STOREFRONT, Role.ADMIN])
async def test_redeem_points_in_two_round_trips_in_total(
    gql, programme, make_key, role, listening, funded
):
    member, _ = funded
    key = await make_key(programme, role)
    await redeem(gql, key, memberExternalId=member.external_id, amount=10)
    await warm(gql, key)
    # when it spends
    with round_trips() as sent:
        result = await redeem(
            gql, key, memberExternalId=member.external_id, amount=100, idempotencyKey="R1"
        )
    # then the read and the write, the audit row in it (was 13: BEGIN, a savepoint, the key's
    # claim, the member locked, its lots, the ledger row, each lot, the movements, the
    # balances with the event, the key's result, the audit row, COMMIT)
    assert result["__typename"] == "TransactionSuccess", result
    assert result["member"]["points"]["available"] == 890
    assert len(sent) <= 2, sent
    assert not any(s.upper().startswith(("BEGIN", "COMMIT", "SAVEPOINT")) for s in sent), sent
    # and its audit row names the ledger row and the member, as the locking way's does
    row = (await _audit_rows(programme))[-1]
    assert (row.outcome, row.actor_role) == ("SUCCESS", role.value)
    assert row.target_ids.split() == [result["transaction"]["id"], to_base64("Member", member.id)]
    assert row.input["input"]["memberExternalId"] == "***"
    assert row.input["input"]["amount"] == 100
    # and a replay reads what was stored, and writes only its audit row
    with round_trips() as replayed:
        again = await redeem(
            gql, key, memberExternalId=member.external_id, amount=100, idempotencyKey="R1"
        )
    assert again == result
    assert len(replayed) <= 4, replayed  # the key, the ledger row, the member, the audit row
    assert [r.outcome for r in await _audit_rows(programme)] == ["SUCCESS"] * 3
    await assert_ledger_consistent(member)


@needs_redis
async def test_a_member_token_spends_its_own_points_in_two_round_trips(
    gql, programme, make_member, make_key, listening, funded
):
    member, _ = funded
    storefront = await make_key(programme, Role.STOREFRONT)
    token = await token_for(gql, storefront, member.external_id)
    await redeem(gql, token, amount=10)
    await warm(gql, storefront)
    # when the member spends without naming itself (its token says who)
    with round_trips() as sent:
        result = await redeem(gql, token, amount=100)
    # then the token's holder is checked (every request), then the read and the write
    assert result["__typename"] == "TransactionSuccess", result
    assert result["member"]["points"]["available"] == 890
    assert len(sent) <= 3, sent
    # and naming another member is refused as not found, with nothing spent
    other = await make_member(programme)
    await fund(gql, funded[1], other.external_id, 300)
    refused = await redeem(gql, token, memberExternalId=other.external_id, amount=100)
    assert refused["errors"][0]["code"] == "NOT_FOUND"
    assert (await assert_ledger_consistent(other)).points_available == 300


async def test_lots_are_spent_soonest_expiring_first_and_their_movements_written(
    gql, programme, make_key, funded
):
    from db.models import LotMovement, Member, PointLot
    from domain.lots import Lot, allocate

    member, _ = funded
    key = await make_key(programme, Role.STOREFRONT)
    lots = await PointLot.filter(member_id=member.id).order_by("id")
    # the second lot expires first (and the member row says when expiry may next be due)
    soon = datetime.now(UTC) + timedelta(days=30)
    await PointLot.filter(id=lots[1].id).update(expires_at=soon)
    await Member.filter(id=member.id).update(expiry_due_at=soon)
    before = [
        Lot(r.id, r.remaining, r.earned_at, r.expires_at)
        for r in await PointLot.filter(member_id=member.id)
    ]
    expected, _ = allocate(before, 600)
    # when 600 are spent
    result = await redeem(gql, key, memberExternalId=member.external_id, amount=600)
    assert result["__typename"] == "TransactionSuccess", result
    # then the second lot is emptied first, and the movements say what came from which
    assert [(t.lot_id, t.amount) for t in expected] == [(lots[1].id, 500), (lots[0].id, 100)]
    after = dict(await PointLot.filter(member_id=member.id).values_list("id", "remaining"))
    assert after == {lots[0].id: 400, lots[1].id: 0}
    tx_id = int(GlobalID.from_id(result["transaction"]["id"]).node_id)
    moved = await LotMovement.filter(transaction_id=tx_id).order_by("id")
    assert [(m.lot_id, m.amount) for m in moved] == [(lots[1].id, 500), (lots[0].id, 100)]
    assert (await assert_ledger_consistent(member)).points_available == 400


@pytest.mark.parametrize("who", ["storefront", "member token"])
async def test_points_past_their_expiry_are_booked_expired_before_a_spend(
    gql, programme, make_key, funded, who
):
    # given a lot that expired yesterday, not booked yet (the job has not run)
    from db.models import Member, PointLot, PointTransaction

    member, _ = funded
    key = await make_key(programme, Role.STOREFRONT)
    named = {"memberExternalId": member.external_id}
    if who == "member token":
        key, named = await token_for(gql, key, member.external_id), {}
    lots = await PointLot.filter(member_id=member.id).order_by("id")
    yesterday = datetime.now(UTC) - timedelta(days=1)
    await PointLot.filter(id=lots[0].id).update(expires_at=yesterday)
    await Member.filter(id=member.id).update(expiry_due_at=yesterday)
    # when 300 are spent
    result = await redeem(gql, key, **named, amount=300)
    # then the expiry is booked first (under the lock), and the spend comes from the lot left
    assert result["__typename"] == "TransactionSuccess", result
    kinds = (
        await PointTransaction.filter(member_id=member.id)
        .order_by("id")
        .values_list("kind", "amount")
    )
    assert list(kinds)[-2:] == [("EXPIRE", -500), ("REDEEM", -300)]
    after = dict(await PointLot.filter(member_id=member.id).values_list("id", "remaining"))
    assert after == {lots[0].id: 0, lots[1].id: 200}
    assert (await assert_ledger_consistent(member)).points_available == 200


async def test_a_spend_on_a_member_changed_since_its_read_writes_nothing(programme, funded):
    # given what redeemPoints read of a member, then another write of the member
    from db.models import IdempotencyKey, LotMovement, Member, PointLot, PointTransaction
    from db.repositories import spending
    from domain.points import TxKind
    from services.points import ledger_rows
    from services.points.ledger import Entry

    member, _ = funded
    at = datetime.now(UTC)
    claim = [programme.id, "test", "K-stale", "redeemPoints", "f", at]
    seen = await spending.seen(
        claim, member.external_id, None, writes="point_transactions", lots=True
    )
    assert seen.member is not None and seen.version is not None
    assert seen.new_id is not None and len(seen.lots) == 2
    await Member.filter(id=member.id).update(points_held=5)
    # when the spend is written on what was read
    entry = Entry("REWARD", "", "a mug", "test", "K-stale", at)
    row, event, takes = ledger_rows.available_debit(
        seen.member, entry, 100, TxKind.REDEEM, seen.lots
    )
    written = await spending.debit_unless_changed(
        seen.member,
        version=seen.version,
        transaction_id=seen.new_id,
        claim=claim,
        row=row,
        event=event,
        takes=takes,
        audit=None,
    )
    # then nothing is: not the key, the ledger row, the lots or the balance
    assert written is None
    assert not await IdempotencyKey.filter(key="K-stale").exists()
    assert not await PointTransaction.filter(id=seen.new_id).exists()
    assert not await LotMovement.filter(transaction_id=seen.new_id).exists()
    assert sorted(
        await PointLot.filter(member_id=member.id).values_list("remaining", flat=True)
    ) == [
        500,
        500,
    ]
    assert (await Member.get(id=member.id)).points_available == 1000


@pytest.fixture(params=["optimistic", "locking after one attempt"])
def attempts(request: Any, monkeypatch: Any) -> None:
    """As configured, and with a single optimistic attempt: most racers then take the
    member's lock (the path after OPTIMISTIC_ATTEMPTS lost races), beside the winners."""
    if request.param != "optimistic":
        from services.points import spending

        monkeypatch.setattr(spending, "OPTIMISTIC_ATTEMPTS", 1)


async def test_spends_and_earnings_of_one_member_at_once_lose_nothing(
    gql, programme, make_key, funded, attempts
):
    from db.models import Event

    member, admin = funded
    key = await make_key(programme, Role.STOREFRONT)
    # when thirty spends of 30 and ten credits of 7 arrive at once
    spends = [redeem(gql, key, memberExternalId=member.external_id, amount=30) for _ in range(30)]
    credits = [fund(gql, admin, member.external_id, 7) for _ in range(10)]
    results = await asyncio.gather(*spends, *credits)
    # then every spend is booked (1,000 covers them all), and every credit
    assert [r["__typename"] for r in results[:30]] == ["TransactionSuccess"] * 30, [
        r for r in results[:30] if r["__typename"] != "TransactionSuccess"
    ]
    row = await assert_ledger_consistent(member)
    assert row.points_available == 1000 - 30 * 30 + 10 * 7
    # and the events tell the balances one after another, each numbered once
    told = await Event.filter(member_id=member.id).values_list("sequence", flat=True)
    assert sorted(told) == list(range(min(told), min(told) + len(told)))
    # and each spend has one audit row, naming its ledger row, whichever way it was written
    rows = await _audit_rows(programme)
    assert sorted(r.target_ids.split()[0] for r in rows) == sorted(
        r["transaction"]["id"] for r in results[:30]
    )


async def test_ten_at_once_with_one_key_spend_once(gql, programme, make_key, funded, attempts):
    from db.models import PointTransaction

    member, _ = funded
    key = await make_key(programme, Role.STOREFRONT)
    sent = {
        "memberExternalId": member.external_id,
        "amount": 100,
        "reason": "a mug",
        "idempotencyKey": "one-key",
    }

    async def send() -> dict[str, Any]:
        body = await gql(REDEEM, {"input": sent}, auth=key)
        assert "errors" not in body, body
        result: dict[str, Any] = body["data"]["redeemPoints"]
        return result

    results = await asyncio.gather(*(send() for _ in range(10)))
    # then one spend is booked; every other answer replays it (or says it is in progress)
    booked = [r for r in results if r["__typename"] == "TransactionSuccess"]
    assert booked and all(r["transaction"] == booked[0]["transaction"] for r in booked), results
    others = [r for r in results if r["__typename"] != "TransactionSuccess"]
    assert all(r["errors"][0]["code"] == "IDEMPOTENCY_KEY_IN_PROGRESS" for r in others), results
    assert await PointTransaction.filter(member_id=member.id, kind="REDEEM").count() == 1
    assert (await assert_ledger_consistent(member)).points_available == 900
    # and another amount with that key is refused as reused
    body = await gql(REDEEM, {"input": {**sent, "amount": 5}}, auth=key)
    assert body["data"]["redeemPoints"]["errors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"


@needs_redis
async def test_hold_points_in_two_round_trips_in_total(gql, programme, make_key, listening, funded):
    from db.models import PointHold

    member, _ = funded
    key = await make_key(programme, Role.STOREFRONT)
    await hold(gql, key, member.external_id, 10)
    await warm(gql, key)
    # when it holds points for a checkout
    with round_trips() as sent:
        held = await hold(gql, key, member.external_id, 300)
    # then the read and the write, the audit row in it (was 11: BEGIN, a savepoint, the key's
    # claim, the member locked, the hold with the held total, the key's result, the release,
    # the audit row, COMMIT, and the member's expiry and lots read)
    assert held["hold"]["status"] == "HELD", held
    assert (held["member"]["points"]["held"], held["member"]["points"]["spendable"]) == (310, 690)
    assert len(sent) <= 2, sent
    row = (await _audit_rows(programme, "holdPoints"))[-1]
    assert row.outcome == "SUCCESS"
    assert row.target_ids.split() == [held["hold"]["id"], to_base64("Member", member.id)]
    # and the hold is as answered, and its capture (under the lock) spends from it
    stored = await PointHold.get(id=int(GlobalID.from_id(held["hold"]["id"]).node_id))
    assert (stored.amount, stored.status, stored.order_ref) == (
        300,
        "HELD",
        held["hold"]["orderId"],
    )
    captured = await mutate(
        gql, CAPTURE_HOLD, "captureHold", key, holdId=held["hold"]["id"], amount=200
    )
    assert captured["__typename"] == "HoldSuccess", captured
    assert captured["member"]["points"] == {
        "available": 800,
        "pending": 0,
        "held": 10,
        "spendable": 790,
    }
    await assert_ledger_consistent(member)


@needs_redis
async def test_capture_hold_in_two_round_trips_in_total(
    gql, programme, make_key, listening, funded
):
    from db.models import LotMovement, PointHold, PointTransaction

    member, _ = funded
    key = await make_key(programme, Role.STOREFRONT)
    first = await hold(gql, key, member.external_id, 300)
    await mutate(gql, CAPTURE_HOLD, "captureHold", key, holdId=first["hold"]["id"], amount=300)
    held = await hold(gql, key, member.external_id, 300)
    await warm(gql, key)
    # when the checkout captures 200 of it
    with round_trips() as sent:
        captured = await mutate(
            gql, CAPTURE_HOLD, "captureHold", key, holdId=held["hold"]["id"], amount=200
        )
    # then the read and the write, the audit row in it (was 18: BEGIN, a savepoint, the key's
    # claim, whose hold it is, the member locked, the hold and its order locked, the hold
    # closed, the lots, the ledger row, each lot, the movements, the balances with the event,
    # the key's result, the release, the audit row, COMMIT)
    assert captured["__typename"] == "HoldSuccess", captured
    assert (captured["hold"]["status"], captured["hold"]["captured"]) == ("CAPTURED", 200)
    assert captured["member"]["points"] == {
        "available": 500,
        "pending": 0,
        "held": 0,
        "spendable": 500,
    }
    assert len(sent) <= 2, sent
    row = (await _audit_rows(programme, "captureHold"))[-1]
    assert (row.outcome, row.target_ids.split()) == (
        "SUCCESS",
        [held["hold"]["id"], to_base64("Member", member.id)],
    )
    # and the hold, the ledger and the lots are as a capture under the lock leaves them
    stored = await PointHold.get(id=int(GlobalID.from_id(held["hold"]["id"]).node_id))
    assert (stored.status, stored.captured, stored.closed_at is not None) == ("CAPTURED", 200, True)
    spent = (
        await PointTransaction.filter(member_id=member.id, kind="REDEEM").order_by("-id").first()
    )
    assert spent is not None and (spent.amount, spent.reference) == (-200, stored.order_ref)
    moved = await LotMovement.filter(transaction_id=spent.id).values_list("amount", flat=True)
    assert sum(moved) == 200
    await assert_ledger_consistent(member)
    # and a replay answers the same, a second capture is refused
    again = await mutate(
        gql,
        CAPTURE_HOLD,
        "captureHold",
        key,
        holdId=held["hold"]["id"],
        amount=200,
        idempotencyKey=row.input["input"]["idempotencyKey"],
    )
    assert again == captured
    closed = await mutate(
        gql, CAPTURE_HOLD, "captureHold", key, holdId=held["hold"]["id"], amount=200
    )
    assert closed["errors"][0]["code"] == "HOLD_CLOSED"


async def test_captures_spends_and_holds_of_one_member_at_once_lose_nothing(
    gql, programme, make_key, funded, attempts
):
    member, _ = funded
    key = await make_key(programme, Role.STOREFRONT)
    holds = [await hold(gql, key, member.external_id, 50) for _ in range(8)]
    # when eight captures of 40, ten spends of 20 and five holds of 30 arrive at once
    captures = [
        mutate(gql, CAPTURE_HOLD, "captureHold", key, holdId=h["hold"]["id"], amount=40)
        for h in holds
    ]
    spends = [redeem(gql, key, memberExternalId=member.external_id, amount=20) for _ in range(10)]
    more = [hold(gql, key, member.external_id, 30) for _ in range(5)]
    results = await asyncio.gather(*captures, *spends, *more)
    # then every one is booked: 320 captured, 200 spent, 150 held
    assert [r["__typename"] for r in results[:8]] == ["HoldSuccess"] * 8, results[:8]
    assert [r["__typename"] for r in results[8:18]] == ["TransactionSuccess"] * 10, results
    row = await assert_ledger_consistent(member)
    assert (row.points_available, row.points_held) == (1000 - 320 - 200, 150)
    assert len(await _audit_rows(programme, "captureHold")) == 8


async def test_holds_and_spends_of_one_member_at_once_lose_nothing(
    gql, programme, make_key, funded, attempts
):
    member, _ = funded
    key = await make_key(programme, Role.STOREFRONT)
    # when twenty holds of 30 and ten spends of 20 arrive at once (1,000 covers them all)
    holds = [hold(gql, key, member.external_id, 30) for _ in range(20)]
    spends = [redeem(gql, key, memberExternalId=member.external_id, amount=20) for _ in range(10)]
    results = await asyncio.gather(*holds, *spends)
    # then every one is booked: 600 held, 200 spent
    assert all(r["hold"]["status"] == "HELD" for r in results[:20]), results[:20]
    assert [r["__typename"] for r in results[20:]] == ["TransactionSuccess"] * 10, results
    row = await assert_ledger_consistent(member)
    assert (row.points_available, row.points_held) == (800, 600)
    assert len(await _audit_rows(programme, "holdPoints")) == 20


async def test_a_hold_on_a_member_changed_since_its_read_writes_nothing(programme, funded):
    from db.models import IdempotencyKey, Member, PointHold
    from db.repositories import spending
    from db.repositories.holds import Hold

    member, _ = funded
    at = datetime.now(UTC)
    claim = [programme.id, "test", "K-stale-hold", "holdPoints", "f", at]
    seen = await spending.seen(claim, member.external_id, None, writes="point_holds", lots=False)
    assert seen.member is not None and seen.version is not None and seen.new_id is not None
    assert seen.lots == []
    await Member.filter(id=member.id).update(points_pending=5)
    # when the hold is written on what was read
    seen.member.points_held = 100
    new = Hold.new(seen.new_id, programme.id, member.id, "o-1", 100, at, at + timedelta(hours=1))
    written = await spending.hold_unless_changed(
        seen.member, version=seen.version, hold=new, claim=claim, audit=None
    )
    # then nothing is: not the key, the hold or the held total
    assert written is False
    assert not await IdempotencyKey.filter(key="K-stale-hold").exists()
    assert not await PointHold.filter(id=seen.new_id).exists()
    assert (await Member.get(id=member.id)).points_held == 0


@pytest.mark.parametrize("way", ["optimistic", "locking"])
async def test_a_retry_while_its_first_attempt_waits_replays_it(
    gql, programme, make_member, make_key, way, monkeypatch
):
    # given a balance of 50, and a credit of 100 in flight holding the member's lock
    from tortoise.transactions import in_transaction

    from db.models import ApiKey, Programme
    from db.repositories import points as points_repo
    from domain.auth import Principal
    from domain.points import TxKind
    from services.points import ledger, redemption, spending
    from services.points.ledger import Entry

    if way == "locking":
        monkeypatch.setattr(spending, "outside_a_transaction_on_postgres", lambda: False)
    admin = await make_key(programme, Role.ADMIN)
    shop = await make_key(programme, Role.STOREFRONT)
    shop_row = await ApiKey.filter(programme_id=programme.id).order_by("-id").first()
    assert shop_row is not None
    principal = Principal(programme_id=programme.id, role=Role.STOREFRONT, key_id=shop_row.id)
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 50)
    locked, release = asyncio.Event(), asyncio.Event()

    async def credit() -> None:
        async with in_transaction():
            row = await points_repo.lock_member(programme.id, member.id)
            entry = Entry("ADJUST", "", "credit", "test", None, datetime.now(UTC))
            await ledger.credit_available(
                row, entry, 100, TxKind.ADJUST, await Programme.get(id=programme.id)
            )
            locked.set()
            await release.wait()

    async def first() -> Any:  # it has claimed the key, and waits for the member's lock
        async with in_transaction():
            return await redemption.redeem(
                principal,
                member_external_id=member.external_id,
                amount=100,
                reason="a mug",
                reward=None,
                idempotency_key="K-retry",
            )

    crediting = asyncio.create_task(credit())
    await locked.wait()
    spend = asyncio.create_task(first())
    await asyncio.sleep(0.3)
    # when the client retries with the same key and input, before the credit commits
    retry = asyncio.create_task(
        redeem(gql, shop, memberExternalId=member.external_id, amount=100, idempotencyKey="K-retry")
    )
    await asyncio.sleep(0.3)
    release.set()
    await crediting
    tx = await spend
    answer = await retry
    # then the retry replays the first attempt's success (not a refusal read beside it)
    assert answer["__typename"] == "TransactionSuccess", answer
    assert int(GlobalID.from_id(answer["transaction"]["id"]).node_id) == tx.id
    assert (await assert_ledger_consistent(member)).points_available == 50


async def _read_to_spend(programme: Any, member: Any, key: str) -> tuple[Any, Any]:
    """What an optimistic spend of 100 read, and its write, not sent yet."""
    from db.repositories import spending
    from domain.points import TxKind
    from services.points import ledger_rows
    from services.points.ledger import Entry

    at = datetime.now(UTC)
    claim = [programme.id, "test", key, "redeemPoints", "f", at]
    seen = await spending.seen(
        claim, member.external_id, None, writes="point_transactions", lots=True
    )
    entry = Entry("REWARD", "", "a mug", "test", key, at)
    row, event, takes = ledger_rows.available_debit(
        seen.member, entry, 100, TxKind.REDEEM, seen.lots
    )

    async def write() -> int | None:
        return await spending.debit_unless_changed(
            seen.member,
            version=seen.version,
            transaction_id=seen.new_id,
            claim=claim,
            row=row,
            event=event,
            takes=takes,
            audit=None,
        )

    return seen, write


async def test_a_spend_whose_key_a_twin_wrote_since_its_read_writes_nothing(programme, funded):
    from db.models import IdempotencyKey, Member, PointTransaction

    member, _ = funded
    seen, write = await _read_to_spend(programme, member, "K-twin")
    await IdempotencyKey.create(
        programme_id=programme.id,
        principal="test",
        key="K-twin",
        operation="redeemPoints",
        fingerprint="f",
        result={"transactionId": 1},
        created_at=datetime.now(UTC),
    )
    assert await write() is None
    assert not await PointTransaction.filter(id=seen.new_id).exists()
    assert (await Member.get(id=member.id)).points_available == 1000


async def test_a_spend_whose_key_a_twin_holds_writes_nothing_until_it_is_let_go(programme, funded):
    from db.models import Member, PointTransaction
    from tests.conftest import DATABASE_URL, asyncpg_dsn

    member, _ = funded
    seen, write = await _read_to_spend(programme, member, "K-busy")
    other = await asyncpg.connect(asyncpg_dsn(DATABASE_URL))
    try:
        held = other.transaction()
        await held.start()
        await other.execute(
            "SELECT pg_advisory_xact_lock("
            "hashtextextended($1::int::text || ':' || $2::text || ':' || $3::text, 0))",
            programme.id,
            "test",
            "K-busy",
        )
        assert await write() is None
        await held.rollback()
    finally:
        await other.close()
    assert not await PointTransaction.filter(id=seen.new_id).exists()
    assert (await Member.get(id=member.id)).points_available == 1000
    assert await write() is not None
    assert (await Member.get(id=member.id)).points_available == 900


@pytest.mark.parametrize("by", ["external_id", "id"])
async def test_the_read_finds_the_member_by_its_index_in_a_generic_plan(programme, by):
    # a prepared statement's generic plan (what asyncpg's statement cache may run after five
    # calls) must still find the member by its own index, not by the programme alone
    from db.repositories.spending import _SEEN_BY
    from tests.conftest import DATABASE_URL, asyncpg_dsn
    from tests.graphql.test_hot_path_plans import full_scans, planning, schema_of

    connection = await asyncpg.connect(asyncpg_dsn(DATABASE_URL))
    try:
        schema = await schema_of(connection)
        async with planning(connection):
            await connection.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            await connection.execute(f"PREPARE seen_plan AS {_SEEN_BY[by]}")
            value = "'x'" if by == "external_id" else "1"
            found = await connection.fetchval(
                "EXPLAIN (FORMAT JSON) EXECUTE seen_plan"
                f" (1, 'p', 'k', {value}, 'point_holds_id_seq', true)"
            )
    finally:
        await connection.close()
    plan = (json.loads(found) if isinstance(found, str) else found)[0]["Plan"]
    assert not list(full_scans(plan, schema)), json.dumps(plan, indent=1)
