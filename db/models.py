"""Tortoise models. Every row that belongs to a programme carries its id.

Each model says `_no_comments = True`: without it tortoise reads and parses this whole file
once per model while importing it, looking for `#:` field comments (which we do not write),
and every process start (the server, each CLI command, each worker) paid 1.2 s for that."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from domain.clock import ProgrammeMode


class Programme(Model):
    _no_comments = True
    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=200)
    currency = fields.CharField(max_length=3)
    timezone = fields.CharField(max_length=64, default="UTC")
    mode = fields.CharEnumField(ProgrammeMode, max_length=16)
    test_clock_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    points_policy: fields.JSONField[dict[str, Any]] = fields.JSONField(null=True)
    tier_policy: fields.JSONField[dict[str, Any]] = fields.JSONField(null=True)
    segment_policy: fields.JSONField[dict[str, Any]] = fields.JSONField(null=True)
    # {role: {"maximumAvailable": n, "restoreRate": n}}; roles left out keep the defaults
    rate_limits: fields.JSONField[dict[str, Any]] = fields.JSONField(null=True)
    # Earning caps and velocity rules (issue 18.6); null: none.
    abuse_policy: fields.JSONField[dict[str, Any]] = fields.JSONField(null=True)
    # Event retention and reminder lead times (domain/events.py EventPolicy); null: defaults
    event_policy: fields.JSONField[dict[str, Any]] = fields.JSONField(null=True)

    class Meta:
        table = "programmes"


class ApiKey(Model):
    _no_comments = True
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
    expires_at = fields.DatetimeField(null=True)
    # Written at most once a minute per key (services/keys.py), not on every request.
    last_used_at = fields.DatetimeField(null=True)
    # A partner key's partner (role "partner" only). A plain column: the partners table is
    # declared after this one and a key outlives nothing of it (suspending refuses its calls).
    partner_id = fields.IntField(null=True)

    class Meta:
        table = "api_keys"


class Tier(Model):
    _no_comments = True
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
    _no_comments = True
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
    _no_comments = True
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
    # The current validity period of the tier: retention is judged on activity within it.
    tier_period_start = fields.DatetimeField(null=True)
    tier_valid_until = fields.DatetimeField(null=True)
    # The last qualifying event when the tier last changed: activity dated that same instant
    # but booked before it was what caused the change, and is not counted again after it.
    tier_event_id = fields.BigIntField(default=0)
    # Balances are the sums of the ledger, kept here so reads and locks are one row.
    points_available = fields.BigIntField(default=0)
    points_pending = fields.BigIntField(default=0)
    points_held = fields.BigIntField(default=0)
    points_shortfall = fields.BigIntField(default=0)
    last_earned_at = fields.DatetimeField(null=True)
    # The earliest moment any of the member's points can expire: a lower bound (earlier only
    # costs a look at the lots), null when nothing can. So a write knows from this row alone
    # whether expiry fell due before it, and the job finds whom to expire by an index.
    expiry_due_at = fields.DatetimeField(null=True)
    qualifying_spend = fields.BigIntField(default=0)
    # Set when the member was erased (issue 18.3): its tokens are refused from then on.
    erased_at = fields.DatetimeField(null=True)
    # The sequence number of the member's last event (services/events.py): raised by the
    # statement that writes the event, under the member's row lock, so numbers follow commits.
    event_seq = fields.BigIntField(default=0)

    class Meta:
        table = "members"
        unique_together = (("programme", "external_id"),)
        indexes = (
            ("programme", "id"),
            ("programme", "tier_valid_until"),
            ("programme", "expiry_due_at"),
        )


class IdempotencyKey(Model):
    """A key's stored result, written in the same transaction as the effect it guards."""

    _no_comments = True

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


class PointTransaction(Model):
    """One ledger row. Append-only: a correction is a new row (`reverses` points at the old)."""

    _no_comments = True

    id = fields.BigIntField(primary_key=True)
    programme: fields.ForeignKeyRelation[Programme] = fields.ForeignKeyField(
        "models.Programme", related_name="point_transactions", on_delete=fields.CASCADE
    )
    programme_id: int
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="point_transactions", on_delete=fields.RESTRICT
    )
    member_id: int
    kind = fields.CharField(max_length=16)
    bucket = fields.CharField(max_length=16)
    amount = fields.BigIntField()
    available_after = fields.BigIntField()
    pending_after = fields.BigIntField()
    reference_type = fields.CharField(max_length=16)
    reference = fields.CharField(max_length=160)
    reason = fields.CharField(max_length=200)
    actor = fields.CharField(max_length=64)
    idempotency_key = fields.CharField(max_length=255, null=True)
    # The row this one reverses. A plain column: aerich cannot order a self-referencing FK.
    reverses_id = fields.BigIntField(null=True, db_index=True)
    shortfall = fields.BigIntField(default=0)
    created_at = fields.DatetimeField()

    class Meta:
        table = "point_transactions"
        # the last: a range of a programme's ledger (insights), and what it moved after a day
        indexes = (
            ("member", "id"),
            ("programme", "reference_type", "reference"),
            ("programme", "created_at"),
        )


class PointLot(Model):
    """Points earned together, spent and expired together: `remaining` is what is left."""

    _no_comments = True

    id = fields.BigIntField(primary_key=True)
    programme: fields.ForeignKeyRelation[Programme] = fields.ForeignKeyField(
        "models.Programme", related_name="point_lots", on_delete=fields.CASCADE
    )
    programme_id: int
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="point_lots", on_delete=fields.RESTRICT
    )
    member_id: int
    source: fields.ForeignKeyRelation[PointTransaction] = fields.ForeignKeyField(
        "models.PointTransaction", related_name="lots", on_delete=fields.RESTRICT
    )
    source_id: int
    amount = fields.BigIntField()
    remaining = fields.BigIntField()
    earned_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(null=True)

    class Meta:
        table = "point_lots"
        indexes = (("member", "remaining"), ("programme", "expires_at"))


