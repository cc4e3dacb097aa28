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
    """Every key and string in a JSON value, without recursion (variables may nest as deep as
    the JSON decoder allows)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            yield from (str(key) for key in item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def written_names(query: str | None, variables: dict[str, Any] | None) -> frozenset[str]:
    """Every name-like word the caller sent."""
    texts = [query or "", *_strings(variables or {})]
    return frozenset(name for text in texts for name in NAME.findall(text))


def redact(message: str, written: frozenset[str]) -> str:
    def quoted(match: re.Match[str]) -> str:
        names = NAME.findall(match.group(1))
        return match.group(0) if all(name in written for name in names) else HIDDEN

    return QUOTED.sub(quoted, SUGGESTION.sub("", message))
