"""The per-request context: the session, the settings, fresh DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from hub.auth import Permission, Principal
from hub.errors import HubError, Unauthenticated
from hub.services.interactions import InteractionQuery
from hub.settings import Settings
from schema.loaders import Loaders


@dataclass(slots=True)
class Context:
    """What every resolver gets as ``info.context``.

    ``session`` lives exactly as long as the request; mutations open their own
    transaction on it (``async with context.session.begin()``).
    """

    request: Request | WebSocket
    response: Response | None
    session: AsyncSession
    sessions: async_sessionmaker[AsyncSession]
    settings: Settings
    loaders: Loaders
    principal: Principal | None
    auth_failure: HubError | None = None
    # What ``schema.pagination.selected_nodes`` found, by the fields asked below
    # and the path: a page's fifty customers ask the same of the same syntax.
    selections: dict[tuple[Any, ...], tuple[Any, list[Any]]] = field(default_factory=dict)
    # The pages of interactions customers' ``interactions`` fields ask for, by
    # syntax nodes and arguments (see ``schema.types.customer``).
    interaction_queries: dict[tuple[Any, ...], tuple[Any, InteractionQuery]] = field(
        default_factory=dict
    )

    def caller(self) -> Principal:
        """The authenticated caller, or UNAUTHENTICATED."""
        if self.principal is None:
            raise self.auth_failure or Unauthenticated("an API key is required")
        return self.principal

    def require(self, permission: Permission) -> Principal:
        """The caller, if allowed ``permission``; otherwise UNAUTHENTICATED or FORBIDDEN."""
        principal = self.caller()
        principal.require(permission)
        return principal


Info = strawberry.Info[Context, None]
