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

from hub.db.embedded import import_pgserver
from hub.db.engine import async_url
from hub.db.migrate import upgrade_database
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
        expire_on_commit=False,
        autoflush=False,
        join_transaction_mode="create_savepoint",
    )


@pytest.fixture
async def session(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessions() as session:
        yield session
