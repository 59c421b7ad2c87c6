"""The per-request context: the session, the settings, fresh DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

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


Info = strawberry.Info[Context, None]
