"""``hub recompute``: derived profiles of every customer, in batches.

Three passes, because tiers are a Pareto split over everybody: metrics of every
customer, then the tier cutoffs, then classification and credit.

The customers are split into ranges of ids. Each range is a job: batches of
``batch_size`` customers, one transaction each, read, derived and stored one
after the other. With ``workers=0`` the jobs run here, one after the other, in
the caller's sessions; with ``workers=N`` they run in N worker processes, each
with its own connection, so that while one process runs the policies (pure
Python) the statements of another run in PostgreSQL, and the cores stay busy.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import partial

from rich.console import Console
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from hub.db.engine import async_url
from hub.db.models import GoldenRecord
from hub.policies import TierCutoffs, default_classification_rules, default_credit_policy
from hub.progress import progress_bar
from hub.services.metrics import recompute_metrics
from hub.services.profile import (
    BASE_CURRENCY,
    Profiles,
    derive_profiles,
    load_figures_after,
    recompute_cutoffs,
    store_profiles,
)
from hub.uow import in_transaction


def default_workers() -> int:
    """One worker more than there are cores: while one waits for PostgreSQL, another computes."""
    return (os.cpu_count() or 1) + 1


# Ids per job: small enough to spread the work over the workers evenly, large
# enough that a job's connection costs nothing beside its batches.
JOB_IDS = 50_000


class Pass(StrEnum):
    METRICS = "metrics"
    PROFILES = "classification and credit"


@dataclass(frozen=True, slots=True)
class Job:
    """One pass over the active customers with ids in ``[first_id, end_id)``."""

    kind: Pass
    first_id: int
    end_id: int
    batch_size: int
    now: datetime
    cutoffs: TierCutoffs | None = None


async def recompute_all(
    sessions: async_sessionmaker[AsyncSession],
    *,
    batch_size: int = 5000,
    workers: int = 0,
    console: Console | None = None,
    now: datetime | None = None,
) -> int:
    """Recompute every active customer's profile; returns how many were recomputed.

    The jobs run in ``workers`` processes of their own (0: here, in ``sessions``,
    which then may be sessions of an uncommitted transaction).
    """
    if workers < 0:
        raise ValueError("workers cannot be negative")
    # Checked first: worker processes must be able to see what this process sees.
    url = _database_url(sessions) if workers else None
    at = now or datetime.now(UTC)
    async with sessions() as session:
        first_id, last_id, total = (
            await session.execute(
                select(func.min(GoldenRecord.id), func.max(GoldenRecord.id), func.count()).where(
                    GoldenRecord.status == "active"
                )
            )
        ).one()
    if not total:
        return 0
    windows = [
        (start, min(start + JOB_IDS, last_id + 1))
        for start in range(first_id, last_id + 1, JOB_IDS)
    ]
    with progress_bar(console) as progress, _pool(workers) as pool:
        run = partial(_run, sessions, url, pool)
        metrics = progress.add_task(Pass.METRICS, total=total)
        jobs = [Job(Pass.METRICS, a, b, batch_size, at) for a, b in windows]
        await run(jobs, partial(progress.advance, metrics))
        rules = default_classification_rules()
        cutoffs = await in_transaction(sessions, partial(recompute_cutoffs, rules=rules, now=at))
        profiles = progress.add_task(Pass.PROFILES, total=total)
        jobs = [Job(Pass.PROFILES, a, b, batch_size, at, cutoffs) for a, b in windows]
        return await run(jobs, partial(progress.advance, profiles))


@contextmanager
def _pool(workers: int) -> Iterator[ProcessPoolExecutor | None]:
    """``workers`` processes for the jobs of both passes, or none."""
    if workers == 0:
        yield None
        return
    # Spawned, not forked: a worker needs none of this process's connections or threads.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield pool


async def _run(
    sessions: async_sessionmaker[AsyncSession],
    url: str | None,
    pool: ProcessPoolExecutor | None,
    jobs: Sequence[Job],
    advance: Callable[[int], None],
) -> int:
    """Run ``jobs`` here or in ``pool`` (on ``url``); how many customers they covered."""
    done = 0
    if pool is None or url is None:
        for job in jobs:
            done += await run_job(sessions, job, advance)
        return done
    loop = asyncio.get_running_loop()
    running = [loop.run_in_executor(pool, run_job_in_worker, url, job) for job in jobs]
    try:
        for finished in asyncio.as_completed(running):
            count = await finished
            advance(count)
            done += count
    except BaseException:
        # Jobs not started yet are dropped; running ones finish (a transaction per batch).
        for future in running:
            future.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        raise
    return done


def _database_url(sessions: async_sessionmaker[AsyncSession]) -> str:
    """Where worker processes connect: the database of ``sessions``' engine."""
    bind = sessions.kw.get("bind")
    if not isinstance(bind, AsyncEngine):
        # Sessions on one connection may sit in a transaction other processes cannot see.
        raise ValueError("worker processes need sessions bound to an engine, not a connection")
    return bind.url.render_as_string(hide_password=False)


def run_job_in_worker(url: str, job: Job) -> int:
    """A job in a worker process, on a connection of its own."""
    return asyncio.run(_run_job_on(url, job))


async def _run_job_on(url: str, job: Job) -> int:
    engine = create_async_engine(
        async_url(url),
        pool_size=1,
        max_overflow=0,
        connect_args={"server_settings": {"application_name": "customer-hub recompute"}},
    )
    try:
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        return await run_job(sessions, job, lambda _: None)
    finally:
        await engine.dispose()


async def run_job(
    sessions: async_sessionmaker[AsyncSession], job: Job, advance: Callable[[int], None]
) -> int:
    """The batches of one job, a transaction each; how many customers it covered."""
    done = 0
    if job.kind is Pass.METRICS:
        async for ids in _batches(sessions, job):
            await in_transaction(
                sessions,
                partial(
                    recompute_metrics, golden_ids=ids, now=job.now, base_currency=BASE_CURRENCY
                ),
            )
            advance(len(ids))
            done += len(ids)
        return done
    if job.cutoffs is None:
        raise ValueError("classifying needs the tier cutoffs")
    rules, policy = default_classification_rules(), default_credit_policy()
    last_id = job.first_id - 1
    while True:
        async with sessions() as session:
            figures = await load_figures_after(session, last_id, job.batch_size, before=job.end_id)
        if not figures:
            return done
        profiles = derive_profiles(figures, job.cutoffs, rules, policy, job.now)
        await in_transaction(sessions, partial(_store_batch, profiles=profiles, at=job.now))
        advance(len(figures))
        done += len(figures)
        last_id = figures[-1].golden_id


async def _store_batch(session: AsyncSession, *, profiles: Profiles, at: datetime) -> None:
    # A batch's arrays outgrow the default work_mem; in memory they need no temporary files.
    await session.execute(text("SET LOCAL work_mem = '64MB'"))
    await store_profiles(session, profiles, now=at)


async def _batches(
    sessions: async_sessionmaker[AsyncSession], job: Job
) -> AsyncIterator[list[int]]:
    """Ids of the job's active customers, ``batch_size`` at a time, in id order."""
    last_id = job.first_id - 1
    while True:
        async with sessions() as session:
            ids = list(
                (
                    await session.execute(
                        select(GoldenRecord.id)
                        .where(
                            GoldenRecord.status == "active",
                            GoldenRecord.id > last_id,
                            GoldenRecord.id < job.end_id,
                        )
                        .order_by(GoldenRecord.id)
                        .limit(job.batch_size)
                    )
                ).scalars()
            )
        if not ids:
            return
        yield ids
        last_id = ids[-1]
