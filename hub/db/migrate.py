"""Run the Alembic migrations from inside the hub (``hub migrate``, ``hub serve``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def alembic_config(connection: Connection | None = None) -> Config:
    """The project's Alembic configuration, bound to ``connection`` when given."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


async def upgrade_database(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the database up to ``revision`` (serialized across processes by env.py)."""
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))


async def downgrade_database(engine: AsyncEngine, revision: str) -> None:
    """Take the database down to ``revision`` (tests use this to prove reversibility)."""
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), revision))
