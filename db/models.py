"""Tortoise models. Every row that belongs to a programme carries its id."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from domain.clock import ProgrammeMode


class Programme(Model):
    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=200)
    currency = fields.CharField(max_length=3)
    timezone = fields.CharField(max_length=64, default="UTC")
    mode = fields.CharEnumField(ProgrammeMode, max_length=16)
    test_clock_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "programmes"


class ApiKey(Model):
    id = fields.IntField(primary_key=True)
    programme: fields.ForeignKeyRelation[Programme] = fields.ForeignKeyField(
        "models.Programme", related_name="api_keys", on_delete=fields.CASCADE
    )
    programme_id: int
    role = fields.CharField(max_length=16)
    label = fields.CharField(max_length=100)
    display_prefix = fields.CharField(max_length=32, db_index=True)
    secret_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_keys"


class Tier(Model):
    id = fields.IntField(primary_key=True)
    programme: fields.ForeignKeyRelation[Programme] = fields.ForeignKeyField(
        "models.Programme", related_name="tiers", on_delete=fields.CASCADE
    )
    programme_id: int
    code = fields.CharField(max_length=32)
    name = fields.CharField(max_length=60)
    rank = fields.IntField()
    entry_threshold = fields.BigIntField()
    retention_threshold = fields.BigIntField(null=True)

    class Meta:
        table = "tiers"
        unique_together = (("programme", "code"), ("programme", "rank"))


class Benefit(Model):
    id = fields.IntField(primary_key=True)
    programme: fields.ForeignKeyRelation[Programme] = fields.ForeignKeyField(
        "models.Programme", related_name="benefits", on_delete=fields.CASCADE
    )
    programme_id: int
    tier: fields.ForeignKeyRelation[Tier] = fields.ForeignKeyField(
        "models.Tier", related_name="benefits", on_delete=fields.CASCADE
    )
    tier_id: int
    code = fields.CharField(max_length=32)
    title = fields.CharField(max_length=100)
    kind = fields.CharField(max_length=32)
    value = fields.BigIntField()
    description = fields.TextField()

    class Meta:
        table = "benefits"
        unique_together = (("tier", "code"),)


class Member(Model):
    id = fields.IntField(primary_key=True)
    programme: fields.ForeignKeyRelation[Programme] = fields.ForeignKeyField(
        "models.Programme", related_name="members", on_delete=fields.CASCADE
    )
    programme_id: int
    external_id = fields.CharField(max_length=128)
    display_name = fields.CharField(max_length=100)
    email = fields.CharField(max_length=254, null=True)
    phone = fields.CharField(max_length=24, null=True)
    birthday_month = fields.SmallIntField(null=True)
    birthday_day = fields.SmallIntField(null=True)
    consent_marketing = fields.BooleanField(default=False)
    consent_profiling = fields.BooleanField(default=False)
    joined_at = fields.DatetimeField()
    tier: fields.ForeignKeyNullableRelation[Tier] = fields.ForeignKeyField(
        "models.Tier", related_name="members", null=True, on_delete=fields.RESTRICT
    )
    tier_id: int | None
    tier_since = fields.DatetimeField(null=True)

    class Meta:
        table = "members"
        unique_together = (("programme", "external_id"),)
        indexes = (("programme", "id"),)


class IdempotencyKey(Model):
    """A key's stored result, written in the same transaction as the effect it guards."""

    id = fields.BigIntField(primary_key=True)
    programme: fields.ForeignKeyRelation[Programme] = fields.ForeignKeyField(
        "models.Programme", related_name="idempotency_keys", on_delete=fields.CASCADE
    )
    programme_id: int
    principal = fields.CharField(max_length=64)
    key = fields.CharField(max_length=255)
    operation = fields.CharField(max_length=64)
    fingerprint = fields.CharField(max_length=64)
    result: fields.JSONField[dict[str, Any]] = fields.JSONField()
    created_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "idempotency_keys"
        unique_together = (("programme", "principal", "key"),)
