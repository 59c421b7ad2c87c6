"""Source systems: the departments that submit records."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
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
    """The id of source system ``code``, registering it on first use."""
    check_source_code(code)
    await session.execute(insert(SourceSystem).values(code=code).on_conflict_do_nothing())
    return (
        await session.execute(select(SourceSystem.id).where(SourceSystem.code == code))
    ).scalar_one()
