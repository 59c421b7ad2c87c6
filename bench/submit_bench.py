"""Incremental submission latency and throughput with many records already stored.

Prepares (or reuses) a hub whose database holds a bulk-loaded corpus, then
submits records of a second corpus (another seed: new customers and new
versions of known ones) through GraphQL over loopback:

- one record per ``submitRecords``, sequentially: latency p50/p95/p99;
- batches of 100: records per second.

    python -m bench.submit_bench --entities 100000 --singles 500 --batches 20
    python -m bench.submit_bench --url http://127.0.0.1:8765 --key hub_... --stored 172260
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import httpx

from bench.api_bench import DATABASE, check_loopback, database_prefix, prepare_hub, stored_records
from bench.report import Figure, record

SUBMIT = (
    "mutation($s: String!, $r: [JSON!]!) { submitRecords(source: $s, records: $r) "
    "{ created updated unchanged rejected } }"
)


def fresh_records(workdir: Path, entities: int, count: int) -> list[dict[str, Any]]:
    """Records of a corpus generated with another seed: new customers and new versions."""
    from bench.corpus import write_corpus

    path = workdir / f"corpus-{entities}-seed-99"
    if not (path / "records.jsonl").exists():
        write_corpus(path, max(entities // 10, 1000), seed=99)
    records = []
    # Keys of this run only: a re-run against the same database submits new
    # records again instead of unchanged ones (which would be no-ops).
    run = time.strftime("%H%M%S")
    with (path / "records.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            item = json.loads(line)
            item["source_key"] = f"bench-{run}-{item['source_key']}"
            records.append(item)
            if len(records) == count:
                break
    return records


DATABASE_URL = f"{os.environ.get('BENCH_PG', 'postgresql://postgres@127.0.0.1:5432')}/{DATABASE}"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


def run(
    url: str, key: str, records: list[dict[str, Any]], singles: int, batches: int
) -> dict[str, float]:
    headers = {"Authorization": f"Bearer {key}"}
    latencies: list[float] = []
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
        rest = records[singles:]
        by_source: dict[str, list[dict[str, Any]]] = {}
        for item in rest:
            by_source.setdefault(item["source"], []).append(item)
        sent, started = 0, time.perf_counter()
        for source, items in by_source.items():
            for start in range(0, len(items), 100):
                if sent >= batches * 100:
                    break
                chunk = items[start : start + 100]
                body = client.post(
                    "/graphql", json={"query": SUBMIT, "variables": {"s": source, "r": chunk}}
                ).json()
                if body.get("errors"):
                    raise SystemExit(f"submission failed: {body['errors']}")
                sent += len(chunk)
        elapsed = time.perf_counter() - started
    return {
        "p50": percentile(latencies, 0.50),
        "p95": percentile(latencies, 0.95),
        "p99": percentile(latencies, 0.99),
        "records_per_s": sent / elapsed if elapsed else 0.0,
        "batched_records": float(sent),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url")
    parser.add_argument("--key")
    parser.add_argument("--stored", type=int, help="records stored in the hub behind --url")
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--workdir", default="bench/data")
    parser.add_argument("--singles", type=int, default=500)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument(
        "--reuse", action="store_true", help="serve the scratch database as it is, if loaded"
    )
    parser.add_argument("--workers", type=int, default=1, help="hub serve worker processes")
    args = parser.parse_args()
    server = None
    if args.url:
        url, key, stored = args.url, args.key, args.stored or 0
    else:
        url, key, server, _ = prepare_hub(args, Path(args.workdir))
        stored = stored_records(DATABASE_URL)
    check_loopback(url)
    try:
        records = fresh_records(
            Path(args.workdir), args.entities, args.singles + args.batches * 100
        )
        figures = run(url, key, records, args.singles, args.batches)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    print(
        f"{stored:,} records stored; one-record submitRecords p50 {figures['p50']:.1f} ms, "
        f"p95 {figures['p95']:.1f} ms, p99 {figures['p99']:.1f} ms; "
        f"batches of 100: {figures['records_per_s']:.0f} records/s"
    )
    command = f"{database_prefix()}python -m bench.submit_bench " + (
        f"--entities {args.entities}" if not args.url else "--url …"
    )
    figures_measured = [
        Figure(
            name=f"incremental submit latency p50 / p95 / p99, {stored:,} records stored",
            value=f"{figures['p50']:.1f} / {figures['p95']:.1f} / {figures['p99']:.1f} ms",
            target="p95 ≤ 25 ms with 1M stored",
            command=command,
        )
    ]
    # A run without batches (--batches 0) measured no throughput: it writes no row.
    if figures["batched_records"]:
        figures_measured.append(
            Figure(
                name=f"incremental submit throughput, batches of 100, {stored:,} records stored",
                value=f"{figures['records_per_s']:.0f} records/s",
                target="≥ 500 records/s",
                command=command,
            )
        )
    record(figures_measured)


if __name__ == "__main__":
    main()
