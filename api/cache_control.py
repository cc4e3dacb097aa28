"""Cache-Control for queries sent with GET, so a browser or a CDN may reuse an answer only
where that is safe.

Only a persisted query (Apollo's `useGETForHashedQueries`: the URL names the document by its
hash, so it is short and stable) that ran without an error is ever reusable, and only when
every field it asks for at its root is in REUSABLE_FOR: the schema itself and the
programme's settings, nothing about a member. Everything else sent with GET, and every
member's data, is `no-store`: a balance read again after a redemption must not come from a
cache.

Whatever a credential reads belongs to its programme, so an answer to a request with an
`Authorization` header is `private` (the caller's browser, never a shared cache: a CDN that
ignores `Vary` would otherwise hand one programme's answer to another). Without a credential
only the schema can be read, which is the same for everyone: `public`."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

NO_STORE = "no-store"
# An answer depends on the credential and on the media type asked for.
VARY = "Accept, Authorization"
SCHEMA_SECONDS = 300  # changes only with a deploy
SETTINGS_SECONDS = 60  # an admin's change to a policy reaches browsers within a minute

# Root fields whose answers may be reused, and for how many seconds.
REUSABLE_FOR = {
    "__typename": SCHEMA_SECONDS,
    "__schema": SCHEMA_SECONDS,
    "__type": SCHEMA_SECONDS,
    "programme": SETTINGS_SECONDS,
    "pointsPolicy": SETTINGS_SECONDS,
    "tierPolicy": SETTINGS_SECONDS,
    "segmentPolicy": SETTINGS_SECONDS,
    "products": SETTINGS_SECONDS,
}
# Fields below those whose value changes from one request to the next.
VOLATILE = frozenset({"now"})


def _fields(
    selections: SelectionSetNode | None, fragments: dict[str, FragmentDefinitionNode]
) -> Iterator[FieldNode]:
    """The fields of a selection set, fragments spread into it included."""
    for selection in selections.selections if selections else ():
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _fields(selection.selection_set, fragments)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                yield from _fields(fragment.selection_set, fragments)


def _reads_volatile(field: FieldNode, fragments: dict[str, FragmentDefinitionNode]) -> bool:
    return any(
        child.name.value in VOLATILE or _reads_volatile(child, fragments)
        for child in _fields(field.selection_set, fragments)
    )


def reusable_for(document: DocumentNode, operation: OperationDefinitionNode) -> int | None:
    """How many seconds the operation's answer may be reused; None if it may not be."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    seconds = []
    for field in _fields(operation.selection_set, fragments):
        allowed = REUSABLE_FOR.get(field.name.value)
        if allowed is None or _reads_volatile(field, fragments):
            return None
        seconds.append(allowed)
    return min(seconds, default=None)


def cache_control_for_get(
    *,
    persisted: bool,
    document: DocumentNode | None,
    operation: OperationDefinitionNode | None,
    answered: bool,
    credential: bool,
) -> str:
    """The Cache-Control header of an answer to a GET; `answered`: it ran without an error."""
    if not (persisted and answered and document and operation):
        return NO_STORE
    seconds = reusable_for(document, operation)
    if seconds is None:
        return NO_STORE
    return f"{'private' if credential else 'public'}, max-age={seconds}"
