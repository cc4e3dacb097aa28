"""A programme's stored policies parsed once per value, not on every request that reads them.

`db.repositories.programmes.get` hands each caller its own copy of the kept row, so a parsed
policy cannot hang off the row: it is kept here by programme and kind, with a private copy of
the JSON it was parsed from, and served while the row's JSON is that same object and still
equal to the copy (an identity test and a dict comparison, far cheaper than building the
frozen policy again). A changed policy is another value: parsed again, kept in place of the
old one. Parsed policies are
frozen dataclasses, shared by every caller, read only."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

# (kind, programme id) -> (the JSON object parsed, a private copy of it, the policy). Bounded: a
# process serves a few programmes; past this many entries it starts afresh.
_MAX_ENTRIES = 4096
_kept: dict[tuple[str, int], tuple[Any, Any, Any]] = {}


def parsed(kind: str, programme_id: int, raw: Any, parse: Callable[[Any], T]) -> T:
    """`parse(raw)`, or the policy parsed before from this very JSON object, still equal to
    what it was then. The kept row's copies share their JSON objects (a shallow copy), so
    every request between two changes of the row is served from here. Another object (a row
    read afresh, inside a transaction) is parsed again and kept in place of the old one: an
    equal value may differ in type (`1` and `true`), which the identity rules out cheaply."""
    key = (kind, programme_id)
    found = _kept.get(key)
    if found is not None and found[0] is raw and found[1] == raw:
        return found[2]  # type: ignore[no-any-return]
    policy = parse(raw)
    if len(_kept) >= _MAX_ENTRIES:
        _kept.clear()
    _kept[key] = (raw, copy.deepcopy(raw), policy)
    return policy


def forget() -> None:
    """Drops every kept policy (tests)."""
    _kept.clear()