class LotMovement(Model):
    """How much of which lot a transaction took (or gave back): redemptions are restored exactly."""

    _no_comments = True

    id = fields.BigIntField(primary_key=True)
    transaction: fields.ForeignKeyRelation[PointTransaction] = fields.ForeignKeyField(
        "models.PointTransaction", related_name="lot_movements", on_delete=fields.RESTRICT
    )
    transaction_id: int
    lot: fields.ForeignKeyRelation[PointLot] = fields.ForeignKeyField(
        "models.PointLot", related_name="movements", on_delete=fields.RESTRICT
    )
    lot_id: int
    amount = fields.BigIntField()

    class Meta:
        table = "lot_movements"


class Order(Model):
    _no_comments = True
    id = fields.BigIntField(primary_key=True)
    programme: fields.ForeignKeyRelation[Programme] = fields.ForeignKeyField(
        "models.Programme", related_name="orders", on_delete=fields.CASCADE
    )
    programme_id: int
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="orders", on_delete=fields.RESTRICT
    )
    member_id: int
    order_ref = fields.CharField(max_length=64)
    status = fields.CharField(max_length=16)
    currency = fields.CharField(max_length=3)
    placed_at = fields.DatetimeField()
    recorded_at = fields.DatetimeField()
    matures_at = fields.DatetimeField()
    completed_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)
    amount = fields.BigIntField()
    returned_amount = fields.BigIntField(default=0)
    paid_with_points = fields.BigIntField(default=0)  # of `amount`: not qualifying spend
    points = fields.BigIntField()
    points_reversed = fields.BigIntField(default=0)
    channel = fields.CharField(max_length=16, default="ONLINE")  # domain.campaigns.Channel

    class Meta:
        table = "orders"
        unique_together = (("programme", "order_ref"),)
        indexes = (
            ("programme", "status", "matures_at"),
            ("member", "placed_at"),
            ("programme", "placed_at"),  # a range of a programme's orders (insights)
        )


class OrderLine(Model):
    _no_comments = True
    id = fields.BigIntField(primary_key=True)
    order: fields.ForeignKeyRelation[Order] = fields.ForeignKeyField(
        "models.Order", related_name="lines", on_delete=fields.CASCADE
    )
    order_id: int
    sku = fields.CharField(max_length=64)
    category = fields.CharField(max_length=64)
    unit_price = fields.BigIntField()
    quantity = fields.IntField()
    discounted = fields.BooleanField()
    points = fields.BigIntField()
    rules: fields.JSONField[list[list[Any]]] = fields.JSONField()
    returned_quantity = fields.IntField(default=0)
    points_reversed = fields.BigIntField(default=0)

    class Meta:
        table = "order_lines"
        unique_together = (("order", "sku"),)


class PointHold(Model):
    """Points reserved at checkout: captured (in part) when the order is placed, else released."""

    _no_comments = True

    id = fields.BigIntField(primary_key=True)
    programme: fields.ForeignKeyRelation[Programme] = fields.ForeignKeyField(
        "models.Programme", related_name="point_holds", on_delete=fields.CASCADE
    )
    programme_id: int
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="point_holds", on_delete=fields.RESTRICT
    )
    member_id: int
    order_ref = fields.CharField(max_length=64)
    amount = fields.BigIntField()
    captured = fields.BigIntField(default=0)
    status = fields.CharField(max_length=16)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    closed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "point_holds"
        indexes = (("programme", "status", "expires_at"),)


class CheckIn(Model):
    """One per member per day in the programme's time zone: the unique index enforces it."""

    _no_comments = True

    id = fields.BigIntField(primary_key=True)
    programme: fields.ForeignKeyRelation[Programme] = fields.ForeignKeyField(
        "models.Programme", related_name="check_ins", on_delete=fields.CASCADE
    )
    programme_id: int
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="check_ins", on_delete=fields.RESTRICT
    )
    member_id: int
    day = fields.DateField()
    streak = fields.IntField()
    points = fields.BigIntField()

    class Meta:
        table = "check_ins"
        unique_together = (("member", "day"),)


class Review(Model):
    """A review reward, once per order line (unique)."""

    _no_comments = True

    id = fields.BigIntField(primary_key=True)
    programme: fields.ForeignKeyRelation[Programme] = fields.ForeignKeyField(
        "models.Programme", related_name="reviews", on_delete=fields.CASCADE
    )
    programme_id: int
    line: fields.OneToOneRelation[OrderLine] = fields.OneToOneField(
        "models.OrderLine", related_name="review", on_delete=fields.RESTRICT
    )
    line_id: int
    created_at = fields.DatetimeField()

    class Meta:
        table = "reviews"


class Referral(Model):
    """Inviter -> invitee. Rewarded when the invitee's first order completes; a member is
    invited at most once (unique invitee), so a chain never forks back on itself."""

    _no_comments = True

    id = fields.BigIntField(primary_key=True)
    programme: fields.ForeignKeyRelation[Programme] = fields.ForeignKeyField(
        "models.Programme", related_name="referrals", on_delete=fields.CASCADE
    )
    programme_id: int
    inviter: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="invited", on_delete=fields.RESTRICT
    )
    inviter_id: int
    invitee: fields.OneToOneRelation[Member] = fields.OneToOneField(
        "models.Member", related_name="referral", on_delete=fields.RESTRICT
    )
    invitee_id: int
    status = fields.CharField(max_length=16)
    order: fields.ForeignKeyNullableRelation[Order] = fields.ForeignKeyField(
        "models.Order", related_name="referrals", null=True, on_delete=fields.RESTRICT
    )
    order_id: int | None
    created_at = fields.DatetimeField()

    class Meta:
        table = "referrals"


