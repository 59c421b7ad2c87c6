"""Source systems: the departments that submit records."""

from __future__ import annotations

import re

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import SourceSystem
from hub.errors import Invalid

SOURCE_CODE = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


def check_source_code(code: str) -> str:
    """``code`` if it is a valid source code (lower-case letters, digits, _ and -)."""
    if not SOURCE_CODE.match(code):
        raise Invalid(
            f"'{code}' is not a source code: start with a letter, then lower-case letters, "
            "digits, '_' or '-', at most 64",
            field="source",
        )
    return code


async def ensure_source(session: AsyncSession, code: str) -> int:
    """The id of source system ``code``, registering it on first use (one round trip)."""
    check_source_code(code)
    found = (
        await session.execute(
            text(
                "WITH registered AS ("
                " INSERT INTO source_system (code) VALUES (:code)"
                " ON CONFLICT (code) DO NOTHING RETURNING id"
                ") SELECT id FROM registered"
                " UNION ALL SELECT id FROM source_system WHERE code = :code"
            ),
            {"code": code},
        )
    ).first()
    if found is not None:
        return int(found.id)
    # Registered by a transaction that committed while this statement waited on
    # it: a new statement sees the row.
    return (
        await session.execute(select(SourceSystem.id).where(SourceSystem.code == code))
    ).scalar_one()
