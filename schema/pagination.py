"""Page-size limits shared by every connection field."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionNode,
)

from hub.auth import Permission
from hub.errors import Invalid
from schema.context import Info


def page_size(info: Info, first: int) -> int:
    """``first`` if within the caller's limit (admins may export larger pages)."""
    settings = info.context.settings
    principal = info.context.principal
    is_admin = principal is not None and principal.can(Permission.ADMIN)
    limit = settings.max_admin_page_size if is_admin else settings.max_page_size
    if first < 1:
        raise Invalid("must be at least 1", field="first")
    if first > limit:
        raise Invalid(f"must be at most {limit}", field="first")
    return first


# Most a context keeps (a request asks a few dozen; a websocket's context lives on).
SELECTIONS_KEPT = 256


def selects(info: Info, name: str, *, below: Sequence[str] = ()) -> bool:
    """Whether the operation asks for ``name`` right below the field being resolved
    (or below the path ``below`` from it, e.g. ``("edges", "node")``).

    Fragments count; ``@skip``/``@include`` are not evaluated, so a field that
    may be skipped counts as asked for. Reads graphql-core's syntax tree:
    ``info.selected_fields`` converts the whole selection, arguments and
    directives included, on every call, which cost more than a profile's query.
    """
    return bool(selected_nodes(info, name, below=below))


def selected_nodes(info: Info, name: str, *, below: Sequence[str] = ()) -> list[FieldNode]:
    """The syntax nodes of the fields ``name`` asked for below the field being
    resolved (see ``selects``), found once per request for each set of syntax
    nodes resolved (the fifty customers of a page share theirs)."""
    raw = info._raw_info  # graphql-core's resolve info
    # The nodes are kept with what was found, so their ids are not reused while
    # it is (a websocket's context outlives its operations' documents).
    key = (*(id(node) for node in raw.field_nodes), name, *below)
    memo = info.context.selections
    found = memo.get(key)
    if found is None:
        if len(memo) >= SELECTIONS_KEPT:
            memo.clear()
        found = (raw.field_nodes, _find_nodes(info, name, below))
        memo[key] = found
    return found[1]


def _find_nodes(info: Info, name: str, below: Sequence[str]) -> list[FieldNode]:
    raw = info._raw_info
    level: list[FieldNode] = list(raw.field_nodes)
    for step in [*below, name]:
        level = [
            child
            for field in level
            for child in subfields(field, raw.fragments)
            if child.name.value == step
        ]
    return level


def subfields(
    field: FieldNode, fragments: Mapping[str, FragmentDefinitionNode]
) -> Iterator[FieldNode]:
    """The fields right below ``field``, through fragments (directives not evaluated)."""

    def among(selections: Iterable[SelectionNode]) -> Iterator[FieldNode]:
        for selection in selections:
            if isinstance(selection, FieldNode):
                yield selection
            elif isinstance(selection, InlineFragmentNode):
                yield from among(selection.selection_set.selections)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = fragments.get(selection.name.value)
                if fragment is not None:
                    yield from among(fragment.selection_set.selections)

    if field.selection_set is None:
        return iter(())
    return among(field.selection_set.selections)
