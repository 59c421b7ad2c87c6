"""One async engine per process; one session per request or unit of work."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

from hub.errors import Invalid
from hub.settings import Settings


def async_url(url: str) -> URL:
    """``url`` with the asyncpg driver, whatever PostgreSQL scheme it was given in."""
    parsed = make_url(url)
    if parsed.get_backend_name() not in {"postgresql", "postgres"}:
        raise Invalid(f"the hub runs on PostgreSQL only, not '{parsed.get_backend_name()}'")
    return parsed.set(drivername="postgresql+asyncpg")


def create_engine(url: str, settings: Settings) -> AsyncEngine:
    """The process's engine; dispose it on shutdown."""
    return _create_async_engine(
        async_url(url),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_pre_ping=True,
        connect_args={"server_settings": {"application_name": "customer-hub"}},
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded values after commit (responses are built after it)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
