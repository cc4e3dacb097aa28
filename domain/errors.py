"""Named domain errors. The GraphQL layer maps each to a `UserError` with the same code."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ErrorCode(StrEnum):
    VALIDATION = "VALIDATION"
    NOT_FOUND = "NOT_FOUND"
    ALREADY_EXISTS = "ALREADY_EXISTS"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    IDEMPOTENCY_KEY_IN_PROGRESS = "IDEMPOTENCY_KEY_IN_PROGRESS"
    LIVE_PROGRAMME = "LIVE_PROGRAMME"
    INSUFFICIENT_POINTS = "INSUFFICIENT_POINTS"
    POINTS_PENDING = "POINTS_PENDING"
    REFERENCE_REUSED = "REFERENCE_REUSED"
    ORDER_CLOSED = "ORDER_CLOSED"
    RETURN_EXCEEDS_PURCHASE = "RETURN_EXCEEDS_PURCHASE"
    CURRENCY_MISMATCH = "CURRENCY_MISMATCH"
    HOLD_CLOSED = "HOLD_CLOSED"
    HOLD_EXPIRED = "HOLD_EXPIRED"
    ALREADY_REVERSED = "ALREADY_REVERSED"
    ALREADY_CHECKED_IN = "ALREADY_CHECKED_IN"
    ALREADY_REVIEWED = "ALREADY_REVIEWED"
    SELF_REFERRAL = "SELF_REFERRAL"
    REFERRAL_CYCLE = "REFERRAL_CYCLE"
    ALREADY_REFERRED = "ALREADY_REFERRED"
    NOT_ELIGIBLE = "NOT_ELIGIBLE"
    BALANCE_LIMIT = "BALANCE_LIMIT"
    # Coupons. The checkout ones have the names of the reasons validateCoupons gives.
    OUT_OF_STOCK = "OUT_OF_STOCK"
    LIMIT_REACHED = "LIMIT_REACHED"
    NOT_CLAIMABLE = "NOT_CLAIMABLE"
    NOT_FOR_POINTS = "NOT_FOR_POINTS"
    TEMPLATE_RETIRED = "TEMPLATE_RETIRED"
    NOT_OWNER = "NOT_OWNER"
    USED = "USED"
    LOCKED = "LOCKED"
    NOT_LOCKED = "NOT_LOCKED"
    LOCK_EXPIRED = "LOCK_EXPIRED"
    EXPIRED = "EXPIRED"
    NOT_STARTED = "NOT_STARTED"
    NOT_ELIGIBLE_TIER = "NOT_ELIGIBLE_TIER"
    BELOW_THRESHOLD = "BELOW_THRESHOLD"
    CATEGORY_MISMATCH = "CATEGORY_MISMATCH"
    NO_SHIPPING_FEE = "NO_SHIPPING_FEE"
    NOT_STACKABLE = "NOT_STACKABLE"
    # Governance
    LAST_ADMIN_KEY = "LAST_ADMIN_KEY"
    ALREADY_DECIDED = "ALREADY_DECIDED"
    # Partners
    PARTNER_SUSPENDED = "PARTNER_SUSPENDED"
    DIRECTION_NOT_ALLOWED = "DIRECTION_NOT_ALLOWED"
    TRANSFER_OUT_OF_RANGE = "TRANSFER_OUT_OF_RANGE"
    DAILY_LIMIT_REACHED = "DAILY_LIMIT_REACHED"
    NOT_LINKED = "NOT_LINKED"
    MEMBER_VERIFICATION_FAILED = "MEMBER_VERIFICATION_FAILED"
    VERIFICATION_LOCKED = "VERIFICATION_LOCKED"
    TRANSFER_CLOSED = "TRANSFER_CLOSED"
    GIFTS_DISABLED = "GIFTS_DISABLED"
    # Campaigns
    CAMPAIGN_ENDED = "CAMPAIGN_ENDED"
    CAMPAIGN_RUNNING = "CAMPAIGN_RUNNING"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    # Rewards
    REWARD_RETIRED = "REWARD_RETIRED"
    NOT_AVAILABLE = "NOT_AVAILABLE"
    CASH_MISMATCH = "CASH_MISMATCH"
    ALREADY_CANCELLED = "ALREADY_CANCELLED"
    ALREADY_FULFILLED = "ALREADY_FULFILLED"
    NOT_PAID = "NOT_PAID"
    WHOLE_HOLD_REQUIRED = "WHOLE_HOLD_REQUIRED"


@dataclass(frozen=True)
class FieldError:
    field: str | None
    code: ErrorCode
    message: str


class DomainError(Exception):
    """An expected failure: it changes nothing and is reported to the caller as data."""

    code: ErrorCode = ErrorCode.VALIDATION

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    @property
    def errors(self) -> list[FieldError]:
        return [FieldError(self.field, self.code, self.message)]


class ValidationFailed(DomainError):
    code = ErrorCode.VALIDATION

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(e.message for e in errors), field=errors[0].field)
        self._errors = errors

    @property
    def errors(self) -> list[FieldError]:
        return list(self._errors)


def invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed([FieldError(field, ErrorCode.VALIDATION, message)])


class NotFound(DomainError):
    code = ErrorCode.NOT_FOUND


class AlreadyExists(DomainError):
    code = ErrorCode.ALREADY_EXISTS


class IdempotencyKeyReused(DomainError):
    code = ErrorCode.IDEMPOTENCY_KEY_REUSED


class IdempotencyKeyInProgress(DomainError):
    code = ErrorCode.IDEMPOTENCY_KEY_IN_PROGRESS


class LiveProgramme(DomainError):
    code = ErrorCode.LIVE_PROGRAMME


class Collector:
    """Gathers field errors so one request reports every bad field at once."""

    def __init__(self, prefix: str = "") -> None:
        self._prefix = prefix
        self.errors: list[FieldError] = []

    def add(self, field: str, message: str) -> None:
        self.errors.append(FieldError(self._prefix + field, ErrorCode.VALIDATION, message))

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)


PAGE_MAX = 100


def check_page_size(first: int, maximum: int = PAGE_MAX) -> None:
    """A connection's `first`: 1 to `maximum` items, else VALIDATION on `first`."""
    if not 1 <= first <= maximum:
        raise invalid("first", f"must be 1-{maximum}")


class LastAdminKey(DomainError):
    code = ErrorCode.LAST_ADMIN_KEY


class AlreadyDecided(DomainError):
    code = ErrorCode.ALREADY_DECIDED


class CampaignEnded(DomainError):
    code = ErrorCode.CAMPAIGN_ENDED


class CampaignRunning(DomainError):
    code = ErrorCode.CAMPAIGN_RUNNING


class InvalidTransition(DomainError):
    code = ErrorCode.INVALID_TRANSITION
