"""Page-size limits shared by every connection field."""

from __future__ import annotations

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
