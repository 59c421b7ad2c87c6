"""GraphQL latency and throughput under concurrent load, from a loopback client.

Runs against a hub that is already serving (``--url``, a reader key in
``--key``), or prepares one itself: a scratch database on the local PostgreSQL,
a generated corpus bulk-loaded with ``hub load``, synthetic interactions, a
``hub serve`` subprocess and a reader key. The scratch database is analyzed
after loading (as autovacuum would do in service; the local server may run
with it off), and the hub is served as in production
(``HUB_ENVIRONMENT=production``: no access log, keys trusted for
``HUB_API_KEY_CACHE_SECONDS``). Each scenario runs for a bounded time with a
fixed number of concurrent clients, and prints p50/p95/p99 latency and
requests per second.

    python -m bench.api_bench --entities 20000 --seconds 20 --concurrency 16
    python -m bench.api_bench --url http://127.0.0.1:8000 --key hub_... --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.report import Figure, record

PROFILE = """
query Profile($id: ID!) {
  customer(id: $id) {
    id name nameEn region industry partyType
    identifiers { type value masked }
    phones { value masked }
    addresses { city district region }
    metrics { revenue12m transactionCount lastTransactionAt }
    interactions(first: 10) { edges { node { type occurredAt amount summary } } }
  }
}
"""
PAGE = """
query Page($after: String) {
  customers(first: 50, after: $after) {
    edges { cursor node {
      id name region
      sourceRecords { source sourceKey }
      metrics { revenue12m }
      interactions(first: 10) { edges { node { type occurredAt amount } } }
    } }
  }
}
"""
SEARCH = """
query Search($text: String!) {
  search(text: $text, first: 10) { edges { node { score customer { id name } } } }
}
"""
LOOPBACK = ("127.", "localhost", "[::1]")


def _scale(args: argparse.Namespace) -> str:
    if args.url:
        return "a running hub"
    return f"{round(args.entities * 1.72):,} records stored"


@dataclass(frozen=True)
class Scenario:
    name: str
    target: str
    request: Callable[[random.Random], dict[str, Any]]


@dataclass
class Outcome:
    latencies: list[float]
    errors: int
    seconds: float

    def figure(self, scenario: Scenario, args: argparse.Namespace) -> Figure:
        """This outcome as a row of docs/PERFORMANCE.md."""
        ordered = sorted(self.latencies)
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000 if ordered else 0.0
        rate = len(ordered) / self.seconds if self.seconds else 0.0
        return Figure(
            name=f"GraphQL {scenario.name}, {_scale(args)}, {args.concurrency} clients",
            value=f"p95 {p95:.1f} ms, {rate:.0f} req/s, {self.errors} errors",
            target=scenario.target,
            command=f"python -m bench.api_bench --entities {args.entities} "
            f"--seconds {args.seconds:g} --concurrency {args.concurrency}",
        )

    def row(self) -> str:
        ordered = sorted(self.latencies)

        def pct(p: float) -> float:
            return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000 if ordered else 0.0

        rate = len(ordered) / self.seconds if self.seconds else 0.0
        mean = statistics.fmean(ordered) * 1000 if ordered else 0.0
        return (
            f"{len(ordered):>8} {self.errors:>6} {rate:>9.1f} {mean:>8.1f} "
            f"{pct(0.50):>8.1f} {pct(0.95):>8.1f} {pct(0.99):>8.1f}"
        )


async def run_scenario(
    url: str, key: str, scenario: Scenario, *, seconds: float, concurrency: int, max_requests: int
) -> Outcome:
    """Send the scenario's requests from ``concurrency`` clients until time or count runs out."""
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def client_loop(client: httpx.AsyncClient, seed: int) -> None:
        nonlocal errors
        rng = random.Random(seed)
        while time.perf_counter() < deadline and len(latencies) + errors < max_requests:
            body = scenario.request(rng)
            started = time.perf_counter()
            response = await client.post("/graphql", json=body, headers=headers)
            elapsed = time.perf_counter() - started
            payload = response.json()
            if response.status_code != 200 or payload.get("errors"):
                errors += 1
            else:
                latencies.append(elapsed)

    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        started = time.perf_counter()
        await asyncio.gather(*(client_loop(client, seed) for seed in range(concurrency)))
        return Outcome(latencies, errors, time.perf_counter() - started)


def scenarios(customer_ids: list[str], names: list[str]) -> list[Scenario]:
    return [
        Scenario(
            "profile (+10 interactions)",
            "p95 ≤ 15 ms, ≥ 800 req/s",
            lambda rng: {"query": PROFILE, "variables": {"id": rng.choice(customer_ids)}},
        ),
        Scenario(
            "customers page of 50",
            "p95 ≤ 60 ms",
            lambda rng: {"query": PAGE, "variables": {"after": None}},
        ),
        Scenario(
            "search",
            "p95 ≤ 30 ms",
            lambda rng: {"query": SEARCH, "variables": {"text": rng.choice(names)}},
        ),
    ]


