"""``hub recompute``: derived profiles of every customer, in batches.

Three passes, because tiers are a Pareto split over everybody: metrics of every
customer, then the tier cutoffs, then classification and credit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from functools import partial

from rich.console import Console
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.db.models import GoldenRecord
from hub.policies import default_classification_rules
from hub.progress import progress_bar
from hub.services.metrics import recompute_metrics
from hub.services.profile import BASE_CURRENCY, reclassify, recompute_cutoffs
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
    with progress_bar(console) as progress:
        metrics_task = progress.add_task("metrics", total=total)
        async for ids in _batches(sessions, batch_size):
            await in_transaction(
                sessions,
                partial(recompute_metrics, golden_ids=ids, now=at, base_currency=BASE_CURRENCY),
            )
            progress.advance(metrics_task, len(ids))
        rules = default_classification_rules()
        await in_transaction(sessions, partial(recompute_cutoffs, rules=rules, now=at))
        classify_task = progress.add_task("classification and credit", total=total)
        done = 0
        async for ids in _batches(sessions, batch_size):
            await in_transaction(sessions, partial(reclassify, golden_ids=ids, now=at))
            progress.advance(classify_task, len(ids))
            done += len(ids)
    return done


async def _batches(
    sessions: async_sessionmaker[AsyncSession], size: int
) -> AsyncIterator[list[int]]:
    """Ids of active customers, ``size`` at a time, in id order."""
    last_id = 0
    while True:
        async with sessions() as session:
            ids = list(
                (
                    await session.execute(
                        select(GoldenRecord.id)
                        .where(GoldenRecord.status == "active", GoldenRecord.id > last_id)
                        .order_by(GoldenRecord.id)
                        .limit(size)
                    )
                ).scalars()
            )
        if not ids:
            return
        yield ids
        last_id = ids[-1]
