"""Submitters lock blocking keys: one key's lockers wait for each other, others do not."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from hub.services.records import (
    FEW_KEY_LOCKS,
    KEY_LOCK_REGIONS,
    KEY_LOCK_TICKET_NAMESPACE,
    KEY_LOCK_TICKETS,
    MAX_KEY_LOCKS,
    key_locks,
    lock_blocking_keys,
)
from hub.uow import sqlstate

LOCK_NOT_AVAILABLE = "55P03"
# More keys than one batch locks one by one: their regions are locked outright.
MANY_KEYS = [f"name:客户{n}" for n in range(MAX_KEY_LOCKS + 1)]


def batch_keys(batch: int, count: int = FEW_KEY_LOCKS + 1) -> list[str]:
    """``count`` keys of one batch's own (more than a few: the batch takes a ticket)."""
    return [f"phone:+86139{batch:02d}{n:06d}" for n in range(count)]


@asynccontextmanager
async def holding_tickets(engine: AsyncEngine) -> AsyncIterator[None]:
    """A transaction of its own that holds every ticket while the block runs."""
    async with engine.connect() as connection, connection.begin():
        await connection.execute(
            text("SELECT pg_advisory_xact_lock(:ns, t) FROM generate_series(0, :last) AS t"),
            {"ns": KEY_LOCK_TICKET_NAMESPACE, "last": KEY_LOCK_TICKETS - 1},
        )
        yield


@asynccontextmanager
async def holding(engine: AsyncEngine, keys: Sequence[str]) -> AsyncIterator[None]:
    """A transaction of its own that holds the locks of ``keys`` while the block runs."""
    async with engine.connect() as connection, connection.begin():
        await lock_blocking_keys(AsyncSession(bind=connection), keys)
        yield


async def locks_without_waiting(engine: AsyncEngine, keys: Sequence[str]) -> bool:
    """Whether another transaction takes the locks of ``keys`` at once (or must wait)."""
    async with engine.connect() as connection, connection.begin():
        await connection.execute(text("SET LOCAL lock_timeout = '200ms'"))
        try:
            await lock_blocking_keys(AsyncSession(bind=connection), keys)
        except DBAPIError as error:
            if sqlstate(error) != LOCK_NOT_AVAILABLE:
                raise
            return False
        return True


async def test_batches_of_different_keys_go_on_side_by_side(engine: AsyncEngine) -> None:
    async with holding(engine, ["phone:+8613800138000", "name:星河科技"]):
        assert await locks_without_waiting(engine, ["phone:+8613900139000", "name:恒通机械"])


async def test_a_key_held_by_one_batch_makes_another_wait(engine: AsyncEngine) -> None:
    async with holding(engine, ["phone:+8613800138000", "name:星河科技"]):
        assert not await locks_without_waiting(engine, ["name:恒通机械", "name:星河科技"])


async def test_a_batch_of_many_keys_waits_for_a_holder_of_one_of_them(
    engine: AsyncEngine,
) -> None:
    async with holding(engine, [MANY_KEYS[7]]):
        assert not await locks_without_waiting(engine, MANY_KEYS)


async def test_a_holder_of_many_keys_makes_a_batch_of_any_key_wait(engine: AsyncEngine) -> None:
    # With this many keys every region is taken, so any key waits.
    assert len(key_locks(MANY_KEYS)[0]) == KEY_LOCK_REGIONS
    async with holding(engine, MANY_KEYS):
        assert not await locks_without_waiting(engine, ["phone:+8613900139000"])


async def test_locking_no_key_takes_no_lock(engine: AsyncEngine) -> None:
    async with holding(engine, []):
        assert await locks_without_waiting(engine, MANY_KEYS)


@pytest.mark.parametrize("keys", [["a"], ["b", "a", "c"], MANY_KEYS[:50]])
def test_locks_come_in_ascending_order_once_each(keys: list[str]) -> None:
    regions, locks = key_locks(keys + keys)
    assert regions == sorted(set(regions))
    assert locks == sorted(set(locks))
    assert len(locks) == len(set(keys))
    assert all(0 <= region < KEY_LOCK_REGIONS for region in regions)


async def test_batches_of_many_keys_go_on_side_by_side_while_tickets_last(
    engine: AsyncEngine,
) -> None:
    async with AsyncExitStack() as stack:
        for batch in range(KEY_LOCK_TICKETS - 1):
            await stack.enter_async_context(holding(engine, batch_keys(batch)))
        assert await locks_without_waiting(engine, batch_keys(KEY_LOCK_TICKETS - 1))
        await stack.enter_async_context(holding(engine, batch_keys(KEY_LOCK_TICKETS - 1)))
        # Every ticket taken: one more batch of many keys waits, though its keys are free.
        assert not await locks_without_waiting(engine, batch_keys(KEY_LOCK_TICKETS))


async def test_a_few_keys_need_no_ticket(engine: AsyncEngine) -> None:
    async with holding_tickets(engine):
        assert await locks_without_waiting(engine, batch_keys(1, FEW_KEY_LOCKS))
        assert not await locks_without_waiting(engine, batch_keys(1, FEW_KEY_LOCKS + 1))


async def test_a_batch_of_more_keys_than_a_ticket_covers_needs_no_ticket(
    engine: AsyncEngine,
) -> None:
    # It locks its regions outright: as few locks as a batch of a few keys.
    async with holding_tickets(engine):
        assert await locks_without_waiting(engine, MANY_KEYS)
