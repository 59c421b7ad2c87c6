"""Query cost: a bound on how much work one operation may ask for.

Each field costs 1; a field with a ``first`` argument multiplies the cost of
what is below it by that page size (the variable's value when it is one, its
default when omitted). Fragments are followed. An operation over the limit is
refused before anything runs: the check runs where validation does, with the
request's variables at hand.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)
from strawberry.types import ExecutionContext

from schema.remembered import Remembered

# Distinct (operation text, integer variables) costs remembered per schema.
COSTS_KEPT = 1024


class CostCache:
    """Costs already computed, by operation text, operation name and page sizes.

    A cost depends on the document and on the integer variables only (page
    sizes given as variables); the ids and texts that change with every
    request are not part of the key, so a front end's few operations are
    walked once each, not on every request.
    """

    def __init__(self, maxsize: int = COSTS_KEPT) -> None:
        self._costs: Remembered[
            tuple[GraphQLSchema, str, str | None, tuple[tuple[str, int], ...], int], int
        ] = Remembered(maxsize)

    def cost(
        self,
        schema: GraphQLSchema,
        query: str | None,
        document: DocumentNode,
        operation_name: str | None,
        variables: dict[str, Any],
        max_page: int,
    ) -> int:
        """``operation_cost`` of the document, computed once per text and page sizes."""
        if query is None:
            return operation_cost(schema, document, operation_name, variables, max_page)
        sizes = tuple(
            sorted(
                (name, value)
                for name, value in variables.items()
                if isinstance(value, int) and not isinstance(value, bool)
            )
        )
        # The text is the key; ``document`` is its parse, equal for equal texts.
        return self._costs.get(
            (schema, query, operation_name, sizes, max_page),
            lambda: operation_cost(schema, document, operation_name, dict(sizes), max_page),
        )


class CostLimit:
    """Refuses operations that cost more than ``max_cost`` (a check run before validation,
    see ``schema.documents.CachedDocuments``)."""

    def __init__(self, *, max_cost: int, max_page: int, costs: CostCache | None = None) -> None:
        self.max_cost = max_cost
        self.max_page = max_page
        self.costs = costs or CostCache()

    def refuse(self, context: ExecutionContext) -> None:
        """Set the refusal on ``context`` when its operation costs too much."""
        document = context.graphql_document
        if document is not None and context.pre_execution_errors is None:
            cost = self.costs.cost(
                context.schema._schema,
                context.query,
                document,
                context.operation_name,
                context.variables or {},
                self.max_page,
            )
            if cost > self.max_cost:
                # Errors set here end the request before validation and execution.
                context.pre_execution_errors = [
                    GraphQLError(
                        f"the operation costs {cost}, more than the limit of {self.max_cost}; "
                        "ask for smaller pages or fewer fields",
                        extensions={"code": "QUERY_TOO_COSTLY", "cost": cost},
                    )
                ]


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any],
    max_page: int,
) -> int:
    """The cost of the operation ``operation_name`` of ``document`` (0 if absent)."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        if operation_name is not None and (
            definition.name is None or definition.name.value != operation_name
        ):
            continue
        values = dict(variables)
        for variable in definition.variable_definitions or ():
            name = variable.variable.name.value
            if name not in values and isinstance(variable.default_value, IntValueNode):
                values[name] = int(variable.default_value.value)
        root = {
            OperationType.QUERY: schema.query_type,
            OperationType.MUTATION: schema.mutation_type,
            OperationType.SUBSCRIPTION: schema.subscription_type,
        }[definition.operation]
        walker = _Walker(schema, fragments, values, max_page)
        return walker.cost(root, definition.selection_set, frozenset())
    return 0


class _Walker:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
        max_page: int,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.max_page = max_page

    def page(self, node: FieldNode, definition: GraphQLField | None) -> int:
        for argument in node.arguments or ():
            if argument.name.value != "first":
                continue
            if isinstance(argument.value, IntValueNode):
                return max(1, int(argument.value.value))
            if isinstance(argument.value, VariableNode):
                value = self.variables.get(argument.value.name.value)
                if isinstance(value, int) and not isinstance(value, bool):
                    return max(1, value)
            return self.max_page
        first = definition.args.get("first") if definition is not None else None
        if first is not None and isinstance(first.default_value, int):
            return max(1, first.default_value)
        return 1

    def cost(
        self,
        parent: GraphQLNamedType | None,
        selection_set: SelectionSetNode | None,
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
                below = self.cost(child, selection.selection_set, seen)
                total += 1 + self.page(selection, definition) * below
            elif isinstance(selection, InlineFragmentNode):
                total += self.cost(parent, selection.selection_set, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in seen:
                    target = self.schema.get_type(fragment.type_condition.name.value)
                    total += self.cost(target, fragment.selection_set, seen | {name})
        return total
