"""Relay connections for every unbounded list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import strawberry

from hub.domain import Page

NodeT = TypeVar("NodeT")
ItemT = TypeVar("ItemT")


@strawberry.type(description="Where a page sits in its listing.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow this page.")
    has_previous_page: bool = strawberry.field(description="Items precede this page.")
    start_cursor: str | None = strawberry.field(description="Cursor of the first item.")
    end_cursor: str | None = strawberry.field(
        description="Cursor of the last item; pass as `after`."
    )


@strawberry.type(description="One item of a page and its cursor.")
class Edge(Generic[NodeT]):
    node: NodeT = strawberry.field(description="The item.")
    cursor: str = strawberry.field(description="Opaque position of this item.")


@strawberry.type(description="A page of an ordered listing (Relay connection).")
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]] = strawberry.field(description="The items of this page.")
    page_info: PageInfo = strawberry.field(description="Where this page sits.")
    total_count: int = strawberry.field(description="How many items the whole listing has.")


def connection_from_page(page: Page[ItemT], convert: Callable[[ItemT], NodeT]) -> Connection[NodeT]:
    """A Relay connection of ``page``'s items converted to GraphQL nodes."""
    edges = [
        Edge(node=convert(item), cursor=cursor)
        for item, cursor in zip(page.items, page.cursors, strict=True)
    ]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        ),
        total_count=page.total_count,
    )
