"""Incremental submission latency and throughput with many records already stored.

Prepares (or reuses) a hub whose database holds a bulk-loaded corpus, then
submits records of a second corpus (another seed: new customers and new
versions of known ones) through GraphQL over loopback:

- one record per ``submitRecords``, sequentially: latency p50/p95/p99;
- batches of 100: records per second.

    python -m bench.submit_bench --entities 100000 --singles 500 --batches 20
    python -m bench.submit_bench --url http://127.0.0.1:8765 --key hub_... --stored 172260

``--submitters N`` sends the batches from N clients at once (labelled so in
the output and the recorded figure); the sequential figure is the default.
``--no-record`` prints the figures without writing docs/PERFORMANCE.md.
When the bench serves the hub itself it also prints the CPU time per record
of the hub's processes and of its database backends: on a shared machine
these move far less than wall-clock figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.api_bench import (
    DATABASE,
    Meters,
    check_loopback,
    database_prefix,
    prepare_hub,
    server_sizing,
    stored_records,
)
from bench.report import Figure, record

# One-record submissions timed by default.
SINGLES = 500
BATCHES = 20
SUBMIT = (
    "mutation($s: String!, $r: [JSON!]!) { submitRecords(source: $s, records: $r) "
    "{ created updated unchanged rejected } }"
)


def fresh_records(workdir: Path, entities: int, count: int, skip: int = 0) -> list[dict[str, Any]]:
    """Records of a corpus generated with another seed: new customers and new versions.

    The first ``skip`` records are passed over: runs against one store with
    different ``skip`` submit records it has not seen in another run.
    """
    from bench.corpus import write_corpus

    path = workdir / f"corpus-{entities}-seed-99"
    if not (path / "records.jsonl").exists():
        write_corpus(path, max(entities // 10, 1000), seed=99)
    records = []
    # Keys of this run only: a re-run against the same database submits new
    # records again instead of unchanged ones (which would be no-ops).
    run = time.strftime("%H%M%S")
    with (path / "records.jsonl").open(encoding="utf-8") as lines:
        for position, line in enumerate(lines):
            if position < skip:
                continue
            item = json.loads(line)
            item["source_key"] = f"bench-{run}-{item['source_key']}"
            records.append(item)
            if len(records) == count:
                break
    return records


DATABASE_URL = f"{os.environ.get('BENCH_PG', 'postgresql://postgres@127.0.0.1:5432')}/{DATABASE}"


def percentile(values: list[float], p: float) -> float:
    """The ``p`` quantile of ``values`` (seconds) in milliseconds; NaN when none were timed."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


class CpuClock:
    """CPU seconds of the served hub and of its database backends since the last reading."""

    def __init__(self, meters: Meters | None) -> None:
        self.meters = meters
        self.last = self._read()

    def _read(self) -> tuple[float, dict[int, float]]:
        if self.meters is None:
            return 0.0, {}
        backends = set(asyncio.run(self.meters.backend_pids()))
        return self.meters.server_seconds() or 0.0, _cpu_of(backends)

    def lap(self) -> tuple[float, float]:
        """(hub seconds, database seconds) since the previous lap."""
        before_server, before_backends = self.last
        self.last = self._read()
        server, backends = self.last
        database = sum(t - before_backends.get(pid, 0.0) for pid, t in backends.items())
        return server - before_server, database


def _cpu_of(pids: set[int]) -> dict[int, float]:
    """CPU seconds (user + system) of each process of ``pids`` still running."""
    found = {}
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.NoSuchProcess:
            continue
        found[pid] = times.user + times.system
    return found


def run(
    url: str,
    key: str,
    records: list[dict[str, Any]],
    singles: int,
    batches: int,
    submitters: int = 1,
    meters: Meters | None = None,
    warm_up: list[dict[str, Any]] | None = None,
) -> dict[str, float]:
    """Submit ``records``: ``singles`` one at a time, then ``batches`` of 100.

    ``warm_up`` records go first, in batches of 100 from every submitter,
    and count in no figure: a hub just started, on a database just copied,
    answers its first batches from cold caches.
    """
    headers = {"Authorization": f"Bearer {key}"}
    latencies: list[float] = []
    if warm_up:
        send_batches(url, headers, batch_chunks(warm_up, math.ceil(len(warm_up) / 100)), submitters)
    clock = CpuClock(meters)
    with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
        for item in records[:singles]:
            started = time.perf_counter()
            response = client.post(
                "/graphql", json={"query": SUBMIT, "variables": {"s": item["source"], "r": [item]}}
            )
            latencies.append(time.perf_counter() - started)
            body = response.json()
            if body.get("errors"):
                raise SystemExit(f"submission failed: {body['errors']}")
    single_cpu = clock.lap()
    chunks = batch_chunks(records[singles:], batches)
    started = time.perf_counter()
    sent = send_batches(url, headers, chunks, submitters)
    elapsed = time.perf_counter() - started
    batch_cpu = clock.lap()
    return {
        "single_hub_cpu_ms": single_cpu[0] * 1000 / max(singles, 1),
        "single_db_cpu_ms": single_cpu[1] * 1000 / max(singles, 1),
        "batch_hub_cpu_ms": batch_cpu[0] * 1000 / max(sent, 1),
        "batch_db_cpu_ms": batch_cpu[1] * 1000 / max(sent, 1),
        "p50": percentile(latencies, 0.50),
        "p95": percentile(latencies, 0.95),
        "p99": percentile(latencies, 0.99),
        "records_per_s": sent / elapsed if elapsed else 0.0,
        "batched_records": float(sent),
    }


