"""Page-size limits shared by every connection field."""

from __future__ import annotations

from collections.abc import Sequence

from strawberry.types.nodes import SelectedField, Selection

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


def selects(info: Info, name: str) -> bool:
    """Whether the operation asks for ``name`` right below the field being resolved.

    Fragments count; ``@skip``/``@include`` are not evaluated, so a field that
    may be skipped counts as asked for.
    """

    def among(selections: Sequence[Selection]) -> bool:
        return any(
            selection.name == name
            if isinstance(selection, SelectedField)
            else among(selection.selections)
            for selection in selections
        )

    return any(among(field.selections) for field in info.selected_fields)
