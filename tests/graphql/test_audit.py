"""Issue 18.1: every staff mutation leaves an audit row in the same transaction."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta

import pytest

from db.models import AuditEntry, Event, Member, PointTransaction
from domain.auth import Role
from services.audit import trail as audit_trail
from services.clock import wall_now
from tests.conftest import DATABASE_URL, needs_postgres
from tests.fixtures.audit import fail_success_rows
from tests.fixtures.servers import loyalty, loyalty_env
from tests.graphql.points.documents import ADJUST_POINTS
from tests.graphql.test_auth import token_for

AUDIT_LOG = """
query ($first: Int! = 20, $after: String, $actor: ID, $target: ID, $op: String,
       $from: DateTime, $to: DateTime) {
  auditLog(first: $first, after: $after, actorKeyId: $actor, targetId: $target,
           operation: $op, from: $from, to: $to) {
    edges { cursor node { id at operation outcome targetIds input before after requestId
                          actor { role keyId keyPrefix keyLabel memberId } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
REGISTER = """
mutation ($input: RegisterMemberInput!) {
  registerMember(input: $input) {
    __typename
    ... on RegisterMemberSuccess { member { id externalId } }
    ... on RegisterMemberError { errors { field code message } }
  }
}
"""
SET_POLICY = """
mutation ($input: SetPointsPolicyInput!) {
  setPointsPolicy(input: $input) {
    __typename
    ... on SetPointsPolicyError { errors { field code } }
  }
}
"""
CHECK_IN = """
mutation { checkIn(input: {idempotencyKey: "ci-1"}) { __typename } }
"""


def key() -> str:
    return uuid.uuid4().hex


async def entries(gql, admin: str, **variables) -> list[dict]:
    body = await gql(AUDIT_LOG, variables, auth=admin)
    assert "errors" not in body, body
    return [edge["node"] for edge in body["data"]["auditLog"]["edges"]]


async def test_a_mutation_leaves_a_row_with_actor_targets_and_a_redacted_input(
    gql, programme, make_key
):
    admin = await make_key(programme, Role.ADMIN)
    body = await gql(
        REGISTER,
        {
            "input": {
                "externalId": "aud-1",
                "displayName": "Chen Jing",
                "email": "chen@example.com",
                "phone": "+8613800000000",
                "birthday": "02-29",
                "idempotencyKey": key(),
            }
        },
        auth=admin,
    )
    member_id = body["data"]["registerMember"]["member"]["id"]

    [row] = await entries(gql, admin, op="registerMember")

    assert row["outcome"] == "SUCCESS"
    assert row["targetIds"] == [member_id]
    assert row["actor"]["role"] == "admin"
    assert row["actor"]["keyPrefix"] == admin[: len(row["actor"]["keyPrefix"])]
    assert row["actor"]["keyLabel"] == "test"
    assert row["input"]["input"]["externalId"] == "***"  # personal: erasure cannot reach here
    assert row["input"]["input"]["idempotencyKey"]
    text = json.dumps(row)
    for personal in ("Chen Jing", "chen@example.com", "8613800000000", "02-29", admin):
        assert personal not in text
    assert row["input"]["input"]["email"] == "***"
    assert len(row["requestId"]) >= 8


async def test_an_expected_failure_is_recorded_with_its_code_and_changes_nothing(
    gql, programme, make_key, make_member
):
    admin = await make_key(programme, Role.ADMIN)
    member = await make_member(programme)
    body = await gql(
        ADJUST_POINTS,
        {
            "input": {
                "memberExternalId": member.external_id,
                "amount": -50,
                "reason": "too much",
                "idempotencyKey": key(),
            }
        },
        auth=admin,
    )
    assert body["data"]["adjustPoints"]["__typename"] == "AdjustPointsError"
    code = body["data"]["adjustPoints"]["errors"][0]["code"]

    [row] = await entries(gql, admin, op="adjustPoints")

    assert row["outcome"] == code
    assert await PointTransaction.filter(member_id=member.id).count() == 0


async def test_configuration_changes_keep_before_and_after(gql, programme, make_key):
    admin = await make_key(programme, Role.ADMIN)
    body = await gql(
        SET_POLICY, {"input": {"expiryMonths": 7, "idempotencyKey": key()}}, auth=admin
    )
    assert body["data"]["setPointsPolicy"]["__typename"] == "SetPointsPolicySuccess"

    [row] = await entries(gql, admin, op="setPointsPolicy")

    before = (row["before"]["points_policy"] or {}).get("expiry_months")
    after = row["after"]["points_policy"]["expiry_months"]
    assert before != 7
    assert after == 7


async def test_member_tokens_are_not_audited_and_the_request_id_is_kept(
    gql, http, programme, make_key, make_member
):
    admin = await make_key(programme, Role.ADMIN)
    storefront = await make_key(programme, Role.STOREFRONT)
    member = await make_member(programme)
    token = await token_for(gql, storefront, member.external_id)
    await gql(CHECK_IN, auth=token)
    response = await http.post(
        "/graphql",
        json={
            "query": ADJUST_POINTS,
            "variables": {
                "input": {
                    "memberExternalId": member.external_id,
                    "amount": 5,
                    "reason": "goodwill",
                    "idempotencyKey": key(),
                }
            },
        },
        headers={"Authorization": f"Bearer {storefront}", "X-Request-ID": "req-abc-123"},
    )
    assert response.status_code == 200

    rows = await entries(gql, admin)

    assert {r["operation"] for r in rows} == {"issueMemberToken", "adjustPoints"}
    adjust = next(r for r in rows if r["operation"] == "adjustPoints")
    assert adjust["requestId"] == "req-abc-123"
    # a storefront may not adjust: the refusal is on the record
    assert adjust["outcome"] == "FORBIDDEN"
    assert adjust["actor"]["role"] == "storefront"


async def test_filters_and_pages(gql, programme, make_key, make_member):
    admin = await make_key(programme, Role.ADMIN)
    other_admin = await make_key(programme, Role.ADMIN)
    members = [await make_member(programme) for _ in range(3)]
    for n, member in enumerate(members):
        await gql(
            ADJUST_POINTS,
            {
                "input": {
                    "memberExternalId": member.external_id,
                    "amount": 10,
                    "reason": "welcome",
                    "idempotencyKey": key(),
                }
            },
            auth=admin if n < 2 else other_admin,
        )
    rows = await entries(gql, admin, op="adjustPoints")
    assert len(rows) == 3
    target = rows[0]["targetIds"][0]

    by_target = await entries(gql, admin, target=target)
    by_actor = await entries(gql, admin, actor=rows[0]["actor"]["keyId"])
    first_page = (await gql(AUDIT_LOG, {"first": 2, "op": "adjustPoints"}, auth=admin))["data"]
    after = first_page["auditLog"]["pageInfo"]["endCursor"]
    second = await entries(gql, admin, first=2, after=after, op="adjustPoints")
    late = await entries(gql, admin, **{"from": "2100-01-01T00:00:00Z"})

    assert [r["id"] for r in by_target] == [rows[0]["id"]]
    assert {r["actor"]["keyId"] for r in by_actor} == {rows[0]["actor"]["keyId"]}
    assert len(by_actor) == 1  # the third adjustment was the other admin's
    assert first_page["auditLog"]["pageInfo"]["hasNextPage"] is True
    assert [r["id"] for r in second] == [rows[2]["id"]]
    assert late == []


async def test_only_admins_read_the_log_and_only_their_programme(
    gql, programme, make_programme, make_key, make_member
):
    admin = await make_key(programme, Role.ADMIN)
    member = await make_member(programme)
    await gql(
        ADJUST_POINTS,
        {
            "input": {
                "memberExternalId": member.external_id,
                "amount": 10,
                "reason": "welcome",
                "idempotencyKey": key(),
            }
        },
        auth=admin,
    )
    [row] = await entries(gql, admin)
    other = await make_programme()
    other_admin = await make_key(other, Role.ADMIN)
    storefront = await make_key(programme, Role.STOREFRONT)

    assert await entries(gql, other_admin) == []
    assert await entries(gql, other_admin, target=row["targetIds"][0]) == []
    refused = await gql(AUDIT_LOG, auth=storefront)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_failure_after_the_change_rolls_back_the_change_and_its_row(
    gql, programme, make_key, make_member, monkeypatch
):
    admin = await make_key(programme, Role.ADMIN)
    member = await make_member(programme)
    fail_success_rows(monkeypatch)
    body = await gql(
        ADJUST_POINTS,
        {
            "input": {
                "memberExternalId": member.external_id,
                "amount": 25,
                "reason": "goodwill",
                "idempotencyKey": key(),
            }
        },
        auth=admin,
    )

    assert body["errors"][0]["message"]  # the caller sees the failure
    assert await PointTransaction.filter(member_id=member.id).count() == 0
    assert (await Member.get(id=member.id)).points_available == 0
    rows = await AuditEntry.filter(programme_id=programme.id, operation="adjustPoints")
    assert [r.outcome for r in rows] == ["INTERNAL_ERROR"]


async def test_a_failure_in_the_change_after_it_wrote_leaves_no_success_row(
    gql, programme, make_key, make_member, monkeypatch
):
    admin = await make_key(programme, Role.ADMIN)
    member = await make_member(programme)
    from db.repositories import events as event_repo
    from db.repositories import points as points_repo

    # The ledger's last write of a credit: on PostgreSQL one statement writes the row, its
    # lot, the balances and the event; on SQLite the balances and the event come last.
    for repo, name in ((points_repo, "write_credit"), (event_repo, "save_balances_and_insert")):

        async def write_then_fail(*args, _real=getattr(repo, name), **kwargs):
            await _real(*args, **kwargs)
            raise RuntimeError("crash after the ledger row, balance and event were written")

        monkeypatch.setattr(repo, name, write_then_fail)
    body = await gql(
        ADJUST_POINTS,
        {
            "input": {
                "memberExternalId": member.external_id,
                "amount": 25,
                "reason": "goodwill",
                "idempotencyKey": key(),
            }
        },
        auth=admin,
    )

    assert body["errors"]
    assert await PointTransaction.filter(member_id=member.id).count() == 0
    assert await Event.filter(member_id=member.id, type="points.adjusted").count() == 0
    rows = await AuditEntry.filter(programme_id=programme.id, operation="adjustPoints")
    assert [r.outcome for r in rows] == ["INTERNAL_ERROR"]


@needs_postgres
async def test_postgres_refuses_to_update_or_delete_audit_rows(gql, programme, make_key):
    from tortoise import connections
    from tortoise.exceptions import OperationalError

    admin = await make_key(programme, Role.ADMIN)
    await gql(SET_POLICY, {"input": {"expiryMonths": 9, "idempotencyKey": key()}}, auth=admin)
    row = await AuditEntry.get(programme_id=programme.id)
    db = connections.get("default")

    for statement in (
        f"UPDATE audit_log SET outcome = 'SUCCESS?' WHERE id = {row.id}",
        f"DELETE FROM audit_log WHERE id = {row.id}",
        "TRUNCATE audit_log",
    ):
        with pytest.raises(OperationalError, match="append-only"):
            await db.execute_script(statement)
    assert (await AuditEntry.get(id=row.id)).outcome == "SUCCESS"
    # the retention job deletes nothing younger than its period (and never under a year)
    assert await audit_trail.prune_expired(730) == 0
    assert await AuditEntry.filter(id=row.id).exists()


@needs_postgres
async def test_the_retention_job_alone_deletes_and_only_rows_past_the_period(programme):
    from tortoise import connections
    from tortoise.exceptions import OperationalError

    def aged(days: int) -> dict:
        return {
            "programme_id": programme.id,
            "actor_role": "admin",
            "operation": "setTierPolicy",
            "target_ids": " ",
            "outcome": "SUCCESS",
            "input": {},
            "request_id": "r",
            "created_at": wall_now() - timedelta(days=days),
        }

    ancient = await AuditEntry.create(**aged(800))
    year_old = await AuditEntry.create(**aged(400))
    recent = await AuditEntry.create(**aged(10))
    with pytest.raises(OperationalError, match="append-only"):
        await connections.get("default").execute_script(
            f"DELETE FROM audit_log WHERE id = {ancient.id}"
        )

    pruned = await audit_trail.prune_expired(730)

    left = set(await AuditEntry.filter(programme_id=programme.id).values_list("id", flat=True))
    assert pruned >= 1
    assert left == {year_old.id, recent.id}


async def test_audit_export_writes_json_lines_for_a_period(gql, programme, make_key, tmp_path):
    admin = await make_key(programme, Role.ADMIN)
    for months in (5, 6):
        await gql(
            SET_POLICY, {"input": {"expiryMonths": months, "idempotencyKey": key()}}, auth=admin
        )
    env = loyalty_env(LOYALTY_DATABASE_URL=DATABASE_URL, LOYALTY_DATA_DIR=str(tmp_path))

    out = await asyncio.to_thread(
        loyalty,
        env,
        "audit-export",
        "--from",
        "2000-01-01",
        "--to",
        "2100-01-01",
        "--programme",
        programme.code,
    )
    empty = await asyncio.to_thread(
        loyalty, env, "audit-export", "--from", "2000-01-01", "--to", "2000-01-02"
    )

    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["operation"] for line in lines] == ["setPointsPolicy", "setPointsPolicy"]
    assert [line["after"]["points_policy"]["expiry_months"] for line in lines] == [5, 6]
    assert lines[0]["actor"]["keyLabel"] == "test"
    assert empty == ""


def test_every_configuration_mutation_of_the_schema_keeps_before_and_after():
    from schema import build_schema
    from schema.audit import SUBJECTS

    mutations = set(build_schema(production=False)._schema.mutation_type.fields)
    configuration = {name for name in mutations if name.startswith(("set", "upsertT", "upsertB"))}
    configuration |= {"createCouponTemplate", "retireCouponTemplate", "createApiKey"}
    configuration |= {"revokeApiKey", "advanceTestClock"}
    configuration |= {name for name in mutations if name.endswith(("WebhookEndpoint", "Secret"))}
    configuration |= {"createPartner", "updatePartner", "suspendPartner"}
    configuration |= {"issuePartnerKey", "revokePartnerKey"}

    assert configuration <= set(SUBJECTS)
    assert set(SUBJECTS) <= mutations  # no stale names


async def test_webhook_endpoint_changes_keep_before_and_after_without_secrets(
    gql, programme, make_key
):
    from tests.graphql.test_webhooks import CREATE, UPDATE

    admin = await make_key(programme, Role.ADMIN)
    created = await gql(
        CREATE,
        {
            "input": {
                "url": "https://shop.example/hooks",
                "description": "CRM",
                "idempotencyKey": key(),
            }
        },
        auth=admin,
    )
    endpoint = created["data"]["createWebhookEndpoint"]["endpoint"]
    await gql(
        UPDATE, {"input": {"endpointId": endpoint["id"], "description": "warehouse"}}, auth=admin
    )

    [create_row] = await entries(gql, admin, op="createWebhookEndpoint")
    [update_row] = await entries(gql, admin, op="updateWebhookEndpoint")

    assert create_row["before"] == [] and create_row["after"][0]["description"] == "CRM"
    assert update_row["before"][0]["description"] == "CRM"
    assert update_row["after"][0]["description"] == "warehouse"
    kept = {name for row in (create_row, update_row) for name in row["after"][0]}
    assert not kept & {"secret_sealed", "previous_secret_sealed"}


async def test_a_bulk_grant_keeps_no_member_external_id_in_the_log(
    gql, programme, make_key, make_member
):
    # given two members granted points together (the input names them by a *list* of ids)
    admin = await make_key(programme, Role.ADMIN)
    first, second = await make_member(programme), await make_member(programme)
    body = await gql(
        """mutation ($ids: [String!]!, $k: String!) { grantPoints(input: {
        memberExternalIds: $ids, amount: 5, reason: "apology", idempotencyKey: $k}) {
        __typename } }""",
        {"ids": [first.external_id, second.external_id], "k": key()},
        auth=admin,
    )
    assert body["data"]["grantPoints"]["__typename"] == "GrantPointsSuccess", body

    # when the log is read
    [row] = await entries(gql, admin, op="grantPoints")

    # then the shop's customer ids are masked like a single externalId (the log is
    # append-only: an erasure could never take them out again)
    text = json.dumps(row)
    for external_id in (first.external_id, second.external_id):
        assert external_id not in text
    assert row["input"]["input"]["memberExternalIds"] == "***"
