"""API clients: creating keys, authenticating callers."""

from __future__ import annotations

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


async def authenticate(session: AsyncSession, authorization: str | None) -> Principal:
    """The caller behind an ``Authorization: Bearer <key>`` header."""
    if not authorization:
        raise Unauthenticated("an API key is required: send 'Authorization: Bearer <key>'")
    scheme, _, key = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthenticated("the Authorization header must be 'Bearer <key>'")
    client = (
        await session.execute(
            select(ApiClient).where(
                ApiClient.key_hash == hash_api_key(key.strip()), ApiClient.revoked_at.is_(None)
            )
        )
    ).scalar_one_or_none()
    if client is None:
        raise Unauthenticated("the API key is unknown or revoked")
    return Principal(client.id, client.name, client.role)


async def revoke_api_key(session: AsyncSession, name: str) -> None:
    """Revoke the key of client ``name``; it stops working at once."""
    result = await session.execute(
        update(ApiClient)
        .where(ApiClient.name == name, ApiClient.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise Invalid(f"no active client named '{name}'", field="name")
