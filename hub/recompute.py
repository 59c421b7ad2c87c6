"""``hub recompute``: derived profiles of every customer, in batches."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.db.models import GoldenRecord
from hub.services.profile import refresh_profiles
from hub.uow import in_transaction


async def recompute_all(
    sessions: async_sessionmaker[AsyncSession],
    *,
    batch_size: int = 5000,
    console: Console | None = None,
    now: datetime | None = None,
) -> int:
    """Recompute every active customer's profile; returns how many were recomputed."""
    at = now or datetime.now(UTC)
    async with sessions() as session:
        total = (
            await session.execute(
                select(func.count())
                .select_from(GoldenRecord)
                .where(GoldenRecord.status == "active")
            )
        ).scalar_one()
    done, last_id = 0, 0
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=console is None,
    ) as progress:
        task = progress.add_task("recompute", total=total)
        while True:
            async with sessions() as session:
                ids = list(
                    (
                        await session.execute(
                            select(GoldenRecord.id)
                            .where(GoldenRecord.status == "active", GoldenRecord.id > last_id)
                            .order_by(GoldenRecord.id)
                            .limit(batch_size)
                        )
                    ).scalars()
                )
            if not ids:
                return done
            await in_transaction(sessions, partial(refresh_profiles, golden_ids=ids, now=at))
            done, last_id = done + len(ids), ids[-1]
            progress.advance(task, len(ids))
