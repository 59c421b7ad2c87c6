"""The GraphQL endpoint: one session per request, closed when the response is sent.

A plain POST of one JSON operation (what front ends send) is answered here
rather than by Strawberry's view: its request and response adapters, content
negotiation (``parse_content_type`` through the e-mail package), the standard
JSON decoder and a text response encoded twice cost about a tenth of a profile
query's time. The operation runs through the same ``schema.execute``, with the
same context, root value and allowed operation types, and the answer is
Strawberry's (``process_result``), so only the transport is shorter. Anything
else (GET, websockets, other content types, streaming ``Accept`` headers,
batches, a body that is not one JSON object of the usual members) goes to
Strawberry's view unchanged, with the body it was sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from hub.auth import Principal
from hub.errors import HubError, Unauthenticated, Unavailable
from hub.services.keys import KeyCache, authenticate
from hub.settings import Settings
from hub.uow import is_disconnect
from schema import build_schema
from schema.context import Context
from schema.loaders import make_loaders

_SESSION_KEY = "hub.session"
_POST_OPERATIONS = OperationType.from_http("POST")
# The members of a request body the short path reads, and the types it takes
# them in (anything else: Strawberry's view decides).
_OPTIONAL_MEMBERS: tuple[tuple[str, type], ...] = (
    ("variables", dict),
    ("extensions", dict),
    ("operationName", str),
)


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
        # Deferred results stream through Strawberry's view only.
        self._short_posts = not self.schema.config.enable_experimental_incremental_execution

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with self.reads() as session:
            scope.setdefault("state", {})[_SESSION_KEY] = session
            if self._short_posts and scope["type"] == "http" and scope["method"] == "POST":
                await self._answer_post(scope, receive, send)
            else:
                await super().__call__(scope, receive, send)

    async def _answer_post(self, scope: Scope, receive: Receive, send: Send) -> None:
        """One JSON operation answered directly; any other POST by Strawberry's view."""
        request = Request(scope, receive)
        operation = None
        if _is_json(request.headers.get("content-type")) and (
            self._get_stream_transport_from_headers(request.headers) is None
        ):
            body = await request.body()
            operation = _plain_operation(body)
            # The view reads the body again from what was received.
            receive = _replaying(body, receive)
        if operation is None:
            await super().__call__(scope, receive, send)
            return
        response = await self._execute_post(request, operation)
        await response(scope, receive, send)

    async def _execute_post(self, request: Request, operation: Mapping[str, Any]) -> Response:
        """What Strawberry's view answers a POST of ``operation``: its result as JSON,
        with what resolvers set on the sub-response, or 400 for an operation the
        schema cannot run."""
        sub_response = await self.get_sub_response(request)
        context = await self.get_context(request, response=sub_response)
        try:
            result = await self.schema.execute(
                operation["query"],
                root_value=None,  # the app's root value (``GraphQL[Context, None]``)
                variable_values=operation.get("variables"),
                context_value=context,
                operation_name=operation.get("operationName"),
                allowed_operation_types=_POST_OPERATIONS,
                operation_extensions=operation.get("extensions"),
            )
        except CannotGetOperationTypeError as error:
            return PlainTextResponse(error.as_http_error_reason(), status_code=400)
        except InvalidOperationTypeError as error:
            return PlainTextResponse(error.as_http_error_reason("POST"), status_code=400)
        response_data = await self.process_result(request=request, result=result)
        if result.errors:
            self._handle_errors(result.errors, response_data)
        response = Response(self._encode_bytes(response_data), media_type="application/json")
        response.headers.raw.extend(sub_response.headers.raw)
        if sub_response.background:
            response.background = sub_response.background
        if sub_response.status_code:
            response.status_code = sub_response.status_code
        return response

    def _encode_bytes(self, data: object) -> bytes:
        """``encode_json`` as the bytes sent, without a round trip through text."""
        try:
            return orjson.dumps(data)
        except orjson.JSONEncodeError:
            return self.encode_json(data).encode()

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


def _is_json(content_type: str | None) -> bool:
    """Whether the body is declared plain JSON (``application/json``, any parameters)."""
    if content_type is None:
        return False
    return content_type.partition(";")[0].strip().lower() == "application/json"


def _plain_operation(body: bytes) -> dict[str, Any] | None:
    """The body as one operation: a JSON object with a non-empty ``query`` text and
    optional ``variables``, ``extensions`` (objects) and ``operationName`` (text).
    None for anything else, which Strawberry's view parses and answers (a batch,
    JSON that orjson does not read, members of other types)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    query = data.get("query")
    if not isinstance(query, str) or not query:
        return None
    for name, kind in _OPTIONAL_MEMBERS:
        value = data.get(name)
        if value is not None and not isinstance(value, kind):
            return None
    return data


def _replaying(body: bytes, receive: Receive) -> Receive:
    """``receive`` that first hands out ``body`` again, whole, then waits as before."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _authorization(request: Request | WebSocket) -> str | None:
    header = request.headers.get("authorization")
    if header is None and isinstance(request, WebSocket):
        # Browsers cannot set headers on websockets; graphql-transport-ws clients
        # send the key as a query parameter instead.
        token = request.query_params.get("token")
        return f"Bearer {token}" if token else None
    return header
