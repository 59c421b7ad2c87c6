"""Interaction history at scale: ingest rate, ``hub recompute`` time, page latency.

Bulk-loads a generated corpus into a scratch database on the local PostgreSQL,
generates interactions for it (bench/interactions.py), then measures:

- ``hub load-interactions`` over every department's file: interactions per second;
- ``hub recompute`` of every customer (metrics, tiers, classification, credit);
- a page of 20 of a customer's interactions (``customer.interactions``), through
  the service the GraphQL field calls, sequentially for random customers: p50/p95.

    python -m bench.history_bench --entities 20000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path

from sqlalchemy import select, text

from bench.interactions import write_interactions
from bench.report import Figure, record


def run(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


async def page_latencies(url: str, samples: int) -> tuple[list[float], int, int]:
    from hub.db.engine import create_engine, session_factory
    from hub.db.models import GoldenRecord
    from hub.services.interactions import InteractionQuery, interactions_of
    from hub.settings import Settings

    engine = create_engine(url, Settings(_env_file=None))  # type: ignore[call-arg]
    sessions = session_factory(engine)
    try:
        async with sessions() as session:
            ids = list((await session.execute(select(GoldenRecord.id))).scalars())
            stored = (await session.execute(text("SELECT count(*) FROM interaction"))).scalar_one()
        rng = random.Random(5)
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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entities", type=int, default=20_000)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--workdir", default="bench/data")
    args = parser.parse_args()
    from bench.corpus import write_corpus

    workdir = Path(args.workdir)
    corpus = workdir / f"corpus-{args.entities}"
    if not (corpus / "records.jsonl").exists():
        write_corpus(corpus, args.entities, seed=7)
    admin = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
    database = f"hub_history_bench_{uuid.uuid4().hex[:8]}"
    subprocess.run(
        ["psql", f"{admin}/postgres", "-q", "-c", f"CREATE DATABASE {database}"], check=True
    )
    url = f"{admin}/{database}"
    env = os.environ | {"HUB_DATABASE_URL": url, "HUB_LOG_LEVEL": "WARNING"}
    hub = str(Path(sys.executable).with_name("hub"))
    try:
        run([hub, "load", str(corpus / "records.jsonl")], env)
        files = write_interactions(
            corpus / "records.jsonl", workdir / f"interactions-{args.entities}"
        )
        ingest_s = sum(
            run([hub, "load-interactions", str(path), "--source", source], env)
            for source, path in files.items()
        )
        subprocess.run(["psql", url, "-q", "-c", "ANALYZE"], check=True)
        recompute_s = run([hub, "recompute"], env)
        latencies, stored, customers = asyncio.run(page_latencies(url, args.samples))
    finally:
        subprocess.run(
            [
                "psql",
                f"{admin}/postgres",
                "-q",
                "-c",
                f"DROP DATABASE IF EXISTS {database} WITH (FORCE)",
            ],
            check=True,
        )
    ordered = sorted(latencies)
    p50, p95 = ordered[len(ordered) // 2] * 1000, ordered[int(0.95 * len(ordered))] * 1000
    rate = stored / ingest_s
    print(
        f"{stored:,} interactions ingested in {ingest_s:.1f} s ({rate:,.0f}/s, CLI incl. start-up)"
    )
    print(f"hub recompute of {customers:,} customers: {recompute_s:.1f} s")
    print(f"interactions page of 20: p50 {p50:.2f} ms, p95 {p95:.2f} ms ({args.samples} samples)")
    command = f"python -m bench.history_bench --entities {args.entities}"
    record(
        [
            Figure(
                name=f"interaction ingest (hub load-interactions), {stored:,} interactions",
                value=f"{rate:,.0f} interactions/s",
                target="≥ 5,000/s",
                command=command,
            ),
            Figure(
                name=f"hub recompute (metrics, tiers, classification, credit), "
                f"{customers:,} customers",
                value=f"{recompute_s:.1f} s ({customers / recompute_s:,.0f} customers/s)",
                target="1M customers ≤ 120 s",
                command=command,
            ),
            Figure(
                name=f"customer interactions page of 20, {stored:,} interactions stored",
                value=f"p50 {p50:.2f} ms, p95 {p95:.2f} ms",
                target="p95 ≤ 10 ms with 10M stored",
                command=command,
            ),
        ]
    )


if __name__ == "__main__":
    main()
