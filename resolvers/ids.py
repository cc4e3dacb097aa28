"""Numeric ids inside global ids and cursors, parsed strictly: ASCII digits, in column range."""

from __future__ import annotations

import base64
import re

from domain.paging import PageRequest, page_request
from resolvers.auth import InvalidArgument

INT4_MAX = 2**31 - 1
BIGINT_MAX = 2**63 - 1
DIGITS = re.compile(r"[0-9]{1,19}")


def parse_id(text: str, *, maximum: int = INT4_MAX) -> int | None:
    """None for anything that is not an id a row of ours could have (so: not found)."""
    if not DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if 1 <= value <= maximum else None


def encode_cursor(prefix: str, row_id: int) -> str:
    return base64.urlsafe_b64encode(f"{prefix}{row_id}".encode()).decode()


def decode_cursor(
    prefix: str, after: str | None, *, maximum: int = INT4_MAX, argument: str = "after"
) -> int | None:
    """The row id in a cursor this API gave out (None when there is no cursor)."""
    if after is None:
        return None
    found = parse_id(_body(prefix, after), maximum=maximum)
    if found is None:
        raise NotOurCursor(argument)
    return found


class NotOurCursor(InvalidArgument):
    def __init__(self, argument: str = "after") -> None:
        super().__init__(f"`{argument}` is not a cursor this connection gave out")


def page_request_of(
    prefix: str,
    *,
    first: int | None,
    after: str | None,
    last: int | None = None,
    before: str | None = None,
    maximum: int = INT4_MAX,
) -> PageRequest:
    """The page a connection's four arguments ask for, with the cursors decoded."""
    return page_request(
        first=first,
        after=decode_cursor(prefix, after, maximum=maximum),
        last=last,
        before=decode_cursor(prefix, before, maximum=maximum, argument="before"),
    )


def _body(prefix: str, cursor: str) -> str:
    """What follows the prefix in a cursor ("" when it is not one of ours)."""
    try:
        raw = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        return ""
    return raw[len(prefix) :] if raw.startswith(prefix) else ""


def encode_pair_cursor(prefix: str, first: int, row_id: int) -> str:
    """A keyset cursor on (a sort value, id), for connections not in id order."""
    return base64.urlsafe_b64encode(f"{prefix}{first}:{row_id}".encode()).decode()


def decode_pair_cursor(
    prefix: str, after: str | None, *, maximum: int = INT4_MAX, argument: str = "after"
) -> tuple[int, int] | None:
    if after is None:
        return None
    head, _, tail = _body(prefix, after).partition(":")
    row_id = parse_id(tail, maximum=maximum)
    if not re.fullmatch(r"-?[0-9]{1,19}", head) or row_id is None:
        raise NotOurCursor(argument)
    return int(head), row_id