def batch_chunks(records: list[dict[str, Any]], batches: int) -> list[tuple[str, list[Any]]]:
    """Up to ``batches`` batches of 100 records of one department each."""
    by_source: dict[str, list[dict[str, Any]]] = {}
    for item in records:
        by_source.setdefault(item["source"], []).append(item)
    chunks = [
        (source, items[start : start + 100])
        for source, items in by_source.items()
        for start in range(0, len(items), 100)
    ]
    return chunks[:batches]


def send_batches(
    url: str, headers: dict[str, str], chunks: list[tuple[str, list[Any]]], submitters: int
) -> int:
    """Each submitter sends every n-th batch, one after another, on its own connection."""
    with ThreadPoolExecutor(max_workers=submitters) as pool:
        return sum(
            pool.map(
                lambda k: submit_batches(url, headers, chunks[k::submitters]), range(submitters)
            )
        )


def submit_batches(url: str, headers: dict[str, str], chunks: list[tuple[str, list[Any]]]) -> int:
    """Send ``chunks`` one after another; the number of records sent."""
    sent = 0
    with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
        for source, chunk in chunks:
            body = client.post(
                "/graphql", json={"query": SUBMIT, "variables": {"s": source, "r": chunk}}
            ).json()
            if body.get("errors"):
                raise SystemExit(f"submission failed: {body['errors']}")
            sent += len(chunk)
    return sent


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url")
    parser.add_argument("--key")
    parser.add_argument("--stored", type=int, help="records stored in the hub behind --url")
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--workdir", default="bench/data")
    parser.add_argument("--singles", type=int, default=SINGLES)
    parser.add_argument("--batches", type=int, default=BATCHES)
    parser.add_argument(
        "--reuse", action="store_true", help="serve the scratch database as it is, if loaded"
    )
    parser.add_argument(
        "--skip",
        type=int,
        default=0,
        help="pass over this many records of the second corpus (repeated runs on one store:"
        " each run's records join the customers earlier runs submitted, which then grow)",
    )
    parser.add_argument("--workers", type=int, default=1, help="hub serve worker processes")
    parser.add_argument(
        "--submitters",
        type=int,
        default=1,
        help="clients sending the batches of 100 at the same time (1: sequentially)",
    )
    parser.add_argument(
        "--warm-up",
        type=int,
        default=0,
        help="batches of 100 sent first and left out of every figure (caches warm up)",
    )
    parser.add_argument(
        "--no-record",
        action="store_true",
        help="print the figures without writing them into docs/PERFORMANCE.md",
    )
    args = parser.parse_args()
    server, meters = None, None
    if args.url:
        url, key, stored = args.url, args.key, args.stored or 0
        sizing = ""  # the server behind --url is not ours to ask
    else:
        url, key, server, meters = prepare_hub(args, Path(args.workdir))
        stored = stored_records(DATABASE_URL)
        sizing = server_sizing(DATABASE_URL)
    check_loopback(url)
    try:
        measured = args.singles + args.batches * 100
        records = fresh_records(
            Path(args.workdir), args.entities, measured + args.warm_up * 100, args.skip
        )
        figures = run(
            url,
            key,
            records[:measured],
            args.singles,
            args.batches,
            args.submitters,
            meters,
            warm_up=records[measured:],
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    conditions = sizing + (f", after {args.warm_up} warm-up batches" if args.warm_up else "")
    concurrency = (
        (f", {args.submitters} concurrent submitters" if args.submitters > 1 else "")
        + (f", {args.workers} hub workers" if args.workers > 1 else "")
        + conditions
    )
    print(
        f"{stored:,} records stored{sizing}"
        + (
            f"; one-record submitRecords p50 {figures['p50']:.1f} ms, "
            f"p95 {figures['p95']:.1f} ms, p99 {figures['p99']:.1f} ms"
            if args.singles
            else ""
        )
        + (f"; batches of 100: {figures['records_per_s']:.0f} records/s" + concurrency)
    )
    if meters is not None:
        print(
            f"CPU per record: one-record submissions {figures['single_hub_cpu_ms']:.1f} ms hub"
            f" + {figures['single_db_cpu_ms']:.1f} ms database; batches of 100"
            f" {figures['batch_hub_cpu_ms']:.2f} ms hub + {figures['batch_db_cpu_ms']:.2f} ms"
            " database"
        )
    command = (
        f"{database_prefix()}python -m bench.submit_bench "
        + (f"--entities {args.entities}" if not args.url else "--url …")
        + (f" --workers {args.workers}" if args.workers > 1 else "")
        + (f" --submitters {args.submitters}" if args.submitters > 1 else "")
        + (f" --singles {args.singles}" if args.singles != SINGLES else "")
        + (f" --batches {args.batches}" if args.batches != BATCHES else "")
        + (f" --warm-up {args.warm_up}" if args.warm_up else "")
    )
    figures_measured = []
    # A run without singles (--singles 0) measured no latency, one without
    # batches (--batches 0) no throughput: neither writes the row it lacks.
    if args.singles:
        figures_measured.append(
            Figure(
                name="incremental submit latency p50 / p95 / p99"
                + conditions
                + f", {stored:,} records stored",
                value=f"{figures['p50']:.1f} / {figures['p95']:.1f} / {figures['p99']:.1f} ms",
                target="p95 ≤ 25 ms with 1M stored",
                command=command,
            )
        )
    if figures["batched_records"]:
        figures_measured.append(
            Figure(
                name="incremental submit throughput, batches of 100"
                + concurrency
                + f", {stored:,} records stored",
                value=f"{figures['records_per_s']:.0f} records/s",
                target="≥ 500 records/s",
                command=command,
            )
        )
    if not args.no_record:
        record(figures_measured)


if __name__ == "__main__":
    main()
