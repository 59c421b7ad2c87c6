"""API clients: creating keys, authenticating callers."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Principal, check_role, hash_api_key, new_api_key
from hub.db.models import ApiClient
from hub.errors import Conflict, Invalid, Unauthenticated


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A key just created: ``key`` is shown once and never stored."""

    principal: Principal
    key: str


async def create_api_key(session: AsyncSession, *, name: str, role: str) -> IssuedKey:
    """Register a client named ``name`` with ``role`` and issue its key."""
    name = name.strip()
    if not name or len(name) > 100:
        raise Invalid("must be 1 to 100 characters", field="name")
    check_role(role)
    if await session.scalar(select(ApiClient.id).where(ApiClient.name == name)) is not None:
        raise Conflict(f"a client named '{name}' exists already", field="name")
    key = new_api_key()
    client = ApiClient(name=name, role=role, key_hash=hash_api_key(key), key_prefix=key[:12])
    session.add(client)
    await session.flush()
    return IssuedKey(Principal(client.id, name, role), key)


class KeyCache:
    """Callers recently authenticated, by key hash, for ``ttl`` seconds each.

    Spares every request a database round trip for its key. Only keys found
    valid are kept, so a new key works at once; a revoked key keeps working in
    a process that saw it for at most ``ttl`` seconds more. At most ``maxsize``
    keys are kept, the least recently used going first.
    """

    def __init__(
        self, ttl: float, *, maxsize: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.maxsize = maxsize
        self.clock = clock
        self._entries: OrderedDict[bytes, tuple[float, Principal]] = OrderedDict()

    def get(self, key_hash: bytes) -> Principal | None:
        """The caller of ``key_hash`` if it was authenticated less than ``ttl`` ago."""
        entry = self._entries.get(key_hash)
        if entry is None:
            return None
        expires, principal = entry
        if self.clock() >= expires:
            del self._entries[key_hash]
            return None
        self._entries.move_to_end(key_hash)
        return principal

    def put(self, key_hash: bytes, principal: Principal) -> None:
        """Remember that ``key_hash`` belongs to ``principal``."""
        if self.ttl <= 0:
            return
        self._entries[key_hash] = (self.clock() + self.ttl, principal)
        self._entries.move_to_end(key_hash)
        while len(self._entries) > self.maxsize:
            self._entries.popitem(last=False)


async def authenticate(
    session: AsyncSession, authorization: str | None, *, cache: KeyCache | None = None
) -> Principal:
    """The caller behind an ``Authorization: Bearer <key>`` header.

    With ``cache``, a key authenticated recently is not looked up again (see
    ``KeyCache`` for how long a revoked key may still work).
    """
    if not authorization:
        raise Unauthenticated("an API key is required: send 'Authorization: Bearer <key>'")
    scheme, _, key = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthenticated("the Authorization header must be 'Bearer <key>'")
    key_hash = hash_api_key(key.strip())
    if cache is not None and (known := cache.get(key_hash)) is not None:
        return known
    client = (
        await session.execute(
            select(ApiClient.id, ApiClient.name, ApiClient.role).where(
                ApiClient.key_hash == key_hash, ApiClient.revoked_at.is_(None)
            )
        )
    ).one_or_none()
    if client is None:
        raise Unauthenticated("the API key is unknown or revoked")
    principal = Principal(client.id, client.name, client.role)
    if cache is not None:
        cache.put(key_hash, principal)
    return principal


async def revoke_api_key(session: AsyncSession, name: str) -> None:
    """Revoke the key of client ``name``.

    It stops working at once in a new process, and within the key cache's time
    to live (``HUB_API_KEY_CACHE_SECONDS``) in a running server.
    """
    result = await session.execute(
        update(ApiClient)
        .where(ApiClient.name == name, ApiClient.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise Invalid(f"no active client named '{name}'", field="name")