class InviteCode(Model):
    """A member's referral code, made when first asked for."""

    _no_comments = True

    id = fields.IntField(primary_key=True)
    programme: fields.ForeignKeyRelation[Programme] = fields.ForeignKeyField(
        "models.Programme", related_name="invite_codes", on_delete=fields.CASCADE
    )
    programme_id: int
    member: fields.OneToOneRelation[Member] = fields.OneToOneField(
        "models.Member", related_name="invite_code", on_delete=fields.RESTRICT
    )
    member_id: int
    code = fields.CharField(max_length=16)

    class Meta:
        table = "invite_codes"
        unique_together = (("programme", "code"),)


class QualifyingEvent(Model):
    """What counts towards tiers: spend, orders and growth, each signed (returns subtract).
    A return is dated like the completion it undoes, so both fall in the same windows."""

    _no_comments = True

    id = fields.BigIntField(primary_key=True)
    programme: fields.ForeignKeyRelation[Programme] = fields.ForeignKeyField(
        "models.Programme", related_name="qualifying_events", on_delete=fields.CASCADE
    )
    programme_id: int
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="qualifying_events", on_delete=fields.RESTRICT
    )
    member_id: int
    at = fields.DatetimeField()
    booked_at = fields.DatetimeField()
    spend = fields.BigIntField(default=0)
    orders = fields.IntField(default=0)
    growth = fields.BigIntField(default=0)
    reference = fields.CharField(max_length=160)

    class Meta:
        table = "qualifying_events"
        indexes = (("member", "at"),)


class TierChange(Model):
    """Tier history: every change of a member's tier, with why and when."""

    _no_comments = True

    id = fields.BigIntField(primary_key=True)
    programme: fields.ForeignKeyRelation[Programme] = fields.ForeignKeyField(
        "models.Programme", related_name="tier_changes", on_delete=fields.CASCADE
    )
    programme_id: int
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="tier_changes", on_delete=fields.RESTRICT
    )
    member_id: int
    from_tier_id = fields.IntField(null=True)
    to_tier_id = fields.IntField(null=True)
    reason = fields.CharField(max_length=16)
    qualifying_total = fields.BigIntField()
    # The member's last qualifying event when the change was made: later returns of orders
    # that helped earn the tier are the events after it dated before the change.
    last_event_id = fields.BigIntField(default=0)
    # The start of the window qualifying_total was counted over.
    window_from = fields.DatetimeField(null=True)
    at = fields.DatetimeField()

    class Meta:
        table = "tier_changes"
        # the second: a range of a programme's moves, and who moved after a day (insights)
        indexes = (("member", "id"), ("programme", "at"))


class CouponTemplate(Model):
    """What a coupon is worth and who may have one. Stock is taken by a conditional UPDATE of
    `stock_left` on this row (null: no cap), so the cap holds across processes."""

    _no_comments = True

    id = fields.IntField(primary_key=True)
    programme: fields.ForeignKeyRelation[Programme] = fields.ForeignKeyField(
        "models.Programme", related_name="coupon_templates", on_delete=fields.CASCADE
    )
    programme_id: int
    code = fields.CharField(max_length=32)
    title = fields.CharField(max_length=100)
    kind = fields.CharField(max_length=16)
    amount = fields.BigIntField(default=0)
    percent = fields.IntField(default=0)
    cap = fields.BigIntField(null=True)
    threshold = fields.BigIntField(default=0)
    gift_sku = fields.CharField(max_length=64, null=True)
    valid_from = fields.DatetimeField(null=True)
    valid_until = fields.DatetimeField(null=True)
    valid_days = fields.IntField(null=True)
    total_stock = fields.IntField(null=True)
    stock_left = fields.IntField(null=True)
    issued = fields.IntField(default=0)
    per_member_limit = fields.IntField(null=True)
    eligible_tiers: fields.JSONField[list[int]] = fields.JSONField()
    eligible_categories: fields.JSONField[list[str]] = fields.JSONField()
    eligible_skus: fields.JSONField[list[str]] = fields.JSONField()
    stackable = fields.BooleanField(default=False)
    points_price = fields.BigIntField(null=True)
    claimable = fields.BooleanField(default=True)
    auto_issue = fields.CharField(max_length=24)
    status = fields.CharField(max_length=16)
    created_at = fields.DatetimeField()
    retired_at = fields.DatetimeField(null=True)

    class Meta:
        table = "coupon_templates"
        unique_together = (("programme", "code"),)


