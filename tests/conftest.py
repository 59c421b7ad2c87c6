"""Test fixtures on real PostgreSQL: never a mock, never SQLite.

``HUB_TEST_DATABASE_URL`` names a database the suite may wipe (CI creates one);
without it an embedded PostgreSQL (pgserver) starts once for the session.
Migrations run once; every test runs inside an outer transaction that is
rolled back, with sessions that turn their own transactions into savepoints.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from starlette.applications import Starlette

from hub.app import create_app
from hub.db.embedded import import_pgserver
from hub.db.engine import SerialSession, async_url
from hub.db.migrate import upgrade_database
from hub.services.keys import create_api_key
from hub.settings import Settings


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a PostgreSQL database this test session owns."""
    configured = os.environ.get("HUB_TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    pgserver = import_pgserver()
    data_dir: Path = tmp_path_factory.mktemp("pg")
    server = pgserver.get_server(data_dir, cleanup_mode="delete")
    try:
        server.psql("CREATE DATABASE hub_test;")
        yield make_url(server.get_uri("hub_test")).render_as_string(hide_password=False)
    finally:
        server.cleanup()


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, _env_file=None)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a freshly migrated schema."""
    engine = create_async_engine(async_url(database_url), pool_size=5, max_overflow=10)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await upgrade_database(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection inside an outer transaction that the test never commits."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield connection
        finally:
            await transaction.rollback()


@pytest.fixture
def sessions(connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    """Sessions whose commits become savepoints of the test's transaction."""
    return async_sessionmaker(
        bind=connection,
        class_=SerialSession,
        expire_on_commit=False,
        autoflush=False,
        join_transaction_mode="create_savepoint",
    )


@pytest.fixture
async def session(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessions() as session:
        yield session


@pytest.fixture
async def app(
    settings: Settings, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Starlette]:
    """The hub's ASGI app, its sessions inside the test's transaction."""
    application = create_app(settings, database_url, migrate=False, sessions=sessions)
    yield application
    await application.state.engine.dispose()


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        yield client


class Api:
    """GraphQL calls as a client with a given role would make them."""

    def __init__(self, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]):
        self.client = client
        self.sessions = sessions
        self._keys: dict[str, str] = {}

    async def key(self, role: str) -> str:
        if role not in self._keys:
            async with self.sessions() as session, session.begin():
                issued = await create_api_key(session, name=f"test {role}", role=role)
            self._keys[role] = issued.key
        return self._keys[role]

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, *, role: str = "admin"
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {await self.key(role)}"}
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
def api(client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]) -> Api:
    return Api(client, sessions)


@pytest.fixture
async def committed_engine(engine: AsyncEngine, database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a freshly migrated database of its own, for tests that must commit
    (concurrency, crash recovery); dropped afterwards."""
    # Named after the suite's own database, so that suites run side by side
    # (each with its own HUB_TEST_DATABASE_URL) never drop each other's.
    name = f"{make_url(database_url).database}_committed"
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        await connection.execute(text(f"CREATE DATABASE {name}"))
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    scratch = create_async_engine(async_url(url), pool_size=8, max_overflow=4)
    await upgrade_database(scratch)
    yield scratch
    await scratch.dispose()
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
