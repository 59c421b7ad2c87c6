"""Interaction history at scale: ingest rate, ``hub recompute`` time, page latency.

Two ways to fill a scratch database on the local PostgreSQL, then measure:

``--entities N`` (department files): bulk-loads a generated corpus, generates
interactions for it (bench/interactions.py), and measures

- ``hub load-interactions`` over every department's file: interactions per second;
- ``hub recompute`` of every customer (metrics, tiers, classification, credit);
- a page of 20 of a customer's interactions (``customer.interactions``).

``--customers N --interactions M`` (synthetic, at scale): N customers of 1 to 3
department records each and about M interactions spread over them, generated
set-based inside PostgreSQL (bench/synthetic.py; the matcher would take far
longer than what is measured here), then

- ``hub recompute`` cold (no metrics, classification or credit stored yet: every
  row is written, every first limit recorded) and warm (run again at once:
  everything is recomputed, only what changed is written, and counted);
- the page of 20, as above.

Pages are read through the service the GraphQL field calls, one after the
other, for customers drawn at random: p50/p95. ``hub`` runs as the CLI does
(start-up included).

    python -m bench.history_bench --entities 20000
    python -m bench.history_bench --customers 1000000 --interactions 10000000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil
from sqlalchemy import select, text

from bench.interactions import write_interactions
from bench.report import Figure, record
from bench.synthetic import populate

ADMIN = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
HUB = str(Path(sys.executable).with_name("hub"))


def run(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


@dataclass(frozen=True, slots=True)
class Timed:
    """A command's wall time, the CPU its processes used, and how busy the machine was."""

    seconds: float
    cpu_seconds: float  # the command and its worker processes (PostgreSQL not included)
    machine_busy: float  # share of all cores, PostgreSQL and other work included

    def describe(self, customers: int) -> str:
        return (
            f"{self.seconds:.1f} s ({customers / self.seconds:,.0f} customers/s); "
            f"hub {self.cpu_seconds:.0f} s CPU, machine {100 * self.machine_busy:.0f}% busy"
        )


def timed(command: list[str], env: dict[str, str]) -> Timed:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    machine = psutil.cpu_times()
    seconds = run(command, env)
    after, machine_after = resource.getrusage(resource.RUSAGE_CHILDREN), psutil.cpu_times()
    busy = sum(
        getattr(machine_after, name) - getattr(machine, name)
        for name in ("user", "nice", "system", "irq", "softirq", "steal")
    )
    return Timed(
        seconds=seconds,
        cpu_seconds=(after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime),
        machine_busy=busy / (seconds * (os.cpu_count() or 1)),
    )


def psql(url: str, sql: str) -> None:
    subprocess.run(["psql", url, "-q", "-X", "-c", sql], check=True)


