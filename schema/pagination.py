from __future__ import annotations

from collections.abc import Callable
from typing import Any

from strawberry import relay


class Edge:
    """A connection edge whose cursor is encoded only when it is read. Most queries never ask
    for edge cursors, and encoding one per row was a twentieth of the member page. It stands
    in for strawberry's relay.Edge (which has no is_type_of, so any object with `node` and
    `cursor` completes as one)."""

    __slots__ = ("_encode", "_row", "node")

    def __init__(self, node: Any, row: Any, encode: Callable[[Any], str]) -> None:
        self.node = node
        self._row = row
        self._encode = encode

    @property
    def cursor(self) -> str:
        return self._encode(self._row)


def page_info(
    edges: list[Any],
    more: bool,
    after: str | None,
    *,
    last: int | None = None,
    before: str | None = None,
) -> relay.PageInfo:
    """`more`: rows lie beyond the page in the direction it was read (after it for `first`,
    before it for `last`); the other side is known only from the cursor."""
    backward = last is not None
    return relay.PageInfo(
        has_next_page=before is not None if backward else more,
        has_previous_page=more if backward else after is not None,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )


FIRST = "Forward: at most this many items (1-100) after `after`. Give `first` or `last`."
AFTER = "Forward: the page starts after this cursor (an edge's or `endCursor`)."
LAST = "Backward: at most this many items (1-100) before `before`. Give `first` or `last`."
BEFORE = "Backward: the page ends before this cursor (an edge's or `startCursor`)."
