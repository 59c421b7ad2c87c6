"""Migrations are the schema: one head, identical to the models, reversible."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hub.db.engine import async_url
from hub.db.migrate import alembic_config, downgrade_database, upgrade_database
from hub.db.models import Base
from matching import PartyType, StandardRecord
from matching.block import blocking_keys, key_hash
from matching.standardize import standard_record_json, standardize_name, standardize_phone


def test_migrations_have_a_single_head() -> None:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, Base.metadata))


async def test_models_and_migrations_agree(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        differences = await connection.run_sync(_differences)
    assert differences == []


@pytest.fixture
async def scratch_engine(engine: AsyncEngine, database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a database of its own, so downgrading disturbs no other test."""
    name = "hub_migration_check"
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        await connection.execute(text(f"CREATE DATABASE {name}"))
    scratch = create_async_engine(
        async_url(make_url(database_url).set(database=name).render_as_string(hide_password=False))
    )
    yield scratch
    await scratch.dispose()
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        )
        return {row[0] for row in rows}


async def test_downgrade_then_upgrade_restores_the_schema(scratch_engine: AsyncEngine) -> None:
    await upgrade_database(scratch_engine)
    upgraded = await _tables(scratch_engine)
    await downgrade_database(scratch_engine, "base")
    assert await _tables(scratch_engine) == {"alembic_version"}
    await upgrade_database(scratch_engine)
    assert await _tables(scratch_engine) == upgraded
    async with scratch_engine.connect() as connection:
        assert await connection.run_sync(_differences) == []


async def _collations(engine: AsyncEngine) -> dict[tuple[str, str], str | None]:
    """Each column's collation when not the database's default (None then)."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT table_name, column_name, collation_name FROM information_schema.columns"
                " WHERE table_schema = 'public'"
            )
        )
        return {(table, column): collation for table, column, collation in rows}


async def test_every_column_has_the_collation_its_model_names(engine: AsyncEngine) -> None:
    # Alembic's comparison of types does not look at collations.
    named = {
        (table.name, column.name): getattr(column.type, "collation", None)
        for table in Base.metadata.tables.values()
        for column in table.columns
    }
    stored = await _collations(engine)
    assert {place: stored[place] for place in named} == named


async def test_search_tokens_compare_byte_by_byte(engine: AsyncEngine) -> None:
    stored = await _collations(engine)
    assert stored["search_token", "token"] == "C"


@pytest.mark.parametrize(
    ("lookup", "values", "index"),
    [
        (
            "SELECT m.source_record_id FROM unnest(CAST(:values AS bigint[])) AS k(key)"
            " CROSS JOIN LATERAL (SELECT source_record_id FROM match_key m"
            " WHERE m.key_hash = k.key LIMIT 10) AS m",
            [key_hash("n:星河"), key_hash("p:138")],
            "pk_match_key",
        ),
        (
            "SELECT t.golden_id FROM unnest(CAST(:values AS text[])) AS q(token)"
            " CROSS JOIN LATERAL (SELECT golden_id FROM search_token s"
            " WHERE s.token = q.token LIMIT 10) AS t",
            ["h:星河", "p:xinghe"],
            "pk_search_token",
        ),
    ],
)
async def test_lookups_by_a_bound_key_hash_or_token_use_the_primary_key(
    engine: AsyncEngine, lookup: str, values: list[Any], index: str
) -> None:
    # Bound text takes the column's collation: the byte-order index still answers.
    async with engine.connect() as connection:
        await connection.execute(text("SET LOCAL enable_seqscan = off"))
        plan = await connection.scalar(text(f"EXPLAIN (FORMAT JSON) {lookup}"), {"values": values})
    assert index in str(plan)


async def test_revision_0011_hashes_the_stored_keys_and_its_downgrade_makes_them_again(
    scratch_engine: AsyncEngine,
) -> None:
    await upgrade_database(scratch_engine, "0010")
    record = StandardRecord(
        source="crm",
        source_key="c-1",
        party_type=PartyType.ORGANIZATION,
        name=standardize_name("北京星河智能科技有限公司", PartyType.ORGANIZATION).value,
        phones=(standardize_phone("010-62881234").value,),
    )
    async with scratch_engine.begin() as connection:
        for statement in (
            "INSERT INTO source_system (id, code, name) VALUES (1, 'crm', 'CRM')",
            "INSERT INTO source_record (id, source_id, source_key, party_type,"
            " current_version, content_hash) VALUES (7, 1, 'c-1', 'organization', 1, '')",
            "INSERT INTO source_record_version (source_record_id, version, payload,"
            " standardized, flags) VALUES (7, 1, '{}', CAST(:standard AS jsonb), '[]')",
            "INSERT INTO match_key SELECT k, 7 FROM unnest(CAST(:keys AS text[])) AS k",
        ):
            await connection.execute(
                text(statement),
                {"standard": standard_record_json(record).decode(), "keys": blocking_keys(record)},
            )

    await upgrade_database(scratch_engine, "0011")
    async with scratch_engine.connect() as connection:
        hashed = set((await connection.execute(text("SELECT key_hash FROM match_key"))).scalars())
    assert hashed == {key_hash(key) for key in blocking_keys(record)}

    await downgrade_database(scratch_engine, "0010")
    async with scratch_engine.connect() as connection:
        keys = set((await connection.execute(text("SELECT key FROM match_key"))).scalars())
    assert keys == set(blocking_keys(record))


async def test_initial_schema_has_every_table_the_hub_needs(engine: AsyncEngine) -> None:
    expected = {
        "source_system",
        "source_record",
        "source_record_version",
        "golden_record",
        "golden_record_version",
        "cross_reference",
        "match_review",
        "pair_decision",
        "interaction",
        "classification",
        "credit_profile",
        "credit_decision",
        "change_event",
        "audit_entry",
        "api_client",
    }
    assert expected <= await _tables(engine)


async def test_upgrading_past_0010_leaves_one_open_review_per_pair(
    scratch_engine: AsyncEngine,
) -> None:
    # Stored before 0010: the pair (1, 2) opened twice (once in each order) by
    # two racing submissions, and once resolved.
    await upgrade_database(scratch_engine, "0009")
    async with scratch_engine.begin() as connection:
        await connection.execute(text("INSERT INTO source_system (id, code) VALUES (1, 'crm')"))
        await connection.execute(
            text(
                "INSERT INTO source_record (id, source_id, source_key, party_type,"
                " current_version, content_hash)"
                " SELECT n, 1, 'K-' || n, 'person', 1, '\\x00' FROM generate_series(1, 2) AS n"
            )
        )
        await connection.execute(
            text(
                "INSERT INTO match_review (id, left_record_id, right_record_id, score,"
                " explanation, status) VALUES (1, 1, 2, 3.0, '{}', 'not_matched'),"
                " (2, 1, 2, 4.0, '{}', 'open'), (3, 2, 1, 5.0, '{}', 'open')"
            )
        )
    await upgrade_database(scratch_engine)
    async with scratch_engine.connect() as connection:
        rows = await connection.execute(text("SELECT id, status FROM match_review ORDER BY id"))
        assert [tuple(row) for row in rows] == [
            (1, "not_matched"),
            (2, "obsolete"),
            (3, "open"),
        ]