async def sample_targets(url: str, key: str, count: int) -> tuple[list[str], list[str]]:
    """Customer ids and search texts to draw requests from."""
    ids: list[str] = []
    names: list[str] = []
    after = None
    query = (
        "query($after: String) { customers(first: 1000, after: $after) "
        "{ pageInfo { endCursor hasNextPage } edges { node { id name } } } }"
    )
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        while len(ids) < count:
            response = await client.post(
                "/graphql",
                json={"query": query, "variables": {"after": after}},
                headers={"Authorization": f"Bearer {key}"},
            )
            page = response.json()["data"]["customers"]
            for edge in page["edges"]:
                ids.append(edge["node"]["id"])
                name = edge["node"]["name"]
                names.append(name[: max(2, len(name) // 2)])
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
    return ids, names


def check_loopback(url: str) -> None:
    host = httpx.URL(url).host
    if not host.startswith(LOOPBACK):
        raise SystemExit(f"refusing to load {host}: this generator only targets loopback addresses")


def prepare_hub(entities: int, workdir: Path) -> tuple[str, str, subprocess.Popen[bytes]]:
    """A served hub with a bulk-loaded corpus and interactions; returns (url, key, process)."""
    from bench.corpus import write_corpus
    from bench.interactions import write_interactions

    database = "hub_api_bench"
    admin_url = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
    subprocess.run(
        [
            "psql",
            f"{admin_url}/postgres",
            "-q",
            "-c",
            f"DROP DATABASE IF EXISTS {database} WITH (FORCE)",
            "-c",
            f"CREATE DATABASE {database}",
        ],
        check=True,
    )
    env = os.environ | {
        "HUB_DATABASE_URL": f"{admin_url}/{database}",
        "HUB_LOG_LEVEL": "WARNING",
        "HUB_ENVIRONMENT": "production",
    }
    hub = str(Path(sys.executable).with_name("hub"))
    corpus_dir = workdir / f"corpus-{entities}"
    if not (corpus_dir / "records.jsonl").exists():
        write_corpus(corpus_dir, entities, seed=7)
    records = corpus_dir / "records.jsonl"
    started = time.perf_counter()
    subprocess.run([hub, "load", str(records)], env=env, check=True)
    print(f"loaded {records} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    for source, path in write_interactions(records, workdir / f"interactions-{entities}").items():
        subprocess.run(
            [hub, "load-interactions", str(path), "--source", source], env=env, check=True
        )
    # Planner statistics for everything just loaded: without them the interaction
    # counts of a page are planned as sequential scans.
    subprocess.run(["psql", f"{admin_url}/{database}", "-q", "-c", "ANALYZE"], check=True)
    key = (
        subprocess.run(
            [hub, "keys", "create", "--name", f"bench-{time.time_ns()}", "--role", "admin"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    server = subprocess.Popen([hub, "serve", "--port", "8765"], env=env)
    url = "http://127.0.0.1:8765"
    for _ in range(100):
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    return url, key, server


async def main_async(args: argparse.Namespace) -> None:
    server = None
    if args.url:
        url, key = args.url, args.key
    else:
        url, key, server = prepare_hub(args.entities, Path(args.workdir))
    check_loopback(url)
    try:
        ids, names = await sample_targets(url, key, 5000)
        print(
            f"\n{len(ids)} customers sampled; {args.concurrency} clients, {args.seconds:g} s each\n"
        )
        columns = ("requests", "errors", "req/s", "mean ms", "p50 ms", "p95 ms", "p99 ms")
        widths = (8, 6, 9, 8, 8, 8, 8)
        header = " ".join(f"{c:>{w}}" for c, w in zip(columns, widths, strict=True))
        print(f"{'scenario':<28} {'target':<26} {header}")
        figures: list[Figure] = []
        for scenario in scenarios(ids, names):
            outcome = await run_scenario(
                url,
                key,
                scenario,
                seconds=args.seconds,
                concurrency=args.concurrency,
                max_requests=args.max_requests,
            )
            print(f"{scenario.name:<28} {scenario.target:<26} {outcome.row()}")
            figures.append(outcome.figure(scenario, args))
        record(figures)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="a running hub (loopback only)")
    parser.add_argument("--key", help="an API key for --url")
    parser.add_argument(
        "--entities", type=int, default=20_000, help="corpus size when preparing a hub"
    )
    parser.add_argument("--workdir", default="bench/data", help="where generated files go")
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of each scenario")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients")
    parser.add_argument("--max-requests", type=int, default=200_000, help="cap per scenario")
    args = parser.parse_args()
    if args.url and not args.key:
        parser.error("--url needs --key")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
