"""Query cost: a bound on how much work one operation may ask for.

Each field costs 1; a field with a ``first`` argument multiplies the cost of
what is below it by that page size (its default when omitted, the largest page
allowed when it is a variable). Fragments are followed. An operation over the
limit is refused before anything runs.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLNamedType,
    GraphQLObjectType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    get_named_type,
)


def cost_rule(max_cost: int, max_page: int) -> type[ValidationRule]:
    """A validation rule refusing operations that cost more than ``max_cost``."""

    class QueryCost(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            schema = self.context.schema
            root = {
                OperationType.QUERY: schema.query_type,
                OperationType.MUTATION: schema.mutation_type,
                OperationType.SUBSCRIPTION: schema.subscription_type,
            }[node.operation]
            cost = _cost(self.context, root, node.selection_set, max_page, frozenset())
            if cost > max_cost:
                self.report_error(
                    GraphQLError(
                        f"the operation costs {cost}, more than the limit of {max_cost}; "
                        "ask for smaller pages or fewer fields",
                        node,
                        extensions={"code": "QUERY_TOO_COSTLY", "cost": cost},
                    )
                )

    return QueryCost


def _page(node: FieldNode, definition: GraphQLField | None, max_page: int) -> int:
    for argument in node.arguments or ():
        if argument.name.value == "first":
            if isinstance(argument.value, IntValueNode):
                return max(1, int(argument.value.value))
            return max_page
    first = definition.args.get("first") if definition is not None else None
    if first is not None and isinstance(first.default_value, int):
        return max(1, first.default_value)
    return 1


def _cost(
    context: ValidationContext,
    parent: GraphQLNamedType | None,
    selection_set: SelectionSetNode | None,
    max_page: int,
    seen: frozenset[str],
) -> int:
    if selection_set is None:
        return 0
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            definition = (
                parent.fields.get(selection.name.value)
                if isinstance(parent, GraphQLObjectType)
                else None
            )
            child = get_named_type(definition.type) if definition is not None else None
            below = _cost(context, child, selection.selection_set, max_page, seen)
            total += 1 + _page(selection, definition, max_page) * below
        elif isinstance(selection, InlineFragmentNode):
            total += _cost(context, parent, selection.selection_set, max_page, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = context.get_fragment(name)
            if fragment is not None and name not in seen:
                target = context.schema.get_type(fragment.type_condition.name.value)
                total += _cost(context, target, fragment.selection_set, max_page, seen | {name})
    return total
