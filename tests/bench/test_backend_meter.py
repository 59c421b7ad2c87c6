"""The load bench counts the CPU of a database's backends, their parallel workers included."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from bench.hub_load_bench import BackendMeter


async def test_a_backends_parallel_index_build_workers_are_counted_with_it(
    connection: AsyncConnection,
) -> None:
    database = await connection.scalar(text("SELECT current_database()"))
    backend = await connection.scalar(text("SELECT pg_backend_pid()"))
    await connection.execute(
        text(
            "CREATE TABLE meter_rows AS"
            " SELECT (random() * 1e12)::bigint AS n FROM generate_series(1, 3000000)"
        )
    )
    # Two workers sort beside the backend, whatever the table's size.
    await connection.execute(text("ALTER TABLE meter_rows SET (parallel_workers = 2)"))
    await connection.execute(text("SET LOCAL max_parallel_maintenance_workers = 2"))
    await connection.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))

    with BackendMeter(str(database)) as meter:
        await connection.execute(text("CREATE INDEX ON meter_rows (n)"))

    assert backend in meter.backends
    workers = set(meter.seen) - meter.backends
    assert workers, "no parallel worker of the backend was counted"
    assert meter.seconds > meter.seen[backend]
