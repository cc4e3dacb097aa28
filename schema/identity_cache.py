"""A bounded cache of what is derived from two long-lived objects (a schema and a parsed
document), keyed by their identities: hashing a parsed document walks its whole tree, and
the parser cache and APQ hand back the very same document object for the same text."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

V = TypeVar("V")


class IdentityCache(Generic[V]):
    """Each entry holds its two objects, so neither id can be reused by another object while
    the entry lives. Bounded: the oldest entry goes first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: dict[tuple[int, int, Hashable], tuple[Any, Any, V]] = {}
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, first: Any, second: Any, make: Callable[[], V], extra: Hashable = None) -> V:
        """The value for (first, second, extra), made by `make()` the first time."""
        key = (id(first), id(second), extra)
        entry = self.entries.get(key)
        if entry is not None and entry[0] is first and entry[1] is second:
            self.hits += 1
            return entry[2]
        self.misses += 1
        value = make()
        if len(self.entries) >= self.size:
            self.entries.pop(next(iter(self.entries)))
        self.entries[key] = (first, second, value)
        return value