class Coupon(Model):
    """One issued coupon in a member's wallet. Its status column is AVAILABLE, LOCKED or USED;
    EXPIRED (and a lapsed lock) are read off the programme's clock."""

    _no_comments = True

    id = fields.BigIntField(primary_key=True)
    programme: fields.ForeignKeyRelation[Programme] = fields.ForeignKeyField(
        "models.Programme", related_name="coupons", on_delete=fields.CASCADE
    )
    programme_id: int
    template: fields.ForeignKeyRelation[CouponTemplate] = fields.ForeignKeyField(
        "models.CouponTemplate", related_name="coupons", on_delete=fields.RESTRICT
    )
    template_id: int
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="coupons", on_delete=fields.RESTRICT
    )
    member_id: int
    code = fields.CharField(max_length=40)
    status = fields.CharField(max_length=16)
    source = fields.CharField(max_length=24)
    # For coupons the job issues: the period ("2027-03", "2027") and which of that period's
    # coupons this is. Unique with template and member, so a second run issues nothing.
    period = fields.CharField(max_length=16, null=True)
    period_seq = fields.SmallIntField(null=True)
    issued_at = fields.DatetimeField()
    starts_at = fields.DatetimeField(null=True)
    ends_at = fields.DatetimeField()
    order_ref = fields.CharField(max_length=64, null=True)
    locked_at = fields.DatetimeField(null=True)
    lock_expires_at = fields.DatetimeField(null=True)
    discount = fields.BigIntField(null=True)  # what it took off the cart it was locked with
    used_at = fields.DatetimeField(null=True)
    points_transaction_id = fields.BigIntField(null=True)  # the points it was bought with

    class Meta:
        table = "coupons"
        unique_together = (("programme", "code"), ("template", "member", "period", "period_seq"))
        indexes = (("member", "ends_at", "id"), ("programme", "status", "lock_expires_at"))


class Product(Model):
    """The programme's catalogue, as the shop upserts it; order lines name products by sku."""

    _no_comments = True

    id = fields.IntField(primary_key=True)
    programme: fields.ForeignKeyRelation[Programme] = fields.ForeignKeyField(
        "models.Programme", related_name="products", on_delete=fields.CASCADE
    )
    programme_id: int
    sku = fields.CharField(max_length=64)
    title = fields.CharField(max_length=200)
    category = fields.CharField(max_length=64)
    price = fields.BigIntField()
    replenish_days = fields.IntField(null=True)
    active = fields.BooleanField(default=True)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "products"
        unique_together = (("programme", "sku"),)


class MemberSegment(Model):
    """A member's RFM scores and lifecycle as of the last build."""

    _no_comments = True

    member: fields.OneToOneRelation[Member] = fields.OneToOneField(
        "models.Member", related_name="segment", on_delete=fields.CASCADE, primary_key=True
    )
    member_id: int
    programme: fields.ForeignKeyRelation[Programme] = fields.ForeignKeyField(
        "models.Programme", related_name="member_segments", on_delete=fields.CASCADE
    )
    programme_id: int
    recency_days = fields.IntField(null=True)
    frequency = fields.IntField()
    monetary = fields.BigIntField()
    recency_score = fields.SmallIntField()
    frequency_score = fields.SmallIntField()
    monetary_score = fields.SmallIntField()
    lifecycle = fields.CharField(max_length=16)
    computed_at = fields.DatetimeField()

    class Meta:
        table = "member_segments"
        indexes = (("programme", "lifecycle", "member"),)


class RecommendationList(Model):
    """What the build ranked: one row per member (candidates, and the replenishable products
    they buy), and one per programme with `member` null (the overall popular list). Products
    are stored with what a page shows of them, so reading a list is one statement."""

    _no_comments = True

    id = fields.BigIntField(primary_key=True)
    programme: fields.ForeignKeyRelation[Programme] = fields.ForeignKeyField(
        "models.Programme", related_name="recommendation_lists", on_delete=fields.CASCADE
    )
    programme_id: int
    member: fields.ForeignKeyNullableRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="recommendation_lists", null=True, on_delete=fields.CASCADE
    )
    member_id: int | None
    items: fields.JSONField[dict[str, Any]] = fields.JSONField()
    computed_at = fields.DatetimeField()

    class Meta:
        table = "recommendation_lists"
        indexes = (("programme", "member"),)


class AuditEntry(Model):
    """One staff action (issue 18.1), written in the transaction of the change it records.

    Append-only: nothing in the application updates or deletes a row, and on PostgreSQL a
    trigger (hand-written in the migration) refuses UPDATE, and DELETE outside the retention
    job."""

    _no_comments = True

    id = fields.BigIntField(primary_key=True)
    programme: fields.ForeignKeyRelation[Programme] = fields.ForeignKeyField(
        "models.Programme", related_name="audit_entries", on_delete=fields.RESTRICT
    )
    programme_id: int
    actor_role = fields.CharField(max_length=16)
    actor_key_id = fields.IntField(null=True)
    actor_key_prefix = fields.CharField(max_length=32, null=True)
    actor_key_label = fields.CharField(max_length=100, null=True)
    actor_member_id = fields.IntField(null=True)
    operation = fields.CharField(max_length=64)
    # Global ids of what the action touched, space-separated with a space at each end, so a
    # search for one id is a LIKE on ' <id> ' in both dialects.
    target_ids = fields.TextField()
    outcome = fields.CharField(max_length=64)
    input: fields.JSONField[dict[str, Any]] = fields.JSONField()
    before: fields.JSONField[Any] = fields.JSONField(null=True)
    after: fields.JSONField[Any] = fields.JSONField(null=True)
    request_id = fields.CharField(max_length=64)
    created_at = fields.DatetimeField()

    class Meta:
        table = "audit_log"
        indexes = (("programme", "created_at"), ("programme", "actor_key_id", "id"))


