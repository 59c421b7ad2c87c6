"""One async engine per process; one session per request or unit of work."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import orjson
from sqlalchemy import Executable, Row, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine
from sqlalchemy.orm import Session

from hub.errors import Invalid
from hub.settings import Settings

_T = TypeVar("_T")


def async_url(url: str) -> URL:
    """``url`` with the asyncpg driver, whatever PostgreSQL scheme it was given in."""
    parsed = make_url(url)
    if parsed.get_backend_name() not in {"postgresql", "postgres"}:
        raise Invalid(f"the hub runs on PostgreSQL only, not '{parsed.get_backend_name()}'")
    return parsed.set(drivername="postgresql+asyncpg")


def create_engine(
    url: str,
    settings: Settings,
    *,
    autocommit: bool = False,
    ping_after_idle: float | None = None,
) -> AsyncEngine:
    """The process's engine; dispose it on shutdown.

    An ``autocommit`` engine runs every statement on its own, for sessions that
    only read: no BEGIN and ROLLBACK round trips around a request's reads, and
    a connection check costs one round trip instead of three (asyncpg wraps it
    in a transaction otherwise). Each statement sees what was committed before
    it, as it does in a READ COMMITTED transaction.

    A connection is checked (pinged) whenever it is taken from the pool; with
    ``ping_after_idle`` only when it sat unused for more than that many seconds.

    PostgreSQL's JIT compiler is off for the hub's connections. It compiles a
    statement whose estimated cost passes ``jit_above_cost``, and the hub's
    statements are short lookups that the planner overestimates: a batch's
    key-holder lookup, 0.2 s to run, spent another 0.05 to 0.13 s compiling.
    """
    engine = _create_async_engine(
        async_url(url),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_pre_ping=ping_after_idle is None,
        connect_args={"server_settings": {"application_name": "customer-hub", "jit": "off"}},
        json_serializer=_json_text,
        json_deserializer=_json_value,
        **({"isolation_level": "AUTOCOMMIT"} if autocommit else {}),
    )
    if ping_after_idle is not None:
        _ping_after_idle(engine, ping_after_idle)
    return engine


_IDLE_SINCE = "hub.idle_since"


def _ping_after_idle(engine: AsyncEngine, seconds: float) -> None:
    """Ping a pooled connection on checkout only when it was idle for ``seconds``.

    Under load a connection goes back and forth many times a second and a
    ping per request was a round trip as dear as a query. Connections that
    sat idle (where a restarted server or a dropped link shows) are still
    checked; one found dead is replaced, as the pool's own pre-ping does.
    """
    dialect = engine.dialect

    def checkin(dbapi_connection: Any, record: Any) -> None:
        if dbapi_connection is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        # A connection just opened has no mark: it needs no check.
        if since is None or time.monotonic() - since <= seconds:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if not dialect.is_disconnect(error, dbapi_connection, None):
                raise
            # The pool discards this connection and takes or opens another.
            raise DisconnectionError("a pooled connection was found closed") from error

    event.listen(engine.sync_engine, "checkin", checkin)
    event.listen(engine.sync_engine, "checkout", checkout)


# An integer beyond 64 bits has at least 19 digits; orjson cannot write one and
# reads one as a float. A department may send one in an extra attribute. JSON
# numbers are ASCII digits: the text's UTF-8 bytes with every digit made "0" and
# every other byte a space hold such a run where the text does. Two C loops, ten
# times faster than a regular expression over the text (Unicode-aware, it took
# five times longer than decoding a profile's lineage).
_DIGITS_AS_ZERO = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_LONG_RUN = b"0" * 19


def _json_text(value: Any) -> str:
    """The text of a json/jsonb parameter (orjson: several times faster than ``json``)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError:
        # Integers beyond 64 bits; anything else fails here too, with json's message.
        return json.dumps(value, ensure_ascii=False)


def _json_value(text: str) -> Any:
    """A json/jsonb column's value, integers of any size kept exact."""
    if len(text) >= len(_LONG_RUN) and _LONG_RUN in text.encode().translate(_DIGITS_AS_ZERO):
        return json.loads(text)
    return orjson.loads(text)


class SerialSession(AsyncSession):
    """A session whose database calls take turns.

    GraphQL resolves sibling fields (and DataLoader batches) concurrently, and
    they share the request's session; an AsyncSession allows one operation at a
    time ("concurrent operations are not permitted"). A lock around each call
    that reaches the connection lets them queue instead. ``scalars`` is not
    wrapped: it goes through ``execute``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._turn = asyncio.Lock()

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        async with self._turn:
            return await super().execute(*args, **kwargs)

    async def scalar(self, *args: Any, **kwargs: Any) -> Any:
        async with self._turn:
            return await super().scalar(*args, **kwargs)

    async def get(self, *args: Any, **kwargs: Any) -> Any:
        async with self._turn:
            return await super().get(*args, **kwargs)

    async def get_one(self, *args: Any, **kwargs: Any) -> Any:
        async with self._turn:
            return await super().get_one(*args, **kwargs)

    async def refresh(self, *args: Any, **kwargs: Any) -> None:
        async with self._turn:
            await super().refresh(*args, **kwargs)

    async def flush(self, *args: Any, **kwargs: Any) -> None:
        async with self._turn:
            await super().flush(*args, **kwargs)

    async def delete(self, *args: Any, **kwargs: Any) -> None:
        async with self._turn:
            await super().delete(*args, **kwargs)

    async def commit(self) -> None:
        async with self._turn:
            await super().commit()

    async def rollback(self) -> None:
        async with self._turn:
            await super().rollback()

    async def run_sync(self, fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        async with self._turn:
            return await super().run_sync(fn, *args, **kwargs)


async def read_rows(
    session: AsyncSession, statement: Executable, parameters: Mapping[str, Any] | None = None
) -> Sequence[Row[*tuple[Any, ...]]]:
    """The rows of a statement that selects columns (no ORM entities), executed on the
    session's connection as plain SQL.

    ``session.execute`` runs such a statement through the ORM: per request it
    builds a compile state, result metadata and a row processor per column, and
    for a profile's single row of seventy columns that cost more than asyncpg
    reading it. The connection's own execution caches the metadata with the
    compiled statement, and the rows are the same (same columns, same types,
    same keys). The session's transaction, if any, is the one used.
    """
    return await session.run_sync(_rows, statement, parameters)


def _rows(
    session: Session, statement: Executable, parameters: Mapping[str, Any] | None
) -> Sequence[Row[*tuple[Any, ...]]]:
    return session.connection().execute(statement, parameters).all()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded values after commit (responses are built after it)."""
    return async_sessionmaker(engine, class_=SerialSession, expire_on_commit=False, autoflush=False)
