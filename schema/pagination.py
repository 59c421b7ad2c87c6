"""Page-size limits shared by every connection field."""

from __future__ import annotations

from hub.errors import Invalid
from schema.context import Info


def page_size(info: Info, first: int) -> int:
    """``first`` if within the caller's limit, else a clear error naming the limit."""
    limit = info.context.settings.max_page_size
    if first < 1:
        raise Invalid("must be at least 1", field="first")
    if first > limit:
        raise Invalid(f"must be at most {limit}", field="first")
    return first
