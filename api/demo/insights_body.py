"""The body the dashboard posts to be charted: the `programmeInsights` answer, checked field by
field against the part of the contract the charts read (fields the charts do not read are
ignored, so the query may grow). The page sends what the API gave it, but anyone can post
anything: every list is bounded, every string short, every number finite."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date
from typing import Any

GRANULARITIES = frozenset({"DAY", "WEEK", "MONTH"})
MAX_TEXT = 200
# DAY buckets over the longest range the query allows (1096 days), with room to spare.
MAX_BUCKETS = 1100
MAX_ITEMS = 1000
# Lists whose real size is small (sources, uses and lifecycle segments are a handful; a
# programme has a few tiers), bounded so: a hostile body costs no more to draw than a real one.
MAX_FEW = 20
MAX_TIERS = 100
MAX_INTEGER = 10**15
MAX_RATIO = 1e6


class InvalidInsights(ValueError):
    """The posted body does not follow the contract; the message names the field."""


Check = Callable[[Any, str], Any]


def _fail(path: str, expected: str) -> InvalidInsights:
    return InvalidInsights(f"{path or 'the body'}: expected {expected}")


def _integer(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_INTEGER:
        raise _fail(path, f"an integer within ±{MAX_INTEGER}")
    return value


def _ratio(value: Any, path: str) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or abs(value) > MAX_RATIO:
        raise _fail(path, "a finite number")
    return float(value)


def _text(value: Any, path: str) -> str:
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise _fail(path, f"a string of at most {MAX_TEXT} characters")
    return value


def _day(value: Any, path: str) -> str:
    try:
        date.fromisoformat(value)
    except (TypeError, ValueError):
        raise _fail(path, "a date (YYYY-MM-DD)") from None
    if len(value) != 10:
        raise _fail(path, "a date (YYYY-MM-DD)")
    return str(value)


def _granularity(value: Any, path: str) -> str:
    if value not in GRANULARITIES:
        raise _fail(path, "one of DAY, WEEK, MONTH")
    return str(value)


def _list_of(item: Any, *, limit: int = MAX_ITEMS) -> Check:
    def check(value: Any, path: str) -> list[Any]:
        if not isinstance(value, list) or len(value) > limit:
            raise _fail(path, f"a list of at most {limit} items")
        return [_check(item, element, f"{path}[{i}]") for i, element in enumerate(value)]

    check.item = item  # type: ignore[attr-defined]  # what a test compares with the page's query
    return check


def _check(spec: Any, value: Any, path: str) -> Any:
    if callable(spec):
        return spec(value, path)
    if not isinstance(value, dict):
        raise _fail(path, "an object")
    checked = {}
    for name, field in spec.items():
        where = f"{path}.{name}" if path else name
        if name not in value:
            raise InvalidInsights(f"{where}: missing")
        checked[name] = _check(field, value[name], where)
    return checked


SPEC: dict[str, Any] = {
    "from": _day,
    "to": _day,
    "granularity": _granularity,
    "currency": _text,
    "members": {
        "total": _integer,
        "new": _integer,
        "active": _integer,
        "participationRate": _ratio,
        "bySegment": _list_of({"segment": _text, "members": _integer}, limit=MAX_FEW),
    },
    "points": {
        "earned": _integer,
        "earnedBySource": _list_of({"source": _text, "points": _integer}, limit=MAX_FEW),
        "spent": _integer,
        "spentByUse": _list_of({"use": _text, "points": _integer}, limit=MAX_FEW),
        "expired": _integer,
        "redemptionRate": _ratio,
        "breakage": _ratio,
        "liability": {"available": _integer, "pending": _integer, "cashValue": _integer},
    },
    "tiers": {
        "distribution": _list_of(
            {"code": _text, "name": _text, "members": _integer}, limit=MAX_TIERS
        ),
        "migrations": _list_of(
            {"fromCode": _text, "toCode": _text, "direction": _text, "members": _integer}
        ),
    },
    "behaviour": {
        "repeatPurchaseRate": _ratio,
        "referrals": {"invited": _integer, "rewarded": _integer, "conversionRate": _ratio},
    },
    "campaigns": _list_of(
        {
            "code": _text,
            "name": _text,
            "status": _text,
            "awards": _integer,
            "members": _integer,
            "points": _integer,
        }
    ),
    "series": _list_of(
        {
            "start": _day,
            "earned": _integer,
            "spent": _integer,
            "expired": _integer,
            "activeMembers": _integer,
        },
        limit=MAX_BUCKETS,
    ),
}


def checked_insights(body: Any) -> dict[str, Any]:
    """The fields the charts read, checked; InvalidInsights naming the first bad field."""
    result: dict[str, Any] = _check(SPEC, body, "")
    return result
