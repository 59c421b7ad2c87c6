"""Faults: a killed connection, a database that goes away and comes back."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    create_async_engine,
)

from hub.app import create_app
from hub.db.embedded import import_pgserver
from hub.db.engine import async_url, session_factory
from hub.db.migrate import upgrade_database
from hub.db.models import SourceRecord
from hub.errors import Unavailable
from hub.services.keys import create_api_key
from hub.services.records import submit_records
from hub.settings import Settings
from hub.uow import in_transaction


def batch(size: int) -> list[dict[str, Any]]:
    return [
        {
            "source_key": f"K{i}",
            "party_type": "person",
            "name": f"客户{i}",
            "phones": [f"1380000{i:04d}"],
        }
        for i in range(size)
    ]


async def test_a_connection_killed_mid_batch_stores_nothing_and_a_retry_completes(
    committed_engine: AsyncEngine,
) -> None:
    sessions = session_factory(committed_engine)
    written = asyncio.Event()
    backend: list[int] = []

    async def work(session: AsyncSession) -> Any:
        backend.append((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())
        result = await submit_records(session, "sales", batch(600), actor="test")
        written.set()
        # Every row of the batch is written, none committed: the connection dies here.
        await session.execute(text("SELECT pg_sleep(30)"))
        return result

    async def kill() -> None:
        await written.wait()
        async with committed_engine.connect() as connection:
            await wait_until_sleeping(connection, backend[0])
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend[0]})

    killer = asyncio.create_task(kill())
    with pytest.raises(Unavailable, match="nothing was stored"):
        await in_transaction(sessions, work, attempts=1)
    await killer
    async with sessions() as session:
        stored = (
            await session.execute(select(func.count()).select_from(SourceRecord))
        ).scalar_one()
    assert stored == 0

    retried = await in_transaction(
        sessions, lambda session: submit_records(session, "sales", batch(600), actor="test")
    )
    assert retried.created == 600


async def wait_until_sleeping(connection: AsyncConnection, pid: int) -> None:
    """Until backend ``pid`` runs its ``pg_sleep`` (the batch's writes are behind it)."""
    for _ in range(500):
        running = await connection.scalar(
            text("SELECT query FROM pg_stat_activity WHERE pid = :pid AND state = 'active'"),
            {"pid": pid},
        )
        if running is not None and "pg_sleep" in running:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"backend {pid} never reached its pg_sleep")


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[tuple[Any, Path]]:
    """A PostgreSQL of this test's own, which the test may stop and start."""
    pgserver = import_pgserver()
    data = tmp_path / "pg"
    server = pgserver.get_server(data, cleanup_mode="stop")
    yield server, data
    pgserver.get_server(data, cleanup_mode="delete").cleanup()


async def test_the_hub_reports_the_database_down_and_recovers_without_a_restart(
    own_server: tuple[Any, Path], settings: Settings
) -> None:
    server, data = own_server
    server.psql("CREATE DATABASE hub;")
    url = make_url(server.get_uri("hub")).render_as_string(hide_password=False)
    engine = create_async_engine(async_url(url))
    await upgrade_database(engine)
    issued = await in_transaction(
        session_factory(engine),
        lambda session: create_api_key(session, name="probe", role="reader"),
    )
    await engine.dispose()
    app = create_app(settings, url, migrate=False)
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {issued.key}"}
    query = {"query": "{ customers { totalCount } }"}
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        assert (await client.get("/readyz")).status_code == 200
        assert (await client.post("/graphql", json=query, headers=headers)).json()["data"]

        server.cleanup()  # PostgreSQL stops
        assert (await client.get("/readyz")).status_code == 503
        down = (await client.post("/graphql", json=query, headers=headers)).json()
        assert down["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
        assert "retry later" in down["errors"][0]["message"]
        assert (await client.get("/healthz")).status_code == 200

        import_pgserver().get_server(data, cleanup_mode="stop")  # and comes back
        assert (await client.get("/readyz")).status_code == 200
        back = (await client.post("/graphql", json=query, headers=headers)).json()
        assert back == {"data": {"customers": {"totalCount": 0}}}
    await app.state.engine.dispose()
