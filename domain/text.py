"""Text every input must be: no NUL or other control characters, no lone surrogates.

PostgreSQL refuses NUL outright and a lone surrogate cannot even be encoded, so letting
either through turns bad input into a server error; SQLite would quietly store it."""

from __future__ import annotations

import unicodedata

MULTILINE_ALLOWED = frozenset("\n\r\t")


def is_clean(value: str, *, multiline: bool = False) -> bool:
    for char in value:
        category = unicodedata.category(char)
        if category == "Cs":
            return False
        if category == "Cc" and not (multiline and char in MULTILINE_ALLOWED):
            return False
    return True
