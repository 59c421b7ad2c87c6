"""`hub serve --demo`: a newcomer sees golden records at once, and restarts change nothing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.db.models import GoldenRecord, Interaction, SourceRecord
from hub.demo import demo_admin_key, demo_records, load_demo
from hub.services.keys import authenticate


async def count(session: AsyncSession, query: object) -> int:
    return (await session.execute(query)).scalar_one()  # type: ignore[call-overload, no-any-return]


async def test_demo_loads_departments_duplicates_and_interactions(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    created = await load_demo(sessions)
    records = sum(len(r) for r in demo_records().values())
    assert sum(created.values()) == records
    async with sessions() as session:
        goldens = await count(session, select(func.count()).where(GoldenRecord.status == "active"))
        attached = await count(
            session,
            select(func.count()).where(Interaction.source_record_id.is_not(None)),
        )
        stored = await count(session, select(func.count()).select_from(SourceRecord))
    assert stored == records
    # Duplicates across departments fold into fewer customers than records.
    assert goldens < records
    assert attached == 12


async def test_loading_the_demo_again_changes_nothing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await load_demo(sessions)
    again = await load_demo(sessions)
    assert sum(again.values()) == 0


async def test_the_demo_admin_key_is_created_once_and_shown_again(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    first = await demo_admin_key(sessions, tmp_path)
    second = await demo_admin_key(sessions, tmp_path)
    assert first == second
    assert (tmp_path / "demo-admin.key").stat().st_mode & 0o777 == 0o600
    async with sessions() as session:
        principal = await authenticate(session, f"Bearer {first}")
    assert principal.role == "admin"