class Event(Model):
    """The outbox: one row per change a shop cares about, written in the change's own
    transaction (so it exists if and only if the change committed). Written and read only by
    db/repositories/events.py, in commit order: on PostgreSQL `txid` is the writing
    transaction's id (the column default, migration 6) and rows are handed out only below the
    reader's snapshot xmin, by (txid, id); on SQLite `txid` is 0 and id order is commit order."""

    _no_comments = True

    id = fields.BigIntField(primary_key=True)
    event_id = fields.UUIDField(unique=True)
    programme: fields.ForeignKeyRelation[Programme] = fields.ForeignKeyField(
        "models.Programme", related_name="events", on_delete=fields.CASCADE
    )
    programme_id: int
    # The subject; null for events about the programme itself (a webhook endpoint disabled)
    member: fields.ForeignKeyNullableRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="events", null=True, on_delete=fields.CASCADE
    )
    member_id: int | None
    type = fields.CharField(max_length=48)
    sequence = fields.BigIntField(null=True)  # the member's event number, 1, 2, 3, ...
    occurred_at = fields.DatetimeField()  # on the programme's clock
    recorded_at = fields.DatetimeField()  # wall clock: retention counts from it
    payload: fields.JSONField[dict[str, Any]] = fields.JSONField()
    txid = fields.BigIntField()  # no Python default: written only by db/repositories/events.py

    class Meta:
        table = "events"
        unique_together = (("member", "sequence"),)
        indexes = (("txid", "id"), ("programme", "txid", "id"), ("recorded_at",))


class EventReminder(Model):
    """A reminder event sent once: the unique key (member, kind, about) is what keeps a second
    run-jobs from sending it again. `about` names the lot or the tier period; kept until
    `due_at` (when the lot expires, the period ends) has passed."""

    _no_comments = True

    id = fields.BigIntField(primary_key=True)
    programme: fields.ForeignKeyRelation[Programme] = fields.ForeignKeyField(
        "models.Programme", related_name="event_reminders", on_delete=fields.CASCADE
    )
    programme_id: int
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="event_reminders", on_delete=fields.CASCADE
    )
    member_id: int
    kind = fields.CharField(max_length=48)
    about = fields.CharField(max_length=64)
    due_at = fields.DatetimeField()
    sent_at = fields.DatetimeField()

    class Meta:
        table = "event_reminders"
        unique_together = (("member", "kind", "about"),)
        indexes = (("programme", "due_at"),)


class AbuseFlag(Model):
    """A member flagged by an abuse rule (issue 18.6), once per rule and period; the points
    earned over a cap wait here for an admin's decision."""

    _no_comments = True

    id = fields.BigIntField(primary_key=True)
    programme: fields.ForeignKeyRelation[Programme] = fields.ForeignKeyField(
        "models.Programme", related_name="abuse_flags", on_delete=fields.CASCADE
    )
    programme_id: int
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="abuse_flags", on_delete=fields.RESTRICT
    )
    member_id: int
    rule = fields.CharField(max_length=48)
    period = fields.CharField(max_length=32)
    points_held = fields.BigIntField(default=0)
    status = fields.CharField(max_length=16)
    decision_reason = fields.CharField(max_length=200, null=True)
    decided_by = fields.CharField(max_length=64, null=True)
    created_at = fields.DatetimeField()
    decided_at = fields.DatetimeField(null=True)

    class Meta:
        table = "abuse_flags"
        unique_together = (("member", "rule", "period"),)
        indexes = (("programme", "status", "id"),)


# --- webhooks (services/webhooks) ---


