"""A page of a keyset connection, either way: `first` items after a cursor, or `last` items
before one (Relay's backward pagination). Pure: the repositories turn it into a query."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from domain.errors import PAGE_MAX, Collector

T = TypeVar("T")


@dataclass(frozen=True)
class PageRequest:
    size: int
    backward: bool  # `last`/`before`: the items that end just before the cursor
    # Where the page starts after (forward) or ends before (backward): a row id, or for a list
    # in another order its (sort value, id) pair.
    cursor: Any


def page_request(
    *,
    first: int | None,
    after: Any = None,
    last: int | None = None,
    before: Any = None,
    maximum: int = PAGE_MAX,
) -> PageRequest:
    """One of `first` (with `after`) or `last` (with `before`), 1 to `maximum` items."""
    errors = Collector()
    if (first is None) == (last is None):
        errors.add("first", "give `first` or `last` (not both)")
    for name, size in (("first", first), ("last", last)):
        if size is not None and not 1 <= size <= maximum:
            errors.add(name, f"must be 1-{maximum}")
    if first is not None and before is not None:
        errors.add("before", "goes with `last`")
    if last is not None and after is not None:
        errors.add("after", "goes with `first`")
    errors.raise_if_any()
    if last is not None:
        return PageRequest(last, True, before)
    assert first is not None
    return PageRequest(first, False, after)


def page_of(rows: Sequence[T], request: PageRequest) -> tuple[list[T], bool]:
    """The page in list order, and whether more lie beyond it in the walking direction.

    `rows` were read walking away from the cursor, at most one more than the page."""
    page = list(rows[: request.size])
    if request.backward:
        page.reverse()
    return page, len(rows) > request.size


def walks_descending(request: PageRequest, *, list_descending: bool) -> bool:
    """Whether the query walks ids downwards: a backward page walks against the list order."""
    return list_descending != request.backward
