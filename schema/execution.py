"""Execution with a short path for plain leaf fields.

A page of 50 customers with their last ten interactions resolves thousands of
fields, and most of them are leaves read straight off an object (an
interaction's ``type``, ``occurredAt``, ``amount``) or computed from it alone
(a customer's ``name``). graphql-core spends the same machinery on each of
those as on any field: a path entry, a resolve-info tuple, argument handling,
awaitable checks, value completion; Strawberry adds an ``Info`` object and its
extension chain for every method. For a field without arguments, extensions
or permissions, of scalar or enum type, that Strawberry resolves by reading
the attribute (a basic field) or by calling a synchronous method with the
object alone, the answer is ``coerce_output_value(value)``, so that is all
this executor does for it. Every other field, and any such leaf whose value
is missing for a non-null type, cannot be coerced or raises, goes through
graphql-core's own ``execute_field``, which then gives the answer or the error
it always would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    Undefined,
)
from graphql.execution.collect_fields import GroupedFieldSet
from graphql.pyutils import Path, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

# (resolver, output type, nullable) for a plain leaf; None for any other field.
_Leaf = tuple[Callable[..., Any], GraphQLScalarType | GraphQLEnumType, bool]
_Plan = tuple[tuple[str, Any, _Leaf | None], ...]


def _plain_leaf(parent_type: GraphQLObjectType, field_details: Any) -> _Leaf | None:
    """How to read the field directly, when it is a plain leaf."""
    node = field_details[0].node
    if node.arguments or node.name.value.startswith("__"):
        return None
    field_def = parent_type.fields.get(node.name.value)
    if field_def is None or field_def.args or field_def.resolve is None:
        return None
    definition = field_def.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(definition, StrawberryField) or definition.extensions:
        return None
    resolver = definition.base_resolver
    read: Callable[[Any, None], Any]
    if resolver is None:
        read = field_def.resolve  # Strawberry's own reader of the attribute
    elif (
        not resolver.is_async
        and resolver.self_parameter is not None
        and not resolver.arguments
        and resolver.info_parameter is None
        and resolver.root_parameter is None
        and resolver.parent_parameter is None
    ):
        # A method of the type that needs nothing but the object: Strawberry
        # would call it with the object alone, after building what it does not use.
        method = resolver.wrapped_func
        if not callable(method):
            return None
        read = lambda source, _info: method(source)  # noqa: E731
    else:
        return None
    output = field_def.type
    nullable = not isinstance(output, GraphQLNonNull)
    if isinstance(output, GraphQLNonNull):
        output = output.of_type
    if not isinstance(output, GraphQLScalarType | GraphQLEnumType):
        return None
    return read, output, nullable


class LeafShortcutExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, reading plain leaf fields directly."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # graphql-core collects a list's sub-fields once and hands every item the
        # same grouped field set, so a plan per set is made once per list.
        # The set is kept with its plan so that its id is not reused meanwhile.
        self._plans: dict[int, tuple[GroupedFieldSet, _Plan]] = {}

    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet) -> _Plan:
        cached = self._plans.get(id(grouped_field_set))
        if cached is not None:
            return cached[1]
        shortcut = not self.middleware_manager or not self.middleware_manager.middlewares
        plan = tuple(
            (name, details, _plain_leaf(parent_type, details) if shortcut else None)
            for name, details in grouped_field_set.items()
        )
        self._plans[id(grouped_field_set)] = (grouped_field_set, plan)
        return plan

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        """graphql-core's ``execute_fields``, with plain leaves read directly."""
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for name, details, leaf in self._plan(parent_type, grouped_field_set):
                if leaf is not None:
                    value = _read_leaf(leaf, source_value, is_awaitable)
                    if value is not Undefined:
                        results[name] = value
                        continue
                # Not a plain leaf, or one the short path cannot answer: the
                # regular path resolves it again and reports what went wrong.
                result = self.execute_field(
                    parent_type,
                    source_value,
                    details,
                    Path(path, name, parent_type.name),
                    position_context,
                )
                if result is not Undefined:
                    results[name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            return results
        return self._gather(results, awaitable_fields)

    @staticmethod
    async def _gather(results: dict[str, Any], awaitable_fields: list[str]) -> dict[str, Any]:
        if len(awaitable_fields) == 1:
            field = awaitable_fields[0]
            results[field] = await results[field]
        else:
            awaited: list[Any] = await gather_with_cancel(
                *(results[field] for field in awaitable_fields)
            )
            results.update(zip(awaitable_fields, awaited, strict=True))
        return results


def _read_leaf(leaf: _Leaf, source: Any, is_awaitable: Callable[[Any], bool]) -> Any:
    """The completed value of a plain leaf, or Undefined when the regular path must decide."""
    resolve, output, nullable = leaf
    try:
        value = resolve(source, None)
        if value is None:
            return None if nullable else Undefined
        if is_awaitable(value):
            return Undefined
        coerced = output.coerce_output_value(value)
    except Exception:
        # Not swallowed: execute_field resolves the field again and reports the error.
        return Undefined
    return Undefined if coerced is None else coerced
