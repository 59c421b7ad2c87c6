"""The ASGI application: GraphQL at /graphql, the steward console at /console, probes."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from hub.db.engine import create_engine, session_factory
from hub.db.migrate import upgrade_database
from hub.limits import BodySizeLimit, RequestTimeout
from hub.settings import Settings, get_settings
from matching.standardize import load_reference_tables
from schema.http import GraphQLApp

log = logging.getLogger(__name__)

READINESS_TIMEOUT_SECONDS = 2.0
# A connection idle for longer than this is pinged before use; one in steady
# use is not (the ping was a round trip per request).
PING_AFTER_IDLE_SECONDS = 1.0
# Allocations between collections of the youngest generation (CPython's default
# is 700): a batch of submissions allocates millions of short-lived objects,
# and with the default about a third of its CPU went into the collector.
GC_YOUNG_THRESHOLD = 20_000

StartupHook = Callable[[async_sessionmaker[AsyncSession]], Awaitable[None]]


async def healthz(_: Request) -> JSONResponse:
    """The process is alive (says nothing about the database)."""
    return JSONResponse({"status": "ok"})


async def database_readiness(engine: AsyncEngine) -> JSONResponse:
    """The database answers; a load balancer sends traffic only while this is 200."""
    try:
        async with asyncio.timeout(READINESS_TIMEOUT_SECONDS), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except (OSError, TimeoutError, DBAPIError, OperationalError) as exc:
        log.warning("database not ready", extra={"error": f"{type(exc).__name__}: {exc}"})
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ready", "database": "ok"})


def create_app(
    settings: Settings,
    database_url: str,
    *,
    migrate: bool = True,
    on_startup: StartupHook | None = None,
    on_shutdown: Callable[[], None] | None = None,
    sessions: async_sessionmaker[AsyncSession] | None = None,
) -> Starlette:
    """The hub's ASGI app; the engine lives from startup to shutdown.

    ``migrate`` upgrades the schema before the first request; ``on_startup``
    runs after that (``hub serve --demo`` loads its sample there). Tests pass
    ``sessions`` bound to their rolled-back transaction.
    """
    engine = create_engine(database_url, settings, ping_after_idle=PING_AFTER_IDLE_SECONDS)
    own_sessions = sessions is None
    sessions = sessions or session_factory(engine)
    graphql = GraphQLApp(settings, sessions)

    async def readyz(_: Request) -> JSONResponse:
        return await database_readiness(engine)

    # Requests read through sessions of their own engine, which keeps no
    # transaction open (mutations write through ``sessions``). Tests that pass
    # ``sessions`` read and write through them, inside their transaction.
    reader = (
        create_engine(
            database_url, settings, autocommit=True, ping_after_idle=PING_AFTER_IDLE_SECONDS
        )
        if own_sessions
        else None
    )

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        try:
            if migrate:
                await upgrade_database(engine)
            if on_startup is not None:
                await on_startup(sessions)
            if reader is not None:
                graphql.reads = session_factory(reader)
            # The first submission would otherwise pay for loading these.
            await asyncio.to_thread(load_reference_tables)
            # What exists now (modules, schema, the matcher's tables) lives as long
            # as the process: out of the collector's generations, it is not walked
            # again by every collection that requests trigger.
            gc.collect()
            gc.freeze()
            gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
            log.info("hub ready")
            yield
        finally:
            await engine.dispose()
            if reader is not None:
                await reader.dispose()
            if on_shutdown is not None:
                on_shutdown()
            log.info("hub stopped")

    application = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            # Static files shipped in the package; the page talks to /graphql only.
            Mount("/console", StaticFiles(packages=[("hub", "console")], html=True)),
        ],
        lifespan=lifespan,
    )
    application.state.engine = engine
    application.add_middleware(RequestTimeout, seconds=settings.request_timeout_seconds)
    application.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    return application


def worker_app() -> Starlette:
    """The app of one ``hub serve --workers N`` process (a uvicorn app factory).

    The parent process has started the database, migrated it and loaded the
    demo when asked; it passes the database's URL in ``HUB_DATABASE_URL``.
    """
    settings = get_settings()
    if settings.database_url is None:
        raise RuntimeError("hub serve passes HUB_DATABASE_URL to its workers")
    return create_app(settings, settings.database_url, migrate=False)
