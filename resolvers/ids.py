"""Numeric ids inside global ids and cursors, parsed strictly: ASCII digits, in column range."""

from __future__ import annotations

import re

INT4_MAX = 2**31 - 1
DIGITS = re.compile(r"[0-9]{1,19}")


def parse_id(text: str, *, maximum: int = INT4_MAX) -> int | None:
    """None for anything that is not an id a row of ours could have (so: not found)."""
    if not DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if 1 <= value <= maximum else None
