"""Subscriptions over websockets (graphql-transport-ws): change events as they commit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import strawberry

from hub.auth import Permission
from hub.domain import decode_cursor
from hub.services import events
from schema.context import Info
from schema.types.stewardship import Change

# How often an idle subscription looks for new events, and how many it reads at once.
POLL_SECONDS = 0.5
READ_AHEAD = 200


@strawberry.type(description="Live feeds.")
class Subscription:
    @strawberry.subscription(
        description="Change events in sequence order as they commit. With `after` (a cursor "
        "from `changes`), events after it are replayed first; without, only new ones come."
    )
    async def changes(self, info: Info, after: str | None = None) -> AsyncGenerator[Change, None]:
        info.context.require(Permission.READ_CUSTOMERS)
        sessions = info.context.sessions
        if after is not None:
            seq = decode_cursor(after)
        else:
            async with sessions() as session:
                seq = await events.last_change_seq(session)
        while True:
            # A short session per poll: a subscription may live for hours.
            async with sessions() as session:
                batch = await events.changes_after(session, seq, READ_AHEAD)
            for change in batch:
                seq = change.seq
                yield Change.from_domain(change)
            if len(batch) < READ_AHEAD:
                await asyncio.sleep(POLL_SECONDS)
