"""The API-key cache: valid keys are trusted for a short time, unknown keys never."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Principal, hash_api_key
from hub.errors import Unauthenticated
from hub.services.keys import KeyCache, authenticate, create_api_key, revoke_api_key

ALICE = Principal(1, "alice", "reader")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_cached_key_expires_after_its_ttl() -> None:
    clock = Clock()
    cache = KeyCache(5, clock=clock)
    cache.put(b"k", ALICE)
    clock.now += 4.9
    assert cache.get(b"k") == ALICE
    clock.now += 0.2
    assert cache.get(b"k") is None


def test_a_zero_ttl_caches_nothing() -> None:
    cache = KeyCache(0)
    cache.put(b"k", ALICE)
    assert cache.get(b"k") is None


def test_the_least_recently_used_key_goes_first() -> None:
    cache = KeyCache(60, maxsize=2)
    cache.put(b"a", ALICE)
    cache.put(b"b", ALICE)
    assert cache.get(b"a") == ALICE
    cache.put(b"c", ALICE)
    assert (cache.get(b"a"), cache.get(b"b"), cache.get(b"c")) == (ALICE, None, ALICE)


async def test_a_revoked_key_works_at_most_for_the_ttl_then_is_refused(
    session: AsyncSession,
) -> None:
    clock = Clock()
    cache = KeyCache(5, clock=clock)
    async with session.begin_nested():
        issued = await create_api_key(session, name="front end", role="reader")
    header = f"Bearer {issued.key}"
    assert (await authenticate(session, header, cache=cache)).name == "front end"
    async with session.begin_nested():
        await revoke_api_key(session, "front end")
    assert (await authenticate(session, header, cache=cache)).name == "front end"
    clock.now += 5
    with pytest.raises(Unauthenticated, match="unknown or revoked"):
        await authenticate(session, header, cache=cache)
    assert cache.get(hash_api_key(issued.key)) is None


async def test_unknown_keys_are_never_cached(session: AsyncSession) -> None:
    cache = KeyCache(60)
    with pytest.raises(Unauthenticated):
        await authenticate(session, "Bearer hub_nobody", cache=cache)
    assert cache.get(hash_api_key("hub_nobody")) is None
