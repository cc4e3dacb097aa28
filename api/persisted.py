"""Automatic persisted queries, Apollo's APQ protocol, which mobile and web clients already
speak: a client sends `extensions.persistedQuery {version: 1, sha256Hash}` without the query;
if we know the hash we run the document it names, else we answer `PersistedQueryNotFound`
and the client sends the query once more with its hash, which registers it.

Documents live in a small LRU in each process, in front of the shared cache (Redis when
configured), so a document registered through one process is known to the others. A
document is registered only after it ran without being refused (parse, validation, cost),
for a caller with a credential, at most 100 new documents per caller an hour; entries
expire after a week."""

from __future__ import annotations

import hashlib
import re
import time
from collections import OrderedDict
from typing import Any

from db.cache import get_cache
from db.metrics import cache_lookup

HASH_RE = re.compile(r"[0-9a-f]{64}")
LOCAL_MAX = 2_000
TTL_SECONDS = 7 * 24 * 3600
QUERY_MAX_BYTES = 32_000
REGISTRATIONS_PER_HOUR = 100  # new documents one caller may register

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
INVALID = "PERSISTED_QUERY_INVALID"
CACHE_NAME = "persisted_queries"


class PersistedQueryError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _key(digest: str) -> str:
    return f"apq:{digest}"


class PersistedQueries:
    def __init__(self, local_max: int = LOCAL_MAX) -> None:
        self._local: OrderedDict[str, str] = OrderedDict()
        self._local_max = local_max

    async def resolve(
        self, query: str | None, extensions: dict[str, Any] | None
    ) -> tuple[str | None, str | None]:
        """The document to run, and the hash to register it under once it has run (None
        when there is nothing to register)."""
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            return query, None
        digest = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
        if (
            not isinstance(persisted, dict)
            or persisted.get("version") != 1
            or not isinstance(digest, str)
            or not HASH_RE.fullmatch(digest)
        ):
            raise PersistedQueryError(
                INVALID, "persistedQuery needs version 1 and a lower-case hex sha256Hash"
            )
        if query is None:
            found = await self._find(digest)
            if found is None:
                raise PersistedQueryError(NOT_FOUND, "PersistedQueryNotFound")
            return found, None
        if hashlib.sha256(query.encode()).hexdigest() != digest:
            raise PersistedQueryError(HASH_MISMATCH, "provided sha does not match query")
        return query, digest if len(query.encode()) <= QUERY_MAX_BYTES else None

    async def _find(self, digest: str) -> str | None:
        found = self._local.get(digest)
        if found is not None:
            self._local.move_to_end(digest)
            cache_lookup(CACHE_NAME, hit=True)
            return found
        shared = await get_cache().get(_key(digest))
        cache_lookup(CACHE_NAME, hit=shared is not None)
        if shared is None:
            return None
        query = shared.decode()
        self._remember(digest, query)
        return query

    def _remember(self, digest: str, query: str) -> None:
        self._local[digest] = query
        self._local.move_to_end(digest)
        while len(self._local) > self._local_max:
            self._local.popitem(last=False)

    async def register(self, digest: str, query: str, *, caller: str) -> bool:
        """Store the document, unless `caller` has registered its hourly quota already (a
        client sends a fixed handful of documents; one sending ever new ones is filling the
        cache). Over the quota the document still ran; it is just not kept."""
        hour = int(time.time()) // 3600
        counted = await get_cache().incr(f"apq:quota:{caller}:{hour}", ttl=3600)
        if counted is not None and counted > REGISTRATIONS_PER_HOUR:
            return False
        self._remember(digest, query)
        await get_cache().set(_key(digest), query.encode(), ttl=TTL_SECONDS)
        return True
