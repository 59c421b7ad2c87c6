"""Units of work: one transaction, retried when PostgreSQL asks for a retry.

Deadlocks and serialization failures are the database telling two
transactions to try again; a lost connection is reported as
:class:`~hub.errors.Unavailable`; an integrity error as a conflict.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.errors import Conflict, Unavailable

T = TypeVar("T")
log = logging.getLogger(__name__)

RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock
DISCONNECTED_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "08000", "08003", "08006"})


def sqlstate(exc: DBAPIError) -> str | None:
    """The SQLSTATE behind a driver error, when the driver says."""
    original = exc.orig
    code = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    cause = getattr(original, "__cause__", None)
    if code is None and cause is not None:
        code = getattr(cause, "sqlstate", None)
    return code if isinstance(code, str) else None


def is_disconnect(exc: BaseException) -> bool:
    """The database went away (killed connection, server down, network).

    Only real disconnects count: a driver error such as too many parameters is
    a bug to report, not an outage to retry later.
    """
    if isinstance(exc, OSError | ConnectionError):
        return True
    if isinstance(exc, DBAPIError):
        code = sqlstate(exc) or ""
        cause = getattr(exc.orig, "__cause__", None)
        return (
            exc.connection_invalidated
            or code in DISCONNECTED_SQLSTATES
            or code.startswith("08")
            or isinstance(exc.orig, OSError | ConnectionError)
            or isinstance(cause, OSError | ConnectionError)
            or type(cause).__name__ in _DRIVER_DISCONNECTS
        )
    return False


# asyncpg's names for a connection that is gone (it raises them without a SQLSTATE).
_DRIVER_DISCONNECTS = frozenset({"ConnectionDoesNotExistError", "ConnectionFailureError"})


async def in_transaction(
    sessions: async_sessionmaker[AsyncSession],
    work: Callable[[AsyncSession], Awaitable[T]],
    *,
    attempts: int = 4,
) -> T:
    """Run ``work`` in one transaction of a fresh session; commit, or roll back whole."""
    for attempt in range(1, attempts + 1):
        try:
            async with sessions() as session, session.begin():
                return await work(session)
        except IntegrityError as exc:
            raise Conflict(f"the change conflicts with stored data: {exc.orig}") from exc
        except DBAPIError as exc:
            if sqlstate(exc) in RETRYABLE_SQLSTATES and attempt < attempts:
                log.info(
                    "transaction retried", extra={"attempt": attempt, "sqlstate": sqlstate(exc)}
                )
                await asyncio.sleep(random.uniform(0.005, 0.05) * attempt)  # noqa: S311 - jitter, not crypto
                continue
            if is_disconnect(exc):
                raise Unavailable(
                    "the database is unavailable; nothing was stored, retry later"
                ) from exc
            raise
        except OSError as exc:
            raise Unavailable(
                "the database is unavailable; nothing was stored, retry later"
            ) from exc
    raise AssertionError("unreachable: the last attempt returns or raises")
