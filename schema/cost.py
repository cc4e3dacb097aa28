"""What a query costs (RELIABILITY 23, 29): a field costs 1, and a field with `first` (or
`last`) multiplies what is under it by that many. A `first` given as a variable counts as the
most a connection allows, so the cost is known before the request runs. A request (a batch
counts as one) may cost at most BUDGET; the caller's rate limit is charged the same cost."""

from __future__ import annotations

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

from schema.identity_cache import IdentityCache

MAX_PAGE = 100
BUDGET = 5_000
COST_CACHE_SIZE = 512


def _first(field: FieldNode) -> int:
    for argument in field.arguments or ():
        if argument.name.value in ("first", "last"):
            value = argument.value
            if isinstance(value, IntValueNode):
                return max(1, min(int(value.value), MAX_PAGE))
            return MAX_PAGE
    return 1


class _Costing:
    """Each fragment is costed once per document, however often it is spread: a document of
    fragments that each spread the next one twice would otherwise take exponential time."""

    def __init__(self, document: DocumentNode) -> None:
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.costs: dict[str, int] = {}

    def selection_set(self, selection_set: SelectionSetNode | None) -> int:
        total = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                if not selection.name.value.startswith("__"):
                    total += 1 + _first(selection) * self.selection_set(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                total += self.selection_set(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value)
        return total

    def fragment(self, name: str) -> int:
        if name not in self.costs:
            self.costs[name] = 0  # a fragment that spreads itself (invalid anyway) adds nothing
            fragment = self.fragments.get(name)
            self.costs[name] = self.selection_set(fragment.selection_set) if fragment else 0
        return self.costs[name]


_costs: IdentityCache[int] = IdentityCache(COST_CACHE_SIZE)


def operation_cost(document: DocumentNode, operation: OperationDefinitionNode) -> int:
    """The cost of running `operation` of `document`, worked out once per parsed document."""
    return _costs.get(
        document, operation, lambda: _Costing(document).selection_set(operation.selection_set)
    )
