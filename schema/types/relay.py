"""Relay connections for every unbounded list."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

import strawberry

from hub.domain import Page

NodeT = TypeVar("NodeT")
ItemT = TypeVar("ItemT")

# Cursors are read from the page's ``cursors`` only when a field asks for them:
# a page of fifty customers lists five hundred interactions whose cursors
# nobody asks for (``hub.domain.Cursors`` encodes each when it is read).


@strawberry.type(description="Where a page sits in its listing.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow this page.")
    has_previous_page: bool = strawberry.field(description="Items precede this page.")
    cursors: strawberry.Private[Sequence[str]]

    @strawberry.field(description="Cursor of the first item.")
    def start_cursor(self) -> str | None:
        return self.cursors[0] if self.cursors else None

    @strawberry.field(description="Cursor of the last item; pass as `after`.")
    def end_cursor(self) -> str | None:
        return self.cursors[-1] if self.cursors else None


@strawberry.type(description="One item of a page and its cursor.")
class Edge(Generic[NodeT]):
    node: NodeT = strawberry.field(description="The item.")
    cursors: strawberry.Private[Sequence[str]]
    position: strawberry.Private[int]

    @strawberry.field(description="Opaque position of this item.")
    def cursor(self) -> str:
        return self.cursors[self.position]


@strawberry.type(description="A page of an ordered listing (Relay connection).")
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]] = strawberry.field(description="The items of this page.")
    page_info: PageInfo = strawberry.field(description="Where this page sits.")
    total_count: int = strawberry.field(description="How many items the whole listing has.")


def connection_from_page(page: Page[ItemT], convert: Callable[[ItemT], NodeT]) -> Connection[NodeT]:
    """A Relay connection of ``page``'s items converted to GraphQL nodes."""
    cursors = page.cursors
    if len(cursors) != len(page.items):
        raise ValueError(f"{len(page.items)} items but {len(cursors)} cursors")
    return Connection(
        edges=[
            Edge(node=convert(item), cursors=cursors, position=position)
            for position, item in enumerate(page.items)
        ],
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            cursors=cursors,
        ),
        total_count=page.total_count,
    )