def scalar(url: str, sql: str) -> str:
    """The one value ``sql`` answers, as text."""
    done = subprocess.run(
        ["psql", url, "-X", "-A", "-t", "-c", sql], check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


@contextmanager
def scratch_database() -> Iterator[tuple[str, dict[str, str]]]:
    """A fresh database (dropped afterwards) and the environment ``hub`` runs with."""
    database = f"hub_history_bench_{uuid.uuid4().hex[:8]}"
    psql(f"{ADMIN}/postgres", f"CREATE DATABASE {database}")
    url = f"{ADMIN}/{database}"
    try:
        yield url, os.environ | {"HUB_DATABASE_URL": url, "HUB_LOG_LEVEL": "WARNING"}
    finally:
        psql(f"{ADMIN}/postgres", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


async def page_latencies(url: str, samples: int, seed: int = 5) -> tuple[list[float], int, int]:
    """Seconds per page of 20 for ``samples`` random customers; interactions and customers."""
    from hub.db.engine import create_engine, session_factory
    from hub.db.models import GoldenRecord
    from hub.services.interactions import InteractionQuery, interactions_of
    from hub.settings import Settings

    engine = create_engine(url, Settings(_env_file=None))  # type: ignore[call-arg]
    sessions = session_factory(engine)
    try:
        async with sessions() as session:
            ids = list(
                (
                    await session.execute(
                        select(GoldenRecord.id).where(GoldenRecord.status == "active")
                    )
                ).scalars()
            )
            stored = (await session.execute(text("SELECT count(*) FROM interaction"))).scalar_one()
        rng = random.Random(seed)
        latencies = []
        for _ in range(samples):
            golden_id = rng.choice(ids)
            async with sessions() as session:
                started = time.perf_counter()
                await interactions_of(session, [golden_id], InteractionQuery(first=20))
                latencies.append(time.perf_counter() - started)
        return latencies, stored, len(ids)
    finally:
        await engine.dispose()


def percentiles(latencies: list[float]) -> tuple[float, float]:
    ordered = sorted(latencies)
    return ordered[len(ordered) // 2] * 1000, ordered[int(0.95 * len(ordered))] * 1000


def page_figure(stored: int, latencies: list[float], command: str) -> Figure:
    p50, p95 = percentiles(latencies)
    print(f"interactions page of 20: p50 {p50:.2f} ms, p95 {p95:.2f} ms ({len(latencies)} samples)")
    return Figure(
        name=f"customer interactions page of 20, {stored:,} interactions stored",
        value=f"p50 {p50:.2f} ms, p95 {p95:.2f} ms",
        target="p95 ≤ 10 ms with 10M stored",
        command=command,
    )


def from_corpus(entities: int, samples: int, workdir: Path) -> list[Figure]:
    from bench.corpus import write_corpus

    corpus = workdir / f"corpus-{entities}"
    if not (corpus / "records.jsonl").exists():
        write_corpus(corpus, entities, seed=7)
    command = f"python -m bench.history_bench --entities {entities}"
    with scratch_database() as (url, env):
        run([HUB, "load", str(corpus / "records.jsonl")], env)
        files = write_interactions(corpus / "records.jsonl", workdir / f"interactions-{entities}")
        ingest_s = sum(
            run([HUB, "load-interactions", str(path), "--source", source], env)
            for source, path in files.items()
        )
        psql(url, "ANALYZE")
        recompute_s = run([HUB, "recompute"], env)
        latencies, stored, customers = asyncio.run(page_latencies(url, samples))
    rate = stored / ingest_s
    print(
        f"{stored:,} interactions ingested in {ingest_s:.1f} s ({rate:,.0f}/s, CLI start-up incl.)"
    )
    print(f"hub recompute of {customers:,} customers: {recompute_s:.1f} s")
    return [
        Figure(
            name=f"interaction ingest (hub load-interactions), {stored:,} interactions",
            value=f"{rate:,.0f} interactions/s",
            target="≥ 5,000/s",
            command=command,
        ),
        Figure(
            name=f"hub recompute (metrics, tiers, classification, credit), {customers:,} customers",
            value=f"{recompute_s:.1f} s ({customers / recompute_s:,.0f} customers/s)",
            target="1M customers ≤ 120 s",
            command=command,
        ),
        page_figure(stored, latencies, command),
    ]


def synthetic(customers: int, interactions: int, samples: int) -> list[Figure]:
    command = f"python -m bench.history_bench --customers {customers} --interactions {interactions}"
    with scratch_database() as (url, env):
        run([HUB, "migrate"], env)
        started = time.perf_counter()
        populate(url, customers, interactions)
        # What autovacuum does after a load on a server where it runs (hint bits,
        # visibility map, planner statistics); the local server runs without it.
        psql(url, "VACUUM ANALYZE")
        print(f"generated and vacuumed in {time.perf_counter() - started:.0f} s")
        cold = timed([HUB, "recompute"], env)
        warm_started = scalar(url, "SELECT now()")
        warm = timed([HUB, "recompute"], env)
        rewritten = scalar(
            url,
            f"SELECT count(*) FROM classification WHERE computed_at >= '{warm_started}'",
        )
        latencies, stored, counted = asyncio.run(page_latencies(url, samples))
    print(f"hub recompute of {counted:,} customers: cold {cold.describe(counted)}")
    print(f"hub recompute of {counted:,} customers: warm {warm.describe(counted)}")
    print(f"warm run rewrote {int(rewritten):,} classifications")
    scale = f"{counted:,} customers, {stored:,} interactions"
    return [
        Figure(
            name=f"hub recompute cold (nothing derived yet), {scale}",
            value=cold.describe(counted),
            target="1M customers ≤ 120 s",
            command=command,
        ),
        Figure(
            name=f"hub recompute warm (run again at once, only changes written), {scale}",
            value=f"{warm.describe(counted)}; {int(rewritten):,} classifications changed",
            target="1M customers ≤ 120 s",
            command=command,
        ),
        page_figure(stored, latencies, command),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entities", type=int, help="corpus entities (department files)")
    parser.add_argument("--customers", type=int, help="synthetic customers, set-based")
    parser.add_argument("--interactions", type=int, help="synthetic interactions, about")
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--workdir", default="bench/data")
    args = parser.parse_args()
    if args.customers is not None:
        figures = synthetic(args.customers, args.interactions or 10 * args.customers, args.samples)
    else:
        figures = from_corpus(args.entities or 20_000, args.samples, Path(args.workdir))
    record(figures)


if __name__ == "__main__":
    main()
