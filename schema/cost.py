"""A cost budget per request (RELIABILITY 23): a field costs 1, and a field with `first`
multiplies what is under it by that many. A `first` given as a variable counts as the most a
connection allows, so the cost is known before the request runs. Over budget -> THROTTLED."""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
)

MAX_PAGE = 100
BUDGET = 5_000


def _first(field: FieldNode) -> int:
    for argument in field.arguments or ():
        if argument.name.value in ("first", "last"):
            value = argument.value
            if isinstance(value, IntValueNode):
                return max(1, min(int(value.value), MAX_PAGE))
            return MAX_PAGE
    return 1


class CostLimit(ValidationRule):
    def _cost(self, selection_set: SelectionSetNode | None, seen: frozenset[str]) -> int:
        total = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                if selection.name.value.startswith("__"):
                    continue
                total += 1 + _first(selection) * self._cost(selection.selection_set, seen)
            elif isinstance(selection, InlineFragmentNode):
                total += self._cost(selection.selection_set, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.context.get_fragment(name)
                if fragment is not None and name not in seen:
                    total += self._cost(fragment.selection_set, seen | {name})
        return total

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        cost = self._cost(node.selection_set, frozenset())
        if cost > BUDGET:
            self.report_error(
                GraphQLError(
                    f"this query would cost {cost}, over the budget of {BUDGET}; ask for less "
                    "(smaller `first`, fewer fields)",
                    node,
                    extensions={"code": "THROTTLED", "cost": cost, "budget": BUDGET},
                )
            )