class WebhookEndpoint(Model):
    """Where a programme's events are pushed. The signing secrets are stored sealed
    (services/webhooks/secrets.py), never in the clear; the previous one signs too until
    `previous_secret_until` (a rotation's overlap)."""

    _no_comments = True

    id = fields.IntField(primary_key=True)
    programme: fields.ForeignKeyRelation[Programme] = fields.ForeignKeyField(
        "models.Programme", related_name="webhook_endpoints", on_delete=fields.CASCADE
    )
    programme_id: int
    url = fields.CharField(max_length=2000)
    description = fields.CharField(max_length=500, default="")
    event_types: fields.JSONField[list[str]] = fields.JSONField(default=list)  # []: all
    status = fields.CharField(max_length=16)  # domain.webhooks.EndpointStatus
    secret_sealed = fields.TextField()
    previous_secret_sealed = fields.TextField(null=True)
    previous_secret_until = fields.DatetimeField(null=True)
    # Since when every attempt has failed (null after a success): 5 days of it disables.
    failing_since = fields.DatetimeField(null=True)
    disabled_at = fields.DatetimeField(null=True)
    # A partner's own endpoint (registered with its key): it gets only the events about that
    # partner's transfers (services/webhooks/deliveries.py fan_out). A plain column, like
    # api_keys.partner_id. Null: the programme's endpoint, which gets every event it wants.
    partner_id = fields.IntField(null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "webhook_endpoints"
        indexes = (("programme", "id"),)


class WebhookDelivery(Model):
    """One event to one endpoint. `next_attempt_at` is both when it is due and, while a
    deliverer holds it, the end of that claim: a deliverer that dies leaves it due again then
    (at least once)."""

    _no_comments = True

    id = fields.BigIntField(primary_key=True)
    programme: fields.ForeignKeyRelation[Programme] = fields.ForeignKeyField(
        "models.Programme", related_name="webhook_deliveries", on_delete=fields.CASCADE
    )
    programme_id: int
    endpoint: fields.ForeignKeyRelation[WebhookEndpoint] = fields.ForeignKeyField(
        "models.WebhookEndpoint", related_name="deliveries", on_delete=fields.CASCADE
    )
    endpoint_id: int
    event: fields.ForeignKeyRelation[Event] = fields.ForeignKeyField(
        "models.Event", related_name="webhook_deliveries", on_delete=fields.CASCADE
    )
    event_id: int
    status = fields.CharField(max_length=16)  # domain.webhooks.DeliveryStatus
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    last_attempt_at = fields.DatetimeField(null=True)
    last_status_code = fields.IntField(null=True)
    last_latency_ms = fields.IntField(null=True)
    last_response = fields.CharField(max_length=1024, default="")  # at most 1 kB of it
    last_error = fields.CharField(max_length=200, null=True)

    class Meta:
        table = "webhook_deliveries"
        unique_together = (("endpoint", "event"),)
        indexes = (("status", "next_attempt_at"), ("programme", "endpoint", "id"))


class WebhookFanOut(Model):
    """One row: how far in the event stream (commit order) deliveries have been made."""

    _no_comments = True

    id = fields.IntField(primary_key=True)
    txid = fields.BigIntField(default=0)
    event_id = fields.BigIntField(default=0)

    class Meta:
        table = "webhook_fan_out"


class Partner(Model):
    """A partner platform exchanging points with the programme; its terms are
    domain.partners.PartnerTerms as JSON (rates as exact integer ratios, limits in points)."""

    _no_comments = True

    id = fields.IntField(primary_key=True)
    programme: fields.ForeignKeyRelation[Programme] = fields.ForeignKeyField(
        "models.Programme", related_name="partners", on_delete=fields.CASCADE
    )
    programme_id: int
    code = fields.CharField(max_length=32)
    name = fields.CharField(max_length=100)
    status = fields.CharField(max_length=16)
    terms: fields.JSONField[dict[str, Any]] = fields.JSONField()
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "partners"
        unique_together = (("programme", "code"),)


class PartnerLink(Model):
    """A member's account at a partner. One active link per (partner, partner member id) and
    per (partner, member): `active_key` is set while active and null once unlinked."""

    _no_comments = True

    id = fields.BigIntField(primary_key=True)
    programme: fields.ForeignKeyRelation[Programme] = fields.ForeignKeyField(
        "models.Programme", related_name="partner_links", on_delete=fields.CASCADE
    )
    programme_id: int
    partner: fields.ForeignKeyRelation[Partner] = fields.ForeignKeyField(
        "models.Partner", related_name="links", on_delete=fields.CASCADE
    )
    partner_id: int
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="partner_links", on_delete=fields.RESTRICT
    )
    member_id: int
    partner_member_id = fields.CharField(max_length=64)
    # Unique while the link is active (partner member id, and member id, each with the partner).
    active_member_key = fields.CharField(max_length=80, null=True, unique=True)
    active_account_key = fields.CharField(max_length=100, null=True, unique=True)
    share_balance = fields.BooleanField(default=False)  # consent: the partner may see points
    linked_by = fields.CharField(max_length=64)
    consented_at = fields.DatetimeField()
    unlinked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "partner_links"
        indexes = (("partner", "partner_member_id"), ("member", "partner"))


class PartnerVerificationFailure(Model):
    """A partner's failed attempt to verify a member before linking: 5 an hour lock it out."""

    _no_comments = True

    id = fields.BigIntField(primary_key=True)
    partner: fields.ForeignKeyRelation[Partner] = fields.ForeignKeyField(
        "models.Partner", related_name="verification_failures", on_delete=fields.CASCADE
    )
    partner_id: int
    partner_member_id = fields.CharField(max_length=64)
    at = fields.DatetimeField()

    class Meta:
        table = "partner_verification_failures"
        indexes = (("partner", "partner_member_id", "at"),)


class PartnerTransfer(Model):
    """One exchange with a partner, either way. Inbound ones are unique per partner by the
    partner's transfer id; outbound ones go PENDING -> COMPLETED | FAILED, and a completed
    one may later be REVERSED (by a new ledger row)."""

    _no_comments = True

    id = fields.BigIntField(primary_key=True)
    programme: fields.ForeignKeyRelation[Programme] = fields.ForeignKeyField(
        "models.Programme", related_name="partner_transfers", on_delete=fields.CASCADE
    )
    programme_id: int
    partner: fields.ForeignKeyRelation[Partner] = fields.ForeignKeyField(
        "models.Partner", related_name="transfers", on_delete=fields.RESTRICT
    )
    partner_id: int
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="partner_transfers", on_delete=fields.RESTRICT
    )
    member_id: int
    direction = fields.CharField(max_length=3)
    status = fields.CharField(max_length=16)
    partner_member_id = fields.CharField(max_length=64)
    # IN: the partner's transfer id (unique per partner); OUT: the partner's reference on confirm.
    partner_transfer_id = fields.CharField(max_length=64, null=True)
    partner_reference = fields.CharField(max_length=64, null=True)
    partner_units = fields.BigIntField()
    # OUT: while PENDING these points are held (member.points_held): not spendable, and not
    # taken by expiry (domain.lots.expiry_steps leaves held points alone).
    points = fields.BigIntField()
    rate_source = fields.IntField()
    rate_target = fields.IntField()
    reason = fields.CharField(max_length=200, null=True)
    transaction_id = fields.BigIntField(null=True)  # the ledger row that moved the points
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)
    reversed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "partner_transfers"
        unique_together = (("partner", "direction", "partner_transfer_id"),)
        indexes = (
            ("partner", "created_at"),
            ("partner", "closed_at"),
            ("partner", "reversed_at"),
            ("member", "partner", "direction", "created_at"),
            ("programme", "status", "expires_at"),
        )


