"""Submitters lock blocking keys: one key's lockers wait for each other, others do not."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from hub.services.records import KEY_LOCK_REGIONS, MAX_KEY_LOCKS, key_locks, lock_blocking_keys
from hub.uow import sqlstate

LOCK_NOT_AVAILABLE = "55P03"
# More keys than one batch locks one by one: their regions are locked outright.
MANY_KEYS = [f"name:客户{n}" for n in range(MAX_KEY_LOCKS + 1)]


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
