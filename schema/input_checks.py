"""The edge check every argument and input field passes before a resolver sees it: text no
longer than its field allows, with no NUL, control character or lone surrogate; global ids
that decode to an id of the expected type; dates between 2000 and 2100 (UTC).

It is installed once on the built schema (`install`), from the argument types, so a new
argument or input field is covered without anyone remembering to: a String field gets the
limit named for it here, or the default. A failure never reaches the database and never
echoes the value. A field answering a union with an `XError` member (mutations,
validateCoupons) answers that error with the field's path; any other field raises VALIDATION.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, NamedTuple

from graphql import (
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
)
from strawberry.relay import GlobalID
from strawberry.relay.types import GlobalIDValueError

from domain.errors import ErrorCode
from domain.text import is_clean
from resolvers.auth import InvalidArgument
from resolvers.ids import BIGINT_MAX, parse_id
from schema.errors import MutationError, UserError

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)

DEFAULT_TEXT_MAX = 200
# The most characters a String field may carry, by `Type.field` or by field name (for every
# type that has it). Where a column stores the value, its size.
TEXT_MAX: dict[str, int] = {
    "externalId": 128,
    "templateCode": 32,
    "memberExternalId": 128,
    "memberExternalIds": 128,
    "inviteeExternalId": 128,
    "orderId": 64,
    "sku": 64,
    "giftSku": 64,
    "eligibleSkus": 64,
    "category": 64,
    "eligibleCategories": 64,
    "code": 40,
    "codes": 40,
    "UpsertTierInput.code": 32,
    "UpsertBenefitInput.code": 32,
    "CreateCouponTemplateInput.code": 32,
    "tierCode": 32,
    "eligibleTierCodes": 32,
    "name": 60,
    "title": 100,
    "ProductInput.title": 200,
    "displayName": 100,
    "email": 254,
    "phone": 24,
    "birthday": 16,
    "currency": 3,
    "inviteCode": 32,
    "idempotencyKey": 255,
    "reason": 200,
    "reward": 128,
    "description": 2000,
    "url": 2000,
    "eventTypes": 48,
    "campaignCode": 32,
    "CreateCampaignInput.code": 32,
    "UpdateCampaignInput.code": 32,
    "CreateCampaignInput.name": 100,
    "UpdateCampaignInput.name": 100,
    "CreateCampaignInput.description": 500,
    "UpdateCampaignInput.description": 500,
    "couponTemplate": 32,
    "rewardCode": 32,
    "CreateRewardInput.code": 32,
    "couponTemplateCode": 32,
    "partnerCode": 32,
    "imageUrl": 500,
    "tiers": 32,
    "categories": 64,
    "skus": 64,
}
MULTILINE = frozenset({"description"})  # where a line break or a tab makes sense
GLOBAL_ID_MAX = 16_384  # generous: ids are decoded and range-checked, never sent to the database
# What an ID input must name; an ID field not listed takes a global id of any type.
GLOBAL_ID_TYPES: dict[str, str] = {
    "holdId": "PointHold",
    "transactionId": "PointTransaction",
    "templateId": "CouponTemplate",
    "endpointId": "WebhookEndpoint",
    "deliveryId": "WebhookDelivery",
}


class Problem(NamedTuple):
    field: str
    message: str


# A check walks one value at one path and yields what is wrong with it.
Check = Callable[[Any, str], Iterator[Problem]]


def _text_check(owner: str, name: str) -> Check:
    limit = TEXT_MAX.get(f"{owner}.{name}", TEXT_MAX.get(name, DEFAULT_TEXT_MAX))
    multiline = name in MULTILINE

    def check(value: Any, path: str) -> Iterator[Problem]:
        if not isinstance(value, str):
            return
        if len(value) > limit:
            yield Problem(path, f"must be at most {limit} characters")
        elif not value.isprintable() and not is_clean(value, multiline=multiline):
            yield Problem(path, "must not contain control characters or lone surrogates")

    return check


def _global_id_check(name: str) -> Check:
    expected = GLOBAL_ID_TYPES.get(name)
    what = f"the id of a {expected}" if expected else "a global id this API gave out"

    def check(value: Any, path: str) -> Iterator[Problem]:
        if not isinstance(value, str):
            return
        if len(value) > GLOBAL_ID_MAX or not value.isprintable():
            yield Problem(path, f"is not {what}")
            return
        try:
            decoded = GlobalID.from_id(value)
        except GlobalIDValueError:
            yield Problem(path, f"is not {what}")
            return
        if expected is not None and (
            decoded.type_name != expected or parse_id(decoded.node_id, maximum=BIGINT_MAX) is None
        ):
            yield Problem(path, f"is not {what}")

    return check


def _datetime_check(value: Any, path: str) -> Iterator[Problem]:
    if not isinstance(value, datetime):
        return
    if value.utcoffset() is None:
        yield Problem(path, "needs a time zone")
        return
    try:
        in_range = EARLIEST <= value.astimezone(UTC) <= LATEST
    except OverflowError:  # a year 1 or 9999 date that leaves the calendar in UTC
        in_range = False
    if not in_range:
        yield Problem(path, "must be between 2000-01-01 and 2100-01-01 (UTC)")


def _join(path: str, part: str | int) -> str:
    return f"{path}.{part}" if path else str(part)


class _Checks:
    """Checks made once per schema; input object types are shared and may nest."""

    def __init__(self) -> None:
        self._objects: dict[str, dict[str, Check] | None] = {}

    def for_type(self, type_: GraphQLInputType, owner: str, name: str) -> Check | None:
        if isinstance(type_, GraphQLNonNull):
            return self.for_type(type_.of_type, owner, name)
        if isinstance(type_, GraphQLList):
            item = self.for_type(type_.of_type, owner, name)
            return None if item is None else _each(item)
        if isinstance(type_, GraphQLInputObjectType):
            return self.for_object(type_)
        if isinstance(type_, GraphQLScalarType):
            if type_.name == "String":
                return _text_check(owner, name)
            if type_.name == "ID":
                return _global_id_check(name)
            if type_.name == "DateTime":
                return _datetime_check
        return None  # Int, Boolean, enums: graphql-core has checked them already

    def for_object(self, type_: GraphQLInputObjectType) -> Check | None:
        if type_.name not in self._objects:
            self._objects[type_.name] = None  # a type that contains itself adds nothing more
            fields = {
                name: check
                for name, field in type_.fields.items()
                if (check := self.for_type(field.type, type_.name, name)) is not None
            }
            self._objects[type_.name] = fields or None
        fields = self._objects[type_.name]
        if fields is None:
            return None

        def check(value: Any, path: str) -> Iterator[Problem]:
            if not isinstance(value, dict):
                return
            for name, check_field in fields.items():
                found = value.get(name)
                if found is not None:
                    yield from check_field(found, _join(path, name))

        return check


def _each(item: Check) -> Check:
    def check(value: Any, path: str) -> Iterator[Problem]:
        if isinstance(value, list):
            for index, element in enumerate(value):
                if element is not None:
                    yield from item(element, _join(path, index))

    return check


def _error_type(field: GraphQLField) -> type[MutationError] | None:
    """The `XError` class of a field answering `XSuccess | XError`, if it answers a union."""
    result = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
    if not isinstance(result, GraphQLUnionType):
        return None
    for member in result.types:
        origin = getattr((member.extensions or {}).get("strawberry-definition"), "origin", None)
        if isinstance(origin, type) and issubclass(origin, MutationError):
            return origin
    return None


def problems_in(checks: dict[str, Check], args: dict[str, Any]) -> list[Problem]:
    """What is wrong with a field's arguments (graphql-core's names), by its checks."""
    return [
        problem
        for name, check in checks.items()
        if (value := args.get(name)) is not None
        # The one `input` argument of a mutation is the root of its fields' paths.
        for problem in check(value, "" if name == "input" else name)
    ]


def unguarded(resolve: Callable[..., Any]) -> tuple[Callable[..., Any], dict[str, Check]] | None:
    """For a field resolve `install` guarded: the resolve behind the guard and the checks it
    runs, so a caller that runs them itself (problems_in) may call that one directly (the
    planned executor, schema/executor.py). None for a resolve without a guard."""
    return getattr(resolve, "_unguarded", None)


def _guard(
    resolve: Callable[..., Any],
    checks: dict[str, Check],
    error_type: type[MutationError] | None,
) -> Callable[..., Any]:
    def checked(source: Any, info: Any, **args: Any) -> Any:
        problems = problems_in(checks, args)
        if not problems:
            return resolve(source, info, **args)
        if error_type is not None:
            return error_type(
                errors=[
                    UserError(field=p.field or None, code=ErrorCode.VALIDATION, message=p.message)
                    for p in problems
                ]
            )
        first = problems[0]
        raise InvalidArgument(f"`{first.field}` {first.message}")

    checked._unguarded = (resolve, checks)  # type: ignore[attr-defined]
    return checked


def install(schema: GraphQLSchema) -> int:
    """Put the check in front of every field that takes text, ids or dates; returns how many
    fields it guards."""
    checks = _Checks()
    guarded = 0
    for type_ in schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for field_name, field in type_.fields.items():
            owner = f"{type_.name}.{field_name}"
            field_checks = {
                name: check
                for name, argument in field.args.items()
                if (check := checks.for_type(argument.type, owner, name)) is not None
            }
            if field_checks and field.resolve is not None:
                field.resolve = _guard(field.resolve, field_checks, _error_type(field))
                guarded += 1
    return guarded