class Campaign(Model):
    """A time-boxed earning rule (domain.campaigns.Campaign). What the domain judges lives in
    `rule` (recurrence, audience, conditions, effects, member limits); what SQL filters or
    spends by is a column. The budget is spent by a conditional UPDATE of `budget_spent`
    (net of take-backs) in the transaction of the fact that earns it, so it holds across
    processes."""

    _no_comments = True

    id = fields.IntField(primary_key=True)
    programme: fields.ForeignKeyRelation[Programme] = fields.ForeignKeyField(
        "models.Programme", related_name="campaigns", on_delete=fields.CASCADE
    )
    programme_id: int
    code = fields.CharField(max_length=32)
    name = fields.CharField(max_length=100)
    description = fields.CharField(max_length=500, default="")
    status = fields.CharField(max_length=16)
    trigger = fields.CharField(max_length=16)
    stacking = fields.CharField(max_length=16)
    priority = fields.IntField(default=0)
    starts_at = fields.DatetimeField()
    ends_at = fields.DatetimeField()
    rule: fields.JSONField[dict[str, Any]] = fields.JSONField()
    budget = fields.BigIntField(null=True)
    budget_spent = fields.BigIntField(default=0)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()
    activated_at = fields.DatetimeField(null=True)
    ended_at = fields.DatetimeField(null=True)

    class Meta:
        table = "campaigns"
        unique_together = (("programme", "code"),)
        indexes = (("programme", "status", "id"),)


class CampaignAward(Model):
    """What one campaign gave one member for one fact (an order, a check-in...): its points per
    line, and what returns took back. The member's caps are sums over these rows, read under
    the member's lock; `campaign.results` aggregates them."""

    _no_comments = True

    id = fields.BigIntField(primary_key=True)
    programme: fields.ForeignKeyRelation[Programme] = fields.ForeignKeyField(
        "models.Programme", related_name="campaign_awards", on_delete=fields.CASCADE
    )
    programme_id: int
    campaign: fields.ForeignKeyRelation[Campaign] = fields.ForeignKeyField(
        "models.Campaign", related_name="awards", on_delete=fields.RESTRICT
    )
    campaign_id: int
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="campaign_awards", on_delete=fields.RESTRICT
    )
    member_id: int
    # orders: the order; other facts: null, and reference_type/reference name the fact
    order_id = fields.BigIntField(null=True, db_index=True)
    reference_type = fields.CharField(max_length=16)
    reference = fields.CharField(max_length=160)
    points = fields.BigIntField()
    points_reversed = fields.BigIntField(default=0)
    # [[sku, points, points_reversed], ...] for orders; [] for other facts
    lines: fields.JSONField[list[list[Any]]] = fields.JSONField()
    spend = fields.BigIntField(default=0)  # the rewarded order's amount (minor units)
    coupon_id = fields.BigIntField(null=True)
    transaction_id = fields.BigIntField(null=True)  # other facts: the ledger row it booked
    awarded_at = fields.DatetimeField()  # the fact's moment: caps per period are read by it
    cancelled = fields.BooleanField(default=False)  # the order was cancelled: budget given back

    class Meta:
        table = "campaign_awards"
        indexes = (("campaign", "member", "awarded_at"), ("programme", "awarded_at"))


class Reward(Model):
    """A catalogue item members spend points (or points and cash) on (domain.rewards.Reward).
    Stock is taken by a conditional UPDATE of `stock_left` (null: unlimited) in the
    redemption's transaction, so it holds across processes; `redeemed` counts net quantity."""

    _no_comments = True

    id = fields.IntField(primary_key=True)
    programme: fields.ForeignKeyRelation[Programme] = fields.ForeignKeyField(
        "models.Programme", related_name="rewards", on_delete=fields.CASCADE
    )
    programme_id: int
    code = fields.CharField(max_length=32)
    title = fields.CharField(max_length=100)
    description = fields.CharField(max_length=1000, default="")
    image_url = fields.CharField(max_length=500, null=True)
    category = fields.CharField(max_length=64)
    kind = fields.CharField(max_length=16)  # PRODUCT, COUPON, DIGITAL, PARTNER
    points_price = fields.BigIntField()  # per item
    cash_price = fields.BigIntField(default=0)  # per item, minor units; 0: points only
    coupon_template_id = fields.IntField(null=True)  # COUPON: the template it issues from
    partner_id = fields.IntField(null=True)  # PARTNER: the partner credited
    partner_units = fields.BigIntField(null=True)  # PARTNER: units credited per item
    total_stock = fields.IntField(null=True)
    stock_left = fields.IntField(null=True)
    redeemed = fields.IntField(default=0)
    per_member_limit = fields.IntField(null=True)  # items per member per `limit_period`
    limit_period = fields.CharField(max_length=8, default="EVER")  # DAY WEEK MONTH YEAR EVER
    eligible_tiers: fields.JSONField[list[int]] = fields.JSONField()  # tier ids; []: every tier
    valid_from = fields.DatetimeField(null=True)
    valid_until = fields.DatetimeField(null=True)
    status = fields.CharField(max_length=16)  # ACTIVE, RETIRED
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()
    retired_at = fields.DatetimeField(null=True)

    class Meta:
        table = "rewards"
        unique_together = (("programme", "code"),)
        # the second: the member page's affordable rewards, dearest (then newest) first within
        # its points, read down the index to the limit
        indexes = (
            ("programme", "status", "category", "id"),
            ("programme", "status", "points_price", "id"),
        )


