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

Two more paths are kept short. A field whose resolver is a synchronous method
of its type (a customer's ``metrics``, ``credit``, ``interactions(first: 10)``)
is called directly with the ``Info`` and arguments Strawberry would pass,
without its extension chain; the arguments are converted once per execution
for all the objects of a list (only when every converted value is immutable,
so that no call can change another's); the value is then completed, and errors
handled, as ``execute_field`` does. And in an operation without
directives, objects and lists of non-null objects are completed by executing
their sub-fields at once, without graphql-core's chain of completion calls per
item (the edges of a page, their nodes, a customer's classification); null,
awaitable and erroneous items take graphql-core's own steps.

In such operations an object whose every field is a plain leaf, a plain
non-null object or a plain list of non-null objects, all the way down (a
connection of interactions: ``edges { node { type occurredAt amount } }``), is
completed in one recursive pass of its "shape", without a path, a plan lookup
or a collection per object; anything that pass cannot answer sends the object
back to the steps above, which answer it or report the error as before.
Leaves whose value a scalar outputs unchanged (a ``str`` for ``String``) are
not coerced, and an enum member's name is looked up instead of searched for.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from operator import attrgetter
from types import CoroutineType, GeneratorType
from typing import Any, TypeGuard

import orjson
from graphql import (
    FieldNode,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLID,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLString,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Undefined,
    ValueNode,
    VariableNode,
)
from graphql.execution.collect_fields import (
    CollectedFields,
    FieldDetailsList,
    FragmentDetails,
    GroupedFieldSet,
)
from graphql.execution.executor import to_nodes
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.schema.types.base_scalars import isoformat
from strawberry.types.arguments import convert_arguments
from strawberry.types.field import StrawberryField

from schema.remembered import Remembered

# (reader of the object, the output type's coercion of a value, nullable, the class
# whose values the type outputs as they are or None, an enum type's Python enum
# and the names it outputs for its members or None) for a plain leaf; None for
# any other field.
_Leaf = tuple[
    Callable[[Any], Any],
    Callable[[Any], Any],
    bool,
    type | None,
    tuple[type[Enum], Mapping[Enum, str]] | None,
]
# graphql-core's scalars that output a value of this class unchanged.
_UNCHANGED: dict[GraphQLScalarType, type] = {
    GraphQLString: str,
    GraphQLID: str,
    GraphQLBoolean: bool,
}
# Values that are never awaitable: no need to ask.
_PLAIN_VALUES = frozenset({str, int, float, bool, Decimal, datetime, date})
# Classes whose instances are never awaitable, and those of Strawberry types that
# ``_classwise`` found not awaitable.
_SETTLED_CLASSES: set[type] = {dict, list, tuple, type(None), *_PLAIN_VALUES}
# (reader, object type) for a plain non-null object field (an edge's node).
_Object = tuple[Callable[..., Any], GraphQLObjectType]
# (method, field, Strawberry's field, name of its info parameter or None) for a
# synchronous method of the type.
_Call = tuple[Callable[..., Any], GraphQLField, StrawberryField, str | None]
# Converted argument values shared by the calls of one execution.
_SHAREABLE = (str, int, float, bool, Decimal, datetime, date, Enum, type(None))
_Plan = tuple[tuple[str, Any, _Leaf | None, _Object | None, _Call | None], ...]
# How to complete an object whose every field is a plain leaf, a plain non-null
# object or a plain list of non-null objects, recursively: per field, (response
# name, kind, leaf or reader, the shape of the objects read, nullable).
_LEAF, _OBJECT, _LIST = 0, 1, 2
_Shape = tuple[tuple[str, int, Any, "_Shape | None", bool], ...]


def _classwise(
    is_awaitable: Callable[[Any], TypeGuard[Awaitable[Any]]],
) -> Callable[[Any], TypeGuard[Awaitable[Any]]]:
    """``is_awaitable``, answered by the value's class for instances of Strawberry types.

    A page asks it of every object it completes (fifty customers, five hundred
    edges and interactions): a class lookup instead of two ``isinstance`` checks
    and a failed attribute search each. ``await`` looks ``__await__`` up on the
    class, so a Strawberry type's class without one, that is neither a coroutine
    nor a generator, has no awaitable instances.
    """
    settled = _SETTLED_CLASSES

    def awaitable(value: Any) -> TypeGuard[Awaitable[Any]]:
        kind = value.__class__
        if kind in settled:
            return False
        if is_awaitable(value):
            return True
        if (
            hasattr(kind, "__strawberry_definition__")
            and not hasattr(kind, "__await__")
            and not issubclass(kind, CoroutineType | GeneratorType)
        ):
            settled.add(kind)
        return False

    return awaitable


def _argument_free_field(
    parent_type: GraphQLObjectType, field_details: Any
) -> tuple[Any, StrawberryField] | None:
    """The field's definitions, when it takes no arguments and no extension wraps it."""
    node = field_details[0].node
    if node.arguments or node.name.value.startswith("__"):
        return None
    field_def = parent_type.fields.get(node.name.value)
    if field_def is None or field_def.args or field_def.resolve is None:
        return None
    definition = field_def.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(definition, StrawberryField) or definition.extensions:
        return None
    return field_def, definition


def _plain_object(parent_type: GraphQLObjectType, field_details: Any) -> _Object | None:
    """How to read the field directly, when it is a non-null object read off an
    attribute (``Edge.node``, ``Connection.pageInfo``)."""
    found = _argument_free_field(parent_type, field_details)
    if found is None or found[1].base_resolver is not None:
        return None
    field_def = found[0]
    output = field_def.type
    if not isinstance(output, GraphQLNonNull):
        return None
    output = output.of_type
    # Without ``is_type_of`` completing the object is only executing its fields.
    if not isinstance(output, GraphQLObjectType) or output.is_type_of is not None:
        return None
    return field_def.resolve, output


def _attribute_reader(field_def: GraphQLField, definition: StrawberryField) -> Callable[[Any], Any]:
    """How to read a field that Strawberry resolves by reading the object's attribute."""
    if definition.default_resolver is getattr:
        # What Strawberry's reader of the attribute ends in.
        return attrgetter(definition.python_name)
    resolve = field_def.resolve
    if resolve is None:
        raise ValueError(f"{definition.python_name} has no resolver")
    return lambda source: resolve(source, None)


def _shaped_field(
    parent_type: GraphQLObjectType, field_details: Any
) -> tuple[Callable[[Any], Any], GraphQLObjectType, int, bool] | None:
    """How to read the field directly, when it is a non-null object or a list of
    non-null objects read off an attribute (``Edge.node``, ``Connection.edges``):
    (reader, object type, kind, nullable)."""
    found = _argument_free_field(parent_type, field_details)
    if found is None or found[1].base_resolver is not None:
        return None
    field_def = found[0]
    read = _attribute_reader(field_def, found[1])
    output = field_def.type
    if isinstance(output, GraphQLNonNull) and isinstance(output.of_type, GraphQLObjectType):
        if output.of_type.is_type_of is not None:
            return None
        return read, output.of_type, _OBJECT, False
    nullable = not isinstance(output, GraphQLNonNull)
    if isinstance(output, GraphQLNonNull):
        output = output.of_type
    if not isinstance(output, GraphQLList) or not isinstance(output.of_type, GraphQLNonNull):
        return None
    item = output.of_type.of_type
    if not isinstance(item, GraphQLObjectType) or item.is_type_of is not None:
        return None
    return read, item, _LIST, nullable


def _plain_leaf(parent_type: GraphQLObjectType, field_details: Any) -> _Leaf | None:
    """How to read the field directly, when it is a plain leaf."""
    found = _argument_free_field(parent_type, field_details)
    if found is None:
        return None
    field_def, definition = found
    resolver = definition.base_resolver
    read: Callable[[Any], Any]
    if resolver is None:
        read = _attribute_reader(field_def, definition)
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
        read = method
    else:
        return None
    output = field_def.type
    nullable = not isinstance(output, GraphQLNonNull)
    if isinstance(output, GraphQLNonNull):
        output = output.of_type
    if not isinstance(output, GraphQLScalarType | GraphQLEnumType):
        return None
    coerce = _coercion(output)
    if coerce is None:
        return None
    unchanged = _UNCHANGED.get(output) if isinstance(output, GraphQLScalarType) else None
    return read, coerce, nullable, unchanged, _member_names(output)


def _coercion(output: GraphQLScalarType | GraphQLEnumType) -> Callable[[Any], Any] | None:
    """The type's ``coerce_output_value``, or one that answers the same faster."""
    coerce: Callable[[Any], Any] | None = output.coerce_output_value
    if coerce is isoformat:
        return _faster_isoformat(coerce)
    return coerce


def _faster_isoformat(isoformat: Callable[[Any], Any]) -> Callable[[Any], str]:
    """Strawberry's ``DateTime`` output (``value.isoformat()``), written by orjson for a
    datetime in UTC, as PostgreSQL's ``timestamptz`` values come: the same text
    (RFC 3339, microseconds only when there are any, ``+00:00``) in a third of
    the time, and a page of customers writes five hundred of them. Any other
    value goes to ``isoformat``."""

    def coerce(value: Any) -> Any:
        if value.__class__ is datetime and value.tzinfo is UTC:
            return orjson.dumps(value)[1:-1].decode()
        return isoformat(value)

    return coerce


def _member_names(
    output: GraphQLScalarType | GraphQLEnumType,
) -> tuple[type[Enum], dict[Enum, str]] | None:
    """What Strawberry's enum type outputs for each member of its Python enum: the name
    of the first value equal to the member's (``CustomGraphQLEnumType``, which
    looks for it among all the values on every call)."""
    wrapped = getattr(output, "wrapped_cls", None)
    if not isinstance(output, GraphQLEnumType) or not isinstance(wrapped, type):
        return None
    if not issubclass(wrapped, Enum):
        return None
    names: dict[Enum, str] = {}
    for member in wrapped:
        for name, value in output.values.items():
            if member.value == value.value:
                names[member] = name
                break
    return wrapped, names


def _method_call(parent_type: GraphQLObjectType, field_details: Any) -> _Call | None:
    """How to call the field's resolver directly, when it is a synchronous method of
    the type that no extension wraps."""
    node = field_details[0].node
    if node.name.value.startswith("__"):
        return None
    field_def = parent_type.fields.get(node.name.value)
    if field_def is None or field_def.resolve is None:
        return None
    definition = field_def.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(definition, StrawberryField) or definition.extensions:
        return None
    resolver = definition.base_resolver
    if (
        resolver is None
        or resolver.is_async
        or resolver.self_parameter is None
        or resolver.root_parameter is not None
        or resolver.parent_parameter is not None
    ):
        return None
    method = resolver.wrapped_func
    if not callable(method):
        return None
    info = resolver.info_parameter
    return method, field_def, definition, info.name if info is not None else None


# Sub-field sets and their plans kept across requests, for operations whose
# field collection cannot depend on variables (see ``_collects_alike``).
SHARED_KEPT = 4096
_subfields: Remembered[
    tuple[GraphQLObjectType, tuple[int, ...]], tuple[FieldDetailsList, CollectedFields]
] = Remembered(SHARED_KEPT)
_plans: Remembered[int, tuple[GroupedFieldSet, _Plan, _Shape | None]] = Remembered(SHARED_KEPT)
_alike: Remembered[int, tuple[OperationDefinitionNode, bool]] = Remembered(SHARED_KEPT)
# The root fields of such operations, by operation (see ``execute_root_grouped_field_set``).
_root_fields: Remembered[int, tuple[OperationDefinitionNode, GroupedFieldSet]] = Remembered(
    SHARED_KEPT
)
# Converted arguments written in the operation, by field details list (see
# ``LeafShortcutExecutionContext._literal_or_converted``).
_literal_arguments: Remembered[int, tuple[FieldDetailsList, dict[str, Any] | None]] = Remembered(
    SHARED_KEPT
)


def _reads_variables(node: FieldNode) -> bool:
    """Whether any argument of the field refers to a variable, at any depth."""

    def reads(value: ValueNode) -> bool:
        if isinstance(value, VariableNode):
            return True
        if isinstance(value, ListValueNode):
            return any(reads(item) for item in value.values)
        if isinstance(value, ObjectValueNode):
            return any(reads(field.value) for field in value.fields)
        return False

    return any(reads(argument.value) for argument in node.arguments or ())


def _collects_alike(
    operation: OperationDefinitionNode, fragments: Mapping[str, FragmentDetails]
) -> bool:
    """Whether collecting the fields of ``operation`` gives the same sets whatever the
    variables: no directive anywhere (``@skip``/``@include``/``@defer`` read them)."""

    def plain(selection_set: SelectionSetNode | None) -> bool:
        if selection_set is None:
            return True
        for selection in selection_set.selections:
            if selection.directives:
                return False
            if isinstance(selection, FieldNode | InlineFragmentNode) and not plain(
                selection.selection_set
            ):
                return False
        return True

    return (
        not operation.directives
        and plain(operation.selection_set)
        and all(
            not fragment.variable_signatures
            and not fragment.definition.directives
            and not fragment.definition.variable_definitions
            and plain(fragment.definition.selection_set)
            for fragment in fragments.values()
        )
    )


class LeafShortcutExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, reading plain leaf fields directly.

    The documents are cached (``schema.documents``), so the same operation text
    comes back as the same syntax tree: for an operation without directives, the
    fields collected below a field and the plan made of them are kept across
    requests instead of being made again by each.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # graphql-core collects a list's sub-fields once and hands every item the
        # same grouped field set, so a plan per set is made once per list.
        # The set is kept with its plan so that its id is not reused meanwhile.
        self._plans: dict[int, tuple[GroupedFieldSet, _Plan, _Shape | None]] = {}
        self._shortcut = not self.middleware_manager or not self.middleware_manager.middlewares
        self.is_awaitable = _classwise(self.is_awaitable)
        # Strawberry's schema, for the Info class and argument conversion; a schema
        # with exception handlers (which turn errors into results) calls every
        # resolver itself.
        strawberry_schema: Any = getattr(self.schema, "_strawberry_schema", None)
        self._strawberry: Any = (
            strawberry_schema
            if strawberry_schema is not None and not strawberry_schema.exception_handlers
            else None
        )
        # Per field details list: the converted arguments of a method call, or None
        # when they cannot be shared (the regular path then takes the field).
        self._arguments: dict[int, tuple[FieldDetailsList, dict[str, Any] | None]] = {}
        # Per field details list of a method call: how its value is completed at once
        # (see ``_completed_at_once``), or None when it is not.
        self._call_shapes: dict[int, tuple[FieldDetailsList, tuple[int, _Shape] | None]] = {}
        operation = self.operation
        self._alike = (
            self._shortcut
            and _alike.get(
                id(operation), lambda: (operation, _collects_alike(operation, self.fragments))
            )[1]
        )

    def execute_root_grouped_field_set(
        self,
        root_type: GraphQLObjectType,
        root_value: Any,
        grouped_field_set: GroupedFieldSet,
        serially: bool,
        position_context: Any,
    ) -> Any:
        """graphql-core's, with the root fields of an operation that collects alike
        kept across requests as the fields below them are: graphql-core collects
        them afresh for every request, so their plan (and the arguments written
        in the operation) were made again by each and filled the shared memos
        with sets never seen again."""
        if self._alike:
            operation = self.operation
            # The entry holds the operation, so its id is not reused meanwhile.
            grouped_field_set = _root_fields.get(
                id(operation), lambda: (operation, grouped_field_set)
            )[1]
        return super().execute_root_grouped_field_set(
            root_type, root_value, grouped_field_set, serially, position_context
        )

    def collect_subfields(
        self, return_type: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> CollectedFields:
        """graphql-core's, kept across requests when the operation collects alike."""
        if not self._alike:
            return super().collect_subfields(return_type, field_details_list)
        # graphql-core's own memo for this execution first: the items of a list
        # share one field details list.
        memo = self._relevant_sub_fields
        found = memo.get((return_type, id(field_details_list)))
        if found is not None:
            return found[1]
        # The nodes stay alive with the entry (its field details hold them), so
        # their ids are not reused while it is kept.
        key = (return_type, tuple(id(details.node) for details in field_details_list))
        collect = super().collect_subfields
        collected = _subfields.get(
            key, lambda: (field_details_list, collect(return_type, field_details_list))
        )[1]
        memo[return_type, id(field_details_list)] = (field_details_list, collected)
        return collected

    def _plan(
        self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet
    ) -> tuple[GroupedFieldSet, _Plan, _Shape | None]:
        """How to execute each field of the set, and the shape of the whole object when
        it can be completed at once."""
        key = id(grouped_field_set)
        cached = self._plans.get(key)
        if cached is None:
            if self._alike:
                cached = _plans.get(key, lambda: self._make_plan(parent_type, grouped_field_set))
            else:
                cached = self._make_plan(parent_type, grouped_field_set)
            self._plans[key] = cached
        return cached

    def _make_plan(
        self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet
    ) -> tuple[GroupedFieldSet, _Plan, _Shape | None]:
        plan = tuple(
            (
                name,
                details,
                _plain_leaf(parent_type, details) if self._shortcut else None,
                # Objects only where nothing reads the variables (see ``_collects_alike``)
                # and errors propagate as the specification says.
                _plain_object(parent_type, details)
                if self._alike and self.error_propagation
                else None,
                _method_call(parent_type, details)
                if self._shortcut and self._strawberry is not None
                else None,
            )
            for name, details in grouped_field_set.items()
        )
        # Shapes only where objects are (nothing reads the variables, errors propagate).
        shape = (
            self._shape(parent_type, plan)
            if self._alike and self.error_propagation and self._shortcut
            else None
        )
        return grouped_field_set, plan, shape

    def _shape(self, parent_type: GraphQLObjectType, plan: _Plan) -> _Shape | None:
        """The shape of the objects of ``plan``, or None when a field of theirs (or of the
        objects below) needs more than reading and coercing (see ``_complete_shape``)."""
        fields: list[tuple[str, int, Any, _Shape | None, bool]] = []
        for name, details, leaf, _obj, _call in plan:
            if leaf is not None:
                fields.append((name, _LEAF, leaf, None, False))
                continue
            shaped = _shaped_field(parent_type, details)
            if shaped is None:
                return None
            read, object_type, kind, nullable = shaped
            collected = self.collect_subfields(object_type, details)
            if collected[1]:
                return None
            below = self._plan(object_type, collected[0])[2]
            if below is None:
                return None
            fields.append((name, kind, read, below, nullable))
        return tuple(fields)

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        """graphql-core's ``execute_fields``, with plain leaves read directly."""
        is_awaitable = self.is_awaitable
        _, plan, shape = self._plan(parent_type, grouped_field_set)
        if (
            shape is not None
            and position_context is None
            and (completed := _complete_shape(shape, source_value, is_awaitable)) is not None
        ):
            return completed
        results: dict[str, Any] = {}
        awaitable_fields: list[str] = []
        try:
            for name, details, leaf, obj, call in plan:
                if leaf is not None:
                    value = _read_leaf(leaf, source_value, is_awaitable)
                    if value is not Undefined:
                        results[name] = value
                        continue
                field_path = Path(path, name, parent_type.name)
                if obj is not None:
                    result = self._execute_object(
                        obj, parent_type, source_value, details, field_path, position_context
                    )
                elif call is not None:
                    result = self._execute_call(
                        call, parent_type, source_value, details, field_path, position_context
                    )
                else:
                    # Not a plain leaf, or one the short path cannot answer: the
                    # regular path resolves it again and reports what went wrong.
                    result = self.execute_field(
                        parent_type, source_value, details, field_path, position_context
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

    def _execute_object(
        self,
        obj: _Object,
        parent_type: GraphQLObjectType,
        source: Any,
        details: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        """A plain non-null object field: its sub-fields executed on the attribute's
        value, without a resolve info and the resolver and completion machinery.

        Errors end as ``execute_field`` ends them (located at the field, raised
        since the field is non-null); a missing value takes the regular path,
        which reports it.
        """
        read, object_type = obj
        try:
            value = read(source, None)
            if value is None or self.is_awaitable(value):
                return self.execute_field(parent_type, source, details, path, position_context)
            completed = self._execute_subfields(object_type, details, path, value, position_context)
        except Exception as raw_error:
            self.handle_field_error(raw_error, GraphQLNonNull(object_type), details, path)
            return None  # not reached: a non-null field's error is raised
        if self.is_awaitable(completed):
            return self._await_object(completed, object_type, details, path)
        return completed

    def _execute_call(
        self,
        call: _Call,
        parent_type: GraphQLObjectType,
        source: Any,
        details: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        """graphql-core's ``execute_field`` for a method of the type: the method called
        with what Strawberry would pass it, the value completed and errors handled
        as there."""
        method, field_def, definition, info_name = call
        return_type = field_def.type
        info = self.build_resolve_info(field_def, to_nodes(details), parent_type, path)
        strawberry_info = self._strawberry.config.info_class(_raw_info=info, _field=definition)
        kwargs: dict[str, Any] = {}
        if field_def.args or details[0].node.arguments:
            shared = self._shared_arguments(field_def, definition, details, strawberry_info)
            if shared is None:
                return self.execute_field(parent_type, source, details, path, position_context)
            kwargs.update(shared)
        if info_name is not None:
            kwargs[info_name] = strawberry_info
        try:
            result = method(source, **kwargs)
            if self.is_awaitable(result):
                return self.complete_awaitable_value(
                    return_type, details, info, path, result, position_context
                )
            completed = self._completed_at_once(return_type, details, result, position_context)
            if completed is None:
                completed = self.complete_value(
                    return_type, details, info, path, result, position_context
                )
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, details, path)
            return None
        if self.is_awaitable(completed):
            return self._await_completed(completed, return_type, details, path)
        return completed

    def _completed_at_once(
        self,
        return_type: GraphQLOutputType,
        details: FieldDetailsList,
        result: Any,
        position_context: Any,
    ) -> dict[str, Any] | list[dict[str, Any]] | None:
        """A method's value completed in one pass of its shape, as ``complete_value``
        would complete it (a customer's ``metrics``, ``classification``, ``credit``,
        ``interactions``), or None when ``complete_value`` must: no shape, a null,
        an error, or anything ``_complete_found`` leaves to it. The shape is found
        once per field for all the objects of a list."""
        if (
            position_context is not None
            or result is None
            or result is Undefined
            or isinstance(result, Exception)
        ):
            return None
        found = self._call_shapes.get(id(details))
        if found is None:
            found = (details, self._call_shape(return_type, details))
            self._call_shapes[id(details)] = found
        if found[1] is None:
            return None
        kind, shape = found[1]
        return _complete_found(kind, shape, result, self.is_awaitable)

    def _call_shape(
        self, return_type: GraphQLOutputType, details: FieldDetailsList
    ) -> tuple[int, _Shape] | None:
        """(kind, shape) of a method's value, when it is an object or a list of non-null
        objects that ``complete_value`` completes by their shape; None otherwise."""
        if not self._alike:
            return None
        bare = return_type.of_type if isinstance(return_type, GraphQLNonNull) else return_type
        kind = _OBJECT
        if (
            isinstance(bare, GraphQLList)
            and isinstance(bare.of_type, GraphQLNonNull)
            and isinstance(bare.of_type.of_type, GraphQLObjectType)
        ):
            bare, kind = bare.of_type.of_type, _LIST
        if not isinstance(bare, GraphQLObjectType) or bare.is_type_of is not None:
            return None
        shape = self._shape_below(bare, details, None)
        return (kind, shape) if shape is not None else None

    def _shared_arguments(
        self,
        field_def: GraphQLField,
        definition: StrawberryField,
        details: FieldDetailsList,
        strawberry_info: Any,
    ) -> dict[str, Any] | None:
        """The field's arguments as Strawberry converts them, once per execution, or
        None when they may not be shared (a value that is not immutable) or do not
        convert (the regular path reports why)."""
        found = self._arguments.get(id(details))
        if found is None:
            converted = self._literal_or_converted(field_def, definition, details, strawberry_info)
            found = (details, converted)
            self._arguments[id(details)] = found
        return found[1]

    def _literal_or_converted(
        self,
        field_def: GraphQLField,
        definition: StrawberryField,
        details: FieldDetailsList,
        strawberry_info: Any,
    ) -> dict[str, Any] | None:
        """The converted arguments, kept across requests when they are written in the
        operation (``interactions(first: 10)``) and the operation collects alike:
        the same syntax then always converts to the same immutable values, and
        Strawberry's conversion of even one such argument cost a twentieth of a
        profile query. Arguments that read variables are converted per execution."""
        if not self._alike or _reads_variables(details[0].node):
            return self._converted(field_def, definition, details, strawberry_info)
        # The details stay alive with the entry, so their id is not reused meanwhile.
        return _literal_arguments.get(
            id(details),
            lambda: (details, self._converted(field_def, definition, details, strawberry_info)),
        )[1]

    def _converted(
        self,
        field_def: GraphQLField,
        definition: StrawberryField,
        details: FieldDetailsList,
        strawberry_info: Any,
    ) -> dict[str, Any] | None:
        converted: dict[str, Any] | None
        try:
            coerced = get_argument_values(
                field_def,
                details[0].node,
                self.variable_values,
                details[0].fragment_variable_values,
                self.hide_suggestions,
            )
            converted = convert_arguments(
                coerced,
                definition.arguments,
                scalar_registry=self._strawberry.schema_converter.scalar_registry,
                config=self._strawberry.config,
                info=strawberry_info,
            )
        except Exception:
            # Not swallowed: the regular path converts them again and reports the error.
            converted = None
        if converted is not None and not all(
            isinstance(value, _SHAREABLE) for value in converted.values()
        ):
            converted = None
        return converted

    async def _await_completed(
        self,
        completed: Awaitable[Any],
        return_type: GraphQLOutputType,
        details: FieldDetailsList,
        path: Path,
    ) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, details, path)
            return None

    def complete_value(
        self,
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        """graphql-core's, with objects and lists of non-null objects completed at once
        in operations without directives (nothing is deferred or streamed there)."""
        if self._alike and not isinstance(result, Exception):
            bare: GraphQLOutputType = (
                return_type.of_type if isinstance(return_type, GraphQLNonNull) else return_type
            )
            if isinstance(bare, GraphQLObjectType) and bare.is_type_of is None:
                if result is not None and result is not Undefined:
                    return self._execute_subfields(
                        bare, field_details_list, path, result, position_context
                    )
            elif (
                isinstance(bare, GraphQLList)
                and isinstance(result, list | tuple)
                and isinstance(bare.of_type, GraphQLNonNull)
                and isinstance(bare.of_type.of_type, GraphQLObjectType)
                and bare.of_type.of_type.is_type_of is None
            ):
                return self._complete_objects(
                    bare.of_type, field_details_list, info, path, result, position_context
                )
        return super().complete_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def _execute_subfields(
        self,
        object_type: GraphQLObjectType,
        details: FieldDetailsList,
        path: Path,
        value: Any,
        position_context: Any,
    ) -> Any:
        """``collect_and_execute_subfields``, straight to ``execute_fields`` when nothing
        is deferred (as graphql-core's incremental executor goes then)."""
        collected = self.collect_subfields(object_type, details)
        if collected[1] or position_context is not None:
            return self.collect_and_execute_subfields(
                object_type, details, path, value, position_context
            )
        return self.execute_fields(object_type, value, path, collected[0], None)

    def _shape_below(
        self, object_type: GraphQLObjectType, details: FieldDetailsList, position_context: Any
    ) -> _Shape | None:
        """The shape of the objects of a field, when nothing below it is deferred."""
        if position_context is not None:
            return None
        collected = self.collect_subfields(object_type, details)
        return None if collected[1] else self._plan(object_type, collected[0])[2]

    def _complete_objects(
        self,
        item_type: GraphQLNonNull[GraphQLObjectType],
        details: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        items: list[Any] | tuple[Any, ...],
        position_context: Any,
    ) -> Any:
        """graphql-core's ``complete_iterable_value`` for a list of non-null objects,
        each item's sub-fields executed at once; a null or awaitable item takes
        graphql-core's steps, and an item's error is handled as there."""
        object_type = item_type.of_type
        is_awaitable = self.is_awaitable
        execute = self._execute_subfields
        shape = self._shape_below(object_type, details, position_context)
        completed: list[Any] = []
        awaitable_indices: list[int] = []
        try:
            for index, item in enumerate(items):
                if shape is not None and item is not None and not is_awaitable(item):
                    value = _complete_shape(shape, item, is_awaitable)
                    if value is not None:
                        completed.append(value)
                        continue
                item_path = path.add_key(index, None)
                if item is None or is_awaitable(item):
                    if is_awaitable(item):
                        completed.append(
                            self.complete_awaitable_list_item_value(
                                item, item_type, details, info, item_path, position_context
                            )
                        )
                        awaitable_indices.append(index)
                    elif self.complete_list_item_value(
                        item, completed, item_type, details, info, item_path, position_context
                    ):
                        awaitable_indices.append(index)
                    continue
                try:
                    value = execute(object_type, details, item_path, item, position_context)
                except Exception as raw_error:
                    self.handle_field_error(raw_error, item_type, details, item_path)
                    completed.append(None)
                    continue
                if is_awaitable(value):
                    completed.append(self._await_completed(value, item_type, details, item_path))
                    awaitable_indices.append(index)
                else:
                    completed.append(value)
        except Exception:
            if awaitable_indices:
                self.settle_in_background([completed[index] for index in awaitable_indices])
            raise
        if not awaitable_indices:
            return completed
        return self._gather_items(completed, awaitable_indices)

    @staticmethod
    async def _gather_items(completed: list[Any], awaitable_indices: list[int]) -> list[Any]:
        if len(awaitable_indices) == 1:
            index = awaitable_indices[0]
            completed[index] = await completed[index]
        else:
            awaited: list[Any] = await gather_with_cancel(
                *(completed[index] for index in awaitable_indices)
            )
            for index, value in zip(awaitable_indices, awaited, strict=True):
                completed[index] = value
        return completed

    async def _await_object(
        self,
        completed: Awaitable[Any],
        object_type: GraphQLObjectType,
        details: FieldDetailsList,
        path: Path,
    ) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, GraphQLNonNull(object_type), details, path)
            return None  # not reached: a non-null field's error is raised

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
    read, coerce, nullable, unchanged, enum = leaf
    try:
        value = read(source)
        if value.__class__ is unchanged:
            return value
        if enum is not None and value.__class__ is enum[0] and (name := enum[1].get(value)):
            return name
        if value is None:
            return None if nullable else Undefined
        if value.__class__ not in _PLAIN_VALUES and is_awaitable(value):
            return Undefined
        coerced = coerce(value)
    except Exception:
        # Not swallowed: execute_field resolves the field again and reports the error.
        return Undefined
    return Undefined if coerced is None else coerced


def _complete_shape(
    shape: _Shape, source: Any, is_awaitable: Callable[[Any], bool]
) -> dict[str, Any] | None:
    """The completed object of ``shape`` read from ``source``, as the regular path
    would complete it, or None when the regular path must: a leaf that
    ``_read_leaf`` leaves to it, a null non-null object, an awaitable, a value
    that is not a list, or a reader that raises. Readers only read attributes
    or call methods of the object alone, so reading them again is harmless."""
    completed: dict[str, Any] = {}
    for name, kind, read, below, nullable in shape:
        if kind == _LEAF:
            value = _read_leaf(read, source, is_awaitable)
            if value is Undefined:
                return None
            completed[name] = value
            continue
        try:
            found = read(source)
        except Exception:
            # Not swallowed: the regular path reads it again and reports the error.
            return None
        if found is None:
            if not nullable:
                return None
            completed[name] = None
            continue
        value = _complete_found(kind, below, found, is_awaitable)
        if value is None:
            return None
        completed[name] = value
    return completed


def _complete_found(
    kind: int, below: _Shape | None, found: Any, is_awaitable: Callable[[Any], bool]
) -> dict[str, Any] | list[dict[str, Any]] | None:
    """The completed object or list of objects read for a field of a shape, or None
    when the regular path must complete it (see ``_complete_shape``)."""
    if below is None or is_awaitable(found):
        return None
    if kind == _OBJECT:
        return _complete_shape(below, found, is_awaitable)
    if not isinstance(found, list | tuple):
        return None
    items: list[dict[str, Any]] = []
    for item in found:
        value = (
            _complete_shape(below, item, is_awaitable)
            if item is not None and not is_awaitable(item)
            else None
        )
        if value is None:
            return None
        items.append(value)
    return items
