"""The engine's pool: connections checked after idling, not on every checkout; no JIT."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import literal, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from hub.db.engine import create_engine, read_rows
from hub.settings import Settings


async def _backend(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _terminate(admin: AsyncEngine, pid: int) -> None:
    async with admin.connect() as connection:
        await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


async def test_a_connection_that_idled_is_checked_and_replaced_when_found_closed(
    engine: AsyncEngine, database_url: str, settings: Settings
) -> None:
    reads = create_engine(database_url, settings, autocommit=True, ping_after_idle=0.2)
    try:
        first = await _backend(reads)
        await _terminate(engine, first)
        await asyncio.sleep(0.4)
        assert await _backend(reads) != first
    finally:
        await reads.dispose()


async def test_a_connection_in_steady_use_is_not_checked(
    engine: AsyncEngine, database_url: str, settings: Settings
) -> None:
    reads = create_engine(database_url, settings, autocommit=True, ping_after_idle=60)
    try:
        first = await _backend(reads)
        await _terminate(engine, first)
        # Not pinged: the dead connection is found by the statement itself,
        # and the pool opens a new one for the next checkout.
        with pytest.raises(DBAPIError):
            await _backend(reads)
        assert await _backend(reads) != first
    finally:
        await reads.dispose()


async def test_the_hubs_connections_never_compile_statements_just_in_time(
    database_url: str, settings: Settings
) -> None:
    for engine in (
        create_engine(database_url, settings),
        create_engine(database_url, settings, autocommit=True, ping_after_idle=60),
    ):
        try:
            async with engine.connect() as connection:
                assert (await connection.execute(text("SHOW jit"))).scalar_one() == "off"
        finally:
            await engine.dispose()


async def test_read_rows_gives_the_rows_the_orm_gives_for_a_select_of_columns(
    session: AsyncSession,
) -> None:
    statement = select(
        literal(7).label("id"), literal("成德").label("name"), literal(None).label("lineage")
    )
    through_orm = (await session.execute(statement)).all()
    plain = await read_rows(session, statement)
    assert plain == through_orm
    assert plain[0]._mapping == through_orm[0]._mapping


async def test_read_rows_sees_what_the_session_wrote_in_its_transaction(
    session: AsyncSession,
) -> None:
    await session.execute(text("CREATE TEMPORARY TABLE seen (n int)"))
    await session.execute(text("INSERT INTO seen VALUES (1), (2)"))
    rows = await read_rows(session, text("SELECT n FROM seen WHERE n > :low"), {"low": 1})
    assert [tuple(row) for row in rows] == [(2,)]


async def test_reads_of_one_session_take_turns_with_its_other_statements(
    session: AsyncSession,
) -> None:
    slow = session.execute(text("SELECT pg_sleep(0.05), 1"))
    quick = read_rows(session, text("SELECT 2"))
    first, second = await asyncio.gather(slow, quick)
    assert first.one()[1] == 1
    assert second[0][0] == 2