class RewardRedemption(Model):
    """One member's redemption of a reward: REQUESTED -> FULFILLED | CANCELLED. Points only:
    `transaction_id` is the debit; cash + points: `hold_id` is the checkout hold for the
    shop's order `order_ref`. A cancel restores the points once (`restore_transaction_id`)."""

    _no_comments = True

    id = fields.BigIntField(primary_key=True)
    programme: fields.ForeignKeyRelation[Programme] = fields.ForeignKeyField(
        "models.Programme", related_name="reward_redemptions", on_delete=fields.CASCADE
    )
    programme_id: int
    reward: fields.ForeignKeyRelation[Reward] = fields.ForeignKeyField(
        "models.Reward", related_name="redemptions", on_delete=fields.RESTRICT
    )
    reward_id: int
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="reward_redemptions", on_delete=fields.RESTRICT
    )
    member_id: int
    quantity = fields.IntField()
    points = fields.BigIntField()  # in all
    cash = fields.BigIntField(default=0)  # in all, minor units
    status = fields.CharField(max_length=16)
    transaction_id = fields.BigIntField(null=True)
    hold_id = fields.BigIntField(null=True, db_index=True)
    order_ref = fields.CharField(max_length=64, null=True)
    coupon_id = fields.BigIntField(null=True)
    digital_code = fields.CharField(max_length=64, null=True)
    partner_transfer_id = fields.BigIntField(null=True)
    tracking_ref = fields.CharField(max_length=128, null=True)
    cancel_reason = fields.CharField(max_length=200, null=True)
    restore_transaction_id = fields.BigIntField(null=True)
    requested_at = fields.DatetimeField()
    fulfilled_at = fields.DatetimeField(null=True)
    cancelled_at = fields.DatetimeField(null=True)

    class Meta:
        table = "reward_redemptions"
        indexes = (
            ("reward", "member", "requested_at"),
            ("member", "requested_at"),
            ("programme", "status", "requested_at"),
        )


class Challenge(Model):
    """A goal members reach within a window for a reward (domain.challenges.Challenge). What
    the domain judges (audience, reward) is JSON; what SQL filters by is a column."""

    _no_comments = True

    id = fields.IntField(primary_key=True)
    programme: fields.ForeignKeyRelation[Programme] = fields.ForeignKeyField(
        "models.Programme", related_name="challenges", on_delete=fields.CASCADE
    )
    programme_id: int
    code = fields.CharField(max_length=32)
    name = fields.CharField(max_length=100)
    description = fields.CharField(max_length=500, default="")
    status = fields.CharField(max_length=16)  # DRAFT, ACTIVE, ENDED
    starts_at = fields.DatetimeField()
    ends_at = fields.DatetimeField()
    # ORDERS, SPEND, CHECK_IN_STREAK, REVIEWS, REFERRALS, CATEGORIES
    goal = fields.CharField(max_length=24)
    target = fields.BigIntField()
    audience: fields.JSONField[dict[str, Any]] = fields.JSONField()
    reward: fields.JSONField[dict[str, Any]] = fields.JSONField()
    undo_on_return = fields.BooleanField(default=False)  # a return takes back the reward too
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "challenges"
        unique_together = (("programme", "code"),)
        indexes = (("programme", "status", "id"),)  # the active list, in order


class ChallengeProgress(Model):
    """One member's progress on one challenge, written by the transaction of the fact that
    moves it. Completion is rewarded once: the reward columns are set under the member's lock."""

    _no_comments = True

    id = fields.BigIntField(primary_key=True)
    programme: fields.ForeignKeyRelation[Programme] = fields.ForeignKeyField(
        "models.Programme", related_name="challenge_progress", on_delete=fields.CASCADE
    )
    programme_id: int
    challenge: fields.ForeignKeyRelation[Challenge] = fields.ForeignKeyField(
        "models.Challenge", related_name="progress", on_delete=fields.RESTRICT
    )
    challenge_id: int
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="challenge_progress", on_delete=fields.RESTRICT
    )
    member_id: int
    current = fields.BigIntField(default=0)
    completed_at = fields.DatetimeField(null=True)
    reward_transaction_id = fields.BigIntField(null=True)
    coupon_id = fields.BigIntField(null=True)
    badge_id = fields.BigIntField(null=True)
    revoked_at = fields.DatetimeField(null=True)  # a return took the reward back
    updated_at = fields.DatetimeField()

    class Meta:
        table = "challenge_progress"
        unique_together = (("challenge", "member"),)
        indexes = (("member", "completed_at"),)


class ChallengeContribution(Model):
    """What one fact (an order, a review...) added to one progress, so a return takes away
    exactly what its order added and a fact is counted once (unique)."""

    _no_comments = True

    id = fields.BigIntField(primary_key=True)
    progress: fields.ForeignKeyRelation[ChallengeProgress] = fields.ForeignKeyField(
        "models.ChallengeProgress", related_name="contributions", on_delete=fields.CASCADE
    )
    progress_id: int
    reference_type = fields.CharField(max_length=16)
    reference = fields.CharField(max_length=160)
    amount = fields.BigIntField()  # a count or a spend (minor units)
    categories: fields.JSONField[list[str]] = fields.JSONField()  # CATEGORIES goals
    undone = fields.BooleanField(default=False)
    at = fields.DatetimeField()

    class Meta:
        table = "challenge_contributions"
        unique_together = (("progress", "reference_type", "reference"),)


class MemberBadge(Model):
    """A badge a member holds; one per code (unique). A revoked one keeps its row."""

    _no_comments = True

    id = fields.BigIntField(primary_key=True)
    programme: fields.ForeignKeyRelation[Programme] = fields.ForeignKeyField(
        "models.Programme", related_name="member_badges", on_delete=fields.CASCADE
    )
    programme_id: int
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="badges", on_delete=fields.RESTRICT
    )
    member_id: int
    code = fields.CharField(max_length=32)
    title = fields.CharField(max_length=100)
    image_url = fields.CharField(max_length=500, null=True)
    challenge_id = fields.IntField(null=True)
    awarded_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "member_badges"
        unique_together = (("member", "code"),)
