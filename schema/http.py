"""The GraphQL endpoint: one session per request, closed when the response is sent."""

from __future__ import annotations

import orjson
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from hub.auth import Principal
from hub.errors import HubError, Unauthenticated, Unavailable
from hub.services.keys import KeyCache, authenticate
from hub.settings import Settings
from hub.uow import is_disconnect
from schema import build_schema
from schema.context import Context
from schema.loaders import make_loaders

_SESSION_KEY = "hub.session"


class GraphQLApp(GraphQL[Context, None]):
    """Strawberry's ASGI app, with the hub's per-request context."""

    def __init__(self, settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> None:
        super().__init__(
            build_schema(settings),
            graphql_ide="graphiql" if settings.graphiql_enabled else None,
            allow_queries_via_get=False,
        )
        self.settings = settings
        # Units of work (mutations) open their transactions on ``sessions``; a
        # request reads through ``reads``, which the app may point at sessions
        # that keep no transaction open.
        self.sessions = sessions
        self.reads = sessions
        # Per app, so tests (one app each) never see another's keys.
        self.keys = KeyCache(settings.api_key_cache_ttl)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with self.reads() as session:
            scope.setdefault("state", {})[_SESSION_KEY] = session
            await super().__call__(scope, receive, send)

    def encode_json(self, data: object) -> str:
        """Responses as JSON, several times faster than the standard encoder."""
        try:
            # Text, not bytes: websocket clients expect text frames.
            return orjson.dumps(data).decode()
        except orjson.JSONEncodeError:
            # Integers past 64 bits (a department's extra attribute may hold one)
            # are beyond orjson; the standard encoder writes them.
            encoded = super().encode_json(data)
            return encoded if isinstance(encoded, str) else encoded.decode()

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None
    ) -> Context:
        session: AsyncSession = request.scope["state"][_SESSION_KEY]
        principal: Principal | None = None
        failure: HubError | None = None
        try:
            principal = await authenticate(session, _authorization(request), cache=self.keys)
        except Unauthenticated as error:
            failure = error
        except (OSError, DBAPIError) as error:
            if not is_disconnect(error):
                raise
            failure = Unavailable("the database is unavailable; nothing was changed, retry later")
        if not isinstance(failure, Unavailable) and session.in_transaction():
            # The key lookup must not leave a transaction open for the mutations
            # (a key found in the cache ran no statement: there is none to end).
            await session.rollback()
        return Context(
            request=request,
            response=response if isinstance(response, Response) else None,
            session=session,
            sessions=self.sessions,
            settings=self.settings,
            loaders=make_loaders(session),
            principal=principal,
            auth_failure=failure,
        )


def _authorization(request: Request | WebSocket) -> str | None:
    header = request.headers.get("authorization")
    if header is None and isinstance(request, WebSocket):
        # Browsers cannot set headers on websockets; graphql-transport-ws clients
        # send the key as a query parameter instead.
        token = request.query_params.get("token")
        return f"Bearer {token}" if token else None
    return header
