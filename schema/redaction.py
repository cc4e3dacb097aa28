"""Production error messages name nothing of the schema the caller did not write (RELIABILITY
24): graphql-core's messages suggest near names ("Did you mean 'externalId'?") and name the
type or argument involved ("on type 'Programme'", "'Query.member(externalId:)'"), which
would let a caller without introspection read the schema out of its mistakes.

Each quoted part of a message is kept only if every name in it is one the caller wrote, in
the document or in its variables; otherwise it becomes '…'. Suggestions are dropped."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")
QUOTED = re.compile(r"'([^']*)'")
SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")
HIDDEN = "'…'"


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def written_names(query: str | None, variables: dict[str, Any] | None) -> frozenset[str]:
    """Every name-like word the caller sent."""
    texts = [query or "", *_strings(variables or {})]
    return frozenset(name for text in texts for name in NAME.findall(text))


def redact(message: str, written: frozenset[str]) -> str:
    def quoted(match: re.Match[str]) -> str:
        names = NAME.findall(match.group(1))
        return match.group(0) if all(name in written for name in names) else HIDDEN

    return QUOTED.sub(quoted, SUGGESTION.sub("", message))
